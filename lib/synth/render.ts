import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { buildEnvironment } from './app';
import { AddonRendering, renderAddons } from '../addons/render';
import { joinDocuments } from '../addons/upstream';
import { addonFileNames } from '../addons/waves';
import { nodeUserDataFiles } from '../bootstrap/cloud-init';
import { containerdFiles } from '../bootstrap/containerd';
import { renderDelivery } from '../delivery';
import { bootstrapFiles } from '../bootstrap/kubeadm';
import { Environment } from '../environment';
import { renderObject } from '../parts/escape-hatch';
import { useFastResolve } from '../../speed/fast-resolve';
import { KubeObject } from '../k8s/kube-object';
import { inConstruct } from '../k8s/validation';
import { yamlDocuments } from '../k8s/yaml-output';
import { environmentReadme } from '../review/readme';

/** One rendered Kubernetes object, with where it came from. */
export interface RenderedObject {
  /** The file it is written to, relative to dist/<env>/: `10-web.yaml`. */
  readonly file: string;
  /** The construct that produced it: `lab/web/Deployment`. */
  readonly constructPath: string;
  /** The object as it appears in the YAML. */
  readonly object: KubeObject;
}

/** One add-on's objects as rendered into its file (and its own custom resources into a second one). */
export interface RenderedAddonFile {
  /** `01-metallb.yaml`: 0<wave>-<name>.yaml (lib/addons/waves.ts). */
  readonly file: string;
  /**
   * `03-aws-load-balancer-controller-resources.yaml`: the objects of kinds its own CRDs define, applied
   * in the wave after its own; undefined if it has none.
   */
  readonly resourcesFile?: string;
  readonly name: string;
  readonly version: string;
  readonly objects: readonly KubeObject[];
  /** What resourcesFile holds; empty if there is no such file. */
  readonly resources: readonly KubeObject[];
}

/** A rendered file: text, or bytes copied verbatim from upstream. */
export type FileContent = string | Buffer;

/** One environment, rendered: its objects and the text of each file under dist/<env>/ and beside it. */
export interface RenderedEnvironment {
  readonly env: Environment;
  readonly objects: readonly RenderedObject[];
  /**
   * The platform add-ons' objects (0<wave>-<addon>.yaml and 0<wave + 1>-<addon>-resources.yaml), apart from `objects`: they are upstream's, not
   * this project's, so the guardrail checks, the environments' comparison and the README's picture,
   * which are about the project's own objects, do not read them; their CRDs are in `files` only.
   */
  readonly addons: readonly RenderedAddonFile[];
  /**
   * File contents by path relative to dist/<env>/, in apply order: what kubectl applies, and README.md.
   * Text, but an add-on's CRD file is bytes (a Buffer): upstream's verbatim, megabytes long, and the
   * same Buffer in every environment of a synth, so it is never decoded nor encoded again.
   */
  readonly files: ReadonlyMap<string, FileContent>;
  /**
   * Files that build the nodes and must never reach kubectl (kubeadm's configuration, the nodes'
   * container runtime and cloud-init user-data), by path relative to dist/<env>-bootstrap/; empty
   * where the provider builds the cluster.
   */
  readonly bootstrapFiles: ReadonlyMap<string, string>;
  /**
   * The reconciler's objects and each layer's kustomization (lib/delivery/), by path relative to
   * dist/<env>-delivery/: what delivers dist/<env>/ from git.
   */
  readonly deliveryFiles: ReadonlyMap<string, string>;
  /**
   * The reconciler's objects in deliveryFiles (Flux's or Argo CD's), apart from `objects`: they are
   * not applied with dist/<env>/ but bootstrap a cluster to apply it, and the guardrail checks (the
   * engine's CRD schema first) read them beside it.
   */
  readonly deliveryObjects: readonly RenderedObject[];
}

