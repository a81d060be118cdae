/**
 * The Kubernetes minor versions this project renders and checks, and why those.
 *
 * KUBERNETES_RELEASES holds every minor with an API schema here (generated/openapi/, generated from
 * that release's OpenAPI by scripts/generate/fetch-kubernetes-openapi.ts), so a field a version lacks, or
 * deprecates, is caught for that version. Which of them an environment may run is a matter of dates:
 * SUPPORT_CALENDARS records, per platform (upstream for the kubeadm lab, EKS, GKE, AKS), the last day
 * of support of each minor, and the synth refuses a minor its environment's platform does not support
 * on the day it runs (validateEnvironment, lib/environments/validate.ts; the day is today(), below).
 *
 * These are facts with a date: when a cloud ends a version or upstream releases one, change the
 * tables below, run `npm run fetch:openapi` and regenerate the schemas (lib/policy/README.md). A
 * minor past its end everywhere (1.31 since 2026-11-30) may then leave KUBERNETES_RELEASES.
 */

/**
 * The day the support calendars below were last read from their sources (SUPPORT_CALENDARS' urls).
 * A synth warns when this is more than SUPPORT_TABLE_MAX_AGE_DAYS old (staleSupportTableWarning).
 */
export const SUPPORT_CHECKED_ON = '2026-12-07';

/** How old the table may be before the synth asks for it to be read again. */
export const SUPPORT_TABLE_MAX_AGE_DAYS = 60;

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
    minor: '1.31',
    release: 'v1.31.14',
    moduleHash: 'h1:UtjLfqvXLuSVDdJ4+NpQCIfFkKkLnAAVmxAEMsnkhjk=',
    kubeadmImages: { etcd: '3.5.24-0', coreDns: 'v1.11.3', pause: '3.10' },
  },
  {
    minor: '1.32',
    release: 'v1.32.13',
    moduleHash: 'h1:5TGYdZ6YZqdp6h/Rp1vX/4TIoybMPdgv97LCZCtPuNQ=',
    kubeadmImages: { etcd: '3.5.24-0', coreDns: 'v1.11.3', pause: '3.10' },
  },
  {
    minor: '1.33',
    release: 'v1.33.13',
    moduleHash: 'h1:bmH31xUdSzeA5vk0wZAK9MZp11mdLuzUSeKk0qN3hPQ=',
    kubeadmImages: { etcd: '3.5.24-0', coreDns: 'v1.12.0', pause: '3.10' },
  },
  {
    minor: '1.34',
    release: 'v1.34.4',
    moduleHash: 'h1:Yy6R4QB8C9kJPp25GFqEvX5XQwY5qzKeqD0Xx6oAcmk=',
    kubeadmImages: { etcd: '3.6.5-0', coreDns: 'v1.12.1', pause: '3.10.1' },
  },
  {
    minor: '1.35',
    release: 'v1.35.4',
    moduleHash: 'h1:o/8dBC/pHVpYoGV4OAIytAlNPZbdYVTXJHoYvXC4qzM=',
    kubeadmImages: { etcd: '3.6.6-0', coreDns: 'v1.13.1', pause: '3.10.1' },
  },
  {
    minor: '1.36',
    release: 'v1.36.3',
    moduleHash: 'h1:qDQdoMiluAE2Eab6Fa52YV+WjiGz9mZFFoagEA6cI+o=',
    kubeadmImages: { etcd: '3.6.8-0', coreDns: 'v1.14.2', pause: '3.10.2' },
  },
  {
    minor: '1.37',
    release: 'v1.37.2',
    moduleHash: 'h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE=',
    kubeadmImages: { etcd: '3.7.0-0', coreDns: 'v1.14.6', pause: '3.10.2' },
  },
];

/** The minor versions accepted anywhere, ascending: "1.31" ... "1.37". */
export const SUPPORTED_MINORS: readonly string[] = KUBERNETES_RELEASES.map((r) => r.minor);

