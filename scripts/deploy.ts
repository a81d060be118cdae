/**
 * `npm run deploy -- --env <env>`: applies dist/<env>/ to the cluster of the current kubeconfig
 * context with the real kubectl, prunes what was removed from the YAML, and waits for the rollouts.
 *
 *   1. Apply: one `kubectl apply --server-side --validate=strict -f dist/<env>/`. kubectl reads
 *      the folder's files in name order (00-platform.yaml first: namespaces, classes, quotas). The
 *      lab's kubeadm configuration and its nodes' containerd configuration and cloud-init user-data,
 *      not for the API server, are beside it in dist/lab-bootstrap/.
 *   2. Prune: every object labelled app.kubernetes.io/part-of=lab-to-prod that this command applied
 *      earlier (its server-side apply field manager is "lab-to-prod") but that is no longer in the
 *      YAML is deleted. Objects created by controllers (pods, ReplicaSets, volume claims of a
 *      StatefulSet) carry our labels too, but never our field manager, so they are left alone.
 *      Why not kubectl's own --prune: with --server-side, its label-based prune only considers objects
 *      carrying the client-side last-applied annotation (so it prunes nothing), and an ApplySet with
 *      a namespaced parent cannot span the several namespaces an environment uses.
 *   3. Wait: `kubectl rollout status` for each Deployment, StatefulSet and DaemonSet, `kubectl wait`
 *      for each Job, one progress line per workload.
 *
 * It refuses a context whose name does not contain the environment's name, so that `--env lab` cannot
 * land on production by accident, unless the context is named with --context.
 * The cluster tests (test/cluster) run this very command against a real API server.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { chooseContext, guardedContext, UsageError } from './context-guard';

export const ENVIRONMENTS = ['lab', 'prod-eks', 'prod-gke', 'prod-aks'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** Server-side apply field manager: marks the objects this command owns (and may prune). */
export const FIELD_MANAGER = 'lab-to-prod';
/** The label every object of the project carries. */
export const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=lab-to-prod';

export const USAGE = `usage: npm run deploy -- --env <${ENVIRONMENTS.join('|')}> [--context <name>] [--from <dir>] [--timeout <duration>]

  --env       the environment whose YAML to apply: dist/<env>/
  --context   the kubeconfig context to deploy to; required when the current context's name
              does not contain the environment's name
  --from      apply this folder instead of dist/<env>/ (a reviewed copy, say)
  --timeout   how long to wait for all rollouts together: 90s, 5m (default 5m)`;

export interface DeployOptions {
  readonly env: EnvironmentName;
  /** Set only when given with --context. */
  readonly context?: string;
  readonly from: string;
  readonly timeoutSeconds: number;
}

// The context guard and its usage error live in context-guard.ts, shared with lab-access; the tests import them from here.
export { chooseContext, UsageError };

export function parseArgs(argv: readonly string[]): DeployOptions {
  const values: Record<string, string> = {};
  const known = ['--env', '--context', '--from', '--timeout'];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!known.includes(flag)) {
      throw new UsageError(`unknown argument "${arg}"; allowed: ${known.join(', ')}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
      throw new UsageError(`${flag} needs a value`);
    }
    if (flag in values) {
      throw new UsageError(`${flag} is given twice`);
    }
    values[flag] = value;
  }

  const env = values['--env'];
  if (env === undefined) {
    throw new UsageError(`--env is required: one of ${ENVIRONMENTS.join(', ')}`);
  }
  if (!(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw new UsageError(`--env "${env}" is not an environment; allowed: ${ENVIRONMENTS.join(', ')}`);
  }
  return {
    env: env as EnvironmentName,
    context: values['--context'],
    from: values['--from'] ?? path.join('dist', env),
    timeoutSeconds: values['--timeout'] === undefined ? 300 : parseDuration(values['--timeout']),
  };
}

/** "90", "90s", "5m", "1h" to seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text);
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(`--timeout "${text}" is not a duration; allowed: a positive whole number with s, m or h, e.g. 90s or 5m`);
  }
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
}

/** The files kubectl applies from dir, in the order it applies them (by name; no sub-folders). */
export function manifestFiles(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UsageError(`${dir} is not a folder; run \`npm run synth\` first, or name one with --from`);
  }
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) {
    throw new UsageError(`${dir} holds no .yaml, .yml or .json files`);
  }
  return files;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    deletionTimestamp?: string;
    ownerReferences?: unknown[];
    managedFields?: { manager?: string; operation?: string }[];
  };
}

/** group/Kind/namespace/name: the version is left out, so a new apiVersion is the same object. */
export function objectKey(o: KubeObject): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** How kubectl names the object: kind.group/name (plus -n namespace). */
export function resourceArgs(o: KubeObject): string[] {
  const group = o.apiVersion.includes('/') ? '.' + o.apiVersion.split('/')[0] : '';
  const args = [`${o.kind.toLowerCase()}${group}/${o.metadata.name}`];
  return o.metadata.namespace ? [...args, '-n', o.metadata.namespace] : args;
}

export function describe(o: KubeObject): string {
  return o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
}

/**
 * The live objects to delete: applied by this command before (field manager, operation Apply), not
 * in the YAML now, not owned by another object, not already being deleted. Namespaces come last:
 * deleting one deletes its contents, which are reported one by one first.
 */
