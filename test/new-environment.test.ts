/**
 * Adding an environment is adding one file: in a copy of the project, lib/environments/prod-eks.ts
 * is copied to staging-eks.ts with its name changed and nothing else edited, and the real commands
 * (as npm runs them, through speed/tsrun.js) synthesize it, compare it, check it and accept it for
 * deploy. A copy whose name was left as the original's stops the synth, naming both files.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { environmentNames, ENVIRONMENTS } from '../lib/environments';
import { bootstrapFolder, deliveryFolder } from '../lib/synth/render';
import { projectCopy, ROOT } from './project-copy';

/** The copy's environments: the project's, and staging-eks among them in file-name order. */
const NAMES = [...environmentNames(), 'staging-eks'].sort();
/** The folders a synth of the copy writes, in the order it prints them: staging-eks has prod-eks's (no bootstrap files). */
const FOLDERS = NAMES.flatMap((name) => [
  ...(ENVIRONMENTS[name === 'staging-eks' ? 'prod-eks' : name].bootstrap ? [name, bootstrapFolder(name)] : [name]),
  deliveryFolder(name),
]);

/** The copies this file made; removed when it is done. */
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of what the commands read, node_modules linked, with prod-eks.ts copied to staging-eks.ts as `edit` makes it. */
function copyWithStaging(edit: (text: string) => string): string {
  const dir = projectCopy('lab-to-prod-new-env-');
  copies.push(dir);
  const original = fs.readFileSync(path.join(dir, 'lib', 'environments', 'prod-eks.ts'), 'utf8');
  fs.writeFileSync(path.join(dir, 'lib', 'environments', 'staging-eks.ts'), edit(original));
  return dir;
}

/** Every file of the copy but node_modules and the tsrun cache, relative path → sha256. */
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
function run(dir: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, LAB_TO_PROD_TSRUN_CACHE: path.join(dir, '.tsrun-cache'), ...env },
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    output: `${result.stdout}${result.stderr}`,
  };
}

describe('a copy of prod-eks.ts named staging-eks.ts, its name changed and no other file edited', () => {
  let dir: string;
  let before: Map<string, string>;
  beforeAll(() => {
    dir = copyWithStaging((text) => {
      const renamed = text.replace("  name: 'prod-eks',\n", "  name: 'staging-eks',\n");
      expect(renamed).not.toBe(text);
      return renamed;
    });
    before = sources(dir);
  });

  test('differs from prod-eks.ts in its name only', () => {
    const lines = (file: string) => fs.readFileSync(path.join(dir, 'lib', 'environments', file), 'utf8').split('\n');
    const [staging, eks] = [lines('staging-eks.ts'), lines('prod-eks.ts')];
    expect(staging.length).toBe(eks.length);
    expect(staging.filter((line, i) => line !== eks[i])).toEqual(["  name: 'staging-eks',"]);
  });

  test('is listed by the command the Go cluster tests read the environments from', () => {
    const listed = run(dir, ['speed/tsrun.js', 'lib/commands/environments.ts']);
    expect(listed.stderr).toBe('');
    expect(listed.stdout).toBe(NAMES.map((name) => `${name}\n`).join(''));
  });

  test('is synthesized into dist/staging-eks/ beside the others, each folder written once, and passes the checks', () => {
    const synth = run(dir, ['bin/synth.js']);
    expect(synth.stderr).not.toMatch(/synth failed/);
    expect(synth.status).toBe(0);
    const written = synth.stdout
      .split('\n')
      .filter((line) => line.startsWith('dist/'))
      .map((line) => line.split(':')[0]);
    expect(written).toEqual(FOLDERS.map((folder) => `dist/${folder}/`));
    expect(fs.readdirSync(path.join(dir, 'dist')).sort()).toEqual([...FOLDERS].sort());
    expect(fs.readdirSync(path.join(dir, 'dist', 'staging-eks')).sort()).toEqual(
      fs.readdirSync(path.join(dir, 'dist', 'prod-eks')).sort(),
    );
    // Its objects are labelled as its own, not as prod-eks's.
    expect(fs.readFileSync(path.join(dir, 'dist', 'staging-eks', '10-web.yaml'), 'utf8')).toMatch(/staging-eks/);

    // The guardrail checks read the written folders back, staging-eks among them, and find nothing unwaived.
    const checked = run(dir, ['speed/tsrun.js', 'lib/policy/check-dist.ts', 'dist']);
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    expect(checked.stdout.trimEnd().split('\n').pop()).toMatch(/^policy: 0 error\(s\).*\((.*)\)$/);
    expect(/\(([^()]*)\)$/.exec(checked.stdout.trimEnd())?.[1]).toBe(NAMES.join(', '));
  }, 120_000);

  test('is compared with the other environments by diff:envs, and differs from prod-eks as only an environment may', () => {
    const all = run(dir, ['speed/tsrun.js', 'lib/commands/diff-envs.ts']);
    expect(all.stderr).toBe('');
    expect(all.stdout).toMatch(/staging-eks/);
    expect(all.status).toBe(0);
    const pair = run(dir, ['speed/tsrun.js', 'lib/commands/diff-envs.ts', '--env', 'prod-eks,staging-eks']);
    expect(pair.stdout).toMatch(/staging-eks/);
    expect(pair.status).toBe(0);
  }, 120_000);

  test('is explained like any environment', () => {
    const explained = run(dir, ['speed/tsrun.js', 'lib/commands/explain.ts', '--env', 'staging-eks', '--json']);
    expect(explained.stderr).toBe('');
    expect(explained.status).toBe(0);
    expect(JSON.stringify(JSON.parse(explained.stdout))).toMatch(/"staging-eks"/);
  }, 60_000);

  test('is an environment deploy --env accepts; deploy stops at the kubeconfig, before any cluster', () => {
    // An empty kubeconfig: no context, no cluster to reach, whatever the machine's own says.
    const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-kubeconfig-')), 'config');
    copies.push(path.dirname(kubeconfig));
    fs.writeFileSync(kubeconfig, '');
    const typo = run(dir, ['speed/tsrun.js', 'lib/commands/deploy.ts', '--env', 'staging-ek'], {
      KUBECONFIG: kubeconfig,
    });
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('"staging-ek"');
    expect(typo.stderr).toContain(NAMES.join(', '));
    const deploy = run(dir, ['speed/tsrun.js', 'lib/commands/deploy.ts', '--env', 'staging-eks'], {
      KUBECONFIG: kubeconfig,
    });
    expect(deploy.status).not.toBe(0);
    expect(deploy.output).not.toMatch(/not an environment|unknown environment/);
    expect(deploy.output).not.toMatch(/serverside-applied|configured|created/);
  }, 60_000);

  test('and no file but the new one was added or changed by any of it', () => {
    expect(sources(dir)).toEqual(before);
    expect([...before.keys()].filter((file) => !fs.existsSync(path.join(ROOT, file)))).toEqual([
      'lib/environments/staging-eks.ts',
    ]);
  });
});