// Where each environment's bootstrap files go: review reads dist/ at a git ref too, and review is the
// lower layer, so the layout of dist/ is defined there and only re-exported here.
export { bootstrapFolder, deliveryFolder } from '../review/dist-layout';

/**
 * Kinds in the order `kubectl apply` must create them within one file: what others live in or
 * refer to comes first (after Helm's install order). Kinds not listed come after these, in the
 * order their constructs made them.
 */
const KIND_ORDER = [
  'Namespace',
  'PriorityClass',
  'StorageClass',
  'RuntimeClass',
  'ResourceQuota',
  'LimitRange',
  'NetworkPolicy',
  'ServiceAccount',
  'Secret',
  'ExternalSecret',
  'ConfigMap',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'PersistentVolumeClaim',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
  'Ingress',
];

function kindRank(kind: string): number {
  const rank = KIND_ORDER.indexOf(kind);
  return rank === -1 ? KIND_ORDER.length : rank;
}

/** Builds an environment's constructs (lib/synth/app.ts), validates them and renders every object. */
export function renderEnvironment(env: Environment): RenderedEnvironment {
  return renderChart(env, buildEnvironment(new App({ outdir: 'unused' }), env));
}

/**
 * Validates and renders an environment's chart, built by lib/synth/app.ts or, for the scale benchmark, by a
 * generated app of the same shape (one chart, the platform first, then one construct per workload).
 */
export function renderChart(env: Environment, chart: Chart): RenderedEnvironment {
  validateConstructs(chart);
  // cdk8s's resolve with less overhead per value, the same result (speed/fast-resolve.ts).
  useFastResolve();

  const objects: RenderedObject[] = [];
  const files = new Map<string, FileContent>();
  const addons = addonFiles(env, files);
  const parts = chart.node.children;
  const width = Math.max(2, String((parts.length - 1) * 10).length);
  parts.forEach((part, index) => {
    // The platform (the first part) is 05: after the add-ons' 00-<addon>-crds.yaml and 01- to 04- files
    // (lib/addons/waves.ts), whose controllers and CRDs its objects (pools, issuers, stores) need.
    const number = index === 0 ? 5 : index * 10;
    const file = `${String(number).padStart(width, '0')}-${part.node.id}.yaml`;
    const rendered = part.node
      .findAll()
      .filter((c): c is ApiObject => c instanceof ApiObject)
      .map((apiObject, order) => ({
        order,
        constructPath: apiObject.node.path,
        // Values cdk8s resolves only now (lazy ones) can throw too; name the object's construct.
        object: inConstruct(apiObject.node.path, () => renderObject(apiObject)),
      }))
      // A stable sort: same-kind objects keep the order their constructs made them in.
      .sort((a, b) => kindRank(a.object.kind as string) - kindRank(b.object.kind as string) || a.order - b.order);
    if (rendered.length === 0) {
      return;
    }
    for (const r of rendered) {
      objects.push({ file, constructPath: r.constructPath, object: r.object });
    }
    files.set(file, fileHeader(env, part) + yamlDocuments(rendered.map((r) => r.object)));
  });
  // The environment's picture next to its YAML (kubectl apply -f dist/<env>/ reads only *.yaml).
  files.set(
    'README.md',
    environmentReadme(
      env,
      objects.map((o) => o.object),
    ),
  );
  const bootstrap = new Map([...bootstrapFiles(env), ...containerdFiles(env), ...nodeUserDataFiles(env)]);
  const delivery = renderDelivery(env, files.keys());
  return {
    env,
    objects,
    addons,
    files,
    bootstrapFiles: bootstrap,
    deliveryFiles: delivery.files,
    deliveryObjects: delivery.objects,
  };
}

