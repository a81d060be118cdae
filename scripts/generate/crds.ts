/**
 * `npm run generate:crds`: regenerates what is made from the pinned add-ons' CRDs, the schema
 * validators (generated/validators/, with the Kubernetes minors' beside them) and the typed bindings
 * (generated/crd-bindings/), and the table in generated/README.md of the add-on each CRD comes from. The maintainer's add-on refresh (`npm run addons:refresh`) runs it after
 * a version changes; scripts/generate/validators.test.ts and crd-bindings.test.ts fail while either
 * folder differs from what this writes.
 *
 * Everything is generated in memory first: a CRD missing from an add-on's rendering stops the
 * command before either folder is touched. A file the generators no longer write (a CRD dropped) is
 * removed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readCommandLine } from '../../lib/commands/command-line';
import { BINDINGS_DIR, generateBindings } from './crd-bindings';
import { GENERATED_README, withCrdTable } from './crd-table';
import { pinnedCrds } from './pinned-crds';
import { generateAll, OUTPUT_DIR } from './validators';

const USAGE = `usage: npm run generate:crds

Regenerates generated/validators/ (the schema checks: each supported Kubernetes minor's kinds and the
CRDs of the add-ons pinned in addons/addons.lock.json, read from addons/<name>/upstream.yaml) and
generated/crd-bindings/ (cdk8s import of the CRDs the constructs build), and the table of CRDs in
generated/README.md. Offline. Takes no options.`;

/** Makes `dir` hold exactly `files`: writes each (when it differs) and removes the others. */
function writeFolder(dir: string, files: Record<string, string>): string[] {
  const changed: string[] = [];
  fs.mkdirSync(dir, { recursive: true });
  for (const stale of fs.readdirSync(dir).filter((name) => !(name in files))) {
    fs.rmSync(path.join(dir, stale));
    changed.push(`${stale} (removed)`);
  }
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === content) continue;
    fs.writeFileSync(file, content);
    changed.push(name);
  }
  return changed;
}

function main(): void {
  readCommandLine('generate:crds', USAGE, { options: {} });
  const crds = pinnedCrds();
  const validators = generateAll(undefined, crds);
  const bindings = generateBindings(crds);
  const readme = withCrdTable(fs.readFileSync(GENERATED_README, 'utf8'), crds);
  for (const [dir, files] of [
    [OUTPUT_DIR, validators],
    [BINDINGS_DIR, bindings],
  ] as const) {
    const changed = writeFolder(dir, files);
    const where = path.relative(path.join(__dirname, '..', '..'), dir);
    console.log(`${where}: ${changed.length === 0 ? 'unchanged' : `written ${changed.join(', ')}`}`);
  }
  if (readme !== fs.readFileSync(GENERATED_README, 'utf8')) {
    fs.writeFileSync(GENERATED_README, readme);
    console.log('generated/README.md: the table of CRDs written');
  }
  for (const crd of crds) console.log(`  ${crd.name}: ${crd.addon} ${crd.addonVersion}`);
}

try {
  main();
} catch (error) {
  console.error(`generate:crds: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
