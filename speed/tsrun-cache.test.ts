import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * speed/tsrun.js reuses a bundle only while nothing it was built from has changed. These tests run it
 * in a temporary copy of a small part of the project, change one thing at a time, and check that the
 * next run sees the change: a stale cache would run old code without a word.
 */

const ROOT = path.resolve(__dirname, '..');
const AN_HOUR_AGO = new Date(Date.now() - 3600_000);

/** A probe whose output comes from a second file, one folder down. */
const PROBE = "import { line } from './lib/line';\n\nprocess.stdout.write(line('probe', 'value'));\n";
const LINE = 'export function line(key: string, value: string): string {\n  return `${key}: ${value}\\n`;\n}\n';

/** A program that fails in a second file, to check where its stack trace points. */
const THROWER = "import { fail } from './lib/fail';\n\nfail();\n";
const FAIL =
  "// A comment, so that the throw is on line 5.\n\nexport function fail(): void {\n  const reason: string = 'on purpose';\n  throw new Error(`failed ${reason}`);\n}\n";

interface Project {
  dir: string;
  cache: string;
}

/** The files the probe needs, copied, and node_modules as links to the project's packages. */
function copyProject(): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-tsrun-'));
  for (const file of ['speed/tsrun.js', 'speed/tsrun-linear-maps.js', 'package.json', 'tsconfig.json']) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'probe.ts'), PROBE);
  fs.writeFileSync(path.join(dir, 'lib', 'line.ts'), LINE);
  fs.writeFileSync(path.join(dir, 'thrower.ts'), THROWER);
  fs.writeFileSync(path.join(dir, 'lib', 'fail.ts'), FAIL);
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === '.cache') {
      continue;
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(dir, 'node_modules', name));
  }
  // Files saved less than a second before a build are not recorded (they may have changed while
  // esbuild read them), so the copies get an old time, as files in a checkout have.
  for (const file of ['probe.ts', 'thrower.ts', 'lib/fail.ts', 'lib/line.ts', 'tsconfig.json', 'package.json']) {
    fs.utimesSync(path.join(dir, file), AN_HOUR_AGO, AN_HOUR_AGO);
  }
  return { dir, cache: path.join(dir, 'cache') };
}

/** Changes a file in the copy and gives it an old time again, as if saved a while ago. */
function edit(project: Project, file: string, change: (text: string) => string): void {
  const full = path.join(project.dir, file);
  fs.writeFileSync(full, change(fs.readFileSync(full, 'utf8')));
  fs.utimesSync(full, AN_HOUR_AGO, AN_HOUR_AGO);
}

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
  from: string;
  packagesFrom: string;
}

/** Runs an entry of the copy; `from` and `packagesFrom` say where its bundle and its packages' came from. */
function tsrun(project: Project, entry: string, cache: string = project.cache, nodeFlags: string[] = []): Run {
  const result = spawnSync(process.execPath, [...nodeFlags, 'speed/tsrun.js', entry], {
    cwd: project.dir,
    env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: cache, LAB_TO_PROD_TSRUN_VERBOSE: '1' },
    encoding: 'utf8',
  });
  const origin = (what: string) =>
    result.stderr.includes(`tsrun: ${what}: bundle from the cache`)
      ? 'cache'
      : result.stderr.includes(`tsrun: ${what}: bundled by esbuild`)
        ? 'esbuild'
        : 'none';
  return {
    stdout: result.stdout,
    stderr: result.stderr,
    status: result.status,
    from: origin(entry),
    packagesFrom: origin('packages'),
  };
}

let project: Project;
beforeEach(() => {
  project = copyProject();
});
afterEach(() => {
  fs.rmSync(project.dir, { recursive: true, force: true });
});

test('an unchanged project runs from the cache, with the same result', () => {
  const first = tsrun(project, 'probe.ts');
  expect(first).toMatchObject({ status: 0, from: 'esbuild', stdout: 'probe: value\n' });
  const second = tsrun(project, 'probe.ts');
  expect(second).toMatchObject({ status: 0, from: 'cache', stdout: 'probe: value\n' });
});

