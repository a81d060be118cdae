import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { NamespaceQuota, ResourceQuantities } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { DNS1123_LABEL_RULE, isDns1123Label } from '../k8s/names';
import { dnsEgressRule } from '../parts/network-policy';
import { Problems } from '../k8s/validation';

/** The Pod Security Standards level every app namespace enforces. */
export const POD_SECURITY_LEVEL = 'restricted';

/** The names of the objects every app namespace gets, as `kubectl -n <app> get ...` shows them. */
export const NAMESPACE_OBJECT_NAMES = {
  resourceQuota: 'app-quota',
  limitRange: 'container-limits',
  defaultDeny: 'default-deny',
  allowDns: 'allow-dns-egress',
} as const;

export interface AppNamespaceProps {
  /** The namespace's name, which is the app's name. */
  readonly name: string;
  /** What the namespace may use in total and per container (env.scale.namespaceQuota). */
  readonly quota: NamespaceQuota;
}

const quantity = (value: string): k8s.Quantity => k8s.Quantity.fromString(value);
const quantities = (q: ResourceQuantities): Record<string, k8s.Quantity> => ({
  cpu: quantity(q.cpu),
  memory: quantity(q.memory),
});

/**
 * A namespace for one app (Linux namespaces isolate what a process sees; Kubernetes namespaces
 * isolate what an app may do), with:
 * - Pod Security admission enforcing, auditing and warning at "restricted": a pod that asks for more
 *   than the restricted profile allows is refused by the API server itself, whatever its YAML.
 * - A ResourceQuota and a LimitRange (requests are what the scheduler reserves, limits what the
 *   kernel enforces through cgroups: https://kubernetes.io/docs/concepts/policy/resource-quotas/): one app cannot starve the others, and a container
 *   that states no resources still gets requests and limits, so it counts against the quota.
 * - A default-deny NetworkPolicy for both directions, and one allowance every pod needs: DNS. Each
 *   workload adds its own policy for the traffic it serves and makes; policies only ever add.
 */
export class AppNamespace extends Construct {
  constructor(scope: Construct, id: string, props: AppNamespaceProps) {
    super(scope, id);
    const { name, quota } = props;
    const p = new Problems(this.node.path);
    p.check(isDns1123Label(name), 'name', name, DNS1123_LABEL_RULE);
    p.throwIfAny();

    const labels = recommendedLabels({ name, component: 'namespace', version: PROJECT_VERSION });
    new k8s.KubeNamespace(this, 'Resource', {
      metadata: {
        name,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/audit': POD_SECURITY_LEVEL,
          'pod-security.kubernetes.io/warn': POD_SECURITY_LEVEL,
        },
      },
    });

    const metadata = (objectName: string) => ({ name: objectName, namespace: name, labels });

    new k8s.KubeResourceQuota(this, 'ResourceQuota', {
      metadata: metadata(NAMESPACE_OBJECT_NAMES.resourceQuota),
      spec: {
        hard: {
          'requests.cpu': quantity(quota.requests.cpu),
          'requests.memory': quantity(quota.requests.memory),
          'limits.cpu': quantity(quota.limits.cpu),
          'limits.memory': quantity(quota.limits.memory),
          pods: quantity(String(quota.pods)),
          persistentvolumeclaims: quantity(String(quota.persistentVolumeClaims)),
          'requests.storage': quantity(quota.storage),
          // A LoadBalancer costs money and a public address: only web has one.
          'services.loadbalancers': quantity('1'),
        },
      },
    });

    new k8s.KubeLimitRange(this, 'LimitRange', {
      metadata: metadata(NAMESPACE_OBJECT_NAMES.limitRange),
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: quantities(quota.containerDefaults.requests),
            default: quantities(quota.containerDefaults.limits),
            max: quantities(quota.containerMax),
          },
        ],
      },
    });

    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: metadata(NAMESPACE_OBJECT_NAMES.defaultDeny),
      // Every pod, both directions, nothing allowed: what is not named elsewhere is refused.
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    new k8s.KubeNetworkPolicy(this, 'AllowDns', {
      metadata: metadata(NAMESPACE_OBJECT_NAMES.allowDns),
      spec: { podSelector: {}, policyTypes: ['Egress'], egress: [dnsEgressRule()] },
    });
  }
}
