import { OUT_OF_BAND_PREFIX } from '../policy';

/**
 * Namespaces that a platform add-on's own objects create (MetalLB, cert-manager, external-secrets),
 * not the platform's: they come with the add-on's upstream rendering, in its own file of dist/<env>/
 * (0<wave>-<add-on>.yaml, applied before the platform; lib/addons/). The guardrail checks read the
 * project's objects only, so an object this project puts in one of them says where the namespace
 * comes from, in an annotation the reference checks read and a reviewer sees in the YAML.
 */
export function createdByInstaller(namespace: string, installer: string): Record<string, string> {
  return {
    [`${OUT_OF_BAND_PREFIX}namespace.${namespace}`]: `created by the ${installer} add-on (its 0<wave>-*.yaml file in dist/<env>/), applied first`,
  };
}
