/**
 * Small, generic readers over rendered Kubernetes objects (plain JSON, as written to dist/), shared
 * by the review tools. They know the shape of the API, not this project's objects, so that a new
 * workload or platform object is reviewed without changing them.
 */

import { KubeObject } from '../k8s/kube-object';

export type { KubeObject };

/** `Deployment web/web`, or `StorageClass fast` for a cluster-scoped object: what a reviewer reads. */
export function objectLabel(o: KubeObject): string {
  const ns = o.metadata?.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ''}${o.metadata?.name}`;
}

/**
 * The identity of an object within one environment: its API group, kind, namespace and name, which
 * is what `kubectl apply` matches on too. The version is left out: a move from v1beta1 to v1 is the
 * same object changing.
 */
export function objectKey(o: KubeObject): string {
  return `${apiGroup(o)}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
}

/** The API group of an object: '' for the core group, `apps`, `metallb.io`... */
export function apiGroup(o: KubeObject): string {
  const apiVersion: string = o.apiVersion ?? '';
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
}

/** A locale-independent string comparison, so output is the same on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Pods inside workloads

/** Where the pod template sits in each workload kind, as a path of fields. */
const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The kinds that run pods, in the order the review tables list them. */
export const WORKLOAD_KINDS: readonly string[] = [...Object.keys(POD_TEMPLATE_PATHS), 'Pod'];

/**
 * The dotted path to the pod template of a workload kind (`spec.template`), '' for a Pod itself
 * (whose metadata and spec are the object's own), or undefined for a kind that runs no pods.
 */
export function podTemplatePath(kind: string): string | undefined {
  if (kind === 'Pod') {
    return '';
  }
  return POD_TEMPLATE_PATHS[kind]?.join('.');
}

/** The pod template ({metadata, spec}) of a workload, or undefined if the object runs no pods. */
export function podTemplate(o: KubeObject): { metadata?: KubeObject; spec: KubeObject } | undefined {
  if (o.kind === 'Pod') {
    return { metadata: o.metadata, spec: o.spec ?? {} };
  }
  const path = POD_TEMPLATE_PATHS[o.kind];
  if (!path) {
    return undefined;
  }
  let node: any = o;
  for (const key of path) {
    node = node?.[key];
  }
  return node?.spec ? node : undefined;
}

/** A container of a pod, with whether it is an init container (and a sidecar: restartPolicy Always). */
export interface PodContainer {
  readonly container: KubeObject;
  readonly init: boolean;
  readonly sidecar: boolean;
}

/** Init containers first (they start first), then the app containers. Ephemeral containers are left out. */
export function podContainers(spec: KubeObject): PodContainer[] {
  const init = (spec.initContainers ?? []).map((container: KubeObject) => ({
    container,
    init: true,
    sidecar: container.restartPolicy === 'Always',
  }));
  const app = (spec.containers ?? []).map((container: KubeObject) => ({ container, init: false, sidecar: false }));
  return [...init, ...app];
}

/** A workload (an object that runs pods) with its label and pod template, as the review tables list it. */
export interface Workload {
  readonly object: KubeObject;
  /** `Deployment web/web`: objectLabel. */
  readonly label: string;
  readonly template: { metadata?: KubeObject; spec: KubeObject };
}

/**
 * The objects that run pods, ordered for output by their labels: by kind, then namespace, then name.
 * Each label is made once and only the workloads are sorted (sorting every object by a label made at
 * each comparison cost more, for thousands of objects, than the tables themselves).
 */
export function sortedWorkloads(objects: readonly KubeObject[]): Workload[] {
  const workloads: Workload[] = [];
  for (const object of objects) {
    const template = podTemplate(object);
    if (template) {
      workloads.push({ object, label: objectLabel(object), template });
    }
  }
  // Array.prototype.sort is stable: workloads with the same label keep their order, as they did when
  // every object was sorted and the workloads picked afterwards.
  return workloads.sort((a, b) => compareText(a.label, b.label));
}

// ---------------------------------------------------------------------------------------------
// Label selectors

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[];
}

/**
 * Whether a label selector selects an object with these labels, by the API's rules: every
 * matchLabels pair and every expression must hold; an empty selector selects everything.
 */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!selector) {
    return false;
  }
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (have[key] !== value) {
      return false;
    }
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, key);
    const ok =
      operator === 'In'
        ? present && values.includes(have[key])
        : operator === 'NotIn'
          ? !present || !values.includes(have[key])
          : operator === 'Exists'
            ? present
            : operator === 'DoesNotExist'
              ? !present
              : false;
    if (!ok) {
      return false;
    }
  }
  return true;
}

/** `app=web,tier in (a,b)`: a selector as kubectl prints it. */
export function selectorText(selector: LabelSelector | undefined): string {
  if (!selector) {
    return '(none)';
  }
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    parts.push(
      operator === 'Exists'
        ? key
        : operator === 'DoesNotExist'
          ? `!${key}`
          : `${key} ${operator.toLowerCase()} (${values.join(',')})`,
    );
  }
  return parts.length === 0 ? '(all)' : parts.join(',');
}

const namespaceIndexes = new WeakMap<readonly KubeObject[], Map<string | undefined, KubeObject[]>>();

/**
 * The objects of one namespace (undefined: cluster-scoped ones). The index is built once per list, so
 * looking up what a workload relates to costs the size of its namespace, not of the environment:
 * the README of an environment with thousands of workloads stays linear.
 */
export function inNamespace(objects: readonly KubeObject[], namespace: string | undefined): readonly KubeObject[] {
  let index = namespaceIndexes.get(objects);
  if (!index) {
    index = new Map();
    for (const o of objects) {
      const ns: string | undefined = o.metadata?.namespace;
      const group = index.get(ns);
      if (group) {
        group.push(o);
      } else {
        index.set(ns, [o]);
      }
    }
    namespaceIndexes.set(objects, index);
  }
  return index.get(namespace) ?? [];
}
