/** Reads dist/<env>/ back into check inputs, with each environment's Kubernetes version. */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../environments';
import type { ManifestInput } from './types';

/**
 * Every object under dist/<env>/ that `kubectl apply -R -f dist/<env>/` would send: every document of
 * every .yaml, .yml and .json file in the folder and its sub-folders (the extensions kubectl reads),
 * with the environment's Kubernetes version. Folders that are not environments are skipped.
 */
export function readDist(dist: string): ManifestInput[] {
  const inputs: ManifestInput[] = [];
  for (const environment of fs.readdirSync(dist).sort()) {
    const kubernetesVersion = environment in ENVIRONMENTS ? ENVIRONMENTS[environment].kubernetesVersion : undefined;
    if (!kubernetesVersion) continue;
    inputs.push(...readFolder(path.join(dist, environment), environment, kubernetesVersion));
  }
  return inputs;
}

/** Every object of one folder that `kubectl apply -R -f <folder>` would send, as the environment's. */
export function readFolder(folder: string, environment: string, kubernetesVersion: string): ManifestInput[] {
  const inputs: ManifestInput[] = [];
  const files = fs
    .readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ya?ml|json)$/.test(f) && fs.statSync(path.join(folder, f)).isFile())
    .sort();
  for (const file of files) {
    for (const document of YAML.parseAllDocuments(fs.readFileSync(path.join(folder, file), 'utf8'))) {
      const object = document.toJS();
      if (object) inputs.push({ environment, kubernetesVersion, file, object });
    }
  }
  return inputs;
}
