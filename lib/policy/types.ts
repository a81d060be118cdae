/** Shared types of the checks: what main.ts passes in and what comes back. */

/** One synthesized Kubernetes object, as it will be written to dist/<environment>/<file>. */
export interface ManifestInput {
  /** 'lab' | 'prod-eks' | 'prod-gke' | 'prod-aks' (any string in fixtures). */
  readonly environment: string;
  /** The environment's cluster version, e.g. '1.35'; picks the schema of that minor (lib/kubernetes-versions.ts). */
  readonly kubernetesVersion: string;
  /** The manifest file, e.g. '10-web.yaml'. */
  readonly file: string;
  /** One plain Kubernetes object, as in the YAML. */
  readonly object: any;
  /** The construct that produced it, e.g. 'lab/web/Deployment'. */
  readonly constructPath?: string;
}

export type Severity = 'error' | 'warning';

export interface Finding {
  readonly environment: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly ruleId: string;
  readonly severity: Severity;
  /** Where in the object, as the API server writes it: spec.template.spec.containers[0].image */
  readonly fieldPath: string;
  readonly message: string;
  readonly constructPath?: string;
  /** Present when the object waives this rule; the reason is the one recorded on the object. */
  readonly waived?: { reason: string };
}

/**
 * The export of a generated Kubernetes module (generated/validators/k8s-<minor>.js) that lists, per
 * kind, the fields that minor documents as deprecated. It sits with the validators so that only
 * the environment's own minor's list is read, not every minor's on every synth.
 */
export const DEPRECATED_FIELDS_EXPORT = '#deprecated';

/** A deprecated field a kind can reach: its path (`spec.template.spec.volumes[].gitRepo`) and upstream's words. */
export interface DeprecatedField {
  readonly path: string;
  readonly reason: string;
}

/** A rule in the catalogue: a stable id, why it exists, and how bad a finding is. */
export interface Rule {
  readonly id: string;
  readonly severity: Severity;
  readonly reason: string;
}

/** Options that are not part of any object. */
export interface CheckOptions {
  /**
   * Objects each environment's platform provides, as "Kind/name" (cluster-scoped) or
   * "Kind/namespace/name", e.g. { 'prod-gke': ['RuntimeClass/gvisor', 'StorageClass/standard-rwo'] }.
   * References to them count as defined. An object can also document a single
   * reference itself with the out-of-band annotation (see checks/references.ts).
   */
  readonly platformProvided?: { readonly [environment: string]: readonly string[] };
  /**
   * The groups each environment's sign-in declares for people (env.identity.people), e.g.
   * { lab: ['web-viewers', 'web-deployers'] }. A binding's Group subject must be one of them; an
   * environment not listed declares none.
   */
  readonly peopleGroups?: { readonly [environment: string]: readonly string[] };
}
