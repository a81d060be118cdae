/**
 * Every environment this project renders, found in this folder: adding an environment is adding one
 * file here, and every command and test (the Go cluster tests too, through lib/commands/environments.ts)
 * takes the list from here.
 *
 * An environment file is a `.ts` file in lib/environments/ whose default export is the environment
 * (`export default prodEks;`); its name is the file's name and its folder under dist/ (prod-eks.ts
 * renders dist/prod-eks/). The other files here are helpers (validate.ts, people.ts, ...): they have no
 * default export. Tests (`*.test.ts`) and this file are never loaded as environments.
 *
 * Two files that claim one name, or a file whose `name:` is not its file's name, would render one
 * over the other in dist/: the first use of the environments stops with an error naming both files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Environment } from '../environment';

const THIS_FOLDER = 'lib/environments';

/**
 * This folder on disk. Under jest, ts-node and tsx, __dirname is this folder; speed/tsrun.js bundles the
 * project into one script whose __dirname is the entry point's folder (the project root, lib/commands/,
 * bench/...), so from there the folder is found above it.
 */
function environmentsFolder(): string {
  const isThisFolder = (dir: string) =>
    fs.existsSync(path.join(dir, 'index.ts')) && dir.endsWith(path.join(...THIS_FOLDER.split('/')));
  if (isThisFolder(__dirname)) {
    return __dirname;
  }
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, ...THIS_FOLDER.split('/'));
      if (isThisFolder(candidate)) {
        return candidate;
      }
      if (path.dirname(dir) === dir) {
        break;
      }
    }
  }
  throw new Error(`${THIS_FOLDER}/ not found above ${__dirname} or ${process.cwd()}`);
}

/** The files that may hold an environment: every .ts file here but tests and this one, by name. */
function candidateFiles(folder: string): string[] {
  return fs
    .readdirSync(folder, { withFileTypes: true })
    .filter(
      (e) =>
        e.isFile() &&
        e.name.endsWith('.ts') &&
        !e.name.endsWith('.test.ts') &&
        !e.name.endsWith('.d.ts') &&
        e.name !== 'index.ts',
    )
    .map((e) => e.name)
    .sort();
}

/** What an environment file declares: its path (as the messages write it) and its environment. */
export interface EnvironmentFile {
  readonly file: string;
  readonly environment: Environment;
}

/**
 * Loads the environment files. The template string lets esbuild (speed/tsrun.js) bundle every .ts file
 * of this folder and pick one by name at run time; jest, ts-node and tsx resolve it from disk.
 */
function loadEnvironmentFiles(): EnvironmentFile[] {
  const found: EnvironmentFile[] = [];
  for (const name of candidateFiles(environmentsFolder())) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a file found by its name at run time; no static import can name it
    const exports = require(`./${name.slice(0, -'.ts'.length)}.ts`) as Record<string, unknown>;
    const file = `${THIS_FOLDER}/${name}`;
    if (exports.default !== undefined) {
      found.push({ file, environment: exports.default as Environment });
      continue;
    }
    // An environment exported under another name only would be left out without a word.
    const named = Object.keys(exports).find((key) => looksLikeEnvironment(exports[key]));
    if (named !== undefined) {
      throw new Error(
        `${file}: exports an environment as "${named}" but has no default export, so it is not rendered: ` +
          `add \`export default ${named};\` (helper files here export no environment)`,
      );
    }
  }
  return found;
}

function looksLikeEnvironment(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    'name' in value &&
    'kubernetesVersion' in value &&
    'loadBalancing' in value
  );
}

/**
 * Each file's name is its environment's name, and no two files claim one name. Every problem at
 * once, each naming the files involved, the field and the value; nothing is rendered before they are
 * fixed, since dist/<name>/ would hold one environment and report the other.
 */
export function checkEnvironmentFiles(files: readonly EnvironmentFile[]): void {
  const problems: string[] = [];
  const byName = new Map<unknown, string[]>();
  for (const { file, environment } of files) {
    byName.set(environment?.name, [...(byName.get(environment?.name) ?? []), file]);
  }
  for (const [name, claimants] of byName) {
    if (claimants.length > 1) {
      problems.push(
        `${claimants.join(' and ')}: name: Duplicate value: ${JSON.stringify(name)}: each environment needs a name of its own ` +
          `(it is its folder under dist/, and the one would be rendered over the other)`,
      );
    }
  }
  for (const { file, environment } of files) {
    const fileName = path.basename(file, '.ts');
    if (environment?.name !== fileName) {
      const owner = files.find((f) => f.file !== file && path.basename(f.file, '.ts') === environment?.name);
      problems.push(
        `${file}: name: Invalid value: ${JSON.stringify(environment?.name)}: an environment's name is its file's name, "${fileName}"` +
          (owner ? `; ${owner.file} is the environment ${JSON.stringify(environment?.name)}` : '') +
          `. Set name: "${fileName}" in ${file}, or rename the file`,
      );
    }
  }
  if (problems.length > 0) {
    throw new Error(`the environments in ${THIS_FOLDER}/ disagree:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

let discovered: Readonly<Record<string, Environment>> | undefined;

/** The environments by name, found and checked on first use (so that a problem is reported where the caller reports errors). */
function allEnvironments(): Readonly<Record<string, Environment>> {
  if (discovered === undefined) {
    const files = loadEnvironmentFiles();
    checkEnvironmentFiles(files);
    discovered = Object.freeze(Object.fromEntries(files.map(({ environment }) => [environment.name, environment])));
  }
  return discovered;
}

/** The names of every environment, in file-name order (which is the order every command renders them in). */
export function environmentNames(): string[] {
  return Object.keys(allEnvironments());
}

/** The environment of this name; an unknown name is an error listing the valid ones. */
export function environmentNamed(name: string): Environment {
  const environments = allEnvironments();
  if (!Object.hasOwn(environments, name)) {
    throw new Error(
      `unknown environment "${name}": valid environments are ${Object.keys(environments).join(', ')} (one file each in ${THIS_FOLDER}/)`,
    );
  }
  return environments[name];
}

/**
 * Every environment by name, for code that picks one (`ENVIRONMENTS['prod-aks']`) or walks them all
 * (`Object.values(ENVIRONMENTS)`). A name that is not an environment is an error, as with
 * environmentNamed, not undefined; `name in ENVIRONMENTS` asks without one.
 */
export const ENVIRONMENTS: Readonly<Record<string, Environment>> = new Proxy(
  {},
  {
    get: (_target, key) => {
      if (typeof key === 'string' && (Object.hasOwn(allEnvironments(), key) || !(key in Object.prototype))) {
        return environmentNamed(key);
      }
      // What every object answers (toString, a symbol such as Symbol.iterator asked by a library).
      return Reflect.get(Object.prototype, key) as unknown;
    },
    has: (_target, key) => typeof key === 'string' && Object.hasOwn(allEnvironments(), key),
    ownKeys: () => Object.keys(allEnvironments()),
    getOwnPropertyDescriptor: (_target, key) =>
      typeof key === 'string' && Object.hasOwn(allEnvironments(), key)
        ? { value: allEnvironments()[key], enumerable: true, writable: false, configurable: true }
        : undefined,
  },
);

/** The environments named, in the order given; an unknown name is an error listing the valid ones. */
export function selectEnvironments(names: readonly string[]): Environment[] {
  return names.map(environmentNamed);
}
