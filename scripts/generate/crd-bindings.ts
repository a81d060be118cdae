/**
 * The typed bindings of the custom resources the constructs build (generated/crd-bindings/), made by
 * cdk8s-cli's own `cdk8s import` from the pinned add-ons' CRDs (scripts/generate/pinned-crds.ts).
 *
 * `cdk8s import` reads a CRD from a local file without the network. Each CRD is written to a file of
 * its own in a scratch folder, named by its binding (`certificate:=certificate.yaml`), so that every
 * kind keeps its own module, generated/crd-bindings/<binding>-<group>.ts. The import runs in that
 * scratch folder, with --no-save, so it never touches this project's cdk8s.yaml.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dump } from 'js-yaml';
import { PinnedCrd, pinnedCrds, REPO_ROOT } from './pinned-crds';

export const BINDINGS_DIR = path.join(REPO_ROOT, 'generated', 'crd-bindings');

const CDK8S_CLI = path.join(REPO_ROOT, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');

/** The bindings `cdk8s import` writes for these CRDs, as file name → content. */
export function generateBindings(crds: readonly PinnedCrd[] = pinnedCrds()): Record<string, string> {
  const withBinding = crds.filter((crd) => crd.binding !== undefined);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-crd-bindings-'));
  try {
    const output = path.join(scratch, 'out');
    // One import per CRD: given several specs, cdk8s import reads only the first.
    for (const crd of withBinding) {
      const file = path.join(scratch, `${crd.binding}.yaml`);
      fs.writeFileSync(file, dump(crd.document, { lineWidth: -1, noRefs: true }));
      execFileSync(
        process.execPath,
        [
          CDK8S_CLI,
          'import',
          `${crd.binding}:=${file}`,
          '--language',
          'typescript',
          '--output',
          output,
          '--no-save',
          '--no-check-upgrade',
        ],
        // Without --no-check-upgrade, or CDK8S_CHECK_UPGRADE=false, cdk8s-cli first asks the npm registry for its latest version.
        {
          cwd: scratch,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
        },
      );
    }
    const files: Record<string, string> = {};
    for (const name of fs.readdirSync(output).sort()) {
      files[name] = fs.readFileSync(path.join(output, name), 'utf8');
    }
    const expected = withBinding.map((crd) => `${crd.binding}-${crd.document.spec.group}.ts`).sort();
    if (JSON.stringify(Object.keys(files)) !== JSON.stringify(expected)) {
      throw new Error(`cdk8s import wrote ${Object.keys(files).join(', ')}; expected ${expected.join(', ')}`);
    }
    return files;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
