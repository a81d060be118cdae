/**
 * An environment's `delivery`: each bad input the synth refuses (settings of an engine the
 * environment does not run, or none for the one it does; an interval below Flux's floor or of a form
 * Flux refuses; a revision that is neither "tip", "unpromoted" nor a commit; production following the
 * tip; a repository that is no https:// or ssh:// URL; a branch or commit git does not have), each on
 * its field, naming the environment, the value and what is allowed. The git rules run against real
 * repositories made here with the real git.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ENVIRONMENTS } from '.';
import { withChange } from '../../test/helpers';
import { ADDONS } from '../addons';
import { ValidationError } from '../k8s/validation';
import { WORKLOADS } from '../workloads';
import { validateEnvironment } from './validate';
import { checkDeliveryInGit, durationSeconds } from './validate-delivery';

const { lab, 'prod-eks': eks, 'prod-gke': gke } = ENVIRONMENTS;

/** Every problem validateEnvironment reports, one a line. */
function problemsOf(env: unknown): string[] {
  try {
    validateEnvironment(env, { workloads: WORKLOADS, addons: ADDONS });
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).message.split('\n');
  }
  return [];
}

test('every environment validates with its delivery', () => {
  for (const env of Object.values(ENVIRONMENTS)) {
    expect(problemsOf(env)).toEqual([]);
  }
});

test('the lab follows the tip through Flux; production starts unpromoted, where only the reconciler writes', () => {
  expect(lab.delivery).toMatchObject({ engine: 'flux', branch: 'main', revision: 'tip', reconcilerOnly: false });
  expect(lab.delivery.flux).toEqual({ namespace: 'flux-system', pollInterval: '1m', reconcileInterval: '10m' });
  for (const name of ['prod-eks', 'prod-gke', 'prod-aks']) {
    expect(ENVIRONMENTS[name].delivery).toMatchObject({ revision: 'unpromoted', reconcilerOnly: true });
  }
  expect(eks.delivery).toMatchObject({ engine: 'argocd', argocd: { namespace: 'argocd', project: 'lab-to-prod' } });
  expect(gke.delivery.engine).toBe('flux');
});

test('each environment file has exactly one revision line, the one npm run promote rewrites', () => {
  for (const name of Object.keys(ENVIRONMENTS)) {
    const text = fs.readFileSync(path.join(__dirname, `${name}.ts`), 'utf8');
    expect({ name, lines: text.match(/^(\s*)revision: '(tip|unpromoted|[0-9a-f]{40})',$/gm)?.length }).toEqual({
      name,
      lines: 1,
    });
  }
});

describe('the engine and its settings', () => {
  test("Flux's settings in an environment delivered by Argo CD are refused", () => {
    const env = withChange(eks, (e) => {
      e.delivery.flux = { namespace: 'flux-system', pollInterval: '1m', reconcileInterval: '10m' };
    });
    expect(problemsOf(env)).toEqual([
      'environment "prod-eks": delivery.flux: Invalid value: {"namespace":"flux-system","pollInterval":"1m","reconcileInterval":"10m"}: ' +
        'no flux settings: the environment\'s delivery.engine is "argocd", whose settings are delivery.argocd; remove this block or change the engine',
    ]);
  });

  test("Argo CD's settings in an environment delivered by Flux are refused", () => {
    const env = withChange(lab, (e) => {
      e.delivery.argocd = { namespace: 'argocd', project: 'lab-to-prod' };
    });
    expect(problemsOf(env)).toEqual([
      'environment "lab": delivery.argocd: Invalid value: {"namespace":"argocd","project":"lab-to-prod"}: ' +
        'no argocd settings: the environment\'s delivery.engine is "flux", whose settings are delivery.flux; remove this block or change the engine',
    ]);
  });

  test("an engine without its settings block is refused, with the block's shape", () => {
    const flux = withChange(lab, (e) => {
      delete e.delivery.flux;
    });
    expect(problemsOf(flux)).toEqual([
      `environment "lab": delivery.flux: Required value: the settings of the engine "flux" (delivery.engine): { namespace: 'flux-system', pollInterval: '1m', reconcileInterval: '10m' }`,
    ]);
    const argocd = withChange(eks, (e) => {
      delete e.delivery.argocd;
    });
    expect(problemsOf(argocd)).toEqual([
      `environment "prod-eks": delivery.argocd: Required value: the settings of the engine "argocd" (delivery.engine): { namespace: 'argocd', project: 'lab-to-prod' }`,
    ]);
  });

  test('an engine that is neither Flux nor Argo CD is refused', () => {
    const env = withChange(lab, (e) => {
      e.delivery.engine = 'config-sync';
    });
    expect(problemsOf(env)).toEqual([
      'environment "lab": delivery.engine: Unsupported value: "config-sync": supported values: "flux", "argocd"',
    ]);
  });
});

