/**
 * `npm run -s environments`: the names of the environments this project renders, one a line, in the
 * order every command renders them. They are the files of lib/environments/ (lib/environments/index.ts
 * says which files are environments); this prints them for programs that cannot read TypeScript, such
 * as the Go cluster tests (test/cluster), so that nothing else keeps a list of its own.
 *
 * Usage: npm run -s environments [-- --help]
 */
import { environmentNames } from '../environments';
import { readCommandLine } from './command-line';

const USAGE =
  'usage: npm run -s environments\n\nPrints the name of every environment (one file each in lib/environments/), one a line.';

function main(): number {
  readCommandLine('environments', USAGE, { options: {} });
  process.stdout.write(
    environmentNames()
      .map((name) => `${name}\n`)
      .join(''),
  );
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  console.error(`environments: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
