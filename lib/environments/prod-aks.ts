import { Environment } from '../environment';

/**
 * Production on Azure Kubernetes Service: the Azure Standard Load Balancer, Azure Disk through
 * its CSI driver, Microsoft Entra Workload ID.
 *
 * EXAMPLE VALUES: the tenant, client IDs, region, zones and registry below are examples.
 */
const TENANT_ID = '00000000-0000-4000-8000-000000000000'; // EXAMPLE
const REGION = 'westeurope'; // EXAMPLE

export const prodAks: Environment = {
  name: 'prod-aks',
  kubernetesVersion: '1.33',

  loadBalancing: {
    provider: 'azure',
    serviceAnnotations: {
      // Azure's probe asks an HTTP path rather than only opening a TCP connection.
      'service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path': '/healthz',
    },
    ipFamilies: ['IPv4', 'IPv6'],
  },

  storage: {
    storageClassName: 'managed-csi-premium',
    provisioner: 'disk.csi.azure.com',
    parameters: { skuName: 'Premium_ZRS' },
    reclaimPolicy: 'Retain',
  },

  identity: {
    provider: 'azure-workload-identity',
    tenantId: TENANT_ID,
    // One user-assigned managed identity per workload that talks to Azure, by workload name.
    clientIds: {
      api: '11111111-2222-4333-8444-555555555555', // EXAMPLE
    },
  },

  observability: { stack: 'prometheus-operator', monitorSelectorLabels: { release: 'kube-prometheus-stack' } },

  scale: {
    spreadAcross: 'zone',
    zones: [`${REGION}-1`, `${REGION}-2`, `${REGION}-3`],
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

  // An Azure Container Registry cache rule for Docker Hub.
  registry: { mirror: 'examplelabtoprod.azurecr.io/docker-hub' },
};
