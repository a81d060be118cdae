import { z } from 'zod';
import {
  ACCESS_ROLES,
  BatchScale,
  BatchScaleSchema,
  ContainerResourcesSchema,
  DatabaseScale,
  DatabaseScaleSchema,
  Environment,
  EnvironmentSchema,
  GUID,
  ResourceQuantities,
  WorkloadScale,
  WorkloadScaleSchema,
} from '../environment';
import { parseSubnet } from '../k8s/ip-ranges';
import { AddressRange, parseAddress, parseAddressRange, rangesOverlap } from '../k8s/ip-ranges';
import { comparableBytes, comparableCpuMillis } from '../k8s/quantity';
import { checkAgainstSchema, closest, joinField, rules, schemaProblems } from '../k8s/schema-problems';
import { FieldProblem, Problems, ValidationError } from '../k8s/validation';
import { platformOf, SUPPORTED_MINORS, supportProblem, today } from '../kubernetes-versions';
import { AddonSettings, checkAddonNeeds, checkAddons } from './validate-addons';
import { checkDelivery } from './validate-delivery';
import { checkNamespaceQuota, checkPlatformAreas } from './validate-platform';
import { withOverrides } from './workload-scale';

export { addressRangeFamily } from '../k8s/ip-ranges';

/**
 * The whole Environment: its shape and field formats (EnvironmentSchema, lib/environment.ts) and
 * the rules that span fields, as refinements. Zod runs these only once the shape holds, so each rule
 * reads the fields it needs without guarding against a missing one.
 */
export const ValidEnvironmentSchema = EnvironmentSchema.superRefine(
  rules((env: Environment, p) => {
    checkLoadBalancing(env, p);
    checkPeopleAccess(env, p);
    checkPlatformAreas(env, p);
    checkAddonNeeds(env, p);
    checkDelivery(env, p);
  }),
);

export interface ValidateOptions {
  /**
   * The day support windows are checked on, "YYYY-MM-DD".
   * @default today() (lib/kubernetes-versions.ts): the clock, or LAB_TO_PROD_TODAY where set
   */
  readonly today?: string;

  /**
   * The workloads the environment is rendered with (the registry, lib/workloads/index.ts, which the
   * synth gives): each one's scale, the environment's `scale.<workload>` laid over the workload's
   * defaults, is checked against the workload's schema and then against the namespace quota, and a
   * `scale` field that names no workload is refused.
   * @default - none: only the fields of `scale` that are its own are checked (this layer knows no workload)
   */
  readonly workloads?: readonly ScaledWorkload[];

  /**
   * The add-ons' definitions (the registry, lib/addons/index.ts, which the synth gives): each entry
   * of the environment's `addons` must name one, with settings its schema accepts.
   * @default - none: the names are checked against addons/addons.lock.json alone, the settings not at all
   */
  readonly addons?: readonly AddonSettings[];

  /**
   * The repository whose addons/ (lock file and vendored files) the add-ons are checked against.
   * @default - this repository's (lib/addons/lock.ts)
   */
  readonly addonsRoot?: string;
}

/**
 * What validating an environment needs to know of a workload: its name and, if an environment sizes
 * it, the schema its scale must satisfy and its defaults. The workloads' registry
 * (lib/workloads/index.ts) passes its entries; this layer sits below the workloads and never imports them.
 */
export interface ScaledWorkload {
  readonly name: string;
  readonly scale?: { readonly schema: z.ZodType; readonly defaults: object };
}

/** The fields of an environment's `scale` that are not a workload's. */
const SCALE_OWN_FIELDS = ['spreadAcross', 'evictFromLostNodeAfterSeconds', 'namespaceQuota'];

/**
 * Checks an environment's values and throws one ValidationError listing every problem, each
 * naming the environment, the field, the value and what is allowed: an unknown field, a missing
 * one, a malformed value, a rule between fields broken, and a Kubernetes minor its platform does not
 * support on the day (the only rule that reads the clock). Typed `unknown`, which takes an Environment
 * too: what an environment file holds is only known once it is checked here (the synth does not type-check).
 */
export function validateEnvironment(env: unknown, options: ValidateOptions = {}): void {
  const name = (env as { name?: unknown } | null)?.name;
  const where = typeof name === 'string' ? `environment "${name}"` : 'environment (no name)';
  const shape = schemaProblems(ValidEnvironmentSchema, env, where);
  const scales = new Problems(where);
  const merged = options.workloads === undefined ? undefined : workloadScales(env, options.workloads, scales);
  // The quota is checked against every workload's scale only once all of them, and it, are valid.
  if (merged !== undefined && shape.length === 0 && scales.problems.length === 0) {
    const e = env as Environment;
    checkNamespaceQuota({ ...e, scale: { ...e.scale, ...merged } }, scales);
  }
  const addons = new Problems(where);
  checkAddons(env, options.addons, addons, options.addonsRoot);
  const problems = [
    ...shape,
    ...scales.problems,
    ...addons.problems,
    ...supportWindowProblems(env, where, options.today ?? today()),
  ];
  if (problems.length > 0) {
    throw new ValidationError(problems);
  }
}

