import { Environment } from '../environment';
import { releaseOf } from '../kubernetes-versions';
import { CGROUP_DRIVER, CONTAINERD_SOCKET } from './kubeadm';

/**
 * containerd on the lab's nodes: the CRI runtime the kubelet talks to, and the OCI runtimes behind it
 * (kubelet → CRI → containerd → runc, or gVisor's runsc for a RuntimeClass;
 * https://kubernetes.io/docs/concepts/architecture/cri/). Every value
 * the cluster's YAML also carries comes from the same place: the cgroup driver from CGROUP_DRIVER (the
 * kubelet's), the runsc handler from env.sandboxRuntime.handler (the RuntimeClass's), the registry
 * mirror from env.registry.mirror (the images'). The nodes' cloud-init user-data (cloud-init.ts) writes
 * these very texts, and code that configures a node (the cluster tests' real node) can read them, or
 * the data of containerdRuntimeSettings, instead of keeping its own copy.
 */

/** Where the rendered files go, relative to dist/<env>-bootstrap/ (lib/synth/render.ts). */
export const CONTAINERD_CONFIG_FILE = 'containerd-config.toml';
export const RUNSC_CONFIG_FILE = 'runsc.toml';

/** Where they go on a node. */
export const CONTAINERD_CONFIG_PATH = '/etc/containerd/config.toml';
export const RUNSC_CONFIG_PATH = '/etc/containerd/runsc.toml';
/**
 * containerd's registry hosts directory: one `<registry>/hosts.toml` per registry it should reach
 * another way. https://github.com/containerd/containerd/blob/main/docs/hosts.md ("CRI": point the
 * registry config_path at it; the older registry.mirrors settings are deprecated).
 */
export const REGISTRY_HOSTS_DIR = '/etc/containerd/certs.d';

/** The registry images name when they name none (`nginx` is `docker.io/library/nginx`), and its API host. */
const UPSTREAM_REGISTRY = 'docker.io';
const UPSTREAM_REGISTRY_SERVER = 'https://registry-1.docker.io';

/** What containerd on a node is set to, as data: the same values its configuration text carries. */
export interface ContainerdRuntimeSettings {
  /** The CRI socket the kubelet and kubeadm use. */
  readonly socket: string;
  /** The cgroup manager of runc and runsc, the kubelet's cgroupDriver. */
  readonly cgroupDriver: 'systemd' | 'cgroupfs';
  /** runc's containerd runtime name; the default, for pods without a RuntimeClass. */
  readonly defaultHandler: 'runc';
  /** The runtime name gVisor's shim is registered under: the RuntimeClass's handler. */
  readonly sandboxHandler: string;
  /** containerd's runtime_type for gVisor: it runs the shim binary containerd-shim-runsc-v1. */
  readonly sandboxRuntimeType: 'io.containerd.runsc.v1';
  /** The runsc shim's own configuration file (runsc flags), as the containerd configuration names it. */
  readonly runscConfigPath: string;
  /** containerd's registry hosts directory (config_path). */
  readonly registryHostsDir: string;
  /**
   * The pod sandbox ("pause") image: the one kubeadm of the environment's Kubernetes version pulls
   * (lib/kubernetes-versions.ts). kubeadm's preflight warns when containerd's differs, and the
   * kubelet would otherwise hold a second pause image that nothing else uses.
   */
  readonly sandboxImage: string;
  /**
   * The registry mirror for the upstream registry, when env.registry.mirror names one: its host.toml
   * path on the node and the mirror's URL; undefined when images come from the upstream registry itself.
   */
  readonly upstreamMirror?: { readonly registry: string; readonly hostsFile: string; readonly url: string };
}

export function containerdRuntimeSettings(env: Environment): ContainerdRuntimeSettings {
  const [mirrorHost, ...mirrorPath] = env.registry.mirror.split('/');
  const upstreamMirror =
    mirrorHost === UPSTREAM_REGISTRY
      ? undefined
      : {
          registry: UPSTREAM_REGISTRY,
          hostsFile: `${REGISTRY_HOSTS_DIR}/${UPSTREAM_REGISTRY}/hosts.toml`,
          // A mirror under a path (a Harbor proxy project: harbor.lab.example/dockerhub) serves the registry
          // API below that path; the URL then names the API root itself and hosts.toml says override_path.
          url: mirrorPath.length === 0 ? `https://${mirrorHost}` : `https://${mirrorHost}/v2/${mirrorPath.join('/')}`,
        };
  return {
    socket: CONTAINERD_SOCKET,
    cgroupDriver: CGROUP_DRIVER,
    defaultHandler: 'runc',
    sandboxHandler: env.sandboxRuntime.handler,
    sandboxRuntimeType: 'io.containerd.runsc.v1',
    runscConfigPath: RUNSC_CONFIG_PATH,
    registryHostsDir: REGISTRY_HOSTS_DIR,
    sandboxImage: `registry.k8s.io/pause:${releaseOf(env.kubernetesVersion).kubeadmImages.pause}`,
    upstreamMirror,
  };
}

/** A TOML basic string; JSON's escapes are TOML's for every character these files hold. */
const tomlString = (value: string): string => JSON.stringify(value);

