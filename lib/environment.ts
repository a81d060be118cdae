/**
 * The Environment: everything that differs between the lab and production, as data.
 *
 * A kubeadm lab on Proxmox and a managed cloud cluster differ in four places, each a component the
 * cloud provides and the lab must bring itself: load balancing, storage, identity and observability
 * (the README's "The lab and production model"). We add five: scale (replicas, resources,
 * spreading over nodes or zones), the image registry, the sandbox runtime, the nodes (their OS and
 * security module) and, where kubeadm builds the cluster, its control plane: nine areas in all, the
 * list `AREAS` in lib/review/areas.ts. One field per area, beside the environment's name, its
 * Kubernetes minor and its cluster's identity: a workload construct never asks *which* environment
 * it is in, only what the environment says about an area. `npm run diff:envs` groups differences by
 * these areas.
 *
 * The shape is declared once, as a zod schema (`EnvironmentSchema`), and the TypeScript types are
 * derived from it, so the synth itself refuses an unknown field (a misspelling), a missing one and a
 * malformed value, with the field's path; `validateEnvironment` (lib/environments/validate.ts) adds
 * the rules that span fields. `npm run schema` writes it as JSON Schema for editors
 * (generated/environment.schema.json).
 *
 * Values that are specific to a site (address ranges, account and project IDs, the registry
 * host) live in `lib/environments/<name>.ts`.
 */
import { z } from 'zod';
import { ADDRESS_RANGE_RULE, addressRangeProblem } from './k8s/ip-ranges';
import {
  DNS1123_LABEL_RULE,
  DNS1123_SUBDOMAIN_RULE,
  isDns1123Label,
  isDns1123Subdomain,
  isLabelValue,
  isQualifiedName,
  LABEL_VALUE_RULE,
  QUALIFIED_NAME_RULE,
} from './k8s/names';
import {
  bytesQuantityProblem,
  comparableBytes,
  comparableCpuMillis,
  cpuQuantityProblem,
  CPU_QUANTITY_FORMAT,
  MEMORY_QUANTITY_FORMAT,
} from './k8s/quantity';
import { ruled, rules } from './k8s/schema-problems';
import { SUPPORTED_MINORS } from './kubernetes-versions';

// Each synth checks four environments once: zod's compiled object parsers (new Function, per schema)
// cost more to build than they save on one parse, and V8's code cache cannot keep them.
z.config({ jitless: true });

/** A schema's value, read-only all the way down: constructs read an environment, never change it. */
type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

// Field formats used below: a string or number and the rule that says what it may be.
const valid = (ok: (s: string) => boolean, rule: string) => z.string().refine(ok, { message: rule });
const matching = (pattern: RegExp, rule: string) => z.string().regex(pattern, { message: rule });
/**
 * A string whose problem `problemOf` words (the "what is allowed" of its error, naming the value's own
 * mistake), undefined when valid; `rule` is what it is, for a value of another type.
 */
const checkedBy = (problemOf: (s: string) => string | undefined, rule: string) =>
  ruled(
    z.string().superRefine(
      rules((s: string, p) => {
        const problem = problemOf(s);
        p.check(problem === undefined, '', s, problem ?? rule);
      }),
    ),
    rule,
  );
const wholeNumber = (min: number, rule: string) =>
  z.number().refine((n) => Number.isInteger(n) && n >= min, { message: rule });
const dnsLabel = valid(isDns1123Label, DNS1123_LABEL_RULE);
const dnsSubdomain = valid(isDns1123Subdomain, DNS1123_SUBDOMAIN_RULE);
const stringMap = z.record(z.string(), z.string());
/** A GUID as Azure and Entra write them, in lowercase. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const guid = (rule = 'a lowercase GUID, e.g. "72f988bf-86f1-41af-91ab-2d7cd011db47"') => matching(GUID, rule);
const AWS_REGION = matching(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region, e.g. "eu-west-1"');
const GCP_PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;

// ---------------------------------------------------------------------------------------------
// Kubernetes versions: the one place that says which versions an environment may state.

/**
 * Whether an environment may state this Kubernetes version (`kubernetesVersion`): one of the
 * supported minors, each with its own API schema (lib/kubernetes-versions.ts says which and why).
 */
export function isSupportedKubernetesVersion(version: string): boolean {
  return SUPPORTED_MINORS.includes(version);
}

export const KubernetesVersionSchema = valid(
  isSupportedKubernetesVersion,
  `one of the supported minor versions ${SUPPORTED_MINORS.map((m) => `"${m}"`).join(', ')} (lib/kubernetes-versions.ts)`,
);

// ---------------------------------------------------------------------------------------------
// Load balancing

export const IP_FAMILIES = ['IPv4', 'IPv6'] as const;
export type IpFamily = (typeof IP_FAMILIES)[number];

export const MetallbAddressPoolSchema = z.strictObject({
  /** The IPAddressPool's name. */
  name: dnsSubdomain,
  /** CIDRs (`192.168.50.240/28`) or ranges (`192.168.50.240-192.168.50.250`), one family each. */
  addresses: z
    .array(checkedBy(addressRangeProblem, ADDRESS_RANGE_RULE))
    .refine((a) => a.length > 0, { message: 'at least one CIDR or range' }),
});

