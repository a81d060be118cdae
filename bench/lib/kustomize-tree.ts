/**
 * Builds the kustomize peer of the synth: a base holding one environment's rendered objects and an
 * overlay of patches that turns it into another environment's, the way a team keeping plain YAML
 * would lay it out. The tree is generated from our own rendered output and then proven equivalent:
 * `kubectl kustomize <overlay>` must give exactly the target environment's objects.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Yaml } from 'cdk8s';

/** One RFC 6902 operation. */
interface PatchOp {
  readonly op: 'add' | 'remove' | 'replace';
  readonly path: string;
  readonly value?: unknown;
}

/** What the generated overlay holds. */
export interface KustomizeTree {
  readonly baseDir: string;
  readonly overlayDir: string;
  readonly baseObjects: number;
  readonly patchedObjects: number;
  readonly addedObjects: number;
  readonly deletedObjects: number;
  readonly patchOps: number;
}

/** Every object in the *.yaml files of a rendered environment folder, in file order. */
export function loadRendered(dir: string): any[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => Yaml.load(path.join(dir, f)));
}

function objectKey(o: any): string {
  return [o.apiVersion, o.kind, o.metadata?.namespace ?? '', o.metadata?.name].join('|');
}

/** JSON with sorted keys: equal objects give equal strings whatever their key order. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as any)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function pointer(segments: readonly string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** The operations that turn `from` into `to`; arrays that differ are replaced whole. */
function diff(from: any, to: any, at: string[] = []): PatchOp[] {
  const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isMap(from) || !isMap(to)) {
    return canonical(from) === canonical(to) ? [] : [{ op: 'replace', path: pointer(at), value: to }];
  }
  const ops: PatchOp[] = [];
  for (const key of Object.keys(from)) {
    if (!(key in to)) {
      ops.push({ op: 'remove', path: pointer([...at, key]) });
    }
  }
  for (const key of Object.keys(to)) {
    ops.push(
      ...(key in from
        ? diff(from[key], to[key], [...at, key])
        : [{ op: 'add' as const, path: pointer([...at, key]), value: to[key] }]),
    );
  }
  return ops;
}

function target(o: any): Record<string, string> {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  return {
    ...(group ? { group } : {}),
    version,
    kind: o.kind,
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
}

/**
 * Writes `<root>/base` (the files of `fromDir`, untouched) and `<root>/overlay` (JSON 6902 patches for
 * objects in both, `$patch: delete` for objects only in the base, new resources for objects only in
 * the target).
 */
export function writeKustomizeTree(root: string, fromDir: string, toDir: string): KustomizeTree {
  const baseDir = path.join(root, 'base');
  const overlayDir = path.join(root, 'overlay');
  fs.mkdirSync(path.join(overlayDir, 'patches'), { recursive: true });
  fs.mkdirSync(baseDir, { recursive: true });

  const baseFiles = fs
    .readdirSync(fromDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (const f of baseFiles) {
    fs.copyFileSync(path.join(fromDir, f), path.join(baseDir, f));
  }
  fs.writeFileSync(
    path.join(baseDir, 'kustomization.yaml'),
    Yaml.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: baseFiles,
    }),
  );

  const base = new Map(loadRendered(fromDir).map((o) => [objectKey(o), o]));
  const wanted = loadRendered(toDir);
  const wantedKeys = new Set(wanted.map(objectKey));
  const patches: object[] = [];
  const added: any[] = [];
  let patchOps = 0;
  for (const o of wanted) {
    const from = base.get(objectKey(o));
    if (!from) {
      added.push(o);
      continue;
    }
    const ops = diff(from, o);
    if (ops.length > 0) {
      const file = `patches/${String(patches.length).padStart(3, '0')}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
      fs.writeFileSync(path.join(overlayDir, file), Yaml.stringify(ops));
      patches.push({ path: file, target: target(o) });
      patchOps += ops.length;
    }
  }
  let deleted = 0;
  for (const [key, o] of base) {
    if (!wantedKeys.has(key)) {
      const file = `patches/delete-${String(deleted++).padStart(3, '0')}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
      fs.writeFileSync(
        path.join(overlayDir, file),
        Yaml.stringify({
          apiVersion: o.apiVersion,
          kind: o.kind,
          metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) },
          $patch: 'delete',
        }),
      );
      patches.push({ path: file });
    }
  }
  const resources = ['../base'];
  if (added.length > 0) {
    fs.writeFileSync(path.join(overlayDir, 'added.yaml'), Yaml.stringify(...added));
    resources.push('added.yaml');
  }
  fs.writeFileSync(
    path.join(overlayDir, 'kustomization.yaml'),
    Yaml.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources,
      patches,
    }),
  );
  return {
    baseDir,
    overlayDir,
    baseObjects: base.size,
    patchedObjects: patches.length - deleted,
    addedObjects: added.length,
    deletedObjects: deleted,
    patchOps,
  };
}

/**
 * Throws unless the kustomize output file holds exactly the objects of `toDir` (order aside):
 * the peer must produce the same output, or comparing their times means nothing.
 */
export function assertSameObjects(kustomizeOutput: string, toDir: string): void {
  const got = Yaml.load(kustomizeOutput).map(canonical).sort();
  const want = loadRendered(toDir).map(canonical).sort();
  const missing = want.filter((o) => !got.includes(o));
  const extra = got.filter((o) => !want.includes(o));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `kustomize overlay does not reproduce ${toDir}: ${missing.length} objects missing or different, ${extra.length} unexpected` +
        `\n  first missing: ${missing[0]?.slice(0, 400)}\n  first unexpected: ${extra[0]?.slice(0, 400)}`,
    );
  }
}
