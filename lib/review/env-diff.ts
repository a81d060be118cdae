/**
 * Compares the rendered environments object by object and field by field, and puts every
 * difference in the area it belongs to (areas.ts), or marks it unexpected. This is the check
 * behind `npm run diff:envs`: if a reviewer diffs dist/lab against dist/prod-eks, every
 * difference should be one they can name: an area of the Environment (lib/environment.ts).
 */
import {
  Area,
  CONFIG_HASH_RULE,
  FIELD_RULES,
  GUARDED_FIELDS,
  objectMatches,
  pathMatches,
  PRESENCE_RULES,
  REGISTRY_RULE,
} from './areas';
import { flatten, sameValue } from './flatten';
import { compareText, KubeObject, objectKey, objectLabel, podTemplate, podTemplatePath } from './kube';

/** One environment's rendered objects, and the registry mirror its images are pulled through. */
export interface EnvironmentObjects {
  readonly name: string;
  readonly registryMirror: string;
  readonly objects: readonly KubeObject[];
}

export type Classification =
  { readonly area: Area; readonly reason: string } | { readonly area: 'unexpected'; readonly reason: string };

/** One difference: an object present in some environments only, or one field that differs. */
export interface Difference {
  /** `Deployment web/web`. */
  readonly object: string;
  readonly kind: string;
  /** The field path, or undefined when the difference is the object's presence. */
  readonly path?: string;
  /** Per environment, in the order given: the field's value, or undefined where absent. */
  readonly values: readonly unknown[];
  readonly classification: Classification;
}

export interface EnvDiffReport {
  readonly environments: readonly string[];
  /** How many distinct objects, and how many exist in every environment. */
  readonly objectCount: number;
  readonly objectsInAll: number;
  readonly differences: readonly Difference[];
  /** How many differences are unexpected: the command fails if any. */
  readonly unexpected: number;
}

interface ObjectVersions {
  readonly key: string;
  /** Per environment, the object or undefined. */
  readonly versions: readonly (KubeObject | undefined)[];
}

/** Compares environments; the first is the baseline the others are listed against. */
export function compareEnvironments(envs: readonly EnvironmentObjects[]): EnvDiffReport {
  const objects = alignObjects(envs);
  const differences: Difference[] = [];
  const pendingHashes: { index: number; versions: ObjectVersions }[] = [];

  for (const entry of objects) {
    const sample = entry.versions.find((v) => v !== undefined)!;
    if (entry.versions.some((v) => v === undefined)) {
      differences.push({
        object: objectLabel(sample),
        kind: sample.kind,
        values: entry.versions.map((v) => (v === undefined ? undefined : 'present')),
        classification: classifyPresence(sample),
      });
    }
    const leaves = entry.versions.map((v) => (v === undefined ? undefined : flatten(v)));
    const paths = [...new Set(leaves.flatMap((l) => (l ? [...l.keys()] : [])))];
    for (const path of paths) {
      const present = leaves.map((l, i) => ({ l, i })).filter(({ l }) => l !== undefined);
      const values = leaves.map((l) => l?.get(path));
      const presentValues = present.map(({ i }) => values[i]);
      if (presentValues.every((v) => sameValue(v, presentValues[0]))) {
        continue;
      }
      const difference: Difference = {
        object: objectLabel(sample),
        kind: sample.kind,
        path,
        values,
        classification: classifyField(sample, path, leaves, values, envs),
      };
      if (pathMatches(CONFIG_HASH_RULE.annotationPath, sample.kind, path)) {
        pendingHashes.push({ index: differences.length, versions: entry });
      }
      differences.push(difference);
    }
  }

  // The config hash is settled last: it is expected only if the ConfigMaps it hashes differ, and
  // every one of their differences is itself expected.
  for (const { index, versions } of pendingHashes) {
    differences[index] = { ...differences[index], classification: classifyConfigHash(versions, differences) };
  }

  return {
    environments: envs.map((e) => e.name),
    objectCount: objects.length,
    objectsInAll: objects.filter((o) => o.versions.every((v) => v !== undefined)).length,
    differences,
    unexpected: differences.filter((d) => d.classification.area === 'unexpected').length,
  };
}

