/**
 * The steps of `npm run promote` (lib/commands/promote.ts runs them in order; no main here, so tests and
 * other commands can import it). Promotion moves a production environment to a commit of its branch
 * that the lab has already run: it rewrites the one `revision:` line of lib/environments/<env>.ts,
 * renders dist/<env>-delivery/ again, and commits exactly those files. The reconciler in production
 * follows that commit once it is reviewed and merged, so a change reaches production only through a
 * commit a reviewer approved (Flux's and Argo CD's own advice: the desired state of each cluster is in
 * git, and a pull request changes it).
 *
 * Every check that can refuse runs before anything is written, cheapest first; a refusal is a
 * PromoteRefused (exit 2) naming the environment, the flag or field, the value and what is allowed.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { deliveryLayers, layerObjectName } from '../delivery';
import { deliveryFolder } from '../review/dist-layout';
import { synthAtCommit } from '../review/git-ref';
import { CommandLineError, parseCommandLine } from './command-line';
import { parseConfirmedHash, UsageError } from './context-guard';

/** The environment whose cluster proves a revision: it follows its branch's tip. */
export const LAB_ENVIRONMENT = 'lab';

/** A promotion refused before anything was written: exit 2. */
export class PromoteRefused extends Error {}

export interface PromoteOptions {
  /** The environment to move (--env): one whose `delivery.revision` is not 'tip'. */
  readonly env: string;
  /** The git revision to move it to (--to): anything `git rev-parse` reads, resolved to a commit. */
  readonly to: string;
  /** The lab's kubeconfig context (--context). @default - the current context */
  readonly context?: string;
  /** The CA hash to accept, this once, instead of the lab's cluster.caCertHash (--confirm-cluster). */
  readonly confirmCluster?: string;
}

export const PROMOTE_USAGE = `usage: npm run promote -- --env <production environment> --to <git revision> [--context <lab context>] [--confirm-cluster <hash>]

Moves a production environment to a commit of its branch that the lab has run: rewrites the
revision line of lib/environments/<env>.ts, renders dist/<env>-delivery/ again, and commits those
files ("promote <env> to <short sha>"). Review and merge that commit; the reconciler follows it.

  --env              the environment to move; its delivery.revision is 'unpromoted' or a commit
  --to               a commit on the environment's branch (a sha, a tag, HEAD~2, ...)
  --context          the lab's kubeconfig context (default: the current one), read to prove that
                     every layer of the lab applied that commit; its cluster's CA must be the one
                     cluster.caCertHash in lib/environments/lab.ts records
  --confirm-cluster  sha256:<hex>: accept, this once, the lab cluster whose CA has this hash

Refused (exit 2, nothing written): an environment that follows its branch's tip; a revision git
cannot resolve, or not on the branch; one the lab has not applied; one whose committed dist/ is not
what its own code renders, or whose checks fail; one whose layers differ from the working tree's;
uncommitted changes in lib/environments/<env>.ts or dist/<env>-delivery/.`;

const OPTIONS = {
  env: { type: 'string' },
  to: { type: 'string' },
  context: { type: 'string' },
  'confirm-cluster': { type: 'string' },
} as const;

/** Reads the command line; `environments` are the names an --env may take. */
export function parsePromoteArgs(argv: readonly string[], environments: readonly string[]): PromoteOptions | 'help' {
  let parsed;
  try {
    parsed = parseCommandLine(argv, { options: OPTIONS });
  } catch (e) {
    throw e instanceof CommandLineError ? new UsageError(e.message) : e;
  }
  if (parsed === 'help') {
    return 'help';
  }
  const { env, to, context } = parsed.values;
  if (env === undefined) {
    throw new UsageError(`--env is required: one of ${environments.join(', ')}`);
  }
  if (!environments.includes(env)) {
    throw new PromoteRefused(`--env "${env}": not an environment; allowed: ${environments.join(', ')}`);
  }
  if (to === undefined) {
    throw new UsageError('--to is required: the git revision to promote (a sha, a tag, HEAD~2, ...)');
  }
  return { env, to, context, confirmCluster: parseConfirmedHash(parsed.values['confirm-cluster']) };
}

