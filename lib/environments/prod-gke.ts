import { Environment } from '../environment';
import { productionScale } from './production-scale';

/**
 * Production on Google Kubernetes Engine: a backend-service based passthrough Network Load
 * Balancer, Persistent Disk through its CSI driver, Workload Identity.
 *
 * EXAMPLE VALUES: the project ID, region and mirror below are examples.
 */
const PROJECT_ID = 'example-lab-to-prod'; // EXAMPLE
const REGION = 'europe-west4'; // EXAMPLE

export const prodGke: Environment = {
  name: 'prod-gke',
  // GKE supports 1.32 to 1.37 today (the Extended channel; Rapid and Regular offer 1.34 to 1.37:
  // SUPPORT_WINDOWS.gke in lib/kubernetes-versions.ts, from GKE's release notes). 1.35 is in all four.
  // renovate: datasource=endoflife-date packageName=google-kubernetes-engine (the dependency bot reads its minors)
  kubernetesVersion: '1.35',

  // The GKE cluster, recognised by its CA (certificate-authority-data of the context `gcloud container
  // clusters get-credentials` writes). Until it is recorded here, `npm run deploy` refuses and prints the
  // hash it sees with this line.
  cluster: { caCertHash: 'sha256:0000000000000000000000000000000000000000000000000000000000000000' }, // EXAMPLE

  loadBalancing: {
    provider: 'gke',
    serviceAnnotations: { 'cloud.google.com/l4-rbs': 'enabled' },
    // A dual-stack GKE cluster gives Services both families.
    ipFamilies: ['IPv4', 'IPv6'],
    // Traefik behind a passthrough Network Load Balancer, the same controller as in every environment.
    // GKE's own Ingress would send traffic from Google's front ends straight to the pods, which a
    // NetworkPolicy can only admit by address range, so the api's policy would differ here.
    ingress: {
      className: 'traefik',
      controllerNamespace: 'traefik',
      domain: 'prod.lab-to-prod.example', // EXAMPLE
      clusterIssuer: 'letsencrypt',
      certificates: {
        kind: 'acme',
        server: 'https://acme-v02.api.letsencrypt.org/directory',
        email: 'platform-team@lab-to-prod.example', // EXAMPLE
        // cert-manager's controller acts as a Google service account (Workload Identity) with DNS admin on the zone.
        dns01: { provider: 'cloud-dns', project: PROJECT_ID },
      },
    },
  },

  storage: {
    storageClassName: 'pd-balanced',
    provisioner: 'pd.csi.storage.gke.io',
    parameters: { type: 'pd-balanced' },
    reclaimPolicy: 'Retain',
    allowVolumeExpansion: true,
  },

  identity: {
    provider: 'gke-workload-identity',
    projectId: PROJECT_ID,
    secrets: { provider: 'gcp-secret-manager', clusterSecretStore: 'gcp-secret-manager', projectId: PROJECT_ID },
    // People: Google Groups for RBAC. Each group below is nested in the domain's
    // gke-security-groups@ group, and the cluster is told about it:
    //   gcloud container clusters update <cluster> --security-group=gke-security-groups@lab-to-prod.example
    // A RoleBinding's `kind: Group` subject is then the group's e-mail address:
    // https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac
    people: {
      signIn: { kind: 'gke-google-groups', securityGroup: 'gke-security-groups@lab-to-prod.example' }, // EXAMPLE
      groups: {
        // EXAMPLE
        web: {
          viewer: 'web-viewers@lab-to-prod.example',
          deployer: 'web-deployers@lab-to-prod.example',
          'on-call': 'web-on-call@lab-to-prod.example',
        },
        api: {
          viewer: 'api-viewers@lab-to-prod.example',
          deployer: 'api-deployers@lab-to-prod.example',
          'on-call': 'api-on-call@lab-to-prod.example',
        },
        db: {
          viewer: 'db-viewers@lab-to-prod.example',
          deployer: 'db-deployers@lab-to-prod.example',
          'on-call': 'db-on-call@lab-to-prod.example',
        },
        batch: {
          viewer: 'batch-viewers@lab-to-prod.example',
          deployer: 'batch-deployers@lab-to-prod.example',
          'on-call': 'batch-on-call@lab-to-prod.example',
        },
        sandboxed: {
          viewer: 'sandboxed-viewers@lab-to-prod.example',
          deployer: 'sandboxed-deployers@lab-to-prod.example',
          'on-call': 'sandboxed-on-call@lab-to-prod.example',
        },
      },
    },
  },

  // GKE's default node image is Container-Optimized OS with containerd, whose kernel enables AppArmor
  // and whose containerd applies its default AppArmor profile
  // (https://cloud.google.com/container-optimized-os/docs/concepts/security). GKE's Ubuntu images
  // have AppArmor too.
  nodes: { osImage: 'Container-Optimized OS with containerd (cos_containerd)', securityModule: 'AppArmor' },

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
  // rendering pinned in addons/addons.lock.json and rendered into dist/prod-gke/ (lib/addons/<name>.ts
  // says what is changed).
  addons: {
    'cert-manager': {},
    'external-secrets': {},
    'prometheus-operator': {},
    // Two proxies: the environment's one door for HTTP(S) stays open while a node drains.
    traefik: { replicas: 2 },
  },
  // What GKE installs and runs itself, rendered nothing for here.
  providedByPlatform: [
    {
      piece: 'Compute Engine persistent disk CSI driver (the GKE add-on GcePersistentDiskCsiDriver)',
      documentation: 'https://cloud.google.com/kubernetes-engine/docs/how-to/persistent-volumes/gce-pd-csi-driver',
    },
    {
      piece: 'LoadBalancer Services: GKE configures the passthrough Network Load Balancer itself',
      documentation: 'https://cloud.google.com/kubernetes-engine/docs/concepts/service-load-balancer',
    },
    {
      piece: 'metrics-server, which GKE runs in kube-system for the autoscalers',
      documentation: 'https://cloud.google.com/kubernetes-engine/docs/concepts/horizontalpodautoscaler',
    },
    {
      piece: 'NetworkPolicy enforcement by GKE Dataplane V2',
      documentation: 'https://cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2',
    },
  ],

  // Production's shared sizing (production-scale.ts), spread over the cluster's zones.
  scale: productionScale(),

  // An Artifact Registry remote repository that proxies Docker Hub.
  registry: { mirror: `${REGION}-docker.pkg.dev/${PROJECT_ID}/docker-hub` },

  // GKE Sandbox (a node pool with --sandbox type=gvisor) defines the `gvisor` RuntimeClass itself,
  // with scheduling onto the sandbox pool; defining it again would clash with GKE's.
  sandboxRuntime: { className: 'gvisor', handler: 'gvisor', providedByPlatform: true },

  // Delivered by Flux, installed with `flux install --components=source-controller,kustomize-controller`
  // (GKE's own GitOps offering is Config Sync; Flux here is the same engine as the lab's and AKS's,
  // so one set of delivery objects is proven in the lab), then bootstrapped once with `kubectl apply -f
  // dist/prod-gke-delivery/flux/` (lib/delivery/flux.ts). Production follows a promoted commit of the
  // branch, never its tip: `npm run promote -- --env prod-gke --to <commit>` rewrites the revision
  // line below, once the lab has run that commit. Until the first promotion nothing is applied.
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
export default prodGke;
