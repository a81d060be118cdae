import { z } from 'zod';
import { FieldErrorType, FieldProblem, Problems } from './validation';

/**
 * zod schemas, reported in the Kubernetes API's words: every issue of a parse becomes a FieldProblem
 * (`scale.web.limits.memory: Invalid value: "128MB": ...`, `registry: Required value: ...`,
 * `loadBalancing.loadBalancerClas: unknown field: ...`), all of them at once.
 *
 * A schema's own messages (a refinement's or a format's) are the "what is allowed" of an Invalid
 * value. Where the schema gives none, the parse's error map below words it from the schema itself:
 * the supported values of an enum or a discriminator, the type a missing field needs, the fields an
 * object has. It marks what it words, so the two are told apart.
 */

const MARK = '\u0000';

interface Worded {
  readonly type: FieldErrorType;
  readonly allowed: string;
  /** For unknown fields: the fields the object has. */
  readonly known?: readonly string[];
}

const quoted = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/** Zod's internals of a schema, as far as the wording reads them. */
type Def = {
  type: string;
  shape?: Record<string, unknown>;
  options?: unknown[];
  discriminator?: string;
  entries?: Record<string, unknown>;
  values?: unknown[];
  innerType?: unknown;
  element?: unknown;
};
const defOf = (schema: unknown): Def | undefined => (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** What a schema's values are, as recorded by ruled(): for schemas whose refinements word each value's problem themselves. */
const RULES = new WeakMap<object, string>();

/**
 * Records what `schema`'s values are, for an error about a value of another type (a number where a
 * string belongs): a schema whose checks word their problems per value has no one message to show.
 */
export function ruled<T extends object>(schema: T, rule: string): T {
  RULES.set(schema, rule);
  return schema;
}

/** The rule of a string or number schema: recorded by ruled(), or the message of its first refinement or format that has one. */
function ruleOf(schema: unknown): string | undefined {
  if (schema !== null && typeof schema === 'object' && RULES.has(schema)) {
    return RULES.get(schema);
  }
  const checks = (defOf(schema) as { checks?: { _zod?: { def?: { error?: unknown } } }[] } | undefined)?.checks ?? [];
  for (const check of checks) {
    const error = check._zod?.def?.error;
    const message = typeof error === 'function' ? (error as () => unknown)() : undefined;
    if (typeof message === 'string' && message !== '') return message;
  }
  return undefined;
}

/** "a list whose entries are each one of "IPv4", "IPv6"". */
const listOf = (element: unknown): string => `a list whose entries are each ${describeSchema(element)}`;

/** An example list for a list schema, given the value found in its place: that value in a list, where it would be a valid entry. */
function listExample(element: unknown, found: unknown): string | undefined {
  if (found !== undefined && (element as z.ZodType | undefined)?.safeParse?.(found).success) {
    return `[${JSON.stringify(found)}]`;
  }
  const def = defOf(element);
  if (def?.type === 'enum') {
    return `[${JSON.stringify(Object.values(def.entries ?? {})[0])}]`;
  }
  return undefined;
}

/** What a value of this schema is, in a few words: "a string", "one of "a", "b"", "an object with the fields a, b". */
export function describeSchema(schema: unknown): string {
  const def = defOf(schema);
  switch (def?.type) {
    case 'string': {
      const rule = ruleOf(schema);
      return rule === undefined ? 'a string' : `a string: ${rule}`;
    }
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array': {
      const example = listExample(def.element, undefined);
      return `${listOf(def.element)}${example === undefined ? '' : `, e.g. ${example}`}`;
    }
    case 'record':
      return 'a map of names to values';
    case 'enum':
      return `one of ${quoted(Object.values(def.entries ?? {}))}`;
    case 'literal':
      return quoted(def.values ?? []);
    case 'optional':
      return describeSchema(def.innerType);
    case 'object': {
      const fields = Object.keys(def.shape ?? {});
      return `an object with the field${fields.length === 1 ? '' : 's'} ${fields.join(', ')}`;
    }
    case 'union': {
      const key = def.discriminator;
      if (key !== undefined) {
        const values = (def.options ?? []).flatMap((o) => defOf(defOf(o)?.shape?.[key])?.values ?? []);
        return `an object whose ${key} is one of ${quoted(values)}`;
      }
      return (def.options ?? []).map(describeSchema).join(' or ');
    }
    default:
      return `a value of type ${def?.type ?? 'unknown'}`;
  }
}

