import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments, parse } from 'yaml';
import { withChange } from '../../test/helpers';
import { Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import {
  NODE_KUBEADM_CONFIG_PATH,
  nodeUserData,
  nodeUserDataFiles,
  nodeUserDataObject,
  USER_DATA_FILES,
} from './cloud-init';
import {
  containerdConfig,
  containerdFiles,
  containerdRuntimeSettings,
  CONTAINERD_CONFIG_FILE,
  runscConfig,
} from './containerd';
import { bootstrapFiles, KUBEADM_CONFIG_FILE } from './kubeadm';

const lab = ENVIRONMENTS.lab;

/** The user-data as cloud-init reads it: the `#cloud-config` keys. */
const userData = (env: Environment, role: 'first-control-plane' | 'join'): any => parse(nodeUserData(env, role));
const writtenFile = (data: any, nodePath: string): any => data.write_files.find((f: any) => f.path === nodePath);

// ---------------------------------------------------------------------------------------------
// cloud-init's own schema check

const INSTALL_HINT =
  'cloud-init is not installed, so the rendered user-data cannot be checked against its schema. ' +
  'Install it: `sudo apt-get install -y cloud-init` (Debian, Ubuntu). `npm run test:unit` installs it itself on a CI machine ' +
  '(scripts/ensure-cloud-init.sh, run as root with CI=true).';

/** `cloud-init schema --config-file`: its exit status and what it said. Fails the test if cloud-init is missing. */
function cloudInitSchema(text: string): { status: number | null; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'user-data-'));
  try {
    const file = path.join(dir, 'user-data.cfg');
    fs.writeFileSync(file, text);
    const run = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    if (run.error && 'code' in run.error && run.error.code === 'ENOENT') {
      throw new Error(INSTALL_HINT);
    }
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The README's recipe: Proxmox uses this file instead of its own user-data, so the VM's name and the reader's SSH key are appended. */
const withSshKey = (text: string): string =>
  `${text}hostname: lab-worker-1\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTheSchemaCheck reader@laptop\n`;

const harborLab = withChange(lab, (e) => {
  e.registry.mirror = 'harbor.lab.example/dockerhub';
});

describe('cloud-init accepts the user-data (cloud-init schema --config-file)', () => {
  test.each([
    ['the first control-plane node', nodeUserData(lab, 'first-control-plane')],
    ['joining nodes', nodeUserData(lab, 'join')],
    [
      "the first control-plane node with a host name and the reader's SSH key appended",
      withSshKey(nodeUserData(lab, 'first-control-plane')),
    ],
    ["joining nodes with a host name and the reader's SSH key appended", withSshKey(nodeUserData(lab, 'join'))],
    ['joining nodes of a lab with a registry mirror', nodeUserData(harborLab, 'join')],
  ])('%s', (_what, text) => {
    const result = cloudInitSchema(text);
    expect(result).toEqual({ status: 0, output: expect.stringContaining('Valid cloud-config') });
  });

  test('the check fails on user-data cloud-init would not accept (a file to write without a path)', () => {
    const broken = nodeUserData(lab, 'join').replace(
      '  - path: /etc/modules-load.d/lab-to-prod.conf\n    content:',
      '  - content:',
    );
    expect(broken).not.toBe(nodeUserData(lab, 'join'));
    const result = cloudInitSchema(broken);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("'path' is a required property");
  });
});

// ---------------------------------------------------------------------------------------------
// What the nodes get

describe("the lab's node user-data", () => {
  const first = userData(lab, 'first-control-plane');
  const join = userData(lab, 'join');

  test('is #cloud-config, two .cfg files (dist/lab-bootstrap/, beside what kubectl applies)', () => {
    expect([...nodeUserDataFiles(lab).keys()]).toEqual([USER_DATA_FILES['first-control-plane'], USER_DATA_FILES.join]);
    for (const [file, text] of nodeUserDataFiles(lab)) {
      expect(text.split('\n')[0]).toBe('#cloud-config');
      expect(file).toMatch(/^[^/]+\.cfg$/);
    }
  });

  test("the first control-plane node carries the lab's kubeadm.yaml and ends with kubeadm init of it", () => {
    expect(writtenFile(first, NODE_KUBEADM_CONFIG_PATH).content).toBe(bootstrapFiles(lab).get(KUBEADM_CONFIG_FILE));
    expect(first.runcmd.at(-1)).toBe(`kubeadm init --config ${NODE_KUBEADM_CONFIG_PATH}`);
  });

  test('joining nodes stop before kubeadm join: no token, no CA hash, no kubeadm run', () => {
    const text = nodeUserData(lab, 'join');
    expect(text).not.toMatch(/token|ca-cert-hash|certificate-key/i);
    expect(join.runcmd.filter((c: string) => /kubeadm (init|join)/.test(c))).toEqual([]);
    expect(writtenFile(join, NODE_KUBEADM_CONFIG_PATH)).toBeUndefined();
  });

  test.each([['first-control-plane'], ['join']] as const)(
    '%s: stops at the first failing step, swap off, AppArmor on',
    (role) => {
      const data = userData(lab, role);
      expect(data.runcmd[0]).toBe('set -eux');
      expect(data.runcmd).toEqual(expect.arrayContaining(['swapoff -a', 'systemctl enable --now apparmor.service']));
      expect(data.packages).toEqual(expect.arrayContaining(['containerd', 'runc', 'apparmor']));
    },
  );

  test("containerd's configuration is written after its package is installed, so the package cannot replace it", () => {
    expect(writtenFile(join, '/etc/containerd/config.toml')).toMatchObject({ defer: true });
    expect(writtenFile(join, '/etc/containerd/runsc.toml')).toMatchObject({ defer: true });
  });

  test('managed environments have no node user-data, and asking for it is a clear error', () => {
    for (const name of ['prod-eks', 'prod-gke', 'prod-aks'] as const) {
      expect(nodeUserDataFiles(ENVIRONMENTS[name]).size).toBe(0);
      expect(containerdFiles(ENVIRONMENTS[name]).size).toBe(0);
    }
    expect(() => nodeUserDataObject(ENVIRONMENTS['prod-eks'], 'join')).toThrow('environment "prod-eks": bootstrap:');
  });
});

// ---------------------------------------------------------------------------------------------
// One source for every value the nodes share with the cluster's YAML

describe("the nodes and the cluster's YAML agree", () => {
  const rendered = renderEnvironment(lab);
  const kubeadm = parseAllDocuments(rendered.bootstrapFiles.get(KUBEADM_CONFIG_FILE)!).map((d) => d.toJS());
  const kubeadmDoc = (kind: string) => kubeadm.find((d) => d.kind === kind);
  const object = (kind: string) => rendered.objects.find((o) => o.object.kind === kind)!.object;
  const settings = containerdRuntimeSettings(lab);

  test.each([['first-control-plane'], ['join']] as const)(
    '%s: writes the rendered containerd and runsc configuration, byte for byte',
    (role) => {
      const data = userData(lab, role);
      expect(writtenFile(data, '/etc/containerd/config.toml').content).toBe(
        rendered.bootstrapFiles.get(CONTAINERD_CONFIG_FILE),
      );
      expect(writtenFile(data, settings.runscConfigPath).content).toBe(rendered.bootstrapFiles.get('runsc.toml'));
    },
  );

  test("the cgroup driver: the kubelet's is runc's and runsc's", () => {
    expect(kubeadmDoc('KubeletConfiguration').cgroupDriver).toBe(settings.cgroupDriver);
    expect(settings.cgroupDriver).toBe('systemd');
    expect(containerdConfig(lab)).toContain(
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n  SystemdCgroup = true\n',
    );
    expect(runscConfig(lab)).toContain('[runsc_config]\n  systemd-cgroup = "true"\n');
  });

  test('the CRI socket: the one kubeadm and the kubelet use is the one containerd listens on', () => {
    expect(kubeadmDoc('KubeletConfiguration').containerRuntimeEndpoint).toBe(settings.socket);
    expect(containerdConfig(lab)).toContain(`[grpc]\n  address = "${settings.socket.replace('unix://', '')}"\n`);
  });

  test("the runtime handler: the RuntimeClass's is the name gVisor's shim is registered under", () => {
    expect(object('RuntimeClass').handler).toBe(settings.sandboxHandler);
    expect(containerdConfig(lab)).toContain(
      `.containerd.runtimes.${object('RuntimeClass').handler}]\n  runtime_type = "io.containerd.runsc.v1"\n`,
    );
    const renamed = withChange(lab, (e) => {
      e.sandboxRuntime.handler = 'gvisor-sandbox';
    });
    expect(containerdConfig(renamed)).toContain(
      '.containerd.runtimes.gvisor-sandbox]\n  runtime_type = "io.containerd.runsc.v1"\n',
    );
    expect(containerdConfig(renamed)).not.toContain('.runtimes.runsc]');
  });

  test('the Kubernetes release: the packages installed are the release kubeadm.yaml names', () => {
    const release = kubeadmDoc('ClusterConfiguration').kubernetesVersion;
    expect(release).toBe('v1.35.4');
    const install = userData(lab, 'join').runcmd.find((c: string) => c.includes('apt-get install'));
    expect(install).toContain("'kubelet=1.35.4-*' 'kubeadm=1.35.4-*' 'kubectl=1.35.4-*'");
    expect(writtenFile(userData(lab, 'join'), '/etc/apt/sources.list.d/kubernetes.list').content).toContain(
      'https://pkgs.k8s.io/core:/stable:/v1.35/deb/ /',
    );
    const patched = withChange(lab, (e) => {
      e.bootstrap.kubernetesVersion = 'v1.35.3';
    });
    expect(nodeUserData(patched, 'join')).toContain("'kubeadm=1.35.3-*'");
  });

  test('the dual-stack subnets: the first node builds from the same networking; every node forwards both families', () => {
    const carried = parseAllDocuments(
      writtenFile(userData(lab, 'first-control-plane'), NODE_KUBEADM_CONFIG_PATH).content,
    ).map((d) => d.toJS());
    expect(carried.find((d) => d.kind === 'ClusterConfiguration').networking).toEqual(
      kubeadmDoc('ClusterConfiguration').networking,
    );
    const sysctl = writtenFile(userData(lab, 'join'), '/etc/sysctl.d/90-lab-to-prod.conf').content;
    expect(sysctl).toContain('net.ipv4.ip_forward = 1');
    expect(sysctl).toContain('net.ipv6.conf.all.forwarding = 1');
    expect(writtenFile(userData(lab, 'join'), '/usr/local/sbin/lab-to-prod-node-ip').content).toContain(
      'for family in 4 6; do',
    );
  });

  test('a single-stack lab forwards and reports one family only', () => {
    const ipv4Only = withChange(lab, (e) => {
      e.loadBalancing.ipFamilies = ['IPv4'];
      e.bootstrap.podSubnets = ['10.244.0.0/16'];
      e.bootstrap.serviceSubnets = ['10.96.0.0/16'];
      e.bootstrap.nodeAddresses = ['192.168.50.11'];
    });
    const data = userData(ipv4Only, 'join');
    expect(writtenFile(data, '/etc/sysctl.d/90-lab-to-prod.conf').content).not.toContain('ipv6');
    expect(writtenFile(data, '/usr/local/sbin/lab-to-prod-node-ip').content).toContain('for family in 4; do');
  });

  test("kube-proxy's mode: IPVS in kubeadm.yaml, so the nodes load the IPVS modules and tools", () => {
    expect(kubeadmDoc('KubeProxyConfiguration').mode).toBe('ipvs');
    const data = userData(lab, 'join');
    expect(writtenFile(data, '/etc/modules-load.d/lab-to-prod.conf').content.split('\n')).toEqual(
      expect.arrayContaining(['overlay', 'br_netfilter', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack']),
    );
    expect(data.packages).toEqual(expect.arrayContaining(['ipset', 'ipvsadm']));
  });

  test('the registry mirror: the lab pulls from the upstream registry itself, so no hosts.toml', () => {
    expect(object('Deployment').spec.template.spec.containers[0].image).toMatch(new RegExp(`^${lab.registry.mirror}/`));
    expect(settings.upstreamMirror).toBeUndefined();
    expect([...rendered.bootstrapFiles.keys()].filter((f) => f.includes('hosts.toml'))).toEqual([]);
    expect(containerdConfig(lab)).toContain('config_path = "/etc/containerd/certs.d"');
  });

  test('the registry mirror: with one, its hosts.toml is rendered and written to every node', () => {
    const hostsFile = '/etc/containerd/certs.d/docker.io/hosts.toml';
    const rendered = containerdFiles(harborLab).get('containerd-certs.d/docker.io/hosts.toml');
    expect(rendered).toContain(
      'server = "https://registry-1.docker.io"\n\n[host."https://harbor.lab.example/v2/dockerhub"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n',
    );
    for (const role of ['first-control-plane', 'join'] as const) {
      expect(writtenFile(userData(harborLab, role), hostsFile)).toMatchObject({ content: rendered, defer: true });
    }
  });
});
