/**
 * `npm run explain`: for every container of every workload, the QoS class of its pod and the cgroup
 * v2 values and OOM score adjustment the node derives from its requests and limits, each next to
 * the figure it comes from (the formulas and their sources are in cgroups.ts).
 */
import { memoryBytes } from '../kit/quantity';
import { ContainerCgroups, explainPodSpec } from './cgroups';
import { compareObjects, KubeObject, objectLabel, podTemplate } from './kube';
import { markdownTable, Table, textTable } from './table';

/** One container of one workload, explained. */
export interface ExplainRow extends ContainerCgroups {
  /** `Deployment web/web`. */
  readonly workload: string;
  /** The request and limit texts as written in the YAML (undefined where not set). */
  readonly written: { cpuRequest?: string; cpuLimit?: string; memoryRequest?: string; memoryLimit?: string };
}

/** Parses `--node-memory` (`8Gi`) into bytes, or throws naming the value and what is allowed. */
export function parseNodeMemory(text: string): number {
  const bytes = memoryBytes(text);
  if (bytes === undefined || bytes <= 0) {
    throw new Error(`--node-memory: Invalid value: "${text}": a memory quantity greater than zero, e.g. "8Gi" or "16Gi"`);
  }
  return bytes;
}

/** Every container of every object that runs pods, workloads sorted by kind, namespace and name. */
export function explainObjects(objects: readonly KubeObject[], nodeMemoryBytes: number): ExplainRow[] {
  const rows: ExplainRow[] = [];
  for (const o of [...objects].sort(compareObjects)) {
    const template = podTemplate(o);
    if (!template) {
      continue;
    }
    const containers = [...(template.spec.initContainers ?? []), ...(template.spec.containers ?? [])];
    const byName = new Map<string, KubeObject>(containers.map((c: KubeObject) => [c.name, c]));
    for (const explained of explainPodSpec(template.spec, nodeMemoryBytes)) {
      const c = byName.get(explained.container) ?? {};
      rows.push({
        ...explained,
        workload: objectLabel(o),
        written: {
          cpuRequest: text(c.resources?.requests?.cpu),
          cpuLimit: text(c.resources?.limits?.cpu),
          memoryRequest: text(c.resources?.requests?.memory),
          memoryLimit: text(c.resources?.limits?.memory),
        },
      });
    }
  }
  return rows;
}

function text(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

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

/** The explain table: one row per container, each derived value next to its source. */
export function explainTable(rows: readonly ExplainRow[]): Table {
  return {
    header: ['Workload', 'Container', 'QoS', 'cpu request → cpu.shares → cpu.weight', 'cpu limit → cpu.max',
      'memory limit → memory.max', 'memory request → oom_score_adj'],
    rows: rows.map((r) => [
      r.workload,
      containerName(r),
      r.qos,
      `${requestText(r.written.cpuRequest, r.written.cpuLimit)} → ${r.cpuShares} → ${r.cpuWeight}`,
      `${r.written.cpuLimit ?? 'none'} → ${r.cpuMax}`,
      `${r.written.memoryLimit ?? 'none'} → ${r.memoryMax}`,
      `${requestText(r.written.memoryRequest, r.written.memoryLimit)} → ${r.oomScoreAdj}`,
    ]),
  };
}

/** How the figures are derived, for a reader who has not opened cgroups.ts. */
export function explainLegend(nodeMemory: string): string[] {
  return [
    '`cpu.weight`: shares = cpu request in millicores × 1024 / 1000 (at least 2, at most 262144; no request: 2),',
    '  then weight = 1 + (shares − 2) × 9999 / 262142, integer division (runc\'s linear conversion;',
    '  runc ≥ 1.3.2 and crun ≥ 1.23 use a log-quadratic mapping instead, which gives higher weights).',
    '`cpu.max`: `<quota> <period>`, quota = cpu limit in millicores × 100000 / 1000 µs (at least 1000) per 100000 µs period; `max` without a limit.',
    '`memory.max`: the memory limit in bytes; `max` without a limit.',
    `\`oom_score_adj\`: Guaranteed −997, BestEffort 1000, Burstable 1000 − 1000 × memory request / node memory (${nodeMemory}),`,
    '  kept within 3..999 (a sidecar gets no more than its pod\'s app container with the smallest request).',
    'A request that is not written is copied from the limit by the API server; QoS counts init containers too.',
  ];
}

/** The explain report as plain text for the terminal. */
export function formatExplainText(envName: string, rows: readonly ExplainRow[], nodeMemory: string): string {
  const heading = `Environment ${envName}: what the kernel enforces per container (cgroup v2, node memory ${nodeMemory})\n\n`;
  const body = rows.length === 0 ? 'No workloads.\n' : textTable(explainTable(rows));
  return `${heading}${body}\n${explainLegend(nodeMemory).map((l) => l.replace(/`/g, '')).join('\n')}\n`;
}

/** The explain report as Markdown, for the per-environment README. */
export function formatExplainMarkdown(rows: readonly ExplainRow[], nodeMemory: string): string {
  const body = rows.length === 0 ? 'No workloads.\n' : markdownTable(explainTable(rows));
  return `${body}\n${explainLegend(nodeMemory).map((l) => (l.startsWith('  ') ? `  ${l.trim()}` : `- ${l}`)).join('\n')}\n`;
}
