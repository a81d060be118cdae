import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, WorkloadScale } from '../environment';
import { checkWorkloadScale } from '../environments/validate';
import { CpuAutoscaler, surgeOneRollingUpdate } from '../kit/autoscaling';
import { DisruptionBudget, topologySpread } from '../kit/availability';
import { CONFIG_HASH_ANNOTATION, configHash } from '../kit/config-hash';
import { applyAppArmorRuntimeDefault } from '../kit/escape-hatch';
import { containerResources, restrictedContainerSecurityContext, restrictedPodSecurityContext } from '../kit/hardening';
import { checkImage, ImageRef, imageName } from '../kit/image';
import { recommendedLabels, selectorLabels } from '../kit/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../kit/names';
import { dnsEgressRule } from '../kit/network-policy';
import { tcpPorts } from '../kit/network-peers';
import { Problems } from '../kit/validation';
import { PRIORITY_CLASSES } from '../platform/priority-classes';
import { OUT_OF_BAND_PREFIX } from '../policy/checks/references';
import { WEB_IMAGE } from './web';
import { nginxConf } from './web-nginx-conf';

export interface SandboxedProps {
  /** The environment to render for. */
  readonly env: Environment;

  /**
   * The app's name, Namespace and object names.
   * @default 'sandboxed'
   */
  readonly name?: string;

  /**
   * The server image; an unprivileged nginx that listens on 8080 as UID/GID 101.
   * @default the web workload's image
   */
  readonly image?: ImageRef;

  /**
   * Replicas and resources.
   * @default env.scale.sandboxed
   */
  readonly scale?: WorkloadScale;
}

const HTTP_PORT = 8080;
const NGINX_UID = 101;
const PRE_STOP_SECONDS = 5;

/**
 * The primer's answer to "containers share the host's kernel": a workload that runs under a
 * stronger isolation runtime chosen through its RuntimeClass (the primer: RuntimeClass, gVisor's
 * runsc). Under gVisor the pod's system calls are served by a user-space kernel, not the host's, so
 * a kernel exploit in the container meets gVisor's Sentry instead of Linux; AKS offers Kata's
 * lightweight VMs under the same field. The runtime class comes from the environment; everything
 * else is held to the same bar as web (restricted, spread, budgeted), and it can reach nothing but DNS.
 */
export class Sandboxed extends Construct {
  public readonly name: string;

  constructor(scope: Construct, id: string, props: SandboxedProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'sandboxed';
    const image = props.image ?? WEB_IMAGE;
    const scale = props.scale ?? env.scale.sandboxed;
    const runtime = env.sandboxRuntime;
    this.name = name;

    const p = new Problems(this.node.path);
    p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
    checkImage(p, 'image', image);
    checkWorkloadScale(p, 'scale', scale);
    p.throwIfAny();

    const namespace = name;
    const labels = recommendedLabels({ name, component: 'sandboxed-server', version: image.tag });
    const matchLabels = selectorLabels(name);
    const metadata = { name, namespace, labels };

    const config = { 'nginx.conf': nginxConf({ port: HTTP_PORT, ipv6: env.loadBalancing.ipFamilies.includes('IPv6') }) };
    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata, data: config });

    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata, automountServiceAccountToken: false });

    const deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: {
        ...metadata,
        // Where the managed platform defines the RuntimeClass itself (GKE Sandbox, AKS Pod
        // Sandboxing), the guardrails' reference check is told so here, where a reviewer reads it.
        annotations: runtime.providedByPlatform
          ? { [`${OUT_OF_BAND_PREFIX}runtimeclass.${runtime.className}`]: `defined by the managed platform for its sandbox node pools (handler ${runtime.handler})` }
          : {},
      },
      spec: {
        selector: { matchLabels },
        strategy: surgeOneRollingUpdate(),
        revisionHistoryLimit: 5,
        minReadySeconds: 5,
        progressDeadlineSeconds: 300,
        template: {
          metadata: { labels, annotations: { [CONFIG_HASH_ANNOTATION]: configHash(config) } },
          spec: {
            // The isolation runtime: containerd starts this pod's containers with the RuntimeClass's
            // handler (runsc for gVisor) instead of runc. The RuntimeClass's own scheduling rules send
            // the pod to nodes that have the runtime installed.
            runtimeClassName: runtime.className,
            priorityClassName: PRIORITY_CLASSES.service,
            serviceAccountName: name,
            automountServiceAccountToken: false,
            // seccomp and AppArmor stay on: Pod Security requires them, and they confine what the
            // runtime starts on the host.
            securityContext: restrictedPodSecurityContext({ uid: NGINX_UID, gid: NGINX_UID }),
            terminationGracePeriodSeconds: PRE_STOP_SECONDS + 20,
            topologySpreadConstraints: topologySpread(env.scale, matchLabels),
            containers: [{
              name: 'nginx',
              image: imageName(env.registry, image),
              imagePullPolicy: 'IfNotPresent',
              ports: [{ name: 'http', containerPort: HTTP_PORT, protocol: 'TCP' }],
              resources: containerResources(scale.requests, scale.limits),
              securityContext: restrictedContainerSecurityContext(),
              // A sandbox starts more slowly than runc (the Sentry boots first): a generous startup.
              startupProbe: {
                httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') },
                periodSeconds: 2, failureThreshold: 45, timeoutSeconds: 2,
              },
              livenessProbe: {
                httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') },
                periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2,
              },
              readinessProbe: {
                httpGet: { path: '/', port: k8s.IntOrString.fromString('http') },
                periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2,
              },
              lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SECONDS)] } } },
              volumeMounts: [
                { name: 'config', mountPath: '/etc/nginx/nginx.conf', subPath: 'nginx.conf', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'cache', mountPath: '/var/cache/nginx' },
              ],
            }],
            volumes: [
              { name: 'config', configMap: { name } },
              { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString('16Mi') } },
              { name: 'cache', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });
    applyAppArmorRuntimeDefault(ApiObject.of(deployment), '/spec/template', ['nginx'], env.kubernetesVersion);

    new CpuAutoscaler(this, 'HorizontalPodAutoscaler', { name, namespace, labels, scale });

    new DisruptionBudget(this, 'PodDisruptionBudget', { name, namespace, labels, matchLabels });

    const families = env.loadBalancing.ipFamilies;
    new k8s.KubeService(this, 'Service', {
      metadata,
      spec: {
        type: 'ClusterIP',
        ipFamilyPolicy: families.length > 1 ? 'RequireDualStack' : 'SingleStack',
        ipFamilies: [...families],
        selector: matchLabels,
        ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata,
      spec: {
        podSelector: { matchLabels },
        policyTypes: ['Ingress', 'Egress'],
        // Only from pods in its own namespace (a client started there to try it), on the web port:
        // what runs in a sandbox is treated as untrusted, so nothing else is wired to it.
        ingress: [{ from: [{ podSelector: {} }], ports: tcpPorts(HTTP_PORT) }],
        // And it reaches nothing but DNS: a compromised sandbox has nowhere to go.
        egress: [dnsEgressRule()],
      },
    });
  }
}