function header(env: Environment, what: string, nodePath: string): string {
  return (
    `# ${what} for the "${env.name}" environment's nodes, rendered by lab-to-prod from lib/environments/${env.name}.ts.\n` +
    `# Goes to ${nodePath} (the nodes' cloud-init user-data writes it there).\n` +
    '# Do not edit: change the TypeScript and run `npm run synth`.\n'
  );
}

/**
 * /etc/containerd/config.toml. Format version 2, which containerd 1.7 reads and 2.x migrates on load.
 * Runtimes, after https://gvisor.dev/docs/user_guide/containerd/configuration/ ("Containerd 1.3+"):
 * runc through io.containerd.runc.v2, runsc through io.containerd.runsc.v1 under the RuntimeClass's
 * handler name, its options in a file of their own (ConfigPath).
 */
export function containerdConfig(env: Environment): string {
  const s = containerdRuntimeSettings(env);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return (
    header(env, 'containerd configuration', CONTAINERD_CONFIG_PATH) +
    'version = 2\n' +
    '\n' +
    '# The socket the kubelet and kubeadm are told to use (criSocket, containerRuntimeEndpoint).\n' +
    '[grpc]\n' +
    `  address = ${tomlString(s.socket.replace(/^unix:\/\//, ''))}\n` +
    '\n' +
    `# The pod sandbox image kubeadm ${env.kubernetesVersion} pulls (kubeadm config images list).\n` +
    `[${cri}]\n` +
    `  sandbox_image = ${tomlString(s.sandboxImage)}\n` +
    '\n' +
    `[${cri}.containerd]\n` +
    `  default_runtime_name = ${tomlString(s.defaultHandler)}\n` +
    '\n' +
    `[${cri}.containerd.runtimes.${s.defaultHandler}]\n` +
    '  runtime_type = "io.containerd.runc.v2"\n' +
    '\n' +
    `[${cri}.containerd.runtimes.${s.defaultHandler}.options]\n` +
    `  SystemdCgroup = ${s.cgroupDriver === 'systemd'}\n` +
    '\n' +
    `# gVisor: pods of the RuntimeClass whose handler is "${s.sandboxHandler}" run in runsc's user-space kernel.\n` +
    `[${cri}.containerd.runtimes.${s.sandboxHandler}]\n` +
    `  runtime_type = ${tomlString(s.sandboxRuntimeType)}\n` +
    '\n' +
    `[${cri}.containerd.runtimes.${s.sandboxHandler}.options]\n` +
    '  TypeUrl = "io.containerd.runsc.v1.options"\n' +
    `  ConfigPath = ${tomlString(s.runscConfigPath)}\n` +
    '\n' +
    `# Registries reached another way (a mirror) have a <registry>/hosts.toml here.\n` +
    `[${cri}.registry]\n` +
    `  config_path = ${tomlString(s.registryHostsDir)}\n`
  );
}

/**
 * /etc/containerd/runsc.toml: flags for runsc, passed by its containerd shim. With the systemd cgroup
 * driver the kubelet's pod cgroups are systemd slices, and containerd hands every runtime a cgroup path
 * in systemd's "slice:prefix:name" form (containerd's CRI getCgroupsPath: any parent ending in .slice);
 * runsc reads that form only with systemd-cgroup set
 * (https://gvisor.dev/docs/user_guide/containerd/configuration/, "systemd cgroups").
 */
export function runscConfig(env: Environment): string {
  const s = containerdRuntimeSettings(env);
  return (
    header(env, 'gVisor runsc shim configuration', s.runscConfigPath) +
    '[runsc_config]\n' +
    `  systemd-cgroup = ${tomlString(String(s.cgroupDriver === 'systemd'))}\n`
  );
}

/**
 * The hosts.toml that sends the upstream registry's pulls to the environment's mirror, keeping the
 * upstream registry as the fallback (`server`), or undefined without a mirror. Images this project
 * renders already name the mirror; this covers the rest (add-ons, `crictl pull nginx`).
 * https://github.com/containerd/containerd/blob/main/docs/hosts.md (server, host, capabilities, override_path)
 */
export function upstreamMirrorHosts(
  env: Environment,
): { readonly nodePath: string; readonly text: string } | undefined {
  const mirror = containerdRuntimeSettings(env).upstreamMirror;
  if (mirror === undefined) {
    return undefined;
  }
  const overridePath = mirror.url.includes('/v2/');
  const text =
    header(env, `containerd registry hosts for ${mirror.registry}`, mirror.hostsFile) +
    `server = ${tomlString(UPSTREAM_REGISTRY_SERVER)}\n` +
    '\n' +
    `[host.${tomlString(mirror.url)}]\n` +
    '  capabilities = ["pull", "resolve"]\n' +
    (overridePath ? '  override_path = true\n' : '');
  return { nodePath: mirror.hostsFile, text };
}

/** The files of the node's container runtime under dist/<env>-bootstrap/: none without `bootstrap`. */
export function containerdFiles(env: Environment): Map<string, string> {
  const files = new Map<string, string>();
  if (env.bootstrap === undefined) {
    return files;
  }
  files.set(CONTAINERD_CONFIG_FILE, containerdConfig(env));
  files.set(RUNSC_CONFIG_FILE, runscConfig(env));
  const hosts = upstreamMirrorHosts(env);
  if (hosts !== undefined) {
    files.set(`containerd-certs.d/${containerdRuntimeSettings(env).upstreamMirror!.registry}/hosts.toml`, hosts.text);
  }
  return files;
}
