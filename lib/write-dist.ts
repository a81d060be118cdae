import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes each folder's files into outdir/<folder>/ (dist/lab/, dist/lab-bootstrap/, ...) so that a
 * failure at any point leaves the previous output as it was: everything is written to a staging
 * folder beside outdir first, and only then is each folder swapped in by rename. (The stock
 * `cdk8s synth` deletes the output folder before it starts; a failed synth then leaves nothing to
 * review or apply.) A folder given no files is removed: an environment that no longer has bootstrap
 * files leaves no stale ones behind.
 *
 * Folders not named are left untouched, so `--env lab` rewrites only dist/lab/ and dist/lab-bootstrap/.
 */
export function writeDistAtomically(outdir: string, environments: ReadonlyMap<string, ReadonlyMap<string, string>>): void {
  const parent = path.dirname(path.resolve(outdir));
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(outdir)}-staging-`));
  try {
    // Each folder is made once, not once per file (a thousand workloads write a thousand files).
    const folders = new Set<string>();
    for (const [env, files] of environments) {
      for (const [file, content] of files) {
        const target = path.join(staging, env, file);
        const folder = path.dirname(target);
        if (!folders.has(folder)) {
          fs.mkdirSync(folder, { recursive: true });
          folders.add(folder);
        }
        const bytes = Buffer.from(content);
        if (!linkedUnchanged(path.join(outdir, env, file), target, bytes)) {
          fs.writeFileSync(target, bytes);
        }
      }
    }
    fs.mkdirSync(outdir, { recursive: true });
    for (const [env, files] of environments) {
      if (files.size > 0) {
        swapIn(path.join(staging, env), path.join(outdir, env));
      } else {
        fs.rmSync(path.join(outdir, env), { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Stages a file that is already in the output with exactly these bytes as a hard link to it, instead
 * of writing it again. After an edit most files come out the same: their data is neither written nor,
 * when the old folder is removed, freed (it is still linked), and they keep their inode and times, as
 * a file nobody changed does. Anything but a regular file with the same bytes, or a file system
 * without hard links, is written as usual.
 */
function linkedUnchanged(previous: string, target: string, bytes: Buffer): boolean {
  try {
    const stat = fs.lstatSync(previous);
    if (!stat.isFile() || stat.size !== bytes.length || !fs.readFileSync(previous).equals(bytes)) {
      return false;
    }
    fs.linkSync(previous, target);
    return true;
  } catch {
    return false;
  }
}

/** Replaces `target` by `fresh`, restoring the old folder if the swap fails halfway. */
function swapIn(fresh: string, target: string): void {
  const previous = `${target}.previous`;
  fs.rmSync(previous, { recursive: true, force: true });
  const hadPrevious = fs.existsSync(target);
  if (hadPrevious) {
    fs.renameSync(target, previous);
  }
  try {
    fs.renameSync(fresh, target);
  } catch (error) {
    if (hadPrevious) {
      fs.renameSync(previous, target);
    }
    throw error;
  }
  fs.rmSync(previous, { recursive: true, force: true });
}
