/**
 * `npm run synth [-- --env <name> ...] [--verbose] [--outdir <dir>]` and `cdk8s synth` (both through
 * bin/synth.js): renders dist/<env>/ for every environment, or the ones named. A failure prints every
 * environment's problems, with the construct path or the field, exits 1, and leaves dist/ untouched;
 * a command line it cannot run with exits 2.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandLineError, readCommandLine } from './lib/commands/command-line';
import { exitWhenWritten } from './speed/exit';
import { errorText } from './lib/k8s/validation';
import { staleSupportTableWarning } from './lib/kubernetes-versions';
import { formatReport } from './lib/policy';
import { bootstrapFolder, deliveryFolder } from './lib/synth/render';
import { SynthError, synthesize } from './lib/synth/synth';
import { DistWriteError } from './lib/synth/write-dist';

const USAGE = `usage: npm run synth -- [--env <name>] [--verbose] [--outdir <dir>]

Renders dist/<env>/ (and dist/lab-bootstrap/) for every environment, after every check has passed.
A failure changes nothing in the output folder.
  --env <name>    only this environment; repeat, or separate with commas, for several
  --verbose       list the waived findings, and the stack of an exception thrown in a construct
  --outdir <dir>  the output folder, made if missing (default dist, or $LAB_TO_PROD_DIST)`;

/**
 * Refuses an output folder that cannot be one before anything is rendered: the path, or a folder
 * above it, is a file (mkdir would fail later with a bare EEXIST or ENOTDIR).
 */
function checkOutdir(outdir: string, givenBy: string): void {
  for (let at = outdir; ; at = path.dirname(at)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') {
        throw error;
      }
    }
    if (stat !== undefined && !stat.isDirectory()) {
      throw new CommandLineError(
        at === outdir
          ? `${givenBy} "${outdir}" is a file, not a folder; name a folder (it is made if missing)`
          : `${givenBy} "${outdir}": "${at}" is a file, so no folder can be made in it; name a folder`,
      );
    }
    if (stat !== undefined || path.dirname(at) === at) {
      return;
    }
  }
}

function main(): void {
  const { values } = readCommandLine('synth', USAGE, {
    options: {
      env: { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
      outdir: { type: 'string' },
    },
  });
  // LAB_TO_PROD_DIST lets `cdk8s synth`, whose app command is fixed in cdk8s.yaml, write elsewhere.
  const outdir = values.outdir ?? (process.env.LAB_TO_PROD_DIST || 'dist');
  checkOutdir(
    outdir,
    values.outdir !== undefined ? '--outdir' : process.env.LAB_TO_PROD_DIST ? 'LAB_TO_PROD_DIST' : 'the output folder',
  );
  const envNames = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '');
  const cdk8sOutdir = process.env.CDK8S_OUTDIR;
  // Support windows end on dates: a table not read for 60 days may accept a minor that has ended.
  const staleTable = staleSupportTableWarning();
  if (staleTable !== undefined) console.error(staleTable);
  const { rendered, findings, warnings } = synthesize({ envNames, outdir, cdk8sOutdir });
  for (const warning of warnings) console.error(`warning: ${warning}`);
  // Under cdk8s-cli the validation plugin (lib/policy/plugin) reports the same findings; one report is enough.
  if (findings.length > 0 && cdk8sOutdir === undefined) {
    // Warnings and waived findings do not stop the synth; the summary says they exist, --verbose
    // prints each with its reason.
    const report = formatReport(findings, { listWaived: true }).trimEnd();
    console.error(values.verbose ? report : report.split('\n').pop());
  }
  for (const { env, objects, files, bootstrapFiles, deliveryFiles } of rendered) {
    console.log(`${outdir}/${env.name}/: ${files.size} files, ${objects.length} objects`);
    if (bootstrapFiles.size > 0) {
      console.log(
        `${outdir}/${bootstrapFolder(env.name)}/: ${bootstrapFiles.size} files to build the nodes (not for kubectl)`,
      );
    }
    console.log(
      `${outdir}/${deliveryFolder(env.name)}/: ${deliveryFiles.size} files to deliver it from git (${env.delivery.engine}, revision ${env.delivery.revision})`,
    );
  }
}

try {
  main();
} catch (error) {
  // bin/synth.js ends every failure with "synth failed; the output folder was left as it was.", except
  // exit status 3: the write changed dist/ and could not put it back (the error says folder by folder).
  const verbose = process.argv.includes('--verbose');
  if (error instanceof CommandLineError) {
    console.error(`synth: ${error.message}`);
  } else if (error instanceof SynthError) {
    console.error(error.report(verbose));
  } else if (error instanceof DistWriteError) {
    console.error(error.message); // what the output folder holds now, folder by folder
  } else {
    console.error(verbose && error instanceof Error && error.stack ? error.stack : errorText(error));
  }
  process.exitCode = error instanceof CommandLineError ? 2 : error instanceof DistWriteError ? 3 : 1;
}
exitWhenWritten();
