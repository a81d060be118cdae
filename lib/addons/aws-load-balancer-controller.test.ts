/**
 * The AWS Load Balancer Controller as prod-eks installs it: upstream's chart with the environment's
 * cluster, region and VPC, its IAM role on the ServiceAccount, its pod completed to "restricted" and
 * the Service-defaulting webhook left out; an environment whose Services would not name its class is
 * refused, and so is one that does not name its cluster.
 */
import { ENVIRONMENTS } from '../environments';
import { validateEnvironment } from '../environments/validate';
import { KubeObject } from '../k8s/kube-object';
import { ValidationError } from '../k8s/validation';
import { WORKLOADS } from '../workloads';
import { withChange } from '../../test/helpers';
import { ADDONS } from '.';
import { readLock } from './lock';
import { AddonObjects } from './objects';
import { renderAddons } from './render';
import { upstreamObjectsOf } from './upstream';

const NAME = 'aws-load-balancer-controller';
const eks = ENVIRONMENTS['prod-eks'];
const definition = ADDONS.find((d) => d.name === NAME)!;

function rendered(env = eks): readonly KubeObject[] {
  return renderAddons(env).find((r) => r.name === NAME)!.objects;
}
const find = (objects: readonly KubeObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name)!;

test("the environment's cluster, region and VPC replace the rendering's placeholder", () => {
  const container = find(rendered(), 'Deployment', NAME).spec.template.spec.containers[0];
  expect(container.args).toEqual([
    '--cluster-name=lab-to-prod',
    '--ingress-class=alb',
    '--aws-region=eu-west-1',
    '--aws-vpc-id=vpc-0123456789abcdef0',
  ]);
  expect(JSON.stringify(rendered())).not.toContain('set-by-the-environment');
});

test('the controller acts as its own IAM role (IRSA), on its ServiceAccount', () => {
  expect(find(rendered(), 'ServiceAccount', NAME).metadata.annotations).toEqual({
    'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/lab-to-prod-aws-load-balancer-controller',
  });
});

test('its pod meets Pod Security "restricted"', () => {
  const pod = find(rendered(), 'Deployment', NAME).spec.template.spec;
  expect(pod.securityContext).toEqual({ fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.containers[0].securityContext).toEqual({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  });
});

test("the webhook that writes the class into every new Service is left out, upstream's other webhooks kept", () => {
  const upstream = find(upstreamObjectsOf(NAME), 'MutatingWebhookConfiguration', 'aws-load-balancer-webhook');
  const ours = find(rendered(), 'MutatingWebhookConfiguration', 'aws-load-balancer-webhook');
  const names = (o: KubeObject) => (o.webhooks as { name: string }[]).map((w) => w.name);
  expect(names(upstream)).toContain('mservice.elbv2.k8s.aws');
  expect(names(ours)).toEqual(names(upstream).filter((n) => n !== 'mservice.elbv2.k8s.aws'));
  // cert-manager still signs the webhook's certificate, as the chart was rendered to have it.
  expect(ours.metadata.annotations).toEqual({
    'cert-manager.io/inject-ca-from': 'kube-system/aws-load-balancer-serving-cert',
  });
});

test("an environment whose LoadBalancer Services would not name the controller's class is refused", () => {
  const env = withChange(eks, (e) => {
    delete e.loadBalancing.loadBalancerClass;
  });
  expect(() => renderAddons(env)).toThrow(
    new ValidationError([
      {
        where: 'environment "prod-eks"',
        field: 'loadBalancing.loadBalancerClass',
        value: undefined,
        allowed:
          '"service.k8s.aws/nlb": the class the pinned aws-load-balancer-controller 3.5.0 provisions Network Load Balancers for',
      },
    ]),
  );
});

test('a pinned version without the Service-defaulting webhook is named, with the webhooks it has', () => {
  const objects = upstreamObjectsOf(NAME);
  const mutating = find(objects, 'MutatingWebhookConfiguration', 'aws-load-balancer-webhook');
  mutating.webhooks = (mutating.webhooks as { name: string }[]).filter((w) => w.name !== 'mservice.elbv2.k8s.aws');
  const addon = new AddonObjects(NAME, readLock().addons[NAME].version, 'environment "prod-eks"', objects);
  definition.apply(addon, definition.settings.parse(eks.addons[NAME]), eks);
  expect(addon.problems.map((p) => `${p.field}: ${p.allowed}`)).toEqual([
    `loadBalancing.loadBalancerClass: the pinned aws-load-balancer-controller 3.5.0's webhook "mservice.elbv2.k8s.aws" to leave out; its webhooks: ${(mutating.webhooks as { name: string }[]).map((w) => w.name).join(', ')}`,
  ]);
});

test('the cluster name is required, and region and VPC are checked', () => {
  const env = withChange(eks, (e) => {
    e.addons[NAME] = { region: 'eu-west', vpcId: 'vpc-123' };
  });
  let message = '';
  try {
    validateEnvironment(env, { workloads: WORKLOADS, addons: ADDONS });
  } catch (error) {
    message = (error as Error).message;
  }
  const problems = message.split('\n');
  expect(problems).toContainEqual(
    expect.stringMatching(
      /^environment "prod-eks": addons\.aws-load-balancer-controller\.clusterName: Required value: /,
    ),
  );
  expect(problems).toContain(
    'environment "prod-eks": addons.aws-load-balancer-controller.region: Invalid value: "eu-west": an AWS region, e.g. "eu-west-1"',
  );
  expect(problems).toContain(
    'environment "prod-eks": addons.aws-load-balancer-controller.vpcId: Invalid value: "vpc-123": a VPC ID, "vpc-" and 8 or 17 hexadecimal digits',
  );
  expect(problems).toHaveLength(3);
});
