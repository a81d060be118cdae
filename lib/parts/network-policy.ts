import { k8s } from 'cdk8s-plus-28';

/**
 * Egress to the cluster DNS only: kube-dns (CoreDNS carries the same label on kubeadm, EKS, GKE and
 * AKS) in kube-system, on port 53. Without it a pod under default-deny egress cannot resolve the
 * Service names it was given (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/).
 */
export function dnsEgressRule(): k8s.NetworkPolicyEgressRule {
  return {
    to: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ],
    ports: [
      { protocol: 'UDP', port: k8s.IntOrString.fromNumber(53) },
      { protocol: 'TCP', port: k8s.IntOrString.fromNumber(53) },
    ],
  };
}