describe("a copy whose name was left as the original's", () => {
  test('stops the synth, naming both files, the field and the value, and writes nothing', () => {
    const dir = copyWithStaging((text) => text);
    const out = path.join(dir, 'dist');
    fs.mkdirSync(path.join(out, 'prod-eks'), { recursive: true });
    fs.writeFileSync(path.join(out, 'prod-eks', '10-web.yaml'), 'previous');
    const synth = run(dir, ['bin/synth.js']);
    expect(synth.status).toBe(1);
    expect(synth.stderr).toContain(
      'lib/environments/prod-eks.ts and lib/environments/staging-eks.ts: name: Duplicate value: "prod-eks"',
    );
    expect(synth.stderr).toContain(
      'lib/environments/staging-eks.ts: name: Invalid value: "prod-eks": an environment\'s name is its file\'s name, "staging-eks"',
    );
    expect(synth.stderr).not.toMatch(/^\s+at /m);
    expect(synth.stdout).toBe('');
    expect(fs.readdirSync(out)).toEqual(['prod-eks']);
    expect(fs.readFileSync(path.join(out, 'prod-eks', '10-web.yaml'), 'utf8')).toBe('previous');
  }, 60_000);

  test('an environment exported without a default export is refused, not left out', () => {
    const dir = copyWithStaging((text) =>
      text
        .replace("  name: 'prod-eks',\n", "  name: 'staging-eks',\n")
        .replace(/\n\/\/ This file is an environment.*\nexport default prodEks;\n$/, '\n'),
    );
    expect(fs.readFileSync(path.join(dir, 'lib', 'environments', 'staging-eks.ts'), 'utf8')).not.toMatch(
      /export default/,
    );
    const synth = run(dir, ['bin/synth.js']);
    expect(synth.status).toBe(1);
    expect(synth.stderr).toContain(
      'lib/environments/staging-eks.ts: exports an environment as "prodEks" but has no default export, so it is not rendered: add `export default prodEks;`',
    );
  }, 60_000);
});
