/**
 * The delivery folder, dist/<env>-delivery/: the layers read from dist/<env>/'s file names in deploy's
 * order, Flux's and Argo CD's objects for each kind of revision (the branch's tip, unpromoted, a
 * promoted commit), the kustomizations that name exactly dist/<env>/'s files, the engines' CRD
 * schemas checking the objects in the synth, and the folder written beside dist/<env>/ or, on a
 * refusal, not at all.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { withChange } from '../../test/helpers';
import { Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { peopleGroupsByEnvironment } from '../environments/people';
import { KubeObject } from '../k8s/kube-object';
import { checkManifests, Finding } from '../policy';
import { renderEnvironment, RenderedEnvironment } from '../synth/render';
import { checkInputs, SynthError, synthesize } from '../synth/synth';
import { deliveryLayers, layerOf, renderDelivery } from '.';

const { lab, 'prod-eks': eks, 'prod-gke': gke } = ENVIRONMENTS;
const ROOT = path.resolve(__dirname, '..', '..');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

const promoted = (env: Environment, revision = COMMIT) =>
  withChange(env, (e) => {
    e.delivery.revision = revision;
  });

/** The documents of one rendered delivery file. */
function documents(files: ReadonlyMap<string, string>, file: string): KubeObject[] {
  const text = files.get(file);
  expect(text).toBeDefined();
  return text!
    .split(/^---$/m)
    .map((d) => parse(d) as KubeObject)
    .filter((d) => d !== null);
}

const LAB_RENDERED = renderEnvironment(lab);
const EKS_FILES = [...renderEnvironment(eks).files.keys()];

describe('the layers', () => {
  test("are read from dist/<env>/'s file names, in deploy's order, only those with files", () => {
    expect(
      deliveryLayers([
        'README.md',
        '50-sandboxed.yaml',
        '10-web.yaml',
        '05-platform.yaml',
        '03-cert-manager-resources.yaml',
        '01-metallb.yaml',
        '00-metallb-crds.yaml',
        '00-cert-manager-crds.yaml',
        '01-cert-manager.yaml',
      ]),
    ).toEqual([
      { name: 'crds', files: ['00-cert-manager-crds.yaml', '00-metallb-crds.yaml'] },
      { name: 'addons-1', files: ['01-cert-manager.yaml', '01-metallb.yaml'] },
      { name: 'addons-3', files: ['03-cert-manager-resources.yaml'] },
      { name: 'platform', files: ['05-platform.yaml'] },
      { name: 'workloads', files: ['10-web.yaml', '50-sandboxed.yaml'] },
    ]);
  });

  test('take the wider numbers of many workloads (005-platform.yaml, 010-web.yaml) as the platform and workloads', () => {
    expect(['005-platform.yaml', '010-web.yaml', '120-batch.yaml'].map(layerOf)).toEqual([
      'platform',
      'workloads',
      'workloads',
    ]);
  });

  test('refuse a 00- file that holds no CRDs, naming it', () => {
    expect(() => layerOf('00-stray.yaml')).toThrow(
      "dist/<env>/00-stray.yaml: a file named 00-* must hold an add-on's CRDs (00-<addon>-crds.yaml); no delivery layer takes any other",
    );
  });

  test("of each environment take every YAML file of dist/<env>/ once, and each layer's kustomization names exactly them", () => {
    for (const env of Object.values(ENVIRONMENTS)) {
      const rendered = env === lab ? LAB_RENDERED : renderEnvironment(env);
      const yamlFiles = [...rendered.files.keys()].filter((f) => f.endsWith('.yaml')).sort();
      const layers = deliveryLayers(rendered.files.keys());
      expect(layers.flatMap((l) => l.files).sort()).toEqual(yamlFiles);
      for (const layer of layers) {
        const [kustomization] = documents(rendered.deliveryFiles, `layers/${layer.name}/kustomization.yaml`);
        expect(kustomization).toEqual({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          // From dist/<env>-delivery/layers/<layer>/ up to dist/, then into dist/<env>/.
          resources: layer.files.map((f) => `../../../${env.name}/${f}`),
        });
        for (const resource of kustomization.resources as string[]) {
          const inDist = path.posix.normalize(
            path.posix.join(`dist/${env.name}-delivery/layers/${layer.name}`, resource),
          );
          expect(inDist).toBe(`dist/${env.name}/${path.posix.basename(resource)}`);
        }
      }
    }
  });
});