/** The DNS-01 solver: the cloud DNS zone cert-manager writes its challenge records into. */
export const AcmeDns01Schema = z.discriminatedUnion('provider', [
  z.strictObject({
    provider: z.literal('route53'),
    region: AWS_REGION,
    hostedZoneId: matching(/^Z[A-Z0-9]{1,31}$/, 'a Route 53 hosted zone ID, e.g. "Z0123456789ABCDEFGHIJ"'),
  }),
  z.strictObject({
    provider: z.literal('cloud-dns'),
    project: matching(GCP_PROJECT_ID, 'a Google Cloud project ID'),
  }),
  z.strictObject({
    provider: z.literal('azure-dns'),
    subscriptionId: guid(),
    resourceGroupName: valid(
      (g) => /^[-\w.()]{1,90}$/.test(g) && !g.endsWith('.'),
      '1 to 90 letters, digits, "-", "_", ".", "(" or ")", not ending in "."',
    ),
    hostedZoneName: dnsSubdomain,
    /** The client ID of the managed identity cert-manager's controller acts as (workload identity). */
    managedIdentityClientId: guid(),
  }),
]);

/**
 * 'private-ca': the lab. A self-signed Issuer makes one CA certificate, and a CA ClusterIssuer signs
 * with it; clients trust the lab by importing that CA (secret `<clusterIssuer>-root` in cert-manager).
 * 'acme': production. Let's Encrypt (or another ACME server) with a DNS-01 challenge answered through
 * the cloud's DNS, the cert-manager controller acting as its workload identity.
 */
export const CertificateSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('private-ca'),
    caCommonName: valid((n) => n.trim() !== '' && n.length <= 64, '1 to 64 characters (an X.509 common name)'),
  }),
  z.strictObject({
    kind: z.literal('acme'),
    server: matching(
      /^https:\/\/[^\s/]+(\/\S*)?$/,
      'the https URL of an ACME directory, e.g. "https://acme-v02.api.letsencrypt.org/directory"',
    ),
    email: matching(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address for the ACME account'),
    dns01: AcmeDns01Schema,
  }),
]);

/**
 * How HTTP(S) reaches the cluster through Ingress objects. The api workload's Ingress names
 * `className` and asks cert-manager for a certificate with the annotation
 * `cert-manager.io/cluster-issuer: <clusterIssuer>`; the platform creates that ClusterIssuer.
 */
export const IngressSettingsSchema = z.strictObject({
  /** spec.ingressClassName of every Ingress, e.g. 'nginx'. */
  className: dnsSubdomain,
  /**
   * The namespace the ingress controller's pods run in: the NetworkPolicy peer that may reach backends.
   * @default - none: the cloud's load balancer sends traffic straight to the pods (GKE's
   *   container-native Ingress), so backends admit it by port
   */
  controllerNamespace: dnsLabel.optional(),
  /** The DNS domain apps get their host names under: `api.<domain>`. */
  domain: valid(
    (d) => isDns1123Subdomain(d) && d.includes('.'),
    'a DNS domain of two or more labels, e.g. "lab.example"',
  ),
  /** The cert-manager ClusterIssuer that signs Ingress certificates. */
  clusterIssuer: dnsSubdomain,
  /** Where that ClusterIssuer's certificates come from. */
  certificates: CertificateSourceSchema,
});

export const LoadBalancingSchema = z.strictObject({
  /** Which implementation answers for Services of type LoadBalancer; used in docs and reports. */
  provider: z.enum(['metallb', 'aws-load-balancer-controller', 'gke', 'azure']),
  /** Annotations every LoadBalancer Service carries. */
  serviceAnnotations: stringMap,
  /**
   * spec.loadBalancerClass of LoadBalancer Services, where the implementation is selected that way.
   * @default - none: the cluster's default implementation answers
   */
  loadBalancerClass: valid(isQualifiedName, QUALIFIED_NAME_RULE).optional(),
  /** IP families of Services, in order of preference. Two families make the Service dual-stack. */
  ipFamilies: z
    .array(z.enum(IP_FAMILIES))
    .refine((f) => f.length >= 1 && f.length <= 2 && new Set(f).size === f.length, {
      message: 'one or two distinct families of "IPv4" and "IPv6"',
    }),
  /**
   * MetalLB address pools to create (lab). The first pool is the one Services ask for.
   * @default - none: the cloud provider allocates addresses
   */
  metallbAddressPools: z.array(MetallbAddressPoolSchema).optional(),
  /** How HTTP(S) reaches Ingress objects, and who signs their certificates. */
  ingress: IngressSettingsSchema,
});

// ---------------------------------------------------------------------------------------------
// Storage

export const StorageSchema = z.strictObject({
  /** The StorageClass that workloads' volume claims name. */
  storageClassName: dnsSubdomain,
  /** The CSI driver (or provisioner) behind it, e.g. `ebs.csi.aws.com`. */
  provisioner: valid(isQualifiedName, QUALIFIED_NAME_RULE),
  /** The provisioner's parameters, e.g. `{ type: 'gp3', encrypted: 'true' }`. */
  parameters: stringMap,
  /** What happens to a volume when its claim is deleted. */
  reclaimPolicy: z.enum(['Retain', 'Delete']),
  /**
   * Whether claims can grow (StorageClass allowVolumeExpansion): true for every CSI driver here
   * (EBS, Persistent Disk, Azure Disk, Ceph RBD); false for local-path, which cannot resize a folder.
   */
  allowVolumeExpansion: z.boolean(),
});

// ---------------------------------------------------------------------------------------------
// Identity

