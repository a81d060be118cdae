/**
 * external-secrets' recipe renders either layout of its chart: the source repository's files (what is
 * vendored: the chart folder, with the CRDs in deploy/crds/bundle.yaml beside it) and the archive its
 * chart repository serves (the CRDs templated inside the chart, the bitwarden-sdk-server subchart
 * bundled), each CRD once. The archive is built here as the chart's release builds it, from the
 * vendored files: each CRD of the bundle as a template behind installCRDs (hack/helm.generate.sh's
 * guard, without its cosmetic edits) and a stand-in for the subchart, disabled by default as upstream's.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addonFolder, readLock, repositoryRoot } from '../../lib/addons/lock';
import { readDocuments, refuseDuplicates } from './render';
import { recipeOf } from './sources';
import { renderEntry } from './vendor';

jest.setTimeout(10 * 60_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'addons-chart-layouts-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

type Document = Record<string, unknown>;
const nameOf = (d: Document) => `${String(d.kind)}/${(d.metadata as { name: string }).name}`;
const crds = (documents: Document[]) => documents.filter((d) => d.kind === 'CustomResourceDefinition');
const others = (documents: Document[]) => documents.filter((d) => d.kind !== 'CustomResourceDefinition');

/** The chart archive's folder external-secrets/, as the release packages it, built from the vendored files. */
function archiveLayout(): string {
  const source = path.join(addonFolder('external-secrets'), 'source');
  const dir = path.join(work, 'archive');
  const chart = path.join(dir, 'external-secrets');
  fs.cpSync(path.join(source, 'deploy', 'charts', 'external-secrets'), chart, { recursive: true });
  const bundle = fs.readFileSync(path.join(source, 'deploy', 'crds', 'bundle.yaml'), 'utf8');
  for (const crd of readDocuments(bundle, 'deploy/crds/bundle.yaml')) {
    const singular = (crd.spec as { names: { singular: string } }).names.singular;
    fs.writeFileSync(
      path.join(chart, 'templates', 'crds', `${singular}.yaml`),
      `{{- if .Values.installCRDs }}\n${JSON.stringify(crd)}\n{{- end }}\n`,
    );
  }
  const subchart = path.join(chart, 'charts', 'bitwarden-sdk-server');
  fs.mkdirSync(path.join(subchart, 'templates'), { recursive: true });
  fs.writeFileSync(path.join(subchart, 'Chart.yaml'), 'apiVersion: v2\nname: bitwarden-sdk-server\nversion: v0.6.0\n');
  fs.writeFileSync(
    path.join(subchart, 'templates', 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bitwarden-sdk-server\n',
  );
  return dir;
}

test("from the chart repository's archive, the chart's own CRD templates are rendered, once, and the rest as from the source repository", () => {
  const root = repositoryRoot();
  const locked = readLock(root).addons['external-secrets'];
  const out = fs.mkdtempSync(path.join(work, 'out-'));
  const entry = renderEntry(
    'external-secrets',
    recipeOf('external-secrets'),
    locked.version,
    {
      kind: 'helm-repository',
      repository: 'https://charts.external-secrets.io',
      chart: 'external-secrets',
      archiveDigest: `sha256:${'0'.repeat(64)}`,
      paths: ['external-secrets'],
      userUrl: 'https://charts.external-secrets.io',
    },
    archiveLayout(),
    out,
    root,
    () => {},
  );
  expect(entry.render).toEqual({
    tool: 'helm',
    helm: locked.render.tool === 'helm' ? locked.render.helm : '',
    chart: 'external-secrets',
    releaseName: 'external-secrets',
    namespace: 'external-secrets',
    values: { installCRDs: true },
  });

  const fromArchive = readDocuments(fs.readFileSync(path.join(out, 'upstream.yaml'), 'utf8'), 'archive');
  const vendored = readDocuments(
    fs.readFileSync(path.join(addonFolder('external-secrets'), 'upstream.yaml'), 'utf8'),
    'upstream.yaml',
  );
  const names = crds(fromArchive).map(nameOf);
  expect(new Set(names).size).toBe(names.length);
  expect([...names].sort()).toEqual(crds(vendored).map(nameOf).sort());
  expect(others(fromArchive)).toEqual(others(vendored));
  expect(fromArchive.map(nameOf)).not.toContain('ConfigMap/bitwarden-sdk-server');
});

test('the source repository layout is what is vendored: its lock entry renders the bundle before the chart, without the subchart', () => {
  const locked = readLock().addons['external-secrets'];
  expect(locked.source.paths).toEqual(['deploy/charts/external-secrets', 'deploy/crds/bundle.yaml']);
  expect(locked.render).toMatchObject({
    chart: 'deploy/charts/external-secrets',
    manifestsBefore: ['deploy/crds/bundle.yaml'],
    dependenciesLeftOut: { names: ['bitwarden-sdk-server'] },
  });
});

test('a rendering that holds an object twice is refused, naming it', () => {
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'a.x.io' } };
  const service = (namespace: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace } });
  expect(refuseDuplicates([crd, service('a'), service('b')])).toHaveLength(3);
  expect(() => refuseDuplicates([crd, service('a'), { ...crd }])).toThrow(
    "upstream's rendering holds CustomResourceDefinition/a.x.io twice; refusing it",
  );
  expect(() => refuseDuplicates([service('a'), service('a')])).toThrow(
    "upstream's rendering holds Service/web in namespace a twice",
  );
});
