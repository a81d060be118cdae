/**
 * Environment input that was caught poorly: each class is refused on the field that is wrong, with
 * the value and what to write instead. Several values per class, not only the one first found.
 */
import { ENVIRONMENTS } from '.';
import { withChange } from '../../test/helpers';
import { ValidationError } from '../k8s/validation';
import { validateEnvironment } from './validate';
import { WORKLOADS } from '../workloads';

const { lab, 'prod-eks': eks, 'prod-gke': gke } = ENVIRONMENTS;

/** Every problem validateEnvironment reports, as text, one a line. */
function problemsOf(env: unknown): string[] {
  try {
    validateEnvironment(env, { workloads: WORKLOADS });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message.split('\n');
  }
  return [];
}

describe('a CIDR with host bits set is refused, with its network', () => {
  test.each([
    ['192.168.50.241/28', '192.168.50.240/28'],
    ['192.168.50.255/29', '192.168.50.248/29'],
    ['fd00:50::5/112', 'fd00:50::/112'],
  ])('a MetalLB pool entry %s (the network is %s)', (given, network) => {
    const env = withChange(lab, (e) => {
      e.loadBalancing.metallbAddressPools[0].addresses[0] = given;
    });
    expect(problemsOf(env)).toEqual([
      `environment "lab": loadBalancing.metallbAddressPools[0].addresses[0]: Invalid value: ${JSON.stringify(given)}: ` +
        'a CIDR ("192.168.50.240/28", "fd00:50::/112") or a range of two addresses of one family, low to high ("192.168.50.240-192.168.50.250"); ' +
        `${JSON.stringify(given)} has host bits set: its network is "${network}"`,
    ]);
  });

  test.each([
    ['podSubnets', 0, '10.244.1.0/16', '10.244.0.0/16'],
    ['podSubnets', 1, 'fd00:10:244::1/56', 'fd00:10:244::/56'],
    ['serviceSubnets', 0, '10.96.0.1/16', '10.96.0.0/16'],
    ['serviceSubnets', 1, 'fd00:10:96::10/112', 'fd00:10:96::/112'],
  ])('the kubeadm bootstrap.%s[%d] %s (the network is %s)', (field, i, given, network) => {
    const env = withChange(lab, (e) => {
      e.bootstrap[field][i] = given;
    });
    expect(problemsOf(env)).toEqual([
      `environment "lab": bootstrap.${field}[${i}]: Invalid value: ${JSON.stringify(given)}: ` +
        'a network in CIDR notation with its host bits zero, e.g. "10.244.0.0/16" or "fd00:10:244::/56"; ' +
        `${JSON.stringify(given)} has host bits set: its network is "${network}"`,
    ]);
  });

  test.each(['10.1/28', '010.0.0.0/28', '192.168.50.240/33', '0x0a.0.0.0/8'])(
    'a CIDR that is not in plain notation, %s, is refused too',
    (given) => {
      const env = withChange(lab, (e) => {
        e.loadBalancing.metallbAddressPools[0].addresses[0] = given;
      });
      expect(problemsOf(env)).toEqual([
        expect.stringContaining(`addresses[0]: Invalid value: ${JSON.stringify(given)}: a CIDR`),
      ]);
    },
  );

  test('networks with their host bits zero are accepted, as the shipped lab shows', () => {
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.loadBalancing.metallbAddressPools[0].addresses[0] = '192.168.50.240/29';
        }),
      ),
    ).toEqual([]);
  });
});

