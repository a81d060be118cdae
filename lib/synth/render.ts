import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { buildEnvironment } from './app';
import { nodeUserDataFiles } from '../bootstrap/cloud-init';
import { containerdFiles } from '../bootstrap/containerd';
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

/** One environment, rendered: its objects and the text of each file under dist/<env>/ and beside it. */
export interface RenderedEnvironment {
  readonly env: Environment;
  readonly objects: readonly RenderedObject[];
  /** File contents by path relative to dist/<env>/, in apply order: what kubectl applies, and README.md. */
  readonly files: ReadonlyMap<string, string>;
  /**
   * Files that build the nodes and must never reach kubectl (kubeadm's configuration, the nodes'
   * container runtime and cloud-init user-data), by path relative to dist/<env>-bootstrap/; empty
   * where the provider builds the cluster.
   */
  readonly bootstrapFiles: ReadonlyMap<string, string>;
}

// Where each environment's bootstrap files go: review reads dist/ at a git ref too, and review is the
// lower layer, so the layout of dist/ is defined there and only re-exported here.
export { bootstrapFolder } from '../review/dist-layout';

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
  const files = new Map<string, string>();
  const parts = chart.node.children;
  const width = Math.max(2, String((parts.length - 1) * 10).length);
  parts.forEach((part, index) => {
    const file = `${String(index * 10).padStart(width, '0')}-${part.node.id}.yaml`;
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
  return { env, objects, files, bootstrapFiles: bootstrap };
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