describe('Flux', () => {
  const fluxObjects = (env: Environment, files: Iterable<string> = LAB_RENDERED.files.keys()) =>
    documents(renderDelivery(env, files).files, 'flux/lab-to-prod.yaml');
  const named = (objects: KubeObject[], kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name);

  test('the lab: its delivery folder from the branch, and each layer at the branch tip, after the one before, healthy', () => {
    const objects = fluxObjects(lab);
    // No on-call Role in the lab, where people's roles write the apps themselves (reconcilerOnly false).
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'GitRepository/lab-to-prod-delivery',
      'Kustomization/lab-to-prod-delivery',
      'GitRepository/lab-to-prod',
      'Kustomization/lab-to-prod-crds',
      'Kustomization/lab-to-prod-addons-1',
      'Kustomization/lab-to-prod-platform',
      'Kustomization/lab-to-prod-workloads',
    ]);
    expect(objects.every((o) => o.metadata.namespace === 'flux-system')).toBe(true);
    expect(named(objects, 'GitRepository', 'lab-to-prod-delivery')!.spec).toEqual({
      interval: '1m',
      url: 'https://git.example.com/platform/lab-to-prod.git',
      ref: { branch: 'main' },
      ignore: '/*\n!/dist/\n/dist/*\n!/dist/lab-delivery/\n',
    });
    expect(named(objects, 'Kustomization', 'lab-to-prod-delivery')!.spec).toEqual({
      interval: '10m',
      sourceRef: { kind: 'GitRepository', name: 'lab-to-prod-delivery' },
      path: './dist/lab-delivery/flux',
      prune: true,
    });
    expect(named(objects, 'GitRepository', 'lab-to-prod')!.spec).toEqual({
      interval: '1m',
      url: 'https://git.example.com/platform/lab-to-prod.git',
      ref: { branch: 'main' },
      ignore: '/*\n!/dist/\n/dist/*\n!/dist/lab/\n!/dist/lab-delivery/\n',
    });
    expect(named(objects, 'Kustomization', 'lab-to-prod-crds')!.spec).toEqual({
      interval: '10m',
      retryInterval: '1m',
      timeout: '5m',
      sourceRef: { kind: 'GitRepository', name: 'lab-to-prod' },
      path: './dist/lab-delivery/layers/crds',
      prune: false,
      wait: true,
      // Without it the workloads layer never becomes Ready: the backups' claim waits for its first
      // consumer, the nightly CronJob (seen with Flux in test/cluster/delivery_test.go).
      healthCheckExprs: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          current: "status.phase == 'Bound' || status.phase == 'Pending'",
        },
      ],
    });
    const layerSpecs = objects.filter((o) => o.kind === 'Kustomization' && o.metadata.name !== 'lab-to-prod-delivery');
    expect(layerSpecs.map((o) => [o.metadata.name, o.spec.dependsOn, o.spec.prune, o.spec.wait])).toEqual([
      ['lab-to-prod-crds', undefined, false, true],
      ['lab-to-prod-addons-1', [{ name: 'lab-to-prod-crds' }], true, true],
      ['lab-to-prod-platform', [{ name: 'lab-to-prod-addons-1' }], true, true],
      ['lab-to-prod-workloads', [{ name: 'lab-to-prod-platform' }], true, true],
    ]);
  });

  test('production before its first promotion: only the delivery folder is followed, and nothing of dist/<env>/ is applied', () => {
    const { files } = renderDelivery(gke, EKS_FILES);
    expect(documents(files, 'flux/lab-to-prod.yaml').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'GitRepository/lab-to-prod-delivery',
      'Kustomization/lab-to-prod-delivery',
      // On-call's brake on the workloads layer (lib/platform/reconciler-access.ts), where only the reconciler writes.
      'Role/lab-to-prod-on-call',
      'RoleBinding/lab-to-prod-on-call',
    ]);
    // The layers are rendered all the same, so that this commit can be promoted later.
    expect([...files.keys()].filter((f) => f.startsWith('layers/')).length).toBe(deliveryLayers(EKS_FILES).length);
  });

  test('a promoted commit: the layers apply that commit, whatever the branch does since', () => {
    const objects = fluxObjects(promoted(gke));
    expect(named(objects, 'GitRepository', 'lab-to-prod')!.spec.ref).toEqual({ commit: COMMIT });
    // The delivery folder itself is still read at the branch's tip: a promotion is a commit to it.
    expect(named(objects, 'GitRepository', 'lab-to-prod-delivery')!.spec.ref).toEqual({ branch: 'main' });
    expect(named(objects, 'GitRepository', 'lab-to-prod')!.spec.ignore).toBe(
      '/*\n!/dist/\n/dist/*\n!/dist/prod-gke/\n!/dist/prod-gke-delivery/\n',
    );
  });

  test("the environment's settings reach the objects: namespace, intervals, repository, branch", () => {
    const env = withChange(lab, (e) => {
      e.delivery.flux = { namespace: 'gitops', pollInterval: '2m', reconcileInterval: '1h' };
      e.delivery.repository = 'ssh://git@git.example.com/other.git';
      e.delivery.branch = 'trunk';
    });
    const objects = fluxObjects(env);
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['gitops']));
    expect(
      objects.filter((o) => o.kind === 'GitRepository').map((o) => [o.spec.interval, o.spec.url, o.spec.ref]),
    ).toEqual([
      ['2m', 'ssh://git@git.example.com/other.git', { branch: 'trunk' }],
      ['2m', 'ssh://git@git.example.com/other.git', { branch: 'trunk' }],
    ]);
    expect(new Set(objects.filter((o) => o.kind === 'Kustomization').map((o) => o.spec.interval))).toEqual(
      new Set(['1h']),
    );
    expect(objects[0].metadata.annotations).toEqual({
      'out-of-band.lab-to-prod.io/namespace.gitops':
        "created by Flux's installation (flux install, or AKS's Flux extension), with its controllers",
    });
  });
});

