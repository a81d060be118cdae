/**
 * The Kubernetes minor versions this project renders and checks, and why those.
 *
 * Accepted: every minor from the oldest one that any of the three clouds still supports (extended
 * or long-term support counts) to the newest upstream release. Each accepted minor is checked
 * against its own API schema (lib/policy/openapi/, generated from that release's OpenAPI by
 * scripts/fetch-kubernetes-openapi.ts), so a field a version lacks, or deprecates, is caught for
 * that version.
 *
 * These are facts with a date: when a cloud ends a version or upstream releases one, change the
 * table below, run `npm run fetch:openapi` and regenerate the schemas (lib/policy/README.md).
 */

/** The day the support windows below were read from their sources. */
export const SUPPORT_CHECKED_ON = '2026-11-29';

/** One Kubernetes minor version and the release whose OpenAPI describes it. */
export interface KubernetesRelease {
  /** "1.N". */
  readonly minor: string;
  /** The k8s.io/kubernetes Go module version the schema comes from (a patch release of that minor). */
  readonly release: string;
  /** The Go checksum database's hash of that module (`go mod download -json` prints it as Sum). */
  readonly moduleHash: string;
  /**
   * The image tags kubeadm of that release installs (`kubeadm config images list`; the constants
   * DefaultEtcdVersion, CoreDNSVersion and PauseVersion in cmd/kubeadm/app/constants, which the
   * fetch script reads and compares).
   */
  readonly kubeadmImages: { readonly etcd: string; readonly coreDns: string; readonly pause: string };
}

/** Ascending. The newest is the newest upstream release on SUPPORT_CHECKED_ON. */
export const KUBERNETES_RELEASES: readonly KubernetesRelease[] = [
  {
    minor: '1.31', release: 'v1.31.14', moduleHash: 'h1:UtjLfqvXLuSVDdJ4+NpQCIfFkKkLnAAVmxAEMsnkhjk=',
    kubeadmImages: { etcd: '3.5.24-0', coreDns: 'v1.11.3', pause: '3.10' },
  },
  {
    minor: '1.32', release: 'v1.32.13', moduleHash: 'h1:5TGYdZ6YZqdp6h/Rp1vX/4TIoybMPdgv97LCZCtPuNQ=',
    kubeadmImages: { etcd: '3.5.24-0', coreDns: 'v1.11.3', pause: '3.10' },
  },
  {
    minor: '1.33', release: 'v1.33.13', moduleHash: 'h1:bmH31xUdSzeA5vk0wZAK9MZp11mdLuzUSeKk0qN3hPQ=',
    kubeadmImages: { etcd: '3.5.24-0', coreDns: 'v1.12.0', pause: '3.10' },
  },
  {
    minor: '1.34', release: 'v1.34.4', moduleHash: 'h1:Yy6R4QB8C9kJPp25GFqEvX5XQwY5qzKeqD0Xx6oAcmk=',
    kubeadmImages: { etcd: '3.6.5-0', coreDns: 'v1.12.1', pause: '3.10.1' },
  },
  {
    minor: '1.35', release: 'v1.35.4', moduleHash: 'h1:o/8dBC/pHVpYoGV4OAIytAlNPZbdYVTXJHoYvXC4qzM=',
    kubeadmImages: { etcd: '3.6.6-0', coreDns: 'v1.13.1', pause: '3.10.1' },
  },
  {
    minor: '1.36', release: 'v1.36.3', moduleHash: 'h1:qDQdoMiluAE2Eab6Fa52YV+WjiGz9mZFFoagEA6cI+o=',
    kubeadmImages: { etcd: '3.6.8-0', coreDns: 'v1.14.2', pause: '3.10.2' },
  },
  {
    minor: '1.37', release: 'v1.37.2', moduleHash: 'h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=',
    kubeadmImages: { etcd: '3.7.0-0', coreDns: 'v1.14.6', pause: '3.10.2' },
  },
];

/** Where a platform's supported minors come from, oldest and newest inclusive. */
export interface SupportWindow {
  readonly oldest: string;
  readonly newest: string;
  /** What the window is and where it was read. */
  readonly source: string;
}

/**
 * What each platform supports on SUPPORT_CHECKED_ON. The environment files cite the window of
 * their platform; validation refuses a version outside it.
 */
export const SUPPORT_WINDOWS = {
  upstream: {
    oldest: '1.35', newest: '1.37',
    source: 'Kubernetes release history (kubernetes.io/releases): the three newest minors get patch releases; '
      + '1.34 reached end of life on 2026-10-27.',
  },
  eks: {
    oldest: '1.32', newest: '1.36',
    source: 'Amazon EKS Kubernetes version lifecycle (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html): '
      + '14 months of standard and 12 of extended support; 1.31 extended support ended 2026-11-26, 1.32 ends 2027-03-23; '
      + '1.36 is the newest EKS release.',
  },
  gke: {
    oldest: '1.32', newest: '1.37',
    source: 'GKE release notes, "Current versions" (cloud.google.com/kubernetes-engine/docs/release-notes): available minor '
      + 'versions 1.34 to 1.37 in the Rapid and Regular channels, 1.32 to 1.37 in the Extended channel (up to 24 months '
      + 'from Regular availability, GKE versioning and support).',
  },
  aks: {
    oldest: '1.31', newest: '1.37',
    source: 'AKS supported Kubernetes versions (learn.microsoft.com/azure/aks/supported-kubernetes-versions), LTS table: '
      + '1.31 long-term support ends November 2026 (the last day of the month), 1.37 GA October 2026.',
  },
} as const satisfies Record<string, SupportWindow>;

export type SupportPlatform = keyof typeof SUPPORT_WINDOWS;

/** The minor versions accepted anywhere, ascending: "1.31" ... "1.37". */
export const SUPPORTED_MINORS: readonly string[] = KUBERNETES_RELEASES.map((r) => r.minor);

/** Compares "1.N" minors numerically. */
export function compareMinors(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** The minors of one platform's window, ascending. */
export function minorsOf(platform: SupportPlatform): string[] {
  const { oldest, newest } = SUPPORT_WINDOWS[platform];
  return SUPPORTED_MINORS.filter((m) => compareMinors(m, oldest) >= 0 && compareMinors(m, newest) <= 0);
}

/** The release of a supported minor; throws for another (validation refuses those first). */
export function releaseOf(minor: string): KubernetesRelease {
  const release = KUBERNETES_RELEASES.find((r) => r.minor === minor);
  if (!release) throw new Error(`Kubernetes ${minor} is not a supported minor version; supported: ${SUPPORTED_MINORS.join(', ')}`);
  return release;
}
