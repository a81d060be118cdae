import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// test/cluster/render-lab-for-node.ts, as the cluster tests call it: the single real node runs none
// of the add-ons' controllers; the three-node lab keeps the ones it runs (--keep-addon).
const ROOT = path.join(__dirname, '..');

function render(...args: string[]) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'render-lab-for-node-'));
  const result = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'speed', 'tsrun.js'),
      path.join(ROOT, 'test', 'cluster', 'render-lab-for-node.ts'),
      outdir,
      ...args,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const list = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^0[1-4]-/.test(f)) : []);
  const files = { kept: list(path.join(outdir, 'lab')), notRun: list(path.join(outdir, 'lab-addons-not-run')) };
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ...result, ...files };
}

test('without --keep-addon every add-on controller is moved aside; with it, the one named stays', () => {
  const single = render();
  expect(single.status).toBe(0);
  expect(single.kept).toEqual([]);
  expect(single.notRun).toContain('01-flannel.yaml');

  const lab = render('--keep-addon', 'flannel');
  expect(lab.status).toBe(0);
  expect(lab.kept).toEqual(['01-flannel.yaml']);
  expect(lab.notRun).not.toContain('01-flannel.yaml');
  expect(lab.notRun.length).toBe(single.notRun.length - 1);
}, 120_000);

test('--keep-addon with a name the lab renders no file for stops, naming it and the files there are', () => {
  const result = render('--keep-addon', 'flanel');
  expect(result.status).toBe(2);
  expect(result.stderr).toContain('--keep-addon: no 0N-<name>.yaml in the rendered lab for: flanel');
  expect(result.stderr).toContain('01-flannel.yaml');
}, 60_000);
