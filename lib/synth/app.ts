import { App, Chart } from 'cdk8s';
import { ADDONS } from '../addons';
import { Environment } from '../environment';
import { validateEnvironment } from '../environments/validate';
import { inConstruct } from '../k8s/validation';
import { Platform } from '../platform/platform';
import { appNamespaces, WORKLOADS } from '../workloads';
import { WebProps } from '../workloads/web';

/** Props of the workloads that an environment does not decide; the synth gives none. */
export interface WorkloadOptions {
  /** The real-node test's rolling update changes web's nginx.conf through these (test/node-lab.ts). */
  readonly web?: Pick<WebProps, 'responseHeaders'>;
}

/**
 * One environment's objects: a chart named after the environment, holding the platform first and
 * then one construct per workload of the registry (lib/workloads/index.ts), in its order, each where
 * the environment runs it. Construct paths read `lab/web/Deployment`, and each top-level construct
 * renders into its own file (see render.ts). Nothing here names a workload: adding one is adding its
 * file to the registry.
 */
export function buildEnvironment(app: App, env: Environment, options: WorkloadOptions = {}): Chart {
  validateEnvironment(env, { workloads: WORKLOADS, addons: ADDONS });
  const chart = new Chart(app, env.name, { disableResourceNameHashes: true });
  // An exception in a construct's code names the construct it came from (`lab/web: TypeError: ...`).
  const part = (id: string, build: (id: string) => unknown): void => {
    inConstruct(`${chart.node.path}/${id}`, () => build(id));
  };
  // Each app in its own namespace, named after it.
  part('platform', (id) => new Platform(chart, id, { env, appNamespaces: appNamespaces() }));
  for (const workload of WORKLOADS.filter((w) => w.runsIn(env))) {
    const given = (options as Record<string, object | undefined>)[workload.name];
    part(workload.name, (id) => workload.build(chart, id, env, given));
  }
  return chart;
}
