/**
 * What the kernel enforces for a container and for its pod, derived from requests and limits the
 * way the kubelet and the OCI runtime derive them (requests and limits become cgroup files; the OOM
 * killer reads oom_score_adj: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/). Each value is given under both cgroup versions' file
 * names: v1 (cpu.shares, cpu.cfs_quota_us, cpu.cfs_period_us, memory.limit_in_bytes, the terms most
 * introductions use and what a cgroup v1 node shows under /sys/fs/cgroup/<controller>/kubepods/...) and v2
 * (cpu.weight, cpu.max, memory.max under /sys/fs/cgroup/kubepods.slice/...;
 * https://docs.kernel.org/admin-guide/cgroup-v2.html). Integer arithmetic
 * throughout, as in the Go sources cited at each function, so the figures equal the files' contents.
 */
import { cpuMillis, memoryBytes } from '../k8s/quantity';
import { KubeObject, PodContainer, podContainers } from './kube';

// ---------------------------------------------------------------------------------------------
// cpu: shares, weight and quota

/** cpu.shares bounds in cgroup v1 (kubelet pkg/kubelet/cm/helpers_linux.go: MinShares, MaxShares). */
export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
/** cpu.shares for one whole cpu (helpers_linux.go: SharesPerCPU) and millicores per cpu (MilliCPUToCPU). */
const SHARES_PER_CPU = 1024;
const MILLI_CPU_TO_CPU = 1000;
/** The CFS period in microseconds, 100 ms (helpers_linux.go: QuotaPeriod), and the smallest quota (MinQuotaPeriod). */
export const QUOTA_PERIOD_US = 100000;
export const MIN_QUOTA_US = 1000;

/**
 * cpu.shares for a cpu request, as kubelet's MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go):
 * shares = milliCPU * 1024 / 1000 (integer division), at least 2 and at most 262144. No request
 * (0) gives the minimum, 2, which is what the kernel's own floor is.
 */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) {
    return MIN_SHARES;
  }
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / MILLI_CPU_TO_CPU);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/**
 * cgroup v2 cpu.weight for cpu.shares. The kubelet hands shares to the runtime over the CRI
 * (pkg/kubelet/kuberuntime/kuberuntime_container_linux.go); on a cgroup v2 host the OCI runtime
 * converts them with runc's ConvertCPUSharesToCgroupV2Value (libcontainer/cgroups/utils.go, now
 * the opencontainers/cgroups module): weight = 1 + ((shares - 2) * 9999) / 262142, integer
 * division, which maps [2, 262144] onto [1, 10000] linearly. 0 means "not set" and stays 0.
 *
 * Note: runc 1.3.2 and crun 1.23 replaced this with a log-quadratic mapping so that 1024 shares
 * give the default weight 100; nodes running those runtimes show other values. This table follows
 * the linear formula, which containerd's bundled runc used for years and Kubernetes documents.
 */
export function sharesToCpuWeight(shares: number): number {
  if (shares === 0) {
    return 0;
  }
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/**
 * The CFS quota for a cpu limit, as kubelet's MilliCPUToQuota (pkg/kubelet/cm/helpers_linux.go):
 * quota = milliCPU * period / 1000 microseconds per 100000 µs period, at least MinQuotaPeriod,
 * 1000 µs, so a limit below 10m still gets a whole millisecond; 0 (no limit) means no quota.
 */
export function milliCpuToQuota(milliCpu: number, period = QUOTA_PERIOD_US): number {
  if (milliCpu === 0) {
    return 0;
  }
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * period) / MILLI_CPU_TO_CPU));
}

