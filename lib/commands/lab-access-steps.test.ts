import { spawnSync } from 'child_process';
import { createPublicKey, KeyObject, sign, verify } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import { load } from 'js-yaml';
import * as path from 'path';
import { lab } from '../environments/lab';
import {
  certificateSigningRequest,
  checkIssuedCertificate,
  CLIENT_SIGNER,
  clusterOf,
  csrManifest,
  csrName,
  der,
  LabAccessUsageError,
  newKeyPair,
  parseLabAccessArgs,
  pem,
  subjectName,
  userKubeconfig,
} from './lab-access-steps';

/** Reads one DER element at `offset`: its tag, where its content starts and ends. */
function element(buf: Buffer, offset = 0): { tag: number; start: number; end: number } {
  const tag = buf[offset];
  let length = buf[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[start + i];
    start += count;
  }
  return { tag, start, end: start + length };
}

/** The children of a constructed DER element. */
function children(
  buf: Buffer,
  parent: { start: number; end: number },
): { tag: number; start: number; end: number; whole: Buffer }[] {
  const out = [];
  for (let at = parent.start; at < parent.end;) {
    const e = element(buf, at);
    out.push({ ...e, whole: buf.subarray(at, e.end) });
    at = e.end;
  }
  return out;
}

const derOf = (pemText: string) => Buffer.from(pemText.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');

describe('parseLabAccessArgs', () => {
  test('defaults: one group, seven days, five minutes of waiting, ~/.kube/lab-<user>.kubeconfig', () => {
    expect(parseLabAccessArgs(['--user', 'alice', '--group', 'web-viewers'], lab)).toEqual({
      user: 'alice',
      groups: ['web-viewers'],
      context: undefined,
      out: path.join(os.homedir(), '.kube', 'lab-alice.kubeconfig'),
      days: 7,
      waitSeconds: 300,
      force: false,
    });
  });

  test('several groups, every option', () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    expect(
      parseLabAccessArgs(
        [
          '--user=bob',
          '--group',
          'web-on-call',
          '--group',
          'api-viewers',
          '--context',
          'kubernetes-admin@lab',
          '--confirm-cluster',
          hash,
          '--out',
          'bob.kubeconfig',
          '--days',
          '1',
          '--wait',
          '0',
          '--force',
        ],
        lab,
      ),
    ).toEqual({
      user: 'bob',
      groups: ['web-on-call', 'api-viewers'],
      context: 'kubernetes-admin@lab',
      confirmCluster: hash,
      out: 'bob.kubeconfig',
      days: 1,
      waitSeconds: 0,
      force: true,
    });
  });

  test.each([
    [[], /--user is required/],
    [
      ['--user', 'alice'],
      /--group is required: one or more of the lab's groups \(api-deployers, api-on-call, api-viewers, /,
    ],
    [['--user', 'system:admin', '--group', 'web-viewers'], /--user "system:admin" is not a user name/],
    [['--user', 'Alice Smith', '--group', 'web-viewers'], /--user "Alice Smith" is not a user name/],
    [
      ['--user', 'alice', '--group', 'system:masters'],
      /--group "system:masters" is not a group the lab declares .*; allowed: api-deployers, /,
    ],
    [['--user', 'alice', '--group', 'web-admins'], /--group "web-admins" is not a group the lab declares/],
    [['--user', 'alice', '--group', 'web-viewers', '--days', '0'], /--days "0" is not a whole number from 1 to 365/],
    [['--user', 'alice', '--group', 'web-viewers', '--days', '2.5'], /--days "2.5" is not a whole number/],
    [
      ['--user', 'alice', '--group', 'web-viewers', '--admin'],
      /unknown option "--admin"; the options are --user, --group, /,
    ],
    [
      ['--user', 'alice', '--group', 'web-viewers', '--confirm-cluster', 'yes'],
      /--confirm-cluster: Invalid value: "yes": "sha256:" and 64 lowercase hex digits/,
    ],
  ])('%j is refused', (argv, message) => {
    expect(() => parseLabAccessArgs(argv, lab)).toThrow(LabAccessUsageError);
    expect(() => parseLabAccessArgs(argv, lab)).toThrow(message);
  });
});

