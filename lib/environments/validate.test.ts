import { environmentNames, ENVIRONMENTS, selectEnvironments } from '.';
import { withChange } from '../../test/helpers';
import { ValidationError } from '../k8s/validation';
import { addressRangeFamily, validateEnvironment } from './validate';
import { WORKLOADS } from '../workloads';

/** The one problem validateEnvironment reports for an environment, as text. */
function problemOf(env: Parameters<typeof validateEnvironment>[0]): string {
  try {
    validateEnvironment(env, { workloads: WORKLOADS });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    expect(problems).toHaveLength(1);
    return (error as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('the shipped environments', () => {
  test.each(Object.keys(ENVIRONMENTS))('%s validates', (name) => {
    expect(() => validateEnvironment(ENVIRONMENTS[name], { workloads: WORKLOADS })).not.toThrow();
  });

  test('an unknown environment name lists the valid ones', () => {
    expect(() => selectEnvironments(['lab', 'staging'])).toThrow(
      `unknown environment "staging": valid environments are ${environmentNames().join(', ')}`,
    );
  });
});

describe('validateEnvironment names the environment, the field, the value and what is allowed', () => {
  const { lab, 'prod-eks': eks, 'prod-gke': gke, 'prod-aks': aks } = ENVIRONMENTS;

  test('a MetalLB range that does not parse', () => {
    const env = withChange(lab, (e) => {
      e.loadBalancing.metallbAddressPools[0].addresses[0] = '192.168.50.240-192.168.50';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": loadBalancing.metallbAddressPools[0].addresses[0]: Invalid value: ' +
        '"192.168.50.240-192.168.50": a CIDR ("192.168.50.240/28", "fd00:50::/112") or a range of two addresses of one family, ' +
        'low to high ("192.168.50.240-192.168.50.250")',
    );
  });

  test('a MetalLB range that runs backwards', () => {
    const env = withChange(lab, (e) => {
      e.loadBalancing.metallbAddressPools[0].addresses[0] = '192.168.50.250-192.168.50.240';
    });
    expect(problemOf(env)).toContain(
      'loadBalancing.metallbAddressPools[0].addresses[0]: Invalid value: "192.168.50.250-192.168.50.240"',
    );
  });

  test('a Service annotation naming a pool that does not exist', () => {
    const env = withChange(lab, (e) => {
      e.loadBalancing.serviceAnnotations['metallb.io/address-pool'] = 'other';
    });
    expect(problemOf(env)).toContain(
      'loadBalancing.serviceAnnotations["metallb.io/address-pool"]: Invalid value: "other": ' +
        'the name of one of loadBalancing.metallbAddressPools (lab-pool)',
    );
  });

  test('repeated IP families', () => {
    const env = withChange(lab, (e) => {
      e.loadBalancing.ipFamilies = ['IPv4', 'IPv4'];
    });
    expect(problemOf(env)).toContain(
      'loadBalancing.ipFamilies: Invalid value: ["IPv4","IPv4"]: one or two distinct families',
    );
  });

  test('a node security module that is not one the project knows', () => {
    const env = withChange(eks, (e) => {
      e.nodes.securityModule = 'apparmor';
    });
    expect(problemOf(env)).toBe(
      'environment "prod-eks": nodes.securityModule: Invalid value: "apparmor": ' +
        'one of "AppArmor", "SELinux", "none": the Linux security module the node OS runs',
    );
  });

  test('an empty node OS image', () => {
    const env = withChange(gke, (e) => {
      e.nodes.osImage = ' ';
    });
    expect(problemOf(env)).toContain(
      'environment "prod-gke": nodes.osImage: Invalid value: " ": the node OS image as the provider names it',
    );
  });

  test('an AWS account ID that is not 12 digits', () => {
    const env = withChange(eks, (e) => {
      e.identity.accountId = '12345';
    });
    expect(problemOf(env)).toBe(
      'environment "prod-eks": identity.accountId: Invalid value: "12345": an AWS account ID of exactly 12 digits',
    );
  });

  test('a Google Cloud project ID with capitals', () => {
    const env = withChange(gke, (e) => {
      e.identity.projectId = 'My-Project';
    });
    expect(problemOf(env)).toContain('identity.projectId: Invalid value: "My-Project": a Google Cloud project ID');
  });

  test('an Azure tenant that is not a GUID', () => {
    const env = withChange(aks, (e) => {
      e.identity.tenantId = 'contoso';
    });
    expect(problemOf(env)).toContain(
      'environment "prod-aks": identity.tenantId: Invalid value: "contoso": a lowercase GUID',
    );
  });

  test('a Kubernetes version no cloud supports any more', () => {
    const env = withChange(lab, (e) => {
      e.kubernetesVersion = '1.27';
    });
    expect(problemOf(env)).toContain(
      'kubernetesVersion: Invalid value: "1.27": one of the supported minor versions "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"',
    );
  });

  test("zones are the cluster's, not the environment's: scale.zones is an unknown field", () => {
    // Spreading is by the nodes' topology.kubernetes.io/zone label; a list here changed nothing in
    // dist/, so it was removed rather than checked ("at least two", one region, no duplicates).
    const env = withChange(eks, (e) => {
      e.scale.zones = ['eu-west-1a', 'eu-west-1a'];
    });
    expect(problemOf(env)).toBe(
      'environment "prod-eks": scale.zones: unknown field: ["eu-west-1a","eu-west-1a"]: ' +
        'the fields here are spreadAcross, evictFromLostNodeAfterSeconds, namespaceQuota, web, api, db, batch, sandboxed',
    );
  });

  test("a workload's field an environment leaves out is the workload's default, not a missing field", () => {
    // The lab writes only what differs from web's defaults (lib/workloads/web.ts): no targetCpuUtilization.
    expect(lab.scale.web).not.toHaveProperty('targetCpuUtilization');
    const env = withChange(lab, (e) => {
      delete e.scale.db.limits.memory; // db's default limit, 4Gi, is then above the lab's containerMax
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.db.limits.memory: Invalid value: "4Gi": at most scale.namespaceQuota.containerMax.memory (2Gi)',
    );
  });

  test('a scale field that names no workload, with the workload it was probably meant to be', () => {
    const env = withChange(lab, (e) => {
      e.scale.webb = { maxReplicas: 3 };
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.webb: unknown field: {"maxReplicas":3}: did you mean "web"? ' +
        'the fields here are spreadAcross, evictFromLostNodeAfterSeconds, namespaceQuota, web, api, db, batch, sandboxed',
    );
  });

  test("a workload's entry that is not an object of the fields that differ", () => {
    const env = withChange(lab, (e) => {
      e.scale.web = 3;
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web: Invalid value: 3: ' +
        "an object of the fields that differ from web's default scale, e.g. { maxReplicas: 4 }",
    );
  });

  test('a quantity that does not parse', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.limits.memory = '128MB';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web.limits.memory: Invalid value: "128MB": ' +
        'a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M", a whole number of bytes above zero',
    );
  });

  test('a request above its limit', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.requests.cpu = '500m';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web.requests.cpu: Invalid value: "500m": at most the limit (250m)',
    );
  });

  test('minReplicas above maxReplicas', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.minReplicas = 5;
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web.maxReplicas: Invalid value: 4: a whole number >= minReplicas (5)',
    );
  });

  test('a single replica, which a drain would take down', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.minReplicas = 1;
    });
    expect(problemOf(env)).toContain('scale.web.minReplicas: Invalid value: 1: a whole number >= 2');
  });

  test('a utilisation target outside 1..100', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.targetCpuUtilization = 150;
    });
    expect(problemOf(env)).toContain(
      'scale.web.targetCpuUtilization: Invalid value: 150: a whole percentage from 1 to 100',
    );
  });

  test('a registry mirror that is not a host and path', () => {
    const env = withChange(lab, (e) => {
      e.registry.mirror = 'https://harbor.lab/';
    });
    expect(problemOf(env)).toContain('registry.mirror: Invalid value: "https://harbor.lab/"');
  });

  test('a storage class name that is not a DNS subdomain', () => {
    const env = withChange(lab, (e) => {
      e.storage.storageClassName = 'Local_Path';
    });
    expect(problemOf(env)).toContain('storage.storageClassName: Invalid value: "Local_Path"');
  });

  test('an environment name that is not a DNS label', () => {
    const env = withChange(lab, (e) => {
      e.name = 'Lab';
    });
    expect(problemOf(env)).toContain('environment "Lab": name: Invalid value: "Lab"');
  });

  test('every problem is reported at once', () => {
    const env = withChange(eks, (e) => {
      e.identity.accountId = 'x';
      e.scale.web = { minReplicas: 0 };
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      /identity\.accountId[\s\S]*scale\.web\.minReplicas/,
    );
  });
});