export function prunable(live: readonly KubeObject[], applied: ReadonlySet<string>): KubeObject[] {
  const ours = live.filter(
    (o) =>
      !applied.has(objectKey(o)) &&
      !o.metadata.deletionTimestamp &&
      (o.metadata.ownerReferences ?? []).length === 0 &&
      (o.metadata.managedFields ?? []).some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply'),
  );
  return [...ours.filter((o) => o.kind !== 'Namespace'), ...ours.filter((o) => o.kind === 'Namespace')];
}

/** Kinds whose rollout the command waits for, and how. */
const ROLLOUT_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

type Run = (args: string[], options?: { passStderr?: boolean }) => SpawnSyncReturns<string>;

function kubectlRunner(context: string | undefined): Run {
  const bin = process.env.KUBECTL || 'kubectl';
  return (args, options = {}) => {
    const full = context === undefined ? args : ['--context', context, ...args];
    const result = spawnSync(bin, full, {
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
      stdio: ['ignore', 'pipe', options.passStderr ? 'inherit' : 'pipe'],
    });
    if (result.error) {
      throw new Error(`cannot run ${bin}: ${result.error.message}`);
    }
    return result;
  };
}

function failed(what: string, result: SpawnSyncReturns<string>): Error {
  return new Error(`${what} failed (exit ${result.status})${result.stderr ? ':\n' + result.stderr.trim() : ''}`);
}

function itemsOf(json: string): KubeObject[] {
  const parsed = JSON.parse(json) as KubeObject & { items?: KubeObject[] };
  return parsed.kind === 'List' || Array.isArray(parsed.items) ? (parsed.items ?? []) : [parsed];
}

const seconds = (since: number): string => `${Math.round((Date.now() - since) / 1000)}s`;

export async function deploy(options: DeployOptions, log: (line: string) => void = console.log): Promise<number> {
  const started = Date.now();
  const files = manifestFiles(options.from);
  const context = guardedContext(options.env, options.context);
  const kubectl = kubectlRunner(context);
  log(`deploy ${options.env}: ${files.join(', ')} from ${options.from} to context "${context}"`);

  // 1. Apply. Warnings (deprecations, Pod Security "would violate") go straight to stderr.
  const apply = kubectl(
    ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--validate=strict', '-f', options.from, '-o', 'json'],
    { passStderr: true },
  );
  if (apply.status !== 0) {
    log(`deploy ${options.env}: kubectl apply failed (exit ${apply.status}); nothing pruned, no rollout awaited`);
    return 1;
  }
  const applied = itemsOf(apply.stdout);
  for (const o of applied) {
    log(`  applied ${describe(o)}`);
  }

  // 2. Prune.
  const pruned = prune(kubectl, new Set(applied.map(objectKey)), options.timeoutSeconds, log);

  // 3. Wait for the rollouts, one line each.
  // One deadline for all of them: --timeout bounds the whole wait, however many workloads there are.
  const workloads = applied.filter((o) => ROLLOUT_KINDS.has(o.kind) || o.kind === 'Job');
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let failures = 0;
  workloads.forEach((o, i) => {
    const since = Date.now();
    const timeout = `--timeout=${Math.max(1, Math.ceil((deadline - since) / 1000))}s`;
    const args =
      o.kind === 'Job'
        ? ['wait', '--for=condition=Complete', ...resourceArgs(o), timeout]
        : ['rollout', 'status', ...resourceArgs(o), timeout];
    const result = kubectl(args);
    const done = o.kind === 'Job' ? 'complete' : 'rolled out';
    if (result.status === 0) {
      log(`  [${i + 1}/${workloads.length}] ${describe(o)} ${done} (${seconds(since)})`);
    } else {
      failures++;
      const why = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
      log(`  [${i + 1}/${workloads.length}] ${describe(o)} NOT ${done} after ${seconds(since)}: ${why}`);
    }
  });

  log(
    `deploy ${options.env}: ${applied.length} applied, ${pruned} pruned, ` +
      `${workloads.length - failures}/${workloads.length} rollouts finished in ${seconds(started)}`,
  );
  return failures === 0 ? 0 : 1;
}

function prune(kubectl: Run, applied: ReadonlySet<string>, timeoutSeconds: number, log: (line: string) => void): number {
  // Every kind the cluster can list and delete, custom resources included, so that removing the
  // last object of a kind from the YAML still prunes it. Events are never ours.
  const kinds = kubectl(['api-resources', '--verbs=list,delete', '-o', 'name']);
  if (kinds.status !== 0) {
    throw failed('kubectl api-resources', kinds);
  }
  const resources = kinds.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'events' && l !== 'events.events.k8s.io');
  const list = kubectl(['get', resources.join(','), '--all-namespaces', '-l', PART_OF_SELECTOR, '--show-managed-fields', '-o', 'json']);
  if (list.status !== 0) {
    throw failed('listing the objects labelled ' + PART_OF_SELECTOR, list);
  }
  const doomed = prunable(itemsOf(list.stdout), applied);
  for (const o of doomed) {
    const result = kubectl(['delete', ...resourceArgs(o), '--ignore-not-found', `--timeout=${timeoutSeconds}s`]);
    if (result.status !== 0) {
      throw failed(`pruning ${describe(o)}`, result);
    }
    log(`  pruned ${describe(o)}`);
  }
  return doomed.length;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await deploy(parseArgs(argv));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`deploy: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`deploy: ${(e as Error).message}`);
    return 1;
  }
}

// Run when started as a program (node bin/tsrun.js scripts/deploy.ts), not when imported by a test.
if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
