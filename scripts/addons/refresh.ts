/**
 * `npm run addons:refresh -- <name> [<version>]`: the maintainer's command that (re)vendors one
 * platform add-on. It fetches the upstream source named by the add-on's recipe
 * (scripts/addons/sources.ts), checks its hash against a public record, keeps only the recipe's files
 * in addons/<name>/source/, renders upstream's own output into addons/<name>/upstream.yaml, writes
 * the add-on's entry in addons/addons.lock.json and finally regenerates what is generated from the
 * CRDs (`npm run generate:crds`).
 *
 * - A Go module source: the zip from the module proxy (GOPROXY's first entry), whose go.sum hash must
 *   be the one the Go checksum database records.
 * - A chart repository source: the archive the repository's index.yaml names, whose SHA-256 must be
 *   the index's digest (what `helm pull --repo <repository> --version <version>` checks).
 *
 * `npm run addons:refresh -- --all` downloads nothing: it re-renders every add-on from its vendored
 * files at its locked version (after a change of helm, of the recipe's values, or of the YAML writer),
 * refusing an add-on whose vendored files no longer hash to the lock.
 *
 * An add-on's files and lock entry are written only once all of its refresh succeeded: a failure
 * leaves them as they were.
 */
import { LOCK_FILE, ADDONS_FOLDER, repositoryRoot, verifyAddon } from '../../lib/addons/lock';
import { readCommandLine } from '../../lib/commands/command-line';
import { RECIPES } from './sources';
import { Log, readLockFile, refreshAddon, regenerateFromCrds, rerenderAddon } from './vendor';

const USAGE = `usage: npm run addons:refresh -- <name> [<version>]
       npm run addons:refresh -- --all

Vendors the platform add-on <name> at <version> (default: the version in ${LOCK_FILE}): fetches its
upstream source (a Go module through the module proxy, checked against the Go checksum database, or a
chart from its chart repository, checked against the repository's digest), keeps the files its recipe
names in ${ADDONS_FOLDER}/<name>/source/, renders upstream's output into ${ADDONS_FOLDER}/<name>/upstream.yaml,
writes its entry in ${LOCK_FILE} and runs npm run generate:crds.
The recipes, and each version's documented Kubernetes range, are in scripts/addons/sources.ts.

  --all           re-render every add-on from its vendored files at its locked version (no download)
  --from <folder> for a chart from a chart repository that cannot be reached: take the unpacked chart
                  from <folder> (the chart folder of its source repository at the release's tag, or,
                  where the recipe names a sourceRepository, a checkout of that repository at the
                  commit that releases the chart); the lock then records no archive digest, and says why

The add-ons: ${Object.keys(RECIPES).sort().join(', ')}.
Charts are rendered by helm built from scripts/addons/helm/go.mod into .cache/addons/helm.`;

async function main(): Promise<number> {
  const { values, positionals } = readCommandLine('addons:refresh', USAGE, {
    options: { all: { type: 'boolean' }, from: { type: 'string' } },
    allowPositionals: true,
  });
  const root = repositoryRoot();
  const log: Log = (line) => process.stdout.write(`${line}\n`);
  if (values.all) {
    if (positionals.length > 0 || values.from !== undefined) {
      process.stderr.write(
        `addons:refresh: --all takes no add-on name and no --from (it downloads nothing)\n\n${USAGE}\n`,
      );
      return 2;
    }
    for (const name of Object.keys(readLockFile(root).addons).sort()) rerenderAddon(root, name, log);
  } else {
    if (positionals.length < 1 || positionals.length > 2) {
      process.stderr.write(`addons:refresh: give one add-on name and, optionally, its version\n\n${USAGE}\n`);
      return 2;
    }
    await refreshAddon(root, positionals[0], positionals[1], log, values.from);
  }
  const problems = Object.keys(readLockFile(root).addons)
    .sort()
    .flatMap((name) => verifyAddon(name, root, { everyByte: true }));
  if (problems.length > 0) throw new Error(problems.join('\n'));
  regenerateFromCrds(root, log);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`addons:refresh: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