test("a run under other V8 flags keeps a code cache of its own instead of replacing the plain runs' one", () => {
  const codeCaches = () =>
    new Map(
      fs
        .readdirSync(project.cache)
        .filter((name) => name.endsWith('.v8cache'))
        .map((name) => [name, fs.readFileSync(path.join(project.cache, name)).toString('base64')]),
    );
  tsrun(project, 'probe.ts');
  const plain = codeCaches();
  expect(plain.size).toBe(1); // the project's bundle; the probe imports no package
  const flagged = ['--stack-size=900'];
  expect(tsrun(project, 'probe.ts', project.cache, flagged)).toMatchObject({
    status: 0,
    from: 'cache',
    stdout: 'probe: value\n',
  });
  const again = tsrun(project, 'probe.ts', project.cache, flagged);
  expect(again.stderr).toContain("probe.ts: run with V8's code cache");
  expect(again.stderr).not.toContain('V8 refused its code cache');
  const both = codeCaches();
  expect(both.size).toBe(2);
  for (const [name, content] of plain) {
    expect(both.get(name)).toBe(content);
  }
  const plainAgain = tsrun(project, 'probe.ts');
  expect(plainAgain).toMatchObject({ status: 0, from: 'cache', stdout: 'probe: value\n' });
  expect(plainAgain.stderr).not.toContain('V8 refused its code cache');
});

test('an edited source file is bundled again and its change is seen, also when the edit is undone', () => {
  expect(tsrun(project, 'probe.ts').stdout).toBe('probe: value\n');
  edit(project, 'probe.ts', (text) => text.replace("'probe', 'value'", "'probe', 'changed'"));
  const changed = tsrun(project, 'probe.ts');
  expect(changed).toMatchObject({ status: 0, from: 'esbuild', stdout: 'probe: changed\n' });
  expect(changed.stderr).toContain('tsrun: probe.ts changed');
  expect(tsrun(project, 'probe.ts')).toMatchObject({ from: 'cache', stdout: 'probe: changed\n' });
  // A file the entry imports, one folder down.
  edit(project, 'lib/line.ts', (text) => text.replace('return `', 'return `# edited\\n'));
  expect(tsrun(project, 'probe.ts')).toMatchObject({ from: 'esbuild', stdout: '# edited\nprobe: changed\n' });
  edit(project, 'probe.ts', (text) => text.replace("'probe', 'changed'", "'probe', 'value'"));
  expect(tsrun(project, 'probe.ts')).toMatchObject({ from: 'esbuild', stdout: '# edited\nprobe: value\n' });
});

test('a cached bundle that was changed on disk is not run: it is bundled again', () => {
  expect(tsrun(project, 'probe.ts')).toMatchObject({ from: 'esbuild', stdout: 'probe: value\n' });
  const record = fs
    .readdirSync(project.cache)
    .filter((name) => name.endsWith('.record.json'))
    .map((name) => JSON.parse(fs.readFileSync(path.join(project.cache, name), 'utf8')))
    .find((r) => r.packages.length === 0);
  const bundle = path.join(project.cache, `${record.bundle}.js`);
  const text = fs.readFileSync(bundle, 'utf8');
  expect(text).toContain('"probe"');
  fs.writeFileSync(bundle, text.replace('"probe"', '"tampered"'));
  expect(tsrun(project, 'probe.ts')).toMatchObject({ status: 0, from: 'esbuild', stdout: 'probe: value\n' });
  // Rewritten with the same bytes: its identity changed, its content did not, so it is still used.
  fs.writeFileSync(bundle, fs.readFileSync(bundle));
  expect(tsrun(project, 'probe.ts')).toMatchObject({ status: 0, from: 'cache', stdout: 'probe: value\n' });
});

