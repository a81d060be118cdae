import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { load, loadAll } from 'js-yaml';
import { KubeObject } from '../k8s/kube-object';
import { addonFolder } from './lock';

/**
 * Upstream's rendering of one add-on (addons/<name>/upstream.yaml, written by `npm run addons:refresh`
 * with the project's YAML writer), split into what the synth copies and what it patches:
 * - the CustomResourceDefinitions, as bytes: copied verbatim into 00-<name>-crds.yaml, never parsed
 *   nor even decoded (prometheus-operator's alone are 4 MB; turning them into a string and back for
 *   every synth cost more than rendering an environment);
 * - every other document, as text, for the add-on's definition to parse and patch (01-<name>.yaml).
 */
export interface UpstreamDocuments {
  readonly crds: readonly string[];
  readonly others: readonly string[];
}

/** An add-on's upstream rendering, read once per process: what every environment that installs it shares. */
interface Upstream {
  readonly bytes: Buffer;
  readonly split: SplitBytes;
  documents?: UpstreamDocuments;
  /** The other documents, parsed once and kept as JSON, from which each environment takes its own copy to patch. */
  objectsJson?: string;
  /** The kinds its CRDs define, `<group>/<Kind>`. */
  crdKinds?: ReadonlySet<string>;
}

/** The documents of a stream, as views of its bytes, each ending in a newline. */
interface SplitBytes {
  readonly crds: readonly Buffer[];
  readonly others: readonly Buffer[];
}

const cache = new Map<string, Upstream>();

function upstream(name: string): Upstream {
  let read = cache.get(name);
  if (read === undefined) {
    const bytes = fs.readFileSync(path.join(addonFolder(name), 'upstream.yaml'));
    read = { bytes, split: splitDocumentBytes(bytes) };
    cache.set(name, read);
  }
  return read;
}

/** upstream.yaml's documents as text, read once per process (several environments render one add-on). */
export function upstreamDocuments(name: string): UpstreamDocuments {
  const read = upstream(name);
  return (read.documents ??= {
    crds: read.split.crds.map((d) => d.toString('utf8')),
    others: read.split.others.map((d) => d.toString('utf8')),
  });
}

/**
 * The add-on's CRD documents, byte for byte as upstream.yaml holds them, in its order (views of the
 * bytes read once per process; nobody may change them). Joined with `---\n` lines, they are the
 * 00-<name>-crds.yaml every environment installing the add-on writes.
 */
export function upstreamCrdDocuments(name: string): readonly Buffer[] {
  return upstream(name).split.crds;
}

/**
 * The add-on's non-CRD objects, parsed once per process, as a fresh copy for every caller (its
 * definition patches them in place).
 */
export function upstreamObjectsOf(name: string): KubeObject[] {
  const read = upstream(name);
  return JSON.parse((read.objectsJson ??= objectsJson(name, read.split.others))) as KubeObject[];
}

/**
 * The kinds the add-on's own CRDs define, as `<group>/<Kind>` (spec.group, spec.names.kind), read
 * off each CRD document's lines without parsing it (the project's YAML writer puts them at fixed
 * indentation): an object of one of these kinds is admitted by the add-on's own webhooks, so it is
 * applied once its controller is ready (lib/addons/waves.ts).
 */
export function upstreamCrdKinds(name: string): ReadonlySet<string> {
  const read = upstream(name);
  return (read.crdKinds ??= new Set(read.split.crds.map((d) => crdKind(name, d))));
}

