/**
 * Generates the schema validators the checks load at run time.
 *
 * Why generated code: compiling the Kubernetes OpenAPI with Ajv on every synth
 * costs seconds; Ajv's "standalone" output is plain JavaScript that loads in a
 * few tens of milliseconds. The output is committed (generated/validators/) so a
 * fresh clone needs no schema sources; a test checks it is fresh.
 *
 * Sources (Apache-2.0, see scripts/generate/SOURCES.md): each supported Kubernetes
 * minor's OpenAPI v2 definitions (generated/openapi/, written from that
 * release's k8s.io/kubernetes module by scripts/generate/fetch-kubernetes-openapi.ts),
 * and the CRDs of the pinned add-ons, read from their renderings in addons/
 * (scripts/generate/pinned-crds.ts).
 *
 * Run: npm run generate:crds (scripts/generate/crds.ts), which writes these and the CRD bindings.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { transformSync } from 'esbuild';
import { SUPPORTED_MINORS } from '../../lib/kubernetes-versions';
import { DEPRECATED_FIELDS_EXPORT, DeprecatedField } from '../../lib/policy/types';
import { PinnedCrd, pinnedCrds, REPO_ROOT } from './pinned-crds';

/** Kubernetes versions we validate against: every supported minor, each against its own schema. */
export const KUBERNETES_VERSIONS = SUPPORTED_MINORS;

/**
 * The built-in kinds this project may emit. Others are reported by the checks as
 * "known to Kubernetes but not checked here" so adding one is a one-line change.
 */
export const CHECKED_KINDS = [
  'v1/Namespace',
  'v1/Service',
  'v1/ConfigMap',
  'v1/Secret',
  'v1/ServiceAccount',
  'v1/PersistentVolumeClaim',
  'v1/PersistentVolume',
  'v1/Pod',
  'v1/ResourceQuota',
  'v1/LimitRange',
  'apps/v1/Deployment',
  'apps/v1/StatefulSet',
  'apps/v1/DaemonSet',
  'apps/v1/ReplicaSet',
  'batch/v1/Job',
  'batch/v1/CronJob',
  'networking.k8s.io/v1/NetworkPolicy',
  'networking.k8s.io/v1/Ingress',
  'networking.k8s.io/v1/IngressClass',
  'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'policy/v1/PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler',
  'storage.k8s.io/v1/StorageClass',
  'node.k8s.io/v1/RuntimeClass',
  'scheduling.k8s.io/v1/PriorityClass',
];

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const SCHEMA_COMBINERS = ['oneOf', 'anyOf', 'allOf'];

type Schema = { [key: string]: any };

/**
 * Makes a Kubernetes schema strict the way the API server's strict field
 * validation is: an object that lists its properties accepts no others. The
 * OpenAPI definitions never say `additionalProperties: false`, so we add it.
 * Free-form objects (no properties, or x-kubernetes-preserve-unknown-fields)
 * stay open. Descriptions are dropped to keep the generated code small.
 */
export function makeStrict(schema: Schema): Schema {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'description' || key === 'example' || key === 'default') continue;
    if (
      key.startsWith('x-kubernetes-') &&
      key !== 'x-kubernetes-preserve-unknown-fields' &&
      key !== 'x-kubernetes-int-or-string'
    )
      continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, makeStrict(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = makeStrict(value);
    } else if (SCHEMA_COMBINERS.includes(key)) {
      out[key] = (value as Schema[]).map(makeStrict);
    } else if (key === 'pattern' && typeof value === 'string') {
      out.pattern = toJavaScriptPattern(value);
    } else {
      out[key] = value;
    }
  }
  // x-kubernetes-int-or-string (CRDs): the value is an integer or a string.
  if (out['x-kubernetes-int-or-string'] === true) {
    delete out['x-kubernetes-int-or-string'];
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const preserveUnknown = out['x-kubernetes-preserve-unknown-fields'] === true;
  delete out['x-kubernetes-preserve-unknown-fields'];
  if (out.properties && out.additionalProperties === undefined && !preserveUnknown) {
    out.additionalProperties = false;
  }
  return out;
}

/**
 * CRD patterns are Go (RE2) regular expressions; JavaScript lacks the inline
 * case-insensitive flag `(?i)`, so spell each letter as a [xX] class instead.
 */
