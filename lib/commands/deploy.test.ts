import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS, environmentNames } from '../environments';
import { lab } from '../environments/lab';
import { renderEnvironment } from '../synth/render';
import {
  applyStages,
  describe as describeObject,
  describeConditions,
  FIELD_MANAGER,
  folderDifferences,
  KubeObject,
  manifestFiles,
  notEstablished,
  objectKey,
  parseArgs,
  parseDuration,
  prunable,
  readyEndpoints,
  Run,
  unservedGroupVersions,
  UsageError,
  waitEstablished,
  webhookServices,
} from './deploy';
import { CountingPort, countingPort, newCa, runCommand, writeKubeconfig } from './guard-test-fixtures';

describe('parseArgs', () => {
  test('defaults: dist/<env>/, five minutes, no explicit context', () => {
    expect(parseArgs(['--env', 'lab'])).toEqual({
      env: 'lab',
      context: undefined,
      from: path.join('dist', 'lab'),
      timeoutSeconds: 300,
    });
  });

  test('every option, both spellings', () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    expect(
      parseArgs([
        '--env=prod-eks',
        '--context',
        'arn:aws:eks:eu-west-1:1:cluster/prod',
        `--confirm-cluster=${hash}`,
        '--from=reviewed',
        '--timeout',
        '2m',
      ]),
    ).toEqual({
      env: 'prod-eks',
      context: 'arn:aws:eks:eu-west-1:1:cluster/prod',
      confirmCluster: hash,
      from: 'reviewed',
      timeoutSeconds: 120,
    });
  });

  test.each([
    [[], `--env is required: one of ${environmentNames().join(', ')}`],
    [['--env', 'staging'], `--env "staging" is not an environment; allowed: ${environmentNames().join(', ')}`],
    [['--env'], /--env needs a value/],
    [['--env', '--context', 'x'], /--env needs a value/],
    [['--env='], /--env needs a value/],
    [
      ['--env', 'lab', '--force'],
      /unknown option "--force"; the options are --env, --context, --confirm-cluster, --from, --timeout, --despite-reconciler, --help/,
    ],
    [
      ['--env', 'lab', '--confirm-cluster', 'yes'],
      /--confirm-cluster: Invalid value: "yes": "sha256:" and 64 lowercase hex digits/,
    ],
    [['lab'], /unexpected argument "lab": the command takes options only/],
    [['--env', 'lab', '--env', 'prod-gke'], /--env is given twice/],
    [['--env', 'lab', '--timeout', 'soon'], /--timeout "soon" is not a duration/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

test('--despite-reconciler: set only when given, and takes no value', () => {
  expect(parseArgs(['--env', 'lab', '--despite-reconciler'])).toMatchObject({ env: 'lab', despiteReconciler: true });
  expect(parseArgs(['--env', 'lab'])).not.toHaveProperty('despiteReconciler');
  expect(() => parseArgs(['--env', 'lab', '--despite-reconciler=yes'])).toThrow(/--despite-reconciler takes no value/);
});

test('--help, whatever else is given', () => {
  expect(parseArgs(['--env', 'nowhere', '--help'])).toBe('help');
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
    const lab = path.join(__dirname, '..', '..', 'dist', 'lab');
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

describe('applyStages', () => {
  test("the add-ons' CRDs, then their controllers, then the rest, each in name order", () => {
    expect(
      applyStages([
        '10-web.yaml',
        '01-metallb.yaml',
        '05-platform.yaml',
        '00-metallb-crds.yaml',
        '01-cert-manager.yaml',
        '00-cert-manager-crds.yaml',
      ]),
    ).toEqual([
      { name: 'CRDs', waitFor: 'crds', files: ['00-cert-manager-crds.yaml', '00-metallb-crds.yaml'] },
      { name: 'add-ons, wave 1', waitFor: 'addons', files: ['01-cert-manager.yaml', '01-metallb.yaml'] },
      { name: 'the rest', waitFor: 'nothing', files: ['05-platform.yaml', '10-web.yaml'] },
    ]);
  });

  test('each wave of add-ons (01- to 04-) is a stage of its own, awaited like the first, in order; 05- on is the rest', () => {
    expect(
      applyStages([
        '05-platform.yaml',
        '03-aws-load-balancer-controller-resources.yaml',
        '02-aws-load-balancer-controller.yaml',
        '01-cert-manager.yaml',
        '00-aws-load-balancer-controller-crds.yaml',
        '04-late.yaml',
        '10-web.yaml',
      ]),
    ).toEqual([
      { name: 'CRDs', waitFor: 'crds', files: ['00-aws-load-balancer-controller-crds.yaml'] },
      { name: 'add-ons, wave 1', waitFor: 'addons', files: ['01-cert-manager.yaml'] },
      { name: 'add-ons, wave 2', waitFor: 'addons', files: ['02-aws-load-balancer-controller.yaml'] },
      { name: 'add-ons, wave 3', waitFor: 'addons', files: ['03-aws-load-balancer-controller-resources.yaml'] },
      { name: 'add-ons, wave 4', waitFor: 'addons', files: ['04-late.yaml'] },
      { name: 'the rest', waitFor: 'nothing', files: ['05-platform.yaml', '10-web.yaml'] },
    ]);
  });

  test("prod-eks's rendered files: cert-manager's wave, then the load balancer controller's, then its own resources", () => {
    const files = [...renderEnvironment(ENVIRONMENTS['prod-eks']).files.keys()].filter((f) => f.endsWith('.yaml'));
    const stages = applyStages(files);
    expect(stages.map((s) => s.name)).toEqual([
      'CRDs',
      'add-ons, wave 1',
      'add-ons, wave 2',
      'add-ons, wave 3',
      'the rest',
    ]);
    expect(stages[1].files).toContain('01-cert-manager.yaml');
    expect(stages[2].files).toEqual(['02-aws-load-balancer-controller.yaml']);
    expect(stages[3].files).toEqual(['03-aws-load-balancer-controller-resources.yaml']);
  });

  test('a folder with no 00- to 04- file is one stage: one apply, as before', () => {
    expect(applyStages(['10-web.yaml', '05-platform.yaml'])).toEqual([
      { name: 'the rest', waitFor: 'nothing', files: ['05-platform.yaml', '10-web.yaml'] },
    ]);
  });

  test('CRDs without controllers: no empty stage', () => {
    expect(applyStages(['00-x-crds.yaml', '10-web.yaml']).map((s) => s.name)).toEqual(['CRDs', 'the rest']);
  });
});

describe('webhookServices', () => {
  const service = (namespace: string, name: string) => ({ clientConfig: { service: { namespace, name } } });
  test('every Service a webhook configuration or a conversion webhook calls, once; a URL is not one', () => {
    const applied = [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'metallb-webhook-configuration' },
        webhooks: [
          service('metallb-system', 'metallb-webhook-service'),
          service('metallb-system', 'metallb-webhook-service'),
        ],
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'MutatingWebhookConfiguration',
        metadata: { name: 'cert-manager-webhook' },
        webhooks: [service('cert-manager', 'cert-manager-webhook'), { clientConfig: { url: 'https://example.org/' } }],
      },
      {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'bgppeers.metallb.io' },
        spec: { conversion: { strategy: 'Webhook', webhook: service('metallb-system', 'metallb-conversion') } },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'web' } },
    ];
    expect(webhookServices(applied)).toEqual([
      {
        namespace: 'cert-manager',
        name: 'cert-manager-webhook',
        calledBy: 'MutatingWebhookConfiguration cert-manager-webhook',
      },
      {
        namespace: 'metallb-system',
        name: 'metallb-conversion',
        calledBy: 'the conversion webhook of CustomResourceDefinition bgppeers.metallb.io',
      },
      {
        namespace: 'metallb-system',
        name: 'metallb-webhook-service',
        calledBy: 'ValidatingWebhookConfiguration metallb-webhook-configuration',
      },
    ]);
  });
});

describe('readyEndpoints', () => {
  const slice = (namespace: string, service: string, endpoints: unknown) => ({
    metadata: { namespace, labels: { 'kubernetes.io/service-name': service } },
    endpoints,
  });
  test('counts endpoints with an address not marked unready (a missing ready is ready), over all slices of a Service', () => {
    const counts = readyEndpoints([
      slice('a', 'hook', [{ addresses: ['10.0.0.1'], conditions: { ready: true } }, { addresses: ['10.0.0.2'] }]),
      slice('a', 'hook', [{ addresses: ['fd00::1'], conditions: { ready: false } }]),
      slice('b', 'hook', null),
      slice('c', 'none', [{ addresses: [], conditions: { ready: true } }]),
    ]);
    expect(Object.fromEntries(counts)).toEqual({ 'a/hook': 2, 'b/hook': 0, 'c/none': 0 });
  });
});

test('describeConditions: each condition with its reason and message', () => {
  expect(
    describeConditions([
      { type: 'NamesAccepted', status: 'False', reason: 'KindConflict', message: '"Widget" is already in use' },
      { type: 'Established', status: 'False', reason: 'NotAccepted' },
    ]),
  ).toBe('NamesAccepted=False (KindConflict: "Widget" is already in use), Established=False (NotAccepted)');
  expect(describeConditions(undefined)).toBe('no conditions yet');
});

test('notEstablished: a CRD not listed, or whose conditions are null, empty or not Established=True, is still awaited', () => {
  const crd = (name: string, status?: unknown): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    ...(status === undefined ? {} : { status }),
  });
  const wanted = ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com', 'e.example.com'].map((n) =>
    crd(n),
  );
  const live = [
    // Just created: the API server writes conditions as null until it has accepted the names.
    crd('a.example.com', { conditions: null, acceptedNames: { kind: '', plural: '' } }),
    crd('b.example.com', { conditions: [] }),
    crd('c.example.com', {
      conditions: [
        { type: 'NamesAccepted', status: 'False', reason: 'KindConflict' },
        { type: 'Established', status: 'False', reason: 'NotAccepted' },
      ],
    }),
    crd('d.example.com', {
      conditions: [
        { type: 'NamesAccepted', status: 'True' },
        { type: 'Established', status: 'True' },
      ],
    }),
  ];
  expect(notEstablished(wanted, live).map((w) => `${w.crd.metadata.name}: ${w.seen}`)).toEqual([
    'a.example.com: no conditions yet',
    'b.example.com: no conditions yet',
    'c.example.com: NamesAccepted=False (KindConflict), Established=False (NotAccepted)',
    'e.example.com: not found',
  ]);
  expect(notEstablished(wanted.slice(3, 4), live)).toEqual([]);
});

