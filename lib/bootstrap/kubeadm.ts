import { Environment, KubeadmBootstrap } from '../environment';
import { yamlDocuments } from '../k8s/yaml-output';

/**
 * The lab's control plane, as kubeadm builds it on the Proxmox VMs (a kubeadm lab with containerd:
 * https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm/). Not applied with kubectl: `kubeadm init --config dist/lab-bootstrap/kubeadm.yaml`
 * on the first control-plane VM reads it. It is written beside dist/lab/, not in it, so that
 * `kubectl apply -R -f dist/lab/` never sees these documents (kubectl knows none of their kinds).
 */

/** Where the file goes, relative to dist/<env>-bootstrap/ (lib/synth/render.ts). */
export const KUBEADM_CONFIG_FILE = 'kubeadm.yaml';

/** containerd's CRI socket, which kubeadm and the kubelet talk to. */
export const CONTAINERD_SOCKET = 'unix:///var/run/containerd/containerd.sock';

/**
 * The cgroup manager of the kubelet, and of containerd's runc and runsc on the node (containerd.ts):
 * kubelet and runtime must agree on one, or pods run under two
 * (https://kubernetes.io/docs/setup/production-environment/container-runtimes/#cgroup-drivers). One constant
 * for both sides, so they cannot drift apart.
 */
export const CGROUP_DRIVER: 'systemd' | 'cgroupfs' = 'systemd';

/**
 * kube-proxy's mode. IPVS: hash-table lookups instead of iptables' linear rule chains, which matters
 * in large clusters (https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-ipvs); the nodes load the IPVS kernel modules for it (cloud-init.ts).
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
        // Comma-separated, primary family first: dual-stack pods and Services
        // (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/dual-stack-support/).
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
  const header =
    `# kubeadm configuration for the "${env.name}" environment, rendered by lab-to-prod from lib/environments/${env.name}.ts.\n` +
    '# Not for kubectl: on the first control-plane node run `kubeadm init --config kubeadm.yaml`.\n' +
    '# Do not edit: change the TypeScript and run `npm run synth`.\n';
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

// parseSubnet is IP syntax (lib/k8s/ip-ranges.ts); the bootstrap values are checked with the
// environment (lib/environments/validate-bootstrap.ts). Re-exported for the node files built here.
export { parseSubnet } from '../k8s/ip-ranges';
