/**
 * A process that writes an output folder with writeDistAtomically, for tests that kill it partway
 * (lib/synth/write-dist.test.ts, with LAB_TO_PROD_WRITE_DIST_STOP_AT).
 *
 * Usage: node speed/tsrun.js test/write-dist-child.ts <outdir> <folders.json>
 * where folders.json is { "<folder>": { "<file>": "<content>", ... }, ... }, in the order to write.
 */
import * as fs from 'fs';
import { writeDistAtomically } from '../lib/synth/write-dist';

const [outdir, foldersFile] = process.argv.slice(2);
const folders: Record<string, Record<string, string>> = JSON.parse(fs.readFileSync(foldersFile, 'utf8'));
writeDistAtomically(
  outdir,
  new Map(Object.entries(folders).map(([name, files]) => [name, new Map(Object.entries(files))])),
);
