/**
 * "Who may do what" in dist/<env>/README.md: which group holds which role in each namespace, and
 * what each role may do, read from the rendered RoleBindings and ClusterRoles (lib/platform/access.ts),
 * so the picture is the YAML's, not a second description of it.
 */
import { Environment } from '../environment';
import { signInText } from '../environments/people';
import { compareText, KubeObject } from './kube';
import { markdownTable, Table } from './table';

/** One row per namespace, one column per role bound there: the subjects of each RoleBinding. */
export function bindingsTable(objects: readonly KubeObject[]): Table {
  const bindings = objects.filter(
    (o) => o.kind === 'RoleBinding' && (o.subjects ?? []).some((s: KubeObject) => s.kind === 'Group'),
  );
  const roles = [...new Set(bindings.map((b) => b.roleRef.name as string))];
  // The subjects of each (namespace, role) cell, in the order of the bindings, gathered in one pass:
  // filtering every binding for every cell made an environment with a thousand namespaces quadratic.
  const cells = new Map<string, Map<string, string[]>>();
  for (const b of bindings) {
    const namespace: string = b.metadata.namespace;
    const byRole = cells.get(namespace) ?? cells.set(namespace, new Map()).get(namespace)!;
    const subjects = byRole.get(b.roleRef.name) ?? byRole.set(b.roleRef.name, []).get(b.roleRef.name)!;
    subjects.push(...b.subjects.map((s: KubeObject) => `${s.kind} \`${s.name}\``));
  }
  const namespaces = [...cells.keys()].sort(compareText);
  const rows = namespaces.map((namespace) => [
    namespace,
    ...roles.map((role) => cells.get(namespace)!.get(role)?.join('<br>') || '—'),
  ]);
  return { header: ['Namespace', ...roles.map((r) => `\`${r}\``)], rows };
}

/** One row per ClusterRole that a people's RoleBinding refers to: what it allows, rule by rule. */
export function rolesTable(objects: readonly KubeObject[]): Table {
  const bound = new Set(
    objects.filter((o) => o.kind === 'RoleBinding' && o.roleRef?.kind === 'ClusterRole').map((o) => o.roleRef.name),
  );
  const rows = objects
    .filter((o) => o.kind === 'ClusterRole' && bound.has(o.metadata.name))
    .map((role) => [
      `\`${role.metadata.name}\``,
      (role.rules ?? [])
        .map(
          (r: KubeObject) =>
            `${r.verbs.join(', ')}: ${r.resources.map((res: string) => (r.apiGroups[0] ? `${r.apiGroups[0]}/${res}` : res)).join(', ')}`,
        )
        .join('<br>'),
    ]);
  return { header: ['Role (ClusterRole)', 'May (verbs: resources), in the namespaces it is bound in'], rows };
}

/** The README section. */
export function accessSection(env: Environment, objects: readonly KubeObject[]): string[] {
  return [
    '## Who may do what',
    '',
    `People sign in with ${signInText(env.identity.people.signIn)}. Each RoleBinding grants its ClusterRole` +
      ' in one namespace only; anything not listed is refused (RBAC only adds). Pod Security "restricted" still' +
      ' refuses a privileged pod from anyone, and a deployer who can run pods can run one that mounts the' +
      " namespace's Secrets: grant deployer only to people you would trust with them.",
    '',
    markdownTable(bindingsTable(objects)).trimEnd(),
    '',
    markdownTable(rolesTable(objects)).trimEnd(),
    '',
  ];
}
