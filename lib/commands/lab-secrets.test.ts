/**
 * `npm run lab-secrets` run as a user runs it, with the real kubectl and a kubeconfig made here whose
 * cluster is a closed port on loopback, with a CA made here: the cluster guard decides before kubectl
 * contacts anything (lib/commands/context-guard.test.ts shows that nothing connects when it refuses).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { newCa } from './guard-test-fixtures';

const ROOT = path.resolve(__dirname, '..', '..');

/** The folders this file made; removed when it is done. */
const made: string[] = [];
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** The cluster's CA: the lab's environment file does not record it (an example value), so the tests confirm it with --confirm-cluster. */
const ca = newCa('lab CA');

/** A kubeconfig with one context per name, all pointing at a closed port with the CA above, and a current context if given. */
function kubeconfig(contexts: string[], current?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-secrets-'));
  made.push(dir);
  const file = path.join(dir, 'config');
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'nowhere',
          cluster: {
            server: 'https://127.0.0.1:1',
            'certificate-authority-data': Buffer.from(ca.pem).toString('base64'),
          },
        },
      ],
      users: [{ name: 'nobody', user: { token: 'not-a-token' } }],
      contexts: contexts.map((name) => ({ name, context: { cluster: 'nowhere', user: 'nobody' } })),
      ...(current !== undefined ? { 'current-context': current } : {}),
    }),
  );
  return file;
}

function labSecrets(config: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['speed/tsrun.js', 'lib/commands/lab-secrets.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: config },
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const withKubectl = hasKubectl ? describe : describe.skip;

withKubectl('npm run lab-secrets and the kubeconfig context', () => {
  test('a cluster whose CA the lab does not record is refused before anything is asked of it, with the way out', () => {
    const result = labSecrets(kubeconfig(['kubernetes-admin@lab'], 'kubernetes-admin@lab'));
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(
      'lab-secrets: refusing to create the lab\'s Secrets in context "kubernetes-admin@lab" (cluster "nowhere" at https://127.0.0.1:1): ' +
        'it is not the lab cluster, whose CA lib/environments/lab.ts does not record yet (cluster.caCertHash is still the example value).\n' +
        `Its CA is ${ca.hash}.\n` +
        'If it is the lab cluster, record it in lib/environments/lab.ts:\n' +
        `  cluster: { caCertHash: '${ca.hash}' },\n` +
        `or confirm it for this run only: npm run lab-secrets -- --context kubernetes-admin@lab --confirm-cluster ${ca.hash}\n` +
        "Otherwise switch to the lab cluster's context (kubectl config use-context <name>) or name it with --context <name>.\n",
    );
    expect(result.stdout).toBe('');
  }, 60_000);

  test('a --confirm-cluster that is not a hash is refused as a command-line mistake, with the usage', () => {
    const result = labSecrets(kubeconfig(['x'], 'x'), ['--confirm-cluster', 'yes']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage: npm run lab-secrets');
    expect(result.stderr).toMatch(
      /^lab-secrets: --confirm-cluster: Invalid value: "yes": "sha256:" and 64 lowercase hex digits/,
    );
  }, 60_000);

  test("no current context is one clear line, not kubectl's connection errors", () => {
    const result = labSecrets(kubeconfig(['kubernetes-admin@lab']));
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('lab-secrets: the kubeconfig has no current context; name one with --context <name>\n');
  }, 60_000);

  test("the lab's cluster, by the current context or --context, is used for every call", () => {
    for (const [config, args] of [
      [kubeconfig(['kubernetes-admin@lab'], 'kubernetes-admin@lab'), []],
      [kubeconfig(['kubernetes-admin@lab', 'renamed'], 'kubernetes-admin@lab'), ['--context', 'renamed']],
    ] as const) {
      const result = labSecrets(config, [...args, '--confirm-cluster', ca.hash]);
      // Past the guard: kubectl was asked, and the closed port answered.
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /^cannot read secret [\w-]+\/[\w-]+: The connection to the server 127\.0\.0\.1:1 was refused/,
      );
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
