import { compareEnvironments, EnvironmentObjects } from './env-diff';
import { formatEnvDiffMarkdown, formatEnvDiffText } from './env-diff-format';
import { find, MIRROR_CLOUD, MIRROR_LAB, shopObjects } from './fixtures/objects';
import { KubeObject } from './kube';

/** Two environments from the fixture: lab as is, prod after `change` edits its objects. */
function compare(change: (prod: KubeObject[]) => void) {
  const lab: EnvironmentObjects = { name: 'lab', registryMirror: MIRROR_LAB, objects: shopObjects(MIRROR_LAB) };
  const prodObjects = shopObjects(MIRROR_CLOUD);
  change(prodObjects);
  return compareEnvironments([lab, { name: 'prod', registryMirror: MIRROR_CLOUD, objects: prodObjects }]);
}

const app = (objects: KubeObject[]) => find(objects, 'Deployment', 'shop').spec.template.spec.containers[0];
const only = (report: ReturnType<typeof compare>, path: string) => {
  const found = report.differences.filter((d) => d.path === path);
  expect(found).toHaveLength(1);
  return found[0];
};

test('environments that differ only by their mirror differ only in the registry area', () => {
  const report = compare(() => undefined);
  expect(report.unexpected).toBe(0);
  expect(report.differences.map((d) => [d.path, d.classification.area])).toEqual([
    ['spec.template.spec.initContainers[migrate].image', 'registry'],
    ['spec.template.spec.containers[app].image', 'registry'],
    ['spec.template.spec.containers[db].image', 'registry'],
  ]);
  expect(report.objectCount).toBe(10);
  expect(report.objectsInAll).toBe(10);
});

test('an injected security difference is unexpected and fails the report', () => {
  const report = compare((prod) => {
    app(prod).securityContext.allowPrivilegeEscalation = true;
  });
  const d = only(report, 'spec.template.spec.containers[app].securityContext.allowPrivilegeEscalation');
  expect(d.values).toEqual([false, true]);
  expect(d.classification).toEqual({
    area: 'unexpected',
    reason: 'a security context must be the same in every environment',
  });
  expect(report.unexpected).toBe(1);
  expect(formatEnvDiffText(report)).toContain('FAILED: 1 unexpected difference(s)');
});

test('a security context is guarded even inside fields a rule would claim (an exporter sidecar)', () => {
  const exporter = (mirror: string, escalate: boolean) => ({
    name: 'exporter',
    image: `${mirror}/prom/exporter:1.0`,
    securityContext: { allowPrivilegeEscalation: escalate },
  });
  // Only in prod: the whole container is observability, its securityContext included.
  const added = compare((prod) => {
    find(prod, 'Deployment', 'shop').spec.template.spec.containers.push(exporter(MIRROR_CLOUD, false));
  });
  expect(added.unexpected).toBe(0);
  expect(
    only(added, 'spec.template.spec.containers[exporter].securityContext.allowPrivilegeEscalation').classification.area,
  ).toBe('observability');
  expect(only(added, 'spec.template.spec.containers[exporter].image').classification.area).toBe('observability');

  // In both, with different securityContexts: unexpected.
  const lab = shopObjects(MIRROR_LAB);
  find(lab, 'Deployment', 'shop').spec.template.spec.containers.push(exporter(MIRROR_LAB, false));
  const prod = shopObjects(MIRROR_CLOUD);
  find(prod, 'Deployment', 'shop').spec.template.spec.containers.push(exporter(MIRROR_CLOUD, true));
  const report = compareEnvironments([
    { name: 'lab', registryMirror: MIRROR_LAB, objects: lab },
    { name: 'prod', registryMirror: MIRROR_CLOUD, objects: prod },
  ]);
  expect(
    only(report, 'spec.template.spec.containers[exporter].securityContext.allowPrivilegeEscalation').classification
      .area,
  ).toBe('unexpected');
});

test('a probe, a Pod Security label and a NetworkPolicy difference are unexpected', () => {
  const report = compare((prod) => {
    app(prod).readinessProbe.periodSeconds = 30;
    find(prod, 'Namespace', 'shop').metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
    find(prod, 'NetworkPolicy', 'shop').spec.ingress[0].ports[0].port = 9090;
  });
  expect(only(report, 'spec.template.spec.containers[app].readinessProbe.periodSeconds').classification.reason).toBe(
    'a probe must be the same in every environment',
  );
  expect(only(report, 'metadata.labels[pod-security.kubernetes.io/enforce]').classification.reason).toBe(
    'a Pod Security label must be the same in every environment',
  );
  expect(only(report, 'spec.ingress[0].ports[0].port').classification.reason).toBe(
    'a NetworkPolicy must be the same in every environment',
  );
  expect(report.unexpected).toBe(3);
});

