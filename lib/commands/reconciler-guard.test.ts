import { ClusterRefused } from './context-guard';
import { checkNoActiveReconciler, KubectlResult, listArgs, reconcilerObjects } from './reconciler-guard';

/** kubectl's answer when the API server serves no such kind (its CRD is not installed). */
const noSuchKind = (name: string): KubectlResult => ({
  status: 1,
  stdout: '',
  stderr: `error: the server doesn't have a resource type "${name}"\n`,
});
const listOf = (items: unknown[]): KubectlResult => ({
  status: 0,
  stdout: JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }),
  stderr: '',
});

const kustomization = (name: string, suspend?: boolean) => ({
  apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
  kind: 'Kustomization',
  metadata: { name, namespace: 'flux-system', labels: { 'app.kubernetes.io/part-of': 'lab-to-prod' } },
  spec: { interval: '10m', path: `./dist/lab-delivery/layers/${name}`, prune: true, ...(suspend ? { suspend } : {}) },
});
const application = (name: string, automated: boolean) => ({
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Application',
  metadata: { name, namespace: 'argocd', labels: { 'app.kubernetes.io/part-of': 'lab-to-prod' } },
  spec: { project: 'lab-to-prod', syncPolicy: automated ? { automated: { prune: true, selfHeal: true } } : {} },
});

test('lists each kind of this project in every namespace by its label', () => {
  expect(listArgs('applications.argoproj.io')).toEqual([
    'get',
    'applications.argoproj.io',
    '--all-namespaces',
    '-l',
    'app.kubernetes.io/part-of=lab-to-prod',
    '-o',
    'json',
  ]);
});

test('a cluster that serves neither kind has no reconciler, and deploy goes on', () => {
  const found = reconcilerObjects([noSuchKind('kustomizations'), noSuchKind('applications')]);
  expect(found).toEqual([]);
  expect(checkNoActiveReconciler('lab', 'lab-admin', found, false)).toEqual([]);
});

test('an active Flux Kustomization refuses the deploy, naming it and how to go on', () => {
  const found = reconcilerObjects([
    listOf([kustomization('lab-to-prod-workloads'), kustomization('lab-to-prod-platform')]),
    noSuchKind('applications'),
  ]);
  expect(found.map((o) => o.active)).toEqual([true, true]);
  const refuse = () => checkNoActiveReconciler('lab', 'lab-admin', found, false);
  expect(refuse).toThrow(ClusterRefused);
  expect(refuse).toThrow(
    /refusing to deploy "lab" to context "lab-admin": a reconciler delivers to that cluster[^]*Flux Kustomization flux-system\/lab-to-prod-workloads[^]*flux suspend kustomization lab-to-prod-platform -n flux-system[^]*--despite-reconciler/,
  );
});

test('an Argo CD Application with automated sync refuses the deploy too', () => {
  const found = reconcilerObjects([noSuchKind('kustomizations'), listOf([application('lab-to-prod-crds', true)])]);
  expect(() => checkNoActiveReconciler('prod-eks', 'eks', found, false)).toThrow(
    /Argo CD Application argocd\/lab-to-prod-crds[^]*argocd app set argocd\/lab-to-prod-crds --sync-policy none/,
  );
});

test('--despite-reconciler deploys anyway and says over what', () => {
  const found = reconcilerObjects([listOf([kustomization('lab-to-prod-workloads')]), noSuchKind('applications')]);
  expect(checkNoActiveReconciler('lab', 'lab-admin', found, true)).toEqual([
    '  Flux Kustomization flux-system/lab-to-prod-workloads is active: deploying anyway (--despite-reconciler)',
  ]);
});

test('paused ones (a suspended Kustomization, an Application without automated sync) apply nothing: no refusal', () => {
  const found = reconcilerObjects([
    listOf([kustomization('lab-to-prod-workloads', true)]),
    listOf([application('lab-to-prod-workloads', false)]),
  ]);
  expect(checkNoActiveReconciler('lab', 'lab-admin', found, false)).toEqual([
    '  Flux Kustomization flux-system/lab-to-prod-workloads is paused: it applies nothing until resumed',
    '  Argo CD Application argocd/lab-to-prod-workloads is paused: it applies nothing until resumed',
  ]);
});

test('any other kubectl failure is an error: deploy cannot tell whether a reconciler is there', () => {
  expect(() =>
    reconcilerObjects([
      { status: 1, stdout: '', stderr: 'error: You must be logged in to the server (Unauthorized)\n' },
      noSuchKind('applications'),
    ]),
  ).toThrow(
    /listing kustomizations.kustomize.toolkit.fluxcd.io .* failed \(exit 1\), so deploy cannot tell whether Flux/,
  );
});