/**
 * Refuses an environment that follows its branch's tip (the lab: nothing to promote), and a commit
 * the environment already follows.
 */
export function checkPromotable(
  env: { readonly name: string; readonly delivery: { readonly revision: string; readonly branch: string } },
  to?: { readonly given: string; readonly commit: string },
): void {
  const file = `lib/environments/${env.name}.ts`;
  if (env.delivery.revision === 'tip') {
    throw new PromoteRefused(
      `environment "${env.name}": delivery.revision "tip" (${file}): it follows branch "${env.delivery.branch}"'s newest ` +
        "commit, so there is nothing to promote; allowed: an environment whose revision is 'unpromoted' or a commit (production)",
    );
  }
  if (to !== undefined && env.delivery.revision === to.commit) {
    throw new PromoteRefused(
      `environment "${env.name}": --to "${to.given}": delivery.revision in ${file} is already ${to.commit}; nothing to promote`,
    );
  }
}

/** The revision values an environment file may hold (spec of `delivery.revision` in lib/environment.ts). */
export const REVISION_LINE = /^(\s*)revision: '(tip|unpromoted|[0-9a-f]{40})',$/gm;

/** The environment file's text with its one `revision:` line set to the commit. */
export function rewriteRevisionLine(text: string, file: string, commit: string): string {
  const lines = [...text.matchAll(REVISION_LINE)];
  if (lines.length !== 1) {
    throw new PromoteRefused(
      `${file}: found ${lines.length} lines of the form "revision: '<tip|unpromoted|40 hex>',"; ` +
        'promote rewrites exactly one, so the file must hold exactly one (delivery.revision)',
    );
  }
  return text.replace(REVISION_LINE, (_line, indent: string) => `${indent}revision: '${commit}',`);
}

// ---------------------------------------------------------------------------------------------------
// git

