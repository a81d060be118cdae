import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, WorkloadScale } from '../environment';
import { checkWorkloadScale } from '../environments/validate';
import { CpuAutoscaler, surgeOneRollingUpdate } from '../parts/autoscaling';
import { DisruptionBudget, lostNodeTolerations, topologySpread } from '../parts/availability';
import { CONFIG_HASH_ANNOTATION, configHash } from '../parts/config-hash';
import { applyAppArmorRuntimeDefault } from '../parts/escape-hatch';
import {
  containerResources,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../parts/hardening';
import { checkImage, ImageRef, imageName } from '../parts/image';
import { recommendedLabels, selectorLabels } from '../k8s/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../k8s/names';
import { Problems } from '../k8s/validation';
import { PRIORITY_CLASSES } from '../platform/priority-classes';
import { nginxConf, responseHeaderProblems } from './web-nginx-conf';

/** nginx in its unprivileged build: listens on 8080, runs as UID/GID 101. */
export const NGINX_IMAGE: ImageRef = { repository: 'nginxinc/nginx-unprivileged', tag: '1.27.4-alpine' };

/** The port nginx listens on inside the pod: above 1024, so no capability is needed to bind it. */
export const NGINX_HTTP_PORT = 8080;
/** The user and group nginx-unprivileged runs as. */
const NGINX_UID = 101;

export interface NginxServerProps {
  readonly env: Environment;
  /** The app's name: its namespace and every object's name. */
  readonly name: string;
  /** The recommended `component` label. */
  readonly component: string;
  readonly image: ImageRef;
  readonly scale: WorkloadScale;
  /** Seconds a stopping pod keeps serving while endpoints and load balancers drop it. */
  readonly preStopSeconds: number;
  /** Startup probe attempts, 2 s apart, before liveness starts counting. */
  readonly startupFailureThreshold: number;
  /** Seconds each probe may take. */
  readonly probeTimeoutSeconds: number;
  /** Seconds a rollout may make no progress before it is reported failed. */
  readonly progressDeadlineSeconds: number;
  /**
   * The RuntimeClass the pods run under.
   * @default - the node's default runtime (runc)
   */
  readonly runtimeClassName?: string;
  /**
   * Annotations of the Deployment itself.
   * @default - none
   */
  readonly deploymentAnnotations?: Readonly<Record<string, string>>;
  /**
   * Headers nginx adds to every response. A change to them changes nginx.conf, and so rolls the pods.
   * @default - none
   */
  readonly responseHeaders?: Readonly<Record<string, string>>;
}

/** What addNginxServer made, for the Service and NetworkPolicy each app adds in its own way. */
export interface NginxServer {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly matchLabels: Record<string, string>;
}

/**
 * The hardened, autoscaled nginx that web and sandboxed share: its ConfigMap, ServiceAccount,
 * Deployment, HorizontalPodAutoscaler and PodDisruptionBudget, added to `scope` (so construct paths
 * read `lab/web/Deployment`). The name, image and scale are validated first, in `scope`'s name.
 */
export function addNginxServer(scope: Construct, props: NginxServerProps): NginxServer {
  const { env, name, image, scale } = props;
  const p = new Problems(scope.node.path);
  p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
  checkImage(p, 'image', image);
  checkWorkloadScale(p, 'scale', scale);
  for (const [field, value, allowed] of responseHeaderProblems(props.responseHeaders ?? {})) {
    p.check(false, field, value, allowed);
  }
  p.throwIfAny();

  const namespace = name;
  const labels = recommendedLabels({ name, component: props.component, version: image.tag });
  const matchLabels = selectorLabels(name);
  const metadata = { name, namespace, labels };

  const config = {
    'nginx.conf': nginxConf({
      port: NGINX_HTTP_PORT,
      ipv6: env.loadBalancing.ipFamilies.includes('IPv6'),
      responseHeaders: props.responseHeaders,
    }),
  };
  new k8s.KubeConfigMap(scope, 'ConfigMap', { metadata, data: config });

  // nginx never calls the Kubernetes API: no token in the pod to steal.
  new k8s.KubeServiceAccount(scope, 'ServiceAccount', { metadata, automountServiceAccountToken: false });

  const probe = (path: string, periodSeconds: number, failureThreshold: number): k8s.Probe => ({
    httpGet: { path, port: k8s.IntOrString.fromString('http') },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: props.probeTimeoutSeconds,
  });

  const deployment = new k8s.KubeDeployment(scope, 'Deployment', {
    metadata: {
      ...metadata,
      annotations: props.deploymentAnnotations ? { ...props.deploymentAnnotations } : undefined,
    },
    spec: {
      // No replicas: the HorizontalPodAutoscaler owns the scale, and a static count here would
      // reset it on every apply (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/).
      selector: { matchLabels },
      // Keep five old ReplicaSets for `kubectl rollout undo`: each is a revision to roll back to.
      strategy: surgeOneRollingUpdate(),
      revisionHistoryLimit: 5,
      minReadySeconds: 5,
      progressDeadlineSeconds: props.progressDeadlineSeconds,
      template: {
        metadata: {
          labels,
          // A change to nginx.conf changes this hash, so the pods roll (a mounted ConfigMap alone would not).
          annotations: { [CONFIG_HASH_ANNOTATION]: configHash(config) },
        },
        spec: {
          runtimeClassName: props.runtimeClassName,
          priorityClassName: PRIORITY_CLASSES.service,
          serviceAccountName: name,
          automountServiceAccountToken: false,
          securityContext: restrictedPodSecurityContext({ uid: NGINX_UID, gid: NGINX_UID }),
          // The preStop pause plus nginx's graceful stop (the image's STOPSIGNAL is SIGQUIT, which
          // lets workers finish their requests) fit well inside this; past it the kubelet sends SIGKILL
          // (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
          terminationGracePeriodSeconds: props.preStopSeconds + 20,
          topologySpreadConstraints: topologySpread(env.scale, matchLabels),
          tolerations: lostNodeTolerations(env.scale),
          containers: [
            {
              name: 'nginx',
              image: imageName(env.registry, image),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: NGINX_HTTP_PORT, protocol: 'TCP' }],
              resources: containerResources(scale.requests, scale.limits),
              securityContext: restrictedContainerSecurityContext(),
              // Startup: time to come up before liveness starts counting.
              startupProbe: probe('/healthz', 2, props.startupFailureThreshold),
              // Liveness: is the nginx process answering at all? If not, the kubelet restarts it
              // (self-healing). It asks nothing of the content, so a bad page never restarts pods.
              livenessProbe: probe('/healthz', 10, 3),
              // Readiness: can it serve the site? Until it can, the pod gets no traffic.
              readinessProbe: probe('/', 5, 2),
              // The pause lets kube-proxy and the load balancer drop this pod from their endpoints
              // before nginx is told to stop, so no request meets a closed port.
              lifecycle: { preStop: { exec: { command: ['sleep', String(props.preStopSeconds)] } } },
              volumeMounts: [
                // nginx.conf from the ConfigMap; a subPath mount never updates in place, which is
                // fine: the config hash above rolls the pods instead.
                { name: 'config', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'cache', mountPath: '/var/cache/nginx' },
              ],
            },
          ],
          volumes: [
            { name: 'config', configMap: { name } },
            // The pid file and request buffers: tmpfs, counted against the memory limit, capped
            // (https://kubernetes.io/docs/concepts/storage/volumes/#emptydir).
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
            // nginx's cache directory: node disk, capped so a runaway cache evicts the pod, not the node.
            { name: 'cache', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
          ],
        },
      },
    },
  });
  applyAppArmorRuntimeDefault(ApiObject.of(deployment), '/spec/template', env);

  new CpuAutoscaler(scope, 'HorizontalPodAutoscaler', { name, namespace, labels, scale });
  new DisruptionBudget(scope, 'PodDisruptionBudget', { name, namespace, labels, matchLabels });
  return { namespace, labels, matchLabels };
}