/** `<group>/<Kind>` of one CRD document: its top-level spec's `group`, and `kind` under its `names`. */
export function crdKind(name: string, document: Buffer): string {
  let group: string | undefined;
  let kind: string | undefined;
  let top = '';
  let second = '';
  // The names come before the versions (the writer keeps upstream's key order, which puts the long
  // schemas last): stop reading as soon as both are found.
  let start = 0;
  while (start < document.length && (group === undefined || kind === undefined)) {
    let end = document.indexOf(NEW_LINE, start);
    if (end === -1) end = document.length;
    const line = document.toString('utf8', start, end);
    start = end + 1;
    const key = /^( *)([A-Za-z]+):(?: (.*))?$/.exec(line);
    if (key === null) continue;
    const [, indent, field, value] = key;
    if (indent === '') top = field;
    else if (indent === '  ') second = field;
    if (top !== 'spec' || value === undefined) continue;
    if (indent === '  ' && field === 'group') group = scalar(value);
    if (indent === '    ' && second === 'names' && field === 'kind') kind = scalar(value);
  }
  if (group === undefined || kind === undefined) {
    throw new Error(
      `addons/${name}/upstream.yaml: a CustomResourceDefinition without spec.group or spec.names.kind at the top of its spec; ` +
        "allowed: a CRD as the project's YAML writer writes it (npm run addons:refresh)",
    );
  }
  return `${group}/${kind}`;
}

/** A YAML scalar's value: plain, or quoted as the writer quotes a string that needs it. */
function scalar(text: string): string {
  const value = load(text);
  return typeof value === 'string' ? value : String(value);
}

/**
 * The objects of parsed documents, each `kind: List` replaced by its items, as kubectl expands one
 * when it applies a file (any object with an `items` list whose kind ends in "List"): a chart may
 * render several objects as one List document (the AWS Load Balancer Controller's IngressClass and
 * IngressClassParams), and the checks, prune and the settings all see the objects the cluster holds,
 * never the List. A CustomResourceDefinition in a List would escape its verbatim file: refused.
 */
export function expandLists(name: string, documents: readonly unknown[]): KubeObject[] {
  const objects: KubeObject[] = [];
  const add = (document: unknown, list?: KubeObject): void => {
    if (typeof document !== 'object' || document === null) return;
    const object = document as KubeObject;
    if (typeof object.kind === 'string' && object.kind.endsWith('List') && Array.isArray(object.items)) {
      for (const item of object.items as unknown[]) add(item, list ?? object);
      return;
    }
    if (list !== undefined && object.kind === 'CustomResourceDefinition') {
      throw new Error(
        `addons/${name}/upstream.yaml: a ${String(list.apiVersion)} ${String(list.kind)} holds the CustomResourceDefinition ` +
          `"${String(object.metadata?.name)}"; allowed: CRDs as documents of their own, which the synth copies verbatim`,
      );
    }
    objects.push(object);
  };
  for (const document of documents) add(document);
  return objects;
}

/**
 * The non-CRD documents as JSON. Parsing YAML is the slowest step of an add-on's rendering in a fresh
 * process (the parser's code is not yet optimised), so the result is kept between synths under
 * node_modules/.cache/ (git-ignored), named by the SHA-256 of the text it was parsed from: a changed
 * upstream.yaml is a new name, never a stale copy. A cache that cannot be read or written is parsed
 * past.
 */
function objectsJson(name: string, others: readonly Buffer[]): string {
  const bytes = joinDocuments(others);
  // "-v2": since the Lists are expanded (expandLists); a copy kept by an older synth holds them unexpanded.
  const folder = path.resolve(
    addonFolder(name),
    '..',
    '..',
    'node_modules',
    '.cache',
    'lab-to-prod',
    'addon-objects-v2',
  );
  const file = path.join(folder, `${createHash('sha256').update(bytes).digest('hex')}.json`);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    // Not there yet: parse, and keep it for the next synth.
  }
  const json = JSON.stringify(expandLists(name, loadAll(bytes.toString('utf8'))));
  try {
    fs.mkdirSync(folder, { recursive: true });
    const partial = `${file}.${process.pid}`;
    fs.writeFileSync(partial, json);
    fs.renameSync(partial, file);
  } catch {
    // A read-only checkout: parse every time.
  }
  return json;
}

const SEPARATOR = Buffer.from('---\n');

