/**
 * Where the checks' and the bindings' CRDs come from: the pinned add-ons' renderings, in the
 * repository (no folder beside it), and what stops the generator.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dump } from 'js-yaml';
import { PROJECT_CRDS, pinnedCrds } from './pinned-crds';
import { generateBindings } from './crd-bindings';
import { GENERATED_README, withCrdTable } from './crd-table';

/** A CRD document of one served version, as upstream.yaml holds them. */
function crd(group: string, kind: string, plural: string) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, plural },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object' } } } },
        },
      ],
    },
  };
}

/** A project root with a lock and each add-on's upstream.yaml. */
function project(addons: Record<string, { version: string; documents: object[] }>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pinned-crds-'));
  fs.mkdirSync(path.join(root, 'addons'));
  const lock = {
    addons: Object.fromEntries(Object.entries(addons).map(([name, a]) => [name, { version: a.version }])),
  };
  fs.writeFileSync(path.join(root, 'addons', 'addons.lock.json'), JSON.stringify(lock, null, 2) + '\n');
  for (const [name, a] of Object.entries(addons)) {
    fs.mkdirSync(path.join(root, 'addons', name));
    fs.writeFileSync(path.join(root, 'addons', name, 'upstream.yaml'), a.documents.map((d) => dump(d)).join('---\n'));
  }
  return root;
}

/** Every add-on PROJECT_CRDS names, each shipping exactly the CRDs named for it. */
function projectWithEveryProjectCrd(extra: Record<string, object[]> = {}): string {
  const addons: Record<string, { version: string; documents: object[] }> = {};
  for (const c of PROJECT_CRDS) {
    addons[c.addon] ??= { version: '1.0.0', documents: [] };
    addons[c.addon].documents.push(crd(c.group, `Kind${c.plural}`, c.plural));
  }
  for (const [name, documents] of Object.entries(extra)) {
    addons[name] ??= { version: '2.0.0', documents: [] };
    addons[name].documents.push(...documents);
  }
  return project(addons);
}

describe('the pinned CRDs', () => {
  it("are the repository's own: every CRD the constructs create, from its add-on's upstream.yaml at the locked version", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'addons', 'addons.lock.json'), 'utf8'));
    const pinned = pinnedCrds();
    for (const c of PROJECT_CRDS) {
      const found = pinned.find((p) => p.name === `${c.plural}.${c.group}`);
      expect(found).toMatchObject({ addon: c.addon, addonVersion: lock.addons[c.addon].version, binding: c.binding });
    }
  });

  it("take in a custom resource an add-on's own rendering creates, with its defining add-on", () => {
    const root = projectWithEveryProjectCrd({
      'example-addon': [
        crd('widgets.example.com', 'Widget', 'widgets'),
        { apiVersion: 'widgets.example.com/v1', kind: 'Widget', metadata: { name: 'default' } },
      ],
    });
    const widget = pinnedCrds(root).find((p) => p.name === 'widgets.widgets.example.com');
    expect(widget).toMatchObject({
      addon: 'example-addon',
      addonVersion: '2.0.0',
      fileBase: 'widgets.example.com_widgets',
    });
    expect(widget?.binding).toBeUndefined();
  });

  it('are not taken in when no object needs them', () => {
    const root = projectWithEveryProjectCrd({ 'example-addon': [crd('widgets.example.com', 'Widget', 'widgets')] });
    expect(pinnedCrds(root).map((p) => p.name)).not.toContain('widgets.widgets.example.com');
  });

  it("stop the generator when an add-on's rendering lacks a CRD the constructs create, naming the file and what it ships", () => {
    const root = projectWithEveryProjectCrd();
    const file = path.join(root, 'addons', 'metallb', 'upstream.yaml');
    fs.writeFileSync(file, dump(crd('metallb.io', 'L2Advertisement', 'l2advertisements')));
    expect(() => pinnedCrds(root)).toThrow(
      'addons/metallb/upstream.yaml (metallb 1.0.0) has no CustomResourceDefinition "ipaddresspools.metallb.io"; its CRDs: l2advertisements.metallb.io',
    );
  });

  it('stop the generator when the lock has no add-on for a CRD the constructs create', () => {
    const root = project({ metallb: { version: '1.0.0', documents: [] } });
    expect(() => pinnedCrds(root)).toThrow(
      /addons\/addons.lock.json: no add-on "cert-manager", which brings the CRD certificates.cert-manager.io .*; add-ons in the lock: metallb/,
    );
  });

  it('stop the generator when there is no lock, saying where the CRDs come from', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pinned-crds-'));
    expect(() => pinnedCrds(root)).toThrow('addons/addons.lock.json not found: the CRDs come from the pinned add-ons');
  });
});

describe('the CRD bindings (generated/crd-bindings/)', () => {
  it('are what cdk8s import makes of the pinned CRDs, offline (npm run generate:crds after an add-on changes)', () => {
    const dir = path.join(__dirname, '..', '..', 'generated', 'crd-bindings');
    const files = generateBindings();
    expect(fs.readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
    for (const [name, content] of Object.entries(files)) {
      expect({ name, same: fs.readFileSync(path.join(dir, name), 'utf8') === content }).toEqual({ name, same: true });
    }
  }, 120_000);
});

describe('the table of CRDs in generated/README.md', () => {
  it('names the add-on and version each generated CRD comes from, as the lock has them', () => {
    const readme = fs.readFileSync(GENERATED_README, 'utf8');
    expect(readme).toBe(withCrdTable(readme, pinnedCrds()));
  });

  it('is refused without its marker lines', () => {
    expect(() => withCrdTable('# generated/\n', pinnedCrds())).toThrow('the marker lines of the CRD table are missing');
  });
});
