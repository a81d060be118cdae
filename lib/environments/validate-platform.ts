import { Environment, ResourceQuantities } from '../environment';
import { checkBootstrap } from './validate-bootstrap';
import { comparableBytes, comparableCpuMillis } from '../k8s/quantity';
import { Problems } from '../k8s/validation';

/**
 * The rules between the platform's environment fields (lib/platform/, lib/bootstrap/): the storage
 * class and its provisioner, the secret store and the identity it is reached through, the monitoring
 * and its namespace, and the kubeadm bootstrap. Each field's own format is in the schema
 * (lib/environment.ts); these run as its refinements (ValidEnvironmentSchema), once the shape holds.
 * The namespace quota is checked apart (checkNamespaceQuota, below), once the workloads' scales are
 * known: it needs each workload's defaults, which the environment does not hold.
 */
export function checkPlatformAreas(env: Environment, p: Problems): void {
  checkStorageExpansion(env, p);
  checkSecrets(env, p);
  checkObservability(env, p);
  checkBootstrap(p, env);
}

/** Provisioners that cannot grow a volume: a StorageClass that says they can would leave claims stuck resizing. */
const CANNOT_EXPAND = ['rancher.io/local-path', 'kubernetes.io/no-provisioner'];

function checkStorageExpansion(env: Environment, p: Problems): void {
  if (CANNOT_EXPAND.includes(env.storage.provisioner)) {
    p.check(
      !env.storage.allowVolumeExpansion,
      'storage.allowVolumeExpansion',
      env.storage.allowVolumeExpansion,
      `false: ${env.storage.provisioner} cannot grow a volume`,
    );
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
  p.check(
    env.identity.provider === needed,
    'identity.secrets.provider',
    s.provider,
    `a secret manager reached through identity.provider "${env.identity.provider}" (${s.provider} needs "${needed}")`,
  );
  if (s.provider === 'azure-key-vault' && env.identity.provider === 'azure-workload-identity') {
    p.check(
      env.identity.clientIds['secret-store-reader'] !== undefined,
      'identity.clientIds["secret-store-reader"]',
      undefined,
      'the client ID of the managed identity that reads the Key Vault (the ClusterSecretStore acts as it)',
      'Required value',
    );
  }
}

function checkObservability(env: Environment, p: Problems): void {
  const o = env.observability;
  if (o.stack === 'prometheus-operator') {
    p.check(
      o.prometheusNamespace !== undefined,
      'observability.prometheusNamespace',
      o.prometheusNamespace,
      'the namespace Prometheus runs in, when observability.stack is "prometheus-operator" (its scrapes pass the default-deny NetworkPolicies from there)',
      'Required value',
    );
  }
}

interface Parsed {
  cpu?: number;
  memory?: number;
}
// Quantities reported on their own field (a missing unit) are left out of comparisons, so that no error lands on another field.
const parse = (q: ResourceQuantities): Parsed => ({
  cpu: comparableCpuMillis(q.cpu),
  memory: comparableBytes(q.memory),
});

/** One entry of env.scale: a workload's resources, and its replicas where it scales horizontally. */
interface ScaleEntry {
  readonly requests?: ResourceQuantities;
  readonly limits?: ResourceQuantities;
  readonly maxReplicas?: number;
  readonly storage?: string;
  readonly backupStorage?: string;
}

/**
 * The quota's values against each other, then each workload's scale against it: a namespace holds
 * its workload at maxReplicas plus the one surge pod of a rolling update, and no container is above
 * the LimitRange. `env.scale` here holds every workload's whole scale, its defaults and the
 * environment's changes merged (validateEnvironment in validate.ts gives it so).
 */
export function checkNamespaceQuota(env: Environment, p: Problems): void {
  const q = env.scale.namespaceQuota;
  const f = 'scale.namespaceQuota';
  const atMost = (
    field: string,
    given: ResourceQuantities,
    a: Parsed,
    b: Parsed,
    bName: string,
    bGiven: ResourceQuantities,
  ) => {
    if (a.cpu !== undefined && b.cpu !== undefined) {
      p.check(a.cpu <= b.cpu, `${field}.cpu`, given.cpu, `at most ${bName}.cpu (${bGiven.cpu})`);
    }
    if (a.memory !== undefined && b.memory !== undefined) {
      p.check(a.memory <= b.memory, `${field}.memory`, given.memory, `at most ${bName}.memory (${bGiven.memory})`);
    }
  };
  const requests = parse(q.requests);
  const limits = parse(q.limits);
  const max = parse(q.containerMax);
  const defRequests = parse(q.containerDefaults.requests);
  const defLimits = parse(q.containerDefaults.limits);
  atMost(`${f}.requests`, q.requests, requests, limits, `${f}.limits`, q.limits);
  atMost(
    `${f}.containerDefaults.requests`,
    q.containerDefaults.requests,
    defRequests,
    defLimits,
    `${f}.containerDefaults.limits`,
    q.containerDefaults.limits,
  );
  atMost(
    `${f}.containerDefaults.limits`,
    q.containerDefaults.limits,
    defLimits,
    max,
    `${f}.containerMax`,
    q.containerMax,
  );
  atMost(`${f}.containerMax`, q.containerMax, max, limits, `${f}.limits`, q.limits);
  const storage = comparableBytes(q.storage);

  for (const [workload, value] of Object.entries(env.scale)) {
    const entry = value as ScaleEntry;
    if (
      workload === 'namespaceQuota' ||
      typeof value !== 'object' ||
      value === null ||
      entry.limits === undefined ||
      entry.requests === undefined
    ) {
      continue;
    }
    const field = `scale.${workload}`;
    const wl = parse(entry.limits);
    const wr = parse(entry.requests);
    atMost(`${field}.limits`, entry.limits, wl, max, `${f}.containerMax`, q.containerMax);
    if (entry.maxReplicas !== undefined && Number.isInteger(entry.maxReplicas)) {
      const pods = entry.maxReplicas + 1;
      p.check(
        pods <= q.pods,
        `${field}.maxReplicas`,
        entry.maxReplicas,
        `at most ${f}.pods - 1 (${q.pods - 1}): a rollout adds one pod`,
      );
      for (const kind of ['requests', 'limits'] as const) {
        const per = kind === 'requests' ? wr : wl;
        const total = kind === 'requests' ? requests : limits;
        for (const r of ['cpu', 'memory'] as const) {
          // A request above its own limit is reported by the workload's schema; the quota check would only repeat it.
          const ownLimitOk = kind === 'limits' || wl[r] === undefined || wr[r] === undefined || wr[r] <= wl[r];
          if (per[r] !== undefined && total[r] !== undefined && ownLimitOk) {
            p.check(
              per[r] * pods <= total[r],
              `${field}.${kind}.${r}`,
              entry[kind]![r],
              `at most ${f}.${kind}.${r} (${q[kind][r]}) divided by maxReplicas + 1 (${pods}): the namespace must hold every replica and a rollout's surge pod`,
            );
          }
        }
      }
    }
    for (const key of ['storage', 'backupStorage'] as const) {
      const size = entry[key] === undefined ? undefined : comparableBytes(entry[key]);
      if (size !== undefined && storage !== undefined) {
        p.check(size <= storage, `${field}.${key}`, entry[key], `at most ${f}.storage (${q.storage})`);
      }
    }
  }
}
