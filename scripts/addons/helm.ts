/**
 * The helm that renders the add-ons' charts: built from source, at the release pinned in
 * scripts/addons/helm/go.mod, through the Go module proxy (whose hashes the Go checksum database and
 * go.sum check), into .cache/addons/helm. No helm binary is downloaded from a release page, and the
 * one on the maintainer's PATH takes no part: the rendering depends on the release pinned here only.
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

const HELM_MODULE_DIR = path.join(__dirname, 'helm');

/** The helm release pinned in scripts/addons/helm/go.mod (`require helm.sh/helm/v3 vX.Y.Z`). */
export function pinnedHelmVersion(): string {
  const goMod = fs.readFileSync(path.join(HELM_MODULE_DIR, 'go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?helm\.sh\/helm\/v3 (v\d+\.\d+\.\d+)(?:\s*\/\/ indirect)?\s*$/m.exec(goMod);
  if (match === null) throw new Error('scripts/addons/helm/go.mod: no "helm.sh/helm/v3 vX.Y.Z" requirement');
  return match[1];
}

/**
 * The path of the built helm under root's .cache/addons/, building it first when it is missing or
 * was built from another go.mod/go.sum (a stamp beside it records their hash).
 */
export function ensureHelm(root: string, log: (line: string) => void): string {
  const version = pinnedHelmVersion();
  const cache = path.join(root, '.cache', 'addons');
  const binary = path.join(cache, 'helm');
  const stamp = path.join(cache, 'helm.stamp');
  const inputs = createHash('sha256')
    .update(fs.readFileSync(path.join(HELM_MODULE_DIR, 'go.mod')))
    .update(fs.readFileSync(path.join(HELM_MODULE_DIR, 'go.sum')))
    .digest('hex');
  if (fs.existsSync(binary) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === inputs) return binary;
  fs.mkdirSync(cache, { recursive: true });
  log(
    `building helm ${version} from scripts/addons/helm/go.mod into .cache/addons/helm (sources through the Go module proxy; a few minutes the first time)`,
  );
  const started = Date.now();
  try {
    execFileSync(
      'go',
      [
        'build',
        '-trimpath',
        '-o',
        binary,
        // What helm's own Makefile sets, so that `helm version` names the release.
        '-ldflags',
        `-X helm.sh/helm/v3/internal/version.version=${version}`,
        'helm.sh/helm/v3/cmd/helm',
      ],
      {
        cwd: HELM_MODULE_DIR,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, GOFLAGS: '-mod=readonly' },
      },
    );
  } catch (error) {
    const missingGo = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missingGo
        ? 'building helm needs Go (the go command, 1.26 or newer, as scripts/addons/helm/go.mod says) on PATH'
        : `building helm ${version} from scripts/addons/helm/go.mod failed (go's output is above)`,
      { cause: error },
    );
  }
  fs.writeFileSync(stamp, inputs);
  log(`built helm ${version} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}
