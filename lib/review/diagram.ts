/**
 * A Mermaid flowchart of an environment's objects and how they connect, for dist/<env>/README.md:
 * Ingress → Service → the workloads its selector picks → the ConfigMaps, Secrets, claims and
 * ServiceAccount their pods use; autoscalers and disruption budgets → what they act on; each
 * NetworkPolicy between the peers it lets in or out and the pods it applies to. Objects are drawn
 * in one box per namespace. Everything is read from the rendered objects, generically.
 *
 * Deterministic: nodes and edges are sorted, node ids are derived from kind, namespace and name.
 */
import { createHash } from 'crypto';
import {
  compareText,
  inNamespace,
  KubeObject,
  LabelSelector,
  objectLabel,
  podTemplate,
  selectorMatches,
  selectorText,
} from './kube';

/** An edge between two nodes, by node id, with an optional label and a dotted style for policy. */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label?: string;
  readonly dotted?: boolean;
}

interface Node {
  readonly id: string;
  readonly text: string;
  readonly namespace?: string;
  /** A node for something referred to but not rendered (a Secret made at run time, a peer). */
  readonly external: boolean;
}

/** Graph of the objects: nodes and edges, by stable ids. */
export interface Graph {
  readonly nodes: readonly Node[];
  readonly edges: readonly Edge[];
}

