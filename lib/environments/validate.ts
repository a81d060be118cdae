import * as ipaddr from 'ipaddr.js';
import { ACCESS_ROLES, BatchScale, DatabaseScale, Environment, IpFamily, NODE_SECURITY_MODULES, ResourceQuantities, WorkloadScale } from '../environment';
import { SUPPORTED_MINORS } from '../kubernetes-versions';
import { DNS1123_LABEL_RULE, DNS1123_SUBDOMAIN_RULE, isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedName, LABEL_VALUE_RULE, QUALIFIED_NAME_RULE } from '../kit/names';
import { cpuMillis, memoryBytes, QUANTITY_FORMAT } from '../kit/quantity';
import { Problems } from '../kit/validation';
import { checkPlatformAreas } from './validate-platform';


/**
 * Checks an environment's values and throws one ValidationError listing every problem, each
 * naming the environment, the field, the value and what is allowed.
 */
export function validateEnvironment(env: Environment): void {
  const p = new Problems(`environment "${env.name}"`);

  p.check(isDns1123Label(env.name), 'name', env.name, DNS1123_LABEL_RULE);
  p.check(SUPPORTED_MINORS.includes(env.kubernetesVersion), 'kubernetesVersion', env.kubernetesVersion,
    `one of the supported minor versions ${SUPPORTED_MINORS.map((m) => `"${m}"`).join(', ')} (lib/kubernetes-versions.ts)`);

  checkLoadBalancing(env, p);
  checkStorage(env, p);
  checkIdentity(env, p);
  checkPeopleAccess(env, p);
  checkScale(env, p);
  checkPlatformAreas(env, p);
  p.check(env.nodes.osImage.trim() !== '', 'nodes.osImage', env.nodes.osImage, 'the node OS image as the provider names it, e.g. "Bottlerocket"');
  p.check((NODE_SECURITY_MODULES as readonly string[]).includes(env.nodes.securityModule), 'nodes.securityModule', env.nodes.securityModule,
    `one of ${NODE_SECURITY_MODULES.map((m) => `"${m}"`).join(', ')}: the Linux security module the node OS runs`);
  p.check(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(env.registry.mirror),
    'registry.mirror', env.registry.mirror, 'a registry host, optional port and path, e.g. "harbor.lab.example/dockerhub"');

  p.throwIfAny();
}

function checkLoadBalancing(env: Environment, p: Problems): void {
  const lb = env.loadBalancing;
  const families = lb.ipFamilies;
  p.check(families.length >= 1 && families.length <= 2 && new Set(families).size === families.length,
    'loadBalancing.ipFamilies', families, 'one or two distinct families of "IPv4" and "IPv6"');

  const pools = lb.metallbAddressPools ?? [];
  pools.forEach((pool, i) => {
    const field = `loadBalancing.metallbAddressPools[${i}]`;
    p.check(isDns1123Subdomain(pool.name), `${field}.name`, pool.name, DNS1123_SUBDOMAIN_RULE);
    p.check(pool.addresses.length > 0, `${field}.addresses`, pool.addresses, 'at least one CIDR or range');
    pool.addresses.forEach((range, j) => {
      p.check(addressRangeFamily(range) !== undefined, `${field}.addresses[${j}]`, range,
        'a CIDR ("192.168.50.240/28", "fd00:50::/112") or a range of two addresses of one family, low to high ("192.168.50.240-192.168.50.250")');
    });
  });
  const requested = lb.serviceAnnotations['metallb.io/address-pool'];
  if (requested !== undefined) {
    p.check(pools.some((pool) => pool.name === requested), 'loadBalancing.serviceAnnotations["metallb.io/address-pool"]',
      requested, `the name of one of loadBalancing.metallbAddressPools (${pools.map((x) => x.name).join(', ') || 'none defined'})`);
  }
}

/** The IP family of a CIDR or an `a-b` range, or undefined if it is not one. */
export function addressRangeFamily(range: string): IpFamily | undefined {
  const familyOf = (address: ipaddr.IPv4 | ipaddr.IPv6): IpFamily => (address.kind() === 'ipv4' ? 'IPv4' : 'IPv6');
  if (range.includes('/')) {
    return ipaddr.isValidCIDR(range) ? familyOf(ipaddr.parseCIDR(range)[0]) : undefined;
  }
  const ends = range.split('-');
  if (ends.length !== 2 || !ends.every((e) => ipaddr.isValid(e))) {
    return undefined;
  }
  const [low, high] = ends.map((e) => ipaddr.parse(e));
  if (low.kind() !== high.kind()) {
    return undefined;
  }
  const asNumber = (a: ipaddr.IPv4 | ipaddr.IPv6): bigint =>
    a.toByteArray().reduce((n, byte) => (n << 8n) + BigInt(byte), 0n);
  return asNumber(low) <= asNumber(high) ? familyOf(low) : undefined;
}

