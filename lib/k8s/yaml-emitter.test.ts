import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import { referenceYamlDocument, yamlDocuments } from './yaml-output';

/**
 * lib/k8s/yaml-output.ts lays out mappings and sequences itself and asks js-yaml only for scalars; its
 * promise is the exact bytes of js-yaml's `dump`. These tests hold it to that on every object the
 * project renders and on generated values chosen to hit every quoting and block rule.
 */

test.each(Object.keys(ENVIRONMENTS))('every object of %s is written byte for byte as js-yaml writes it', (name) => {
  const { objects } = renderEnvironment(ENVIRONMENTS[name]);
  expect(objects.length).toBeGreaterThan(50);
  for (const { constructPath, object } of objects) {
    expect({ constructPath, yaml: yamlDocuments([object]) }).toEqual({
      constructPath,
      yaml: referenceYamlDocument(object),
    });
  }
});

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function generator(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings YAML reads as something else, or that need quoting, escaping or a block. */
const TRICKY_STRINGS = [
  '',
  ' ',
  'yes',
  'No',
  'on',
  'OFF',
  'y',
  'n',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '0123',
  '1e3',
  '12:30',
  '0x1F',
  '0b101',
  '1_000',
  '.inf',
  '-.Inf',
  '.nan',
  'NaN',
  '---',
  '...',
  '--- x',
  '=',
  '<<',
  '- a',
  '? a',
  ': a',
  'a: b',
  'a #b',
  '#a',
  'a:b',
  '@x',
  '`x',
  '!x',
  '&x',
  '*x',
  '%x',
  '|x',
  '>x',
  '"x"',
  "'x'",
  '{x}',
  '[x]',
  'a,b',
  'é',
  'x\u2028y',
  'x\u007fy',
  '\ufeffx',
  'tab\there',
  'back\\slash',
  ' lead',
  'trail ',
  'a\nb',
  'a\nb\n',
  'a\n\n',
  '\n',
  '\na',
  ' a\nb',
  'a\n b\n',
  'a \nb',
  '2026-11-29',
  '2026-11-29T10:00:00Z',
  '1.5',
  '-1',
  '+1',
  '0o17',
  '1:20:30',
  'app.kubernetes.io/name',
  'nginx:1.27',
  'runtime/default',
  'a b c',
  'x'.repeat(1100),
];

function randomString(next: () => number): string {
  if (next() < 0.5) {
    return TRICKY_STRINGS[Math.floor(next() * TRICKY_STRINGS.length)];
  }
  const alphabet = 'abZ09 :#-?\n\t"\'\\|>!&*%@`{}[],~.=/_+é';
  let s = '';
  const length = Math.floor(next() * 12);
  for (let i = 0; i < length; i++) {
    s += alphabet[Math.floor(next() * alphabet.length)];
  }
  return s;
}

function randomScalar(next: () => number): unknown {
  const pick = next();
  if (pick < 0.6) return randomString(next);
  if (pick < 0.8)
    return [0, 1, -3, 42, 0.5, -2.25, 1e21, 1e-7, -0, NaN, Infinity, -Infinity, 2 ** 53][Math.floor(next() * 13)];
  if (pick < 0.9) return next() < 0.5;
  return null;
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 3 || pick < 0.45) return randomScalar(next);
  if (pick < 0.5) return next() < 0.5 ? [] : {};
  if (pick < 0.75) {
    return Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomValue(next, depth + 1));
  }
  const mapping: Record<string, unknown> = {};
  for (let i = 0, n = 1 + Math.floor(next() * 4); i < n; i++) {
    mapping[next() < 0.7 ? randomString(next) : String(Math.floor(next() * 100))] = randomValue(next, depth + 1);
  }
  return mapping;
}

test('generated documents with every kind of tricky key and value are written byte for byte as js-yaml writes them', () => {
  const next = generator(20261129);
  for (let i = 0; i < 3000; i++) {
    const document = { kind: 'Test', spec: randomValue(next, 0), [randomString(next)]: randomValue(next, 1) };
    expect({ i, yaml: yamlDocuments([document]) }).toEqual({ i, yaml: referenceYamlDocument(document) });
  }
});

test('values outside the JSON shape, and documents that are not mappings, are written by js-yaml itself', () => {
  const unusual: unknown[] = [
    { a: undefined, b: 1 },
    { a: [1, undefined] },
    { when: new Date(Date.UTC(2026, 10, 29)) },
    { 'multi\nline key': 1 },
    { ['k'.repeat(1100)]: 1 },
    { kept: 'ends\n\n' },
    [1, 2],
    'text',
    42,
    null,
    {},
    [],
  ];
  for (const document of unusual) {
    expect(yamlDocuments([document])).toBe(referenceYamlDocument(document));
  }
});

test('documents are joined by --- exactly as before', () => {
  expect(yamlDocuments([{ a: 1 }, { b: ['x', { c: 'on' }] }])).toBe('a: 1\n---\nb:\n  - x\n  - c: "on"\n');
});
