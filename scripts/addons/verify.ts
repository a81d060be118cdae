/**
 * `npm run addons:verify`: checks that every vendored add-on (addons/<name>/) still holds exactly what
 * addons/addons.lock.json records (its source files' tree hash and upstream.yaml's hash), the check
 * the synth makes for each add-on an environment uses. Prints one line per add-on; exit status 1 when
 * any differs.
 */
import { addonNames, readLock, verifyAddon } from '../../lib/addons/lock';
import { readCommandLine } from '../../lib/commands/command-line';

const USAGE = `usage: npm run addons:verify

Checks every add-on in addons/addons.lock.json against its vendored files (sourceHash, upstreamHash).`;

function main(): number {
  readCommandLine('addons:verify', USAGE, { options: {} });
  const started = process.hrtime.bigint();
  const lock = readLock();
  let failed = 0;
  for (const name of addonNames()) {
    const problems = verifyAddon(name, undefined, { everyByte: true });
    if (problems.length === 0) {
      process.stdout.write(`ok       ${name} ${lock.addons[name].version}\n`);
    } else {
      failed++;
      process.stdout.write(problems.map((p) => `CHANGED  ${p}\n`).join(''));
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(
    `${addonNames().length - failed} of ${addonNames().length} add-ons match the lock (${ms.toFixed(0)} ms)\n`,
  );
  return failed === 0 ? 0 : 1;
}

try {
  process.exitCode = main();
} catch (error) {
  process.stderr.write(`addons:verify: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