/**
 * The access roles of an app namespace, least first: a viewer reads (never Secrets, never a shell);
 * a deployer also rolls out and scales the app (never its NetworkPolicies, quota or Pod Security
 * labels); an on-call operator also reads logs, execs into pods and deletes a stuck pod.
 */
export const ACCESS_ROLES = ['viewer', 'deployer', 'on-call'] as const;
export type AccessRole = (typeof ACCESS_ROLES)[number];

/**
 * 'client-certificate': the lab. A certificate signed by the cluster's CA through the
 * CertificateSigningRequest API (`npm run lab-access`); its organisation (O) is the group.
 * 'eks-access-entries': an IAM role's access entry lists Kubernetes group names (kubernetesGroups).
 * 'gke-google-groups': Google Groups for RBAC; a group is its e-mail address, nested in the
 * cluster's security group `gke-security-groups@<domain>`.
 * 'entra-id-groups': AKS with Microsoft Entra ID authentication and Kubernetes RBAC; a group is its
 * object ID in the tenant.
 */
export const PeopleSignInSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('client-certificate') }),
  z.strictObject({ kind: z.literal('eks-access-entries') }),
  z.strictObject({
    kind: z.literal('gke-google-groups'),
    securityGroup: matching(
      /^gke-security-groups@[a-z0-9.-]+\.[a-z]{2,}$/,
      'gke-security-groups@<your domain>: Google Groups for RBAC requires exactly that group name',
    ),
  }),
  z.strictObject({ kind: z.literal('entra-id-groups'), tenantId: guid('a lowercase GUID') }),
]);

export const PeopleAccessSchema = z.strictObject({
  /** How people prove who they are to the API server, which decides what a group's name looks like. */
  signIn: PeopleSignInSchema,
  /**
   * Per app namespace, the group (as the sign-in names it) bound to each access role there:
   * `{ web: { viewer: 'web-viewers', deployer: 'web-deployers', 'on-call': 'web-on-call' } }`.
   * Every app namespace has an entry, and only app namespaces do.
   */
  groups: z
    .record(z.string(), z.strictObject({ viewer: z.string(), deployer: z.string(), 'on-call': z.string() }))
    .refine((g) => Object.keys(g).length > 0, { message: 'at least one app namespace with its groups' }),
});

/**
 * 'lab-secrets-command': the lab has no secret manager; `npm run lab-secrets` creates each declared
 * Secret in the cluster from random values. Otherwise: external-secrets reads the cloud's secret
 * manager through one ClusterSecretStore (named `clusterSecretStore`), and each declared Secret is an
 * ExternalSecret. Either way no secret value is ever in dist/ (lib/platform/secrets.ts).
 */
export const SecretsSourceSchema = z.discriminatedUnion('provider', [
  z.strictObject({ provider: z.literal('lab-secrets-command') }),
  z.strictObject({ provider: z.literal('aws-secrets-manager'), clusterSecretStore: dnsSubdomain, region: AWS_REGION }),
  z.strictObject({
    provider: z.literal('gcp-secret-manager'),
    clusterSecretStore: dnsSubdomain,
    projectId: matching(GCP_PROJECT_ID, 'a Google Cloud project ID'),
  }),
  z.strictObject({
    provider: z.literal('azure-key-vault'),
    clusterSecretStore: dnsSubdomain,
    vaultUrl: matching(
      /^https:\/\/[a-zA-Z][-a-zA-Z0-9]{1,22}[a-zA-Z0-9]\.vault\.azure\.net\/?$/,
      'a Key Vault URL, e.g. "https://my-vault.vault.azure.net"',
    ),
  }),
]);

/** Workload identity: how a pod's ServiceAccount maps to a cloud identity. */
const workloadIdentityProviders = {
  none: z.strictObject({ provider: z.literal('none') }),
  'aws-irsa': z.strictObject({
    provider: z.literal('aws-irsa'),
    accountId: matching(/^\d{12}$/, 'an AWS account ID of exactly 12 digits'),
    roleNamePrefix: matching(/^[\w+=,.@-]{0,32}$/, 'at most 32 characters of letters, digits and +=,.@_-'),
  }),
  'gke-workload-identity': z.strictObject({
    provider: z.literal('gke-workload-identity'),
    projectId: matching(
      GCP_PROJECT_ID,
      'a Google Cloud project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter',
    ),
  }),
  'azure-workload-identity': z.strictObject({
    provider: z.literal('azure-workload-identity'),
    tenantId: guid(),
    /** One user-assigned managed identity's client ID per workload that talks to Azure, by workload name. */
    clientIds: z.record(z.string(), guid('a lowercase GUID')),
  }),
};

/** What every identity provider has beside its own fields. */
const identityCommon = {
  /** Where the values of the Secrets workloads read come from. */
  secrets: SecretsSourceSchema,
  /**
   * Identity for people: how they sign in, and which of their groups holds each access role in each
   * app namespace (lib/platform/access.ts): minimal in the lab, the organisation's sign-in in
   * production; the API server authenticates a request, then authorizes it with RBAC
   * (https://kubernetes.io/docs/concepts/security/controlling-access/).
   */
  people: PeopleAccessSchema,
};

/**
 * Identity: how a pod's ServiceAccount maps to a cloud identity, and where Secret values come from
 * (the secret manager is reached through that identity).
 */
