import { only, rendered, testChart, withChange } from '../../test/helpers';
import { ACCESS_ROLES, Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { peopleGroups } from '../environments/people';
import { ValidationError } from '../k8s/validation';
import { appNamespaces } from '../workloads';
import { ACCESS_ROLE_RULES, accessRoleRules, CLUSTER_ROLE_NAMES, PeopleAccess } from './access';

/** The app namespaces, as the synth gives them: one per app of the workloads' registry. */
const APPS = appNamespaces();

function accessObjects(env: Environment, appNamespaces = APPS): any[] {
  const chart = testChart(env.name);
  new PeopleAccess(chart, 'access', { env, appNamespaces });
  return rendered(chart);
}

type Delivery = keyof typeof ACCESS_ROLE_RULES;
const DELIVERIES = Object.keys(ACCESS_ROLE_RULES) as Delivery[];
const EVERY_ROLE = DELIVERIES.flatMap((d) => ACCESS_ROLES.map((role) => [d, role] as const));

/** Does any rule of the role allow this verb on this resource of this API group? (The lab's rules unless told.) */
function allows(
  role: string,
  verb: string,
  apiGroup: string,
  resource: string,
  delivery: Delivery = 'byHand',
): boolean {
  return ACCESS_ROLE_RULES[delivery][role as keyof (typeof ACCESS_ROLE_RULES)[Delivery]].some(
    (r) => (r.apiGroups ?? []).includes(apiGroup) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb),
  );
}

const WRITE_VERBS = ['create', 'update', 'patch', 'delete'];

