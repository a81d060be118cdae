import { z } from 'zod';
import { defineAddon, meetRestricted, ResourcesSchema, setFlag, setResources } from './definition';

/**
 * The Prometheus Operator (https://prometheus-operator.dev): runs Prometheus from the Prometheus,
 * ServiceMonitor and PrometheusRule objects the workloads and the platform render. Upstream's bundle
 * (bundle.yaml) is the operator and its CRDs, in the namespace "default", where it puts them.
 */
const Settings = z.strictObject({
  /** The operator's requests and limits. @default upstream's */
  resources: ResourcesSchema.optional(),
  /** The operator's --log-level. @default upstream's "info" */
  logLevel: z.enum(['all', 'debug', 'info', 'warn', 'error', 'none']).optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'prometheus-operator',
  namespace: 'default',
  podSecurity: 'restricted',
  settings: Settings,
  apply(objects, settings) {
    const field = (s: string) => `addons.prometheus-operator.${s}`;
    setResources(
      objects,
      'Deployment',
      'prometheus-operator',
      'prometheus-operator',
      settings.resources,
      field('resources'),
    );
    setFlag(
      objects,
      'Deployment',
      'prometheus-operator',
      'prometheus-operator',
      '--log-level',
      settings.logLevel,
      field('logLevel'),
    );
    // The operator needs no privilege; what "restricted" asks that upstream leaves unset is written.
    meetRestricted(objects, 'Deployment', 'prometheus-operator', 'prometheus-operator');
  },
});