test('a file saved just before the build is used but not recorded, so the next run bundles again', () => {
  tsrun(project, 'probe.ts');
  const full = path.join(project.dir, 'probe.ts');
  fs.writeFileSync(full, fs.readFileSync(full, 'utf8').replace("'probe', 'value'", "'probe', 'fresh'"));
  const fresh = tsrun(project, 'probe.ts');
  expect(fresh).toMatchObject({ from: 'esbuild', stdout: 'probe: fresh\n' });
  expect(fresh.stderr).toContain('not recorded');
  fs.utimesSync(full, AN_HOUR_AGO, AN_HOUR_AGO);
  expect(tsrun(project, 'probe.ts')).toMatchObject({ from: 'esbuild', stdout: 'probe: fresh\n' });
  expect(tsrun(project, 'probe.ts')).toMatchObject({ from: 'cache', stdout: 'probe: fresh\n' });
});

test('a new file that now wins module resolution is seen (line.tsx before line.ts)', () => {
  expect(tsrun(project, 'probe.ts').stdout).toBe('probe: value\n');
  fs.writeFileSync(
    path.join(project.dir, 'lib', 'line.tsx'),
    'export const line = (key: string): string => `shadowed ${key}\\n`;\n',
  );
  const shadowed = tsrun(project, 'probe.ts');
  expect(shadowed).toMatchObject({ status: 0, from: 'esbuild', stdout: 'shadowed probe\n' });
  expect(shadowed.stderr).toContain('tsrun: the files in lib changed');
});

test('a changed tsconfig.json, esbuild version, tsrun or its rewrite of the bundle starts afresh', () => {
  tsrun(project, 'probe.ts');
  expect(tsrun(project, 'probe.ts').from).toBe('cache');
  edit(project, 'tsconfig.json', (text) => `${text}\n`);
  expect(tsrun(project, 'probe.ts').from).toBe('esbuild');
  expect(tsrun(project, 'probe.ts').from).toBe('cache');
  // esbuild copied in place of its link, so that its version can change.
  fs.rmSync(path.join(project.dir, 'node_modules', 'esbuild'));
  fs.cpSync(path.join(ROOT, 'node_modules', 'esbuild'), path.join(project.dir, 'node_modules', 'esbuild'), {
    recursive: true,
  });
  expect(tsrun(project, 'probe.ts').from).toBe('cache');
  edit(project, 'node_modules/esbuild/package.json', (text) =>
    text.replace(/"version": "([^"]+)"/, '"version": "$1-other"'),
  );
  expect(tsrun(project, 'probe.ts').from).toBe('esbuild');
  expect(tsrun(project, 'probe.ts').from).toBe('cache');
  edit(project, 'speed/tsrun.js', (text) => `${text}// edited\n`);
  expect(tsrun(project, 'probe.ts').from).toBe('esbuild');
  expect(tsrun(project, 'probe.ts').from).toBe('cache');
  edit(project, 'speed/tsrun-linear-maps.js', (text) => `${text}// edited\n`);
  expect(tsrun(project, 'probe.ts').from).toBe('esbuild');
});

test('LAB_TO_PROD_TSRUN_CACHE=off bundles every time and writes no cache', () => {
  expect(tsrun(project, 'probe.ts', 'off')).toMatchObject({ status: 0, stdout: 'probe: value\n' });
  expect(tsrun(project, 'probe.ts', 'off').stderr).toContain('cache off');
  expect(fs.existsSync(project.cache)).toBe(false);
});

test.each([
  ['bundled and cached, then from the cache', undefined, 2],
  ["without a cache (Node's own source maps)", 'off', 1],
])('a stack trace points at the TypeScript line: %s', (_, cache, runs) => {
  for (let run = 0; run < runs; run++) {
    const failed = tsrun(project, 'thrower.ts', cache ?? project.cache);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('Error: failed on purpose');
    expect(failed.stderr).toContain(`at fail (${path.join(project.dir, 'lib', 'fail.ts')}:5:9)`);
    expect(failed.stderr).toContain(`(${path.join(project.dir, 'thrower.ts')}:3:1)`);
  }
});

