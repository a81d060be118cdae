import { LoadBalancing } from '../environment';

/**
 * A Service's IP families, from the environment: both families, required, where the cluster is
 * dual-stack (the lab, GKE, AKS; https://kubernetes.io/docs/concepts/services-networking/dual-stack/); one family otherwise. Required rather than
 * preferred, so that a cluster that lost its second family refuses the Service instead of quietly
 * serving one.
 */
export function serviceIpFamilies(lb: LoadBalancing): { ipFamilyPolicy: string; ipFamilies: string[] } {
  return {
    ipFamilyPolicy: lb.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack',
    ipFamilies: [...lb.ipFamilies],
  };
}
