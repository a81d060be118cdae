/**
 * `npm run promote`'s steps: the lab's proof decided on Kustomizations as kubectl lists them, and every
 * git step against a real repository: a copy of this project (node_modules linked), committed with its
 * rendered dist/ for prod-gke and the lab, in which the real synth runs (the commits' own, in temporary
 * worktrees, and the working tree's for the write).
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { projectCopy } from '../../test/project-copy';
import { UsageError } from './context-guard';
import { countingPort, newCa, writeKubeconfig } from './guard-test-fixtures';
import {
  branchRevision,
  checkCleanFiles,
  checkOnBranch,
  checkPromotable,
  checkProven,
  checkRendersAtCommit,
  checkSameLayers,
  committedFiles,
  FluxKustomization,
  layersOf,
  parsePromoteArgs,
  PromoteRefused,
  proveInLab,
  resolveRevision,
  rewriteRevisionLine,
  sameLabLayerAt,
  writePromotion,
} from './promote-steps';

const ENVS = ['lab', 'prod-aks', 'prod-eks', 'prod-gke'];

describe('the command line', () => {
  test('--env and --to, with the lab context and its confirmation', () => {
    const hash = `sha256:${'ab'.repeat(32)}`;
    expect(
      parsePromoteArgs(['--env', 'prod-gke', '--to', 'HEAD~1', '--context', 'lab', '--confirm-cluster', hash], ENVS),
    ).toEqual({ env: 'prod-gke', to: 'HEAD~1', context: 'lab', confirmCluster: hash });
    expect(parsePromoteArgs(['--help'], ENVS)).toBe('help');
  });

  test('an unknown environment is refused, naming it and the environments', () => {
    expect(() => parsePromoteArgs(['--env', 'staging', '--to', 'HEAD'], ENVS)).toThrow(PromoteRefused);
    expect(() => parsePromoteArgs(['--env', 'staging', '--to', 'HEAD'], ENVS)).toThrow(
      '--env "staging": not an environment; allowed: lab, prod-aks, prod-eks, prod-gke',
    );
  });

  test.each([
    [['--to', 'HEAD'], /--env is required/],
    [['--env', 'prod-gke'], /--to is required/],
    [['--env', 'prod-gke', '--to', 'HEAD', '--confirm-cluster', 'yes'], /--confirm-cluster: Invalid value: "yes"/],
    [['--env', 'prod-gke', '--to', 'HEAD', '--force'], /unknown option "--force"/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parsePromoteArgs(argv, ENVS)).toThrow(UsageError);
    expect(() => parsePromoteArgs(argv, ENVS)).toThrow(message);
  });
});

describe('the environment', () => {
  const commit = '0123456789abcdef0123456789abcdef01234567';
  test("one that follows its branch's tip (the lab) is refused: nothing to promote", () => {
    expect(() => checkPromotable({ name: 'lab', delivery: { revision: 'tip', branch: 'main' } })).toThrow(
      `environment "lab": delivery.revision "tip" (lib/environments/lab.ts): it follows branch "main"'s newest commit, ` +
        "so there is nothing to promote; allowed: an environment whose revision is 'unpromoted' or a commit (production)",
    );
  });

  test('production, unpromoted or at another commit, may move; to the commit it follows, it is refused', () => {
    const gke = { name: 'prod-gke', delivery: { revision: commit, branch: 'main' } };
    expect(() => checkPromotable({ ...gke, delivery: { ...gke.delivery, revision: 'unpromoted' } })).not.toThrow();
    expect(() => checkPromotable(gke, { given: 'HEAD', commit: 'f'.repeat(40) })).not.toThrow();
    expect(() => checkPromotable(gke, { given: 'HEAD', commit })).toThrow(
      `environment "prod-gke": --to "HEAD": delivery.revision in lib/environments/prod-gke.ts is already ${commit}; nothing to promote`,
    );
  });
});

describe('the revision line', () => {
  const commit = '0123456789abcdef0123456789abcdef01234567';

  test("rewrites prod-gke's one line, keeping its indentation, and nothing else", () => {
    const file = path.resolve(__dirname, '..', 'environments', 'prod-gke.ts');
    const before = fs.readFileSync(file, 'utf8');
    const after = rewriteRevisionLine(before, 'lib/environments/prod-gke.ts', commit);
    const changed = after.split('\n').filter((line, i) => line !== before.split('\n')[i]);
    expect(changed).toEqual([`    revision: '${commit}',`]);
    // Promoted again: the commit's line is the one rewritten.
    expect(rewriteRevisionLine(after, 'x', 'f'.repeat(40))).toContain(`    revision: '${'f'.repeat(40)}',`);
  });

  test.each([
    ['none', "  branch: 'main',\n"],
    ['two', "  revision: 'unpromoted',\n  revision: 'tip',\n"],
    ['one with a short sha', "  revision: 'abc123',\n"],
  ])('a file with %s such line is refused, naming it', (_, text) => {
    expect(() => rewriteRevisionLine(text, 'lib/environments/prod-x.ts', commit)).toThrow(
      /lib\/environments\/prod-x.ts: found \d lines of the form "revision: '<tip\|unpromoted\|40 hex>',"; promote rewrites exactly one/,
    );
  });
});

describe('the layers', () => {
  const gke = ['00-cert-manager-crds.yaml', '01-cert-manager.yaml', '05-platform.yaml', '10-web.yaml', 'README.md'];
  const folders = ['crds/kustomization.yaml', 'addons-1/kustomization.yaml', 'platform/kustomization.yaml'];

  test("a commit with the working tree's files and every layer folder passes", () => {
    expect(() =>
      checkSameLayers(
        'prod-gke',
        'a'.repeat(40),
        { manifests: gke, layerFolders: [...folders, 'workloads/kustomization.yaml'] },
        gke,
      ),
    ).not.toThrow();
  });

  test('a commit whose dist/<env>/ has other files is refused, listing both', () => {
    expect(() =>
      checkSameLayers('prod-gke', 'a'.repeat(40), { manifests: [...gke, '60-extra.yaml'], layerFolders: folders }, gke),
    ).toThrow(
      /environment "prod-gke": --to aaaaaaaaaaaa: its dist\/prod-gke\/ has other layers than the working tree's[^]*workloads: 10-web.yaml, 60-extra.yaml[^]*working tree: .*workloads: 10-web.yaml\n/,
    );
  });

  test('a commit without a layer folder (from before delivery was rendered) is refused', () => {
    expect(() => checkSameLayers('prod-gke', 'a'.repeat(40), { manifests: gke, layerFolders: folders }, gke)).toThrow(
      /its dist\/prod-gke-delivery\/layers\/ lacks workloads\/kustomization.yaml/,
    );
  });
});

describe("the lab's proof", () => {
  const commit = '5d41402abc4b2a76b9719d911017c592a1b2c3d4';
  const older = '7c4a8d09ca3762af61e59520943dc26494f8941b';

  /** A Kustomization as `kubectl get kustomizations.kustomize.toolkit.fluxcd.io -n flux-system -o json` lists it (kustomize-controller v1.9.5). */
  function kustomization(
    layer: string,
    ready: { status: 'True' | 'False' | 'Unknown'; reason: string; message: string },
    lastApplied: string,
    history: { revision: string; status: string; digest: string }[] = [],
  ): unknown {
    return {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: {
        name: `lab-to-prod-${layer}`,
        namespace: 'flux-system',
        generation: 1,
        labels: { 'app.kubernetes.io/part-of': 'lab-to-prod', 'app.kubernetes.io/component': 'delivery' },
      },
      spec: {
        interval: '10m',
        path: `./dist/lab-delivery/layers/${layer}`,
        prune: layer !== 'crds',
        sourceRef: { kind: 'GitRepository', name: 'lab-to-prod' },
        timeout: '5m',
        wait: true,
      },
      status: {
        conditions: [{ type: 'Ready', lastTransitionTime: '2026-12-07T09:12:44Z', observedGeneration: 1, ...ready }],
        lastAppliedRevision: lastApplied,
        lastAttemptedRevision: lastApplied,
        observedGeneration: 1,
        history: history.map((h) => ({
          digest: h.digest,
          firstReconciled: '2026-12-07T09:02:11Z',
          lastReconciled: '2026-12-07T09:12:44Z',
          lastReconciledDuration: '3.41s',
          lastReconciledStatus: h.status,
          totalReconciliations: 2,
          metadata: { revision: h.revision },
        })),
      },
    };
  }
  const listed = (...items: unknown[]): FluxKustomization[] =>
    (JSON.parse(JSON.stringify({ apiVersion: 'v1', kind: 'List', items })) as { items: FluxKustomization[] }).items;
  const readyAt = (sha: string) => ({
    status: 'True' as const,
    reason: 'ReconciliationSucceeded',
    message: `Applied revision: ${branchRevision('main', sha)}`,
  });
  const request = { layers: ['crds', 'platform', 'workloads'], branch: 'main', commit };

  test('every layer Ready with the commit as its last applied revision: proven', () => {
    const proofs = proveInLab(
      listed(
        kustomization('crds', readyAt(commit), `main@sha1:${commit}`),
        kustomization('platform', readyAt(commit), `main@sha1:${commit}`),
        kustomization('workloads', readyAt(commit), `main@sha1:${commit}`),
      ),
      request,
    );
    expect(proofs.map((p) => [p.kustomization, p.proven])).toEqual([
      ['lab-to-prod-crds', true],
      ['lab-to-prod-platform', true],
      ['lab-to-prod-workloads', true],
    ]);
    expect(() => checkProven('prod-gke', 'HEAD', commit, 'context "lab"', proofs)).not.toThrow();
  });

  test('a layer not Ready at the commit (its health check failing) is not proven, and the refusal says what it shows', () => {
    const proofs = proveInLab(
      listed(
        kustomization('crds', readyAt(commit), `main@sha1:${commit}`),
        kustomization('platform', readyAt(commit), `main@sha1:${commit}`),
        kustomization(
          'workloads',
          {
            status: 'False',
            reason: 'HealthCheckFailed',
            message: 'timeout waiting for: [Deployment/web/web status: InProgress]',
          },
          `main@sha1:${older}`,
          [
            { revision: `main@sha1:${commit}`, status: 'HealthCheckFailed', digest: 'sha256:11' },
            { revision: `main@sha1:${older}`, status: 'ReconciliationSucceeded', digest: 'sha256:22' },
          ],
        ),
      ),
      request,
    );
    expect(proofs.map((p) => p.proven)).toEqual([true, true, false]);
    expect(() => checkProven('prod-gke', 'HEAD', commit, 'context "lab", namespace flux-system', proofs)).toThrow(
      new RegExp(
        `environment "prod-gke": --to "HEAD" \\(5d41402abc4b\\): the lab has not run it; context "lab", namespace flux-system:\\n` +
          `[^]*lab-to-prod-workloads: NOT proven: Ready=False \\(HealthCheckFailed\\), last applied main@sha1:${older}, ` +
          `succeeded in its history: main@sha1:${older}\\nallowed: a commit every lab layer applied successfully`,
      ),
    );
  });

  test('the commit last applied but Ready=False now (its health check failing since), no history of it: not proven', () => {
    const proofs = proveInLab(
      listed(
        kustomization(
          'crds',
          {
            status: 'False',
            reason: 'HealthCheckFailed',
            message: 'timeout waiting for: [CustomResourceDefinition/certificates.cert-manager.io status: InProgress]',
          },
          `main@sha1:${commit}`,
        ),
      ),
      { ...request, layers: ['crds'] },
    );
    expect(proofs[0]).toMatchObject({
      proven: false,
      seen: `Ready=False (HealthCheckFailed), last applied main@sha1:${commit}`,
    });
  });

  test('Ready at another revision, the commit nowhere in its history: not proven', () => {
    const proofs = proveInLab(listed(kustomization('crds', readyAt(older), `main@sha1:${older}`)), {
      ...request,
      layers: ['crds'],
    });
    expect(proofs[0].proven).toBe(false);
  });

  test('a revision of another branch with the same sha is not this one', () => {
    const proofs = proveInLab(listed(kustomization('crds', readyAt(commit), `release@sha1:${commit}`)), {
      ...request,
      layers: ['crds'],
    });
    expect(proofs[0].proven).toBe(false);
  });

  test('the lab has moved on: a successful entry of the commit in status.history proves it', () => {
    const proofs = proveInLab(
      listed(
        kustomization('workloads', readyAt(older), `main@sha1:${older}`, [
          { revision: `main@sha1:${older}`, status: 'ReconciliationSucceeded', digest: 'sha256:22' },
          { revision: `main@sha1:${commit}`, status: 'ReconciliationSucceeded', digest: 'sha256:11' },
        ]),
      ),
      { ...request, layers: ['workloads'] },
    );
    expect(proofs[0]).toMatchObject({
      proven: true,
      seen: expect.stringMatching(/^applied main@sha1:5d41.* successfully \(history/),
    });
  });

  test("a layer the later commits left unchanged: its snapshot names the newest; proven when the lab's files of the layer are the same", () => {
    const items = listed(
      kustomization('crds', readyAt(older), `main@sha1:${older}`, [
        { revision: `main@sha1:${older}`, status: 'ReconciliationSucceeded', digest: 'sha256:33' },
      ]),
    );
    const asked: string[] = [];
    const same = (layer: string, other: string) => {
      asked.push(`${layer} ${other}`);
      return true;
    };
    expect(proveInLab(items, { ...request, layers: ['crds'], sameLayerContent: same })[0].proven).toBe(true);
    expect(asked).toContain(`crds ${older}`);
    expect(proveInLab(items, { ...request, layers: ['crds'], sameLayerContent: () => false })[0].proven).toBe(false);
    expect(proveInLab(items, { ...request, layers: ['crds'] })[0].proven).toBe(false);
  });

  test('every layer proven only by the same files at another commit: the lab has not fetched this one, refused', () => {
    const items = listed(
      kustomization('crds', readyAt(older), `main@sha1:${older}`),
      kustomization('workloads', readyAt(commit), `main@sha1:${commit}`),
    );
    const same = () => true;
    const onlyOthers = proveInLab(items, { ...request, layers: ['crds'], sameLayerContent: same });
    expect(onlyOthers.map((p) => [p.proven, p.direct])).toEqual([[true, false]]);
    expect(() => checkProven('prod-gke', 'HEAD', commit, 'here', onlyOthers)).toThrow(
      /--to "HEAD" \(5d41402abc4b\): no layer of the lab applied it itself \(each ran the same files at another commit only\); here:\n {2}lab-to-prod-crds: proven: applied main@sha1:7c4a8d09ca37/,
    );
    const withOne = proveInLab(items, { ...request, layers: ['crds', 'workloads'], sameLayerContent: same });
    expect(() => checkProven('prod-gke', 'HEAD', commit, 'here', withOne)).not.toThrow();
  });

  test('a layer without its Kustomization, or no layers at all, proves nothing', () => {
    const proofs = proveInLab([], request);
    expect(proofs.every((p) => !p.proven && p.seen === 'no such Kustomization in the lab')).toBe(true);
    expect(() => checkProven('prod-gke', 'HEAD', commit, 'here', [])).toThrow(/the lab has not run it/);
  });
});

