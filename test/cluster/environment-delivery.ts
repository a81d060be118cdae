/**
 * `node speed/tsrun.js test/cluster/environment-delivery.ts <env>`: prints, as one JSON line, how the
 * environment is delivered (lib/environment.ts `delivery`): its engine, the namespace the engine runs
 * in, and whether only the reconciler writes what git holds. TestAccess (access_test.go) expects the
 * people's roles this says, without a copy of the environment files in Go.
 */
import { environmentNamed } from '../../lib/environments';

const name = process.argv[2];
if (!name || process.argv.length > 3) {
  console.error('usage: environment-delivery.ts <env>');
  process.exit(2);
}
try {
  const { delivery } = environmentNamed(name);
  const namespace = delivery.engine === 'flux' ? delivery.flux?.namespace : delivery.argocd?.namespace;
  process.stdout.write(
    JSON.stringify({ engine: delivery.engine, namespace, reconcilerOnly: delivery.reconcilerOnly }) + '\n',
  );
} catch (error) {
  console.error(`environment-delivery.ts: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
