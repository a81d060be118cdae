/**
 * Adding a workload takes the files the README's "Adding a workload" lists, and no other: in a copy of
 * the project, lib/workloads/sandboxed.ts is copied to isolated.ts with its name changed, the registry
 * gains one entry, and each environment gives the new namespace its people's groups (the lab also
 * makes it smaller, as an environment may). The real commands (as npm runs them, through
 * speed/tsrun.js) then synthesize it in every environment, the guardrails pass it, diff:envs compares
 * it, and the editors' JSON Schema lists its scale.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { environmentNames } from '../lib/environments';
import { projectCopy, ROOT } from './project-copy';

const NAME = 'isolated';

/** The files the README's "Adding a workload" lists, its placeholders filled in for this workload and the environments. */
function filesTheReadmeLists(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = /\n### Adding a workload\n([\s\S]*?)\n#{2,3} /.exec(readme)?.[1];
  expect(section).toBeDefined();
  // The numbered steps, each starting with the file (or files) it touches.
  const steps = section!.split('\n').filter((line) => /^\d+\. `/.test(line));
  expect(steps.length).toBeGreaterThan(0);
  return steps
    .map((step) => /^\d+\. `([^`]+)`/.exec(step)![1])
    .flatMap((file) => (file.includes('<env>') ? environmentNames().map((env) => file.replace('<env>', env)) : [file]))
    .map((file) => file.replace('<name>', NAME))
    .sort();
}

/** Every file of a folder but node_modules, the tsrun cache and dist/, relative path → sha256. */
function sources(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, file);
    if (/^(node_modules|\.tsrun-cache|dist)(\/|$)/.test(file) || !fs.statSync(full).isFile()) continue;
    found.set(file, createHash('sha256').update(fs.readFileSync(full)).digest('hex'));
  }
  return found;
}

