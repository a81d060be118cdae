import * as ipaddr from 'ipaddr.js';
import { Environment, IpFamily, isSupportedKubernetesVersion, KubeadmBootstrap } from '../environment';
import { hasHostBits, hostBitsHint, parseCidr } from '../kit/ip-ranges';
import { DNS1123_LABEL_RULE, isDns1123Label, isDns1123Subdomain } from '../kit/names';
import { Problems } from '../kit/validation';
import { releaseOf } from '../kubernetes-versions';
import { yamlDocuments } from '../yaml-output';

/**
 * The lab's control plane, as kubeadm builds it on the Proxmox VMs (the primer, 1: a kubeadm lab
 * with containerd). Not applied with kubectl: `kubeadm init --config dist/lab-bootstrap/kubeadm.yaml`
 * on the first control-plane VM reads it. It is written beside dist/lab/, not in it, so that
 * `kubectl apply -R -f dist/lab/` never sees these documents (kubectl knows none of their kinds).
 */

/** Where the file goes, relative to dist/<env>-bootstrap/ (lib/render.ts). */
export const KUBEADM_CONFIG_FILE = 'kubeadm.yaml';

/** containerd's CRI socket, which kubeadm and the kubelet talk to (the primer, 1: containerd). */
export const CONTAINERD_SOCKET = 'unix:///var/run/containerd/containerd.sock';

/**
 * The cgroup manager of the kubelet, and of containerd's runc and runsc on the node (containerd.ts):
 * kubelet and runtime must agree on one, or pods run under two (the primer, 1: cgroups). One constant
 * for both sides, so they cannot drift apart.
 */
export const CGROUP_DRIVER: 'systemd' | 'cgroupfs' = 'systemd';

/**
 * kube-proxy's mode. IPVS: hash-table lookups instead of iptables' linear rule chains, which the primer
 * recommends for large clusters; the nodes load the IPVS kernel modules for it (cloud-init.ts).
 */
export const KUBE_PROXY_MODE: 'ipvs' | 'iptables' | 'nftables' = 'ipvs';

/**
 * The four documents of the configuration: kubeadm's own two (v1beta4, kubeadm 1.31 and later), then
 * the kubelet's and kube-proxy's component configurations, which kubeadm passes on.
 */
export function kubeadmDocuments(bootstrap: KubeadmBootstrap): object[] {
  return [
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      // No bootstrapTokens: kubeadm makes a fresh, short-lived join token itself, and a token in a
      // committed file would be a secret in Git.
      localAPIEndpoint: { advertiseAddress: bootstrap.nodeAddresses[0], bindPort: 6443 },
      nodeRegistration: {
        criSocket: CONTAINERD_SOCKET,
        // On a dual-stack node the kubelet must be told both addresses; it reports only one otherwise.
        kubeletExtraArgs: [{ name: 'node-ip', value: bootstrap.nodeAddresses.join(',') }],
      },
    },
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      clusterName: bootstrap.clusterName,
      kubernetesVersion: bootstrap.kubernetesVersion,
      controlPlaneEndpoint: bootstrap.controlPlaneEndpoint,
      networking: {
        // Comma-separated, primary family first: dual-stack pods and Services (the primer, 2: dual-stack).
        podSubnet: bootstrap.podSubnets.join(','),
        serviceSubnet: bootstrap.serviceSubnets.join(','),
        dnsDomain: 'cluster.local',
      },
    },
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      // The same driver containerd's runtimes use (containerd.ts).
      cgroupDriver: CGROUP_DRIVER,
      containerRuntimeEndpoint: CONTAINERD_SOCKET,
      // Swap off is what the kubelet's memory accounting and the limits it enforces assume.
      failSwapOn: true,
      // Keep room for the OS and the kubelet when pods press on memory.
      evictionHard: { 'memory.available': '200Mi', 'nodefs.available': '10%', 'imagefs.available': '15%' },
    },
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: KUBE_PROXY_MODE,
      // MetalLB's layer 2 mode needs strict ARP under IPVS, or every node answers for the Service
      // addresses bound to its kube-ipvs0 interface.
      ipvs: { strictARP: true },
    },
  ];
}

/** The text of dist/<env>-bootstrap/kubeadm.yaml; the first control-plane node's user-data carries the same text. */
export function kubeadmConfig(env: Environment, bootstrap: KubeadmBootstrap): string {
  const header = `# kubeadm configuration for the "${env.name}" environment, rendered by lab-to-prod from lib/environments/${env.name}.ts.\n`
    + '# Not for kubectl: on the first control-plane node run `kubeadm init --config kubeadm.yaml`.\n'
    + '# Do not edit: change the TypeScript and run `npm run synth`.\n';
  return header + yamlDocuments(kubeadmDocuments(bootstrap));
}

/** The files the bootstrap adds to dist/<env>/: none for an environment without `bootstrap`. */
export function bootstrapFiles(env: Environment): Map<string, string> {
  const files = new Map<string, string>();
  if (env.bootstrap === undefined) {
    return files;
  }
  files.set(KUBEADM_CONFIG_FILE, kubeadmConfig(env, env.bootstrap));
  return files;
}

