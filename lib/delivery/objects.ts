/**
 * What every delivery object shares: the recommended labels (so that `kubectl get -l
 * app.kubernetes.io/part-of=lab-to-prod` and deploy's look for a reconciler find them), and the
 * repository paths the reconcilers read.
 */
import { Environment } from '../environment';
import { OUT_OF_BAND_PREFIX } from '../policy';
import { COMMITTED_DIST, deliveryFolder } from '../review/dist-layout';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { KubeObject } from '../k8s/kube-object';

/** The name every delivery object's name starts with, and the source of the layers (`lab-to-prod-<layer>`). */
export const DELIVERY_PREFIX = 'lab-to-prod';

/** The objects that deliver the delivery folder itself (GitRepository, Kustomization, Application). */
export const SELF_NAME = `${DELIVERY_PREFIX}-delivery`;

/** The object that applies one layer: `lab-to-prod-workloads`. */
export function layerObjectName(layer: string): string {
  return `${DELIVERY_PREFIX}-${layer}`;
}

/** One rendered delivery object: the file it is written to (relative to dist/<env>-delivery/), where it came from. */
export interface DeliveryObject {
  readonly file: string;
  /** `lab/delivery/flux/Kustomization/lab-to-prod-workloads`: where a finding about it points. */
  readonly constructPath: string;
  readonly object: KubeObject;
}

/** A delivery object's metadata: always in the engine's namespace, with the project's labels. */
export interface DeliveryMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** A delivery object as rendered: an engine's kind, in the engine's namespace. */
export interface DeliveryDocument {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: DeliveryMetadata;
  readonly spec: Record<string, unknown>;
}

/** The labels of every delivery object: the project's, with the component `delivery`. */
export function deliveryLabels(): Record<string, string> {
  return recommendedLabels({ name: SELF_NAME, component: 'delivery', version: PROJECT_VERSION });
}

/**
 * The metadata of a delivery object in the engine's namespace, which the engine's installation
 * creates (not this project): the annotation says so, for the reference checks and for a reader.
 */
export function engineMetadata(name: string, namespace: string, createdBy: string): DeliveryMetadata {
  return {
    name,
    namespace,
    labels: deliveryLabels(),
    annotations: { [`${OUT_OF_BAND_PREFIX}namespace.${namespace}`]: createdBy },
  };
}

/** Paths inside the repository, as the reconcilers read them (relative to its root, no leading slash). */
export function repositoryPaths(env: Environment) {
  const delivery = `${COMMITTED_DIST}/${deliveryFolder(env.name)}`;
  return {
    /** dist/<env>: what the layers apply. */
    rendered: `${COMMITTED_DIST}/${env.name}`,
    /** dist/<env>-delivery */
    delivery,
    /** dist/<env>-delivery/layers/<layer>: one layer's kustomization. */
    layer: (layer: string) => `${delivery}/layers/${layer}`,
  };
}