/** Every distinct object, with its version in each environment, sorted for stable output. */
function alignObjects(envs: readonly EnvironmentObjects[]): ObjectVersions[] {
  const byKey = new Map<string, (KubeObject | undefined)[]>();
  envs.forEach((env, i) => {
    for (const o of env.objects) {
      const key = objectKey(o);
      const versions = byKey.get(key) ?? envs.map(() => undefined);
      if (versions[i] !== undefined) {
        throw new Error(
          `environment "${env.name}": two objects are ${objectLabel(o)}; each kind, namespace and name must be unique`,
        );
      }
      versions[i] = o;
      byKey.set(key, versions);
    }
  });
  return [...byKey.entries()]
    .map(([key, versions]) => ({ key, versions, label: objectLabel(versions.find((v) => v !== undefined)!) }))
    .sort((a, b) => compareText(a.label, b.label) || compareText(a.key, b.key))
    .map(({ key, versions }) => ({ key, versions }));
}

function classifyPresence(o: KubeObject): Classification {
  const rule = PRESENCE_RULES.find((r) => objectMatches(r.objects, o));
  return rule
    ? { area: rule.area, reason: rule.reason }
    : { area: 'unexpected', reason: `no area explains a ${o.kind} that exists in some environments only` };
}

function classifyField(
  o: KubeObject,
  path: string,
  leaves: readonly (Map<string, unknown> | undefined)[],
  values: readonly unknown[],
  envs: readonly EnvironmentObjects[],
): Classification {
  const guard = GUARDED_FIELDS.find((g) => g.test(o.kind, path));
  if (guard && !explainedByAbsentItem(path, leaves, values)) {
    return { area: 'unexpected', reason: `${guard.what} must be the same in every environment` };
  }
  if (isImagePath(o.kind, path)) {
    const image = classifyImage(values, envs);
    // A container that exists in some environments only (an exporter sidecar) has an image there
    // only: its images must still differ by the mirror alone, and the container needs an area.
    if (image.area !== 'unexpected' || !explainedByAbsentItem(path, leaves, values, false)) {
      return image;
    }
    const present = values.map((v, i) => ({ v, env: envs[i] })).filter(({ v }) => v !== undefined);
    const mirrorsOnly = classifyImage(
      present.map(({ v }) => v),
      present.map(({ env }) => env),
    );
    if (mirrorsOnly.area === 'unexpected') {
      return mirrorsOnly;
    }
  }
  for (const rule of FIELD_RULES) {
    if (!objectMatches(rule.objects, o) || !rule.paths.some((p) => pathMatches(p, o.kind, path))) {
      continue;
    }
    if (rule.changedLines && !onlyLinesDiffer(values, rule.changedLines)) {
      continue;
    }
    return { area: rule.area, reason: rule.reason };
  }
  if (pathMatches(CONFIG_HASH_RULE.annotationPath, o.kind, path)) {
    return { area: 'unexpected', reason: 'pending' }; // settled by classifyConfigHash
  }
  return { area: 'unexpected', reason: 'no area explains a difference in this field' };
}

/**
 * A guarded field absent in some environments is not a difference of its own when the list item
 * it belongs to (a container) is absent there too; present values must still be equal.
 */
function explainedByAbsentItem(
  path: string,
  leaves: readonly (Map<string, unknown> | undefined)[],
  values: readonly unknown[],
  presentMustBeEqual = true,
): boolean {
  const present = values.filter((v, i) => leaves[i] !== undefined && v !== undefined);
  if (presentMustBeEqual && !present.every((v) => sameValue(v, present[0]))) {
    return false;
  }
  const item = /^(.*\b(?:containers|initContainers|ephemeralContainers)\[[^\]]+\])/.exec(path)?.[1];
  if (!item) {
    return false;
  }
  return leaves.every(
    (l, i) =>
      l === undefined ||
      values[i] !== undefined ||
      ![...l.keys()].some((k) => k.startsWith(`${item}.`) || k.startsWith(`${item}[`)),
  );
}

