/**
 * `npm run synth [-- --env <name> ...] [--verbose]` and `cdk8s synth` (both through bin/synth.js):
 * renders dist/<env>/ for every environment, or the ones named. A failure prints every environment's
 * problems, with the construct path or the field, exits 1, and leaves dist/ untouched.
 */
import { parseArgs } from 'util';
import { exitWhenWritten } from './lib/kit/exit';
import { errorText } from './lib/kit/validation';
import { formatReport } from './lib/policy';
import { bootstrapFolder } from './lib/render';
import { SynthError, synthesize } from './lib/synth';

function main(): void {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
      // LAB_TO_PROD_DIST lets `cdk8s synth`, whose app command is fixed in cdk8s.yaml, write elsewhere.
      outdir: { type: 'string', default: process.env.LAB_TO_PROD_DIST ?? 'dist' },
    },
  });
  const envNames = values.env?.flatMap((e) => e.split(',')).filter((e) => e !== '');
  const cdk8sOutdir = process.env.CDK8S_OUTDIR;
  const { rendered, findings } = synthesize({ envNames, outdir: values.outdir, cdk8sOutdir });
  // Under cdk8s-cli the validation plugin (lib/policy/plugin) reports the same findings; one report is enough.
  if (findings.length > 0 && cdk8sOutdir === undefined) {
    // Warnings and waived findings do not stop the synth; the summary says they exist, --verbose
    // prints each with its reason.
    const report = formatReport(findings, { listWaived: true }).trimEnd();
    console.error(values.verbose ? report : report.split('\n').pop());
  }
  for (const { env, objects, files, bootstrapFiles } of rendered) {
    console.log(`${values.outdir}/${env.name}/: ${files.size} files, ${objects.length} objects`);
    if (bootstrapFiles.size > 0) {
      console.log(`${values.outdir}/${bootstrapFolder(env.name)}/: ${bootstrapFiles.size} files to build the nodes (not for kubectl)`);
    }
  }
}

try {
  main();
} catch (error) {
  // bin/synth.js ends every failure with "synth failed; the output folder was left as it was."
  const verbose = process.argv.includes('--verbose');
  if (error instanceof SynthError) {
    console.error(error.report(verbose));
  } else {
    console.error(verbose && error instanceof Error && error.stack ? error.stack : errorText(error));
  }
  process.exitCode = 1;
}
exitWhenWritten();
