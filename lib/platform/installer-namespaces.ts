import { OUT_OF_BAND_PREFIX } from '../policy';

/**
 * Namespaces that a platform component's own installer creates (MetalLB, cert-manager,
 * external-secrets), not this project: in a real cluster they come with the component's release
 * manifests or chart. An object this project puts in one of them says so, in an annotation the
 * reference checks read and a reviewer sees in the YAML.
 */
export function createdByInstaller(namespace: string, installer: string): Record<string, string> {
  return {
    [`${OUT_OF_BAND_PREFIX}namespace.${namespace}`]: `created by ${installer}'s installer, which must run first`,
  };
}
