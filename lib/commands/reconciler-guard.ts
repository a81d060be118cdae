/**
 * `npm run deploy` refuses a cluster whose objects a reconciler delivers: Flux or Argo CD applies
 * what git says again at its next run, so a deploy from a laptop and the reconciler would undo each
 * other's changes (and each would prune what the other applied). Before anything is applied, deploy
 * lists the Flux Kustomizations and Argo CD Applications of this project (labelled
 * app.kubernetes.io/part-of=lab-to-prod, as dist/<env>-delivery/ renders them) in every namespace,
 * and refuses while one of them is active, naming each and how to go on: pause it (a suspended Flux
 * Kustomization, an Argo CD Application without automated sync, applies nothing), or deploy anyway
 * with --despite-reconciler. A cluster whose API server does not serve a kind has none of it.
 * A module of its own, with no main: deploy.ts imports it, and its test needs no cluster.
 */
import { ClusterRefused } from './context-guard';

/** The flag that deploys although a reconciler delivers to the cluster. */
export const DESPITE_RECONCILER_FLAG = '--despite-reconciler';

/** The label of every object this project renders, its delivery objects included. */
const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=lab-to-prod';

/** The reconcilers' kinds that deliver dist/<env>/, as kubectl names them. */
export const RECONCILER_RESOURCES = [
  { resource: 'kustomizations.kustomize.toolkit.fluxcd.io', kind: 'Kustomization', engine: 'Flux' },
  { resource: 'applications.argoproj.io', kind: 'Application', engine: 'Argo CD' },
] as const;

/** What kubectl said for one `get`: its exit status and output. */
export interface KubectlResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A reconciler's object found in the cluster. */
export interface ReconcilerObject {
  readonly engine: 'Flux' | 'Argo CD';
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Whether it applies anything now: a Flux Kustomization not suspended, an Argo CD Application with automated sync. */
  readonly active: boolean;
}

interface Listed {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly suspend?: boolean; readonly syncPolicy?: { readonly automated?: unknown } };
}

/** The kubectl arguments that list one reconciler kind's objects of this project. */
export function listArgs(resource: string): string[] {
  return ['get', resource, '--all-namespaces', '-l', PART_OF_SELECTOR, '-o', 'json'];
}

/**
 * The reconciler objects in kubectl's answers, one answer per entry of RECONCILER_RESOURCES, in its
 * order. An API server that does not serve the kind ("the server doesn't have a resource type") has
 * none; any other failure is an error: deploy cannot tell whether a reconciler is there.
 */
export function reconcilerObjects(results: readonly KubectlResult[]): ReconcilerObject[] {
  return RECONCILER_RESOURCES.flatMap(({ resource, kind, engine }, i): ReconcilerObject[] => {
    const result = results[i];
    if (result.status !== 0) {
      if (/doesn't have a resource type/.test(result.stderr)) return [];
      throw new Error(
        `listing ${resource} labelled ${PART_OF_SELECTOR} failed (exit ${result.status}), so deploy cannot tell ` +
          `whether ${engine} delivers to this cluster: ${result.stderr.trim()}`,
      );
    }
    const items = (JSON.parse(result.stdout) as { items?: Listed[] }).items ?? [];
    return items.map((o) => ({
      engine,
      kind,
      namespace: o.metadata?.namespace ?? '',
      name: o.metadata?.name ?? '',
      active: engine === 'Flux' ? o.spec?.suspend !== true : o.spec?.syncPolicy?.automated != null,
    }));
  });
}

/** How to pause one object, as its engine's own CLI does it. */
function pauseCommand(o: ReconcilerObject): string {
  return o.engine === 'Flux'
    ? `flux suspend kustomization ${o.name} -n ${o.namespace}`
    : `argocd app set ${o.namespace}/${o.name} --sync-policy none`;
}

/**
 * Refuses (exit 2) while an active reconciler object delivers to the cluster, unless deploy was told
 * --despite-reconciler. Returns the lines to log: the paused ones, or the active ones deployed over.
 */
export function checkNoActiveReconciler(
  envName: string,
  context: string,
  found: readonly ReconcilerObject[],
  despite: boolean,
): string[] {
  const active = found.filter((o) => o.active);
  const describe = (o: ReconcilerObject) => `${o.engine} ${o.kind} ${o.namespace}/${o.name}`;
  if (active.length > 0 && !despite) {
    throw new ClusterRefused(
      `refusing to deploy "${envName}" to context "${context}": a reconciler delivers to that cluster and would ` +
        `undo this deploy, and this deploy its work:\n${active.map((o) => `  ${describe(o)}`).join('\n')}\n` +
        'Change it through git instead (commit, merge; `npm run promote` for production), or pause it first:\n' +
        `${active.map((o) => `  ${pauseCommand(o)}`).join('\n')}\n` +
        `or deploy anyway with ${DESPITE_RECONCILER_FLAG} (it will apply git's revision again at its next run).`,
    );
  }
  return [
    ...found.filter((o) => !o.active).map((o) => `  ${describe(o)} is paused: it applies nothing until resumed`),
    ...active.map((o) => `  ${describe(o)} is active: deploying anyway (${DESPITE_RECONCILER_FLAG})`),
  ];
}
