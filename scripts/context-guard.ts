/**
 * The kubeconfig context guard of the commands that change a cluster (`npm run deploy`,
 * `npm run lab-access`, `npm run lab-secrets`): a context whose name does not contain the environment's is refused unless
 * named explicitly. A module of its own, with no main: tsrun bundles an entry point with what it
 * imports, so importing another command's file would run that command too.
 */
import { spawnSync } from 'child_process';

/** Bad command line or a refused context: exit code 2, nothing was changed. */
export class UsageError extends Error {}

/**
 * The context to act on. An explicit --context is the user's decision; otherwise the current
 * context must name the environment: "lab" deploys to "kubernetes-admin@lab" but not to "prod-eu".
 */
export function chooseContext(
  env: string,
  current: string | undefined,
  explicit: string | undefined,
  action: ContextAction = { doing: `deploy "${env}" to`, rerun: `npm run deploy -- --env ${env}` },
): string {
  if (explicit !== undefined) {
    return explicit;
  }
  if (!current) {
    throw new UsageError(`the kubeconfig has no current context; name one with --context <name>`);
  }
  if (!current.includes(env)) {
    throw new UsageError(
      `refusing to ${action.doing} the current context "${current}": its name does not contain "${env}". ` +
        `Switch to the ${env} cluster's context (kubectl config use-context <name>), or confirm this one: ` +
        `${action.rerun} --context ${current}`,
    );
  }
  return current;
}

/** What a command guarded by chooseContext does, for its refusal: "deploy "lab" to", and how to run it again. */
export interface ContextAction {
  readonly doing: string;
  readonly rerun: string;
}


/**
 * The context to act on, asking kubectl (or $KUBECTL) for the current one unless --context named it:
 * chooseContext's decision, before the command contacts any cluster.
 */
export function guardedContext(env: string, explicit: string | undefined, action?: ContextAction): string {
  if (explicit !== undefined) {
    return explicit;
  }
  const bin = process.env.KUBECTL || 'kubectl';
  const current = spawnSync(bin, ['config', 'current-context'], { encoding: 'utf8' });
  if (current.error) {
    throw new Error(`cannot run ${bin}: ${current.error.message}`);
  }
  return chooseContext(env, current.status === 0 ? current.stdout.trim() : undefined, undefined, action);
}
