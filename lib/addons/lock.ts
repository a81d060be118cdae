/**
 * The add-ons' lock file, addons/addons.lock.json: for each platform add-on the project renders, the
 * pinned version, the upstream source it was vendored from, the hashes of what is vendored, the
 * Kubernetes range its documentation states and its images. `npm run addons:refresh` writes it
 * (scripts/addons/refresh.ts); this file reads it and checks that addons/<name>/ still holds exactly
 * what it records, which the synth does for every add-on an environment uses.
 *
 * Two hashes per add-on:
 * - sourceHash, of the vendored upstream files (addons/<name>/source/): a tree hash in the manner of
 *   Go's dirhash (a SHA-256 per file, listed by path, then the SHA-256 of that list), so that a file
 *   changed, added or removed changes it, and the list names which.
 * - upstreamHash, the SHA-256 of addons/<name>/upstream.yaml, upstream's own rendering that the
 *   add-on's construct patches (and that a reviewer diffs dist/ against).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The repository's root: the folder holding lib/addons/lock.ts. Under jest and tsx __dirname is
 * lib/addons/; speed/tsrun.js bundles the project into one script whose __dirname is the entry
 * point's folder, so the root is looked for above it (and above the working folder).
 */
export function repositoryRoot(): string {
  if (foundRoot === undefined) {
    for (const start of [__dirname, process.cwd()]) {
      for (let dir = start; foundRoot === undefined; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, 'lib', 'addons', 'lock.ts'))) foundRoot = dir;
        if (path.dirname(dir) === dir) break;
      }
      if (foundRoot !== undefined) break;
    }
    if (foundRoot === undefined) throw new Error(`lib/addons/lock.ts not found above ${__dirname} or ${process.cwd()}`);
  }
  return foundRoot;
}
let foundRoot: string | undefined;

/** The folder of the vendored add-ons, relative to the repository's root. */
export const ADDONS_FOLDER = 'addons';
export const LOCK_FILE = 'addons/addons.lock.json';

/** Where an add-on came from: a Go module (its zip carries the repository's charts and manifests) or a chart repository. */
export type AddonSource = GoModuleSource | HelmRepositorySource;

export interface GoModuleSource {
  readonly kind: 'go-module';
  readonly module: string;
  /** The module version, `v` + the add-on's version. */
  readonly moduleVersion: string;
  /** The module's go.sum hash (h1:), checked against the Go checksum database when it was fetched. */
  readonly moduleSum: string;
  /** The files and folders vendored from the module, relative to its root. */
  readonly paths: readonly string[];
  /** Where a user finds the same files. */
  readonly userUrl: string;
}

export interface HelmRepositorySource {
  readonly kind: 'helm-repository';
  readonly repository: string;
  readonly chart: string;
  /** The chart archive's digest as the repository's index.yaml states it, or null with the reason. */
  readonly archiveDigest: string | null;
  readonly archiveDigestNote?: string;
  readonly paths: readonly string[];
  readonly userUrl: string;
}

export type AddonRender =
  | { readonly tool: 'manifest'; readonly files: readonly string[] }
  | {
      readonly tool: 'helm';
      /** The helm release the rendering used (scripts/addons/helm/go.mod). */
      readonly helm: string;
      /** The chart's folder under source/. */
      readonly chart: string;
      readonly releaseName: string;
      readonly namespace: string;
      /** Only what upstream needs to render at all; our settings are the constructs' (lib/addons/). */
      readonly values: Readonly<Record<string, unknown>>;
      /** Chart.yaml fields set in the rendering's copy of the chart (the vendored file is untouched), with why. */
      readonly chartMetadata?: { readonly version?: string; readonly appVersion?: string; readonly note: string };
      /** Upstream manifests rendered before the chart's objects (CRDs a chart's release build adds), relative to source/. */
      readonly manifestsBefore?: readonly string[];
      /** Chart.yaml dependencies left out of the rendering's copy (each disabled by default), with why. */
      readonly dependenciesLeftOut?: { readonly names: readonly string[]; readonly note: string };
    };

