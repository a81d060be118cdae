/**
 * An environment's delivery folder, dist/<env>-delivery/ (lib/review/dist-layout.ts, deliveryFolder):
 * what makes the reconciler named by `env.delivery.engine` apply dist/<env>/ from git, layer by layer
 * in deploy's order.
 *
 * - `flux/lab-to-prod.yaml` or `argocd/lab-to-prod.yaml`: the engine's objects (lib/delivery/flux.ts,
 *   lib/delivery/argocd.ts), the one folder a cluster is bootstrapped from.
 * - `layers/<layer>/kustomization.yaml`: each layer's files of dist/<env>/, for kustomize. Rendered
 *   whatever the revision (an unpromoted environment too), so that every commit of the branch holds
 *   the layers of its own dist/<env>/ and any of them can be promoted.
 */
import { Environment } from '../environment';
import { yamlDocuments } from '../k8s/yaml-output';
import { onCallSuspendObjects } from '../platform/reconciler-access';
import { argocdObjects } from './argocd';
import { fluxObjects } from './flux';
import { deliveryLayers } from './layers';
import { DeliveryObject } from './objects';

export { deliveryLayers, layerOf, LAYER_NAMES } from './layers';
export type { DeliveryLayer } from './layers';
export type { DeliveryObject } from './objects';
export { layerObjectName, SELF_NAME } from './objects';

/** One environment's delivery folder: its files (relative to dist/<env>-delivery/) and the engine's objects in them. */
export interface RenderedDelivery {
  readonly files: ReadonlyMap<string, string>;
  readonly objects: readonly DeliveryObject[];
}

/**
 * Renders the delivery folder of an environment whose dist/<env>/ holds `renderedFiles` (their
 * names: the layers are read from them).
 */
export function renderDelivery(env: Environment, renderedFiles: Iterable<string>): RenderedDelivery {
  const layers = deliveryLayers(renderedFiles);
  const engineObjects = env.delivery.engine === 'flux' ? fluxObjects(env, layers) : argocdObjects(env, layers);
  const engineFile = engineObjects[0].file;
  // On-call's Role to suspend the workloads layer (production only), in the engine's namespace: the
  // reconciler that applies this file keeps it as git says.
  const objects: DeliveryObject[] = [
    ...engineObjects,
    ...onCallSuspendObjects(env).map((object) => ({
      file: engineFile,
      constructPath: `${env.name}/delivery/${env.delivery.engine}/${String(object.kind)}/${String((object.metadata as { name?: unknown } | undefined)?.name)}`,
      object,
    })),
  ];
  const files = new Map<string, string>();
  files.set(
    engineFile,
    header(
      env,
      `the ${env.delivery.engine === 'flux' ? 'Flux' : 'Argo CD'} objects that deliver dist/${env.name}/ from git`,
      [
        `Bootstrap a cluster from this folder once: kubectl apply -f dist/${env.name}-delivery/${engineFile.split('/')[0]}/`,
        `Revision: ${env.delivery.revision} (delivery.revision in lib/environments/${env.name}.ts; npm run promote changes it)`,
      ],
    ) + yamlDocuments(objects.map((o) => o.object)),
  );
  for (const layer of layers) {
    files.set(
      `layers/${layer.name}/kustomization.yaml`,
      header(env, `the layer "${layer.name}": the files of dist/${env.name}/ it applies`, []) +
        yamlDocuments([
          {
            apiVersion: 'kustomize.config.k8s.io/v1beta1',
            kind: 'Kustomization',
            resources: layer.files.map((file) => `../../../${env.name}/${file}`),
          },
        ]),
    );
  }
  return { files, objects };
}

function header(env: Environment, what: string, notes: readonly string[]): string {
  return [
    `# Rendered by lab-to-prod for the "${env.name}" environment: ${what}.`,
    ...notes.map((n) => `# ${n}`),
    '# Do not edit: change the TypeScript and run `npm run synth`.',
    '',
  ].join('\n');
}