/**
 * The add-ons' files, first in apply order: every add-on's CustomResourceDefinitions in
 * 00-<addon>-crds.yaml, upstream's text as it is (never parsed: they change nothing of ours, and
 * prometheus-operator's alone are 4 MB), then its other objects in 0<wave>-<addon>.yaml (wave 1
 * unless it needs another add-on running: lib/addons/waves.ts), its Namespace first and the rest in
 * the kind order above, patched with the environment's settings (lib/addons/), and the objects of
 * its own CRDs' kinds in 0<wave + 1>-<addon>-resources.yaml, applied once its controller answers.
 * A reviewer diffs these files against addons/<addon>/upstream.yaml to see ours.
 */
function addonFiles(env: Environment, files: Map<string, FileContent>): RenderedAddonFile[] {
  const rendered = renderAddons(env);
  for (const addon of rendered.filter((a) => a.crds.length > 0)) {
    files.set(`00-${addon.name}-crds.yaml`, crdFile(addon));
  }
  const inKindOrder = (objects: readonly KubeObject[]) =>
    objects
      .map((object, order) => ({ object, order }))
      .sort((a, b) => kindRank(a.object.kind as string) - kindRank(b.object.kind as string) || a.order - b.order)
      .map((o) => o.object);
  const result = rendered.map((addon) => {
    const names = addonFileNames(addon.name, addon.wave, `environment "${env.name}"`);
    const objects = inKindOrder(addon.objects);
    files.set(
      names.objects,
      addonHeader(env, addon, "objects, with this environment's settings") + yamlDocuments(objects),
    );
    const resources = inKindOrder(addon.resources);
    if (resources.length > 0) {
      files.set(
        names.resources,
        addonHeader(env, addon, "objects of its own CRDs' kinds, applied once its controller answers") +
          yamlDocuments(resources),
      );
    }
    return {
      file: names.objects,
      ...(resources.length > 0 ? { resourcesFile: names.resources } : {}),
      name: addon.name,
      version: addon.version,
      objects,
      resources,
    };
  });
  // The files in name order (apply order) whatever the waves: the map's order is the folder's.
  const addonEntries = [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  files.clear();
  for (const [file, content] of addonEntries) files.set(file, content);
  return result;
}

const crdFiles = new Map<string, Buffer>();

/**
 * An add-on's CRD file: the same in every environment (CRDs are cluster-wide and take no setting),
 * so its bytes are put together once per process and every environment writes that one Buffer
 * (lib/synth/write-dist.ts stages it once and links it into the other environments' folders).
 */
function crdFile(addon: AddonRendering): Buffer {
  const key = `${addon.name} ${addon.version}`;
  let bytes = crdFiles.get(key);
  if (bytes === undefined) {
    const header =
      `# Rendered by lab-to-prod: the add-on ${addon.name} ${addon.version}'s CustomResourceDefinitions, verbatim\n` +
      `# from upstream's rendering, addons/${addon.name}/upstream.yaml (the same in every environment).\n` +
      '# Do not edit: run `npm run addons:refresh` to change the add-on, then `npm run synth`.\n';
    bytes = joinDocuments(addon.crds, Buffer.from(header));
    crdFiles.set(key, bytes);
  }
  return bytes;
}

function addonHeader(env: Environment, addon: AddonRendering, what: string): string {
  return (
    `# Rendered by lab-to-prod for the "${env.name}" environment: the add-on ${addon.name} ${addon.version}'s ${what}\n` +
    `# (upstream's rendering: addons/${addon.name}/upstream.yaml; settings: lib/addons/${addon.name}.ts).\n` +
    '# Do not edit: change the TypeScript and run `npm run synth`.\n'
  );
}

function fileHeader(env: Environment, part: IConstruct): string {
  return (
    `# Rendered by lab-to-prod for the "${env.name}" environment from the construct ${part.node.path}.\n` +
    '# Do not edit: change the TypeScript and run `npm run synth`.\n'
  );
}

/** Runs every construct's own validations (cdk8s-plus and ours), naming the construct path. */
function validateConstructs(root: IConstruct): void {
  const errors = root.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) {
    throw new Error(`validation failed:\n  ${errors.join('\n  ')}`);
  }
}
