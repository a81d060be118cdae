/**
 * `npm run lab-secrets` run as a user runs it, with the real kubectl and a kubeconfig made here whose
 * cluster is a closed port on loopback: the context guard decides before kubectl contacts anything.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

/** The folders this file made; removed when it is done. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig with one context per name, all pointing at a closed port, and a current context if given. */
function kubeconfig(contexts: string[], current?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-secrets-'));
  made.push(dir);
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'nowhere', cluster: { server: 'https://127.0.0.1:1' } }],
    users: [{ name: 'nobody', user: { token: 'not-a-token' } }],
    contexts: contexts.map((name) => ({ name, context: { cluster: 'nowhere', user: 'nobody' } })),
    ...(current !== undefined ? { 'current-context': current } : {}),
  }));
  return file;
}

function labSecrets(config: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['bin/tsrun.js', 'scripts/lab-secrets.ts', ...args], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, KUBECONFIG: config }, timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const withKubectl = hasKubectl ? describe : describe.skip;

withKubectl('npm run lab-secrets and the kubeconfig context', () => {
  test('a current context named for another environment is refused before anything is asked of it', () => {
    const result = labSecrets(kubeconfig(['prod-eks-admin'], 'prod-eks-admin'));
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'lab-secrets: refusing to create the lab\'s Secrets in the current context "prod-eks-admin": its name does not contain "lab". '
        + 'Switch to the lab cluster\'s context (kubectl config use-context <name>), or confirm this one: '
        + 'npm run lab-secrets -- --context prod-eks-admin\n',
    );
    expect(result.stdout).toBe('');
  }, 60_000);

  test('no current context is one clear line, not kubectl\'s connection errors', () => {
    const result = labSecrets(kubeconfig(['kubernetes-admin@lab']));
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('lab-secrets: the kubeconfig has no current context; name one with --context <name>\n');
  }, 60_000);

  test('a lab context, current or named with --context, is used for every call', () => {
    for (const [config, args] of [
      [kubeconfig(['kubernetes-admin@lab'], 'kubernetes-admin@lab'), []],
      [kubeconfig(['prod-eks-admin'], 'prod-eks-admin'), ['--context', 'prod-eks-admin']],
    ] as const) {
      const result = labSecrets(config, [...args]);
      // Past the guard: kubectl was asked, and the closed port answered.
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^cannot read secret [\w-]+\/[\w-]+: The connection to the server 127\.0\.0\.1:1 was refused/);
      // kubectl's client log lines are left out: they repeat that line.
      expect(result.stderr).not.toMatch(/memcache\.go|^E\d{4}/m);
    }
  }, 120_000);

  test('--dry-run contacts nothing and needs no context', () => {
    const result = labSecrets(kubeconfig([]), ['--dry-run']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^would create secret /m);
  }, 60_000);
});
