import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ClusterSecretStore,
  ClusterSecretStoreSpecProvider,
  ClusterSecretStoreSpecProviderAwsService,
  ClusterSecretStoreSpecProviderAzurekvAuthType,
} from '../../generated/crd-bindings/clustersecretstore-external-secrets.io';
import { Environment, SecretsSource } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { workloadIdentity } from '../parts/workload-identity';
import { createdByInstaller } from './installer-namespaces';

/** Where external-secrets runs (its installer's namespace); the store's reader ServiceAccount lives here. */
export const EXTERNAL_SECRETS_NAMESPACE = 'external-secrets';
/**
 * The reader's name: its ServiceAccount, and the cloud identity it maps to (the IAM role
 * `<prefix>secret-store-reader`, the Google service account `secret-store-reader-workload`, or the
 * managed identity `env.identity.clientIds['secret-store-reader']`), which may read the app secrets
 * and nothing else. Not external-secrets' own controller account, which its installer owns.
 */
export const SECRET_READER = 'secret-store-reader';

/**
 * One ClusterSecretStore per production environment (identity is one of the areas where the lab and
 * production differ; no key is stored in the cluster): external-secrets reads the cloud's secret manager as a dedicated
 * ServiceAccount that carries the environment's workload identity. Every ExternalSecret that
 * `declareSecret` renders names this store. The lab has no store (see lib/platform/secrets.ts).
 */
export class SecretStore extends Construct {
  constructor(scope: Construct, id: string, props: { readonly env: Environment }) {
    super(scope, id);
    const { env } = props;
    const source = env.identity.secrets;
    if (source.provider === 'lab-secrets-command') {
      return;
    }
    const labels = recommendedLabels({ name: SECRET_READER, component: 'secrets', version: PROJECT_VERSION });
    const identity = workloadIdentity(env.identity, SECRET_READER);
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: {
        name: SECRET_READER,
        namespace: EXTERNAL_SECRETS_NAMESPACE,
        labels,
        annotations: {
          ...identity.serviceAccountAnnotations,
          ...createdByInstaller(EXTERNAL_SECRETS_NAMESPACE, 'external-secrets'),
        },
      },
      // external-secrets requests a token for it through the TokenRequest API; no pod mounts it.
      automountServiceAccountToken: false,
    });
    new ClusterSecretStore(this, 'ClusterSecretStore', {
      metadata: { name: source.clusterSecretStore, labels },
      spec: { provider: providerFor(source, { name: SECRET_READER, namespace: EXTERNAL_SECRETS_NAMESPACE }) },
    });
  }
}

function providerFor(
  source: Exclude<SecretsSource, { provider: 'lab-secrets-command' }>,
  reader: { name: string; namespace: string },
): ClusterSecretStoreSpecProvider {
  switch (source.provider) {
    case 'aws-secrets-manager':
      // IRSA: the reader's token is exchanged for the role in its eks.amazonaws.com/role-arn annotation.
      return {
        aws: {
          service: ClusterSecretStoreSpecProviderAwsService.SECRETS_MANAGER,
          region: source.region,
          auth: { jwt: { serviceAccountRef: reader } },
        },
      };
    case 'gcp-secret-manager':
      // Workload Identity: the reader acts as the Google service account in its iam.gke.io annotation.
      return { gcpsm: { projectId: source.projectId, auth: { workloadIdentity: { serviceAccountRef: reader } } } };
    case 'azure-key-vault':
      // Microsoft Entra Workload ID: the reader's token is federated to the managed identity in its annotation.
      return {
        azurekv: {
          vaultUrl: source.vaultUrl,
          authType: ClusterSecretStoreSpecProviderAzurekvAuthType.WORKLOAD_IDENTITY,
          serviceAccountRef: reader,
        },
      };
  }
}