describe('waitEstablished', () => {
  // What the API server shows of two CRDs, read after read: first just created (conditions null, as
  // the API server writes them until it has accepted the names), then Established.
  const crds: KubeObject[] = ['a.example.com', 'b.example.com'].map((name) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
  }));
  const reads = (conditions: unknown): string =>
    JSON.stringify({ kind: 'List', items: crds.map((c) => ({ ...c, status: { conditions } })) });
  const established = [
    { type: 'NamesAccepted', status: 'True' },
    { type: 'Established', status: 'True' },
  ];
  // A kubectl that answers `get` with each read in turn (the last one from then on) and `wait` as the
  // real one does on null conditions (k8s.io/kubectl pkg/cmd/wait/condition.go): at once, exit 1.
  const cluster = (...answers: string[]): { run: Run; calls: string[][] } => {
    const calls: string[][] = [];
    const result = (status: number, stdout: string, stderr = '') =>
      ({ pid: 0, output: [], stdout, stderr, status, signal: null }) as ReturnType<Run>;
    const run: Run = (args) => {
      calls.push(args);
      if (args[0] === 'wait') {
        return result(
          1,
          '',
          'error: .status.conditions accessor error: <nil> is of the type <nil>, expected []interface{}',
        );
      }
      return result(0, answers[Math.min(calls.filter((c) => c[0] === 'get').length, answers.length) - 1]);
    };
    return { run, calls };
  };

  test('keeps looking while a CRD just applied shows null conditions, and passes once every one is Established', () => {
    const { run, calls } = cluster(reads(null), reads(null), reads(established));
    const lines: string[] = [];
    expect(waitEstablished(run, crds, Date.now() + 30_000, (l) => lines.push(l))).toBe(true);
    expect(calls.map((c) => c[0])).toEqual(['get', 'get', 'get']);
    expect(lines).toEqual([expect.stringMatching(/^ {2}2 CRDs Established \(\d+s\)$/)]);
  });

  test('at the deadline, names each CRD not Established with what it was seen as last', () => {
    const { run } = cluster(reads(null));
    const lines: string[] = [];
    expect(waitEstablished(run, crds, Date.now() + 1500, (l) => lines.push(l))).toBe(false);
    expect(lines).toEqual([
      expect.stringMatching(
        /^ {2}CustomResourceDefinition a\.example\.com NOT Established after \ds: no conditions yet$/,
      ),
      expect.stringMatching(
        /^ {2}CustomResourceDefinition b\.example\.com NOT Established after \ds: no conditions yet$/,
      ),
    ]);
  });
});

