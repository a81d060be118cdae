/**
 * The lab's node OS is named in several places: the environment (lib/environments/lab.ts, shown in
 * dist/lab/README.md), the nodes' user-data (lib/bootstrap/cloud-init.ts, which installs that
 * release's own packages), and the README's Proxmox steps (the template's cloud image). They must name
 * one release, or a reader builds the lab on one OS and reads that it runs another.
 */
import * as fs from 'fs';
import * as path from 'path';
import { lab } from '../lib/environments/lab';
import { renderEnvironment } from '../lib/synth/render';

const ROOT = path.resolve(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** Every "Debian <n>" or "debian-<n>" in a text: the releases it names. */
function debianReleases(text: string): string[] {
  return [...new Set([...text.matchAll(/\bDebian[ -](\d+)\b/gi)].map((m) => m[1]))];
}

test("the lab's nodes are Debian 13 wherever they are named: the environment, the user-data, the README's steps, dist/lab/README.md", () => {
  expect(lab.nodes.osImage).toBe('Debian 13 cloud image');
  expect(debianReleases(read('lib/bootstrap/cloud-init.ts'))).toEqual(['13']);
  const readme = read('README.md');
  expect(debianReleases(readme)).toEqual(['13']);
  expect(readme).toContain('Both user-data files prepare a Debian 13 VM');
  expect(readme).toContain('debian-13-generic-amd64.qcow2');
  expect(readme).not.toMatch(/Ubuntu 24\.04|Debian or Ubuntu/);
  expect(renderEnvironment(lab).files.get('README.md')).toContain('Nodes: Debian 13 cloud image, confined by AppArmor');
});
