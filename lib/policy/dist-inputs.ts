/** Reads dist/<env>/*.yaml back into check inputs, with each environment's Kubernetes version. */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../environments';
import type { ManifestInput } from './types';

/** Every object under dist/<env>/, with the environment's Kubernetes version. */
export function readDist(dist: string): ManifestInput[] {
  const inputs: ManifestInput[] = [];
  for (const environment of fs.readdirSync(dist).sort()) {
    const kubernetesVersion = (ENVIRONMENTS as Record<string, { kubernetesVersion: string }>)[environment]?.kubernetesVersion;
    if (!kubernetesVersion) continue;
    for (const file of fs.readdirSync(path.join(dist, environment)).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const document of YAML.parseAllDocuments(fs.readFileSync(path.join(dist, environment, file), 'utf8'))) {
        const object = document.toJS();
        if (object) inputs.push({ environment, kubernetesVersion, file, object });
      }
    }
  }
  return inputs;
}
