/**
 * `npm run lab-secrets [-- --context <ctx>] [--replace] [--dry-run]`: creates the lab's Secrets in
 * the cluster from random values, with the real kubectl. The lab has no secret manager, and no secret
 * value may be in dist/, so the Secrets the lab's workloads declare (lib/platform/secrets.ts) are made
 * here instead, after `kubectl apply -f dist/lab/00-platform.yaml` has created their namespaces.
 * Prints names and keys only. An existing Secret is kept unless --replace is given.
 */
import { spawnSync } from 'child_process';
import { App } from 'cdk8s';
import { buildEnvironment } from '../lib/app';
import { lab } from '../lib/environments/lab';
import {
  describeOutcome, existsArgs, LAB_SECRETS_USAGE, parseLabSecretsArgs, randomSecretValue, redact, secretManifest, writeArgs,
} from '../lib/platform/lab-secrets';
import { declaredSecrets } from '../lib/platform/secrets';

function kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync('kubectl', args, { input, encoding: 'utf8' });
  if (result.error) {
    throw new Error(`could not run kubectl: ${result.error.message}`);
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

function main(): number {
  const options = parseLabSecretsArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(LAB_SECRETS_USAGE);
    return 0;
  }
  const secrets = declaredSecrets(buildEnvironment(new App({ outdir: 'unused' }), lab));
  if (secrets.length === 0) {
    console.log('the lab declares no Secrets');
    return 0;
  }
  let failures = 0;
  for (const secret of secrets) {
    if (options.dryRun) {
      console.log(describeOutcome(secret, 'would-create'));
      continue;
    }
    const found = kubectl(existsArgs(options, secret));
    if (found.status !== 0) {
      console.error(`cannot read secret ${secret.namespace}/${secret.name}: ${found.stderr.trim()}`);
      failures++;
      continue;
    }
    const exists = found.stdout.trim() !== '';
    if (exists && !options.replace) {
      console.log(describeOutcome(secret, 'kept'));
      continue;
    }
    const values = new Map(secret.keys.map((key) => [key, randomSecretValue()]));
    const written = kubectl(writeArgs(options, exists), secretManifest(secret, (key) => values.get(key)!));
    if (written.status !== 0) {
      console.error(`cannot write secret ${secret.namespace}/${secret.name}: ${redact(written.stderr, [...values.values()]).trim()}`);
      failures++;
      continue;
    }
    console.log(describeOutcome(secret, exists ? 'replaced' : 'created'));
  }
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
