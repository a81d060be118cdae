/**
 * `node speed/tsrun.js test/cluster/render-lab-for-node.ts <outdir> [--web-response-header Name=value]`:
 * renders the lab for the real node of the cluster tests into <outdir>/lab/ and fails unless its only
 * difference from the committed dist/lab/ is the AppArmor requests (test/node-lab.ts). Prints what it
 * removed. With --web-response-header (the behaviours test's rolling update), web's nginx.conf gets
 * that header through the Web construct's props, and nginx.conf and its config hash may differ too.
 */
import * as path from 'path';
import { renderLabForTestNode } from '../node-lab';

const [outdir, flag, header] = process.argv.slice(2);
const [headerName, headerValue] = header?.split(/=(.*)/s) ?? [];
if (!outdir || (flag !== undefined && (flag !== '--web-response-header' || !headerName || headerValue === undefined))) {
  console.error('usage: render-lab-for-node.ts <outdir> [--web-response-header Name=value]');
  process.exit(2);
}
const options = flag ? { web: { responseHeaders: { [headerName]: headerValue } } } : {};
const { appArmorOnly, webConfig, other } = renderLabForTestNode(
  outdir,
  path.join(__dirname, '..', '..', 'dist', 'lab'),
  options,
);
console.log(
  `the lab for a node without AppArmor: ${appArmorOnly.length} AppArmor request(s) left out, ${other.length} other difference(s)`,
);
for (const line of appArmorOnly) {
  console.log(`  left out: ${line}`);
}
for (const line of webConfig) {
  console.log(`  changed on purpose (web's response headers): ${line.split(':')[0]}`);
}
if (other.length > 0) {
  console.error(`other differences from dist/lab/ (there must be none):\n  ${other.join('\n  ')}`);
  process.exit(1);
}
