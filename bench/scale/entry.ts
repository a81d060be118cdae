/**
 * One scale measurement, in its own process: render the lab environment of the generated app
 * (N web workloads, see app.ts) through lib/synth/render.ts, write it with lib/synth/write-dist.ts as the synth
 * does, and print one JSON line: phase times, peak memory, what was written.
 */
import { performance } from 'perf_hooks';
import { selectEnvironments } from '../../lib/environments';
import { App } from 'cdk8s';
import { renderChart } from '../../lib/synth/render';
import { writeDistAtomically } from '../../lib/synth/write-dist';
import { exitWhenWritten } from '../../speed/exit';
import { buildEnvironment, workloadCount } from './app';

const [outdir] = process.argv.slice(2);
if (!outdir) {
  throw new Error('usage: BENCH_WORKLOADS=<N> node speed/tsrun.js bench/scale/entry.ts <outdir>');
}
const count = workloadCount();
const [env] = selectEnvironments(['lab']);

// performance.now() counts from process start: this includes Node's start and the esbuild bundle.
const started = performance.now();
const rendered = renderChart(env, buildEnvironment(new App({ outdir: 'unused' }), env));
const renderedAt = performance.now();
writeDistAtomically(outdir, new Map([[env.name, rendered.files]]));
const writtenAt = performance.now();

// One file per generated workload (NN-web-<i>.yaml): proves the generated app, not lib/synth/app.ts, was rendered.
const workloadFiles = [...rendered.files.keys()].filter((f) => /^\d+-web-\d+\.yaml$/.test(f)).length;
if (workloadFiles !== count) {
  throw new Error(
    `expected ${count} web-<i> files for ${count} workloads, got ${workloadFiles}: is the generated app in place?`,
  );
}
let bytes = 0;
for (const text of rendered.files.values()) {
  bytes += Buffer.byteLength(text);
}
console.log(
  JSON.stringify({
    workloads: count,
    objects: rendered.objects.length,
    files: rendered.files.size,
    bytes,
    startupMs: started,
    renderMs: renderedAt - started,
    writeMs: writtenAt - renderedAt,
    maxRssKiB: process.resourceUsage().maxRSS,
  }),
);
// As the synth ends (main.ts).
exitWhenWritten();
