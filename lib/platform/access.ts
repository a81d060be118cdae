import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { ACCESS_ROLES, AccessRole, Environment } from '../environment';
import { PROJECT_VERSION, recommendedLabels } from '../k8s/labels';
import { Problems } from '../k8s/validation';
import { WAIVE_ANNOTATION, WAIVE_REASON_ANNOTATION } from '../policy';

/**
 * Identity for people: who may do what in each app namespace. The API server takes every request
 * through authentication (who is asking: the environment's sign-in), authorization
 * (may they: RBAC, here) and admission (is the object acceptable: Pod Security, quotas); see
 * https://kubernetes.io/docs/concepts/security/controlling-access/.
 *
 * Three ClusterRoles say what each access role may do; they grant nothing by themselves. In every
 * app namespace, one RoleBinding per role binds its ClusterRole to the group the environment's
 * sign-in names for that namespace and role, so the grant stops at the namespace: a deployer of web
 * can do nothing in api. RBAC only ever adds; whatever is not listed below is refused.
 *
 * What the roles may change depends on who delivers the environment (env.delivery.reconcilerOnly).
 * Where people apply `dist/<env>/` themselves (the lab, `npm run deploy`), a deployer writes the
 * app's objects. Where a reconciler applies it from git (production), a person who edits what the
 * reconciler delivers fights it, and the review that promotion stands on is bypassed; so there the
 * roles keep only what has no place in git (see RECONCILED_DEPLOYER_RULES), and on-call's way to stop
 * the reconciler in an incident is a Role in the engine's namespace (reconciler-access.ts).
 */

/** The ClusterRole of each access role: `kubectl get clusterrole app-viewer`. */
export const CLUSTER_ROLE_NAMES: Readonly<Record<AccessRole, string>> = {
  viewer: 'app-viewer',
  deployer: 'app-deployer',
  'on-call': 'app-on-call',
};

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];

/** The API groups and resources of what an app consists of: what a viewer may read. */
const APP_RESOURCES: readonly { readonly apiGroup: string; readonly resources: readonly string[] }[] = [
  // Not secrets: reading a Secret is holding the credential, not looking at the app.
  {
    apiGroup: '',
    resources: [
      'configmaps',
      'endpoints',
      'events',
      'limitranges',
      'persistentvolumeclaims',
      'pods',
      'resourcequotas',
      'serviceaccounts',
      'services',
    ],
  },
  { apiGroup: 'apps', resources: ['controllerrevisions', 'daemonsets', 'deployments', 'replicasets', 'statefulsets'] },
  { apiGroup: 'autoscaling', resources: ['horizontalpodautoscalers'] },
  { apiGroup: 'batch', resources: ['cronjobs', 'jobs'] },
  { apiGroup: 'discovery.k8s.io', resources: ['endpointslices'] },
  { apiGroup: 'networking.k8s.io', resources: ['ingresses', 'networkpolicies'] },
  { apiGroup: 'policy', resources: ['poddisruptionbudgets'] },
  // Custom resources, where their operators run: whether an ExternalSecret synced, what is scraped.
  { apiGroup: 'external-secrets.io', resources: ['externalsecrets'] },
  { apiGroup: 'monitoring.coreos.com', resources: ['podmonitors', 'prometheusrules', 'servicemonitors'] },
];

/**
 * What a deployer may change where people deploy by hand: roll out (a new image or config is a patch
 * of the Deployment), scale, run Jobs. Not NetworkPolicies, the ResourceQuota, the LimitRange or the
 * Namespace (its Pod Security labels): those are the platform's, and changing them would undo the
 * namespace's isolation. Not ExternalSecrets either: one can copy any entry the secret store reaches
 * into the namespace.
 */
const DEPLOYER_WRITES: readonly { readonly apiGroup: string; readonly resources: readonly string[] }[] = [
  { apiGroup: '', resources: ['configmaps', 'persistentvolumeclaims', 'serviceaccounts', 'services'] },
  { apiGroup: 'apps', resources: ['deployments', 'deployments/scale', 'statefulsets', 'statefulsets/scale'] },
  { apiGroup: 'autoscaling', resources: ['horizontalpodautoscalers'] },
  { apiGroup: 'batch', resources: ['cronjobs', 'jobs'] },
  { apiGroup: 'networking.k8s.io', resources: ['ingresses'] },
  { apiGroup: 'policy', resources: ['poddisruptionbudgets'] },
];

const rule = (apiGroup: string, resources: readonly string[], verbs: readonly string[]): k8s.PolicyRule => ({
  apiGroups: [apiGroup],
  resources: [...resources],
  verbs: [...verbs],
});

const VIEWER_RULES = APP_RESOURCES.map((r) => rule(r.apiGroup, r.resources, READ));

/**
 * What a deployer may change where a reconciler delivers the environment: nothing the reconciler
 * applies (Services, NetworkPolicies, Ingresses, ConfigMaps, ServiceAccounts, HPAs, budgets, CronJobs:
 * a change to any of them is a commit, reviewed and promoted), only the two things a GitOps team
 * still does by hand because git has no place for them:
 * - `kubectl rollout restart deployment/web` (or statefulset/db): new pods with the same spec, after
 *   a Secret changed or a pod went bad. kubectl does it as a `patch` that sets the pod template's
 *   `kubectl.kubernetes.io/restartedAt` annotation. RBAC cannot narrow a patch to one field, so the
 *   same verb lets a deployer change the image too; the reconciler puts back every field its
 *   manifest sets at its next reconciliation (Flux: server-side apply with drift correction; Argo CD:
 *   selfHeal), while the annotation, which git does not set, stays. Not `deployments/scale`: the
 *   replica count is git's (or the HPA's).
 * - `kubectl create job db-backup-now --from=cronjob/db-backup`: a run of a CronJob now, say a dump
 *   before a risky change. kubectl reads the CronJob and creates a Job from its template, so: `create`
 *   on jobs. RBAC cannot require the `--from`, so a deployer may create any Job, under the namespace's
 *   Pod Security "restricted" and quota, as they could before. Not `delete`: the schema migration Job
 *   is the reconciler's.
 * Deleting a stuck pod stays on-call's, as in the lab: pods are their controllers', not git's, and a
 * rollout restart gives a deployer the same effect for a whole workload.
 */
