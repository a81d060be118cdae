/**
 * `npm run diff [-- <git-ref>]`: the rendered YAML difference between the working tree and a git ref
 * (default: the merge base with main), per environment and object, so a reviewer sees what a code
 * change does to dist/ without reading it by hand. The working tree is rendered in memory; the ref
 * is rendered by its own code in a temporary worktree, which is always removed; with its own
 * packages (`npm ci` there) when its package-lock.json names other ones than this checkout's.
 */
import { environmentNames, selectEnvironments } from '../environments';
import { readCommandLine } from './command-line';
import { renderEnvironment } from '../synth/render';
import { defaultBaseRef, renderAtCommit, resolveCommit } from '../review/git-ref';
import { diffEnvironments, formatObjectDiff } from '../review/object-diff';

const USAGE = `usage: npm run diff -- [<git ref>]

The rendered YAML difference between the working tree and a git ref (a commit, branch or tag;
default: the merge base with main), per environment and object. The ref is rendered by its own
code in a temporary worktree; if its package-lock.json differs from this checkout's, the worktree
gets its own packages first (npm ci, which needs the npm registry or npm's cache).`;

function main(): void {
  const { positionals } = readCommandLine('diff', USAGE, { allowPositionals: true, options: {} });
  if (positionals.length > 1) {
    throw new Error(`name at most one git ref (got ${positionals.join(' ')})`);
  }
  const repo = process.cwd();
  const ref = positionals[0] ?? defaultBaseRef(repo);
  const commit = resolveCommit(repo, ref);
  const now = new Map(
    selectEnvironments(environmentNames())
      .map(renderEnvironment)
      .map((r) => [r.env.name, r.objects.map((o) => o.object)]),
  );
  const before = renderAtCommit(repo, commit, (line) => console.error(`diff: ${line}`));
  const name = positionals[0] ? `${ref} (${commit.slice(0, 12)})` : `the merge base with main (${commit.slice(0, 12)})`;
  process.stdout.write(formatObjectDiff(name, diffEnvironments(before, now)));
}

try {
  main();
} catch (error) {
  console.error(`diff failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