describe('Argo CD', () => {
  const argocdObjects = (env: Environment) =>
    documents(renderDelivery(env, EKS_FILES).files, 'argocd/lab-to-prod.yaml');

  test('production before its first promotion: the project and the application of the delivery folder', () => {
    const [project, self, ...rest] = argocdObjects(eks);
    expect(rest.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'Role/argocd/lab-to-prod-on-call',
      'RoleBinding/argocd/lab-to-prod-on-call',
    ]);
    expect([project.kind, project.metadata.name, project.metadata.namespace]).toEqual([
      'AppProject',
      'lab-to-prod',
      'argocd',
    ]);
    expect(project.spec).toMatchObject({
      sourceRepos: ['https://git.example.com/platform/lab-to-prod.git'],
      destinations: [{ name: 'in-cluster', namespace: '*' }],
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    });
    expect([self.kind, self.metadata.name]).toEqual(['Application', 'lab-to-prod-delivery']);
    expect(self.spec).toEqual({
      project: 'lab-to-prod',
      source: {
        repoURL: 'https://git.example.com/platform/lab-to-prod.git',
        targetRevision: 'main',
        path: 'dist/prod-eks-delivery/argocd',
      },
      destination: { name: 'in-cluster', namespace: 'argocd' },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    });
  });

  test('a promoted commit: one application per layer at that commit, in sync waves, each taking only its files', () => {
    const layers = deliveryLayers(EKS_FILES);
    const apps = argocdObjects(promoted(eks)).filter(
      (o) => o.kind === 'Application' && o.metadata.name !== 'lab-to-prod-delivery',
    );
    expect(apps.map((a) => a.metadata.name)).toEqual(layers.map((l) => `lab-to-prod-${l.name}`));
    expect(apps.map((a) => a.metadata.annotations['argocd.argoproj.io/sync-wave'])).toEqual(
      layers.map((_, i) => String(i)),
    );
    const crds = layers.find((l) => l.name === 'crds')!;
    expect(apps[0].spec).toEqual({
      project: 'lab-to-prod',
      source: {
        repoURL: 'https://git.example.com/platform/lab-to-prod.git',
        targetRevision: COMMIT,
        path: 'dist/prod-eks',
        directory: { include: `{${crds.files.join(',')}}` },
      },
      destination: { name: 'in-cluster' },
      syncPolicy: { automated: { prune: false, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
    });
    expect(apps.slice(1).every((a) => a.spec.syncPolicy.automated.prune === true)).toBe(true);
    const platform = apps.find((a) => a.metadata.name === 'lab-to-prod-platform')!;
    expect(platform.spec.source.directory.include).toBe('05-platform.yaml');
  });
});

describe('every delivery object', () => {
  test('carries the recommended labels, part of lab-to-prod, component delivery', () => {
    for (const env of [lab, promoted(eks), promoted(gke)]) {
      for (const { object } of renderDelivery(env, EKS_FILES).objects) {
        expect(object.metadata.labels).toMatchObject({
          'app.kubernetes.io/part-of': 'lab-to-prod',
          'app.kubernetes.io/component': 'delivery',
          'app.kubernetes.io/managed-by': 'cdk8s',
        });
      }
    }
  });
});

describe("the synth's checks", () => {
  /** The unwaived errors the synth's checks find in a rendered environment. */
  const errorsOf = (rendered: RenderedEnvironment): Finding[] =>
    checkManifests(checkInputs([rendered]), { peopleGroups: peopleGroupsByEnvironment([rendered.env]) }).filter(
      (f) => f.severity === 'error' && !f.waived,
    );
  /** The rendering with one delivery object changed. */
  const withDeliveryChange = (rendered: RenderedEnvironment, name: string, change: (o: KubeObject) => void) => ({
    ...rendered,
    deliveryObjects: rendered.deliveryObjects.map((o) => {
      if (o.object.metadata.name !== name) return o;
      const object = structuredClone(o.object);
      change(object);
      return { ...o, object };
    }),
  });

  test("read the delivery objects against the engines' CRD schemas, and pass every rendered one", () => {
    expect(errorsOf(LAB_RENDERED)).toEqual([]);
    expect(errorsOf(renderEnvironment(promoted(eks)))).toEqual([]);
    const broken = withDeliveryChange(LAB_RENDERED, 'lab-to-prod-workloads', (o) => {
      delete o.spec.prune;
      o.spec.interval = 'ten minutes';
    });
    expect(errorsOf(broken).map((f) => `${f.ruleId} ${f.kind}/${f.name} ${f.fieldPath} ${f.constructPath}`)).toEqual(
      expect.arrayContaining([
        'schema/invalid Kustomization/lab-to-prod-workloads spec.prune lab/delivery/flux/Kustomization/lab-to-prod-workloads',
        'schema/invalid Kustomization/lab-to-prod-workloads spec.interval lab/delivery/flux/Kustomization/lab-to-prod-workloads',
      ]),
    );
  });

  test("refuse an Argo CD field the engine's schema does not have", () => {
    const rendered = renderEnvironment(promoted(eks));
    const broken = withDeliveryChange(rendered, 'lab-to-prod-crds', (o) => {
      o.spec.syncPolicy.automated.pruneCrds = false;
    });
    expect(errorsOf(broken).map((f) => `${f.ruleId} ${f.fieldPath}`)).toEqual([
      'schema/unknown-field spec.syncPolicy.automated.pruneCrds',
    ]);
  });
});

describe('the synth', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes dist/<env>-delivery/ beside dist/<env>/, and a refused delivery leaves the output as it was', () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-synth-'));
    dirs.push(parent);
    const outdir = path.join(parent, 'dist');
    synthesize({ environments: [lab], outdir, repository: ROOT });
    expect(fs.readdirSync(outdir).sort()).toEqual(['lab', 'lab-bootstrap', 'lab-delivery']);
    const written = fs.readFileSync(path.join(outdir, 'lab-delivery', 'flux', 'lab-to-prod.yaml'), 'utf8');
    expect(written).toBe(LAB_RENDERED.deliveryFiles.get('flux/lab-to-prod.yaml'));

    const unknownBranch = withChange(lab, (e) => {
      e.delivery.branch = 'no-such-branch';
    });
    let error: unknown;
    try {
      synthesize({ environments: [unknownBranch], outdir, repository: ROOT });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthError);
    expect((error as SynthError).message).toMatch(
      /^environment "lab": delivery\.branch: Invalid value: "no-such-branch": a branch of this git repository \(it has .*"main".*\), the one reviewed commits land on$/m,
    );
    expect(fs.readFileSync(path.join(outdir, 'lab-delivery', 'flux', 'lab-to-prod.yaml'), 'utf8')).toBe(written);
  }, 60_000);

  test('outside a git repository, renders and warns that the branch and revision were not checked', () => {
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-nogit-'));
    dirs.push(plain);
    const { warnings } = synthesize({ environments: [lab], outdir: path.join(plain, 'dist'), repository: plain });
    expect(warnings).toEqual([
      `environment "lab": delivery.branch and delivery.revision were not checked against git: ${plain} is not in a git repository`,
    ]);
  }, 60_000);
});
