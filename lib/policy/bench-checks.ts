/**
 * Measures what the checks cost: module load (including the generated
 * validators they need) and one run over dist/<env>/*.yaml of every
 * environment, and prints the report. A benchmark, not a test: timings are
 * never asserted. Run: node bin/tsrun.js lib/policy/bench-checks.ts [dist]
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ENVIRONMENTS } from '../environments';
import type { ManifestInput } from './types';

const started = process.hrtime.bigint();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const policy: typeof import('./index') = require('./index');
const loaded = process.hrtime.bigint();

const dist = process.argv[2] ?? 'dist';
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
const parsed = process.hrtime.bigint();
const findings = policy.checkManifests(inputs);
const checked = process.hrtime.bigint();
const ms = (a: bigint, b: bigint) => (Number(b - a) / 1e6).toFixed(1);
console.log(policy.formatReport(findings));
console.log(`\n${inputs.length} objects; load ${ms(started, loaded)} ms, first check ${ms(parsed, checked)} ms, total ${(Number(loaded - started + checked - parsed) / 1e6).toFixed(1)} ms (YAML parsing excluded)`);
const again = process.hrtime.bigint();
policy.checkManifests(inputs);
console.log(`second check (warm) ${ms(again, process.hrtime.bigint())} ms`);
