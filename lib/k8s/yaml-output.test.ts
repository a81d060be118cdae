import { parseAllDocuments } from 'yaml';
import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import { yamlDocuments } from './yaml-output';

/** Documents as kubectl's parser (YAML 1.1) reads them. */
const readAsKubectl = (text: string): unknown[] => parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS());

test.each(Object.keys(ENVIRONMENTS))(
  'every YAML file of %s reads back, as YAML 1.1, to exactly the rendered objects',
  (name) => {
    const { objects, addons, files } = renderEnvironment(ENVIRONMENTS[name]);
    // What each file was written from: our objects, or an add-on's patched objects. An add-on's CRD
    // file is upstream's text, never written from objects: it must read back as CRDs and nothing else.
    const written = new Map<string, unknown[]>();
    for (const o of objects) written.set(o.file, [...(written.get(o.file) ?? []), o.object]);
    for (const a of addons) {
      written.set(a.file, [...(written.get(a.file) ?? []), ...a.objects]);
      if (a.resourcesFile !== undefined) written.set(a.resourcesFile, [...a.resources]);
    }
    for (const [file, text] of files) {
      if (!file.endsWith('.yaml')) continue;
      const read = readAsKubectl(text.toString());
      if (written.has(file)) {
        expect({ file, objects: read }).toEqual({ file, objects: written.get(file) });
      } else {
        expect({ file, kinds: [...new Set(read.map((o) => (o as { kind?: string }).kind))] }).toEqual({
          file,
          kinds: ['CustomResourceDefinition'],
        });
      }
    }
  },
);

test('strings YAML 1.1 would read as booleans, numbers or null stay strings', () => {
  const tricky = { a: 'on', b: 'yes', c: 'n', d: '0123', e: '1e3', f: '~', g: 'null', h: '12:30', i: '0x1F', j: '10' };
  expect(readAsKubectl(yamlDocuments([tricky]))).toEqual([tricky]);
});

test('documents are separated by ---, multi-line text is a literal block', () => {
  expect(yamlDocuments([{ a: 1 }, { b: 'x\ny\n' }])).toBe('a: 1\n---\nb: |\n  x\n  y\n');
});
