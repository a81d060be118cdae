import { z } from 'zod';
import { AddonLockEntry, DELIVERY_ENGINE, readLock, selectableAddonNames, verifyAddon } from '../addons/lock';
import { Environment } from '../environment';
import { checkAgainstSchema, closest } from '../k8s/schema-problems';
import { Problems } from '../k8s/validation';
import { SUPPORTED_MINORS } from '../kubernetes-versions';

/**
 * What validating an environment needs to know of an add-on's definition (lib/addons/<name>.ts): its
 * name and the schema of the settings it accepts. The registry (lib/addons/index.ts) passes its
 * entries; this layer sits below the definitions and never imports them.
 */
export interface AddonSettings {
  readonly name: string;
  readonly settings: z.ZodType;
  /** The add-ons it needs running before its objects are applied (lib/addons/definition.ts). */
  readonly needs?: readonly string[];
}

/**
 * The environment's `addons`: each name one the project can render (a definition and a lock entry),
 * each entry the settings that add-on's definition accepts, its pinned version supporting the
 * environment's Kubernetes minor (the range its documentation states, recorded in the lock), and its
 * vendored files exactly what the lock records. `definitions` undefined: the names are checked
 * against the lock alone, and no settings.
 */
export function checkAddons(
  env: unknown,
  definitions: readonly AddonSettings[] | undefined,
  p: Problems,
  root?: string,
): void {
  const e = env as { addons?: unknown; kubernetesVersion?: unknown } | null;
  const addons = e?.addons;
  if (typeof addons !== 'object' || addons === null || Array.isArray(addons)) {
    return; // the schema reports it
  }
  const lock = readLock(root);
  const locked = selectableAddonNames(root);
  const known = definitions === undefined ? locked : definitions.map((d) => d.name).filter((n) => locked.includes(n));
  for (const [name, settings] of Object.entries(addons as Record<string, unknown>)) {
    const field = `addons.${name}`;
    if (lock.addons[name]?.role === DELIVERY_ENGINE) {
      // Pinned beside the add-ons for its CRDs only: the reconciler is installed by `flux install` or
      // the cloud's extension, and dist/<env>/ is what it applies, so it can never be part of it.
      p.check(
        false,
        field,
        settings,
        `one of the platform add-ons (${known.join(', ')}): ${name} is a delivery engine (role "${DELIVERY_ENGINE}" in addons/addons.lock.json), ` +
          "pinned only for the CRDs that check the delivery objects (dist/<env>-delivery/); it is installed by flux install or the cloud's extension, " +
          'and an environment chooses its engine with delivery.engine',
      );
      continue;
    }
    if (!known.includes(name)) {
      const guess = closest(name, known);
      p.check(
        false,
        field,
        settings,
        `${guess === undefined ? '' : `did you mean "${guess}"? `}the add-ons known are ${known.join(', ')} (lib/addons/, pinned in addons/addons.lock.json)`,
        'unknown field',
      );
      continue;
    }
    const definition = definitions?.find((d) => d.name === name);
    if (definition !== undefined) {
      if (
        p.check(
          typeof settings === 'object' && settings !== null && !Array.isArray(settings),
          field,
          settings,
          `an object of ${name}'s settings ({} for upstream's defaults)`,
        )
      ) {
        checkAgainstSchema(p, field, definition.settings, settings);
      }
      // Its objects are applied only once these run (lib/addons/waves.ts): the environment must install them.
      for (const need of definition.needs ?? []) {
        p.check(
          need in addons,
          field,
          settings,
          `an environment that also installs the add-on "${need}" (addons.${need}): ${name} needs it running ` +
            `before its own objects are applied (needs in lib/addons/${name}.ts); the add-ons installed: ` +
            `${Object.keys(addons).sort().join(', ')}`,
        );
      }
    }
    const entry = lock.addons[name];
    const version = e?.kubernetesVersion;
    // Only a minor the project knows (the schema reports any other, once).
    if (typeof version === 'string' && SUPPORTED_MINORS.includes(version) && !addonSupports(entry, version)) {
      p.check(
        false,
        field,
        entry.version,
        `a version of ${name} that supports the environment's kubernetesVersion "${version}": the pinned ${name} ` +
          `${entry.version} supports Kubernetes ${entry.kubernetes.min} to ${entry.kubernetes.max ?? 'any newer minor'} ` +
          `(${entry.kubernetes.documentation}); refresh it (npm run addons:refresh -- ${name} <version>) or choose another kubernetesVersion`,
      );
    }
    for (const problem of vendoredProblems(name, root)) {
      p.check(
        false,
        field,
        entry.version,
        `vendored files that hash to what addons/addons.lock.json records: ${problem}`,
      );
    }
  }
}

