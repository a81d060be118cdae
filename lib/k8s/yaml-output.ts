import { DUMP_SCHEMA, dump } from 'js-yaml';

/**
 * The YAML of rendered documents, one after another with `---` between them, as `kubectl apply -f`
 * reads them.
 *
 * The bytes are exactly what js-yaml's `dump` writes with the options below: it quotes every string
 * that YAML 1.1, which kubectl's parser speaks, would read as something else (`"on"`, `"yes"`,
 * `"0123"`), keys keep their order, long lines are never folded, and multi-line text is a literal
 * block, so the output is byte-identical run to run (a test reads every rendered file back as YAML
 * 1.1 to the same objects).
 *
 * js-yaml decides how each scalar is written; this file only lays out the mappings and sequences
 * around them, which for JSON-shaped Kubernetes objects is a few fixed rules. Calling `dump` once per
 * document built a syntax tree and a presenter state each time and was the largest single cost of a
 * synth; here each distinct scalar is asked of js-yaml once and remembered. Anything this layout
 * does not cover (a value that is not JSON-shaped, a key that needs `? `, a block scalar that would
 * end the document with `...`) is handed to `dump` whole. A test compares the two on every rendered
 * object and on generated tricky values.
 */
export function yamlDocuments(documents: readonly unknown[]): string {
  return documents.map(yamlDocument).join('---\n');
}

const DUMP_OPTIONS = { lineWidth: -1, noRefs: true, quoteStyle: 'double' } as const;

/** js-yaml's own `dump` of one document, the reference the fast layout must equal. */
export function referenceYamlDocument(document: unknown): string {
  return dump(document, DUMP_OPTIONS);
}

function yamlDocument(document: unknown): string {
  try {
    const keys = isPlainObject(document) ? Object.keys(document) : [];
    if (keys.length > 0) {
      return `${blockMapping(document as Record<string, unknown>, keys, 0, true)}\n`;
    }
  } catch (error) {
    if (!(error instanceof NotCovered)) {
      throw error;
    }
  }
  return referenceYamlDocument(document);
}

/** Thrown when a document holds something the fast layout does not cover; `dump` writes it instead. */
class NotCovered extends Error {}

/** Two spaces per level, as js-yaml indents by default. */
const INDENT = 2;
const newLines: string[] = [];
function newLine(level: number): string {
  return newLines[level] ?? (newLines[level] = `\n${' '.repeat(INDENT * level)}`);
}

/** A mapping's pairs, one per line; `compact` starts the first pair on the current line (`- a: 1`). */
function blockMapping(
  mapping: Record<string, unknown>,
  keys: readonly string[],
  level: number,
  compact: boolean,
): string {
  let out = '';
  for (const key of keys) {
    if (out !== '' || !compact) {
      out += newLine(level);
    }
    const text = valueText(mapping[key], level + 1, false);
    // A nested block (a new line) or a literal block header follows the colon without a space only
    // when it starts on the next line.
    out += keyText(key) + (text.charCodeAt(0) === NEW_LINE ? ':' : ': ') + text;
  }
  return out;
}

const NEW_LINE = 10;

/** A sequence's items, each after `- `; the first item's own mapping starts on the dash's line. */
function blockSequence(items: readonly unknown[], level: number, compact: boolean): string {
  let out = '';
  for (let i = 0; i < items.length; i++) {
    if (!(i in items)) {
      throw new NotCovered('a sparse array');
    }
    if (out !== '' || !compact) {
      out += newLine(level);
    }
    const text = valueText(items[i], level + 1, true);
    out += (text.charCodeAt(0) === NEW_LINE ? '-' : '- ') + text;
  }
  return out;
}

/**
 * A value at `level`: a nested mapping's pairs or sequence's items are indented to that level, a
 * literal block's lines too. Inside a sequence, a nested collection starts on the dash's line.
 */
