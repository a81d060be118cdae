/**
 * A setting applies to an object upstream renders, found by kind and name: where the pinned version
 * lacks it (a release renamed it), the add-on says which setting, which object and what it has instead.
 */
import { ENVIRONMENTS } from '../environments';
import { ADDONS } from '.';
import { readLock } from './lock';
import { AddonObjects } from './objects';
import { upstreamDocuments, upstreamObjects } from './upstream';

const definition = (name: string) => ADDONS.find((d) => d.name === name)!;

/** The problems of applying `settings` to upstream's objects of `addon`, less those `drop` removes. */
function problemsApplying(
  addon: string,
  settings: object,
  drop: (o: { kind: string; metadata: { name: string } }) => boolean,
  env = ENVIRONMENTS.lab,
) {
  const objects = new AddonObjects(
    addon,
    readLock().addons[addon].version,
    `environment "${env.name}"`,
    upstreamObjects(upstreamDocuments(addon)).filter((o) => !drop(o as never)),
  );
  definition(addon).apply(objects, definition(addon).settings.parse(settings), env);
  return objects.problems.map((p) => `${p.where}: ${p.field}: ${JSON.stringify(p.value)}: ${p.allowed}`);
}

test('a setting whose object the pinned version lacks is refused, naming it and what the version has', () => {
  expect(problemsApplying('traefik', { replicas: 2 }, (o) => o.kind === 'Deployment')).toEqual(
    expect.arrayContaining([
      'environment "lab": addons.traefik.replicas: 2: the pinned traefik 41.3.0 has no Deployment "traefik" to set it on; its Deployment objects: none',
    ]),
  );
});

test("a container the pinned version's workload lacks is named with the containers it has", () => {
  const objects = upstreamObjects(upstreamDocuments('metrics-server'));
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  deployment.spec.template.spec.containers[0].name = 'server';
  const addon = new AddonObjects(
    'metrics-server',
    readLock().addons['metrics-server'].version,
    'environment "lab"',
    objects,
  );
  const resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } };
  definition('metrics-server').apply(addon, { resources }, ENVIRONMENTS.lab);
  expect(addon.problems.map((p) => p.allowed)).toEqual([
    `the pinned metrics-server ${readLock().addons['metrics-server'].version}'s Deployment "metrics-server" has no container "metrics-server"; its containers: server`,
  ]);
});

test('an environment whose ingress class is not the one the pinned Traefik installs is refused', () => {
  const problems = problemsApplying('traefik', {}, (o) => o.kind === 'IngressClass');
  expect(problems).toEqual([
    'environment "lab": loadBalancing.ingress.className: "traefik": the pinned traefik 41.3.0 has no IngressClass "traefik" to set it on; its IngressClass objects: none',
  ]);
});

test('every setting of every add-on applies to the pinned version, with no problem', () => {
  const resources = { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } };
  const everything: Record<string, object> = {
    'aws-load-balancer-controller': {
      clusterName: 'lab',
      region: 'eu-west-1',
      vpcId: 'vpc-0123456789abcdef0',
      replicas: 3,
      resources,
      logLevel: 'debug',
    },
    'cert-manager': { replicas: 2, webhookReplicas: 2, resources, logVerbosity: 3 },
    'external-secrets': { replicas: 2, webhookReplicas: 2, resources, logLevel: 'debug' },
    flannel: { resources },
    'kube-network-policies': { resources, logVerbosity: 4 },
    'local-path-provisioner': { resources },
    metallb: { logLevel: 'debug', controllerResources: resources, speakerResources: resources },
    'metrics-server': { replicas: 2, resources, kubeletInsecureTls: true },
    'prometheus-operator': { resources, logLevel: 'debug' },
    traefik: { replicas: 2, resources, logLevel: 'DEBUG' },
  };
  expect(Object.keys(everything).sort()).toEqual(ADDONS.map((d) => d.name).sort());
  // The AWS Load Balancer Controller needs an environment whose Services name its NLB class.
  const environment = (addon: string) =>
    addon === 'aws-load-balancer-controller' ? ENVIRONMENTS['prod-eks'] : ENVIRONMENTS.lab;
  for (const [addon, settings] of Object.entries(everything)) {
    expect(problemsApplying(addon, settings, () => false, environment(addon))).toEqual([]);
  }
});