/**
 * cpu.cfs_quota_us on cgroup v1: the quota, or -1 without a limit. The kubelet sends quota 0 for a
 * container without a cpu limit (kuberuntime_container_linux.go, calculateLinuxResources) and no
 * quota at all for a pod that is not limited (helpers_linux.go, ResourceConfigForPod); runc writes
 * cpu.cfs_quota_us only when the quota is not 0 (opencontainers/cgroups fs/cpu.go, CpuGroup.Set:
 * `if r.CpuQuota != 0`), so the file keeps the kernel's default, -1, "no bandwidth restriction"
 * (https://docs.kernel.org/scheduler/sched-bwc.html, Management: the default values are
 * cfs_period_us=100ms, cfs_quota_us=-1). This is the kubelet's default, cpuCFSQuota: true; a kubelet
 * run with cpuCFSQuota: false writes no quota anywhere, and every cpu.cfs_quota_us reads -1.
 */
export function cfsQuotaUs(limitMilliCpu: number | undefined): number {
  return limitMilliCpu ? milliCpuToQuota(limitMilliCpu) : -1;
}

/** cpu.max as the file reads: "<quota> <period>", or "max <period>" without a limit. */
export function cpuMax(limitMilliCpu: number | undefined): string {
  if (!limitMilliCpu) {
    return `max ${QUOTA_PERIOD_US}`;
  }
  return `${milliCpuToQuota(limitMilliCpu)} ${QUOTA_PERIOD_US}`;
}

/**
 * The page size the kernel counts memory limits in. 4096 bytes on x86-64 and on the usual arm64
 * kernels (arm64 can be built with 16K or 64K pages; such a node rounds to its own page size).
 */
export const PAGE_SIZE = 4096;

/**
 * The kernel keeps a memory limit as a number of pages, rounded down (mm/page_counter.c,
 * page_counter_memparse: nr_pages = bytes / PAGE_SIZE), and shows it back as pages × PAGE_SIZE
 * in both memory.limit_in_bytes (v1) and memory.max (v2). A limit of whole Mi or Gi is unchanged.
 */
function pageRounded(bytes: number): number {
  return Math.floor(bytes / PAGE_SIZE) * PAGE_SIZE;
}

/**
 * memory.limit_in_bytes on cgroup v1 without a limit: the kernel's largest page counter,
 * PAGE_COUNTER_MAX = LONG_MAX / PAGE_SIZE pages on a 64-bit kernel (include/linux/page_counter.h),
 * shown in bytes: (2^63 − 1) / 4096 × 4096 = 9223372036854771712, page-rounded rather than 2^63 − 1.
 * A bigint: it is beyond the integers a JavaScript number holds exactly.
 */
export const V1_MEMORY_UNLIMITED = ((2n ** 63n - 1n) / BigInt(PAGE_SIZE)) * BigInt(PAGE_SIZE);

/**
 * memory.limit_in_bytes as the file reads: the limit in bytes, page-rounded, or the kernel's
 * maximum without one (the kubelet sends no limit and runc writes none, so the default stays).
 */
export function memoryLimitInBytes(limitBytes: number | undefined): bigint {
  return limitBytes ? BigInt(pageRounded(limitBytes)) : V1_MEMORY_UNLIMITED;
}

/** memory.max as the file reads: the limit in bytes, page-rounded, or "max" without one. */
export function memoryMax(limitBytes: number | undefined): string {
  return limitBytes ? String(pageRounded(limitBytes)) : 'max';
}

/** The cgroup v1 files of a container or pod, as they read. */
export interface CgroupV1Files {
  readonly cpuShares: number;
  readonly cfsQuotaUs: number;
  readonly cfsPeriodUs: number;
  readonly memoryLimitInBytes: bigint;
}

/** The cgroup v2 files of a container or pod, as they read. */
export interface CgroupV2Files {
  readonly cpuWeight: number;
  readonly cpuMax: string;
  readonly memoryMax: string;
}

/**
 * Both versions' files for cpu.shares and the (possibly absent) cpu and memory limits. The period is
 * 100000 µs everywhere: the kubelet sends it with every container (calculateLinuxResources) and with
 * every pod quota, and it is also the kernel's default where no quota is written.
 */
