import { ENVIRONMENTS } from '../environments';
import { workloadScaleIn } from '../environments/workload-scale';
import { renderEnvironment } from '../synth/render';
import { appArmorFor, only, secretsOf, testChart, withChange } from '../../test/helpers';
import { Db, DB_SCALE } from './db';
import { WORKLOADS } from '.';

const envs = Object.values(ENVIRONMENTS);
const dbObjects = (env: (typeof envs)[number]): any[] =>
  renderEnvironment(env)
    .objects.filter((o) => o.constructPath.startsWith(`${env.name}/db/`))
    .map((o) => o.object);

describe.each(envs.map((env) => [env.name, env] as const))('db in %s', (_name, env) => {
  const objects = dbObjects(env);
  const statefulSet = only(objects, 'StatefulSet', 'db');
  const pod = statefulSet.spec.template.spec;
  const postgres = pod.containers.find((c: any) => c.name === 'postgres');
  const withExporter = env.observability.stack === 'prometheus-operator';

  test('every object is in the db namespace with the recommended labels', () => {
    for (const o of objects) {
      expect(o.metadata.namespace).toBe('db');
      expect(o.metadata.labels['app.kubernetes.io/name']).toBe('db');
    }
    // The secret and monitoring helpers' objects carry their own component label.
    for (const o of objects.filter(
      (x) => !['ExternalSecret', 'ServiceMonitor'].includes(x.kind) && x.metadata.name === 'db',
    )) {
      expect(o.metadata.labels['app.kubernetes.io/component']).toBe('database');
    }
  });

  test('data lives on a claim from the environment StorageClass, mounted where PGDATA points', () => {
    expect(statefulSet.spec.volumeClaimTemplates).toHaveLength(1);
    const claim = statefulSet.spec.volumeClaimTemplates[0];
    expect(claim.spec.storageClassName).toBe(env.storage.storageClassName);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim.spec.resources.requests.storage).toBe(workloadScaleIn(env, 'db', DB_SCALE).storage);
    expect(postgres.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: '/var/lib/postgresql/data' });
    expect(postgres.env).toContainEqual({ name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' });
    expect(statefulSet.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
  });

  test('a headless Service gives the pod its stable name', () => {
    const service = only(objects, 'Service');
    expect(service.spec.clusterIP).toBe('None');
    expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
    expect(service.spec.ports[0]).toEqual({ name: 'postgres', port: 5432, targetPort: 'postgres', protocol: 'TCP' });
  });

  test('one replica, no budget (a single primary; replication needs an operator)', () => {
    expect(statefulSet.spec.replicas).toBe(1);
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test('restricted as the postgres user 70, with fsGroup for the volume and a read-only root', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 70,
      runAsGroup: 70,
      fsGroup: 70,
      seccompProfile: { type: 'RuntimeDefault' },
      ...appArmorFor(env),
    });
    for (const c of pod.containers) {
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.resources.requests).toBeDefined();
      expect(c.resources.limits).toBeDefined();
    }
    expect(postgres.volumeMounts.map((m: any) => m.mountPath)).toEqual(
      expect.arrayContaining(['/var/run/postgresql', '/tmp']),
    );
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  test('the password as a file, read only by the init container that initialises the database', () => {
    const init = secretsOf(pod, 'initdb');
    expect(init).toMatchObject({
      inEnv: [],
      files: ['/run/secrets/db-credentials/password'],
      secretName: 'db-credentials',
      defaultMode: 0o440,
    });
    expect(init.mount.readOnly).toBe(true);
    const initdb = pod.initContainers.find((c: any) => c.name === 'initdb');
    expect(initdb.command).toEqual(['docker-ensure-initdb.sh']);
    expect(initdb.env).toContainEqual({
      name: 'POSTGRES_PASSWORD_FILE',
      value: '/run/secrets/db-credentials/password',
    });
    expect(initdb.volumeMounts.filter((m: any) => m.name !== 'db-credentials')).toEqual(postgres.volumeMounts);
    // The server's entrypoint would export a POSTGRES_PASSWORD_FILE's content into the server's
    // environment: the server container gets neither the variable nor the file.
    expect(secretsOf(pod, 'postgres')).toMatchObject({ inEnv: [], files: [] });
    expect(postgres.env.map((e: any) => e.name)).toEqual(['PGDATA']);
    // fsGroup makes the kubelet give the file to group 70, which the non-root user is in.
    expect(pod.securityContext).toMatchObject({ runAsUser: 70, fsGroup: 70 });
  });

  test('pg_isready probes over TCP; liveness more patient than readiness; a startup probe', () => {
    for (const probe of [postgres.startupProbe, postgres.livenessProbe, postgres.readinessProbe]) {
      expect(probe.exec.command[0]).toBe('pg_isready');
      expect(probe.exec.command).toContain('--host=127.0.0.1');
    }
    const patience = (probe: any): number => probe.periodSeconds * probe.failureThreshold;
    expect(patience(postgres.livenessProbe)).toBeGreaterThan(patience(postgres.readinessProbe));
    expect(patience(postgres.startupProbe)).toBeGreaterThanOrEqual(300);
  });

  test('the database priority class', () => {
    expect(pod.priorityClassName).toBe('lab-to-prod-database');
  });

  test('network policy: in only from api and batch on 5432; out only DNS', () => {
    const policy = only(objects, 'NetworkPolicy', 'db');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toHaveLength(1);
    expect(
      policy.spec.ingress[0].from.map((peer: any) => peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']),
    ).toEqual(['api', 'batch']);
    expect(
      policy.spec.ingress[0].from.map((peer: any) => peer.podSelector.matchLabels['app.kubernetes.io/name']),
    ).toEqual(['api', 'batch']);
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
    expect(policy.spec.egress).toHaveLength(1);
    expect(policy.spec.egress[0].ports.map((p: any) => p.port)).toEqual([53, 53]);
  });

  test('production: a ServiceMonitor on the exporter port, and Prometheus let in to that port only', () => {
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    if (!withExporter) {
      expect(monitors).toEqual([]);
      return;
    }
    expect(monitors).toHaveLength(1);
    expect(monitors[0].spec.endpoints[0].port).toBe('metrics');
    expect(monitors[0].spec.selector.matchLabels).toEqual(statefulSet.spec.selector.matchLabels);
    const scrape = only(objects, 'NetworkPolicy', 'db-allow-prometheus');
    expect(scrape.spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: {
              matchLabels: { 'kubernetes.io/metadata.name': env.observability.prometheusNamespace },
            },
          },
        ],
        ports: [{ protocol: 'TCP', port: 9187 }],
      },
    ]);
    expect(only(objects, 'Service').spec.ports[1]).toEqual({
      name: 'metrics',
      port: 9187,
      targetPort: 'metrics',
      protocol: 'TCP',
    });
  });

  test('a metrics exporter sidecar only where Prometheus scrapes', () => {
    const exporter = pod.containers.find((c: any) => c.name === 'exporter');
    if (withExporter) {
      expect(exporter.image).toBe(`${env.registry.mirror}/prometheuscommunity/postgres-exporter:v0.17.1`);
      expect(exporter.env).toContainEqual({
        name: 'DATA_SOURCE_PASS_FILE',
        value: '/run/secrets/db-credentials/password',
      });
      expect(secretsOf(pod, 'exporter')).toMatchObject({ inEnv: [], files: ['/run/secrets/db-credentials/password'] });
      expect(exporter.livenessProbe.httpGet.port).toBe('metrics');
    } else {
      expect(exporter).toBeUndefined();
    }
  });

  test('the image is pinned and pulled through the mirror', () => {
    expect(postgres.image).toBe(`${env.registry.mirror}/library/postgres:16.9-alpine`);
  });

  test('the password Secret: an ExternalSecret of the shared remote secret in production, out of band in the lab', () => {
    const external = objects.filter((o) => o.kind === 'ExternalSecret');
    const owner = only(objects, 'StatefulSet');
    if (env.identity.secrets.provider === 'lab-secrets-command') {
      expect(external).toEqual([]);
      expect(owner.metadata.annotations['out-of-band.lab-to-prod.io/secret.db-credentials']).toMatch(/lab-secrets/);
    } else {
      expect(external).toHaveLength(1);
      expect(external[0].metadata).toMatchObject({ name: 'db-credentials', namespace: 'db' });
      expect(external[0].spec.data).toEqual([
        { secretKey: 'password', remoteRef: { key: 'lab-to-prod-db-credentials', property: 'password' } },
      ]);
      expect(owner.metadata.annotations ?? {}).toEqual({});
    }
  });
});

