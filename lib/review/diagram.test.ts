import { ENVIRONMENTS } from '../environments';
import {
  drawableFlowchart,
  flowchartLengthFloor,
  MERMAID_LIMITS,
  mermaidFlowchart,
  nodeId,
  objectGraph,
} from './diagram';
import { find, shopObjects } from './fixtures/objects';
import { environmentReadme, workloadsTable } from './readme';

const edgesOf = (text: string) =>
  text
    .split('\n')
    .filter((l) => /-\.?->/.test(l))
    .map((l) => l.trim());

test('the diagram of the fixture has its edges: Ingress → Service → Deployment → config, identity, claims', () => {
  const text = mermaidFlowchart(objectGraph(shopObjects()));
  expect(text.startsWith('flowchart LR\n')).toBe(true);
  const edges = edgesOf(text);
  expect(edges).toEqual(
    expect.arrayContaining([
      'Ingress_shop_shop -->|"shop.example/"| Service_shop_shop',
      'Service_shop_shop -->|"LoadBalancer 80"| Deployment_shop_shop',
      'Deployment_shop_shop -->|"mounts"| ConfigMap_shop_shop',
      'Deployment_shop_shop -->|"env"| Secret_shop_shop_credentials',
      'Deployment_shop_shop -->|"runs as"| ServiceAccount_shop_shop',
      'HorizontalPodAutoscaler_shop_shop -->|"scales 2-4"| Deployment_shop_shop',
      'PodDisruptionBudget_shop_shop -->|"maxUnavailable 1"| Deployment_shop_shop',
      'StatefulSet_shop_stock -->|"claims"| PVC_template_shop_data_stock_N',
      'PVC_template_shop_data_stock_N -->|"5Gi"| StorageClass__local_path',
      // NetworkPolicy: applies to the Deployment, lets the ingress controller's namespace in, lets the pods reach stock.
      'NetworkPolicy_shop_shop -.->|"applies to"| Deployment_shop_shop',
      'NetworkPolicy_shop_shop -.->|"egress TCP/5432"| StatefulSet_shop_stock',
    ]),
  );
  expect(edges.some((e) => /^peer__\w+ -\.->\|"ingress TCP\/8080"\| NetworkPolicy_shop_shop$/.test(e))).toBe(true);
  // The Secret is referred to but not rendered: drawn as external.
  expect(text).toContain('Secret_shop_shop_credentials("Secret<br/>shop-credentials<br/>(not rendered)")');
  expect(text).toMatch(/class .*Secret_shop_shop_credentials.* external/);
});

test('node ids are valid Mermaid ids and the output does not depend on the order of the objects', () => {
  const objects = shopObjects();
  const text = mermaidFlowchart(objectGraph(objects));
  expect(mermaidFlowchart(objectGraph([...objects].reverse()))).toBe(text);
  for (const node of objectGraph(objects).nodes) {
    expect(node.id).toMatch(/^[A-Za-z0-9_]+$/);
  }
  expect(nodeId('Service', 'my-ns', 'a.b/c')).toBe('Service_my_ns_a_b_c');
});

test('a selector that matches no pods draws no edge', () => {
  const objects = shopObjects();
  find(objects, 'Service', 'shop').spec.selector = { 'app.kubernetes.io/name': 'nothing' };
  expect(edgesOf(mermaidFlowchart(objectGraph(objects))).some((e) => e.startsWith('Service_shop_shop -->'))).toBe(
    false,
  );
});

test('the workloads table shows image, HPA range, resources, QoS, exposure and storage', () => {
  const table = workloadsTable(shopObjects());
  expect(table.rows).toHaveLength(2);
  const [shop, stock] = table.rows;
  expect(shop).toEqual([
    'Deployment shop/shop',
    'migrate: `harbor.lab.example/dockerhub/example/shop:1.2.3`<br>app: `harbor.lab.example/dockerhub/example/shop:1.2.3`',
    '2–4 (HPA)',
    'migrate: cpu 100m, memory 64Mi<br>app: cpu 250m, memory 128Mi',
    'migrate: cpu 100m, memory 64Mi<br>app: cpu 1, memory 256Mi',
    'Burstable',
    'Service shop (LoadBalancer 80)<br>Ingress shop (shop.example)',
    '—',
  ]);
  expect(stock[2]).toBe('1 (default)');
  expect(stock[5]).toBe('BestEffort');
  expect(stock[7]).toBe('claim template data: 5Gi local-path');
});

