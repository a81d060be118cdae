import { z } from 'zod';
import { addressRangeFamily } from '../k8s/ip-ranges';
import { addonNamespace, defineAddon, ResourcesSchema, setResources } from './definition';

/**
 * flannel (https://github.com/flannel-io/flannel): the lab's CNI, which gives every pod an address
 * from the pod subnets kubeadm was told (bootstrap.podSubnets) and routes between nodes over VXLAN.
 * It enforces no NetworkPolicy: kube-network-policies does, beside it. A DaemonSet on the host's
 * network that writes the node's CNI configuration: its namespace is "privileged", as upstream's own
 * manifest labels it.
 */
const Settings = z.strictObject({
  /** flanneld's requests and limits. @default upstream's: requests only (cpu 100m, memory 50Mi) */
  resources: ResourcesSchema.optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'flannel',
  namespace: 'kube-flannel',
  podSecurity: 'privileged',
  settings: Settings,
  apply(objects, settings, env) {
    addonNamespace(objects, 'kube-flannel', 'privileged');
    setResources(
      objects,
      'DaemonSet',
      'kube-flannel-ds',
      'kube-flannel',
      settings.resources,
      'addons.flannel.resources',
    );
    // The networks flannel hands out must be the cluster's pod subnets (kube-controller-manager
    // allocates each node's podCIDR from them, and flannel's --kube-subnet-mgr reads it), one per
    // family: upstream's chart knows IPv4 10.244.0.0/16 only, and the lab is dual-stack.
    // Fields of net-conf.json: https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md
    const subnets = env.bootstrap?.podSubnets ?? [];
    const config = objects.find('ConfigMap', 'kube-flannel-cfg', 'bootstrap.podSubnets', subnets);
    if (config === undefined) return;
    if (subnets.length === 0) {
      objects.problem(
        'bootstrap.podSubnets',
        subnets,
        'the pod subnets flannel routes: flannel runs only where kubeadm builds the cluster (bootstrap)',
      );
      return;
    }
    const ipv4 = subnets.find((s) => addressRangeFamily(s) === 'IPv4');
    const ipv6 = subnets.find((s) => addressRangeFamily(s) === 'IPv6');
    const netConf = JSON.parse(config.data['net-conf.json'] as string) as Record<string, unknown>;
    config.data['net-conf.json'] = `${JSON.stringify(
      {
        ...netConf,
        ...(ipv4 === undefined ? { EnableIPv4: false } : { Network: ipv4 }),
        ...(ipv6 === undefined ? {} : { EnableIPv6: true, IPv6Network: ipv6 }),
      },
      null,
      2,
    )}\n`;
  },
});
