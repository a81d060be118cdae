import { createHash, generateKeyPairSync, KeyObject, sign, X509Certificate } from 'crypto';
import * as os from 'os';
import * as path from 'path';
import { CA_CERT_HASH, CA_CERT_HASH_RULE, Environment } from '../environment';
import { peopleGroups } from '../environments/people';
import { parseCommandLine } from './command-line';
import { yamlDocuments } from '../k8s/yaml-output';

/**
 * The pure half of `npm run lab-access` (lib/commands/lab-access.ts runs the real kubectl): the lab's
 * minimal sign-in for people (production uses the organisation's). A key pair is made here, with Node's crypto; only a
 * certificate signing request, which holds the public key, goes to the cluster, as a
 * CertificateSigningRequest for the signer kubernetes.io/kube-apiserver-client. The cluster's CA
 * (kube-controller-manager's csrsigning controller) signs it once someone allowed to approves it,
 * and the API server then takes the certificate's CN as the user name and each O as a group:
 * https://kubernetes.io/docs/reference/access-authn-authz/certificate-signing-requests/#normal-user
 * The private key goes only into the kubeconfig file written here (mode 0600); it is never printed.
 */

/** The signer whose certificates the API server accepts as client credentials. */
export const CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';

export interface LabAccessOptions {
  /** The user name: the certificate's common name. */
  readonly user: string;
  /** The groups: the certificate's organisations; each one the lab declares (env.identity.people). */
  readonly groups: readonly string[];
  /** kubectl's --context; @default - the current context. Its cluster must be the lab's (lib/commands/context-guard.ts). */
  readonly context?: string;
  /** The CA hash to accept, this once, instead of the lab's cluster.caCertHash (--confirm-cluster). @default - the lab's */
  readonly confirmCluster?: string;
  /** Where the kubeconfig is written. @default ~/.kube/lab-<user>.kubeconfig */
  readonly out: string;
  /** How long the certificate is valid, in days (the CSR's expirationSeconds). @default 7 */
  readonly days: number;
  /** How long to wait for the certificate (at least 30 s, for the signer), e.g. for someone else to approve. @default 300 */
  readonly waitSeconds: number;
  /** Overwrite an existing kubeconfig at `out`. @default false */
  readonly force: boolean;
}

export const LAB_ACCESS_USAGE = `usage: npm run lab-access -- --user <name> --group <group> [--group <group>...]
                          [--context <kubectl context>] [--confirm-cluster <hash>] [--out <file>] [--days <n>] [--wait <seconds>] [--force]

Signs a lab user in: makes a key on this machine, asks the lab cluster to sign a client certificate
for it (a CertificateSigningRequest, signer ${CLIENT_SIGNER}), approves the request when you may
(else waits for someone who may), and writes a kubeconfig for that user. The private key never leaves
this machine and is never printed.
  --user <name>     the user name (the certificate's CN)
  --group <group>   a group the lab declares (the certificate's O); repeat for several
  --context <name>  the lab cluster's kubectl context (default: the current one); its cluster's CA must be
                    the one cluster.caCertHash in lib/environments/lab.ts records
  --confirm-cluster <hash>  sha256:<hex>: act, this once, on the cluster whose CA has this hash instead
  --out <file>      where to write the kubeconfig (default ~/.kube/lab-<user>.kubeconfig, mode 0600)
  --days <n>        how long the certificate is valid, 1 to 365 days (default 7)
  --wait <seconds>  how long to wait for the certificate, e.g. for someone else to approve (default 300; at least 30)
  --force           replace an existing file at --out`;

/** A user name: what kubectl auth whoami shows. Kubernetes reserves the system: prefix. */
const USER_NAME = /^[a-z0-9]([-a-z0-9._@]{0,62}[a-z0-9])?$/;

/** Bad command line: exit code 2, nothing was changed. */
export class LabAccessUsageError extends Error {}

