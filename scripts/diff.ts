/**
 * `npm run diff [-- <git-ref>]`: the rendered YAML difference between the working tree and a git ref
 * (default: the merge base with main), per environment and object, so a reviewer sees what a code
 * change does to dist/ without reading it by hand. The working tree is rendered in memory; the ref
 * is rendered by its own code in a temporary worktree, which is always removed.
 */
import { parseArgs } from 'util';
import { ENVIRONMENT_NAMES } from '../lib/environment';
import { selectEnvironments } from '../lib/environments';
import { renderEnvironment } from '../lib/render';
import { defaultBaseRef, renderAtCommit, resolveCommit } from '../lib/review/git-ref';
import { diffEnvironments, formatObjectDiff } from '../lib/review/object-diff';

function main(): void {
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  if (positionals.length > 1) {
    throw new Error(`name at most one git ref (got ${positionals.join(' ')})`);
  }
  const repo = process.cwd();
  const ref = positionals[0] ?? defaultBaseRef(repo);
  const commit = resolveCommit(repo, ref);
  const now = new Map(selectEnvironments([...ENVIRONMENT_NAMES]).map(renderEnvironment)
    .map((r) => [r.env.name, r.objects.map((o) => o.object)]));
  const before = renderAtCommit(repo, commit);
  const name = positionals[0] ? `${ref} (${commit.slice(0, 12)})` : `the merge base with main (${commit.slice(0, 12)})`;
  process.stdout.write(formatObjectDiff(name, diffEnvironments(before, now)));
}

try {
  main();
} catch (error) {
  console.error(`diff failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
