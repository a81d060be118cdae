import { withChange } from '../../test/helpers';
import { Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { validateEnvironment } from '../environments/validate';
import { ValidationError } from '../k8s/validation';
import { WORKLOADS } from '../workloads';
import { DB_SCALE } from '../workloads/db';

/** The problems of an environment after one change, as [field, value, allowed]. */
function problems(env: Environment, change: (copy: any) => void): [string, unknown, string][] {
  try {
    validateEnvironment(withChange(env, change), { workloads: WORKLOADS });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).problems.map((p) => [p.field, p.value, p.allowed]);
  }
  return [];
}

const { lab } = ENVIRONMENTS;
const eks = ENVIRONMENTS['prod-eks'];
const gke = ENVIRONMENTS['prod-gke'];
const aks = ENVIRONMENTS['prod-aks'];

test.each(Object.values(ENVIRONMENTS).map((e) => [e.name, e] as const))('%s as written is valid', (_n, env) => {
  expect(problems(env, () => undefined)).toEqual([]);
});

describe('ingress and certificates', () => {
  test('an ingress class that is not a DNS subdomain', () => {
    expect(
      problems(lab, (e) => {
        e.loadBalancing.ingress.className = 'Nginx';
      }),
    ).toEqual([['loadBalancing.ingress.className', 'Nginx', expect.stringContaining('DNS-1123')]]);
  });
  test('a domain of one label', () => {
    expect(
      problems(lab, (e) => {
        e.loadBalancing.ingress.domain = 'lab';
      }),
    ).toEqual([['loadBalancing.ingress.domain', 'lab', expect.stringContaining('two or more labels')]]);
  });
  test('an ACME server that is not https', () => {
    expect(
      problems(eks, (e) => {
        e.loadBalancing.ingress.certificates.server = 'http://acme.example/directory';
      }),
    ).toEqual([
      [
        'loadBalancing.ingress.certificates.server',
        'http://acme.example/directory',
        expect.stringContaining('https URL'),
      ],
    ]);
  });
  test('an ACME email that is not one', () => {
    expect(
      problems(gke, (e) => {
        e.loadBalancing.ingress.certificates.email = 'platform-team';
      }),
    ).toEqual([
      ['loadBalancing.ingress.certificates.email', 'platform-team', expect.stringContaining('email address')],
    ]);
  });
  test('a Route 53 zone ID that is not one', () => {
    expect(
      problems(eks, (e) => {
        e.loadBalancing.ingress.certificates.dns01.hostedZoneId = 'example.com';
      }),
    ).toEqual([
      [
        'loadBalancing.ingress.certificates.dns01.hostedZoneId',
        'example.com',
        expect.stringContaining('hosted zone ID'),
      ],
    ]);
  });
  test('an Azure managed identity client ID that is not a GUID', () => {
    expect(
      problems(aks, (e) => {
        e.loadBalancing.ingress.certificates.dns01.managedIdentityClientId = 'cert-manager';
      }),
    ).toEqual([
      [
        'loadBalancing.ingress.certificates.dns01.managedIdentityClientId',
        'cert-manager',
        expect.stringContaining('GUID'),
      ],
    ]);
  });
  test('an empty CA common name', () => {
    expect(
      problems(lab, (e) => {
        e.loadBalancing.ingress.certificates.caCommonName = ' ';
      }),
    ).toEqual([['loadBalancing.ingress.certificates.caCommonName', ' ', expect.stringContaining('common name')]]);
  });
});

describe('storage', () => {
  test('local-path cannot grow volumes', () => {
    expect(
      problems(lab, (e) => {
        e.storage.allowVolumeExpansion = true;
      }),
    ).toEqual([
      ['storage.allowVolumeExpansion', true, expect.stringContaining('rancher.io/local-path cannot grow a volume')],
    ]);
  });
});

