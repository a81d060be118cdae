/**
 * `npm run deploy -- --env <env>`: applies dist/<env>/ to the cluster of the current kubeconfig
 * context with the real kubectl, prunes what was removed from the YAML, and waits for the rollouts.
 *
 *   1. Apply, in stages, each one `kubectl apply --server-side --validate=strict` of its files (in
 *      name order, as kubectl reads a folder):
 *        a. the add-ons' CustomResourceDefinitions (00-<addon>-crds.yaml), then a wait until every
 *           one is Established: until then the API server does not serve its kind, and an object of
 *           that kind in a later file would be refused;
 *        b. the add-ons, wave by wave: each prefix 01- to 04- is one stage ("add-ons, wave 1"...),
 *           its files applied, then a wait until their Deployments, DaemonSets and StatefulSets
 *           have rolled out and every Service a webhook configuration (or a CRD's conversion
 *           webhook) calls has a ready endpoint: until then the API server refuses, or lets through
 *           unchecked, the objects that webhook admits (a ClusterIssuer, an IPAddressPool). Wave 1
 *           is the add-ons that need no other running (01-<addon>.yaml); an add-on that needs
 *           others (its definition's `needs`: the AWS Load Balancer Controller's Certificate needs
 *           cert-manager's webhook) is in the wave after them, and an add-on's objects of its own
 *           CRDs' kinds, which its own webhook admits, in the wave after its own
 *           (0<wave + 1>-<addon>-resources.yaml; lib/addons/waves.ts);
 *        c. the rest: the platform (05-platform.yaml: namespaces, classes, quotas, the add-ons'
 *           custom objects), then the workloads.
 *      A folder with no 00- to 04- file (an older dist/, a fixture) is one apply, as before. The
 *      lab's kubeadm configuration and its nodes' containerd configuration and cloud-init
 *      user-data, not for the API server, are beside it in dist/lab-bootstrap/.
 *   2. Prune, once, after the last stage: every object labelled app.kubernetes.io/part-of=lab-to-prod
 *      that this command applied earlier (its server-side apply field manager is "lab-to-prod") but
 *      that is no longer in the YAML is deleted. Objects created by controllers (pods, ReplicaSets,
 *      volume claims of a StatefulSet) carry our labels too, but never our field manager, so they
 *      are left alone. The add-ons' objects carry the label too (lib/addons/render.ts), so an add-on
 *      taken out of an environment is deleted; their CRDs do not, and are never pruned: deleting a
 *      CRD deletes every object of its kind in the cluster. Why not kubectl's own --prune: with --server-side, its label-based prune only
 *      considers objects carrying the client-side last-applied annotation (so it prunes nothing),
 *      and an ApplySet with a namespaced parent cannot span the several namespaces an environment uses.
 *   3. Wait: `kubectl rollout status` for each Deployment, StatefulSet and DaemonSet of the last
 *      stage, `kubectl wait` for each Job, one progress line per workload.
 *   --timeout bounds all the waiting together (the CRDs, the add-ons, the rollouts). A wait of
 *   stage a or b that runs out stops the deploy there, naming what was not ready and what it was
 *   seen as last: the later stages are not applied and nothing is pruned.
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
 * Then, once the cluster is contacted and before the first apply, a third (exit 2): a cluster where an
 * active Flux Kustomization or Argo CD Application of this project delivers (lib/commands/reconciler-guard.ts),
 * unless --despite-reconciler: the reconciler and this command would undo each other's changes.
 * The cluster tests (test/cluster) run this very command against a real API server.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Environment } from '../environment';
import { environmentNames, selectEnvironments } from '../environments';
import { peopleGroupsByEnvironment } from '../environments/people';
import { formatReport, hasErrors, ManifestInput } from '../policy';
import { checkReadInputs, filesOf, readFolder } from '../policy/dist-inputs';
import { CommandLineError, parseCommandLine } from './command-line';
import { renderEnvironment, RenderedEnvironment } from '../synth/render';
import { checkInputs } from '../synth/synth';
import { ClusterRefused, CONFIRM_FLAG, guardedContext, parseConfirmedHash, UsageError } from './context-guard';
import { checkNoActiveReconciler, listArgs, RECONCILER_RESOURCES, reconcilerObjects } from './reconciler-guard';

/** The environments' names: one file each in lib/environments/, the one list every command uses. */
export const ENVIRONMENTS: readonly string[] = environmentNames();
export type EnvironmentName = string;

/** Server-side apply field manager: marks the objects this command owns (and may prune). */
export const FIELD_MANAGER = 'lab-to-prod';
/** The label every object of the project carries. */
export const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=lab-to-prod';

