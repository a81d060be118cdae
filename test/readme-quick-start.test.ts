/**
 * The README's quick start, as a new user reads it: two commands for a fresh machine, then, right
 * beside them, the fast loop and what the full test run needs.
 */
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
  for (const need of ['Go', 'root', '`../shared`']) {
    expect(fullRun).toContain(need);
  }
});
