/**
 * `npm run lab-access -- --user <name> --group <group>`: signs a person in to the lab with a client
 * certificate the cluster's own CA signs, and writes a kubeconfig for them (lib/commands/lab-access-steps.ts
 * has the pure half and says why). With the real kubectl, against the current kubeconfig context or the
 * one --context names, whose cluster's CA must be the one lib/environments/lab.ts records (the same
 * guard as `npm run deploy`: lib/commands/context-guard.ts).
 *
 *   1. A P-256 key pair is made here. Only the CSR (the public key, the user, the groups) is sent.
 *   2. `kubectl create` a CertificateSigningRequest for the signer kubernetes.io/kube-apiserver-client.
 *   3. `kubectl certificate approve` it. Approving needs RBAC on certificatesigningrequests/approval and
 *      the signer; a caller without them is told who must run that command, and this waits (--wait).
 *   4. Once kube-controller-manager has signed it, the certificate is checked (our key, our names) and
 *      written with the key into the kubeconfig, mode 0600. Nothing secret is printed.
 * The cluster tests (test/cluster/access_test.go) run this very command against a real API server.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { lab } from '../environments/lab';
import {
  certificateSigningRequest,
  checkIssuedCertificate,
  clusterOf,
  csrManifest,
  csrName,
  LAB_ACCESS_USAGE,
  LabAccessOptions,
  LabAccessUsageError,
  newKeyPair,
  parseLabAccessArgs,
  userKubeconfig,
} from './lab-access-steps';
import { ClusterRefused, guardedContext, UsageError } from './context-guard';

interface Result {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function kubectlRunner(context: string | undefined): (args: string[], input?: string) => Result {
  const bin = process.env.KUBECTL || 'kubectl';
  return (args, input) => {
    const full = context === undefined ? args : ['--context', context, ...args];
    const result = spawnSync(bin, full, { input, encoding: 'utf8' });
    if (result.error) {
      throw new Error(`cannot run ${bin}: ${result.error.message}`);
    }
    return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
  };
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Polls the CSR until it carries a certificate, is denied or failed, or the wait is over. */
function awaitCertificate(kubectl: ReturnType<typeof kubectlRunner>, name: string, waitSeconds: number): string {
  const deadline = Date.now() + Math.max(waitSeconds, 30) * 1000;
  for (;;) {
    const got = kubectl(['get', 'certificatesigningrequest', name, '-o', 'json']);
    if (got.status !== 0) {
      throw new Error(`reading CertificateSigningRequest ${name} failed: ${got.stderr.trim()}`);
    }
    const csr = JSON.parse(got.stdout) as {
      status?: { certificate?: string; conditions?: { type: string; message?: string; reason?: string }[] };
    };
    const status = csr.status ?? {};
    const ended = (status.conditions ?? []).find((c) => c.type === 'Denied' || c.type === 'Failed');
    if (ended) {
      throw new Error(
        `CertificateSigningRequest ${name} was ${ended.type.toLowerCase()}: ${ended.message ?? ended.reason ?? 'no reason given'}`,
      );
    }
    if (status.certificate) {
      return Buffer.from(status.certificate, 'base64').toString('utf8');
    }
    if (Date.now() > deadline) {
      throw new Error(
        `CertificateSigningRequest ${name} has no certificate after ${waitSeconds}s: ` +
          `someone allowed to must run \`kubectl certificate approve ${name}\`; then run this command again`,
      );
    }
    sleep(1000);
  }
}

export function labAccess(options: LabAccessOptions, log: (line: string) => void = console.log): number {
  if (fs.existsSync(options.out) && !options.force) {
    throw new LabAccessUsageError(`${options.out} exists; name another file with --out, or replace it with --force`);
  }
  const rerun = `npm run lab-access -- --user ${options.user} ${options.groups.map((g) => `--group ${g}`).join(' ')}`;
  const context = guardedContext(lab, options.context, options.confirmCluster, {
    doing: 'ask for a lab certificate from',
    rerun,
  });
  const kubectl = kubectlRunner(context);
  const view = kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json']);
  if (view.status !== 0) {
    throw new Error(`reading the kubeconfig of context "${context}" failed: ${view.stderr.trim()}`);
  }
  const cluster = clusterOf(view.stdout);

  // 1-2. The key stays in this process; the cluster gets the CSR.
  const { publicKey, privateKey } = newKeyPair();
  const name = csrName(options.user, publicKey);
  const manifest = csrManifest(
    name,
    certificateSigningRequest(options.user, options.groups, publicKey, privateKey),
    options.days,
  );
  const created = kubectl(['create', '-f', '-', '-o', 'name'], JSON.stringify(manifest));
  if (created.status !== 0) {
    throw new Error(`creating CertificateSigningRequest ${name} failed: ${created.stderr.trim()}`);
  }
  log(
    `lab-access: asked context "${context}" to sign CN=${options.user}, O=${options.groups.join(', O=')} for ${options.days} day(s): ` +
      `CertificateSigningRequest ${name}`,
  );

  // 3. Approve, if the caller may.
  const approved = kubectl(['certificate', 'approve', name]);
  if (approved.status === 0) {
    log('lab-access: approved (you may approve requests for this signer)');
  } else if (/forbidden/i.test(approved.stderr)) {
    log(
      `lab-access: you may not approve it yourself; someone who may must run: kubectl certificate approve ${name} ` +
        `(waiting up to ${options.waitSeconds}s)`,
    );
  } else {
    throw new Error(`approving ${name} failed: ${approved.stderr.trim()}`);
  }

  // 4. The signed certificate, checked, and the kubeconfig.
  const certPem = awaitCertificate(kubectl, name, options.waitSeconds);
  const expires = checkIssuedCertificate(certPem, options.user, options.groups, publicKey);
  fs.mkdirSync(path.dirname(path.resolve(options.out)), { recursive: true });
  const partial = `${options.out}.partial-${process.pid}`;
  fs.writeFileSync(partial, userKubeconfig(cluster, options.user, certPem, privateKey), { mode: 0o600 });
  fs.renameSync(partial, options.out);
  log(
    `lab-access: wrote ${options.out} (mode 0600): user ${options.user}, groups ${options.groups.join(', ')}, ` +
      `valid until ${expires.toISOString()}. Try: KUBECONFIG=${options.out} kubectl auth whoami`,
  );
  return 0;
}

export function main(argv: readonly string[]): number {
  try {
    const options = parseLabAccessArgs(argv, lab);
    if (options === 'help') {
      console.log(LAB_ACCESS_USAGE);
      return 0;
    }
    return labAccess(options);
  } catch (e) {
    if (e instanceof ClusterRefused) {
      console.error(`lab-access: ${e.message}`);
      return 2;
    }
    if (e instanceof LabAccessUsageError || e instanceof UsageError) {
      console.error(`lab-access: ${e.message}\n\n${LAB_ACCESS_USAGE}`);
      return 2;
    }
    console.error(`lab-access: ${(e as Error).message}`);
    return 1;
  }
}

// Run when started as a program (node speed/tsrun.js lib/commands/lab-access.ts), not when imported by a test.
if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  process.exit(main(process.argv.slice(2)));
}
