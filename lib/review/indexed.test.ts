/**
 * The README of an environment is built from indexes (nodes grouped by namespace, bindings by
 * namespace and role, labels made once) so that a thousand workloads cost a thousand times one, not
 * a million. These tests hold the indexed code to the straightforward one it replaced, kept below as
 * the reference, on every environment's real objects and on a fixture of many namespaces listed out
 * of order, names that sanitize to the same id, and table cells with several bindings.
 */
import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import { bindingsTable } from './access-tables';
import { Graph, mermaidFlowchart, nodeId, objectGraph } from './diagram';
import { shopObjects } from './fixtures/objects';
import { compareText, KubeObject, objectLabel, podTemplate, sortedWorkloads } from './kube';
import { Table } from './table';

// ---------------------------------------------------------------------------------------------
// The reference: what the code did before it was indexed (a filter per namespace, per cell, and a
// sort of every object by a label made at each comparison).

function referenceFlowchart(graph: Graph): string {
  const escape = (text: string) => text.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  const namespaces = [...new Set(graph.nodes.map((n) => n.namespace).filter((n): n is string => n !== undefined))].sort(
    compareText,
  );
  const nodeLine = (n: Graph['nodes'][number], indent: string) =>
    `${indent}${n.id}${n.external ? '(' : '['}"${escape(n.text)}"${n.external ? ')' : ']'}`;
  for (const n of graph.nodes.filter((x) => x.namespace === undefined)) {
    lines.push(nodeLine(n, '  '));
  }
  for (const ns of namespaces) {
    lines.push(`  subgraph ${nodeId('ns', undefined, ns)}["namespace ${escape(ns)}"]`);
    for (const n of graph.nodes.filter((x) => x.namespace === ns)) {
      lines.push(nodeLine(n, '    '));
    }
    lines.push('  end');
  }
  for (const e of graph.edges) {
    lines.push(`  ${e.from} ${e.dotted ? '-.->' : '-->'}${e.label ? `|"${escape(e.label)}"|` : ''} ${e.to}`);
  }
  const external = graph.nodes.filter((n) => n.external).map((n) => n.id);
  if (external.length > 0) {
    lines.push('  classDef external stroke-dasharray: 4 4', `  class ${external.join(',')} external`);
  }
  return lines.join('\n') + '\n';
}

function referenceBindingsTable(objects: readonly KubeObject[]): Table {
  const bindings = objects.filter(
    (o) => o.kind === 'RoleBinding' && (o.subjects ?? []).some((s: KubeObject) => s.kind === 'Group'),
  );
  const roles = [...new Set(bindings.map((b) => b.roleRef.name as string))];
  const namespaces = [...new Set(bindings.map((b) => b.metadata.namespace as string))].sort(compareText);
  const rows = namespaces.map((namespace) => [
    namespace,
    ...roles.map(
      (role) =>
        bindings
          .filter((b) => b.metadata.namespace === namespace && b.roleRef.name === role)
          .flatMap((b) => b.subjects.map((s: KubeObject) => `${s.kind} \`${s.name}\``))
          .join('<br>') || '—',
    ),
  ]);
  return { header: ['Namespace', ...roles.map((r) => `\`${r}\``)], rows };
}