/** Runs a command of the copy as npm runs it (node speed/tsrun.js <script>), with a tsrun cache of the copy's own. */
function run(dir: string, args: string[]) {
  const result = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: path.join(dir, '.tsrun-cache') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Replaces `from` with `to` in a file of the copy, exactly once. */
function replaceOnce(dir: string, file: string, from: RegExp, to: (match: string) => string): void {
  const full = path.join(dir, file);
  const text = fs.readFileSync(full, 'utf8');
  const matches = text.match(new RegExp(from.source, `${from.flags.replace('g', '')}g`)) ?? [];
  expect(matches).toHaveLength(1);
  fs.writeFileSync(full, text.replace(from, to));
}

let dir: string;
let original: Map<string, string>;

beforeAll(() => {
  dir = projectCopy('lab-to-prod-new-workload-', ['README.md']);
  original = sources(dir);

  // 1. The workload's file: sandboxed's, every "sandboxed" in it renamed.
  const copied = fs
    .readFileSync(path.join(dir, 'lib', 'workloads', 'sandboxed.ts'), 'utf8')
    .replace(/sandboxed/g, NAME)
    .replace(/Sandboxed/g, 'Isolated')
    .replace(/SANDBOXED/g, 'ISOLATED');
  fs.writeFileSync(path.join(dir, 'lib', 'workloads', `${NAME}.ts`), copied);

  // 2. The registry: after sandboxed, before etcd-backup.
  replaceOnce(
    dir,
    'lib/workloads/index.ts',
    /^import sandboxed from '\.\/sandboxed';\n/m,
    (m) => `${m}import isolated from './isolated';\n`,
  );
  replaceOnce(dir, 'lib/workloads/index.ts', /sandboxed, etcdBackup\]/, () => 'sandboxed, isolated, etcdBackup]');

  // 3. Each environment: the new namespace's groups, made from sandboxed's (on AKS, other object IDs).
  for (const env of environmentNames()) {
    replaceOnce(
      dir,
      `lib/environments/${env}.ts`,
      /^( +)sandboxed: \{(?: viewer[^\n]*\},|\n\1 {2}viewer:[\s\S]*?\n\1\},)\n/m,
      (block) => block + block.replace(/sandboxed/g, NAME).replace(/0005(\d\d)'/g, "0006$1'"),
    );
  }
  // The lab, a few small VMs, runs fewer of them than production: the one field that differs.
  replaceOnce(dir, 'lib/environments/lab.ts', /^ {4}sandboxed: \{\n/m, (m) => `    ${NAME}: { maxReplicas: 3 },\n${m}`);

  // 4. The editors' JSON Schema, rewritten by its generator.
  const schema = run(dir, ['speed/tsrun.js', 'scripts/generate/environment-schema.ts']);
  expect(schema.stderr).toBe('');
  expect(schema.status).toBe(0);
}, 120_000);

afterAll(() => {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

test("takes exactly the files the README's walk-through lists: the workload's own, the registry, each environment and the generated schema", () => {
  const after = sources(dir);
  const touched = [...new Set([...original.keys(), ...after.keys()])]
    .filter((file) => original.get(file) !== after.get(file))
    .sort();
  expect(touched).toEqual(filesTheReadmeLists());
  // One new file; the others touched are the registry's line, the environments' people, the generated schema.
  expect(touched.filter((file) => !original.has(file))).toEqual([`lib/workloads/${NAME}.ts`]);
  expect(touched).toHaveLength(3 + environmentNames().length);
});

test('is synthesized in every environment, in its own file after sandboxed, and the guardrails find nothing', () => {
  const synth = run(dir, ['bin/synth.js']);
  expect(synth.stderr).not.toMatch(/synth failed/);
  expect(synth.status).toBe(0);
  for (const env of environmentNames()) {
    const files = fs.readdirSync(path.join(dir, 'dist', env)).sort();
    const sandboxed = files.find((f) => f.endsWith('-sandboxed.yaml'))!;
    const isolated = files.find((f) => f.endsWith(`-${NAME}.yaml`));
    expect(isolated).toBeDefined();
    expect(Number(isolated!.slice(0, 2))).toBe(Number(sandboxed.slice(0, 2)) + 10);
    const yaml = fs.readFileSync(path.join(dir, 'dist', env, isolated!), 'utf8');
    expect(yaml).toMatch(new RegExp(`kind: Deployment\\nmetadata:\\n(?:  .*\\n)*  name: ${NAME}\\n`));
    // Its namespace, with the platform's quota, default-deny and people's access, made from the registry.
    const platform = fs.readFileSync(path.join(dir, 'dist', env, '05-platform.yaml'), 'utf8');
    expect(platform).toMatch(new RegExp(`kind: Namespace\\nmetadata:\\n(?:  .*\\n)*  name: ${NAME}\\n`));
    expect(platform).toContain(`namespace: ${NAME}`);
    // The lab's one difference from the defaults, production's figures elsewhere.
    expect(yaml).toMatch(new RegExp(`maxReplicas: ${env === 'lab' ? 3 : 6}\\n`));
  }
  const checked = run(dir, ['speed/tsrun.js', 'lib/policy/check-dist.ts', 'dist']);
  expect(checked.stderr).toBe('');
  expect(checked.status).toBe(0);
  expect(checked.stdout.trimEnd().split('\n').pop()).toMatch(/^policy: 0 error\(s\)/);
}, 180_000);

test('is compared by diff:envs like the others, every difference in an area', () => {
  const compared = run(dir, ['speed/tsrun.js', 'lib/commands/diff-envs.ts']);
  expect(compared.stderr).toBe('');
  expect(compared.status).toBe(0);
}, 120_000);

test("is listed in the editors' JSON Schema, its scale's fields all optional", () => {
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'generated', 'environment.schema.json'), 'utf8'));
  const scale = schema.properties.scale;
  expect(Object.keys(scale.properties)).toContain(NAME);
  expect(scale.properties[NAME].properties).toHaveProperty('maxReplicas');
  expect(scale.properties[NAME].required).toBeUndefined();
  expect(scale.additionalProperties).toBe(false);
});
