/**
 * Every vendored add-on renders again to the same upstream.yaml and lock entry: the lock describes
 * what its files give, with the helm pinned in scripts/addons/helm/go.mod (built into .cache/addons/helm
 * on the first run: about two minutes on two cores; later runs reuse it).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addonFolder, addonNames, readLock, repositoryRoot } from '../../lib/addons/lock';
import { recipeOf } from './sources';
import { renderEntry } from './vendor';

jest.setTimeout(15 * 60_000);

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'addons-rerender-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test.each(addonNames())('%s renders again to its upstream.yaml and lock entry, byte for byte', (name) => {
  const root = repositoryRoot();
  const locked = readLock(root).addons[name];
  const dir = fs.mkdtempSync(path.join(out, `${name}-`));
  const entry = renderEntry(
    name,
    recipeOf(name),
    locked.version,
    locked.source,
    path.join(addonFolder(name), 'source'),
    dir,
    root,
    () => {},
  );
  expect(entry).toEqual(locked);
  expect(
    fs
      .readFileSync(path.join(dir, 'upstream.yaml'))
      .equals(fs.readFileSync(path.join(addonFolder(name), 'upstream.yaml'))),
  ).toBe(true);
});
