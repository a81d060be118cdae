/**
 * Flux's objects for an environment delivered by Flux (source-controller and kustomize-controller,
 * v1.9.5, the controllers of the flux CLI v2.9.5): written to dist/<env>-delivery/flux/lab-to-prod.yaml,
 * the one folder a cluster is bootstrapped from (`kubectl apply -f dist/<env>-delivery/flux/`).
 *
 * Two sources of one repository:
 * - `lab-to-prod-delivery` follows the branch's tip and holds only dist/<env>-delivery/; the
 *   Kustomization of the same name applies its flux/ folder, this very file. A promotion is a
 *   reviewed commit to that file, so it reaches the cluster like any merge.
 * - `lab-to-prod` is the revision the environment's layers apply: the branch's tip (the lab) or a
 *   promoted commit (production); absent while production is unpromoted, so nothing is applied.
 *   One Kustomization per layer (lib/delivery/layers.ts) applies it, each after the one before.
 *
 * Facts from Flux's own documentation (source-controller and kustomize-controller v1.9.5,
 * docs/spec/v1/gitrepositories.md and kustomizations.md):
 * - GitRepository `.spec.ref.commit` takes precedence over every other reference field: the artifact
 *   is that commit, whatever the branch does since.
 * - `.spec.ignore` (.gitignore's format) replaces the default exclusions: only what is not ignored
 *   goes into the artifact, so each source carries only the folders its Kustomizations read.
 * - `.spec.dependsOn`: a Kustomization is applied only once the ones it names are Ready; with `wait:
 *   true` (health checks of every object it applied) Ready means healthy, not only applied.
 * - `.spec.prune`: objects applied before and missing from the current revision are deleted, by the
 *   Kustomization's own inventory.
 * - kustomize-controller builds with kustomize's load restrictions off (fluxcd/pkg kustomize, Build),
 *   so a layer's kustomization.yaml may name files of dist/<env>/ outside its own folder; the
 *   artifact is still the only tree it can read.
 */
import { Environment } from '../environment';
import { DeliveryLayer } from './layers';
import {
  DeliveryDocument,
  DeliveryObject,
  engineMetadata,
  layerObjectName,
  repositoryPaths,
  SELF_NAME,
  DELIVERY_PREFIX,
} from './objects';

const SOURCE_API = 'source.toolkit.fluxcd.io/v1';

/** A claim that is Bound, or Pending until its first consumer (see the layers' `healthCheckExprs`). */
const PERSISTENT_VOLUME_CLAIM_HEALTH = {
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  current: "status.phase == 'Bound' || status.phase == 'Pending'",
};
const KUSTOMIZE_API = 'kustomize.toolkit.fluxcd.io/v1';

/** The file under dist/<env>-delivery/ that bootstraps the cluster. */
export const FLUX_FILE = 'flux/lab-to-prod.yaml';

/**
 * How long a layer may take to apply and become healthy before its Kustomization reports failure,
 * and how soon a failed one is tried again: the add-ons' controllers pull their images and start in
 * a minute or two; a layer that is not healthy in five is broken, not slow.
 */
const LAYER_TIMEOUT = '5m';
const RETRY_INTERVAL = '1m';

/**
 * `.gitignore` lines that leave only the named folders of the repository in an artifact: ignore the
 * root's every entry, then take back dist/ and, inside it, ignore all but the named folders (a folder
 * must be taken back before anything inside it can be).
 */
function onlyFolders(folders: readonly string[]): string {
  return ['/*', '!/dist/', '/dist/*', ...folders.map((f) => `!/${f}/`)].join('\n') + '\n';
}

export function fluxObjects(env: Environment, layers: readonly DeliveryLayer[]): DeliveryObject[] {
  const flux = env.delivery.flux!;
  const paths = repositoryPaths(env);
  // Flux's namespace is made by whatever installs its controllers: `flux install`, or AKS's Flux extension.
  const createdBy = "created by Flux's installation (flux install, or AKS's Flux extension), with its controllers";
  const metadata = (name: string) => engineMetadata(name, flux.namespace, createdBy);
  const objects: DeliveryDocument[] = [
    {
      apiVersion: SOURCE_API,
      kind: 'GitRepository',
      metadata: metadata(SELF_NAME),
      spec: {
        interval: flux.pollInterval,
        url: env.delivery.repository,
        ref: { branch: env.delivery.branch },
        ignore: onlyFolders([paths.delivery]),
      },
    },
    {
      apiVersion: KUSTOMIZE_API,
      kind: 'Kustomization',
      metadata: metadata(SELF_NAME),
      spec: {
        interval: flux.reconcileInterval,
        sourceRef: { kind: 'GitRepository', name: SELF_NAME },
        path: `./${paths.delivery}/flux`,
        // A layer taken out of the environment (no add-on of a wave any more) takes its Kustomization with it.
        prune: true,
      },
    },
  ];
  const revision = env.delivery.revision;
  if (revision !== 'unpromoted') {
    objects.push({
      apiVersion: SOURCE_API,
      kind: 'GitRepository',
      metadata: metadata(DELIVERY_PREFIX),
      spec: {
        interval: flux.pollInterval,
        url: env.delivery.repository,
        // The lab follows the branch; production a promoted commit, which no later push can move.
        ref: revision === 'tip' ? { branch: env.delivery.branch } : { commit: revision },
        ignore: onlyFolders([paths.rendered, paths.delivery]),
      },
    });
    layers.forEach((layer, index) => {
      objects.push({
        apiVersion: KUSTOMIZE_API,
        kind: 'Kustomization',
        metadata: metadata(layerObjectName(layer.name)),
        spec: {
          ...(index > 0 ? { dependsOn: [{ name: layerObjectName(layers[index - 1].name) }] } : {}),
          interval: flux.reconcileInterval,
          retryInterval: RETRY_INTERVAL,
          timeout: LAYER_TIMEOUT,
          sourceRef: { kind: 'GitRepository', name: DELIVERY_PREFIX },
          path: `./${paths.layer(layer.name)}`,
          // Never the CRDs: deleting a CRD deletes every object of its kind in the cluster (deploy never
          // prunes them either). A CRD no longer rendered stays until someone deletes it on purpose.
          prune: layer.name !== 'crds',
          wait: true,
          // With `wait`, every applied object must be healthy, and Flux's health rules (kstatus) count a
          // Pending claim as still in progress. A claim of a WaitForFirstConsumer class stays Pending
          // until a pod uses it: the backups' claim until the nightly CronJob first runs, so the layer
          // would time out every time. A claim is healthy here once it is Bound or waiting for its
          // first consumer (CEL health expressions, kustomize-controller's `.spec.healthCheckExprs`).
          healthCheckExprs: [PERSISTENT_VOLUME_CLAIM_HEALTH],
        },
      });
    });
  }
  return objects.map((object) => ({
    file: FLUX_FILE,
    constructPath: `${env.name}/delivery/flux/${object.kind}/${object.metadata.name}`,
    object,
  }));
}
