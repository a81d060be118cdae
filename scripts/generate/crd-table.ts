/**
 * The table in generated/README.md of each generated CRD and the add-on it comes from. It is
 * written by `npm run generate:crds` between two marker lines, so it changes with the lock, and
 * scripts/generate/pinned-crds.test.ts fails while it differs.
 */
import * as path from 'path';
import { PinnedCrd, REPO_ROOT } from './pinned-crds';

export const GENERATED_README = path.join(REPO_ROOT, 'generated', 'README.md');

const BEGIN = '<!-- The table below is written by npm run generate:crds (scripts/generate/crd-table.ts). -->\n';
const END = '<!-- End of the table written by npm run generate:crds. -->\n';

/** The table's Markdown: one row per CRD, sorted by name. */
export function crdTable(crds: readonly PinnedCrd[]): string {
  const rows = crds.map((crd) => {
    const binding = crd.binding ? `\`${crd.binding}-${crd.document.spec.group}.ts\`` : '';
    return `| \`${crd.name}\` | ${crd.addon} | ${crd.addonVersion} | \`crd-${crd.fileBase}.js\` | ${binding} |`;
  });
  return ['| CRD | add-on | version | validator | binding |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
}

/** The README's text with the table between its markers replaced; throws if a marker is missing. */
export function withCrdTable(readme: string, crds: readonly PinnedCrd[]): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) {
    throw new Error(
      `generated/README.md: the marker lines of the CRD table are missing ("${BEGIN.trim()}" ... "${END.trim()}")`,
    );
  }
  return readme.slice(0, begin + BEGIN.length) + crdTable(crds) + readme.slice(end);
}
