import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';

/**
 * The RuntimeClass the sandboxed workload asks for (env.sandboxRuntime.className), created only where
 * the platform does not define it (gVisor's runsc gives a pod its own user-space kernel, so a kernel
 * exploit meets gVisor, not the host: https://gvisor.dev/docs/). GKE Sandbox and AKS Pod Sandboxing define theirs.
 */
export class SandboxRuntimeClass extends Construct {
  constructor(scope: Construct, id: string, props: { readonly env: Environment }) {
    super(scope, id);
    const runtime = props.env.sandboxRuntime;
    if (runtime.providedByPlatform) {
      return;
    }
    new k8s.KubeRuntimeClass(this, 'Resource', {
      metadata: {
        name: runtime.className,
        labels: recommendedLabels({ name: runtime.className, component: 'runtime', version: PROJECT_VERSION }),
      },
      handler: runtime.handler,
      // Pods of this class go only to nodes that have the runtime installed.
      scheduling: runtime.nodeSelector ? { nodeSelector: { ...runtime.nodeSelector } } : undefined,
    });
  }
}