test('an image with a different tag, or not pulled through its mirror, is unexpected', () => {
  const tag = compare((prod) => {
    app(prod).image = `${MIRROR_CLOUD}/example/shop:1.2.4`;
  });
  expect(only(tag, 'spec.template.spec.containers[app].image').classification).toEqual({
    area: 'unexpected',
    reason: 'the image differs in more than its registry mirror: example/shop:1.2.3 vs example/shop:1.2.4',
  });
  const direct = compare((prod) => {
    app(prod).image = 'docker.io/example/shop:1.2.3';
  });
  expect(only(direct, 'spec.template.spec.containers[app].image').classification.reason).toMatch(
    /not pulled through its mirror/,
  );
});

test('each area claims its fields: load balancing, storage, identity, observability, scale', () => {
  const report = compare((prod) => {
    const svc = find(prod, 'Service', 'shop');
    delete svc.metadata.annotations['metallb.io/address-pool'];
    svc.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-scheme'] = 'internet-facing';
    svc.spec.ipFamilies = ['IPv4'];
    find(prod, 'StatefulSet', 'stock').spec.volumeClaimTemplates[0].spec.storageClassName = 'gp3';
    find(prod, 'ServiceAccount', 'shop').metadata.annotations = {
      'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/shop',
    };
    prod.push({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'ServiceMonitor',
      metadata: { name: 'shop', namespace: 'shop' },
      spec: {},
    });
    find(prod, 'HorizontalPodAutoscaler', 'shop').spec.maxReplicas = 12;
    app(prod).resources.limits.memory = '512Mi';
    find(prod, 'Deployment', 'shop').spec.template.spec.topologySpreadConstraints[0].topologyKey =
      'topology.kubernetes.io/zone';
  });
  const area = (path: string | undefined, object?: string) =>
    report.differences.find((d) => d.path === path && (object === undefined || d.object === object))?.classification
      .area;
  expect(area('metadata.annotations[metallb.io/address-pool]')).toBe('load balancing');
  expect(area('metadata.annotations[service.beta.kubernetes.io/aws-load-balancer-scheme]')).toBe('load balancing');
  expect(area('spec.ipFamilies')).toBe('load balancing');
  expect(area('spec.volumeClaimTemplates[0].spec.storageClassName')).toBe('storage');
  expect(area('metadata.annotations[eks.amazonaws.com/role-arn]')).toBe('identity');
  expect(area(undefined, 'ServiceMonitor shop/shop')).toBe('observability');
  expect(area('spec.maxReplicas')).toBe('scale');
  expect(area('spec.template.spec.containers[app].resources.limits.memory')).toBe('scale');
  expect(area('spec.template.spec.topologySpreadConstraints[0].topologyKey')).toBe('scale');
  expect(report.unexpected).toBe(0);
  const markdown = formatEnvDiffMarkdown(report);
  expect(markdown).toContain('| load balancing | 3 |');
  expect(markdown).toContain('| Object | Field | lab | prod |');
});

describe('identity for people: the group a RoleBinding names', () => {
  const binding = (group: string, roleRef = 'app-viewer'): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'viewer', namespace: 'shop' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleRef },
    subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: group }],
  });
  const withBinding = (labGroup: string, prodGroup: string, prodRole?: string) => {
    const lab: EnvironmentObjects = {
      name: 'lab',
      registryMirror: MIRROR_LAB,
      objects: [...shopObjects(MIRROR_LAB), binding(labGroup)],
    };
    const prod: EnvironmentObjects = {
      name: 'prod',
      registryMirror: MIRROR_CLOUD,
      objects: [...shopObjects(MIRROR_CLOUD), binding(prodGroup, prodRole)],
    };
    return compareEnvironments([lab, prod]).differences.filter((d) => d.kind === 'RoleBinding');
  };

  test('is one difference, by position, in the identity area', () => {
    const found = withBinding('shop-viewers', '00000000-0000-4000-8000-000000000101');
    expect(found.map((d) => [d.path, d.values, d.classification.area])).toEqual([
      ['subjects[0].name', ['shop-viewers', '00000000-0000-4000-8000-000000000101'], 'identity'],
    ]);
  });

  test('a different role in one environment is not identity: unexpected', () => {
    const found = withBinding('shop-viewers', 'shop-viewers', 'app-deployer');
    expect(found.map((d) => [d.path, d.classification.area])).toEqual([['roleRef.name', 'unexpected']]);
  });
});

test('an annotation no rule names, or an object in one environment only that no rule explains, is unexpected', () => {
  const report = compare((prod) => {
    find(prod, 'Service', 'shop').metadata.annotations['example.com/anything'] = 'x';
    prod.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'extra', namespace: 'shop' },
      spec: {},
    });
  });
  expect(only(report, 'metadata.annotations[example.com/anything]').classification.area).toBe('unexpected');
  const presence = report.differences.find((d) => d.object === 'NetworkPolicy shop/extra' && d.path === undefined)!;
  expect(presence.values).toEqual([undefined, 'present']);
  expect(presence.classification.area).toBe('unexpected');
});

