/**
 * Checks the lab's kubeadm bootstrap values (env.bootstrap): part of validating an environment, run
 * by validate-platform.ts before anything is built from them.
 */
import * as ipaddr from 'ipaddr.js';
import { Environment, IpFamily, isSupportedKubernetesVersion } from '../environment';
import { hostBitsHint, ParsedCidr, parseSubnet } from '../k8s/ip-ranges';
import { DNS1123_LABEL_RULE, isDns1123Label, isDns1123Subdomain } from '../k8s/names';
import { Problems } from '../k8s/validation';
import { releaseOf } from '../kubernetes-versions';

const familyOf = (address: ipaddr.IPv4 | ipaddr.IPv6): IpFamily => (address.kind() === 'ipv4' ? 'IPv4' : 'IPv6');

const overlaps = (a: ParsedCidr, b: ParsedCidr): boolean =>
  a.family === b.family && (a.address.match(b.address, b.prefix) || b.address.match(a.address, a.prefix));

/**
 * A release the table knows (KUBERNETES_RELEASES, lib/kubernetes-versions.ts): of the environment's
 * minor, and no newer than that minor's newest patch there. The nodes install `kubelet=<release>-*`
 * from the minor's package repository: a patch that does not exist yet stops cloud-init on every
 * node, and one the table has not seen may change what kubeadm installs (its etcd, CoreDNS and pause
 * images are the table's, per release).
 */
function isKnownRelease(release: string, minor: string, minorOk: boolean): boolean {
  const version = /^v1\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(release);
  if (version === null || !minorOk) {
    return version !== null;
  }
  const newest = /\.(\d+)$/.exec(releaseOf(minor).release)![1];
  return `1.${version[1]}` === minor && Number(version[2]) <= Number(newest);
}

function knownReleasesRule(minor: string): string {
  const newest = releaseOf(minor).release;
  return (
    `a release of the environment's kubernetesVersion (${minor}) that lib/kubernetes-versions.ts knows, "v${minor}.0" to "${newest}" ` +
    `(a newer patch: add it to KUBERNETES_RELEASES and run npm run fetch:openapi)`
  );
}

const CIDR_RULE = 'a network in CIDR notation with its host bits zero, e.g. "10.244.0.0/16" or "fd00:10:244::/56"';

/**
 * Checks the bootstrap values: every subnet and address parses, their families are
 * env.loadBalancing.ipFamilies in order, the pod and service subnets do not overlap, and each is a
 * size kubeadm accepts (room for a /24 or /64 per node; at most 2^20 Service addresses).
 */
export function checkBootstrap(p: Problems, env: Environment): void {
  const b = env.bootstrap;
  if (b === undefined) {
    return;
  }
  const families = env.loadBalancing.ipFamilies;
  // Where the environment's own version or families are wrong, that is the one error to report:
  // comparing against them would only repeat it.
  const envVersionOk = isSupportedKubernetesVersion(env.kubernetesVersion);
  const envFamiliesOk = families.length >= 1 && families.length <= 2 && new Set(families).size === families.length;
  p.check(
    isKnownRelease(b.kubernetesVersion, env.kubernetesVersion, envVersionOk),
    'bootstrap.kubernetesVersion',
    b.kubernetesVersion,
    envVersionOk
      ? knownReleasesRule(env.kubernetesVersion)
      : 'a release "v1.N.P" of the environment\'s kubernetesVersion',
  );
  p.check(isDns1123Label(b.clusterName), 'bootstrap.clusterName', b.clusterName, DNS1123_LABEL_RULE);

  const endpoint = /^(.+):(\d{1,5})$/.exec(b.controlPlaneEndpoint);
  const host = endpoint?.[1] ?? '';
  const port = Number(endpoint?.[2]);
  p.check(
    endpoint !== null &&
      (isDns1123Subdomain(host) ||
        ipaddr.IPv4.isValidFourPartDecimal(host) ||
        (/^\[.+\]$/.test(host) && ipaddr.IPv6.isValid(host.slice(1, -1)))) &&
      port >= 1 &&
      port <= 65535,
    'bootstrap.controlPlaneEndpoint',
    b.controlPlaneEndpoint,
    'host:port, the host a DNS name or an IP address ("[fd00::10]:6443" for IPv6), e.g. "k8s-api.lab.example:6443"',
  );

  const familyList = (xs: readonly (IpFamily | undefined)[]) => JSON.stringify(xs);
  const checkFamilies = (field: string, values: readonly string[], found: readonly (IpFamily | undefined)[]) => {
    if (envFamiliesOk && found.every((f) => f !== undefined)) {
      p.check(
        familyList(found) === familyList(families),
        field,
        values,
        `one entry per IP family of loadBalancing.ipFamilies, in that order (${families.join(', ')})`,
      );
    }
  };

  b.nodeAddresses.forEach((a, i) =>
    p.check(
      ipaddr.isValid(a) && (ipaddr.IPv4.isValidFourPartDecimal(a) || ipaddr.IPv6.isValid(a)),
      `bootstrap.nodeAddresses[${i}]`,
      a,
      'an IPv4 or IPv6 address, e.g. "192.168.50.11"',
    ),
  );
  checkFamilies(
    'bootstrap.nodeAddresses',
    b.nodeAddresses,
    b.nodeAddresses.map((a) => (ipaddr.isValid(a) ? familyOf(ipaddr.parse(a)) : undefined)),
  );

  const parsedSubnets = (
    field: string,
    values: readonly string[],
    limits: Record<IpFamily, { min: number; max: number; why: string }>,
  ) => {
    const parsed = values.map((cidr, i) => {
      const subnet = parseSubnet(cidr);
      const hint = hostBitsHint(cidr);
      if (
        !p.check(subnet !== undefined, `${field}[${i}]`, cidr, hint === undefined ? CIDR_RULE : `${CIDR_RULE}; ${hint}`)
      ) {
        return undefined;
      }
      const limit = limits[subnet!.family];
      p.check(subnet!.prefix >= limit.min && subnet!.prefix <= limit.max, `${field}[${i}]`, cidr, limit.why);
      return subnet;
    });
    checkFamilies(
      field,
      values,
      parsed.map((s) => s?.family),
    );
    return parsed.filter((s): s is ParsedCidr => s !== undefined);
  };
  const pods = parsedSubnets('bootstrap.podSubnets', b.podSubnets, {
    IPv4: { min: 8, max: 24, why: 'an IPv4 prefix from /8 to /24: each node takes a /24 of it' },
    IPv6: { min: 48, max: 64, why: 'an IPv6 prefix from /48 to /64: each node takes a /64 of it' },
  });
  const services = parsedSubnets('bootstrap.serviceSubnets', b.serviceSubnets, {
    IPv4: {
      min: 12,
      max: 28,
      why: 'an IPv4 prefix from /12 to /28: the API server allocates at most 2^20 Service addresses',
    },
    IPv6: {
      min: 108,
      max: 124,
      why: 'an IPv6 prefix from /108 to /124: the API server allocates at most 2^20 Service addresses',
    },
  });
  for (const [i, pod] of pods.entries()) {
    for (const service of services) {
      p.check(
        !overlaps(pod, service),
        `bootstrap.podSubnets[${i}]`,
        b.podSubnets[i],
        `a subnet that does not overlap the service subnet ${service.address.toString()}/${service.prefix}`,
      );
    }
  }
}
