import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, WorkloadScale, WorkloadScaleSchema } from '../environment';
import { checkGuaranteedQos, checkWorkloadScale } from '../environments/validate';
import { workloadScaleIn } from '../environments/workload-scale';
import { rules } from '../k8s/schema-problems';
import { CpuAutoscaler, surgeOneRollingUpdate } from '../parts/autoscaling';
import { DisruptionBudget, lostNodeTolerations, topologySpread } from '../parts/availability';
import { CONFIG_HASH_ANNOTATION, configHash } from '../parts/config-hash';
import { applyAppArmorRuntimeDefault, applyPreStopSleep } from '../parts/escape-hatch';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../parts/hardening';
import { checkImage, ImageRef, imageName } from '../parts/image';
import { recommendedLabels, selectorLabels } from '../k8s/labels';
import { DNS1123_LABEL_RULE, DNS1123_SUBDOMAIN_RULE, isDns1123Label, isDns1123Subdomain } from '../k8s/names';
import { dnsEgressRule } from '../parts/network-policy';
import { appPeer, namespacePeer, tcpPorts } from '../parts/network-peers';
import { Problems } from '../k8s/validation';
import { PRIORITY_CLASSES } from '../platform/priority-classes';
import { OUT_OF_BAND_PREFIX } from '../policy';
import { checkWorkloadIdentity, workloadIdentity } from '../parts/workload-identity';
import { DB_PORT } from './db';
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

export interface ApiProps {
  /** The environment to render for. */
  readonly env: Environment;

  /**
   * The app's name: its Namespace, Deployment, Service, Ingress and the rest are called this.
   * @default 'api'
   */
  readonly name?: string;

  /**
   * The HTTP server image: a static binary on a distroless base that answers every path with a text.
   * @default hashicorp/http-echo:1.0.0
   */
  readonly image?: ImageRef;

  /**
   * Replicas and resources; requests must equal limits (a Guaranteed QoS pod).
   * @default API_SCALE, with the environment's scale.api laid over it
   */
  readonly scale?: WorkloadScale;

  /**
   * The host name the Ingress answers to and the certificate is issued for.
   * @default `<name>.<the environment's ingress domain>`
   */
  readonly host?: string;

  /**
   * Settings, as environment variables from the ConfigMap. Merged over the defaults.
   * @default ECHO_TEXT and the database's address (DATABASE_HOST, DATABASE_PORT, DATABASE_NAME, DATABASE_USER)
   */
  readonly settings?: Readonly<Record<string, string>>;
}

/** A small HTTP server from HashiCorp; its image runs as the distroless `nonroot` user. */
export const API_IMAGE: ImageRef = { repository: 'hashicorp/http-echo', tag: '1.0.0' };

/**
 * api's size where an environment changes nothing: production's. Requests equal limits, so its pods
 * are in the Guaranteed QoS class beside web's Burstable ones, the last to be evicted under node pressure
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/).
 */
export const API_SCALE: WorkloadScale = {
  minReplicas: 3,
  maxReplicas: 12,
  targetCpuUtilization: 70,
  requests: { cpu: '250m', memory: '128Mi' },
  limits: { cpu: '250m', memory: '128Mi' },
};

/** An environment's scale for api: a workload's, with requests equal to limits (Guaranteed QoS). */
export const ApiScaleSchema = WorkloadScaleSchema.superRefine(
  rules<WorkloadScale>((s, p) => checkGuaranteedQos(p, '', s.requests, s.limits)),
);

/** The port the server listens on: above 1024, so no capability is needed to bind it. */
const HTTP_PORT = 8080;
/** Seconds a stopping pod keeps serving while endpoints drop it. */
const PRE_STOP_SECONDS = 5;
/** distroless's `nonroot` user and group. */
const NONROOT_UID = 65532;
/** An environment variable name as POSIX shells and most runtimes accept it. */
const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The stateless service: a Guaranteed-QoS, autoscaled HTTP server behind an Ingress with a
 * cert-manager certificate, a dual-stack ClusterIP Service, settings from a ConfigMap and the
 * database password from a Secret (as a file), both by reference, and the environment's workload
 * identity on its ServiceAccount. It may be reached only from the ingress controller, and may reach only the
 * database and DNS.
 */
