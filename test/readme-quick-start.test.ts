/**
 * The README's quick start, as a new user reads it: two commands for a fresh machine, then, right
 * beside them, the fast loop and what the full test run needs.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const quickStart = fs
  .readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  .split('\n## Quick start\n')[1]
  .split('\n## ')[0];
const [, block, after] = /```sh\n([\s\S]*?)```\n([\s\S]*)/.exec(quickStart)!;

test('a fresh machine gets exactly two commands: install and synthesize, install and run every test', () => {
  expect(
    block
      .trim()
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '')),
  ).toEqual(['npm ci && npm run synth', 'npm ci && npm test']);
});

test('the paragraph right after them names the fast loop, and the next says what `npm test` needs', () => {
  const [fastLoop, fullRun] = after.trim().split('\n\n');
  expect(fastLoop).toMatch(/^While editing, the fast loop is `npm run test:unit`/);
  for (const need of ['Go', 'root']) {
    expect(fullRun).toContain(need);
  }
});

// A clone is all a user has: the add-ons' CRDs, the schemas and the bindings are in the repository.
test('nothing in the README asks for a folder beside the clone', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  expect(readme).not.toMatch(/\.\.\/shared|LAB_TO_PROD_SHARED|LAB_TO_PROD_CRDS_DIR/);
});

test('nor does any file of the project, the cluster tests included', () => {
  const { stdout } = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const files = stdout
    .split('\n')
    .filter((f) => f && !f.startsWith('dist/') && !f.startsWith('addons/'))
    .filter((f) => f !== 'test/readme-quick-start.test.ts' && /\.(ts|js|mjs|go|sh|md|json|yaml)$/.test(f));
  const asking = files.filter((f) =>
    /\.\.\/shared|LAB_TO_PROD_SHARED|LAB_TO_PROD_CRDS_DIR/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')),
  );
  expect(asking).toEqual([]);
});
