import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * The synth as `npm run synth` runs it, through speed/tsrun.js with an empty cache of its own. A
 * cdk8s, cdk8s-plus-28, esbuild or Node upgrade can leave every output the same and take the speed
 * away without a word: packages no longer bundled (they load through Node's loader again), the
 * generated field mappings no longer rewritten, the bundle run without V8's code cache. This test
 * reads tsrun's own account of the run (LAB_TO_PROD_TSRUN_VERBOSE=1) and fails on each.
 */

const ROOT = path.resolve(__dirname, '..');

test("the synth runs from two bundles, both with the generated field mappings made linear and V8's code cache", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-tsrun-synth-'));
  try {
    const result = spawnSync(
      process.execPath,
      ['speed/tsrun.js', 'main.ts', '--env', 'lab', '--outdir', path.join(dir, 'out')],
      {
        cwd: ROOT,
        env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: path.join(dir, 'cache'), LAB_TO_PROD_TSRUN_VERBOSE: '1' },
        encoding: 'utf8',
      },
    );
    expect(result.status).toBe(0);
    const said = result.stderr.split('\n').filter((line) => line.startsWith('tsrun: '));
    // The project's files (with generated/crd-bindings/), then the packages (with cdk8s-plus-28's k8s.js).
    expect(said).toEqual(
      expect.arrayContaining(['tsrun: main.ts: bundled by esbuild', 'tsrun: packages: bundled by esbuild']),
    );
    expect(said.filter((line) => line.startsWith('tsrun: packages left external'))).toEqual([]);
    const rewritten = said
      .map((line) => /^tsrun: (\d+) generated field mapping\(s\) made linear$/.exec(line)?.[1])
      .filter((n) => n !== undefined)
      .map(Number);
    expect(rewritten).toHaveLength(2);
    // generated/crd-bindings/ and cdk8s-plus-28 each hold several hundred of them.
    expect(Math.min(...rewritten)).toBeGreaterThan(400);
    // Run through vm.Script with V8's code cache, not Node's own loader (which an import() would need).
    expect(said).toEqual(
      expect.arrayContaining(["tsrun: packages: run with V8's code cache", "tsrun: main.ts: run with V8's code cache"]),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
