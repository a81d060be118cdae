/**
 * Which differences between environments are expected, and why: the table `npm run diff:envs`
 * classifies every difference by. The areas are the fields of `Environment` (lib/environment.ts),
 * the places where a kubeadm lab and a managed cloud cluster differ (load balancing, storage,
 * identity, observability), plus scale, the registry, the sandbox runtime and, for kubeadm, the control plane. A difference no rule here claims is *unexpected*, and so is
 * any difference in a guarded field (below), whatever rule would claim it.
 *
 * Rules are deliberately narrow: a field path pattern per kind, each with the reason it belongs to
 * its area. Widen one only with a reason a reviewer would accept, written next to it.
 *
 * Path patterns use the paths of flatten.ts:
 * - `{pod}` is the pod template of the object's kind (`spec.template` for a Deployment,
 *   `spec.jobTemplate.spec.template` for a CronJob, the object itself for a Pod); a rule with
 *   `{pod}` applies only to kinds that run pods;
 * - `*` matches within one field name or one bracketed key (`[metallb.io/*]`);
 * - a trailing `.**` matches the field itself and everything under it.
 */

import { CONFIG_HASH_ANNOTATION } from '../parts/config-hash';
import { apiGroup, KubeObject, podTemplatePath } from './kube';

export const AREAS = [
  'load balancing',
  'storage',
  'identity',
  'observability',
  'scale',
  'registry',
  'sandbox runtime',
  'nodes',
  'control plane',
] as const;
export type Area = (typeof AREAS)[number];

/** Which objects a rule applies to: by kind, by API group, or both. */
export interface ObjectMatch {
  readonly kinds?: readonly string[];
  readonly group?: string;
  /** The object must carry an annotation whose key starts with one of these. */
  readonly annotationPrefixes?: readonly string[];
  /** The object must be in one of these namespaces. */
  readonly namespaces?: readonly string[];
}

/** Field differences of an area. */
export interface FieldRule {
  readonly area: Area;
  readonly objects: ObjectMatch;
  readonly paths: readonly string[];
  /**
   * For a multi-line text field (a config file in a ConfigMap): the rule claims the difference only
   * if every line that is not the same in all environments matches this.
   */
  readonly changedLines?: RegExp;
  readonly reason: string;
}

/** Objects that may exist in some environments only. */
export interface PresenceRule {
  readonly area: Area;
  readonly objects: ObjectMatch;
  readonly reason: string;
}

/** Kinds whose objects run pods: what `{pod}` rules apply to. */
const WORKLOADS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod'];