/**
 * Each sized workload's scale in this environment (its defaults, with the environment's
 * `scale.<workload>` laid over them), checked against its schema; a `scale` field that is neither one
 * of scale's own nor a sized workload's name is reported as an unknown field, like any other.
 */
function workloadScales(env: unknown, workloads: readonly ScaledWorkload[], p: Problems): Record<string, object> {
  const scale = (env as { scale?: unknown } | null)?.scale;
  const merged: Record<string, object> = {};
  if (typeof scale !== 'object' || scale === null) {
    return merged; // the schema reports it
  }
  const sized = workloads.filter((w) => w.scale !== undefined);
  const known = [...SCALE_OWN_FIELDS, ...sized.map((w) => w.name)];
  for (const [field, value] of Object.entries(scale)) {
    if (!known.includes(field)) {
      const guess = closest(field, known);
      p.check(
        false,
        `scale.${field}`,
        value,
        `${guess === undefined ? '' : `did you mean "${guess}"? `}the fields here are ${known.join(', ')}`,
        'unknown field',
      );
    }
  }
  for (const workload of sized) {
    const overrides = (scale as Record<string, unknown>)[workload.name];
    if (
      !p.check(
        overrides === undefined || (typeof overrides === 'object' && overrides !== null && !Array.isArray(overrides)),
        `scale.${workload.name}`,
        overrides,
        `an object of the fields that differ from ${workload.name}'s default scale, e.g. { maxReplicas: 4 }`,
      )
    ) {
      continue;
    }
    const value = withOverrides(workload.scale!.defaults, overrides) as object;
    checkAgainstSchema(p, `scale.${workload.name}`, workload.scale!.schema, value);
    merged[workload.name] = value;
  }
  return merged;
}

/**
 * The environment's kubernetesVersion against its platform's support calendar on `day`: a minor the
 * platform does not offer, or whose support ended, is refused with the window, its source and the day
 * the source was read. Only once the version is one of the supported minors (the schema reports others).
 */
function supportWindowProblems(env: unknown, where: string, day: string): FieldProblem[] {
  const e = env as { kubernetesVersion?: unknown; loadBalancing?: { provider?: unknown } } | null;
  const version = e?.kubernetesVersion;
  const provider = e?.loadBalancing?.provider;
  if (typeof version !== 'string' || !SUPPORTED_MINORS.includes(version) || typeof provider !== 'string') {
    return [];
  }
  const platform = platformOf({ loadBalancing: { provider } });
  const problem = platform === undefined ? undefined : supportProblem(platform, version, day);
  return problem === undefined ? [] : [{ where, field: 'kubernetesVersion', value: version, allowed: problem }];
}

function checkLoadBalancing(env: Environment, p: Problems): void {
  const lb = env.loadBalancing;
  const pools = lb.metallbAddressPools ?? [];
  const requested = lb.serviceAnnotations['metallb.io/address-pool'];
  if (requested !== undefined) {
    p.check(
      pools.some((pool) => pool.name === requested),
      'loadBalancing.serviceAnnotations["metallb.io/address-pool"]',
      requested,
      `the name of one of loadBalancing.metallbAddressPools (${pools.map((x) => x.name).join(', ') || 'none defined'})`,
    );
  }
  checkPoolAddresses(env, p);
}

/**
 * The addresses MetalLB may hand out must be nobody else's. MetalLB's own configuration parser refuses
 * a CIDR that overlaps one already defined, in any pool ("CIDR ... overlaps with already defined
 * CIDR ...") and a pool that contains a node's address ("pool cidr ... contains nodeIp ...")
 * (metallb/metallb, internal/config/config.go). The pod and service subnets are the cluster's own:
 * an address from them would be routed to a pod or a Service instead of the load balancer.
 */
function checkPoolAddresses(env: Environment, p: Problems): void {
  const b = env.bootstrap;
  const taken: { what: string; range: AddressRange }[] = [];
  const endpointHost = b?.controlPlaneEndpoint.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  for (const [i, address] of (b?.nodeAddresses ?? []).entries()) {
    const range = parseAddress(address);
    if (range) taken.push({ what: `contains the node address bootstrap.nodeAddresses[${i}] (${address})`, range });
  }
  const endpoint = endpointHost === undefined ? undefined : parseAddress(endpointHost);
  if (endpoint)
    taken.push({ what: `contains the control-plane endpoint's address (${endpointHost})`, range: endpoint });
  for (const [kind, subnets] of [
    ['pod', b?.podSubnets ?? []],
    ['service', b?.serviceSubnets ?? []],
  ] as const) {
    for (const [i, cidr] of subnets.entries()) {
      const range = parseSubnet(cidr) && parseAddressRange(cidr);
      if (range) taken.push({ what: `overlaps the ${kind} subnet bootstrap.${kind}Subnets[${i}] (${cidr})`, range });
    }
  }

  const seen: { field: string; text: string; range: AddressRange }[] = [];
  for (const [i, pool] of (env.loadBalancing.metallbAddressPools ?? []).entries()) {
    for (const [j, text] of pool.addresses.entries()) {
      const range = parseAddressRange(text);
      if (range === undefined) continue; // the schema reported it
      const field = `loadBalancing.metallbAddressPools[${i}].addresses[${j}]`;
      const earlier = seen.find((s) => rangesOverlap(s.range, range));
      p.check(
        earlier === undefined,
        field,
        text,
        `addresses that no other pool entry has: it overlaps ${earlier?.field} (${earlier?.text})`,
      );
      const clash = taken.find((t) => rangesOverlap(t.range, range));
      p.check(clash === undefined, field, text, `addresses that are not the cluster's own: it ${clash?.what}`);
      seen.push({ field, text, range });
    }
  }
}

