/**
 * The cluster guard of deploy, lab-secrets and lab-access, on kubeconfigs written here. The clusters
 * are CA certificates made here and a loopback port that counts connections: a refusal must come
 * before anything connects, an acceptance lets the command go on. The real kubectl reads the same
 * kubeconfigs, to show that the guard reads what kubectl will use.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXAMPLE_CA_CERT_HASH, Environment } from '../environment';
import { lab } from '../environments/lab';
import {
  caCertHashesOf,
  checkCluster,
  guardedContext,
  kubeconfigFiles,
  parseConfirmedHash,
  readClusterSeen,
  UsageError,
} from './context-guard';
import { countingPort, CountingPort, newCa, runCommand, temporaryFolder, writeKubeconfig } from './guard-test-fixtures';

const hasKubectl =
  spawnSync(process.env.KUBECTL || 'kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const withKubectl = hasKubectl ? describe : describe.skip;

const labCa = newCa('lab CA');
const prodCa = newCa('prod CA');
/** The lab as a user has recorded it: its cluster's CA hash in lib/environments/lab.ts. */
const recordedLab: Environment = { ...lab, cluster: { caCertHash: labCa.hash } };
const action = { doing: 'deploy "lab" to', rerun: 'npm run deploy -- --env lab' };
/** A context named like production's and containing "lab": the substring guard let it through. */
const COLLAB = 'gke_acme-prod_europe-west4_collab-prod';

describe('caCertHashesOf', () => {
  test("kubeadm's hash of each certificate's public key, in order", () => {
    expect(caCertHashesOf(labCa.pem)).toEqual([labCa.hash]);
    expect(caCertHashesOf(`${labCa.pem}${prodCa.pem}`)).toEqual([labCa.hash, prodCa.hash]);
    expect(caCertHashesOf('no certificate here')).toEqual([]);
  });
});

describe('parseConfirmedHash', () => {
  test("a hash in kubeadm's form, or nothing", () => {
    expect(parseConfirmedHash(labCa.hash)).toBe(labCa.hash);
    expect(parseConfirmedHash(undefined)).toBeUndefined();
  });
  test.each(['yes', labCa.hash.toUpperCase(), labCa.hash.slice(7), `${labCa.hash}0`])(
    '%s is refused, with the form',
    (value) => {
      expect(() => parseConfirmedHash(value)).toThrow(UsageError);
      expect(() => parseConfirmedHash(value)).toThrow(
        `--confirm-cluster: Invalid value: "${value}": "sha256:" and 64 lowercase hex digits`,
      );
    },
  );
});

describe('checkCluster', () => {
  const seen = (hashes: string[], context = 'kubernetes-admin@lab') => ({
    context,
    cluster: 'c',
    server: 'https://10.0.0.1:6443',
    caCertHashes: hashes,
  });

  test('exactly the recorded CA passes; the same CA twice in a bundle is still one', () => {
    expect(() => checkCluster(recordedLab, seen([labCa.hash]), undefined, action)).not.toThrow();
    expect(() => checkCluster(recordedLab, seen([labCa.hash, labCa.hash]), undefined, action)).not.toThrow();
  });

  test('another CA is refused with both identities, the line to record and the override', () => {
    expect(() => checkCluster(recordedLab, seen([prodCa.hash], COLLAB), undefined, action)).toThrow(
      `refusing to deploy "lab" to context "${COLLAB}" (cluster "c" at https://10.0.0.1:6443): it is not the lab cluster, ` +
        `CA ${labCa.hash} (cluster.caCertHash in lib/environments/lab.ts).\n` +
        `Its CA is ${prodCa.hash}.\n` +
        'If it is the lab cluster, record it in lib/environments/lab.ts:\n' +
        `  cluster: { caCertHash: '${prodCa.hash}' },\n` +
        `or confirm it for this run only: npm run deploy -- --env lab --context ${COLLAB} --confirm-cluster ${prodCa.hash}\n` +
        "Otherwise switch to the lab cluster's context (kubectl config use-context <name>) or name it with --context <name>.",
    );
  });

  test('a context name a shell would split is quoted in the line to run', () => {
    expect(() => checkCluster(recordedLab, seen([prodCa.hash], "ops' cluster"), undefined, action)).toThrow(
      `npm run deploy -- --env lab --context 'ops'\\'' cluster' --confirm-cluster ${prodCa.hash}\n`,
    );
  });

  test('the example value: says the cluster is not recorded yet, and prints the line', () => {
    expect(lab.cluster.caCertHash).toBe(EXAMPLE_CA_CERT_HASH);
    expect(() => checkCluster(lab, seen([labCa.hash]), undefined, action)).toThrow(
      /it is not the lab cluster, whose CA lib\/environments\/lab\.ts does not record yet \(cluster\.caCertHash is still the example value\)\.\n.*\n.*\n {2}cluster: \{ caCertHash: 'sha256:[0-9a-f]{64}' \},/,
    );
  });

  test('--confirm-cluster replaces the recorded hash for the run: the CA it names passes, any other is refused', () => {
    expect(() => checkCluster(lab, seen([labCa.hash]), labCa.hash, action)).not.toThrow();
    expect(() => checkCluster(recordedLab, seen([labCa.hash]), prodCa.hash, action)).toThrow(
      `it is not the cluster --confirm-cluster names, CA ${prodCa.hash}.\nIts CA is ${labCa.hash}.`,
    );
  });

  test('no CA, or a bundle of two CAs, cannot be recognised', () => {
    expect(() => checkCluster(recordedLab, seen([]), undefined, action)).toThrow(
      /gives that cluster no CA certificate/,
    );
    expect(() => checkCluster(recordedLab, seen([labCa.hash, prodCa.hash]), undefined, action)).toThrow(
      `Its CA data holds 2 different CAs (${labCa.hash}, ${prodCa.hash}), and kubectl trusts a server any of them signed`,
    );
  });
});