export function cgroupFiles(
  cpuShares: number,
  cpuLimit: number | undefined,
  memoryLimit: number | undefined,
): {
  cgroupV1: CgroupV1Files;
  cgroupV2: CgroupV2Files;
} {
  return {
    cgroupV1: {
      cpuShares,
      cfsQuotaUs: cfsQuotaUs(cpuLimit),
      cfsPeriodUs: QUOTA_PERIOD_US,
      memoryLimitInBytes: memoryLimitInBytes(memoryLimit),
    },
    cgroupV2: { cpuWeight: sharesToCpuWeight(cpuShares), cpuMax: cpuMax(cpuLimit), memoryMax: memoryMax(memoryLimit) },
  };
}

// ---------------------------------------------------------------------------------------------
// QoS class

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** A container's cpu (millicores) and memory (bytes) requests and limits, after API defaulting. */
export interface ContainerResources {
  readonly cpuRequest?: number;
  readonly cpuLimit?: number;
  readonly memoryRequest?: number;
  readonly memoryLimit?: number;
}

/**
 * Reads a container's requests and limits as the kubelet sees them: after the API server's
 * defaulting, which sets a missing request to the limit (pkg/apis/core/v1/defaults.go, SetDefaults_Pod:
 * a container that states a limit but no request for a resource gets the limit as its request).
 * Zero values count as unset, as in the QoS code.
 */
