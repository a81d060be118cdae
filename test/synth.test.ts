import { execFileSync, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { environmentNames, ENVIRONMENTS } from '../lib/environments';
import { peopleGroupsByEnvironment } from '../lib/environments/people';
import { checkManifests } from '../lib/policy';
import { checkReadInputs, isAddonFile, readDist } from '../lib/policy/dist-inputs';
import { bootstrapFolder, deliveryFolder, renderEnvironment } from '../lib/synth/render';
import { SynthError, synthesize } from '../lib/synth/synth';
import { withChange } from './helpers';

const ROOT = path.resolve(__dirname, '..');

/** The folders a synth of every environment writes: one per environment, and each one's bootstrap files beside it if it has any. */
const distFolders = (): string[] =>
  Object.values(ENVIRONMENTS)
    .flatMap((env) => [
      ...(env.bootstrap ? [env.name, bootstrapFolder(env.name)] : [env.name]),
      deliveryFolder(env.name),
    ])
    .sort();

/** Every file under a folder, relative path → sha256, sorted. */
function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else {
        out[path.relative(dir, full)] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      }
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The folders this file made; removed when it is done. */
const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-synth-'));
  tempDirs.push(dir);
  return dir;
}

/** The real synth command, as `npm run synth` runs it. */
function runSynth(args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['bin/synth.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('the synth command', () => {
  test('writes dist/<env>/ for every environment, byte-identical across runs, time zones and locales', () => {
    const first = tempDir();
    const second = tempDir();
    expect(runSynth(['--outdir', first]).status).toBe(0);
    const again = runSynth(['--outdir', second], { TZ: 'Pacific/Chatham', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' });
    expect(again.status).toBe(0);
    expect(fs.readdirSync(first).sort()).toEqual(distFolders());
    expect(treeDigest(second)).toEqual(treeDigest(first));
  });

  test('--env writes only that environment and leaves the others alone', () => {
    const out = tempDir();
    fs.mkdirSync(path.join(out, 'prod-eks'));
    fs.writeFileSync(path.join(out, 'prod-eks', 'keep.yaml'), 'kept');
    const result = runSynth(['--outdir', out, '--env', 'lab']);
    expect(result.status).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['lab', 'lab-bootstrap', 'lab-delivery', 'prod-eks']);
    expect(fs.readFileSync(path.join(out, 'prod-eks', 'keep.yaml'), 'utf8')).toBe('kept');
  });

  test("the lab's node files go beside dist/lab/, and go away with the environment's bootstrap", () => {
    const out = tempDir();
    synthesize({ outdir: out, environments: [ENVIRONMENTS.lab] });
    expect(fs.readdirSync(out).sort()).toEqual(['lab', 'lab-bootstrap', 'lab-delivery']);
    expect(
      fs.readdirSync(path.join(out, 'lab')).filter((f) => fs.statSync(path.join(out, 'lab', f)).isDirectory()),
    ).toEqual([]);
    expect(fs.readdirSync(path.join(out, 'lab-bootstrap'))).toContain('kubeadm.yaml');
    synthesize({
      outdir: out,
      environments: [
        withChange(ENVIRONMENTS.lab, (e) => {
          delete e.bootstrap;
          // flannel routes the pod subnets kubeadm was given: a cluster nobody builds with kubeadm has its builder's CNI.
          delete e.addons.flannel;
        }),
      ],
    });
    expect(fs.readdirSync(out).sort()).toEqual(['lab', 'lab-delivery']);
  });

  test('an unknown environment fails, lists the valid ones, and leaves the output as it was', () => {
    const out = tempDir();
    expect(runSynth(['--outdir', out]).status).toBe(0);
    const before = treeDigest(out);
    const result = runSynth(['--outdir', out, '--env', 'staging']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `unknown environment "staging": valid environments are ${environmentNames().join(', ')}`,
    );
    expect(treeDigest(out)).toEqual(before);
  });

  test('cdk8s synth takes the same path and never empties the output folder first', () => {
    const out = tempDir();
    fs.mkdirSync(path.join(out, 'lab'));
    fs.writeFileSync(path.join(out, 'lab', 'stale.yaml'), 'stale');
    fs.writeFileSync(path.join(out, 'other.txt'), 'kept');
    const cli = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
    // As the README gives it: no upgrade check, which asks the npm registry for cdk8s-cli's latest
    // version and, offline, prints a stack trace and "A new version undefined".
    const result = spawnSync(process.execPath, [cli, 'synth', '--no-check-upgrade'], {
      cwd: ROOT,
      env: { ...process.env, LAB_TO_PROD_DIST: out },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const printed = `${result.stdout}${result.stderr}`;
    expect(printed).not.toMatch(/new version|http error|^\s+at /m);
    // One report: the validation plugin's (the app leaves it to the plugin), with the waived findings counted.
    expect(printed.split('\n').filter((line) => line.startsWith('policy: '))).toEqual([
      expect.stringMatching(/^policy: 0 error\(s\), 0 warning\(s\), \d+ waived/),
    ]);
    expect(printed).not.toContain('WAIVED');
    expect(fs.readFileSync(path.join(out, 'other.txt'), 'utf8')).toBe('kept');
    // The lab folder was replaced as a whole by the fresh one.
    expect(fs.existsSync(path.join(out, 'lab', 'stale.yaml'))).toBe(false);
    const fresh = tempDir();
    expect(runSynth(['--outdir', fresh]).status).toBe(0);
    expect(treeDigest(path.join(out, 'lab'))).toEqual(treeDigest(path.join(fresh, 'lab')));
  }, 60_000);
});

describe('a failing synth leaves the previous output byte-identical', () => {
  const prepared = (): { out: string; before: Record<string, string> } => {
    const out = tempDir();
    synthesize({ outdir: out });
    return { out, before: treeDigest(out) };
  };

  test('a validation error in one environment writes nothing, not even the environments that rendered', () => {
    const { out, before } = prepared();
    const broken = withChange(ENVIRONMENTS['prod-aks'], (e) => {
      e.scale.web = { requests: { cpu: '2' } };
    });
    expect(() => synthesize({ outdir: out, environments: [ENVIRONMENTS.lab, broken] })).toThrow(
      'environment "prod-aks": scale.web.requests.cpu: Invalid value: "2": at most the limit (500m)',
    );
    expect(treeDigest(out)).toEqual(before);
  });

  test('an exception inside a construct writes nothing', () => {
    const { out, before } = prepared();
    // A zone list that is not an array makes the construct code itself throw, not a validation.
    const broken = withChange(ENVIRONMENTS.lab, (e) => {
      e.loadBalancing.ipFamilies = null;
    });
    expect(() => synthesize({ outdir: out, environments: [broken] })).toThrow();
    expect(treeDigest(out)).toEqual(before);
  });

  /** What synthesize() threw, which must be a SynthError. */
  const synthError = (run: () => unknown): SynthError => {
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthError);
    return error as SynthError;
  };

  // A label value with a space passes the construct but not the API server's label syntax.
  const labelSyntaxBroken = () =>
    withChange(ENVIRONMENTS['prod-eks'], (e) => {
      e.observability.monitorSelectorLabels = { release: 'kube prometheus' };
    });

  test('a guardrail check that fails stops the synth with its report and writes nothing', () => {
    const { out, before } = prepared();
    const report = synthError(() =>
      synthesize({ outdir: out, environments: [ENVIRONMENTS.lab, labelSyntaxBroken()] }),
    ).message;
    expect(report).toContain('ERROR schema/label-syntax  [prod-eks] PrometheusRule/web/app-alerts');
    expect(report).toContain('field:     metadata.labels.release');
    expect(report).toContain('construct: prod-eks/platform/');
    expect(treeDigest(out)).toEqual(before);
  });

  test('every wrong environment is reported in one run, not only the first', () => {
    const { out, before } = prepared();
    const labBroken = withChange(ENVIRONMENTS.lab, (e) => {
      e.scale.web.requests.cpu = '3';
    });
    const aksBroken = withChange(ENVIRONMENTS['prod-aks'], (e) => {
      e.scale.web = { requests: { cpu: '2' } };
    });
    const error = synthError(() =>
      synthesize({ outdir: out, environments: [labBroken, ENVIRONMENTS['prod-gke'], aksBroken, labelSyntaxBroken()] }),
    );
    expect(error.failures.map((f) => f.environment)).toEqual(['lab', 'prod-aks']);
    // The environments that failed validation, and the guardrail errors of one that rendered.
    expect(error.message).toContain('environment "lab": scale.web.requests.cpu: Invalid value: "3"');
    expect(error.message).toContain('environment "prod-aks": scale.web.requests.cpu: Invalid value: "2"');
    expect(error.message).toContain('ERROR schema/label-syntax  [prod-eks]');
    expect(treeDigest(out)).toEqual(before);
  });

  test("an exception in one environment's construct does not hide another environment's errors", () => {
    const broken = withChange(ENVIRONMENTS.lab, (e) => {
      e.loadBalancing.ipFamilies = null;
    });
    const aksBroken = withChange(ENVIRONMENTS['prod-aks'], (e) => {
      e.scale.web = { requests: { cpu: '2' } };
    });
    const error = synthError(() => synthesize({ outdir: tempDir(), environments: [broken, aksBroken] }));
    expect(error.failures.map((f) => f.environment)).toEqual(['lab', 'prod-aks']);
    expect(error.message).toMatch(/^environment "lab": /);
  });

  test('a failed synth lists its errors and counts the waived findings; --verbose lists them after the errors', () => {
    const error = synthError(() =>
      synthesize({ outdir: tempDir(), environments: [ENVIRONMENTS.lab, labelSyntaxBroken()] }),
    );
    const waived = error.findings.filter((f) => f.waived).length;
    expect(waived).toBeGreaterThan(3);
    expect(error.message).not.toContain('WAIVED');
    expect(error.message).toMatch(new RegExp(`policy: \\d+ error\\(s\\), 0 warning\\(s\\), ${waived} waived`));
    const verbose = error.report(true);
    expect(verbose.split('\n').filter((line) => line.startsWith('WAIVED '))).toHaveLength(waived);
    expect(verbose.indexOf('ERROR schema/label-syntax')).toBeLessThan(verbose.indexOf('WAIVED '));
    expect(verbose.indexOf('ERROR schema/label-syntax')).toBe(0);
  });

  test('a failure while writing removes its staging folder and changes nothing', () => {
    const parent = tempDir();
    const out = path.join(parent, 'dist');
    // The output path is taken by a file, so the swap cannot happen after everything was staged.
    fs.writeFileSync(out, 'not a folder');
    expect(() => synthesize({ outdir: out })).toThrow(/EEXIST|ENOTDIR/);
    expect(fs.readdirSync(parent)).toEqual(['dist']);
    expect(fs.readFileSync(out, 'utf8')).toBe('not a folder');
  });
});

describe('the committed dist/', () => {
  test('equals a fresh synth of the code (stale YAML fails the build)', () => {
    for (const env of Object.values(ENVIRONMENTS)) {
      const { files, bootstrapFiles, deliveryFiles } = renderEnvironment(env);
      for (const [folder, rendered] of [
        [env.name, files],
        [bootstrapFolder(env.name), bootstrapFiles],
        [deliveryFolder(env.name), deliveryFiles],
      ] as const) {
        const dir = path.join(ROOT, 'dist', folder);
        const committed = fs.existsSync(dir) ? treeDigest(dir) : {};
        const fresh = Object.fromEntries(
          [...rendered].map(([file, text]) => [file, createHash('sha256').update(text).digest('hex')]),
        );
        expect({ folder, files: committed }).toEqual({ folder, files: fresh });
      }
    }
  });

  test('has every environment and, beside the lab, its bootstrap files', () => {
    expect(fs.readdirSync(path.join(ROOT, 'dist')).sort()).toEqual(distFolders());
  });

  test('holds under dist/<env>/ only what `kubectl apply -R -f dist/<env>/` accepts: objects of kinds the API server serves', () => {
    // kubectl reads every .yaml, .yml and .json file in the folder and its sub-folders; a kind no API
    // group serves (kubeadm's ClusterConfiguration) fails the whole apply. The guardrails' schemas
    // know the Kubernetes kinds of each environment's version and those of the CRDs it relies on.
    const inputs = readDist(path.join(ROOT, 'dist'));
    expect(new Set(inputs.map((i) => i.environment))).toEqual(new Set(Object.keys(ENVIRONMENTS)));
    // As deploy checks a folder: our objects by every rule, the add-ons' by the schema only.
    const findings = checkReadInputs(inputs, { peopleGroups: peopleGroupsByEnvironment(Object.values(ENVIRONMENTS)) });
    expect(findings.filter((f) => !f.waived).map((f) => `${f.environment} ${f.ruleId} ${f.kind} ${f.name}`)).toEqual(
      [],
    );
    // The add-ons' objects of a kind the checks have no schema for are served all the same: by a CRD
    // the same folder installs first, or by one of the API server's own groups the checks leave to it.
    const servedByTheServer = [
      'CustomResourceDefinition',
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
      'APIService',
    ];
    const addonInputs = inputs.filter((i) => isAddonFile(i.file));
    const definedByCrds = new Set(
      addonInputs
        .filter((i) => i.object.kind === 'CustomResourceDefinition')
        .map((i) => `${i.environment} ${i.object.spec.group} ${i.object.spec.names.kind}`),
    );
    const unserved = checkManifests(addonInputs)
      .filter((f) => f.ruleId === 'schema/unknown-kind')
      .filter((f) => {
        const object = addonInputs.find(
          (i) => i.environment === f.environment && i.object.kind === f.kind && i.object.metadata?.name === f.name,
        )!.object;
        const group = String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/')[0] : '';
        return !servedByTheServer.includes(f.kind) && !definedByCrds.has(`${f.environment} ${group} ${f.kind}`);
      })
      .map((f) => `${f.environment} ${f.kind} ${f.name}`);
    expect(unserved).toEqual([]);
  });

  test('git sees no difference between dist/ and a fresh synth', () => {
    // Catches what the test above cannot: files under dist/ that git does not track yet.
    const untracked = execFileSync('git', ['ls-files', '--others', '--exclude-standard', 'dist'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(untracked).toBe('');
  });
});