describe('guardedContext, on the kubeconfig', () => {
  const folder = temporaryFolder('context-guard-');
  const saved = process.env.KUBECONFIG;
  afterAll(() => {
    process.env.KUBECONFIG = saved;
    folder.remove();
  });
  /** Runs the guard against a kubeconfig of two clusters: lab (the lab's CA) and prod (another). */
  const guard = (
    contexts: Record<string, string>,
    current: string | undefined,
    explicit?: string,
    confirmed?: string,
  ): string => {
    process.env.KUBECONFIG = writeKubeconfig(
      folder.dir,
      {
        lab: { server: 'https://192.0.2.10:6443', caPem: labCa.pem },
        prod: { server: 'https://192.0.2.20:443', caPem: prodCa.pem },
      },
      contexts,
      current,
    );
    return guardedContext(recordedLab, explicit, confirmed, action);
  };

  test('a current context whose name contains "lab" but whose cluster is another is refused', () => {
    expect(() => guard({ [COLLAB]: 'prod' }, COLLAB)).toThrow(
      `refusing to deploy "lab" to context "${COLLAB}" (cluster "prod" at https://192.0.2.20:443): it is not the lab cluster, CA ${labCa.hash}`,
    );
  });

  test("a context with the lab's usual name pointing at another cluster is refused", () => {
    expect(() => guard({ 'kubernetes-admin@lab': 'prod' }, 'kubernetes-admin@lab')).toThrow(
      /^refusing to deploy "lab" to context "kubernetes-admin@lab" \(cluster "prod"/,
    );
  });

  test("a renamed context that points at the lab's cluster is accepted", () => {
    expect(guard({ 'prod-eu': 'lab' }, 'prod-eu')).toBe('prod-eu');
  });

  test('--context names a context, it does not vouch for it', () => {
    expect(() =>
      guard({ 'kubernetes-admin@lab': 'lab', 'prod-eks-admin': 'prod' }, 'kubernetes-admin@lab', 'prod-eks-admin'),
    ).toThrow(/^refusing to deploy "lab" to context "prod-eks-admin" \(cluster "prod"/);
    expect(guard({ 'kubernetes-admin@lab': 'prod', renamed: 'lab' }, 'kubernetes-admin@lab', 'renamed')).toBe(
      'renamed',
    );
  });

  test('--confirm-cluster with the hash seen accepts that cluster once', () => {
    expect(guard({ [COLLAB]: 'prod' }, COLLAB, undefined, prodCa.hash)).toBe(COLLAB);
  });

  test('a certificate-authority file is read like the data', () => {
    const caFile = path.join(folder.dir, 'ca.crt');
    fs.writeFileSync(caFile, labCa.pem);
    process.env.KUBECONFIG = writeKubeconfig(
      folder.dir,
      { lab: { server: 'https://192.0.2.10:6443', caFile } },
      { x: 'lab' },
      'x',
    );
    expect(guardedContext(recordedLab, undefined, undefined, action)).toBe('x');
  });

  test('no CA at all, no current context, or an unknown --context: refused with the reason', () => {
    process.env.KUBECONFIG = writeKubeconfig(
      folder.dir,
      { bare: { server: 'https://192.0.2.30:6443' } },
      { bare: 'bare' },
      'bare',
    );
    expect(() => guardedContext(recordedLab, undefined, undefined, action)).toThrow(
      /cluster "bare" at https:\/\/192\.0\.2\.30:6443\): .*\nThe kubeconfig gives that cluster no CA certificate/,
    );
    expect(() => guard({ x: 'lab' }, undefined)).toThrow(
      'the kubeconfig has no current context; name one with --context <name>',
    );
    expect(() => guard({ x: 'lab' }, 'x', 'nope')).toThrow(/^the kubeconfig \(.*\) has no context "nope"$/);
    process.env.KUBECONFIG = writeKubeconfig(
      folder.dir,
      { bare: { server: 'https://192.0.2.30:6443' } },
      { x: 'gone' },
      'x',
    );
    expect(() => guardedContext(recordedLab, undefined, undefined, action)).toThrow(
      'context "x" names cluster "gone", which the kubeconfig does not define',
    );
  });

  test('TLS verification turned off: no CA can say which cluster answers, so it is refused', () => {
    const file = writeKubeconfig(
      folder.dir,
      { lab: { server: 'https://192.0.2.10:6443', caPem: labCa.pem } },
      { x: 'lab' },
      'x',
    );
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.clusters[0].cluster['insecure-skip-tls-verify'] = true;
    fs.writeFileSync(file, JSON.stringify(config));
    process.env.KUBECONFIG = file;
    expect(() => guardedContext(recordedLab, undefined, undefined, action)).toThrow(
      /turns TLS verification off \(insecure-skip-tls-verify\)/,
    );
  });
});

describe('the kubeconfig files, merged as kubectl merges them', () => {
  const folder = temporaryFolder('context-guard-merge-');
  afterAll(() => folder.remove());

  test('$KUBECONFIG is a list; without it, ~/.kube/config', () => {
    expect(kubeconfigFiles({ KUBECONFIG: ['a', '', 'b', 'a'].join(path.delimiter) })).toEqual(['a', 'b']);
    expect(kubeconfigFiles({})).toEqual([path.join(os.homedir(), '.kube', 'config')]);
  });

  test('the first file that sets the current context or names a cluster wins; a missing file is skipped', () => {
    const first = writeKubeconfig(
      folder.dir,
      { shared: { server: 'https://192.0.2.10:6443', caPem: labCa.pem } },
      { mine: 'shared' },
      'mine',
    );
    const second = writeKubeconfig(
      folder.dir,
      { shared: { server: 'https://192.0.2.20:443', caPem: prodCa.pem } },
      { theirs: 'shared' },
      'theirs',
    );
    const seen = readClusterSeen(undefined, [path.join(folder.dir, 'missing'), first, second]);
    expect(seen).toEqual({
      context: 'mine',
      cluster: 'shared',
      server: 'https://192.0.2.10:6443',
      caCertHashes: [labCa.hash],
    });
    // A context of the second file, whose cluster name the first file already defines: the first file's cluster.
    expect(readClusterSeen('theirs', [first, second]).caCertHashes).toEqual([labCa.hash]);
  });

  test('a certificate-authority file is relative to the kubeconfig that names it', () => {
    const sub = path.join(folder.dir, 'sub');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'ca.crt'), prodCa.pem);
    const file = writeKubeconfig(sub, { c: { server: 'https://192.0.2.20:443', caFile: 'ca.crt' } }, { x: 'c' }, 'x');
    expect(readClusterSeen(undefined, [file]).caCertHashes).toEqual([prodCa.hash]);
  });
});

