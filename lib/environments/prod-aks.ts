import { Environment } from '../environment';
import { productionScale } from './production-scale';

/**
 * Production on Azure Kubernetes Service: the Azure Standard Load Balancer, Azure Disk through
 * its CSI driver, Microsoft Entra Workload ID.
 *
 * EXAMPLE VALUES: the tenant, client IDs and registry below are examples.
 */
const TENANT_ID = '00000000-0000-4000-8000-000000000000'; // EXAMPLE

export const prodAks: Environment = {
  name: 'prod-aks',
  // AKS supports 1.32 to 1.37 today, 1.31's long-term support having ended on 2026-11-30
  // (SUPPORT_CALENDARS.aks in lib/kubernetes-versions.ts, from the AKS release calendar; the synth
  // refuses a minor past its end). 1.35 is in community support.
  // renovate: datasource=endoflife-date packageName=azure-kubernetes-service (the dependency bot reads its minors)
  kubernetesVersion: '1.35',

  // The AKS cluster, recognised by its CA (certificate-authority-data of the context `az aks
  // get-credentials` writes). Until it is recorded here, `npm run deploy` refuses and prints the hash it
  // sees with this line.
  cluster: { caCertHash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' }, // EXAMPLE

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
    // People: Microsoft Entra ID authentication with Kubernetes RBAC (not Azure RBAC for Kubernetes
    // authorization), local accounts disabled:
    //   az aks update -g <group> -n <cluster> --enable-aad --aad-admin-group-object-ids <admins> --disable-local-accounts
    // A RoleBinding's `kind: Group` subject is the Entra group's object ID:
    // https://learn.microsoft.com/en-us/azure/aks/azure-ad-rbac
    people: {
      signIn: { kind: 'entra-id-groups', tenantId: TENANT_ID },
      groups: {
        // EXAMPLE: the object IDs of the tenant's groups
        web: {
          viewer: '00000000-0000-4000-8000-000000000101',
          deployer: '00000000-0000-4000-8000-000000000102',
          'on-call': '00000000-0000-4000-8000-000000000103',
        },
        api: {
          viewer: '00000000-0000-4000-8000-000000000201',
          deployer: '00000000-0000-4000-8000-000000000202',
          'on-call': '00000000-0000-4000-8000-000000000203',
        },
        db: {
          viewer: '00000000-0000-4000-8000-000000000301',
          deployer: '00000000-0000-4000-8000-000000000302',
          'on-call': '00000000-0000-4000-8000-000000000303',
        },
        batch: {
          viewer: '00000000-0000-4000-8000-000000000401',
          deployer: '00000000-0000-4000-8000-000000000402',
          'on-call': '00000000-0000-4000-8000-000000000403',
        },
        sandboxed: {
          viewer: '00000000-0000-4000-8000-000000000501',
          deployer: '00000000-0000-4000-8000-000000000502',
          'on-call': '00000000-0000-4000-8000-000000000503',
        },
      },
    },
  },

  // AKS Linux node pools default to Ubuntu (osSku Ubuntu), which has AppArmor
  // (https://learn.microsoft.com/azure/aks/secure-container-access). Azure Linux 3 (osSku AzureLinux)
  // and Azure Container Linux have no AppArmor and confine containers with SELinux (the same page;
  // https://learn.microsoft.com/azure/azure-linux/azure-container-linux-security-features): on those
  // node pools set securityModule 'SELinux', or every pod asking for AppArmor is refused.
  nodes: { osImage: 'Ubuntu (AKS node image, osSku Ubuntu)', securityModule: 'AppArmor' },

  observability: {
    stack: 'prometheus-operator',
    // The labels the organisation's Prometheus selects ServiceMonitors and rules by. This project
    // renders the Prometheus Operator (addons) but not the Prometheus it runs, which is the
    // organisation's: a kube-prometheus-stack release named kube-prometheus-stack selects by
    // `release: <its name>`, and kube-state-metrics, which the alert rules read, comes with it.
    monitorSelectorLabels: { release: 'kube-prometheus-stack' },
    prometheusNamespace: 'monitoring',
  },

  // What the managed cluster lacks and this environment's objects stand on, each upstream's own
  // rendering pinned in addons/addons.lock.json and rendered into dist/prod-aks/ (lib/addons/<name>.ts
  // says what is changed).
  addons: {
    'cert-manager': {},
    'external-secrets': {},
    'prometheus-operator': {},
    // Two proxies: the environment's one door for HTTP(S) stays open while a node drains.
    traefik: { replicas: 2 },
  },
  // What AKS installs and runs itself, rendered nothing for here.
  providedByPlatform: [
    {
      piece: 'Azure Disk CSI driver, which AKS runs for disk.csi.azure.com',
      documentation: 'https://learn.microsoft.com/azure/aks/azure-disk-csi',
    },
    {
      piece: "LoadBalancer Services: AKS's cloud provider integration configures the Azure Standard Load Balancer",
      documentation: 'https://learn.microsoft.com/azure/aks/load-balancer-standard',
    },
    {
      piece: 'metrics-server, which AKS deploys in every cluster',
      documentation: 'https://learn.microsoft.com/azure/aks/tutorial-kubernetes-scale',
    },
    {
      piece: 'NetworkPolicy enforcement by the network policy engine chosen at cluster creation',
      documentation: 'https://learn.microsoft.com/azure/aks/use-network-policies',
    },
  ],

  // Production's shared sizing (production-scale.ts), spread over the cluster's zones.
  scale: productionScale(),

  // An Azure Container Registry cache rule for Docker Hub.
  registry: { mirror: 'examplelabtoprod.azurecr.io/docker-hub' },

  // AKS offers no gVisor; its Pod Sandboxing (a node pool with --workload-runtime KataVmIsolation)
  // defines the `kata-vm-isolation` RuntimeClass: each pod in its own lightweight VM, a stronger
  // boundary than gVisor's user-space kernel.
  sandboxRuntime: { className: 'kata-vm-isolation', handler: 'kata', providedByPlatform: true },

  // Delivered by Flux through AKS's Flux extension (the cluster extension microsoft.flux, which
  // installs and updates Flux's controllers in flux-system;
  // https://learn.microsoft.com/en-us/azure/azure-arc/kubernetes/conceptual-gitops-flux2), then
  // bootstrapped once with `kubectl apply -f dist/prod-aks-delivery/flux/` (lib/delivery/flux.ts).
  // Production follows a promoted commit of the branch, never its tip: `npm run promote -- --env
  // prod-aks --to <commit>` rewrites the revision line below, once the lab has run that commit.
  // Until the first promotion nothing is applied.
  delivery: {
    engine: 'flux',
    repository: 'https://git.example.com/platform/lab-to-prod.git', // EXAMPLE
    branch: 'main',
    revision: 'unpromoted',
    // Only the reconciler writes what it delivers: people's roles keep what has no place in git.
    reconcilerOnly: true,
    flux: { namespace: 'flux-system', pollInterval: '1m', reconcileInterval: '10m' },
  },
};

// This file is an environment because of its default export (lib/environments/index.ts finds it).
export default prodAks;