describe('a value of the wrong type says what to write', () => {
  test('a Kubernetes version written as a number lists the supported versions', () => {
    const env = withChange(gke, (e) => {
      e.kubernetesVersion = 1.35;
    });
    expect(problemsOf(env)).toEqual([
      'environment "prod-gke": kubernetesVersion: Invalid value: 1.35: a string, in quotes, not the number 1.35; ' +
        'one of the supported minor versions "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37" (lib/kubernetes-versions.ts)',
    ]);
  });

  test('other strings written as numbers or true/false say so, with their own rule', () => {
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.scale.web.limits.cpu = 1;
        }),
      ),
    ).toEqual([
      'environment "lab": scale.web.limits.cpu: Invalid value: 1: ' +
        'a string, in quotes, not the number 1; a Kubernetes quantity of cpu such as "250m", "1" or "1.5", above zero',
    ]);
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.bootstrap.kubernetesVersion = 1.35;
        }),
      ),
    ).toEqual([
      'environment "lab": bootstrap.kubernetesVersion: Invalid value: 1.35: a string, in quotes, not the number 1.35',
    ]);
    expect(
      problemsOf(
        withChange(eks, (e) => {
          e.identity.accountId = 123456789012;
        }),
      ),
    ).toEqual([
      'environment "prod-eks": identity.accountId: Invalid value: 123456789012: a string, in quotes, not the number 123456789012; ' +
        'an AWS account ID of exactly 12 digits',
    ]);
  });

  test.each([-1, 2.5])('scale.evictFromLostNodeAfterSeconds %p is refused: whole seconds, 0 or more', (seconds) => {
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.scale.evictFromLostNodeAfterSeconds = seconds;
        }),
      ),
    ).toEqual([
      `environment "lab": scale.evictFromLostNodeAfterSeconds: Invalid value: ${seconds}: a whole number of seconds >= 0`,
    ]);
  });

  test('numbers and true/false written as strings say to drop the quotes', () => {
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.storage.allowVolumeExpansion = 'false';
        }),
      ),
    ).toEqual([
      'environment "lab": storage.allowVolumeExpansion: Invalid value: "false": true or false, without quotes (false, not "false")',
    ]);
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.scale.namespaceQuota.pods = '40';
        }),
      ),
    ).toEqual([
      'environment "lab": scale.namespaceQuota.pods: Invalid value: "40": a number, without quotes (40, not "40"); a whole number >= 1',
    ]);
  });

  test.each([
    [
      'loadBalancing.ipFamilies',
      (e: any) => {
        e.loadBalancing.ipFamilies = 'IPv4';
      },
      '"IPv4"',
      'a list whose entries are each one of "IPv4", "IPv6", in brackets: ["IPv4"]',
    ],
    [
      'loadBalancing.ipFamilies',
      (e: any) => {
        e.loadBalancing.ipFamilies = 'ipv6';
      },
      '"ipv6"',
      'a list whose entries are each one of "IPv4", "IPv6", in brackets: ["IPv4"]',
    ],
    [
      'bootstrap.podSubnets',
      (e: any) => {
        e.bootstrap.podSubnets = '10.244.0.0/16';
      },
      '"10.244.0.0/16"',
      'a list whose entries are each a string, in brackets: ["10.244.0.0/16"]',
    ],
    [
      'loadBalancing.metallbAddressPools[0].addresses',
      (e: any) => {
        e.loadBalancing.metallbAddressPools[0].addresses = '192.168.50.240/28';
      },
      '"192.168.50.240/28"',
      'a list whose entries are each a string: a CIDR ("192.168.50.240/28", "fd00:50::/112") or a range of two ' +
        'addresses of one family, low to high ("192.168.50.240-192.168.50.250"), in brackets: ["192.168.50.240/28"]',
    ],
  ])('a single value where a list belongs (%s) shows the list to write', (field, change, value, allowed) => {
    expect(problemsOf(withChange(lab, change))).toEqual([
      `environment "lab": ${field}: Invalid value: ${value}: ${allowed}`,
    ]);
  });
});

describe('a quantity without its unit is reported on its own field, not on the one it is compared with', () => {
  const memoryRule =
    'a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M", a whole number of bytes above zero';

  test.each([
    [
      'scale.web.limits.memory',
      (e: any) => {
        e.scale.web.limits.memory = '128';
      },
      '128',
    ],
    [
      'scale.web.requests.memory',
      (e: any) => {
        e.scale.web.requests.memory = '64';
      },
      '64',
    ],
    [
      'scale.api.limits.memory',
      (e: any) => {
        e.scale.api.limits.memory = '128';
      },
      '128',
    ],
    [
      'scale.namespaceQuota.containerMax.memory',
      (e: any) => {
        e.scale.namespaceQuota.containerMax.memory = '512';
      },
      '512',
    ],
  ])('memory: %s', (field, change, given) => {
    expect(problemsOf(withChange(lab, change))).toEqual([
      `environment "lab": ${field}: Invalid value: "${given}": ${memoryRule}; ` +
        `"${given}" alone is ${given} bytes: write a unit, e.g. "${given}Mi" or "${given}Gi"`,
    ]);
  });

  test('storage: a volume size without a unit', () => {
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.scale.db.storage = '50';
        }),
      ),
    ).toEqual([
      'environment "lab": scale.db.storage: Invalid value: "50": ' +
        'a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M": a whole number of bytes, at least 1Gi; "50" alone is 50 bytes: write a unit, e.g. "50Mi" or "50Gi"',
    ]);
  });

  test.each([
    [
      'scale.web.requests.cpu',
      (e: any) => {
        e.scale.web.requests.cpu = '250';
      },
      '250',
    ],
    [
      'scale.web.limits.cpu',
      (e: any) => {
        e.scale.web.limits.cpu = '500';
      },
      '500',
    ],
    [
      'scale.api.requests.cpu',
      (e: any) => {
        e.scale.api.requests.cpu = '100';
      },
      '100',
    ],
  ])('cpu: millicores missing their "m", %s', (field, change, given) => {
    expect(problemsOf(withChange(lab, change))).toEqual([
      `environment "lab": ${field}: Invalid value: "${given}": ` +
        `a Kubernetes quantity of cpu such as "250m", "1" or "1.5", above zero; "${given}" is ${given} cores ` +
        `(more than 64 without a unit is taken for a missing "m"): did you mean "${given}m"?`,
    ]);
  });

  test('whole cores, sizes with units and plain byte counts of a mebibyte or more are fine', () => {
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.scale.web.limits.cpu = '0.5';
          e.scale.web.limits.memory = '134217728';
        }),
      ),
    ).toEqual([]);
    expect(
      problemsOf(
        withChange(lab, (e) => {
          e.scale.web.requests.cpu = '0.1';
          e.scale.web.requests.memory = '64Mi';
        }),
      ),
    ).toEqual([]);
  });
});
