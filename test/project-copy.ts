import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The repository's root. */
export const ROOT = path.resolve(__dirname, '..');

/** What the commands read when they run from a copy: the sources, the generated code, the configuration. */
const COMMAND_INPUTS = [
  'main.ts',
  'bin',
  'speed',
  'lib',
  'generated',
  // The add-ons' lock and vendored files, which the synth reads and verifies (lib/addons/lock.ts).
  'addons',
  'scripts',
  'package.json',
  'tsconfig.json',
  'cdk8s.yaml',
];

/**
 * A temporary copy of the project that the real commands run in (through speed/tsrun.js, as npm runs
 * them), for tests that change its files: node_modules is linked, not copied. `extra` names more entries
 * to copy (README.md, for a test that reads it). The caller removes the copy (`fs.rmSync`).
 */
export function projectCopy(prefix: string, extra: readonly string[] = []): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const entry of [...COMMAND_INPUTS, ...extra]) {
    fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}