// The guard reads the files itself (it runs no kubectl, which may contact the server: context-guard.ts
// says why); kubectl, told the same context, must find the same cluster and CA. The servers are a closed
// port on loopback, so that a kubectl that asks the server first fails at once.
withKubectl('the guard and the real kubectl read the same cluster', () => {
  const folder = temporaryFolder('context-guard-kubectl-');
  afterAll(() => folder.remove());

  test.each([
    ['the current context', undefined],
    ['a context named with --context', 'other'],
  ])('%s, across two files and a relative CA file', (_, explicit) => {
    const sub = path.join(folder.dir, explicit ?? 'current');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'ca.crt'), prodCa.pem);
    const first = writeKubeconfig(
      sub,
      { a: { server: 'https://127.0.0.1:1', caPem: labCa.pem } },
      { main: 'a' },
      'main',
    );
    const second = writeKubeconfig(
      sub,
      {
        a: { server: 'https://127.0.0.1:2', caPem: prodCa.pem },
        b: { server: 'https://127.0.0.1:3', caFile: 'ca.crt' },
      },
      { other: 'b', main: 'b' },
      'other',
    );
    const files = [first, second];
    const view = spawnSync(
      process.env.KUBECTL || 'kubectl',
      ['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json', ...(explicit ? ['--context', explicit] : [])],
      { encoding: 'utf8', env: { ...process.env, KUBECONFIG: files.join(path.delimiter) } },
    );
    expect(view.stderr).toBe('');
    const config = JSON.parse(view.stdout);
    const seen = readClusterSeen(explicit, files);
    expect(seen.context).toBe(config['current-context']);
    expect(seen.cluster).toBe(config.clusters[0].name);
    expect(seen.server).toBe(config.clusters[0].cluster.server);
    expect(seen.caCertHashes).toEqual(
      caCertHashesOf(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8')),
    );
    expect(seen.caCertHashes).toEqual([explicit ? prodCa.hash : labCa.hash]);
  });
});