describe("Flux's intervals", () => {
  test('an interval below one minute is refused, each naming its field', () => {
    const env = withChange(lab, (e) => {
      e.delivery.flux.pollInterval = '30s';
      e.delivery.flux.reconcileInterval = '59s999ms';
    });
    const floor =
      'at least "1m" (60 seconds): Flux documents 60 seconds as a Kustomization\'s least interval, ' +
      'and a GitRepository polled more often only loads the git host (lib/environments/validate-delivery.ts)';
    expect(problemsOf(env)).toEqual([
      `environment "lab": delivery.flux.pollInterval: Invalid value: "30s": ${floor}`,
      `environment "lab": delivery.flux.reconcileInterval: Invalid value: "59s999ms": ${floor}`,
    ]);
  });

  test('an interval of a form Flux refuses is refused with the form it takes', () => {
    const env = withChange(lab, (e) => {
      e.delivery.flux.pollInterval = '1 minute';
      e.delivery.flux.reconcileInterval = '10';
    });
    const form = 'a duration of whole or decimal numbers with ms, s, m or h, e.g. "1m", "10m", "1h30m"';
    expect(problemsOf(env)).toEqual([
      `environment "lab": delivery.flux.pollInterval: Invalid value: "1 minute": ${form}`,
      `environment "lab": delivery.flux.reconcileInterval: Invalid value: "10": ${form}`,
    ]);
  });

  test('durations are read as Go reads them', () => {
    expect(durationSeconds('1m')).toBe(60);
    expect(durationSeconds('1m30s')).toBe(90);
    expect(durationSeconds('1.5h')).toBe(5400);
    expect(durationSeconds('500ms')).toBe(0.5);
    expect(durationSeconds('1 m')).toBeUndefined();
  });

  test('one minute and more is accepted', () => {
    const env = withChange(lab, (e) => {
      e.delivery.flux.pollInterval = '60s';
      e.delivery.flux.reconcileInterval = '1h';
    });
    expect(problemsOf(env)).toEqual([]);
  });
});

describe('the revision', () => {
  const rule =
    '"tip" (the branch\'s newest commit), "unpromoted" (nothing applied until the first promotion) or ' +
    'a commit of the branch: 40 lowercase hex digits, as `npm run promote` writes it';

  test('a revision that is neither tip, unpromoted nor a full lowercase commit id is refused', () => {
    for (const revision of ['v1.2.3', 'main', 'a'.repeat(39), 'A'.repeat(40), `${'a'.repeat(40)} `]) {
      const env = withChange(eks, (e) => {
        e.delivery.revision = revision;
      });
      expect(problemsOf(env)).toEqual([
        `environment "prod-eks": delivery.revision: Invalid value: ${JSON.stringify(revision)}: ${rule}`,
      ]);
    }
  });

  test("production (only the reconciler writes) following the branch's tip is refused", () => {
    const env = withChange(gke, (e) => {
      e.delivery.revision = 'tip';
    });
    expect(problemsOf(env)).toEqual([
      'environment "prod-gke": delivery.revision: Invalid value: "tip": "unpromoted" or a promoted commit, not "tip": ' +
        'delivery.reconcilerOnly is true (production), and production applies only a commit the lab has run ' +
        "(npm run promote writes it), never the branch's newest",
    ]);
  });

  test("a promoted commit id is accepted by its form (git decides whether it is the branch's)", () => {
    const env = withChange(gke, (e) => {
      e.delivery.revision = 'b'.repeat(40);
    });
    expect(problemsOf(env)).toEqual([]);
  });
});

