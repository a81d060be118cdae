import { explainObjects, formatExplainMarkdown, formatExplainText, parseNodeMemory } from './explain';
import { shopObjects } from './fixtures/objects';

const GI = 2 ** 30;

test('every container of every workload, init containers first, next to the figures they come from', () => {
  const rows = explainObjects(shopObjects(), 8 * GI);
  expect(rows.map((r) => `${r.workload} ${r.container}`)).toEqual([
    'Deployment shop/shop migrate', 'Deployment shop/shop app', 'StatefulSet shop/stock db',
  ]);
  const app = rows[1];
  expect(app).toMatchObject({ qos: 'Burstable', cpuShares: 256, cpuWeight: 10, cpuMax: '100000 100000', memoryMax: '268435456' });
  // 128Mi of 8Gi: 1000*128/8192 = 15.6 → 15, so 985.
  expect(app.oomScoreAdj).toBe(985);
  expect(rows[2]).toMatchObject({ qos: 'BestEffort', cpuWeight: 1, cpuMax: 'max 100000', memoryMax: 'max', oomScoreAdj: 1000 });

  const text = formatExplainText('lab', rows, '8Gi');
  expect(text).toContain('250m → 256 → 10');
  expect(text).toContain('1 → 100000 100000');
  expect(text).toContain('256Mi → 268435456');
  expect(text).toContain('128Mi → 985');
  expect(text).toContain('migrate (init)');
  expect(formatExplainMarkdown(rows, '8Gi')).toContain('| Deployment shop/shop | app | Burstable | 250m → 256 → 10 |');
});

test('a node memory that is not a positive quantity is refused, naming the value', () => {
  expect(parseNodeMemory('16Gi')).toBe(16 * GI);
  expect(() => parseNodeMemory('lots')).toThrow('--node-memory: Invalid value: "lots"');
  expect(() => parseNodeMemory('0')).toThrow(/greater than zero/);
});
