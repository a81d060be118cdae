/**
 * Kubernetes versions as first-class data (lib/kubernetes-versions.ts): which minors are accepted,
 * that each has its own API schema, and that every environment renders and passes the checks at
 * every one of them (a matrix, not spot checks).
 */
import * as fs from 'fs';
import * as path from 'path';
import { ENVIRONMENTS } from '../lib/environments';
import { validateEnvironment } from '../lib/environments/validate';
import {
  compareMinors, KUBERNETES_RELEASES, minorsOf, releaseOf, SUPPORT_WINDOWS, SupportPlatform, SUPPORTED_MINORS,
} from '../lib/kubernetes-versions';
import { checkManifests, hasErrors } from '../lib/policy';
import { catalogue } from '../lib/policy/schema-modules';
import { renderEnvironment } from '../lib/render';
import { checkInputs } from '../lib/synth';
import { peopleGroupsByEnvironment } from '../lib/environments/people';
import { withChange } from './helpers';

/** Which support window each environment's cluster lives in. */
const PLATFORM: Record<string, SupportPlatform> = { 'lab': 'upstream', 'prod-eks': 'eks', 'prod-gke': 'gke', 'prod-aks': 'aks' };

const repo = path.join(__dirname, '..');

describe('the supported minors', () => {
  test('run from the oldest minor any cloud still supports to the newest upstream release, without gaps', () => {
    const clouds: SupportPlatform[] = ['eks', 'gke', 'aks'];
    const oldest = clouds.map((c) => SUPPORT_WINDOWS[c].oldest).sort(compareMinors)[0];
    const newest = SUPPORT_WINDOWS.upstream.newest;
    const [major, first] = oldest.split('.').map(Number);
    const last = Number(newest.split('.')[1]);
    const expected = Array.from({ length: last - first + 1 }, (_, i) => `${major}.${first + i}`);
    expect(SUPPORTED_MINORS).toEqual(expected);
  });

  test('each has a release of its own minor and an API schema generated from that release', () => {
    for (const release of KUBERNETES_RELEASES) {
      expect(release.release.startsWith(`v${release.minor}.`)).toBe(true);
      const openapi = JSON.parse(fs.readFileSync(path.join(repo, 'lib', 'policy', 'openapi', `v${release.minor}.json`), 'utf8'));
      expect({ release: openapi.release, moduleHash: openapi.moduleHash })
        .toEqual({ release: release.release, moduleHash: release.moduleHash });
      expect(Object.keys(catalogue.kubernetes)).toContain(release.minor);
    }
  });

  test.each(['1.30', '1.38', '1.99', '1.28', '1.35.4', 'v1.35', ''])('%j is refused, with the supported ones listed', (version) => {
    const env = withChange(ENVIRONMENTS['prod-gke'], (e) => { e.kubernetesVersion = version; });
    expect(() => validateEnvironment(env)).toThrow(
      `environment "prod-gke": kubernetesVersion: Invalid value: ${JSON.stringify(version)}: one of the supported minor versions "1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"`);
  });
});

describe.each(Object.values(ENVIRONMENTS).map((env) => [env.name, env] as const))('%s', (name, env) => {
  test('runs a version its platform supports today', () => {
    expect(minorsOf(PLATFORM[name])).toContain(env.kubernetesVersion);
  });

  test.each(SUPPORTED_MINORS.map((m) => [m]))('renders and passes every check at Kubernetes %s', (minor) => {
    const atMinor = withChange(env, (e) => {
      e.kubernetesVersion = minor;
      if (e.bootstrap) e.bootstrap.kubernetesVersion = releaseOf(minor).release;
    });
    validateEnvironment(atMinor);
    const rendered = renderEnvironment(atMinor);
    const findings = checkManifests(checkInputs([rendered]), { peopleGroups: peopleGroupsByEnvironment([atMinor]) });
    const errors = findings.filter((f) => f.severity === 'error' && !f.waived)
      .map((f) => `${f.ruleId} ${f.kind}/${f.name} ${f.fieldPath}: ${f.message}`);
    expect(errors).toEqual([]);
    expect(hasErrors(findings)).toBe(false);
    expect(rendered.objects.length).toBeGreaterThan(50);
  });
});

test('the lab installs a release of its own minor, and the cluster tests run the newest minor an environment uses', () => {
  const lab = ENVIRONMENTS.lab;
  expect(lab.bootstrap?.kubernetesVersion.startsWith(`v${lab.kubernetesVersion}.`)).toBe(true);
  const newest = Object.values(ENVIRONMENTS).map((e) => e.kubernetesVersion).sort(compareMinors).pop();
  const goMod = fs.readFileSync(path.join(repo, 'test', 'cluster', 'tools', 'kube', 'go.mod'), 'utf8');
  const controlPlane = /^require k8s\.io\/kubernetes (v\S+)$/m.exec(goMod)?.[1];
  expect(controlPlane).toBe(releaseOf(newest!).release);
});
