/**
 * The guardrail checks' share of synth time, in one process: render the four environments with
 * lib/render.ts, then run lib/policy's checkManifests() over every object, as the synth does before
 * it writes dist/. The first iteration is what a synth pays (cold: schemas compiled, code not yet
 * optimised); later iterations show the steady state. Prints one JSON line.
 *
 * Usage: node bin/tsrun.js bench/checks/entry.ts <iterations>
 */
import { performance } from 'perf_hooks';
import { ENVIRONMENT_NAMES } from '../../lib/environment';
import { selectEnvironments } from '../../lib/environments';
import { checkManifests, ManifestInput } from '../../lib/policy';
import { renderEnvironment } from '../../lib/render';

const iterations = Number(process.argv[2] ?? '1');
const environments = selectEnvironments(ENVIRONMENT_NAMES);
const renderMs: number[] = [];
const checksMs: number[] = [];
let objects = 0;
let findings = 0;
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  const rendered = environments.map(renderEnvironment);
  const t1 = performance.now();
  const inputs: ManifestInput[] = rendered.flatMap(({ env, objects: list }) => list.map((o) => ({
    environment: env.name,
    kubernetesVersion: env.kubernetesVersion,
    file: o.file,
    object: o.object,
    constructPath: o.constructPath,
  })));
  findings = checkManifests(inputs).length;
  const t2 = performance.now();
  renderMs.push(t1 - t0);
  checksMs.push(t2 - t1);
  objects = inputs.length;
}
console.log(JSON.stringify({ objects, findings, renderMs, checksMs }));