function valueText(value: unknown, level: number, inSequence: boolean): string {
  if (typeof value === 'string') {
    return stringText(value, level);
  }
  if (Array.isArray(value)) {
    return value.length === 0 ? '[]' : blockSequence(value, level, inSequence);
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? '{}' : blockMapping(value, keys, level, inSequence);
  }
  return scalarText(value, level);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// --- Scalars: as js-yaml writes them, asked once per distinct value -----------------------------------

/** How js-yaml writes a scalar: on the key's line, or as a literal block below it. */
type Scalar = { readonly inline: string } | { readonly blockHeader: string; readonly text: string };

const STRING_TAG = DUMP_SCHEMA.defaultScalarTag.tagName;
/**
 * Strings js-yaml always writes plain unless the schema reads them as another type: words of
 * letters, digits and `._/+=-` separated by single spaces, starting with a letter or digit, where a
 * colon may join two such runs (`nginx:1.27`) but never ends one. Each of these is a YAML plain
 * scalar by the spec's ns-plain rules, so only the type check decides (`12:30` is a YAML 1.1 number).
 */
const SIMPLE_STRING =
  /^[A-Za-z0-9][A-Za-z0-9._/+=-]*(?::[A-Za-z0-9._/+=-]+)*(?: [A-Za-z0-9._/+=-]+(?::[A-Za-z0-9._/+=-]+)*)*$/;

const scalarCache = new Map<unknown, Scalar>();
const keyCache = new Map<string, string>();

function isSimplePlain(text: string): boolean {
  return SIMPLE_STRING.test(text) && DUMP_SCHEMA.resolveImplicitScalarTag(text).tag.tagName === STRING_TAG;
}

/** Strings seen before, with how they are written when that does not depend on the level. */
const inlineStrings = new Map<string, string>();

function stringText(value: string, level: number): string {
  const known = inlineStrings.get(value);
  if (known !== undefined) {
    return known;
  }
  if (isSimplePlain(value)) {
    inlineStrings.set(value, value);
    return value;
  }
  const scalar = scalarOf(value);
  if ('inline' in scalar) {
    inlineStrings.set(value, scalar.inline);
  }
  return scalarText(value, level);
}

function scalarText(value: unknown, level: number): string {
  // Whole numbers, booleans and null are written as JavaScript prints them (-0 is not: `-0.0`).
  if ((Number.isSafeInteger(value) && !Object.is(value, -0)) || typeof value === 'boolean' || value === null) {
    return String(value);
  }
  const scalar = scalarOf(value);
  if ('inline' in scalar) {
    return scalar.inline;
  }
  // A literal block's lines are indented to the level of the value, the rest of its form is fixed.
  const pad = ' '.repeat(INDENT * level);
  const lines = scalar.text
    .split('\n')
    .map((line) => (line === '' ? '' : pad + line))
    .join('\n');
  return `${scalar.blockHeader}\n${lines.endsWith('\n') ? lines.slice(0, -1) : lines}`;
}

function scalarOf(value: unknown): Scalar {
  // A Map does not tell -0 from 0; js-yaml does (`-0.0`), so -0 is never cached.
  if (Object.is(value, -0)) {
    return askJsYaml(value);
  }
  let scalar = scalarCache.get(value);
  if (scalar === undefined) {
    scalar = askJsYaml(value);
    scalarCache.set(value, scalar);
  }
  return scalar;
}

/** js-yaml's form of a scalar as a mapping value one level down (`a: <scalar>`). */
function askJsYaml(value: unknown): Scalar {
  const type = typeof value;
  if (value !== null && type !== 'string' && type !== 'number' && type !== 'boolean') {
    throw new NotCovered(`a ${type} value`);
  }
  const text = dump({ a: value }, DUMP_OPTIONS);
  if (!text.endsWith('\n') || text.endsWith('\n...\n')) {
    throw new NotCovered('a scalar that ends its document');
  }
  if (text.startsWith('a: |')) {
    const header = text.slice('a: '.length, text.indexOf('\n'));
    return { blockHeader: header, text: value as string };
  }
  if (!text.startsWith('a: ') || text.indexOf('\n') !== text.length - 1) {
    throw new NotCovered('a scalar written on more than one line');
  }
  return { inline: text.slice('a: '.length, -1) };
}

/** js-yaml writes a key longer than this as an explicit `? ` entry (YAML allows 1024 characters). */
const LONGEST_IMPLICIT_KEY = 1024;

function keyText(key: string): string {
  let text = keyCache.get(key);
  if (text === undefined && key.length <= LONGEST_IMPLICIT_KEY && isSimplePlain(key)) {
    text = key;
    keyCache.set(key, text);
  }
  if (text === undefined) {
    const written = dump({ [key]: null }, DUMP_OPTIONS);
    if (written.startsWith('?') || !written.endsWith(': null\n') || written.indexOf('\n') !== written.length - 1) {
      throw new NotCovered('a key that needs an explicit entry');
    }
    text = written.slice(0, -': null\n'.length);
    keyCache.set(key, text);
  }
  return text;
}
