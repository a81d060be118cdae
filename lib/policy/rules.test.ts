/**
 * One failing fixture per rule (the good app with one thing broken, listed in
 * fixtures/failing-cases.ts) and the good app as the passing fixture; near
 * misses that must pass where a rule has an edge worth pinning. A rule whose
 * code is removed fails its case here.
 */
import { checkManifests, Finding, formatReport, rules } from './index';
import { asInputs, find, goodApp, hardenedContainerSecurity } from './fixtures/good-app';
import {
  annotate,
  configData,
  container,
  cronJob,
  deployment,
  etcdBackup,
  failing,
  Mutate,
  peopleBinding,
  pod,
  SECRET,
  serviceMonitor,
} from './fixtures/failing-cases';

/** Near misses: changes that look risky but must not trip the rule. */
const passing: [string, string, Mutate][] = [
  [
    'schema/unknown-field',
    'a preserve-unknown-fields-free CRD field that exists',
    (o) => {
      find(o, 'ExternalSecret').spec.refreshPolicy = 'Periodic';
    },
  ],
  [
    'schema/invalid',
    'an int-or-string field given a string',
    (o) => {
      find(o, 'PodDisruptionBudget').spec.maxUnavailable = '50%';
    },
  ],
  [
    'schema/requests-within-limits',
    'equal quantities written differently',
    (o) => {
      container(o).resources = {
        requests: { cpu: '0.5', memory: '1Gi' },
        limits: { cpu: '500m', memory: '1073741824' },
      };
    },
  ],
  [
    'schema/port-name',
    'a 15-character port name',
    (o) => {
      container(o).ports[0].name = 'http-metrics-pt';
      container(o).readinessProbe.httpGet.port = 'http-metrics-pt';
      container(o).livenessProbe.httpGet.port = 'http-metrics-pt';
      find(o, 'Service').spec.ports[0].targetPort = 'http-metrics-pt';
    },
  ],
  [
    'schema/cronjob-name-length',
    'a CronJob name of 52 characters',
    (o) => {
      cronJob(o).metadata.name = 'a'.repeat(52);
    },
  ],
  [
    'pss/restricted/capabilities',
    'adding NET_BIND_SERVICE back',
    (o) => {
      container(o).securityContext = {
        ...hardenedContainerSecurity,
        capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      };
    },
  ],
  [
    'pss/baseline/sysctls',
    'a safe sysctl',
    (o) => {
      pod(o).securityContext.sysctls = [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }];
    },
  ],
  [
    'pss/baseline/host-namespaces',
    'kube-system host access, waived with a reason',
    (o) =>
      o.push(
        etcdBackup({
          'policy.lab-to-prod.io/waive': 'pss/baseline/host-namespaces,pss/baseline/host-path-volumes',
          'policy.lab-to-prod.io/waive-reason':
            'etcd listens on the host network; the backup reads its certificates from the node',
        }),
      ),
  ],
  [
    'practice/pdb-allows-drain',
    'minAvailable below the HPA minimum',
    (o) => {
      find(o, 'PodDisruptionBudget').spec = { minAvailable: 1, selector: deployment(o).spec.selector };
    },
  ],
  [
    'practice/image-pinned',
    'a registry with a port and a tag',
    (o) => {
      container(o).image = 'registry.example:5000/shop:1.4.2';
    },
  ],
  [
    'practice/service-account-token',
    'a pod whose account is bound to a Role may mount its token',
    (o) => {
      delete pod(o).automountServiceAccountToken;
    },
  ],
  [
    'practice/rbac-undeclared-subject',
    'a group the environment declares',
    (o) => o.push(peopleBinding({ kind: 'Group', name: 'shop-viewers' })),
  ],
  [
    'practice/rbac-everyone',
    "the namespace's own service accounts are not everyone",
    (o) => o.push(peopleBinding({ kind: 'Group', name: 'system:serviceaccounts:shop' })),
  ],
  [
    'practice/rbac-viewer-secrets',
    "a role that also writes is not a viewer's (the other rules judge it)",
    (o) => {
      find(o, 'Role').rules.push(
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'] },
      );
    },
  ],
  [
    'practice/rbac-escalation',
    'reading roles and bindings is not binding them',
    (o) => {
      find(o, 'Role').rules.push({
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['roles', 'rolebindings'],
        verbs: ['get', 'list'],
      });
    },
  ],
  [
    'practice/rbac-exec-attach',
    'an on-call role that grants exec, waived with a reason',
    (o) => {
      find(o, 'Role').rules.push({ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] });
      annotate(find(o, 'Role'), {
        'policy.lab-to-prod.io/waive': 'practice/rbac-exec-attach',
        'policy.lab-to-prod.io/waive-reason': 'on-call operators exec to diagnose',
      });
    },
  ],
  [
    'refs/secret',
    'a Secret documented as created out of band',
    (o) => {
      pod(o).imagePullSecrets = [{ name: 'pull' }];
      annotate(deployment(o), { 'out-of-band.lab-to-prod.io/secret.pull': 'created by the cluster bootstrap' });
    },
  ],
  [
    'refs/runtime-class',
    'a RuntimeClass the platform provides (option)',
    (o) => {
      pod(o).runtimeClassName = 'gvisor';
    },
  ],
  [
    'refs/monitor-target',
    "a ServiceMonitor on the Service's named port",
    (o) => o.push(serviceMonitor({ 'app.kubernetes.io/name': 'shop' }, 'http')),
  ],
  [
    'secrets/sensitive-env-literal',
    'a literal value under an innocent name',
    (o) => {
      container(o).env.push({ name: 'KEYCLOAK_REALM', value: 'shop' });
    },
  ],
  [
    'secrets/sensitive-env-literal',
    'a _FILE variable holding the path of a mounted secret file',
    (o) => {
      container(o).env.push({ name: 'API_TOKEN_FILE', value: '/run/secrets/shop-db/password' });
    },
  ],
  [
    'secrets/secret-in-env',
    'settings from a ConfigMap, by key and whole',
    (o) => {
      container(o).env.push({
        name: 'APP_CONF',
        valueFrom: { configMapKeyRef: { name: 'shop-config', key: 'app.conf' } },
      });
      container(o).envFrom = [{ configMapRef: { name: 'shop-config' } }];
    },
  ],
  [
    'secrets/sensitive-env-literal',
    'a $(VAR) expansion of another variable',
    (o) => {
      container(o).env.push({ name: 'DB_PASSWORD', value: '$(DB_PASSWORD_FROM_FILE)' });
    },
  ],
  [
    'secrets/sensitive-env-literal',
    'a _PATH variable holding a path',
    (o) => {
      container(o).env.push({ name: 'TLS_KEY_PATH', value: '/var/run/secrets/tls/tls.key' });
    },
  ],
  [
    'secrets/sensitive-env-literal',
    'a public key is not a secret',
    (o) => {
      container(o).env.push({ name: 'JWT_PUBLIC_KEY', value: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' });
    },
  ],
  [
    'secrets/sensitive-config-literal',
    'a ConfigMap key naming the file that holds the password',
    (o) => {
      configData(o).PASSWORD_FILE = '/var/run/secrets/db/password';
    },
  ],
  [
    'secrets/sensitive-config-literal',
    'a config file whose password comes from the environment',
    (o) => {
      configData(o)['app.yaml'] =
        'db:\n  user: app\n  password: ${DB_PASSWORD}\n  password_file: /run/secrets/db/password\n';
    },
  ],
  [
    'secrets/sensitive-config-literal',
    'YAML null and a block scalar marker under a password key',
    (o) => {
      configData(o)['app.yaml'] = 'db:\n  password: null\n  token: |\n';
    },
  ],
  [
    'secrets/sensitive-config-literal',
    'the word token in a value, not a key',
    (o) => {
      configData(o).AUTH_MODE = 'token';
    },
  ],
  [
    'secrets/sensitive-arg-literal',
    'a --password-file flag with a path',
    (o) => {
      container(o).args = ['--password-file', '/run/secrets/shop-db/password', '--verbose'];
    },
  ],
  [
    'secrets/sensitive-arg-literal',
    'a flag without a value before another flag',
    (o) => {
      container(o).args = ['--token', '--verbose'];
    },
  ],
  [
    'secrets/url-credentials',
    'a URL with a user and no password',
    (o) => {
      configData(o).DATABASE_URL = 'postgres://app@db:5432/app';
    },
  ],
  [
    'secrets/url-credentials',
    'a URL whose password is a $(VAR) expansion',
    (o) => {
      container(o).env.push({ name: 'DATABASE_URL', value: 'postgres://app:$(DB_PASSWORD)@db/app' });
    },
  ],
  [
    'secrets/url-credentials',
    'a URL with a port and no user-info',
    (o) => {
      configData(o).UPSTREAM = 'https://api.example:8443/v1?ref=a@b';
    },
  ],
  [
    'secrets/private-key',
    'a certificate and a public key',
    (o) => {
      configData(o)['ca.crt'] =
        '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';
    },
  ],
  ['practice/network-policy-allows-all', 'the DNS egress rule (kube-dns in kube-system, port 53)', () => undefined],
  [
    'practice/network-policy-allows-all',
    'every pod of one namespace, and an ipBlock with exceptions',
    (o) => {
      find(o, 'NetworkPolicy', 'shop').spec.ingress[0].from = [{ podSelector: {} }];
      find(o, 'NetworkPolicy', 'shop').spec.egress[0].to = [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }];
    },
  ],
  [
    'practice/network-policy-allows-all',
    'an open ingress, waived with a reason (a public entry point)',
    (o) => {
      delete find(o, 'NetworkPolicy', 'shop').spec.ingress[0].from;
      annotate(find(o, 'NetworkPolicy', 'shop'), {
        'policy.lab-to-prod.io/waive': 'practice/network-policy-allows-all',
        'policy.lab-to-prod.io/waive-reason':
          'the load balancer forwards clients from any address, to the web port only',
      });
    },
  ],
  [
    'practice/network-policy',
    'a policy of its own with matchExpressions',
    (o) => {
      find(o, 'NetworkPolicy', 'shop').spec.podSelector = {
        matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['shop'] }],
      };
    },
  ],
  [
    'practice/namespace-default-deny',
    'default-deny as two policies, one per direction',
    (o) => {
      find(o, 'NetworkPolicy', 'default-deny').spec.policyTypes = ['Ingress'];
      o.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny-egress', namespace: 'shop' },
        spec: { podSelector: {}, policyTypes: ['Egress'] },
      });
    },
  ],
];

