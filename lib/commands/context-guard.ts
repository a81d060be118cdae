/**
 * The cluster guard of the commands that change a cluster (`npm run deploy`, `npm run lab-access`,
 * `npm run lab-secrets`): they act only on a kubeconfig context whose cluster is the one the
 * environment names. A module of its own, with no main: tsrun bundles an entry point with what it
 * imports, so importing another command's file would run that command too.
 *
 * How a cluster is recognised: by its CA, the hash of the CA certificate's public key that
 * `cluster.caCertHash` in lib/environments/<env>.ts records (kubeadm join's --discovery-token-ca-cert-hash
 * form). Not by the context's name: anyone can name a context anything, and "lab" is a substring of
 * "gke_acme-prod_europe-west4_collab-prod". Not by the API server's address: a tunnel or a proxy on
 * 127.0.0.1 reaches different clusters at one address, and one cluster answers at several. The CA is
 * what kubectl itself trusts the server through, so a context renamed, or pointed at another server
 * name, still carries its cluster's identity; and the public key, not the whole certificate, because
 * a CA certificate renewed with the same key is the same cluster.
 *
 * The guard reads the kubeconfig files itself, as kubectl loads them (below), and runs no kubectl: it
 * decides before anything contacts a cluster. Not even `kubectl config view`: the kubectl that the
 * Google Cloud SDK installs (the usual one beside GKE) is a dispatcher that first asks the current
 * context's server for its version, to pick a matching kubectl, for every command, `config` ones too.
 * Every kubectl call after the guard names the context it chose (--context), so kubectl reads the
 * same entries.
 */
