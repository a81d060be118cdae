/**
 * The rules of an environment's `delivery` that span its fields, and the one that reads git: the
 * branch and the promoted commit must be the repository's own.
 */
import { execFileSync } from 'child_process';
import { Environment } from '../environment';
import { FieldProblem, Problems } from '../k8s/validation';

/**
 * The least interval the synth allows for Flux's polling and reconciling, in seconds. Flux's
 * Kustomization documents it ("The minimum value should be 60 seconds", kustomize-controller
 * docs/spec/v1/kustomizations.md, Interval). Its GitRepository documents none: its CRD takes any Go
 * duration (pattern `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`), and its recommended settings poll every
 * minute (`interval: 1m0s`, the same document's "Recommended settings"); a shorter poll asks the git
 * host for every branch's refs more often than a commit can be reviewed and merged, and hosts
 * rate-limit clients that do. So one floor for both: 60 seconds.
 */
export const FLUX_MIN_INTERVAL_SECONDS = 60;

/** A Flux duration in seconds ("1m30s" is 90); undefined if it is not one (the schema reports it). */
export function durationSeconds(text: string): number | undefined {
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(text)) {
    return undefined;
  }
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const [, amount, , u] of text.matchAll(/([0-9]+(\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * unit[u];
  }
  return total;
}

/** The settings blocks of each engine, by the engine's name. */
const ENGINE_BLOCKS = { flux: 'flux', argocd: 'argocd' } as const;

/**
 * The rules between `delivery`'s fields; runs as a refinement, once the shape holds:
 * - the engine's own settings block is there, and the other engine's is not;
 * - Flux's intervals are at least FLUX_MIN_INTERVAL_SECONDS;
 * - an environment where only the reconciler writes (production) follows a promoted commit, never
 *   the branch's tip: its changes must have run in the lab first.
 */
export function checkDelivery(env: Environment, p: Problems): void {
  const delivery = env.delivery;
  for (const [engine, block] of Object.entries(ENGINE_BLOCKS)) {
    const value = delivery[block];
    if (engine === delivery.engine) {
      p.check(
        value !== undefined,
        `delivery.${block}`,
        undefined,
        `the settings of the engine "${engine}" (delivery.engine): ${
          engine === 'flux'
            ? "{ namespace: 'flux-system', pollInterval: '1m', reconcileInterval: '10m' }"
            : "{ namespace: 'argocd', project: 'lab-to-prod' }"
        }`,
        'Required value',
      );
    } else {
      p.check(
        value === undefined,
        `delivery.${block}`,
        value,
        `no ${block} settings: the environment's delivery.engine is "${delivery.engine}", ` +
          `whose settings are delivery.${ENGINE_BLOCKS[delivery.engine]}; remove this block or change the engine`,
      );
    }
  }
  if (delivery.engine === 'flux' && delivery.flux !== undefined) {
    for (const field of ['pollInterval', 'reconcileInterval'] as const) {
      const seconds = durationSeconds(delivery.flux[field]);
      p.check(
        seconds === undefined || seconds >= FLUX_MIN_INTERVAL_SECONDS,
        `delivery.flux.${field}`,
        delivery.flux[field],
        `at least "1m" (60 seconds): Flux documents 60 seconds as a Kustomization's least interval, ` +
          'and a GitRepository polled more often only loads the git host (lib/environments/validate-delivery.ts)',
      );
    }
  }
  p.check(
    !(delivery.reconcilerOnly && delivery.revision === 'tip'),
    'delivery.revision',
    delivery.revision,
    '"unpromoted" or a promoted commit, not "tip": delivery.reconcilerOnly is true (production), and ' +
      "production applies only a commit the lab has run (npm run promote writes it), never the branch's newest",
  );
}

/** What the git check found: problems that refuse the environment, or why it could not look. */
export interface GitCheck {
  readonly problems: readonly FieldProblem[];
  /** Set when nothing was checked: no git, no repository, or a shallow clone without the history. */
  readonly notChecked?: string;
}

function git(dir: string, args: readonly string[]): { ok: boolean; out: string; missing?: boolean } {
  try {
    const out = execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { ok: true, out: out.trim() };
  } catch (error) {
    return { ok: false, out: '', missing: (error as NodeJS.ErrnoException).code === 'ENOENT' };
  }
}

/**
 * The environment's branch and promoted commit against the git repository in `dir` (the one the
 * synth runs in, which is the one the cluster reads once pushed): the branch must exist there, as a
 * local branch or a remote-tracking one, and a promoted commit must be one of the branch's commits.
 * A revision that is not there would leave the cluster's source failing, and a commit that is not the
 * branch's was never reviewed onto it. Nothing is checked without git, outside a repository, or in
 * a shallow clone (CI's usual checkout), whose missing history would refuse good commits: `notChecked` says which.
 */
export function checkDeliveryInGit(env: Environment, dir: string): GitCheck {
  return deliveryGitChecker(dir)(env);
}

/**
 * checkDeliveryInGit for many environments of one repository (the synth's): what is the same for all
 * of them (is it a repository, a shallow one, which branches it has) is asked of git once.
 */
export function deliveryGitChecker(dir: string): (env: Environment) => GitCheck {
  let repository: { notChecked?: string; branchRefs: Map<string, string | undefined> } | undefined;
  const branchRef = (branch: string): string | undefined => {
    const known = repository!.branchRefs;
    if (!known.has(branch)) {
      const remotes = git(dir, ['for-each-ref', '--format=%(refname)', 'refs/remotes/'])
        .out.split('\n')
        .filter((ref) => /^refs\/remotes\/[^/]+\//.test(ref) && ref.replace(/^refs\/remotes\/[^/]+\//, '') === branch);
      known.set(
        branch,
        git(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]).ok ? `refs/heads/${branch}` : remotes[0],
      );
    }
    return known.get(branch);
  };
  return (env) => {
    if (repository === undefined) {
      const inside = git(dir, ['rev-parse', '--is-inside-work-tree']);
      repository = !inside.ok
        ? {
            notChecked: inside.missing ? 'git is not installed' : `${dir} is not in a git repository`,
            branchRefs: new Map(),
          }
        : git(dir, ['rev-parse', '--is-shallow-repository']).out === 'true'
          ? { notChecked: 'the repository is a shallow clone, without the history to look in', branchRefs: new Map() }
          : { branchRefs: new Map() };
    }
    if (repository.notChecked !== undefined) {
      return { problems: [], notChecked: repository.notChecked };
    }
    return checkBranchAndRevision(env, dir, branchRef(env.delivery.branch));
  };
}

function checkBranchAndRevision(env: Environment, dir: string, branchRef: string | undefined): GitCheck {
  const where = `environment "${env.name}"`;
  const { branch, revision } = env.delivery;
  const problems: FieldProblem[] = [];
  if (branchRef === undefined) {
    const known = git(dir, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/'])
      .out.split('\n')
      .filter(Boolean);
    problems.push({
      where,
      field: 'delivery.branch',
      value: branch,
      allowed: `a branch of this git repository (it has ${known.map((b) => `"${b}"`).join(', ') || 'none'}), the one reviewed commits land on`,
    });
    return { problems };
  }
  if (revision !== 'tip' && revision !== 'unpromoted') {
    if (!git(dir, ['cat-file', '-e', `${revision}^{commit}`]).ok) {
      problems.push({
        where,
        field: 'delivery.revision',
        value: revision,
        allowed: `a commit of this git repository's branch "${branch}" (none has this id here: fetch it, or promote another with npm run promote)`,
      });
    } else if (!git(dir, ['merge-base', '--is-ancestor', revision, branchRef]).ok) {
      problems.push({
        where,
        field: 'delivery.revision',
        value: revision,
        allowed: `a commit of the branch "${branch}" (delivery.branch): this commit is not in its history, so it was never reviewed onto it`,
      });
    }
  }
  return { problems };
}
