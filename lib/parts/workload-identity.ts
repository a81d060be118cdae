import { Identity } from '../environment';
import { Problems } from '../k8s/validation';

/**
 * Workload identity: how a pod's ServiceAccount becomes a cloud identity, so the pod gets
 * short-lived cloud credentials instead of a long-lived key in a Secret (identity is one of
 * the areas where the lab and production differ). This is the one place that maps an environment's
 * identity provider to the annotations and labels each provider's webhook or metadata server reads.
 */
export interface WorkloadIdentityMetadata {
  /** Annotations on the workload's ServiceAccount. */
  readonly serviceAccountAnnotations: Record<string, string>;
  /** Labels on the workload's pod template (AKS's webhook only mutates pods that opt in). */
  readonly podLabels: Record<string, string>;
}

/** The Google service account a workload acts as: GCP requires 6 to 30 characters, so the name is suffixed. */
export function gcpServiceAccountId(workload: string): string {
  return `${workload}-workload`;
}

/**
 * Records a problem where the environment cannot give the workload an identity: on AKS every
 * workload that uses workload identity needs its managed identity's client ID; on GKE the
 * derived service account ID must fit GCP's 6 to 30 characters.
 */
export function checkWorkloadIdentity(p: Problems, identity: Identity, workload: string): void {
  switch (identity.provider) {
    case 'azure-workload-identity':
      p.check(
        identity.clientIds[workload] !== undefined,
        `env.identity.clientIds.${workload}`,
        identity.clientIds[workload],
        `the client ID (a GUID) of the user-assigned managed identity the "${workload}" workload acts as`,
      );
      break;
    case 'gke-workload-identity': {
      const id = gcpServiceAccountId(workload);
      p.check(
        /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/.test(id),
        'name',
        workload,
        `a name whose Google service account ID "${id}" is 6 to 30 lowercase letters, digits or hyphens`,
      );
      break;
    }
    case 'aws-irsa':
    case 'none':
      break;
  }
}

/**
 * The ServiceAccount annotations and pod labels that give `workload` the environment's identity.
 * Switches on the identity provider, never on the environment's name. Call checkWorkloadIdentity first.
 */
export function workloadIdentity(identity: Identity, workload: string): WorkloadIdentityMetadata {
  switch (identity.provider) {
    case 'none':
      // The lab: no cloud to talk to, so no identity beyond the ServiceAccount itself.
      return { serviceAccountAnnotations: {}, podLabels: {} };
    case 'aws-irsa':
      // IRSA: EKS's pod identity webhook projects a token for this role into the pod.
      return {
        serviceAccountAnnotations: {
          'eks.amazonaws.com/role-arn': `arn:aws:iam::${identity.accountId}:role/${identity.roleNamePrefix}${workload}`,
        },
        podLabels: {},
      };
    case 'gke-workload-identity':
      // GKE's metadata server hands the pod tokens of this Google service account.
      return {
        serviceAccountAnnotations: {
          'iam.gke.io/gcp-service-account': `${gcpServiceAccountId(workload)}@${identity.projectId}.iam.gserviceaccount.com`,
        },
        podLabels: {},
      };
    case 'azure-workload-identity':
      // Microsoft Entra Workload ID: the webhook injects the federated token into pods that carry the label.
      return {
        serviceAccountAnnotations: {
          'azure.workload.identity/client-id': identity.clientIds[workload],
          'azure.workload.identity/tenant-id': identity.tenantId,
        },
        podLabels: { 'azure.workload.identity/use': 'true' },
      };
  }
}
