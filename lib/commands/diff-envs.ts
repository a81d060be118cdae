/**
 * `npm run diff:envs [-- --verbose] [--markdown] [--env lab --env prod-eks ...]`: renders the
 * environments (as the code says now, in memory) and compares them by area. Prints the report when
 * a difference is unexpected, or with --verbose or --markdown; a summary line otherwise. Exits 1 if
 * any difference is unexpected, 2 if the environments do not render or the command line is wrong.
 */
import { environmentNames, selectEnvironments } from '../environments';
import { readCommandLine } from './command-line';
import { renderEnvironment } from '../synth/render';
import { compareEnvironments } from '../review/env-diff';
import { envDiffOutput } from '../review/env-diff-format';

const USAGE = `usage: npm run diff:envs -- [--env <name> --env <name> ...] [--verbose] [--markdown]

Compares the environments object by object and field by field, and groups every difference by area.
Fails (exit 1) on a difference no area explains, printing the whole report.
  --env <name>  compare these environments (at least two; repeat, or separate with commas); default all
  --verbose     print the whole report even when every difference is explained
  --markdown    the whole report as Markdown, for a pull request`;

function main(): number {
  const { values } = readCommandLine('diff:envs', USAGE, {
    options: {
      verbose: { type: 'boolean', default: false },
      markdown: { type: 'boolean', default: false },
      env: { type: 'string', multiple: true },
    },
  });
  const names = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '') ?? environmentNames();
  if (names.length < 2) {
    throw new Error(
      `--env: name at least two environments to compare (got ${names.length}); valid: ${environmentNames().join(', ')}`,
    );
  }
  const rendered = selectEnvironments(names).map(renderEnvironment);
  const report = compareEnvironments(
    rendered.map((r) => ({
      name: r.env.name,
      registryMirror: r.env.registry.mirror,
      objects: r.objects.map((o) => o.object),
    })),
  );
  process.stdout.write(envDiffOutput(report, { verbose: values.verbose, markdown: values.markdown }));
  return report.unexpected > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`diff:envs failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}
