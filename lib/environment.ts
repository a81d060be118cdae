/**
 * The Environment: everything that differs between the lab and production, as data.
 *
 * The primer's first chapter names the places where a kubeadm lab on Proxmox and a managed
 * cloud cluster differ: load balancing, storage, identity and observability. We add scale
 * (replicas, resources, spreading over nodes or zones) and the image registry. One field per
 * area, nothing else: a workload construct never asks *which* environment it is in, only what
 * the environment says about an area. `npm run diff:envs` groups differences by these areas.
 *
 * Values that are specific to a site (address ranges, account and project IDs, the registry
 * host, zones) live in `lib/environments/<name>.ts` and are checked by `validateEnvironment`.
 */

/** The names of the environments this project renders. */
export const ENVIRONMENT_NAMES = ['lab', 'prod-eks', 'prod-gke', 'prod-aks'] as const;
export type EnvironmentName = typeof ENVIRONMENT_NAMES[number];

export interface Environment {
  /** The environment's name; also the folder under dist/. */
  readonly name: string;

  /**
   * The Kubernetes minor version the environment's cluster runs, e.g. '1.33'.
   * Fields newer than the 1.28 API of cdk8s-plus-28 are emitted only where this allows them.
   */
  readonly kubernetesVersion: string;

  /** How a Service of type LoadBalancer gets an address (the primer, 1: MetalLB vs the cloud's LB). */
  readonly loadBalancing: LoadBalancing;

  /** Where persistent volumes come from (the primer, 1: local or distributed disks vs managed CSI). */
  readonly storage: Storage;

  /** How workloads prove who they are to the platform (the primer, 1: minimal vs IAM/workload identity). */
  readonly identity: Identity;

  /** How the cluster is watched (the primer, 1: simple vs the organisation's monitoring). */
  readonly observability: Observability;

  /** How many, how big, and spread over what. */
  readonly scale: Scale;

  /** Where images are pulled from. */
  readonly registry: Registry;

  /**
   * The stronger-isolation runtime the sandboxed workload runs under (the primer: RuntimeClass and
   * gVisor's runsc). A seventh area beside the primer's four and ours two, because none of them is
   * about how the nodes run containers: the lab's nodes have runsc installed by hand, GKE Sandbox
   * provides a `gvisor` RuntimeClass itself, AKS Pod Sandboxing provides a Kata one.
   */
  readonly sandboxRuntime: SandboxRuntime;

  /**
   * What the cluster's nodes are: their OS image and the Linux security module that confines
   * containers there. A ninth area, because a pod can ask for a confinement only the node can give:
   * a pod that sets `appArmorProfile` is refused outright by a kubelet whose node has no AppArmor
   * (Kubernetes 1.31+), as on EKS's Amazon Linux 2023 and Bottlerocket nodes.
   */
  readonly nodes: Nodes;

  /**
   * kubeadm's configuration for building the cluster itself: only an environment whose control plane
   * is ours to build (the lab) has it. Rendered to dist/<env>/bootstrap/kubeadm.yaml for
   * `kubeadm init --config`, never applied with kubectl (the primer, 1: a kubeadm lab on Proxmox).
   * @default - none: a managed cluster; the cloud builds the control plane
   */
  readonly bootstrap?: KubeadmBootstrap;
}

// ---------------------------------------------------------------------------------------------
// Load balancing

export type IpFamily = 'IPv4' | 'IPv6';

export interface LoadBalancing {
  /** Which implementation answers for Services of type LoadBalancer; used in docs and reports. */
  readonly provider: 'metallb' | 'aws-load-balancer-controller' | 'gke' | 'azure';

  /** Annotations every LoadBalancer Service carries. */
  readonly serviceAnnotations: Readonly<Record<string, string>>;

  /**
   * spec.loadBalancerClass of LoadBalancer Services, where the implementation is selected that way.
   * @default - none: the cluster's default implementation answers
   */
  readonly loadBalancerClass?: string;

  /** IP families of Services, in order of preference. Two families make the Service dual-stack. */
  readonly ipFamilies: readonly IpFamily[];

