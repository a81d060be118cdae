/**
 * `npm run explain -- --env <name> [--node-memory 8Gi] [--oom-floor <n>] [--markdown | --json]`:
 * per container and per pod, the QoS class, the cgroup v1 and v2 values and the OOM score
 * adjustment the node derives from the requests and limits (lib/review/cgroups.ts has the formulas
 * and the kubelet, runc and kernel sources they come from).
 *
 * --node-memory  the node memory the Burstable OOM score is computed against (default 8Gi).
 * --oom-floor    the container runtime's own oom_score_adj on a node where it may not go lower
 *                (containerd with restrict_oom_score_adj = true): lower scores show raised to it.
 *                A negative floor is written either way: --oom-floor -999 or --oom-floor=-999.
 * --markdown     the tables as Markdown, as in dist/<env>/README.md.
 * --json         one JSON document for programs, keys in this order:
 *   {
 *     "<env>": {
 *       "nodeMemoryBytes": 8589934592,
 *       "oomScoreAdjFloor": 0,                       (null without --oom-floor)
 *       "containers": [{
 *         "workload": "Deployment web/web",          (kind namespace/name)
 *         "container": "nginx", "init": false, "sidecar": false,
 *         "qos": "Burstable",                        (Guaranteed | Burstable | BestEffort)
 *         "cgroupV1": { "cpuShares": 51, "cfsQuotaUs": 25000, "cfsPeriodUs": 100000, "memoryLimitInBytes": 134217728 },
 *         "cgroupV2": { "cpuWeight": 2, "cpuMax": "25000 100000", "memoryMax": "134217728" },
 *         "kubeletOomScoreAdj": 993,                 (what the kubelet asks for)
 *         "oomScoreAdj": 993                         (what /proc/<pid>/oom_score_adj shows: raised to the floor)
 *       }],
 *       "pods": [{
 *         "workload": "Deployment web/web", "qos": "Burstable",
 *         "cgroupParent": "kubepods/burstable",      (cgroupfs names; the pod's cgroup is <parent>/pod<uid>)
 *         "cgroupV1": { ... as above }, "cgroupV2": { ... as above }
 *       }]
 *     }
 *   }
 *   Numbers are the files' contents: cfsQuotaUs -1 without a limit, memoryLimitInBytes
 *   9223372036854771712 without one (an exact integer: read it as int64, not as a double).
 */
import { environmentNames, selectEnvironments } from '../environments';
import { readCommandLine } from './command-line';
import { renderEnvironment } from '../synth/render';
import { DEFAULT_NODE_MEMORY } from '../review/cgroups';
import {
  explainEnvironment,
  ExplainSettings,
  formatExplainJson,
  formatExplainMarkdown,
  formatExplainText,
  parseNodeMemory,
  parseOomScoreAdjFloor,
} from '../review/explain';

const USAGE = `usage: npm run explain -- --env <name> [--node-memory <quantity>] [--oom-floor <n>] [--markdown | --json]

Per container and per pod: the QoS class, the cgroup v1 and v2 values and the OOM score adjustment
the node derives from the requests and limits.
  --env <name>              the environment; repeat, or separate with commas, for several
  --node-memory <quantity>  the node memory Burstable OOM scores are computed against (default ${DEFAULT_NODE_MEMORY})
  --oom-floor <n>           the runtime's own oom_score_adj where scores may not go lower (containerd with
                            restrict_oom_score_adj = true): lower scores show raised to it; -1000 to 1000
  --markdown                the tables as Markdown, as in dist/<env>/README.md
  --json                    one JSON document for programs`;

function main(): void {
  const { values } = readCommandLine('explain', USAGE, {
    options: {
      env: { type: 'string', multiple: true },
      'node-memory': { type: 'string', default: DEFAULT_NODE_MEMORY },
      'oom-floor': { type: 'string' },
      markdown: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const names = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '');
  if (!names || names.length === 0) {
    throw new Error(`--env: name an environment: ${environmentNames().join(', ')}`);
  }
  if (values.markdown && values.json) {
    throw new Error('--markdown and --json: choose one output');
  }
  const settings: ExplainSettings = {
    nodeMemory: values['node-memory'],
    oomScoreAdjFloor: values['oom-floor'] === undefined ? undefined : parseOomScoreAdjFloor(values['oom-floor']),
  };
  parseNodeMemory(settings.nodeMemory);
  const envs = selectEnvironments(names)
    .map(renderEnvironment)
    .map((r) => ({
      name: r.env.name,
      settings,
      explained: explainEnvironment(
        r.objects.map((o) => o.object),
        settings,
      ),
    }));
  if (values.json) {
    process.stdout.write(formatExplainJson(envs));
    return;
  }
  for (const { name, explained } of envs) {
    process.stdout.write(
      values.markdown ? formatExplainMarkdown(explained, settings) : formatExplainText(name, explained, settings),
    );
  }
}

try {
  main();
} catch (error) {
  console.error(`explain failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