// ---------------------------------------------------------------------------------------------
// Validation

const familyOf = (address: ipaddr.IPv4 | ipaddr.IPv6): IpFamily => (address.kind() === 'ipv4' ? 'IPv4' : 'IPv6');

interface ParsedCidr {
  readonly family: IpFamily;
  readonly address: ipaddr.IPv4 | ipaddr.IPv6;
  readonly prefix: number;
}

/** A CIDR whose host bits are zero (`10.244.0.0/16`, not `10.244.1.0/16`), or undefined. */
export function parseSubnet(text: string): ParsedCidr | undefined {
  const cidr = parseCidr(text);
  return cidr === undefined || hasHostBits(cidr) ? undefined : { family: cidr.family, address: cidr.address, prefix: cidr.prefix };
}

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
  return `a release of the environment's kubernetesVersion (${minor}) that lib/kubernetes-versions.ts knows, "v${minor}.0" to "${newest}" `
    + `(a newer patch: add it to KUBERNETES_RELEASES and run npm run fetch:openapi)`;
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
  p.check(isKnownRelease(b.kubernetesVersion, env.kubernetesVersion, envVersionOk), 'bootstrap.kubernetesVersion', b.kubernetesVersion,
    envVersionOk ? knownReleasesRule(env.kubernetesVersion) : 'a release "v1.N.P" of the environment\'s kubernetesVersion');
  p.check(isDns1123Label(b.clusterName), 'bootstrap.clusterName', b.clusterName, DNS1123_LABEL_RULE);

  const endpoint = /^(.+):(\d{1,5})$/.exec(b.controlPlaneEndpoint);
  const host = endpoint?.[1] ?? '';
  const port = Number(endpoint?.[2]);
  p.check(endpoint !== null && (isDns1123Subdomain(host) || ipaddr.IPv4.isValidFourPartDecimal(host) || /^\[.+\]$/.test(host) && ipaddr.IPv6.isValid(host.slice(1, -1)))
    && port >= 1 && port <= 65535, 'bootstrap.controlPlaneEndpoint', b.controlPlaneEndpoint,
  'host:port, the host a DNS name or an IP address ("[fd00::10]:6443" for IPv6), e.g. "k8s-api.lab.example:6443"');

  const familyList = (xs: readonly (IpFamily | undefined)[]) => JSON.stringify(xs);
  const checkFamilies = (field: string, values: readonly string[], found: readonly (IpFamily | undefined)[]) => {
    if (envFamiliesOk && found.every((f) => f !== undefined)) {
      p.check(familyList(found) === familyList(families), field, values,
        `one entry per IP family of loadBalancing.ipFamilies, in that order (${families.join(', ')})`);
    }
  };

  b.nodeAddresses.forEach((a, i) => p.check(ipaddr.isValid(a) && (ipaddr.IPv4.isValidFourPartDecimal(a) || ipaddr.IPv6.isValid(a)),
    `bootstrap.nodeAddresses[${i}]`, a, 'an IPv4 or IPv6 address, e.g. "192.168.50.11"'));
  checkFamilies('bootstrap.nodeAddresses', b.nodeAddresses,
    b.nodeAddresses.map((a) => (ipaddr.isValid(a) ? familyOf(ipaddr.parse(a)) : undefined)));

  const parsedSubnets = (field: string, values: readonly string[], limits: Record<IpFamily, { min: number; max: number; why: string }>) => {
    const parsed = values.map((cidr, i) => {
      const subnet = parseSubnet(cidr);
      const hint = hostBitsHint(cidr);
      if (!p.check(subnet !== undefined, `${field}[${i}]`, cidr, hint === undefined ? CIDR_RULE : `${CIDR_RULE}; ${hint}`)) {
        return undefined;
      }
      const limit = limits[subnet!.family];
      p.check(subnet!.prefix >= limit.min && subnet!.prefix <= limit.max, `${field}[${i}]`, cidr, limit.why);
      return subnet;
    });
    checkFamilies(field, values, parsed.map((s) => s?.family));
    return parsed.filter((s): s is ParsedCidr => s !== undefined);
  };
  const pods = parsedSubnets('bootstrap.podSubnets', b.podSubnets, {
    IPv4: { min: 8, max: 24, why: 'an IPv4 prefix from /8 to /24: each node takes a /24 of it' },
    IPv6: { min: 48, max: 64, why: 'an IPv6 prefix from /48 to /64: each node takes a /64 of it' },
  });
  const services = parsedSubnets('bootstrap.serviceSubnets', b.serviceSubnets, {
    IPv4: { min: 12, max: 28, why: 'an IPv4 prefix from /12 to /28: the API server allocates at most 2^20 Service addresses' },
    IPv6: { min: 108, max: 124, why: 'an IPv6 prefix from /108 to /124: the API server allocates at most 2^20 Service addresses' },
  });
  for (const [i, pod] of pods.entries()) {
    for (const service of services) {
      p.check(!overlaps(pod, service), `bootstrap.podSubnets[${i}]`, b.podSubnets[i],
        `a subnet that does not overlap the service subnet ${service.address.toString()}/${service.prefix}`);
    }
  }
}
