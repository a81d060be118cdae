import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, WorkloadScale, WorkloadScaleSchema } from '../environment';
import { workloadScaleIn } from '../environments/workload-scale';
import { ImageRef } from '../parts/image';
import { dnsEgressRule } from '../parts/network-policy';
import { tcpPorts } from '../parts/network-peers';
import { OUT_OF_BAND_PREFIX } from '../policy';
import { addNginxServer, NGINX_HTTP_PORT, NGINX_IMAGE } from './nginx-server';
import { serviceIpFamilies } from '../parts/dual-stack';
import { defineWorkload } from './workload';

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
   * @default SANDBOXED_SCALE, with the environment's scale.sandboxed laid over it
   */
  readonly scale?: WorkloadScale;
}

/**
 * The sandboxed workload's size where an environment changes nothing: production's. Its pods run
 * under gVisor, which costs some memory per pod beside the container's own.
 */
export const SANDBOXED_SCALE: WorkloadScale = {
  minReplicas: 2,
  maxReplicas: 6,
  targetCpuUtilization: 70,
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '256Mi' },
};

/**
 * The answer to "containers share the host's kernel": a workload that runs under a
 * stronger isolation runtime chosen through its RuntimeClass
 * (https://kubernetes.io/docs/concepts/containers/runtime-class/, https://gvisor.dev/docs/). Under gVisor the pod's system calls are served by a user-space kernel, not the host's, so
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
    const image = props.image ?? NGINX_IMAGE;
    const scale = props.scale ?? workloadScaleIn(env, 'sandboxed', SANDBOXED_SCALE);
    const runtime = env.sandboxRuntime;
    this.name = name;

    const { namespace, labels, matchLabels } = addNginxServer(this, {
      env,
      name,
      image,
      scale,
      component: 'sandboxed-server',
      // The isolation runtime: containerd starts this pod's containers with the RuntimeClass's
      // handler (runsc for gVisor) instead of runc. The RuntimeClass's own scheduling rules send
      // the pod to nodes that have the runtime installed. seccomp and AppArmor stay on: Pod Security
      // requires them, and they confine what the runtime starts on the host.
      runtimeClassName: runtime.className,
      // Where the managed platform defines the RuntimeClass itself (GKE Sandbox, AKS Pod
      // Sandboxing), the guardrails' reference check is told so here, where a reviewer reads it.
      deploymentAnnotations: runtime.providedByPlatform
        ? {
            [`${OUT_OF_BAND_PREFIX}runtimeclass.${runtime.className}`]: `defined by the managed platform for its sandbox node pools (handler ${runtime.handler})`,
          }
        : undefined,
      preStopSeconds: 5,
      // A sandbox starts more slowly than runc (gVisor's Sentry boots first): a generous startup.
      startupFailureThreshold: 45,
      probeTimeoutSeconds: 2,
      progressDeadlineSeconds: 300,
    });
    const metadata = { name, namespace, labels };

    new k8s.KubeService(this, 'Service', {
      metadata,
      spec: {
        type: 'ClusterIP',
        ...serviceIpFamilies(env.loadBalancing),
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
        ingress: [{ from: [{ podSelector: {} }], ports: tcpPorts(NGINX_HTTP_PORT) }],
        // And it reaches nothing but DNS: a compromised sandbox has nowhere to go.
        egress: [dnsEgressRule()],
      },
    });
  }
}

// This file is a workload because of its default export, listed in index.ts.
export default defineWorkload({
  name: 'sandboxed',
  scale: { schema: WorkloadScaleSchema, defaults: SANDBOXED_SCALE },
  build: (scope, id, env) => new Sandboxed(scope, id, { env }),
});
