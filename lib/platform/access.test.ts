import { only, rendered, testChart, withChange } from '../../test/helpers';
import { ACCESS_ROLES, Environment } from '../environment';
import { ENVIRONMENTS } from '../environments';
import { peopleGroups } from '../environments/people';
import { ValidationError } from '../k8s/validation';
import { appNamespaces } from '../workloads';
import { ACCESS_ROLE_RULES, CLUSTER_ROLE_NAMES, PeopleAccess } from './access';

/** The app namespaces, as the synth gives them: one per app of the workloads' registry. */
const APPS = appNamespaces();

function accessObjects(env: Environment, appNamespaces = APPS): any[] {
  const chart = testChart(env.name);
  new PeopleAccess(chart, 'access', { env, appNamespaces });
  return rendered(chart);
}

/** Does any rule of the role allow this verb on this resource of this API group? */
function allows(role: string, verb: string, apiGroup: string, resource: string): boolean {
  return ACCESS_ROLE_RULES[role as keyof typeof ACCESS_ROLE_RULES].some(
    (r) => (r.apiGroups ?? []).includes(apiGroup) && (r.resources ?? []).includes(resource) && r.verbs.includes(verb),
  );
}

describe('what each role may do', () => {
  test.each(ACCESS_ROLES)('%s names every verb and resource: no wildcard, nothing that escalates', (role) => {
    for (const r of ACCESS_ROLE_RULES[role]) {
      expect([...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs].filter((v) => v.includes('*'))).toEqual([]);
      expect(r.verbs.filter((v) => ['escalate', 'bind', 'impersonate'].includes(v))).toEqual([]);
    }
  });

  test.each(ACCESS_ROLES)('%s never reads Secrets or changes what isolates the namespace', (role) => {
    for (const verb of ['get', 'list', 'watch']) expect(allows(role, verb, '', 'secrets')).toBe(false);
    for (const verb of ['create', 'update', 'patch', 'delete']) {
      expect(allows(role, verb, 'networking.k8s.io', 'networkpolicies')).toBe(false);
      expect(allows(role, verb, '', 'resourcequotas')).toBe(false);
      expect(allows(role, verb, '', 'limitranges')).toBe(false);
      expect(allows(role, verb, '', 'namespaces')).toBe(false);
      expect(allows(role, verb, 'rbac.authorization.k8s.io', 'rolebindings')).toBe(false);
      expect(allows(role, verb, 'external-secrets.io', 'externalsecrets')).toBe(false);
    }
  });

  test('a viewer reads the app but gets no shell and no logs, and changes nothing', () => {
    expect(allows('viewer', 'list', 'apps', 'deployments')).toBe(true);
    expect(allows('viewer', 'get', '', 'pods')).toBe(true);
    expect(allows('viewer', 'create', '', 'pods/exec')).toBe(false);
    expect(allows('viewer', 'get', '', 'pods/log')).toBe(false);
    expect(ACCESS_ROLE_RULES.viewer.every((r) => r.verbs.every((v) => ['get', 'list', 'watch'].includes(v)))).toBe(
      true,
    );
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

  test('each role holds all of the one before it', () => {
    expect(ACCESS_ROLE_RULES.deployer).toEqual(expect.arrayContaining(ACCESS_ROLE_RULES.viewer));
    expect(ACCESS_ROLE_RULES['on-call']).toEqual(expect.arrayContaining(ACCESS_ROLE_RULES.deployer));
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