describe('the repository and the branch', () => {
  test('a repository that is no https:// or ssh:// URL is refused', () => {
    for (const repository of [
      'git@git.example.com:platform/lab-to-prod.git',
      'http://git.example.com/x.git',
      'https://',
    ]) {
      const env = withChange(lab, (e) => {
        e.delivery.repository = repository;
      });
      expect(problemsOf(env)).toEqual([
        `environment "lab": delivery.repository: Invalid value: ${JSON.stringify(repository)}: ` +
          'the https:// or ssh:// URL of a git repository, e.g. "https://git.example.com/platform/lab-to-prod.git"',
      ]);
    }
    const ssh = withChange(lab, (e) => {
      e.delivery.repository = 'ssh://git@git.example.com/platform/lab-to-prod.git';
    });
    expect(problemsOf(ssh)).toEqual([]);
  });

  test('a branch name git would refuse is refused', () => {
    for (const branch of ['feature..x', '-main', 'main/', 'a b', 'x.lock', '.hidden', '']) {
      const env = withChange(lab, (e) => {
        e.delivery.branch = branch;
      });
      expect(problemsOf(env)).toEqual([
        `environment "lab": delivery.branch: Invalid value: ${JSON.stringify(branch)}: a git branch name, e.g. "main" (the rules of git check-ref-format --branch)`,
      ]);
    }
  });
});

describe('the branch and the commit against git', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  const git = (dir: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-C', dir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();

  /** A repository with `main` (two commits) and `topic`, a branch off main's first commit with a commit of its own. */
  function repository(): { dir: string; first: string; second: string; topic: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-git-'));
    dirs.push(dir);
    git(dir, 'init', '--quiet', '--initial-branch=main');
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', 'first');
    const first = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', 'second');
    const second = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'checkout', '--quiet', '-b', 'topic', first);
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', 'not reviewed');
    const topic = git(dir, 'rev-parse', 'HEAD');
    git(dir, 'checkout', '--quiet', 'main');
    return { dir, first, second, topic };
  }
  const promoted = (revision: string, branch = 'main') =>
    withChange(gke, (e) => {
      e.delivery.revision = revision;
      e.delivery.branch = branch;
    });

  test("the branch's commits are accepted, at the tip or older; so are the tip and unpromoted", () => {
    const repo = repository();
    expect(checkDeliveryInGit(promoted(repo.first), repo.dir)).toEqual({ problems: [] });
    expect(checkDeliveryInGit(promoted(repo.second), repo.dir)).toEqual({ problems: [] });
    expect(checkDeliveryInGit(lab, repo.dir)).toEqual({ problems: [] });
    expect(checkDeliveryInGit(gke, repo.dir)).toEqual({ problems: [] });
  });

  test('a branch the repository does not have is refused, with the branches it has', () => {
    const repo = repository();
    expect(checkDeliveryInGit(promoted('unpromoted', 'release'), repo.dir).problems).toEqual([
      {
        where: 'environment "prod-gke"',
        field: 'delivery.branch',
        value: 'release',
        allowed: 'a branch of this git repository (it has "main", "topic"), the one reviewed commits land on',
      },
    ]);
  });

  test('a remote-tracking branch counts as the branch (a clone that never checked it out)', () => {
    const repo = repository();
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-clone-'));
    dirs.push(clone);
    execFileSync('git', ['clone', '--quiet', '--branch', 'topic', repo.dir, clone], { stdio: 'ignore' });
    expect(checkDeliveryInGit(promoted(repo.second), clone)).toEqual({ problems: [] });
  });

  test('a commit the repository does not have is refused', () => {
    const repo = repository();
    const missing = 'c'.repeat(40);
    expect(checkDeliveryInGit(promoted(missing), repo.dir).problems).toEqual([
      {
        where: 'environment "prod-gke"',
        field: 'delivery.revision',
        value: missing,
        allowed:
          'a commit of this git repository\'s branch "main" (none has this id here: fetch it, or promote another with npm run promote)',
      },
    ]);
  });

  test("a commit that is not in the branch's history is refused", () => {
    const repo = repository();
    expect(checkDeliveryInGit(promoted(repo.topic), repo.dir).problems).toEqual([
      {
        where: 'environment "prod-gke"',
        field: 'delivery.revision',
        value: repo.topic,
        allowed:
          'a commit of the branch "main" (delivery.branch): this commit is not in its history, so it was never reviewed onto it',
      },
    ]);
  });

  test('outside a git repository, and in a shallow clone, nothing is checked and it says why', () => {
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-plain-'));
    dirs.push(plain);
    expect(checkDeliveryInGit(promoted('c'.repeat(40)), plain)).toEqual({
      problems: [],
      notChecked: `${plain} is not in a git repository`,
    });
    const repo = repository();
    const shallow = fs.mkdtempSync(path.join(os.tmpdir(), 'delivery-shallow-'));
    dirs.push(shallow);
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, shallow], { stdio: 'ignore' });
    expect(checkDeliveryInGit(promoted(repo.first), shallow)).toEqual({
      problems: [],
      notChecked: 'the repository is a shallow clone, without the history to look in',
    });
  });
});