function checkStorage(env: Environment, p: Problems): void {
  p.check(isDns1123Subdomain(env.storage.storageClassName), 'storage.storageClassName', env.storage.storageClassName, DNS1123_SUBDOMAIN_RULE);
  p.check(isQualifiedName(env.storage.provisioner), 'storage.provisioner', env.storage.provisioner, QUALIFIED_NAME_RULE);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkIdentity(env: Environment, p: Problems): void {
  const id = env.identity;
  switch (id.provider) {
    case 'aws-irsa':
      p.check(/^\d{12}$/.test(id.accountId), 'identity.accountId', id.accountId, 'an AWS account ID of exactly 12 digits');
      p.check(/^[\w+=,.@-]{0,32}$/.test(id.roleNamePrefix), 'identity.roleNamePrefix', id.roleNamePrefix,
        'at most 32 characters of letters, digits and +=,.@_-');
      break;
    case 'gke-workload-identity':
      p.check(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(id.projectId), 'identity.projectId', id.projectId,
        'a Google Cloud project ID: 6 to 30 lowercase letters, digits or hyphens, starting with a letter');
      break;
    case 'azure-workload-identity':
      p.check(GUID.test(id.tenantId), 'identity.tenantId', id.tenantId, 'a lowercase GUID, e.g. "72f988bf-86f1-41af-91ab-2d7cd011db47"');
      for (const [workload, clientId] of Object.entries(id.clientIds)) {
        p.check(GUID.test(clientId), `identity.clientIds.${workload}`, clientId, 'a lowercase GUID');
      }
      break;
    case 'none':
      break;
  }
}

/**
 * The groups people are bound through, in the form the environment's sign-in gives them. Kubernetes
 * reserves the `system:` prefix for its own users and groups (system:masters bypasses RBAC), so no
 * group here may start with it.
 */
function checkPeopleAccess(env: Environment, p: Problems): void {
  const { signIn, groups } = env.identity.people;
  const domain = signIn.kind === 'gke-google-groups' ? /^gke-security-groups@([a-z0-9.-]+\.[a-z]{2,})$/.exec(signIn.securityGroup)?.[1] : undefined;
  switch (signIn.kind) {
    case 'gke-google-groups':
      p.check(domain !== undefined, 'identity.people.signIn.securityGroup', signIn.securityGroup,
        'gke-security-groups@<your domain>: Google Groups for RBAC requires exactly that group name');
      break;
    case 'entra-id-groups':
      p.check(GUID.test(signIn.tenantId), 'identity.people.signIn.tenantId', signIn.tenantId, 'a lowercase GUID');
      break;
    default:
      break;
  }
  p.check(Object.keys(groups).length > 0, 'identity.people.groups', groups, 'at least one app namespace with its groups');
  for (const [namespace, byRole] of Object.entries(groups)) {
    for (const role of ACCESS_ROLES) {
      const group = byRole[role];
      const field = `identity.people.groups.${namespace}["${role}"]`;
      if (!p.check(typeof group === 'string' && !group.startsWith('system:'), field, group,
        'a group name that does not start with "system:" (reserved for Kubernetes\' own groups)')) {
        continue;
      }
      switch (signIn.kind) {
        case 'client-certificate':
        case 'eks-access-entries':
          p.check(GROUP_NAME.test(group), field, group, GROUP_NAME_RULE);
          break;
        case 'gke-google-groups':
          p.check(domain !== undefined && group.endsWith(`@${domain}`) && EMAIL.test(group), field, group,
            `a Google Group's e-mail address in the security group's domain (${domain ?? 'none'}), e.g. "web-viewers@${domain ?? 'example.com'}"`);
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
const GROUP_NAME_RULE = '1 to 63 lowercase letters, digits, "-", "." or ":", starting and ending with a letter or digit';
const EMAIL = /^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$/;

function checkScale(env: Environment, p: Problems): void {
  const scale = env.scale;
  if (scale.spreadAcross === 'zone') {
    const zones = scale.zones ?? [];
    p.check(zones.length >= 2, 'scale.zones', zones, 'at least two zones when scale.spreadAcross is "zone"');
    zones.forEach((zone, i) => p.check(isLabelValue(zone) && zone !== '', `scale.zones[${i}]`, zone, LABEL_VALUE_RULE));
  }
  checkWorkloadScale(p, 'scale.web', scale.web);
  checkWorkloadScale(p, 'scale.api', scale.api);
  checkGuaranteedQos(p, 'scale.api', scale.api.requests, scale.api.limits);
  checkDatabaseScale(p, 'scale.db', scale.db);
  checkBatchScale(p, 'scale.batch', scale.batch);
  checkWorkloadScale(p, 'scale.sandboxed', scale.sandboxed);
}

/**
 * Checks that requests equal limits for cpu and memory, which puts the pod in the Guaranteed QoS
 * class (the primer, 3: cgroups and QoS). Compared as quantities, so '1' and '1000m' are equal.
 */
export function checkGuaranteedQos(p: Problems, field: string, requests: ResourceQuantities, limits: ResourceQuantities): void {
  const same = (a: number | undefined, b: number | undefined): boolean => a === undefined || b === undefined || a === b;
  p.check(same(cpuMillis(requests.cpu), cpuMillis(limits.cpu)), `${field}.requests.cpu`, requests.cpu,
    `equal to the limit (${limits.cpu}), so that the pod is in the Guaranteed QoS class`);
  p.check(same(memoryBytes(requests.memory), memoryBytes(limits.memory)), `${field}.requests.memory`, requests.memory,
    `equal to the limit (${limits.memory}), so that the pod is in the Guaranteed QoS class`);
}

/** Checks the database's resources and its volume size. */
export function checkDatabaseScale(p: Problems, field: string, s: DatabaseScale): void {
  checkResources(p, field, s.requests, s.limits);
  checkVolumeSize(p, `${field}.storage`, s.storage);
}

/** Checks the batch pods' resources and the backup volume's size. */
export function checkBatchScale(p: Problems, field: string, s: BatchScale): void {
  checkResources(p, field, s.requests, s.limits);
  checkVolumeSize(p, `${field}.backupStorage`, s.backupStorage);
}

/** A volume size: a quantity of whole MiB, at least 1Gi (the smallest disk most cloud CSI drivers provision). */
export function checkVolumeSize(p: Problems, field: string, size: string): void {
  const bytes = memoryBytes(size);
  p.check(bytes !== undefined && bytes >= 2 ** 30 && bytes % 2 ** 20 === 0, field, size,
    `${QUANTITY_FORMAT}: a whole number of MiB, at least 1Gi`);
}

/** Checks one workload's replicas and resources; shared by every workload's entry in `scale`. */
export function checkWorkloadScale(p: Problems, field: string, s: WorkloadScale): void {
  p.check(Number.isInteger(s.minReplicas) && s.minReplicas >= 2, `${field}.minReplicas`, s.minReplicas,
    'a whole number >= 2, so that a node drain never takes every replica');
  p.check(Number.isInteger(s.maxReplicas) && s.maxReplicas >= s.minReplicas, `${field}.maxReplicas`, s.maxReplicas,
    `a whole number >= minReplicas (${s.minReplicas})`);
  p.check(Number.isInteger(s.targetCpuUtilization) && s.targetCpuUtilization >= 1 && s.targetCpuUtilization <= 100,
    `${field}.targetCpuUtilization`, s.targetCpuUtilization, 'a whole percentage from 1 to 100');
  checkResources(p, field, s.requests, s.limits);
}

/** Checks that requests and limits parse, memory is in whole MiB, and no request exceeds its limit. */
export function checkResources(p: Problems, field: string, requests: { cpu: string; memory: string }, limits: { cpu: string; memory: string }): void {
  const parsed = {
    requests: { cpu: cpuMillis(requests.cpu), memory: memoryBytes(requests.memory) },
    limits: { cpu: cpuMillis(limits.cpu), memory: memoryBytes(limits.memory) },
  };
  for (const kind of ['requests', 'limits'] as const) {
    const given = kind === 'requests' ? requests : limits;
    const value = parsed[kind];
    p.check(value.cpu !== undefined && value.cpu > 0, `${field}.${kind}.cpu`, given.cpu, `${QUANTITY_FORMAT}, above zero`);
    p.check(value.memory !== undefined && value.memory > 0 && value.memory % 2 ** 20 === 0, `${field}.${kind}.memory`, given.memory,
      `${QUANTITY_FORMAT}, a whole number of MiB above zero`);
  }
  const { requests: r, limits: l } = parsed;
  if (r.cpu !== undefined && l.cpu !== undefined) {
    p.check(r.cpu <= l.cpu, `${field}.requests.cpu`, requests.cpu, `at most the limit (${limits.cpu})`);
  }
  if (r.memory !== undefined && l.memory !== undefined) {
    p.check(r.memory <= l.memory, `${field}.requests.memory`, requests.memory, `at most the limit (${limits.memory})`);
  }
}