/**
 * Whether the pinned version's documented Kubernetes range holds minor "1.N" (max null: no upper
 * bound documented).
 */
export function addonSupports(entry: AddonLockEntry, version: string): boolean {
  const minor = (v: string) => Number(v.split('.')[1]);
  const { min, max } = entry.kubernetes;
  return minor(version) >= minor(min) && (max === null || minor(version) <= minor(max));
}

const verified = new Map<string, readonly string[]>();

/** verifyAddon's problems, once per add-on per process: several environments install the same add-on. */
function vendoredProblems(name: string, root: string | undefined): readonly string[] {
  const key = `${root ?? ''}\0${name}`;
  let problems = verified.get(key);
  if (problems === undefined) {
    problems = root === undefined ? verifyAddon(name) : verifyAddon(name, root);
    verified.set(key, problems);
  }
  return problems;
}

/**
 * Add-ons the environment's own fields rely on: a field that names an add-on's objects (a MetalLB
 * pool, a ClusterIssuer, a ClusterSecretStore, ServiceMonitors, the local-path class, Traefik's class,
 * the NLB class of the AWS Load Balancer Controller)
 * renders objects that mean nothing, or fail to apply, without it. Runs as a refinement, once the
 * environment's shape holds.
 */
export function checkAddonNeeds(env: Environment, p: Problems): void {
  const needs: { addon: string; field: string; value: unknown; because: string }[] = [];
  if (env.loadBalancing.provider === 'metallb') {
    needs.push({
      addon: 'metallb',
      field: 'loadBalancing.provider',
      value: 'metallb',
      because: 'MetalLB answers for the LoadBalancer Services and reads the address pools',
    });
  }
  if (env.loadBalancing.provider === 'aws-load-balancer-controller') {
    needs.push({
      addon: 'aws-load-balancer-controller',
      field: 'loadBalancing.provider',
      value: 'aws-load-balancer-controller',
      because: 'it provisions the Network Load Balancer of the LoadBalancer Services that name its class',
    });
  }
  needs.push({
    addon: 'cert-manager',
    field: 'loadBalancing.ingress.clusterIssuer',
    value: env.loadBalancing.ingress.clusterIssuer,
    because: 'the ClusterIssuer is a cert-manager object, and the Ingresses ask cert-manager for their certificates',
  });
  if (env.loadBalancing.ingress.className === 'traefik') {
    needs.push({
      addon: 'traefik',
      field: 'loadBalancing.ingress.className',
      value: 'traefik',
      because: 'the class is the one the Traefik chart installs',
    });
  }
  if (env.identity.secrets.provider !== 'lab-secrets-command') {
    needs.push({
      addon: 'external-secrets',
      field: 'identity.secrets.provider',
      value: env.identity.secrets.provider,
      because: 'the ClusterSecretStore and ExternalSecrets are External Secrets Operator objects',
    });
  }
  if (env.observability.stack === 'prometheus-operator') {
    needs.push({
      addon: 'prometheus-operator',
      field: 'observability.stack',
      value: 'prometheus-operator',
      because: "the ServiceMonitors and PrometheusRules are the Prometheus Operator's objects",
    });
  }
  if (env.storage.provisioner === 'rancher.io/local-path') {
    needs.push({
      addon: 'local-path-provisioner',
      field: 'storage.provisioner',
      value: env.storage.provisioner,
      because: 'it is the provisioner behind the StorageClass',
    });
  }
  for (const need of needs) {
    p.check(
      need.addon in env.addons || env.providedByPlatform.some((piece) => piece.piece === need.addon),
      need.field,
      need.value,
      `an environment that installs the add-on "${need.addon}" (addons.${need.addon}), or whose providedByPlatform names "${need.addon}" as a piece the platform runs: ${need.because}`,
    );
  }
}
