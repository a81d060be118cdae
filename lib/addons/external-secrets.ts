import { z } from 'zod';
import {
  addonNamespace,
  defineAddon,
  ReplicasSchema,
  ResourcesSchema,
  setFlag,
  setReplicas,
  setResources,
} from './definition';

/**
 * External Secrets Operator (https://external-secrets.io): turns each ExternalSecret into a Secret
 * read from the cloud's secret manager, through the ClusterSecretStore the platform renders. The
 * store reads as its own ServiceAccount (secret-store-reader, lib/platform/secret-store.ts), which
 * carries the cloud identity, so the operator's own ServiceAccount needs none. Upstream's chart already
 * runs every pod as "restricted" asks.
 */
const Settings = z.strictObject({
  /** Replicas of the controller; only the leader reconciles. @default upstream's 1 */
  replicas: ReplicasSchema.optional(),
  /**
   * Replicas of the webhook, which the API server calls for every ExternalSecret and store: while
   * none answers, none can be created or changed. @default upstream's 1
   */
  webhookReplicas: ReplicasSchema.optional(),
  /** The controller's requests and limits. @default upstream's: none */
  resources: ResourcesSchema.optional(),
  /** The controller's --loglevel. @default upstream's "info" */
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'external-secrets',
  namespace: 'external-secrets',
  podSecurity: 'restricted',
  settings: Settings,
  apply(objects, settings) {
    const field = (s: string) => `addons.external-secrets.${s}`;
    addonNamespace(objects, 'external-secrets', 'restricted');
    setReplicas(objects, 'external-secrets', settings.replicas, field('replicas'));
    setReplicas(objects, 'external-secrets-webhook', settings.webhookReplicas, field('webhookReplicas'));
    setResources(objects, 'Deployment', 'external-secrets', 'external-secrets', settings.resources, field('resources'));
    setFlag(
      objects,
      'Deployment',
      'external-secrets',
      'external-secrets',
      '--loglevel',
      settings.logLevel,
      field('logLevel'),
    );
  },
});
