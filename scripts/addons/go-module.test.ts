import * as http from 'http';
import { AddressInfo } from 'net';
import {
  DEFAULT_GOPROXY,
  checkModuleHash,
  downloadModule,
  escapeModulePath,
  filesAt,
  goProxy,
  hashInLookup,
  moduleHash,
  readZip,
} from './go-module';

// rsc.io/quote v1.5.2, the module of the Go modules tutorial (2987 bytes): its zip and the checksum
// database's answer for it, read from the module proxy (network to the proxy: allowed in the tests).
const PROXY = goProxy();
let ZIP: Buffer;
let LOOKUP: string;
beforeAll(async () => {
  const get = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
  ZIP = await get(`${PROXY}/rsc.io/quote/@v/v1.5.2.zip`);
  LOOKUP = (await get(`${PROXY}/sumdb/sum.golang.org/lookup/rsc.io/quote@v1.5.2`)).toString('utf8');
});
/** Its line in every go.sum that requires it. */
const GO_SUM_HASH = 'h1:w5fcysjrx7yqtD/aO+QwRjYZOKnaM9Uh2b40tElTs3Y=';

test("a module zip's h1 hash is its go.sum line's", () => {
  const files = readZip(ZIP);
  expect(files.map((f) => f.name)).toContain('rsc.io/quote@v1.5.2/quote.go');
  expect(moduleHash(files)).toBe(GO_SUM_HASH);
});

test('one changed byte in one file changes the h1 hash', () => {
  const files = readZip(ZIP).map((f) =>
    f.name.endsWith('/quote.go') ? { name: f.name, data: Buffer.concat([f.data, Buffer.from(' ')]) } : f,
  );
  expect(moduleHash(files)).not.toBe(GO_SUM_HASH);
});

test("the checksum database's answer is read for the module's own line, not its go.mod's", () => {
  expect(hashInLookup(LOOKUP, 'rsc.io/quote', 'v1.5.2')).toBe(GO_SUM_HASH);
  expect(() => hashInLookup(LOOKUP, 'rsc.io/quote', 'v1.5.3')).toThrow(
    `the Go checksum database's answer has no line "rsc.io/quote v1.5.3 h1:..."`,
  );
});

test('a hash other than the recorded one is refused, naming both', () => {
  expect(() => checkModuleHash('rsc.io/quote', 'v1.5.2', 'h1:AAAA=', GO_SUM_HASH)).toThrow(
    `rsc.io/quote@v1.5.2: the downloaded zip hashes to h1:AAAA=, but the Go checksum database records ${GO_SUM_HASH}; refusing it`,
  );
});

test("GOPROXY's first entry is the proxy; direct or off cannot be used", () => {
  expect(goProxy({})).toBe(DEFAULT_GOPROXY);
  expect(goProxy({ GOPROXY: 'https://goproxy.example/,direct' })).toBe('https://goproxy.example');
  expect(goProxy({ GOPROXY: 'https://a.example|https://b.example' })).toBe('https://a.example');
  expect(() => goProxy({ GOPROXY: 'direct' })).toThrow(/GOPROXY's first entry is "direct"/);
  expect(escapeModulePath('github.com/BurntSushi/toml')).toBe('github.com/!burnt!sushi/toml');
});

test('only the named paths are taken from a module, and a path it lacks is refused', () => {
  const files = readZip(ZIP);
  expect([...filesAt(files, 'rsc.io/quote@v1.5.2/', ['quote.go']).keys()]).toEqual(['quote.go']);
  expect(() => filesAt(files, 'rsc.io/quote@v1.5.2/', ['deploy/charts'])).toThrow(
    'rsc.io/quote@v1.5.2: the module has nothing at deploy/charts',
  );
});

/** A module proxy on a local port serving the fixture zip and a checksum database answer. */
async function withProxy(lookup: string, run: (proxy: string) => Promise<void>): Promise<void> {
  const server = http.createServer((request, response) => {
    if (request.url === '/rsc.io/quote/@v/v1.5.2.zip') response.end(ZIP);
    else if (request.url === '/sumdb/sum.golang.org/lookup/rsc.io/quote@v1.5.2') response.end(lookup);
    else response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a download is checked against the checksum database: the recorded hash passes', async () => {
  await withProxy(LOOKUP, async (proxy) => {
    const { moduleSum, files } = await downloadModule('rsc.io/quote', 'v1.5.2', proxy);
    expect(moduleSum).toBe(GO_SUM_HASH);
    expect(files.length).toBe(readZip(ZIP).length);
  });
});

test('a download whose hash the checksum database does not record is refused', async () => {
  const wrong = LOOKUP.replace(GO_SUM_HASH, 'h1:0000000000000000000000000000000000000000000=');
  await withProxy(wrong, async (proxy) => {
    await expect(downloadModule('rsc.io/quote', 'v1.5.2', proxy)).rejects.toThrow(
      `rsc.io/quote@v1.5.2: the downloaded zip hashes to ${GO_SUM_HASH}, but the Go checksum database records h1:0000000000000000000000000000000000000000000=; refusing it`,
    );
  });
});

test('a proxy that does not pass the checksum database on stops the download: the check is never skipped', async () => {
  const server = http.createServer((request, response) => {
    if (request.url === '/rsc.io/quote/@v/v1.5.2.zip') response.end(ZIP);
    else response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await expect(downloadModule('rsc.io/quote', 'v1.5.2', proxy)).rejects.toThrow(
      `GET ${proxy}/sumdb/sum.golang.org/lookup/rsc.io/quote@v1.5.2: 404 Not Found`,
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