describe("the shape: unknown, missing and mistyped fields, in the Kubernetes API's words", () => {
  const { lab, 'prod-eks': eks } = ENVIRONMENTS;

  test('a misspelled optional field is an unknown field, with the field it was probably meant to be', () => {
    // Today's typo: spec.loadBalancerClass silently vanished from prod-eks's Services.
    const env = withChange(eks, (e) => {
      e.loadBalancing.loadBalancerClas = e.loadBalancing.loadBalancerClass;
      delete e.loadBalancing.loadBalancerClass;
    });
    expect(problemOf(env)).toBe(
      'environment "prod-eks": loadBalancing.loadBalancerClas: unknown field: "service.k8s.aws/nlb": ' +
        'did you mean "loadBalancerClass"? the fields here are provider, serviceAnnotations, loadBalancerClass, ipFamilies, metallbAddressPools, ingress',
    );
  });

  test('a deleted required block is a Required value, not a TypeError', () => {
    const env = withChange(lab, (e) => {
      delete e.registry;
    });
    expect(problemOf(env)).toBe('environment "lab": registry: Required value: an object with the field mirror');
  });

  test('a deleted required field deep inside', () => {
    const env = withChange(lab, (e) => {
      delete e.scale.namespaceQuota.limits.memory;
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.namespaceQuota.limits.memory: Required value: ' +
        'a string: a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M", a whole number of bytes above zero',
    );
  });

  test('a value of the wrong type', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.minReplicas = '2';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web.minReplicas: Invalid value: "2": ' +
        'a number, without quotes (2, not "2"); a whole number >= 2, so that a node drain never takes every replica',
    );
  });

  test('a value outside an enumeration is an Unsupported value listing the supported ones', () => {
    const env = withChange(lab, (e) => {
      e.storage.reclaimPolicy = 'Keep';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": storage.reclaimPolicy: Unsupported value: "Keep": supported values: "Retain", "Delete"',
    );
  });

  test('an unknown kind of identity provider', () => {
    const env = withChange(eks, (e) => {
      e.identity.provider = 'aws';
    });
    expect(problemOf(env)).toBe(
      'environment "prod-eks": identity.provider: Unsupported value: "aws": ' +
        'supported values: "none", "aws-irsa", "gke-workload-identity", "azure-workload-identity"',
    );
  });

  test('an unknown field beside a missing one: both, in one error', () => {
    const env = withChange(eks, (e) => {
      e.storage.reclaimpolicy = e.storage.reclaimPolicy;
      delete e.storage.reclaimPolicy;
    });
    const messages = () => validateEnvironment(env, { workloads: WORKLOADS });
    expect(messages).toThrow(
      'environment "prod-eks": storage.reclaimPolicy: Required value: one of "Retain", "Delete"',
    );
    expect(messages).toThrow(
      'environment "prod-eks": storage.reclaimpolicy: unknown field: "Retain": did you mean "reclaimPolicy"?',
    );
  });

  test('something that is not an environment at all', () => {
    expect(() => validateEnvironment(null, { workloads: WORKLOADS })).toThrow(
      'environment (no name): Invalid value: null: an object with the fields name, kubernetesVersion,',
    );
  });
});

