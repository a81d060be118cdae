import { randomBytes } from 'crypto';
import { CA_CERT_HASH, CA_CERT_HASH_RULE } from '../environment';
import { CommandLineError, parseCommandLine } from './command-line';
import { SecretDeclaration } from '../platform/secrets';

/**
 * The pure half of `npm run lab-secrets` (lib/commands/lab-secrets.ts runs the real kubectl): argument
 * handling, the Secret manifests it pipes to kubectl, and what it prints. Nothing here prints or
 * returns a secret value except `secretManifest`, whose output only ever goes to kubectl's stdin.
 */

export interface LabSecretsOptions {
  /** kubectl's --context; @default - kubectl's current context */
  readonly context?: string;
  /** The CA hash to accept, this once, instead of the lab's cluster.caCertHash (--confirm-cluster). @default - the lab's */
  readonly confirmCluster?: string;
  /** Overwrite Secrets that already exist with new random values. @default false */
  readonly replace: boolean;
  /** List what would be created without contacting the cluster. @default false */
  readonly dryRun: boolean;
}

export const LAB_SECRETS_USAGE = `usage: npm run lab-secrets -- [--context <kubectl context>] [--confirm-cluster <hash>] [--replace] [--dry-run]

Creates in the lab cluster every Secret the lab's workloads declare, with random values.
Prints names and keys only, never a value. A Secret that exists is kept unless --replace is given;
keys it lacks (a key added since it was made) are added, built from its existing values.
  --context <name>  the kubectl context of the lab cluster (default: the current context); its cluster's
                    CA must be the one cluster.caCertHash in lib/environments/lab.ts records
  --confirm-cluster <hash>  sha256:<hex>: act, this once, on the cluster whose CA has this hash instead
  --replace         give existing Secrets new random values (running pods keep the old ones until restarted)
  --dry-run         list the Secrets without contacting the cluster`;