export const FIELD_RULES: readonly FieldRule[] = [
  // --- load balancing (env.loadBalancing) ---------------------------------------------------
  {
    area: 'load balancing',
    objects: { kinds: ['Service'] },
    paths: [
      'metadata.annotations[metallb.io/*]',
      'metadata.annotations[metallb.universe.tf/*]',
      'metadata.annotations[service.beta.kubernetes.io/*]',
      'metadata.annotations[service.kubernetes.io/*]',
      'metadata.annotations[cloud.google.com/*]',
      'metadata.annotations[networking.gke.io/*]',
    ],
    reason:
      "annotations read by the load balancer implementation (MetalLB in the lab, the cloud's controller in production): env.loadBalancing.serviceAnnotations",
  },
  {
    area: 'load balancing',
    objects: { kinds: ['Service'] },
    paths: ['spec.loadBalancerClass', 'spec.ipFamilies', 'spec.ipFamilyPolicy'],
    reason:
      'which implementation answers for the Service, and single- or dual-stack: env.loadBalancing.loadBalancerClass and ipFamilies',
  },
  {
    area: 'load balancing',
    objects: { kinds: ['Ingress'] },
    paths: ['spec.ingressClassName', 'metadata.annotations[kubernetes.io/ingress.class]'],
    reason: 'which ingress controller serves the Ingress differs between the lab and each cloud',
  },
  {
    area: 'load balancing',
    objects: { kinds: ['Ingress'] },
    paths: ['spec.rules[*].host', 'spec.tls[*].hosts', 'metadata.annotations[cert-manager.io/cluster-issuer]'],
    reason:
      "host names under the environment's domain, and the ClusterIssuer that signs their certificates: env.loadBalancing.ingress",
  },
  {
    area: 'load balancing',
    objects: { group: 'cert-manager.io' },
    paths: ['**'],
    reason:
      "Ingress certificates: a private CA in the lab, ACME with a DNS-01 solver in the cloud's DNS in production: env.loadBalancing.ingress.certificates",
  },
  {
    area: 'load balancing',
    objects: { group: 'metallb.io' },
    paths: ['**'],
    reason: "MetalLB address pools and advertisements: the lab's load balancer (env.loadBalancing.metallbAddressPools)",
  },
  {
    area: 'load balancing',
    objects: { kinds: ['ConfigMap'] },
    paths: ['data[*]'],
    // Only `listen [::]:<port>` lines: a server opens an IPv6 socket where the environment's
    // Services are dual-stack, and only there (the web workload's nginx.conf).
    changedLines: /^\s*listen\s+\[::\]:\d+[^;]*;\s*$/,
    reason:
      'an IPv6 listener in a config file, present only where Services are dual-stack: env.loadBalancing.ipFamilies',
  },

  // --- storage (env.storage) ------------------------------------------------------------------
  {
    area: 'storage',
    objects: { kinds: ['StorageClass'] },
    paths: ['**'],
    reason: 'the StorageClass names the provisioner and its parameters: env.storage',
  },
  {
    area: 'storage',
    objects: { kinds: ['PersistentVolumeClaim'] },
    paths: ['spec.storageClassName', 'spec.resources.requests.storage'],
    reason: 'the class and size of a claim: env.storage (local disks in the lab, managed CSI volumes in production)',
  },
  {
    area: 'storage',
    objects: { kinds: ['StatefulSet'] },
    paths: [
      'spec.volumeClaimTemplates[*].spec.storageClassName',
      'spec.volumeClaimTemplates[*].spec.resources.requests.storage',
    ],
    reason: "the class and size of each replica's claim: env.storage",
  },

  // --- identity (env.identity) ----------------------------------------------------------------
  {
    area: 'identity',
    objects: { kinds: ['ServiceAccount'] },
    paths: [
      'metadata.annotations[eks.amazonaws.com/*]',
      'metadata.annotations[iam.gke.io/*]',
      'metadata.annotations[azure.workload.identity/*]',
    ],
    reason:
      'the cloud identity a ServiceAccount maps to (IRSA, GKE Workload Identity, Azure Workload Identity): env.identity',
  },
  {
    area: 'identity',
    objects: { kinds: WORKLOADS },
    paths: [
      '{pod}.metadata.labels[azure.workload.identity/use]',
      '{pod}.metadata.annotations[azure.workload.identity/*]',
    ],
    reason: "Azure Workload Identity's webhook injects the token only into pods that carry its label: env.identity",
  },
  {
    area: 'identity',
    objects: {},
    paths: ['metadata.annotations[out-of-band.lab-to-prod.io/secret.*]'],
    reason:
      'where a Secret the workload reads comes from: created by hand in the lab (`npm run lab-secrets`), by an ExternalSecret in production: env.identity.secrets',
  },
  {
    area: 'identity',
    objects: { group: 'external-secrets.io' },
    paths: ['**'],
    reason: "secret stores and ExternalSecrets authenticate with the environment's identity provider: env.identity",
  },
  {
    area: 'identity',
    objects: { kinds: ['RoleBinding'] },
    paths: ['subjects[*].name'],
    reason:
      "identity for people: the group each role is bound to, as the environment's sign-in names it (a certificate's organisation, " +
      "an EKS access entry's Kubernetes group, a Google Group's e-mail, an Entra group's object ID): env.identity.people",
  },
  {
    area: 'identity',
    objects: { kinds: ['ClusterRole'] },
    paths: ['rules.**'],
    reason:
      'what people may write by hand: where a reconciler alone applies what git says (production), a deployer no longer ' +
      'writes the objects it delivers, or the person and the reconciler would fight: env.delivery.reconcilerOnly',
  },

  // --- observability (env.observability) ------------------------------------------------------
  {
    area: 'observability',
    objects: { group: 'monitoring.coreos.com' },
    paths: ['**'],
    reason:
      'ServiceMonitors and alert rules exist where the organisation runs the Prometheus operator: env.observability',
  },
  {
    area: 'observability',
    objects: { kinds: WORKLOADS },
    paths: ['{pod}.spec.containers[*exporter*].**'],
    reason: 'a metrics exporter sidecar runs where something scrapes it: env.observability',
  },
  {
    area: 'observability',
    objects: { kinds: ['Service'] },
    paths: ['spec.ports[metrics].**'],
    reason: 'the port a ServiceMonitor scrapes: env.observability',
  },

  // --- scale (env.scale) ----------------------------------------------------------------------
  {
    area: 'scale',
    objects: { kinds: ['Deployment', 'StatefulSet', 'ReplicaSet'] },
    paths: ['spec.replicas'],
    reason: 'how many replicas: env.scale',
  },
  {
    area: 'scale',
    objects: { kinds: WORKLOADS },
    paths: [
      '{pod}.spec.containers[*].resources.**',
      '{pod}.spec.initContainers[*].resources.**',
      '{pod}.spec.resources.**',
    ],
    reason: 'requests and limits: env.scale (the cgroup values cpu.weight, cpu.max, memory.max)',
  },
  {
    area: 'scale',
    objects: { kinds: WORKLOADS },
    paths: ['{pod}.spec.topologySpreadConstraints.**'],
    reason: 'spreading over nodes (lab) or zones (cloud): env.scale.spreadAcross',
  },
  {
    area: 'scale',
    objects: { kinds: WORKLOADS },
    paths: ['{pod}.spec.tolerations.**'],
    reason: "how long a stateless app's pods stay on a lost node: env.scale.evictFromLostNodeAfterSeconds",
  },
  {
    area: 'scale',
    objects: { kinds: ['HorizontalPodAutoscaler'] },
    paths: ['spec.minReplicas', 'spec.maxReplicas', 'spec.metrics[*].resource.target.averageUtilization'],
    reason: "the autoscaler's floor, ceiling and target: env.scale",
  },
  {
    area: 'scale',
    objects: { kinds: ['PodDisruptionBudget'] },
    paths: ['spec.minAvailable', 'spec.maxUnavailable'],
    reason: 'how many replicas a drain may take down follows how many there are: env.scale',
  },
  {
    area: 'scale',
    objects: { kinds: ['ResourceQuota'] },
    paths: ['spec.hard.**'],
    reason: "a namespace's budget grows with the environment's scale",
  },
  {
    area: 'scale',
    objects: { kinds: ['LimitRange'] },
    paths: ['spec.limits.**'],
    reason: "default and maximum container sizes follow the environment's scale",
  },

  // --- nodes (env.nodes) ----------------------------------------------------------------------
  // The one part of a security context allowed to differ, and only this way: present where the
  // nodes run AppArmor, absent where they run SELinux (a kubelet without AppArmor refuses the pod).
  // Every other security context field stays guarded below.
  {
    area: 'nodes',
    objects: { kinds: WORKLOADS },
    paths: [
      '{pod}.spec.securityContext.appArmorProfile.**',
      '{pod}.spec.containers[*].securityContext.appArmorProfile.**',
      '{pod}.spec.initContainers[*].securityContext.appArmorProfile.**',
      '{pod}.metadata.annotations[container.apparmor.security.beta.kubernetes.io/*]',
    ],
    reason:
      "AppArmor's profile is asked for only where the nodes run AppArmor; EKS's Amazon Linux 2023 and Bottlerocket nodes run SELinux instead: env.nodes.securityModule",
  },
  // --- sandbox runtime (env.sandboxRuntime) ----------------------------------------------------
  {
    area: 'sandbox runtime',
    objects: { kinds: ['RuntimeClass'] },
    paths: ['**'],
    reason:
      'the RuntimeClass of the stronger-isolation runtime (gVisor in the lab and on EKS and GKE, Kata on AKS) and the nodes that have it: env.sandboxRuntime',
  },
  {
    area: 'sandbox runtime',
    objects: { kinds: WORKLOADS },
    paths: ['{pod}.spec.runtimeClassName'],
    reason: 'which RuntimeClass a sandboxed pod asks for is named by the platform: env.sandboxRuntime.className',
  },
  {
    area: 'sandbox runtime',
    objects: { kinds: WORKLOADS },
    paths: ['metadata.annotations[out-of-band.lab-to-prod.io/runtimeclass.*]'],
    reason:
      'where the managed platform provides the RuntimeClass, the workload says so for the reference checks: env.sandboxRuntime.providedByPlatform',
  },
];

