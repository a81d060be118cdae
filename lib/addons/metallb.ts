import { z } from 'zod';
import { addonNamespace, defineAddon, meetRestricted, ResourcesSchema, setFlag, setResources } from './definition';

/**
 * MetalLB (https://metallb.io): answers for Services of type LoadBalancer in the lab, from the
 * environment's address pools (the IPAddressPool and L2Advertisement the platform renders into
 * 05-platform.yaml). Its controller assigns addresses; its speaker, a DaemonSet on the host's network
 * with NET_RAW, answers ARP and NDP for them, so the namespace is "privileged", as upstream labels it.
 */
const Settings = z.strictObject({
  /** The controller's and the speaker's --log-level (MetalLB's levels). @default upstream's "info" */
  logLevel: z.enum(['all', 'debug', 'info', 'warn', 'error', 'none']).optional(),
  /** The controller's requests and limits. @default upstream's: none */
  controllerResources: ResourcesSchema.optional(),
  /** Each speaker's requests and limits. @default upstream's: none */
  speakerResources: ResourcesSchema.optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'metallb',
  namespace: 'metallb-system',
  podSecurity: 'privileged',
  settings: Settings,
  apply(objects, settings) {
    addonNamespace(objects, 'metallb-system', 'privileged');
    const field = (s: string) => `addons.metallb.${s}`;
    setFlag(objects, 'Deployment', 'controller', 'controller', '--log-level', settings.logLevel, field('logLevel'));
    setFlag(objects, 'DaemonSet', 'speaker', 'speaker', '--log-level', settings.logLevel, field('logLevel'));
    setResources(
      objects,
      'Deployment',
      'controller',
      'controller',
      settings.controllerResources,
      field('controllerResources'),
    );
    setResources(objects, 'DaemonSet', 'speaker', 'speaker', settings.speakerResources, field('speakerResources'));
    // The controller needs no privilege: upstream runs it as user 65534 without capabilities, and
    // "restricted" only asks for the runtime's seccomp profile and `ALL` written in capitals.
    meetRestricted(objects, 'Deployment', 'controller', 'metallb controller');
  },
});