/** A Mermaid node id: letters, digits and underscores only, from kind, namespace and name. */
export function nodeId(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}_${namespace ?? ''}_${name}`.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Builds the graph of an environment's objects. */
export function objectGraph(objects: readonly KubeObject[]): Graph {
  const nodes = new Map<string, Node>();
  const edges = new Map<string, Edge>();
  const byLabel = new Map<string, KubeObject>(objects.map((o) => [objectLabel(o), o]));

  // The id each node was given, by what it is: a thousand policies name the same DNS peer, and its
  // id (a hash, a sanitized name, a check against ids already taken) is made once.
  const given = new Map<string, string>();
  const addNode = (kind: string, namespace: string | undefined, name: string, external = false): string => {
    const key = `${external ? 'external' : 'rendered'}\n${kind}\n${namespace === undefined ? '' : `=${namespace}`}\n${name}`;
    const known = given.get(key);
    if (known !== undefined) {
      return known;
    }
    // Peers are named by their selector, which can be long: their ids carry a short hash instead.
    let id =
      external && kind !== 'Secret' && kind !== 'ConfigMap' && name.length > 24
        ? nodeId(kind, namespace, createHash('sha256').update(name).digest('hex').slice(0, 10))
        : nodeId(kind, namespace, name);
    const text = `${kind}<br/>${name}${external ? '<br/>(not rendered)' : ''}`;
    // Two different objects that sanitize to the same id (a.b and a_b) get distinct ids; so does one
    // whose namespace sanitizes like another's, so that a node, once made, is never redrawn elsewhere.
    while (nodes.has(id) && (nodes.get(id)!.text !== text || nodes.get(id)!.namespace !== namespace)) {
      id = `${id}_`;
    }
    nodes.set(id, { id, text, namespace, external });
    given.set(key, id);
    return id;
  };
  // An object's node id is made once: Services, policies and budgets point at the same workloads many times.
  const objectNodes = new Map<KubeObject, string>();
  const objectNode = (o: KubeObject) => {
    let id = objectNodes.get(o);
    if (id === undefined) {
      id = addNode(o.kind, o.metadata?.namespace, o.metadata?.name);
      objectNodes.set(o, id);
    }
    return id;
  };
  /** A node for a referenced object: the rendered one if there is one, else an external node. */
  const refNode = (kind: string, namespace: string | undefined, name: string) => {
    const o = byLabel.get(objectLabel({ kind, metadata: { namespace, name } }));
    return o ? objectNode(o) : addNode(kind, namespace, name, true);
  };
  const addEdge = (edge: Edge) => {
    edges.set(`${edge.from}>${edge.to}>${edge.label ?? ''}>${edge.dotted ? 1 : 0}`, edge);
  };

  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  // Many policies name the same namespaces (kube-system for DNS, an app's namespace): match each
  // selector against the namespaces once.
  const selectedNamespaces = new Map<string, string[]>();
  const namespacesSelected = (selector: LabelSelector): string[] => {
    const key = JSON.stringify(selector);
    let names = selectedNamespaces.get(key);
    if (!names) {
      names = namespaces
        .filter((n) =>
          selectorMatches(selector, { ...n.metadata?.labels, 'kubernetes.io/metadata.name': n.metadata?.name }),
        )
        .map((n) => n.metadata?.name);
      selectedNamespaces.set(key, names);
    }
    return names;
  };
  const workloads = objects.filter((o) => podTemplate(o) !== undefined);
  /** Workloads in a namespace whose pod labels a selector matches. */
  const podsSelected = (namespace: string | undefined, selector: LabelSelector | undefined) =>
    inNamespace(workloads, namespace).filter((w) => selectorMatches(selector, podTemplate(w)!.metadata?.labels));

  for (const o of objects) {
    const id = objectNode(o);
    const ns: string | undefined = o.metadata?.namespace;
    const spec = o.spec ?? {};
    switch (o.kind) {
      case 'Ingress':
        for (const backend of ingressBackends(spec)) {
          addEdge({ from: id, to: refNode('Service', ns, backend.service), label: backend.label });
        }
        break;
      case 'Service':
        if (spec.selector) {
          for (const w of podsSelected(ns, { matchLabels: spec.selector })) {
            addEdge({ from: id, to: objectNode(w), label: servicePorts(spec) });
          }
        }
        break;
      case 'HorizontalPodAutoscaler':
        if (spec.scaleTargetRef?.name) {
          addEdge({
            from: id,
            to: refNode(spec.scaleTargetRef.kind, ns, spec.scaleTargetRef.name),
            label: `scales ${spec.minReplicas ?? 1}-${spec.maxReplicas}`,
          });
        }
        break;
      case 'PodDisruptionBudget':
        for (const w of podsSelected(ns, spec.selector)) {
          addEdge({
            from: id,
            to: objectNode(w),
            label:
              spec.maxUnavailable !== undefined
                ? `maxUnavailable ${spec.maxUnavailable}`
                : `minAvailable ${spec.minAvailable}`,
          });
        }
        break;
      case 'PersistentVolumeClaim':
        if (spec.storageClassName) {
          addEdge({ from: id, to: refNode('StorageClass', undefined, spec.storageClassName) });
        }
        break;
      case 'NetworkPolicy':
        addNetworkPolicyEdges(o, id, { addNode, addEdge, podsSelected, objectNode, namespacesSelected });
        break;
      case 'ServiceMonitor':
        for (const svc of objects.filter(
          (s) =>
            s.kind === 'Service' &&
            monitorSelectsNamespace(spec, ns, s.metadata?.namespace) &&
            selectorMatches(spec.selector, s.metadata?.labels),
        )) {
          addEdge({ from: id, to: objectNode(svc), label: 'scrapes' });
        }
        break;
      case 'ExternalSecret': {
        const store = spec.secretStoreRef;
        if (store?.name) {
          const kind = store.kind ?? 'SecretStore';
          addEdge({
            from: id,
            to: refNode(kind, kind === 'ClusterSecretStore' ? undefined : ns, store.name),
            label: 'reads from',
          });
        }
        addEdge({ from: id, to: refNode('Secret', ns, spec.target?.name ?? o.metadata?.name), label: 'creates' });
        break;
      }
      default:
        break;
    }
    const template = podTemplate(o);
    if (template) {
      addPodEdges(o, id, template.spec, refNode, addEdge, addNode);
    }
  }

  const sortedNodes = [...nodes.values()].sort((a, b) => compareText(a.id, b.id));
  const sortedEdges = [...edges.values()].sort(
    (a, b) => compareText(a.from, b.from) || compareText(a.to, b.to) || compareText(a.label ?? '', b.label ?? ''),
  );
  return { nodes: sortedNodes, edges: sortedEdges };
}

function ingressBackends(spec: KubeObject): { service: string; label: string }[] {
  const out: { service: string; label: string }[] = [];
  if (spec.defaultBackend?.service?.name) {
    out.push({ service: spec.defaultBackend.service.name, label: 'default' });
  }
  for (const rule of spec.rules ?? []) {
    for (const p of rule.http?.paths ?? []) {
      if (p.backend?.service?.name) {
        out.push({ service: p.backend.service.name, label: `${rule.host ?? '*'}${p.path ?? '/'}` });
      }
    }
  }
  return out;
}

function servicePorts(spec: KubeObject): string {
  const ports = (spec.ports ?? []).map((p: KubeObject) => `${p.port}`);
  return `${spec.type ?? 'ClusterIP'} ${ports.join(',')}`.trim();
}

function monitorSelectsNamespace(
  spec: KubeObject,
  monitorNs: string | undefined,
  serviceNs: string | undefined,
): boolean {
  const sel = spec.namespaceSelector;
  if (sel?.any) {
    return true;
  }
  if (Array.isArray(sel?.matchNames) && sel.matchNames.length > 0) {
    return sel.matchNames.includes(serviceNs);
  }
  return monitorNs === serviceNs;
}

/** Pod → ServiceAccount, ConfigMaps, Secrets and claims, from volumes, env and claim templates. */
function addPodEdges(
  o: KubeObject,
  id: string,
  pod: KubeObject,
  refNode: (kind: string, ns: string | undefined, name: string) => string,
  addEdge: (e: Edge) => void,
  addNode: (kind: string, ns: string | undefined, name: string, external?: boolean) => string,
): void {
  const ns = o.metadata?.namespace;
  addEdge({ from: id, to: refNode('ServiceAccount', ns, pod.serviceAccountName ?? 'default'), label: 'runs as' });
  for (const v of pod.volumes ?? []) {
    if (v.configMap?.name) addEdge({ from: id, to: refNode('ConfigMap', ns, v.configMap.name), label: 'mounts' });
    if (v.secret?.secretName) addEdge({ from: id, to: refNode('Secret', ns, v.secret.secretName), label: 'mounts' });
    if (v.persistentVolumeClaim?.claimName)
      addEdge({
        from: id,
        to: refNode('PersistentVolumeClaim', ns, v.persistentVolumeClaim.claimName),
        label: 'mounts',
      });
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) addEdge({ from: id, to: refNode('ConfigMap', ns, s.configMap.name), label: 'mounts' });
      if (s.secret?.name) addEdge({ from: id, to: refNode('Secret', ns, s.secret.name), label: 'mounts' });
    }
  }
  for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) addEdge({ from: id, to: refNode('ConfigMap', ns, f.configMapRef.name), label: 'env' });
      if (f.secretRef?.name) addEdge({ from: id, to: refNode('Secret', ns, f.secretRef.name), label: 'env' });
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name)
        addEdge({ from: id, to: refNode('ConfigMap', ns, e.valueFrom.configMapKeyRef.name), label: 'env' });
      if (e.valueFrom?.secretKeyRef?.name)
        addEdge({ from: id, to: refNode('Secret', ns, e.valueFrom.secretKeyRef.name), label: 'env' });
    }
  }
  for (const t of o.kind === 'StatefulSet' ? (o.spec?.volumeClaimTemplates ?? []) : []) {
    const claim = addNode('PVC template', ns, `${t.metadata?.name}-${o.metadata?.name}-N`);
    addEdge({ from: id, to: claim, label: 'claims' });
    if (t.spec?.storageClassName) {
      addEdge({
        from: claim,
        to: refNode('StorageClass', undefined, t.spec.storageClassName),
        label: t.spec.resources?.requests?.storage,
      });
    }
  }
}

interface PolicyHelpers {
  addNode: (kind: string, ns: string | undefined, name: string, external?: boolean) => string;
  addEdge: (e: Edge) => void;
  podsSelected: (ns: string | undefined, sel: LabelSelector | undefined) => KubeObject[];
  objectNode: (o: KubeObject) => string;
  /** The rendered namespaces a namespaceSelector picks (every namespace carries kubernetes.io/metadata.name). */
  namespacesSelected: (sel: LabelSelector) => string[];
}

/**
 * NetworkPolicy edges, dotted: peer ·-> policy for each ingress rule, policy ·-> peer for each
 * egress rule (labelled with the ports), and policy ·-> the workloads it applies to. A peer is the
 * workloads it selects, or a node naming the selector where no rendered workload matches.
 */
function addNetworkPolicyEdges(np: KubeObject, id: string, h: PolicyHelpers): void {
  const ns: string | undefined = np.metadata?.namespace;
  const spec = np.spec ?? {};
  for (const w of h.podsSelected(ns, spec.podSelector ?? {})) {
    h.addEdge({ from: id, to: h.objectNode(w), label: 'applies to', dotted: true });
  }
  const rules = [
    ...(spec.ingress ?? []).map((r: KubeObject) => ({ direction: 'ingress', peers: r.from, ports: r.ports })),
    ...(spec.egress ?? []).map((r: KubeObject) => ({ direction: 'egress', peers: r.to, ports: r.ports })),
  ];
  for (const rule of rules) {
    const label = `${rule.direction} ${portsText(rule.ports)}`;
    for (const peer of peerNodes(rule.peers, ns, h)) {
      h.addEdge(
        rule.direction === 'ingress'
          ? { from: peer, to: id, label, dotted: true }
          : { from: id, to: peer, label, dotted: true },
      );
    }
  }
}

function portsText(ports: KubeObject[] | undefined): string {
  if (!ports || ports.length === 0) {
    return 'all ports';
  }
  return ports.map((p) => `${p.protocol ?? 'TCP'}/${p.port ?? 'all'}${p.endPort ? `-${p.endPort}` : ''}`).join(',');
}

function peerNodes(peers: KubeObject[] | undefined, policyNs: string | undefined, h: PolicyHelpers): string[] {
  if (!peers || peers.length === 0) {
    return [h.addNode('peer', undefined, 'anywhere', true)];
  }
  const out: string[] = [];
  for (const peer of peers) {
    if (peer.ipBlock) {
      out.push(
        h.addNode(
          'ipBlock',
          undefined,
          `${peer.ipBlock.cidr}${(peer.ipBlock.except ?? []).map((e: string) => ` except ${e}`).join('')}`,
          true,
        ),
      );
      continue;
    }
    // The namespaces the peer is in: the policy's own, or those its namespaceSelector picks (every
    // namespace carries kubernetes.io/metadata.name, set by the API server).
    const namespaces = peer.namespaceSelector ? h.namespacesSelected(peer.namespaceSelector) : [policyNs];
    const selected = namespaces.flatMap((n) => h.podsSelected(n, peer.podSelector ?? {}));
    if (selected.length > 0) {
      out.push(...selected.map(h.objectNode));
    } else {
      const where = peer.namespaceSelector
        ? `namespaces ${selectorText(peer.namespaceSelector)}`
        : `namespace ${policyNs}`;
      const which = peer.podSelector ? `pods ${selectorText(peer.podSelector)}` : 'all pods';
      out.push(h.addNode('peer', undefined, `${which} in ${where}`, true));
    }
  }
  return out;
}

/**
 * Mermaid's defaults: a diagram whose text is longer than `maxTextSize` characters, or with more
 * than `maxEdges` edges, is not drawn; a viewer that keeps the defaults shows an error in its place
 * (mermaid.js.org, configuration schema: maxTextSize 50000, maxEdges 500).
 */
export const MERMAID_LIMITS = { maxTextSize: 50_000, maxEdges: 500 } as const;

/**
 * A floor for the length of the flowchart of `objects`, from the objects alone: each rendered object
 * is one node line, `  <id>["<kind><br/><name>"]`, whose id holds its kind, namespace and name. Lets
 * a large environment skip building a graph that could not be drawn.
 */
export function flowchartLengthFloor(objects: readonly KubeObject[]): number {
  let length = 0;
  for (const o of objects) {
    const kind = String(o.kind ?? '');
    const name = String(o.metadata?.name ?? '');
    const namespace = String(o.metadata?.namespace ?? '');
    // indent (2), id with its two separators, '["', text with '<br/>', '"]', newline.
    length += 2 + (kind.length + namespace.length + name.length + 2) + 2 + (kind.length + 5 + name.length) + 2 + 1;
  }
  return length;
}

/** The flowchart of `objects`, or why it is left out: too large for Mermaid to draw (MERMAID_LIMITS). */
export function drawableFlowchart(objects: readonly KubeObject[]): { flowchart: string } | { tooLarge: string } {
  const floor = flowchartLengthFloor(objects);
  if (floor > MERMAID_LIMITS.maxTextSize) {
    return { tooLarge: `its ${objects.length} objects alone need more than ${floor} characters` };
  }
  const graph = objectGraph(objects);
  const flowchart = mermaidFlowchart(graph);
  if (flowchart.length > MERMAID_LIMITS.maxTextSize) {
    return { tooLarge: `it would be ${flowchart.length} characters long` };
  }
  if (graph.edges.length > MERMAID_LIMITS.maxEdges) {
    return { tooLarge: `it would have ${graph.edges.length} edges` };
  }
  return { flowchart };
}

/** Mermaid text inside a quoted label: a double quote would end it (names and selectors hold no other such character). */
function escapeLabel(text: string): string {
  return text.replace(/"/g, '#quot;');
}

/** The graph as a Mermaid flowchart, namespaces as subgraphs, external nodes drawn dashed. */
export function mermaidFlowchart(graph: Graph): string {
  const lines = ['flowchart LR'];
  // The nodes of each namespace, in the graph's order, gathered in one pass (filtering every node for
  // every namespace made an environment with a thousand namespaces quadratic).
  const byNamespace = new Map<string | undefined, Node[]>();
  for (const n of graph.nodes) {
    const group = byNamespace.get(n.namespace);
    if (group) {
      group.push(n);
    } else {
      byNamespace.set(n.namespace, [n]);
    }
  }
  const namespaces = [...byNamespace.keys()].filter((n): n is string => n !== undefined).sort(compareText);
  const nodeLine = (n: Node, indent: string) =>
    `${indent}${n.id}${n.external ? '(' : '['}"${escapeLabel(n.text)}"${n.external ? ')' : ']'}`;
  for (const n of byNamespace.get(undefined) ?? []) {
    lines.push(nodeLine(n, '  '));
  }
  for (const ns of namespaces) {
    lines.push(`  subgraph ${nodeId('ns', undefined, ns)}["namespace ${escapeLabel(ns)}"]`);
    for (const n of byNamespace.get(ns)!) {
      lines.push(nodeLine(n, '    '));
    }
    lines.push('  end');
  }
  for (const e of graph.edges) {
    const arrow = e.dotted ? '-.->' : '-->';
    lines.push(`  ${e.from} ${arrow}${e.label ? `|"${escapeLabel(e.label)}"|` : ''} ${e.to}`);
  }
  const external = graph.nodes.filter((n) => n.external).map((n) => n.id);
  if (external.length > 0) {
    lines.push('  classDef external stroke-dasharray: 4 4', `  class ${external.join(',')} external`);
  }
  return lines.join('\n') + '\n';
}
