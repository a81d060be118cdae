import { engineMetadata } from '../delivery/objects';
import { Environment } from '../environment';
import { KubeObject } from '../k8s/kube-object';
import { Problems } from '../k8s/validation';

/**
 * On-call's brake on the reconciler. Where only a reconciler writes what git holds
 * (env.delivery.reconcilerOnly: production), nobody's role may change the app's objects by hand
 * (access.ts); in an incident, on-call may instead stop the reconciler from applying the workloads
 * layer, fix forward by hand or by a commit, and let it resume. onCallSuspendObjects renders the Role
 * that allows exactly that, in the engine's own namespace, and binds it to every app's on-call group
 * (the workloads layer holds every app). They belong in the engine's file of the delivery folder
 * (dist/<env>-delivery/flux/ or argocd/, lib/delivery/): the engine's namespace exists only where the
 * engine runs, and the reconciler that applies that folder keeps the Role as git says.
 *
 * Nothing where people apply `dist/<env>/` themselves (the lab): their roles already write the app,
 * and the lab's roles stay as they are.
 */

/** The reconciler's object for the workloads layer: a Flux Kustomization or an Argo CD Application. */
export const WORKLOADS_LAYER_NAME = 'lab-to-prod-workloads';

/** The Role and RoleBinding's name: `kubectl -n flux-system get role lab-to-prod-on-call`. */
export const SUSPEND_ROLE_NAME = 'lab-to-prod-on-call';

const READ = ['get', 'list', 'watch'];

/**
 * The rules per engine. Reading every object of the engine's kinds in its namespace lets on-call see
 * which layer failed and which revision was fetched before they suspend anything; those objects
 * name Secrets but hold no value. Writing is one verb on one object: `patch` of the workloads layer.
 *
 * - Flux: `flux suspend kustomization lab-to-prod-workloads` (and `flux resume`) lists the object by
 *   `metadata.name` and sends a merge patch of `spec.suspend`; kustomize-controller then leaves the
 *   layer alone (https://fluxcd.io/flux/components/kustomize/kustomizations/#suspend).
 * - Argo CD: `kubectl -n argocd patch application lab-to-prod-workloads --type merge -p
 *   '{"spec":{"syncPolicy":{"automated":{"enabled":false}}}}'` turns automated sync off, prune and
 *   selfHeal with it (https://argo-cd.readthedocs.io/en/stable/user-guide/auto_sync/). The `argocd`
 *   CLI and UI go through Argo CD's own RBAC, not this Role.
 *
 * RBAC cannot narrow a patch to one field: on-call could change the layer's path or interval too.
 * The delivery Kustomization or Application that applies this folder sets those fields, and puts them
 * back at its next reconciliation. It must set no `suspend` (nor `automated.enabled`) on the workloads
 * layer, so that a suspension stays until someone resumes it: Flux applies server-side, and takes back
 * only the fields its manifest sets (https://kubernetes.io/docs/reference/using-api/server-side-apply/);
 * Argo CD syncs with a three-way merge of the live object, the manifest and the last applied one
 * (https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/), which leaves a field neither
 * sets. Argo CD never runs in this project's tests, so that last point is its documentation's.
 */
function engineRules(engine: Environment['delivery']['engine']): KubeObject[] {
  // A function, not a constant: each Role gets objects of its own, which the YAML writer takes as they are.
  const rules: Record<Environment['delivery']['engine'], KubeObject[]> = {
    flux: [
      { apiGroups: ['kustomize.toolkit.fluxcd.io'], resources: ['kustomizations'], verbs: READ },
      { apiGroups: ['source.toolkit.fluxcd.io'], resources: ['gitrepositories'], verbs: READ },
      {
        apiGroups: ['kustomize.toolkit.fluxcd.io'],
        resources: ['kustomizations'],
        resourceNames: [WORKLOADS_LAYER_NAME],
        verbs: ['patch'],
      },
    ],
    argocd: [
      { apiGroups: ['argoproj.io'], resources: ['applications', 'appprojects'], verbs: READ },
      {
        apiGroups: ['argoproj.io'],
        resources: ['applications'],
        resourceNames: [WORKLOADS_LAYER_NAME],
        verbs: ['patch'],
      },
    ],
  };
  return rules[engine];
}

/** Who makes the engine's namespace: its installation, not this project (for the reference checks). */
const ENGINE_INSTALLED_BY: Readonly<Record<Environment['delivery']['engine'], string>> = {
  flux: "created by Flux's installation (flux install, or AKS's Flux extension), with its controllers",
  argocd: "created by Argo CD's installation (EKS's Argo CD capability), with its controllers",
};

/**
 * The Role and RoleBinding that let on-call suspend the workloads layer, in the engine's namespace:
 * none where env.delivery.reconcilerOnly is false. Refuses (naming the field) an environment whose
 * engine's settings are missing.
 */
export function onCallSuspendObjects(env: Environment): KubeObject[] {
  if (!env.delivery.reconcilerOnly) return [];
  const engine = env.delivery.engine;
  const namespace = engine === 'flux' ? env.delivery.flux?.namespace : env.delivery.argocd?.namespace;
  const p = new Problems(`${env.name}/delivery/${engine}`);
  p.check(
    namespace !== undefined,
    `env.delivery.${engine}.namespace`,
    undefined,
    `the namespace ${engine} runs in: on-call's Role to suspend ${WORKLOADS_LAYER_NAME} is rendered there`,
  );
  p.throwIfAny();

  const metadata = () => engineMetadata(SUSPEND_ROLE_NAME, namespace!, ENGINE_INSTALLED_BY[engine]);
  // Every app's on-call group, once each and sorted: the workloads layer holds every app, and the
  // rendered subjects must not depend on the order the environment file lists them in.
  const groups = [...new Set(Object.values(env.identity.people.groups).map((g) => g['on-call']))].sort();
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: metadata(),
      rules: engineRules(engine),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: metadata(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SUSPEND_ROLE_NAME },
      subjects: groups.map((name) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name })),
    },
  ];
}