export const PRESENCE_RULES: readonly PresenceRule[] = [
  {
    area: 'load balancing',
    objects: { group: 'metallb.io' },
    reason: 'MetalLB exists only where it is the load balancer (the lab)',
  },
  {
    area: 'load balancing',
    objects: { group: 'cert-manager.io' },
    reason:
      'the issuers of Ingress certificates differ: a private CA in the lab, ACME in production (env.loadBalancing.ingress.certificates)',
  },
  {
    area: 'identity',
    objects: {
      kinds: ['ServiceAccount'],
      annotationPrefixes: ['eks.amazonaws.com/', 'iam.gke.io/', 'azure.workload.identity/'],
    },
    reason:
      'a ServiceAccount that maps to a cloud identity exists where a platform controller acts as one (env.identity)',
  },
  {
    area: 'sandbox runtime',
    objects: { kinds: ['RuntimeClass'] },
    reason:
      'the platform creates the RuntimeClass where the cloud does not provide it (env.sandboxRuntime.providedByPlatform)',
  },
  {
    area: 'control plane',
    objects: { namespaces: ['kube-system'] },
    reason:
      'only a self-managed control plane (kubeadm: env.bootstrap) is ours to run jobs in kube-system for: the etcd backup; managed clusters run etcd for you',
  },
  {
    area: 'storage',
    objects: { kinds: ['StorageClass'] },
    reason: 'a StorageClass is created where the cluster does not bring the one workloads name',
  },
  {
    area: 'identity',
    objects: { group: 'external-secrets.io' },
    reason: 'secret stores exist where a cloud secret manager is reached with workload identity',
  },
  {
    area: 'observability',
    objects: { group: 'monitoring.coreos.com' },
    reason: 'monitors and rules exist where the Prometheus operator runs',
  },
  {
    area: 'scale',
    objects: { kinds: ['HorizontalPodAutoscaler', 'PodDisruptionBudget'] },
    reason: 'an autoscaler and a disruption budget exist where there is more than one replica',
  },
];

