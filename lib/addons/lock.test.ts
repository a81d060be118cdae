import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addonNames, readLock, repositoryRoot, treeHash, treeListing, verifyAddon } from './lock';

const ROOT = repositoryRoot();

/** A temporary repository holding the lock and a copy of one add-on's folder, to break. */
function copyWithAddon(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'addons-lock-'));
  fs.mkdirSync(path.join(dir, 'addons'));
  fs.copyFileSync(path.join(ROOT, 'addons', 'addons.lock.json'), path.join(dir, 'addons', 'addons.lock.json'));
  fs.cpSync(path.join(ROOT, 'addons', name), path.join(dir, 'addons', name), { recursive: true });
  return dir;
}

const copies: string[] = [];
afterAll(() => copies.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));
function copy(name: string): string {
  const dir = copyWithAddon(name);
  copies.push(dir);
  return dir;
}

/** Flips the last byte of a file (a newline becomes another character). */
function changeOneByte(file: string): void {
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] ^= 0x01;
  fs.writeFileSync(file, bytes);
}

test('every vendored add-on hashes to its lock entry', () => {
  expect(addonNames().length).toBeGreaterThan(0);
  for (const name of addonNames()) {
    expect({ name, problems: verifyAddon(name) }).toEqual({ name, problems: [] });
  }
});

test('the lock file is written with sorted keys, two spaces and a final new line', () => {
  const text = fs.readFileSync(path.join(ROOT, 'addons', 'addons.lock.json'), 'utf8');
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  expect(text).toBe(`${JSON.stringify(sorted(JSON.parse(text)), null, 2)}\n`);
});

test('the tree hash is the SHA-256 of one "<file sha256>  <path>" line per file, sorted by path', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tree-hash-'));
  copies.push(dir);
  fs.mkdirSync(path.join(dir, 'b'));
  fs.writeFileSync(path.join(dir, 'b', 'x.yaml'), 'x\n');
  fs.writeFileSync(path.join(dir, 'a.yaml'), 'a\n');
  fs.writeFileSync(path.join(dir, 'B.yaml'), 'B\n');
  const hex = (s: string) => createHash('sha256').update(s).digest('hex');
  // Byte order: upper case before lower case, a folder's files where its name sorts.
  const listing = `${hex('B\n')}  B.yaml\n${hex('a\n')}  a.yaml\n${hex('x\n')}  b/x.yaml\n`;
  expect(treeListing(dir)).toBe(listing);
  expect(treeHash(dir)).toBe(`sha256:${hex(listing)}`);
});

test('one byte changed in a vendored source file: a sourceHash problem naming the add-on and both hashes', () => {
  const root = copy('metallb');
  const recorded = readLock(root).addons.metallb.sourceHash;
  changeOneByte(path.join(root, 'addons', 'metallb', 'source', 'config', 'manifests', 'metallb-native.yaml'));
  const actual = treeHash(path.join(root, 'addons', 'metallb', 'source'));
  expect(actual).not.toBe(recorded);
  expect(verifyAddon('metallb', root)).toEqual([
    expect.stringMatching(
      new RegExp(
        `^add-on "metallb": sourceHash: addons/metallb/source/ hashes to ${actual}, but addons/addons.lock.json records ${recorded} `,
      ),
    ),
  ]);
});

