/**
 * `npm run diff:envs [-- --markdown] [--env lab --env prod-eks ...]`: renders the environments (as
 * the code says now, in memory) and reports every difference between them by area. Exits 1 if any
 * difference is unexpected, 2 if the environments do not render.
 */
import { parseArgs } from 'util';
import { ENVIRONMENT_NAMES } from '../lib/environment';
import { selectEnvironments } from '../lib/environments';
import { renderEnvironment } from '../lib/render';
import { compareEnvironments } from '../lib/review/env-diff';
import { formatEnvDiffMarkdown, formatEnvDiffText } from '../lib/review/env-diff-format';

function main(): number {
  const { values } = parseArgs({
    options: {
      markdown: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
    },
  });
  const names = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '') ?? [...ENVIRONMENT_NAMES];
  if (names.length < 2) {
    throw new Error(`--env: name at least two environments to compare (got ${names.length}); valid: ${ENVIRONMENT_NAMES.join(', ')}`);
  }
  const rendered = selectEnvironments(names).map(renderEnvironment);
  const report = compareEnvironments(rendered.map((r) => ({
    name: r.env.name, registryMirror: r.env.registry.mirror, objects: r.objects.map((o) => o.object),
  })));
  process.stdout.write(values.markdown ? formatEnvDiffMarkdown(report) : formatEnvDiffText(report));
  return report.unexpected > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`diff:envs failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