export const IdentitySchema = z.discriminatedUnion('provider', [
  workloadIdentityProviders.none.extend(identityCommon),
  workloadIdentityProviders['aws-irsa'].extend(identityCommon),
  workloadIdentityProviders['gke-workload-identity'].extend(identityCommon),
  workloadIdentityProviders['azure-workload-identity'].extend(identityCommon),
]);

// ---------------------------------------------------------------------------------------------
// Observability

export const ObservabilitySchema = z.strictObject({
  /**
   * 'metrics-server': the lab's simple form (resource metrics for the HPA only).
   * 'prometheus-operator': production; workloads add ServiceMonitors and alert rules.
   */
  stack: z.enum(['metrics-server', 'prometheus-operator']),
  /**
   * Labels the organisation's Prometheus selects ServiceMonitors and rules by.
   * @default - none
   */
  monitorSelectorLabels: stringMap.optional(),
  /**
   * The namespace the organisation's Prometheus runs in: the NetworkPolicy peer allowed to scrape
   * the ports a ServiceMonitor names (lib/platform/observability.ts).
   * @default - none: no Prometheus (the lab)
   */
  prometheusNamespace: dnsLabel.optional(),
});

// ---------------------------------------------------------------------------------------------
// Scale

/** Kubernetes quantities as written in YAML: cpu '250m' or '1', memory '256Mi', '1Gi' or '512M'. */
export const ResourceQuantitiesSchema = z.strictObject({
  cpu: checkedBy(
    (q) => cpuQuantityProblem(q, `${CPU_QUANTITY_FORMAT}, above zero`),
    `${CPU_QUANTITY_FORMAT}, above zero`,
  ),
  memory: checkedBy(
    (q) => bytesQuantityProblem(q, 1, `${MEMORY_QUANTITY_FORMAT}, a whole number of bytes above zero`),
    `${MEMORY_QUANTITY_FORMAT}, a whole number of bytes above zero`,
  ),
});

/** A volume size: a whole number of bytes, at least 1Gi (the smallest disk most cloud CSI drivers provision). */
export const VolumeSizeSchema = checkedBy(
  (q) => bytesQuantityProblem(q, 2 ** 30, `${MEMORY_QUANTITY_FORMAT}: a whole number of bytes, at least 1Gi`),
  `${MEMORY_QUANTITY_FORMAT}: a whole number of bytes, at least 1Gi`,
);

/** No request above its limit (the API server refuses such a pod). Fields relative to the object. */
const requestsWithinLimits = rules<{ requests: ResourceQuantities; limits: ResourceQuantities }>(
  ({ requests, limits }, p) => {
    // A quantity reported on its own field (a missing unit) is not compared: the error would land here too.
    const [rc, lc, rm, lm] = [
      comparableCpuMillis(requests.cpu),
      comparableCpuMillis(limits.cpu),
      comparableBytes(requests.memory),
      comparableBytes(limits.memory),
    ];
    if (rc !== undefined && lc !== undefined) {
      p.check(rc <= lc, 'requests.cpu', requests.cpu, `at most the limit (${limits.cpu})`);
    }
    if (rm !== undefined && lm !== undefined) {
      p.check(rm <= lm, 'requests.memory', requests.memory, `at most the limit (${limits.memory})`);
    }
  },
);

export const WorkloadScaleSchema = z
  .strictObject({
    /** The HorizontalPodAutoscaler's floor; at least 2 so a drain never takes the workload down. */
    minReplicas: wholeNumber(2, 'a whole number >= 2, so that a node drain never takes every replica'),
    /** The HorizontalPodAutoscaler's ceiling. */
    maxReplicas: z.number(),
    /** Average cpu utilisation, in percent of the request, that the autoscaler aims for. */
    targetCpuUtilization: z
      .number()
      .refine((n) => Number.isInteger(n) && n >= 1 && n <= 100, { message: 'a whole percentage from 1 to 100' }),
    /** What the scheduler reserves on a node, and the cgroup's cpu.weight. */
    requests: ResourceQuantitiesSchema,
    /** The ceiling the kernel enforces: cgroup cpu.max (throttling) and memory.max (the OOM killer). */
    limits: ResourceQuantitiesSchema,
  })
  .superRefine(
    rules((s, p) => {
      p.check(
        Number.isInteger(s.maxReplicas) && s.maxReplicas >= s.minReplicas,
        'maxReplicas',
        s.maxReplicas,
        `a whole number >= minReplicas (${s.minReplicas})`,
      );
    }),
  )
  .superRefine(requestsWithinLimits);

/** A single-replica stateful workload: what its pod gets and how big its volume is. */
export const DatabaseScaleSchema = z
  .strictObject({
    /** What the scheduler reserves for the PostgreSQL container. */
    requests: ResourceQuantitiesSchema,
    /** The ceiling the kernel enforces for the PostgreSQL container. */
    limits: ResourceQuantitiesSchema,
    /** The size of the data volume each replica claims, e.g. '10Gi'. A claim can grow later (allowVolumeExpansion), never shrink. */
    storage: VolumeSizeSchema,
  })
  .superRefine(requestsWithinLimits);

/** Run-to-completion pods: their resources and the volume the backups go to. */
export const BatchScaleSchema = z
  .strictObject({
    requests: ResourceQuantitiesSchema,
    limits: ResourceQuantitiesSchema,
    /** The size of the volume that holds the nightly database dumps, e.g. '20Gi'. */
    backupStorage: VolumeSizeSchema,
  })
  .superRefine(requestsWithinLimits);

