import { createHash } from 'crypto';

/** The pod-template annotation that carries a hash of the configuration the pods read. */
export const CONFIG_HASH_ANNOTATION = 'lab-to-prod.io/config-hash';

/**
 * A short, stable hash of configuration data. Put into the pod template, it makes a change to a
 * ConfigMap roll the Deployment (a changed pod template starts a rollout), which a mounted ConfigMap alone
 * would not.
 */
export function configHash(data: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(data).sort()) {
    hash.update(key).update('\0').update(data[key]).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}
