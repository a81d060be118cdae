import { Environment } from '../environment';

/**
 * Production on Google Kubernetes Engine: a backend-service based passthrough Network Load
 * Balancer, Persistent Disk through its CSI driver, Workload Identity.
 *
 * EXAMPLE VALUES: the project ID, region, zones and mirror below are examples.
 */
const PROJECT_ID = 'example-lab-to-prod'; // EXAMPLE
const REGION = 'europe-west4'; // EXAMPLE

export const prodGke: Environment = {
  name: 'prod-gke',
  kubernetesVersion: '1.33',

  loadBalancing: {
    provider: 'gke',
    serviceAnnotations: { 'cloud.google.com/l4-rbs': 'enabled' },
    // A dual-stack GKE cluster gives Services both families.
    ipFamilies: ['IPv4', 'IPv6'],
  },

  storage: {
    storageClassName: 'pd-balanced',
    provisioner: 'pd.csi.storage.gke.io',
    parameters: { type: 'pd-balanced' },
    reclaimPolicy: 'Retain',
  },

  identity: { provider: 'gke-workload-identity', projectId: PROJECT_ID },

  observability: { stack: 'prometheus-operator', monitorSelectorLabels: { release: 'kube-prometheus-stack' } },

  scale: {
    spreadAcross: 'zone',
    zones: [`${REGION}-a`, `${REGION}-b`, `${REGION}-c`],
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
  },

  // An Artifact Registry remote repository that proxies Docker Hub.
  registry: { mirror: `${REGION}-docker.pkg.dev/${PROJECT_ID}/docker-hub` },
};
