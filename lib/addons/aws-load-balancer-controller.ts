import { z } from 'zod';
import { workloadIdentity } from '../parts/workload-identity';
import {
  defineAddon,
  meetRestricted,
  ReplicasSchema,
  ResourcesSchema,
  setFlag,
  setReplicas,
  setResources,
} from './definition';

/**
 * The AWS Load Balancer Controller (https://kubernetes-sigs.github.io/aws-load-balancer-controller/):
 * provisions the Network Load Balancer in front of a LoadBalancer Service whose loadBalancerClass is
 * its own, as Traefik's is in production on EKS. EKS does not install it (standard mode), so it is
 * rendered like every add-on: upstream's chart, in kube-system as its installation guide puts it.
 * Its webhook's certificate is cert-manager's (the recipe's enableCertManager, scripts/addons/sources.ts).
 */
const Settings = z.strictObject({
  /**
   * The EKS cluster's name, --cluster-name. Required: the controller tags what it creates with it and
   * finds the cluster's subnets and security groups by it (tag kubernetes.io/cluster/<name>).
   */
  clusterName: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/, {
    message: "an EKS cluster's name: letters, digits, '-' and '_', starting with a letter or digit, at most 100",
  }),
  /**
   * The cluster's AWS region, --aws-region. Without it the controller asks the node's instance
   * metadata service, which a pod reaches only where the node allows IMDSv2 two network hops; stated
   * here, the nodes can keep pods away from the instance's metadata (and its credentials).
   * @default read from the instance metadata
   */
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'an AWS region, e.g. "eu-west-1"' })
    .optional(),
  /** The cluster's VPC, --aws-vpc-id; as for region, stated so the controller needs no instance metadata. @default read from the instance metadata */
  vpcId: z
    .string()
    .regex(/^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/, { message: 'a VPC ID, "vpc-" and 8 or 17 hexadecimal digits' })
    .optional(),
  /** Replicas; one leader works, the others take over. @default upstream's 2 */
  replicas: ReplicasSchema.optional(),
  /** The controller's requests and limits. @default upstream's: none */
  resources: ResourcesSchema.optional(),
  /** --log-level. @default upstream's "info" */
  logLevel: z.enum(['info', 'debug']).optional(),
});

/** The loadBalancerClass the controller serves (its --load-balancer-class default, which the chart keeps). */
const NLB_CLASS = 'service.k8s.aws/nlb';

export default defineAddon<z.infer<typeof Settings>>({
  name: 'aws-load-balancer-controller',
  // Its rendering holds cert-manager's Issuers and Certificates (its webhook's serving certificate,
  // whose Secret its Deployment mounts), which cert-manager's webhook admits (failurePolicy Fail):
  // applied only once cert-manager answers, in the wave after it.
  needs: ['cert-manager'],
  namespace: 'kube-system',
  podSecurity: 'restricted',
  settings: Settings,
  apply(objects, settings, env) {
    const name = 'aws-load-balancer-controller';
    const field = (s: string) => `addons.${name}.${s}`;
    // The chart was rendered with a placeholder cluster name (the lock's render.values); the
    // environment's replaces it, and region and VPC where given.
    setFlag(objects, 'Deployment', name, name, '--cluster-name', settings.clusterName, field('clusterName'));
    setFlag(objects, 'Deployment', name, name, '--aws-region', settings.region, field('region'));
    setFlag(objects, 'Deployment', name, name, '--aws-vpc-id', settings.vpcId, field('vpcId'));
    setReplicas(objects, name, settings.replicas, field('replicas'));
    setResources(objects, 'Deployment', name, name, settings.resources, field('resources'));
    setFlag(objects, 'Deployment', name, name, '--log-level', settings.logLevel, field('logLevel'));

    // The controller calls the Elastic Load Balancing and EC2 APIs as its own IAM role (IRSA), named
    // like every workload's (<roleNamePrefix>aws-load-balancer-controller), with the IAM policy the
    // installation guide publishes: the role ARN goes on its ServiceAccount, as for cert-manager.
    const identity = workloadIdentity(env.identity, name);
    if (Object.keys(identity.serviceAccountAnnotations).length > 0) {
      const account = objects.find('ServiceAccount', name, 'identity.provider', env.identity.provider);
      if (account !== undefined) {
        account.metadata.annotations = { ...account.metadata.annotations, ...identity.serviceAccountAnnotations };
      }
    }

    // Upstream's pod runs as non-root with a read-only root and no privilege escalation, but asks
    // for no seccomp profile and keeps the runtime's default capabilities: completed to "restricted".
    meetRestricted(objects, 'Deployment', name, name);

    // Only a Service that names this controller's class gets an NLB from it. Upstream's answer for
    // Services that name no class is a mutating webhook (mservice.elbv2.k8s.aws) that writes the
    // class into every new Service, failing the creation while the controller does not answer
    // (failurePolicy Fail). Here the environment's LoadBalancer Services name the class themselves
    // (loadBalancing.loadBalancerClass, checked below), so the webhook is left out: otherwise every
    // Service of the cluster created while the controller does not answer (its pods rescheduled, a
    // deploy's later add-on waves on a cluster where it has not started yet) would be refused. Services that
    // name no class stay with EKS's built-in controller, as the installation guide describes for the
    // chart's enableServiceMutatorWebhook=false.
    const lb = env.loadBalancing;
    if (lb.loadBalancerClass !== NLB_CLASS) {
      objects.problem(
        'loadBalancing.loadBalancerClass',
        lb.loadBalancerClass,
        `"${NLB_CLASS}": the class the pinned ${name} ${objects.version} provisions Network Load Balancers for`,
      );
    }
    const mutating = objects.find(
      'MutatingWebhookConfiguration',
      'aws-load-balancer-webhook',
      'loadBalancing.loadBalancerClass',
      lb.loadBalancerClass,
    );
    if (mutating !== undefined) {
      const webhooks = mutating.webhooks as { name: string }[];
      if (!webhooks.some((w) => w.name === 'mservice.elbv2.k8s.aws')) {
        objects.problem(
          'loadBalancing.loadBalancerClass',
          lb.loadBalancerClass,
          `the pinned ${name} ${objects.version}'s webhook "mservice.elbv2.k8s.aws" to leave out; its webhooks: ${webhooks.map((w) => w.name).join(', ')}`,
        );
      }
      mutating.webhooks = webhooks.filter((w) => w.name !== 'mservice.elbv2.k8s.aws');
    }
  },
});
