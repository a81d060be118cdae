import { k8s } from 'cdk8s-plus-28';
import { ResourceQuantities } from '../environment';

/**
 * The Pod Security Standards "restricted" profile, field by field
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/): no host namespaces, no
 * capabilities, seccomp. These are the settings every workload's pods start from.
 */

/** The numeric user and group a container runs as; numeric so the kubelet can verify runAsNonRoot. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  /**
   * The group that owns mounted volumes, so a non-root process can write to them.
   * @default - no fsGroup: the pod mounts no writable persistent volume
   */
  readonly fsGroup?: number;
}

/** Pod-level security: non-root by number, and the runtime's default seccomp filter for every container. */
export function restrictedPodSecurityContext(runAs: RunAs): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: runAs.uid,
    runAsGroup: runAs.gid,
    ...(runAs.fsGroup !== undefined ? { fsGroup: runAs.fsGroup, fsGroupChangePolicy: 'OnRootMismatch' } : {}),
    // The container runtime's default seccomp profile blocks the syscalls a container never needs
    // (https://kubernetes.io/docs/tutorials/security/seccomp/).
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Container-level security: no privilege escalation (no setuid binaries take effect), every
 * capability dropped, and a read-only root filesystem so the image's layers stay as built
 * (the image is the read-only lower layer of an overlay filesystem); writable paths are explicit
 * volumes.
 */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * Requests and limits as the environment gives them (validated beforehand by checkResources).
 * The kubelet turns them into cgroup values: the cpu request into cpu.weight, the cpu limit into
 * cpu.max, the memory limit into memory.max, past which the OOM killer ends the container
 * (https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/). `npm run explain`
 * shows the figures.
 */
export function containerResources(requests: ResourceQuantities, limits: ResourceQuantities): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(requests.cpu), memory: k8s.Quantity.fromString(requests.memory) },
    limits: { cpu: k8s.Quantity.fromString(limits.cpu), memory: k8s.Quantity.fromString(limits.memory) },
  };
}
