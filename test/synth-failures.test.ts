/**
 * What the synth command prints when the code itself is broken: an exception in a construct, a
 * syntax error, an exception while a module loads. Each runs the real command (bin/synth.js, as
 * `npm run synth` does) on a copy of the sources with one mistake put in, and checks that the output
 * folder is untouched and that the last line says so.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { environmentNames } from '../lib/environments';
import { projectCopy, ROOT } from './project-copy';

const FAILED = 'synth failed; the output folder was left as it was.';

/** The copies this file made; removed when it is done. */
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of what the synth reads, node_modules linked, with `edit` applied to one file. */
function brokenCopy(file: string, edit: (text: string) => string): string {
  const dir = projectCopy('lab-to-prod-broken-');
  copies.push(dir);
  const target = path.join(dir, file);
  const before = fs.readFileSync(target, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  fs.writeFileSync(target, after);
  return dir;
}

/** Runs the synth in `dir` into an output folder that already holds something; returns what it printed. */
function synthIn(dir: string, args: string[] = []): { status: number | null; stderr: string; untouched: boolean } {
  const out = path.join(dir, 'out');
  fs.mkdirSync(path.join(out, 'lab'), { recursive: true });
  fs.writeFileSync(path.join(out, 'lab', '10-web.yaml'), 'previous');
  // No tsrun cache: the copy is thrown away, its bundles would only crowd the project's cache.
  const result = spawnSync(process.execPath, ['bin/synth.js', '--outdir', out, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: 'off' },
  });
  const untouched =
    fs.readdirSync(out).join() === 'lab' &&
    fs.readdirSync(path.join(out, 'lab')).join() === '10-web.yaml' &&
    fs.readFileSync(path.join(out, 'lab', '10-web.yaml'), 'utf8') === 'previous';
  return { status: result.status, stderr: result.stderr, untouched };
}

const lastLine = (text: string): string => text.trimEnd().split('\n').pop()!;

/** The line of web.ts right after `super(scope, id);`, where the broken copies below put their bug. */
const BUG_LINE =
  fs
    .readFileSync(path.join(ROOT, 'lib', 'workloads', 'web.ts'), 'utf8')
    .split('\n')
    .indexOf('    super(scope, id);') + 2;

/** web.ts with a bug right after its construct is made: a property read of undefined. */
const buggyWeb = (text: string): string =>
  text.replace('    super(scope, id);\n', '    super(scope, id);\n    (props as any).notAField.length;\n');

describe('the synth command on broken code', () => {
  let webBroken: string;
  beforeAll(() => {
    webBroken = brokenCopy('lib/workloads/web.ts', buggyWeb);
  });

  test('an exception in a construct names the construct path in every environment, without a stack', () => {
    const { status, stderr, untouched } = synthIn(webBroken);
    expect(status).toBe(1);
    for (const env of environmentNames()) {
      expect(stderr).toContain(`${env}/web: TypeError: Cannot read properties of undefined (reading 'length')\n`);
    }
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).toContain('--verbose prints where in the code each exception was thrown');
    expect(lastLine(stderr)).toBe(FAILED);
    expect(untouched).toBe(true);
  }, 60_000);

  test('--verbose adds the stack, which names the TypeScript line', () => {
    const { status, stderr } = synthIn(webBroken, ['--verbose', '--env', 'lab']);
    expect(status).toBe(1);
    expect(stderr).toContain('lab/web: TypeError: Cannot read properties of undefined');
    expect(stderr).toMatch(
      new RegExp(
        `at new Web \\(${path.join(webBroken, 'lib', 'workloads', 'web.ts').replace(/[.]/g, '\\.')}:${BUG_LINE}:`,
      ),
    );
    expect(lastLine(stderr)).toBe(FAILED);
  }, 60_000);

  test('a syntax error: esbuild names the file and line, and the last line says the output is untouched', () => {
    const dir = brokenCopy('lib/workloads/web.ts', (text) =>
      text.replace('    super(scope, id);\n', '    super(scope, id);\n    const = 1;\n'),
    );
    const { status, stderr, untouched } = synthIn(dir);
    expect(status).toBe(1);
    expect(stderr).toContain(`lib/workloads/web.ts:${BUG_LINE}:`);
    expect(stderr).not.toContain('tsrun.js');
    expect(lastLine(stderr)).toBe(FAILED);
    expect(untouched).toBe(true);
  }, 60_000);

  test('an exception while a module loads ends with the same line', () => {
    const dir = brokenCopy('lib/k8s/labels.ts', (text) => `${text}\nthrow new Error('labels.ts cannot load');\n`);
    const { status, stderr, untouched } = synthIn(dir);
    expect(status).toBe(1);
    expect(stderr).toContain('labels.ts cannot load');
    expect(lastLine(stderr)).toBe(FAILED);
    expect(untouched).toBe(true);
  }, 60_000);
});
