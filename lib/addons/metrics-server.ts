import { z } from 'zod';
import { defineAddon, ReplicasSchema, ResourcesSchema, setReplicas, setResources } from './definition';

/**
 * metrics-server (https://github.com/kubernetes-sigs/metrics-server): the resource metrics API
 * (metrics.k8s.io) that the HorizontalPodAutoscalers and `kubectl top` read, from every kubelet. In
 * kube-system, as upstream installs it; its pod already meets "restricted".
 */
const Settings = z.strictObject({
  /** Replicas; two keep the autoscalers fed through a node drain. @default upstream's 1 */
  replicas: ReplicasSchema.optional(),
  /** Its requests and limits. @default upstream's: requests only (cpu 100m, memory 200Mi) */
  resources: ResourcesSchema.optional(),
  /**
   * Scrape the kubelets without checking their serving certificates (--kubelet-insecure-tls). A
   * kubeadm cluster's kubelets serve a self-signed certificate unless serverTLSBootstrap has the
   * cluster's CA sign one, so metrics-server can check nothing there; managed clusters' kubelets
   * serve certificates the cluster's CA signed. @default false
   */
  kubeletInsecureTls: z.boolean().optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'metrics-server',
  namespace: 'kube-system',
  podSecurity: 'restricted',
  settings: Settings,
  apply(objects, settings) {
    const field = (s: string) => `addons.metrics-server.${s}`;
    setReplicas(objects, 'metrics-server', settings.replicas, field('replicas'));
    setResources(objects, 'Deployment', 'metrics-server', 'metrics-server', settings.resources, field('resources'));
    if (settings.kubeletInsecureTls === true) {
      const container = objects.container(
        'Deployment',
        'metrics-server',
        'metrics-server',
        field('kubeletInsecureTls'),
        true,
      );
      if (container !== undefined && !(container.args as string[]).includes('--kubelet-insecure-tls')) {
        container.args = [...(container.args as string[]), '--kubelet-insecure-tls'];
      }
    }
  },
});
