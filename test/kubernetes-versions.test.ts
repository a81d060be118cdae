/**
 * Kubernetes versions as first-class data (lib/kubernetes-versions.ts): which minors are accepted,
 * that each has its own API schema, that every environment renders and passes the checks at every
 * minor its platform supports (a matrix, not spot checks), and that support ends on its dates.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS } from '../lib/environments';
import { validateEnvironment } from '../lib/environments/validate';
import { addonSupports } from '../lib/environments/validate-addons';
import { readLock } from '../lib/addons/lock';
import { describeProblem, ValidationError } from '../lib/k8s/validation';
import {
  compareMinors,
  KUBERNETES_RELEASES,
  MinorSupport,
  minorsOf,
  platformOf,
  releaseOf,
  SUPPORT_CALENDARS,
  SUPPORT_CHECKED_ON,
  SUPPORT_WINDOWS,
  staleSupportTableWarning,
  SupportPlatform,
  SUPPORTED_MINORS,
  today,
  TODAY_VARIABLE,
} from '../lib/kubernetes-versions';
import { checkManifests, hasErrors } from '../lib/policy';
import { catalogue } from '../speed/schema-modules';
import { renderEnvironment } from '../lib/synth/render';
import { checkInputs } from '../lib/synth/synth';
import { peopleGroupsByEnvironment } from '../lib/environments/people';
import { withChange } from './helpers';

const repo = path.join(__dirname, '..');

// Rendering validates each environment against the support calendars on the clock's day: these tests
// take the day the calendars were read instead, so that they say the same next year.
const clockDay = process.env[TODAY_VARIABLE];
beforeAll(() => {
  process.env[TODAY_VARIABLE] = SUPPORT_CHECKED_ON;
});
afterAll(() => {
  if (clockDay === undefined) delete process.env[TODAY_VARIABLE];
  else process.env[TODAY_VARIABLE] = clockDay;
});

describe('the supported minors', () => {
  test('hold every minor any platform supports on the day the calendars were read, without gaps', () => {
    const platforms = Object.keys(SUPPORT_CALENDARS) as SupportPlatform[];
    const supported = [
      ...new Set(
        platforms.flatMap((platform) =>
          Object.keys(SUPPORT_CALENDARS[platform].minors).filter(
            (minor) =>
              SUPPORT_CHECKED_ON <= (SUPPORT_CALENDARS[platform].minors as Record<string, MinorSupport>)[minor].ends,
          ),
        ),
      ),
    ].sort(compareMinors);
    expect(supported.every((minor) => SUPPORTED_MINORS.includes(minor))).toBe(true);
    const [major, first] = SUPPORTED_MINORS[0].split('.').map(Number);
    expect(SUPPORTED_MINORS).toEqual(SUPPORTED_MINORS.map((_, i) => `${major}.${first + i}`));
    expect(SUPPORT_WINDOWS.upstream.newest).toBe(SUPPORTED_MINORS[SUPPORTED_MINORS.length - 1]);
  });

  test('each has a release of its own minor and an API schema generated from that release', () => {
    for (const release of KUBERNETES_RELEASES) {
      expect(release.release.startsWith(`v${release.minor}.`)).toBe(true);
      const openapi = JSON.parse(
        fs.readFileSync(path.join(repo, 'generated', 'openapi', `v${release.minor}.json`), 'utf8'),
      );
      expect({ release: openapi.release, moduleHash: openapi.moduleHash }).toEqual({
        release: release.release,
        moduleHash: release.moduleHash,
      });
      expect(Object.keys(catalogue.kubernetes)).toContain(release.minor);
    }
  });

  test.each(['1.30', '1.38', '1.99', '1.28', '1.35.4', 'v1.35', ''])(
    '%j is refused, with the supported ones listed',
    (version) => {
      const env = withChange(ENVIRONMENTS['prod-gke'], (e) => {
        e.kubernetesVersion = version;
      });
      expect(() => validateEnvironment(env)).toThrow(
        `environment "prod-gke": kubernetesVersion: Invalid value: ${JSON.stringify(version)}: one of the supported minor versions "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"`,
      );
    },
  );
});

describe.each(Object.values(ENVIRONMENTS).map((env) => [env.name, env] as const))('%s', (_name, env) => {
  test('runs a version its platform supports today', () => {
    // The platform as the environment itself says it (its load balancer's provider), so that a new
    // environment file is checked against its own platform's window with no list here to extend.
    const platform = platformOf(env);
    expect(platform).toBeDefined();
    expect(minorsOf(platform!)).toContain(env.kubernetesVersion);
  });

  test.each(minorsOf(platformOf(env)!).map((m) => [m]))(
    "renders and passes every check at Kubernetes %s, a minor of its platform's window, or is refused for the add-ons that do not support it",
    (minor) => {
      const atMinor = withChange(env, (e) => {
        e.kubernetesVersion = minor;
        if (e.bootstrap) e.bootstrap.kubernetesVersion = releaseOf(minor).release;
      });
      // An add-on's pinned version supports the range its documentation states (addons/addons.lock.json):
      // at a minor outside it, the synth refuses the environment, naming each such add-on.
      const unsupported = Object.keys(env.addons).filter((a) => !addonSupports(readLock().addons[a], minor));
      if (unsupported.length > 0) {
        expect(() => renderEnvironment(atMinor)).toThrow(ValidationError);
        const problems = (() => {
          try {
            validateEnvironment(atMinor);
          } catch (error) {
            return (error as ValidationError).problems.map((p) => p.field);
          }
          return [];
        })();
        expect(problems).toEqual(unsupported.map((a) => `addons.${a}`));
        return;
      }
      validateEnvironment(atMinor);
      const rendered = renderEnvironment(atMinor);
      const findings = checkManifests(checkInputs([rendered]), { peopleGroups: peopleGroupsByEnvironment([atMinor]) });
      const errors = findings
        .filter((f) => f.severity === 'error' && !f.waived)
        .map((f) => `${f.ruleId} ${f.kind}/${f.name} ${f.fieldPath}: ${f.message}`);
      expect(errors).toEqual([]);
      expect(hasErrors(findings)).toBe(false);
      expect(rendered.objects.length).toBeGreaterThan(50);
    },
  );
});

test('the lab installs a release of its own minor, and the cluster tests run the newest minor an environment uses', () => {
  const lab = ENVIRONMENTS.lab;
  expect(lab.bootstrap?.kubernetesVersion.startsWith(`v${lab.kubernetesVersion}.`)).toBe(true);
  const newest = Object.values(ENVIRONMENTS)
    .map((e) => e.kubernetesVersion)
    .sort(compareMinors)
    .pop();
  const goMod = fs.readFileSync(path.join(repo, 'test', 'cluster', 'tools', 'kube', 'go.mod'), 'utf8');
  const controlPlane = /^require k8s\.io\/kubernetes (v\S+)$/m.exec(goMod)?.[1];
  expect(controlPlane).toBe(releaseOf(newest!).release);
});

describe("support windows end on dates, and the synth refuses a minor outside its platform's", () => {
  /**
   * The problems validateEnvironment reports on `today`, as text: the platform's window only. An
   * add-on's own Kubernetes range, which no date moves, refuses some of these minors too
   * (lib/environments/validate-addons.test.ts tests that).
   */
  const problemsOn = (env: unknown, today: string): string[] => {
    try {
      validateEnvironment(env, { today });
      return [];
    } catch (error) {
      return (error as ValidationError).problems.filter((p) => !p.field.startsWith('addons.')).map(describeProblem);
    }
  };
  const atMinor = (name: keyof typeof ENVIRONMENTS, minor: string) =>
    withChange(ENVIRONMENTS[name], (e) => {
      e.kubernetesVersion = minor;
      if (e.bootstrap) e.bootstrap.kubernetesVersion = releaseOf(minor).release;
    });

  test('prod-eks at 1.37, a minor EKS does not offer: refused, naming the window, its source and the day it was read', () => {
    expect(problemsOn(atMinor('prod-eks', '1.37'), '2026-12-07')).toEqual([
      'environment "prod-eks": kubernetesVersion: Invalid value: "1.37": a minor Amazon EKS supports on 2026-12-07: ' +
        'supported: "1.32", "1.33", "1.34", "1.35", "1.36" (standard support (14 months) and extended support (12 more); ' +
        `https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar, read on ${SUPPORT_CHECKED_ON}, lib/kubernetes-versions.ts)`,
    ]);
  });

  test('prod-aks at 1.31: accepted on the last day of its long-term support, refused after it', () => {
    expect(problemsOn(atMinor('prod-aks', '1.31'), '2026-11-30')).toEqual([]);
    expect(problemsOn(atMinor('prod-aks', '1.31'), '2026-12-07')).toEqual([
      'environment "prod-aks": kubernetesVersion: Invalid value: "1.31": a minor Azure AKS supports on 2026-12-07: ' +
        'Azure AKS\'s support for 1.31 ended on 2026-11-30; supported: "1.32", "1.33", "1.34", "1.35", "1.36", "1.37" ' +
        '(community support (12 months from AKS GA) and long-term support (12 more, Premium tier); ' +
        `https://learn.microsoft.com/azure/aks/supported-kubernetes-versions#aks-kubernetes-release-calendar, read on ${SUPPORT_CHECKED_ON}, lib/kubernetes-versions.ts)`,
    ]);
  });

  test('the lab follows upstream: 1.35 ends on 2027-02-28', () => {
    expect(problemsOn(ENVIRONMENTS.lab, '2027-02-28')).toEqual([]);
    expect(problemsOn(ENVIRONMENTS.lab, '2027-03-01')).toEqual([
      expect.stringContaining(
        'kubernetesVersion: Invalid value: "1.35": a minor upstream Kubernetes supports on 2027-03-01: upstream Kubernetes\'s support for 1.35 ended on 2027-02-28; ' +
          'supported: "1.36", "1.37" (patch releases, which the lab (built with kubeadm) installs; each release series ends on its end-of-life date; https://kubernetes.io/releases/',
      ),
    ]);
  });

  const platforms = Object.keys(SUPPORT_CALENDARS) as SupportPlatform[];
  test.each(platforms.map((p) => [p]))(
    '%s: every minor in its calendar is supported to its last day and no later',
    (platform) => {
      const minors = SUPPORT_CALENDARS[platform].minors as Record<string, MinorSupport>;
      for (const [minor, { ends, standardEnds }] of Object.entries(minors)) {
        expect(new Date(`${ends}T00:00:00Z`).toISOString().slice(0, 10)).toBe(ends);
        if (standardEnds !== undefined) expect(standardEnds < ends).toBe(true);
        const dayAfter = new Date(Date.parse(`${ends}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
        expect(minorsOf(platform, ends)).toContain(minor);
        expect(minorsOf(platform, dayAfter)).not.toContain(minor);
      }
      expect(SUPPORT_CALENDARS[platform].url).toMatch(/^https:\/\//);
    },
  );

  test('the shipped environments run a minor their platform supports on the day the calendars were read', () => {
    for (const env of Object.values(ENVIRONMENTS)) {
      expect(problemsOn(env, SUPPORT_CHECKED_ON)).toEqual([]);
    }
  });
});

describe("the day the synth checks on, and the table's own age", () => {
  const withDay = <T>(day: string | undefined, run: () => T): T => {
    const before = process.env[TODAY_VARIABLE];
    if (day === undefined) delete process.env[TODAY_VARIABLE];
    else process.env[TODAY_VARIABLE] = day;
    try {
      return run();
    } finally {
      if (before === undefined) delete process.env[TODAY_VARIABLE];
      else process.env[TODAY_VARIABLE] = before;
    }
  };

  test("LAB_TO_PROD_TODAY stands in for the clock; unset, the clock's UTC day", () => {
    expect(withDay('2027-03-01', today)).toBe('2027-03-01');
    expect(withDay(undefined, today)).toBe(new Date().toISOString().slice(0, 10));
  });

  test.each(['2027-3-1', '2027-02-30', 'tomorrow'])(
    'LAB_TO_PROD_TODAY=%s is refused, saying what is allowed',
    (day) => {
      expect(() => withDay(day, today)).toThrow(
        `LAB_TO_PROD_TODAY: Invalid value: ${JSON.stringify(day)}: a day "YYYY-MM-DD", e.g. "2027-03-01", or unset to use the clock`,
      );
    },
  );

  test('a table read 60 days ago is fine; 61 days, and the synth says what to re-read', () => {
    expect(staleSupportTableWarning('2027-02-05')).toBeUndefined();
    const warning = staleSupportTableWarning('2027-02-06');
    expect(warning).toContain(
      `the Kubernetes support calendars were read on ${SUPPORT_CHECKED_ON}, 61 days ago (more than 60): re-read `,
    );
    for (const calendar of Object.values(SUPPORT_CALENDARS)) expect(warning).toContain(calendar.url);
  });

  /** The real synth command, in this checkout, writing into a folder of its own. */
  const synth = (day: string, envName: string) => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-day-'));
    try {
      const run = spawnSync(process.execPath, ['bin/synth.js', '--env', envName, '--outdir', out], {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, [TODAY_VARIABLE]: day },
      });
      return { status: run.status, stderr: run.stderr, wrote: fs.readdirSync(out).sort() };
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  };

  test('the synth command refuses an environment whose minor has ended, and warns of a stale table while it renders', () => {
    const refused = synth('2027-03-01', 'lab');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      'environment "lab": kubernetesVersion: Invalid value: "1.35": a minor upstream Kubernetes supports on 2027-03-01: ' +
        "upstream Kubernetes's support for 1.35 ended on 2027-02-28",
    );
    expect(refused.wrote).toEqual([]);
    const rendered = synth('2027-03-01', 'prod-eks');
    expect(rendered.status).toBe(0);
    expect(rendered.stderr).toContain(
      `warning: lib/kubernetes-versions.ts: the Kubernetes support calendars were read on ${SUPPORT_CHECKED_ON}, 84 days ago`,
    );
    expect(rendered.wrote).toEqual(['prod-eks', 'prod-eks-delivery']);
  }, 60_000);
});
