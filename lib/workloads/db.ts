import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DatabaseScale, DatabaseScaleSchema, Environment } from '../environment';
import { checkDatabaseScale } from '../environments/validate';
import { workloadScaleIn } from '../environments/workload-scale';
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
import { serviceMonitorFor } from '../platform/observability';
import { PRIORITY_CLASSES } from '../platform/priority-classes';
import {
  DB_CREDENTIALS,
  DB_CREDENTIALS_MOUNT,
  dbCredentialsFile,
  dbCredentialsReferenceAnnotations,
  dbCredentialsVolume,
  declareDbCredentials,
} from './db-credentials';
import { serviceIpFamilies } from '../parts/dual-stack';
import { defineWorkload } from './workload';

export interface DbProps {
  /** The environment to render for. */
  readonly env: Environment;

  /**
   * The app's name: its Namespace, StatefulSet and headless Service are called this, so clients
   * reach it as `<name>.<name>.svc.cluster.local`.
   * @default 'db'
   */
  readonly name?: string;

  /**
   * The PostgreSQL image: Alpine based, its `postgres` user is UID/GID 70.
   * @default postgres:16.9-alpine (Docker Hub's official image, as library/postgres)
   */
  readonly image?: ImageRef;

  /**
   * The metrics exporter sidecar's image, run where the environment's observability stack is
   * prometheus-operator.
   * @default prometheuscommunity/postgres-exporter:v0.17.1
   */
  readonly exporterImage?: ImageRef;

  /**
   * Resources and volume size.
   * @default DB_SCALE, with the environment's scale.db laid over it
   */
  readonly scale?: DatabaseScale;

  /**
   * The database the image creates on first start.
   * @default 'app'
   */
  readonly databaseName?: string;
}

/** Official images live under `library/` on Docker Hub; spelling it out lets pull-through caches find them. */
export const DB_IMAGE: ImageRef = { repository: 'library/postgres', tag: '16.9-alpine' };
export const DB_EXPORTER_IMAGE: ImageRef = { repository: 'prometheuscommunity/postgres-exporter', tag: 'v0.17.1' };

/** db's size where an environment changes nothing: production's, one primary, its resources and its volume. */
export const DB_SCALE: DatabaseScale = {
  requests: { cpu: '1', memory: '2Gi' },
  limits: { cpu: '2', memory: '4Gi' },
  storage: '50Gi',
};

/** PostgreSQL's port; clients (api, batch) import it so that policy and connection agree. */
export const DB_PORT = 5432;
/** The exporter's metrics port. */
export const DB_METRICS_PORT = 9187;
/** The `postgres` user and group of the Alpine image. */
export const POSTGRES_UID = 70;

const DATA_MOUNT = '/var/lib/postgresql/data';
/** The exporter's needs are small and steady; fixed rather than per environment. */
const EXPORTER_RESOURCES = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } };

/**
 * The database: PostgreSQL as a StatefulSet whose data lives on a PersistentVolume from the
 * environment's StorageClass, never in the container's copy-on-write layer, which is lost with the
 * container (https://kubernetes.io/docs/concepts/storage/persistent-volumes/). A headless Service gives the pod a stable DNS name. Only api and batch
 * may connect; the database itself may reach only DNS.
 *
 * One replica: PostgreSQL replication (streaming replicas, failover, fencing) needs an operator such
 * as CloudNativePG; a StatefulSet alone would start independent databases. A single primary on a
 * zonal or replicated volume is the honest shape without one. With one replica there is no
 * PodDisruptionBudget: one with minAvailable 1 would block every node drain forever, and one with
 * maxUnavailable 1 would promise nothing. A drain therefore restarts the database elsewhere
 * (a short outage) and the volume follows it.
 */
