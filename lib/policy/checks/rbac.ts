/**
 * RBAC: least privilege for the roles and bindings the project renders, for workloads and for
 * people (lib/platform/access.ts). kube-score, Polaris and kube-linter check the first four; the
 * rest follow the Kubernetes RBAC good practices
 * (https://kubernetes.io/docs/concepts/security/rbac-good-practices/): no verbs that escalate, no
 * grants to everyone, and people bound only through the groups the environment declares.
 */
import { Check, EnvironmentIndex, ObjectContext } from '../context';
import { fieldPath } from '../paths';
import { Rule } from '../types';

export const rules: Rule[] = [
  {
    id: 'practice/rbac-wildcard',
    severity: 'error',
    reason: 'Wildcards in RBAC rules grant every present and future verb, resource or API group.',
  },
  {
    id: 'practice/rbac-cluster-admin',
    severity: 'error',
    reason: 'Binding cluster-admin gives full control of the cluster.',
  },
  {
    id: 'practice/rbac-exec-attach',
    severity: 'error',
    reason: 'pods/exec and pods/attach give a shell in any pod the role can see.',
  },
  {
    id: 'practice/rbac-secrets-cluster-wide',
    severity: 'error',
    reason: 'Listing or watching Secrets cluster-wide reads every Secret of every namespace.',
  },
  {
    id: 'practice/rbac-escalation',
    severity: 'error',
    reason:
      'The escalate, bind and impersonate verbs let a holder grant themselves more than the role gives, or act as someone else.',
  },
  {
    id: 'practice/rbac-viewer-secrets',
    severity: 'error',
    reason: "A read-only role is a viewer's; reading Secrets is holding their credentials, not viewing the app.",
  },
  {
    id: 'practice/rbac-everyone',
    severity: 'error',
    reason:
      'Binding system:authenticated, system:unauthenticated or system:anonymous grants the role to every account, or to anyone who can reach the API server.',
  },
  {
    id: 'practice/rbac-undeclared-subject',
    severity: 'error',
    reason:
      "People are bound through the groups their environment's sign-in declares (env.identity.people), never by user name or an unknown group.",
  },
];

type ReportFn = ObjectContext['report'];

/** Verbs that only read. */
const READ_VERBS = new Set(['get', 'list', 'watch']);
const ESCALATING_VERBS = ['escalate', 'bind', 'impersonate'];
/** Kubernetes' own groups and user for everyone: every authenticated account, and no account at all. */
const EVERYONE = new Set(['Group/system:authenticated', 'Group/system:unauthenticated', 'User/system:anonymous']);

export const rbacCheck: Check = {
  rules,
  check({ object, report }: ObjectContext, environment: EnvironmentIndex): void {
    switch (object?.kind) {
      case 'Role':
      case 'ClusterRole':
        checkRoleRules(object, report);
        break;
      case 'RoleBinding':
      case 'ClusterRoleBinding':
        checkBinding(object, environment, report);
        break;
      default:
        break;
    }
  },
};

/** Does the rule grant one of these verbs on this core-group resource (or everything)? */
function ruleGrants(rule: any, resource: string, verbs: string[]): boolean {
  const resources: string[] = rule?.resources ?? [];
  const ruleVerbs: string[] = rule?.verbs ?? [];
  const groups: string[] = rule?.apiGroups ?? [];
  const coreGroup = groups.includes('') || groups.includes('*');
  return (
    coreGroup &&
    (resources.includes(resource) || resources.includes('*')) &&
    (ruleVerbs.includes('*') || verbs.some((v) => ruleVerbs.includes(v)))
  );
}

function checkRoleRules(role: any, report: ReportFn): void {
  const roleRules: any[] = role.rules ?? [];
  const readOnly =
    roleRules.length > 0 && roleRules.every((r) => (r?.verbs ?? []).every((v: string) => READ_VERBS.has(v)));
  roleRules.forEach((rule: any, i: number) => {
    for (const field of ['apiGroups', 'resources', 'verbs', 'nonResourceURLs']) {
      if ((rule?.[field] ?? []).some((v: string) => v === '*' || v.endsWith('/*'))) {
        report(
          'practice/rbac-wildcard',
          fieldPath('rules', i, field),
          `rule uses a wildcard in ${field}: name each ${field === 'verbs' ? 'verb' : 'item'}`,
        );
      }
    }
    for (const sub of ['pods/exec', 'pods/attach']) {
      if (ruleGrants(rule, sub, ['create', 'get']))
        report('practice/rbac-exec-attach', fieldPath('rules', i, 'resources'), `rule grants ${sub}`);
    }
    const escalating = ESCALATING_VERBS.filter((v) => (rule?.verbs ?? []).includes(v));
    if (escalating.length > 0) {
      report('practice/rbac-escalation', fieldPath('rules', i, 'verbs'), `rule grants ${escalating.join(', ')}`);
    }
    if (readOnly && ruleGrants(rule, 'secrets', [...READ_VERBS])) {
      report(
        'practice/rbac-viewer-secrets',
        fieldPath('rules', i, 'resources'),
        "a read-only role reads Secrets: leave secrets out of a viewer's resources",
      );
    }
  });
}

function checkBinding(binding: any, environment: EnvironmentIndex, report: ReportFn): void {
  const ref = binding.roleRef ?? {};
  if (ref.kind === 'ClusterRole' && ref.name === 'cluster-admin') {
    report('practice/rbac-cluster-admin', 'roleRef.name', `${binding.kind} binds cluster-admin`);
  }
  if (binding.kind === 'ClusterRoleBinding' && ref.kind === 'ClusterRole') {
    const role = environment.find('ClusterRole', undefined, ref.name);
    if ((role?.rules ?? []).some((rule: any) => ruleGrants(rule, 'secrets', ['list', 'watch']))) {
      report(
        'practice/rbac-secrets-cluster-wide',
        'roleRef.name',
        `ClusterRole "${ref.name}" lists or watches Secrets and is bound cluster-wide`,
      );
    }
  }
  (binding.subjects ?? []).forEach((subject: any, i: number) => {
    const at = fieldPath('subjects', i, 'name');
    if (subject?.kind !== 'Group' && subject?.kind !== 'User') {
      return; // ServiceAccounts: the reference checks see that they exist
    }
    if (EVERYONE.has(`${subject.kind}/${subject.name}`)) {
      report('practice/rbac-everyone', at, `${binding.kind} binds ${subject.kind} "${subject.name}"`);
      return;
    }
    if (subject.kind === 'User') {
      report(
        'practice/rbac-undeclared-subject',
        at,
        `${binding.kind} binds the user "${subject.name}": bind one of the environment's groups instead`,
      );
    } else if (!environment.peopleGroups.has(subject.name)) {
      const declared = [...environment.peopleGroups];
      report(
        'practice/rbac-undeclared-subject',
        at,
        `group "${subject.name}" is not one the environment declares ` +
          `(${declared.length > 0 ? declared.join(', ') : 'it declares none'})`,
      );
    }
  });
}