/**
 * What belongs where a value of the wrong type was found, with what to write instead: a number or
 * true/false where a string belongs needs quotes (and the string's rule: 1.35 for a version gets the
 * versions listed); a single value where a list belongs goes in brackets.
 */
function wrongType(schema: unknown, found: unknown): string {
  const def = defOf(schema);
  if (def?.type === 'string' && (typeof found === 'number' || typeof found === 'boolean')) {
    const rule = ruleOf(schema);
    // Not the quoted number itself: 1.30 unquoted is the number 1.3, whose text has lost its zero.
    return `a string, in quotes, not the ${typeof found} ${String(found)}${rule === undefined ? '' : `; ${rule}`}`;
  }
  if (def?.type === 'array' && !Array.isArray(found)) {
    const example = listExample(def.element, found);
    return `${listOf(def.element)}, in brackets: ${example ?? '[...]'}`;
  }
  if ((def?.type === 'number' || def?.type === 'boolean') && typeof found === 'string' && found.trim() !== '') {
    const unquoted = def.type === 'number' ? Number.isFinite(Number(found)) : found === 'true' || found === 'false';
    const rule = ruleOf(schema);
    const what = def.type === 'number' ? 'a number' : 'true or false';
    return `${what}, without quotes${unquoted ? ` (${found}, not ${JSON.stringify(found)})` : ''}${rule === undefined ? '' : `; ${rule}`}`;
  }
  return describeSchema(schema);
}

/** The parse's error map: words every issue the schema left without a message of its own. */
function wordIssue(issue: z.core.$ZodRawIssue): string {
  const inst = (issue as { inst?: unknown }).inst;
  let worded: Worded;
  switch (issue.code) {
    case 'invalid_type':
      worded =
        issue.input === undefined
          ? { type: 'Required value', allowed: describeSchema(inst) }
          : { type: 'Invalid value', allowed: wrongType(inst, issue.input) };
      break;
    case 'invalid_value':
      worded =
        issue.input === undefined
          ? { type: 'Required value', allowed: `one of ${quoted(issue.values)}` }
          : { type: 'Unsupported value', allowed: `supported values: ${quoted(issue.values)}` };
      break;
    case 'invalid_union':
      worded =
        'discriminator' in issue && issue.discriminator !== undefined
          ? {
              type: 'Unsupported value',
              allowed: `supported values: ${quoted((issue as { options?: unknown[] }).options ?? [])}`,
            }
          : { type: 'Invalid value', allowed: describeSchema(inst) };
      break;
    case 'unrecognized_keys':
      worded = { type: 'unknown field', allowed: '', known: Object.keys(defOf(inst)?.shape ?? {}) };
      break;
    case 'too_small':
      worded = { type: 'Invalid value', allowed: `at least ${String(issue.minimum)}` };
      break;
    case 'too_big':
      worded = { type: 'Invalid value', allowed: `at most ${String(issue.maximum)}` };
      break;
    default:
      worded = { type: 'Invalid value', allowed: describeSchema(inst) };
  }
  return MARK + JSON.stringify(worded);
}

/** A field path as the Kubernetes API writes it: `a.b[0].c`, with keys that are not names quoted: `m["x/y"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      const name = String(key);
      if (/^[A-Za-z_$][\w$]*$/.test(name)) return i === 0 ? name : `.${name}`;
      return `[${JSON.stringify(name)}]`;
    })
    .join('');
}

/** A field below a path: `scale.web` and `maxReplicas`, `sandboxRuntime.nodeSelector` and `["k"]`. */
export function joinField(base: string, field: string): string {
  if (base === '') return field;
  if (field === '') return base;
  return field.startsWith('[') ? `${base}${field}` : `${base}.${field}`;
}

