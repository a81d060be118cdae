import { dump } from 'js-yaml';
import { Environment, IpFamily, KubeadmBootstrap } from '../environment';
import {
  containerdConfig,
  CONTAINERD_CONFIG_PATH,
  containerdRuntimeSettings,
  runscConfig,
  upstreamMirrorHosts,
} from './containerd';
import { KUBE_PROXY_MODE, kubeadmConfig, parseSubnet } from './kubeadm';

/**
 * The lab's nodes as code: cloud-init user-data that turns a fresh VM of a Debian 13 cloud image into a
 * node kubeadm can build on (Proxmox gives the lab its VMs, cheap to destroy and rebuild). Proxmox VE passes it to the VM as its "user" config (`qm set --cicustom user=...`,
 * https://pve.proxmox.com/wiki/Cloud-Init_Support, "Custom Cloud-Init Configuration").
 *
 * Two files: the first control-plane node's, which ends with `kubeadm init --config` of the lab's
 * kubeadm.yaml (carried inside), and the joining nodes' (more control-plane nodes and the workers),
 * which stops before `kubeadm join`: the join token and CA hash are made on the running cluster and
 * typed by the user, never rendered. Every setting the cluster's YAML also carries comes from where that
 * YAML takes it: containerd's texts from containerd.ts, the kube-proxy mode from kubeadm.ts, the IP
 * families from the kubeadm subnets, the Kubernetes release from env.bootstrap.kubernetesVersion.
 */

export type NodeRole = 'first-control-plane' | 'join';

/** Where the files go, relative to dist/<env>-bootstrap/ (lib/synth/render.ts), with cloud-init's own suffix. */
export const USER_DATA_FILES: Readonly<Record<NodeRole, string>> = {
  'first-control-plane': 'user-data-first-control-plane.cfg',
  join: 'user-data-join.cfg',
};

/** Where the first control-plane node keeps the kubeadm configuration it was built from. */
export const NODE_KUBEADM_CONFIG_PATH = '/etc/lab-to-prod/kubeadm.yaml';

/** Writes the kubelet's --node-ip on a joining node (the first control-plane node's is in kubeadm.yaml). */
export const NODE_IP_SCRIPT_PATH = '/usr/local/sbin/lab-to-prod-node-ip';

/**
 * The Kubernetes package repository of the release's minor version, and its signing key:
 * https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/ (Debian-based
 * distributions: pkgs.k8s.io/core:/stable:/v1.NN/deb/, Release.key, apt-mark hold). Its packages are
 * versioned `1.35.4-1.1`, so `1.35.4-*` pins the release.
 */
export function kubernetesPackages(bootstrap: KubeadmBootstrap) {
  const release = bootstrap.kubernetesVersion.replace(/^v/, '');
  const minor = release.split('.').slice(0, 2).join('.');
  const repository = `https://pkgs.k8s.io/core:/stable:/v${minor}/deb/`;
  return {
    keyUrl: `${repository}Release.key`,
    keyring: '/etc/apt/keyrings/kubernetes-apt-keyring.gpg',
    source: `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] ${repository} /`,
    pins: ['kubelet', 'kubeadm', 'kubectl'].map((name) => `${name}=${release}-*`),
  };
}

/**
 * gVisor's apt repository; its `runsc` package carries runsc and containerd-shim-runsc-v1, the shim
 * containerd starts for runtime_type io.containerd.runsc.v1. https://gvisor.dev/docs/user_guide/install/
 * ("Install from an apt repository": gvisor.dev/archive.key, storage.googleapis.com/gvisor/releases
 * release main) and https://gvisor.dev/docs/user_guide/containerd/quick_start/.
 */
const GVISOR = {
  keyUrl: 'https://gvisor.dev/archive.key',
  keyring: '/usr/share/keyrings/gvisor-archive-keyring.gpg',
  source:
    'deb [signed-by=/usr/share/keyrings/gvisor-archive-keyring.gpg] https://storage.googleapis.com/gvisor/releases release main',
};

/**
 * Kernel modules: overlay (containerd's snapshotter) and br_netfilter (bridged pod traffic through
 * iptables), https://kubernetes.io/docs/setup/production-environment/container-runtimes/; and, for
 * kube-proxy in IPVS mode, IPVS with the schedulers it uses and connection tracking
 * (https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/ipvs/README.md, "Prerequisite").
 */