/** The registry rule: applied to container images by env-diff.ts, which knows each environment's mirror. */
export const REGISTRY_RULE = {
  area: 'registry' as Area,
  reason: "the same repository and tag pulled through each environment's mirror: env.registry.mirror",
};

/** The config hash annotation: a hash of the ConfigMaps the pods read, so it follows their differences. */
export const CONFIG_HASH_RULE = {
  annotationPath: `{pod}.metadata.annotations[${CONFIG_HASH_ANNOTATION}]`,
  reason: `${CONFIG_HASH_ANNOTATION} hashes the pod's ConfigMaps; it differs because they do, in the areas shown`,
};

/**
 * Guarded fields: a difference here is unexpected even where a rule above would claim it. The
 * hardening of a pod, the Pod Security level of its namespace, its probes and its network policy
 * are the same in the lab as in production; that is the point of the lab: what passes there passes in production.
 * A guarded field that exists only because its whole container exists only in some environments
 * (an exporter sidecar with its own securityContext) is not itself a difference.
 */
export const GUARDED_FIELDS: readonly {
  readonly test: (kind: string, path: string) => boolean;
  readonly what: string;
}[] = [
  // AppArmor's profile is claimed by the nodes area above, and nothing else in a security context is.
  {
    test: (_k, p) => /(^|\.)securityContext($|[.[])/.test(p) && !/\.securityContext\.appArmorProfile($|[.[])/.test(p),
    what: 'a security context',
  },
  { test: (_k, p) => /(^|\.)(livenessProbe|readinessProbe|startupProbe)($|[.[])/.test(p), what: 'a probe' },
  {
    test: (k, p) => k === 'Namespace' && /^metadata\.labels\[pod-security\.kubernetes\.io\//.test(p),
    what: 'a Pod Security label',
  },
  { test: (k) => k === 'NetworkPolicy', what: 'a NetworkPolicy' },
];

// ---------------------------------------------------------------------------------------------
// Matching

export function objectMatches(match: ObjectMatch, o: KubeObject): boolean {
  const annotations = Object.keys(o.metadata?.annotations ?? {});
  return (
    (match.kinds === undefined || match.kinds.includes(o.kind)) &&
    (match.group === undefined || match.group === apiGroup(o)) &&
    (match.annotationPrefixes === undefined ||
      annotations.some((a) => match.annotationPrefixes!.some((p) => a.startsWith(p)))) &&
    (match.namespaces === undefined || match.namespaces.includes(o.metadata?.namespace ?? ''))
  );
}

const compiled = new Map<string, RegExp>();

/** Whether a field path of an object of this kind matches a rule's path pattern. */
export function pathMatches(pattern: string, kind: string, path: string): boolean {
  let expanded = pattern;
  if (pattern.startsWith('{pod}.')) {
    const pod = podTemplatePath(kind);
    if (pod === undefined) {
      return false;
    }
    expanded = pod === '' ? pattern.slice('{pod}.'.length) : `${pod}.${pattern.slice('{pod}.'.length)}`;
  }
  let regex = compiled.get(expanded);
  if (!regex) {
    regex = globToRegExp(expanded);
    compiled.set(expanded, regex);
  }
  return regex.test(path);
}

function globToRegExp(pattern: string): RegExp {
  if (pattern === '**') {
    return /^/;
  }
  let body = pattern;
  let tail = '';
  if (body.endsWith('.**')) {
    body = body.slice(0, -3);
    tail = '(?:[.[].*)?';
  }
  let out = '';
  let inBracket = false;
  for (const ch of body) {
    if (ch === '[') {
      inBracket = true;
      out += '\\[';
    } else if (ch === ']') {
      inBracket = false;
      out += '\\]';
    } else if (ch === '*') {
      out += inBracket ? '[^\\]]*' : '[^.[\\]]*';
    } else {
      out += ch.replace(/[.+?^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}${tail}$`);
}