/** The value at a path, or undefined. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined),
    root,
  );
}

/** The closest name to a misspelled one, when it is close enough to be what was meant. */
export function closest(name: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const here = row[j];
        row[j] = Math.min(
          row[j] + 1,
          row[j - 1] + 1,
          previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1),
        );
        previous = here;
      }
    }
    return row[b.length];
  };
  const best = [...known].sort((a, b) => distance(name, a) - distance(name, b) || a.localeCompare(b))[0];
  return best !== undefined && distance(name, best) <= Math.max(2, Math.floor(best.length / 4)) ? best : undefined;
}

/** The issue params of a problem a rule reported (see `rules`). */
interface RuleParams {
  readonly field: string;
  readonly value: unknown;
  readonly type?: FieldErrorType;
}

/** Turns one issue of a parse of `root` into problems, `base` the field `root` is at. */
function problemsOfIssue(issue: z.core.$ZodIssue, root: unknown, where: string, base: string): FieldProblem[] {
  const at = joinField(base, formatPath(issue.path));
  const params = (issue as { params?: RuleParams }).params;
  if (issue.code === 'custom' && params?.field !== undefined) {
    return [
      {
        where,
        field: joinField(at, params.field),
        value: params.value,
        allowed: issue.message,
        ...(params.type ? { type: params.type } : {}),
      },
    ];
  }
  const worded: Worded | undefined = issue.message.startsWith(MARK)
    ? (JSON.parse(issue.message.slice(MARK.length)) as Worded)
    : undefined;
  if (issue.code === 'unrecognized_keys') {
    const known = worded?.known ?? [];
    return issue.keys.map((key) => {
      const guess = closest(key, known);
      return {
        where,
        field: joinField(at, formatPath([key])),
        value: valueAt(root, [...issue.path, key]),
        type: 'unknown field' as const,
        allowed: `${guess === undefined ? '' : `did you mean "${guess}"? `}the fields here are ${known.join(', ')}`,
      };
    });
  }
  const value = valueAt(root, issue.path);
  if (worded === undefined) {
    // The schema's own message; a field left out is still a Required value, whatever the message.
    const missing = value === undefined && issue.code !== 'custom';
    return [
      { where, field: at, value, allowed: issue.message, ...(missing ? { type: 'Required value' as const } : {}) },
    ];
  }
  return [
    {
      where,
      field: at,
      value,
      allowed: worded.allowed,
      ...(worded.type === 'Invalid value' ? {} : { type: worded.type }),
    },
  ];
}

/**
 * Every problem `value` has against `schema`, each naming `where`, the field (below `base`), the
 * value and what is allowed. Empty when the value is valid.
 */
export function schemaProblems(schema: z.ZodType, value: unknown, where: string, base = ''): FieldProblem[] {
  const result = schema.safeParse(value, { error: wordIssue });
  return result.success ? [] : result.error.issues.flatMap((issue) => problemsOfIssue(issue, value, where, base));
}

/** Records in `p` every problem `value` has against `schema`, its fields below `field`. */
export function checkAgainstSchema(p: Problems, field: string, schema: z.ZodType, value: unknown): void {
  const result = schema.safeParse(value, { error: wordIssue });
  if (!result.success) {
    for (const problem of result.error.issues.flatMap((issue) => problemsOfIssue(issue, value, '', field))) {
      p.check(false, problem.field, problem.value, problem.allowed, problem.type);
    }
  }
}

/**
 * A schema refinement written as checks on a Problems: `schema.superRefine(rules((v, p) => p.check(...)))`.
 * Fields are relative to where the refinement is attached. Zod runs it only once the value has the
 * schema's shape (a missing or mistyped field stops it), so a rule may read every field it declares.
 */
export function rules<T>(check: (value: T, p: Problems) => void): (value: T, ctx: z.RefinementCtx<T>) => void {
  return (value, ctx) => {
    const p = new Problems('');
    check(value, p);
    for (const problem of p.problems) {
      const params: RuleParams = {
        field: problem.field,
        value: problem.value,
        ...(problem.type ? { type: problem.type } : {}),
      };
      ctx.addIssue({ code: 'custom', message: problem.allowed, input: problem.value, params });
    }
  };
}
