import { Construct } from 'constructs';
import { IpAddressPool } from '../../generated/crd-bindings/ipaddresspool-metallb.io';
import { L2Advertisement } from '../../generated/crd-bindings/l2advertisement-metallb.io';
import { Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { createdByInstaller } from './installer-namespaces';

/** Where MetalLB runs and looks for its configuration (its installer's namespace). */
export const METALLB_NAMESPACE = 'metallb-system';

/**
 * The lab's answer to `type: LoadBalancer` (bare metal has no load balancer of its own, so MetalLB
 * plays the part the cloud's load balancer plays in production: https://metallb.universe.tf/concepts/): MetalLB hands out addresses from each pool and answers ARP (IPv4) and
 * NDP (IPv6) for them from one node, so the lab's LAN reaches the Service without any router setup.
 * In production the cloud's controller answers and nothing is rendered here.
 */
export class LoadBalancerPools extends Construct {
  constructor(scope: Construct, id: string, props: { readonly env: Environment }) {
    super(scope, id);
    const pools = props.env.loadBalancing.metallbAddressPools ?? [];
    if (pools.length === 0) {
      return;
    }
    const labels = recommendedLabels({ name: 'metallb', component: 'load-balancing', version: PROJECT_VERSION });
    for (const pool of pools) {
      new IpAddressPool(this, `IPAddressPool-${pool.name}`, {
        metadata: {
          name: pool.name,
          namespace: METALLB_NAMESPACE,
          labels,
          annotations: createdByInstaller(METALLB_NAMESPACE, 'MetalLB'),
        },
        spec: { addresses: [...pool.addresses] },
      });
    }
    // Layer 2 mode: no BGP peering to configure on the lab's router.
    new L2Advertisement(this, 'L2Advertisement', {
      metadata: {
        name: 'lab-to-prod',
        namespace: METALLB_NAMESPACE,
        labels,
        annotations: createdByInstaller(METALLB_NAMESPACE, 'MetalLB'),
      },
      spec: { ipAddressPools: pools.map((pool) => pool.name) },
    });
  }
}
