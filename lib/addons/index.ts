import awsLoadBalancerController from './aws-load-balancer-controller';
import certManager from './cert-manager';
import { AddonDefinition } from './definition';
import externalSecrets from './external-secrets';
import flannel from './flannel';
import kubeNetworkPolicies from './kube-network-policies';
import localPathProvisioner from './local-path-provisioner';
import metallb from './metallb';
import metricsServer from './metrics-server';
import prometheusOperator from './prometheus-operator';
import traefik from './traefik';

export type { AddonDefinition } from './definition';

/**
 * Every platform add-on the project can render, by name: each one's definition (lib/addons/<name>.ts)
 * and, in addons/addons.lock.json, its pinned upstream. An environment lists the ones it installs in
 * `addons`; the synth renders each into dist/<env>/ as 00-<name>-crds.yaml and 0<wave>-<name>.yaml.
 * By name, the order `kubectl apply -f dist/<env>/` and `deploy` take their files in: every add-on's
 * CRDs (00-*), then the add-ons wave by wave (01-* for those that need no other running, 02-* for
 * those that need a wave-1 add-on, ...: a definition's `needs`, lib/addons/waves.ts), each add-on's
 * objects of its own CRDs' kinds in the wave after its own (0<wave + 1>-<name>-resources.yaml),
 * then the platform (05-platform.yaml) and the workloads.
 */
export const ADDONS: readonly AddonDefinition[] = [
  awsLoadBalancerController,
  certManager,
  externalSecrets,
  flannel,
  kubeNetworkPolicies,
  localPathProvisioner,
  metallb,
  metricsServer,
  prometheusOperator,
  traefik,
];
