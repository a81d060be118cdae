import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * scripts/ensure-cloud-init.sh, run with a PATH that holds only what the case needs: a stand-in
 * `cloud-init` or none. (Installing through apt-get on CI is not run here: it changes the machine.)
 */
const SCRIPT = path.join(__dirname, 'ensure-cloud-init.sh');

function runWith(commands: Record<string, string>, env: Record<string, string> = {}) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'ensure-cloud-init-'));
  try {
    for (const [name, body] of Object.entries(commands)) {
      fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }
    return spawnSync('/bin/sh', [SCRIPT], { encoding: 'utf8', env: { PATH: bin, ...env } });
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

test('cloud-init present: nothing to do, nothing said', () => {
  const run = runWith({ 'cloud-init': 'exit 0', 'apt-get': 'echo apt-get must not run >&2; exit 1' }, { CI: 'true' });
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
});

test("cloud-init missing on a developer's machine: the install hint, and the tests go on to fail on it", () => {
  const run = runWith({ 'apt-get': 'echo apt-get must not run >&2; exit 1', id: 'echo 0' });
  expect(run.status).toBe(0);
  expect(run.stderr).toContain('cloud-init is not installed');
  expect(run.stderr).toContain('sudo apt-get install -y cloud-init');
  expect(run.stderr).not.toContain('apt-get must not run');
});

test('cloud-init missing on CI as root: installs the Debian package with apt-get', () => {
  const run = runWith({ 'apt-get': 'echo "apt-get $*" >&2', id: 'echo 0', env: 'shift; "$@"' }, { CI: 'true' });
  expect(run.status).toBe(0);
  expect(run.stderr).toContain('apt-get update -qq');
  expect(run.stderr).toContain('apt-get install -y -qq cloud-init');
});