export const USAGE = `usage: npm run deploy -- --env <${ENVIRONMENTS.join('|')}> [--context <name>] [--confirm-cluster <hash>] [--from <dir>] [--timeout <duration>] [--despite-reconciler]

  --env              the environment whose YAML to apply: dist/<env>/, which must be exactly what
                     \`npm run synth -- --env <env>\` renders from the checked-out source
  --context          the kubeconfig context to deploy to (default: the current one); its cluster's CA
                     must be the one cluster.caCertHash in lib/environments/<env>.ts records
  --confirm-cluster  sha256:<hex>: deploy, this once, to the cluster whose CA has this hash instead
  --from             apply this folder instead of dist/<env>/ (a reviewed copy, say); every
                     guardrail check of the synth runs on it (on the add-ons' files, the
                     Kubernetes schema's), and an error refuses it
  --timeout          how long to wait for everything together (the add-ons' CRDs and controllers,
                     then the rollouts): 90s, 5m (default 5m)
  --despite-reconciler
                     deploy although an active Flux Kustomization or Argo CD Application of this
                     project delivers to the cluster (refused without it: the two would undo each
                     other's changes; pause it, or change it through git)`;

export interface DeployOptions {
  readonly env: EnvironmentName;
  /** Set only when given with --context. */
  readonly context?: string;
  /** Set only when given with --confirm-cluster: the CA hash to accept, this once, instead of the environment's. */
  readonly confirmCluster?: string;
  readonly from: string;
  readonly timeoutSeconds: number;
  /** Set only when given with --despite-reconciler: deploy although a reconciler delivers to the cluster. */
  readonly despiteReconciler?: boolean;
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
  'despite-reconciler': { type: 'boolean' },
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
    ...(parsed.values['despite-reconciler'] ? { despiteReconciler: true } : {}),
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
  // Our objects by every rule, the add-ons' (their own files) by the Kubernetes schema: see checkReadInputs.
  const findings = checkReadInputs(inputs, { peopleGroups: peopleGroupsByEnvironment([env]) });
  if (hasErrors(findings)) {
    // The report names each object and its construct; a folder's objects have no construct, so the files too.
    const files = filesOf(
      findings.filter((f) => f.severity === 'error'),
      inputs,
    );
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
export function folderDifferences(dir: string, rendered: ReadonlyMap<string, string | Buffer>): string[] {
  const present = fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => fs.statSync(path.join(dir, f)).isFile())
    .sort();
  const problems: string[] = [];
  for (const file of [...rendered.keys()].sort()) {
    const content = rendered.get(file)!;
    if (!present.includes(file)) {
      problems.push(`${file}: missing; the synth renders it`);
    } else if (!fs.readFileSync(path.join(dir, file)).equals(Buffer.from(content))) {
      problems.push(
        `${file}: differs from the render from line ${firstDifferentLine(fs.readFileSync(path.join(dir, file), 'utf8'), content.toString())}`,
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

/** Runs kubectl with these arguments against the deploy's context. */
export type Run = (args: string[], options?: { passStderr?: boolean }) => SpawnSyncReturns<string>;

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

/**
 * The stages of an apply (see the top of this file): the add-ons' CRDs (files named 00-*), then one
 * stage per wave of add-ons (01-*, 02-*, 03-*, 04-*: lib/addons/waves.ts), then the rest, each in name
 * order. Empty stages are left out; a folder with none of these files is one stage, one apply.
 */
export interface ApplyStage {
  /** For the log: "CRDs", "add-ons, wave 2", "the rest". */
  readonly name: string;
  /** What is awaited after it: the CRDs Established, the add-ons ready, or nothing before the prune. */
  readonly waitFor: 'crds' | 'addons' | 'nothing';
  readonly files: readonly string[];
}

/** The wave of an add-on file, 0<wave>-*: 1 to 4 (05-platform.yaml and later are ours). */
const WAVE_FILE = /^0([1-4])-/;

export function applyStages(files: readonly string[]): ApplyStage[] {
  const sorted = [...files].sort();
  const waves = [...new Set(sorted.map((f) => WAVE_FILE.exec(f)?.[1]).filter((w) => w !== undefined))].sort();
  const stages: ApplyStage[] = [
    { name: 'CRDs', waitFor: 'crds', files: sorted.filter((f) => f.startsWith('00-')) },
    ...waves.map((wave): ApplyStage => ({
      name: `add-ons, wave ${wave}`,
      waitFor: 'addons',
      files: sorted.filter((f) => WAVE_FILE.exec(f)?.[1] === wave),
    })),
    {
      name: 'the rest',
      waitFor: 'nothing',
      files: sorted.filter((f) => !f.startsWith('00-') && !WAVE_FILE.test(f)),
    },
  ];
  return stages.filter((s) => s.files.length > 0);
}

/** An object as `kubectl apply -o json` returns it: the fields the waits read. */
interface AppliedObject extends KubeObject {
  spec?: { conversion?: { webhook?: { clientConfig?: ClientConfig } } };
  webhooks?: { name?: string; clientConfig?: ClientConfig }[];
}
interface ClientConfig {
  service?: { namespace?: string; name?: string };
}

/** A Service the API server calls before it admits or converts objects: it must have a ready endpoint. */
export interface WebhookService {
  readonly namespace: string;
  readonly name: string;
  /** Who calls it, for the message: "ValidatingWebhookConfiguration metallb-webhook-configuration". */
  readonly calledBy: string;
}

/**
 * The Services that the applied webhook configurations and CRD conversion webhooks call, once each
 * (sorted). A webhook given by URL instead (clientConfig.url) is outside the cluster: not waited for.
 */
export function webhookServices(applied: readonly KubeObject[]): WebhookService[] {
  const found = new Map<string, WebhookService>();
  const add = (config: ClientConfig | undefined, calledBy: string): void => {
    const service = config?.service;
    if (!service?.name || !service.namespace) return;
    const key = `${service.namespace}/${service.name}`;
    if (!found.has(key)) found.set(key, { namespace: service.namespace, name: service.name, calledBy });
  };
  for (const o of applied as readonly AppliedObject[]) {
    if (o.kind === 'ValidatingWebhookConfiguration' || o.kind === 'MutatingWebhookConfiguration') {
      for (const w of o.webhooks ?? []) add(w.clientConfig, describe(o));
    } else if (o.kind === 'CustomResourceDefinition') {
      add(o.spec?.conversion?.webhook?.clientConfig, `the conversion webhook of ${describe(o)}`);
    }
  }
  return [...found.keys()].sort().map((k) => found.get(k)!);
}

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** "Established=False (Installing: the initial names have not been accepted)", condition by condition. */
export function describeConditions(conditions: readonly Condition[] | undefined): string {
  if (!conditions || conditions.length === 0) return 'no conditions yet';
  return conditions
    .map((c) => {
      const why = [c.reason, c.message].filter((x) => x).join(': ');
      return `${c.type}=${c.status}${why ? ` (${why})` : ''}`;
    })
    .join(', ');
}

/**
 * The ready endpoints' count of each Service, keyed "namespace/name", from EndpointSlices. An
 * endpoint counts when it has an address and is not marked unready (the API reads a missing
 * `ready` as ready: discovery.k8s.io/v1 EndpointConditions).
 */
export function readyEndpoints(slices: readonly unknown[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const slice of slices as readonly {
    metadata?: { namespace?: string; labels?: Record<string, string> };
    endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[] | null;
  }[]) {
    const service = slice.metadata?.labels?.['kubernetes.io/service-name'];
    if (!service) continue;
    const key = `${slice.metadata?.namespace}/${service}`;
    const ready = (slice.endpoints ?? []).filter(
      (e) => (e.addresses ?? []).length > 0 && e.conditions?.ready !== false,
    ).length;
    counts.set(key, (counts.get(key) ?? 0) + ready);
  }
  return counts;
}

/** Blocks the (synchronous) command for ms milliseconds between two looks at the cluster. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const secondsLeft = (deadline: number): number => Math.max(1, Math.ceil((deadline - Date.now()) / 1000));

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
  // A reconciler delivering to the cluster would undo this deploy: refused unless told (reconciler-guard.ts).
  const reconcilers = reconcilerObjects(RECONCILER_RESOURCES.map((r) => kubectl(listArgs(r.resource))));
  checkNoActiveReconciler(options.env, context, reconcilers, options.despiteReconciler === true).forEach((l) => log(l));
  const stages = applyStages(files);
  log(`deploy ${options.env}: ${files.join(', ')} from ${options.from} to context "${context}"`);
  // One deadline for every wait: --timeout bounds the whole wait, however many stages and workloads there are.
  let deadline: number | undefined;
  const waitDeadline = (): number => (deadline ??= Date.now() + options.timeoutSeconds * 1000);

  // 1. Apply, stage by stage. Warnings (deprecations, Pod Security "would violate") go straight to stderr.
  const applied: KubeObject[] = [];
  let last: KubeObject[] = [];
  for (const stage of stages) {
    if (stages.length > 1) log(`deploy ${options.env}: applying ${stage.name}: ${stage.files.join(', ')}`);
    const apply = kubectl(
      [
        'apply',
        '--server-side',
        `--field-manager=${FIELD_MANAGER}`,
        '--validate=strict',
        ...stage.files.flatMap((f) => ['-f', path.join(options.from, f)]),
        '-o',
        'json',
      ],
      { passStderr: true },
    );
    if (apply.status !== 0) {
      log(
        `deploy ${options.env}: kubectl apply${stages.length > 1 ? ` of ${stage.name}` : ''} failed (exit ${apply.status}); nothing pruned, no rollout awaited`,
      );
      return 1;
    }
    const stageApplied = Date.now();
    last = itemsOf(apply.stdout);
    for (const o of last) {
      log(`  applied ${describe(o)}`);
    }
    applied.push(...last);
    if (stage.waitFor === 'crds') {
      const crds = last.filter((o) => o.kind === 'CustomResourceDefinition');
      if (!waitEstablished(kubectl, crds, waitDeadline(), log)) {
        log(`deploy ${options.env}: stopped before the add-ons: not every CRD is Established; nothing pruned`);
        return 1;
      }
    } else if (stage.waitFor === 'addons') {
      const workloads = last.filter((o) => ROLLOUT_KINDS.has(o.kind));
      const failures = awaitRollouts(kubectl, workloads, waitDeadline(), log);
      const webhooksReady = waitWebhookEndpoints(kubectl, webhookServices(applied), waitDeadline(), stageApplied, log);
      if (failures > 0 || !webhooksReady) {
        // The lines above name what was not ready; this one, which stage was not applied.
        const next = stages[stages.indexOf(stage) + 1]?.name ?? 'the prune';
        log(`deploy ${options.env}: stopped before ${next}: the add-ons are not ready; nothing pruned`);
        return 1;
      }
    }
  }

  // 2. Prune.
  const pruned = prune(kubectl, new Set(applied.map(objectKey)), options.timeoutSeconds, log);

  // 3. Wait for the rollouts of the last stage (the add-ons' were awaited before it), one line each.
  const workloads = last.filter((o) => ROLLOUT_KINDS.has(o.kind) || o.kind === 'Job');
  const failures = awaitRollouts(kubectl, workloads, waitDeadline(), log);

  log(
    `deploy ${options.env}: ${applied.length} applied, ${pruned} pruned, ` +
      `${workloads.length - failures}/${workloads.length} rollouts finished in ${seconds(started)}`,
  );
  return failures === 0 ? 0 : 1;
}

/**
 * The CRDs that `live` (what `kubectl get -o json` read) does not show Established, each with what
 * it was seen as. A CRD just created reads `status.conditions: null` until the API server has
 * accepted its names (the field has no omitempty: apiextensions.k8s.io/v1
 * CustomResourceDefinitionStatus): that is "not yet", like a CRD not listed yet.
 */
export function notEstablished(
  crds: readonly KubeObject[],
  live: readonly KubeObject[],
): { crd: KubeObject; seen: string }[] {
  const read: readonly (KubeObject & { status?: { conditions?: Condition[] | null } | null })[] = live;
  const waiting: { crd: KubeObject; seen: string }[] = [];
  for (const crd of crds) {
    const now = read.find((l) => l.kind === 'CustomResourceDefinition' && l.metadata.name === crd.metadata.name);
    const conditions = now?.status?.conditions ?? undefined;
    if (conditions?.some((c) => c.type === 'Established' && c.status === 'True')) continue;
    waiting.push({ crd, seen: now ? describeConditions(conditions) : 'not found' });
  }
  return waiting;
}

/**
 * Waits until every CRD is Established, looking every second; on timeout names each one that is
 * not, with what it was seen as last (its conditions say why: a name another CRD holds, say). Not
 * `kubectl wait --for=condition=Established`: it fails at once, instead of waiting, on a CRD whose
 * conditions are still null (notEstablished), which a CRD applied a moment ago can be.
 */
export function waitEstablished(
  kubectl: Run,
  crds: readonly KubeObject[],
  deadline: number,
  log: (line: string) => void,
): boolean {
  if (crds.length === 0) return true;
  const since = Date.now();
  const names = crds.map((o) => `customresourcedefinition.apiextensions.k8s.io/${o.metadata.name}`);
  let waiting = crds.map((crd) => ({ crd, seen: 'not read yet' }));
  let lastError: string;
  for (;;) {
    const seen = kubectl(['get', ...names, '-o', 'json']);
    if (seen.status === 0) {
      waiting = notEstablished(crds, itemsOf(seen.stdout));
      lastError = '';
    } else {
      lastError = (seen.stderr || seen.stdout).trim();
    }
    if (waiting.length === 0 && lastError === '') {
      log(`  ${crds.length} CRDs Established (${seconds(since)})`);
      return true;
    }
    if (Date.now() >= deadline) break;
    pause(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
  for (const w of waiting) {
    log(`  ${describe(w.crd)} NOT Established after ${seconds(since)}: ${lastError || w.seen}`);
  }
  return false;
}

/** `kubectl rollout status` (a Job: `kubectl wait` for Complete) for each, one line each; returns how many failed. */
function awaitRollouts(
  kubectl: Run,
  workloads: readonly KubeObject[],
  deadline: number,
  log: (line: string) => void,
): number {
  let failures = 0;
  workloads.forEach((o, i) => {
    const since = Date.now();
    const timeout = `--timeout=${secondsLeft(deadline)}s`;
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
      // What the rollout showed last (kubectl's progress line) and why it stopped.
      const lastSeen = result.stdout.trim().split('\n').pop() ?? '';
      const why = [lastSeen, ...result.stderr.trim().split('\n').slice(-2)].filter((l) => l !== '').join(' | ');
      log(`  [${i + 1}/${workloads.length}] ${describe(o)} NOT ${done} after ${seconds(since)}: ${why}`);
    }
  });
  return failures;
}

/**
 * Waits until every webhook Service has a ready endpoint, looking every two seconds; on timeout
 * names each Service without one and the webhook that calls it, and how long since it was applied.
 */
function waitWebhookEndpoints(
  kubectl: Run,
  services: readonly WebhookService[],
  deadline: number,
  since: number,
  log: (line: string) => void,
): boolean {
  if (services.length === 0) return true;
  const selector = `kubernetes.io/service-name in (${[...new Set(services.map((s) => s.name))].join(',')})`;
  let waiting: WebhookService[] = [...services];
  let lastError: string;
  for (;;) {
    const slices = kubectl([
      'get',
      'endpointslices.discovery.k8s.io',
      '--all-namespaces',
      '-l',
      selector,
      '-o',
      'json',
    ]);
    if (slices.status === 0) {
      const ready = readyEndpoints(itemsOf(slices.stdout));
      waiting = services.filter((s) => (ready.get(`${s.namespace}/${s.name}`) ?? 0) === 0);
      lastError = '';
    } else {
      lastError = (slices.stderr || slices.stdout).trim();
    }
    if (waiting.length === 0) {
      log(`  ${services.length} webhook Service(s) with ready endpoints (${seconds(since)})`);
      return true;
    }
    if (Date.now() >= deadline) break;
    pause(Math.min(2000, Math.max(0, deadline - Date.now())));
  }
  for (const s of waiting) {
    log(
      `  Service ${s.namespace}/${s.name} (called by ${s.calledBy}) has NO ready endpoint after ${seconds(since)}${lastError ? `: ${lastError}` : ''}`,
    );
  }
  return false;
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
    // An aggregated API whose server does not answer (metrics-server's metrics.k8s.io while its pod
    // starts) fails discovery of that group only; kubectl still lists the rest. Such a group holds
    // no object of ours unless we applied one of its kind: then pruning cannot be exact, and stops.
    const unserved = unservedGroupVersions(kinds.stderr);
    const ours = new Set([...applied].map((key) => key.split('/')[0]));
    if (unserved.length === 0 || unserved.some((gv) => ours.has(gv.split('/')[0]))) {
      throw failed('kubectl api-resources', kinds);
    }
    log(
      `  prune: not listing ${unserved.join(', ')}: the API server cannot reach the server of that API now ` +
        `(${kinds.stderr.trim()}); no object of ours is of its kinds`,
    );
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

/**
 * The group/versions kubectl could not discover, from its error "unable to retrieve the complete
 * list of server APIs: metrics.k8s.io/v1beta1: <why>, <group/version>: <why>" (client-go's
 * ErrGroupDiscoveryFailed); none when the error is another.
 */
export function unservedGroupVersions(stderr: string): string[] {
  const marker = 'unable to retrieve the complete list of server APIs: ';
  const at = stderr.indexOf(marker);
  if (at < 0) return [];
  const rest = stderr.slice(at + marker.length).split('\n')[0];
  return [...rest.matchAll(/(?:^|, )([a-z0-9.-]+\/v[0-9a-z]+): /g)].map((m) => m[1]).sort();
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