/** Documents' bytes with a `---` line between them: one stream, as upstream.yaml and dist/ write them. */
export function joinDocuments(documents: readonly Buffer[], before?: Buffer): Buffer {
  const parts: Buffer[] = before === undefined ? [] : [before];
  documents.forEach((document, index) => {
    if (index > 0) parts.push(SEPARATOR);
    parts.push(document);
  });
  return Buffer.concat(parts);
}

/** Splits a stream of documents separated by `---` lines into its documents' texts, each ending in a newline. */
export function splitDocuments(text: string): UpstreamDocuments {
  const split = splitDocumentBytes(Buffer.from(text));
  return {
    crds: split.crds.map((d) => d.toString('utf8')),
    others: split.others.map((d) => d.toString('utf8')),
  };
}

const NEW_LINE = 0x0a;
const CRD_KIND = Buffer.from('kind: CustomResourceDefinition');

/**
 * Splits a stream's bytes at its `---` lines into its documents (views, no copy), leaving out blank
 * ones; a CRD is a document with the top-level line `kind: CustomResourceDefinition` (nested `kind:`
 * keys are indented). upstream.yaml comes from the project's YAML writer, whose line breaks are `\n`
 * alone; a stream with any other line break (`\r`, U+2028, U+2029) is split as text, line breaks and
 * all, as JavaScript's multi-line patterns read them.
 */
function splitDocumentBytes(bytes: Buffer): SplitBytes {
  if (bytes.includes(0x0d) || bytes.includes('\u2028') || bytes.includes('\u2029')) {
    return splitAsText(bytes.toString('utf8'));
  }
  const crds: Buffer[] = [];
  const others: Buffer[] = [];
  const add = (start: number, end: number) => {
    let document = bytes.subarray(start, end);
    if (isBlank(document)) return;
    if (document[document.length - 1] !== NEW_LINE) document = Buffer.concat([document, Buffer.from('\n')]);
    (isCrd(document) ? crds : others).push(document);
  };
  let start = 0;
  if (bytes.subarray(0, SEPARATOR.length).equals(SEPARATOR)) start = SEPARATOR.length;
  // A separator is `---\n` at the start of a line: after the new line that ends the document before it.
  for (let at = bytes.indexOf('\n---\n', Math.max(0, start - 1)); at !== -1; at = bytes.indexOf('\n---\n', start - 1)) {
    add(start, at + 1);
    start = at + 1 + SEPARATOR.length;
  }
  add(start, bytes.length);
  return { crds, others };
}

/** Whether a document has a line `kind: CustomResourceDefinition` at its top level. */
function isCrd(document: Buffer): boolean {
  for (let at = document.indexOf(CRD_KIND); at !== -1; at = document.indexOf(CRD_KIND, at + 1)) {
    const end = at + CRD_KIND.length;
    if ((at === 0 || document[at - 1] === NEW_LINE) && (end === document.length || document[end] === NEW_LINE)) {
      return true;
    }
  }
  return false;
}

/** Whether a document holds nothing but white space, as String.prototype.trim reads it. */
function isBlank(document: Buffer): boolean {
  for (const byte of document) {
    if (byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)) continue;
    // Beyond ASCII, white space is Unicode's (no-break space and others): decoded to be sure.
    return byte < 0x80 ? false : document.toString('utf8').trim() === '';
  }
  return true;
}

/** The documents of a stream with line breaks other than `\n`, split as text. */
function splitAsText(text: string): SplitBytes {
  const crds: Buffer[] = [];
  const others: Buffer[] = [];
  for (const document of text.split(/^---\n/m)) {
    if (document.trim() === '') continue;
    const bytes = Buffer.from(document.endsWith('\n') ? document : `${document}\n`);
    (/^kind: CustomResourceDefinition$/m.test(document) ? crds : others).push(bytes);
  }
  return { crds, others };
}

/** The non-CRD documents as objects, Lists expanded: a fresh copy for every caller, which patches them in place. */
export function upstreamObjects(documents: UpstreamDocuments, name = '(documents)'): KubeObject[] {
  return expandLists(name, loadAll(documents.others.join('---\n')));
}
