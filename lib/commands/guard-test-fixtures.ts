/**
 * What the guard's tests need: CA certificates made here, kubeconfigs that point at them, a loopback
 * port that counts who connects, and the commands run as a user runs them (node speed/tsrun.js ...).
 * No cluster answers anywhere: the guard decides from the kubeconfig alone, and the port says
 * whether a command went on to contact the server.
 */
import { spawn } from 'child_process';
import { createHash, KeyObject, sign } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { der, newKeyPair, pem, subjectName } from './lab-access-steps';

export const ROOT = path.resolve(__dirname, '..', '..');

/** A self-signed CA certificate and the hash kubeadm would print for it, computed from the key. */
export interface TestCa {
  readonly pem: string;
  readonly hash: string;
}

/** A new CA: a P-256 key and a self-signed certificate for it, named `name`. */
export function newCa(name: string): TestCa {
  const { publicKey, privateKey } = newKeyPair();
  return {
    pem: selfSigned(name, publicKey, privateKey),
    hash: `sha256:${createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')}`,
  };
}

function selfSigned(name: string, publicKey: KeyObject, privateKey: KeyObject): string {
  const algorithm = der.sequence(der.objectIdentifier('1.2.840.10045.4.3.2'));
  const time = (t: string): Buffer => der.tlv(0x17, Buffer.from(t));
  const tbs = der.sequence(
    der.tlv(0xa0, der.tlv(0x02, Buffer.from([2]))),
    der.tlv(0x02, Buffer.from([1])),
    algorithm,
    subjectName(name, []),
    der.sequence(time('260101000000Z'), time('360101000000Z')),
    subjectName(name, []),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  return pem(
    'CERTIFICATE',
    der.sequence(tbs, algorithm, der.tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, privateKey)]))),
  );
}

/** One cluster of a test kubeconfig: its server and what it says about the CA. */
export interface TestCluster {
  readonly server: string;
  /** PEM text for certificate-authority-data; several certificates make a bundle. */
  readonly caPem?: string;
  /** A file for certificate-authority instead of the data. */
  readonly caFile?: string;
}

/** Writes a kubeconfig into dir: one cluster per entry, one context per context name (cluster: its name), and the current one. */
export function writeKubeconfig(
  dir: string,
  clusters: Record<string, TestCluster>,
  contexts: Record<string, string>,
  current?: string,
): string {
  const file = path.join(dir, `kubeconfig-${fs.readdirSync(dir).length}`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: Object.entries(clusters).map(([name, c]) => ({
        name,
        cluster: {
          server: c.server,
          ...(c.caPem !== undefined ? { 'certificate-authority-data': Buffer.from(c.caPem).toString('base64') } : {}),
          ...(c.caFile !== undefined ? { 'certificate-authority': c.caFile } : {}),
        },
      })),
      users: [{ name: 'nobody', user: { token: 'not-a-token' } }],
      contexts: Object.entries(contexts).map(([name, cluster]) => ({ name, context: { cluster, user: 'nobody' } })),
      ...(current !== undefined ? { 'current-context': current } : {}),
    }),
  );
  return file;
}

/** A port on loopback that accepts and closes every connection, counting them. */
export interface CountingPort {
  readonly server: string;
  connections(): number;
  /** Resolves at the next connection. */
  nextConnection(): Promise<void>;
  close(): Promise<void>;
}

export async function countingPort(): Promise<CountingPort> {
  let count = 0;
  let waiting: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    count++;
    waiting.forEach((resolve) => resolve());
    waiting = [];
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as net.AddressInfo;
  return {
    server: `https://127.0.0.1:${port}`,
    connections: () => count,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        listener.close(() => resolve());
      }),
  };
}

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs one of the project's commands (lib/commands/<name>.ts) as `npm run <name>` does, without blocking
 * this process, so that the counting port can accept a connection while the command runs. `stop`, when
 * it settles, ends the command and what it started (SIGTERM to its process group): once it has connected, the test has seen what it waits for.
 */
export function runCommand(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd = ROOT,
  stop?: Promise<unknown>,
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'speed', 'tsrun.js'), path.join(ROOT, 'lib', 'commands', script), ...args],
      {
        // A process group of its own, so that stopping it stops the kubectl it is waiting for too.
        cwd,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    void stop?.then(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // Already gone: it ended on its own.
      }
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A temporary folder, removed by the returned function. */
export function temporaryFolder(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