// Each command, run as a user runs it, against a kubeconfig whose server is a port counting connections.
withKubectl('deploy, lab-secrets and lab-access refuse another cluster before contacting it', () => {
  const folder = temporaryFolder('context-guard-commands-');
  let port: CountingPort;
  let refusedConfig: string;
  let acceptedConfig: string;
  beforeAll(async () => {
    port = await countingPort();
    // A context named for the lab's collaboration cluster in production, with production's CA.
    refusedConfig = writeKubeconfig(
      folder.dir,
      { prod: { server: port.server, caPem: prodCa.pem } },
      { [COLLAB]: 'prod' },
      COLLAB,
    );
    acceptedConfig = writeKubeconfig(
      folder.dir,
      { lab: { server: port.server, caPem: labCa.pem } },
      { renamed: 'lab' },
      'renamed',
    );
    fs.mkdirSync(path.join(folder.dir, 'lab'));
    fs.writeFileSync(
      path.join(folder.dir, 'lab', '05-platform.yaml'),
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n',
    );
  });
  afterAll(async () => {
    await port.close();
    folder.remove();
  });

  test.each([
    ['deploy.ts', ['--env', 'lab', '--from', 'FOLDER'], 'deploy "lab" to'],
    ['lab-secrets.ts', [], "create the lab's Secrets in"],
    [
      'lab-access.ts',
      ['--user', 'alice', '--group', 'web-viewers', '--out', 'FOLDER/alice.kubeconfig'],
      'ask for a lab certificate from',
    ],
  ])(
    '%s: exit 2, both clusters named, and no connection',
    async (script, args, doing) => {
      const before = port.connections();
      const result = await runCommand(
        script,
        args.map((a) => a.replace('FOLDER', path.join(folder.dir, 'lab'))),
        { KUBECONFIG: refusedConfig },
      );
      expect(result.stderr).toContain(
        `refusing to ${doing} context "${COLLAB}" (cluster "prod" at ${port.server}): it is not the lab cluster`,
      );
      expect(result.stderr).toContain(`Its CA is ${prodCa.hash}.`);
      // The refusal says all there is to say: no usage text after it.
      expect(result.stderr).not.toContain('usage:');
      expect(result.status).toBe(2);
      expect(port.connections()).toBe(before);
    },
    120_000,
  );

  test("the lab's cluster under another context name, confirmed by its hash, is contacted", async () => {
    const before = port.connections();
    const out = path.join(folder.dir, 'alice.kubeconfig');
    const result = await runCommand(
      'lab-access.ts',
      ['--user', 'alice', '--group', 'web-viewers', '--out', out, '--confirm-cluster', labCa.hash],
      { KUBECONFIG: acceptedConfig },
      undefined,
      port.nextConnection(),
    );
    // Past the guard: kubectl connected (and was stopped there).
    expect(result.stderr).not.toContain('refusing');
    expect(port.connections()).toBeGreaterThan(before);
  }, 120_000);
});
