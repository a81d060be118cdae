import { z } from 'zod';
import { serviceIpFamilies } from '../parts/dual-stack';
import {
  addonNamespace,
  defineAddon,
  ReplicasSchema,
  ResourcesSchema,
  setFlag,
  setReplicas,
  setResources,
} from './definition';

/**
 * Traefik (https://traefik.io/traefik/): the ingress controller of every environment, behind the
 * environment's load balancer, so that the api's Ingress and NetworkPolicy are the same everywhere
 * and only what is in front of Traefik differs. Upstream's chart already runs it as "restricted" asks.
 */
const Settings = z.strictObject({
  /** Replicas of the proxy; every replica serves. @default upstream's 1 */
  replicas: ReplicasSchema.optional(),
  /** The proxy's requests and limits. @default upstream's: none */
  resources: ResourcesSchema.optional(),
  /** --log.level (Traefik's levels). @default upstream's "INFO" */
  logLevel: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'PANIC']).optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'traefik',
  namespace: 'traefik',
  podSecurity: 'restricted',
  settings: Settings,
  apply(objects, settings, env) {
    const field = (s: string) => `addons.traefik.${s}`;
    addonNamespace(objects, 'traefik', 'restricted');
    setReplicas(objects, 'traefik', settings.replicas, field('replicas'));
    setResources(objects, 'Deployment', 'traefik', 'traefik', settings.resources, field('resources'));
    setFlag(objects, 'Deployment', 'traefik', 'traefik', '--log.level', settings.logLevel, field('logLevel'));

    // Traefik's Service is the environment's one door for HTTP(S): it gets the load balancer
    // settings every LoadBalancer Service of the environment gets (the MetalLB pool, the NLB's
    // scheme and target type, the Azure probe path...), and its IP families.
    const lb = env.loadBalancing;
    const service = objects.find('Service', 'traefik', 'loadBalancing', 'LoadBalancer');
    if (service !== undefined) {
      const annotations = { ...service.metadata.annotations, ...lb.serviceAnnotations };
      service.metadata.annotations = Object.keys(annotations).length > 0 ? annotations : service.metadata.annotations;
      if (lb.loadBalancerClass !== undefined) {
        service.spec.loadBalancerClass = lb.loadBalancerClass;
      }
      Object.assign(service.spec, serviceIpFamilies(lb));
    }

    // The Ingresses name the class, and the NetworkPolicies admit the controller's namespace: both
    // must be what this chart installs.
    const ingress = lb.ingress;
    objects.find('IngressClass', ingress.className, 'loadBalancing.ingress.className', ingress.className);
    if (ingress.controllerNamespace !== 'traefik') {
      objects.problem(
        'loadBalancing.ingress.controllerNamespace',
        ingress.controllerNamespace,
        `"traefik": the namespace the pinned traefik ${objects.version} runs in, which the apps' NetworkPolicies must admit`,
      );
    }
  },
});
