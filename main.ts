/**
 * `npm run synth [-- --env <name> ...]` and `cdk8s synth`: renders dist/<env>/ for every environment,
 * or the ones named. A failure prints what is wrong and where, exits 1, and leaves dist/ untouched.
 */
import { parseArgs } from 'util';
import { formatReport } from './lib/policy';
import { synthesize } from './lib/synth';

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
  const { rendered, findings } = synthesize({ envNames, outdir: values.outdir, cdk8sOutdir: process.env.CDK8S_OUTDIR });
  if (findings.length > 0) {
    // Warnings and waived findings do not stop the synth; the summary says they exist, --verbose
    // prints each with its reason.
    const report = formatReport(findings).trimEnd();
    console.error(values.verbose ? report : report.split('\n').pop());
  }
  for (const { env, objects, files } of rendered) {
    console.log(`${values.outdir}/${env.name}/: ${files.size} files, ${objects.length} objects`);
  }
}

try {
  main();
} catch (error) {
  console.error(`synth failed; the output folder was left as it was.\n${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
