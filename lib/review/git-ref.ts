/**
 * Renders the project as it was at a git ref: checks the ref out into a temporary worktree (the
 * working tree is not touched), runs that checkout's own synth into a temporary folder, and reads
 * back every environment's objects. The worktree and the folders are removed whatever happens.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { bootstrapFolder, deliveryFolder } from './dist-layout';
import { KubeObject } from './kube';

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The ref a review compares against by default: where this branch left main. */
export function defaultBaseRef(repo: string): string {
  return git(repo, ['merge-base', 'HEAD', 'main']);
}

/** The commit a ref names, or an error naming the ref. */
export function resolveCommit(repo: string, ref: string): string {
  try {
    return git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new Error(`git ref "${ref}" does not name a commit in this repository`);
  }
}

/**
 * Reads a rendered output folder: environment name → its objects, from every *.yaml file. An
 * environment's bootstrap folder (dist/lab-bootstrap/: kubeadm's and the nodes' files) is not one,
 * nor its delivery folder (dist/lab-delivery/: the reconciler's objects).
 */
export function readRenderedDir(outdir: string): Map<string, KubeObject[]> {
  const result = new Map<string, KubeObject[]>();
  const folders = fs.readdirSync(outdir).sort();
  const bootstrapFolders = new Set([...folders.map(bootstrapFolder), ...folders.map(deliveryFolder)]);
  for (const env of folders) {
    const dir = path.join(outdir, env);
    if (bootstrapFolders.has(env) || !fs.statSync(dir).isDirectory()) {
      continue;
    }
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    result.set(
      env,
      files.flatMap((f) => Yaml.load(path.join(dir, f)).filter((o: unknown) => o !== null && o !== undefined)),
    );
  }
  return result;
}

/**
 * The packages a package-lock.json installs, one `path version` line each, sorted; undefined without
 * a lock file npm 7 or later wrote (its `packages`). The project's own entry ("") is left out: its
 * version and dependency ranges can change while every installed package stays the same.
 */
export function lockedPackages(lockText: string | undefined): string | undefined {
  if (lockText === undefined) {
    return undefined;
  }
  try {
    const packages: Record<string, { version?: string }> | undefined = JSON.parse(lockText).packages;
    if (packages === null || typeof packages !== 'object') {
      return undefined;
    }
    return Object.entries(packages)
      .filter(([where]) => where !== '')
      .map(([where, p]) => `${where} ${p.version ?? ''}`)
      .sort()
      .join('\n');
  } catch {
    return undefined;
  }
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * Gives the worktree its own node_modules with `npm ci` (from npm's cache where it can). Refused
 * with what to do when npm cannot: an offline machine without the packages in npm's cache.
 */
function installPackages(worktree: string, commit: string): void {
  const npm = spawnSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: worktree,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (npm.error === undefined && npm.status === 0) {
    return;
  }
  const said = (npm.error?.message ?? `${npm.stderr}`)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-4);
  throw new Error(
    `${commit.slice(0, 12)} needs its own packages (its package-lock.json names other ones than this checkout's), ` +
      `and \`npm ci\` in its temporary worktree failed:\n${said.map((l) => `    ${l}`).join('\n')}\n` +
      'Rerun where npm reaches its registry, or render that commit by hand in a worktree of its own: ' +
      `git worktree add <folder> ${commit.slice(0, 12)}, then in <folder>: npm ci && npm run synth -- --outdir <output folder>`,
  );
}

/**
 * Renders the commit in a temporary worktree with its own `main.ts`, and returns its environments'
 * objects. The worktree shares this checkout's node_modules (a symlink) when both lock the same
 * packages; otherwise it gets its own (`npm ci`), so that the commit runs with the packages it
 * was written for. `log` hears of the slow step, the install.
 */
export function renderAtCommit(
  repo: string,
  commit: string,
  log: (line: string) => void = () => undefined,
  scratchParent: string = os.tmpdir(),
): Map<string, KubeObject[]> {
  return synthAtCommit(repo, commit, { log, scratchParent }, ({ outdir }) => readRenderedDir(outdir));
}

/** Where synthAtCommit's reader finds the commit: its checkout (with its committed dist/) and its synth's output. */
export interface CommitRendering {
  readonly worktree: string;
  readonly outdir: string;
}

/**
 * Runs the commit's own synth (`main.ts --outdir <folder>`, plus `synthArgs`: `--env lab`, say) in a
 * temporary worktree, as renderAtCommit does, and returns what `read` makes of it while the worktree
 * and the output still exist (`npm run promote` compares the output with the commit's committed
 * dist/). A synth that fails (an environment that does not render, a guardrail check) throws with its
 * report.
 */
export function synthAtCommit<T>(
  repo: string,
  commit: string,
  options: {
    readonly log?: (line: string) => void;
    readonly scratchParent?: string;
    readonly synthArgs?: readonly string[];
  },
  read: (rendering: CommitRendering) => T,
): T {
  const log = options.log ?? (() => undefined);
  const scratch = fs.mkdtempSync(path.join(options.scratchParent ?? os.tmpdir(), 'lab-to-prod-diff-'));
  const worktree = path.join(scratch, 'tree');
  const outdir = path.join(scratch, 'out');
  let added = false;
  try {
    git(repo, ['worktree', 'add', '--detach', '--quiet', worktree, commit]);
    added = true;
    const ours = lockedPackages(readOrUndefined(() => fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')));
    const theirs = lockedPackages(readOrUndefined(() => git(repo, ['show', `${commit}:package-lock.json`])));
    const shared = ours !== undefined && ours === theirs;
    if (shared) {
      fs.symlinkSync(path.join(repo, 'node_modules'), path.join(worktree, 'node_modules'), 'dir');
    } else {
      log(`${commit.slice(0, 12)} locks other packages than this checkout: installing them in its worktree (npm ci)`);
      installPackages(worktree, commit);
    }
    try {
      // The commit's own runner: speed/tsrun.js, or bin/tsrun.js in commits from before it moved there.
      const runner = fs.existsSync(path.join(worktree, 'speed', 'tsrun.js')) ? 'speed/tsrun.js' : 'bin/tsrun.js';
      execFileSync(process.execPath, [runner, 'main.ts', '--outdir', outdir, ...(options.synthArgs ?? [])], {
        cwd: worktree,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error: any) {
      const stderr = String(error.stderr ?? error.message).trim();
      // A package the commit imports but node_modules here lacks: this checkout's install is older than its lock file.
      const missing = shared ? /Cannot find module '([^']+)'/.exec(stderr)?.[1] : undefined;
      if (missing !== undefined && !missing.startsWith('.') && !path.isAbsolute(missing)) {
        throw new Error(
          `the synth of ${commit.slice(0, 12)} needs the package "${missing}", which is not in node_modules here; ` +
            'run `npm ci` (node_modules is older than package-lock.json) and diff again',
          { cause: error },
        );
      }
      throw new Error(`the synth of ${commit.slice(0, 12)} failed:\n${stderr}`, { cause: error });
    }
    return read({ worktree, outdir });
  } finally {
    if (added) {
      try {
        git(repo, ['worktree', 'remove', '--force', worktree]);
      } catch {
        // Removed below with the scratch folder; prune forgets it.
      }
    }
    fs.rmSync(scratch, { recursive: true, force: true });
    try {
      git(repo, ['worktree', 'prune']);
    } catch {
      // Nothing to prune.
    }
  }
}
