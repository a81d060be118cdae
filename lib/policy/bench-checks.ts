/**
 * Measures what the checks cost: loading them (with the generated validators
 * they need, loaded on first use) and one run over dist/<env>/*.yaml of every
 * environment. A benchmark, not a test: timings are printed, never asserted.
 * Run: node speed/tsrun.js lib/policy/bench-checks.ts [dist] [runs]
 */
import { execFileSync } from 'child_process';

if (process.argv[2] === '--once') {
  // One cold process: what a synth pays.
  const started = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { checkReadInputs, readDist } = require('./dist-inputs') as typeof import('./dist-inputs');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ENVIRONMENTS } = require('../environments') as typeof import('../environments');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { peopleGroupsByEnvironment } = require('../environments/people') as typeof import('../environments/people');
  const loaded = process.hrtime.bigint();
  const inputs = readDist(process.argv[3] ?? 'dist');
  const parsed = process.hrtime.bigint();
  // As deploy checks a folder: our objects by every rule, the add-ons' by the schema only.
  checkReadInputs(inputs, { peopleGroups: peopleGroupsByEnvironment(Object.values(ENVIRONMENTS)) });
  const checked = process.hrtime.bigint();
  console.log(JSON.stringify({ objects: inputs.length, ms: Number(loaded - started + checked - parsed) / 1e6 }));
} else {
  const dist = process.argv[2] ?? 'dist';
  const runs = Number(process.argv[3] ?? 7);
  const results = Array.from({ length: runs }, () =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [require.resolve('../../speed/tsrun.js'), __filename.replace(/\.js$/, '.ts'), '--once', dist],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n')
        .pop()!,
    ),
  );
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  console.log(
    `checks over ${results[0].objects} objects of ${dist}/: load + check, ${runs} cold processes, ` +
      `median ${times[Math.floor(runs / 2)].toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[runs - 1].toFixed(1)}); YAML parsing excluded`,
  );
}
