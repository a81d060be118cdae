/**
 * The scale benchmark's generated app: the same shape as lib/synth/app.ts's buildEnvironment (one chart
 * named after the environment, the platform first, then one construct per workload), with N copies
 * of the web workload, `web-0` … `web-<N-1>`, each in its own namespace. N comes from BENCH_WORKLOADS.
 * bench/scale/entry.ts renders it with lib/synth/render.ts's renderChart, as the synth renders lib/synth/app.ts's.
 */
import { App, Chart } from 'cdk8s';
import { Environment } from '../../lib/environment';
import { validateEnvironment } from '../../lib/environments/validate';
import { Platform } from '../../lib/platform/platform';
import { Web } from '../../lib/workloads/web';

export function workloadCount(): number {
  const count = Number(process.env.BENCH_WORKLOADS);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`BENCH_WORKLOADS: Invalid value: "${process.env.BENCH_WORKLOADS ?? ''}": a whole number >= 1`);
  }
  return count;
}

export function buildEnvironment(app: App, env: Environment): Chart {
  validateEnvironment(env);
  const chart = new Chart(app, env.name, { disableResourceNameHashes: true });
  const names = Array.from({ length: workloadCount() }, (_, i) => `web-${i}`);
  // Each generated namespace is bound to the web namespace's groups, as a team running many web apps would be.
  const people = {
    ...env.identity.people,
    groups: Object.fromEntries(names.map((name) => [name, env.identity.people.groups.web])),
  };
  new Platform(chart, 'platform', { env: { ...env, identity: { ...env.identity, people } }, appNamespaces: names });
  for (const name of names) {
    new Web(chart, name, { env, name });
  }
  return chart;
}