export function toJavaScriptPattern(pattern: string): string {
  if (!pattern.includes('(?i)')) return pattern;
  let out = '';
  let inClass = false;
  // In the CRDs we use, (?i) follows at most a leading ^, so it covers the whole pattern.
  const body = pattern.replace('(?i)', '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') {
      out += c + (body[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '[') inClass = true;
    if (c === ']') inClass = false;
    const lower = c.toLowerCase();
    const upper = c.toUpperCase();
    if (lower !== upper) out += inClass ? lower + upper : `[${lower}${upper}]`;
    else out += c;
  }
  return out;
}

function newAjv(): Ajv {
  // strict: false because the schemas carry OpenAPI keywords Ajv does not know
  // (format int32, nullable on untyped nodes); formats are not validated: the
  // API server does not validate most of them either.
  return new Ajv({
    strict: false,
    allErrors: true,
    inlineRefs: false,
    validateFormats: false,
    code: { source: true, esm: false, lines: false },
  });
}

/** Minified: about a third faster to load, and nobody reads generated validators anyway. */
function finish(what: string, code: string): string {
  const minified = transformSync(code, { minify: true, format: 'cjs', target: 'node20' }).code;
  return `// Generated by scripts/generate/validators.ts from ${what}. Do not edit by hand.\n${minified}`;
}

function apiVersionOf(gvk: { group: string; version: string }): string {
  return gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version;
}

/** Where one minor's OpenAPI definitions are kept (scripts/generate/fetch-kubernetes-openapi.ts writes them). */
function openApiFile(version: string): string {
  return path.join(__dirname, '..', '..', 'generated', 'openapi', `v${version}.json`);
}

/** One minor's definitions, as scripts/generate/fetch-kubernetes-openapi.ts wrote them. */
export function kubernetesDefinitions(version: string): Schema {
  return JSON.parse(fs.readFileSync(openApiFile(version), 'utf8')).definitions;
}
const DEPRECATED = 'x-lab-to-prod-deprecated';

/**
 * Every deprecated field reachable from a definition, walking properties, array items and map
 * values through $refs (a definition already on the walk is not entered again: the API has no
 * recursive types among the kinds we emit, but CRD-like ones like JSONSchemaProps are).
 */
export function deprecatedFields(definitions: Schema, root: string): DeprecatedField[] {
  const found: DeprecatedField[] = [];
  const visit = (schema: Schema | undefined, at: string, onWalk: Set<string>): void => {
    if (!schema || typeof schema !== 'object') return;
    const ref: string | undefined = schema.$ref;
    if (ref) {
      const name = ref.replace('#/definitions/', '');
      if (onWalk.has(name)) return;
      visit(definitions[name], at, new Set([...onWalk, name]));
      return;
    }
    for (const [name, property] of Object.entries<Schema>(schema.properties ?? {})) {
      const field = at ? `${at}.${name}` : name;
      if (property[DEPRECATED]) found.push({ path: field, reason: property[DEPRECATED] });
      visit(property, field, onWalk);
    }
    if (schema.items) visit(schema.items, `${at}[]`, onWalk);
    if (typeof schema.additionalProperties === 'object') visit(schema.additionalProperties, `${at}[*]`, onWalk);
  };
  visit(definitions[root], '', new Set([root]));
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Two types whose OpenAPI says `type: string` but whose JSON decoding accepts more, as the API
 * server does: IntOrString (`maxSurge: 1` or `"25%"`) and Quantity (`cpu: 1` or `"500m"`).
 */
const WIDER_THAN_OPENAPI: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': { oneOf: [{ type: 'string' }, { type: 'integer' }] },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

/** Kubernetes built-in schemas for one version: standalone validators keyed by "apiVersion/Kind". */
export function generateKubernetes(version: string): { code: string; allKinds: string[] } {
  const definitions = { ...kubernetesDefinitions(version), ...WIDER_THAN_OPENAPI };
  const strictDefinitions: Schema = {};
  const kindToDefinition: Record<string, string> = {};
  for (const [name, schema] of Object.entries(definitions)) {
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      // Only top-level objects (with a kind property) can be applied; List types excluded.
      if (schema.properties?.kind && schema.properties?.metadata && !gvk.kind.endsWith('List')) {
        kindToDefinition[`${apiVersionOf(gvk)}/${gvk.kind}`] = name;
      }
    }
    strictDefinitions[name] = makeStrict(schema);
  }
  const ajv = newAjv();
  ajv.addSchema({ $id: 'k8s', definitions: strictDefinitions });
  const exported: Record<string, string> = {};
  const deprecated: Record<string, DeprecatedField[]> = {};
  for (const kind of CHECKED_KINDS) {
    const definition = kindToDefinition[kind];
    if (!definition) throw new Error(`Kubernetes ${version} has no kind ${kind}`);
    exported[kind] = `k8s#/definitions/${definition}`;
    const fields = deprecatedFields(definitions, definition);
    if (fields.length > 0) deprecated[kind] = fields;
  }
  const code =
    finish(`the Kubernetes ${version} OpenAPI definitions`, standaloneCode(ajv, exported)) +
    `exports[${JSON.stringify(DEPRECATED_FIELDS_EXPORT)}]=${JSON.stringify(deprecated)};\n`;
  return { code, allKinds: Object.keys(kindToDefinition).sort() };
}

/**
 * CRD schemas have no $refs, so Ajv would emit one giant function per kind
 * (ClusterSecretStore: 1.6 MB) that V8 must compile before the first call.
 * Hoisting every large subschema into a shared definition (deduplicated by
 * content) makes Ajv emit small functions that V8 compiles only when an object
 * actually uses that part of the schema.
 */
export function hoistLargeSubschemas(schema: Schema, baseId: string, definitions: Schema): Schema {
  const visit = (node: Schema, depth: number): Schema => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
    const out: Schema = { ...node };
    if (out.properties) {
      out.properties = Object.fromEntries(
        Object.entries(out.properties as Schema).map(([k, v]) => [k, visit(v, depth + 1)]),
      );
    }
    if (out.items) out.items = visit(out.items, depth + 1);
    if (typeof out.additionalProperties === 'object')
      out.additionalProperties = visit(out.additionalProperties, depth + 1);
    for (const key of SCHEMA_COMBINERS) if (out[key]) out[key] = out[key].map((x: Schema) => visit(x, depth + 1));
    const json = JSON.stringify(out);
    if (depth === 0 || json.length < HOIST_MIN_CHARS) return out;
    const name = 'h' + crypto.createHash('sha256').update(json).digest('hex').slice(0, 12);
    definitions[name] = out;
    return { $ref: `${baseId}#/definitions/${name}` };
  };
  return visit(schema, 0);
}