/**
 * The groups people are bound through, in the form the environment's sign-in gives them. Kubernetes
 * reserves the `system:` prefix for its own users and groups (system:masters bypasses RBAC), so no
 * group here may start with it.
 */
function checkPeopleAccess(env: Environment, p: Problems): void {
  const { signIn, groups } = env.identity.people;
  const domain =
    signIn.kind === 'gke-google-groups'
      ? /^gke-security-groups@([a-z0-9.-]+\.[a-z]{2,})$/.exec(signIn.securityGroup)?.[1]
      : undefined;
  for (const [namespace, byRole] of Object.entries(groups)) {
    for (const role of ACCESS_ROLES) {
      const group = byRole[role];
      const field = `identity.people.groups.${namespace}["${role}"]`;
      if (
        !p.check(
          !group.startsWith('system:'),
          field,
          group,
          'a group name that does not start with "system:" (reserved for Kubernetes\' own groups)',
        )
      ) {
        continue;
      }
      switch (signIn.kind) {
        case 'client-certificate':
        case 'eks-access-entries':
          p.check(GROUP_NAME.test(group), field, group, GROUP_NAME_RULE);
          break;
        case 'gke-google-groups':
          p.check(
            domain !== undefined && group.endsWith(`@${domain}`) && EMAIL.test(group),
            field,
            group,
            `a Google Group's e-mail address in the security group's domain (${domain ?? 'none'}), e.g. "web-viewers@${domain ?? 'example.com'}"`,
          );
          break;
        case 'entra-id-groups':
          p.check(GUID.test(group), field, group, 'the object ID of a Microsoft Entra group: a lowercase GUID');
          break;
      }
    }
  }
}

/** Group names as a certificate's organisation or an EKS access entry carries them. */
const GROUP_NAME = /^[a-z0-9]([-a-z0-9.:]{0,61}[a-z0-9])?$/;
const GROUP_NAME_RULE =
  '1 to 63 lowercase letters, digits, "-", "." or ":", starting and ending with a letter or digit';
const EMAIL = /^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/;

/**
 * Checks that requests equal limits for cpu and memory, which puts the pod in the Guaranteed QoS
 * class (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/). Compared as quantities, so '1' and '1000m' are equal.
 */
export function checkGuaranteedQos(
  p: Problems,
  field: string,
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): void {
  const same = (a: number | undefined, b: number | undefined): boolean => a === undefined || b === undefined || a === b;
  p.check(
    same(comparableCpuMillis(requests.cpu), comparableCpuMillis(limits.cpu)),
    joinField(field, 'requests.cpu'),
    requests.cpu,
    `equal to the limit (${limits.cpu}), so that the pod is in the Guaranteed QoS class`,
  );
  p.check(
    same(comparableBytes(requests.memory), comparableBytes(limits.memory)),
    joinField(field, 'requests.memory'),
    requests.memory,
    `equal to the limit (${limits.memory}), so that the pod is in the Guaranteed QoS class`,
  );
}

// A construct given its scale directly (not through an environment) checks it against the same
// schemas, so a workload's props and an environment's scale cannot be held to different rules.

/** Checks the database's resources and its volume size. */
export function checkDatabaseScale(p: Problems, field: string, s: DatabaseScale): void {
  checkAgainstSchema(p, field, DatabaseScaleSchema, s);
}

/** Checks the batch pods' resources and the backup volume's size. */
export function checkBatchScale(p: Problems, field: string, s: BatchScale): void {
  checkAgainstSchema(p, field, BatchScaleSchema, s);
}

/** Checks one workload's replicas and resources; shared by every workload's entry in `scale`. */
export function checkWorkloadScale(p: Problems, field: string, s: WorkloadScale): void {
  checkAgainstSchema(p, field, WorkloadScaleSchema, s);
}

/** Checks that requests and limits parse, memory is whole bytes, and no request exceeds its limit. */
export function checkResources(
  p: Problems,
  field: string,
  requests: ResourceQuantities,
  limits: ResourceQuantities,
): void {
  checkAgainstSchema(p, field, ContainerResourcesSchema, { requests, limits });
}