export interface KubernetesRange {
  /** The oldest supported minor, "1.N". */
  readonly min: string;
  /** The newest supported minor, or null where the documentation states only a minimum. */
  readonly max: string | null;
  /** The page that states the range. */
  readonly documentation: string;
  readonly note?: string;
}

export interface AddonImage {
  /** The image reference as upstream.yaml writes it. */
  readonly image: string;
  /** The digest upstream publishes for it, or null: never computed or guessed (no registry is asked). */
  readonly digest: string | null;
  /** Where the digest was read, or why there is none. */
  readonly digestSource: string;
}

/**
 * What a lock entry is for, where it is not a platform add-on an environment installs. A delivery
 * engine (Flux's controllers, Argo CD) is the reconciler that applies dist/<env>/: `flux install` or
 * the cloud's extension installs it, never dist/<env>/ itself. It is pinned here only for its CRDs,
 * which check the rendered delivery objects (dist/<env>-delivery/), so no environment's `addons` may
 * select it.
 */
export const DELIVERY_ENGINE = 'delivery-engine';

export interface AddonLockEntry {
  readonly version: string;
  /** Absent for a platform add-on; DELIVERY_ENGINE for an entry pinned only for its CRDs. */
  readonly role?: typeof DELIVERY_ENGINE;
  /** The project's home page. */
  readonly project: string;
  readonly source: AddonSource;
  readonly render: AddonRender;
  /** treeHash of addons/<name>/source/. */
  readonly sourceHash: string;
  /** SHA-256 of addons/<name>/upstream.yaml. */
  readonly upstreamHash: string;
  readonly kubernetes: KubernetesRange;
  readonly images: readonly AddonImage[];
}

export interface AddonLock {
  readonly addons: Readonly<Record<string, AddonLockEntry>>;
}

const locks = new Map<string, AddonLock>();