function isImagePath(kind: string, path: string): boolean {
  const pod = podTemplatePath(kind);
  if (pod === undefined) {
    return false;
  }
  const prefix = pod === '' ? 'spec.' : `${pod}.spec.`;
  return new RegExp(`^${prefix.replace(/\./g, '\\.')}(containers|initContainers)\\[[^\\]]+\\]\\.image$`).test(path);
}

/**
 * An image that differs only by the environment's mirror (`<mirror>/<repository>:<tag>` with the
 * same repository and tag everywhere) is a registry difference; a different repository, tag or
 * digest, or an image not pulled through its environment's mirror, is unexpected.
 */
function classifyImage(values: readonly unknown[], envs: readonly EnvironmentObjects[]): Classification {
  const stripped: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const image = values[i];
    if (image === undefined) {
      return { area: 'unexpected', reason: `the container has no image in "${envs[i].name}"` };
    }
    const prefix = `${envs[i].registryMirror}/`;
    if (typeof image !== 'string' || !image.startsWith(prefix)) {
      return {
        area: 'unexpected',
        reason: `${JSON.stringify(image)} in "${envs[i].name}" is not pulled through its mirror "${envs[i].registryMirror}"`,
      };
    }
    stripped.push(image.slice(prefix.length));
  }
  if (stripped.some((s) => s !== stripped[0])) {
    return {
      area: 'unexpected',
      reason: `the image differs in more than its registry mirror: ${[...new Set(stripped)].join(' vs ')}`,
    };
  }
  return { area: REGISTRY_RULE.area, reason: REGISTRY_RULE.reason };
}

/** Whether every line not shared by all the (string) values matches the pattern. */
function onlyLinesDiffer(values: readonly unknown[], pattern: RegExp): boolean {
  if (values.some((v) => typeof v !== 'string')) {
    return false;
  }
  const lineSets = (values as string[]).map((v) => v.split('\n'));
  const inAll = new Set(lineSets[0].filter((line) => lineSets.every((lines) => lines.includes(line))));
  const changed = lineSets.flat().filter((line) => !inAll.has(line));
  // The same lines in another order would be a difference no line explains.
  const sameOrder = lineSets.every((lines) =>
    sameValue(
      lines.filter((l) => inAll.has(l)),
      lineSets[0].filter((l) => inAll.has(l)),
    ),
  );
  return changed.length > 0 && sameOrder && changed.every((line) => pattern.test(line));
}

/** The ConfigMaps (and Secrets) a pod reads through volumes, envFrom and env, by name. */
function configSources(podSpec: KubeObject): { configMaps: Set<string>; secrets: Set<string> } {
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of podSpec.volumes ?? []) {
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap?.name) configMaps.add(s.configMap.name);
      if (s.secret?.name) secrets.add(s.secret.name);
    }
  }
  for (const c of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configMaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configMaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
  }
  return { configMaps, secrets };
}

function classifyConfigHash(entry: ObjectVersions, differences: readonly Difference[]): Classification {
  const sample = entry.versions.find((v) => v !== undefined)!;
  const namespace = sample.metadata?.namespace;
  const sourceLabels = new Set<string>();
  for (const version of entry.versions) {
    const spec = version && podTemplate(version)?.spec;
    if (!spec) continue;
    const { configMaps, secrets } = configSources(spec);
    for (const name of configMaps) sourceLabels.add(objectLabel({ kind: 'ConfigMap', metadata: { namespace, name } }));
    for (const name of secrets) sourceLabels.add(objectLabel({ kind: 'Secret', metadata: { namespace, name } }));
  }
  const sourceDiffs = differences.filter((d) => sourceLabels.has(d.object));
  if (sourceDiffs.length === 0) {
    return {
      area: 'unexpected',
      reason: 'the config hash differs but the ConfigMaps and Secrets the pods read do not',
    };
  }
  const unexpected = sourceDiffs.find((d) => d.classification.area === 'unexpected');
  if (unexpected) {
    return { area: 'unexpected', reason: `the config hash follows an unexpected difference in ${unexpected.object}` };
  }
  // The areas of the configuration's differences; the first in area order, the rest named.
  const areas = [...new Set(sourceDiffs.map((d) => d.classification.area as Area))];
  return { area: areas[0], reason: `${CONFIG_HASH_RULE.reason}: ${[...sourceLabels].sort().join(', ')}` };
}
