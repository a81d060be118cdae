/**
 * `npm run explain`: for every container and every pod of every workload, the QoS class and the
 * cgroup values and OOM score adjustment the node derives from the requests and limits, each next
 * to the figure it comes from (the formulas and their sources are in cgroups.ts).
 *
 * The tables show each value under both cgroup versions' names, "v1 / v2" in one cell, rather than
 * taking a `--cgroup v1|v2` option: most introductions still use the v1 names, today's nodes run v2, and a
 * reader comparing a node with the table should not have to know which to ask for. Only the
 * memory column grows noticeably (v1 shows "no limit" as a 19-digit number); the legend says why.
 */
import { memoryBytes } from '../k8s/quantity';
import { ContainerCgroups, explainPod, explainPodSpec, PodCgroups, PodTotal } from './cgroups';
import { KubeObject, sortedWorkloads } from './kube';
import { markdownTable, Table, textTable } from './table';

/** One container of one workload, explained. */
export interface ExplainRow extends ContainerCgroups {
  /** `Deployment web/web`. */
  readonly workload: string;
  /** The request and limit texts as written in the YAML (undefined where not set). */
  readonly written: { cpuRequest?: string; cpuLimit?: string; memoryRequest?: string; memoryLimit?: string };
}

/** The pod cgroup of one workload, explained. */
export interface PodRow extends PodCgroups {
  readonly workload: string;
}

/** Every container and every pod cgroup of an environment. */
export interface Explained {
  readonly containers: readonly ExplainRow[];
  readonly pods: readonly PodRow[];
}

/** What the figures depend on besides the YAML. */
export interface ExplainSettings {
  /** The node memory the Burstable OOM score is computed against, as written (`8Gi`). */
  readonly nodeMemory: string;
  /** The container runtime's own oom_score_adj where it may not go lower (`--oom-floor`); undefined: none. */
  readonly oomScoreAdjFloor?: number;
}

/** Parses `--node-memory` (`8Gi`) into bytes, or throws naming the value and what is allowed. */
export function parseNodeMemory(text: string): number {
  const bytes = memoryBytes(text);
  if (bytes === undefined || bytes <= 0) {
    throw new Error(
      `--node-memory: Invalid value: "${text}": a memory quantity greater than zero, e.g. "8Gi" or "16Gi"`,
    );
  }
  return bytes;
}

/** Parses `--oom-floor` (`0`), an oom_score_adj from -1000 to 1000, or throws naming the value and what is allowed. */
export function parseOomScoreAdjFloor(text: string): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(value) || value < -1000 || value > 1000) {
    throw new Error(
      `--oom-floor: Invalid value: "${text}": an integer from -1000 to 1000, the container runtime's own oom_score_adj (e.g. 0)`,
    );
  }
  return value;
}

/** Workloads that run pods, sorted by kind, namespace and name, with their pod spec. */
function podWorkloads(objects: readonly KubeObject[]): { workload: string; spec: KubeObject }[] {
  return sortedWorkloads(objects).map(({ label, template }) => ({ workload: label, spec: template.spec }));
}

/** Every container of every object that runs pods, init containers first. */
export function explainObjects(
  objects: readonly KubeObject[],
  nodeMemoryBytes: number,
  oomScoreAdjFloor?: number,
): ExplainRow[] {
  return podWorkloads(objects).flatMap(({ workload, spec }) => {
    const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    const byName = new Map<string, KubeObject>(containers.map((c: KubeObject) => [c.name, c]));
    return explainPodSpec(spec, nodeMemoryBytes, oomScoreAdjFloor).map((explained) => {
      const c = byName.get(explained.container) ?? {};
      return {
        ...explained,
        workload,
        written: {
          cpuRequest: text(c.resources?.requests?.cpu),
          cpuLimit: text(c.resources?.limits?.cpu),
          memoryRequest: text(c.resources?.requests?.memory),
          memoryLimit: text(c.resources?.limits?.memory),
        },
      };
    });
  });
}

/** The pod cgroup of every object that runs pods. */
export function explainPods(objects: readonly KubeObject[]): PodRow[] {
  return podWorkloads(objects).map(({ workload, spec }) => ({ workload, ...explainPod(spec) }));
}

