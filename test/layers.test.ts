/**
 * The layer rule: an import never runs back up. Data flows one way (the environment's values, then the
 * building blocks that read them, the constructs, the rendering, the commands), so a file may import
 * its own layer or one below, never one above: a lower layer that knew a higher one would make the
 * flow circular, and a change to a construct could then change what an environment means.
 *
 * Every import of every hand-written file in lib/ (tests and their fixtures aside: a test may build
 * the whole app to test one piece) is read with TypeScript's own parser (ts.preProcessFile: imports,
 * exports from, require() and import()), resolved to a file, and placed in its layer.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..');

/**
 * Bottom to top. Each entry is a path prefix (a folder with a trailing slash, or one file).
 * - speed/ and generated/: below everything, they know nothing of the project (the run-time speed-ups,
 *   and what generators write), so anything may use them and they use nothing of lib/.
 * - k8s: Kubernetes value syntax (quantities, cron, names, IP ranges, YAML, the error vocabulary); no Environment.
 * - environment: the Environment's schema, the Kubernetes versions it names, the add-ons' lock (names, ranges, hashes)
 *   and the names of dist/'s folders (lib/review/dist-layout.ts: names only, which the delivery objects write too).
 * - environments: the values of each environment, and their validation.
 * - policy: the checks; the layers above reach it only through its face, lib/policy/index.ts.
 * - parts: building blocks of workloads that read the Environment (hardening, spread, budgets...).
 * - constructs: the platform, the workloads, the add-ons' definitions, the lab's bootstrap files and the
 *   reconciler's objects that deliver dist/<env>/ from git.
 * - review: reading rendered objects (diff, explain, the per-environment README); the synth uses it.
 * - synth: the App and its rendering to dist/.
 * - commands: what talks to a cluster or reads a command line.
 */
export const LAYERS: ReadonlyArray<{ name: string; paths: readonly string[] }> = [
  { name: 'outside the project', paths: ['speed/', 'generated/'] },
  { name: 'k8s', paths: ['lib/k8s/'] },
  {
    name: 'environment',
    paths: ['lib/kubernetes-versions.ts', 'lib/environment.ts', 'lib/addons/lock.ts', 'lib/review/dist-layout.ts'],
  },
  { name: 'environments', paths: ['lib/environments/'] },
  { name: 'policy', paths: ['lib/policy/'] },
  { name: 'parts', paths: ['lib/parts/'] },
  {
    name: 'constructs',
    paths: ['lib/platform/', 'lib/workloads/', 'lib/bootstrap/', 'lib/addons/', 'lib/delivery/'],
  },
  { name: 'review', paths: ['lib/review/'] },
  { name: 'synth', paths: ['lib/synth/'] },
  { name: 'commands', paths: ['lib/commands/'] },
];

/**
 * The files of the policy engine that the layers above may import: its face, index.ts, and
 * dist-inputs.ts, which reads a dist/ folder back into the checks' inputs for the commands. That one
 * is a door of its own because it loads a YAML parser, which the synth (through index.ts) never needs.
 */
export const POLICY_FACES: readonly string[] = ['lib/policy/index.ts', 'lib/policy/dist-inputs.ts'];

export function layerOf(file: string): number | undefined {
  const index = LAYERS.findIndex((layer) =>
    layer.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)),
  );
  return index < 0 ? undefined : index;
}

const isTest = (file: string) => /\.test\.ts$/.test(file) || file.includes('/fixtures/');

function listFiles(root: string, dir: string): string[] {
  if (!fs.existsSync(path.join(root, dir))) return [];
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return listFiles(root, relative);
    return /\.(ts|js)$/.test(entry.name) ? [relative] : [];
  });
}

function resolve(root: string, from: string, specifier: string): string | undefined {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.js`, `${base}/index.ts`, `${base}/index.js`]) {
    if (fs.existsSync(path.join(root, candidate)) && fs.statSync(path.join(root, candidate)).isFile()) return candidate;
  }
  return undefined;
}

/** Every import of a hand-written lib/ or speed/ file that runs up a layer, or past the policy's face. */
export function layerViolations(root: string): string[] {
  const files = [...listFiles(root, 'lib'), ...listFiles(root, 'speed')].filter((f) => !isTest(f));
  const violations: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    if (from === undefined) {
      violations.push(`${file}: in no layer (add its folder to LAYERS in test/layers.test.ts)`);
      continue;
    }
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(root, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package
      const target = resolve(root, file, fileName);
      if (target === undefined) {
        violations.push(`${file}: imports ${fileName}, which is no file`);
        continue;
      }
      const to = layerOf(target);
      if (to === undefined) {
        violations.push(`${file} (${LAYERS[from].name}) imports ${target}, which is in no layer`);
      } else if (to > from) {
        violations.push(`${file} (${LAYERS[from].name}) imports ${target} (${LAYERS[to].name}): up a layer`);
      } else if (
        target.startsWith('lib/policy/') &&
        !file.startsWith('lib/policy/') &&
        !POLICY_FACES.includes(target)
      ) {
        violations.push(`${file} imports ${target}: past the policy's face (${POLICY_FACES.join(', ')})`);
      }
    }
  }
  return violations;
}

test('no import in lib/ runs back up a layer, and only the policy face is imported from outside the policy', () => {
  expect(layerViolations(ROOT)).toEqual([]);
});

test('an import up a layer, or past the policy face, is reported', () => {
  // test/fixtures/layers/ is a miniature tree: a k8s file that imports a building block (up from k8s to
  // parts) and a workload that imports a check's internals.
  expect(layerViolations(path.join(__dirname, 'fixtures', 'layers'))).toEqual([
    'lib/k8s/quantity.ts (k8s) imports lib/parts/hardening.ts (parts): up a layer',
    "lib/workloads/web.ts imports lib/policy/waivers.ts: past the policy's face (lib/policy/index.ts, lib/policy/dist-inputs.ts)",
  ]);
});
