/**
 * Flattens a Kubernetes object into its leaf fields, each with a readable path, so that two
 * renderings of the same object can be compared field by field.
 *
 * Paths read like the API's own field paths: `spec.template.spec.containers[nginx].image`,
 * `metadata.annotations[metallb.io/address-pool]`, `spec.topologySpreadConstraints[1].maxSkew`.
 * - A map key that is not a plain identifier (labels, annotations, data keys) is written in brackets.
 * - A list of objects that each have a distinct `name` (containers, volumes, ports, env) is keyed
 *   by name, so that inserting one item does not make every following item look changed; failing
 *   that, by a distinct `mountPath` (volumeMounts); otherwise by position.
 * - A list of plain values (ipFamilies, capabilities.drop, policyTypes) is one leaf: its order
 *   can matter (the first IP family is the primary one), so it is compared whole.
 * - Empty maps and lists are leaves too, so `{}` versus absent is seen.
 */

/** One leaf field: its path and its value (a scalar, a list of scalars, or an empty map or list). */
export interface Leaf {
  readonly path: string;
  readonly value: unknown;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const ITEM_KEYS = ['name', 'mountPath'];
/**
 * Lists keyed by position whatever their items hold: an RBAC binding's subjects, whose `name` is
 * the very value that differs between environments (the group as each sign-in names it), not which item it is.
 */
const BY_POSITION = /(^|\.)subjects$/;

/** Every leaf of the value, in document order, keyed by path. */
export function flatten(value: unknown, path = ''): Map<string, unknown> {
  const leaves = new Map<string, unknown>();
  walk(value, path, leaves);
  return leaves;
}

function walk(value: unknown, path: string, out: Map<string, unknown>): void {
  if (Array.isArray(value)) {
    if (value.length === 0 || value.every((v) => !isObject(v) && !Array.isArray(v))) {
      out.set(path, value);
      return;
    }
    const itemKey = BY_POSITION.test(path)
      ? undefined
      : ITEM_KEYS.find((k) => distinctStrings(value.map((v) => (isObject(v) ? v[k] : undefined))));
    value.forEach((item, index) => walk(item, `${path}[${itemKey ? item[itemKey] : index}]`, out));
    return;
  }
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) {
      out.set(path, value);
      return;
    }
    for (const key of keys) {
      walk(value[key], childPath(path, key), out);
    }
    return;
  }
  out.set(path, value);
}

/** `parent.key`, or `parent[key]` where the key is not a plain identifier. */
export function childPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) {
    return parent === '' ? key : `${parent}.${key}`;
  }
  return `${parent}[${key}]`;
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function distinctStrings(values: unknown[]): boolean {
  return values.every((v) => typeof v === 'string') && new Set(values).size === values.length;
}

/** Two leaf values are the same if their JSON is (lists of scalars compare in order). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
