import * as fs from 'fs';
import * as path from 'path';
import { AddonLockEntry, DELIVERY_ENGINE, readLock, repositoryRoot } from '../../lib/addons/lock';

/** The README's rows of the add-ons table: each row's cells. */
function tableRows(): string[][] {
  const text = fs.readFileSync(path.join(repositoryRoot(), 'addons', 'README.md'), 'utf8');
  const section = text.slice(text.indexOf('## The add-ons'), text.indexOf('\n## ', text.indexOf('## The add-ons') + 1));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| add-on |'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

/** How the table writes an entry's source and Kubernetes range. */
function sourceText(entry: AddonLockEntry): string {
  const s = entry.source;
  return s.kind === 'go-module'
    ? `Go module \`${s.module}@${s.moduleVersion}\`: ${s.paths.map((p) => `\`${p}\``).join(', ')}`
    : `chart \`${s.chart}\` of ${s.repository}`;
}
function rangeText(entry: AddonLockEntry): string {
  const { min, max } = entry.kubernetes;
  if (max === null) return `${min} and newer (no maximum stated)`;
  return min === max ? `${min} only` : `${min} to ${max}`;
}

test("addons/README.md's table lists every locked add-on with the lock's version, source and Kubernetes range", () => {
  const lock = readLock();
  const rows = tableRows();
  expect(rows.map((cells) => cells[0])).toEqual(Object.keys(lock.addons).sort());
  for (const [name, , version, source, range] of rows) {
    const entry = lock.addons[name];
    expect({ name, version, source, range }).toEqual({
      name,
      version: entry.version,
      source: sourceText(entry),
      range: rangeText(entry),
    });
  }
});

test("the table says which entries are delivery engines, as the lock's role does", () => {
  const lock = readLock();
  const rows = tableRows();
  const engines = Object.keys(lock.addons).filter((name) => lock.addons[name].role === DELIVERY_ENGINE);
  expect(engines.length).toBeGreaterThan(0);
  expect(
    rows.filter(([, purpose]) => purpose.startsWith('delivery engine (role `delivery-engine`)')).map(([name]) => name),
  ).toEqual(engines.sort());
});