export class Db extends Construct {
  /** The app's name, Namespace and object names. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: DbProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'db';
    const image = props.image ?? DB_IMAGE;
    const exporterImage = props.exporterImage ?? DB_EXPORTER_IMAGE;
    const scale = props.scale ?? workloadScaleIn(env, 'db', DB_SCALE);
    const databaseName = props.databaseName ?? 'app';
    const withExporter = env.observability.stack === 'prometheus-operator';
    this.name = name;

    const p = new Problems(this.node.path);
    p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
    checkImage(p, 'image', image);
    checkImage(p, 'exporterImage', exporterImage);
    checkDatabaseScale(p, 'scale', scale);
    p.check(
      /^[a-z_][a-z0-9_]{0,62}$/.test(databaseName),
      'databaseName',
      databaseName,
      'a PostgreSQL identifier: at most 63 lowercase letters, digits and "_", not starting with a digit',
    );
    p.throwIfAny();

    const namespace = name;
    const labels = recommendedLabels({ name, component: 'database', version: image.tag });
    const matchLabels = selectorLabels(name);
    const db: DbParts = {
      env,
      name,
      namespace,
      image,
      exporterImage,
      scale,
      databaseName,
      withExporter,
      labels,
      matchLabels,
      metadata: { name, namespace, labels },
    };

    declareDbCredentials(this, env, namespace);
    this.serviceAccount(db);
    this.service(db);
    this.statefulSet(db);
    this.networkPolicy(db);
    // A ServiceMonitor for the exporter where Prometheus scrapes (production), and in every
    // environment the policy that lets Prometheus in, so the NetworkPolicies are the same everywhere.
    serviceMonitorFor(this, { env, name, namespace, matchLabels, port: 'metrics', podPort: DB_METRICS_PORT });
  }

  private serviceAccount(db: DbParts): void {
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: db.metadata,
      // PostgreSQL never calls the Kubernetes API.
      automountServiceAccountToken: false,
    });
  }

  private service(db: DbParts): void {
    new k8s.KubeService(this, 'Service', {
      metadata: db.metadata,
      spec: {
        // Headless: DNS answers with the pod's own address, and the pod gets the stable name
        // `<name>-0.<name>.<namespace>.svc` that the StatefulSet's serviceName promises.
        clusterIp: 'None',
        ...serviceIpFamilies(db.env.loadBalancing),
        selector: db.matchLabels,
        ports: [
          { name: 'postgres', port: DB_PORT, targetPort: k8s.IntOrString.fromString('postgres'), protocol: 'TCP' },
          ...(db.withExporter
            ? [
                {
                  name: 'metrics',
                  port: DB_METRICS_PORT,
                  targetPort: k8s.IntOrString.fromString('metrics'),
                  protocol: 'TCP',
                },
              ]
            : []),
        ],
      },
    });
  }

  private statefulSet(db: DbParts): void {
    const statefulSet = new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { ...db.metadata, annotations: dbCredentialsReferenceAnnotations(db.env) },
      spec: {
        serviceName: db.name,
        replicas: 1,
        selector: { matchLabels: db.matchLabels },
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate' },
        revisionHistoryLimit: 5,
        // Deleting the StatefulSet or scaling it down keeps the claims and so the data.
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        template: {
          metadata: {
            labels: db.labels,
            // `kubectl logs` and `kubectl exec` pick the database, not the exporter, by default.
            annotations: { 'kubectl.kubernetes.io/default-container': 'postgres' },
          },
          spec: podSpec(db),
        },
        volumeClaimTemplates: [dataClaimTemplate(db)],
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(statefulSet), '/spec/template', db.env);
  }

  private networkPolicy(db: DbParts): void {
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: db.metadata,
      spec: {
        podSelector: { matchLabels: db.matchLabels },
        policyTypes: ['Ingress', 'Egress'],
        // Its clients, on the database port only. (Prometheus's way in to the exporter's port is the
        // monitoring helper's own policy, made after this one.)
        ingress: [{ from: [appPeer('api'), appPeer('batch')], ports: tcpPorts(DB_PORT) }],
        // A database initiates nothing; DNS only.
        egress: [dnsEgressRule()],
      },
    });
  }
}

/** What every piece of the database is built from: the props with their defaults, checked. */
interface DbParts {
  readonly env: Environment;
  readonly name: string;
  readonly namespace: string;
  readonly image: ImageRef;
  readonly exporterImage: ImageRef;
  readonly scale: DatabaseScale;
  readonly databaseName: string;
  /** Whether the metrics exporter runs beside PostgreSQL: where the environment runs prometheus-operator. */
  readonly withExporter: boolean;
  readonly labels: Record<string, string>;
  readonly matchLabels: Record<string, string>;
  readonly metadata: { name: string; namespace: string; labels: Record<string, string> };
}

/** The database pod: the init container, PostgreSQL (and the exporter), and their volumes. */
function podSpec(db: DbParts): k8s.PodSpec {
  return {
    serviceAccountName: db.name,
    automountServiceAccountToken: false,
    // Above web and api: under pressure the scheduler preempts them, not the database
    // everything depends on (see PRIORITY_CLASSES).
    priorityClassName: PRIORITY_CLASSES.database,
    // fsGroup: the kubelet gives the volumes to group 70, so the non-root server can write
    // its data and read the password file (root:70, 0440).
    securityContext: restrictedPodSecurityContext({
      uid: POSTGRES_UID,
      gid: POSTGRES_UID,
      fsGroup: POSTGRES_UID,
    }),
    // The image's stop signal is SIGINT, PostgreSQL's fast shutdown: it ends sessions, writes
    // a checkpoint and exits cleanly well within this, before the kubelet's SIGKILL
    // (https://www.postgresql.org/docs/16/server-shutdown.html).
    terminationGracePeriodSeconds: 60,
    initContainers: [initdbContainer(db)],
    containers: db.withExporter ? [postgresContainer(db), exporterContainer(db)] : [postgresContainer(db)],
    volumes: podVolumes(),
  };
}

/**
 * Where PostgreSQL keeps its data: a subdirectory of the volume, because initdb wants an empty
 * directory it owns, and a fresh volume's root holds lost+found and belongs to root.
 */
function pgDataEnv(): k8s.EnvVar {
  return { name: 'PGDATA', value: `${DATA_MOUNT}/pgdata` };
}

/** The server's writable places: its data volume, and the run-time files outside the read-only root. */
function serverMounts(): k8s.VolumeMount[] {
  return [
    { name: 'data', mountPath: DATA_MOUNT },
    { name: 'run', mountPath: '/var/run/postgresql' },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'shm', mountPath: '/dev/shm' },
  ];
}

