import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeDistAtomically } from './write-dist';

let dir: string;
let outdir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-to-prod-write-dist-'));
  outdir = path.join(dir, 'dist');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (files: Record<string, string>) => writeDistAtomically(outdir, new Map([['lab', new Map(Object.entries(files))]]));
const inode = (file: string) => fs.statSync(path.join(outdir, 'lab', file)).ino;
const read = (file: string) => fs.readFileSync(path.join(outdir, 'lab', file), 'utf8');

test('a file that comes out the same is kept (linked, not written again); a changed one is written', () => {
  write({ 'a.yaml': 'kind: A\n', 'b.yaml': 'kind: B\n' });
  const [a, b] = [inode('a.yaml'), inode('b.yaml')];
  write({ 'a.yaml': 'kind: A\n', 'b.yaml': 'kind: B2\n', 'c.yaml': 'kind: C\n' });
  expect(inode('a.yaml')).toBe(a);
  expect(inode('b.yaml')).not.toBe(b);
  expect([read('a.yaml'), read('b.yaml'), read('c.yaml')]).toEqual(['kind: A\n', 'kind: B2\n', 'kind: C\n']);
  expect(fs.statSync(path.join(outdir, 'lab', 'a.yaml')).nlink).toBe(1);
  // Nothing else is left beside the output: no staging folder, no previous folder.
  expect(fs.readdirSync(dir)).toEqual(['dist']);
  expect(fs.readdirSync(outdir)).toEqual(['lab']);
});

test('a file edited by hand in the output, even to the same length, is written again', () => {
  write({ 'a.yaml': 'kind: A\n' });
  fs.writeFileSync(path.join(outdir, 'lab', 'a.yaml'), 'kind: X\n');
  write({ 'a.yaml': 'kind: A\n' });
  expect(read('a.yaml')).toBe('kind: A\n');
});

test('a symbolic link in the output is not followed: a regular file replaces it and its target is untouched', () => {
  write({ 'a.yaml': 'kind: A\n' });
  const elsewhere = path.join(dir, 'elsewhere.yaml');
  fs.writeFileSync(elsewhere, 'kind: A\n');
  fs.rmSync(path.join(outdir, 'lab', 'a.yaml'));
  fs.symlinkSync(elsewhere, path.join(outdir, 'lab', 'a.yaml'));
  write({ 'a.yaml': 'kind: A\n' });
  expect(fs.lstatSync(path.join(outdir, 'lab', 'a.yaml')).isFile()).toBe(true);
  expect(read('a.yaml')).toBe('kind: A\n');
  expect(fs.statSync(elsewhere).nlink).toBe(1);
});
