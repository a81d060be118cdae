import { imageEntries, imagesOf, readDocuments, upstreamYaml } from './render';

test("upstream's documents are read as kubectl reads them, empty ones dropped, and written as the synth writes dist/", () => {
  const documents = readDocuments(
    '---\n# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  "on": "yes"\n---\n---\n',
    'x.yaml',
  );
  expect(documents).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { on: 'yes' } }]);
  expect(upstreamYaml(documents)).toBe('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  "on": "yes"\n');
});

test('a document that YAML 1.1 (kubectl) and YAML 1.2 read differently is refused, naming the file and the object', () => {
  expect(() =>
    readDocuments('kind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  enabled: on\n', 'config/flags.yaml'),
  ).toThrow(
    'config/flags.yaml: document 1 (ConfigMap/flags) reads differently as YAML 1.1 (kubectl) and YAML 1.2; refusing an ambiguous upstream file',
  );
  expect(() => readDocuments('- a\n', 'list.yaml')).toThrow('list.yaml: document 1 is not a mapping');
});

test("the images are those of every pod template's containers, init containers included, each once and sorted", () => {
  const pod = (image: string, init?: string) => ({
    ...(init ? { initContainers: [{ name: 'init', image: init }] } : {}),
    containers: [{ name: 'main', image }],
  });
  const documents = [
    { kind: 'Deployment', spec: { template: { spec: pod('b/controller:v1', 'a/init:v1') } } },
    { kind: 'DaemonSet', spec: { template: { spec: pod('b/controller:v1') } } },
    { kind: 'CronJob', spec: { jobTemplate: { spec: { template: { spec: pod('c/job:v2') } } } } },
    { kind: 'ConfigMap', data: { 'pod.yaml': 'image: busybox' } },
  ];
  expect(imagesOf(documents)).toEqual(['a/init:v1', 'b/controller:v1', 'c/job:v2']);
});

test('a digest is recorded only where the image reference carries one; otherwise none, and why', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;
  expect(imageEntries(['x/y:v1', `x/z:v1@${digest}`], 'bundle.yaml')).toEqual([
    {
      image: 'x/y:v1',
      digest: null,
      digestSource: 'no digest is published in bundle.yaml at this version; the tag is kept',
    },
    { image: `x/z:v1@${digest}`, digest, digestSource: 'the image reference in bundle.yaml' },
  ]);
});