test("unservedGroupVersions: the group/versions of kubectl's partial discovery error, else none", () => {
  expect(
    unservedGroupVersions(
      'error: unable to retrieve the complete list of server APIs: metrics.k8s.io/v1beta1: stale GroupVersion discovery: metrics.k8s.io/v1beta1, custom.metrics.k8s.io/v1beta2: the server is currently unable to handle the request\n',
    ),
  ).toEqual(['custom.metrics.k8s.io/v1beta2', 'metrics.k8s.io/v1beta1']);
  expect(unservedGroupVersions('error: You must be logged in to the server (Unauthorized)\n')).toEqual([]);
});

describe('prunable', () => {
  const applyEntry = { manager: FIELD_MANAGER, operation: 'Apply' };
  const obj = (
    kind: string,
    name: string,
    extra: Partial<KubeObject['metadata']> = {},
    apiVersion = 'v1',
  ): KubeObject => ({
    apiVersion,
    kind,
    metadata: { name, namespace: kind === 'Namespace' ? undefined : 'web', managedFields: [applyEntry], ...extra },
  });

  test('objects we applied that left the YAML are pruned, namespaces last', () => {
    const kept = obj('Service', 'web');
    const gone = [
      obj('Namespace', 'old'),
      obj('ConfigMap', 'old'),
      obj('NetworkPolicy', 'old', {}, 'networking.k8s.io/v1'),
    ];
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
    const claim = obj('PersistentVolumeClaim', 'data-db-0', {
      managedFields: [{ manager: 'kube-controller-manager', operation: 'Update' }],
    });
    const owned = obj('ConfigMap', 'owned', { ownerReferences: [{ kind: 'Deployment' }] });
    expect(prunable([pod, claim, owned], new Set())).toEqual([]);
  });

  test('objects another tool applied, or we only updated client-side, are left alone', () => {
    const helm = obj('ConfigMap', 'a', { managedFields: [{ manager: 'helm', operation: 'Apply' }] });
    const update = obj('ConfigMap', 'b', { managedFields: [{ manager: FIELD_MANAGER, operation: 'Update' }] });
    expect(prunable([helm, update], new Set())).toEqual([]);
  });

  test("an add-on's objects are listed by our label: pruned when it leaves the YAML (namespace last), kept while installed", () => {
    // The cluster after a deploy of the lab: what `kubectl get -l app.kubernetes.io/part-of=lab-to-prod`
    // lists of the add-ons' objects (their CRDs carry no label), each applied by us.
    const rendered = renderEnvironment(lab);
    const live: KubeObject[] = rendered.addons
      .flatMap((a) => [...a.objects, ...a.resources])
      .filter((o) => o.metadata.labels?.['app.kubernetes.io/part-of'] === 'lab-to-prod')
      .map((o) => ({ ...o, metadata: { ...o.metadata, managedFields: [applyEntry] } }) as KubeObject);
    // The next YAML leaves cert-manager out: every other add-on's objects are still in it.
    const certManager = rendered.addons.find((a) => a.name === 'cert-manager')!;
    const inYaml = new Set(
      [
        ...rendered.objects.map((o) => o.object),
        ...rendered.addons.filter((a) => a !== certManager).flatMap((a) => [...a.objects, ...a.resources]),
      ].map((o) => objectKey(o as KubeObject)),
    );
    const pruned = prunable(live, inYaml);
    expect(pruned.map(objectKey).sort()).toEqual(certManager.objects.map((o) => objectKey(o as KubeObject)).sort());
    expect(pruned.map(describeObject).pop()).toBe('Namespace cert-manager');
    expect(pruned.filter((o) => o.kind === 'Namespace')).toHaveLength(1);
  });

  test('an object already being deleted is not deleted again', () => {
    expect(prunable([obj('ConfigMap', 'x', { deletionTimestamp: '2024-01-01T00:00:00Z' })], new Set())).toEqual([]);
  });
});

