/**
 * An add-on's upstream source as a Go module: the zip the Go module proxy serves for a module version
 * holds the repository's files at that tag (charts and manifests included), and its go.sum hash is
 * recorded, for every module version anyone fetched, in the Go checksum database. So a module zip is
 * a source whose bytes can be checked against a public, append-only record, without Git or GitHub.
 *
 * The protocol (https://go.dev/ref/mod#goproxy-protocol): `<proxy>/<module>/@v/<version>.zip`, where
 * upper-case letters in the module path are written `!` + lower case; the checksum database is read
 * through the same proxy (`<proxy>/sumdb/sum.golang.org/lookup/<module>@<version>`,
 * https://go.dev/ref/mod#checksum-database).
 */
import { createHash } from 'crypto';
import { inflateRawSync } from 'zlib';

/** The public Go module proxy, used when GOPROXY names none. */
export const DEFAULT_GOPROXY = 'https://proxy.golang.org';

/**
 * The proxy to download from: GOPROXY's first entry when it is a URL (the go command tries the list in
 * order; `direct` and `off` mean no proxy, which this command cannot use: it does not speak Git).
 */
export function goProxy(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.GOPROXY ?? '').split(/[,|]/)[0].trim();
  if (first === '') return DEFAULT_GOPROXY;
  if (first === 'direct' || first === 'off') {
    throw new Error(
      `GOPROXY's first entry is "${first}": the add-ons' refresh downloads module zips from a module proxy; set GOPROXY to one (the default is ${DEFAULT_GOPROXY})`,
    );
  }
  return first.replace(/\/+$/, '');
}

/** A module path or version as the proxy protocol writes it: each upper-case letter becomes `!` + lower case. */
export function escapeModulePath(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => `!${letter.toLowerCase()}`);
}

/** One file of a zip archive. */
export interface ZipFile {
  readonly name: string;
  readonly data: Buffer;
}

/**
 * The files of a zip archive, read from its central directory (what module zips use: stored or
 * deflated entries, no encryption, no zip64 since a module zip is at most 500 MB).
 */
export function readZip(zip: Buffer): ZipFile[] {
  // The end of central directory record: signature 0x06054b50, at most 65535 bytes of comment after it.
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive: no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let entry = zip.readUInt32LE(end + 16);
  const files: ZipFile[] = [];
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(entry) !== 0x02014b50) throw new Error(`zip archive: bad central directory entry ${n}`);
    const method = zip.readUInt16LE(entry + 10);
    const compressedSize = zip.readUInt32LE(entry + 20);
    const size = zip.readUInt32LE(entry + 24);
    const nameLength = zip.readUInt16LE(entry + 28);
    const extraLength = zip.readUInt16LE(entry + 30);
    const commentLength = zip.readUInt16LE(entry + 32);
    const localHeader = zip.readUInt32LE(entry + 42);
    const name = zip.toString('utf8', entry + 46, entry + 46 + nameLength);
    entry += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue; // a folder entry
    if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw new Error(`zip archive: bad local header of ${name}`);
    const start = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const raw = zip.subarray(start, start + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) data = inflateRawSync(raw);
    else
      throw new Error(
        `zip archive: ${name} uses compression method ${method}; only stored (0) and deflate (8) are read`,
      );
    if (data.length !== size) throw new Error(`zip archive: ${name} is ${data.length} bytes, its entry says ${size}`);
    files.push({ name, data });
  }
  return files;
}

/**
 * A module zip's go.sum hash: Go's dirhash Hash1 (golang.org/x/mod/sumdb/dirhash): the SHA-256 of the
 * lines `<hex SHA-256 of the file>  <name in the zip>\n`, sorted by name, written `h1:` + base64.
 */
export function moduleHash(files: readonly ZipFile[]): string {
  const names = files.map((f) => f.name).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const byName = new Map(files.map((f) => [f.name, f.data]));
  const summary = createHash('sha256');
  for (const name of names) {
    if (name.includes('\n')) throw new Error(`zip archive: a file name holds a new line: ${JSON.stringify(name)}`);
    summary.update(`${createHash('sha256').update(byName.get(name)!).digest('hex')}  ${name}\n`);
  }
  return `h1:${summary.digest('base64')}`;
}

/**
 * The go.sum hash the checksum database records for module@version, from the text of its lookup
 * answer: a record number, then the lines `<module> <version> h1:...` and `<module> <version>/go.mod
 * h1:...`, then the signed tree head.
 */
export function hashInLookup(lookup: string, module: string, version: string): string {
  const line = lookup.split('\n').find((l) => l.startsWith(`${module} ${version} h1:`));
  if (line === undefined) {
    throw new Error(`the Go checksum database's answer has no line "${module} ${version} h1:..."`);
  }
  return line.slice(`${module} ${version} `.length).trim();
}

/** Refuses a module zip whose hash is not the one the checksum database records. */
export function checkModuleHash(module: string, version: string, computed: string, recorded: string): void {
  if (computed !== recorded) {
    throw new Error(
      `${module}@${version}: the downloaded zip hashes to ${computed}, but the Go checksum database records ${recorded}; refusing it (the proxy served other bytes than everyone else got)`,
    );
  }
}

async function httpGet(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
  return Buffer.from(await response.arrayBuffer());
}

/** A module version's files, downloaded from the proxy and checked against the checksum database, with its go.sum hash. */
export async function downloadModule(
  module: string,
  version: string,
  proxy: string = goProxy(),
): Promise<{ files: ZipFile[]; moduleSum: string }> {
  const escaped = `${escapeModulePath(module)}/@v/${escapeModulePath(version)}`;
  const zip = await httpGet(`${proxy}/${escaped}.zip`);
  const files = readZip(zip);
  const computed = moduleHash(files);
  // The checksum database through the same proxy, as the go command asks it. A proxy that does not
  // pass the database on answers 404: the refresh stops there rather than skip the check.
  const lookup = (
    await httpGet(`${proxy}/sumdb/sum.golang.org/lookup/${escapeModulePath(module)}@${escapeModulePath(version)}`)
  ).toString('utf8');
  checkModuleHash(module, version, computed, hashInLookup(lookup, module, version));
  return { files, moduleSum: computed };
}

/**
 * The files of a module zip under one of the paths (a file, or a folder and everything in it), keyed
 * by their path inside the module (the zip's `<module>@<version>/` prefix removed).
 */
export function filesAt(files: readonly ZipFile[], prefix: string, paths: readonly string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const file of files) {
    if (!file.name.startsWith(prefix)) throw new Error(`zip archive: ${file.name} is outside ${prefix}`);
    const relative = file.name.slice(prefix.length);
    if (paths.some((p) => relative === p || relative.startsWith(`${p}/`))) out.set(relative, file.data);
  }
  for (const p of paths) {
    if (![...out.keys()].some((relative) => relative === p || relative.startsWith(`${p}/`))) {
      throw new Error(`${prefix.slice(0, -1)}: the module has nothing at ${p}`);
    }
  }
  return out;
}
