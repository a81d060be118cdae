/**
 * Renders the project as it was at a git ref: checks the ref out into a temporary worktree (the
 * working tree is not touched), runs that checkout's own synth into a temporary folder, and reads
 * back every environment's objects. The worktree and the folders are removed whatever happens.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import { bootstrapFolder } from '../render';
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
 * environment's bootstrap folder (dist/lab-bootstrap/: kubeadm's and the nodes' files) is not one.
 */
export function readRenderedDir(outdir: string): Map<string, KubeObject[]> {
  const result = new Map<string, KubeObject[]>();
  const folders = fs.readdirSync(outdir).sort();
  const bootstrapFolders = new Set(folders.map(bootstrapFolder));
  for (const env of folders) {
    const dir = path.join(outdir, env);
    if (bootstrapFolders.has(env) || !fs.statSync(dir).isDirectory()) {
      continue;
    }
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    result.set(env, files.flatMap((f) => Yaml.load(path.join(dir, f)).filter((o: unknown) => o !== null && o !== undefined)));
  }
  return result;
}

/**
 * Renders the commit in a temporary worktree with its own `main.ts`, sharing this checkout's
 * node_modules (a symlink), and returns its environments' objects.
 */
export function renderAtCommit(repo: string, commit: string): Map<string, KubeObject[]> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-diff-'));
  const worktree = path.join(scratch, 'tree');
  const outdir = path.join(scratch, 'out');
  let added = false;
  try {
    git(repo, ['worktree', 'add', '--detach', '--quiet', worktree, commit]);
    added = true;
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(worktree, 'node_modules'), 'dir');
    try {
      execFileSync(process.execPath, ['bin/tsrun.js', 'main.ts', '--outdir', outdir], { cwd: worktree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error: any) {
      throw new Error(`the synth of ${commit.slice(0, 12)} failed:\n${String(error.stderr ?? error.message).trim()}`);
    }
    return readRenderedDir(outdir);
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
