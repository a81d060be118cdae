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
    // Traefik, the same controller as in every environment, rather than the application routing
    // add-on (a managed ingress-nginx in its own namespace), so the api's NetworkPolicy is the same
    // everywhere.
    ingress: {
      className: 'traefik',
      controllerNamespace: 'traefik',
      domain: 'prod.lab-to-prod.example', // EXAMPLE
      clusterIssuer: 'letsencrypt',
      certificates: {
        kind: 'acme',
        server: 'https://acme-v02.api.letsencrypt.org/directory',
        email: 'platform-team@lab-to-prod.example', // EXAMPLE
        // cert-manager's controller acts as this managed identity (workload identity), a DNS Zone
        // Contributor on the zone.
        dns01: {
          provider: 'azure-dns',
          subscriptionId: '00000000-0000-4000-8000-00000000000a', // EXAMPLE
          resourceGroupName: 'lab-to-prod-dns', // EXAMPLE
          hostedZoneName: 'prod.lab-to-prod.example', // EXAMPLE
          managedIdentityClientId: '00000000-0000-4000-8000-00000000000b', // EXAMPLE
        },
      },
    },
  },

  storage: {
    storageClassName: 'managed-csi-premium',
    provisioner: 'disk.csi.azure.com',
    parameters: { skuName: 'Premium_ZRS' },
    reclaimPolicy: 'Retain',
    allowVolumeExpansion: true,
  },

  identity: {
    provider: 'azure-workload-identity',
    tenantId: TENANT_ID,
    // One user-assigned managed identity per workload that talks to Azure, by workload name.
    clientIds: {
      api: '11111111-2222-4333-8444-555555555555', // EXAMPLE
      // The ServiceAccount the ClusterSecretStore reads the Key Vault as.
      'secret-store-reader': '00000000-0000-4000-8000-00000000000c', // EXAMPLE
    },
    secrets: {
      provider: 'azure-key-vault',
      clusterSecretStore: 'azure-key-vault',
      vaultUrl: 'https://lab-to-prod-example.vault.azure.net', // EXAMPLE
    },
  },

  observability: {
    stack: 'prometheus-operator',
    monitorSelectorLabels: { release: 'kube-prometheus-stack' },
    prometheusNamespace: 'monitoring',
  },

  scale: {
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

  // AKS offers no gVisor; its Pod Sandboxing (a node pool with --workload-runtime KataVmIsolation)
  // defines the `kata-vm-isolation` RuntimeClass: each pod in its own lightweight VM, a stronger
  // boundary than gVisor's user-space kernel.
  sandboxRuntime: { className: 'kata-vm-isolation', handler: 'kata', providedByPlatform: true },
};
