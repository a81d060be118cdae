/**
 * An add-on's upstream source as a chart in a Helm chart repository, fetched the way `helm pull
 * <chart> --repo <repository> --version <version>` fetches it: the repository's index.yaml names the
 * archive's address and its SHA-256 digest; the archive is downloaded and refused unless it has that
 * digest (https://helm.sh/docs/topics/chart_repository/#the-index-file).
 */
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FAILSAFE_SCHEMA, load } from 'js-yaml';

/** One version of a chart as the repository's index lists it. */
export interface ChartArchive {
  readonly url: string;
  /** `sha256:<hex>`. */
  readonly digest: string;
}

/** The archive of chart@version named by a repository's index.yaml (its URL resolved against the repository's). */
export function archiveInIndex(indexText: string, repository: string, chart: string, version: string): ChartArchive {
  // Every scalar as a string: a digest of digits only, or a version like 1.10, must not become a number.
  const index = load(indexText, { schema: FAILSAFE_SCHEMA }) as {
    entries?: Record<string, { version?: string; urls?: string[]; digest?: string }[]>;
  };
  const versions = index?.entries?.[chart];
  if (versions === undefined) throw new Error(`${repository}/index.yaml lists no chart "${chart}"`);
  const entry = versions.find((v) => String(v.version).replace(/^v/, '') === version.replace(/^v/, ''));
  if (entry === undefined) {
    const known = versions.slice(0, 10).map((v) => v.version);
    throw new Error(
      `${repository}/index.yaml lists no version ${version} of "${chart}" (the newest are ${known.join(', ')})`,
    );
  }
  if (!entry.urls?.length || !/^[0-9a-f]{64}$/.test(entry.digest ?? '')) {
    throw new Error(`${repository}/index.yaml: ${chart} ${version} has no archive URL or no SHA-256 digest`);
  }
  return { url: new URL(entry.urls[0], `${repository.replace(/\/+$/, '')}/`).href, digest: `sha256:${entry.digest}` };
}

/** Refuses an archive whose SHA-256 is not the index's digest. */
export function checkArchiveDigest(archive: Buffer, expected: string, what: string): void {
  const actual = `sha256:${createHash('sha256').update(archive).digest('hex')}`;
  if (actual !== expected) {
    throw new Error(
      `${what}: the downloaded archive hashes to ${actual}, but the repository's index.yaml states ${expected}; refusing it`,
    );
  }
}

/**
 * The files of a chart archive (a gzipped tar holding the folder `<chart>/`), keyed by their path in
 * the archive. Unpacked by the system's tar into a scratch folder; entries that would leave it, and
 * links, are refused.
 */
export function readChartArchive(archive: Buffer, chart: string): Map<string, Buffer> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'addon-chart-'));
  try {
    const names = execFileSync('tar', ['-tzf', '-'], { input: archive, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\n')
      .filter((n) => n !== '');
    for (const name of names) {
      if (
        name.startsWith('/') ||
        name.split('/').includes('..') ||
        !(name === `${chart}/` || name.startsWith(`${chart}/`))
      ) {
        throw new Error(`chart archive: entry "${name}" is outside the folder ${chart}/`);
      }
    }
    execFileSync('tar', ['-xzf', '-', '-C', work, '--no-same-owner', '--no-same-permissions'], { input: archive });
    const files = new Map<string, Buffer>();
    const walk = (relative: string) => {
      for (const entry of fs.readdirSync(path.join(work, relative), { withFileTypes: true })) {
        const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) walk(child);
        else if (entry.isFile()) files.set(child, fs.readFileSync(path.join(work, child)));
        else throw new Error(`chart archive: ${child} is not a regular file`);
      }
    };
    walk('');
    return files;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function httpGet(url: string): Promise<Buffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${response.statusText}`);
  return Buffer.from(await response.arrayBuffer());
}

/** chart@version from the repository: its files (under `<chart>/`) and the archive's digest, checked. */
export async function downloadChart(
  repository: string,
  chart: string,
  version: string,
): Promise<{ files: Map<string, Buffer>; archiveDigest: string }> {
  const index = (await httpGet(`${repository.replace(/\/+$/, '')}/index.yaml`)).toString('utf8');
  const archive = archiveInIndex(index, repository, chart, version);
  const bytes = await httpGet(archive.url);
  checkArchiveDigest(bytes, archive.digest, `${chart} ${version} (${archive.url})`);
  return { files: readChartArchive(bytes, chart), archiveDigest: archive.digest };
}