describe('db props are validated at construction', () => {
  const build = (props: Partial<ConstructorParameters<typeof Db>[2]>, env = ENVIRONMENTS.lab): void => {
    new Db(testChart(env.name), 'db', { env, ...props });
  };

  test('a volume size that does not parse', () => {
    expect(() => build({ scale: { ...workloadScaleIn(ENVIRONMENTS.lab, 'db', DB_SCALE), storage: '5 gigs' } })).toThrow(
      'lab/db: scale.storage: Invalid value: "5 gigs": a Kubernetes quantity',
    );
  });

  test('a volume too small for a cloud disk', () => {
    expect(() => build({ scale: { ...workloadScaleIn(ENVIRONMENTS.lab, 'db', DB_SCALE), storage: '100Mi' } })).toThrow(
      'lab/db: scale.storage: Invalid value: "100Mi": a Kubernetes quantity of bytes such as "128Mi", "1Gi" or "512M": a whole number of bytes, at least 1Gi',
    );
  });

  test('requests above limits', () => {
    expect(() =>
      build({
        scale: { ...workloadScaleIn(ENVIRONMENTS.lab, 'db', DB_SCALE), requests: { cpu: '2', memory: '256Mi' } },
      }),
    ).toThrow('lab/db: scale.requests.cpu: Invalid value: "2": at most the limit (1)');
  });

  test('an exporter image tagged latest', () => {
    expect(() =>
      build({ exporterImage: { repository: 'prometheuscommunity/postgres-exporter', tag: 'latest' } }),
    ).toThrow('lab/db: exporterImage.tag: Invalid value: "latest"');
  });

  test('a database name that is not a PostgreSQL identifier', () => {
    expect(() => build({ databaseName: 'my-app' })).toThrow(
      'lab/db: databaseName: Invalid value: "my-app": a PostgreSQL identifier',
    );
  });

  test('an exporter with no Prometheus namespace to admit', () => {
    const env = withChange(ENVIRONMENTS['prod-eks'], (e) => {
      delete e.observability.prometheusNamespace;
    });
    expect(() => build({}, env as any)).toThrow(
      'prod-eks/db/Monitoring: env.observability.prometheusNamespace: Invalid value: undefined: the namespace Prometheus runs in',
    );
  });
});

describe('environment validation of scale.db', () => {
  test('a data volume that does not parse is refused with the environment and field', () => {
    const { validateEnvironment } = jest.requireActual('../environments/validate');
    const env = withChange(ENVIRONMENTS['prod-gke'], (e) => {
      e.scale.db = { storage: '50 GB' };
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      'environment "prod-gke": scale.db.storage: Invalid value: "50 GB": a Kubernetes quantity',
    );
  });

  test('requests above limits are refused', () => {
    const { validateEnvironment } = jest.requireActual('../environments/validate');
    const env = withChange(ENVIRONMENTS.lab, (e) => {
      e.scale.db.requests.memory = '1Gi';
    });
    expect(() => validateEnvironment(env, { workloads: WORKLOADS })).toThrow(
      'environment "lab": scale.db.requests.memory: Invalid value: "1Gi": at most the limit (512Mi)',
    );
  });
});
