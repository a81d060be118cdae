/**
 * Checks the committed dist/<env>/*.yaml with the same rules the synth runs,
 * prints the report and exits 1 on any unwaived error.
 * Run: node speed/tsrun.js lib/policy/check-dist.ts [dist]
 */
import { ENVIRONMENTS } from '../environments';
import { peopleGroupsByEnvironment } from '../environments/people';
import { checkReadInputs, readDist } from './dist-inputs';
import { formatReport, hasErrors } from './index';

// As deploy checks a folder: our objects by every rule, the add-ons' (upstream's) by the schema only.
const findings = checkReadInputs(readDist(process.argv[2] ?? 'dist'), {
  peopleGroups: peopleGroupsByEnvironment(Object.values(ENVIRONMENTS)),
});
console.log(formatReport(findings));
if (hasErrors(findings)) process.exitCode = 1;
