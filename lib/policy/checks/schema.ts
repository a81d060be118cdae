/**
 * Schema: every object against the API schema of its apiVersion and kind, with
 * strict unknown-field detection (the API server's strict field validation).
 * The validators are generated ahead of time (see scripts/generate/validators.ts) and
 * loaded lazily, one module per Kubernetes version or CRD file.
 */
import { Check, EnvironmentIndex, ObjectContext } from '../context';
import { fieldPath, pointerToFieldPath } from '../paths';
import { compareMinors } from '../../kubernetes-versions';
import { catalogue, loadValidators as load } from '../../../speed/schema-modules';
import { DEPRECATED_FIELDS_EXPORT, DeprecatedField, Rule } from '../types';

export const rules: Rule[] = [
  {
    id: 'schema/unknown-kind',
    severity: 'error',
    reason: 'An apiVersion/kind the cluster does not serve is refused on apply.',
  },
  {
    id: 'schema/unknown-field',
    severity: 'error',
    reason:
      'The API server in strict mode refuses fields its schema does not have (often a typo or a field of a newer version).',
  },
  {
    id: 'schema/invalid',
    severity: 'error',
    reason:
      'A value of the wrong type, a missing required field or a value outside an enum is refused by the API server.',
  },
  {
    id: 'schema/deprecated-field',
    severity: 'error',
    reason:
      'A field its Kubernetes version documents as deprecated is on its way out: it may be ignored, warned about or removed in the next release.',
  },
];

/** The schema versions we have, ascending: one per supported minor ('1.31' ... '1.37'). */
export const SCHEMA_VERSIONS = Object.keys(catalogue.kubernetes).sort(compareMinors);

/**
 * The schema of the cluster's own minor version. There is no nearest one: a version we have no
 * schema for is a version we do not support (lib/kubernetes-versions.ts), and checking it against
 * another version's schema would pass fields that version lacks or miss ones it deprecates.
 */
export function schemaVersionFor(kubernetesVersion: string): string {
  if (!SCHEMA_VERSIONS.includes(kubernetesVersion)) {
    throw new Error(
      `kubernetesVersion "${kubernetesVersion}" has no API schema here; supported minor versions: ${SCHEMA_VERSIONS.join(', ')}`,
    );
  }
  return kubernetesVersion;
}

/** Every value at a catalogue path (`spec.template.spec.volumes[].gitRepo`, `[*]` for map values), with its field path. */
export function valuesAt(object: any, catalogPath: string): Array<{ at: string; value: unknown }> {
  let found: Array<{ at: string; value: any }> = [{ at: '', value: object }];
  for (const segment of catalogPath.split('.')) {
    const name = segment.replace(/(\[\]|\[\*\])+$/, '');
    const suffixes = segment.slice(name.length).match(/\[\]|\[\*\]/g) ?? [];
    found = found.flatMap(({ at, value }) =>
      value && typeof value === 'object' && name in value
        ? [{ at: at ? `${at}.${name}` : name, value: value[name] }]
        : [],
    );
    for (const suffix of suffixes) {
      found = found.flatMap(({ at, value }) => {
        if (suffix === '[]') return Array.isArray(value) ? value.map((v, i) => ({ at: `${at}[${i}]`, value: v })) : [];
        return value && typeof value === 'object'
          ? Object.entries(value).map(([k, v]) => ({ at: `${at}[${k}]`, value: v }))
          : [];
      });
    }
  }
  return found;
}

/** The fields a built-in kind's minor documents as deprecated (none for a CRD's kind). */
function deprecatedFieldsOf(version: string, key: string): readonly DeprecatedField[] {
  if (!catalogue.kubernetes[version].checked.includes(key)) return [];
  const lists = load(`k8s-${version}.js`)[DEPRECATED_FIELDS_EXPORT] as unknown as Record<string, DeprecatedField[]>;
  return lists[key] ?? [];
}

/** The validator for an object's apiVersion/kind, or a reason there is none. */
function validatorFor(key: string, version: string): ReturnType<typeof load>[string] | string {
  const kubernetes = catalogue.kubernetes[version];
  if (kubernetes.checked.includes(key)) return load(`k8s-${version}.js`)[key];
  const crd = catalogue.crds[key];
  if (crd) return load(crd.module)[key];
  if (kubernetes.known.includes(key)) {
    return `${key} is a Kubernetes ${version} kind the checks have no schema for; add it to CHECKED_KINDS in scripts/generate/validators.ts and regenerate`;
  }
  const crdKinds = Object.keys(catalogue.crds).join(', ');
  return `${key} is neither a Kubernetes ${version} kind nor a kind of the known CRDs (${crdKinds})`;
}

function valueAt(object: any, pointer: string): unknown {
  let value = object;
  for (const segment of pointer.split('/').slice(1)) value = value?.[segment.replace(/~1/g, '/').replace(/~0/g, '~')];
  return value;
}

function describe(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

export const schemaCheck: Check = {
  rules,
  check({ object, input, report }: ObjectContext, _environment: EnvironmentIndex): void {
    const version = schemaVersionFor(input.kubernetesVersion);
    const key = `${object?.apiVersion}/${object?.kind}`;
    const validator = validatorFor(key, version);
    if (typeof validator === 'string') {
      report('schema/unknown-kind', 'kind', validator);
      return;
    }
    for (const { path: deprecatedPath, reason } of deprecatedFieldsOf(version, key)) {
      for (const { at } of valuesAt(object, deprecatedPath)) {
        report('schema/deprecated-field', at, `deprecated in Kubernetes ${version}: ${reason}`);
      }
    }
    if (validator(object)) return;
    const errors = validator.errors ?? [];
    // Alternatives (int-or-string, anyOf in CRDs) fail as a group: say once what is allowed.
    const alternatives = new Set(
      errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => e.instancePath),
    );
    const typesAt = new Map<string, string[]>();
    for (const e of errors) {
      if (e.keyword === 'type' && alternatives.has(e.instancePath)) {
        typesAt.set(e.instancePath, [...(typesAt.get(e.instancePath) ?? []), String(e.params.type)]);
      }
    }
    const seen = new Set<string>();
    for (const e of errors) {
      const at = pointerToFieldPath(e.instancePath);
      const value = describe(valueAt(object, e.instancePath));
      let finding: [string, string, string];
      if (e.keyword === 'additionalProperties') {
        const field = e.params.additionalProperty;
        finding = [
          'schema/unknown-field',
          fieldPath(at, field),
          `unknown field "${field}" (not in the Kubernetes ${version} schema of ${key}; check the spelling and the version that added it)`,
        ];
      } else if (
        alternatives.has(e.instancePath) &&
        (e.keyword === 'type' || e.keyword === 'oneOf' || e.keyword === 'anyOf')
      ) {
        const types = [...new Set(typesAt.get(e.instancePath) ?? [])];
        finding = [
          'schema/invalid',
          at,
          `value ${value} is not allowed: must be ${types.length ? types.join(' or ') : 'one of the allowed shapes'}`,
        ];
      } else if (e.keyword === 'required') {
        finding = [
          'schema/invalid',
          fieldPath(at, e.params.missingProperty),
          `required field "${e.params.missingProperty}" is missing`,
        ];
      } else if (e.keyword === 'enum') {
        finding = [
          'schema/invalid',
          at,
          `value ${value} is not allowed: must be one of ${e.params.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}`,
        ];
      } else {
        finding = ['schema/invalid', at, `value ${value} is not allowed: ${e.message}`];
      }
      const dedupe = finding.join('|');
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      report(...finding);
    }
  },
};