export class Api extends Construct {
  /** The app's name, Namespace and object names. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'api';
    const image = props.image ?? API_IMAGE;
    const scale = props.scale ?? workloadScaleIn(env, 'api', API_SCALE);
    const ingress = env.loadBalancing.ingress;
    const host = props.host ?? `${name}.${ingress.domain}`;
    this.name = name;

    const settings: Record<string, string> = {
      // What the echo server answers; the only setting http-echo itself reads.
      ECHO_TEXT: `hello from ${name}`,
      // Where the database is: the headless Service of the db workload, by its cluster DNS name.
      // The echo server stands in for a real api, which would read these and the password below.
      DATABASE_HOST: 'db.db.svc.cluster.local',
      DATABASE_PORT: String(DB_PORT),
      DATABASE_NAME: 'app',
      DATABASE_USER: 'postgres',
      ...props.settings,
    };

    const p = new Problems(this.node.path);
    p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
    checkImage(p, 'image', image);
    checkWorkloadScale(p, 'scale', scale);
    checkGuaranteedQos(p, 'scale', scale.requests, scale.limits);
    p.check(
      isDns1123Subdomain(host) && host.includes('.'),
      'host',
      host,
      `a fully qualified DNS name: ${DNS1123_SUBDOMAIN_RULE}`,
    );
    for (const [key, value] of Object.entries(settings)) {
      p.check(
        ENV_VAR_NAME.test(key),
        `settings.${key}`,
        key,
        'an environment variable name: letters, digits and "_", not starting with a digit',
      );
      p.check(typeof value === 'string', `settings.${key}`, value, 'a string');
    }
    checkWorkloadIdentity(p, env.identity, name);
    p.throwIfAny();

    const namespace = name;
    const labels = recommendedLabels({ name, component: 'api-server', version: image.tag });
    const matchLabels = selectorLabels(name);
    const api: ApiParts = {
      env,
      name,
      namespace,
      image,
      scale,
      host,
      settings,
      labels,
      matchLabels,
      metadata: { name, namespace, labels },
      identity: workloadIdentity(env.identity, name),
    };

    declareDbCredentials(this, env, namespace);
    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata: api.metadata, data: settings });
    this.serviceAccount(api);
    this.deployment(api);
    new CpuAutoscaler(this, 'HorizontalPodAutoscaler', { name, namespace, labels, scale });
    new DisruptionBudget(this, 'PodDisruptionBudget', { name, namespace, labels, matchLabels });
    this.service(api);
    this.ingress(api);
    this.networkPolicy(api);
  }

  private serviceAccount(api: ApiParts): void {
    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      // The cloud identity (if any) is bound to this ServiceAccount; the Kubernetes API token is not
      // mounted: the server never calls the API, and the cloud token is projected separately by the
      // provider's webhook or served by its metadata server.
      metadata: { ...api.metadata, annotations: api.identity.serviceAccountAnnotations },
      automountServiceAccountToken: false,
    });
  }

  private deployment(api: ApiParts): void {
    const deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { ...api.metadata, annotations: dbCredentialsReferenceAnnotations(api.env) },
      spec: {
        // No replicas: the HorizontalPodAutoscaler owns the scale, and a count here would reset it on
        // every apply (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/).
        selector: { matchLabels: api.matchLabels },
        strategy: surgeOneRollingUpdate(),
        revisionHistoryLimit: 5,
        minReadySeconds: 5,
        progressDeadlineSeconds: 180,
        template: {
          metadata: {
            labels: { ...api.labels, ...api.identity.podLabels },
            // Environment variables are read once, at start: a settings change must roll the pods.
            annotations: { [CONFIG_HASH_ANNOTATION]: configHash(api.settings) },
          },
          spec: podSpec(api),
        },
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(deployment), '/spec/template', api.env);
    applyPreStopSleep(ApiObject.of(deployment), '/spec/template/spec/containers/0', PRE_STOP_SECONDS);
  }

  private service(api: ApiParts): void {
    new k8s.KubeService(this, 'Service', {
      metadata: api.metadata,
      spec: {
        // Reached inside the cluster (by the ingress controller), so a ClusterIP; dual-stack where
        // the cluster is (https://kubernetes.io/docs/concepts/services-networking/dual-stack/).
        type: 'ClusterIP',
        ...serviceIpFamilies(api.env.loadBalancing),
        selector: api.matchLabels,
        ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });
  }

  private ingress(api: ApiParts): void {
    const ingress = api.env.loadBalancing.ingress;
    const tlsSecretName = `${api.name}-tls`;
    new k8s.KubeIngress(this, 'Ingress', {
      metadata: {
        ...api.metadata,
        // cert-manager's ingress-shim sees this and keeps a certificate for the hosts below in the
        // tls Secret, renewing it before it expires.
        annotations: {
          'cert-manager.io/cluster-issuer': ingress.clusterIssuer,
          // The guardrails' reference check: the tls Secret is made in the cluster, not by this project.
          [`${OUT_OF_BAND_PREFIX}secret.${tlsSecretName}`]:
            'issued and renewed by cert-manager from the cert-manager.io/cluster-issuer annotation',
        },
      },
      spec: {
        ingressClassName: ingress.className,
        tls: [{ hosts: [api.host], secretName: tlsSecretName }],
        rules: [
          {
            host: api.host,
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: api.name, port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      },
    });
  }

  private networkPolicy(api: ApiParts): void {
    const ingress = api.env.loadBalancing.ingress;
    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: api.metadata,
      spec: {
        podSelector: { matchLabels: api.matchLabels },
        policyTypes: ['Ingress', 'Egress'],
        // Only the ingress controller forwards to the pods, and only to the server's port. Where the
        // cloud's load balancer sends traffic straight to the pods (no controller namespace), there
        // is no in-cluster peer to name: the port is open, nothing else.
        ingress: [
          ingress.controllerNamespace !== undefined
            ? { from: [namespacePeer(ingress.controllerNamespace)], ports: tcpPorts(HTTP_PORT) }
            : { ports: tcpPorts(HTTP_PORT) },
        ],
        // The database, and DNS to find it.
        egress: [{ to: [appPeer('db')], ports: tcpPorts(DB_PORT) }, dnsEgressRule()],
      },
    });
  }
}

/** What every piece of the api is built from: the props with their defaults, checked. */
interface ApiParts {
  readonly env: Environment;
  readonly name: string;
  readonly namespace: string;
  readonly image: ImageRef;
  readonly scale: WorkloadScale;
  /** The host name the Ingress answers to. */
  readonly host: string;
  /** The ConfigMap's data: the defaults with the props' settings over them. */
  readonly settings: Record<string, string>;
  readonly labels: Record<string, string>;
  readonly matchLabels: Record<string, string>;
  readonly metadata: { name: string; namespace: string; labels: Record<string, string> };
  /** The environment's cloud identity for this app: ServiceAccount annotations and pod labels. */
  readonly identity: ReturnType<typeof workloadIdentity>;
}

/** The api pod: one hardened http-echo container, spread, with the database password as a file. */
function podSpec(api: ApiParts): k8s.PodSpec {
  return {
    // Beside web, below the database it depends on: under pressure the scheduler preempts lower classes.
    priorityClassName: PRIORITY_CLASSES.service,
    serviceAccountName: api.name,
    automountServiceAccountToken: false,
    // fsGroup: the kubelet makes the password file root:65532, 0440, readable by the server
    // and no other user.
    securityContext: restrictedPodSecurityContext({ uid: NONROOT_UID, gid: NONROOT_UID, fsGroup: NONROOT_UID }),
    // http-echo stops on SIGTERM at once (it drains only on SIGINT), so the kubelet's own
    // preStop sleep (applyPreStopSleep: the distroless image has no `sleep` to exec) keeps it serving
    // while endpoints drop the pod; the grace period covers the pause and the stop.
    terminationGracePeriodSeconds: PRE_STOP_SECONDS + 10,
    topologySpreadConstraints: topologySpread(api.env.scale, api.matchLabels),
    tolerations: lostNodeTolerations(api.env.scale),
    volumes: [dbCredentialsVolume([DB_CREDENTIALS.passwordKey])],
    containers: [httpEchoContainer(api)],
  };
}

/** The HTTP server: settings from the ConfigMap, Guaranteed QoS, and probes on its health path. */
function httpEchoContainer(api: ApiParts): k8s.Container {
  return {
    name: 'http-echo',
    image: imageName(api.env.registry, api.image),
    imagePullPolicy: 'IfNotPresent',
    args: [`-listen=:${HTTP_PORT}`],
    ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
    // Settings by reference: every key of the ConfigMap becomes a variable.
    envFrom: [{ configMapRef: { name: api.name } }],
    env: [
      {
        // The credential by reference, as a file: the value lives only in the cluster's
        // Secret, never in this repository or dist/ (settings in a ConfigMap, credentials in a Secret),
        // and reaches the process on tmpfs, never in its environment. The variable holds
        // the path; a real api reads the file (the `_FILE` convention of the official images).
        name: 'DATABASE_PASSWORD_FILE',
        value: dbCredentialsFile(DB_CREDENTIALS.passwordKey),
      },
    ],
    volumeMounts: [DB_CREDENTIALS_MOUNT],
    // requests == limits: the Guaranteed QoS class, whose pods are the last the kubelet
    // evicts under memory pressure (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/).
    resources: containerResources(api.scale.requests, api.scale.limits),
    securityContext: restrictedContainerSecurityContext(),
    startupProbe: {
      httpGet: { path: '/health', port: k8s.IntOrString.fromString('http') },
      periodSeconds: 1,
      failureThreshold: 30,
      timeoutSeconds: 1,
    },
    // Liveness: is the process answering at all? If not, the kubelet restarts it (self-healing).
    livenessProbe: {
      httpGet: { path: '/health', port: k8s.IntOrString.fromString('http') },
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 1,
    },
    // Readiness: checked more often and dropped sooner, so a struggling pod leaves the
    // Service's endpoints long before liveness would restart it.
    readinessProbe: {
      httpGet: { path: '/health', port: k8s.IntOrString.fromString('http') },
      periodSeconds: 5,
      failureThreshold: 2,
      timeoutSeconds: 1,
    },
  };
}

// This file is a workload because of its default export, listed in index.ts.
export default defineWorkload({
  name: 'api',
  scale: { schema: ApiScaleSchema, defaults: API_SCALE },
  build: (scope, id, env) => new Api(scope, id, { env }),
});