  /**
   * MetalLB address pools to create (lab). The first pool is the one Services ask for.
   * @default - none: the cloud provider allocates addresses
   */
  readonly metallbAddressPools?: readonly MetallbAddressPool[];

  /** How HTTP(S) reaches Ingress objects, and who signs their certificates. */
  readonly ingress: IngressSettings;
}

export interface MetallbAddressPool {
  /** The IPAddressPool's name. */
  readonly name: string;
  /** CIDRs (`192.168.50.240/28`) or ranges (`192.168.50.240-192.168.50.250`), one family each. */
  readonly addresses: readonly string[];
}

/**
 * How HTTP(S) reaches the cluster through Ingress objects. The api workload's Ingress names
 * `className` and asks cert-manager for a certificate with the annotation
 * `cert-manager.io/cluster-issuer: <clusterIssuer>`; the platform creates that ClusterIssuer.
 */
export interface IngressSettings {
  /** spec.ingressClassName of every Ingress, e.g. 'nginx'. */
  readonly className: string;
  /**
   * The namespace the ingress controller's pods run in: the NetworkPolicy peer that may reach backends.
   * @default - none: the cloud's load balancer sends traffic straight to the pods (GKE's
   *   container-native Ingress), so backends admit it by port
   */
  readonly controllerNamespace?: string;
  /** The DNS domain apps get their host names under: `api.<domain>`. */
  readonly domain: string;
  /** The cert-manager ClusterIssuer that signs Ingress certificates. */
  readonly clusterIssuer: string;
  /** Where that ClusterIssuer's certificates come from. */
  readonly certificates: CertificateSource;
}

/**
 * 'private-ca': the lab. A self-signed Issuer makes one CA certificate, and a CA ClusterIssuer signs
 * with it; clients trust the lab by importing that CA (secret `<clusterIssuer>-root` in cert-manager).
 * 'acme': production. Let's Encrypt (or another ACME server) with a DNS-01 challenge answered through
 * the cloud's DNS, the cert-manager controller acting as its workload identity.
 */
export type CertificateSource =
  | { readonly kind: 'private-ca'; readonly caCommonName: string }
  | { readonly kind: 'acme'; readonly server: string; readonly email: string; readonly dns01: AcmeDns01 };

/** The DNS-01 solver: the cloud DNS zone cert-manager writes its challenge records into. */
export type AcmeDns01 =
  | { readonly provider: 'route53'; readonly region: string; readonly hostedZoneId: string }
  | { readonly provider: 'cloud-dns'; readonly project: string }
  | {
    readonly provider: 'azure-dns';
    readonly subscriptionId: string;
    readonly resourceGroupName: string;
    readonly hostedZoneName: string;
    /** The client ID of the managed identity cert-manager's controller acts as (workload identity). */
    readonly managedIdentityClientId: string;
  };

// ---------------------------------------------------------------------------------------------
// Storage

export interface Storage {
  /** The StorageClass that workloads' volume claims name. */
  readonly storageClassName: string;
  /** The CSI driver (or provisioner) behind it, e.g. `ebs.csi.aws.com`. */
  readonly provisioner: string;
  /** The provisioner's parameters, e.g. `{ type: 'gp3', encrypted: 'true' }`. */
  readonly parameters: Readonly<Record<string, string>>;
  /** What happens to a volume when its claim is deleted. */
  readonly reclaimPolicy: 'Retain' | 'Delete';
  /**
   * Whether claims can grow (StorageClass allowVolumeExpansion): true for every CSI driver here
   * (EBS, Persistent Disk, Azure Disk, Ceph RBD); false for local-path, which cannot resize a folder.
   */
  readonly allowVolumeExpansion: boolean;
}

// ---------------------------------------------------------------------------------------------
// Identity

/**
 * Identity: how a pod's ServiceAccount maps to a cloud identity, and where Secret values come from
 * (the secret manager is reached through that identity).
 */
