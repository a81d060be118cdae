import {
  explainEnvironment,
  explainObjects,
  explainPods,
  formatExplainJson,
  formatExplainMarkdown,
  formatExplainText,
  parseNodeMemory,
  parseOomScoreAdjFloor,
} from './explain';
import { shopObjects } from './fixtures/objects';

const GI = 2 ** 30;
const settings = { nodeMemory: '8Gi' };

test('every container of every workload, init containers first, next to the figures they come from', () => {
  const rows = explainObjects(shopObjects(), 8 * GI);
  expect(rows.map((r) => `${r.workload} ${r.container}`)).toEqual([
    'Deployment shop/shop migrate',
    'Deployment shop/shop app',
    'StatefulSet shop/stock db',
  ]);
  const app = rows[1];
  expect(app).toMatchObject({
    qos: 'Burstable',
    cgroupV1: { cpuShares: 256, cfsQuotaUs: 100000, cfsPeriodUs: 100000, memoryLimitInBytes: 268435456n },
    cgroupV2: { cpuWeight: 10, cpuMax: '100000 100000', memoryMax: '268435456' },
  });
  // 128Mi of 8Gi: 1000*128/8192 = 15.6 → 15, so 985.
  expect(app.oomScoreAdj).toBe(985);
  expect(rows[2]).toMatchObject({
    qos: 'BestEffort',
    cgroupV1: { cpuShares: 2, cfsQuotaUs: -1, memoryLimitInBytes: 9223372036854771712n },
    cgroupV2: { cpuWeight: 1, cpuMax: 'max 100000', memoryMax: 'max' },
    oomScoreAdj: 1000,
  });

  const text = formatExplainText('lab', explainEnvironment(shopObjects(), settings), settings);
  expect(text).toContain('250m → 256 → 10');
  expect(text).toContain('1 → 100000 / 100000 100000');
  expect(text).toContain('256Mi → 268435456 / 268435456');
  expect(text).toContain('none → -1 / max 100000');
  expect(text).toContain('none → 9223372036854771712 / max');
  expect(text).toContain('128Mi → 985');
  expect(text).toContain('migrate (init)');
  expect(text).toContain('cpu.cfs_quota_us (v1) / cpu.max (v2)');
  expect(formatExplainMarkdown(explainEnvironment(shopObjects(), settings), settings)).toContain(
    '| Deployment shop/shop | app | Burstable | 250m → 256 → 10 | 1 → 100000 / 100000 100000 |',
  );
});

test('one pod cgroup per workload, with its parent by QoS class', () => {
  const pods = explainPods(shopObjects());
  expect(pods.map((p) => [p.workload, p.qos, p.cgroupParent])).toEqual([
    ['Deployment shop/shop', 'Burstable', 'kubepods/burstable'],
    ['StatefulSet shop/stock', 'BestEffort', 'kubepods/besteffort'],
  ]);
  // shop: init 100m/100m/64Mi, app 250m/1/256Mi: the app's figures are larger.
  expect(pods[0].cgroupV1).toEqual({
    cpuShares: 256,
    cfsQuotaUs: 100000,
    cfsPeriodUs: 100000,
    memoryLimitInBytes: 268435456n,
  });

  const markdown = formatExplainMarkdown(explainEnvironment(shopObjects(), settings), settings);
  expect(markdown).toContain(
    '| Deployment shop/shop | Burstable | kubepods/burstable/pod<uid> | 250m → 256 → 10 | 1 → 100000 / 100000 100000 | 256Mi → 268435456 / 268435456 |',
  );
  expect(markdown).toContain(
    '| StatefulSet shop/stock | BestEffort | kubepods/besteffort/pod<uid> | none → 2 → 1 | none → -1 / max 100000 | none → 9223372036854771712 / max |',
  );
});

test('the pod table marks a total an init container sets, and a limit missing on some container', () => {
  const objects = shopObjects();
  const spec = objects.find((o) => o.kind === 'Deployment')!.spec.template.spec;
  spec.initContainers[0].resources = { requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '2', memory: '1Gi' } };
  delete spec.containers[0].resources.limits.cpu;
  const text = formatExplainText('lab', explainEnvironment(objects, settings), settings);
  expect(text).toContain('500m (init) → 512 → 20');
  expect(text).toContain('not on every container → -1 / max 100000');
  expect(text).toContain('1Gi (init) → 1073741824 / 1073741824');
});

