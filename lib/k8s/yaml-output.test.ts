import { parseAllDocuments } from 'yaml';
import { ENVIRONMENTS } from '../environments';
import { renderEnvironment } from '../synth/render';
import { yamlDocuments } from './yaml-output';

/** Documents as kubectl's parser (YAML 1.1) reads them. */
const readAsKubectl = (text: string): unknown[] => parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJS());

test.each(Object.keys(ENVIRONMENTS))(
  'every YAML file of %s reads back, as YAML 1.1, to exactly the rendered objects',
  (name) => {
    const { objects, files } = renderEnvironment(ENVIRONMENTS[name]);
    for (const [file, text] of files) {
      if (file.endsWith('.yaml')) {
        expect({ file, objects: readAsKubectl(text) }).toEqual({
          file,
          objects: objects.filter((o) => o.file === file).map((o) => o.object),
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