export type Identity = WorkloadIdentityProvider & {
  /** Where the values of the Secrets workloads read come from. */
  readonly secrets: SecretsSource;
  /**
   * Identity for people: how they sign in, and which of their groups holds each access role in each
   * app namespace (lib/platform/access.ts). The primer, 1: minimal in the lab, the organisation's
   * sign-in in production; the control plane chapter: authentication, then authorization (RBAC).
   */
  readonly people: PeopleAccess;
};

/**
 * The access roles of an app namespace, least first: a viewer reads (never Secrets, never a shell);
 * a deployer also rolls out and scales the app (never its NetworkPolicies, quota or Pod Security
 * labels); an on-call operator also reads logs, execs into pods and deletes a stuck pod.
 */
export const ACCESS_ROLES = ['viewer', 'deployer', 'on-call'] as const;
export type AccessRole = typeof ACCESS_ROLES[number];

export interface PeopleAccess {
  /** How people prove who they are to the API server, which decides what a group's name looks like. */
  readonly signIn: PeopleSignIn;
  /**
   * Per app namespace, the group (as the sign-in names it) bound to each access role there:
   * `{ web: { viewer: 'web-viewers', deployer: 'web-deployers', 'on-call': 'web-on-call' } }`.
   * Every app namespace has an entry, and only app namespaces do.
   */
  readonly groups: Readonly<Record<string, Readonly<Record<AccessRole, string>>>>;
}

/**
 * 'client-certificate': the lab. A certificate signed by the cluster's CA through the
 * CertificateSigningRequest API (`npm run lab-access`); its organisation (O) is the group.
 * 'eks-access-entries': an IAM role's access entry lists Kubernetes group names (kubernetesGroups).
 * 'gke-google-groups': Google Groups for RBAC; a group is its e-mail address, nested in the
 * cluster's security group `gke-security-groups@<domain>`.
 * 'entra-id-groups': AKS with Microsoft Entra ID authentication and Kubernetes RBAC; a group is its
 * object ID in the tenant.
 */
export type PeopleSignIn =
  | { readonly kind: 'client-certificate' }
  | { readonly kind: 'eks-access-entries' }
  | { readonly kind: 'gke-google-groups'; readonly securityGroup: string }
  | { readonly kind: 'entra-id-groups'; readonly tenantId: string };

/**
 * 'lab-secrets-command': the lab has no secret manager; `npm run lab-secrets` creates each declared
 * Secret in the cluster from random values. Otherwise: external-secrets reads the cloud's secret
 * manager through one ClusterSecretStore (named `clusterSecretStore`), and each declared Secret is an
 * ExternalSecret. Either way no secret value is ever in dist/ (lib/platform/secrets.ts).
 */
export type SecretsSource =
  | { readonly provider: 'lab-secrets-command' }
  | { readonly provider: 'aws-secrets-manager'; readonly clusterSecretStore: string; readonly region: string }
  | { readonly provider: 'gcp-secret-manager'; readonly clusterSecretStore: string; readonly projectId: string }
  | { readonly provider: 'azure-key-vault'; readonly clusterSecretStore: string; readonly vaultUrl: string };

/** Workload identity: how a pod's ServiceAccount maps to a cloud identity. */
export type WorkloadIdentityProvider =
  | { readonly provider: 'none' }
  | { readonly provider: 'aws-irsa'; readonly accountId: string; readonly roleNamePrefix: string }
  | { readonly provider: 'gke-workload-identity'; readonly projectId: string }
  | { readonly provider: 'azure-workload-identity'; readonly tenantId: string; readonly clientIds: Readonly<Record<string, string>> };

// ---------------------------------------------------------------------------------------------
// Observability

export interface Observability {
  /**
   * 'metrics-server': the lab's simple form (resource metrics for the HPA only).
   * 'prometheus-operator': production; workloads add ServiceMonitors and alert rules.
   */
  readonly stack: 'metrics-server' | 'prometheus-operator';
  /**
   * Labels the organisation's Prometheus selects ServiceMonitors and rules by.
   * @default - none
   */
  readonly monitorSelectorLabels?: Readonly<Record<string, string>>;
  /**
   * The namespace the organisation's Prometheus runs in: the NetworkPolicy peer allowed to scrape
   * the ports a ServiceMonitor names (lib/platform/observability.ts).
   * @default - none: no Prometheus (the lab)
   */
  readonly prometheusNamespace?: string;
}