/**
 * pg_isready over TCP: it answers only once the real server listens, not while crash recovery
 * runs (and the init container's temporary server listens on the Unix socket only).
 */
function pgIsReady(databaseName: string): k8s.ExecAction {
  return {
    command: ['pg_isready', '--host=127.0.0.1', `--port=${DB_PORT}`, '--username=postgres', `--dbname=${databaseName}`],
  };
}

/**
 * The first start's initialisation (initdb, the password, the database) in an init container,
 * with the image's own script for exactly this: docker-ensure-initdb.sh initialises an empty
 * PGDATA and exits, and does nothing if it holds a database (docker-library/postgres, added in
 * December 2023 and copied into /usr/local/bin by the 16.9 Alpine Dockerfile;
 * https://github.com/docker-library/postgres/blob/master/docker-ensure-initdb.sh).
 *
 * Why not POSTGRES_PASSWORD_FILE on the server container: the image's entrypoint reads the file
 * with `file_env`, which *exports* POSTGRES_PASSWORD and then `exec`s the server
 * (https://github.com/docker-library/postgres/blob/master/docker-entrypoint.sh), so the running
 * server's environment would hold the password. Here only this short-lived container reads the
 * file; the server container has no password and no Secret mounted. Tried with the image's two
 * scripts at the 16.9 tag and PostgreSQL 16, as a non-root user: with POSTGRES_PASSWORD_FILE on
 * the server, the postmaster's /proc/<pid>/environ and a program it starts (COPY TO PROGRAM)
 * hold POSTGRES_PASSWORD=<the password>; this way both hold an empty POSTGRES_PASSWORD, and
 * psql logs in to the initialised database with the password from the Secret.
 * If PGDATA is ever empty when the server starts, its entrypoint refuses to initialise without
 * a password and the container fails, visibly, rather than start an unprotected database.
 */
function initdbContainer(db: DbParts): k8s.Container {
  return {
    name: 'initdb',
    image: imageName(db.env.registry, db.image),
    imagePullPolicy: 'IfNotPresent',
    command: ['docker-ensure-initdb.sh'],
    env: [
      { name: 'POSTGRES_PASSWORD_FILE', value: dbCredentialsFile(DB_CREDENTIALS.passwordKey) },
      { name: 'POSTGRES_DB', value: db.databaseName },
      pgDataEnv(),
    ],
    resources: containerResources(db.scale.requests, db.scale.limits),
    securityContext: restrictedContainerSecurityContext(),
    volumeMounts: [...serverMounts(), DB_CREDENTIALS_MOUNT],
  };
}

