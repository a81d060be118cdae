import { Scale } from '../environment';

/**
 * The size of production, the same on every cloud: spread over three zones, each app namespace's
 * quota. One definition, so the three production environments cannot drift apart by accident; an
 * environment that needs other figures writes its own `scale` instead (the lab does).
 *
 * The workloads' own sizes are not here: each workload's defaults, beside its construct
 * (lib/workloads/), are production's figures, so production changes none of them.
 *
 * Replicas spread over the cluster's zones as its nodes are labelled (topology.kubernetes.io/zone, set
 * by the cloud), so the environment names no zones: a node pool that gains a zone needs no change here.
 */
export function productionScale(): Scale {
  return {
    spreadAcross: 'zone',
    // Each app namespace's ceiling: room for the largest workload at its maxReplicas plus one
    // surge pod (validated), and headroom for a sidecar or a Job; sized for a 3-zone pool.
    namespaceQuota: {
      requests: { cpu: '8', memory: '16Gi' },
      limits: { cpu: '16', memory: '32Gi' },
      pods: 40,
      persistentVolumeClaims: 10,
      storage: '500Gi',
      containerMax: { cpu: '2', memory: '4Gi' },
      containerDefaults: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    },
  };
}