test('the cache keeps the 24 most recently used bundles and drops abandoned temporary files', () => {
  fs.mkdirSync(project.cache);
  const fake = (i: number) => i.toString(16).padStart(64, '0');
  for (let i = 0; i < 30; i++) {
    const record = path.join(project.cache, `${fake(1000 + i)}.record.json`);
    fs.writeFileSync(record, JSON.stringify({ bundle: fake(i), files: [], folders: [] }));
    fs.writeFileSync(path.join(project.cache, `${fake(i)}.js`), '');
    // Record i was last used i minutes after the oldest one.
    const used = new Date(AN_HOUR_AGO.getTime() + i * 60_000);
    fs.utimesSync(record, used, used);
  }
  const abandoned = path.join(project.cache, `${fake(5)}.js.12345.tmp`);
  fs.writeFileSync(abandoned, '');
  fs.utimesSync(abandoned, AN_HOUR_AGO, AN_HOUR_AGO);
  const live = path.join(project.cache, `${fake(6)}.js.12346.tmp`);
  fs.writeFileSync(live, '');

  expect(tsrun(project, 'probe.ts').from).toBe('esbuild');
  const names = fs.readdirSync(project.cache);
  expect(names.filter((n) => n.endsWith('.record.json'))).toHaveLength(24);
  // The probe's own record and bundle, and the 23 most recently used of the others, stay.
  expect(names).not.toContain(`${fake(6)}.js`);
  expect(names).toContain(`${fake(7)}.js`);
  expect(names).toContain(`${fake(29)}.js`);
  expect(names).not.toContain(path.basename(abandoned));
  expect(names).toContain(path.basename(live));
});

/** A package of the copy's own in its node_modules: a package.json and the given index.js. */
function fakePackage(name: string, indexJs: string): string {
  const pkg = path.join(project.dir, 'node_modules', name);
  fs.mkdirSync(pkg);
  fs.writeFileSync(path.join(pkg, 'package.json'), `{ "name": "${name}", "version": "1.0.0", "main": "index.js" }\n`);
  fs.writeFileSync(path.join(pkg, 'index.js'), indexJs);
  return pkg;
}

test('packages have a bundle of their own: a changed package file is seen, and a package finds its own files by __dirname', () => {
  // A package of the copy's own, which reads a file beside it the way cdk8s's Yaml.load runs a script beside it.
  const pkg = fakePackage(
    'beside-me',
    "exports.note = () => require('fs').readFileSync(require('path').join(__dirname, 'note.txt'), 'utf8');\n",
  );
  fs.writeFileSync(path.join(pkg, 'note.txt'), 'read beside the package\n');
  for (const file of ['package.json', 'index.js']) {
    fs.utimesSync(path.join(pkg, file), AN_HOUR_AGO, AN_HOUR_AGO);
  }
  // An entry in a folder of its own, as bench/ and scripts/ have.
  fs.mkdirSync(path.join(project.dir, 'tools'));
  fs.writeFileSync(
    path.join(project.dir, 'tools', 'uses-package.ts'),
    "import { note } from 'beside-me';\n\nprocess.stdout.write(note());\n",
  );
  fs.utimesSync(path.join(project.dir, 'tools', 'uses-package.ts'), AN_HOUR_AGO, AN_HOUR_AGO);

  expect(tsrun(project, 'tools/uses-package.ts')).toMatchObject({
    status: 0,
    from: 'esbuild',
    packagesFrom: 'esbuild',
    stdout: 'read beside the package\n',
  });
  expect(tsrun(project, 'tools/uses-package.ts')).toMatchObject({
    status: 0,
    from: 'cache',
    packagesFrom: 'cache',
    stdout: 'read beside the package\n',
  });
  edit(project, 'node_modules/beside-me/index.js', (text) => text.replace("'utf8');", "'utf8').toUpperCase();"));
  // Only the packages' bundle is made again; the project's is unchanged.
  const changed = tsrun(project, 'tools/uses-package.ts');
  expect(changed).toMatchObject({
    status: 0,
    from: 'cache',
    packagesFrom: 'esbuild',
    stdout: 'READ BESIDE THE PACKAGE\n',
  });
  expect(changed.stderr).toContain('node_modules/beside-me/index.js changed');
});

