import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BatchScale, BatchScaleSchema, Environment } from '../environment';
import { checkBatchScale } from '../environments/validate';
import { workloadScaleIn } from '../environments/workload-scale';
import { checkSchedule, CRONJOB_NAME_MAX } from '../k8s/cron';
import { applyAppArmorRuntimeDefault } from '../parts/escape-hatch';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../parts/hardening';
import { checkImage, ImageRef, imageName } from '../parts/image';
import { recommendedLabels, selectorLabels } from '../k8s/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../k8s/names';
import { dnsEgressRule } from '../parts/network-policy';
import { appPeer, tcpPorts } from '../parts/network-peers';
import { Problems } from '../k8s/validation';
import { PRIORITY_CLASSES } from '../platform/priority-classes';
import { INITIAL_MIGRATION, Migration } from './batch-sql';
import { DB_IMAGE, DB_PORT, POSTGRES_UID } from './db';
import { defineWorkload } from './workload';
import {
  DB_CREDENTIALS,
  DB_CREDENTIALS_MOUNT,
  dbCredentialsFile,
  dbCredentialsReferenceAnnotations,
  dbCredentialsVolume,
  declareDbCredentials,
} from './db-credentials';

export interface BatchProps {
  /** The environment to render for. */
  readonly env: Environment;

  /**
   * The app's name and Namespace.
   * @default 'batch'
   */
  readonly name?: string;

  /**
   * The image with psql and pg_dump: the database's own, so client and server versions match.
   * @default the db workload's image
   */
  readonly image?: ImageRef;

  /**
   * Resources of the Jobs' pods and the backup volume's size.
   * @default BATCH_SCALE, with the environment's scale.batch laid over it
   */
  readonly scale?: BatchScale;

  /**
   * The schema migration the one-off Job applies.
   * @default INITIAL_MIGRATION (version '0001')
   */
  readonly migration?: Migration;

  /**
   * When the backup runs, in the CronJob's five-field syntax or a macro such as '@daily'.
   * @default '30 2 * * *' (02:30 every night)
   */
  readonly backupSchedule?: string;

  /**
   * The IANA time zone the schedule is read in. Explicit, so that the backup's hour does not depend
   * on the time zone of whichever node runs the kube-controller-manager.
   * @default 'Etc/UTC'
   */
  readonly backupTimeZone?: string;

  /**
   * The backup CronJob's name. Its Jobs are named after it plus an 11-character suffix, so at most 52.
   * @default 'db-backup'
   */
  readonly backupName?: string;

  /**
   * How many nightly dumps to keep on the backup volume; older ones are deleted after each dump.
   * @default 7
   */
  readonly keepBackups?: number;
}

/** batch's size where an environment changes nothing: production's, the Jobs' pods and the backup volume. */
export const BATCH_SCALE: BatchScale = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '1', memory: '512Mi' },
  backupStorage: '100Gi',
};

const MIGRATION_JOB_PREFIX = 'db-migrate-';
const BACKUP_CLAIM_NAME = 'db-backups';
const BACKUP_MOUNT = '/backups';

/**
 * The batch work: a one-off Job that migrates db's schema, and a CronJob that dumps db every night
 * onto a PersistentVolumeClaim and keeps the last few dumps (work that runs to completion, not a server). Both
 * run with the batch PriorityClass, which waits for room instead of preempting the services, and may
 * reach only the database and DNS.
 */
export class Batch extends Construct {
  /** The app's name and Namespace. */
  public readonly name: string;
  /** The migration Job's name: `db-migrate-<version>`. */
  public readonly migrationJobName: string;

