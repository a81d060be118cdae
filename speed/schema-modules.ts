/**
 * Loads the generated validators in generated/validators/ on first use, each
 * module only when an object needs it.
 *
 * The folder is found by walking up from this module: under jest __dirname is
 * speed/, but speed/tsrun.js and the validation plugin bundle the checks into
 * one in-memory module whose __dirname is the entry point's folder. The large
 * generated modules are required from disk, never copied into a bundle.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import Module from 'module';
import * as path from 'path';
import * as vm from 'vm';

export interface AjvError {
  instancePath: string;
  keyword: string;
  params: any;
  message?: string;
}
export interface Validator {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}

export interface Catalogue {
  kubernetes: Record<string, { checked: string[]; known: string[] }>;
  crds: Record<string, { module: string; scope: string }>;
}

function findSchemaDir(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      for (const candidate of [path.join(dir, 'generated', 'validators')]) {
        if (fs.existsSync(path.join(candidate, 'catalogue.json'))) return candidate;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`generated/validators/catalogue.json not found above ${__dirname} or ${process.cwd()}`);
}

const SCHEMA_DIR = findSchemaDir();
export const catalogue: Catalogue = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, 'catalogue.json'), 'utf8'));

/**
 * V8 code cache. Parsing the generated modules and compiling their validators
 * on first use is most of what the checks cost in a fresh process; V8 can save
 * that work (bytecode of every function compiled so far) and reuse it. We save
 * it after a check has run, so the next synth skips both. The cache lives in
 * node_modules/.cache (never committed), is keyed by the module's content and
 * the Node version, and is only a speed-up: without it, or if V8 rejects it,
 * the modules compile as usual. Results never depend on it. What this relies
 * on in Node and V8, and its tests: speed/README.md.
 */
const CACHE_DIR =
  process.env.LAB_TO_PROD_POLICY_CACHE ??
  path.join(SCHEMA_DIR, '..', '..', 'node_modules', '.cache', 'lab-to-prod-policy');

interface LoadedModule {
  exports: Record<string, Validator>;
  script: vm.Script;
  cacheFile: string;
  cached: boolean;
}
const loaded = new Map<string, LoadedModule>();

export function loadValidators(moduleFile: string): Record<string, Validator> {
  let module = loaded.get(moduleFile);
  if (!module) {
    const file = path.join(SCHEMA_DIR, moduleFile);
    const source = fs.readFileSync(file, 'utf8');
    const key = crypto
      .createHash('sha256')
      .update(`${process.version} ${process.arch}\n`)
      .update(source)
      .digest('hex')
      .slice(0, 16);
    const cacheFile = path.join(CACHE_DIR, `${moduleFile}.${key}.v8cache`);
    const cachedData = readIfExists(cacheFile);
    const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
    const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
    const exports = {};
    const moduleObject = { exports };
    wrapper.call(exports, exports, Module.createRequire(file), moduleObject, file, SCHEMA_DIR);
    module = {
      exports: moduleObject.exports,
      script,
      cacheFile,
      cached: cachedData !== undefined && !script.cachedDataRejected,
    };
    loaded.set(moduleFile, module);
  }
  return module.exports;
}

function readIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Saves the code cache of modules that had none; called after a check, when the validators used are compiled. */
export function saveCompileCache(): void {
  for (const module of loaded.values()) {
    if (module.cached) continue;
    try {
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const temporary = `${module.cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, module.script.createCachedData());
      fs.renameSync(temporary, module.cacheFile); // atomic: a concurrent reader sees all or nothing
      module.cached = true;
    } catch {
      // A read-only checkout only loses the speed-up.
    }
  }
}
