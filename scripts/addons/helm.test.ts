import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureHelm, pinnedHelmVersion } from './helm';

test('the helm release is the one scripts/addons/helm/go.mod requires', () => {
  expect(pinnedHelmVersion()).toBe('v3.22.1');
});

test('without Go, building helm stops with what is needed, and no stamp claims a build', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'addons-helm-'));
  const savedPath = process.env.PATH;
  process.env.PATH = path.join(root, 'no-such-folder');
  const lines: string[] = [];
  try {
    expect(() => ensureHelm(root, (line) => lines.push(line))).toThrow(
      'building helm needs Go (the go command, 1.26 or newer, as scripts/addons/helm/go.mod says) on PATH',
    );
    expect(lines).toEqual([
      expect.stringMatching(/^building helm v3\.22\.1 from scripts\/addons\/helm\/go.mod into .cache\/addons\/helm/),
    ]);
    expect(fs.existsSync(path.join(root, '.cache', 'addons', 'helm.stamp'))).toBe(false);
  } finally {
    process.env.PATH = savedPath;
    fs.rmSync(root, { recursive: true, force: true });
  }
});
