import { App, Chart } from 'cdk8s';
import { Environment } from '../environment';
import { validateEnvironment } from '../environments/validate';
import { inConstruct } from '../k8s/validation';
import { Platform } from '../platform/platform';
import { Api } from '../workloads/api';
import { Batch } from '../workloads/batch';
import { Db } from '../workloads/db';
import { EtcdBackup } from '../workloads/etcd-backup';
import { Sandboxed } from '../workloads/sandboxed';
import { Web, WebProps } from '../workloads/web';

/** Props of the workloads that an environment does not decide; the synth gives none. */
export interface WorkloadOptions {
  /** The real-node test's rolling update changes web's nginx.conf through these (test/node-lab.ts). */
  readonly web?: Pick<WebProps, 'responseHeaders'>;
}

/**
 * One environment's objects: a chart named after the environment, holding the platform first and
 * then one construct per workload. Construct paths read `lab/web/Deployment`, and each top-level
 * construct renders into its own file (see synth.ts).
 */
export function buildEnvironment(app: App, env: Environment, options: WorkloadOptions = {}): Chart {
  validateEnvironment(env);
  const chart = new Chart(app, env.name, { disableResourceNameHashes: true });
  // An exception in a construct's code names the construct it came from (`lab/web: TypeError: ...`).
  const part = (id: string, build: (id: string) => unknown): void => {
    inConstruct(`${chart.node.path}/${id}`, () => build(id));
  };
  // Each app in its own namespace, named after it.
  const workloads = ['web', 'api', 'db', 'batch', 'sandboxed'];
  part('platform', (id) => new Platform(chart, id, { env, appNamespaces: workloads }));
  part('web', (id) => new Web(chart, id, { env, ...options.web }));
  part('api', (id) => new Api(chart, id, { env }));
  part('db', (id) => new Db(chart, id, { env }));
  part('batch', (id) => new Batch(chart, id, { env }));
  part('sandboxed', (id) => new Sandboxed(chart, id, { env }));
  // etcd is ours to back up only where the control plane is ours: a kubeadm cluster (the lab).
  if (env.bootstrap !== undefined) {
    part('etcd-backup', (id) => new EtcdBackup(chart, id, { env }));
  }
  return chart;
}
