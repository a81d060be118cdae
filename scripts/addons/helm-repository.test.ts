import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { archiveInIndex, checkArchiveDigest, downloadChart, readChartArchive } from './helm-repository';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-repository-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A chart archive as `helm package` lays it out: a gzipped tar of the folder <chart>/. */
function archiveOf(folder: string, files: Record<string, string>): Buffer {
  const dir = fs.mkdtempSync(path.join(work, 'chart-'));
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, folder, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, folder, file), text);
  }
  return execFileSync('tar', ['-czf', '-', '-C', dir, folder]);
}

const ARCHIVE = archiveOf('demo', {
  'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 1.2.3\n',
  'templates/configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n',
});
const DIGEST = createHash('sha256').update(ARCHIVE).digest('hex');

const indexWith = (digest: string) =>
  `apiVersion: v1\nentries:\n  demo:\n    - version: 1.2.3\n      digest: ${digest}\n      urls:\n        - demo-1.2.3.tgz\n    - version: 1.2.2\n      digest: ${digest}\n      urls:\n        - demo-1.2.2.tgz\n`;

/** A chart repository on a local port: index.yaml and the archive it names (relative URL, as chart-releaser writes). */
async function withRepository(index: string, run: (repository: string) => Promise<void>): Promise<void> {
  const server = http.createServer((request, response) => {
    if (request.url === '/charts/index.yaml') response.end(index);
    else if (request.url === '/charts/demo-1.2.3.tgz') response.end(ARCHIVE);
    else response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/charts`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test("a chart is downloaded from the archive the index names and kept when it has the index's digest", async () => {
  await withRepository(indexWith(DIGEST), async (repository) => {
    const { files, archiveDigest } = await downloadChart(repository, 'demo', '1.2.3');
    expect(archiveDigest).toBe(`sha256:${DIGEST}`);
    expect([...files.keys()].sort()).toEqual(['demo/Chart.yaml', 'demo/templates/configmap.yaml']);
    expect(files.get('demo/Chart.yaml')!.toString()).toBe('apiVersion: v2\nname: demo\nversion: 1.2.3\n');
  });
});

test("an archive whose SHA-256 is not the index's digest is refused", async () => {
  const wrong = '0'.repeat(64);
  await withRepository(indexWith(wrong), async (repository) => {
    await expect(downloadChart(repository, 'demo', '1.2.3')).rejects.toThrow(
      `demo 1.2.3 (${repository}/demo-1.2.3.tgz): the downloaded archive hashes to sha256:${DIGEST}, but the repository's index.yaml states sha256:${wrong}; refusing it`,
    );
  });
  expect(() => checkArchiveDigest(ARCHIVE, `sha256:${DIGEST}`, 'demo')).not.toThrow();
});

test('a version or a chart the index does not list is named', () => {
  expect(() => archiveInIndex(indexWith(DIGEST), 'https://charts.example', 'demo', '9.9.9')).toThrow(
    'https://charts.example/index.yaml lists no version 9.9.9 of "demo" (the newest are 1.2.3, 1.2.2)',
  );
  expect(() => archiveInIndex(indexWith(DIGEST), 'https://charts.example', 'other', '1.2.3')).toThrow(
    'https://charts.example/index.yaml lists no chart "other"',
  );
  expect(archiveInIndex(indexWith(DIGEST), 'https://charts.example/sub', 'demo', '1.2.3').url).toBe(
    'https://charts.example/sub/demo-1.2.3.tgz',
  );
});

test('an archive holding anything outside the chart folder is refused', () => {
  const archive = archiveOf('elsewhere', { 'Chart.yaml': 'name: elsewhere\n' });
  expect(() => readChartArchive(archive, 'demo')).toThrow(
    'chart archive: entry "elsewhere/" is outside the folder demo/',
  );
});