/** Compares "1.N" minors numerically. */
export function compareMinors(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** How long one minor is supported on one platform, to the day (dates are UTC days, "YYYY-MM-DD"). */
export interface MinorSupport {
  /**
   * The last day of standard support, where the platform sells more support after it (EKS's
   * extended support, GKE's Extended channel, AKS's long-term support).
   * @default - the platform offers no more than `ends`
   */
  readonly standardEnds?: string;
  /** The last day of any support, extended or long-term included. From the day after, the synth refuses the minor. */
  readonly ends: string;
  /** Where a date is not the source's own (an estimate from the platform's stated policy), why and how. */
  readonly estimated?: string;
}

/** One platform's version calendar: where it was read, and each minor it offers. */
export interface SupportCalendar {
  /** The platform, as people call it: "Amazon EKS". */
  readonly platform: string;
  /** What the end dates count: "standard and extended support". */
  readonly counts: string;
  /** The page the dates were read from (read on SUPPORT_CHECKED_ON). */
  readonly url: string;
  /** The minors the platform offers, by "1.N". A minor missing here is one the platform does not offer (yet or any more). */
  readonly minors: Readonly<Record<string, MinorSupport>>;
}

/**
 * Each platform's calendar: the upstream project's for the lab's kubeadm cluster, and each cloud's.
 * Read on SUPPORT_CHECKED_ON from the stored copies of the pages at `url`; where a page did not
 * give a date, `estimated` says so and how the date was worked out from the platform's stated policy
 * (an estimate errs early: refusing a minor a month too soon is cheaper than running one unsupported).
 */
export const SUPPORT_CALENDARS = {
  upstream: {
    platform: 'upstream Kubernetes',
    counts:
      'patch releases, which the lab (built with kubeadm) installs; each release series ends on its end-of-life date',
    url: 'https://kubernetes.io/releases/',
    minors: {
      '1.31': { ends: '2025-10-28', estimated: 'not re-read: the end-of-life date published when 1.31 was current' },
      '1.32': { ends: '2026-02-28', estimated: 'not re-read: the end-of-life date published when 1.32 was current' },
      '1.33': { ends: '2026-06-28' },
      '1.34': { ends: '2026-10-27' },
      '1.35': { ends: '2027-02-28' },
      '1.36': { ends: '2027-06-28' },
      '1.37': {
        ends: '2027-10-28',
        estimated: 'no release page stored yet: 14 months after its August 2026 release, as for the minors before it',
      },
    },
  },
  eks: {
    platform: 'Amazon EKS',
    counts: 'standard support (14 months) and extended support (12 more)',
    url: 'https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar',
    minors: {
      '1.31': { standardEnds: '2025-11-26', ends: '2026-11-26' },
      '1.32': { standardEnds: '2026-03-23', ends: '2027-03-23' },
      '1.33': { standardEnds: '2026-07-29', ends: '2027-07-29' },
      '1.34': { standardEnds: '2026-12-02', ends: '2027-12-02' },
      '1.35': { standardEnds: '2027-03-27', ends: '2028-03-27' },
      '1.36': {
        standardEnds: '2027-07-31',
        ends: '2028-07-31',
        estimated:
          'the stored calendar predates 1.36 on EKS: 14 and 26 months after an EKS release in June 2026, rounded down to a month end',
      },
    },
  },
  gke: {
    platform: 'Google GKE',
    counts: 'standard support (about 14 months) and the Extended channel (up to 24 months from Regular availability)',
    url: 'https://cloud.google.com/kubernetes-engine/docs/release-schedule',
    minors: {
      '1.31': {
        ends: '2026-10-31',
        estimated: 'Extended channel end: 24 months from Regular availability in October 2024',
      },
      '1.32': {
        ends: '2027-02-28',
        estimated: 'Extended channel end: 24 months from Regular availability in February 2025',
      },
      '1.33': {
        ends: '2027-06-30',
        estimated: 'Extended channel end: 24 months from Regular availability in June 2025',
      },
      '1.34': {
        standardEnds: '2026-10-01',
        ends: '2027-08-01',
        estimated:
          'Extended channel end: about 10 months after the end of standard support, as the versioning page states',
      },
      '1.35': {
        standardEnds: '2027-04-11',
        ends: '2028-02-11',
        estimated:
          'Extended channel end: about 10 months after the end of standard support, as the versioning page states',
      },
      '1.36': {
        ends: '2028-06-30',
        estimated: 'Extended channel end: 24 months from Regular availability in June 2026',
      },
      '1.37': {
        ends: '2028-10-31',
        estimated: 'Extended channel end: 24 months from Regular availability in October 2026',
      },
    },
  },
  aks: {
    platform: 'Azure AKS',
    counts: 'community support (12 months from AKS GA) and long-term support (12 more, Premium tier)',
    url: 'https://learn.microsoft.com/azure/aks/supported-kubernetes-versions#aks-kubernetes-release-calendar',
    minors: {
      '1.31': { ends: '2026-11-30' },
      '1.32': {
        standardEnds: '2026-03-31',
        ends: '2027-04-30',
        estimated: 'the calendar gives months: community support to the end of GA + 12 months, LTS to GA + 24',
      },
      '1.33': {
        standardEnds: '2026-07-31',
        ends: '2027-07-31',
        estimated: 'the calendar gives months: community support to the end of GA + 12 months, LTS to GA + 24',
      },
      '1.34': {
        standardEnds: '2026-11-30',
        ends: '2027-11-30',
        estimated: 'the calendar gives months: community support to the end of GA + 12 months, LTS to GA + 24',
      },
      '1.35': {
        standardEnds: '2027-02-28',
        ends: '2028-02-29',
        estimated: 'the calendar gives months: community support to the end of GA + 12 months, LTS to GA + 24',
      },
      '1.36': {
        standardEnds: '2027-06-30',
        ends: '2028-06-30',
        estimated: 'the calendar gives months: community support to the end of GA + 12 months, LTS to GA + 24',
      },
      '1.37': {
        standardEnds: '2027-10-31',
        ends: '2028-10-31',
        estimated:
          'the calendar gives months: community support to the end of GA (October 2026) + 12 months, LTS to GA + 24',
      },
    },
  },
} as const satisfies Record<string, SupportCalendar>;

export type SupportPlatform = keyof typeof SUPPORT_CALENDARS;

/**
 * Which calendar an environment's cluster follows, read from the environment itself: the provider
 * of its Services of type LoadBalancer is the platform's own integration (MetalLB only where the
 * cluster is ours, built with kubeadm).
 */
const PLATFORM_OF_LOAD_BALANCER: Readonly<Record<string, SupportPlatform>> = {
  metallb: 'upstream',
  'aws-load-balancer-controller': 'eks',
  gke: 'gke',
  azure: 'aks',
};

/** The platform whose calendar an environment follows; undefined for a provider this table does not know. */
export function platformOf(env: {
  readonly loadBalancing: { readonly provider: string };
}): SupportPlatform | undefined {
  return PLATFORM_OF_LOAD_BALANCER[env.loadBalancing.provider];
}

/** The environment variable that sets the day the synth checks support on (tests; "what if" runs). */
export const TODAY_VARIABLE = 'LAB_TO_PROD_TODAY';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (text: string): boolean => DAY.test(text) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text);