describe('secrets', () => {
  test('a secret manager of another cloud than the identity', () => {
    expect(
      problems(eks, (e) => {
        e.identity.secrets = {
          provider: 'gcp-secret-manager',
          clusterSecretStore: 'gcp',
          projectId: 'example-project',
        };
      }),
    ).toEqual([
      ['identity.secrets.provider', 'gcp-secret-manager', expect.stringContaining('needs "gke-workload-identity"')],
    ]);
  });
  test('a ClusterSecretStore name that is not a DNS subdomain', () => {
    expect(
      problems(gke, (e) => {
        e.identity.secrets.clusterSecretStore = 'GCP_store';
      }),
    ).toEqual([['identity.secrets.clusterSecretStore', 'GCP_store', expect.stringContaining('DNS-1123')]]);
  });
  test('a Key Vault URL that is not one', () => {
    expect(
      problems(aks, (e) => {
        e.identity.secrets.vaultUrl = 'https://example.com';
      }),
    ).toEqual([['identity.secrets.vaultUrl', 'https://example.com', expect.stringContaining('Key Vault URL')]]);
  });
  test("AKS without the reader's managed identity", () => {
    expect(
      problems(aks, (e) => {
        delete e.identity.clientIds['secret-store-reader'];
      }),
    ).toEqual([
      ['identity.clientIds["secret-store-reader"]', undefined, expect.stringContaining('reads the Key Vault')],
    ]);
  });
});

describe('observability', () => {
  test('prometheus-operator without the namespace Prometheus scrapes from', () => {
    expect(
      problems(eks, (e) => {
        delete e.observability.prometheusNamespace;
      }),
    ).toEqual([
      ['observability.prometheusNamespace', undefined, expect.stringContaining('the namespace Prometheus runs in')],
    ]);
  });
});

describe('namespace quota', () => {
  test('a quota that cannot hold web at maxReplicas plus a surge pod', () => {
    // web in the lab: 4 replicas + 1 surge x 250m = 1250m of limits.
    expect(
      problems(lab, (e) => {
        e.scale.namespaceQuota.limits.cpu = '1';
      }),
    ).toEqual(
      expect.arrayContaining([
        ['scale.web.limits.cpu', '250m', expect.stringContaining('divided by maxReplicas + 1 (5)')],
      ]),
    );
  });
  test('a workload with more replicas than the quota has pods', () => {
    expect(
      problems(lab, (e) => {
        e.scale.namespaceQuota.pods = 4;
      }),
    ).toEqual(
      expect.arrayContaining([
        ['scale.web.maxReplicas', 4, expect.stringContaining('at most scale.namespaceQuota.pods - 1 (3)')],
      ]),
    );
  });
  test("a container limit above the LimitRange's maximum", () => {
    expect(
      problems(lab, (e) => {
        e.scale.namespaceQuota.containerMax.memory = '100Mi';
      }),
    ).toEqual(
      expect.arrayContaining([
        ['scale.web.limits.memory', '128Mi', expect.stringContaining('containerMax.memory (100Mi)')],
      ]),
    );
  });
  test('a quota quantity that does not parse', () => {
    expect(
      problems(lab, (e) => {
        e.scale.namespaceQuota.requests.memory = '4 GB';
      }),
    ).toEqual([['scale.namespaceQuota.requests.memory', '4 GB', expect.stringContaining('Kubernetes quantity')]]);
  });
  test('default requests above default limits', () => {
    expect(
      problems(lab, (e) => {
        e.scale.namespaceQuota.containerDefaults.requests.cpu = '1';
      }),
    ).toEqual([
      [
        'scale.namespaceQuota.containerDefaults.requests.cpu',
        '1',
        expect.stringContaining('at most scale.namespaceQuota.containerDefaults.limits.cpu'),
      ],
    ]);
  });
  test("a database volume larger than the namespace's storage", () => {
    expect(
      problems(eks, (e) => {
        e.scale.namespaceQuota.storage = '10Gi';
      }),
    ).toEqual(
      expect.arrayContaining([
        ['scale.db.storage', DB_SCALE.storage, expect.stringContaining('at most scale.namespaceQuota.storage (10Gi)')],
      ]),
    );
  });
});

describe('sandbox runtime', () => {
  test('a handler that is not a DNS label', () => {
    expect(
      problems(lab, (e) => {
        e.sandboxRuntime.handler = 'run.sc';
      }),
    ).toEqual([['sandboxRuntime.handler', 'run.sc', expect.stringContaining('containerd runtime handler')]]);
  });
  test('a node selector value that is not a label value', () => {
    expect(
      problems(eks, (e) => {
        e.sandboxRuntime.nodeSelector = { 'lab-to-prod.example/sandbox': 'g visor' };
      }),
    ).toEqual([
      [
        'sandboxRuntime.nodeSelector["lab-to-prod.example/sandbox"]',
        'g visor',
        expect.stringContaining('letters, digits'),
      ],
    ]);
  });
});
