import { Construct } from 'constructs';
import { Environment } from '../environment';
import { declareSecret } from '../platform/secrets';
import { OUT_OF_BAND_PREFIX } from '../policy/checks/references';

/**
 * The database password, shared by the workloads that use the database: one Secret of this name in
 * each namespace that reads it (db, api, batch), each declared through the platform's secret helper,
 * so its value is made in the cluster (an ExternalSecret in production, `npm run lab-secrets` in the
 * lab) and never written to dist/.
 */
export const DB_CREDENTIALS = { secretName: 'db-credentials', passwordKey: 'password' } as const;

/**
 * One remote secret for every copy: the server's password and its clients' must be the same value,
 * so all namespaces read the same entry of the cloud's secret manager.
 */
export const DB_CREDENTIALS_REMOTE_KEY = 'lab-to-prod-db-credentials';

/** Declares the database password Secret in `namespace`, for the app `app`. */
export function declareDbCredentials(scope: Construct, env: Environment, namespace: string): void {
  declareSecret(scope, {
    env,
    name: DB_CREDENTIALS.secretName,
    namespace,
    keys: [DB_CREDENTIALS.passwordKey],
    remoteKey: DB_CREDENTIALS_REMOTE_KEY,
    app: namespace,
  });
}

/**
 * Annotations for an object that refers to the Secret: where no object renders it (the lab, whose
 * `npm run lab-secrets` creates it in the cluster), the guardrails' reference check is told so on
 * the referring object, where a reviewer reads it.
 */
export function dbCredentialsReferenceAnnotations(env: Environment): Record<string, string> {
  return env.identity.secrets.provider === 'lab-secrets-command'
    ? { [`${OUT_OF_BAND_PREFIX}secret.${DB_CREDENTIALS.secretName}`]: 'created in the cluster by `npm run lab-secrets`' }
    : {};
}
