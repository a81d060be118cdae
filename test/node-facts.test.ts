/**
 * The nodes area (env.nodes): a pod asks for AppArmor only where its nodes have AppArmor. A kubelet
 * on a node without it refuses every such pod (Kubernetes 1.31+), which no schema check can see:
 * the real node of the cluster tests found it. This walks every rendered object of every environment.
 */
import { readLock } from '../lib/addons/lock';
import { Environment } from '../lib/environment';
import { ENVIRONMENTS } from '../lib/environments';
import { addonSupports } from '../lib/environments/validate-addons';
import { minorsOn, today } from '../lib/kubernetes-versions';
import { renderEnvironment } from '../lib/synth/render';
import { podTemplatePath } from '../lib/review/kube';
import { withChange } from './helpers';

/** Every place an object asks for AppArmor: the field (pod or container) or the pre-1.30 annotation. */
function appArmorRequests(object: any, at = ''): string[] {
  if (object === null || typeof object !== 'object') {
    return [];
  }
  return Object.entries(object).flatMap(([key, value]) => {
    const here = at === '' ? key : `${at}.${key}`;
    const own =
      key === 'appArmorProfile' || key.startsWith('container.apparmor.security.beta.kubernetes.io/') ? [here] : [];
    return [...own, ...appArmorRequests(value, here)];
  });
}

/** The objects of an environment that run pods. */
function podObjects(env: Environment): any[] {
  return renderEnvironment(env)
    .objects.map((o) => o.object)
    .filter((o) => podTemplatePath(o.kind) !== undefined);
}

describe.each(Object.values(ENVIRONMENTS).map((env) => [env.name, env] as const))('%s', (_name, env) => {
  const pods = podObjects(env);

  test('has pods to check', () => {
    expect(pods.length).toBeGreaterThanOrEqual(5);
  });

  if (env.nodes.securityModule === 'AppArmor') {
    test("every pod asks for AppArmor's runtime default profile (its nodes run AppArmor)", () => {
      for (const o of pods) {
        expect([o.kind, o.metadata.name, appArmorRequests(o).length > 0]).toEqual([o.kind, o.metadata.name, true]);
      }
    });
  } else {
    test(`no pod asks for an AppArmor profile (its nodes run ${env.nodes.securityModule})`, () => {
      expect(pods.flatMap((o) => appArmorRequests(o).map((p) => `${o.kind}/${o.metadata.name} ${p}`))).toEqual([]);
    });
  }
});

test('the lab rendered for nodes without AppArmor asks for none, at every Kubernetes minor a kubeadm lab may run today', () => {
  // The minors upstream supports today that the lab's pinned add-ons support too (the synth refuses
  // the others: lib/environments/validate-addons.ts, tested there).
  const lock = readLock();
  const minors = minorsOn('upstream', today()).filter((minor) =>
    Object.keys(ENVIRONMENTS.lab.addons).every((name) => addonSupports(lock.addons[name], minor)),
  );
  expect(minors.length).toBeGreaterThan(0);
  for (const kubernetesVersion of minors) {
    const env = withChange(ENVIRONMENTS.lab, (e) => {
      e.kubernetesVersion = kubernetesVersion;
      e.bootstrap.kubernetesVersion = `v${kubernetesVersion}.0`;
      e.nodes.securityModule = 'SELinux';
    });
    expect(podObjects(env).flatMap((o) => appArmorRequests(o))).toEqual([]);
  }
});

test('prod-eks runs on nodes without AppArmor (Amazon Linux 2023, Bottlerocket)', () => {
  expect(ENVIRONMENTS['prod-eks'].nodes.securityModule).toBe('SELinux');
});
