/**
 * The layers a reconciler applies an environment in: the stages of `npm run deploy`
 * (lib/commands/deploy.ts, applyStages), read from the names of dist/<env>/'s files, so that a
 * reconciler and deploy bring a cluster up in one order. Each layer waits for the one before it to
 * be applied and healthy: the API server serves a custom resource's kind only once its CRD is
 * Established, and refuses (or lets through unchecked) the objects an add-on's webhook admits until
 * that webhook answers.
 */

/** One layer: its name and the files of dist/<env>/ it applies, in name order. */
export interface DeliveryLayer {
  /** `crds`, `addons-1` .. `addons-4`, `platform` or `workloads`. */
  readonly name: string;
  readonly files: readonly string[];
}

/** The layers in the order they are applied; the names are those of the reconcilers' objects (`lab-to-prod-<layer>`). */
export const LAYER_NAMES = ['crds', 'addons-1', 'addons-2', 'addons-3', 'addons-4', 'platform', 'workloads'] as const;

/**
 * The layer of one file of dist/<env>/ (lib/synth/render.ts names them): an add-on's CRDs
 * (00-<addon>-crds.yaml), an add-on's wave (0<wave>-<addon>.yaml, lib/addons/waves.ts), the platform
 * (05-platform.yaml), or a workload (every later file). Undefined for a file no reconciler applies
 * (README.md).
 */
export function layerOf(file: string): string | undefined {
  if (!/\.ya?ml$/.test(file) || file.includes('/')) {
    return undefined;
  }
  if (/^00-.+-crds\.ya?ml$/.test(file)) {
    return 'crds';
  }
  const wave = /^0([1-4])-/.exec(file)?.[1];
  if (wave !== undefined) {
    return `addons-${wave}`;
  }
  if (/^0*5-platform\.ya?ml$/.test(file)) {
    return 'platform';
  }
  if (/^0*0-/.test(file)) {
    // A 00- file that holds no CRDs has no stage in deploy either: say so rather than guess one.
    throw new Error(
      `dist/<env>/${file}: a file named 00-* must hold an add-on's CRDs (00-<addon>-crds.yaml); ` +
        'no delivery layer takes any other',
    );
  }
  return 'workloads';
}

/** The layers of an environment's files, in apply order, only those with files. */
export function deliveryLayers(files: Iterable<string>): DeliveryLayer[] {
  const byLayer = new Map<string, string[]>();
  for (const file of [...files].sort()) {
    const layer = layerOf(file);
    if (layer !== undefined) {
      byLayer.set(layer, [...(byLayer.get(layer) ?? []), file]);
    }
  }
  return LAYER_NAMES.filter((name) => byLayer.has(name)).map((name) => ({ name, files: byLayer.get(name)! }));
}
