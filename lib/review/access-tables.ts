/**
 * "Who may do what" in dist/<env>/README.md: which group holds which role in each namespace, and
 * what each role may do, read from the rendered RoleBindings and ClusterRoles (lib/platform/access.ts),
 * so the picture is the YAML's, not a second description of it.
 */
import { Environment } from '../environment';
import { signInText } from '../environments/people';
import { SUSPEND_ROLE_NAME, WORKLOADS_LAYER_NAME } from '../platform/reconciler-access';
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

/**
 * Everyday commands and the one request RBAC authorizes for each (verb, API group, resource), as
 * `kubectl auth can-i` asks it. `rollout restart` and `set image` are the same request, a patch of
 * the Deployment: RBAC cannot tell them apart.
 */
const EVERYDAY_REQUESTS: readonly {
  readonly commands: readonly string[];
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
}[] = [
  { commands: ['kubectl get pods'], verb: 'get', group: '', resource: 'pods' },
  { commands: ['kubectl get secret'], verb: 'get', group: '', resource: 'secrets' },
  { commands: ['kubectl logs'], verb: 'get', group: '', resource: 'pods/log' },
  { commands: ['kubectl exec'], verb: 'create', group: '', resource: 'pods/exec' },
  { commands: ['kubectl delete pod'], verb: 'delete', group: '', resource: 'pods' },
  {
    commands: ['kubectl rollout restart deployment', 'kubectl set image'],
    verb: 'patch',
    group: 'apps',
    resource: 'deployments',
  },
  { commands: ['kubectl scale deployment'], verb: 'patch', group: 'apps', resource: 'deployments/scale' },
  { commands: ['kubectl create job --from=cronjob/…'], verb: 'create', group: 'batch', resource: 'jobs' },
  { commands: ['kubectl edit configmap'], verb: 'patch', group: '', resource: 'configmaps' },
  { commands: ['kubectl edit service'], verb: 'patch', group: '', resource: 'services' },
  { commands: ['kubectl edit ingress'], verb: 'patch', group: 'networking.k8s.io', resource: 'ingresses' },
  {
    commands: ['kubectl delete networkpolicy'],
    verb: 'delete',
    group: 'networking.k8s.io',
    resource: 'networkpolicies',
  },
];

/** Does a rule allow the request? No rule here has a wildcard (practice/rbac-wildcard refuses them) nor resourceNames. */
function ruleAllows(rule: KubeObject, verb: string, group: string, resource: string): boolean {
  return (
    (rule.apiGroups ?? []).includes(group) &&
    (rule.resources ?? []).includes(resource) &&
    (rule.verbs ?? []).includes(verb) &&
    rule.resourceNames === undefined
  );
}

/**
 * "Can I?" for every people's role, in its own namespace: one row per everyday command, one column per
 * ClusterRole a people's RoleBinding refers to, answered from the rendered rules.
 */
export function canITable(objects: readonly KubeObject[]): Table {
  const bound = new Set(
    objects.filter((o) => o.kind === 'RoleBinding' && o.roleRef?.kind === 'ClusterRole').map((o) => o.roleRef.name),
  );
  const roles = objects.filter((o) => o.kind === 'ClusterRole' && bound.has(o.metadata.name));
  const rows = EVERYDAY_REQUESTS.map(({ commands, verb, group, resource }) => [
    `${commands.map((c) => `\`${c}\``).join(', ')} (${verb} ${group ? `${group}/` : ''}${resource})`,
    ...roles.map((role) =>
      (role.rules ?? []).some((r: KubeObject) => ruleAllows(r, verb, group, resource)) ? 'yes' : 'no',
    ),
  ]);
  return { header: ['Can I, in my namespace?', ...roles.map((r) => `\`${r.metadata.name}\``)], rows };
}

/** Who delivers the environment, and what that leaves people's roles: a paragraph of the README. */
function deliveryText(env: Environment): string {
  if (!env.delivery.reconcilerOnly) {
    return (
      "People may apply this folder themselves (`npm run deploy`), so a deployer writes the app's objects:" +
      ' its Services, Ingresses, ConfigMaps and workloads.'
    );
  }
  const engine = env.delivery.engine;
  const namespace = engine === 'flux' ? env.delivery.flux?.namespace : env.delivery.argocd?.namespace;
  const suspend =
    engine === 'flux'
      ? `\`flux suspend kustomization ${WORKLOADS_LAYER_NAME} -n ${namespace}\``
      : `\`kubectl -n ${namespace} patch application ${WORKLOADS_LAYER_NAME} --type merge -p '{"spec":{"syncPolicy":{"automated":{"enabled":false}}}}'\``;
  return (
    `Only the reconciler (${engine === 'flux' ? 'Flux' : 'Argo CD'}) writes what git holds here` +
    " (`delivery.reconcilerOnly`): a change to a Service, an Ingress, a ConfigMap or a workload's spec is a" +
    ' commit, reviewed and promoted, and no role writes them by hand. A deployer keeps what has no place in' +
    ' git: a rollout restart (a patch of the Deployment or StatefulSet; the reconciler puts back any field' +
    ' its manifest sets) and a run of a CronJob now. In an incident, on-call may stop the reconciler from' +
    ` applying the workloads layer: ${suspend} (Role \`${SUSPEND_ROLE_NAME}\` in namespace \`${namespace}\`,` +
    ` rendered in \`dist/${env.name}-delivery/\`).`
  );
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
    deliveryText(env),
    '',
    markdownTable(canITable(objects)).trimEnd(),
    '',
  ];
}