/** The fixture environment provides the gvisor RuntimeClass and declares one group for people. */
function run(objects: any[]): Finding[] {
  return checkManifests(asInputs(objects), {
    platformProvided: { test: ['RuntimeClass/gvisor'] },
    peopleGroups: { test: ['shop-viewers'] },
  });
}

describe('the passing fixture', () => {
  it('passes every rule, in the oldest and the newest supported minor', () => {
    expect(run(goodApp())).toEqual([]);
    expect(checkManifests(asInputs(goodApp(), 'old', '1.31'))).toEqual([]);
    expect(checkManifests(asInputs(goodApp(), 'new', '1.37'))).toEqual([]);
  });
});

describe.each(failing)('%s fails on %s', (ruleId, _what, mutate) => {
  it('reports the rule, as an unwaived finding with a field path and the construct path', () => {
    const objects = goodApp();
    mutate(objects);
    const hits = run(objects).filter((f) => f.ruleId === ruleId);
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) {
      expect(hit.waived).toBeUndefined();
      expect(hit.message).not.toBe('');
      expect(hit.constructPath).toMatch(/^test\//);
    }
  });
});

describe.each(passing)('%s passes %s', (ruleId, _what, mutate) => {
  it('does not report the rule', () => {
    const objects = goodApp();
    mutate(objects);
    expect(run(objects).filter((f) => f.ruleId === ruleId && !f.waived)).toEqual([]);
  });
});

