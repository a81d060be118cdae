import { k8s } from 'cdk8s-plus-28';
import { selectorLabels } from '../k8s/labels';

/**
 * NetworkPolicy peers by app: each app lives in its own namespace (named after it), so a peer is
 * "the app's pods in the app's namespace". Selecting both keeps a pod elsewhere that merely copies
 * the labels from being let in (https://kubernetes.io/docs/concepts/services-networking/network-policies/).
 */
export function appPeer(app: string): k8s.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': app } },
    podSelector: { matchLabels: selectorLabels(app) },
  };
}

/** Every pod of a namespace this project does not own (an ingress controller, Prometheus). */
export function namespacePeer(namespace: string): k8s.NetworkPolicyPeer {
  return { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } };
}

/** TCP ports, for a rule's `ports`. */
export function tcpPorts(...ports: number[]): k8s.NetworkPolicyPort[] {
  return ports.map((port) => ({ protocol: 'TCP', port: k8s.IntOrString.fromNumber(port) }));
}
