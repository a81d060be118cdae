/**
 * A fleet: one repository serving twenty clusters, each an environment of one file (test/fleet.ts
 * makes them as the README's "Adding an environment" says). One synth of the fleet, in a copy of the
 * project, renders every environment's dist/<env>/ and the objects that deliver it from git,
 * dist/<env>-delivery/, with no edit anywhere but the new environment files: each cluster's
 * reconciler reads its own folder and its own revision, and nothing names another cluster.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { loadAll } from 'js-yaml';
import { bootstrapFolder, deliveryFolder } from '../lib/review/dist-layout';
import { FLEET_PROMOTED_COMMIT, FLEET_SIZE, fleetCopy, FleetMember, fleetMembers } from './fleet';
import { ROOT } from './project-copy';

/** The repository every environment file of the project names (delivery.repository, an EXAMPLE value). */
const REPOSITORY = 'https://git.example.com/platform/lab-to-prod.git';

type Document = { [key: string]: any };

/** Every file of the copy but node_modules, the tsrun cache and dist/, relative path → sha256. */
function sources(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, file);
    if (/^(node_modules|\.tsrun-cache|dist)(\/|$)/.test(file) || !fs.statSync(full).isFile()) continue;
    found.set(file, createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
  }
  return found;
}

let dir: string;
let members: FleetMember[];
let before: Map<string, string>;
let synth: { status: number | null; stdout: string; stderr: string };

beforeAll(() => {
  ({ dir, members } = fleetCopy());
  before = sources(dir);
  // One synth of the whole fleet, as npm runs it, with a tsrun cache of the copy's own.
  const result = spawnSync(process.execPath, ['bin/synth.js'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: path.join(dir, '.tsrun-cache') },
  });
  synth = { status: result.status, stdout: result.stdout, stderr: result.stderr };
}, 300_000);

