import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { WorkloadScale } from '../environment';

/**
 * What every autoscaled, stateless Deployment of this project shares: how it rolls out and how it
 * scales: web and sandboxed through nginx-server.ts, and api.
 */

/**
 * Rollouts add one new pod before removing an old one, so capacity never drops while the new
 * version starts (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment).
 */
export function surgeOneRollingUpdate(): k8s.DeploymentStrategy {
  return {
    type: 'RollingUpdate',
    rollingUpdate: { maxSurge: k8s.IntOrString.fromNumber(1), maxUnavailable: k8s.IntOrString.fromNumber(0) },
  };
}

export interface CpuAutoscalerProps {
  /** The Deployment to scale, and the autoscaler's own name. */
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** Floor, ceiling and cpu target (validated by checkWorkloadScale). */
  readonly scale: WorkloadScale;
}

/**
 * A HorizontalPodAutoscaler on average cpu utilisation, in percent of the pods' requests, from
 * metrics-server's resource metrics (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/). The Deployment states no replicas:
 * the autoscaler owns the count, and a static one would reset it on every apply.
 */
export class CpuAutoscaler extends Construct {
  constructor(scope: Construct, id: string, props: CpuAutoscalerProps) {
    super(scope, id);
    const { name, namespace, labels, scale } = props;
    new k8s.KubeHorizontalPodAutoscalerV2(this, 'Resource', {
      metadata: { name, namespace, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: scale.minReplicas,
        maxReplicas: scale.maxReplicas,
        metrics: [
          {
            type: 'Resource',
            resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: scale.targetCpuUtilization } },
          },
        ],
        // Scale down slowly: a brief lull should not throw away warm pods.
        behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
      },
    });
  }
}