export function git(repo: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function gitSucceeds(repo: string, args: readonly string[]): boolean {
  return spawnSync('git', args, { cwd: repo, stdio: 'ignore' }).status === 0;
}

/** The commit --to names, or a refusal naming it. */
export function resolveRevision(repo: string, env: string, to: string): string {
  const result = spawnSync('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${to}^{commit}`], {
    cwd: repo,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new PromoteRefused(
      `environment "${env}": --to "${to}": git cannot resolve it to a commit in this repository; ` +
        'allowed: a commit of the branch, by sha, tag or any name `git rev-parse` reads (fetch it first if it is only on the remote)',
    );
  }
  return result.stdout.trim();
}

/**
 * Refuses a commit that is not in the branch's history: production follows reviewed commits, and a
 * commit of the branch is one. The branch is the local one, or origin's when there is no local one.
 */
export function checkOnBranch(repo: string, env: string, to: string, commit: string, branch: string): void {
  const ref = [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`].find((r) =>
    gitSucceeds(repo, ['rev-parse', '--verify', '--quiet', r]),
  );
  if (ref === undefined) {
    throw new PromoteRefused(
      `environment "${env}": delivery.branch "${branch}": this repository has no such branch (nor origin/${branch}); ` +
        'fetch it, or correct delivery.branch',
    );
  }
  if (!gitSucceeds(repo, ['merge-base', '--is-ancestor', commit, ref])) {
    throw new PromoteRefused(
      `environment "${env}": --to "${to}" (${commit.slice(0, 12)}) is not on branch "${branch}" (delivery.branch); ` +
        `allowed: a commit in the history of ${ref}, i.e. one that was reviewed and merged`,
    );
  }
}

/** The files promote writes, as git paths. */
export function promotedPaths(env: string): string[] {
  return [`lib/environments/${env}.ts`, `dist/${deliveryFolder(env)}`];
}

/** Refuses uncommitted changes (staged, unstaged or untracked) in the files promote writes and commits. */
export function checkCleanFiles(repo: string, env: string): void {
  const status = git(repo, ['status', '--porcelain', '--untracked-files=all', '--', ...promotedPaths(env)]);
  if (status !== '') {
    throw new PromoteRefused(
      `environment "${env}": the working tree has uncommitted changes in the files promote writes:\n` +
        status
          .split('\n')
          .map((l) => `  ${l}`)
          .join('\n') +
        `\nallowed: none in ${promotedPaths(env).join(' or ')}; commit or remove them first`,
    );
  }
}

/** The files of a folder of the commit (`dist/prod-gke`), relative to it, sorted; none if it has no such folder. */
export function committedFiles(repo: string, commit: string, folder: string): string[] {
  const listed = git(repo, ['ls-tree', '-r', '--name-only', commit, '--', `${folder}/`]);
  return listed === ''
    ? []
    : listed
        .split('\n')
        .map((f) => f.slice(folder.length + 1))
        .sort();
}

// ---------------------------------------------------------------------------------------------------
// layers

/** The delivery layers of dist/<env>/'s files (lib/delivery/layers.ts), in order, each with its files. */
export function layersOf(files: readonly string[]): Map<string, readonly string[]> {
  return new Map(deliveryLayers(files).map((l) => [l.name, l.files]));
}

function describeLayers(layers: ReadonlyMap<string, readonly string[]>): string {
  return [...layers].map(([layer, files]) => `${layer}: ${files.join(', ')}`).join('; ') || 'none';
}

/**
 * Refuses a commit whose layers (the files of dist/<env>/) are not the working tree's: the delivery
 * objects promote renders here name one Kustomization (or Application) per layer and its files, and
 * the commit's dist/<env>-delivery/layers/ must hold each, or the reconciler would look for a layer
 * the commit does not have.
 */
export function checkSameLayers(
  env: string,
  commit: string,
  committed: { readonly manifests: readonly string[]; readonly layerFolders: readonly string[] },
  workingTree: readonly string[],
): void {
  const theirs = layersOf(committed.manifests);
  const ours = layersOf(workingTree);
  if (describeLayers(theirs) !== describeLayers(ours)) {
    throw new PromoteRefused(
      `environment "${env}": --to ${commit.slice(0, 12)}: its dist/${env}/ has other layers than the working tree's, ` +
        `so the delivery objects rendered here would not match it:\n  ${commit.slice(0, 12)}: ${describeLayers(theirs)}\n` +
        `  working tree: ${describeLayers(ours)}\nallowed: a commit with the same files in dist/${env}/; ` +
        'promote from a checkout of that commit (or of one with its layers)',
    );
  }
  const missing = [...theirs.keys()].filter((l) => !committed.layerFolders.includes(`${l}/kustomization.yaml`));
  if (missing.length > 0) {
    throw new PromoteRefused(
      `environment "${env}": --to ${commit.slice(0, 12)}: its dist/${env}-delivery/layers/ lacks ${missing
        .map((l) => `${l}/kustomization.yaml`)
        .join(', ')} (a commit from before delivery was rendered, or a partial synth); ` +
        'allowed: a commit whose dist/ was rendered with its delivery layers',
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// the lab's proof

interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** A snapshot of kustomize-controller's status.history (github.com/fluxcd/pkg/apis/meta, Snapshot). */
interface HistorySnapshot {
  readonly digest?: string;
  readonly lastReconciled?: string;
  readonly lastReconciledStatus?: string;
  readonly metadata?: { readonly revision?: string };
}

/** What the proof reads of a Flux Kustomization (kustomize.toolkit.fluxcd.io/v1). */
export interface FluxKustomization {
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly lastAppliedRevision?: string;
    readonly history?: readonly HistorySnapshot[];
  };
}

/**
 * The status kustomize-controller v1.9.5 records in a history snapshot after an apply, prune and
 * health check that all succeeded (internal/controller/kustomization_controller.go; meta's
 * ReconciliationSucceededReason). Failed attempts are recorded too, with other statuses.
 */
const SUCCEEDED = 'ReconciliationSucceeded';

/** One layer's verdict, for the refusal or the commit's body. */
export interface LayerProof {
  readonly layer: string;
  readonly kustomization: string;
  readonly proven: boolean;
  /** Proven by the commit itself (not by the same files at another): the lab has fetched and applied this commit. */
  readonly direct: boolean;
  /** What the Kustomization shows: the evidence, or why it is none. */
  readonly seen: string;
}

/** A GitRepository artifact's revision for a branch's commit (source-controller v1): "main@sha1:<sha>". */
export function branchRevision(branch: string, commit: string): string {
  return `${branch}@sha1:${commit}`;
}

/**
 * Decides, layer by layer, whether the lab has applied the commit, from the lab's Kustomizations as
 * `kubectl get kustomizations.kustomize.toolkit.fluxcd.io -o json` lists them. A layer's
 * Kustomization `lab-to-prod-<layer>` proves it when it is Ready=True having last applied the commit,
 * or when its status.history (kustomize-controller keeps the last five distinct results) holds a
 * successful reconciliation of it. kustomize-controller keys that history by the digest of the built
 * objects and moves a snapshot to the newest revision that built the same objects, so a layer the
 * later commits left unchanged names only the newest; `sameLayerContent(layer, otherCommit)` says
 * whether the lab's files of that layer are the same at another commit, and a layer whose same files
 * the lab applied successfully at that commit is proven too.
 */
export function proveInLab(
  items: readonly FluxKustomization[],
  request: {
    readonly layers: readonly string[];
    readonly branch: string;
    readonly commit: string;
    readonly sameLayerContent?: (layer: string, otherCommit: string) => boolean;
  },
): LayerProof[] {
  const wanted = branchRevision(request.branch, request.commit);
  const commitOf = (revision: string | undefined): string | undefined =>
    revision?.startsWith(`${request.branch}@sha1:`) ? revision.slice(`${request.branch}@sha1:`.length) : undefined;
  return request.layers.map((layer): LayerProof => {
    const name = layerObjectName(layer);
    const item = items.find((k) => k.metadata.name === name);
    if (item === undefined) {
      return { layer, kustomization: name, proven: false, direct: false, seen: 'no such Kustomization in the lab' };
    }
    const status = item.status ?? {};
    const ready = (status.conditions ?? []).find((c) => c.type === 'Ready');
    const isReady = ready?.status === 'True';
    const succeeded = (status.history ?? []).filter((h) => h.lastReconciledStatus === SUCCEEDED);
    const readyText = ready ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'no Ready condition';
    const seen = `${readyText}, last applied ${status.lastAppliedRevision || 'nothing'}${
      succeeded.length > 0
        ? `, succeeded in its history: ${succeeded.map((h) => h.metadata?.revision ?? '(no revision)').join(', ')}`
        : ''
    }`;
    if (isReady && status.lastAppliedRevision === wanted) {
      return { layer, kustomization: name, proven: true, direct: true, seen: `Ready, last applied ${wanted}` };
    }
    const inHistory = succeeded.find((h) => h.metadata?.revision === wanted);
    if (inHistory !== undefined) {
      return {
        layer,
        kustomization: name,
        proven: true,
        direct: true,
        seen: `applied ${wanted} successfully (history, last at ${inHistory.lastReconciled ?? 'an unrecorded time'})`,
      };
    }
    if (request.sameLayerContent !== undefined) {
      const candidates = [
        ...(isReady ? [status.lastAppliedRevision] : []),
        ...succeeded.map((h) => h.metadata?.revision),
      ];
      for (const revision of candidates) {
        const other = commitOf(revision);
        if (other !== undefined && other !== request.commit && request.sameLayerContent(layer, other)) {
          return {
            layer,
            kustomization: name,
            proven: true,
            direct: false,
            seen: `applied ${revision} successfully, whose files of this layer are ${request.commit.slice(0, 12)}'s`,
          };
        }
      }
    }
    return { layer, kustomization: name, proven: false, direct: false, seen };
  });
}

/**
 * Whether the lab's files of a layer are the same at two commits: the same names, and
 * `git diff` finds no change in them.
 */
export function sameLabLayerAt(repo: string, commit: string): (layer: string, otherCommit: string) => boolean {
  const folder = `dist/${LAB_ENVIRONMENT}`;
  const ours = layersOf(committedFiles(repo, commit, folder));
  return (layer, otherCommit) => {
    if (!gitSucceeds(repo, ['cat-file', '-e', `${otherCommit}^{commit}`])) return false;
    const theirs = layersOf(committedFiles(repo, otherCommit, folder));
    const files = ours.get(layer) ?? [];
    if (files.length === 0 || (theirs.get(layer) ?? []).join('\n') !== files.join('\n')) return false;
    return gitSucceeds(repo, ['diff', '--quiet', otherCommit, commit, '--', ...files.map((f) => `${folder}/${f}`)]);
  };
}

/** Refuses unless every layer is proven; the message lists what each Kustomization shows. */
export function checkProven(
  env: string,
  to: string,
  commit: string,
  where: string,
  proofs: readonly LayerProof[],
): void {
  // At least one layer must name the commit itself: the same files seen at another commit say what
  // ran, but only a layer that applied this commit says the lab fetched it at all.
  if (proofs.length > 0 && proofs.every((p) => p.proven) && proofs.some((p) => p.direct)) return;
  const why =
    proofs.length > 0 && proofs.every((p) => p.proven)
      ? 'no layer of the lab applied it itself (each ran the same files at another commit only)'
      : 'the lab has not run it';
  throw new PromoteRefused(
    `environment "${env}": --to "${to}" (${commit.slice(0, 12)}): ${why}; ${where}:\n` +
      proofs.map((p) => `  ${p.kustomization}: ${p.proven ? 'proven: ' : 'NOT proven: '}${p.seen}`).join('\n') +
      '\nallowed: a commit every lab layer applied successfully (Ready with it as its last applied revision, or a ' +
      'successful entry of it in status.history; a layer whose files later commits left unchanged may show the ' +
      'newest of them), at least one layer naming the commit itself; wait for the lab to reconcile it ' +
      '(flux get kustomizations), then promote',
  );
}

// ---------------------------------------------------------------------------------------------------
// the commit's own render

/** Every file under a folder, relative to it, sorted; none if there is no folder. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/**
 * How a committed folder differs from what the synth rendered into another, one line per file
 * (the text is not printed: a hand edit may hold a value that must not be).
 */
export function folderDifferences(label: string, committed: string, rendered: string): string[] {
  const ours = filesUnder(committed);
  const theirs = filesUnder(rendered);
  const problems: string[] = [];
  for (const file of theirs) {
    if (!ours.includes(file)) {
      problems.push(`${label}/${file}: missing; the synth renders it`);
    } else if (!fs.readFileSync(path.join(committed, file)).equals(fs.readFileSync(path.join(rendered, file)))) {
      problems.push(`${label}/${file}: differs from what the synth renders`);
    }
  }
  for (const file of ours.filter((f) => !theirs.includes(f))) {
    problems.push(`${label}/${file}: not rendered by the synth`);
  }
  return problems;
}

/**
 * Renders the commit with its own code in a temporary worktree (as `npm run diff` does: its synth
 * runs every check) and refuses it when the synth fails (checks fail) or when its committed
 * dist/<env>/, dist/<env>-delivery/layers/ or dist/lab/ is not what that synth renders (not fresh).
 */
export function checkRendersAtCommit(
  repo: string,
  env: string,
  commit: string,
  log: (line: string) => void = () => undefined,
): void {
  const folders = [`${env}`, `${deliveryFolder(env)}/layers`, LAB_ENVIRONMENT];
  let differences: string[];
  try {
    differences = synthAtCommit(
      repo,
      commit,
      { log, synthArgs: ['--env', env, '--env', LAB_ENVIRONMENT] },
      ({ worktree, outdir }) =>
        [...new Set(folders)].flatMap((f) =>
          folderDifferences(`dist/${f}`, path.join(worktree, 'dist', f), path.join(outdir, f)),
        ),
    );
  } catch (e) {
    throw new PromoteRefused(
      `environment "${env}": --to ${commit.slice(0, 12)}: its own code does not render it, so its checks fail:\n` +
        `${(e as Error).message}\nallowed: a commit whose synth passes (\`npm run synth\` at that commit)`,
    );
  }
  if (differences.length > 0) {
    throw new PromoteRefused(
      `environment "${env}": --to ${commit.slice(0, 12)}: its committed dist/ is not what its own code renders ` +
        `(not fresh):\n  ${differences.join('\n  ')}\nallowed: a commit whose dist/ was rendered by \`npm run synth\` ` +
        'from its own source; the lab ran what is committed, which is not what its source says',
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// writing and committing

/**
 * Renders the environment of the project at `root` with its current files (the rewritten revision),
 * by running the project's own synth in a child process (this process has the old environment file
 * loaded), into a temporary folder, and puts its dist/<env>-delivery/ in place. dist/<env>/ is left
 * as it is; it must be what the new render holds, or the promotion is refused (the working tree's
 * dist/ is stale: render and commit it first).
 */
export function renderDelivery(root: string, env: string): void {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-promote-'));
  try {
    const synth = spawnSync(process.execPath, ['speed/tsrun.js', 'main.ts', '--env', env, '--outdir', outdir], {
      cwd: root,
      encoding: 'utf8',
    });
    if (synth.error !== undefined || synth.status !== 0) {
      throw new PromoteRefused(
        `environment "${env}": the synth of the working tree with the new revision failed:\n` +
          `${(synth.error?.message ?? synth.stderr).trim()}`,
      );
    }
    const stale = folderDifferences(`dist/${env}`, path.join(root, 'dist', env), path.join(outdir, env));
    if (stale.length > 0) {
      throw new PromoteRefused(
        `environment "${env}": the working tree's dist/${env}/ is not what its source renders:\n  ${stale.join('\n  ')}\n` +
          `allowed: a fresh dist/; run \`npm run synth -- --env ${env}\`, commit it, then promote`,
      );
    }
    const target = path.join(root, 'dist', deliveryFolder(env));
    fs.rmSync(target, { recursive: true, force: true });
    fs.cpSync(path.join(outdir, deliveryFolder(env)), target, { recursive: true });
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Writes the promotion and commits exactly lib/environments/<env>.ts and dist/<env>-delivery/ (other
 * staged changes stay staged, uncommitted). If the render is refused, the environment file is put back
 * as it was. Returns the new commit's sha.
 */
export function writePromotion(
  root: string,
  env: string,
  commit: string,
  evidence: readonly string[],
): { readonly commit: string; readonly message: string } {
  const file = path.join(root, 'lib', 'environments', `${env}.ts`);
  const before = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, rewriteRevisionLine(before, `lib/environments/${env}.ts`, commit));
  try {
    renderDelivery(root, env);
  } catch (e) {
    fs.writeFileSync(file, before);
    throw e;
  }
  const subject = `promote ${env} to ${commit.slice(0, 12)}`;
  const message = `${subject}\n\n${evidence.join('\n')}\n`;
  git(root, ['add', '--all', '--', ...promotedPaths(env)]);
  git(root, ['commit', '--quiet', '-m', message, '--', ...promotedPaths(env)]);
  return { commit: git(root, ['rev-parse', 'HEAD']), message };
}