describe('the certificate signing request', () => {
  const { publicKey, privateKey } = newKeyPair();
  const groups = ['web-viewers', 'api-on-call'];
  const csrPem = certificateSigningRequest('alice', groups, publicKey, privateKey);
  const csr = derOf(csrPem);
  const [info, algorithm, signature] = children(csr, element(csr));

  test('is PEM of one PKCS #10 request: info, ecdsa-with-SHA256, signature', () => {
    expect(csrPem).toMatch(
      /^-----BEGIN CERTIFICATE REQUEST-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END CERTIFICATE REQUEST-----\n$/,
    );
    expect(element(csr).end).toBe(csr.length);
    expect(algorithm.whole.toString('hex')).toBe('300a06082a8648ce3d040302');
    expect(signature.tag).toBe(0x03);
  });

  test('is signed by the private key of the public key it carries', () => {
    const [, , spki] = children(csr, info);
    expect(
      createPublicKey({ key: spki.whole, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }),
    ).toEqual(publicKey.export({ type: 'spki', format: 'der' }));
    const sig = csr.subarray(signature.start + 1, signature.end); // after the unused-bits byte
    expect(verify('sha256', info.whole, publicKey, sig)).toBe(true);
    expect(verify('sha256', Buffer.concat([info.whole, Buffer.from([0])]), publicKey, sig)).toBe(false);
  });

  test('names each group as an organisation and the user as the common name', () => {
    const [, subject] = children(csr, info);
    expect(subject.whole).toEqual(subjectName('alice', groups));
    const values = children(csr, subject).map((rdn) => {
      const [attr] = children(csr, rdn);
      const [oid, value] = children(csr, attr);
      return [oid.whole.toString('hex'), csr.subarray(value.start, value.end).toString('utf8')];
    });
    // 2.5.4.10 organizationName, 2.5.4.3 commonName
    expect(values).toEqual([
      ['060355040a', 'web-viewers'],
      ['060355040a', 'api-on-call'],
      ['0603550403', 'alice'],
    ]);
  });

  test("goes to the cluster without the private key, for the API server's client signer", () => {
    const manifest = csrManifest(csrName('alice', publicKey), csrPem, 7) as any;
    const sent = JSON.stringify(manifest);
    const keyDer = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
    expect(sent).not.toContain('PRIVATE KEY');
    expect(sent).not.toContain(keyDer.slice(40, 80));
    expect(manifest.spec).toEqual({
      request: Buffer.from(csrPem).toString('base64'),
      signerName: CLIENT_SIGNER,
      expirationSeconds: 604800,
      usages: ['client auth', 'digital signature'],
    });
    expect(manifest.metadata.name).toMatch(/^lab-access-alice-[0-9a-f]{12}$/);
  });

  test('a user name with @ still makes a valid object name', () => {
    expect(csrName('alice@lab.example', publicKey)).toMatch(/^lab-access-alice-lab\.example-[0-9a-f]{12}$/);
  });

  test('DER lengths of 128 bytes and more use the long form', () => {
    expect(der.tlv(0x04, Buffer.alloc(200)).subarray(0, 3)).toEqual(Buffer.from([0x04, 0x81, 200]));
    expect(der.tlv(0x04, Buffer.alloc(300)).subarray(0, 4)).toEqual(Buffer.from([0x04, 0x82, 0x01, 0x2c]));
  });
});

/** A self-signed certificate for the key, with this subject: what the cluster's signer would return. */
function certificateFor(publicKey: KeyObject, privateKey: KeyObject, user: string, groups: string[]): string {
  const algorithm = der.sequence(der.objectIdentifier('1.2.840.10045.4.3.2'));
  const time = (t: string) => der.tlv(0x17, Buffer.from(t));
  const tbs = der.sequence(
    der.tlv(0xa0, der.tlv(0x02, Buffer.from([2]))),
    der.tlv(0x02, Buffer.from([1])),
    algorithm,
    subjectName(user, groups),
    der.sequence(time('260101000000Z'), time('360101000000Z')),
    subjectName(user, groups),
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  return pem(
    'CERTIFICATE',
    der.sequence(tbs, algorithm, der.tlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, privateKey)]))),
  );
}

