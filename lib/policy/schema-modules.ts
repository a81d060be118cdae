/**
 * Loads the generated validators in lib/policy/schemas/ on first use, each
 * module only when an object needs it.
 *
 * The folder is found by walking up from this module: under jest __dirname is
 * lib/policy, but bin/tsrun.js and the validation plugin bundle the checks into
 * one in-memory module whose __dirname is the entry point's folder. The large
 * generated modules are required from disk, never copied into a bundle.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface AjvError { instancePath: string; keyword: string; params: any; message?: string }
export interface Validator { (data: unknown): boolean; errors?: AjvError[] | null }

export interface Catalogue {
  kubernetes: Record<string, { checked: string[]; known: string[] }>;
  crds: Record<string, { module: string; scope: string }>;
}

function findSchemaDir(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      for (const candidate of [path.join(dir, 'schemas'), path.join(dir, 'lib', 'policy', 'schemas')]) {
        if (fs.existsSync(path.join(candidate, 'catalogue.json'))) return candidate;
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`lib/policy/schemas/catalogue.json not found above ${__dirname} or ${process.cwd()}`);
}

const SCHEMA_DIR = findSchemaDir();
export const catalogue: Catalogue = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, 'catalogue.json'), 'utf8'));

const loaded = new Map<string, Record<string, Validator>>();
// A plain variable so bundlers leave the call alone and Node resolves it at run time.
const requireAtRunTime: NodeRequire = require;

export function loadValidators(moduleFile: string): Record<string, Validator> {
  let module = loaded.get(moduleFile);
  if (!module) {
    module = requireAtRunTime(path.join(SCHEMA_DIR, moduleFile)) as Record<string, Validator>;
    loaded.set(moduleFile, module);
  }
  return module;
}
