import {
  applyOomScoreAdjFloor,
  cfsQuotaUs,
  cpuMax,
  explainPod,
  explainPodSpec,
  memoryLimitInBytes,
  memoryMax,
  milliCpuToQuota,
  milliCpuToShares,
  oomScoreAdjust,
  podQosClass,
  sharesToCpuWeight,
  V1_MEMORY_UNLIMITED,
} from './cgroups';

const GI = 2 ** 30;
const MI = 2 ** 20;

describe("cpu.weight from the cpu request (MilliCPUToShares, then runc's shares → weight)", () => {
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
    expect(podQosClass({ containers: [c({ cpu: '500m', memory: '1Gi' }, { cpu: '0.5', memory: '1024Mi' })] })).toBe(
      'Guaranteed',
    );
  });
  test('limits only: the API server copies them into requests, so Guaranteed', () => {
    expect(podQosClass({ containers: [c(undefined, { cpu: '1', memory: '1Gi' })] })).toBe('Guaranteed');
  });
  test('requests below limits: Burstable', () => {
    expect(podQosClass({ containers: [c({ cpu: '250m', memory: '128Mi' }, { cpu: '1', memory: '256Mi' })] })).toBe(
      'Burstable',
    );
  });
  test('a memory limit without a cpu limit: Burstable', () => {
    expect(podQosClass({ containers: [c({ memory: '1Gi' }, { memory: '1Gi' })] })).toBe('Burstable');
  });
  test('an init container without limits makes a Guaranteed pod Burstable', () => {
    expect(
      podQosClass({
        initContainers: [c({ cpu: '100m' })],
        containers: [c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })],
      }),
    ).toBe('Burstable');
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

test("explainPodSpec lists init containers first, each with its own figures and the pod's QoS", () => {
  const rows = explainPodSpec(
    {
      initContainers: [
        { name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '10m', memory: '32Mi' } } },
      ],
      containers: [
        {
          name: 'app',
          resources: { requests: { cpu: '250m', memory: '2Gi' }, limits: { cpu: '100m', memory: '4Gi' } },
        },
      ],
    },
    8 * GI,
  );
  expect(rows.map((r) => [r.container, r.init, r.sidecar, r.qos])).toEqual([
    ['proxy', true, true, 'Burstable'],
    ['app', false, false, 'Burstable'],
  ]);
  expect(rows[1]).toMatchObject({
    cgroupV1: { cpuShares: 256, cfsQuotaUs: 10000, cfsPeriodUs: 100000, memoryLimitInBytes: BigInt(4 * GI) },
    cgroupV2: { cpuWeight: 10, cpuMax: '10000 100000', memoryMax: String(4 * GI) },
    oomScoreAdj: 750,
  });
  expect(rows[0]).toMatchObject({
    cgroupV1: { cpuShares: 10, cfsQuotaUs: -1, cfsPeriodUs: 100000, memoryLimitInBytes: V1_MEMORY_UNLIMITED },
    cgroupV2: { cpuWeight: 1, cpuMax: 'max 100000', memoryMax: 'max' },
    oomScoreAdj: 750,
  });
});

describe('cgroup v1 files: cpu.cfs_quota_us and memory.limit_in_bytes', () => {
  test("no cpu limit: -1, the kernel's default, because runc writes no quota", () => {
    expect(cfsQuotaUs(undefined)).toBe(-1);
  });
  test('a limit is milliCPU × 100 µs; below 10m it is raised to the 1000 µs minimum', () => {
    expect(cfsQuotaUs(250)).toBe(25000);
    expect(cfsQuotaUs(10)).toBe(1000);
    expect(cfsQuotaUs(5)).toBe(1000);
    expect(cfsQuotaUs(1)).toBe(1000);
  });
  test('no memory limit: the page-rounded maximum a cgroup v1 node shows, (2^63 - 1) / 4096 × 4096', () => {
    expect(V1_MEMORY_UNLIMITED).toBe(9223372036854771712n);
    expect(memoryLimitInBytes(undefined)).toBe(9223372036854771712n);
  });
  test('a limit that is not a whole number of pages reads back rounded down, in v1 and v2', () => {
    // 1G = 10^9 bytes = 244140.625 pages: 244140 pages = 999997440 bytes.
    expect(memoryLimitInBytes(1e9)).toBe(999997440n);
    expect(memoryMax(1e9)).toBe('999997440');
    expect(memoryLimitInBytes(128 * MI)).toBe(134217728n);
  });
});