// --- Diagrams too large for Mermaid (MERMAID_LIMITS) --------------------------------------------------

const namespaceObject = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const deployment = (name: string, podSpec: object = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'a' },
  spec: {
    selector: { matchLabels: { app: 'x' } },
    template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'i', ...podSpec }] } },
  },
});
const policy = (name: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: 'a' },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
});
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

test('a diagram with more edges than Mermaid draws (500) is left out, one with fewer is drawn', () => {
  // Each policy applies to every Deployment: 30 × policies edges, plus each Deployment's "runs as".
  const objects = (policies: number) => [
    namespaceObject('a'),
    ...range(30).map((i) => deployment(`d${i}`)),
    ...range(policies).map((i) => policy(`p${i}`)),
  ];
  const drawn = drawableFlowchart(objects(15));
  expect(drawn).toEqual({ flowchart: mermaidFlowchart(objectGraph(objects(15))) });
  expect(objectGraph(objects(15)).edges).toHaveLength(15 * 30 + 30);
  const large = objects(17);
  expect(mermaidFlowchart(objectGraph(large)).length).toBeLessThan(MERMAID_LIMITS.maxTextSize);
  expect(drawableFlowchart(large)).toEqual({ tooLarge: `it would have ${17 * 30 + 30} edges` });
});

test('a diagram longer than Mermaid draws (50,000 characters) is left out, though its objects alone would fit', () => {
  // Few edges, but each Deployment refers to a Secret with a long name, drawn as a node of its own.
  const objects = [
    namespaceObject('a'),
    ...range(100).map((i) => deployment(`d${i}`, { envFrom: [{ secretRef: { name: `${'s'.repeat(200)}-${i}` } }] })),
  ];
  const text = mermaidFlowchart(objectGraph(objects));
  expect(objectGraph(objects).edges.length).toBeLessThan(MERMAID_LIMITS.maxEdges);
  expect(flowchartLengthFloor(objects)).toBeLessThan(MERMAID_LIMITS.maxTextSize);
  expect(text.length).toBeGreaterThan(MERMAID_LIMITS.maxTextSize);
  expect(drawableFlowchart(objects)).toEqual({ tooLarge: `it would be ${text.length} characters long` });
});

test('the objects alone can rule a diagram out without drawing it, and their floor never exceeds the drawn length', () => {
  const many = [
    namespaceObject('a'),
    ...range(1000).map((i) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `config-${i}`, namespace: 'a' },
    })),
  ];
  const floor = flowchartLengthFloor(many);
  expect(floor).toBeGreaterThan(MERMAID_LIMITS.maxTextSize);
  expect(drawableFlowchart(many)).toEqual({ tooLarge: `its 1001 objects alone need more than ${floor} characters` });
  for (const objects of [many, shopObjects(), many.slice(0, 10)]) {
    expect(flowchartLengthFloor(objects)).toBeLessThanOrEqual(mermaidFlowchart(objectGraph(objects)).length);
  }
});

test('the README says why the diagram is left out, and keeps its tables', () => {
  const objects = [namespaceObject('a'), ...range(1000).map((i) => deployment(`d${i}`))];
  const readme = environmentReadme(ENVIRONMENTS.lab, objects);
  expect(readme).not.toContain('```mermaid');
  expect(readme).toMatch(
    /\nNo diagram: it would be \d+ characters long, more than Mermaid draws \(at most 50000 characters and 500 edges by default\)\./,
  );
  expect(readme).toContain('## Workloads');
  const small = environmentReadme(ENVIRONMENTS.lab, shopObjects());
  expect(small).toContain('```mermaid\nflowchart LR\n');
  expect(small).not.toContain('No diagram');
});
