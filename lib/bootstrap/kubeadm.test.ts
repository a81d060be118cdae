import { parseAllDocuments } from 'yaml';
import { withChange } from '../../test/helpers';
import { ENVIRONMENTS } from '../environments';
import { validateEnvironment } from '../environments/validate';
import { ValidationError } from '../k8s/validation';
import { bootstrapFiles, CONTAINERD_SOCKET, KUBEADM_CONFIG_FILE, parseSubnet } from './kubeadm';

const lab = ENVIRONMENTS.lab;

describe("the lab's kubeadm configuration", () => {
  const text = bootstrapFiles(lab).get(KUBEADM_CONFIG_FILE)!;
  const docs = parseAllDocuments(text).map((d) => d.toJS());
  const doc = (kind: string) => docs.find((d) => d.kind === kind);

  test("one multi-document file: kubeadm's two documents (v1beta4), the kubelet's and kube-proxy's", () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'kubeadm.k8s.io/v1beta4 InitConfiguration',
      'kubeadm.k8s.io/v1beta4 ClusterConfiguration',
      'kubelet.config.k8s.io/v1beta1 KubeletConfiguration',
      'kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration',
    ]);
  });

  test('dual-stack pod and service subnets, primary family first', () => {
    expect(doc('ClusterConfiguration').networking).toMatchObject({
      podSubnet: '10.244.0.0/16,fd00:10:244::/56',
      serviceSubnet: '10.96.0.0/16,fd00:10:96::/112',
    });
    expect(doc('InitConfiguration').nodeRegistration.kubeletExtraArgs).toEqual([
      { name: 'node-ip', value: lab.bootstrap!.nodeAddresses.join(',') },
    ]);
  });

  test("containerd's socket, the systemd cgroup driver, IPVS with strict ARP for MetalLB", () => {
    expect(doc('InitConfiguration').nodeRegistration.criSocket).toBe(CONTAINERD_SOCKET);
    expect(CONTAINERD_SOCKET).toBe('unix:///var/run/containerd/containerd.sock');
    expect(doc('KubeletConfiguration').cgroupDriver).toBe('systemd');
    expect(doc('KubeProxyConfiguration')).toMatchObject({ mode: 'ipvs', ipvs: { strictARP: true } });
  });

  test('the version and endpoint from the environment; no join token in the file', () => {
    expect(doc('ClusterConfiguration')).toMatchObject({
      kubernetesVersion: lab.bootstrap!.kubernetesVersion,
      controlPlaneEndpoint: lab.bootstrap!.controlPlaneEndpoint,
    });
    expect(doc('InitConfiguration').bootstrapTokens).toBeUndefined();
    expect(text).not.toMatch(/token/i);
  });

  test('managed environments have no bootstrap file', () => {
    for (const name of ['prod-eks', 'prod-gke', 'prod-aks'] as const) {
      expect(bootstrapFiles(ENVIRONMENTS[name]).size).toBe(0);
    }
  });
});

describe('parseSubnet', () => {
  test.each([
    ['10.244.0.0/16', 'IPv4', 16],
    ['fd00:10:244::/56', 'IPv6', 56],
  ])('%s parses', (cidr, family, prefix) => {
    expect(parseSubnet(cidr)).toMatchObject({ family, prefix });
  });
  test.each(['10.244.0.0', '10.244.0.0/33', '10.244.1.0/16', 'fd00::1/64', 'banana/8', '10.244.0.0/16,fd00::/56'])(
    '%s does not',
    (cidr) => {
      expect(parseSubnet(cidr)).toBeUndefined();
    },
  );
});

/** The problems of the lab with one bootstrap change, as [field, value, allowed]. */
function problems(change: (b: any) => void): [string, unknown, string][] {
  try {
    validateEnvironment(withChange(lab, (e) => change(e.bootstrap)));
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems.map((p) => [p.field, p.value, p.allowed]);
  }
  return [];
}

