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
}

export interface MetallbAddressPool {
  /** The IPAddressPool's name. */
  readonly name: string;
  /** CIDRs (`192.168.50.240/28`) or ranges (`192.168.50.240-192.168.50.250`), one family each. */
  readonly addresses: readonly string[];
}

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
}

// ---------------------------------------------------------------------------------------------
// Identity

/** Workload identity: how a pod's ServiceAccount maps to a cloud identity. */
export type Identity =
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
  /** The web workload's size. */
  readonly web: WorkloadScale;
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
