import { Environment, ResourceQuantities } from '../environment';
import { checkBootstrap } from '../bootstrap/kubeadm';
import {
  DNS1123_LABEL_RULE, DNS1123_SUBDOMAIN_RULE, isDns1123Label, isDns1123Subdomain, isLabelValue, isQualifiedName, LABEL_VALUE_RULE, QUALIFIED_NAME_RULE,
} from '../kit/names';
import { cpuMillis, memoryBytes, QUANTITY_FORMAT } from '../kit/quantity';
import { Problems } from '../kit/validation';

/**
 * The checks of the platform's environment fields (lib/platform/, lib/bootstrap/): the ingress and
 * its certificates, the storage class, the secret store, the monitoring, the namespace quota, the
 * sandbox runtime and the kubeadm bootstrap. Called by validateEnvironment.
 */
export function checkPlatformAreas(env: Environment, p: Problems): void {
  checkIngress(env, p);
  checkStorageExpansion(env, p);
  checkSecrets(env, p);
  checkObservability(env, p);
  checkNamespaceQuota(env, p);
  checkSandboxRuntime(env, p);
  checkBootstrap(p, env);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GUID_RULE = 'a lowercase GUID, e.g. "72f988bf-86f1-41af-91ab-2d7cd011db47"';

function checkIngress(env: Environment, p: Problems): void {
  const ingress = env.loadBalancing.ingress;
  const f = 'loadBalancing.ingress';
  p.check(isDns1123Subdomain(ingress.className), `${f}.className`, ingress.className, DNS1123_SUBDOMAIN_RULE);
  if (ingress.controllerNamespace !== undefined) {
    p.check(isDns1123Label(ingress.controllerNamespace), `${f}.controllerNamespace`, ingress.controllerNamespace, DNS1123_LABEL_RULE);
  }
  p.check(isDns1123Subdomain(ingress.domain) && ingress.domain.includes('.'), `${f}.domain`, ingress.domain,
    'a DNS domain of two or more labels, e.g. "lab.example"');
  p.check(isDns1123Subdomain(ingress.clusterIssuer), `${f}.clusterIssuer`, ingress.clusterIssuer, DNS1123_SUBDOMAIN_RULE);
  const c = ingress.certificates;
  if (c.kind === 'private-ca') {
    p.check(c.caCommonName.trim() !== '' && c.caCommonName.length <= 64, `${f}.certificates.caCommonName`, c.caCommonName,
      '1 to 64 characters (an X.509 common name)');
    return;
  }
  p.check(/^https:\/\/[^\s/]+(\/\S*)?$/.test(c.server), `${f}.certificates.server`, c.server,
    'the https URL of an ACME directory, e.g. "https://acme-v02.api.letsencrypt.org/directory"');
  p.check(/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(c.email), `${f}.certificates.email`, c.email, 'an email address for the ACME account');
  const dns = c.dns01;
  const d = `${f}.certificates.dns01`;
  switch (dns.provider) {
    case 'route53':
      p.check(/^[a-z]{2}(-[a-z]+)+-\d$/.test(dns.region), `${d}.region`, dns.region, 'an AWS region, e.g. "eu-west-1"');
      p.check(/^Z[A-Z0-9]{1,31}$/.test(dns.hostedZoneId), `${d}.hostedZoneId`, dns.hostedZoneId, 'a Route 53 hosted zone ID, e.g. "Z0123456789ABCDEFGHIJ"');
      break;
    case 'cloud-dns':
      p.check(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(dns.project), `${d}.project`, dns.project, 'a Google Cloud project ID');
      break;
    case 'azure-dns':
      p.check(GUID.test(dns.subscriptionId), `${d}.subscriptionId`, dns.subscriptionId, GUID_RULE);
      p.check(GUID.test(dns.managedIdentityClientId), `${d}.managedIdentityClientId`, dns.managedIdentityClientId, GUID_RULE);
      p.check(/^[-\w.()]{1,90}$/.test(dns.resourceGroupName) && !dns.resourceGroupName.endsWith('.'), `${d}.resourceGroupName`,
        dns.resourceGroupName, '1 to 90 letters, digits, "-", "_", ".", "(" or ")", not ending in "."');
      p.check(isDns1123Subdomain(dns.hostedZoneName), `${d}.hostedZoneName`, dns.hostedZoneName, DNS1123_SUBDOMAIN_RULE);
      break;
  }
}

/** Provisioners that cannot grow a volume: a StorageClass that says they can would leave claims stuck resizing. */
const CANNOT_EXPAND = ['rancher.io/local-path', 'kubernetes.io/no-provisioner'];

function checkStorageExpansion(env: Environment, p: Problems): void {
  if (CANNOT_EXPAND.includes(env.storage.provisioner)) {
    p.check(!env.storage.allowVolumeExpansion, 'storage.allowVolumeExpansion', env.storage.allowVolumeExpansion,
      `false: ${env.storage.provisioner} cannot grow a volume`);
  }
}

/** Which workload identity each secret manager is reached through. */
const SECRET_MANAGER_IDENTITY = {
  'aws-secrets-manager': 'aws-irsa',
  'gcp-secret-manager': 'gke-workload-identity',
  'azure-key-vault': 'azure-workload-identity',
} as const;

function checkSecrets(env: Environment, p: Problems): void {
  const s = env.identity.secrets;
  if (s.provider === 'lab-secrets-command') {
    return;
  }
  const needed = SECRET_MANAGER_IDENTITY[s.provider];
  p.check(env.identity.provider === needed, 'identity.secrets.provider', s.provider,
    `a secret manager reached through identity.provider "${env.identity.provider}" (${s.provider} needs "${needed}")`);
  p.check(isDns1123Subdomain(s.clusterSecretStore), 'identity.secrets.clusterSecretStore', s.clusterSecretStore, DNS1123_SUBDOMAIN_RULE);
  switch (s.provider) {
    case 'aws-secrets-manager':
      p.check(/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.region), 'identity.secrets.region', s.region, 'an AWS region, e.g. "eu-west-1"');
      break;
    case 'gcp-secret-manager':
      p.check(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(s.projectId), 'identity.secrets.projectId', s.projectId, 'a Google Cloud project ID');
      break;
    case 'azure-key-vault':
      p.check(/^https:\/\/[a-zA-Z][-a-zA-Z0-9]{1,22}[a-zA-Z0-9]\.vault\.azure\.net\/?$/.test(s.vaultUrl), 'identity.secrets.vaultUrl', s.vaultUrl,
        'a Key Vault URL, e.g. "https://my-vault.vault.azure.net"');
      if (env.identity.provider === 'azure-workload-identity') {
        p.check(env.identity.clientIds['secret-store-reader'] !== undefined, 'identity.clientIds["secret-store-reader"]', undefined,
          'the client ID of the managed identity that reads the Key Vault (the ClusterSecretStore acts as it)');
      }
      break;
  }
}

