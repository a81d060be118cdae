/**
 * The synth command (bin/synth.js, as `npm run synth` runs it) killed while it switches the output
 * folders, and the next synth: it says what it found and what it did, and ends with the output a
 * synth writes. lib/synth/write-dist.test.ts tests each step of the switch; this tests the command.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

let dir: string;
let out: string;
let reference: string;
beforeAll(() => {
  // What a synth writes into an empty folder, to compare with byte for byte.
  reference = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-reference-'));
  expect(synth(['--outdir', path.join(reference, 'out')]).status).toBe(0);
}, 60_000);
afterAll(() => {
  fs.rmSync(reference, { recursive: true, force: true });
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-interrupted-'));
  out = path.join(dir, 'out');
  // A previous output: one file in three environment folders.
  for (const env of ['lab', 'prod-eks', 'prod-aks']) {
    fs.mkdirSync(path.join(out, env), { recursive: true });
    fs.writeFileSync(path.join(out, env, '10-web.yaml'), `previous ${env}\n`);
  }
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function synth(args: string[]): { status: number | null; stderr: string } {
  return spawnSync(process.execPath, ['bin/synth.js', ...args], { cwd: ROOT, encoding: 'utf8' });
}

/** Runs the synth into `out`, stops it before it moves the new dist/prod-eks in, and kills it there (kill -9). */
async function synthKilledBeforeNewProdEks(): Promise<number> {
  const step = 'prod-eks:in';
  const child = spawn(process.execPath, ['bin/synth.js', '--outdir', out], {
    cwd: ROOT,
    env: { ...process.env, LAB_TO_PROD_WRITE_DIST_STOP_AT: step },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = await new Promise<string>((resolve) => {
    let text = '';
    child.stderr.on('data', (chunk) => {
      text += chunk;
      if (text.includes(`stopped before step "${step}"`)) {
        resolve(text);
      }
    });
    child.on('exit', () => resolve(text));
  });
  expect(stderr).toContain(`write-dist: stopped before step "${step}"`);
  await new Promise((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGKILL');
  });
  return child.pid!;
}

/** Every file under a folder with its bytes, by relative path; folders end with a slash. */
function filesOf(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const relative = path.relative(root, full);
    files[entry.isDirectory() ? `${relative}/` : relative] = entry.isFile()
      ? fs.readFileSync(full).toString('latin1')
      : '';
  }
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

test('killed between the two renames of a folder: the folder is missing, its old one is kept; the next synth switches back, says so, and writes', async () => {
  const pid = await synthKilledBeforeNewProdEks();
  const switching = path.join(dir, '.out-switching');
  expect(fs.readdirSync(dir).sort()).toEqual(['.out-switching', 'out']);
  expect(fs.existsSync(path.join(out, 'prod-eks'))).toBe(false);
  expect(filesOf(path.join(switching, 'old', 'prod-eks'))).toEqual({ '10-web.yaml': 'previous prod-eks\n' });
  expect(filesOf(path.join(switching, 'new', 'prod-eks'))).toEqual(filesOf(path.join(reference, 'out', 'prod-eks')));

  const next = synth(['--outdir', out]);
  expect(next.status).toBe(0);
  const found = next.stderr.split('\n').find((line) => line.startsWith('found '));
  expect(found).toMatch(
    new RegExp(
      `^found ${switching}, left by a synth \\(process ${pid}\\) interrupted while it switched ${out}/: ` +
        `switched back (${out}/[a-z-]+, )*${out}/prod-eks, so every folder is as it was before that synth; removed the rest$`,
    ),
  );
  expect(filesOf(out)).toEqual(filesOf(path.join(reference, 'out')));
  expect(fs.readdirSync(dir)).toEqual(['out']);
}, 60_000);

test("when the next synth cannot switch back (something else took the missing folder's place), it says where each folder is, and its last line does not claim the output is as it was", async () => {
  await synthKilledBeforeNewProdEks();
  fs.mkdirSync(path.join(out, 'prod-eks'));
  fs.writeFileSync(path.join(out, 'prod-eks', 'by-hand.yaml'), 'by hand\n');

  const next = synth(['--outdir', out]);
  expect(next.status).toBe(3);
  expect(next.stderr).toContain(
    `${path.join(out, 'prod-eks')} is neither the old folder nor the new one: something else put it there during the switch`,
  );
  expect(next.stderr).toContain(
    `  ${path.join(out, 'prod-eks')}: neither: something else put it there during the switch (the old one is at ${path.join(dir, '.out-switching', 'old', 'prod-eks')}`,
  );
  expect(next.stderr.trimEnd().split('\n').pop()).toBe(
    'synth failed, and the output folder is not as it was: the lines above say which folders are new, which old, and where the rest is.',
  );
}, 60_000);
