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
 * Before any of it, two refusals, both before the cluster is contacted (exit 2, nothing changed):
 *   - the cluster: the context's (current, or --context) CA must be the one the environment records
 *     (lib/commands/context-guard.ts), so that `--env lab` cannot land on production whatever the
 *     context is called; --confirm-cluster <hash> confirms another for one run.
 *   - the YAML: dist/<env>/ must be exactly what a synth of the checked-out source renders, byte for
 *     byte, file for file (it is rendered here, in memory, with the synth's own pieces), so a hand
 *     edit there never reaches the cluster; and the guardrail checks the synth runs must pass. A
 *     folder given with --from (a reviewed copy, the cluster tests' fixtures) is not the synth's
 *     output, so it cannot be compared: every guardrail check the synth runs is run on its objects
 *     instead, and any unwaived error refuses it.
 * The cluster tests (test/cluster) run this very command against a real API server.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Environment } from '../environment';
import { environmentNames, selectEnvironments } from '../environments';
import { peopleGroupsByEnvironment } from '../environments/people';
import { checkManifests, formatReport, hasErrors, ManifestInput } from '../policy';
import { readFolder } from '../policy/dist-inputs';
import { CommandLineError, parseCommandLine } from './command-line';
import { renderEnvironment, RenderedEnvironment } from '../synth/render';
import { checkInputs } from '../synth/synth';
import { ClusterRefused, CONFIRM_FLAG, guardedContext, parseConfirmedHash, UsageError } from './context-guard';

/** The environments' names: one file each in lib/environments/, the one list every command uses. */
export const ENVIRONMENTS: readonly string[] = environmentNames();
export type EnvironmentName = string;

/** Server-side apply field manager: marks the objects this command owns (and may prune). */
export const FIELD_MANAGER = 'lab-to-prod';
/** The label every object of the project carries. */
export const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=lab-to-prod';

export const USAGE = `usage: npm run deploy -- --env <${ENVIRONMENTS.join('|')}> [--context <name>] [--confirm-cluster <hash>] [--from <dir>] [--timeout <duration>]

  --env              the environment whose YAML to apply: dist/<env>/, which must be exactly what
                     \`npm run synth -- --env <env>\` renders from the checked-out source
  --context          the kubeconfig context to deploy to (default: the current one); its cluster's CA
                     must be the one cluster.caCertHash in lib/environments/<env>.ts records
  --confirm-cluster  sha256:<hex>: deploy, this once, to the cluster whose CA has this hash instead
  --from             apply this folder instead of dist/<env>/ (a reviewed copy, say); every
                     guardrail check of the synth runs on it, and an error refuses it
  --timeout          how long to wait for all rollouts together: 90s, 5m (default 5m)`;

export interface DeployOptions {
  readonly env: EnvironmentName;
  /** Set only when given with --context. */
  readonly context?: string;
  /** Set only when given with --confirm-cluster: the CA hash to accept, this once, instead of the environment's. */
  readonly confirmCluster?: string;
  readonly from: string;
  readonly timeoutSeconds: number;
}

// The cluster guard and its usage error live in context-guard.ts, shared with lab-access and lab-secrets.
export { UsageError };

/** A folder refused before anything was applied: exit 2, like a refused cluster, without the usage text. */
export class FolderRefused extends Error {}

/** The options, read by the project's command-line parser (lib/commands/command-line.ts), which adds --help. */
const OPTIONS = {
  env: { type: 'string' },
  context: { type: 'string' },
  'confirm-cluster': { type: 'string' },
  from: { type: 'string' },
  timeout: { type: 'string' },
} as const;

export function parseArgs(argv: readonly string[]): DeployOptions | 'help' {
  let parsed: ReturnType<typeof parseCommandLine<{ options: typeof OPTIONS }>>;
  try {
    parsed = parseCommandLine(argv, { options: OPTIONS });
  } catch (e) {
    throw e instanceof CommandLineError ? new UsageError(e.message) : e;
  }
  if (parsed === 'help') {
    return 'help';
  }
  const values: Record<string, string | undefined> = {
    '--env': parsed.values.env,
    '--context': parsed.values.context,
    [CONFIRM_FLAG]: parsed.values['confirm-cluster'],
    '--from': parsed.values.from,
    '--timeout': parsed.values.timeout,
  };

  const env = values['--env'];
  if (env === undefined) {
    throw new UsageError(`--env is required: one of ${ENVIRONMENTS.join(', ')}`);
  }
  if (!ENVIRONMENTS.includes(env)) {
    throw new UsageError(`--env "${env}" is not an environment; allowed: ${ENVIRONMENTS.join(', ')}`);
  }
  return {
    env: env,
    context: values['--context'],
    confirmCluster: parseConfirmedHash(values[CONFIRM_FLAG]),
    from: values['--from'] ?? path.join('dist', env),
    timeoutSeconds: values['--timeout'] === undefined ? 300 : parseDuration(values['--timeout']),
  };
}

/** "90", "90s", "5m", "1h" to seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h)?$/.exec(text);
  if (!match || Number(match[1]) === 0) {
    throw new UsageError(
      `--timeout "${text}" is not a duration; allowed: a positive whole number with s, m or h, e.g. 90s or 5m`,
    );
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

/**
 * Refuses a folder that is not safe to apply: dist/<env>/ unless it is exactly what a synth of the
 * checked-out source renders for the environment, any folder whose objects fail a guardrail check.
 */
export function checkFolder(env: Environment, dir: string): void {
  let inputs: ManifestInput[];
  if (path.resolve(dir) === path.resolve('dist', env.name)) {
    let rendered: RenderedEnvironment;
    try {
      rendered = renderEnvironment(env);
    } catch (e) {
      throw new FolderRefused(
        `the checked-out source does not render "${env.name}", so ${dir} cannot be compared with it: ${(e as Error).message}\n` +
          `\`npm run synth -- --env ${env.name}\` lists every problem`,
      );
    }
    const differences = folderDifferences(dir, rendered.files);
    if (differences.length > 0) {
      throw new FolderRefused(
        `${dir} is not what a synth of the checked-out source renders for "${env.name}":\n  ${differences.join('\n  ')}\n` +
          `Render it again with \`npm run synth -- --env ${env.name}\` (a change belongs in the source, where the synth checks it), then deploy.`,
      );
    }
    inputs = checkInputs([rendered]);
  } else {
    inputs = readFolder(dir, env.name, env.kubernetesVersion);
  }
  const findings = checkManifests(inputs, { peopleGroups: peopleGroupsByEnvironment([env]) });
  if (hasErrors(findings)) {
    // The report names each object and its construct; a folder's objects have no construct, so the files too.
    const refused = findings.filter((f) => f.severity === 'error' && !f.waived);
    const files = [
      ...new Set(
        inputs
          .filter((i) => {
            const object = i.object as { kind?: string; metadata?: { name?: string; namespace?: string } } | undefined;
            return refused.some(
              (f) =>
                f.kind === object?.kind &&
                f.name === object?.metadata?.name &&
                f.namespace === object?.metadata?.namespace,
            );
          })
          .map((i) => i.file),
      ),
    ];
    throw new FolderRefused(
      `${dir} fails the guardrail checks the synth runs for "${env.name}" (in ${files.join(', ')}):\n${formatReport(findings)}`,
    );
  }
}

/**
 * How a folder differs from the files a synth renders into it, one line per file: missing, changed
 * (from which line; the text is not printed, since a hand edit may hold a value that must not be), or
 * there although the synth renders no such file (kubectl would apply it all the same).
 */
export function folderDifferences(dir: string, rendered: ReadonlyMap<string, string>): string[] {
  const present = fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
  const problems: string[] = [];
  for (const file of [...rendered.keys()].sort()) {
    const text = rendered.get(file)!;
    if (!present.includes(file)) {
      problems.push(`${file}: missing; the synth renders it`);
    } else if (!fs.readFileSync(path.join(dir, file)).equals(Buffer.from(text))) {
      problems.push(
        `${file}: differs from the render from line ${firstDifferentLine(fs.readFileSync(path.join(dir, file), 'utf8'), text)}`,
      );
    }
  }
  for (const file of present.filter((f) => !rendered.has(f))) {
    problems.push(`${file}: not rendered by the synth`);
  }
  return problems;
}

/** The number (from 1) of the first line where two texts differ. */
function firstDifferentLine(a: string, b: string): number {
  const left = a.split('\n');
  const right = b.split('\n');
  let i = 0;
  while (i < left.length && i < right.length && left[i] === right[i]) {
    i++;
  }
  return i + 1;
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

export function deploy(options: DeployOptions, log: (line: string) => void = console.log): number {
  const started = Date.now();
  const files = manifestFiles(options.from);
  const [env] = selectEnvironments([options.env]);
  const context = guardedContext(env, options.context, options.confirmCluster, {
    doing: `deploy "${options.env}" to`,
    rerun: `npm run deploy -- --env ${options.env}${options.from === path.join('dist', options.env) ? '' : ` --from ${options.from}`}`,
  });
  checkFolder(env, options.from);
  const kubectl = kubectlRunner(context);
  log(`deploy ${options.env}: ${files.join(', ')} from ${options.from} to context "${context}"`);

  // 1. Apply. Warnings (deprecations, Pod Security "would violate") go straight to stderr.
  const apply = kubectl(
    [
      'apply',
      '--server-side',
      `--field-manager=${FIELD_MANAGER}`,
      '--validate=strict',
      '-f',
      options.from,
      '-o',
      'json',
    ],
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

function prune(
  kubectl: Run,
  applied: ReadonlySet<string>,
  timeoutSeconds: number,
  log: (line: string) => void,
): number {
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
  const list = kubectl([
    'get',
    resources.join(','),
    '--all-namespaces',
    '-l',
    PART_OF_SELECTOR,
    '--show-managed-fields',
    '-o',
    'json',
  ]);
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

export function main(argv: readonly string[]): number {
  try {
    const options = parseArgs(argv);
    if (options === 'help') {
      console.log(USAGE);
      return 0;
    }
    return deploy(options);
  } catch (e) {
    if (e instanceof UsageError && !(e instanceof ClusterRefused)) {
      console.error(`deploy: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof FolderRefused || e instanceof ClusterRefused) {
      console.error(`deploy: ${e.message}`);
      return 2;
    }
    console.error(`deploy: ${(e as Error).message}`);
    return 1;
  }
}

// Run when started as a program (node speed/tsrun.js lib/commands/deploy.ts), not when imported by a test.
if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  process.exit(main(process.argv.slice(2)));
}
