/**
 * The README's concept map is a promise to its reader: each concept can be traced to a
 * line of TypeScript and a field of rendered YAML. This test keeps the promise as the code moves:
 * every file named exists, every name quoted is in its TypeScript file, and every object and field
 * named is in the rendered YAML.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '..');

interface Row {
  readonly concept: string;
  readonly code: string[];
  readonly output: string[];
}

/** The rows of the table under "## Concept map", each cell's `code spans`. */
function conceptRows(): Row[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Concept map\n')[1].split('\n## ')[0];
  const spans = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| concept') && !line.startsWith('|---'))
    .map((line) => {
      const [concept, code, output] = line.split(' | ').map((cell) => cell.replace(/^\| |\s*\|$/g, ''));
      return { concept, code: spans(code), output: spans(output) };
    });
}

/** Follows `a.b[0].c[some/key]` through an object. */
function fieldAt(object: any, fieldPath: string): unknown {
  const steps = [...fieldPath.matchAll(/([^.[\]]+)|\[([^\]]+)\]/g)].map((m) => m[1] ?? m[2]);
  return steps.reduce((value: any, step) => (value === undefined || value === null ? undefined : value[step]), object);
}

const rows = conceptRows();

test('the concept map covers each container and Kubernetes concept the workloads show', () => {
  const concepts = rows.map((r) => r.concept).join('\n');
  for (const topic of [
    'namespaces',
    'cgroups',
    'QoS',
    'capabilities',
    'seccomp',
    'AppArmor',
    'tmpfs',
    'probes',
    'rollouts',
    'rollbacks',
    'scheduling',
    'Secrets',
    'ConfigMaps',
    'batch',
    'autoscaling',
    'dual-stack',
    'CRDs',
    'RuntimeClass',
    'load balancing',
    'storage',
    'identity',
    'observability',
    'admission',
    'etcd',
    'kube-proxy',
    'containerd',
    'authentication',
    'authorization (RBAC)',
    'the CSR flow',
  ]) {
    expect({ topic, found: concepts.includes(topic) }).toEqual({ topic, found: true });
  }
});

describe.each(rows.map((r) => [r.concept, r] as const))('%s', (_concept, row) => {
  test('the TypeScript names it', () => {
    const [file, name] = row.code;
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    expect({ file, name, found: text.includes(name) }).toEqual({ file, name, found: true });
  });

  test('the rendered output shows it', () => {
    const [file, what, field] = row.output;
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    if (!file.endsWith('.yaml')) {
      expect({ file, what, found: text.includes(what) }).toEqual({ file, what, found: true });
      return;
    }
    const [kind, name] = what.split('/');
    const objects = parseAllDocuments(text).map((d) => d.toJS());
    const object = objects.find((o) => o?.kind === kind && (name === undefined || o.metadata?.name === name));
    expect({ file, what, found: object !== undefined }).toEqual({ file, what, found: true });
    expect({ file, what, field, value: fieldAt(object, field) }).toEqual({
      file,
      what,
      field,
      value: expect.anything(),
    });
  });
});
