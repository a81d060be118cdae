/**
 * The delivery objects (Flux's GitRepository and Kustomization, Argo CD's Application and AppProject)
 * are checked by the synth's schema check against the pinned delivery engines' CRDs
 * (addons/flux-source-controller, addons/flux-kustomize-controller, addons/argo-cd), like the
 * add-ons' custom resources are: a well-formed object passes, a misspelled field, a missing required
 * field or a value of the wrong type is refused with the field's path.
 */
import { checkManifests } from '../../lib/policy';

const labels = { 'app.kubernetes.io/part-of': 'lab-to-prod', 'app.kubernetes.io/component': 'delivery' };

const gitRepository = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  metadata: { name: 'lab-to-prod', namespace: 'flux-system', labels },
  spec: { url: 'https://git.example.com/lab-to-prod.git', ref: { branch: 'main' }, interval: '1m' },
};

const kustomization = {
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name: 'lab-to-prod-workloads', namespace: 'flux-system', labels },
  spec: {
    sourceRef: { kind: 'GitRepository', name: 'lab-to-prod' },
    path: './dist/lab-delivery/layers/workloads',
    interval: '10m',
    prune: true,
    wait: true,
    timeout: '5m',
    retryInterval: '1m',
    dependsOn: [{ name: 'lab-to-prod-platform' }],
  },
};

const appProject = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'AppProject',
  metadata: { name: 'lab-to-prod', namespace: 'argocd', labels },
  spec: {
    sourceRepos: ['https://git.example.com/lab-to-prod.git'],
    destinations: [{ server: 'https://kubernetes.default.svc', namespace: '*' }],
  },
};

const application = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: {
    name: 'lab-to-prod-workloads',
    namespace: 'argocd',
    labels,
    annotations: { 'argocd.argoproj.io/sync-wave': '5' },
  },
  spec: {
    project: 'lab-to-prod',
    source: {
      repoURL: 'https://git.example.com/lab-to-prod.git',
      targetRevision: '0123456789abcdef0123456789abcdef01234567',
      path: 'dist/prod-eks',
      directory: { include: '{10-web.yaml,20-api.yaml}' },
    },
    destination: { server: 'https://kubernetes.default.svc' },
    syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
  },
};

/** The schema findings for one object, as `rule field: message`. */
function schemaFindings(object: unknown): string[] {
  return checkManifests([{ environment: 'fixture', kubernetesVersion: '1.35', file: 'delivery.yaml', object }])
    .filter((finding) => finding.ruleId.startsWith('schema/'))
    .map((finding) => `${finding.ruleId} ${finding.fieldPath}: ${finding.message}`);
}

const clone = <T>(value: T): any => JSON.parse(JSON.stringify(value));

describe.each([
  ['GitRepository', gitRepository],
  ['Kustomization', kustomization],
  ['AppProject', appProject],
  ['Application', application],
])('%s', (_kind, object) => {
  test('a well-formed one passes the schema check', () => {
    expect(schemaFindings(object)).toEqual([]);
  });

  test('a misspelled field is refused as unknown', () => {
    const broken = clone(object);
    broken.spec.intervall = '1m';
    expect(schemaFindings(broken)).toEqual([
      expect.stringMatching(/^schema\/unknown-field spec(\.intervall)?: .*intervall/),
    ]);
  });
});

test("a Kustomization without its source, or whose prune is not a boolean, is refused by the engine's schema", () => {
  const withoutSource = clone(kustomization);
  delete withoutSource.spec.sourceRef;
  expect(schemaFindings(withoutSource).join('\n')).toMatch(/^schema\/invalid spec.*sourceRef/);
  const pruneText = clone(kustomization);
  pruneText.spec.prune = 'true';
  expect(schemaFindings(pruneText)).toEqual([expect.stringMatching(/^schema\/invalid spec\.prune: /)]);
});

test("a GitRepository's url must be http(s) or ssh (the CRD's pattern), as delivery.repository is", () => {
  const file = clone(gitRepository);
  file.spec.url = 'file:///srv/lab-to-prod.git';
  expect(schemaFindings(file)).toEqual([expect.stringMatching(/^schema\/invalid spec\.url: /)]);
});

test("an Application's directory include is a string of globs, not a list", () => {
  const list = clone(application);
  list.spec.source.directory.include = ['10-web.yaml'];
  expect(schemaFindings(list)).toEqual([expect.stringMatching(/^schema\/invalid spec\.source\.directory\.include: /)]);
});