/**
 * Today, as a UTC day "YYYY-MM-DD": the one place the project reads the clock for support dates.
 * LAB_TO_PROD_TODAY=2027-03-01 stands in for the clock (the tests set it; so can anyone who wants to
 * know what a synth will say on that day).
 */
export function today(): string {
  const given = process.env[TODAY_VARIABLE];
  if (given === undefined || given === '') {
    return new Date().toISOString().slice(0, 10);
  }
  if (!isDay(given)) {
    throw new Error(
      `${TODAY_VARIABLE}: Invalid value: ${JSON.stringify(given)}: a day "YYYY-MM-DD", e.g. "2027-03-01", or unset to use the clock`,
    );
  }
  return given;
}

const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** The minors a platform supports on `day`, ascending: offered there, not past their end, and with an API schema here. */
export function minorsOn(platform: SupportPlatform, day: string): string[] {
  const minors: Readonly<Record<string, MinorSupport>> = SUPPORT_CALENDARS[platform].minors;
  return SUPPORTED_MINORS.filter((m) => minors[m] !== undefined && day <= minors[m].ends);
}

/**
 * What is wrong with running `minor` on `platform` on `day`, as the "what is allowed" of a field
 * error, or undefined when it is supported. Names the window, the calendar's page and the day it was read.
 */
