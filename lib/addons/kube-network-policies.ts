import { z } from 'zod';
import { defineAddon, ResourcesSchema, setFlag, setResources } from './definition';

/**
 * kube-network-policies (https://github.com/kubernetes-sigs/kube-network-policies): enforces the
 * NetworkPolicies every app namespace relies on (default-deny, then each workload's own) beside
 * flannel, which routes pods but enforces no policy. A DaemonSet in kube-system on the host's
 * network, privileged (it programs nftables and takes packets from an NFQUEUE): left as upstream has it.
 */
const Settings = z.strictObject({
  /** klog's verbosity, --v (0 to 10). @default upstream's 2 */
  logVerbosity: z
    .number()
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 10, { message: 'a whole number from 0 to 10' })
    .optional(),
  /** The agent's requests and limits. @default upstream's: requests only (cpu 100m, memory 50Mi) */
  resources: ResourcesSchema.optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'kube-network-policies',
  namespace: 'kube-system',
  podSecurity: 'privileged',
  settings: Settings,
  apply(objects, settings) {
    const field = (s: string) => `addons.kube-network-policies.${s}`;
    const verbosity = settings.logVerbosity === undefined ? undefined : String(settings.logVerbosity);
    setFlag(
      objects,
      'DaemonSet',
      'kube-network-policies',
      'kube-network-policies',
      '--v',
      verbosity,
      field('logVerbosity'),
    );
    setResources(
      objects,
      'DaemonSet',
      'kube-network-policies',
      'kube-network-policies',
      settings.resources,
      field('resources'),
    );
  },
});