describe("MetalLB's addresses are nobody else's", () => {
  const { lab } = ENVIRONMENTS;
  const poolEntry = (address: string) =>
    withChange(lab, (e) => {
      e.loadBalancing.metallbAddressPools[0].addresses.push(address);
    });

  test('a pool that contains a node\'s address (MetalLB: "pool cidr ... contains nodeIp ...")', () => {
    expect(problemOf(poolEntry('192.168.50.0/28'))).toBe(
      'environment "lab": loadBalancing.metallbAddressPools[0].addresses[2]: ' +
        'Invalid value: "192.168.50.0/28": addresses that are not the cluster\'s own: it contains the node address bootstrap.nodeAddresses[0] (192.168.50.11)',
    );
  });

  test("an IPv6 pool that contains the node's IPv6 address", () => {
    expect(problemOf(poolEntry('fd00:50::1-fd00:50::ff'))).toContain(
      'it contains the node address bootstrap.nodeAddresses[1] (fd00:50::11)',
    );
  });

  test('a pool that contains the control-plane endpoint when it is an address', () => {
    const env = withChange(lab, (e) => {
      e.bootstrap.controlPlaneEndpoint = '192.168.50.245:6443';
    });
    expect(problemOf(env)).toContain(
      'loadBalancing.metallbAddressPools[0].addresses[0]: Invalid value: "192.168.50.240-192.168.50.250": ' +
        "addresses that are not the cluster's own: it contains the control-plane endpoint's address (192.168.50.245)",
    );
  });

  test('two entries of one pool that overlap (MetalLB: "overlaps with already defined CIDR")', () => {
    expect(problemOf(poolEntry('192.168.50.248/29'))).toBe(
      'environment "lab": loadBalancing.metallbAddressPools[0].addresses[2]: ' +
        'Invalid value: "192.168.50.248/29": addresses that no other pool entry has: it overlaps ' +
        'loadBalancing.metallbAddressPools[0].addresses[0] (192.168.50.240-192.168.50.250)',
    );
  });

  test('entries of two pools that overlap', () => {
    const env = withChange(lab, (e) => {
      e.loadBalancing.metallbAddressPools.push({ name: 'spare', addresses: ['192.168.50.250/32'] });
    });
    expect(problemOf(env)).toContain(
      'loadBalancing.metallbAddressPools[1].addresses[0]: Invalid value: "192.168.50.250/32": ' +
        'addresses that no other pool entry has: it overlaps loadBalancing.metallbAddressPools[0].addresses[0]',
    );
  });

  test('a pool inside the pod subnet', () => {
    expect(problemOf(poolEntry('10.244.5.0-10.244.5.10'))).toContain(
      'addresses[2]: Invalid value: "10.244.5.0-10.244.5.10": ' +
        "addresses that are not the cluster's own: it overlaps the pod subnet bootstrap.podSubnets[0] (10.244.0.0/16)",
    );
  });

  test('a pool over the IPv6 service subnet', () => {
    expect(problemOf(poolEntry('fd00:10:96::/64'))).toContain(
      'it overlaps the service subnet bootstrap.serviceSubnets[1] (fd00:10:96::/112)',
    );
  });

  test('adjacent ranges are fine', () => {
    expect(() =>
      validateEnvironment(poolEntry('192.168.50.251-192.168.50.254'), { workloads: WORKLOADS }),
    ).not.toThrow();
  });
});