describe('folderDifferences', () => {
  let dir: string;
  const rendered = new Map([
    ['00-platform.yaml', 'a: 1\nb: 2\n'],
    ['README.md', '# lab\n'],
  ]);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-differences-'));
    for (const [file, text] of rendered) fs.writeFileSync(path.join(dir, file), text);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the rendered files, byte for byte: no difference', () => {
    expect(folderDifferences(dir, rendered)).toEqual([]);
  });

  test('a changed line, a missing file and a file the synth does not render are each named', () => {
    fs.writeFileSync(path.join(dir, '00-platform.yaml'), 'a: 1\nb: 3\n');
    fs.rmSync(path.join(dir, 'README.md'));
    fs.mkdirSync(path.join(dir, 'extra'));
    fs.writeFileSync(path.join(dir, 'extra', '99-more.yaml'), 'kind: Pod\n');
    expect(folderDifferences(dir, rendered)).toEqual([
      '00-platform.yaml: differs from the render from line 2',
      'README.md: missing; the synth renders it',
      `${path.join('extra', '99-more.yaml')}: not rendered by the synth`,
    ]);
  });

  test('a difference a text comparison would hide is found: line endings, a missing final newline', () => {
    fs.writeFileSync(path.join(dir, '00-platform.yaml'), 'a: 1\r\nb: 2\r\n');
    fs.writeFileSync(path.join(dir, 'README.md'), '# lab');
    expect(folderDifferences(dir, rendered)).toEqual([
      '00-platform.yaml: differs from the render from line 1',
      'README.md: differs from the render from line 2',
    ]);
  });
});

