/**
 * Argo CD's objects for an environment delivered by Argo CD (EKS's managed Argo CD capability; Argo CD
 * v3.6.2's CRDs check them): written to dist/<env>-delivery/argocd/lab-to-prod.yaml, the folder a
 * cluster is bootstrapped from once (`kubectl apply -f dist/<env>-delivery/argocd/`).
 *
 * - The AppProject `<project>`: sources from this repository only, into the cluster Argo CD runs for
 *   (`in-cluster`; EKS's capability runs outside the cluster and is given it under that name:
 *   https://docs.aws.amazon.com/eks/latest/userguide/argocd-concepts.html), cluster-wide kinds
 *   allowed, since the layers hold CRDs, Namespaces and ClusterRoles.
 * - The Application `lab-to-prod-delivery` follows the branch's tip and applies this folder, itself
 *   included (app of apps): a promotion is a reviewed commit to this file.
 * - Once promoted, one Application per layer (lib/delivery/layers.ts), all at the promoted commit,
 *   each taking only its layer's files of dist/<env>/ (`directory.include`, a glob of file names
 *   relative to the path: https://argo-cd.readthedocs.io/en/stable/user-guide/directory/), ordered
 *   by sync waves (`argocd.argoproj.io/sync-wave`, lowest first:
 *   https://argo-cd.readthedocs.io/en/stable/user-guide/sync-waves/).
 *
 * A parent syncs the next wave once the previous wave's objects are healthy. For Applications that
 * is only so when Argo CD assesses an Application's health, which it stopped doing in 1.8; the
 * health check is restored in argocd-cm (resource.customizations.health.argoproj.io_Application:
 * https://argo-cd.readthedocs.io/en/stable/operator-manual/health/#argocd-app). Without it the
 * layers' Applications are created in order but do not wait on each other's health, and a layer is
 * retried until the one it stands on is up.
 */
import { Environment } from '../environment';
import { DeliveryLayer } from './layers';
import {
  DeliveryDocument,
  DeliveryObject,
  engineMetadata,
  layerObjectName,
  repositoryPaths,
  SELF_NAME,
} from './objects';

const ARGOCD_API = 'argoproj.io/v1alpha1';

/** The file under dist/<env>-delivery/ that bootstraps the cluster. */
export const ARGOCD_FILE = 'argocd/lab-to-prod.yaml';

/** The cluster Argo CD delivers to, by the name Argo CD gives the cluster it runs for. */
const IN_CLUSTER = 'in-cluster';

/** Argo CD's glob of the files a layer takes: one name, or `{a,b}` for several. */
function includeGlob(files: readonly string[]): string {
  return files.length === 1 ? files[0] : `{${files.join(',')}}`;
}

export function argocdObjects(env: Environment, layers: readonly DeliveryLayer[]): DeliveryObject[] {
  const argocd = env.delivery.argocd!;
  const paths = repositoryPaths(env);
  const metadata = (name: string) =>
    engineMetadata(
      name,
      argocd.namespace,
      "created by Argo CD's installation (EKS's Argo CD capability), which watches it",
    );
  const automated = (prune: boolean) => ({ automated: { prune, selfHeal: true } });
  const objects: DeliveryDocument[] = [
    {
      apiVersion: ARGOCD_API,
      kind: 'AppProject',
      metadata: metadata(argocd.project),
      spec: {
        description: `lab-to-prod's environment "${env.name}", delivered from ${env.delivery.branch}`,
        sourceRepos: [env.delivery.repository],
        destinations: [{ name: IN_CLUSTER, namespace: '*' }],
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
      },
    },
    {
      apiVersion: ARGOCD_API,
      kind: 'Application',
      metadata: metadata(SELF_NAME),
      spec: {
        project: argocd.project,
        source: {
          repoURL: env.delivery.repository,
          targetRevision: env.delivery.branch,
          path: `${paths.delivery}/argocd`,
        },
        destination: { name: IN_CLUSTER, namespace: argocd.namespace },
        syncPolicy: automated(true),
      },
    },
  ];
  const revision = env.delivery.revision;
  if (revision !== 'unpromoted') {
    const targetRevision = revision === 'tip' ? env.delivery.branch : revision;
    layers.forEach((layer, wave) => {
      const meta = metadata(layerObjectName(layer.name));
      objects.push({
        apiVersion: ARGOCD_API,
        kind: 'Application',
        metadata: { ...meta, annotations: { ...meta.annotations, 'argocd.argoproj.io/sync-wave': String(wave) } },
        spec: {
          project: argocd.project,
          source: {
            repoURL: env.delivery.repository,
            targetRevision,
            path: paths.rendered,
            directory: { include: includeGlob(layer.files) },
          },
          destination: { name: IN_CLUSTER },
          syncPolicy: {
            // Never prune the CRDs: deleting a CRD deletes every object of its kind (deploy never prunes them either).
            ...automated(layer.name !== 'crds'),
            // Server-side apply: the largest CRDs exceed the 256 KiB annotation client-side apply records.
            syncOptions: ['ServerSideApply=true'],
          },
        },
      });
    });
  }
  return objects.map((object) => ({
    file: ARGOCD_FILE,
    constructPath: `${env.name}/delivery/argocd/${object.kind}/${object.metadata.name}`,
    object,
  }));
}
