/**
 * `npm run lab-secrets [-- --context <ctx>] [--replace] [--dry-run]`: creates the lab's Secrets in
 * the cluster from random values, with the real kubectl. Like `npm run deploy`, it acts only on a context
 * whose cluster's CA is the one lib/environments/lab.ts records (lib/commands/context-guard.ts). The lab has no secret manager, and no secret
 * value may be in dist/, so the Secrets the lab's workloads declare (lib/platform/secrets.ts) are made
 * here instead, after `kubectl apply -f dist/lab/05-platform.yaml` has created their namespaces.
 * Prints names and keys only. An existing Secret is kept unless --replace is given. Secrets that read
 * the same secret manager entry in production get the same values.
 */
import { spawnSync } from 'child_process';
import { App } from 'cdk8s';
import { buildEnvironment } from '../synth/app';
import { CommandLineError } from './command-line';
import { lab } from '../environments/lab';
import {
  describeCompleted,
  describeOutcome,
  existsArgs,
  groupBySharedValues,
  LAB_SECRETS_USAGE,
  LabSecretsOptions,
  missingKeys,
  parseLabSecretsArgs,
  kubectlMessage,
  randomSecretValue,
  readDataArgs,
  redact,
  secretManifest,
  sharedData,
  writeArgs,
} from './lab-secrets-steps';
import { declaredSecrets, SecretDeclaration } from '../platform/secrets';
import { guardedContext, UsageError } from './context-guard';

function kubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.env.KUBECTL || 'kubectl', args, { input, encoding: 'utf8' });
  if (result.error) {
    throw new Error(`could not run kubectl: ${result.error.message}`);
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** A Secret's data (base64 by key) from the cluster, never printed; undefined (reported) if it cannot be read. */
function readData(options: LabSecretsOptions, secret: SecretDeclaration): Record<string, string> | undefined {
  const read = kubectl(readDataArgs(options, secret));
  if (read.status !== 0) {
    console.error(`cannot read secret ${secret.namespace}/${secret.name}: ${kubectlMessage(read.stderr)}`);
    return undefined;
  }
  return JSON.parse(read.stdout.trim() || '{}') as Record<string, string>;
}

function main(): number {
  const parsed = parseLabSecretsArgs(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(LAB_SECRETS_USAGE);
    return 0;
  }
  // The context is settled before kubectl is asked anything else: every call below names it.
  const options: LabSecretsOptions = parsed.dryRun
    ? parsed
    : {
        ...parsed,
        context: guardedContext(lab, parsed.context, parsed.confirmCluster, {
          doing: "create the lab's Secrets in",
          rerun: 'npm run lab-secrets --',
        }),
      };
  const secrets = declaredSecrets(buildEnvironment(new App({ outdir: 'unused' }), lab));
  if (secrets.length === 0) {
    console.log('the lab declares no Secrets');
    return 0;
  }
  let failures = 0;
  // Declarations that read one secret manager entry in production share their values here too:
  // the database's password Secret and its clients' copies must hold the same password.
  for (const group of groupBySharedValues(secrets)) {
    if (options.dryRun) {
      group.forEach((secret) => console.log(describeOutcome(secret, 'would-create')));
      continue;
    }
    const exists = new Map<SecretDeclaration, boolean>();
    for (const secret of group) {
      const found = kubectl(existsArgs(options, secret));
      if (found.status !== 0) {
        console.error(`cannot read secret ${secret.namespace}/${secret.name}: ${kubectlMessage(found.stderr)}`);
        break;
      }
      exists.set(secret, found.stdout.trim() !== '');
    }
    if (exists.size !== group.length) {
      failures++;
      continue;
    }
    // Without --replace, a member that exists lends its values to the missing ones.
    const source = options.replace ? undefined : group.find((secret) => exists.get(secret));
    let existing: Record<string, string> = {};
    if (source !== undefined) {
      const read = readData(options, source);
      if (read === undefined) {
        failures++;
        continue;
      }
      existing = read;
    }
    const data = sharedData(group, existing, randomSecretValue);
    const values = Object.values(data).flatMap((b64) => [b64, Buffer.from(b64, 'base64').toString('utf8')]);
    for (const secret of group) {
      const present = exists.get(secret)!;
      let manifest = secretManifest(secret, data);
      let added: string[] = [];
      if (present && !options.replace) {
        // Kept, but completed with any key declared since it was made, built from its own values.
        const own = secret === source ? existing : readData(options, secret);
        if (own === undefined) {
          failures++;
          continue;
        }
        added = missingKeys(secret, own);
        if (added.length === 0) {
          console.log(describeOutcome(secret, 'kept'));
          continue;
        }
        const completed = sharedData([secret], { ...existing, ...own }, randomSecretValue);
        values.push(...Object.values(completed).flatMap((b64) => [b64, Buffer.from(b64, 'base64').toString('utf8')]));
        manifest = secretManifest(secret, completed);
      }
      const written = kubectl(writeArgs(options, present), manifest);
      if (written.status !== 0) {
        console.error(
          `cannot write secret ${secret.namespace}/${secret.name}: ${redact(kubectlMessage(written.stderr), values)}`,
        );
        failures++;
        continue;
      }
      console.log(
        added.length > 0
          ? describeCompleted(secret, added)
          : describeOutcome(secret, present ? 'replaced' : 'created', source),
      );
    }
  }
  return failures === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  const usage = error instanceof CommandLineError ? `\n\n${LAB_SECRETS_USAGE}` : '';
  console.error(`lab-secrets: ${error instanceof Error ? error.message : String(error)}${usage}`);
  // A refused context, like a bad command line, is exit code 2: nothing was changed.
  process.exitCode = error instanceof UsageError || error instanceof CommandLineError ? 2 : 1;
}
