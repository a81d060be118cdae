/**
 * Renovate for test/renovate.test.ts, from a folder of its own (tools/renovate/, its README.md says
 * why): installed there with `npm ci` from its lockfile the first time a test needs it, and again
 * whenever the lockfile changes. A marker in its node_modules holds the hash of the lockfile the
 * install came from; `npm ci` empties node_modules first, so an install cut short leaves no marker.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const TOOL = path.join(ROOT, 'tools', 'renovate');
const LOCKFILE = path.join(TOOL, 'package-lock.json');
const MARKER = path.join(TOOL, 'node_modules', '.installed-from-lockfile');
/** Held (created, atomically) by the one run that installs; another run waits for it. */
const INSTALLING = path.join(TOOL, '.installing');

/** The install, as a person would type it in the repository's root. */
const INSTALL = ['ci', '--prefix', 'tools/renovate', '--no-audit', '--no-fund', '--loglevel=error'];

/** How long the install may take: about 35 s with npm's cache filled; the first download of its ~630 packages takes longer. */
export const INSTALL_TIMEOUT_MS = 10 * 60_000;

/** Renovate's built code (its dist/ folder), installed from tools/renovate/package-lock.json. */
export const RENOVATE_DIST = path.join(TOOL, 'node_modules', 'renovate', 'dist');

function lockfileHash(): string {
  return `sha256:${createHash('sha256').update(fs.readFileSync(LOCKFILE)).digest('hex')}`;
}

function installedFrom(hash: string): boolean {
  return fs.existsSync(MARKER) && fs.readFileSync(MARKER, 'utf8').trim() === hash;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether the run that holds the install has ended without letting go (killed, or interrupted). */
function holderGone(): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(INSTALLING, 'pid'), 'utf8'));
  } catch {
    // Just taken, its pid not yet written; or let go meanwhile.
    return false;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (e: any) {
    return e.code === 'ESRCH';
  }
}

/** Runs `install` as the only run installing into tools/renovate/ (two `npm ci` in one folder would tear it). */
function aloneInstalling(install: () => void): void {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS + 60_000;
  for (;;) {
    try {
      fs.mkdirSync(INSTALLING);
      break;
    } catch (e: any) {
      if (e.code !== 'EEXIST') throw e;
    }
    if (holderGone()) {
      fs.rmSync(INSTALLING, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `tools/renovate/.installing: another run has been installing Renovate for longer than an install may take; if no npm ci runs in tools/renovate, remove that folder`,
      );
    }
    sleep(1000);
  }
  try {
    fs.writeFileSync(path.join(INSTALLING, 'pid'), String(process.pid));
    install();
  } finally {
    fs.rmSync(INSTALLING, { recursive: true, force: true });
  }
}

/**
 * Installs Renovate in tools/renovate/ unless it is installed from the current lockfile, and returns
 * its dist/ folder. Throws, with npm's own words, if the install fails or takes too long.
 */
export function ensureRenovate(): string {
  const hash = lockfileHash();
  if (installedFrom(hash)) return RENOVATE_DIST;
  aloneInstalling(() => {
    // Another run may have installed it while this one waited.
    if (installedFrom(hash)) return;
    const result = spawnSync('npm', INSTALL, {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error || result.status !== 0) {
      const failure =
        result.error && 'code' in result.error && result.error.code === 'ETIMEDOUT'
          ? `did not finish in ${INSTALL_TIMEOUT_MS / 60_000} minutes`
          : result.error
            ? `could not run: ${result.error.message}`
            : `failed (exit status ${result.status})`;
      // npm says what went wrong first (then, for a usage error, its help) and where its full log is last.
      const lines = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n');
      const said = (lines.length > 25 ? [...lines.slice(0, 20), '...', ...lines.slice(-2)] : lines).join('\n');
      throw new Error(
        `Installing Renovate for the tests, \`npm ${INSTALL.join(' ')}\`, ${failure}:\n${said || '(npm printed nothing)'}\n` +
          `Run that command in the repository's root to see why (tools/renovate/README.md).`,
      );
    }
    fs.writeFileSync(MARKER, `${hash}\n`);
  });
  return RENOVATE_DIST;
}
