/** Helpers to walk Kubernetes objects: pod templates, containers, selectors. */
import { fieldPath } from './paths';

export interface PodTemplate {
  /** The pod's spec. */
  readonly spec: any;
  /** The pod's metadata (labels, annotations). */
  readonly metadata: any;
  /** Field path of the spec, e.g. spec.template.spec or spec.jobTemplate.spec.template.spec. */
  readonly specPath: string;
  /** Field path of the metadata. */
  readonly metadataPath: string;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];

/** The pod template of a workload (or the pod itself), undefined for other kinds. */
export function podTemplateOf(object: any): PodTemplate | undefined {
  switch (object?.kind) {
    case 'Pod':
      return { spec: object.spec ?? {}, metadata: object.metadata ?? {}, specPath: 'spec', metadataPath: 'metadata' };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return {
        spec: object.spec?.template?.spec ?? {},
        metadata: object.spec?.template?.metadata ?? {},
        specPath: 'spec.template.spec',
        metadataPath: 'spec.template.metadata',
      };
    case 'CronJob':
      return {
        spec: object.spec?.jobTemplate?.spec?.template?.spec ?? {},
        metadata: object.spec?.jobTemplate?.spec?.template?.metadata ?? {},
        specPath: 'spec.jobTemplate.spec.template.spec',
        metadataPath: 'spec.jobTemplate.spec.template.metadata',
      };
    default:
      return undefined;
  }
}

export interface ContainerRef {
  readonly container: any;
  readonly path: string;
  /** 'containers' | 'initContainers' | 'ephemeralContainers' */
  readonly list: string;
}

/** Every container of a pod spec with its field path; init and ephemeral containers included. */
export function containersOf(template: PodTemplate): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    const items = template.spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((container: any, i: number) =>
      out.push({ container, list, path: fieldPath(template.specPath, list, i) }),
    );
  }
  return out;
}

/** Does a label selector (matchLabels + matchExpressions) select these labels? */
export function selectorMatches(selector: any, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const actual = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (actual[key] !== value) return false;
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(actual, expression.key);
    const values: string[] = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(actual[expression.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(actual[expression.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service selector is a plain map; every pair must be present. An empty map selects nothing here. */
export function mapSelectorMatches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return selectorMatches({ matchLabels: selector }, labels);
}

/** Namespaces every cluster has and this project does not own. */
export const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

/** Kinds that live outside namespaces (the ones we check). */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'RuntimeClass',
  'PriorityClass',
  'IngressClass',
  'ClusterIssuer',
  'ClusterSecretStore',
]);

export function isNamespaced(object: any): boolean {
  return !CLUSTER_SCOPED_KINDS.has(object?.kind);
}

/** The namespace an object lands in: cdk8s output always sets it for namespaced kinds we emit; default otherwise. */
export function namespaceOf(object: any): string | undefined {
  if (!isNamespaced(object)) return undefined;
  return object?.metadata?.namespace ?? 'default';
}