describe('the config hash follows the ConfigMaps it hashes', () => {
  const hash = (prod: KubeObject[]) => {
    find(prod, 'Deployment', 'shop').spec.template.metadata.annotations['lab-to-prod.io/config-hash'] = 'bbbb';
  };
  const hashPath = 'spec.template.metadata.annotations[lab-to-prod.io/config-hash]';

  test('an IPv6 listen line only: load balancing, and so is the hash', () => {
    const report = compare((prod) => {
      find(prod, 'ConfigMap', 'shop').data['app.conf'] = 'listen 8080;\nlisten [::]:8080;\nworkers 2;\n';
      hash(prod);
    });
    expect(only(report, 'data[app.conf]').classification.area).toBe('load balancing');
    expect(only(report, hashPath).classification.area).toBe('load balancing');
    expect(report.unexpected).toBe(0);
  });

  test('any other changed line: unexpected, and so is the hash', () => {
    const report = compare((prod) => {
      find(prod, 'ConfigMap', 'shop').data['app.conf'] = 'listen 8080;\nworkers 8;\n';
      hash(prod);
    });
    expect(only(report, 'data[app.conf]').classification.area).toBe('unexpected');
    expect(only(report, hashPath).classification.reason).toBe(
      'the config hash follows an unexpected difference in ConfigMap shop/shop',
    );
  });

  test('a hash that differs while the configuration does not: unexpected', () => {
    const report = compare(hash);
    expect(only(report, hashPath).classification.area).toBe('unexpected');
  });
});

test("a Secret's values are never shown", () => {
  const secret = (value: string) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'shop' },
    data: { password: value },
  });
  const report = compareEnvironments([
    { name: 'lab', registryMirror: MIRROR_LAB, objects: [secret('c2VjcmV0LWxhYg==')] },
    { name: 'prod', registryMirror: MIRROR_CLOUD, objects: [secret('c2VjcmV0LXByb2Q=')] },
  ]);
  const text = formatEnvDiffText(report) + formatEnvDiffMarkdown(report);
  expect(text).toContain('(secret value, hidden)');
  expect(text).not.toContain('c2VjcmV0');
});

test('two objects with the same identity in one environment are refused', () => {
  const objects = shopObjects();
  expect(() =>
    compareEnvironments([{ name: 'lab', registryMirror: MIRROR_LAB, objects: [...objects, objects[1]] }]),
  ).toThrow('environment "lab": two objects are ConfigMap shop/shop');
});

describe('objects that exist in some environments only', () => {
  const cronJobIn = (namespace: string): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'etcd-backup', namespace },
    spec: {},
  });

  test('in kube-system, where only a self-managed control plane lets us run: the control plane area', () => {
    const report = compare((prod) => {
      prod.push(cronJobIn('kube-system'));
    });
    expect(report.unexpected).toBe(0);
    expect(report.differences.find((d) => d.kind === 'CronJob')?.classification.area).toBe('control plane');
  });

  test('the same object in an app namespace: unexpected', () => {
    const report = compare((prod) => {
      prod.push(cronJobIn('shop'));
    });
    expect(report.unexpected).toBe(1);
  });

  test('a NetworkPolicy in one environment only: unexpected', () => {
    const report = compare((prod) => {
      prod.push({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'extra', namespace: 'shop' },
        spec: {},
      });
    });
    expect(report.unexpected).toBe(1);
  });
});

test('AppArmor present in one environment and absent in another belongs to the nodes area; any other change to it does not', () => {
  const pod = (objects: KubeObject[]) => find(objects, 'Deployment', 'shop').spec.template.spec;
  // The lab's nodes run AppArmor and its pod asks for the profile; prod's nodes run SELinux and its pod does not.
  const diff = (changeProd: (prod: KubeObject[]) => void) => {
    const lab = shopObjects(MIRROR_LAB);
    pod(lab).securityContext.appArmorProfile = { type: 'RuntimeDefault' };
    const prod = shopObjects(MIRROR_CLOUD);
    changeProd(prod);
    return compareEnvironments([
      { name: 'lab', registryMirror: MIRROR_LAB, objects: lab },
      { name: 'prod', registryMirror: MIRROR_CLOUD, objects: prod },
    ]);
  };
  const absent = diff(() => undefined);
  expect(absent.unexpected).toBe(0);
  expect(only(absent, 'spec.template.spec.securityContext.appArmorProfile.type').classification.area).toBe('nodes');

  // Beside it, a weaker security context is still unexpected: only appArmorProfile left the guard.
  const weaker = diff((prod) => {
    pod(prod).securityContext.runAsNonRoot = false;
  });
  expect(only(weaker, 'spec.template.spec.securityContext.runAsNonRoot').classification.area).toBe('unexpected');
  expect(weaker.unexpected).toBe(1);
});
