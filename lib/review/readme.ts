/**
 * dist/<env>/README.md: the picture of one environment next to its YAML, so that a pull request
 * shows a change in the picture beside the change in the objects. A diagram of the objects and
 * their connections, a table of the workloads, and what the kernel enforces for each container.
 * Deterministic: no dates, sorted everywhere.
 */
import { Environment } from '../environment';
import { accessSection } from './access-tables';
import { DEFAULT_NODE_MEMORY, podQosClass } from './cgroups';
import { drawableFlowchart, MERMAID_LIMITS } from './diagram';
import { explainEnvironment, formatExplainMarkdown } from './explain';
import { inNamespace, KubeObject, podTemplate, selectorMatches, sortedWorkloads } from './kube';
import { markdownTable, Table } from './table';

/** The workloads table: image, replicas or autoscaling range, resources, QoS, exposure, storage. */
export function workloadsTable(objects: readonly KubeObject[]): Table {
  const rows = sortedWorkloads(objects).map(({ object: o, label, template }) => {
    const containers: KubeObject[] = [...(template.spec.initContainers ?? []), ...(template.spec.containers ?? [])];
    const each = (f: (c: KubeObject) => string) => containers.map((c) => `${c.name}: ${f(c)}`).join('<br>');
    return [
      label,
      each((c) => `\`${c.image}\``),
      replicasText(o, objects),
      each((c) => resourcesText(c.resources?.requests)),
      each((c) => resourcesText(c.resources?.limits)),
      podQosClass(template.spec),
      exposureText(o, objects) || '—',
      storageText(o, template.spec, objects) || '—',
    ];
  });
  return { header: ['Workload', 'Image', 'Replicas', 'Requests', 'Limits', 'QoS', 'Exposure', 'Storage'], rows };
}

function resourcesText(r: Record<string, string> | undefined): string {
  if (!r || Object.keys(r).length === 0) {
    return 'none';
  }
  return Object.keys(r)
    .sort()
    .map((k) => `${k} ${r[k]}`)
    .join(', ');
}

function replicasText(o: KubeObject, objects: readonly KubeObject[]): string {
  const hpa = inNamespace(objects, o.metadata?.namespace).find(
    (h) =>
      h.kind === 'HorizontalPodAutoscaler' &&
      h.spec?.scaleTargetRef?.kind === o.kind &&
      h.spec?.scaleTargetRef?.name === o.metadata?.name,
  );
  if (hpa) {
    return `${hpa.spec.minReplicas ?? 1}–${hpa.spec.maxReplicas} (HPA)`;
  }
  if (o.kind === 'CronJob') {
    return `schedule \`${o.spec?.schedule}\``;
  }
  if (o.kind === 'Job') {
    return `${o.spec?.completions ?? 1} completion(s)`;
  }
  if (o.kind === 'DaemonSet') {
    return 'one per node';
  }
  if (o.kind === 'Pod') {
    return '1';
  }
  return String(o.spec?.replicas ?? '1 (default)');
}

/** Services that select the workload's pods (type and ports), and Ingress hosts routed to them. */
function exposureText(o: KubeObject, objects: readonly KubeObject[]): string {
  const ns = o.metadata?.namespace;
  const labels = podTemplate(o)?.metadata?.labels;
  const local = inNamespace(objects, ns);
  const services = local.filter(
    (s) => s.kind === 'Service' && s.spec?.selector && selectorMatches({ matchLabels: s.spec.selector }, labels),
  );
  const parts: string[] = [];
  for (const s of services) {
    const ports = (s.spec.ports ?? []).map((p: KubeObject) => p.port).join(',');
    parts.push(
      `Service ${s.metadata.name} (${s.spec.clusterIP === 'None' ? 'headless' : (s.spec.type ?? 'ClusterIP')} ${ports})`,
    );
    for (const ing of local.filter((i) => i.kind === 'Ingress')) {
      for (const rule of ing.spec?.rules ?? []) {
        if ((rule.http?.paths ?? []).some((p: KubeObject) => p.backend?.service?.name === s.metadata.name)) {
          parts.push(`Ingress ${ing.metadata.name} (${rule.host ?? '*'})`);
        }
      }
    }
  }
  return [...new Set(parts)].join('<br>');
}

