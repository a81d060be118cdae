/**
 * The recommended labels (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels)
 * that every object carries, so that `kubectl get -l app.kubernetes.io/part-of=lab-to-prod` finds
 * all of this project's objects in a cluster.
 */

export const PART_OF = 'lab-to-prod';
export const MANAGED_BY = 'cdk8s';

/** The project's release; the version label of objects that belong to the platform, not to an image. */
export const PROJECT_VERSION = '0.1.0';

export interface AppIdentity {
  /** The application's name: `web`. */
  readonly name: string;
  /** Its role in the architecture: `web-server`, `database`, `platform`. */
  readonly component: string;
  /** The version of what runs, usually the image tag. */
  readonly version: string;
}

/** All six recommended labels. Each app runs once per cluster, so the instance is its name. */
export function recommendedLabels(app: AppIdentity): Record<string, string> {
  return {
    'app.kubernetes.io/name': app.name,
    'app.kubernetes.io/instance': app.name,
    'app.kubernetes.io/version': app.version,
    'app.kubernetes.io/component': app.component,
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

/**
 * The labels a selector matches pods by: only those that never change over the app's life
 * (a Deployment's selector is immutable, so the version must not be in it).
 */
export function selectorLabels(name: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/instance': name,
  };
}
