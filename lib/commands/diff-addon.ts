/**
 * `npm run diff:addon -- <add-on> [--env <name> ...]`: what this project changes of an add-on, object
 * by object: upstream's rendering (addons/<add-on>/upstream.yaml, its CRDs aside: they are copied
 * verbatim) against the add-on's objects as each environment renders them (01-<add-on>.yaml), so a
 * reviewer sees exactly the settings of lib/addons/<add-on>.ts and nothing else. Objects are matched
 * by kind, namespace and name, so the order they are written in is no difference.
 */
import { ADDONS } from '../addons';
import { readLock } from '../addons/lock';
import { withoutNulls } from '../addons/render';
import { upstreamObjectsOf } from '../addons/upstream';
import { environmentNames, selectEnvironments } from '../environments';
import { diffObjects, formatObjectDiff } from '../review/object-diff';
import { renderEnvironment } from '../synth/render';
import { readCommandLine } from './command-line';

const USAGE = `usage: npm run diff:addon -- <add-on> [--env <name> ...]

The differences between an add-on's upstream rendering (addons/<add-on>/upstream.yaml, CRDs aside) and
its objects as an environment renders them (dist/<env>/01-<add-on>.yaml): the settings of
lib/addons/<add-on>.ts, object by object.
  --env <name>  the environments to render (repeat, or separate with commas); default every one that installs it`;

function main(): void {
  const { values, positionals } = readCommandLine('diff:addon', USAGE, {
    allowPositionals: true,
    options: { env: { type: 'string', multiple: true } },
  });
  const known = ADDONS.map((a) => a.name);
  if (positionals.length !== 1 || !known.includes(positionals[0])) {
    throw new Error(`name one add-on (got ${positionals.join(' ') || 'none'}); the add-ons are ${known.join(', ')}`);
  }
  const addon = positionals[0];
  const names = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '') ?? environmentNames();
  const environments = selectEnvironments(names).filter((env) => addon in env.addons || values.env !== undefined);
  // Null fields are absent ones to the API server, and the rendering drops them (lib/addons/render.ts).
  const upstream = upstreamObjectsOf(addon).map(withoutNulls);
  const changes = environments.map((env) => {
    const rendered = renderEnvironment(env).addons.find((a) => a.name === addon);
    if (rendered === undefined) {
      throw new Error(
        `--env ${env.name}: the environment does not install ${addon} (its addons: ${Object.keys(env.addons).join(', ')})`,
      );
    }
    return {
      env: env.name,
      status: 'both' as const,
      changes: diffObjects(upstream, [...rendered.objects, ...rendered.resources]),
    };
  });
  const version = readLock().addons[addon].version;
  process.stdout.write(formatObjectDiff(`addons/${addon}/upstream.yaml (${addon} ${version})`, changes));
}

try {
  main();
} catch (error) {
  console.error(`diff:addon failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