  constructor(scope: Construct, id: string, props: BatchProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'batch';
    const image = props.image ?? DB_IMAGE;
    const scale = props.scale ?? workloadScaleIn(env, 'batch', BATCH_SCALE);
    const migration = props.migration ?? INITIAL_MIGRATION;
    const schedule = props.backupSchedule ?? '30 2 * * *';
    const timeZone = props.backupTimeZone ?? 'Etc/UTC';
    const keepBackups = props.keepBackups ?? 7;
    const backupName = props.backupName ?? 'db-backup';
    const migrationJobName = `${MIGRATION_JOB_PREFIX}${migration.version}`;
    this.name = name;
    this.migrationJobName = migrationJobName;

    const p = new Problems(this.node.path);
    p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
    checkImage(p, 'image', image);
    checkBatchScale(p, 'scale', scale);
    // The Job's name is a pod label value (job-name), so at most 63 characters.
    p.check(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(migration.version) && isDns1123Label(migrationJobName),
      'migration.version',
      migration.version,
      `lowercase letters, digits and "-", at most ${63 - MIGRATION_JOB_PREFIX.length} characters (the Job is "${MIGRATION_JOB_PREFIX}<version>")`,
    );
    p.check(migration.sql.trim() !== '', 'migration.sql', migration.sql, 'at least one SQL statement');
    p.check(
      isDns1123Label(backupName) && backupName.length <= CRONJOB_NAME_MAX,
      'backupName',
      backupName,
      `${DNS1123_LABEL_RULE}, and at most ${CRONJOB_NAME_MAX} (a CronJob's Jobs add an 11-character suffix)`,
    );
    checkSchedule(p, 'backupSchedule', schedule, 'backupTimeZone', timeZone);
    p.check(Number.isInteger(keepBackups) && keepBackups >= 1, 'keepBackups', keepBackups, 'a whole number >= 1');
    p.throwIfAny();

    const batch: BatchParts = {
      env,
      name,
      namespace: name,
      image,
      scale,
      migration,
      migrationJobName,
      schedule,
      timeZone,
      keepBackups,
      backupName,
    };

    declareDbCredentials(this, env, batch.namespace);
    this.serviceAccount(batch);
    this.migrationConfigMap(batch);
    this.migrationJob(batch);
    this.backupClaim(batch);
    this.backupCronJob(batch);
    this.networkPolicy(batch);
  }