const HOIST_MIN_CHARS = 200;

/** One CRD: standalone validators keyed by "group/version/Kind" for every served version. */
export function generateCrd(pinned: PinnedCrd): { code: string; kinds: string[]; scope: string } {
  const crd = pinned.document;
  // ObjectMeta of the newest supported minor: it only ever gains optional fields.
  const definitions = kubernetesDefinitions(KUBERNETES_VERSIONS[KUBERNETES_VERSIONS.length - 1]);
  const ajv = newAjv();
  // CRD schemas leave metadata open; the API server validates it as ObjectMeta, so do we.
  const strictDefinitions = Object.fromEntries(
    Object.entries(definitions).map(([k, v]) => [k, makeStrict(v as Schema)]),
  );
  ajv.addSchema({ $id: 'urn:lab-to-prod:meta', definitions: strictDefinitions });
  const exported: Record<string, string> = {};
  const kinds: string[] = [];
  for (const version of crd.spec.versions) {
    if (!version.served) continue;
    const key = `${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
    const id = `urn:lab-to-prod:crd:${key.replace(/\//g, ':')}`;
    const strict = makeStrict(version.schema.openAPIV3Schema);
    strict.properties = {
      ...strict.properties,
      metadata: { $ref: `urn:lab-to-prod:meta#/definitions/${OBJECT_META}` },
    };
    strict.additionalProperties = false;
    const hoisted: Schema = {};
    const schema = hoistLargeSubschemas(strict, id, hoisted);
    schema.definitions = hoisted;
    schema.$id = id;
    ajv.addSchema(schema);
    exported[key] = id;
    kinds.push(key);
  }
  const code = finish(
    `the CRD ${pinned.name} of ${pinned.addon} ${pinned.addonVersion} (addons/${pinned.addon}/upstream.yaml)`,
    standaloneCode(ajv, exported),
  );
  return { code, kinds, scope: crd.spec.scope };
}

/**
 * Everything the generator writes, as file name → content (relative to generated/validators), from
 * the add-ons pinned under `root` (the repository; a test passes a copy).
 */
export function generateAll(
  root: string = REPO_ROOT,
  crds: readonly PinnedCrd[] = pinnedCrds(root),
): Record<string, string> {
  const files: Record<string, string> = {};
  const catalogue: {
    kubernetes: Record<string, { checked: string[]; known: string[] }>;
    crds: Record<string, { module: string; scope: string; addon: string; addonVersion: string }>;
  } = { kubernetes: {}, crds: {} };
  for (const version of KUBERNETES_VERSIONS) {
    const { code, allKinds } = generateKubernetes(version);
    files[`k8s-${version}.js`] = code;
    catalogue.kubernetes[version] = { checked: [...CHECKED_KINDS], known: allKinds };
  }
  for (const crd of crds) {
    const moduleName = `crd-${crd.fileBase}.js`;
    const { code, kinds: served, scope } = generateCrd(crd);
    files[moduleName] = code;
    for (const kind of served) {
      catalogue.crds[kind] = { module: moduleName, scope, addon: crd.addon, addonVersion: crd.addonVersion };
    }
  }
  files['catalogue.json'] = JSON.stringify(catalogue, null, 1) + '\n';
  return files;
}

export const OUTPUT_DIR = path.join(__dirname, '..', '..', 'generated', 'validators');