test('packages esbuild cannot bundle (a native addon) stay external and load from node_modules', () => {
  const pkg = fakePackage(
    'with-addon',
    "exports.name = 'with-addon';\nexports.load = () => require('./addon.node');\n",
  );
  fs.writeFileSync(path.join(pkg, 'addon.node'), 'not a real addon: never loaded');
  fs.writeFileSync(
    path.join(project.dir, 'uses-addon.ts'),
    "import { name } from 'with-addon';\n\nprocess.stdout.write(`${name}\\n`);\n",
  );
  const result = tsrun(project, 'uses-addon.ts');
  expect(result).toMatchObject({ status: 0, from: 'esbuild', packagesFrom: 'none', stdout: 'with-addon\n' });
  expect(result.stderr).toContain('tsrun: packages left external');
});

test('a bundle run without the code cache (one that uses import()) maps its stack to the source file too', () => {
  // A bundle with import() runs through Node's own module compiler and source-map support, as does
  // one not yet recorded; its stack still names the TypeScript file as a path, never a file: URL
  // (a run once printed "<dir>/file:<dir>/<source>" for a bundle not yet recorded).
  fs.writeFileSync(
    path.join(project.dir, 'plain-fails.ts'),
    "export const later = () => import('path');\n\nthrow new Error('failed in a plain run');\n",
  );
  const failed = tsrun(project, 'plain-fails.ts');
  expect(failed.status).toBe(1);
  expect(failed.stderr).toContain(`(${path.join(project.dir, 'plain-fails.ts')}:3:7)`);
  expect(failed.stderr).not.toContain('file:');
});

test("only a real import() keeps a bundle from V8's code cache, not the word in a package's comment", () => {
  const pkg = fakePackage(
    'mentions-import',
    "'use strict';\n// a comment that mentions import() of an ESM path\nexports.value = 'mentioned';\n",
  );
  fs.writeFileSync(
    path.join(project.dir, 'mentions.ts'),
    "import { value } from 'mentions-import';\n\nconsole.log(value);\n",
  );
  // Saved a while ago, so that the bundles are recorded (and kept) on the first run.
  for (const file of [
    path.join(pkg, 'index.js'),
    path.join(pkg, 'package.json'),
    path.join(project.dir, 'mentions.ts'),
  ]) {
    fs.utimesSync(file, AN_HOUR_AGO, AN_HOUR_AGO);
  }
  const run = tsrun(project, 'mentions.ts');
  expect(run).toMatchObject({ status: 0, stdout: 'mentioned\n' });
  expect(run.stderr).toContain("packages: run with V8's code cache");
  fs.writeFileSync(
    path.join(project.dir, 'imports-later.ts'),
    "export const later = () => import('path');\n\nconsole.log('later');\n",
  );
  expect(tsrun(project, 'imports-later.ts').stderr).toContain(
    "imports-later.ts: run by Node's own loader (it uses import())",
  );
});

test("a stack trace through a package points at the package's own file", () => {
  const pkg = fakePackage(
    'fails-inside',
    "'use strict';\nexports.fail = () => {\n  throw new Error('failed inside the package');\n};\n",
  );
  fs.writeFileSync(path.join(project.dir, 'calls-package.ts'), "import { fail } from 'fails-inside';\n\nfail();\n");
  for (let run = 0; run < 2; run++) {
    const failed = tsrun(project, 'calls-package.ts');
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`(${path.join(pkg, 'index.js')}:3:9)`);
    expect(failed.stderr).toContain(`(${path.join(project.dir, 'calls-package.ts')}:3:1)`);
  }
});