afterAll(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

const dist = (...parts: string[]) => path.join(dir, 'dist', ...parts);
const documentsOf = (file: string): Document[] =>
  loadAll(fs.readFileSync(file, 'utf8')).filter((d): d is Document => d !== null && typeof d === 'object');
const named = (documents: Document[], kind: string, name: string): Document | undefined =>
  documents.find((d) => d.kind === kind && d.metadata?.name === name);

/** The layers of an environment, in deploy's order, with their files: read from its delivery folder's kustomizations. */
function layersOf(env: string): { layer: string; files: string[] }[] {
  const layerNames = fs.readdirSync(dist(deliveryFolder(env), 'layers'));
  const rank = (layer: string) =>
    layer === 'crds'
      ? 0
      : layer.startsWith('addons-')
        ? Number(layer.slice('addons-'.length))
        : layer === 'platform'
          ? 10
          : 11;
  return layerNames
    .sort((a, b) => rank(a) - rank(b))
    .map((layer) => {
      const [kustomization] = documentsOf(dist(deliveryFolder(env), 'layers', layer, 'kustomization.yaml'));
      expect({ apiVersion: kustomization.apiVersion, kind: kustomization.kind }).toEqual({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
      });
      return {
        layer,
        files: (kustomization.resources as string[]).map((resource) => {
          expect(resource.startsWith(`../../../${env}/`)).toBe(true);
          return resource.slice(`../../../${env}/`.length);
        }),
      };
    });
}

test(`the fleet is ${FLEET_SIZE} environments: the project's four and one new file for each other, named as its file`, () => {
  expect(members).toHaveLength(FLEET_SIZE);
  expect(new Set(members.map((m) => m.name)).size).toBe(FLEET_SIZE);
  const files = fs.readdirSync(path.join(dir, 'lib', 'environments'));
  for (const member of members) {
    expect(files).toContain(`${member.name}.ts`);
    const text = fs.readFileSync(path.join(dir, 'lib', 'environments', `${member.name}.ts`), 'utf8');
    expect(text).toContain(`  name: '${member.name}',\n`);
  }
  // Every kind of cluster, and both engines' environments promoted and not.
  const revisions = new Set(
    members.map((m) => `${m.copiedFrom} ${m.revision === FLEET_PROMOTED_COMMIT ? 'promoted' : m.revision}`),
  );
  expect([...revisions].sort()).toEqual([
    'lab tip',
    'prod-aks promoted',
    'prod-aks unpromoted',
    'prod-eks promoted',
    'prod-eks unpromoted',
    'prod-gke promoted',
    'prod-gke unpromoted',
  ]);
});

test('one synth renders every environment of the fleet, each with its delivery folder, and the checks pass', () => {
  expect(synth.stderr).not.toMatch(/synth failed/);
  expect(synth.status).toBe(0);
  const folders = members.flatMap((m) => [
    m.name,
    ...(m.copiedFrom === 'lab' ? [bootstrapFolder(m.name)] : []),
    deliveryFolder(m.name),
  ]);
  expect(fs.readdirSync(dist()).sort()).toEqual([...folders].sort());
  const written = synth.stdout
    .split('\n')
    .filter((line) => line.startsWith('dist/'))
    .map((line) => line.split(':')[0]);
  expect([...written].sort()).toEqual(folders.map((folder) => `dist/${folder}/`).sort());
  expect(`${synth.stdout}${synth.stderr}`).toMatch(/^policy: 0 error\(s\)/m);
  // The copy is no git repository, so the branch and the promoted commit could not be looked up: said, not hidden.
  for (const member of members) {
    expect(synth.stderr).toContain(
      `warning: environment "${member.name}": delivery.branch and delivery.revision were not checked against git`,
    );
  }
});

describe.each(fleetMembers().map((m) => m.name))('%s', (name) => {
  const member = () => members.find((m) => m.name === name)!;

  test('its own domain reached its rendering', () => {
    const { copiedFrom, file } = member();
    // The project's own files keep their EXAMPLE domains; each copy has one of its own.
    const domain =
      copiedFrom === 'lab'
        ? `${file === undefined ? '' : `${name}.`}lab.example`
        : `${file === undefined ? 'prod' : name}.lab-to-prod.example`;
    expect(fs.readFileSync(dist(name, '20-api.yaml'), 'utf8')).toContain(`- host: api.${domain}\n`);
  });

  test("its layers hold each of dist/<env>/'s files once, in deploy's order", () => {
    const layers = layersOf(name);
    const rendered = fs
      .readdirSync(dist(name))
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(layers.flatMap((l) => l.files).sort()).toEqual(rendered);
    expect(layers.map((l) => l.layer)[0]).toBe('crds');
    expect(layers.map((l) => l.layer).slice(-2)).toEqual(['platform', 'workloads']);
    for (const { layer, files } of layers) {
      if (layer === 'crds') expect(files.every((f) => /^00-.*-crds\.yaml$/.test(f))).toBe(true);
      if (layer === 'platform') expect(files).toEqual(['05-platform.yaml']);
    }
  });

  test('its reconciler reads its own folder at its own revision, from the one repository', () => {
    const { copiedFrom, revision } = member();
    const layers = layersOf(name).map((l) => l.layer);
    const labels = { 'app.kubernetes.io/part-of': 'lab-to-prod', 'app.kubernetes.io/component': 'delivery' };
    if (copiedFrom === 'prod-eks') {
      const documents = documentsOf(dist(deliveryFolder(name), 'argocd', 'lab-to-prod.yaml'));
      const project = named(documents, 'AppProject', 'lab-to-prod');
      expect(project?.spec.sourceRepos).toEqual([REPOSITORY]);
      const self = named(documents, 'Application', 'lab-to-prod-delivery');
      expect(self?.spec.source).toEqual({
        repoURL: REPOSITORY,
        targetRevision: 'main',
        path: `dist/${deliveryFolder(name)}/argocd`,
      });
      const layerApps = layers.map((layer) => named(documents, 'Application', `lab-to-prod-${layer}`));
      if (revision === 'unpromoted') {
        expect(layerApps.filter((app) => app !== undefined)).toEqual([]);
      } else {
        layerApps.forEach((app, wave) => {
          expect(app?.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(String(wave));
          expect(app?.spec.source).toMatchObject({
            repoURL: REPOSITORY,
            targetRevision: revision,
            path: `dist/${name}`,
          });
        });
      }
      for (const d of documents.filter((d) => d.apiVersion.startsWith('argoproj.io/'))) {
        expect(d.metadata.labels).toMatchObject(labels);
      }
    } else {
      const documents = documentsOf(dist(deliveryFolder(name), 'flux', 'lab-to-prod.yaml'));
      const selfSource = named(documents, 'GitRepository', 'lab-to-prod-delivery');
      expect(selfSource?.spec).toMatchObject({ url: REPOSITORY, ref: { branch: 'main' } });
      expect(selfSource?.spec.ignore).toContain(`!/dist/${deliveryFolder(name)}/`);
      expect(named(documents, 'Kustomization', 'lab-to-prod-delivery')?.spec).toMatchObject({
        sourceRef: { kind: 'GitRepository', name: 'lab-to-prod-delivery' },
        path: `./dist/${deliveryFolder(name)}/flux`,
        prune: true,
      });
      const source = named(documents, 'GitRepository', 'lab-to-prod');
      const layerKustomizations = layers.map((layer) => named(documents, 'Kustomization', `lab-to-prod-${layer}`));
      if (revision === 'unpromoted') {
        expect(source).toBeUndefined();
        expect(layerKustomizations.filter((k) => k !== undefined)).toEqual([]);
      } else {
        expect(source?.spec).toMatchObject({
          url: REPOSITORY,
          ref: revision === 'tip' ? { branch: 'main' } : { commit: revision },
        });
        layerKustomizations.forEach((kustomization, i) => {
          expect(kustomization?.spec).toMatchObject({
            sourceRef: { kind: 'GitRepository', name: 'lab-to-prod' },
            path: `./dist/${deliveryFolder(name)}/layers/${layers[i]}`,
            prune: layers[i] !== 'crds',
            wait: true,
          });
          expect(kustomization?.spec.dependsOn).toEqual(
            i === 0 ? undefined : [{ name: `lab-to-prod-${layers[i - 1]}` }],
          );
        });
      }
      for (const d of documents.filter((d) => d.apiVersion.includes('.toolkit.fluxcd.io/'))) {
        expect(d.metadata.labels).toMatchObject(labels);
      }
    }
  });

  test('nothing in its delivery folder names another environment', () => {
    const folder = dist(deliveryFolder(name));
    const texts = fs
      .readdirSync(folder, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => fs.readFileSync(path.join(folder, f), 'utf8'));
    const others = members.map((m) => m.name).filter((other) => other !== name);
    const referenced = new Set(
      texts.flatMap((text) =>
        [...text.matchAll(/(?:dist\/|\.\.\/\.\.\/\.\.\/)([a-z0-9-]+?)(?:-delivery)?\//g)].map((m) => m[1]),
      ),
    );
    expect([...referenced]).toEqual([name]);
    for (const text of texts) {
      for (const other of others) expect(text).not.toMatch(new RegExp(`environment "${other}"`));
    }
  });
});

test(`no file but the ${FLEET_SIZE - 4} new environment files was added or changed by any of it`, () => {
  expect(sources(dir)).toEqual(before);
  expect([...before.keys()].filter((file) => !fs.existsSync(path.join(ROOT, file))).sort()).toEqual(
    members
      .filter((m) => m.file !== undefined)
      .map((m) => m.file)
      .sort(),
  );
});