  private serviceAccount(batch: BatchParts): void {
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: batch.name, namespace: batch.namespace, labels: labelsFor(batch, 'batch') },
      // The jobs talk to PostgreSQL, never to the Kubernetes API.
      automountServiceAccountToken: false,
    });
  }

  // ---- The one-off migration --------------------------------------------------------------

  private migrationConfigMap(batch: BatchParts): void {
    new k8s.KubeConfigMap(this, 'MigrationConfigMap', {
      metadata: { name: batch.migrationJobName, namespace: batch.namespace, labels: labelsFor(batch, 'migration') },
      data: { [migrationFile(batch)]: batch.migration.sql },
      // Immutable: editing a released migration is refused by the API server; add a version instead.
      immutable: true,
    });
  }

  private migrationJob(batch: BatchParts): void {
    const migrationLabels = labelsFor(batch, 'migration');
    const migrationJob = new k8s.KubeJob(this, 'MigrationJob', {
      // A name a person types, stable across syntheses (no hash): the version, which a person bumps.
      // A Job's pod template is immutable, so a new migration needs a new Job, hence a new version.
      metadata: {
        name: batch.migrationJobName,
        namespace: batch.namespace,
        labels: migrationLabels,
        annotations: dbCredentialsReferenceAnnotations(batch.env),
      },
      spec: {
        // Until the database is ready the first attempts fail to connect; retries back off
        // exponentially (10s, 20s, 40s...), about ten minutes in all.
        backoffLimit: 6,
        // However it goes, the Job ends within 15 minutes rather than hold locks or retry forever.
        activeDeadlineSeconds: 900,
        // Finished Jobs are deleted a day later; a later `kubectl apply` re-creates and re-runs the
        // Job, which is why every migration is idempotent (see batch-sql.ts).
        ttlSecondsAfterFinished: 86400,
        template: {
          metadata: { labels: migrationLabels, annotations: { 'kubectl.kubernetes.io/default-container': 'psql' } },
          spec: podSpec(
            batch,
            [{ name: 'migration', configMap: { name: batch.migrationJobName } }],
            jobContainer(
              batch,
              'psql',
              [
                'psql',
                '--no-psqlrc',
                '--set=ON_ERROR_STOP=1',
                '--single-transaction',
                `--file=/migration/${migrationFile(batch)}`,
              ],
              [],
              [{ name: 'migration', mountPath: '/migration', readOnly: true }],
            ),
          ),
        },
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(migrationJob), '/spec/template', batch.env);
  }

  // ---- The nightly backup -----------------------------------------------------------------

  private backupClaim(batch: BatchParts): void {
    new k8s.KubePersistentVolumeClaim(this, 'BackupClaim', {
      metadata: { name: BACKUP_CLAIM_NAME, namespace: batch.namespace, labels: labelsFor(batch, 'backup') },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: batch.env.storage.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(batch.scale.backupStorage) } },
      },
    });
  }

  private backupCronJob(batch: BatchParts): void {
    const backupLabels = labelsFor(batch, 'backup');
    const cronJob = new k8s.KubeCronJob(this, 'BackupCronJob', {
      metadata: {
        name: batch.backupName,
        namespace: batch.namespace,
        labels: backupLabels,
        annotations: dbCredentialsReferenceAnnotations(batch.env),
      },
      spec: {
        schedule: batch.schedule,
        timeZone: batch.timeZone,
        // One dump at a time: a slow dump is never overlapped by the next night's.
        concurrencyPolicy: 'Forbid',
        // If the controller was down at 02:30, the run still starts within the hour, not later.
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: backupLabels },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: 3600,
            template: {
              metadata: { labels: backupLabels, annotations: { 'kubectl.kubernetes.io/default-container': 'pg-dump' } },
              spec: podSpec(
                batch,
                [{ name: 'backups', persistentVolumeClaim: { claimName: BACKUP_CLAIM_NAME } }],
                jobContainer(
                  batch,
                  'pg-dump',
                  ['/bin/sh', '-c', BACKUP_SCRIPT],
                  [{ name: 'KEEP_BACKUPS', value: String(batch.keepBackups) }],
                  [{ name: 'backups', mountPath: BACKUP_MOUNT }],
                ),
              ),
            },
          },
        },
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(cronJob), '/spec/jobTemplate/spec/template', batch.env);
  }

  private networkPolicy(batch: BatchParts): void {
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: { name: batch.name, namespace: batch.namespace, labels: labelsFor(batch, 'batch') },
      spec: {
        // Both jobs' pods: they share the app's selector labels.
        podSelector: { matchLabels: selectorLabels(batch.name) },
        policyTypes: ['Ingress', 'Egress'],
        // Nothing connects to a job: policyTypes lists Ingress and no rule admits anything. (No
        // `ingress: []`: the API server drops an empty list, so every apply would see a change.)
        // The database, and DNS to find it.
        egress: [{ to: [appPeer('db')], ports: tcpPorts(DB_PORT) }, dnsEgressRule()],
      },
    });
  }
}

/** What every piece of batch is built from: the props with their defaults, checked. */
interface BatchParts {
  readonly env: Environment;
  readonly name: string;
  readonly namespace: string;
  readonly image: ImageRef;
  readonly scale: BatchScale;
  readonly migration: Migration;
  /** `db-migrate-<version>`: the migration's Job and ConfigMap. */
  readonly migrationJobName: string;
  readonly schedule: string;
  readonly timeZone: string;
  readonly keepBackups: number;
  readonly backupName: string;
}

/** The recommended labels of one part of batch: `batch` itself, the `migration` or the `backup`. */
function labelsFor(batch: BatchParts, component: string): Record<string, string> {
  return recommendedLabels({ name: batch.name, component, version: batch.image.tag });
}