function kernelModules(): string[] {
  const ipvs = KUBE_PROXY_MODE === 'ipvs' ? ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack'] : [];
  return ['overlay', 'br_netfilter', ...ipvs];
}

/** The cluster's IP families in its order, read from the kubeadm pod subnets (validated: one per family). */
function clusterFamilies(bootstrap: KubeadmBootstrap): IpFamily[] {
  return bootstrap.podSubnets.map((cidr) => parseSubnet(cidr)!.family);
}

/** Bridged traffic through iptables and ip6tables, and forwarding for every family the pods use. */
function sysctls(bootstrap: KubeadmBootstrap): string[] {
  const families = clusterFamilies(bootstrap);
  return [
    'net.bridge.bridge-nf-call-iptables = 1',
    'net.bridge.bridge-nf-call-ip6tables = 1',
    ...(families.includes('IPv4') ? ['net.ipv4.ip_forward = 1'] : []),
    ...(families.includes('IPv6') ? ['net.ipv6.conf.all.forwarding = 1'] : []),
  ];
}

/**
 * A joining node's kubelet must be told all its addresses, or on a dual-stack cluster it reports only
 * one family. The kubelet's unit reads KUBELET_EXTRA_ARGS from /etc/default/kubelet
 * (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubelet-integration/).
 * The addresses are the node's own, found at boot on the interface of its default route.
 */
function nodeIpScript(bootstrap: KubeadmBootstrap): string {
  const families = clusterFamilies(bootstrap).map((f) => (f === 'IPv4' ? '4' : '6'));
  return [
    '#!/bin/sh',
    `# Writes the kubelet's --node-ip: this node's global addresses, one per IP family of the cluster (${clusterFamilies(bootstrap).join(', ')}),`,
    '# on the interface of its default route. Rendered by lab-to-prod.',
    'set -eu',
    `dev=$(ip -${families[0]} route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')`,
    '[ -n "$dev" ] || { echo "node-ip: no default route" >&2; exit 1; }',
    'ips=',
    `for family in ${families.join(' ')}; do`,
    `  address=$(ip -o "-$family" address show dev "$dev" scope global | awk '$0 !~ / (temporary|deprecated) / { sub("/.*", "", $4); print $4; exit }')`,
    '  [ -n "$address" ] || { echo "node-ip: no global IPv$family address on $dev" >&2; exit 1; }',
    '  ips="${ips:+$ips,}$address"',
    'done',
    'echo "KUBELET_EXTRA_ARGS=--node-ip=$ips" > /etc/default/kubelet',
    '',
  ].join('\n');
}

interface WriteFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
  /** Written after the packages are installed (cloud-init's final stage), so no package overwrites it. */
  readonly defer?: boolean;
}