function checkObservability(env: Environment, p: Problems): void {
  const o = env.observability;
  if (o.prometheusNamespace !== undefined) {
    p.check(isDns1123Label(o.prometheusNamespace), 'observability.prometheusNamespace', o.prometheusNamespace, DNS1123_LABEL_RULE);
  }
  if (o.stack === 'prometheus-operator') {
    p.check(o.prometheusNamespace !== undefined, 'observability.prometheusNamespace', o.prometheusNamespace,
      'the namespace Prometheus runs in, when observability.stack is "prometheus-operator" (its scrapes pass the default-deny NetworkPolicies from there)');
  }
}

interface Parsed { cpu?: number; memory?: number }
const parse = (q: ResourceQuantities): Parsed => ({ cpu: cpuMillis(q.cpu), memory: memoryBytes(q.memory) });

/** One entry of env.scale: a workload's resources, and its replicas where it scales horizontally. */
interface ScaleEntry {
  readonly requests?: ResourceQuantities;
  readonly limits?: ResourceQuantities;
  readonly maxReplicas?: number;
  readonly storage?: string;
  readonly backupStorage?: string;
}

/**
 * The quota's own values, then each workload's scale against it: a namespace holds its workload at
 * maxReplicas plus the one surge pod of a rolling update, and no container is above the LimitRange.
 */