describe('checkIssuedCertificate', () => {
  const { publicKey, privateKey } = newKeyPair();

  test('the certificate asked for: its expiry', () => {
    expect(
      checkIssuedCertificate(
        certificateFor(publicKey, privateKey, 'alice', ['web-viewers']),
        'alice',
        ['web-viewers'],
        publicKey,
      ),
    ).toEqual(new Date('2036-01-01T00:00:00Z'));
  });

  test('a certificate for another key is refused', () => {
    const other = newKeyPair();
    expect(() =>
      checkIssuedCertificate(
        certificateFor(other.publicKey, other.privateKey, 'alice', ['web-viewers']),
        'alice',
        ['web-viewers'],
        publicKey,
      ),
    ).toThrow('the issued certificate is not for the key made here');
  });

  test('a certificate with other groups is refused', () => {
    expect(() =>
      checkIssuedCertificate(
        certificateFor(publicKey, privateKey, 'alice', ['web-on-call']),
        'alice',
        ['web-viewers'],
        publicKey,
      ),
    ).toThrow('the issued certificate names O=web-on-call, CN=alice, not CN=alice with O=web-viewers');
  });
});

describe('the kubeconfig', () => {
  const cluster = clusterOf(
    JSON.stringify({
      clusters: [
        { name: 'lab', cluster: { server: 'https://k8s-api.lab.example:6443', 'certificate-authority-data': 'Q0E=' } },
      ],
    }),
  );

  test('holds the lab cluster, the certificate and the key, in one context named after the user', () => {
    const { publicKey, privateKey } = newKeyPair();
    const text = userKubeconfig(
      cluster,
      'alice',
      certificateFor(publicKey, privateKey, 'alice', ['web-viewers']),
      privateKey,
    );
    const config = load(text) as any;
    expect(config.clusters).toEqual([
      { name: 'lab', cluster: { server: 'https://k8s-api.lab.example:6443', 'certificate-authority-data': 'Q0E=' } },
    ]);
    expect(config.contexts).toEqual([{ name: 'alice@lab', context: { cluster: 'lab', user: 'alice' } }]);
    expect(config['current-context']).toBe('alice@lab');
    const { user } = config.users[0];
    expect(Buffer.from(user['client-key-data'], 'base64').toString()).toBe(
      privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    expect(
      checkIssuedCertificate(
        Buffer.from(user['client-certificate-data'], 'base64').toString(),
        'alice',
        ['web-viewers'],
        publicKey,
      ),
    ).toBeInstanceOf(Date);
  });

  test('a context without embedded CA data is refused', () => {
    expect(() => clusterOf(JSON.stringify({ clusters: [{ name: 'lab', cluster: { server: 'https://x' } }] }))).toThrow(
      'the kubeconfig context names no cluster with a server and embedded CA data',
    );
  });
});

// The refusals end to end, with the real kubectl reading a real kubeconfig whose server does not exist:
// nothing is created and the exit code is 2.
describe('npm run lab-access refuses before it asks anything', () => {
  let dir: string;
  const root = path.resolve(__dirname, '..', '..');
  const run = (args: string[]) =>
    spawnSync(
      process.execPath,
      [path.join(root, 'speed', 'tsrun.js'), path.join(root, 'lib', 'commands', 'lab-access.ts'), ...args],
      { encoding: 'utf8', env: { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') } },
    );
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-access-refusal-'));
    fs.writeFileSync(
      path.join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: prod, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: prod, user: {token: not-a-secret}}]',
        'contexts: [{name: prod-eks-admin, context: {cluster: prod, user: prod}}]',
        'current-context: prod-eks-admin',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(dir, 'taken.kubeconfig'), 'kept\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a cluster that is not the lab's: exit 2, and the way out", () => {
    const result = run(['--user', 'alice', '--group', 'web-viewers', '--out', path.join(dir, 'alice.kubeconfig')]);
    expect(result.stderr).toContain(
      'refusing to ask for a lab certificate from context "prod-eks-admin" (cluster "prod" at https://127.0.0.1:1): it is not the lab cluster',
    );
    expect(result.stderr).toContain("Otherwise switch to the lab cluster's context");
    expect(result.status).toBe(2);
    expect(fs.existsSync(path.join(dir, 'alice.kubeconfig'))).toBe(false);
    // Only lab-access ran: no other command's main came along in the bundle.
    expect(result.stderr).not.toMatch(/^deploy:/m);
  });

  test('an existing kubeconfig is kept unless --force', () => {
    const result = run(['--user', 'alice', '--group', 'web-viewers', '--out', path.join(dir, 'taken.kubeconfig')]);
    expect(result.stderr).toContain(
      'taken.kubeconfig exists; name another file with --out, or replace it with --force',
    );
    expect(result.status).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'taken.kubeconfig'), 'utf8')).toBe('kept\n');
  });
});
