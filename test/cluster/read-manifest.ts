/**
 * `node speed/tsrun.js test/cluster/read-manifest.ts <dir>`: prints every object of the YAML and
 * JSON files of <dir> (not its sub-folders), one JSON document a line, in the order
 * `kubectl apply -f <dir>` sends them: files by name, documents in file order.
 *
 * The cluster tests read a folder before deploying it, to make the nodes and stand-ins it needs.
 * kubectl cannot read it then: it must know every kind from the API server, and the CRDs that
 * define the add-ons' kinds are in the folder itself, installed only by the deploy under test.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';

const dir = process.argv[2];
if (!dir || process.argv.length > 3) {
  console.error('usage: read-manifest.ts <dir>');
  process.exit(2);
}
const files = fs
  .readdirSync(dir, { withFileTypes: true })
  .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
  .map((e) => e.name)
  .sort();
const lines: string[] = [];
for (const file of files) {
  // YAML 1.1, as kubectl reads it (an unquoted yes is a boolean there).
  for (const document of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'), { version: '1.1' })) {
    if (document.errors.length > 0) {
      console.error(`${path.join(dir, file)}: ${document.errors.map((e) => e.message).join('; ')}`);
      process.exit(1);
    }
    const object: unknown = document.toJS();
    if (object !== null && object !== undefined) lines.push(JSON.stringify(object));
  }
}
process.stdout.write(lines.length > 0 ? lines.join('\n') + '\n' : '');
