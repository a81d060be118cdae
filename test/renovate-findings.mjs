// What Renovate makes of this repository, by Renovate's own code (the renovate package pinned in
// tools/renovate/, which test/renovate.test.ts installs there), for test/renovate.test.ts: the
// configuration with its presets resolved, the files each enabled manager matches (its
// managerFilePatterns, after ignorePaths), the dependencies each custom manager extracts from them,
// and the packageRules that apply to each of those and to the dependencies the test gives on
// standard input (the npm and Go modules it reads itself).
//
// It takes the steps of Renovate's extraction (lib/workers/repository/extract/ in Renovate's source)
// on the files git lists, without a platform or the network. Renovate is an ES module, which jest's
// CommonJS cannot import, hence this separate program. Renovate 44 is built for Node.js 24: on
// Node.js 20 its managers' index (and with it the gomod and npm extractors) does not load, so only
// modules that do are imported, and the test reads the package.json and go.mod files itself.
//
// Usage: node test/renovate-findings.mjs <repository root> <config file> < dependencies.json
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const [root, configFile] = process.argv.slice(2);
const renovate = join(root, 'tools', 'renovate', 'node_modules', 'renovate', 'dist');
if (!existsSync(renovate)) {
  process.stderr.write(
    'Renovate is not installed in tools/renovate/: run `npm ci --prefix tools/renovate` in the repository (test/renovate.test.ts does it itself).\n',
  );
  process.exit(1);
}
const load = (module) => import(join(renovate, module));

const { resolveConfigPresets } = await load('config/presets/index.js');
const { mergeChildConfig } = await load('config/utils.js');
const { getConfig } = await load('config/defaults.js');
const { getMatchingFiles } = await load('workers/repository/extract/file-match.js');
const { extractPackageFile } = await load('modules/manager/custom/regex/index.js');
const { applyPackageRules } = await load('util/package-rules/index.js');

const given = JSON.parse(readFileSync(0, 'utf8'));
const repositoryConfig = JSON.parse(readFileSync(configFile, 'utf8'));
const { config } = await resolveConfigPresets(mergeChildConfig(getConfig(), repositoryConfig));

// Every file of the working tree that git would commit: tracked, and new ones not ignored.
const fileList = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter(Boolean)
  .sort();

// A manager's configuration: the repository's, with the manager's own block (its defaults, such as
// managerFilePatterns, come from getConfig()) merged in, as getManagerConfig does.
const managerConfigOf = (manager) => mergeChildConfig({ ...config, manager }, config[manager]);

const rulesFor = async (managerConfig, dep) => {
  const ruled = await applyPackageRules({ ...managerConfig, ...dep });
  return { enabled: ruled.enabled !== false, groupName: ruled.groupName ?? null, prBodyNotes: ruled.prBodyNotes ?? [] };
};

const matchedFiles = {};
const found = [];
for (const manager of config.enabledManagers) {
  if (!manager.startsWith('custom.')) {
    matchedFiles[manager] = getMatchingFiles(managerConfigOf(manager), fileList);
    continue;
  }
  const customs = config.customManagers.filter((custom) => `custom.${custom.customType}` === manager);
  for (const custom of customs) {
    const managerConfig = mergeChildConfig(managerConfigOf(manager.slice('custom.'.length)), custom);
    for (const packageFile of getMatchingFiles(managerConfig, fileList)) {
      const extracted = extractPackageFile(readFileSync(join(root, packageFile), 'utf8'), packageFile, managerConfig);
      for (const dep of extracted?.deps ?? []) {
        // Renovate names a dependency by depName, or by packageName where only that is set.
        const named = { ...dep, depName: dep.depName ?? dep.packageName, packageName: dep.packageName ?? dep.depName };
        found.push({
          manager,
          // Which custom manager: its description (the presets may add custom managers of their own).
          description: custom.description ?? null,
          packageFile,
          depName: named.depName,
          packageName: named.packageName,
          currentValue: dep.currentValue,
          datasource: dep.datasource,
          registryUrl: dep.registryUrls?.[0] ?? null,
          ...(await rulesFor(managerConfig, { ...named, packageFile })),
        });
      }
    }
  }
}

const ruled = [];
for (const dep of given.deps) {
  ruled.push({ ...dep, ...(await rulesFor(managerConfigOf(dep.manager), dep)) });
}

process.stdout.write(JSON.stringify({ ignorePaths: config.ignorePaths, matchedFiles, found, ruled }, null, 1) + '\n');