describe('what each role may do', () => {
  test.each(EVERY_ROLE)('%s: %s names every verb and resource: no wildcard, nothing that escalates', (d, role) => {
    for (const r of ACCESS_ROLE_RULES[d][role]) {
      expect([...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs].filter((v) => v.includes('*'))).toEqual([]);
      expect(r.verbs.filter((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toEqual([]);
    }
  });

  test.each(EVERY_ROLE)('%s: %s never reads Secrets or changes what isolates the namespace', (d, role) => {
    for (const verb of ['get', 'list', 'watch']) expect(allows(role, verb, '', 'secrets', d)).toBe(false);
    for (const verb of WRITE_VERBS) {
      expect(allows(role, verb, 'networking.k8s.io', 'networkpolicies', d)).toBe(false);
      expect(allows(role, verb, '', 'resourcequotas', d)).toBe(false);
      expect(allows(role, verb, '', 'limitranges', d)).toBe(false);
      expect(allows(role, verb, '', 'namespaces', d)).toBe(false);
      expect(allows(role, verb, 'rbac.authorization.k8s.io', 'rolebindings', d)).toBe(false);
      expect(allows(role, verb, 'external-secrets.io', 'externalsecrets', d)).toBe(false);
    }
  });

  test('a viewer reads the app but gets no shell and no logs, and changes nothing', () => {
    expect(allows('viewer', 'list', 'apps', 'deployments')).toBe(true);
    expect(allows('viewer', 'get', '', 'pods')).toBe(true);
    expect(allows('viewer', 'create', '', 'pods/exec')).toBe(false);
    expect(allows('viewer', 'get', '', 'pods/log')).toBe(false);
    for (const d of DELIVERIES) {
      expect(ACCESS_ROLE_RULES[d].viewer.every((r) => r.verbs.every((v) => ['get', 'list', 'watch'].includes(v)))).toBe(
        true,
      );
    }
  });

  test('a deployer rolls out and scales, but gets no shell', () => {
    expect(allows('deployer', 'patch', 'apps', 'deployments')).toBe(true);
    expect(allows('deployer', 'update', 'apps', 'deployments/scale')).toBe(true);
    expect(allows('deployer', 'create', 'batch', 'jobs')).toBe(true);
    expect(allows('deployer', 'create', '', 'pods/exec')).toBe(false);
  });

  test('on-call may also read logs, exec and delete a stuck pod', () => {
    expect(allows('on-call', 'get', '', 'pods/log')).toBe(true);
    expect(allows('on-call', 'create', '', 'pods/exec')).toBe(true);
    expect(allows('on-call', 'delete', '', 'pods')).toBe(true);
    expect(allows('on-call', 'patch', 'apps', 'deployments')).toBe(true);
  });

  test.each(DELIVERIES)('%s: each role holds all of the one before it', (d) => {
    const rules = ACCESS_ROLE_RULES[d];
    expect(rules.deployer).toEqual(expect.arrayContaining([...rules.viewer]));
    expect(rules['on-call']).toEqual(expect.arrayContaining([...rules.deployer]));
  });
});

describe('where only a reconciler writes what git holds (production)', () => {
  const can = (role: string, verb: string, apiGroup: string, resource: string) =>
    allows(role, verb, apiGroup, resource, 'reconcilerOnly');

  /** Everything the reconciler applies into an app namespace (dist/<env>/ 10- to 60-), as API group and resource. */
  const DELIVERED: readonly (readonly [string, string])[] = [
    ['', 'services'],
    ['', 'configmaps'],
    ['', 'serviceaccounts'],
    ['', 'persistentvolumeclaims'],
    ['apps', 'deployments/scale'],
    ['apps', 'statefulsets/scale'],
    ['autoscaling', 'horizontalpodautoscalers'],
    ['batch', 'cronjobs'],
    ['networking.k8s.io', 'ingresses'],
    ['networking.k8s.io', 'networkpolicies'],
    ['policy', 'poddisruptionbudgets'],
    ['monitoring.coreos.com', 'servicemonitors'],
  ];

  test.each(ACCESS_ROLES)('%s writes none of what the reconciler delivers', (role) => {
    const written = DELIVERED.filter(([group, resource]) => WRITE_VERBS.some((v) => can(role, v, group, resource)));
    expect(written).toEqual([]);
  });

  test.each(['deployer', 'on-call'])('%s still restarts a rollout and runs a CronJob now, by hand', (role) => {
    // kubectl rollout restart: a patch of the pod template's restartedAt annotation.
    expect(can(role, 'patch', 'apps', 'deployments')).toBe(true);
    expect(can(role, 'patch', 'apps', 'statefulsets')).toBe(true);
    // kubectl create job --from=cronjob/db-backup: reads the CronJob, creates a Job.
    expect(can(role, 'get', 'batch', 'cronjobs')).toBe(true);
    expect(can(role, 'create', 'batch', 'jobs')).toBe(true);
  });

  test('a deployer neither replaces a Deployment nor deletes the Jobs the reconciler runs', () => {
    for (const verb of ['create', 'update', 'delete']) expect(can('deployer', verb, 'apps', 'deployments')).toBe(false);
    expect(can('deployer', 'delete', 'batch', 'jobs')).toBe(false);
    expect(can('deployer', 'delete', '', 'pods')).toBe(false);
  });

  test('on-call keeps logs, a shell and deleting a stuck pod', () => {
    expect(can('on-call', 'get', '', 'pods/log')).toBe(true);
    expect(can('on-call', 'create', '', 'pods/exec')).toBe(true);
    expect(can('on-call', 'delete', '', 'pods')).toBe(true);
  });

  test('a viewer reads what it read where people deploy by hand', () => {
    expect(ACCESS_ROLE_RULES.reconcilerOnly.viewer).toEqual(ACCESS_ROLE_RULES.byHand.viewer);
  });

  test.each(Object.values(ENVIRONMENTS).map((e) => [e.name, e] as const))(
    '%s gets the rules its delivery.reconcilerOnly says',
    (_name, env) => {
      expect(accessRoleRules(env)).toBe(ACCESS_ROLE_RULES[env.delivery.reconcilerOnly ? 'reconcilerOnly' : 'byHand']);
      const flipped = withChange(env, (e) => {
        e.delivery.reconcilerOnly = !env.delivery.reconcilerOnly;
      });
      const deployer = (e: Environment) => only(accessObjects(e), 'ClusterRole', CLUSTER_ROLE_NAMES.deployer).rules;
      expect(deployer(flipped)).not.toEqual(deployer(env));
    },
  );
});

/**
 * trivy's check KSV056 "Manage Kubernetes networking" (severity HIGH; aquasecurity/trivy-checks,
 * checks/kubernetes/manage_kubernetes_networking.rego): a Role or ClusterRole with a rule that names
 * one of these resources and one of these verbs, whatever its API groups, lets its holder redirect a
 * Service's traffic or lift a NetworkPolicy. Reproduced here on the rendered ClusterRoles.
 */
const KSV056_RESOURCES = ['services', 'endpoints', 'endpointslices', 'networkpolicies', 'ingresses'];
const KSV056_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection', 'impersonate', '*'];

/** The ClusterRoles KSV056 flags, with the resources of each that it flags. */
function manageNetworking(objects: readonly any[]): Record<string, string[]> {
  const flagged: Record<string, string[]> = {};
  for (const o of objects.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    for (const r of o.rules ?? []) {
      if (!(r.verbs ?? []).some((v: string) => KSV056_VERBS.includes(v))) continue;
      const resources = (r.resources ?? []).filter((res: string) => KSV056_RESOURCES.includes(res));
      if (resources.length > 0) flagged[o.metadata.name] = [...(flagged[o.metadata.name] ?? []), ...resources];
    }
  }
  return flagged;
}

describe("trivy's KSV056, Manage Kubernetes networking", () => {
  test.each(
    Object.values(ENVIRONMENTS)
      .filter((e) => e.delivery.reconcilerOnly)
      .map((e) => [e.name, e] as const),
  )("%s: no people's role manages networking", (_name, env) => {
    expect(manageNetworking(accessObjects(env))).toEqual({});
  });

  test("the lab's deployer and on-call still do, as before (people deploy the lab by hand)", () => {
    expect(manageNetworking(accessObjects(ENVIRONMENTS.lab))).toEqual({
      'app-deployer': ['services', 'ingresses'],
      'app-on-call': ['services', 'ingresses'],
    });
  });
});

describe.each(Object.values(ENVIRONMENTS).map((e) => [e.name, e] as const))("people's access in %s", (_name, env) => {
  const objects = accessObjects(env);

  test.each(APPS)("namespace %s binds each role to that namespace's group, and only there", (app) => {
    for (const role of ACCESS_ROLES) {
      const binding = only(
        objects.filter((o) => o.metadata.namespace === app),
        'RoleBinding',
        role,
      );
      expect(binding.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: CLUSTER_ROLE_NAMES[role],
      });
      expect(binding.subjects).toEqual([
        { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: env.identity.people.groups[app][role] },
      ]);
    }
  });

  test('no ClusterRoleBinding: nobody is granted anything cluster-wide', () => {
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding')).toEqual([]);
  });

  test('every bound group is one the environment declares', () => {
    const bound = objects.filter((o) => o.kind === 'RoleBinding').map((o) => o.subjects[0].name);
    expect([...new Set(bound)].sort()).toEqual(peopleGroups(env));
  });

  test('the on-call role waives the exec rule with a reason', () => {
    const annotations = only(objects, 'ClusterRole', CLUSTER_ROLE_NAMES['on-call']).metadata.annotations;
    expect(annotations['policy.lab-to-prod.io/waive']).toBe('practice/rbac-exec-attach');
    expect(annotations['policy.lab-to-prod.io/waive-reason']).toMatch(/on-call/);
  });
});

describe('the groups must match the app namespaces', () => {
  const { lab } = ENVIRONMENTS;

  test('an app namespace without groups names the construct, the field and the namespace', () => {
    expect(() => accessObjects(lab, [...APPS, 'shop'])).toThrow(ValidationError);
    expect(() => accessObjects(lab, [...APPS, 'shop'])).toThrow(
      'lab/access: env.identity.people.groups.shop: Invalid value: undefined: the groups of namespace "shop" (viewer, deployer, on-call): every app namespace has them',
    );
  });

  test('groups for a namespace the app does not have (a typo) are refused', () => {
    const env = withChange(lab, (e) => {
      e.identity.people.groups.wbe = e.identity.people.groups.web;
    });
    expect(() => accessObjects(env)).toThrow(
      new RegExp(
        `env\\.identity\\.people\\.groups\\.wbe: Invalid value: .*: only app namespaces \\(${APPS.join(', ')}\\)`,
      ),
    );
  });
});
