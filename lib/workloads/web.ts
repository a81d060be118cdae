import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment, WorkloadScale, WorkloadScaleSchema } from '../environment';
import { workloadScaleIn } from '../environments/workload-scale';
import { ImageRef } from '../parts/image';
import { tcpPorts } from '../parts/network-peers';
import { dnsEgressRule } from '../parts/network-policy';
import { addNginxServer, NGINX_HTTP_PORT, NGINX_IMAGE } from './nginx-server';
import { serviceIpFamilies } from '../parts/dual-stack';
import { WAIVE_ANNOTATION, WAIVE_REASON_ANNOTATION } from '../policy';
import { defineWorkload } from './workload';

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
   * @default WEB_SCALE, with the environment's scale.web laid over it
   */
  readonly scale?: WorkloadScale;

  /**
   * Headers nginx adds to every response; a change to them rolls the pods (the config hash).
   * @default - none
   */
  readonly responseHeaders?: Readonly<Record<string, string>>;
}

/** nginx, the image of `docker run -p 80:80 nginx`, in its unprivileged build. */
export const WEB_IMAGE: ImageRef = NGINX_IMAGE;

/** web's size where an environment changes nothing: production's, three zones and room to grow fourfold. */
export const WEB_SCALE: WorkloadScale = {
  minReplicas: 3,
  maxReplicas: 12,
  targetCpuUtilization: 70,
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { cpu: '500m', memory: '256Mi' },
};

/**
 * The first container everyone runs, `docker run -p 80:80 nginx`, in its production-grade Kubernetes form:
 * a hardened, autoscaled, spread, disruption-budgeted nginx (nginx-server.ts) behind a LoadBalancer
 * Service, in its own namespace, reachable only on its port and able to reach only DNS.
 */
export class Web extends Construct {
  /** The app's name, Namespace and object names. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: WebProps) {
    super(scope, id);
    const { env } = props;
    const name = props.name ?? 'web';
    const image = props.image ?? WEB_IMAGE;
    const scale = props.scale ?? workloadScaleIn(env, 'web', WEB_SCALE);
    this.name = name;

    const { namespace, labels, matchLabels } = addNginxServer(this, {
      env,
      name,
      image,
      scale,
      responseHeaders: props.responseHeaders,
      component: 'web-server',
      preStopSeconds: 10,
      // nginx has up to a minute to come up.
      startupFailureThreshold: 30,
      probeTimeoutSeconds: 1,
      progressDeadlineSeconds: 180,
    });
    const metadata = { name, namespace, labels };

    const lb = env.loadBalancing;
    new k8s.KubeService(this, 'Service', {
      metadata: { ...metadata, annotations: { ...lb.serviceAnnotations } },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: lb.loadBalancerClass,
        ...serviceIpFamilies(lb),
        selector: matchLabels,
        ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('http'), protocol: 'TCP' }],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'NetworkPolicy', {
      metadata: {
        ...metadata,
        // The one policy open to every source, on purpose: recorded, so the report shows it.
        annotations: {
          [WAIVE_ANNOTATION]: 'practice/network-policy-allows-all',
          [WAIVE_REASON_ANNOTATION]:
            'web is the public entry point: its LoadBalancer forwards clients from any address, so ingress has no from; it is open on the web port only',
        },
      },
      spec: {
        podSelector: { matchLabels },
        policyTypes: ['Ingress', 'Egress'],
        // From anywhere, but only to the web port: the load balancer forwards client traffic.
        ingress: [{ ports: tcpPorts(NGINX_HTTP_PORT) }],
        // nginx serves files; it only needs to resolve names.
        egress: [dnsEgressRule()],
      },
    });
  }
}

// This file is a workload because of its default export, listed in index.ts.
export default defineWorkload({
  name: 'web',
  scale: { schema: WorkloadScaleSchema, defaults: WEB_SCALE },
  build: (scope, id, env, options) => new Web(scope, id, { env, ...(options as Partial<WebProps> | undefined) }),
});
