/**
 * Reads dist/<env>/ back into check inputs, with each environment's Kubernetes version, and checks
 * them as the synth checked what it wrote: our objects by every guardrail rule, the add-ons' objects
 * (upstream's, in their own files) by the Kubernetes schema only.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../environments';
import { checkManifests } from './index';
import { namespaceOf } from './objects';
import type { CheckOptions, Finding, ManifestInput } from './types';

/**
 * The files of dist/<env>/ that hold an add-on's objects as upstream ships them (lib/addons/):
 * 00-<addon>-crds.yaml (its CRDs, verbatim), 0<wave>-<addon>.yaml (its controllers, with only our
 * settings patched in; wave 1 to 4: lib/addons/waves.ts) and 0<wave>-<addon>-resources.yaml (its
 * objects of its own CRDs' kinds). Everything else there (05-platform.yaml on) is ours.
 */
export function isAddonFile(file: string): boolean {
  return /^(00-[a-z0-9-]+-crds|0[1-4]-[a-z0-9-]+)\.yaml$/.test(path.basename(file));
}

/**
 * The guardrail checks of objects read back from a folder. An add-on's objects are upstream's
 * design, not ours: flannel's DaemonSet is privileged because it configures the node's network,
 * MetalLB's speaker uses the host's network to answer ARP, and upstream's Deployments carry neither
 * our labels, our NetworkPolicies nor our budgets. Holding them to our hardening rules would refuse
 * every one; waiving each rule on each object would hide which are upstream's. So they are held to
 * the Kubernetes schema (`schema/*`: no unknown field, valid values) where the checks have one for
 * their kind; a kind they have none for (CustomResourceDefinition, a webhook configuration,
 * APIService) is left to the API server, which refuses a kind it does not serve and, with deploy's
 * `--validate=strict`, an unknown field. The rest of the rules apply to our objects, which still
 * see the add-ons' objects (a Namespace, an IngressClass) as defined when they refer to them.
 */
export function checkReadInputs(inputs: readonly ManifestInput[], options: CheckOptions = {}): Finding[] {
  const addonObjects = new Set(
    inputs
      .filter((i) => isAddonFile(i.file))
      .map((i) =>
        objectId(
          i.environment,
          i.object?.kind ?? '(no kind)',
          namespaceOf(i.object),
          i.object?.metadata?.name ?? '(no name)',
        ),
      ),
  );
  // A null field of upstream's (helm's `annotations:` with nothing under it, a manifest's
  // `creationTimestamp: null`) is an absent field to the API server, which decodes JSON null as
  // unset; the schema check sees the object as the server will store it.
  const checked = inputs.map((i) => (isAddonFile(i.file) ? { ...i, object: withoutNulls(i.object) } : i));
  return checkManifests(checked, options).filter(
    (f) =>
      !addonObjects.has(objectId(f.environment, f.kind, f.namespace, f.name)) ||
      (f.ruleId.startsWith('schema/') && f.ruleId !== 'schema/unknown-kind'),
  );
}

/** A copy of value without the object fields whose value is null (list items are kept as they are). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/**
 * The files that hold the objects of the findings (errors and warnings, unwaived), for a report that
 * names the files of a folder, whose objects have no construct.
 */
export function filesOf(findings: readonly Finding[], inputs: readonly ManifestInput[]): string[] {
  const found = new Set(
    findings.filter((f) => !f.waived).map((f) => objectId(f.environment, f.kind, f.namespace, f.name)),
  );
  return [
    ...new Set(
      inputs
        .filter((i) =>
          found.has(
            objectId(
              i.environment,
              i.object?.kind ?? '(no kind)',
              namespaceOf(i.object),
              i.object?.metadata?.name ?? '(no name)',
            ),
          ),
        )
        .map((i) => i.file),
    ),
  ];
}

function objectId(environment: string, kind: unknown, namespace: string | undefined, name: unknown): string {
  return `${environment}/${String(kind)}/${namespace ?? '-'}/${String(name)}`;
}

/**
 * Every object under dist/<env>/ that `kubectl apply -R -f dist/<env>/` would send: every document of
 * every .yaml, .yml and .json file in the folder and its sub-folders (the extensions kubectl reads),
 * with the environment's Kubernetes version. Folders that are not environments are skipped.
 */
export function readDist(dist: string): ManifestInput[] {
  const inputs: ManifestInput[] = [];
  for (const environment of fs.readdirSync(dist).sort()) {
    const kubernetesVersion = environment in ENVIRONMENTS ? ENVIRONMENTS[environment].kubernetesVersion : undefined;
    if (!kubernetesVersion) continue;
    inputs.push(...readFolder(path.join(dist, environment), environment, kubernetesVersion));
  }
  return inputs;
}

/** Every object of one folder that `kubectl apply -R -f <folder>` would send, as the environment's. */
export function readFolder(folder: string, environment: string, kubernetesVersion: string): ManifestInput[] {
  const inputs: ManifestInput[] = [];
  const files = fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ya?ml|json)$/.test(f) && fs.statSync(path.join(folder, f)).isFile())
    .sort();
  for (const file of files) {
    for (const document of YAML.parseAllDocuments(fs.readFileSync(path.join(folder, file), 'utf8'))) {
      const object = document.toJS();
      if (object) inputs.push({ environment, kubernetesVersion, file, object });
    }
  }
  return inputs;
}
