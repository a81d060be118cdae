/**
 * The guardrail checks' share of synth time, in one process: render the four environments with
 * lib/synth/render.ts, then run lib/policy's checkManifests() over lib/synth/synth.ts's checkInputs(), as
 * synthesize() does before it writes dist/. The first iteration is what a synth pays (cold:
 * schemas compiled, code not yet optimised); later iterations show the steady state.
 * Prints one JSON line.
 *
 * Usage: node speed/tsrun.js bench/checks/entry.ts <iterations>
 */
import { performance } from 'perf_hooks';
import { environmentNames, selectEnvironments } from '../../lib/environments';
import { peopleGroupsByEnvironment } from '../../lib/environments/people';
import { checkManifests } from '../../lib/policy';
import { renderEnvironment } from '../../lib/synth/render';
import { checkInputs } from '../../lib/synth/synth';

const iterations = Number(process.argv[2] ?? '1');
const environments = selectEnvironments(environmentNames());
const renderMs: number[] = [];
const checksMs: number[] = [];
let objects = 0;
let findings = 0;
for (let i = 0; i < iterations; i++) {
  const t0 = performance.now();
  const rendered = environments.map(renderEnvironment);
  const t1 = performance.now();
  // Exactly what synthesize() hands the checks.
  const inputs = checkInputs(rendered);
  findings = checkManifests(inputs, { peopleGroups: peopleGroupsByEnvironment(environments) }).length;
  const t2 = performance.now();
  renderMs.push(t1 - t0);
  checksMs.push(t2 - t1);
  objects = inputs.length;
}
console.log(JSON.stringify({ objects, findings, renderMs, checksMs }));