// deploy run as a user runs it, in a folder of its own holding dist/lab/ as the synth renders it (or
// edited by hand), against a kubeconfig whose lab cluster is a loopback port counting connections:
// a refused folder must not reach it; an accepted one goes on to kubectl, which connects.
describe('npm run deploy applies only what the checked-out source renders', () => {
  const ca = newCa('lab CA');
  let root: string;
  let port: CountingPort;
  let kubeconfig: string;
  /** A user's checkout: dist/lab/ as rendered, then changed by `edit`. */
  const checkout = (name: string, edit: (lab: string) => void = () => undefined): string => {
    const dir = path.join(root, name);
    const distLab = path.join(dir, 'dist', 'lab');
    fs.mkdirSync(distLab, { recursive: true });
    for (const [file, text] of renderEnvironment(lab).files) fs.writeFileSync(path.join(distLab, file), text);
    edit(distLab);
    return dir;
  };
  /** The hand edit of the issue: a privileged container. */
  const privileged = (folder: string): void => {
    const file = path.join(folder, '10-web.yaml');
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replace(/^( +)readOnlyRootFilesystem: true$/m, '$1readOnlyRootFilesystem: true\n$1privileged: true'),
    );
  };
  const deploy = (cwd: string, args: string[] = []) =>
    runCommand(
      'deploy.ts',
      ['--env', 'lab', '--confirm-cluster', ca.hash, ...args],
      {
        KUBECONFIG: kubeconfig,
        // A bundle cache of this test's own: tsrun keys bundles by the working folder, and these are temporary.
        LAB_TO_PROD_TSRUN_CACHE: path.join(root, 'tsrun-cache'),
      },
      cwd,
      port.nextConnection(),
    );

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-folder-'));
    port = await countingPort();
    kubeconfig = writeKubeconfig(
      root,
      { lab: { server: port.server, caPem: ca.pem } },
      { 'kubernetes-admin@lab': 'lab' },
      'kubernetes-admin@lab',
    );
  });
  afterAll(async () => {
    await port.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('a hand edit in dist/lab/ is refused, naming the file and how to render it again; nothing is contacted', async () => {
    const before = port.connections();
    const result = await deploy(checkout('edited', privileged));
    expect(result.stderr).toMatch(
      new RegExp(
        '^deploy: dist/lab is not what a synth of the checked-out source renders for "lab":\n' +
          ' {2}10-web\\.yaml: differs from the render from line \\d+\n' +
          'Render it again with `npm run synth -- --env lab`',
      ),
    );
    expect(result.status).toBe(2);
    expect(port.connections()).toBe(before);
  }, 180_000);

  test('exactly the render goes on to the cluster', async () => {
    const before = port.connections();
    const result = await deploy(checkout('clean'));
    expect(result.stderr).not.toContain('is not what a synth');
    expect(port.connections()).toBeGreaterThan(before);
  }, 180_000);

  test('--from: a folder with the hand edit fails the guardrail checks, named; nothing is contacted', async () => {
    const before = port.connections();
    const cwd = checkout('from-edited', privileged);
    fs.renameSync(path.join(cwd, 'dist', 'lab'), path.join(cwd, 'dist', 'lab-reviewed'));
    const result = await deploy(cwd, ['--from', path.join('dist', 'lab-reviewed')]);
    expect(result.stderr).toContain(
      `deploy: ${path.join('dist', 'lab-reviewed')} fails the guardrail checks the synth runs for "lab" (in 10-web.yaml):\n` +
        'ERROR pss/baseline/privileged  [lab] Deployment/web/web\n' +
        '  field:     spec.template.spec.containers[0].securityContext.privileged\n',
    );
    expect(result.status).toBe(2);
    expect(port.connections()).toBe(before);
  }, 180_000);

  test("--from: a folder that passes every check goes on to the cluster, the add-ons' upstream objects included", async () => {
    const cwd = checkout('from-clean');
    fs.renameSync(path.join(cwd, 'dist', 'lab'), path.join(cwd, 'reviewed'));
    // flannel's DaemonSet uses the host's network and adds NET_ADMIN by upstream's design: an add-on
    // file is held to the Kubernetes schema only (lib/policy/dist-inputs.ts, checkReadInputs), not
    // to our hardening rules, which refuse both.
    const flannel = fs.readFileSync(path.join(cwd, 'reviewed', '01-flannel.yaml'), 'utf8');
    expect(flannel).toMatch(/^ +hostNetwork: true$/m);
    expect(flannel).toMatch(/^ +- NET_ADMIN$/m);
    const before = port.connections();
    const result = await deploy(cwd, ['--from', 'reviewed']);
    expect(result.stderr).not.toContain('guardrail');
    expect(port.connections()).toBeGreaterThan(before);
  }, 180_000);
});
