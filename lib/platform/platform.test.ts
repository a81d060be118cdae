import { testChart, only, rendered } from '../../test/helpers';
import { Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import { appNamespaces } from '../workloads';
import { NAMESPACE_OBJECT_NAMES } from './app-namespace';
import { Platform } from './platform';
import { PRIORITY_CLASSES } from './priority-classes';

// The app namespaces of lib/synth/app.ts: each environment names the groups of exactly these (env.identity.people).
/** The app namespaces, as the synth gives them: one per app of the workloads' registry. */
const APPS = appNamespaces();
const envs = Object.values(ENVIRONMENTS);
const prodEnvs = envs.filter((e) => e.name !== 'lab');

function platformObjects(env: Environment): any[] {
  const chart = testChart(env.name);
  new Platform(chart, 'platform', { env, appNamespaces: APPS });
  return rendered(chart);
}

describe.each(envs.map((e) => [e.name, e] as const))('platform of %s', (_name, env) => {
  const objects = platformObjects(env);
  const inNamespace = (ns: string, kind: string) =>
    objects.filter((o) => o.kind === kind && o.metadata.namespace === ns);

  test.each(APPS)('namespace %s enforces, audits and warns at Pod Security "restricted"', (app) => {
    const labels = only(objects, 'Namespace', app).metadata.labels;
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/audit']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/warn']).toBe('restricted');
  });

  test.each(APPS)("namespace %s has the environment's quota and container limits", (app) => {
    const q = env.scale.namespaceQuota;
    const [quota] = inNamespace(app, 'ResourceQuota');
    expect(quota.metadata.name).toBe(NAMESPACE_OBJECT_NAMES.resourceQuota);
    expect(quota.spec.hard).toMatchObject({
      'requests.cpu': q.requests.cpu,
      'requests.memory': q.requests.memory,
      'limits.cpu': q.limits.cpu,
      'limits.memory': q.limits.memory,
      pods: String(q.pods),
      persistentvolumeclaims: String(q.persistentVolumeClaims),
      'requests.storage': q.storage,
    });
    const [limitRange] = inNamespace(app, 'LimitRange');
    expect(limitRange.spec.limits).toEqual([
      {
        type: 'Container',
        max: q.containerMax,
        default: q.containerDefaults.limits,
        defaultRequest: q.containerDefaults.requests,
      },
    ]);
  });

  test.each(APPS)('namespace %s denies all traffic by default and allows DNS egress only', (app) => {
    const policies = inNamespace(app, 'NetworkPolicy');
    const deny = policies.find((p) => p.metadata.name === NAMESPACE_OBJECT_NAMES.defaultDeny);
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    const dns = policies.find((p) => p.metadata.name === NAMESPACE_OBJECT_NAMES.allowDns);
    expect(dns.spec.policyTypes).toEqual(['Egress']);
    expect(dns.spec.ingress).toBeUndefined();
    expect(dns.spec.egress).toHaveLength(1);
    expect(dns.spec.egress[0].to[0].podSelector.matchLabels).toEqual({ 'k8s-app': 'kube-dns' });
    expect(dns.spec.egress[0].ports.map((p: any) => `${p.protocol}/${p.port}`)).toEqual(['UDP/53', 'TCP/53']);
  });

  test('PriorityClasses rank the database above the services, and batch below them without preempting', () => {
    const value = (name: string) => only(objects, 'PriorityClass', name).value;
    expect(value(PRIORITY_CLASSES.database)).toBeGreaterThan(value(PRIORITY_CLASSES.service));
    expect(value(PRIORITY_CLASSES.service)).toBeGreaterThan(value(PRIORITY_CLASSES.batch));
    expect(only(objects, 'PriorityClass', PRIORITY_CLASSES.batch).preemptionPolicy).toBe('Never');
    expect(objects.filter((o) => o.kind === 'PriorityClass').every((o) => o.globalDefault === false)).toBe(true);
  });

  test('the StorageClass waits for the first consumer and is the one workloads claim from', () => {
    const sc = only(objects, 'StorageClass', env.storage.storageClassName);
    expect(sc.provisioner).toBe(env.storage.provisioner);
    expect(sc.volumeBindingMode).toBe('WaitForFirstConsumer');
    expect(sc.allowVolumeExpansion).toBe(env.storage.allowVolumeExpansion);
  });

  test('the ClusterIssuer is the one Ingresses are told to ask for', () => {
    only(objects, 'ClusterIssuer', env.loadBalancing.ingress.clusterIssuer);
  });

  test("no RBAC for workloads: no workload needs the API, so every binding is of people's groups", () => {
    const subjects = objects.filter((o) => /RoleBinding/.test(o.kind)).flatMap((o) => o.subjects);
    expect(subjects.length).toBeGreaterThan(0);
    expect(subjects.filter((s) => s.kind !== 'Group')).toEqual([]);
  });
});

