import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes each environment's files into outdir/<env>/ so that a failure at any point leaves the
 * previous output as it was: everything is written to a staging folder beside outdir first, and
 * only then is each environment's folder swapped in by rename. (The stock `cdk8s synth` deletes
 * the output folder before it starts; a failed synth then leaves nothing to review or apply.)
 *
 * Environments not named are left untouched, so `--env lab` rewrites only dist/lab/.
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
        fs.writeFileSync(target, content);
      }
    }
    fs.mkdirSync(outdir, { recursive: true });
    for (const env of environments.keys()) {
      swapIn(path.join(staging, env), path.join(outdir, env));
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
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