/** A container's requests and limits alone (the etcd backup's). */
export const ContainerResourcesSchema = z
  .strictObject({ requests: ResourceQuantitiesSchema, limits: ResourceQuantitiesSchema })
  .superRefine(requestsWithinLimits);

/** What one app namespace may use in total, and what one container may ask for. */
export const NamespaceQuotaSchema = z.strictObject({
  /** The sum of all pods' requests in the namespace (ResourceQuota requests.cpu/requests.memory). */
  requests: ResourceQuantitiesSchema,
  /** The sum of all pods' limits in the namespace (ResourceQuota limits.cpu/limits.memory). */
  limits: ResourceQuantitiesSchema,
  /** How many pods may exist at once, counting a rollout's surge pods and finished Job pods. */
  pods: wholeNumber(1, 'a whole number >= 1'),
  /** How many PersistentVolumeClaims. */
  persistentVolumeClaims: wholeNumber(0, 'a whole number >= 0'),
  /** The sum of the claims' sizes, e.g. '100Gi'. */
  storage: checkedBy(
    (q) => bytesQuantityProblem(q, 1, `${MEMORY_QUANTITY_FORMAT}, above zero`),
    `${MEMORY_QUANTITY_FORMAT}, above zero`,
  ),
  /** LimitRange: the largest container the namespace admits. */
  containerMax: ResourceQuantitiesSchema,
  /** LimitRange: what a container that states no resources gets (every workload here states them). */
  containerDefaults: z.strictObject({ requests: ResourceQuantitiesSchema, limits: ResourceQuantitiesSchema }),
});

/**
 * One workload's entry in an environment's `scale`: only what differs from the workload's own
 * defaults, which sit beside its construct (lib/workloads/). Any of its fields, at any depth: `{
 * maxReplicas: 3 }` or `{ limits: { memory: '256Mi' } }`. Its shape is the workload's to check, so
 * this layer, which knows no workload, takes any object here; the synth merges it over the defaults
 * and checks the result against the workload's schema, naming the field (`scale.web.minReplicas`).
 */
export const WorkloadScaleOverridesSchema = z.unknown();

export const ScaleSchema = z
  .strictObject({
    /**
     * The failure domain replicas are spread over: nodes in a lab of a few VMs, zones in a cloud region.
     * By the nodes' own labels (kubernetes.io/hostname, topology.kubernetes.io/zone), which the cluster
     * sets: the environment lists no zones (lib/parts/availability.ts).
     */
    spreadAcross: z.enum(['node', 'zone']),
    /**
     * How long a stateless app's pod (web, api, sandboxed) stays bound to a node that stopped
     * answering before it is evicted and its Deployment starts a replacement elsewhere: the
     * tolerationSeconds of its `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable`
     * NoExecute tolerations. The node lifecycle controller marks such a node first, after
     * kube-controller-manager's --node-monitor-grace-period (50 s by default since Kubernetes 1.32),
     * so a lost node's replicas come back after about that plus this.
     * (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions)
     * The database is left out: its volume lives on its node (local storage), so a replacement could
     * not start anywhere else.
     * @default 300, what the DefaultTolerationSeconds admission plugin gives every pod (nothing rendered)
     */
    evictFromLostNodeAfterSeconds: wholeNumber(0, 'a whole number of seconds >= 0').optional(),
    /**
     * The ResourceQuota and LimitRange of every app namespace (a quota caps what one app can take from
     * the others: https://kubernetes.io/docs/concepts/policy/resource-quotas/). Checked against each
     * workload's scale: a namespace must hold its workload at maxReplicas plus one surge pod.
     */
    namespaceQuota: NamespaceQuotaSchema,
  })
  /**
   * Every other field is a workload's name (`web`, `db`, ...) and holds what this environment changes
   * of that workload's default scale: replicas, resources, volume sizes. A workload not named here
   * runs at its defaults; a name that is no workload is refused when the environment is validated.
   */
  // Any value here: what each field may hold is the workload's to say, and the synth, which knows
  // the workloads, refuses a field that names none and an entry that is not an object of overrides.
  .catchall(WorkloadScaleOverridesSchema);

// ---------------------------------------------------------------------------------------------
// Registry

export const RegistrySchema = z.strictObject({
  /**
   * The registry, and path within it, that mirrors the public images, e.g. a Harbor proxy project
   * in the lab or a pull-through cache in the cloud: `harbor.lab.example/dockerhub`.
   * An image `nginxinc/nginx-unprivileged:1.27.4` is pulled as `<mirror>/nginxinc/nginx-unprivileged:1.27.4`.
   */
  mirror: matching(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
    'a registry host, optional port and path, e.g. "harbor.lab.example/dockerhub"',
  ),
});

// ---------------------------------------------------------------------------------------------
// Sandbox runtime

