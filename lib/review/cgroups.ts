/**
 * What the kernel enforces for a container, derived from its requests and limits the way the
 * kubelet and the OCI runtime derive it on a cgroup v2 node (the primer, 3: requests and limits
 * become cgroup files; the OOM killer reads oom_score_adj). Integer arithmetic throughout, as in
 * the Go sources cited at each function, so that the figures equal what a node shows in
 * /sys/fs/cgroup/kubepods.slice/.../cpu.weight and /proc/<pid>/oom_score_adj.
 */
import { cpuMillis, memoryBytes } from '../kit/quantity';
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
 * quota = milliCPU * period / 1000 microseconds per 100000 µs period, at least 1000 µs; 0 (no
 * limit) means no quota. cgroup v2 writes both as cpu.max "<quota> <period>".
 */
export function milliCpuToQuota(milliCpu: number, period = QUOTA_PERIOD_US): number {
  if (milliCpu === 0) {
    return 0;
  }
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * period) / MILLI_CPU_TO_CPU));
}

/** cpu.max as the file reads: "<quota> <period>", or "max <period>" without a limit. */
export function cpuMax(limitMilliCpu: number | undefined): string {
  if (!limitMilliCpu) {
    return `max ${QUOTA_PERIOD_US}`;
  }
  return `${milliCpuToQuota(limitMilliCpu)} ${QUOTA_PERIOD_US}`;
}

/** memory.max as the file reads: the limit in bytes, or "max" without one. */
export function memoryMax(limitBytes: number | undefined): string {
  return limitBytes ? String(limitBytes) : 'max';
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
  const memoryRequest = positive(requests.memory !== undefined ? memoryBytes(String(requests.memory)) : undefined) ?? memoryLimit;
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
export function oomScoreAdjust(qos: QosClass, memoryRequest: number, nodeMemoryBytes: number, smallestAppMemoryRequest?: number): number {
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
  readonly cpuShares: number;
  readonly cpuWeight: number;
  readonly cpuMax: string;
  readonly memoryMax: string;
  readonly oomScoreAdj: number;
}

/** Every container of a pod spec, init containers first, with its cgroup v2 values. */
export function explainPodSpec(podSpec: KubeObject, nodeMemoryBytes: number): ContainerCgroups[] {
  const qos = podQosClass(podSpec);
  const containers = podContainers(podSpec);
  const appRequests = containers.filter((c) => !c.init).map((c) => containerResources(c.container).memoryRequest ?? 0);
  const smallestAppRequest = appRequests.length > 0 ? Math.min(...appRequests) : undefined;
  return containers.map(({ container, init, sidecar }: PodContainer) => {
    const resources = containerResources(container);
    const cpuShares = milliCpuToShares(resources.cpuRequest ?? 0);
    return {
      container: container.name,
      init,
      sidecar,
      qos,
      resources,
      cpuShares,
      cpuWeight: sharesToCpuWeight(cpuShares),
      cpuMax: cpuMax(resources.cpuLimit),
      memoryMax: memoryMax(resources.memoryLimit),
      oomScoreAdj: oomScoreAdjust(qos, resources.memoryRequest ?? 0, nodeMemoryBytes, sidecar ? smallestAppRequest : undefined),
    };
  });
}