/** The user-data of one kind of node, as an object (cloud-init's #cloud-config keys). */
export function nodeUserDataObject(env: Environment, role: NodeRole): Record<string, unknown> {
  const bootstrap = env.bootstrap;
  if (bootstrap === undefined) {
    throw new Error(
      `environment "${env.name}": bootstrap: the nodes' user-data needs a kubeadm bootstrap; a managed cluster has none`,
    );
  }
  const kubernetes = kubernetesPackages(bootstrap);
  const mirror = upstreamMirrorHosts(env);
  const runtime = containerdRuntimeSettings(env);

  const writeFiles: WriteFile[] = [
    { path: '/etc/modules-load.d/lab-to-prod.conf', content: `${kernelModules().join('\n')}\n`, permissions: '0644' },
    { path: '/etc/sysctl.d/90-lab-to-prod.conf', content: `${sysctls(bootstrap).join('\n')}\n`, permissions: '0644' },
    // The package repositories are written late: the packages step's `apt-get update` runs before
    // runcmd has fetched their keys.
    {
      path: '/etc/apt/sources.list.d/kubernetes.list',
      content: `${kubernetes.source}\n`,
      permissions: '0644',
      defer: true,
    },
    { path: '/etc/apt/sources.list.d/gvisor.list', content: `${GVISOR.source}\n`, permissions: '0644', defer: true },
    // The containerd package ships its own config.toml; ours replaces it once the package is in.
    { path: CONTAINERD_CONFIG_PATH, content: containerdConfig(env), permissions: '0644', defer: true },
    { path: runtime.runscConfigPath, content: runscConfig(env), permissions: '0644', defer: true },
    ...(mirror === undefined
      ? []
      : [{ path: mirror.nodePath, content: mirror.text, permissions: '0644', defer: true }]),
    ...(role === 'first-control-plane'
      ? [{ path: NODE_KUBEADM_CONFIG_PATH, content: kubeadmConfig(env, bootstrap), permissions: '0600' }]
      : [{ path: NODE_IP_SCRIPT_PATH, content: nodeIpScript(bootstrap), permissions: '0755' }]),
  ];

  const runcmd = [
    // Stop at the first failing step: kubeadm must not run on a half-prepared node.
    'set -eux',
    // Swap off: the kubelet's memory accounting assumes it (kubeadm.yaml: failSwapOn).
    'swapoff -a',
    "sed -i '/\\sswap\\s/ s/^[^#]/#&/' /etc/fstab",
    'systemctl restart systemd-modules-load.service',
    'sysctl --system',
    // AppArmor on: the lab's pods ask for the runtime's default profile (appArmorProfile: RuntimeDefault).
    'systemctl enable --now apparmor.service',
    'test "$(cat /sys/module/apparmor/parameters/enabled)" = Y',
    'install -d -m 0755 /etc/apt/keyrings',
    `curl -fsSL -o /run/kubernetes-apt.key ${kubernetes.keyUrl}`,
    `gpg --dearmor --yes -o ${kubernetes.keyring} /run/kubernetes-apt.key`,
    `curl -fsSL -o /run/gvisor-apt.key ${GVISOR.keyUrl}`,
    `gpg --dearmor --yes -o ${GVISOR.keyring} /run/gvisor-apt.key`,
    'apt-get update',
    `DEBIAN_FRONTEND=noninteractive apt-get install -y ${kubernetes.pins.map((p) => `'${p}'`).join(' ')} runsc`,
    // kubeadm upgrades these on purpose, one minor version at a time; apt must not do it by the way.
    'apt-mark hold kubelet kubeadm kubectl',
    'command -v runsc',
    'command -v containerd-shim-runsc-v1',
    'systemctl restart containerd',
    ...(role === 'first-control-plane'
      ? [`kubeadm init --config ${NODE_KUBEADM_CONFIG_PATH}`]
      : // Ready for `kubeadm join`, with the token and CA hash the user brings (README: The lab on Proxmox).
        [NODE_IP_SCRIPT_PATH]),
  ];

  return {
    package_update: true,
    // Debian 13's own packages: containerd 1.7 and runc; AppArmor; ipset and ipvsadm for IPVS; and
    // what fetching the other repositories' keys needs.
    packages: [
      'containerd',
      'runc',
      'apparmor',
      ...(KUBE_PROXY_MODE === 'ipvs' ? ['ipset', 'ipvsadm'] : []),
      'curl',
      'gpg',
      'ca-certificates',
    ],
    write_files: writeFiles,
    runcmd,
  };
}

/** The user-data text: `#cloud-config`, a header, then the keys. */
export function nodeUserData(env: Environment, role: NodeRole): string {
  const what =
    role === 'first-control-plane'
      ? "the first control-plane node: prepares it and runs `kubeadm init` with the lab's kubeadm.yaml"
      : 'joining nodes (control plane and workers): prepares them for `kubeadm join`, the command the running cluster prints for you';
  return (
    '#cloud-config\n' +
    `# cloud-init user-data for ${what}.\n` +
    `# Rendered by lab-to-prod for the "${env.name}" environment from lib/environments/${env.name}.ts; Proxmox VE takes it with\n` +
    "# `qm set <vmid> --cicustom user=<storage>:snippets/<file>` (the README's lab section appends the VM's host name and your SSH key).\n" +
    '# Do not edit: change the TypeScript and run `npm run synth`.\n' +
    dump(nodeUserDataObject(env, role), { lineWidth: -1, noRefs: true, quoteStyle: 'double' })
  );
}

/** The nodes' user-data files under dist/<env>-bootstrap/: none without `bootstrap`. */
export function nodeUserDataFiles(env: Environment): Map<string, string> {
  const files = new Map<string, string>();
  if (env.bootstrap === undefined) {
    return files;
  }
  for (const role of ['first-control-plane', 'join'] as const) {
    files.set(USER_DATA_FILES[role], nodeUserData(env, role));
  }
  return files;
}
