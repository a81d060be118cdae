import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  chooseContext,
  FIELD_MANAGER,
  KubeObject,
  manifestFiles,
  objectKey,
  parseArgs,
  parseDuration,
  prunable,
  UsageError,
} from './deploy';

describe('parseArgs', () => {
  test('defaults: dist/<env>/, five minutes, no explicit context', () => {
    expect(parseArgs(['--env', 'lab'])).toEqual({ env: 'lab', context: undefined, from: path.join('dist', 'lab'), timeoutSeconds: 300 });
  });

  test('every option, both spellings', () => {
    expect(parseArgs(['--env=prod-eks', '--context', 'arn:aws:eks:eu-west-1:1:cluster/prod', '--from=reviewed', '--timeout', '2m'])).toEqual({
      env: 'prod-eks',
      context: 'arn:aws:eks:eu-west-1:1:cluster/prod',
      from: 'reviewed',
      timeoutSeconds: 120,
    });
  });

  test.each([
    [[], /--env is required: one of lab, prod-eks, prod-gke, prod-aks/],
    [['--env', 'staging'], /--env "staging" is not an environment; allowed: lab, prod-eks, prod-gke, prod-aks/],
    [['--env'], /--env needs a value/],
    [['--env', '--context', 'x'], /--env needs a value/],
    [['--env='], /--env needs a value/],
    [['--env', 'lab', '--force'], /unknown argument "--force"; allowed: --env, --context, --from, --timeout/],
    [['lab'], /unknown argument "lab"/],
    [['--env', 'lab', '--env', 'prod-gke'], /--env is given twice/],
    [['--env', 'lab', '--timeout', 'soon'], /--timeout "soon" is not a duration/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('parseDuration', () => {
  test.each([
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['1h', 3600],
  ])('%s is %d seconds', (text, secs) => expect(parseDuration(text)).toBe(secs));

  test.each(['0', '0s', '-5s', '1.5m', '5 m', '5d'])('%s is refused', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });
});

describe('chooseContext', () => {
  test('a current context that names the environment is used', () => {
    expect(chooseContext('lab', 'kubernetes-admin@lab', undefined)).toBe('kubernetes-admin@lab');
    expect(chooseContext('prod-gke', 'gke_acme_europe-west1_prod-gke', undefined)).toBe('gke_acme_europe-west1_prod-gke');
  });

  test('a current context of another environment is refused, with the way out', () => {
    expect(() => chooseContext('lab', 'prod-eks-admin', undefined)).toThrow(
      'refusing to deploy "lab" to the current context "prod-eks-admin": its name does not contain "lab". ' +
        'Switch to the lab cluster\'s context (kubectl config use-context <name>), or confirm this one: ' +
        'npm run deploy -- --env lab --context prod-eks-admin',
    );
  });

  test('a prod environment does not match a context named for another prod', () => {
    expect(() => chooseContext('prod-aks', 'prod-eks', undefined)).toThrow(UsageError);
  });

  test('no current context is refused', () => {
    expect(() => chooseContext('lab', undefined, undefined)).toThrow(/no current context; name one with --context/);
    expect(() => chooseContext('lab', '', undefined)).toThrow(/no current context/);
  });

  test('an explicit --context is the user\'s decision', () => {
    expect(chooseContext('lab', 'prod-eks-admin', 'kubernetes-admin@kubernetes')).toBe('kubernetes-admin@kubernetes');
  });
});

describe('manifestFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('YAML and JSON files by name; README and sub-folders are left out', () => {
    for (const f of ['10-web.yaml', '00-platform.yaml', 'README.md', '20-db.yml', '30-extra.json']) {
      fs.writeFileSync(path.join(dir, f), '');
    }
    fs.mkdirSync(path.join(dir, 'bootstrap'));
    fs.writeFileSync(path.join(dir, 'bootstrap', 'kubeadm.yaml'), '');
    expect(manifestFiles(dir)).toEqual(['00-platform.yaml', '10-web.yaml', '20-db.yml', '30-extra.json']);
  });

  test('the rendered lab: none of the node bootstrap files (kubeadm, containerd, cloud-init user-data) is applied', () => {
    const lab = path.join(__dirname, '..', 'dist', 'lab');
    expect(fs.readdirSync(path.join(lab, '..', 'lab-bootstrap')).length).toBeGreaterThan(1);
    expect(manifestFiles(lab).filter((f) => !/^\d\d-[a-z-]+\.yaml$/.test(f))).toEqual([]);
  });

  test('a missing folder says to synthesize first', () => {
    expect(() => manifestFiles(path.join(dir, 'nope'))).toThrow(/is not a folder; run `npm run synth` first/);
  });

  test('a folder without manifests is refused', () => {
    fs.writeFileSync(path.join(dir, 'README.md'), '');
    expect(() => manifestFiles(dir)).toThrow(/holds no .yaml, .yml or .json files/);
  });
});

describe('prunable', () => {
  const applyEntry = { manager: FIELD_MANAGER, operation: 'Apply' };
  const obj = (kind: string, name: string, extra: Partial<KubeObject['metadata']> = {}, apiVersion = 'v1'): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name, namespace: kind === 'Namespace' ? undefined : 'web', managedFields: [applyEntry], ...extra },
  });

  test('objects we applied that left the YAML are pruned, namespaces last', () => {
    const kept = obj('Service', 'web');
    const gone = [obj('Namespace', 'old'), obj('ConfigMap', 'old'), obj('NetworkPolicy', 'old', {}, 'networking.k8s.io/v1')];
    const result = prunable([kept, ...gone], new Set([objectKey(kept)]));
    expect(result.map((o) => o.kind)).toEqual(['ConfigMap', 'NetworkPolicy', 'Namespace']);
  });

  test('an apiVersion change is the same object, not a prune', () => {
    const live = obj('HorizontalPodAutoscaler', 'web', {}, 'autoscaling/v1');
    const inYaml = obj('HorizontalPodAutoscaler', 'web', {}, 'autoscaling/v2');
    expect(prunable([live], new Set([objectKey(inYaml)]))).toEqual([]);
  });

  test('what controllers made from our objects is left alone, though it carries our labels', () => {
    const pod = obj('Pod', 'web-abc', {
      ownerReferences: [{ kind: 'ReplicaSet' }],
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update' }],
    });
    const claim = obj('PersistentVolumeClaim', 'data-db-0', { managedFields: [{ manager: 'kube-controller-manager', operation: 'Update' }] });
    const owned = obj('ConfigMap', 'owned', { ownerReferences: [{ kind: 'Deployment' }] });
    expect(prunable([pod, claim, owned], new Set())).toEqual([]);
  });

  test('objects another tool applied, or we only updated client-side, are left alone', () => {
    const helm = obj('ConfigMap', 'a', { managedFields: [{ manager: 'helm', operation: 'Apply' }] });
    const update = obj('ConfigMap', 'b', { managedFields: [{ manager: FIELD_MANAGER, operation: 'Update' }] });
    expect(prunable([helm, update], new Set())).toEqual([]);
  });

  test('an object already being deleted is not deleted again', () => {
    expect(prunable([obj('ConfigMap', 'x', { deletionTimestamp: '2024-01-01T00:00:00Z' })], new Set())).toEqual([]);
  });
});

// The refusal end to end, with the real kubectl reading a real kubeconfig: nothing is applied (the
// kubeconfig's server does not even exist) and the exit code is 2.
describe('npm run deploy refuses a context that does not match', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-refusal-'));
    fs.writeFileSync(
      path.join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: prod, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: prod, user: {token: not-a-secret}}]',
        'contexts: [{name: prod-eks-admin, context: {cluster: prod, user: prod}}]',
        'current-context: prod-eks-admin',
        '',
      ].join('\n'),
    );
    fs.mkdirSync(path.join(dir, 'lab'));
    fs.writeFileSync(path.join(dir, 'lab', '00-platform.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('exit 2 with the reason, and kubectl apply never runs', () => {
    const root = path.resolve(__dirname, '..');
    const result = spawnSync(
      process.execPath,
      [path.join(root, 'bin', 'tsrun.js'), path.join(root, 'scripts', 'deploy.ts'), '--env', 'lab', '--from', path.join(dir, 'lab')],
      { encoding: 'utf8', env: { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') } },
    );
    expect(result.stderr).toContain('refusing to deploy "lab" to the current context "prod-eks-admin"');
    expect(result.stdout).not.toContain('applied');
    expect(result.status).toBe(2);
  });
});
