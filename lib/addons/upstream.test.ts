import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { load } from 'js-yaml';
import { KubeObject } from '../k8s/kube-object';
import { addonFolder, addonNames } from './lock';
import {
  crdKind,
  expandLists,
  joinDocuments,
  splitDocuments,
  upstreamCrdDocuments,
  upstreamCrdKinds,
  upstreamDocuments,
  upstreamObjects,
  upstreamObjectsOf,
} from './upstream';

const REPOSITORY = path.resolve(__dirname, '..', '..');

/**
 * The split as the synth first wrote it, on text with JavaScript's multi-line patterns: the
 * reference the byte split (which never decodes the CRDs) must equal.
 */
function referenceSplit(text: string): { crds: string[]; others: string[] } {
  const crds: string[] = [];
  const others: string[] = [];
  for (const document of text.split(/^---\n/m)) {
    if (document.trim() === '') continue;
    (/^kind: CustomResourceDefinition$/m.test(document) ? crds : others).push(
      document.endsWith('\n') ? document : `${document}\n`,
    );
  }
  return { crds, others };
}

test.each(addonNames())("%s: upstream.yaml's documents, split as bytes, are the reference split's", (name) => {
  const text = fs.readFileSync(path.join(addonFolder(name), 'upstream.yaml'), 'utf8');
  const reference = referenceSplit(text);
  expect(upstreamDocuments(name)).toEqual(reference);
  expect(joinDocuments(upstreamCrdDocuments(name)).toString('utf8')).toBe(reference.crds.join('---\n'));
});

test.each([
  ['separators first, last, doubled, and a last document without its new line', '---\nkind: A\n---\n---\nkind: B'],
  [
    'a CRD among others, and a nested kind that is not one',
    'kind: A\nspec:\n  kind: CustomResourceDefinition\n---\napiVersion: v1\nkind: CustomResourceDefinition\nmetadata: {}\n',
  ],
  ['kind at the very end, without a new line', 'a: 1\n---\nkind: CustomResourceDefinition'],
  ['a `---` that is not at the start of a line, and a longer dash line', 'a: "x---\n"\n----\nb: 2\n---\nc: 3\n'],
  ['blank documents, ASCII and Unicode white space', '---\n \t\n---\n\u00a0\u3000\n---\nkind: A\n---\n\u00e9\n'],
  [
    'line breaks other than \\n (split as text)',
    'kind: A\r\n---\nkind: CustomResourceDefinition\r\n---\n\u2028---\nkind: B\n',
  ],
  ['nothing', ''],
])('%s: the byte split is the reference split', (_, text) => {
  expect(splitDocuments(text)).toEqual(referenceSplit(text));
});

describe('a `kind: List` is expanded into its items, as kubectl applies it', () => {
  test("the AWS Load Balancer Controller's IngressClass and IngressClassParams are objects of their own", () => {
    const objects = upstreamObjectsOf('aws-load-balancer-controller');
    expect(objects.filter((o) => o.kind.endsWith('List'))).toEqual([]);
    expect(objects.filter((o) => o.metadata.name === 'alb').map((o) => `${o.apiVersion} ${o.kind}`)).toEqual([
      'elbv2.k8s.aws/v1beta1 IngressClassParams',
      'networking.k8s.io/v1 IngressClass',
    ]);
    expect(upstreamObjects(upstreamDocuments('aws-load-balancer-controller'))).toEqual(objects);
  });

  test('nested Lists and typed lists too; items keep their order among the documents', () => {
    const documents = [
      { kind: 'ConfigMap', metadata: { name: 'a' } },
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { kind: 'ConfigMap', metadata: { name: 'b' } },
          { apiVersion: 'v1', kind: 'ConfigMapList', items: [{ kind: 'ConfigMap', metadata: { name: 'c' } }] },
        ],
      },
      null,
      { kind: 'ConfigMap', metadata: { name: 'd' } },
    ];
    expect(expandLists('x', documents).map((o) => o.metadata.name)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a CRD inside a List is refused: CRDs are copied verbatim from documents of their own', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ kind: 'CustomResourceDefinition', metadata: { name: 'ones.x.io' } }],
    };
    expect(() => expandLists('x', [list])).toThrow(
      'addons/x/upstream.yaml: a v1 List holds the CustomResourceDefinition "ones.x.io"; allowed: CRDs as documents of their own, which the synth copies verbatim',
    );
  });

  test('the parsed objects are kept under a folder of their own, not where copies with Lists unexpanded were', () => {
    upstreamObjectsOf('aws-load-balancer-controller');
    const cache = path.join(REPOSITORY, 'node_modules', '.cache', 'lab-to-prod');
    const hash = createHash('sha256')
      .update(joinDocuments(upstreamDocuments('aws-load-balancer-controller').others.map((d) => Buffer.from(d))))
      .digest('hex');
    expect(fs.existsSync(path.join(cache, 'addon-objects-v2', `${hash}.json`))).toBe(true);
  });
});

describe("the kinds an add-on's own CRDs define", () => {
  test("the AWS Load Balancer Controller's: its IngressClassParams among them, cert-manager's Certificate not", () => {
    const kinds = upstreamCrdKinds('aws-load-balancer-controller');
    expect(kinds).toContain('elbv2.k8s.aws/IngressClassParams');
    expect(kinds).toContain('elbv2.k8s.aws/TargetGroupBinding');
    expect(kinds).not.toContain('cert-manager.io/Certificate');
    expect(kinds.size).toBe(upstreamCrdDocuments('aws-load-balancer-controller').length);
  });

  test.each(addonNames())("%s: each CRD's group and kind, read off its lines, are the parsed CRD's", (name) => {
    const parsed = upstreamCrdDocuments(name).map((d) => load(d.toString('utf8')) as KubeObject);
    expect([...upstreamCrdKinds(name)].sort()).toEqual(
      [...new Set(parsed.map((c) => `${c.spec.group}/${c.spec.names.kind}`))].sort(),
    );
  });

  test('a CRD without spec.group or spec.names.kind at its place is refused, naming the file', () => {
    const crd = Buffer.from('kind: CustomResourceDefinition\nspec:\n  names:\n    kind: One\nstatus:\n  group: x.io\n');
    expect(() => crdKind('x', crd)).toThrow(
      'addons/x/upstream.yaml: a CustomResourceDefinition without spec.group or spec.names.kind at the top of its spec',
    );
    const quoted = Buffer.from('kind: CustomResourceDefinition\nspec:\n  group: "x.io"\n  names:\n    kind: \'One\'\n');
    expect(crdKind('x', quoted)).toBe('x.io/One');
  });
});
