import { mermaidFlowchart, nodeId, objectGraph } from './diagram';
import { find, shopObjects } from './fixtures/objects';
import { workloadsTable } from './readme';

const edgesOf = (text: string) => text.split('\n').filter((l) => /-\.?->/.test(l)).map((l) => l.trim());

test('the diagram of the fixture has its edges: Ingress → Service → Deployment → config, identity, claims', () => {
  const text = mermaidFlowchart(objectGraph(shopObjects()));
  expect(text.startsWith('flowchart LR\n')).toBe(true);
  const edges = edgesOf(text);
  expect(edges).toEqual(expect.arrayContaining([
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
  ]));
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
  expect(edgesOf(mermaidFlowchart(objectGraph(objects))).some((e) => e.startsWith('Service_shop_shop -->'))).toBe(false);
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
