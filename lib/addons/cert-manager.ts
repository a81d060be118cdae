import { z } from 'zod';
import { Environment } from '../environment';
import { workloadIdentity } from '../parts/workload-identity';
import {
  addonNamespace,
  defineAddon,
  ReplicasSchema,
  ResourcesSchema,
  setFlag,
  setReplicas,
  setResources,
} from './definition';
import { AddonObjects } from './objects';

/**
 * cert-manager (https://cert-manager.io): signs the certificates Ingress objects ask for through the
 * ClusterIssuer the platform renders (the lab's private CA; Let's Encrypt with DNS-01 in production).
 * Upstream's chart already runs every pod as "restricted" asks; the namespace enforces it.
 */
const Settings = z.strictObject({
  /**
   * Replicas of the controller. Only the leader works (leader election in kube-system); a second
   * replica takes over sooner than a rescheduled pod starts. @default upstream's 1
   */
  replicas: ReplicasSchema.optional(),
  /**
   * Replicas of the webhook, which the API server calls for every cert-manager object: while none
   * answers, no Certificate or Issuer can be created or changed. @default upstream's 1
   */
  webhookReplicas: ReplicasSchema.optional(),
  /** The controller's requests and limits. @default upstream's: none */
  resources: ResourcesSchema.optional(),
  /** klog's verbosity of the controller, --v (0 to 6). @default upstream's 2 */
  logVerbosity: z
    .number()
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 6, { message: 'a whole number from 0 to 6' })
    .optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'cert-manager',
  namespace: 'cert-manager',
  podSecurity: 'restricted',
  settings: Settings,
  apply(objects, settings, env) {
    const field = (s: string) => `addons.cert-manager.${s}`;
    addonNamespace(objects, 'cert-manager', 'restricted');
    setReplicas(objects, 'cert-manager', settings.replicas, field('replicas'));
    setReplicas(objects, 'cert-manager-webhook', settings.webhookReplicas, field('webhookReplicas'));
    setResources(
      objects,
      'Deployment',
      'cert-manager',
      'cert-manager-controller',
      settings.resources,
      field('resources'),
    );
    const verbosity = settings.logVerbosity === undefined ? undefined : String(settings.logVerbosity);
    setFlag(objects, 'Deployment', 'cert-manager', 'cert-manager-controller', '--v', verbosity, field('logVerbosity'));
    dnsIdentity(objects, env);
  },
});

/**
 * Production answers ACME's DNS-01 challenge by writing a record into the cloud's DNS zone, as the
 * controller's workload identity (no key in a Secret): the controller's ServiceAccount carries the
 * annotations the cloud's token exchange reads (lib/parts/workload-identity.ts), named like every
 * workload's (`<roleNamePrefix>cert-manager`, `cert-manager-workload@<project>`). On Azure the identity is
 * the managed identity the DNS-01 solver names, and the pods opt in to the workload identity webhook.
 * https://cert-manager.io/docs/configuration/acme/dns01/route53/ (IRSA),
 * https://cert-manager.io/docs/configuration/acme/dns01/google/ (Workload Identity),
 * https://cert-manager.io/docs/configuration/acme/dns01/azuredns/ (Microsoft Entra Workload ID)
 */
function dnsIdentity(objects: AddonObjects, env: Environment): void {
  const certificates = env.loadBalancing.ingress.certificates;
  if (certificates.kind !== 'acme') return;
  const field = 'loadBalancing.ingress.certificates.dns01';
  const identity =
    certificates.dns01.provider === 'azure-dns' && env.identity.provider === 'azure-workload-identity'
      ? workloadIdentity(
          {
            ...env.identity,
            clientIds: { ...env.identity.clientIds, 'cert-manager': certificates.dns01.managedIdentityClientId },
          },
          'cert-manager',
        )
      : workloadIdentity(env.identity, 'cert-manager');
  const account = objects.find('ServiceAccount', 'cert-manager', field, certificates.dns01.provider);
  if (account !== undefined && Object.keys(identity.serviceAccountAnnotations).length > 0) {
    account.metadata.annotations = { ...account.metadata.annotations, ...identity.serviceAccountAnnotations };
  }
  const controller = objects.find('Deployment', 'cert-manager', field, certificates.dns01.provider);
  if (controller !== undefined && Object.keys(identity.podLabels).length > 0) {
    const metadata = controller.spec.template.metadata;
    metadata.labels = { ...metadata.labels, ...identity.podLabels };
  }
}
