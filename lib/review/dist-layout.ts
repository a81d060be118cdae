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