/** Containers and pods of one environment under the given settings. */
export function explainEnvironment(objects: readonly KubeObject[], settings: ExplainSettings): Explained {
  return {
    containers: explainObjects(objects, parseNodeMemory(settings.nodeMemory), settings.oomScoreAdjFloor),
    pods: explainPods(objects),
  };
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  // A scalar as YAML shows it; anything else (an object or a list) as JSON rather than "[object Object]".
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Tables

/** "250m", "1 (= limit)" where the API server copies the limit, or "none". */
function requestText(written: string | undefined, limit: string | undefined): string {
  if (written !== undefined) {
    return written;
  }
  return limit !== undefined ? `${limit} (= limit)` : 'none';
}

function containerName(row: ExplainRow): string {
  return row.sidecar ? `${row.container} (sidecar)` : row.init ? `${row.container} (init)` : row.container;
}

/** "-997", or "-997 → 0 (floor)" where the runtime raises it. */
function oomText(row: ExplainRow): string {
  return row.oomScoreAdj === row.kubeletOomScoreAdj
    ? String(row.oomScoreAdj)
    : `${row.kubeletOomScoreAdj} → ${row.oomScoreAdj} (floor)`;
}

const CPU_REQUEST_HEADER = 'cpu request → cpu.shares (v1) → cpu.weight (v2)';
const CPU_LIMIT_HEADER = 'cpu limit → cpu.cfs_quota_us (v1) / cpu.max (v2)';
const MEMORY_LIMIT_HEADER = 'memory limit → memory.limit_in_bytes (v1) / memory.max (v2)';

/** The explain table: one row per container, each derived value next to its source. */
export function explainTable(rows: readonly ExplainRow[]): Table {
  return {
    header: [
      'Workload',
      'Container',
      'QoS',
      CPU_REQUEST_HEADER,
      CPU_LIMIT_HEADER,
      MEMORY_LIMIT_HEADER,
      'memory request → oom_score_adj',
    ],
    rows: rows.map((r) => [
      r.workload,
      containerName(r),
      r.qos,
      `${requestText(r.written.cpuRequest, r.written.cpuLimit)} → ${r.cgroupV1.cpuShares} → ${r.cgroupV2.cpuWeight}`,
      `${r.written.cpuLimit ?? 'none'} → ${r.cgroupV1.cfsQuotaUs} / ${r.cgroupV2.cpuMax}`,
      `${r.written.memoryLimit ?? 'none'} → ${r.cgroupV1.memoryLimitInBytes} / ${r.cgroupV2.memoryMax}`,
      `${requestText(r.written.memoryRequest, r.written.memoryLimit)} → ${oomText(r)}`,
    ]),
  };
}

/** A byte count as the largest binary unit that divides it: 805306368 → "768Mi". */
function bytesText(bytes: number): string {
  for (const [unit, size] of [
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes > 0 && bytes % size === 0) {
      return `${bytes / size}${unit}`;
    }
  }
  return String(bytes);
}

/**
 * A pod total as the kubelet counts it: "300m", "100m (init)" where an init container's figure is
 * larger than the app containers' sum, "not on every container" where the kubelet sets no limit for
 * that reason, "none" where nothing is set.
 */
function podTotalText(t: PodTotal, format: (n: number) => string, isLimit: boolean): string {
  if (t.total === 0) {
    return 'none';
  }
  if (isLimit && !t.declared) {
    return 'not on every container';
  }
  return t.init > t.containers ? `${format(t.total)} (init)` : format(t.total);
}

/** Millicores as a quantity is written: "250m", "1" for a whole cpu. */
const millis = (m: number) => (m % 1000 === 0 ? String(m / 1000) : `${m}m`);

/** The pod table: one row per workload, the values of its pod's own cgroup. */
export function podTable(rows: readonly PodRow[]): Table {
  return {
    header: [
      'Workload',
      'QoS',
      'Pod cgroup',
      CPU_REQUEST_HEADER.replace('cpu request', 'cpu requests'),
      CPU_LIMIT_HEADER.replace('cpu limit', 'cpu limits'),
      MEMORY_LIMIT_HEADER.replace('memory limit', 'memory limits'),
    ],
    rows: rows.map((r) => [
      r.workload,
      r.qos,
      `${r.cgroupParent}/pod<uid>`,
      `${r.qos === 'BestEffort' ? 'none' : podTotalText(r.cpuRequests, millis, false)} → ${r.cgroupV1.cpuShares} → ${r.cgroupV2.cpuWeight}`,
      `${podTotalText(r.cpuLimits, millis, true)} → ${r.cgroupV1.cfsQuotaUs} / ${r.cgroupV2.cpuMax}`,
      `${podTotalText(r.memoryLimits, bytesText, true)} → ${r.cgroupV1.memoryLimitInBytes} / ${r.cgroupV2.memoryMax}`,
    ]),
  };
}

/** How the figures are derived, for a reader who has not opened cgroups.ts. */
export function explainLegend(settings: ExplainSettings): string[] {
  const lines = [
    '`cpu.shares`: cpu request in millicores × 1024 / 1000 (at least 2, at most 262144; no request: 2);',
    "  `cpu.weight` = 1 + (shares − 2) × 9999 / 262142, integer division (runc's linear conversion;",
    '  runc ≥ 1.3.2 and crun ≥ 1.23 use a log-quadratic mapping instead, which gives higher weights).',
    '`cpu.cfs_quota_us`: cpu limit in millicores × 100000 / 1000 µs (at least 1000 µs, so a limit under 10m still gets 1 ms),',
    '  −1 without a limit; `cpu.cfs_period_us` is 100000 everywhere. `cpu.max` is the same as `<quota> <period>`, `max` for −1.',
    '`memory.limit_in_bytes` / `memory.max`: the memory limit in bytes, rounded down to 4096-byte pages; without a limit,',
    "  v1 shows the kernel's largest page-rounded count, 9223372036854771712 ((2^63 − 1) / 4096 × 4096), and v2 shows `max`.",
    `\`oom_score_adj\`: Guaranteed −997, BestEffort 1000, Burstable 1000 − 1000 × memory request / node memory (${settings.nodeMemory}),`,
    "  kept within 3..999 (a sidecar gets no more than its pod's app container with the smallest request).",
  ];
  if (settings.oomScoreAdjFloor !== undefined) {
    lines.push(
      `  On this node the container runtime may not set a score below its own, ${settings.oomScoreAdjFloor} (containerd's`,
      '  `restrict_oom_score_adj`, for a runtime that is not allowed to lower OOM scores), so lower values show raised to it: "(floor)".',
    );
  }
  lines.push(
    "Pods: cpu.shares from the pod's cpu requests; a quota and a memory limit from its limits, for a Burstable pod only when every",
    '  container has one. The app containers and sidecars add up; an init container counts as itself plus the sidecars before it,',
    '  and the pod total is the larger of the two ("(init)"). A BestEffort pod gets 2 shares and no limits.',
    'A request that is not written is copied from the limit by the API server; QoS counts init containers too.',
  );
  return lines;
}

const POD_SECTION =
  'Per pod, its own cgroup (`kubepods/<qos>/pod<uid>`; Guaranteed pods sit directly under `kubepods`):';

/** The explain report as plain text for the terminal. */
export function formatExplainText(envName: string, explained: Explained, settings: ExplainSettings): string {
  const heading = `Environment ${envName}: what the kernel enforces per container and per pod (cgroup v1 / v2, node memory ${settings.nodeMemory})\n\n`;
  if (explained.containers.length === 0) {
    return `${heading}No workloads.\n`;
  }
  const legend = explainLegend(settings)
    .map((l) => l.replace(/`/g, ''))
    .join('\n');
  return (
    `${heading}${textTable(explainTable(explained.containers))}\n${POD_SECTION.replace(/`/g, '')}\n\n` +
    `${textTable(podTable(explained.pods))}\n${legend}\n`
  );
}

/** The explain report as Markdown, for the per-environment README. */
export function formatExplainMarkdown(explained: Explained, settings: ExplainSettings): string {
  if (explained.containers.length === 0) {
    return 'No workloads.\n';
  }
  const legend = explainLegend(settings)
    .map((l) => (l.startsWith('  ') ? `  ${l.trim()}` : `- ${l}`))
    .join('\n');
  return `${markdownTable(explainTable(explained.containers))}\n${POD_SECTION}\n\n${markdownTable(podTable(explained.pods))}\n${legend}\n`;
}

// ---------------------------------------------------------------------------------------------
// JSON for programs (the real node's test compares it with the files the kubelet wrote)

/** One environment's explanation with the settings it was computed under. */
export interface ExplainedEnvironment {
  readonly name: string;
  readonly settings: ExplainSettings;
  readonly explained: Explained;
}

/**
 * The `--json` document: an object keyed by environment name, each with its settings, its container
 * rows and its pod rows, keys in the order written here. Numbers are exact integers: the v1
 * "no memory limit", 9223372036854771712, is beyond what a JavaScript number holds, so the
 * document is written with bigints turned into plain digits rather than rounded.
 */
export function formatExplainJson(envs: readonly ExplainedEnvironment[]): string {
  const document: Record<string, unknown> = {};
  for (const { name, settings, explained } of envs) {
    document[name] = {
      nodeMemoryBytes: parseNodeMemory(settings.nodeMemory),
      oomScoreAdjFloor: settings.oomScoreAdjFloor ?? null,
      containers: explained.containers.map((r) => ({
        workload: r.workload,
        container: r.container,
        init: r.init,
        sidecar: r.sidecar,
        qos: r.qos,
        cgroupV1: r.cgroupV1,
        cgroupV2: r.cgroupV2,
        kubeletOomScoreAdj: r.kubeletOomScoreAdj,
        oomScoreAdj: r.oomScoreAdj,
      })),
      pods: explained.pods.map((r) => ({
        workload: r.workload,
        qos: r.qos,
        cgroupParent: r.cgroupParent,
        cgroupV1: r.cgroupV1,
        cgroupV2: r.cgroupV2,
      })),
    };
  }
  // A workload name is a DNS name, so no string value can contain the marker.
  const marked = JSON.stringify(document, (_key, value) => (typeof value === 'bigint' ? `#bigint#${value}` : value), 2);
  return `${marked.replace(/"#bigint#(-?\d+)"/g, '$1')}\n`;
}