describe('what differs between environments', () => {
  const byEnv = Object.fromEntries(envs.map((e) => [e.name, platformObjects(e)]));

  test.each([
    ['lab', 'rancher.io/local-path', {}, false],
    ['prod-eks', 'ebs.csi.aws.com', { type: 'gp3', encrypted: 'true' }, true],
    ['prod-gke', 'pd.csi.storage.gke.io', { type: 'pd-balanced' }, true],
    ['prod-aks', 'disk.csi.azure.com', { skuName: 'Premium_ZRS' }, true],
  ])('%s: StorageClass via %s', (name, provisioner, parameters, expandable) => {
    const sc = only(byEnv[name], 'StorageClass');
    expect(sc.provisioner).toBe(provisioner);
    expect(sc.parameters ?? {}).toEqual(parameters);
    expect(sc.allowVolumeExpansion).toBe(expandable);
  });

  test('MetalLB: the lab gets its address pools and an L2 advertisement of them; production none', () => {
    const lab = ENVIRONMENTS.lab;
    const pools = byEnv.lab.filter((o) => o.kind === 'IPAddressPool');
    expect(pools.map((p) => [p.metadata.name, p.metadata.namespace, p.spec.addresses])).toEqual(
      lab.loadBalancing.metallbAddressPools!.map((p) => [p.name, 'metallb-system', p.addresses]),
    );
    expect(only(byEnv.lab, 'L2Advertisement').spec.ipAddressPools).toEqual(pools.map((p) => p.metadata.name));
    for (const env of prodEnvs) {
      expect(byEnv[env.name].filter((o) => o.apiVersion.startsWith('metallb.io/'))).toEqual([]);
    }
  });

  test('the lab signs with its own CA: self-signed Issuer -> CA Certificate -> CA ClusterIssuer', () => {
    const issuer = only(byEnv.lab, 'Issuer');
    expect(issuer.spec).toEqual({ selfSigned: {} });
    const ca = only(byEnv.lab, 'Certificate');
    expect(ca.spec.isCA).toBe(true);
    expect(ca.spec.issuerRef).toMatchObject({ kind: 'Issuer', name: issuer.metadata.name });
    expect(ca.metadata.namespace).toBe('cert-manager');
    expect(only(byEnv.lab, 'ClusterIssuer').spec).toEqual({ ca: { secretName: ca.spec.secretName } });
  });

  test.each([
    ['prod-eks', 'route53'],
    ['prod-gke', 'cloudDNS'],
    ['prod-aks', 'azureDNS'],
  ])('%s: ACME ClusterIssuer with a DNS-01 solver through %s and no credentials in it', (name, solver) => {
    const acme = only(byEnv[name], 'ClusterIssuer').spec.acme;
    expect(acme.server).toBe('https://acme-v02.api.letsencrypt.org/directory');
    expect(acme.solvers).toHaveLength(1);
    expect(Object.keys(acme.solvers[0].dns01)).toEqual([solver]);
    expect(JSON.stringify(acme)).not.toMatch(/secretAccessKey|clientSecret|serviceAccountSecretRef/);
    expect(byEnv[name].filter((o) => o.kind === 'Certificate' || o.kind === 'Issuer')).toEqual([]);
  });

  test.each([
    ['prod-eks', 'aws', 'eks.amazonaws.com/role-arn'],
    ['prod-gke', 'gcpsm', 'iam.gke.io/gcp-service-account'],
    ['prod-aks', 'azurekv', 'azure.workload.identity/client-id'],
  ])(
    '%s: one ClusterSecretStore (%s) reading as a ServiceAccount with the workload identity',
    (name, provider, annotation) => {
      const env = ENVIRONMENTS[name];
      const store = only(byEnv[name], 'ClusterSecretStore');
      expect(store.metadata.name).toBe((env.identity.secrets as { clusterSecretStore: string }).clusterSecretStore);
      expect(Object.keys(store.spec.provider)).toEqual([provider]);
      const ref = JSON.stringify(store.spec.provider).match(/"serviceAccountRef":(\{[^}]*\})/)![1];
      const { name: saName, namespace } = JSON.parse(ref);
      const sa = only(byEnv[name], 'ServiceAccount', saName);
      expect(sa.metadata.namespace).toBe(namespace);
      expect(sa.metadata.annotations[annotation]).toBeTruthy();
    },
  );

  test('the lab has no secret store: its Secrets come from npm run lab-secrets', () => {
    expect(byEnv.lab.filter((o) => o.apiVersion.startsWith('external-secrets.io/'))).toEqual([]);
  });

  test('RuntimeClass gvisor (runsc) where the platform lacks it; none where GKE or AKS provide theirs', () => {
    expect(only(byEnv.lab, 'RuntimeClass', 'gvisor')).toMatchObject({ handler: 'runsc' });
    const eks = only(byEnv['prod-eks'], 'RuntimeClass', 'gvisor');
    expect(eks.handler).toBe('runsc');
    expect(eks.scheduling.nodeSelector).toEqual(ENVIRONMENTS['prod-eks'].sandboxRuntime.nodeSelector);
    expect(byEnv['prod-gke'].filter((o) => o.kind === 'RuntimeClass')).toEqual([]);
    expect(byEnv['prod-aks'].filter((o) => o.kind === 'RuntimeClass')).toEqual([]);
  });

  test("production: one PrometheusRule per app namespace, selected by the organisation's Prometheus; the lab none", () => {
    for (const env of prodEnvs) {
      const rules = byEnv[env.name].filter((o) => o.kind === 'PrometheusRule');
      expect(rules.map((r) => r.metadata.namespace)).toEqual(APPS);
      for (const rule of rules) {
        expect(rule.metadata.labels).toMatchObject(env.observability.monitorSelectorLabels!);
        const alerts = rule.spec.groups[0].rules.map((r: any) => r.alert);
        expect(alerts).toEqual(
          expect.arrayContaining([
            'PodNotReady',
            'ContainerCrashLooping',
            'PersistentVolumeFillingUp',
            'AutoscalerAtMaxReplicas',
            'JobFailed',
          ]),
        );
        for (const r of rule.spec.groups[0].rules) {
          expect(r.expr).toContain(`namespace="${rule.metadata.namespace}"`);
        }
      }
    }
    expect(byEnv.lab.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
  });
});

