/**
 * `npm run explain -- --env <name> [--node-memory 8Gi] [--markdown]`: per container, its pod's QoS
 * class and the cgroup v2 values and OOM score adjustment the node derives from its requests and
 * limits (lib/review/cgroups.ts has the formulas and the kubelet sources they come from).
 */
import { parseArgs } from 'util';
import { ENVIRONMENT_NAMES } from '../lib/environment';
import { selectEnvironments } from '../lib/environments';
import { renderEnvironment } from '../lib/render';
import { DEFAULT_NODE_MEMORY } from '../lib/review/cgroups';
import { explainObjects, formatExplainMarkdown, formatExplainText, parseNodeMemory } from '../lib/review/explain';

function main(): void {
  const { values } = parseArgs({
    options: {
      'env': { type: 'string', multiple: true },
      'node-memory': { type: 'string', default: DEFAULT_NODE_MEMORY },
      'markdown': { type: 'boolean', default: false },
    },
  });
  const names = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '');
  if (!names || names.length === 0) {
    throw new Error(`--env: name an environment: ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  const nodeMemory = values['node-memory']!;
  const nodeMemoryBytes = parseNodeMemory(nodeMemory);
  for (const r of selectEnvironments(names).map(renderEnvironment)) {
    const rows = explainObjects(r.objects.map((o) => o.object), nodeMemoryBytes);
    process.stdout.write(values.markdown ? formatExplainMarkdown(rows, nodeMemory) : formatExplainText(r.env.name, rows, nodeMemory));
  }
}

try {
  main();
} catch (error) {
  console.error(`explain failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