export function containerResources(container: KubeObject): ContainerResources {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  const cpuLimit = positive(limits.cpu !== undefined ? cpuMillis(String(limits.cpu)) : undefined);
  const memoryLimit = positive(limits.memory !== undefined ? memoryBytes(String(limits.memory)) : undefined);
  const cpuRequest = positive(requests.cpu !== undefined ? cpuMillis(String(requests.cpu)) : undefined) ?? cpuLimit;
  const memoryRequest =
    positive(requests.memory !== undefined ? memoryBytes(String(requests.memory)) : undefined) ?? memoryLimit;
  return { cpuRequest, cpuLimit, memoryRequest, memoryLimit };
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

/**
 * The pod's QoS class by the kubelet's rules (pkg/apis/core/v1/helper/qos/qos.go, GetPodQOS),
 * over init and app containers, cpu and memory only:
 * - BestEffort: no container has any cpu or memory request or limit;
 * - Guaranteed: every container has both a cpu and a memory limit, and the pod's summed
 *   requests equal its summed limits for each of them;
 * - Burstable: anything else.
 */
export function podQosClass(podSpec: KubeObject): QosClass {
  const all = podContainers(podSpec).map((c) => containerResources(c.container));
  const requests = { cpu: 0, memory: 0 };
  const limits = { cpu: 0, memory: 0 };
  let everyContainerHasBothLimits = true;
  for (const r of all) {
    requests.cpu += r.cpuRequest ?? 0;
    requests.memory += r.memoryRequest ?? 0;
    limits.cpu += r.cpuLimit ?? 0;
    limits.memory += r.memoryLimit ?? 0;
    if (r.cpuLimit === undefined || r.memoryLimit === undefined) {
      everyContainerHasBothLimits = false;
    }
  }
  if (requests.cpu === 0 && requests.memory === 0 && limits.cpu === 0 && limits.memory === 0) {
    return 'BestEffort';
  }
  if (everyContainerHasBothLimits && requests.cpu === limits.cpu && requests.memory === limits.memory) {
    return 'Guaranteed';
  }
  return 'Burstable';
}

// ---------------------------------------------------------------------------------------------
// OOM score adjustment

/** oom_score_adj of Guaranteed and BestEffort containers (pkg/kubelet/qos/policy.go). */
export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BEST_EFFORT_OOM_SCORE_ADJ = 1000;

/**
 * oom_score_adj for a container, as kubelet's GetContainerOOMScoreAdjust (pkg/kubelet/qos/policy.go):
 * Guaranteed -997, BestEffort 1000; Burstable 1000 - (1000 * memoryRequest) / nodeMemoryCapacity
 * (integer division), raised to at least 1000 + (-997) = 3 so it stays above every Guaranteed
 * container, and 1000 is lowered to 999 so it stays below every BestEffort one. A sidecar (an init
 * container with restartPolicy Always) gets no higher a value than the pod's app container with
 * the smallest memory request, so the sidecar is not killed before what it serves.
 * (Node-critical static pods and pod-level resources, which change this, are not used here.)
 */
export function oomScoreAdjust(
  qos: QosClass,
  memoryRequest: number,
  nodeMemoryBytes: number,
  smallestAppMemoryRequest?: number,
): number {
  if (qos === 'Guaranteed') {
    return GUARANTEED_OOM_SCORE_ADJ;
  }
  if (qos === 'BestEffort') {
    return BEST_EFFORT_OOM_SCORE_ADJ;
  }
  let adjust = 1000 - Math.floor((1000 * memoryRequest) / nodeMemoryBytes);
  if (smallestAppMemoryRequest !== undefined) {
    adjust = Math.min(adjust, 1000 - Math.floor((1000 * smallestAppMemoryRequest) / nodeMemoryBytes));
  }
  if (adjust < 1000 + GUARANTEED_OOM_SCORE_ADJ) {
    return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  }
  if (adjust === BEST_EFFORT_OOM_SCORE_ADJ) {
    return adjust - 1;
  }
  return adjust;
}

/**
 * What a node whose container runtime may not lower an OOM score shows: containerd with
 * `restrict_oom_score_adj = true` raises every value below its own oom_score_adj to that value
 * ("restrict_oom_score_adj indicates to limit the lower bound of OOMScoreAdj to the containerd's
 * current OOMScoreAdj. This is useful when the containerd does not have permission to decrease
 * OOMScoreAdj": https://github.com/containerd/containerd/blob/main/docs/cri/config.md; the code is
 * restrictOOMScoreAdj in internal/cri/opts/spec_linux_opts.go: max(preferred, current)).
 * No floor: the kubelet's value stands.
 */
export function applyOomScoreAdjFloor(oomScoreAdj: number, floor: number | undefined): number {
  return floor === undefined ? oomScoreAdj : Math.max(oomScoreAdj, floor);
}

// ---------------------------------------------------------------------------------------------
// One container, explained

/** The node memory capacity the Burstable OOM score is computed against when none is given. */
export const DEFAULT_NODE_MEMORY = '8Gi';

/** What the kernel gets for one container, next to the figure it comes from. */
export interface ContainerCgroups {
  readonly container: string;
  readonly init: boolean;
  readonly sidecar: boolean;
  readonly qos: QosClass;
  readonly resources: ContainerResources;
  readonly cgroupV1: CgroupV1Files;
  readonly cgroupV2: CgroupV2Files;
  /** What the kubelet asks for (GetContainerOOMScoreAdjust). */
  readonly kubeletOomScoreAdj: number;
  /** What /proc/<pid>/oom_score_adj shows: the kubelet's value, raised to the runtime's floor if one is given. */
  readonly oomScoreAdj: number;
}

/** Every container of a pod spec, init containers first, with its cgroup files and OOM score. */
export function explainPodSpec(
  podSpec: KubeObject,
  nodeMemoryBytes: number,
  oomScoreAdjFloor?: number,
): ContainerCgroups[] {
  const qos = podQosClass(podSpec);
  const containers = podContainers(podSpec);
  const appRequests = containers.filter((c) => !c.init).map((c) => containerResources(c.container).memoryRequest ?? 0);
  const smallestAppRequest = appRequests.length > 0 ? Math.min(...appRequests) : undefined;
  return containers.map(({ container, init, sidecar }: PodContainer) => {
    const resources = containerResources(container);
    const kubeletOomScoreAdj = oomScoreAdjust(
      qos,
      resources.memoryRequest ?? 0,
      nodeMemoryBytes,
      sidecar ? smallestAppRequest : undefined,
    );
    return {
      container: container.name,
      init,
      sidecar,
      qos,
      resources,
      ...cgroupFiles(milliCpuToShares(resources.cpuRequest ?? 0), resources.cpuLimit, resources.memoryLimit),
      kubeletOomScoreAdj,
      oomScoreAdj: applyOomScoreAdjFloor(kubeletOomScoreAdj, oomScoreAdjFloor),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The pod's own cgroup

/**
 * A pod's total of one resource as the kubelet counts it (k8s.io/component-helpers resource
 * helpers, AggregateContainerRequests and AggregateContainerLimits, which ResourceConfigForPod in
 * pkg/kubelet/cm/helpers_linux.go calls through PodRequests and PodLimits): the app containers and
 * sidecars add up; each ordinary init container runs alone beside the sidecars started before it,
 * so it counts as itself plus those sidecars; the total is the larger of the two.
 * `declared` is the kubelet's cpuLimitsDeclared / memoryLimitsDeclared: every figure it looks at
 * (each app container's own, each init container's running total) is above zero.
 */
export interface PodTotal {
  readonly total: number;
  /** The app containers' and sidecars' sum. */
  readonly containers: number;
  /** The largest init container's figure (with the sidecars started before it), 0 without init containers. */
  readonly init: number;
  readonly declared: boolean;
}

export function podTotal(
  containers: readonly PodContainer[],
  figure: (r: ContainerResources) => number | undefined,
): PodTotal {
  let sum = 0;
  let sidecars = 0;
  let init = 0;
  let declared = true;
  for (const c of containers) {
    const value = figure(containerResources(c.container)) ?? 0;
    let seen = value;
    if (!c.init) {
      sum += value;
    } else if (c.sidecar) {
      sum += value;
      sidecars += value;
      seen = sidecars;
    } else {
      seen = value + sidecars;
    }
    init = c.init ? Math.max(init, seen) : init;
    declared = declared && seen > 0;
  }
  return { total: Math.max(sum, init), containers: sum, init, declared };
}

/** Where the pod's cgroup sits under the cgroupfs driver (the systemd driver: kubepods.slice/kubepods-burstable.slice/...). */
export const POD_CGROUP_PARENTS: Readonly<Record<QosClass, string>> = {
  Guaranteed: 'kubepods',
  Burstable: 'kubepods/burstable',
  BestEffort: 'kubepods/besteffort',
};

/** What the kernel gets for a pod's own cgroup, kubepods/<qos>/pod<uid>. */
export interface PodCgroups {
  readonly qos: QosClass;
  readonly cgroupParent: string;
  readonly cpuRequests: PodTotal;
  readonly cpuLimits: PodTotal;
  readonly memoryLimits: PodTotal;
  readonly cgroupV1: CgroupV1Files;
  readonly cgroupV2: CgroupV2Files;
}

/**
 * The pod-level cgroup values, as kubelet's ResourceConfigForPod (pkg/kubelet/cm/helpers_linux.go):
 * - cpu.shares from the pod's total cpu request (MilliCPUToShares); BestEffort: the minimum, 2;
 * - a CFS quota from the total cpu limit for a Guaranteed pod, and for a Burstable pod only when
 *   every container declares a cpu limit (otherwise none: -1, "max");
 * - a memory limit from the total memory limit on the same terms.
 * Pod overhead (spec.overhead, filled in from a RuntimeClass by admission) would be added to both
 * totals; no RuntimeClass of this project declares one, so rendered pods carry none.
 */
export function explainPod(podSpec: KubeObject): PodCgroups {
  const qos = podQosClass(podSpec);
  const containers = podContainers(podSpec);
  const cpuRequests = podTotal(containers, (r) => r.cpuRequest);
  const cpuLimits = podTotal(containers, (r) => r.cpuLimit);
  const memoryLimits = podTotal(containers, (r) => r.memoryLimit);
  const limited = (t: PodTotal) => (qos === 'Guaranteed' || (qos === 'Burstable' && t.declared) ? t.total : undefined);
  const shares = qos === 'BestEffort' ? MIN_SHARES : milliCpuToShares(cpuRequests.total);
  return {
    qos,
    cgroupParent: POD_CGROUP_PARENTS[qos],
    cpuRequests,
    cpuLimits,
    memoryLimits,
    ...cgroupFiles(shares, limited(cpuLimits), limited(memoryLimits)),
  };
}
