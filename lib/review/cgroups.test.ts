import {
  cpuMax, explainPodSpec, memoryMax, milliCpuToQuota, milliCpuToShares, oomScoreAdjust, podQosClass, sharesToCpuWeight,
} from './cgroups';

const GI = 2 ** 30;
const MI = 2 ** 20;

describe('cpu.weight from the cpu request (MilliCPUToShares, then runc\'s shares → weight)', () => {
  test.each([
    // milliCPU, shares = m*1024/1000 (integer), weight = 1 + (shares-2)*9999/262142 (integer)
    [250, 256, 10],
    [1000, 1024, 39],
    [100, 102, 4],
    [50, 51, 2],
    [2000, 2048, 79],
    [0, 2, 1], // no request: the kernel's minimum
    [1, 2, 1], // 1*1024/1000 = 1, raised to 2
  ])('%im → shares %i → weight %i', (milli, shares, weight) => {
    expect(milliCpuToShares(milli)).toBe(shares);
    expect(sharesToCpuWeight(shares)).toBe(weight);
  });

  test('shares are capped at 262144, which is weight 10000', () => {
    expect(milliCpuToShares(300000)).toBe(262144);
    expect(sharesToCpuWeight(262144)).toBe(10000);
  });
});

describe('cpu.max and memory.max', () => {
  test('a 100m limit is 10000 µs per 100000 µs', () => {
    expect(cpuMax(100)).toBe('10000 100000');
  });
  test('one cpu is a whole period; 2.5 cpus are two and a half', () => {
    expect(cpuMax(1000)).toBe('100000 100000');
    expect(cpuMax(2500)).toBe('250000 100000');
  });
  test('the quota is at least 1000 µs', () => {
    expect(milliCpuToQuota(5)).toBe(1000);
  });
  test('no limit is "max 100000" and "max"', () => {
    expect(cpuMax(undefined)).toBe('max 100000');
    expect(memoryMax(undefined)).toBe('max');
  });
  test('a 128Mi limit is 134217728 bytes', () => {
    expect(memoryMax(128 * MI)).toBe('134217728');
  });
});

describe('QoS class (GetPodQOS)', () => {
  const c = (requests?: object, limits?: object) => ({ name: 'c', resources: { requests, limits } });
  test('no requests or limits anywhere: BestEffort', () => {
    expect(podQosClass({ containers: [{ name: 'c' }] })).toBe('BestEffort');
  });
  test('requests equal to limits for cpu and memory: Guaranteed', () => {
    expect(podQosClass({ containers: [c({ cpu: '500m', memory: '1Gi' }, { cpu: '0.5', memory: '1024Mi' })] })).toBe('Guaranteed');
  });
  test('limits only: the API server copies them into requests, so Guaranteed', () => {
    expect(podQosClass({ containers: [c(undefined, { cpu: '1', memory: '1Gi' })] })).toBe('Guaranteed');
  });
  test('requests below limits: Burstable', () => {
    expect(podQosClass({ containers: [c({ cpu: '250m', memory: '128Mi' }, { cpu: '1', memory: '256Mi' })] })).toBe('Burstable');
  });
  test('a memory limit without a cpu limit: Burstable', () => {
    expect(podQosClass({ containers: [c({ memory: '1Gi' }, { memory: '1Gi' })] })).toBe('Burstable');
  });
  test('an init container without limits makes a Guaranteed pod Burstable', () => {
    expect(podQosClass({
      initContainers: [c({ cpu: '100m' })],
      containers: [c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })],
    })).toBe('Burstable');
  });
});

describe('oom_score_adj (GetContainerOOMScoreAdjust)', () => {
  test('Guaranteed -997, BestEffort 1000', () => {
    expect(oomScoreAdjust('Guaranteed', 1 * GI, 8 * GI)).toBe(-997);
    expect(oomScoreAdjust('BestEffort', 0, 8 * GI)).toBe(1000);
  });
  test('Burstable: 1000 - 1000*request/capacity, integer division', () => {
    // 64Mi of 8Gi: 1000*64/8192 = 7.8 → 7, so 993.
    expect(oomScoreAdjust('Burstable', 64 * MI, 8 * GI)).toBe(993);
    // 2Gi of 8Gi: 250, so 750.
    expect(oomScoreAdjust('Burstable', 2 * GI, 8 * GI)).toBe(750);
  });
  test('Burstable stays within 3..999', () => {
    expect(oomScoreAdjust('Burstable', 8 * GI, 8 * GI)).toBe(3);
    expect(oomScoreAdjust('Burstable', 0, 8 * GI)).toBe(999);
  });
  test('a sidecar gets no more than the smallest app container', () => {
    expect(oomScoreAdjust('Burstable', 32 * MI, 8 * GI, 2 * GI)).toBe(750);
  });
});

test('explainPodSpec lists init containers first, each with its own figures and the pod\'s QoS', () => {
  const rows = explainPodSpec({
    initContainers: [{ name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '10m', memory: '32Mi' } } }],
    containers: [{ name: 'app', resources: { requests: { cpu: '250m', memory: '2Gi' }, limits: { cpu: '100m', memory: '4Gi' } } }],
  }, 8 * GI);
  expect(rows.map((r) => [r.container, r.init, r.sidecar, r.qos])).toEqual([
    ['proxy', true, true, 'Burstable'],
    ['app', false, false, 'Burstable'],
  ]);
  expect(rows[1]).toMatchObject({ cpuShares: 256, cpuWeight: 10, cpuMax: '10000 100000', memoryMax: String(4 * GI), oomScoreAdj: 750 });
  expect(rows[0]).toMatchObject({ cpuShares: 10, cpuWeight: 1, cpuMax: 'max 100000', memoryMax: 'max', oomScoreAdj: 750 });
});
