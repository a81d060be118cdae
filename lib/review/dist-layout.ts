/**
 * The layout of dist/ that both the synth (which writes it) and the review tools (which read it, at
 * a git ref too) rely on.
 */

/**
 * The folder beside dist/<env>/ for its bootstrap files. Beside, not inside: `kubectl apply -R -f
 * dist/<env>/` reads every .yaml in every sub-folder, and kubeadm's kinds are not the API server's.
 */
export function bootstrapFolder(envName: string): string {
  return `${envName}-bootstrap`;
}

/**
 * The folder beside dist/<env>/ that delivers it from git: the reconciler's objects a cluster is
 * bootstrapped from (flux/ or argocd/) and one kustomization per layer (layers/<layer>/) that names
 * dist/<env>/'s files. Beside, not inside, for the same reason as the bootstrap folder: `kubectl apply
 * -R -f dist/<env>/` must not apply Flux's or Argo CD's objects, nor read a kustomization.yaml.
 */
export function deliveryFolder(envName: string): string {
  return `${envName}-delivery`;
}

/** The folder the rendered environments are committed in, as the reconcilers find it in the repository. */
export const COMMITTED_DIST = 'dist';