describe('quantities as Kubernetes reads them', () => {
  const { lab } = ENVIRONMENTS;

  test('decimal memory suffixes are quantities: 128M is 128 x 1000^2 bytes', () => {
    expect(() =>
      validateEnvironment(
        withChange(lab, (e) => {
          e.scale.web.limits.memory = '128M';
        }),
        { workloads: WORKLOADS },
      ),
    ).not.toThrow();
    expect(() =>
      validateEnvironment(
        withChange(lab, (e) => {
          e.scale.db.limits.memory = '512M';
        }),
        { workloads: WORKLOADS },
      ),
    ).not.toThrow();
  });

  test('memory in millibytes is a mistake, not a size', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.limits.memory = '1500m';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web.limits.memory: Invalid value: "1500m": ' +
        'a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M", a whole number of bytes above zero',
    );
  });

  test('the cpu message shows cpu examples', () => {
    const env = withChange(lab, (e) => {
      e.scale.web.limits.cpu = '1 core';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": scale.web.limits.cpu: Invalid value: "1 core": ' +
        'a Kubernetes quantity of cpu such as "250m", "1" or "1.5", above zero',
    );
  });
});

describe('identity for people: groups as each sign-in names them', () => {
  const { lab, 'prod-eks': eks, 'prod-gke': gke, 'prod-aks': aks } = ENVIRONMENTS;

  test("a group in Kubernetes' reserved system: prefix (system:masters bypasses RBAC)", () => {
    const env = withChange(lab, (e) => {
      e.identity.people.groups.web['on-call'] = 'system:masters';
    });
    expect(problemOf(env)).toBe(
      'environment "lab": identity.people.groups.web["on-call"]: Invalid value: "system:masters": ' +
        'a group name that does not start with "system:" (reserved for Kubernetes\' own groups)',
    );
  });

  test('a certificate organisation or EKS group name with capitals and spaces', () => {
    const env = withChange(eks, (e) => {
      e.identity.people.groups.api.viewer = 'API Viewers';
    });
    expect(problemOf(env)).toContain(
      'identity.people.groups.api["viewer"]: Invalid value: "API Viewers": 1 to 63 lowercase letters',
    );
  });

  test("a Google Group outside the security group's domain", () => {
    const env = withChange(gke, (e) => {
      e.identity.people.groups.db.deployer = 'db-deployers@elsewhere.example';
    });
    expect(problemOf(env)).toContain(
      'identity.people.groups.db["deployer"]: Invalid value: "db-deployers@elsewhere.example": ' +
        "a Google Group's e-mail address in the security group's domain (lab-to-prod.example)",
    );
  });

  test('a GKE security group not named gke-security-groups', () => {
    const env = withChange(gke, (e) => {
      e.identity.people.signIn.securityGroup = 'k8s-groups@lab-to-prod.example';
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      /identity\.people\.signIn\.securityGroup: Invalid value: "k8s-groups@lab-to-prod\.example": gke-security-groups@<your domain>/,
    );
  });

  test('an Entra group by display name instead of object ID', () => {
    const env = withChange(aks, (e) => {
      e.identity.people.groups.web.viewer = 'web-viewers';
    });
    expect(problemOf(env)).toContain(
      'identity.people.groups.web["viewer"]: Invalid value: "web-viewers": the object ID of a Microsoft Entra group',
    );
  });

  test('an Entra tenant that is not a GUID', () => {
    const env = withChange(aks, (e) => {
      e.identity.people.signIn.tenantId = 'contoso.onmicrosoft.com';
    });
    expect(problemOf(env)).toContain(
      'identity.people.signIn.tenantId: Invalid value: "contoso.onmicrosoft.com": a lowercase GUID',
    );
  });

  test('no groups at all', () => {
    const env = withChange(lab, (e) => {
      e.identity.people.groups = {};
    });
    expect(problemOf(env)).toContain('identity.people.groups: Invalid value: {}: at least one app namespace');
  });
});

describe('addressRangeFamily', () => {
  test.each([
    ['192.168.50.240/28', 'IPv4'],
    ['fd00:50::/112', 'IPv6'],
    ['192.168.50.240-192.168.50.250', 'IPv4'],
    ['fd00:50::240-fd00:50::250', 'IPv6'],
    ['10.0.0.1-10.0.0.1', 'IPv4'],
  ])('%s is %s', (range, family) => expect(addressRangeFamily(range)).toBe(family));

  test.each(['10.0.0.0/33', '10.0.0.1-fd00::1', '10.0.0.9-10.0.0.1', 'pool', '10.0.0.1-10.0.0.2-10.0.0.3'])(
    '%s is not a range',
    (range) => {
      expect(addressRangeFamily(range)).toBeUndefined();
    },
  );
});