/** Parses the command line; an unknown option or a stray argument is an error naming it. */
export function parseLabSecretsArgs(argv: readonly string[]): LabSecretsOptions | 'help' {
  const parsed = parseCommandLine(argv, {
    options: {
      context: { type: 'string' },
      'confirm-cluster': { type: 'string' },
      replace: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  if (parsed === 'help') {
    return 'help';
  }
  const { values } = parsed;
  if (values.context !== undefined && values.context.trim() === '') {
    throw new CommandLineError('--context: Invalid value: "": the name of a kubectl context');
  }
  if (values['confirm-cluster'] !== undefined && !CA_CERT_HASH.test(values['confirm-cluster'])) {
    throw new CommandLineError(
      `--confirm-cluster: Invalid value: "${values['confirm-cluster']}": ${CA_CERT_HASH_RULE}`,
    );
  }
  return {
    context: values.context,
    confirmCluster: values['confirm-cluster'],
    replace: values.replace === true,
    dryRun: values['dry-run'] === true,
  };
}

/** A random value: 32 bytes from the OS's CSPRNG, base64url (43 characters, no quoting needed anywhere). */
export function randomSecretValue(): string {
  return randomBytes(32).toString('base64url');
}

/** kubectl's global arguments for the chosen context. */
export function kubectlBaseArgs(options: LabSecretsOptions): string[] {
  return options.context !== undefined ? ['--context', options.context] : [];
}

/**
 * Arguments that print an existing Secret's data (base64) as JSON, for a group member that is
 * missing; the output goes into the new Secret's manifest and is never printed.
 */
export function readDataArgs(options: LabSecretsOptions, secret: SecretDeclaration): string[] {
  return [
    ...kubectlBaseArgs(options),
    'get',
    'secret',
    secret.name,
    '--namespace',
    secret.namespace,
    '--output',
    'jsonpath={.data}',
  ];
}

/** Arguments that print the Secret's name if it exists, and nothing (exit 0) if it does not. */
export function existsArgs(options: LabSecretsOptions, secret: SecretDeclaration): string[] {
  return [
    ...kubectlBaseArgs(options),
    'get',
    'secret',
    secret.name,
    '--namespace',
    secret.namespace,
    '--ignore-not-found',
    '--output',
    'name',
  ];
}

/**
 * Arguments that write the manifest on stdin: `create`, which refuses to overwrite (so a Secret made
 * between the check and the write is kept), or with --replace a server-side apply that takes over
 * the values.
 */
export function writeArgs(options: LabSecretsOptions, exists: boolean): string[] {
  const base = kubectlBaseArgs(options);
  if (exists) {
    return [
      ...base,
      'apply',
      '--server-side',
      '--force-conflicts',
      '--field-manager',
      FIELD_MANAGER,
      '--filename',
      '-',
      '--output',
      'name',
    ];
  }
  return [...base, 'create', '--filename', '-', '--output', 'name'];
}

const FIELD_MANAGER = 'lab-to-prod-lab-secrets';

/**
 * The declarations grouped by the secret manager entry they read (their remoteKey), in declaration
 * order: each group gets one set of values, as in production where they all read one entry.
 */
export function groupBySharedValues(secrets: readonly SecretDeclaration[]): SecretDeclaration[][] {
  const groups = new Map<string, SecretDeclaration[]>();
  for (const secret of secrets) {
    groups.set(secret.remoteKey, [...(groups.get(secret.remoteKey) ?? []), secret]);
  }
  return [...groups.values()];
}

/**
 * Secret `data` (base64) for every key of the group: an existing member's value where it has one,
 * else a fresh random one; then every derived key, always rebuilt from its source's value here, so
 * that a file such as libpq's service file can never hold another password than the plain key.
 */
export function sharedData(
  group: readonly SecretDeclaration[],
  existing: Readonly<Record<string, string>>,
  fresh: () => string,
): Record<string, string> {
  const keys = [...new Set(group.flatMap((s) => s.keys))];
  const data: Record<string, string> = Object.fromEntries(
    keys.map((key) => [key, existing[key] ?? Buffer.from(fresh(), 'utf8').toString('base64')]),
  );
  for (const derived of group.flatMap((s) => s.derivedKeys)) {
    data[derived.key] = Buffer.from(
      derived.build(Buffer.from(data[derived.from], 'base64').toString('utf8')),
      'utf8',
    ).toString('base64');
  }
  return data;
}

/**
 * The keys a declared Secret should hold that the cluster's copy lacks (its `data`, base64 by key):
 * a Secret made before a key was declared, such as the libpq service file, is completed, not replaced,
 * so the password the database was initialised with stays.
 */
export function missingKeys(secret: SecretDeclaration, existing: Readonly<Record<string, string>>): string[] {
  return allKeys(secret).filter((key) => existing[key] === undefined);
}

/** Every key a Secret holds: its own and the derived ones. */
export function allKeys(secret: SecretDeclaration): string[] {
  return [...secret.keys, ...secret.derivedKeys.map((derived) => derived.key)];
}

/** The Secret as JSON for kubectl's stdin, with its keys' values taken from `data` (base64). */
export function secretManifest(secret: SecretDeclaration, data: Readonly<Record<string, string>>): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secret.name,
      namespace: secret.namespace,
      labels: secret.labels,
      annotations: { 'lab-to-prod.example/created-by': 'npm run lab-secrets' },
    },
    type: 'Opaque',
    data: Object.fromEntries(allKeys(secret).map((key) => [key, data[key]])),
  });
}

/** One line of the report for a Secret: names and keys only. */
export function describeOutcome(
  secret: SecretDeclaration,
  outcome: 'created' | 'replaced' | 'kept' | 'would-create',
  sharedWith?: SecretDeclaration,
): string {
  const what = describeSecret(secret);
  if (outcome === 'created' && sharedWith !== undefined) {
    return `created ${what} with the values of ${sharedWith.namespace}/${sharedWith.name}, which reads the same entry`;
  }
  switch (outcome) {
    case 'created':
      return `created ${what}`;
    case 'replaced':
      return `replaced ${what} with new random values`;
    case 'kept':
      return `kept ${what}: it exists; --replace gives it new values`;
    case 'would-create':
      return `would create ${what}`;
  }
}

/** The report line for a kept Secret given the keys it lacked. */
export function describeCompleted(secret: SecretDeclaration, added: readonly string[]): string {
  return `completed ${describeSecret(secret)}: added ${added.join(', ')} from its existing values`;
}

function describeSecret(secret: SecretDeclaration): string {
  return `secret ${secret.namespace}/${secret.name} (keys: ${allKeys(secret).join(', ')})`;
}

/** kubectl's error text with any value we generated (plain or base64) blanked out, before it is printed. */
export function redact(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) {
    for (const form of [value, Buffer.from(value, 'utf8').toString('base64')]) {
      out = out.split(form).join('<redacted>');
    }
  }
  return out;
}

/**
 * kubectl's error text without its client library's log lines (klog: `E1129 20:08:24.309634   20421
 * memcache.go:265] ...`), which repeat what its last line says for people: "The connection to the
 * server 127.0.0.1:6443 was refused".
 */
export function kubectlMessage(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ \S+:\d+\] /.test(line))
    .join('\n')
    .trim();
}
