/**
 * Checks the committed dist/<env>/*.yaml with the same rules the synth runs,
 * prints the report and exits 1 on any unwaived error.
 * Run: node bin/tsrun.js lib/policy/check-dist.ts [dist]
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../environments';
import { checkManifests, formatReport, hasErrors } from './index';
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

if (require.main === module) {
  const findings = checkManifests(readDist(process.argv[2] ?? 'dist'));
  console.log(formatReport(findings));
  if (hasErrors(findings)) process.exitCode = 1;
}