test('one byte changed in upstream.yaml: an upstreamHash problem naming the add-on and both hashes', () => {
  const root = copy('metallb');
  const recorded = readLock(root).addons.metallb.upstreamHash;
  const file = path.join(root, 'addons', 'metallb', 'upstream.yaml');
  changeOneByte(file);
  const actual = `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
  expect(verifyAddon('metallb', root)).toEqual([
    expect.stringMatching(
      new RegExp(
        `^add-on "metallb": upstreamHash: addons/metallb/upstream.yaml hashes to ${actual}, but addons/addons.lock.json records ${recorded} `,
      ),
    ),
  ]);
});

test('a file added to a vendored source: a sourceHash problem', () => {
  const root = copy('kube-network-policies');
  fs.writeFileSync(path.join(root, 'addons', 'kube-network-policies', 'source', 'extra.yaml'), 'kind: ConfigMap\n');
  expect(verifyAddon('kube-network-policies', root)).toEqual([
    expect.stringMatching(
      /^add-on "kube-network-policies": sourceHash: addons\/kube-network-policies\/source\/ hashes to sha256:[0-9a-f]{64}, but/,
    ),
  ]);
});

test('a vendored file removed: named as missing, and the sourceHash differs', () => {
  const root = copy('kube-network-policies');
  fs.rmSync(path.join(root, 'addons', 'kube-network-policies', 'source', 'install.yaml'));
  expect(verifyAddon('kube-network-policies', root)).toEqual([
    'add-on "kube-network-policies": addons/kube-network-policies/source/install.yaml, named in addons/addons.lock.json, is missing',
    expect.stringMatching(/^add-on "kube-network-policies": sourceHash: /),
  ]);
});

test('upstream.yaml removed, and an add-on the lock does not know', () => {
  const root = copy('kube-network-policies');
  fs.rmSync(path.join(root, 'addons', 'kube-network-policies', 'upstream.yaml'));
  expect(verifyAddon('kube-network-policies', root)).toEqual([
    'add-on "kube-network-policies": addons/kube-network-policies/upstream.yaml is missing (run npm run addons:refresh -- kube-network-policies)',
  ]);
  expect(verifyAddon('nginx-ingress', root)).toEqual([
    expect.stringMatching(
      /^add-on "nginx-ingress": not in addons\/addons.lock.json; the locked add-ons are argo-cd, aws-load-balancer-controller, cert-manager, .*traefik$/,
    ),
  ]);
});

test('hashes remembered from an earlier run are not used for a file written since: the change is found', () => {
  const root = copy('metallb');
  fs.mkdirSync(path.join(root, 'node_modules', '.cache', 'lab-to-prod'), { recursive: true });
  // A file written less than two seconds ago is hashed every time; then its hash is remembered.
  expect(verifyAddon('metallb', root)).toEqual([]);
  expect(fs.existsSync(path.join(root, 'node_modules', '.cache', 'lab-to-prod', 'addon-file-hashes.json'))).toBe(false);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2100);
  expect(verifyAddon('metallb', root)).toEqual([]);
  const remembered = JSON.parse(
    fs.readFileSync(path.join(root, 'node_modules', '.cache', 'lab-to-prod', 'addon-file-hashes.json'), 'utf8'),
  ) as { entries: Record<string, unknown> };
  const manifest = path.join(root, 'addons', 'metallb', 'source', 'config', 'manifests', 'metallb-native.yaml');
  expect(Object.keys(remembered.entries)).toContain(manifest);

  changeOneByte(manifest);
  expect(verifyAddon('metallb', root)).toEqual([expect.stringMatching(/^add-on "metallb": sourceHash: /)]);
  changeOneByte(path.join(root, 'addons', 'metallb', 'upstream.yaml'));
  expect(verifyAddon('metallb', root)).toEqual([
    expect.stringMatching(/^add-on "metallb": sourceHash: /),
    expect.stringMatching(/^add-on "metallb": upstreamHash: /),
  ]);
});

test('a remembered hash is used only for the same identity, taken two seconds or more after the last write', () => {
  const lie = '0'.repeat(64);
  /** verifyAddon in a fresh copy whose cache remembers `lie` for upstream.yaml, with what entry() makes of its identity. */
  const verifyRemembering = (entry: (identity: string, writtenAt: number) => Record<string, unknown>) => {
    const root = copy('metallb');
    const cache = path.join(root, 'node_modules', '.cache', 'lab-to-prod');
    fs.mkdirSync(cache, { recursive: true });
    const upstream = path.join(root, 'addons', 'metallb', 'upstream.yaml');
    // Written long ago as far as its modification time says; its change time is now, and the later counts.
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(upstream, old, old);
    const stat = fs.statSync(upstream, { bigint: true });
    const identity = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    const writtenAt = Number((stat.ctimeNs > stat.mtimeNs ? stat.ctimeNs : stat.mtimeNs) / 1_000_000n);
    fs.writeFileSync(
      path.join(cache, 'addon-file-hashes.json'),
      JSON.stringify({ entries: { [upstream]: { sha256: lie, ...entry(identity, writtenAt) } } }),
    );
    return verifyAddon('metallb', root);
  };
  // Read within two seconds of the last write (racy): not used; the file is hashed, and matches the lock.
  expect(verifyRemembering((identity, writtenAt) => ({ identity, readAt: writtenAt + 1500, writtenAt }))).toEqual([]);
  // Another device, or another inode: not used.
  for (const other of [(id: string) => id.replace(/^\d+/, '1'), (id: string) => id.replace(/^(\d+):\d+/, '$1:1')]) {
    expect(
      verifyRemembering((identity, writtenAt) => ({
        identity: other(identity),
        readAt: writtenAt + 10_000,
        writtenAt,
      })),
    ).toEqual([]);
  }
  // An entry of the earlier shape, without the times: not used.
  expect(verifyRemembering((identity) => ({ identity }))).toEqual([]);
  // The same identity, read long after the write: used (the false hash shows it was), which is the cache's point.
  expect(verifyRemembering((identity, writtenAt) => ({ identity, readAt: writtenAt + 10_000, writtenAt }))).toEqual([
    expect.stringMatching(
      new RegExp(`^add-on "metallb": upstreamHash: addons/metallb/upstream.yaml hashes to sha256:${lie},`),
    ),
  ]);
});
