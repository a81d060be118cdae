import { ENVIRONMENTS } from '../environments';
import { workloadScaleIn } from '../environments/workload-scale';
import { renderEnvironment } from '../synth/render';
import { appArmorFor, only, rendered, secretsOf, testChart, withChange } from '../../test/helpers';
import { Batch, BATCH_SCALE } from './batch';
import { WORKLOADS } from '.';

const envs = Object.values(ENVIRONMENTS);
const batchObjects = (env: (typeof envs)[number]): any[] =>
  renderEnvironment(env)
    .objects.filter((o) => o.constructPath.startsWith(`${env.name}/batch/`))
    .map((o) => o.object);

describe.each(envs.map((env) => [env.name, env] as const))('batch in %s', (_name, env) => {
  const objects = batchObjects(env);
  const job = only(objects, 'Job');
  const cronJob = only(objects, 'CronJob');
  const jobPod = job.spec.template.spec;
  const cronPod = cronJob.spec.jobTemplate.spec.template.spec;

  test('the migration Job: a stable name from its version, bounded retries, a deadline and a TTL', () => {
    expect(job.metadata.name).toBe('db-migrate-0001');
    expect(job.spec.backoffLimit).toBe(6);
    expect(job.spec.activeDeadlineSeconds).toBe(900);
    expect(job.spec.ttlSecondsAfterFinished).toBe(86400);
    expect(jobPod.restartPolicy).toBe('Never');
  });

  test('the migration runs psql on the SQL from an immutable ConfigMap, in one transaction, stopping at the first error', () => {
    const config = only(objects, 'ConfigMap', 'db-migrate-0001');
    expect(config.immutable).toBe(true);
    expect(config.data['0001.sql']).toContain('CREATE TABLE IF NOT EXISTS greetings');
    expect(jobPod.containers[0].command).toEqual([
      'psql',
      '--no-psqlrc',
      '--set=ON_ERROR_STOP=1',
      '--single-transaction',
      '--file=/migration/0001.sql',
    ]);
    expect(jobPod.volumes).toContainEqual({ name: 'migration', configMap: { name: 'db-migrate-0001' } });
  });

  test('the backup CronJob: Forbid, a starting deadline, history limits and an explicit time zone', () => {
    expect(cronJob.metadata.name).toBe('db-backup');
    expect(cronJob.spec).toMatchObject({
      schedule: '30 2 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cronJob.spec.jobTemplate.spec.backoffLimit).toBe(2);
    expect(cronJob.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(3600);
  });

  test('the backup writes pg_dump output to a claim on the environment StorageClass and keeps the last N', () => {
    const claim = only(objects, 'PersistentVolumeClaim', 'db-backups');
    expect(claim.spec.storageClassName).toBe(env.storage.storageClassName);
    expect(claim.spec.resources.requests.storage).toBe(workloadScaleIn(env, 'batch', BATCH_SCALE).backupStorage);
    expect(cronPod.volumes).toContainEqual({ name: 'backups', persistentVolumeClaim: { claimName: 'db-backups' } });
    const container = cronPod.containers[0];
    expect(container.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(container.command[2]).toContain('pg_dump --format=custom');
    expect(container.env).toContainEqual({ name: 'KEEP_BACKUPS', value: '7' });
    expect(container.volumeMounts).toContainEqual({ name: 'backups', mountPath: '/backups' });
  });

  test('both pods: restricted as uid 70, batch priority, their own ServiceAccount, password by reference', () => {
    for (const pod of [jobPod, cronPod]) {
      expect(pod.priorityClassName).toBe('lab-to-prod-batch');
      expect(pod.serviceAccountName).toBe('batch');
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 70,
        runAsGroup: 70,
        fsGroup: 70,
        seccompProfile: { type: 'RuntimeDefault' },
        ...appArmorFor(env),
      });
      const container = pod.containers[0];
      expect(container.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.resources).toEqual({
        requests: workloadScaleIn(env, 'batch', BATCH_SCALE).requests,
        limits: workloadScaleIn(env, 'batch', BATCH_SCALE).limits,
      });
      // libpq reads the password from its service file on a read-only Secret volume (root:70, 0440);
      // no secret in the environment, and only the file psql and pg_dump read.
      expect(container.env).toContainEqual({
        name: 'PGSERVICEFILE',
        value: '/run/secrets/db-credentials/pg_service.conf',
      });
      expect(container.env).toContainEqual({ name: 'PGSERVICE', value: 'db' });
      const secrets = secretsOf(pod, container.name);
      expect(secrets).toMatchObject({
        inEnv: [],
        files: ['/run/secrets/db-credentials/pg_service.conf'],
        secretName: 'db-credentials',
        defaultMode: 0o440,
      });
      expect(secrets.mount.readOnly).toBe(true);
    }
    expect(only(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  test('network policy: nothing in; out only to db:5432 and DNS', () => {
    const policy = only(objects, 'NetworkPolicy');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress ?? []).toEqual([]);
    expect(policy.spec.egress).toHaveLength(2);
    expect(policy.spec.egress[0].to[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'db' });
    expect(policy.spec.egress[0].ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
    expect(policy.spec.egress[1].ports.map((p: any) => p.port)).toEqual([53, 53]);
    // The policy selects both jobs' pods.
    for (const labels of [job.spec.template.metadata.labels, cronJob.spec.jobTemplate.spec.template.metadata.labels]) {
      expect(labels).toMatchObject(policy.spec.podSelector.matchLabels);
    }
  });

  test('the password Secret: an ExternalSecret of the shared remote secret in production, out of band in the lab', () => {
    const external = objects.filter((o) => o.kind === 'ExternalSecret');
    if (env.identity.secrets.provider === 'lab-secrets-command') {
      expect(external).toEqual([]);
      expect(job.metadata.annotations['out-of-band.lab-to-prod.io/secret.db-credentials']).toMatch(/lab-secrets/);
    } else {
      expect(external).toHaveLength(1);
      expect(external[0].metadata).toMatchObject({ name: 'db-credentials', namespace: 'batch' });
      expect(external[0].spec.data).toEqual([
        { secretKey: 'password', remoteRef: { key: 'lab-to-prod-db-credentials', property: 'password' } },
      ]);
    }
  });
});

describe('batch props are validated at construction', () => {
  const build = (props: Partial<ConstructorParameters<typeof Batch>[2]>): void => {
    new Batch(testChart('lab'), 'batch', { env: ENVIRONMENTS.lab, ...props });
  };

  test('a schedule that is not cron', () => {
    expect(() => build({ backupSchedule: 'every night' })).toThrow(
      'lab/batch: backupSchedule: Invalid value: "every night": five cron fields "minute hour day-of-month month day-of-week"',
    );
  });

  test('a schedule with a seconds field', () => {
    expect(() => build({ backupSchedule: '0 30 2 * * *' })).toThrow(
      'lab/batch: backupSchedule: Invalid value: "0 30 2 * * *"',
    );
  });

  test('a schedule with an out-of-range field', () => {
    expect(() => build({ backupSchedule: '30 25 * * *' })).toThrow(
      'lab/batch: backupSchedule: Invalid value: "30 25 * * *"',
    );
  });

  test('macros and ranges are accepted', () => {
    expect(() => build({ backupSchedule: '@daily' })).not.toThrow();
    expect(() => build({ backupSchedule: '0 */6 * * MON-FRI' })).not.toThrow();
  });

  test('a time zone the tz database does not know', () => {
    expect(() => build({ backupTimeZone: 'Mars/Olympus' })).toThrow(
      'lab/batch: backupTimeZone: Invalid value: "Mars/Olympus": an IANA time zone name such as "Etc/UTC"',
    );
  });

  test('a CronJob name too long for its Jobs', () => {
    const backupName = 'b'.repeat(53);
    expect(() => build({ backupName })).toThrow(`lab/batch: backupName: Invalid value: "${backupName}"`);
    expect(() => build({ backupName: 'b'.repeat(52) })).not.toThrow();
  });

  test('keeping fewer than one backup', () => {
    expect(() => build({ keepBackups: 0 })).toThrow('lab/batch: keepBackups: Invalid value: 0: a whole number >= 1');
    expect(() => build({ keepBackups: 2.5 })).toThrow('lab/batch: keepBackups: Invalid value: 2.5');
  });

  test('a migration version that cannot be part of a Job name', () => {
    expect(() => build({ migration: { version: 'V2_final', sql: 'SELECT 1;' } })).toThrow(
      'lab/batch: migration.version: Invalid value: "V2_final": lowercase letters, digits and "-"',
    );
    expect(() => build({ migration: { version: '1'.repeat(53), sql: 'SELECT 1;' } })).toThrow(
      'lab/batch: migration.version',
    );
  });

  test('an empty migration', () => {
    expect(() => build({ migration: { version: '0002', sql: '  ' } })).toThrow(
      'lab/batch: migration.sql: Invalid value: "  ": at least one SQL statement',
    );
  });

  test('a backup volume size that does not parse', () => {
    expect(() =>
      build({ scale: { ...workloadScaleIn(ENVIRONMENTS.lab, 'batch', BATCH_SCALE), backupStorage: 'big' } }),
    ).toThrow('lab/batch: scale.backupStorage: Invalid value: "big"');
  });

  test('an image tagged latest', () => {
    expect(() => build({ image: { repository: 'library/postgres', tag: 'latest' } })).toThrow(
      'lab/batch: image.tag: Invalid value: "latest"',
    );
  });
});

describe('batch migrations', () => {
  test('a new migration version is a new Job and ConfigMap name', () => {
    const chart = testChart('lab');
    new Batch(chart, 'batch', {
      env: ENVIRONMENTS.lab,
      migration: { version: '0002', sql: 'ALTER TABLE greetings ADD COLUMN IF NOT EXISTS lang text;' },
    });
    const objects = rendered(chart);
    expect(only(objects, 'Job').metadata.name).toBe('db-migrate-0002');
    expect(only(objects, 'ConfigMap').data['0002.sql']).toContain('ALTER TABLE');
  });
});

describe('environment validation of scale.batch', () => {
  test('a backup volume below 1Gi is refused with the environment and field', () => {
    const { validateEnvironment } = jest.requireActual('../environments/validate');
    const env = withChange(ENVIRONMENTS['prod-aks'], (e) => {
      e.scale.batch = { backupStorage: '512Mi' };
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      'environment "prod-aks": scale.batch.backupStorage: Invalid value: "512Mi"',
    );
  });
});