export const SandboxRuntimeSchema = z.strictObject({
  /** The RuntimeClass name pods ask for in spec.runtimeClassName, e.g. 'gvisor'. */
  className: dnsSubdomain,
  /** The containerd runtime handler behind it, e.g. 'runsc' (gVisor) or 'kata'. */
  handler: valid(isDns1123Label, `${DNS1123_LABEL_RULE} (a containerd runtime handler)`),
  /**
   * Whether the platform already defines the RuntimeClass (GKE Sandbox, AKS Pod Sandboxing); if not,
   * the platform chart creates it.
   */
  providedByPlatform: z.boolean(),
  /**
   * Labels of the nodes that have the runtime installed; the RuntimeClass's scheduling sends its pods
   * there, so a sandboxed pod never lands on a node that cannot run it.
   * @default - none: every node has it
   */
  nodeSelector: stringMap
    .superRefine(
      rules((selector, p) => {
        for (const [key, value] of Object.entries(selector)) {
          p.check(isQualifiedName(key), `[${JSON.stringify(key)}]`, key, QUALIFIED_NAME_RULE);
          p.check(isLabelValue(value), `[${JSON.stringify(key)}]`, value, LABEL_VALUE_RULE);
        }
      }),
    )
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// Nodes

/**
 * The Linux security modules (LSMs) a node can confine containers with, beside seccomp (which every
 * node here has, and every pod asks for: RuntimeDefault). Capabilities, seccomp and AppArmor or
 * SELinux are the layers that keep a container's process in its box
 * (https://docs.kernel.org/admin-guide/LSM/index.html).
 */
export const NODE_SECURITY_MODULES = ['AppArmor', 'SELinux', 'none'] as const;
export type NodeSecurityModule = (typeof NODE_SECURITY_MODULES)[number];

export const NodesSchema = z.strictObject({
  /** The node OS image, as the provider names it: e.g. 'Amazon Linux 2023 (EKS optimized AMI)'. */
  osImage: valid((s) => s.trim() !== '', 'the node OS image as the provider names it, e.g. "Bottlerocket"'),
  /**
   * The security module the node OS runs. Pods ask for AppArmor's runtime default profile
   * (`appArmorProfile: RuntimeDefault`) only where this is 'AppArmor'; on 'SELinux' nodes the
   * container runtime labels each container's process and files instead, and the pod asks for
   * nothing (no `seLinuxOptions`: the runtime's default type is the one Pod Security allows).
   * 'none': seccomp, capabilities and the read-only root only, as on the cluster tests' real node,
   * whose kernel has neither module; no shipped environment should need it.
   */
  securityModule: z.enum(NODE_SECURITY_MODULES, {
    error: `one of ${NODE_SECURITY_MODULES.map((m) => `"${m}"`).join(', ')}: the Linux security module the node OS runs`,
  }),
});

// ---------------------------------------------------------------------------------------------
// Bootstrap (kubeadm only)

/**
 * The values of a kubeadm cluster's configuration (lib/bootstrap/kubeadm.ts; checked by
 * lib/environments/validate-bootstrap.ts, checkBootstrap). The IP families of the subnets must be env.loadBalancing.ipFamilies, in the same
 * order (the first is the primary family).
 */
export const KubeadmBootstrapSchema = z.strictObject({
  /** The exact release to install, e.g. 'v1.35.4'; its minor version must be env.kubernetesVersion. */
  kubernetesVersion: z.string(),
  /** The cluster's name in kubeconfig files. */
  clusterName: z.string(),
  /**
   * A stable address for the API server, `host:port`: a DNS name or a virtual IP in front of the
   * control-plane nodes, so that more control-plane nodes can join later.
   */
  controlPlaneEndpoint: z.string(),
  /** The first control-plane node's addresses, one per family, primary first; the API server advertises the first. */
  nodeAddresses: z.array(z.string()),
  /** Pod subnets, one per family, primary first (each node gets a /24 of IPv4 and a /64 of IPv6). */
  podSubnets: z.array(z.string()),
  /** Service subnets, one per family, primary first. */
  serviceSubnets: z.array(z.string()),
});

// ---------------------------------------------------------------------------------------------
// The cluster: how the commands that change a cluster recognise the environment's own

/** kubeadm's CA pin: "sha256:" and the hex SHA-256 of the CA certificate's public key (SubjectPublicKeyInfo). */
export const CA_CERT_HASH = /^sha256:[0-9a-f]{64}$/;
export const CA_CERT_HASH_RULE =
  '"sha256:" and 64 lowercase hex digits: the SHA-256 of the cluster CA\'s public key, ' +
  "as kubeadm join's --discovery-token-ca-cert-hash writes it (npm run deploy prints the one it sees)";
/** The value the example environments carry until their cluster's own is recorded; no real CA hashes to it. */
export const EXAMPLE_CA_CERT_HASH = `sha256:${'0'.repeat(64)}`;

export const ClusterIdentitySchema = z.strictObject({
  /**
   * The cluster's CA, by the hash of its public key. `npm run deploy`, `lab-secrets` and `lab-access`
   * act only on a kubeconfig context whose cluster's CA (certificate-authority-data, or the file
   * certificate-authority names) hashes to exactly this: a context's name can say anything, but
   * kubectl trusts the server only through this CA (lib/commands/context-guard.ts).
   */
  caCertHash: matching(CA_CERT_HASH, CA_CERT_HASH_RULE),
});

// ---------------------------------------------------------------------------------------------
// Platform add-ons

/**
 * The add-ons an environment installs, by name (lib/addons/index.ts; each pinned in
 * addons/addons.lock.json), each with the settings it changes of upstream's defaults (`{}` for none):
 * `{ traefik: { replicas: 2 }, 'cert-manager': {} }`. What each add-on's settings may be is its
 * definition's to say, so this layer, which knows no add-on, takes any object here; the synth refuses
 * an unknown add-on and an unknown setting, naming both (lib/environments/validate-addons.ts).
 */
export const AddonsSchema = z.record(z.string(), z.unknown());

/**
 * A piece the managed platform installs and runs itself (its CSI driver, its load balancer
 * integration, its metrics pipeline), with the provider's page that says so: nothing is rendered for it.
 */
export const PlatformPieceSchema = z.strictObject({
  /** What it is, as the provider names it: e.g. "Amazon EBS CSI driver (EKS add-on)". */
  piece: valid((s) => s.trim() !== '', 'what the platform installs, as the provider names it'),
  /** The provider's documentation that says the platform installs it. */
  documentation: matching(/^https:\/\/\S+$/, "the https URL of the provider's documentation"),
});

// ---------------------------------------------------------------------------------------------
// Delivery: which reconciler applies dist/<env>/ from git, and which revision of it

/** The reconcilers an environment can be delivered by: both existing engines, never one of ours. */
export const DELIVERY_ENGINES = ['flux', 'argocd'] as const;
export type DeliveryEngine = (typeof DELIVERY_ENGINES)[number];

/** A duration as Flux's CRDs accept it (their `interval` pattern, a Go duration of ms, s, m and h): "1m", "1m30s". */
export const FLUX_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
const FLUX_DURATION_RULE = 'a duration of whole or decimal numbers with ms, s, m or h, e.g. "1m", "10m", "1h30m"';

/** A promoted revision: a full commit id, as `git rev-parse` prints it. */
export const COMMIT_ID = /^[0-9a-f]{40}$/;
export const DELIVERY_REVISION_RULE =
  '"tip" (the branch\'s newest commit), "unpromoted" (nothing applied until the first promotion) or ' +
  'a commit of the branch: 40 lowercase hex digits, as `npm run promote` writes it';

/**
 * Whether `name` may be a git branch name (the rules of `git check-ref-format --branch`, without the
 * ones about `@{-N}` shorthands): no space, control character or any of ~^:?*[\, no "..", "@{" or
 * "//", no component that starts with "." or ends with ".lock", not starting with "-" or "/", not ending with "/" or ".".
 */
export function isGitBranchName(name: string): boolean {
  return (
    name !== '' &&
    name !== '@' &&
    ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) &&
    !/[\s~^:?*[\\]/.test(name) &&
    !/\.\.|@\{|\/\//.test(name) &&
    !/^[-/]|[/.]$/.test(name) &&
    name.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'))
  );
}

export const DeliverySchema = z.strictObject({
  /**
   * The reconciler in the cluster that applies what git says: 'flux' (source-controller and
   * kustomize-controller; the lab, GKE, and AKS through its Flux extension) or 'argocd' (EKS's managed
   * Argo CD capability). Its settings are the block of the same name; the other engine's is refused.
   */
  engine: z.enum(DELIVERY_ENGINES),
  /** The git repository the cluster reads, as it reaches it: an https:// or ssh:// URL. */
  repository: matching(
    /^(https|ssh):\/\/[^\s/]+\/\S+$/,
    'the https:// or ssh:// URL of a git repository, e.g. "https://git.example.com/platform/lab-to-prod.git"',
  ),
  /** The branch reviewed commits land on. The delivery folder (dist/<env>-delivery/) is always read at its tip. */
  branch: valid(isGitBranchName, 'a git branch name, e.g. "main" (the rules of git check-ref-format --branch)'),
  /**
   * Which revision the environment's layers apply: 'tip' (the branch's newest commit: the lab),
   * 'unpromoted' (production before its first promotion: nothing is applied yet), or a commit of the
   * branch that `npm run promote` wrote (production). `npm run promote` rewrites this one line of the
   * environment's file; the synth refuses a commit that is not on the branch.
   */
  revision: z.union([z.literal('tip'), z.literal('unpromoted'), matching(COMMIT_ID, DELIVERY_REVISION_RULE)], {
    error: DELIVERY_REVISION_RULE,
  }),
  /**
   * Whether only the reconciler writes what it delivers: people's roles lose the verbs that would
   * fight it (production: true; the lab, where people try things by hand: false). Needs a promoted
   * revision, never 'tip'.
   */
  reconcilerOnly: z.boolean(),
  /**
   * Flux's settings: the namespace its controllers and objects live in (`flux install` makes
   * flux-system), how often source-controller asks git for new commits, and how often
   * kustomize-controller applies again, correcting drift. Only with engine 'flux'.
   */
  flux: z
    .strictObject({
      namespace: dnsLabel,
      pollInterval: matching(FLUX_DURATION, FLUX_DURATION_RULE),
      reconcileInterval: matching(FLUX_DURATION, FLUX_DURATION_RULE),
    })
    .optional(),
  /** Argo CD's settings: the namespace it watches for Applications, and the AppProject they belong to. Only with engine 'argocd'. */
  argocd: z.strictObject({ namespace: dnsLabel, project: dnsSubdomain }).optional(),
});

// ---------------------------------------------------------------------------------------------
// The Environment

export const EnvironmentSchema = z.strictObject({
  /** The environment's name; also the folder under dist/. */
  name: dnsLabel,

  /**
   * The Kubernetes minor version the environment's cluster runs, e.g. '1.35'. The rendered objects
   * are checked against this minor's own API schema, and the synth refuses a minor the environment's
   * platform does not support on the day it runs (lib/kubernetes-versions.ts: its calendars, with dates).
   */
  kubernetesVersion: KubernetesVersionSchema,

  /**
   * How the commands that change a cluster recognise this environment's: by its CA. Not rendered;
   * the synth only checks its form.
   */
  cluster: ClusterIdentitySchema,

  /** How a Service of type LoadBalancer gets an address: MetalLB in the lab, the cloud's load balancer elsewhere. */
  loadBalancing: LoadBalancingSchema,

  /** Where persistent volumes come from: local or distributed disks in the lab, a managed CSI driver in production. */
  storage: StorageSchema,

  /**
   * How workloads prove who they are to the platform: minimal in the lab, the cloud's IAM through workload
   * identity in production.
   */
  identity: IdentitySchema,

  /** How the cluster is watched: metrics-server in the lab, the organisation's monitoring in production. */
  observability: ObservabilitySchema,

  /** How many, how big, and spread over what. */
  scale: ScaleSchema,

  /** Where images are pulled from. */
  registry: RegistrySchema,

  /**
   * The stronger-isolation runtime the sandboxed workload runs under (RuntimeClass and gVisor's runsc:
   * https://kubernetes.io/docs/concepts/containers/runtime-class/). A seventh area, beside the
   * four above, scale and the registry, because none of them is about how the nodes run containers: the
   * lab's nodes have runsc installed by hand, GKE Sandbox provides a `gvisor` RuntimeClass itself, AKS
   * Pod Sandboxing provides a Kata one.
   */
  sandboxRuntime: SandboxRuntimeSchema,

  /**
   * What the cluster's nodes are: their OS image and the Linux security module that confines
   * containers there. An eighth area, because a pod can ask for a confinement only the node can give:
   * a pod that sets `appArmorProfile` is refused outright by a kubelet whose node has no AppArmor
   * (Kubernetes 1.31+), as on EKS's Amazon Linux 2023 and Bottlerocket nodes.
   */
  nodes: NodesSchema,

  /**
   * kubeadm's configuration for building the cluster itself: only an environment whose control plane
   * is ours to build (the lab) has it. Rendered to dist/<env>-bootstrap/kubeadm.yaml for
   * `kubeadm init --config`, never applied with kubectl (the lab is kubeadm on Proxmox VMs).
   * @default - none: a managed cluster; the cloud builds the control plane
   */
  bootstrap: KubeadmBootstrapSchema.optional(),

  /**
   * The platform add-ons the environment's objects stand on, rendered into dist/<env>/ before them
   * (00-<name>-crds.yaml, then 0<wave>-<name>.yaml): the CNI, MetalLB, cert-manager, Traefik... in the lab,
   * what the managed cluster lacks in production. Each is upstream's own rendering, pinned, with only
   * the settings here and the environment's values changed (lib/addons/).
   */
  addons: AddonsSchema,

  /**
   * What the managed platform installs itself and this project therefore renders nothing for, each
   * with the provider's documentation: the CSI driver, the load balancer integration, metrics-server
   * on GKE and AKS. Empty in the lab, which installs everything it runs.
   */
  providedByPlatform: z.array(PlatformPieceSchema),

  /**
   * How the environment is delivered from git: by which reconciler, from which repository and branch,
   * at which revision. Rendered to dist/<env>-delivery/ (lib/delivery/): the objects a cluster is
   * bootstrapped from once, then follows git with.
   */
  delivery: DeliverySchema,
});

// ---------------------------------------------------------------------------------------------
// The types, derived from the schemas above (read-only: constructs read an environment).

export type Environment = DeepReadonly<z.infer<typeof EnvironmentSchema>>;
export type LoadBalancing = Environment['loadBalancing'];
export type MetallbAddressPool = DeepReadonly<z.infer<typeof MetallbAddressPoolSchema>>;
export type IngressSettings = Environment['loadBalancing']['ingress'];
export type CertificateSource = DeepReadonly<z.infer<typeof CertificateSourceSchema>>;
export type AcmeDns01 = DeepReadonly<z.infer<typeof AcmeDns01Schema>>;
export type Storage = Environment['storage'];
export type Identity = Environment['identity'];
export type WorkloadIdentityProvider = DeepReadonly<
  z.infer<(typeof workloadIdentityProviders)[keyof typeof workloadIdentityProviders]>
>;
export type PeopleAccess = DeepReadonly<z.infer<typeof PeopleAccessSchema>>;
export type PeopleSignIn = DeepReadonly<z.infer<typeof PeopleSignInSchema>>;
export type SecretsSource = DeepReadonly<z.infer<typeof SecretsSourceSchema>>;
export type Observability = Environment['observability'];
export type ResourceQuantities = DeepReadonly<z.infer<typeof ResourceQuantitiesSchema>>;
export type WorkloadScale = DeepReadonly<z.infer<typeof WorkloadScaleSchema>>;
export type Scale = Environment['scale'];
export type DatabaseScale = DeepReadonly<z.infer<typeof DatabaseScaleSchema>>;
export type BatchScale = DeepReadonly<z.infer<typeof BatchScaleSchema>>;
export type NamespaceQuota = DeepReadonly<z.infer<typeof NamespaceQuotaSchema>>;
export type Registry = Environment['registry'];
export type SandboxRuntime = Environment['sandboxRuntime'];
export type Nodes = Environment['nodes'];
export type KubeadmBootstrap = DeepReadonly<z.infer<typeof KubeadmBootstrapSchema>>;
export type PlatformPiece = DeepReadonly<z.infer<typeof PlatformPieceSchema>>;
export type Delivery = Environment['delivery'];
