import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { lockedPackages, readRenderedDir, renderAtCommit } from './git-ref';

test("a rendered output folder: each environment's objects; its bootstrap folder beside it is not an environment", () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'git-ref-'));
  fs.mkdirSync(path.join(out, 'lab'));
  fs.writeFileSync(
    path.join(out, 'lab', '05-platform.yaml'),
    'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n',
  );
  fs.mkdirSync(path.join(out, 'lab-bootstrap'));
  fs.writeFileSync(
    path.join(out, 'lab-bootstrap', 'kubeadm.yaml'),
    'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n',
  );
  try {
    expect(readRenderedDir(out)).toEqual(
      new Map([['lab', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } }]]]),
    );
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

describe('rendering another commit', () => {
  const repo = path.resolve(__dirname, '..', '..');
  const git = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    execFileSync('git', args, { cwd: repo, env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();

  /** A commit beside HEAD with some files replaced; no branch moves, the index and working tree are not touched. */
  function commitBesideHead(files: Record<string, string>): string {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'git-ref-index-'));
    const env = { ...process.env, GIT_INDEX_FILE: path.join(scratch, 'index') };
    try {
      git(['read-tree', 'HEAD'], env);
      for (const [file, text] of Object.entries(files)) {
        const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], {
          cwd: repo,
          input: text,
          encoding: 'utf8',
        }).trim();
        git(['update-index', '--cacheinfo', `100644,${blob},${file}`], env);
      }
      const tree = git(['write-tree'], env);
      return git(
        [
          '-c',
          'user.name=test',
          '-c',
          'user.email=test@example.invalid',
          'commit-tree',
          tree,
          '-p',
          'HEAD',
          '-m',
          'test',
        ],
        env,
      );
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }

  /** As an older commit with other dependencies: its package-lock.json locks one package more. */
  function commitWithOtherPackages(): string {
    const lock = JSON.parse(git(['show', 'HEAD:package-lock.json']));
    lock.packages['node_modules/lab-to-prod-not-a-package'] = { version: '1.0.0', dev: true };
    return commitBesideHead({ 'package-lock.json': JSON.stringify(lock, null, 2) });
  }

  test("a lock file that differs only in the project's own entry locks the same packages; one more package does not", () => {
    const lock = {
      name: 'p',
      version: '1.0.0',
      packages: { '': { version: '1.0.0' }, 'node_modules/a': { version: '2.0.0' } },
    };
    const bumped = { ...lock, version: '1.1.0', packages: { ...lock.packages, '': { version: '1.1.0' } } };
    const more = { ...lock, packages: { ...lock.packages, 'node_modules/b': { version: '1.0.0' } } };
    expect(lockedPackages(JSON.stringify(bumped))).toBe(lockedPackages(JSON.stringify(lock)));
    expect(lockedPackages(JSON.stringify(more))).not.toBe(lockedPackages(JSON.stringify(lock)));
    expect(lockedPackages(undefined)).toBeUndefined();
    expect(lockedPackages('not json')).toBeUndefined();
    // A lock file of npm 6 and before has no `packages`: not comparable, so the commit gets its own install.
    expect(lockedPackages(JSON.stringify({ lockfileVersion: 1, dependencies: {} }))).toBeUndefined();
  });

  test('a commit that locks other packages gets its own npm ci; where npm cannot install them, npm run diff says so and what to do', () => {
    const commit = commitWithOtherPackages();
    const npmCache = fs.mkdtempSync(path.join(os.tmpdir(), 'git-ref-npm-cache-'));
    try {
      // An offline machine for real: npm may use only its cache, and the cache is empty.
      const run = spawnSync(process.execPath, ['speed/tsrun.js', 'lib/commands/diff.ts', commit], {
        cwd: repo,
        encoding: 'utf8',
        env: { ...process.env, npm_config_offline: 'true', npm_config_cache: npmCache },
      });
      const short = commit.slice(0, 12);
      expect(run.stderr).toMatch(
        new RegExp(
          `^diff: ${short} locks other packages than this checkout: installing them in its worktree \\(npm ci\\)\n` +
            `diff failed: ${short} needs its own packages \\(its package-lock.json names other ones than this checkout's\\), ` +
            'and `npm ci` in its temporary worktree failed:\n(.|\n)*ENOTCACHED(.|\n)*' +
            `git worktree add <folder> ${short}, then in <folder>: npm ci && npm run synth -- --outdir <output folder>\n$`,
        ),
      );
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.status).toBe(1);
    } finally {
      fs.rmSync(npmCache, { recursive: true, force: true });
    }
    // The temporary worktree is gone (this commit's: other tests may have a worktree of their own now).
    expect(git(['worktree', 'list', '--porcelain'])).not.toContain(`HEAD ${commit}`);
  }, 120000);

  test('a commit that locks the same packages shares node_modules; a package missing from it is named, with the fix', () => {
    const commit = commitBesideHead({
      'main.ts': `import 'lab-to-prod-not-a-package';\n${git(['show', 'HEAD:main.ts'])}\n`,
    });
    expect(() => renderAtCommit(repo, commit)).toThrow(
      `the synth of ${commit.slice(0, 12)} needs the package "lab-to-prod-not-a-package", ` +
        'which is not in node_modules here; run `npm ci` (node_modules is older than package-lock.json) and diff again',
    );
    expect(git(['worktree', 'list', '--porcelain'])).not.toContain(`HEAD ${commit}`);
  }, 120000);
});