test('with an OOM floor, lower scores show raised to it, and the legend says why', () => {
  const objects = shopObjects();
  const spec = objects.find((o) => o.kind === 'Deployment')!.spec.template.spec;
  spec.containers[0].resources = { limits: { cpu: '1', memory: '256Mi' } };
  const floored = { nodeMemory: '8Gi', oomScoreAdjFloor: 0 };
  const text = formatExplainText('lab', explainEnvironment(objects, floored), floored);
  expect(text).toContain('256Mi (= limit) → -997 → 0 (floor)');
  expect(text).toContain('restrict_oom_score_adj');
  const withoutFloor = formatExplainText('lab', explainEnvironment(objects, settings), settings);
  expect(withoutFloor).toContain('256Mi (= limit) → -997\n');
  expect(withoutFloor).not.toContain('restrict_oom_score_adj');
});

test('--json: per environment, containers and pods, keys in a fixed order, exact integers', () => {
  const floored = { nodeMemory: '8Gi', oomScoreAdjFloor: 0 };
  const json = formatExplainJson([
    { name: 'lab', settings: floored, explained: explainEnvironment(shopObjects(), floored) },
  ]);
  // The v1 "no limit" is written as its exact digits, not rounded to 9223372036854772000.
  expect(json).toContain('"memoryLimitInBytes": 9223372036854771712');
  const document = JSON.parse(json);
  expect(Object.keys(document)).toEqual(['lab']);
  expect(Object.keys(document.lab)).toEqual(['nodeMemoryBytes', 'oomScoreAdjFloor', 'containers', 'pods']);
  expect(document.lab.nodeMemoryBytes).toBe(8 * GI);
  expect(document.lab.oomScoreAdjFloor).toBe(0);
  const app = document.lab.containers[1];
  expect(Object.keys(app)).toEqual([
    'workload',
    'container',
    'init',
    'sidecar',
    'qos',
    'cgroupV1',
    'cgroupV2',
    'kubeletOomScoreAdj',
    'oomScoreAdj',
  ]);
  expect(app).toEqual({
    workload: 'Deployment shop/shop',
    container: 'app',
    init: false,
    sidecar: false,
    qos: 'Burstable',
    cgroupV1: { cpuShares: 256, cfsQuotaUs: 100000, cfsPeriodUs: 100000, memoryLimitInBytes: 268435456 },
    cgroupV2: { cpuWeight: 10, cpuMax: '100000 100000', memoryMax: '268435456' },
    kubeletOomScoreAdj: 985,
    oomScoreAdj: 985,
  });
  expect(Object.keys(app.cgroupV1)).toEqual(['cpuShares', 'cfsQuotaUs', 'cfsPeriodUs', 'memoryLimitInBytes']);
  expect(document.lab.pods.map((p: any) => Object.keys(p))).toEqual([
    ['workload', 'qos', 'cgroupParent', 'cgroupV1', 'cgroupV2'],
    ['workload', 'qos', 'cgroupParent', 'cgroupV1', 'cgroupV2'],
  ]);
  expect(document.lab.pods[1]).toMatchObject({
    workload: 'StatefulSet shop/stock',
    qos: 'BestEffort',
    cgroupParent: 'kubepods/besteffort',
  });
  expect(json.endsWith('}\n')).toBe(true);
});

test('--json without a floor writes null for it', () => {
  const json = formatExplainJson([{ name: 'lab', settings, explained: explainEnvironment(shopObjects(), settings) }]);
  expect(JSON.parse(json).lab.oomScoreAdjFloor).toBeNull();
});

test('a node memory that is not a positive quantity is refused, naming the value', () => {
  expect(parseNodeMemory('16Gi')).toBe(16 * GI);
  expect(() => parseNodeMemory('lots')).toThrow('--node-memory: Invalid value: "lots"');
  expect(() => parseNodeMemory('0')).toThrow(/greater than zero/);
});

test('an OOM floor outside -1000..1000 or not an integer is refused, naming the value', () => {
  expect(parseOomScoreAdjFloor('0')).toBe(0);
  expect(parseOomScoreAdjFloor('-999')).toBe(-999);
  expect(parseOomScoreAdjFloor('1000')).toBe(1000);
  expect(() => parseOomScoreAdjFloor('1001')).toThrow(
    '--oom-floor: Invalid value: "1001": an integer from -1000 to 1000',
  );
  expect(() => parseOomScoreAdjFloor('-1001')).toThrow('--oom-floor: Invalid value: "-1001"');
  expect(() => parseOomScoreAdjFloor('0.5')).toThrow('--oom-floor: Invalid value: "0.5"');
  expect(() => parseOomScoreAdjFloor('')).toThrow('--oom-floor: Invalid value: ""');
});
