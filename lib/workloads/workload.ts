import { Construct } from 'constructs';
import { z } from 'zod';
import { Environment } from '../environment';

/**
 * What the synth needs to know of a workload, declared in the workload's own file beside its
 * construct: its name, its scale (the schema and the defaults every environment starts from) and how
 * to build it. The registry (index.ts) lists these, and everything generic reads it instead of naming
 * workloads: the app (lib/synth/app.ts), the app namespaces of the platform, the validation of each
 * environment's `scale`, the editors' JSON Schema.
 */
export interface WorkloadDefinition<S extends object> {
  /**
   * The workload's name: its construct's id (construct paths read `lab/web/...`), its file in dist/
   * (`10-web.yaml`), its field in an environment's `scale` and, for an app, its namespace.
   */
  readonly name: string;

  /**
   * Whether it is an app with a namespace of its own, made by the platform (Pod Security
   * "restricted", quota, default-deny, people's access). etcd-backup is not: it runs where etcd is,
   * in kube-system.
   * @default true
   */
  readonly appNamespace?: boolean;

  /**
   * Whether an environment runs it at all.
   * @default every environment
   */
  readonly runsIn?: (env: Environment) => boolean;

  /**
   * Its size: the schema an environment's scale for it must satisfy (lib/environment.ts has the
   * usual kinds) and its defaults, which are production's figures, so that the workload is
   * production-grade wherever an environment says nothing. An environment's `scale.<name>` holds
   * only what differs. A workload whose size no environment sets has none (etcd-backup).
   */
  readonly scale?: { readonly schema: z.ZodType; readonly defaults: S };

  /**
   * Adds the workload's construct to `scope`. The construct finds its own scale in `env`
   * (workloadScaleIn: these defaults with the environment's changes); `options` are props no
   * environment decides, which only tests give (the real-node test's nginx.conf change).
   */
  readonly build: (scope: Construct, id: string, env: Environment, options?: object) => Construct;
}

/** A workload as the registry holds it, whatever the type of its scale. */
export interface Workload {
  readonly name: string;
  readonly appNamespace: boolean;
  readonly runsIn: (env: Environment) => boolean;
  readonly scale?: { readonly schema: z.ZodType; readonly defaults: object };
  readonly build: (scope: Construct, id: string, env: Environment, options?: object) => Construct;
}

/** A workload's entry for the registry, its defaults filled in. */
export function defineWorkload<S extends object>(definition: WorkloadDefinition<S>): Workload {
  return {
    ...definition,
    appNamespace: definition.appNamespace ?? true,
    runsIn: definition.runsIn ?? (() => true),
  };
}
