/**
 * `node bin/tsrun.js test/cluster/render-lab-for-node.ts <outdir>`: renders the lab for the real node
 * of the cluster tests into <outdir>/lab/ and fails unless its only difference from the committed
 * dist/lab/ is the AppArmor requests (test/node-lab.ts). Prints what it removed.
 */
import * as path from 'path';
import { renderLabForTestNode } from '../node-lab';

const outdir = process.argv[2];
if (!outdir) {
  console.error('usage: render-lab-for-node.ts <outdir>');
  process.exit(2);
}
const { appArmorOnly, other } = renderLabForTestNode(outdir, path.join(__dirname, '..', '..', 'dist', 'lab'));
console.log(`the lab for a node without AppArmor: ${appArmorOnly.length} AppArmor request(s) left out, ${other.length} other difference(s)`);
for (const line of appArmorOnly) {
  console.log(`  left out: ${line}`);
}
if (other.length > 0) {
  console.error(`other differences from dist/lab/ (there must be none):\n  ${other.join('\n  ')}`);
  process.exit(1);
}