describe('oom_score_adj on a runtime that may not lower it (restrict_oom_score_adj)', () => {
  test('a value below the floor shows as the floor; others are unchanged', () => {
    expect(applyOomScoreAdjFloor(-997, 0)).toBe(0);
    expect(applyOomScoreAdjFloor(993, 0)).toBe(993);
    expect(applyOomScoreAdjFloor(993, 995)).toBe(995);
    expect(applyOomScoreAdjFloor(-997, -999)).toBe(-997);
  });
  test("no floor: the kubelet's value", () => {
    expect(applyOomScoreAdjFloor(-997, undefined)).toBe(-997);
  });
  test('explainPodSpec keeps what the kubelet asks for beside what the node shows', () => {
    const guaranteed = { containers: [{ name: 'c', resources: { limits: { cpu: '1', memory: '1Gi' } } }] };
    expect(explainPodSpec(guaranteed, 8 * GI, 0)[0]).toMatchObject({ kubeletOomScoreAdj: -997, oomScoreAdj: 0 });
    expect(explainPodSpec(guaranteed, 8 * GI)[0]).toMatchObject({ kubeletOomScoreAdj: -997, oomScoreAdj: -997 });
  });
});

describe("the pod's own cgroup (ResourceConfigForPod)", () => {
  const c = (name: string, requests?: object, limits?: object, restartPolicy?: string) => ({
    name,
    restartPolicy,
    resources: { requests, limits },
  });

  test('Guaranteed: shares, quota and memory from the sums, directly under kubepods', () => {
    const pod = explainPod({
      containers: [
        c('a', undefined, { cpu: '100m', memory: '64Mi' }),
        c('b', undefined, { cpu: '150m', memory: '64Mi' }),
      ],
    });
    expect(pod.qos).toBe('Guaranteed');
    expect(pod.cgroupParent).toBe('kubepods');
    // 250m: 250 × 1024 / 1000 = 256 shares, 25000 µs.
    expect(pod.cgroupV1).toEqual({
      cpuShares: 256,
      cfsQuotaUs: 25000,
      cfsPeriodUs: 100000,
      memoryLimitInBytes: BigInt(128 * MI),
    });
    expect(pod.cgroupV2).toEqual({ cpuWeight: 10, cpuMax: '25000 100000', memoryMax: String(128 * MI) });
  });

  test('Burstable with every limit: quota and memory from the sums, under kubepods/burstable', () => {
    const pod = explainPod({
      containers: [
        c('a', { cpu: '50m', memory: '32Mi' }, { cpu: '250m', memory: '128Mi' }),
        c('b', { cpu: '10m' }, { cpu: '100m', memory: '32Mi' }),
      ],
    });
    expect(pod.qos).toBe('Burstable');
    expect(pod.cgroupParent).toBe('kubepods/burstable');
    // 60m: 61 shares; 350m: 35000 µs; b's memory request is copied from its limit.
    expect(pod.cgroupV1).toEqual({
      cpuShares: 61,
      cfsQuotaUs: 35000,
      cfsPeriodUs: 100000,
      memoryLimitInBytes: BigInt(160 * MI),
    });
  });

  test('Burstable with a container without a cpu limit: no pod quota, but a memory limit if every container has one', () => {
    const pod = explainPod({
      containers: [
        c('a', { cpu: '50m' }, { cpu: '250m', memory: '128Mi' }),
        c('b', { cpu: '10m' }, { memory: '32Mi' }),
      ],
    });
    expect(pod.cgroupV1).toMatchObject({ cfsQuotaUs: -1, memoryLimitInBytes: BigInt(160 * MI) });
    expect(pod.cgroupV2).toMatchObject({ cpuMax: 'max 100000', memoryMax: String(160 * MI) });
    expect(pod.cpuLimits.declared).toBe(false);
  });

  test('Burstable with a container without a memory limit: no pod memory limit', () => {
    const pod = explainPod({
      containers: [c('a', { cpu: '50m' }, { cpu: '250m', memory: '128Mi' }), c('b', { cpu: '10m' }, { cpu: '100m' })],
    });
    expect(pod.cgroupV1).toMatchObject({ cfsQuotaUs: 35000, memoryLimitInBytes: V1_MEMORY_UNLIMITED });
    expect(pod.cgroupV2.memoryMax).toBe('max');
  });

  test('a pod limit below 10m gets the 1000 µs minimum quota too', () => {
    const pod = explainPod({ containers: [c('a', undefined, { cpu: '5m', memory: '16Mi' })] });
    expect(pod.cgroupV1.cfsQuotaUs).toBe(1000);
  });

  test("an init container larger than the app containers' sum sets the pod figures", () => {
    const pod = explainPod({
      initContainers: [c('migrate', { cpu: '500m', memory: '256Mi' }, { cpu: '1', memory: '1Gi' })],
      containers: [
        c('a', { cpu: '100m', memory: '64Mi' }, { cpu: '200m', memory: '128Mi' }),
        c('b', { cpu: '100m', memory: '64Mi' }, { cpu: '200m', memory: '128Mi' }),
      ],
    });
    expect(pod.cpuRequests).toEqual({ total: 500, containers: 200, init: 500, declared: true });
    // max(500m, 200m) = 500m: 512 shares; max(1, 400m) = 1 cpu: 100000 µs; max(1Gi, 256Mi) = 1Gi.
    expect(pod.cgroupV1).toEqual({
      cpuShares: 512,
      cfsQuotaUs: 100000,
      cfsPeriodUs: 100000,
      memoryLimitInBytes: BigInt(GI),
    });
  });

  test('an init container smaller than the sum does not change it', () => {
    const pod = explainPod({
      initContainers: [c('migrate', { cpu: '50m' }, { cpu: '100m', memory: '64Mi' })],
      containers: [
        c('a', { cpu: '100m' }, { cpu: '200m', memory: '128Mi' }),
        c('b', { cpu: '100m' }, { cpu: '200m', memory: '128Mi' }),
      ],
    });
    expect(pod.cgroupV1).toMatchObject({ cpuShares: 204, cfsQuotaUs: 40000, memoryLimitInBytes: BigInt(256 * MI) });
  });

  test('a sidecar adds to the app containers and to every init container after it', () => {
    const pod = explainPod({
      initContainers: [
        c('proxy', { cpu: '100m' }, { cpu: '100m', memory: '32Mi' }, 'Always'),
        c('migrate', { cpu: '300m' }, { cpu: '300m', memory: '64Mi' }),
      ],
      containers: [c('app', { cpu: '100m' }, { cpu: '200m', memory: '128Mi' })],
    });
    // requests: app + proxy = 200m; migrate runs beside proxy: 400m, the larger.
    expect(pod.cpuRequests).toEqual({ total: 400, containers: 200, init: 400, declared: true });
    // limits: app + proxy = 300m; migrate + proxy = 400m. memory: 160Mi against 96Mi.
    expect(pod.cgroupV1).toMatchObject({ cpuShares: 409, cfsQuotaUs: 40000, memoryLimitInBytes: BigInt(160 * MI) });
  });

  test('an init container without a cpu limit after a sidecar with one counts as declared, as the kubelet counts it', () => {
    // The kubelet checks each init container's running total (its own limits plus the sidecars before it).
    const pod = explainPod({
      initContainers: [
        c('proxy', { cpu: '100m' }, { cpu: '100m', memory: '32Mi' }, 'Always'),
        c('migrate', { cpu: '50m' }, { memory: '64Mi' }),
      ],
      containers: [c('app', { cpu: '100m' }, { cpu: '200m', memory: '128Mi' })],
    });
    expect(pod.cpuLimits.declared).toBe(true);
    expect(pod.cgroupV1.cfsQuotaUs).toBe(30000);
  });

  test('an init container without a cpu limit and no sidecar before it: no pod quota', () => {
    const pod = explainPod({
      initContainers: [c('migrate', { cpu: '50m' }, { memory: '64Mi' })],
      containers: [c('app', { cpu: '100m' }, { cpu: '200m', memory: '128Mi' })],
    });
    expect(pod.cgroupV1.cfsQuotaUs).toBe(-1);
  });

  test('BestEffort: 2 shares and no limits, under kubepods/besteffort', () => {
    const pod = explainPod({ containers: [{ name: 'a' }] });
    expect(pod.cgroupParent).toBe('kubepods/besteffort');
    expect(pod.cgroupV1).toEqual({
      cpuShares: 2,
      cfsQuotaUs: -1,
      cfsPeriodUs: 100000,
      memoryLimitInBytes: V1_MEMORY_UNLIMITED,
    });
    expect(pod.cgroupV2).toEqual({ cpuWeight: 1, cpuMax: 'max 100000', memoryMax: 'max' });
  });
});
