/**
 * An empty list or map that the API server drops when it stores an object (Go's `omitempty`) makes
 * every server-side apply see a change and `kubectl diff` never come out empty; on fields that cannot
 * be updated (a StorageClass's parameters) the second apply fails. The cluster tests found both;
 * this keeps them out of every environment without a cluster. An empty selector is different: it
 * means "everything" and is kept, so the few empties with a meaning are listed.
 */
import { ENVIRONMENTS } from '../lib/environments';
import { renderEnvironment } from '../lib/synth/render';

/** Empty maps that mean something and are stored as such. */
const MEANINGFUL_EMPTY = new Set(['podSelector', 'namespaceSelector', 'emptyDir', 'selfSigned']);

function emptiesIn(value: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(path);
    value.forEach((item, i) => emptiesIn(item, `${path}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const field = path.split('.').pop() ?? '';
    if (entries.length === 0 && !MEANINGFUL_EMPTY.has(field)) out.push(path);
    for (const [key, item] of entries) emptiesIn(item, `${path}.${key}`, out);
  }
  return out;
}

test.each(Object.keys(ENVIRONMENTS))('%s renders no empty list or map the API server would drop', (name) => {
  const { objects } = renderEnvironment(ENVIRONMENTS[name]);
  const empties = objects.flatMap((o) => emptiesIn(o.object, `${o.object.kind}/${o.object.metadata.name}`, []));
  expect(empties).toEqual([]);
});

test('the check finds an empty list and an empty map', () => {
  expect(emptiesIn({ spec: { ingress: [], parameters: {}, podSelector: {} } }, 'x', [])).toEqual([
    'x.spec.ingress',
    'x.spec.parameters',
  ]);
});