// ---------------------------------------------------------------------------------------------
// Scale

/** Kubernetes quantities as written in YAML: cpu '250m' or '1', memory '256Mi' or '1Gi'. */
export interface ResourceQuantities {
  readonly cpu: string;
  readonly memory: string;
}

export interface WorkloadScale {
  /** The HorizontalPodAutoscaler's floor; at least 2 so a drain never takes the workload down. */
  readonly minReplicas: number;
  /** The HorizontalPodAutoscaler's ceiling. */
  readonly maxReplicas: number;
  /** Average cpu utilisation, in percent of the request, that the autoscaler aims for. */
  readonly targetCpuUtilization: number;
  /** What the scheduler reserves (the primer, 3: cpu.weight and bin packing). */
  readonly requests: ResourceQuantities;
  /** The ceiling the kernel enforces (the primer, 3: cpu.max and memory.max, the OOM killer). */
  readonly limits: ResourceQuantities;
}

export interface Scale {
  /**
   * The failure domain replicas are spread over: nodes in a lab of a few VMs, zones in a cloud region.
   */
  readonly spreadAcross: 'node' | 'zone';
  /**
   * The zones of the cluster, where spreading is by zone.
   * @default - none
   */
  readonly zones?: readonly string[];
  /**
   * The ResourceQuota and LimitRange of every app namespace (the primer, 3: cgroups, requests and
   * limits; a quota caps what one app can take from the others). Checked against each workload's
   * scale: a namespace must hold its workload at maxReplicas plus one surge pod.
   */
  readonly namespaceQuota: NamespaceQuota;
  /** The web workload's size. */
  readonly web: WorkloadScale;
  /**
   * The api workload's size. Its requests equal its limits, so its pods are in the Guaranteed QoS
   * class beside web's Burstable ones (the primer, 3: cgroups and QoS).
   */
  readonly api: WorkloadScale;
  /** The database's size: one primary, its resources and its volume. */
  readonly db: DatabaseScale;
  /** The batch workload's size: the migration Job's and the backup CronJob's pods, and the backup volume. */
  readonly batch: BatchScale;
  /** The sandboxed workload's size (its pods run under gVisor, which costs some memory per pod). */
  readonly sandboxed: WorkloadScale;
}

/** A single-replica stateful workload: what its pod gets and how big its volume is. */
export interface DatabaseScale {
  /** What the scheduler reserves for the PostgreSQL container. */
  readonly requests: ResourceQuantities;
  /** The ceiling the kernel enforces for the PostgreSQL container. */
  readonly limits: ResourceQuantities;
  /** The size of the data volume each replica claims, e.g. '10Gi'. A claim can grow later (allowVolumeExpansion), never shrink. */
  readonly storage: string;
}

/** Run-to-completion pods: their resources and the volume the backups go to. */
export interface BatchScale {
  readonly requests: ResourceQuantities;
  readonly limits: ResourceQuantities;
  /** The size of the volume that holds the nightly database dumps, e.g. '20Gi'. */
  readonly backupStorage: string;
}

/** What one app namespace may use in total, and what one container may ask for. */
export interface NamespaceQuota {
  /** The sum of all pods' requests in the namespace (ResourceQuota requests.cpu/requests.memory). */
  readonly requests: ResourceQuantities;
  /** The sum of all pods' limits in the namespace (ResourceQuota limits.cpu/limits.memory). */
  readonly limits: ResourceQuantities;
  /** How many pods may exist at once, counting a rollout's surge pods and finished Job pods. */
  readonly pods: number;
  /** How many PersistentVolumeClaims. */
  readonly persistentVolumeClaims: number;
  /** The sum of the claims' sizes, e.g. '100Gi'. */
  readonly storage: string;
  /** LimitRange: the largest container the namespace admits. */
  readonly containerMax: ResourceQuantities;
  /** LimitRange: what a container that states no resources gets (every workload here states them). */
  readonly containerDefaults: { readonly requests: ResourceQuantities; readonly limits: ResourceQuantities };
}

