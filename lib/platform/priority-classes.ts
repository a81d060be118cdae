import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';

/**
 * The PriorityClass names pods ask for in spec.priorityClassName. When a node is full, the scheduler
 * evicts pods of a lower class to place one of a higher class (Pod Priority and Preemption,
 * https://kubernetes.io/docs/concepts/scheduling-eviction/pod-priority-preemption/): the database outranks the stateless services, which outrank batch work.
 */
export const PRIORITY_CLASSES = {
  /** db: the state everything else depends on; preempts anything below it. */
  database: 'lab-to-prod-database',
  /** web, api, sandboxed: the stateless services users talk to. */
  service: 'lab-to-prod-service',
  /** The migration Job and the backup CronJob: can wait, and never evicts anyone to run. */
  batch: 'lab-to-prod-batch',
} as const;

/** What each class is worth to the scheduler. Far below system-cluster-critical (2000000000). */
const PRIORITY_VALUES: Record<keyof typeof PRIORITY_CLASSES, number> = {
  database: 100000,
  service: 10000,
  batch: 1000,
};

const DESCRIPTIONS: Record<keyof typeof PRIORITY_CLASSES, string> = {
  database: 'lab-to-prod: databases; scheduled before the services that depend on them.',
  service: 'lab-to-prod: stateless services (web, api).',
  batch: 'lab-to-prod: jobs and cron jobs; waits for room, never preempts.',
};

/** The three PriorityClasses (cluster-scoped). None is the cluster default: pods opt in by name. */
export class PriorityClasses extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    for (const key of Object.keys(PRIORITY_CLASSES) as (keyof typeof PRIORITY_CLASSES)[]) {
      const name = PRIORITY_CLASSES[key];
      new k8s.KubePriorityClass(this, key, {
        metadata: { name, labels: recommendedLabels({ name, component: 'platform', version: PROJECT_VERSION }) },
        value: PRIORITY_VALUES[key],
        globalDefault: false,
        // Batch work waits in the queue instead of evicting running pods.
        preemptionPolicy: key === 'batch' ? 'Never' : 'PreemptLowerPriority',
        description: DESCRIPTIONS[key],
      });
    }
  }
}