/** The migration's file name in its ConfigMap and in the container: `<version>.sql`. */
function migrationFile(batch: BatchParts): string {
  return `${batch.migration.version}.sql`;
}

/**
 * A dump is written under a temporary name and renamed when complete, so a failed run never
 * leaves a truncated file that looks like a backup; then all but the newest dumps are removed.
 */
const BACKUP_SCRIPT = [
  'set -eu',
  `cd ${BACKUP_MOUNT}`,
  'rm -f .partial-*',
  'stamp="$(date -u +%Y%m%dT%H%M%SZ)"',
  'pg_dump --format=custom --file=".partial-${stamp}.dump"',
  'mv ".partial-${stamp}.dump" "db-${stamp}.dump"',
  'ls -1 db-*.dump | sort -r | tail -n "+$((KEEP_BACKUPS + 1))" | xargs -r rm -f --',
  'ls -l db-*.dump',
].join('\n');

/** How psql and pg_dump reach the database: libpq's own variables, the password from a file. */
function connectionEnv(): k8s.EnvVar[] {
  return [
    // libpq reads these, so psql and pg_dump need no connection flags (and no password on a command line).
    { name: 'PGHOST', value: 'db.db.svc.cluster.local' },
    { name: 'PGPORT', value: String(DB_PORT) },
    { name: 'PGDATABASE', value: 'app' },
    { name: 'PGUSER', value: 'postgres' },
    { name: 'PGCONNECT_TIMEOUT', value: '10' },
    // The password from libpq's connection service file on the Secret volume (tmpfs), never from
    // PGPASSWORD: why a service file and not a .pgpass file is in db-credentials.ts.
    { name: 'PGSERVICEFILE', value: dbCredentialsFile(DB_CREDENTIALS.serviceFileKey) },
    { name: 'PGSERVICE', value: DB_CREDENTIALS.serviceName },
  ];
}

/** A Job's pod, the migration's or the backup's: its own volumes, then the ones every job has. */
function podSpec(batch: BatchParts, volumes: k8s.Volume[], container: k8s.Container): k8s.PodSpec {
  return {
    serviceAccountName: batch.name,
    automountServiceAccountToken: false,
    // Below the services: a Job waits for room rather than evict a serving pod (see PRIORITY_CLASSES).
    priorityClassName: PRIORITY_CLASSES.batch,
    // Never: a failed pod stays for `kubectl logs`, and the Job's backoffLimit counts new pods.
    restartPolicy: 'Never',
    // fsGroup: the backup volume is writable, and the service file readable (root:70, 0440), by group 70.
    securityContext: restrictedPodSecurityContext({ uid: POSTGRES_UID, gid: POSTGRES_UID, fsGroup: POSTGRES_UID }),
    containers: [container],
    volumes: [
      ...volumes,
      { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
      dbCredentialsVolume([DB_CREDENTIALS.serviceFileKey]),
    ],
  };
}

/** A Job's one container: the database's image, connected to it, hardened, with /tmp and the credentials. */
function jobContainer(
  batch: BatchParts,
  containerName: string,
  command: string[],
  extraEnv: k8s.EnvVar[],
  mounts: k8s.VolumeMount[],
): k8s.Container {
  return {
    name: containerName,
    image: imageName(batch.env.registry, batch.image),
    imagePullPolicy: 'IfNotPresent',
    command,
    env: [...connectionEnv(), ...extraEnv],
    resources: containerResources(batch.scale.requests, batch.scale.limits),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [...mounts, { name: 'tmp', mountPath: '/tmp' }, DB_CREDENTIALS_MOUNT],
  };
}

// This file is a workload because of its default export, listed in index.ts.
export default defineWorkload({
  name: 'batch',
  scale: { schema: BatchScaleSchema, defaults: BATCH_SCALE },
  build: (scope, id, env) => new Batch(scope, id, { env }),
});