/** The lock file of the repository at `root` (read once per root). */
export function readLock(root: string = repositoryRoot()): AddonLock {
  let lock = locks.get(root);
  if (lock === undefined) {
    const file = path.join(root, LOCK_FILE);
    try {
      lock = JSON.parse(fs.readFileSync(file, 'utf8')) as AddonLock;
    } catch (error) {
      throw new Error(`${LOCK_FILE}: cannot be read: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    locks.set(root, lock);
  }
  return lock;
}

/** The names of the locked add-ons, sorted. */
export function addonNames(root: string = repositoryRoot()): string[] {
  return Object.keys(readLock(root).addons).sort();
}

/** The locked add-ons an environment may install (every entry but the delivery engines), sorted. */
export function selectableAddonNames(root: string = repositoryRoot()): string[] {
  const { addons } = readLock(root);
  return addonNames(root).filter((name) => addons[name].role !== DELIVERY_ENGINE);
}

/** `sha256:` and the hex SHA-256 of the bytes. */
export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Every file under dir, as paths relative to it with `/`, sorted by their bytes (as Go sorts strings). */
export function filesUnder(dir: string): string[] {
  const files: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else files.push(child);
    }
  };
  walk('');
  // Each path encoded once, not once per comparison.
  return files
    .map((file) => ({ file, bytes: Buffer.from(file) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map(({ file }) => file);
}

/**
 * The tree hash of a folder: the SHA-256 of the lines `<hex SHA-256 of the file>  <path>\n`, one per
 * file, sorted by path (Go's dirhash builds its h1 hash from the same lines, then writes base64).
 */
export function treeHash(dir: string, remembered?: RememberedHashes): string {
  return sha256(treeListing(dir, remembered));
}

/** The lines treeHash hashes. */
export function treeListing(dir: string, remembered?: RememberedHashes): string {
  return filesUnder(dir)
    .map((file) => `${fileSha256(path.join(dir, file), remembered)}  ${file}\n`)
    .join('');
}

/**
 * Files' SHA-256 remembered between runs, by each file's identity on disk: device, inode, size,
 * modification and change time, to the nanosecond. Any write to a file changes its change time,
 * which no user can set back, so a remembered hash is never that of other bytes (speed/tsrun.js
 * trusts its cache on the same facts), with one exception that git calls "racy": the kernel stamps
 * file times from a clock that ticks every few milliseconds, so a file written again within one tick,
 * to the same size, keeps its identity. A hash is therefore remembered only for a file last written
 * more than SETTLED_MS before it was read, and an entry is used only if it says so (an entry of any
 * other shape is hashed again).
 * Hashing the vendored files (about 19 MB) is nearly all of the check's cost, some 25 ms for every
 * add-on; remembered, it is a stat per file. Kept in node_modules/.cache/lab-to-prod/ beside the
 * project's other caches, so only where that folder exists (a clone after npm ci);
 * `npm run addons:verify` hashes every byte.
 */
export interface RememberedHashes {
  readonly file: string;
  readonly entries: Record<string, RememberedHash>;
  changed: boolean;
}

interface RememberedHash {
  readonly identity: string;
  readonly sha256: string;
  /** When the file was read (milliseconds since the epoch), and when it had last been written. */
  readonly readAt: number;
  readonly writtenAt: number;
}

const REMEMBERED_HASHES_FILE = path.join('node_modules', '.cache', 'lab-to-prod', 'addon-file-hashes.json');
const rememberedByRoot = new Map<string, RememberedHashes | undefined>();

/** The remembered hashes of the repository at root, or undefined where it has no cache folder. */
export function rememberedHashes(root: string): RememberedHashes | undefined {
  if (!rememberedByRoot.has(root)) {
    const file = path.join(root, REMEMBERED_HASHES_FILE);
    let remembered: RememberedHashes | undefined;
    if (fs.existsSync(path.dirname(file))) {
      let entries: RememberedHashes['entries'] = {};
      try {
        entries =
          (JSON.parse(fs.readFileSync(file, 'utf8')) as { entries?: RememberedHashes['entries'] }).entries ?? {};
      } catch {
        // None yet, or unreadable: every file is hashed again, and the file written afresh.
      }
      remembered = { file, entries, changed: false };
    }
    rememberedByRoot.set(root, remembered);
  }
  return rememberedByRoot.get(root);
}

/**
 * A file's identity on disk, and when it was last written: the later of its modification time
 * (which a program may set back) and its change time (which none can), in milliseconds.
 */
function identityOf(file: string): { identity: string; writtenAt: number } {
  const stat = fs.statSync(file, { bigint: true });
  const latest = stat.mtimeNs > stat.ctimeNs ? stat.mtimeNs : stat.ctimeNs;
  return {
    identity: `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`,
    writtenAt: Number(latest / 1_000_000n),
  };
}

/**
 * How long before it was read a file must have been written for its hash to be remembered: far more
 * than a tick of the kernel's file-time clock (a few milliseconds), so that no write within the
 * same tick as the one the identity records can have followed the read unseen.
 */
const SETTLED_MS = 2000;

/** Whether a remembered hash is one of the file as it is now, taken long enough after its last write. */
function trusted(known: RememberedHash | undefined, identity: string): known is RememberedHash {
  return (
    known !== undefined &&
    known.identity === identity &&
    typeof known.readAt === 'number' &&
    typeof known.writtenAt === 'number' &&
    known.readAt - known.writtenAt > SETTLED_MS
  );
}

/** The hex SHA-256 of a file, from what is remembered when the file is the one it was. */
function fileSha256(file: string, remembered: RememberedHashes | undefined): string {
  if (remembered === undefined) return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const before = identityOf(file);
  const known = remembered.entries[file];
  if (trusted(known, before.identity)) return known.sha256;
  const readAt = Date.now();
  const hex = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  // Remembered only if the file did not change while it was read, and was written long enough before.
  if (identityOf(file).identity === before.identity && readAt - before.writtenAt > SETTLED_MS) {
    remembered.entries[file] = { identity: before.identity, sha256: hex, readAt, writtenAt: before.writtenAt };
    remembered.changed = true;
  }
  return hex;
}

/** Writes what was learnt (files that no longer exist are forgotten), atomically. */
function saveRememberedHashes(remembered: RememberedHashes): void {
  if (!remembered.changed) return;
  for (const file of Object.keys(remembered.entries)) {
    if (!fs.existsSync(file)) delete remembered.entries[file];
  }
  const temporary = `${remembered.file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, JSON.stringify({ entries: remembered.entries }));
    fs.renameSync(temporary, remembered.file);
    remembered.changed = false;
  } catch {
    // A cache that cannot be written costs the next run its speed, nothing else.
    fs.rmSync(temporary, { force: true });
  }
}

/** addons/<name>/ of the repository at root. */
export function addonFolder(name: string, root: string = repositoryRoot()): string {
  return path.join(root, ADDONS_FOLDER, name);
}

/**
 * What is wrong with the vendored files of one add-on, as sentences naming the add-on, the field
 * and both values; empty when addons/<name>/ holds exactly what the lock records. Files unchanged
 * on disk since a previous run are not read again (RememberedHashes) unless `everyByte` is set.
 */
export function verifyAddon(
  name: string,
  root: string = repositoryRoot(),
  options: { readonly everyByte?: boolean } = {},
): string[] {
  const remembered = options.everyByte ? undefined : rememberedHashes(root);
  try {
    return addonProblems(name, root, remembered);
  } finally {
    if (remembered !== undefined) saveRememberedHashes(remembered);
  }
}

function addonProblems(name: string, root: string, remembered: RememberedHashes | undefined): string[] {
  const lock = readLock(root);
  const entry = lock.addons[name];
  if (entry === undefined) {
    return [`add-on "${name}": not in ${LOCK_FILE}; the locked add-ons are ${addonNames(root).join(', ')}`];
  }
  const problems: string[] = [];
  const folder = addonFolder(name, root);
  const sourceFolder = path.join(folder, 'source');
  if (!fs.existsSync(sourceFolder)) {
    problems.push(
      `add-on "${name}": ${ADDONS_FOLDER}/${name}/source/ is missing (run npm run addons:refresh -- ${name})`,
    );
  } else {
    const missing = [
      ...entry.source.paths,
      ...(entry.render.tool === 'manifest' ? entry.render.files : [entry.render.chart]),
    ].filter((p) => !fs.existsSync(path.join(sourceFolder, p)));
    for (const p of [...new Set(missing)]) {
      problems.push(`add-on "${name}": ${ADDONS_FOLDER}/${name}/source/${p}, named in ${LOCK_FILE}, is missing`);
    }
    const actual = treeHash(sourceFolder, remembered);
    if (actual !== entry.sourceHash) {
      problems.push(
        `add-on "${name}": sourceHash: ${ADDONS_FOLDER}/${name}/source/ hashes to ${actual}, but ${LOCK_FILE} records ${entry.sourceHash}` +
          ` (a vendored file was changed, added or removed; restore it or run npm run addons:refresh -- ${name})`,
      );
    }
  }
  const upstreamFile = path.join(folder, 'upstream.yaml');
  if (!fs.existsSync(upstreamFile)) {
    problems.push(
      `add-on "${name}": ${ADDONS_FOLDER}/${name}/upstream.yaml is missing (run npm run addons:refresh -- ${name})`,
    );
  } else {
    const actual = `sha256:${fileSha256(upstreamFile, remembered)}`;
    if (actual !== entry.upstreamHash) {
      problems.push(
        `add-on "${name}": upstreamHash: ${ADDONS_FOLDER}/${name}/upstream.yaml hashes to ${actual}, but ${LOCK_FILE} records ${entry.upstreamHash}` +
          ` (upstream's rendering was edited; restore it or run npm run addons:refresh -- ${name})`,
      );
    }
  }
  return problems;
}