const RECONCILED_DEPLOYER_RULES: readonly k8s.PolicyRule[] = [
  rule('apps', ['deployments', 'statefulsets'], ['patch']),
  rule('batch', ['jobs'], ['create']),
];

/** What on-call adds to a deployer, wherever the environment is delivered from. */
const ON_CALL_RULES: readonly k8s.PolicyRule[] = [
  // Logs, a shell and deleting a stuck pod (its controller makes a new one). `get` on pods/exec as
  // well as `create`: kubectl's WebSocket exec opens with a GET.
  rule('', ['pods/log'], ['get']),
  rule('', ['pods/exec'], ['create', 'get']),
  rule('', ['pods'], ['delete']),
];

/** The rules of each access role, given what the deployer may write; each holds all of the one before. */
function rulesOfEachRole(deployerWrites: readonly k8s.PolicyRule[]): Record<AccessRole, readonly k8s.PolicyRule[]> {
  const deployer = [...VIEWER_RULES, ...deployerWrites];
  return { viewer: VIEWER_RULES, deployer, 'on-call': [...deployer, ...ON_CALL_RULES] };
}

/**
 * The rules of each access role: `byHand` where people apply `dist/<env>/` (the lab), `reconcilerOnly`
 * where only a reconciler writes what git holds (env.delivery.reconcilerOnly: production).
 */
export const ACCESS_ROLE_RULES: Readonly<
  Record<'byHand' | 'reconcilerOnly', Readonly<Record<AccessRole, readonly k8s.PolicyRule[]>>>
> = {
  byHand: rulesOfEachRole(DEPLOYER_WRITES.map((r) => rule(r.apiGroup, r.resources, WRITE))),
  reconcilerOnly: rulesOfEachRole(RECONCILED_DEPLOYER_RULES),
};

/** The rules of each access role in this environment. */
export function accessRoleRules(env: Environment): Readonly<Record<AccessRole, readonly k8s.PolicyRule[]>> {
  return ACCESS_ROLE_RULES[env.delivery.reconcilerOnly ? 'reconcilerOnly' : 'byHand'];
}

/** Why the on-call role grants what the practice rules refuse by default. */
const ON_CALL_WAIVER = {
  [WAIVE_ANNOTATION]: 'practice/rbac-exec-attach',
  [WAIVE_REASON_ANNOTATION]:
    "on-call operators exec into pods to diagnose an incident; the role is bound only in each app's own namespace, to its on-call group",
};

export interface PeopleAccessProps {
  /** The environment whose groups to bind (env.identity.people). */
  readonly env: Environment;
  /** The app namespaces; each must have its groups in env.identity.people.groups, and only they. */
  readonly appNamespaces: readonly string[];
}

/** The access roles and, per app namespace, their bindings to the environment's groups. */
export class PeopleAccess extends Construct {
  constructor(scope: Construct, id: string, props: PeopleAccessProps) {
    super(scope, id);
    const { env, appNamespaces } = props;
    const groups = env.identity.people.groups;
    const p = new Problems(this.node.path);
    for (const namespace of appNamespaces) {
      p.check(
        groups[namespace] !== undefined,
        `env.identity.people.groups.${namespace}`,
        undefined,
        `the groups of namespace "${namespace}" (${ACCESS_ROLES.join(', ')}): every app namespace has them`,
      );
    }
    // The list and the message once, not once per namespace: with a thousand namespaces, joining the
    // names for each of them took longer than building the bindings.
    const known = new Set(appNamespaces);
    const onlyAppNamespaces = `only app namespaces (${appNamespaces.join(', ')})`;
    for (const namespace of Object.keys(groups)) {
      p.check(known.has(namespace), `env.identity.people.groups.${namespace}`, groups[namespace], onlyAppNamespaces);
    }
    p.throwIfAny();

    const rules = accessRoleRules(env);
    for (const role of ACCESS_ROLES) {
      new k8s.KubeClusterRole(this, `ClusterRole-${role}`, {
        metadata: {
          name: CLUSTER_ROLE_NAMES[role],
          labels: recommendedLabels({ name: CLUSTER_ROLE_NAMES[role], component: 'access', version: PROJECT_VERSION }),
          annotations: role === 'on-call' ? ON_CALL_WAIVER : undefined,
        },
        rules: [...rules[role]],
      });
    }
    for (const namespace of appNamespaces) {
      for (const role of ACCESS_ROLES) {
        new k8s.KubeRoleBinding(this, `${namespace}-${role}`, {
          metadata: {
            name: role,
            namespace,
            labels: recommendedLabels({ name: namespace, component: 'access', version: PROJECT_VERSION }),
          },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CLUSTER_ROLE_NAMES[role] },
          subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: groups[namespace][role] }],
        });
      }
    }
  }
}