function checkNamespaceQuota(env: Environment, p: Problems): void {
  const q = env.scale.namespaceQuota;
  const f = 'scale.namespaceQuota';
  const checkQuantities = (field: string, given: ResourceQuantities): Parsed => {
    const parsed = parse(given);
    p.check(parsed.cpu !== undefined && parsed.cpu > 0, `${field}.cpu`, given.cpu, `${QUANTITY_FORMAT}, above zero`);
    p.check(parsed.memory !== undefined && parsed.memory > 0, `${field}.memory`, given.memory, `${QUANTITY_FORMAT}, above zero`);
    return parsed;
  };
  const atMost = (field: string, given: ResourceQuantities, a: Parsed, b: Parsed, bName: string, bGiven: ResourceQuantities) => {
    if (a.cpu !== undefined && b.cpu !== undefined) {
      p.check(a.cpu <= b.cpu, `${field}.cpu`, given.cpu, `at most ${bName}.cpu (${bGiven.cpu})`);
    }
    if (a.memory !== undefined && b.memory !== undefined) {
      p.check(a.memory <= b.memory, `${field}.memory`, given.memory, `at most ${bName}.memory (${bGiven.memory})`);
    }
  };
  const requests = checkQuantities(`${f}.requests`, q.requests);
  const limits = checkQuantities(`${f}.limits`, q.limits);
  const max = checkQuantities(`${f}.containerMax`, q.containerMax);
  const defRequests = checkQuantities(`${f}.containerDefaults.requests`, q.containerDefaults.requests);
  const defLimits = checkQuantities(`${f}.containerDefaults.limits`, q.containerDefaults.limits);
  atMost(`${f}.requests`, q.requests, requests, limits, `${f}.limits`, q.limits);
  atMost(`${f}.containerDefaults.requests`, q.containerDefaults.requests, defRequests, defLimits, `${f}.containerDefaults.limits`, q.containerDefaults.limits);
  atMost(`${f}.containerDefaults.limits`, q.containerDefaults.limits, defLimits, max, `${f}.containerMax`, q.containerMax);
  atMost(`${f}.containerMax`, q.containerMax, max, limits, `${f}.limits`, q.limits);
  p.check(Number.isInteger(q.pods) && q.pods >= 1, `${f}.pods`, q.pods, 'a whole number >= 1');
  p.check(Number.isInteger(q.persistentVolumeClaims) && q.persistentVolumeClaims >= 0, `${f}.persistentVolumeClaims`, q.persistentVolumeClaims, 'a whole number >= 0');
  const storage = memoryBytes(q.storage);
  p.check(storage !== undefined && storage > 0, `${f}.storage`, q.storage, `${QUANTITY_FORMAT}, above zero`);

  for (const [workload, value] of Object.entries(env.scale)) {
    const entry = value as ScaleEntry;
    if (workload === 'namespaceQuota' || typeof value !== 'object' || value === null || entry.limits === undefined || entry.requests === undefined) {
      continue;
    }
    const field = `scale.${workload}`;
    const wl = parse(entry.limits);
    const wr = parse(entry.requests);
    atMost(`${field}.limits`, entry.limits, wl, max, `${f}.containerMax`, q.containerMax);
    if (entry.maxReplicas !== undefined && Number.isInteger(entry.maxReplicas)) {
      const pods = entry.maxReplicas + 1;
      p.check(pods <= q.pods, `${field}.maxReplicas`, entry.maxReplicas, `at most ${f}.pods - 1 (${q.pods - 1}): a rollout adds one pod`);
      for (const kind of ['requests', 'limits'] as const) {
        const per = kind === 'requests' ? wr : wl;
        const total = kind === 'requests' ? requests : limits;
        for (const r of ['cpu', 'memory'] as const) {
          // A request above its own limit is reported by checkResources; the quota check would only repeat it.
          const ownLimitOk = kind === 'limits' || wl[r] === undefined || wr[r] === undefined || wr[r]! <= wl[r]!;
          if (per[r] !== undefined && total[r] !== undefined && ownLimitOk) {
            p.check(per[r]! * pods <= total[r]!, `${field}.${kind}.${r}`, entry[kind]![r],
              `at most ${f}.${kind}.${r} (${q[kind][r]}) divided by maxReplicas + 1 (${pods}): the namespace must hold every replica and a rollout's surge pod`);
          }
        }
      }
    }
    for (const key of ['storage', 'backupStorage'] as const) {
      const size = entry[key] === undefined ? undefined : memoryBytes(entry[key]!);
      if (size !== undefined && storage !== undefined) {
        p.check(size <= storage, `${field}.${key}`, entry[key], `at most ${f}.storage (${q.storage})`);
      }
    }
  }
}

function checkSandboxRuntime(env: Environment, p: Problems): void {
  const r = env.sandboxRuntime;
  p.check(isDns1123Subdomain(r.className), 'sandboxRuntime.className', r.className, DNS1123_SUBDOMAIN_RULE);
  p.check(isDns1123Label(r.handler), 'sandboxRuntime.handler', r.handler, `${DNS1123_LABEL_RULE} (a containerd runtime handler)`);
  for (const [key, value] of Object.entries(r.nodeSelector ?? {})) {
    p.check(isQualifiedName(key), `sandboxRuntime.nodeSelector["${key}"]`, key, QUALIFIED_NAME_RULE);
    p.check(isLabelValue(value), `sandboxRuntime.nodeSelector["${key}"]`, value, LABEL_VALUE_RULE);
  }
}