function referenceWorkloads(objects: readonly KubeObject[]): KubeObject[] {
  return [...objects]
    .sort((a, b) => compareText(objectLabel(a), objectLabel(b)))
    .filter((o) => podTemplate(o) !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

/** The shop fixture copied into many namespaces, listed in no sorted order, with everything that makes grouping and ordering matter. */
function manyNamespaces(): KubeObject[] {
  const names = Array.from({ length: 40 }, (_, i) => `ns-${(i * 17) % 40}`);
  // `a.b` and `a_b` sanitize to the same node id; `z` sorts last but comes first.
  names.unshift('z', 'a.b');
  names.push('a_b');
  const objects: KubeObject[] = [];
  for (const ns of names) {
    for (const o of shopObjects()) {
      if (o.kind === 'Namespace') {
        o.metadata.name = ns;
      } else {
        o.metadata.namespace = ns;
      }
      objects.push(o);
    }
  }
  // A second Deployment whose name sanitizes to the first one's id, selected by a Service and a budget of its own.
  const other = { 'app.kubernetes.io/name': 'shop_2' };
  objects.push(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop.2', namespace: 'z' },
      spec: {
        selector: { matchLabels: other },
        template: { metadata: { labels: other }, spec: { containers: [{ name: 'app', image: 'x:1' }] } },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop_2', namespace: 'z' },
      spec: {
        selector: { matchLabels: { 'app.kubernetes.io/name': 'shop.2' } },
        template: {
          metadata: { labels: { 'app.kubernetes.io/name': 'shop.2' } },
          spec: { containers: [{ name: 'app', image: 'x:2' }] },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'two', namespace: 'z' },
      spec: { selector: other, ports: [{ port: 81 }] },
    },
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'two', namespace: 'z' },
      spec: { minAvailable: 1, selector: { matchLabels: other } },
    },
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path' } },
  );
  // RoleBindings: two in one cell, one with a ServiceAccount beside the group, one with no group (left out of the table).
  const binding = (ns: string, role: string, ...subjects: KubeObject[]) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${role}-${subjects.length}`, namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects,
  });
  const group = (name: string) => ({ kind: 'Group', name });
  for (const ns of names) {
    objects.push(binding(ns, ns.startsWith('a') ? 'viewer' : 'deployer', group(`${ns}-people`)));
  }
  objects.push(
    binding('z', 'deployer', group('z-more'), { kind: 'ServiceAccount', name: 'ci', namespace: 'z' }),
    binding('ns-3', 'on-call', group('pager')),
    binding('ns-4', 'deployer', { kind: 'ServiceAccount', name: 'robot', namespace: 'ns-4' }),
  );
  return objects;
}

const fixtures: [string, () => KubeObject[]][] = [
  ['many namespaces', manyNamespaces],
  ...Object.values(ENVIRONMENTS).map((env): [string, () => KubeObject[]] => [
    env.name,
    () => renderEnvironment(env).objects.map((o) => o.object),
  ]),
];

describe.each(fixtures)('%s: the indexed README equals the straightforward one', (_name, objectsOf) => {
  const objects = objectsOf();

  test('the diagram', () => {
    const graph = objectGraph(objects);
    expect(new Set(graph.nodes.map((n) => n.namespace)).size).toBeGreaterThan(3);
    expect(mermaidFlowchart(graph)).toBe(referenceFlowchart(graph));
  });

  test('who may do what', () => {
    const table = bindingsTable(objects);
    expect(table.rows.length).toBeGreaterThan(3);
    expect(table).toEqual(referenceBindingsTable(objects));
  });

  test('the workloads, in order', () => {
    const workloads = sortedWorkloads(objects);
    expect(workloads.length).toBeGreaterThan(3);
    expect(workloads.map((w) => w.object)).toEqual(referenceWorkloads(objects));
    expect(workloads.map((w) => w.label)).toEqual(referenceWorkloads(objects).map(objectLabel));
  });
});

test('objects whose names sanitize to one id keep their own nodes, however often they are pointed at', () => {
  const graph = objectGraph(manyNamespaces());
  const textOf = new Map(graph.nodes.map((n) => [n.id, n.text]));
  const targets = (from: string) => graph.edges.filter((e) => e.from === from).map((e) => textOf.get(e.to));
  // Service z/two and budget z/two select shop.2's pods only; z/shop's Service and budget select shop's only.
  expect(targets('Service_z_two')).toEqual(['Deployment<br/>shop.2']);
  expect(targets('PodDisruptionBudget_z_two')).toEqual(['Deployment<br/>shop.2']);
  expect(targets('Service_z_shop')).toEqual(['Deployment<br/>shop']);
  // shop.2 and shop_2 are two nodes with distinct ids.
  const ids = graph.nodes
    .filter((n) => n.text === 'Deployment<br/>shop.2' || n.text === 'Deployment<br/>shop_2')
    .map((n) => n.id);
  expect(new Set(ids).size).toBe(2);
  // The same objects in namespaces a.b and a_b (ids alike once sanitized) are drawn twice, each in its own namespace.
  const inBoth = graph.nodes.filter(
    (n) => n.text === 'Deployment<br/>shop' && (n.namespace === 'a.b' || n.namespace === 'a_b'),
  );
  expect(inBoth.map((n) => n.namespace).sort()).toEqual(['a.b', 'a_b']);
  expect(new Set(inBoth.map((n) => n.id)).size).toBe(2);
  // The cells with several bindings list every subject, in the bindings' order.
  const z = bindingsTable(manyNamespaces()).rows.find((r) => r[0] === 'z')!;
  expect(z).toContain('Group `z-people`<br>Group `z-more`<br>ServiceAccount `ci`');
});
