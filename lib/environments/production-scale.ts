import { Scale } from '../environment';

/**
 * The size of production, the same on every cloud: three zones, three replicas at least, room to
 * grow fourfold. One definition, so the three production environments cannot drift apart by
 * accident; an environment that needs other figures writes its own `scale` instead (the lab does).
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
    web: {
      minReplicas: 3,
      maxReplicas: 12,
      targetCpuUtilization: 70,
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    },
    // requests == limits: a Guaranteed QoS pod, the last to be evicted under node pressure.
    api: {
      minReplicas: 3,
      maxReplicas: 12,
      targetCpuUtilization: 70,
      requests: { cpu: '250m', memory: '128Mi' },
      limits: { cpu: '250m', memory: '128Mi' },
    },
    db: {
      requests: { cpu: '1', memory: '2Gi' },
      limits: { cpu: '2', memory: '4Gi' },
      storage: '50Gi',
    },
    batch: {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '512Mi' },
      backupStorage: '100Gi',
    },
    sandboxed: {
      minReplicas: 2,
      maxReplicas: 6,
      targetCpuUtilization: 70,
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    },
  };
}
