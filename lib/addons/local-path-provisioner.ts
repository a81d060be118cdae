import { z } from 'zod';
import { addonNamespace, defineAddon, ResourcesSchema, setResources } from './definition';

/**
 * Rancher's local-path-provisioner (https://github.com/rancher/local-path-provisioner): the lab's
 * volumes, each a folder on the node the pod runs on. To make and remove a folder it starts a helper
 * pod in its own namespace with that node's path mounted (hostPath), which only "privileged" admits:
 * the namespace is labelled so, and the pods are left as upstream has them.
 */
const Settings = z.strictObject({
  /** The provisioner's requests and limits. @default upstream's: none */
  resources: ResourcesSchema.optional(),
});

export default defineAddon<z.infer<typeof Settings>>({
  name: 'local-path-provisioner',
  namespace: 'local-path-storage',
  podSecurity: 'privileged',
  settings: Settings,
  apply(objects, settings, env) {
    addonNamespace(objects, 'local-path-storage', 'privileged');
    setResources(
      objects,
      'Deployment',
      'local-path-provisioner',
      'local-path-provisioner',
      settings.resources,
      'addons.local-path-provisioner.resources',
    );
    // The StorageClass is the environment's (env.storage, rendered by the platform into
    // 05-platform.yaml, with its reclaim policy and expansion), not a second copy of upstream's.
    objects.remove(
      'StorageClass',
      env.storage.storageClassName,
      'storage.storageClassName',
      env.storage.storageClassName,
    );
  },
});