describe('in a repository: a copy of the project with its dist/ committed', () => {
  let repo: string;
  let base: string;
  const git = (args: string[], env: NodeJS.ProcessEnv = process.env): string =>
    execFileSync('git', args, { cwd: repo, env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();

  /** A commit with `parent`'s tree and some files replaced; no branch moves, the working tree is untouched. */
  function commitBeside(parent: string, files: Record<string, string>, message = 'test'): string {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'promote-index-'));
    const env = { ...process.env, GIT_INDEX_FILE: path.join(scratch, 'index') };
    try {
      git(['read-tree', parent], env);
      for (const [file, text] of Object.entries(files)) {
        const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
          cwd: repo,
          input: text,
          encoding: 'utf8',
        });
        git(['update-index', '--add', '--cacheinfo', `100644,${blob.trim()},${file}`], env);
      }
      return git(['commit-tree', git(['write-tree'], env), '-p', parent, '-m', message]);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  const show = (commit: string, file: string) => git(['show', `${commit}:${file}`]);

  beforeAll(() => {
    repo = projectCopy('promote-', ['package-lock.json']);
    process.env.GIT_AUTHOR_NAME = process.env.GIT_COMMITTER_NAME = 'test';
    process.env.GIT_AUTHOR_EMAIL = process.env.GIT_COMMITTER_EMAIL = 'test@example.invalid';
    git(['init', '--quiet', '--initial-branch=main']);
    fs.appendFileSync(path.join(repo, '.git', 'info', 'exclude'), 'node_modules\n');
    git(['add', '--all']);
    git(['commit', '--quiet', '-m', 'the sources']);
    // The synth validates delivery.branch against this repository, so it runs once the branch exists.
    const synth = spawnSync(process.execPath, ['speed/tsrun.js', 'main.ts', '--env', 'prod-gke', '--env', 'lab'], {
      cwd: repo,
      encoding: 'utf8',
    });
    if (synth.status !== 0) throw new Error(`synth in the copy failed: ${synth.stderr}`);
    git(['add', '--all']);
    git(['commit', '--quiet', '-m', 'dist/ rendered']);
    base = git(['rev-parse', 'HEAD']);
  }, 120000);

  afterAll(() => {
    fs.rmSync(repo, { recursive: true, force: true });
  });

  test('a revision git cannot resolve is refused, naming it', () => {
    expect(resolveRevision(repo, 'prod-gke', 'HEAD')).toBe(base);
    expect(() => resolveRevision(repo, 'prod-gke', 'no-such-tag')).toThrow(
      /environment "prod-gke": --to "no-such-tag": git cannot resolve it to a commit in this repository; allowed: a commit of the branch/,
    );
  });

  test('a commit that is not on the branch is refused; one of its history passes', () => {
    const side = commitBeside(base, { 'notes.txt': 'unreviewed\n' });
    expect(() => checkOnBranch(repo, 'prod-gke', base, base, 'main')).not.toThrow();
    expect(() => checkOnBranch(repo, 'prod-gke', 'side', side, 'main')).toThrow(
      /environment "prod-gke": --to "side" \([0-9a-f]{12}\) is not on branch "main" \(delivery.branch\); allowed: a commit in the history of refs\/heads\/main/,
    );
    expect(() => checkOnBranch(repo, 'prod-gke', base, base, 'release')).toThrow(
      /delivery.branch "release": this repository has no such branch/,
    );
  });

  test('uncommitted changes in the files promote writes are refused; elsewhere they are not its business', () => {
    const file = path.join(repo, 'lib', 'environments', 'prod-gke.ts');
    const before = fs.readFileSync(file, 'utf8');
    expect(() => checkCleanFiles(repo, 'prod-gke')).not.toThrow();
    fs.writeFileSync(path.join(repo, 'notes.txt'), 'elsewhere\n');
    expect(() => checkCleanFiles(repo, 'prod-gke')).not.toThrow();
    fs.writeFileSync(file, `${before}// edited\n`);
    fs.writeFileSync(path.join(repo, 'dist', 'prod-gke-delivery', 'stray.yaml'), 'x: 1\n');
    try {
      expect(() => checkCleanFiles(repo, 'prod-gke')).toThrow(
        /environment "prod-gke": the working tree has uncommitted changes in the files promote writes:\n {2}M lib\/environments\/prod-gke.ts\n {2}\?\? dist\/prod-gke-delivery\/stray.yaml\nallowed: none in lib\/environments\/prod-gke.ts or dist\/prod-gke-delivery/,
      );
    } finally {
      fs.writeFileSync(file, before);
      fs.rmSync(path.join(repo, 'dist', 'prod-gke-delivery', 'stray.yaml'));
      fs.rmSync(path.join(repo, 'notes.txt'));
    }
  });

  test("the committed files and layers of a commit, and whether the lab's files of a layer are the same at another", () => {
    expect(committedFiles(repo, base, 'dist/prod-gke')).toContain('10-web.yaml');
    expect([...layersOf(committedFiles(repo, base, 'dist/lab')).keys()]).toEqual(
      expect.arrayContaining(['crds', 'platform', 'workloads']),
    );
    const web = `${show(base, 'dist/lab/10-web.yaml')}\n# changed\n`;
    const changed = commitBeside(base, { 'dist/lab/10-web.yaml': web });
    const same = sameLabLayerAt(repo, changed);
    expect(same('crds', base)).toBe(true);
    expect(same('workloads', base)).toBe(false);
    expect(same('crds', 'f'.repeat(40))).toBe(false); // not in this repository
  });

  test('a commit its own code renders exactly as committed passes', () => {
    expect(() => checkRendersAtCommit(repo, 'prod-gke', base)).not.toThrow();
  }, 120000);

  test('a commit whose dist/ was edited by hand is refused as not fresh, naming the file', () => {
    const edited = commitBeside(base, {
      'dist/prod-gke/10-web.yaml': show(base, 'dist/prod-gke/10-web.yaml').replace('replicas:', 'replicas:  '),
      'dist/lab/05-platform.yaml': `${show(base, 'dist/lab/05-platform.yaml')}\n# edited\n`,
    });
    expect(() => checkRendersAtCommit(repo, 'prod-gke', edited)).toThrow(
      /environment "prod-gke": --to [0-9a-f]{12}: its committed dist\/ is not what its own code renders \(not fresh\):\n {2}dist\/prod-gke\/10-web.yaml: differs from what the synth renders\n {2}dist\/lab\/05-platform.yaml: differs/,
    );
  }, 120000);

  test("a commit whose checks fail (its synth refuses an environment) is refused, with the synth's report", () => {
    const source = show(base, 'lib/environments/prod-gke.ts');
    expect(source).toContain("pollInterval: '1m'");
    // Below Flux's floor of one minute: the synth's delivery validation refuses it.
    const broken = commitBeside(base, {
      'lib/environments/prod-gke.ts': source.replace("pollInterval: '1m'", "pollInterval: '5s'"),
    });
    expect(() => checkRendersAtCommit(repo, 'prod-gke', broken)).toThrow(
      /environment "prod-gke": --to [0-9a-f]{12}: its own code does not render it, so its checks fail:\n[^]*delivery.flux.pollInterval[^]*"5s"/,
    );
  }, 120000);

  test('a working tree whose dist/<env>/ is stale: refused, and the environment file is put back', () => {
    const file = path.join(repo, 'lib', 'environments', 'prod-gke.ts');
    const web = path.join(repo, 'dist', 'prod-gke', '10-web.yaml');
    const before = { file: fs.readFileSync(file, 'utf8'), web: fs.readFileSync(web, 'utf8') };
    fs.writeFileSync(web, `${before.web}# hand edit\n`);
    try {
      expect(() => writePromotion(repo, 'prod-gke', base, ['evidence'])).toThrow(
        /environment "prod-gke": the working tree's dist\/prod-gke\/ is not what its source renders:\n {2}dist\/prod-gke\/10-web.yaml: differs/,
      );
      expect(fs.readFileSync(file, 'utf8')).toBe(before.file);
      expect(git(['rev-parse', 'HEAD'])).toBe(base);
    } finally {
      fs.writeFileSync(web, before.web);
    }
  }, 120000);

  test('the command, as people run it: each refusal before the lab is asked exits 2 and names what is wrong', () => {
    const promote = (...args: string[]) =>
      spawnSync(process.execPath, ['speed/tsrun.js', 'lib/commands/promote.ts', ...args], {
        cwd: repo,
        encoding: 'utf8',
        // No kubeconfig: a run that gets as far as the lab is refused there, before any kubectl.
        env: { ...process.env, KUBECONFIG: path.join(repo, 'no-kubeconfig') },
      });
    const cases: [string[], RegExp][] = [
      [['--env', 'staging', '--to', 'HEAD'], /^promote: --env "staging": not an environment; allowed: lab, /],
      [['--env', 'lab', '--to', 'HEAD'], /^promote: environment "lab": delivery.revision "tip"/],
      [
        ['--env', 'prod-gke', '--to', 'no-such-tag'],
        /^promote: environment "prod-gke": --to "no-such-tag": git cannot resolve it/,
      ],
      [['--env', 'prod-gke', '--to', commitBeside(base, { 'notes.txt': 'x\n' })], /is not on branch "main"/],
      // Everything before the lab passed: the lab's context is what is missing.
      [['--env', 'prod-gke', '--to', 'HEAD'], /^promote: the kubeconfig has no current context/],
    ];
    for (const [args, message] of cases) {
      const result = promote(...args);
      expect({ args, stderr: result.stderr, status: result.status }).toEqual({
        args,
        stderr: expect.stringMatching(message),
        status: 2,
      });
    }
    expect(git(['rev-parse', 'HEAD'])).toBe(base);
  }, 120000);

  test("the lab's cluster: another is refused before it is contacted; the lab's, confirmed, is asked with kubectl", async () => {
    const lab = newCa('lab');
    const port = await countingPort();
    const kubeconfig = writeKubeconfig(repo, { lab: { server: port.server, caPem: lab.pem } }, { 'lab-admin': 'lab' });
    const promote = (...args: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['speed/tsrun.js', 'lib/commands/promote.ts', ...args], {
          cwd: repo,
          env: { ...process.env, KUBECONFIG: kubeconfig },
        });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        child.on('error', reject);
        child.on('close', (status) => resolve({ status, stderr }));
      });
    try {
      const refused = await promote('--env', 'prod-gke', '--to', 'HEAD', '--context', 'lab-admin');
      expect(refused.stderr).toMatch(
        new RegExp(`^promote: refusing to read the lab's proof of ${base.slice(0, 12)} from context "lab-admin"`),
      );
      expect(refused.status).toBe(2);
      expect(port.connections()).toBe(0);
    } finally {
      await port.close();
    }
    // Confirmed, kubectl asks the server, where nothing listens any more: the proof cannot be read.
    try {
      const unread = await promote(
        '--env',
        'prod-gke',
        '--to',
        'HEAD',
        '--context',
        'lab-admin',
        '--confirm-cluster',
        lab.hash,
      );
      expect(unread.stderr).toMatch(
        /^promote: reading the lab's Kustomizations \(context "lab-admin", namespace flux-system\) failed: [^]*connection to the server 127.0.0.1:\d+ was refused/,
      );
      expect(unread.status).toBe(2);
      expect(git(['rev-parse', 'HEAD'])).toBe(base);
    } finally {
      fs.rmSync(kubeconfig);
    }
  }, 120000);

  test('the promotion: one commit of exactly the environment file and dist/<env>-delivery/, the delivery following the commit', () => {
    const made = writePromotion(repo, 'prod-gke', base, ['The lab applied it:', '- lab-to-prod-crds: Ready']);
    expect(made.commit).toBe(git(['rev-parse', 'HEAD']));
    expect(git(['rev-parse', 'HEAD~1'])).toBe(base);
    expect(git(['log', '-1', '--format=%B'])).toBe(
      `promote prod-gke to ${base.slice(0, 12)}\n\nThe lab applied it:\n- lab-to-prod-crds: Ready`,
    );
    const changed = git(['show', '--name-only', '--format=', 'HEAD']).split('\n');
    expect(changed).toContain('lib/environments/prod-gke.ts');
    expect(changed).toContain('dist/prod-gke-delivery/flux/lab-to-prod.yaml');
    expect(
      changed.filter((f) => f !== 'lib/environments/prod-gke.ts' && !f.startsWith('dist/prod-gke-delivery/')),
    ).toEqual([]);
    expect(show('HEAD', 'lib/environments/prod-gke.ts')).toContain(`    revision: '${base}',`);
    expect(show('HEAD', 'dist/prod-gke-delivery/flux/lab-to-prod.yaml')).toContain(`commit: ${base}`);
    // Nothing left behind: the working tree is the commit.
    expect(git(['status', '--porcelain'])).toBe('');
    // And the promoted tree is fresh: its own code renders it as committed.
    expect(() => checkRendersAtCommit(repo, 'prod-gke', made.commit)).not.toThrow();
  }, 120000);
});