/** Claims (with size and class) and memory-backed or capped scratch volumes. */
function storageText(o: KubeObject, pod: KubeObject, objects: readonly KubeObject[]): string {
  const parts: string[] = [];
  for (const t of o.kind === 'StatefulSet' ? (o.spec?.volumeClaimTemplates ?? []) : []) {
    parts.push(
      `claim template ${t.metadata?.name}: ${t.spec?.resources?.requests?.storage ?? '?'} ${t.spec?.storageClassName ?? '(default class)'}`,
    );
  }
  for (const v of pod.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) {
      const pvc = inNamespace(objects, o.metadata?.namespace).find(
        (p) => p.kind === 'PersistentVolumeClaim' && p.metadata?.name === v.persistentVolumeClaim.claimName,
      );
      parts.push(
        `claim ${v.persistentVolumeClaim.claimName}${pvc ? `: ${pvc.spec?.resources?.requests?.storage ?? '?'} ${pvc.spec?.storageClassName ?? '(default class)'}` : ''}`,
      );
    } else if (v.emptyDir) {
      parts.push(
        `emptyDir ${v.name}${v.emptyDir.medium === 'Memory' ? ' (tmpfs)' : ''}${v.emptyDir.sizeLimit ? ` ≤ ${v.emptyDir.sizeLimit}` : ''}`,
      );
    }
  }
  return parts.join('<br>');
}

/**
 * The diagram of the objects, or, where Mermaid would refuse to draw it (a thousand workloads),
 * a line saying why it is left out: an error box in its place would help no reviewer.
 */
function diagramSection(objects: readonly KubeObject[]): string[] {
  const drawn = drawableFlowchart(objects);
  if ('tooLarge' in drawn) {
    return [
      `No diagram: ${drawn.tooLarge}, more than Mermaid draws (at most ${MERMAID_LIMITS.maxTextSize} characters` +
        ` and ${MERMAID_LIMITS.maxEdges} edges by default). The tables below list every workload and what it may do.`,
    ];
  }
  return [
    'Solid arrows: routing, selection and references. Dotted arrows: NetworkPolicy (peer → policy for ingress,',
    'policy → peer for egress, policy → the pods it applies to). Rounded, dashed boxes: referred to but not rendered here.',
    '',
    '```mermaid',
    drawn.flowchart.trimEnd(),
    '```',
  ];
}

/** The whole README for one environment. */
export function environmentReadme(
  env: Environment,
  objects: readonly KubeObject[],
  nodeMemory = DEFAULT_NODE_MEMORY,
): string {
  const kinds = new Map<string, number>();
  for (const o of objects) {
    kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
  }
  const kindList = [...kinds.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return [
    `# Environment \`${env.name}\``,
    '',
    'Rendered by lab-to-prod. Do not edit: change the TypeScript and run `npm run synth`.',
    '',
    `Kubernetes ${env.kubernetesVersion} · load balancing: ${env.loadBalancing.provider} (${env.loadBalancing.ipFamilies.join(', ')})` +
      ` · storage: ${env.storage.storageClassName} (${env.storage.provisioner}) · identity: ${env.identity.provider}` +
      ` · observability: ${env.observability.stack} · spread across: ${env.scale.spreadAcross} · registry: \`${env.registry.mirror}\``,
    '',
    `Nodes: ${env.nodes.osImage}, confined by ${env.nodes.securityModule} beside seccomp` +
      (env.nodes.securityModule === 'AppArmor'
        ? " (pods ask for AppArmor's runtime default profile)."
        : ' (pods ask for no AppArmor profile: these nodes have none, and their kubelet would refuse the pod).'),
    '',
    `${objects.length} objects: ${kindList}.`,
    '',
    '## Objects and how they connect',
    '',
    ...diagramSection(objects),
    '',
    '## Workloads',
    '',
    markdownTable(workloadsTable(objects)).trimEnd(),
    '',
    `## What the kernel enforces (\`npm run explain -- --env ${env.name}\`)`,
    '',
    `Per container, as the cgroup v1 / v2 files read, on a node with ${nodeMemory} of memory:`,
    '',
    formatExplainMarkdown(explainEnvironment(objects, { nodeMemory }), { nodeMemory }).trimEnd(),
    '',
    ...accessSection(env, objects),
  ].join('\n');
}