describe('the rendered environments', () => {
  const all = envs.map(renderEnvironment);

  test.each(all.map((r) => [r.env.name, r] as const))(
    '%s: 05-platform.yaml starts with the Namespaces, so one kubectl apply creates it',
    (_n, r) => {
      const platform = r.objects.filter((o) => o.file === '05-platform.yaml').map((o) => o.object.kind);
      const namespaces = platform.filter((k) => k === 'Namespace').length;
      expect(namespaces).toBeGreaterThan(0);
      expect(platform.slice(0, namespaces).every((k) => k === 'Namespace')).toBe(true);
    },
  );

  test.each(all.map((r) => [r.env.name, r] as const))('%s: no Secret with a value anywhere in the output', (_n, r) => {
    for (const o of r.objects) {
      if (o.object.kind === 'Secret') {
        expect({ where: o.constructPath, data: o.object.data, stringData: o.object.stringData }).toEqual({
          where: o.constructPath,
          data: undefined,
          stringData: undefined,
        });
      }
    }
    // The add-ons' Secrets too (MetalLB's webhook certificate: its controller fills it in the cluster).
    for (const addon of r.addons) {
      for (const o of addon.objects.filter((x) => x.kind === 'Secret')) {
        expect({ where: `${addon.file} ${o.metadata.name}`, data: o.data, stringData: o.stringData }).toEqual({
          where: `${addon.file} ${o.metadata.name}`,
          data: undefined,
          stringData: undefined,
        });
      }
    }
    // A file of our own objects holds no Secret with data at all; an add-on's holds ConfigMaps with data beside its Secrets.
    const addonFiles = new Set(r.addons.map((a) => a.file));
    for (const [file, text] of [...r.files, ...r.bootstrapFiles].filter(([f]) => !addonFiles.has(f))) {
      expect({
        file,
        found: /^\s*(data|stringData):/m.test(text.toString()) && /^kind: Secret$/m.test(text.toString()),
      }).toEqual({
        file,
        found: false,
      });
    }
  });

  test('only the lab has the kubeadm bootstrap file', () => {
    expect(all.filter((r) => r.bootstrapFiles.has('kubeadm.yaml')).map((r) => r.env.name)).toEqual(['lab']);
  });
});
