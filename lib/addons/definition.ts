import { z } from 'zod';
import { ContainerResourcesSchema, Environment } from '../environment';
import { KubeObject } from '../k8s/kube-object';
import { AddonObjects } from './objects';

/**
 * The Pod Security Standards level an add-on's namespace enforces
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/): "restricted" wherever its
 * pods can meet it; "privileged" for the node agents that program the node's network (a CNI, a
 * NetworkPolicy enforcer, MetalLB's speaker), which need the host's network and capabilities.
 */
export type PodSecurityLevel = 'restricted' | 'baseline' | 'privileged';

/**
 * One platform add-on: upstream's objects (addons/<name>/upstream.yaml, pinned in
 * addons/addons.lock.json) and the few settings this project changes in them. The settings an
 * environment may give are a zod schema, so an unknown one is refused with the ones accepted; what
 * the environment decides by its other fields (the load balancer's annotations, the cloud identity)
 * the definition reads from the environment itself.
 */
export interface AddonDefinition<S = Record<string, unknown>> {
  /**
   * The add-on's key in the lock and in Environment.addons, and its file in dist/<env>/:
   * 0<wave>-<name>.yaml (lib/addons/waves.ts).
   */
  readonly name: string;
  /**
   * The add-ons that must be running before this one's objects are applied: an add-on whose
   * rendering holds another's custom resources (the AWS Load Balancer Controller's cert-manager
   * Certificate and Issuers), which that add-on's webhook must admit. The environment must install
   * them too (lib/environments/validate-addons.ts), and this add-on goes in a later wave of the
   * deploy (lib/addons/waves.ts). @default none: wave 1
   */
  readonly needs?: readonly string[];
  /**
   * The namespace upstream installs it in (its manifest's, or the chart rendering's in the lock). Not a
   * setting: upstream's RBAC, webhook configurations and arguments name it in many places, and a
   * rewrite of them all would be a fork, not a setting.
   */
  readonly namespace: string;
  /** The Pod Security level that namespace enforces (labelled on its Namespace). */
  readonly podSecurity: PodSecurityLevel;
  /** The settings an environment may give in `addons.<name>`; every field optional. */
  readonly settings: z.ZodType<S>;
  /** Applies the settings and the environment's values to upstream's objects, in place. */
  readonly apply: (objects: AddonObjects, settings: S, env: Environment) => void;
}

/** Keeps a definition's settings typed in its own file, and erases the type for the registry. */
export function defineAddon<S>(definition: AddonDefinition<S>): AddonDefinition {
  return definition as unknown as AddonDefinition;
}

// ---------------------------------------------------------------------------------------------
// Settings shared by the add-ons whose controller is a Deployment

/** How many replicas of a controller: two or more keep it up through a node drain where it elects a leader. */
export const ReplicasSchema = z
  .number()
  .refine((n) => Number.isInteger(n) && n >= 1, { message: 'a whole number >= 1' });

/** A container's requests and limits, as every workload of the project states them. */
export const ResourcesSchema = ContainerResourcesSchema;
export type Resources = z.infer<typeof ResourcesSchema>;

// ---------------------------------------------------------------------------------------------
// Patches

/** Sets spec.replicas of a Deployment. */
export function setReplicas(objects: AddonObjects, name: string, replicas: number | undefined, field: string): void {
  if (replicas === undefined) return;
  const deployment = objects.find('Deployment', name, field, replicas);
  if (deployment !== undefined) {
    deployment.spec.replicas = replicas;
  }
}

/** Sets a container's requests and limits (replacing upstream's, which are often requests only, or none). */
export function setResources(
  objects: AddonObjects,
  kind: string,
  name: string,
  containerName: string,
  resources: Resources | undefined,
  field: string,
): void {
  if (resources === undefined) return;
  const container = objects.container(kind, name, containerName, field, resources);
  if (container !== undefined) {
    container.resources = { requests: { ...resources.requests }, limits: { ...resources.limits } };
  }
}

/**
 * Sets a command-line flag of a container, `--flag=value`: replaces the flag where upstream passes it
 * (in args, or in command when upstream puts it there), adds it to args otherwise.
 */
export function setFlag(
  objects: AddonObjects,
  kind: string,
  name: string,
  containerName: string,
  flag: string,
  value: string | undefined,
  field: string,
): void {
  if (value === undefined) return;
  const container = objects.container(kind, name, containerName, field, value);
  if (container === undefined) return;
  const argument = `${flag}=${value}`;
  for (const list of [container.args, container.command] as (string[] | undefined)[]) {
    const index = list?.findIndex((a) => a === flag || a.startsWith(`${flag}=`)) ?? -1;
    if (list !== undefined && index >= 0) {
      list[index] = argument;
      return;
    }
  }
  container.args = [...(container.args ?? []), argument];
}

/**
 * Completes a pod template to Pod Security "restricted" where upstream leaves a field unset: the pod
 * asks for the runtime's default seccomp profile, and every container drops all capabilities and
 * may not gain privileges. Only fields upstream leaves out, or writes in a form the admission check
 * does not accept (MetalLB drops `all`, lowercase; Pod Security compares `ALL`), are written. A
 * controller whose image runs as a non-root user by name only gets `runAsUser` from its definition:
 * the kubelet can check runAsNonRoot only against a numeric user.
 */
export function meetRestricted(
  objects: AddonObjects,
  kind: string,
  name: string,
  field: string,
  options: { readonly runAsUser?: number } = {},
): void {
  const workload = objects.find(kind, name, field, 'restricted');
  const pod: KubeObject | undefined = workload?.spec?.template?.spec;
  if (pod === undefined) return;
  const podContext: KubeObject = (pod.securityContext ??= {});
  if (options.runAsUser !== undefined && podContext.runAsUser === undefined) {
    podContext.runAsUser = options.runAsUser;
  }
  if (podContext.runAsNonRoot === undefined && (podContext.runAsUser ?? 0) > 0) {
    podContext.runAsNonRoot = true;
  }
  const containers: KubeObject[] = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  if (
    podContext.seccompProfile === undefined &&
    containers.some((c) => c.securityContext?.seccompProfile === undefined)
  ) {
    podContext.seccompProfile = { type: 'RuntimeDefault' };
  }
  for (const container of containers) {
    const context: KubeObject = (container.securityContext ??= {});
    context.allowPrivilegeEscalation ??= false;
    const capabilities: KubeObject = (context.capabilities ??= {});
    const drop: string[] = capabilities.drop ?? [];
    if (!drop.includes('ALL')) {
      capabilities.drop = ['ALL', ...drop.filter((c) => c.toUpperCase() !== 'ALL')];
    }
  }
}

/**
 * The add-on's Namespace, first in its file: upstream's own, labelled with the Pod Security level
 * the definition states, or a new one where upstream leaves the namespace to the installer (a Helm
 * chart installed with --create-namespace). kube-system and default exist in every cluster and are
 * the cluster's own: nothing is rendered or labelled for them.
 */
export function addonNamespace(objects: AddonObjects, namespace: string, level: PodSecurityLevel): void {
  if (namespace === 'kube-system' || namespace === 'default') return;
  let object = objects.objects.find((o) => o.kind === 'Namespace' && o.metadata?.name === namespace);
  if (object === undefined) {
    object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
    objects.objects.unshift(object);
  }
  object.metadata.labels = {
    ...object.metadata.labels,
    'pod-security.kubernetes.io/enforce': level,
    'pod-security.kubernetes.io/enforce-version': 'latest',
    'pod-security.kubernetes.io/audit': level,
    'pod-security.kubernetes.io/warn': level,
  };
}