describe('a secret value outside a Secret', () => {
  const secretCases = failing.filter(
    ([id]) => id.startsWith('secrets/') && id !== 'secrets/no-secret-values' && id !== 'secrets/secret-in-env',
  );
  it.each(secretCases)('%s on %s: the report names the field, never the value', (ruleId, _what, mutate) => {
    const objects = goodApp();
    mutate(objects);
    const findings = run(objects);
    const hits = findings.filter((f) => f.ruleId === ruleId);
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) expect(hit.fieldPath).not.toBe('');
    expect(JSON.stringify(findings)).not.toContain(SECRET);
    expect(formatReport(findings, { listWaived: true })).not.toContain(SECRET);
  });
});

describe('the rule catalogue', () => {
  it('has a failing fixture for every rule', () => {
    const covered = new Set(failing.map(([id]) => id));
    expect(rules.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });
  it('has unique ids, each with a reason', () => {
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) expect(rule.reason.length).toBeGreaterThan(20);
  });
});

describe('lib/policy/README.md', () => {
  it('lists every rule with its severity and reason (regenerate the table from `rules` after a change)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const readme: string = require('fs').readFileSync(require('path').join(__dirname, 'README.md'), 'utf8');
    const table = [
      '| id | severity | why |',
      '|---|---|---|',
      ...rules.map((r) => `| \`${r.id}\` | ${r.severity} | ${r.reason} |`),
    ].join('\n');
    expect(readme).toContain(table);
  });
});
