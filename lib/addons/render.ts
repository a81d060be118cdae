import { Environment } from '../environment';
import { KubeObject } from '../k8s/kube-object';
import { PART_OF } from '../k8s/labels';
import { ValidationError } from '../k8s/validation';
import { ADDONS } from './index';
import { readLock } from './lock';
import { AddonObjects } from './objects';
import { upstreamCrdDocuments, upstreamCrdKinds, upstreamObjectsOf } from './upstream';
import { addonWaves } from './waves';

/**
 * The label every add-on object carries, its CRDs excepted, as every object of the project does:
 * deploy prunes only objects labelled app.kubernetes.io/part-of=lab-to-prod that it applied itself
 * (lib/commands/deploy.ts), so an add-on taken out of an environment's `addons` is deleted from the
 * cluster at the next deploy instead of running on unmanaged. Only metadata.labels: upstream's pod
 * templates and selectors stay as they are (a Deployment's selector cannot change in place).
 * The CRDs stay verbatim and are never pruned: deleting a CRD deletes every object of its kind in the
 * whole cluster, whoever made it, which is why package managers (Helm's crds/ folder) leave CRDs in
 * place when an add-on is removed; one no longer wanted is deleted by hand.
 */
export const ADDON_OBJECT_LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/part-of': PART_OF };

/** One add-on as an environment installs it. */
export interface AddonRendering {
  readonly name: string;
  /** The pinned version (addons/addons.lock.json). */
  readonly version: string;
  /**
   * Upstream's CustomResourceDefinitions, each document's bytes verbatim, in upstream's order; empty
   * if it has none. The same Buffers for every environment (read once per process): never changed.
   */
  readonly crds: readonly Buffer[];
  /**
   * The deploy wave it is applied in (lib/addons/waves.ts): 1, or 1 + the highest wave of the add-ons
   * it needs running.
   */
  readonly wave: number;
  /**
   * Upstream's other objects with the environment's settings applied, in upstream's order, each
   * labelled ADDON_OBJECT_LABELS; the objects of kinds its own CRDs define are in `resources`.
   */
  readonly objects: readonly KubeObject[];
  /**
   * Its objects of the kinds its own CRDs define (the AWS Load Balancer Controller's IngressClassParams):
   * its own webhooks admit them, and those answer only once its controller runs, so they are applied
   * in the wave after its own. Empty for most add-ons.
   */
  readonly resources: readonly KubeObject[];
}

/**
 * The add-ons an environment installs (env.addons), in the registry's order, each upstream's
 * rendering with its definition's patches applied. The environment has been validated (its add-on
 * names and settings too: lib/environments/validate-addons.ts); a patch whose target the pinned
 * version lacks stops here, with every such problem of the environment at once.
 */
export function renderAddons(env: Environment): AddonRendering[] {
  const where = `environment "${env.name}"`;
  const problems = [];
  const rendered: AddonRendering[] = [];
  const installed = ADDONS.filter((d) => d.name in env.addons);
  const waves = addonWaves(
    installed,
    installed.map((d) => d.name),
  );
  for (const definition of installed) {
    const entry = readLock().addons[definition.name];
    const objects = new AddonObjects(definition.name, entry.version, where, upstreamObjectsOf(definition.name));
    definition.apply(objects, definition.settings.parse(env.addons[definition.name]), env);
    problems.push(...objects.problems);
    const crds = upstreamCrdDocuments(definition.name);
    const ownKinds = upstreamCrdKinds(definition.name);
    const labelled = objects.objects.map((o) => withLabels(withoutNulls(o)));
    const isOwnResource = (o: KubeObject) => ownKinds.has(`${String(o.apiVersion).split('/')[0]}/${String(o.kind)}`);
    rendered.push({
      name: definition.name,
      version: entry.version,
      crds,
      wave: waves.get(definition.name)!,
      objects: labelled.filter((o) => !isOwnResource(o)),
      resources: labelled.filter(isOwnResource),
    });
  }
  if (problems.length > 0) {
    throw new ValidationError(problems);
  }
  return rendered;
}

/** The object with ADDON_OBJECT_LABELS added to its own labels (an object of upstream's, not shared: changed in place). */
function withLabels(object: KubeObject): KubeObject {
  object.metadata = { ...object.metadata, labels: { ...object.metadata?.labels, ...ADDON_OBJECT_LABELS } };
  return object;
}

/**
 * An object without its null fields. A chart's template often writes a key with nothing under it
 * (`annotations:` for an empty list of annotations), which YAML reads as null; the API server decodes
 * a null field as an absent one, and `kubectl kustomize` drops it, so the rendering writes it as the
 * cluster will hold it. (Items of a list are kept: a null there is a value.)
 */
export function withoutNulls<T>(value: T): T {
  // Most objects have no null field: they are returned as they are, not copied.
  if (!hasNullField(value)) {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => (typeof item === 'object' && item !== null ? withoutNulls(item) : item)) as T;
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, field]) => field !== null)
      .map(([key, field]) => [key, withoutNulls(field)]),
  ) as T;
}

/** Whether a mapping anywhere in value has a null field (what withoutNulls takes out). */
function hasNullField(value: unknown): boolean {
  if (Array.isArray(value)) {
    return value.some((item) => typeof item === 'object' && item !== null && hasNullField(item));
  }
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field === null || (typeof field === 'object' && hasNullField(field))) {
      return true;
    }
  }
  return false;
}