describe('bad bootstrap values are clear errors', () => {
  test('the lab as written is valid', () => {
    expect(problems(() => undefined)).toEqual([]);
  });

  test('a pod subnet that does not parse', () => {
    expect(
      problems((b) => {
        b.podSubnets = ['10.244.0.0/33', 'fd00:10:244::/56'];
      }),
    ).toEqual([['bootstrap.podSubnets[0]', '10.244.0.0/33', expect.stringContaining('CIDR notation')]]);
  });

  test('a service subnet with host bits set', () => {
    expect(
      problems((b) => {
        b.serviceSubnets = ['10.96.0.1/16', 'fd00:10:96::/112'];
      }),
    ).toEqual([['bootstrap.serviceSubnets[0]', '10.96.0.1/16', expect.stringContaining('host bits zero')]]);
  });

  test('families in the wrong order for loadBalancing.ipFamilies', () => {
    expect(
      problems((b) => {
        b.podSubnets = ['fd00:10:244::/56', '10.244.0.0/16'];
      }),
    ).toEqual([
      [
        'bootstrap.podSubnets',
        ['fd00:10:244::/56', '10.244.0.0/16'],
        expect.stringContaining('in that order (IPv4, IPv6)'),
      ],
    ]);
  });

  test('a single-stack service subnet in a dual-stack environment', () => {
    expect(
      problems((b) => {
        b.serviceSubnets = ['10.96.0.0/16'];
      }),
    ).toEqual([['bootstrap.serviceSubnets', ['10.96.0.0/16'], expect.stringContaining('one entry per IP family')]]);
  });

  test('a node address of the wrong family', () => {
    expect(
      problems((b) => {
        b.nodeAddresses = ['192.168.50.11', '192.168.50.12'];
      }),
    ).toEqual([
      [
        'bootstrap.nodeAddresses',
        ['192.168.50.11', '192.168.50.12'],
        expect.stringContaining('one entry per IP family'),
      ],
    ]);
  });

  test('a node address that does not parse', () => {
    expect(
      problems((b) => {
        b.nodeAddresses = ['192.168.50.300', 'fd00:50::11'];
      }),
    ).toEqual([['bootstrap.nodeAddresses[0]', '192.168.50.300', expect.stringContaining('IPv4 or IPv6 address')]]);
  });

  test('pod and service subnets that overlap', () => {
    expect(
      problems((b) => {
        b.serviceSubnets = ['10.244.128.0/20', 'fd00:10:96::/112'];
      }),
    ).toEqual([
      [
        'bootstrap.podSubnets[0]',
        '10.244.0.0/16',
        expect.stringContaining('does not overlap the service subnet 10.244.128.0/20'),
      ],
    ]);
  });

  test('a pod subnet too small to give each node a /24', () => {
    expect(
      problems((b) => {
        b.podSubnets = ['10.244.0.0/25', 'fd00:10:244::/56'];
      }),
    ).toEqual([['bootstrap.podSubnets[0]', '10.244.0.0/25', expect.stringContaining('/24')]]);
  });

  test('an IPv6 service subnet larger than the API server allocates', () => {
    expect(
      problems((b) => {
        b.serviceSubnets = ['10.96.0.0/16', 'fd00:10:96::/64'];
      }),
    ).toEqual([['bootstrap.serviceSubnets[1]', 'fd00:10:96::/64', expect.stringContaining('/108')]]);
  });

  test("a release of another minor version than the environment's", () => {
    expect(
      problems((b) => {
        b.kubernetesVersion = 'v1.32.5';
      }),
    ).toEqual([['bootstrap.kubernetesVersion', 'v1.32.5', expect.stringContaining('(1.35)')]]);
  });

  test('a patch release newer than the version table knows (it would install kubelet=1.35.99-*, which does not exist)', () => {
    for (const release of ['v1.35.99', 'v1.35.5']) {
      expect(
        problems((b) => {
          b.kubernetesVersion = release;
        }),
      ).toEqual([
        [
          'bootstrap.kubernetesVersion',
          release,
          'a release of the environment\'s kubernetesVersion (1.35) that lib/kubernetes-versions.ts knows, "v1.35.0" to "v1.35.4" ' +
            '(a newer patch: add it to KUBERNETES_RELEASES and run npm run fetch:openapi)',
        ],
      ]);
    }
  });

  test('every patch release up to the newest the table knows is accepted; a malformed one is not', () => {
    for (const release of ['v1.35.0', 'v1.35.3', 'v1.35.4']) {
      expect(
        problems((b) => {
          b.kubernetesVersion = release;
        }),
      ).toEqual([]);
    }
    for (const release of ['v1.35.04', '1.35.4', 'v1.35.4-rc.0']) {
      expect(
        problems((b) => {
          b.kubernetesVersion = release;
        }),
      ).toEqual([['bootstrap.kubernetesVersion', release, expect.stringContaining('"v1.35.0" to "v1.35.4"')]]);
    }
  });

  test('an endpoint without a port', () => {
    expect(
      problems((b) => {
        b.controlPlaneEndpoint = 'k8s-api.lab.example';
      }),
    ).toEqual([['bootstrap.controlPlaneEndpoint', 'k8s-api.lab.example', expect.stringContaining('host:port')]]);
  });

  test('an IPv6 endpoint in brackets is fine', () => {
    expect(
      problems((b) => {
        b.controlPlaneEndpoint = '[fd00:50::11]:6443';
      }),
    ).toEqual([]);
  });
});
