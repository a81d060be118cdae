import { withChange } from '../../test/helpers';
import { ENVIRONMENTS } from '../environments';
import { containerdConfig, containerdFiles, containerdRuntimeSettings, upstreamMirrorHosts } from './containerd';

const lab = ENVIRONMENTS.lab;
const withMirror = (mirror: string) =>
  withChange(lab, (e) => {
    e.registry.mirror = mirror;
  });

describe("containerd on the lab's nodes", () => {
  test('its settings as data, for code that configures a node without reading TOML', () => {
    expect(containerdRuntimeSettings(lab)).toEqual({
      socket: 'unix:///var/run/containerd/containerd.sock',
      cgroupDriver: 'systemd',
      defaultHandler: 'runc',
      sandboxHandler: 'runsc',
      sandboxImage: 'registry.k8s.io/pause:3.10.1',
      sandboxRuntimeType: 'io.containerd.runsc.v1',
      runscConfigPath: '/etc/containerd/runsc.toml',
      registryHostsDir: '/etc/containerd/certs.d',
      upstreamMirror: undefined,
    });
  });

  test('configuration format version 2, runc the default runtime', () => {
    const text = containerdConfig(lab);
    expect(text).toMatch(/^version = 2$/m);
    expect(text).toContain('[plugins."io.containerd.grpc.v1.cri".containerd]\n  default_runtime_name = "runc"\n');
    expect(text).toContain(
      '.runtimes.runsc.options]\n  TypeUrl = "io.containerd.runsc.v1.options"\n  ConfigPath = "/etc/containerd/runsc.toml"\n',
    );
  });

  test('the rendered files: configuration and runsc options; a hosts.toml only with a mirror', () => {
    expect([...containerdFiles(lab).keys()]).toEqual(['containerd-config.toml', 'runsc.toml']);
    expect([...containerdFiles(withMirror('harbor.lab.example/dockerhub')).keys()]).toContain(
      'containerd-certs.d/docker.io/hosts.toml',
    );
  });
});

describe("the upstream registry's mirror (hosts.toml)", () => {
  test('none where the mirror is the upstream registry itself', () => {
    expect(upstreamMirrorHosts(withMirror('docker.io'))).toBeUndefined();
  });

  test("a mirror at a registry's root: its URL, no path override", () => {
    const hosts = upstreamMirrorHosts(withMirror('mirror.lab.example'))!;
    expect(hosts.nodePath).toBe('/etc/containerd/certs.d/docker.io/hosts.toml');
    expect(hosts.text).toContain('[host."https://mirror.lab.example"]\n  capabilities = ["pull", "resolve"]\n');
    expect(hosts.text).not.toContain('override_path');
  });

  test('a mirror under a path, with a port: the API root in the URL, override_path', () => {
    const hosts = upstreamMirrorHosts(withMirror('harbor.lab.example:8443/proxy/dockerhub'))!;
    expect(hosts.text).toContain(
      '[host."https://harbor.lab.example:8443/v2/proxy/dockerhub"]\n  capabilities = ["pull", "resolve"]\n  override_path = true\n',
    );
  });
});
