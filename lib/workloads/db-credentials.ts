import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment } from '../environment';
import { declareSecret, DerivedSecretKey } from '../platform/secrets';
import { OUT_OF_BAND_PREFIX } from '../policy';

/**
 * The database password, shared by the workloads that use the database: one Secret of this name in
 * each namespace that reads it (db, api, batch), each declared through the platform's secret helper,
 * so its value is made in the cluster (an ExternalSecret in production, `npm run lab-secrets` in the
 * lab) and never written to dist/.
 *
 * Processes read it as a file, never from an environment variable (a secret stays on tmpfs,
 * never on disk): the kubelet backs a Secret volume with tmpfs (its secret plugin wraps an emptyDir of
 * medium Memory, kubernetes pkg/volume/secret/secret.go; https://kubernetes.io/docs/concepts/storage/volumes/#secret),
 * so the value never touches the node's disk, while an environment is copied into every child
 * process and shown in `/proc/<pid>/environ`.
 */
export const DB_CREDENTIALS = {
  secretName: 'db-credentials',
  /** The bare password: what the server's first start, the exporter and api read. */
  passwordKey: 'password',
  /** libpq's connection service file holding the password: what psql and pg_dump read. */
  serviceFileKey: 'pg_service.conf',
  /** The service's name in that file (PGSERVICE). */
  serviceName: 'db',
  /** Where the Secret volume is mounted, read-only, in the containers that read it. */
  mountPath: '/run/secrets/db-credentials',
  volumeName: 'db-credentials',
} as const;

/**
 * Why psql and pg_dump read a connection service file and not a password file (.pgpass): libpq
 * ignores a password file that has any group or world permission bit ("If the permissions are less
 * strict than this, the file will be ignored", https://www.postgresql.org/docs/16/libpq-pgpass.html;
 * no exception for root-owned files, unlike the sslkey rule), and a Secret volume file is always
 * group-readable under fsGroup: the kubelet chowns every file of a Secret volume to root:<fsGroup>
 * and ORs 0440 into its mode (pkg/volume/volume_linux.go, changeFilePermission, readonly mask;
 * pkg/volume/secret/secret.go passes no fsGroupChangePolicy; fsGroup is needed for the backup volume).
 * Without fsGroup the file is root:root, which uid 70 reads only if it is world-readable: refused too.
 * The service file (https://www.postgresql.org/docs/16/libpq-pgservice.html) takes any connection
 * parameter, `password` included, and libpq checks no permissions on it. Tried with PostgreSQL 16's
 * psql and pg_dump against a local server, as uid 70 with gid and supplementary group 70: a pgpass
 * file root:70 0440 (or 0640) is ignored with "has group or world access", root:root 0400 cannot
 * be read; this service file root:70 0440 logs in, and a wrong password in it is refused.
 *
 * Format (libpq's parseServiceFile): `[service]` then `keyword=value` lines; the value is the rest of
 * the line after the first "=", taken literally (no escaping: ":", "\", "=", "#" and inner spaces
 * are fine), with trailing white space stripped. So the password may not contain a line break or
 * end in white space; the lab's random values never do.
 */
export function pgServiceFile(password: string): string {
  if (/[\r\n]/.test(password) || /\s$/.test(password)) {
    // The value itself is never part of the message.
    throw new Error(
      `${DB_CREDENTIALS.secretName}: the ${DB_CREDENTIALS.passwordKey} cannot be written to a libpq service file: ` +
        'it contains a line break or ends in white space',
    );
  }
  return `[${DB_CREDENTIALS.serviceName}]\npassword=${password}\n`;
}

/** The service file as a key of the Secret: built by lab-secrets and by external-secrets alike. */
export const PG_SERVICE_FILE_KEY: DerivedSecretKey = {
  key: DB_CREDENTIALS.serviceFileKey,
  from: DB_CREDENTIALS.passwordKey,
  build: pgServiceFile,
  template: `[${DB_CREDENTIALS.serviceName}]\npassword={{ .${DB_CREDENTIALS.passwordKey} }}\n`,
};

/**
 * One remote secret for every copy: the server's password and its clients' must be the same value,
 * so all namespaces read the same entry of the cloud's secret manager.
 */
export const DB_CREDENTIALS_REMOTE_KEY = 'lab-to-prod-db-credentials';

/** Declares the database password Secret in `namespace`, for the app `app`; every copy carries the service file too. */
export function declareDbCredentials(scope: Construct, env: Environment, namespace: string): void {
  declareSecret(scope, {
    env,
    name: DB_CREDENTIALS.secretName,
    namespace,
    keys: [DB_CREDENTIALS.passwordKey],
    derivedKeys: [PG_SERVICE_FILE_KEY],
    remoteKey: DB_CREDENTIALS_REMOTE_KEY,
    app: namespace,
  });
}

/**
 * The file mode of each file of the volume: readable by the owner and group only. The kubelet makes
 * every file of a Secret volume root:<fsGroup> and ORs 0440 into the mode (see above), so 0440 is
 * both the narrowest mode the pod's non-root user (a member of fsGroup, never the owner) can read
 * and exactly what the node shows. Every pod that mounts it therefore sets fsGroup.
 */
export const DB_CREDENTIALS_FILE_MODE = 0o440;

/**
 * The Secret as a volume with only the given keys as files: a pod gets the files its containers
 * read, nothing else.
 */
export function dbCredentialsVolume(keys: readonly string[]): k8s.Volume {
  return {
    name: DB_CREDENTIALS.volumeName,
    secret: {
      secretName: DB_CREDENTIALS.secretName,
      defaultMode: DB_CREDENTIALS_FILE_MODE,
      items: keys.map((key) => ({ key, path: key })),
    },
  };
}

/** The volume's mount, read-only; add it only to the containers that read a file of it. */
export const DB_CREDENTIALS_MOUNT: k8s.VolumeMount = {
  name: DB_CREDENTIALS.volumeName,
  mountPath: DB_CREDENTIALS.mountPath,
  readOnly: true,
};

/** The path of one key's file inside a container that mounts the volume. */
export function dbCredentialsFile(key: string): string {
  return `${DB_CREDENTIALS.mountPath}/${key}`;
}

/**
 * Annotations for an object that refers to the Secret: where no object renders it (the lab, whose
 * `npm run lab-secrets` creates it in the cluster), the guardrails' reference check is told so on
 * the referring object, where a reviewer reads it.
 */
export function dbCredentialsReferenceAnnotations(env: Environment): Record<string, string> {
  return env.identity.secrets.provider === 'lab-secrets-command'
    ? {
        [`${OUT_OF_BAND_PREFIX}secret.${DB_CREDENTIALS.secretName}`]: 'created in the cluster by `npm run lab-secrets`',
      }
    : {};
}