import { createHash, X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { CA_CERT_HASH, CA_CERT_HASH_RULE, Environment, EXAMPLE_CA_CERT_HASH } from '../environment';

/** Bad command line or a refused cluster: exit code 2, nothing was changed. */
export class UsageError extends Error {}

/** A cluster that is not the environment's: exit code 2 too, but the message says all; no usage text after it. */
export class ClusterRefused extends UsageError {}

/** A context's name as a shell reads it: quoted when it holds anything but the usual characters. */
function shellWord(text: string): string {
  return /^[\w@:./+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** What a guarded command does, for its refusal: "deploy "lab" to", and how to run it again. */
export interface ContextAction {
  readonly doing: string;
  readonly rerun: string;
}

/** The cluster a context points at, as the kubeconfig says, and the hashes of the CA certificates it trusts. */
export interface ClusterSeen {
  readonly context: string;
  readonly cluster: string;
  readonly server: string;
  /** One per certificate in the CA data, in its order (a bundle holds several while a CA is being replaced). */
  readonly caCertHashes: readonly string[];
}

/** The flag that accepts, for one run, the cluster whose CA has the hash it names. */
export const CONFIRM_FLAG = '--confirm-cluster';

/** The hash of a CA certificate: "sha256:" and the hex SHA-256 of its public key (SubjectPublicKeyInfo, DER). */
export function caCertHash(certificate: X509Certificate): string {
  return `sha256:${createHash('sha256')
    .update(certificate.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

/** The hash of every certificate in PEM text (a kubeconfig's certificate-authority-data, decoded). */
export function caCertHashesOf(pemText: string): string[] {
  const blocks = pemText.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => caCertHash(new X509Certificate(block)));
}

/** Checks an override flag's value; undefined when the flag was not given. */
export function parseConfirmedHash(value: string | undefined): string | undefined {
  if (value !== undefined && !CA_CERT_HASH.test(value)) {
    throw new UsageError(`${CONFIRM_FLAG}: Invalid value: "${value}": ${CA_CERT_HASH_RULE}`);
  }
  return value;
}

/**
 * Refuses unless the cluster seen is the environment's: its CA data holds exactly one CA, whose hash
 * is the one the environment records, or, for this run only, the one given with --confirm-cluster. A
 * bundle of several CAs is refused: kubectl would trust a server any of them signed, and one hash
 * vouches for one of them only.
 */
export function checkCluster(
  env: Environment,
  seen: ClusterSeen,
  confirmed: string | undefined,
  action: ContextAction,
): void {
  const expected = confirmed ?? env.cluster.caCertHash;
  const distinct = [...new Set(seen.caCertHashes)];
  if (distinct.length === 1 && distinct[0] === expected) {
    return;
  }
  const file = `lib/environments/${env.name}.ts`;
  const where = `context "${seen.context}" (cluster "${seen.cluster}" at ${seen.server})`;
  const wanted =
    confirmed !== undefined
      ? `the cluster ${CONFIRM_FLAG} names, CA ${confirmed}`
      : env.cluster.caCertHash === EXAMPLE_CA_CERT_HASH
        ? `the ${env.name} cluster, whose CA ${file} does not record yet (cluster.caCertHash is still the example value)`
        : `the ${env.name} cluster, CA ${env.cluster.caCertHash} (cluster.caCertHash in ${file})`;
  const lines = [`refusing to ${action.doing} ${where}: it is not ${wanted}.`];
  if (distinct.length === 0) {
    lines.push(
      'The kubeconfig gives that cluster no CA certificate (certificate-authority-data or certificate-authority), ' +
        'or turns TLS verification off (insecure-skip-tls-verify), so nothing says which cluster answers there; ' +
        "give it the cluster's CA.",
    );
  } else if (distinct.length > 1) {
    lines.push(
      `Its CA data holds ${distinct.length} different CAs (${distinct.join(', ')}), and kubectl trusts a server any of them signed; ` +
        "keep only the cluster's own CA in the kubeconfig.",
    );
  } else {
    const seenHash = distinct[0];
    lines.push(
      `Its CA is ${seenHash}.`,
      `If it is the ${env.name} cluster, record it in ${file}:`,
      `  cluster: { caCertHash: '${seenHash}' },`,
      `or confirm it for this run only: ${action.rerun} --context ${shellWord(seen.context)} ${CONFIRM_FLAG} ${seenHash}`,
    );
  }
  lines.push(
    `Otherwise switch to the ${env.name} cluster's context (kubectl config use-context <name>) or name it with --context <name>.`,
  );
  throw new ClusterRefused(lines.join('\n'));
}

/** The kubeconfig files kubectl reads: $KUBECONFIG's list, or ~/.kube/config. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const list = (env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f !== '');
  return list.length > 0 ? [...new Set(list)] : [path.join(os.homedir(), '.kube', 'config')];
}

interface NamedEntry {
  readonly name?: string;
  readonly [field: string]: unknown;
}

/**
 * The context to act on (--context, else the current one) and its cluster, from the kubeconfig files
 * merged as kubectl merges them (client-go's loading rules): a file in the list that does not exist is
 * skipped; the first file that sets current-context, and the first that names a context or a cluster,
 * wins; a certificate-authority file is relative to the kubeconfig that names it.
 */
export function readClusterSeen(
  explicit: string | undefined,
  files: readonly string[] = kubeconfigFiles(),
): ClusterSeen {
  let current: string | undefined;
  const contexts = new Map<string, NamedEntry>();
  const clusters = new Map<string, { file: string; entry: NamedEntry }>();
  for (const file of files) {
    if (!fs.existsSync(file)) {
      continue;
    }
    let config: { 'current-context'?: unknown; contexts?: unknown; clusters?: unknown } | null;
    try {
      config = YAML.parse(fs.readFileSync(file, 'utf8')) as typeof config;
    } catch (e) {
      throw new UsageError(`the kubeconfig ${file} cannot be read: ${(e as Error).message}`);
    }
    if (config === null || typeof config !== 'object') {
      continue;
    }
    if (current === undefined && typeof config['current-context'] === 'string' && config['current-context'] !== '') {
      current = config['current-context'];
    }
    for (const c of Array.isArray(config.contexts) ? (config.contexts as NamedEntry[]) : []) {
      if (typeof c?.name === 'string' && !contexts.has(c.name)) {
        contexts.set(c.name, (c.context ?? {}) as NamedEntry);
      }
    }
    for (const c of Array.isArray(config.clusters) ? (config.clusters as NamedEntry[]) : []) {
      if (typeof c?.name === 'string' && !clusters.has(c.name)) {
        clusters.set(c.name, { file, entry: (c.cluster ?? {}) as NamedEntry });
      }
    }
  }
  const context = explicit ?? current;
  if (context === undefined) {
    throw new UsageError('the kubeconfig has no current context; name one with --context <name>');
  }
  const contextEntry = contexts.get(context);
  if (contextEntry === undefined) {
    throw new UsageError(`the kubeconfig (${files.join(path.delimiter)}) has no context "${context}"`);
  }
  const clusterName = typeof contextEntry.cluster === 'string' ? contextEntry.cluster : '';
  const cluster = clusters.get(clusterName);
  if (cluster === undefined) {
    throw new UsageError(`context "${context}" names cluster "${clusterName}", which the kubeconfig does not define`);
  }
  const server = typeof cluster.entry.server === 'string' ? cluster.entry.server : '(no server)';
  // With TLS verification off, kubectl talks to whatever answers at the address: no CA says which cluster that is.
  if (cluster.entry['insecure-skip-tls-verify'] === true) {
    return { context, cluster: clusterName, server, caCertHashes: [] };
  }
  let caPem = '';
  try {
    if (
      typeof cluster.entry['certificate-authority-data'] === 'string' &&
      cluster.entry['certificate-authority-data'] !== ''
    ) {
      caPem = Buffer.from(cluster.entry['certificate-authority-data'], 'base64').toString('utf8');
    } else if (
      typeof cluster.entry['certificate-authority'] === 'string' &&
      cluster.entry['certificate-authority'] !== ''
    ) {
      caPem = fs.readFileSync(path.resolve(path.dirname(cluster.file), cluster.entry['certificate-authority']), 'utf8');
    }
    return { context, cluster: clusterName, server, caCertHashes: caCertHashesOf(caPem) };
  } catch (e) {
    throw new UsageError(
      `context "${context}": the CA certificate of cluster "${clusterName}" cannot be read: ${(e as Error).message}`,
    );
  }
}

/**
 * The context to act on, once its cluster is known to be the environment's: --context (a name only;
 * it does not vouch for the cluster) or the current context, checked by checkCluster.
 */
export function guardedContext(
  env: Environment,
  explicit: string | undefined,
  confirmed: string | undefined,
  action: ContextAction,
): string {
  const seen = readClusterSeen(explicit);
  checkCluster(env, seen, confirmed, action);
  return seen.context;
}
