/**
 * `node speed/tsrun.js test/cluster/render-lab-for-node.ts <outdir> [--web-response-header Name=value] [--keep-addon <name>]...`:
 * renders the lab for the real node of the cluster tests into <outdir>/lab/ and fails unless its only
 * difference from the committed dist/lab/ (or $LAB_TO_PROD_DIST/lab/) is the AppArmor requests
 * (test/node-lab.ts). Prints what it removed. With --web-response-header (the behaviours test's rolling update), web's nginx.conf gets
 * that header through the Web construct's props, and nginx.conf and its config hash may differ too.
 *
 * The add-ons' controllers (<outdir>/lab/0N-<addon>.yaml, N from 1 to 4: every wave) are then moved to <outdir>/lab-addons-not-run/:
 * their images are not among the test node's (test/cluster/images), and the node brings its own
 * network, DNS and metrics-server (realnode.go). Their CRDs (00-<addon>-crds.yaml) stay: the lab's
 * platform objects (its address pool, its issuers) are of their kinds. `--keep-addon <name>` keeps
 * 0N-<name>.yaml where it is: the three-node lab (TestLab) runs those add-ons as rendered (flannel).
 */
import * as fs from 'fs';
import * as path from 'path';
import { renderLabForTestNode } from '../node-lab';

const usage = 'usage: render-lab-for-node.ts <outdir> [--web-response-header Name=value] [--keep-addon <name>]...';
const [outdir, ...flags] = process.argv.slice(2);
let header: string | undefined;
const kept = new Set<string>();
for (let i = 0; i < flags.length; i += 2) {
  if (flags[i] === '--web-response-header' && header === undefined) header = flags[i + 1];
  else if (flags[i] === '--keep-addon' && flags[i + 1]) kept.add(flags[i + 1]);
  else {
    console.error(usage);
    process.exit(2);
  }
}
const [headerName, headerValue] = header?.split(/=(.*)/s) ?? [];
if (!outdir || (header !== undefined && (!headerName || headerValue === undefined))) {
  console.error(usage);
  process.exit(2);
}
const options = header !== undefined ? { web: { responseHeaders: { [headerName]: headerValue } } } : {};
// Compared with the lab the cluster tests deploy: dist/lab/, or LAB_TO_PROD_DIST's (cluster_test.go).
const dist = process.env.LAB_TO_PROD_DIST || path.join(__dirname, '..', '..', 'dist');
const { appArmorOnly, webConfig, other } = renderLabForTestNode(outdir, path.join(dist, 'lab'), options);
console.log(
  `the lab for a node without AppArmor: ${appArmorOnly.length} AppArmor request(s) left out, ${other.length} other difference(s)`,
);
for (const line of appArmorOnly) {
  console.log(`  left out: ${line}`);
}
for (const line of webConfig) {
  console.log(`  changed on purpose (web's response headers): ${line.split(':')[0]}`);
}
const lab = path.join(outdir, 'lab');
const notRun = path.join(outdir, 'lab-addons-not-run');
fs.rmSync(notRun, { recursive: true, force: true });
// The add-ons' controllers, by the add-on's name: 01-flannel.yaml is flannel's.
const addonName = (file: string) => file.replace(/^0[1-4]-(.+)\.yaml$/, '$1');
const addonFiles = fs.readdirSync(lab).filter((f) => /^0[1-4]-.+\.yaml$/.test(f));
const missing = [...kept].filter((name) => !addonFiles.some((f) => addonName(f) === name));
if (missing.length > 0) {
  console.error(
    `--keep-addon: no 0N-<name>.yaml in the rendered lab for: ${missing.join(', ')} (there are: ${addonFiles.join(', ')})`,
  );
  process.exit(2);
}
const controllers = addonFiles.filter((f) => !kept.has(addonName(f)));
if (controllers.length > 0) fs.mkdirSync(notRun);
for (const file of controllers) {
  fs.renameSync(path.join(lab, file), path.join(notRun, file));
  console.log(`  not run on the test node (moved to ${path.basename(notRun)}/): ${file}`);
}
if (other.length > 0) {
  console.error(`other differences from dist/lab/ (there must be none):\n  ${other.join('\n  ')}`);
  process.exit(1);
}