/** The PostgreSQL server, with probes patient enough for crash recovery and checkpoints. */
function postgresContainer(db: DbParts): k8s.Container {
  const pgIsReadyCommand = pgIsReady(db.databaseName);
  return {
    name: 'postgres',
    image: imageName(db.env.registry, db.image),
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'postgres', containerPort: DB_PORT, protocol: 'TCP' }],
    // The image's entrypoint finds PGDATA initialised (by the init container) and starts the server.
    env: [pgDataEnv()],
    resources: containerResources(db.scale.requests, db.scale.limits),
    securityContext: restrictedContainerSecurityContext(),
    // Crash recovery after an unclean stop can take minutes; until the startup probe passes,
    // liveness does not count.
    startupProbe: { exec: pgIsReadyCommand, periodSeconds: 5, failureThreshold: 120, timeoutSeconds: 3 },
    // Liveness is patient: a database busy with a checkpoint answers slowly, and restarting it
    // then only adds crash recovery to the load.
    livenessProbe: { exec: pgIsReadyCommand, periodSeconds: 15, failureThreshold: 6, timeoutSeconds: 5 },
    // Readiness is quick: a database that stops answering leaves the Service's endpoints at once.
    readinessProbe: { exec: pgIsReadyCommand, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 3 },
    volumeMounts: serverMounts(),
  };
}

/** The metrics exporter sidecar: reads PostgreSQL over loopback, serves Prometheus on its own port. */
function exporterContainer(db: DbParts): k8s.Container {
  return {
    name: 'exporter',
    image: imageName(db.env.registry, db.exporterImage),
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'metrics', containerPort: DB_METRICS_PORT, protocol: 'TCP' }],
    env: [
      // Over loopback inside the pod: the exporter shares the pod's network namespace.
      { name: 'DATA_SOURCE_URI', value: `127.0.0.1:${DB_PORT}/${db.databaseName}?sslmode=disable` },
      { name: 'DATA_SOURCE_USER', value: 'postgres' },
      // postgres_exporter reads the password from this file (and trims white space) when the
      // variable is set (cmd/postgres_exporter/datasource.go, getDataSources; its README).
      { name: 'DATA_SOURCE_PASS_FILE', value: dbCredentialsFile(DB_CREDENTIALS.passwordKey) },
    ],
    volumeMounts: [DB_CREDENTIALS_MOUNT],
    resources: containerResources(EXPORTER_RESOURCES.requests, EXPORTER_RESOURCES.limits),
    securityContext: restrictedContainerSecurityContext(),
    // The exporter's landing page: answers without querying the database, so a slow database
    // never restarts the exporter.
    startupProbe: {
      httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') },
      periodSeconds: 2,
      failureThreshold: 30,
      timeoutSeconds: 2,
    },
    livenessProbe: {
      httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') },
      periodSeconds: 20,
      failureThreshold: 3,
      timeoutSeconds: 2,
    },
    readinessProbe: {
      httpGet: { path: '/', port: k8s.IntOrString.fromString('metrics') },
      periodSeconds: 10,
      failureThreshold: 2,
      timeoutSeconds: 2,
    },
  };
}

/** The pod's volumes besides its data: the password, and the places written at run time. */
function podVolumes(): k8s.Volume[] {
  return [
    // The password as a file on tmpfs (a Secret volume, never on disk), for the init
    // container and the exporter only.
    dbCredentialsVolume([DB_CREDENTIALS.passwordKey]),
    // The Unix socket and lock file, and temporary files: written at run time, outside
    // the read-only root filesystem.
    { name: 'run', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('1Mi') } },
    { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('256Mi') } },
    // Parallel queries share memory through /dev/shm; the runtime's default is 64Mi.
    // tmpfs, so it counts against the memory limit
    // (https://kubernetes.io/docs/concepts/storage/volumes/#emptydir).
    { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('128Mi') } },
  ];
}

/** The data volume's claim, one per replica, on the environment's StorageClass. */
function dataClaimTemplate(db: DbParts): k8s.KubePersistentVolumeClaimProps {
  return {
    metadata: { name: 'data', labels: db.labels },
    spec: {
      accessModes: ['ReadWriteOnce'],
      storageClassName: db.env.storage.storageClassName,
      resources: { requests: { storage: k8s.Quantity.fromString(db.scale.storage) } },
    },
  };
}

// This file is a workload because of its default export, listed in index.ts.
export default defineWorkload({
  name: 'db',
  scale: { schema: DatabaseScaleSchema, defaults: DB_SCALE },
  build: (scope, id, env) => new Db(scope, id, { env }),
});
