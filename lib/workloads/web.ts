import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, WorkloadScale } from '../environment';
import { checkWorkloadScale } from '../environments/validate';
import { DisruptionBudget, topologySpread } from '../kit/availability';
import { CONFIG_HASH_ANNOTATION, configHash } from '../kit/config-hash';
import { applyAppArmorRuntimeDefault } from '../kit/escape-hatch';
import { containerResources, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../kit/hardening';
import { checkImage, ImageRef, imageName } from '../kit/image';
import { recommendedLabels, selectorLabels } from '../kit/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../kit/names';
import { dnsEgressRule } from '../kit/network-policy';
import { Problems } from '../kit/validation';
import { nginxConf } from './web-nginx-conf';

export interface WebProps {
  /** The environment to render for. */
  readonly env: Environment;

  /**
   * The app's name: the Namespace, Deployment, Service and every other object are called this.
   * @default 'web'
   */
  readonly name?: string;

  /**
   * The nginx image; an unprivileged build that listens on 8080 and runs as UID/GID 101.
   * @default nginxinc/nginx-unprivileged:1.27.4-alpine
   */
  readonly image?: ImageRef;

  /**
   * Replicas and resources.
   * @default env.scale.web
   */
  readonly scale?: WorkloadScale;
}

/** The image the primer's first example becomes, unprivileged. */
export const WEB_IMAGE: ImageRef = { repository: 'nginxinc/nginx-unprivileged', tag: '1.27.4-alpine' };

/** The port nginx listens on inside the pod: above 1024, so no capability is needed to bind it. */
const HTTP_PORT = 8080;
/** The user and group nginx-unprivileged runs as. */
const NGINX_UID = 101;
/** How long a pod keeps serving after it is marked for deletion, while endpoints drop it. */
const PRE_STOP_SECONDS = 10;

/**
 * The primer's first example, `docker run -p 80:80 nginx`, in its production-grade Kubernetes form:
 * a hardened, autoscaled, spread, disruption-budgeted nginx behind a LoadBalancer Service, in its
 * own namespace, reachable only on its port and able to reach only DNS.
 */
export class Web extends Construct {
  /** The app's name, Namespace and object names. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'web';
    const image = props.image ?? WEB_IMAGE;
    const scale = props.scale ?? env.scale.web;
    this.name = name;

    const p = new Problems(this.node.path);
    p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
    checkImage(p, 'image', image);
    checkWorkloadScale(p, 'scale', scale);
    p.throwIfAny();

    const namespace = name;
    const labels = recommendedLabels({ name, component: 'web-server', version: image.tag });
    const matchLabels = selectorLabels(name);
    const metadata = { name, namespace, labels };

    const config = { 'nginx.conf': nginxConf({ port: HTTP_PORT, ipv6: env.loadBalancing.ipFamilies.includes('IPv6') }) };
    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata, data: config });

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata,
      // nginx never calls the Kubernetes API: no token in the pod to steal.
      automountServiceAccountToken: false,
    });

    const deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata,
      spec: {
        // No replicas: the HorizontalPodAutoscaler owns the scale, and a static count here would
        // reset it on every apply (the primer, 2: autoscaling).
        selector: { matchLabels },
        // Rollouts add one new pod before removing an old one, so capacity never drops, and keep
        // five old ReplicaSets for `kubectl rollout undo` (the primer, 2: rollouts and rollbacks).
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) },
        },
        revisionHistoryLimit: 5,
        minReadySeconds: 5,
        progressDeadlineSeconds: 180,
        template: {
          metadata: {
            labels,
            annotations: { [CONFIG_HASH_ANNOTATION]: configHash(config) },
          },
          spec: {
            serviceAccountName: name,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext({ uid: NGINX_UID, gid: NGINX_UID }),
            // The preStop pause plus nginx's graceful stop (the image's STOPSIGNAL is SIGQUIT, which
            // lets workers finish their requests) fit well inside this (the primer, 1: signals).
            terminationGracePeriodSeconds: PRE_STOP_SECONDS + 20,
            topologySpreadConstraints: topologySpread(env.scale, matchLabels),
            containers: [{
              name: 'nginx',
              image: imageName(env.registry, image),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              resources: containerResources(scale.requests, scale.limits),
              securityContext: restrictedContainerSecurityContext(),
              // Startup: nginx has up to a minute to come up before liveness starts counting.
              startupProbe: {
                httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') },
                periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 1,
              },
              // Liveness: is the nginx process answering at all? If not, restart it (the primer, 2:
              // self-healing). It asks nothing of the content, so a bad page never restarts pods.
              livenessProbe: {
                httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') },
                periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1,
              },
              // Readiness: can it serve the site? Until it can, the pod gets no traffic.
              readinessProbe: {
                httpGet: { path: '/', port: k8s.IntOrString.fromString('http') },
                periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 1,
              },
              // The pause lets kube-proxy and the load balancer drop this pod from their endpoints
              // before nginx is told to stop, so no request meets a closed port.
              lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
              volumeMounts: [
                // nginx.conf from the ConfigMap; a subPath mount never updates in place, which is
                // fine: the config hash above rolls the pods instead.
                { name: 'config', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'cache', mountPath: '/var/cache/nginx' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name } },
              // The pid file and request buffers: tmpfs, counted against the memory limit, capped
              // (the primer, 1: volumes and tmpfs).
              { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
              // nginx's cache directory: node disk, capped so a runaway cache evicts the pod, not the node.
              { name: 'cache', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(deployment), '/spec/template', ['nginx'], env.kubernetesVersion);

    new k8s.KubeHorizontalPodAutoscalerV2(this, 'HorizontalPodAutoscaler', {
      metadata,
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: scale.minReplicas,
        maxReplicas: scale.maxReplicas,
        metrics: [{
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: scale.targetCpuUtilization } },
        }],
        // Scale down slowly: a brief lull should not throw away warm pods.
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    });

    new DisruptionBudget(this, 'PodDisruptionBudget', { name, namespace, labels, matchLabels });

    const lb = env.loadBalancing;
    new k8s.KubeService(this, 'Service', {
      metadata: { ...metadata, annotations: { ...lb.serviceAnnotations } },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: lb.loadBalancerClass,
        ipFamilyPolicy: lb.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack',
        ipFamilies: [...lb.ipFamilies],
        selector: matchLabels,
        ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata,
      spec: {
        podSelector: { matchLabels },
        policyTypes: ['Ingress', 'Egress'],
        // From anywhere, but only to the web port: the load balancer forwards client traffic.
        ingress: [{ ports: [{ protocol: 'TCP', port: k8s.IntOrString.fromNumber(HTTP_PORT) }] }],
        // nginx serves files; it only needs to resolve names.
        egress: [dnsEgressRule()],
      },
    });
  }
}
