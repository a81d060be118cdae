/**
 * Every command of package.json, as people type it: `--help` prints its usage and exits 0; an
 * unknown option is refused with exit status 2, naming it and listing the options; and the
 * command-line mistakes that used to end in a bare Node error (EEXIST, TypeError) are said plainly.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
const SCRIPTS: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

/** The scripts that run one node program: name → its arguments after `node`. */
const NODE_COMMANDS = Object.entries(SCRIPTS)
  .filter(([, command]) => /^node \S+( \S+)?$/.test(command))
  .map(([name, command]) => [name, command.split(' ').slice(1)] as const);

/** Commands whose --help is tested elsewhere: none (deploy reads its command line with lib/commands/command-line.ts too). */
const HELP_ELSEWHERE: string[] = [];

/** Every command reads its command line with lib/commands/command-line.ts. */
const STANDARD_COMMAND_LINE = NODE_COMMANDS.map(([name]) => name);

function run(program: readonly string[], args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [...program, ...args], { cwd: ROOT, encoding: 'utf8', env });
}

function programOf(name: string): readonly string[] {
  const found = NODE_COMMANDS.find(([n]) => n === name);
  if (!found) throw new Error(`package.json has no node command "${name}"`);
  return found[1];
}

test.each(NODE_COMMANDS.filter(([name]) => !HELP_ELSEWHERE.includes(name)))(
  'npm run %s -- --help: the usage, exit 0',
  (name, program) => {
    const result = run(program, ['--help']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(new RegExp(`^usage: npm run (-s )?${name}\\b`));
    expect(result.status).toBe(0);
  },
  60000,
);

test.each(STANDARD_COMMAND_LINE)(
  'npm run %s -- --no-such-option: refused, the options listed, exit 2',
  (name) => {
    const result = run(programOf(name), ['--no-such-option']);
    expect(result.stderr).toMatch(
      new RegExp(
        `^${name}: unknown option "--no-such-option"; (the options are --\\S+(, --\\S+)*, --help|the command takes no options but --help)\\n\\nusage: npm run (-s )?${name}\\b`,
      ),
    );
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  },
  60000,
);

test('npm run synth -- --out <dir> (for --outdir): refused with the options, exit 2, nothing written', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'commands-'));
  try {
    const result = run(programOf('synth'), ['--out', path.join(scratch, 'out')]);
    expect(result.stderr.split('\n')[0]).toBe(
      'synth: unknown option "--out"; the options are --env, --verbose, --outdir, --help',
    );
    expect(result.stderr).not.toContain('TypeError');
    expect(result.status).toBe(2);
    expect(fs.readdirSync(scratch)).toEqual([]);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}, 60000);

test('npm run synth -- --outdir <a file>, or a folder inside a file: says so before rendering, exit 2, the file untouched', () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'commands-'));
  const file = path.join(scratch, 'notes.txt');
  fs.writeFileSync(file, 'mine\n');
  try {
    const onFile = run(programOf('synth'), ['--outdir', file]);
    expect(onFile.stderr).toBe(
      `synth: --outdir "${file}" is a file, not a folder; name a folder (it is made if missing)\n` +
        'synth failed; the output folder was left as it was.\n',
    );
    expect(onFile.status).toBe(2);

    const inside = run(programOf('synth'), [`--outdir=${path.join(file, 'dist')}`]);
    expect(inside.stderr.split('\n')[0]).toBe(
      `synth: --outdir "${path.join(file, 'dist')}": "${file}" is a file, so no folder can be made in it; name a folder`,
    );
    expect(inside.status).toBe(2);

    // cdk8s synth names the folder through LAB_TO_PROD_DIST; the message says where the path came from.
    const fromEnvironment = run(programOf('synth'), [], { ...process.env, LAB_TO_PROD_DIST: file });
    expect(fromEnvironment.stderr.split('\n')[0]).toBe(
      `synth: LAB_TO_PROD_DIST "${file}" is a file, not a folder; name a folder (it is made if missing)`,
    );
    expect(fromEnvironment.status).toBe(2);

    expect(fs.readdirSync(scratch)).toEqual(['notes.txt']);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine\n');
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}, 60000);

test('npm run diff:envs: one summary line when every difference is explained; --verbose prints the report', () => {
  const quiet = run(programOf('diff:envs'), []);
  expect(quiet.stderr).toBe('');
  expect(quiet.stdout).toMatch(
    /^diff:envs: \d+ environments \([a-z0-9-]+(, [a-z0-9-]+)+\), \d+ objects, \d+ differences in \d+ areas?, none unexpected; --verbose for the report\n$/,
  );
  expect(quiet.status).toBe(0);

  const verbose = run(programOf('diff:envs'), ['--verbose']);
  expect(verbose.stdout).toMatch(/^Compared /);
  expect(verbose.stdout).toContain('OK: every difference belongs to an area.');
  expect(verbose.status).toBe(0);
}, 60000);