/** Parses and checks the command line against the lab's declared groups. */
export function parseLabAccessArgs(argv: readonly string[], lab: Environment): LabAccessOptions | 'help' {
  let parsed;
  try {
    parsed = parseCommandLine(argv, {
      options: {
        user: { type: 'string' },
        group: { type: 'string', multiple: true },
        context: { type: 'string' },
        'confirm-cluster': { type: 'string' },
        out: { type: 'string' },
        days: { type: 'string' },
        wait: { type: 'string' },
        force: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new LabAccessUsageError((error as Error).message);
  }
  if (parsed === 'help') {
    return 'help';
  }
  const { values } = parsed;
  const user = values.user;
  if (user === undefined) {
    throw new LabAccessUsageError('--user is required');
  }
  if (!USER_NAME.test(user) || user.startsWith('system:')) {
    throw new LabAccessUsageError(
      `--user "${user}" is not a user name; allowed: 1 to 64 lowercase letters, digits, "-", ".", "_" or "@", ` +
        'starting and ending with a letter or digit',
    );
  }
  const declared = peopleGroups(lab);
  const groups = values.group ?? [];
  if (groups.length === 0) {
    throw new LabAccessUsageError(`--group is required: one or more of the lab's groups (${declared.join(', ')})`);
  }
  for (const group of groups) {
    if (!declared.includes(group)) {
      throw new LabAccessUsageError(
        `--group "${group}" is not a group the lab declares (lib/environments/lab.ts, identity.people); ` +
          `allowed: ${declared.join(', ')}`,
      );
    }
  }
  return {
    user,
    groups: [...new Set(groups)],
    context: values.context,
    confirmCluster: confirmedHash(values['confirm-cluster']),
    out: values.out ?? path.join(os.homedir(), '.kube', `lab-${user}.kubeconfig`),
    days: wholeNumber('--days', values.days, 7, 1, 365),
    waitSeconds: wholeNumber('--wait', values.wait, 300, 0, 3600),
    force: values.force === true,
  };
}

function confirmedHash(value: string | undefined): string | undefined {
  if (value !== undefined && !CA_CERT_HASH.test(value)) {
    throw new LabAccessUsageError(`--confirm-cluster: Invalid value: "${value}": ${CA_CERT_HASH_RULE}`);
  }
  return value;
}

function wholeNumber(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) {
    return fallback;
  }
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new LabAccessUsageError(`${flag} "${text}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// The certificate signing request (PKCS #10, RFC 2986), DER-encoded by hand: Node's crypto makes
// keys and signatures but no CSRs, and the few fields here do not justify a dependency.

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) {
    return Buffer.concat([Buffer.from([tag, length]), content]);
  }
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) {
    bytes.unshift(n % 256);
  }
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}

const sequence = (...parts: Buffer[]): Buffer => tlv(0x30, Buffer.concat(parts));

function objectIdentifier(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc % 128];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) {
      chunk.unshift(0x80 | (n % 128));
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const OID = {
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
};

/** One relative distinguished name: SET { SEQUENCE { type, UTF8String value } }. */
const attribute = (oid: string, value: string): Buffer =>
  tlv(0x31, sequence(objectIdentifier(oid), tlv(0x0c, Buffer.from(value, 'utf8'))));

/** The subject: O=<group> for each group, then CN=<user>, as kubeadm writes its client certificates. */
export function subjectName(user: string, groups: readonly string[]): Buffer {
  return sequence(...groups.map((g) => attribute(OID.organizationName, g)), attribute(OID.commonName, user));
}

/** A CSR for the key pair, signed with its private key (ECDSA with SHA-256), as PEM. */
export function certificateSigningRequest(
  user: string,
  groups: readonly string[],
  publicKey: KeyObject,
  privateKey: KeyObject,
): string {
  const info = sequence(
    tlv(0x02, Buffer.from([0])), // version 1
    subjectName(user, groups),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa0, Buffer.alloc(0)), // no attributes (no extensions: the signer sets the usages)
  );
  const signature = sign('sha256', info, privateKey);
  const der = sequence(
    info,
    sequence(objectIdentifier(OID.ecdsaWithSha256)),
    tlv(0x03, Buffer.concat([Buffer.from([0]), signature])),
  );
  return pem('CERTIFICATE REQUEST', der);
}

/** The DER building blocks, for tests that build a certificate to check against. */
export const der = { tlv, sequence, objectIdentifier } as const;

export function pem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A new P-256 key pair: small, fast, and accepted by the kube-apiserver-client signer. */
export function newKeyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** The CSR object's name: the user and a short hash of the public key, so each new key asks anew. */
export function csrName(user: string, publicKey: KeyObject): string {
  const fingerprint = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 12);
  return `lab-access-${user.replace(/[^a-z0-9.-]/g, '-')}-${fingerprint}`;
}

/** The CertificateSigningRequest object kubectl creates: the CSR (public key only) and what it is for. */
export function csrManifest(name: string, csrPem: string, days: number): object {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/part-of': 'lab-to-prod', 'app.kubernetes.io/component': 'lab-access' },
    },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: CLIENT_SIGNER,
      expirationSeconds: days * 24 * 3600,
      usages: ['client auth', 'digital signature'],
    },
  };
}

/**
 * Checks that the signed certificate is the one asked for: our public key, our user and groups.
 * Returns its expiry.
 */
export function checkIssuedCertificate(
  certPem: string,
  user: string,
  groups: readonly string[],
  publicKey: KeyObject,
): Date {
  const cert = new X509Certificate(certPem);
  const ours = publicKey.export({ type: 'spki', format: 'der' });
  if (!cert.publicKey.export({ type: 'spki', format: 'der' }).equals(ours)) {
    throw new Error('the issued certificate is not for the key made here');
  }
  const subject = cert.subject.split('\n');
  const organisations = subject
    .filter((l) => l.startsWith('O='))
    .map((l) => l.slice(2))
    .sort();
  if (!subject.includes(`CN=${user}`) || organisations.join(',') !== [...groups].sort().join(',')) {
    throw new Error(
      `the issued certificate names ${cert.subject.replace(/\n/g, ', ')}, not CN=${user} with O=${groups.join(', O=')}`,
    );
  }
  return new Date(cert.validTo);
}

/** The cluster a kubeconfig context points at, as `kubectl config view --raw --minify --flatten` shows it. */
export interface ClusterEntry {
  readonly name: string;
  readonly server: string;
  readonly certificateAuthorityData: string;
}

/** Reads the current context's cluster from `kubectl config view --raw --minify --flatten -o json`. */
export function clusterOf(kubeconfigJson: string): ClusterEntry {
  const config = JSON.parse(kubeconfigJson) as {
    clusters?: { name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  };
  const entry = config.clusters?.[0];
  const cluster = entry?.cluster ?? {};
  if (!entry?.name || !cluster.server || !cluster['certificate-authority-data']) {
    throw new Error('the kubeconfig context names no cluster with a server and embedded CA data');
  }
  return { name: entry.name, server: cluster.server, certificateAuthorityData: cluster['certificate-authority-data'] };
}

/** The kubeconfig for the new user: the lab's cluster, the certificate and the key, one context. */
export function userKubeconfig(cluster: ClusterEntry, user: string, certPem: string, privateKey: KeyObject): string {
  const context = `${user}@${cluster.name}`;
  return yamlDocuments([
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: cluster.name,
          cluster: { server: cluster.server, 'certificate-authority-data': cluster.certificateAuthorityData },
        },
      ],
      users: [
        {
          name: user,
          user: {
            'client-certificate-data': Buffer.from(certPem).toString('base64'),
            'client-key-data': Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })).toString('base64'),
          },
        },
      ],
      contexts: [{ name: context, context: { cluster: cluster.name, user } }],
      'current-context': context,
    },
  ]);
}