// ---------------------------------------------------------------------------------------------
// Registry

export interface Registry {
  /**
   * The registry, and path within it, that mirrors the public images, e.g. a Harbor proxy project
   * in the lab or a pull-through cache in the cloud: `harbor.lab.example/dockerhub`.
   * An image `nginxinc/nginx-unprivileged:1.27.4` is pulled as `<mirror>/nginxinc/nginx-unprivileged:1.27.4`.
   */
  readonly mirror: string;
}

// ---------------------------------------------------------------------------------------------
// Sandbox runtime

export interface SandboxRuntime {
  /** The RuntimeClass name pods ask for in spec.runtimeClassName, e.g. 'gvisor'. */
  readonly className: string;
  /** The containerd runtime handler behind it, e.g. 'runsc' (gVisor) or 'kata'. */
  readonly handler: string;
  /**
   * Whether the platform already defines the RuntimeClass (GKE Sandbox, AKS Pod Sandboxing); if not,
   * the platform chart creates it.
   */
  readonly providedByPlatform: boolean;
  /**
   * Labels of the nodes that have the runtime installed; the RuntimeClass's scheduling sends its pods
   * there, so a sandboxed pod never lands on a node that cannot run it.
   * @default - none: every node has it
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------
// Nodes

/**
 * The Linux security modules (LSMs) a node can confine containers with, beside seccomp (which every
 * node here has, and every pod asks for: RuntimeDefault). The primer, 1: capabilities, seccomp and
 * AppArmor/SELinux are the layers that keep a container's process in its box.
 */
export const NODE_SECURITY_MODULES = ['AppArmor', 'SELinux', 'none'] as const;
export type NodeSecurityModule = typeof NODE_SECURITY_MODULES[number];

export interface Nodes {
  /** The node OS image, as the provider names it: e.g. 'Amazon Linux 2023 (EKS optimized AMI)'. */
  readonly osImage: string;
  /**
   * The security module the node OS runs. Pods ask for AppArmor's runtime default profile
   * (`appArmorProfile: RuntimeDefault`) only where this is 'AppArmor'; on 'SELinux' nodes the
   * container runtime labels each container's process and files instead, and the pod asks for
   * nothing (no `seLinuxOptions`: the runtime's default type is the one Pod Security allows).
   * 'none': seccomp, capabilities and the read-only root only, as on the cluster tests' real node,
   * whose kernel has neither module; no shipped environment should need it.
   */
  readonly securityModule: NodeSecurityModule;
}

// ---------------------------------------------------------------------------------------------
// Bootstrap (kubeadm only)

/**
 * The values of a kubeadm cluster's configuration (lib/bootstrap/kubeadm.ts). The IP families of the
 * subnets must be env.loadBalancing.ipFamilies, in the same order (the first is the primary family).
 */
export interface KubeadmBootstrap {
  /** The exact release to install, e.g. 'v1.33.4'; its minor version must be env.kubernetesVersion. */
  readonly kubernetesVersion: string;
  /** The cluster's name in kubeconfig files. */
  readonly clusterName: string;
  /**
   * A stable address for the API server, `host:port`: a DNS name or a virtual IP in front of the
   * control-plane nodes, so that more control-plane nodes can join later.
   */
  readonly controlPlaneEndpoint: string;
  /** The first control-plane node's addresses, one per family, primary first; the API server advertises the first. */
  readonly nodeAddresses: readonly string[];
  /** Pod subnets, one per family, primary first (each node gets a /24 of IPv4 and a /64 of IPv6). */
  readonly podSubnets: readonly string[];
  /** Service subnets, one per family, primary first. */
  readonly serviceSubnets: readonly string[];
}