export function supportProblem(platform: SupportPlatform, minor: string, day: string): string | undefined {
  const calendar: SupportCalendar = SUPPORT_CALENDARS[platform];
  const window = minorsOn(platform, day);
  if (window.includes(minor)) {
    return undefined;
  }
  const entry = calendar.minors[minor];
  const ended = entry === undefined ? '' : `${calendar.platform}'s support for ${minor} ended on ${entry.ends}; `;
  const supported = window.length === 0 ? 'none' : window.map((m) => JSON.stringify(m)).join(', ');
  return (
    `a minor ${calendar.platform} supports on ${day}: ${ended}supported: ${supported} ` +
    `(${calendar.counts}; ${calendar.url}, read on ${SUPPORT_CHECKED_ON}, lib/kubernetes-versions.ts)`
  );
}

/**
 * A warning when the calendars were read more than SUPPORT_TABLE_MAX_AGE_DAYS before `day`: end
 * dates move (a provider extends a window, or publishes the date this table estimated), so the
 * table is only as good as its last reading.
 */
export function staleSupportTableWarning(day: string = today()): string | undefined {
  const age = daysBetween(SUPPORT_CHECKED_ON, day);
  if (age <= SUPPORT_TABLE_MAX_AGE_DAYS) {
    return undefined;
  }
  const urls = Object.values(SUPPORT_CALENDARS)
    .map((c: SupportCalendar) => c.url)
    .join(', ');
  return (
    `warning: lib/kubernetes-versions.ts: the Kubernetes support calendars were read on ${SUPPORT_CHECKED_ON}, ${age} days ago ` +
    `(more than ${SUPPORT_TABLE_MAX_AGE_DAYS}): re-read ${urls}, update SUPPORT_CALENDARS and SUPPORT_CHECKED_ON`
  );
}

/** A platform's window as its oldest and newest minor on a day, and where it comes from. */
export interface SupportWindow {
  readonly oldest: string;
  readonly newest: string;
  /** What the window is and where it was read. */
  readonly source: string;
}

/** Each platform's window on SUPPORT_CHECKED_ON (the environment files cite these). */
export const SUPPORT_WINDOWS: Readonly<Record<SupportPlatform, SupportWindow>> = Object.fromEntries(
  (Object.keys(SUPPORT_CALENDARS) as SupportPlatform[]).map((platform) => {
    const window = minorsOn(platform, SUPPORT_CHECKED_ON);
    const calendar: SupportCalendar = SUPPORT_CALENDARS[platform];
    return [
      platform,
      {
        oldest: window[0],
        newest: window[window.length - 1],
        source: `${calendar.platform}: ${calendar.counts} (${calendar.url})`,
      },
    ];
  }),
) as Record<SupportPlatform, SupportWindow>;

/** The minors of one platform's window on a day (SUPPORT_CHECKED_ON unless given), ascending. */
export function minorsOf(platform: SupportPlatform, day: string = SUPPORT_CHECKED_ON): string[] {
  return minorsOn(platform, day);
}

/** The release of a supported minor; throws for another (validation refuses those first). */
export function releaseOf(minor: string): KubernetesRelease {
  const release = KUBERNETES_RELEASES.find((r) => r.minor === minor);
  if (!release)
    throw new Error(`Kubernetes ${minor} is not a supported minor version; supported: ${SUPPORTED_MINORS.join(', ')}`);
  return release;
}
