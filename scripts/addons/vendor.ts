/**
 * What `npm run addons:refresh` does (scripts/addons/refresh.ts is its command line): fetch an add-on's
 * upstream source and check its hash, stage the recipe's files, render upstream.yaml, then write
 * addons/<name>/ and the add-on's lock entry, only once everything is ready (a failure leaves addons/
 * as it was).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import {
  ADDONS_FOLDER,
  AddonLock,
  AddonLockEntry,
  AddonRender,
  AddonSource,
  filesUnder,
  LOCK_FILE,
  sha256,
  treeHash,
} from '../../lib/addons/lock';
import { downloadModule, filesAt } from './go-module';
import { ensureHelm, pinnedHelmVersion } from './helm';
import { downloadChart, readChartArchive } from './helm-repository';
import { imageEntries, imagesOf, renderUpstream, upstreamYaml } from './render';
import { AddonRecipe, recipeOf } from './sources';

export type Log = (line: string) => void;

/** Keys sorted at every level, so the lock's bytes depend on its content only. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The lock file's bytes: 2-space JSON, keys sorted, a final new line. */
export function lockText(lock: AddonLock): string {
  return `${JSON.stringify(sortedKeys(lock), null, 2)}\n`;
}

export function readLockFile(root: string): AddonLock {
  const file = path.join(root, LOCK_FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as AddonLock) : { addons: {} };
}

/**
 * The newest Kubernetes minor the environments name (`kubernetesVersion: '1.N'` in lib/environments/),
 * which a chart is rendered for. Read from the files rather than by loading the environments: their
 * validation checks the add-ons, which may be the very thing being refreshed.
 */
export function newestEnvironmentMinor(root: string): string {
  const folder = path.join(root, 'lib', 'environments');
  const minors = fs
    .readdirSync(folder)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .flatMap((f) => [...fs.readFileSync(path.join(folder, f), 'utf8').matchAll(/^ {2}kubernetesVersion: '(1\.\d+)'/gm)])
    .map((m) => m[1]);
  if (minors.length === 0) throw new Error('lib/environments/: no environment states kubernetesVersion');
  return minors.sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))[minors.length - 1];
}

/** Where the files come from, fetched and checked: the files by their path in the source, and the source's lock fields. */
async function fetchSource(
  name: string,
  recipe: AddonRecipe,
  version: string,
  log: Log,
  root: string,
  fromFolder: string | undefined,
): Promise<{ files: Map<string, Buffer>; source: AddonSource }> {
  const { source } = recipe;
  if (source.kind === 'go-module') {
    if (fromFolder !== undefined)
      throw new Error(
        `${name}: --from is for charts from a chart repository; ${name} is a Go module, which the proxy serves`,
      );
    const moduleVersion = `v${version}`;
    log(`${name}: downloading ${source.module}@${moduleVersion} from the Go module proxy`);
    const { files, moduleSum } = await downloadModule(source.module, moduleVersion);
    log(`${name}: ${moduleSum}, as the Go checksum database records`);
    return {
      files: filesAt(files, `${source.module}@${moduleVersion}/`, source.paths),
      source: {
        kind: 'go-module',
        module: source.module,
        moduleVersion,
        moduleSum,
        paths: source.paths,
        userUrl: source.userUrl(version),
      },
    };
  }
  if (fromFolder !== undefined && source.sourceRepository !== undefined) {
    const layout = source.sourceRepository;
    const commit = layout.releaseCommits[version];
    if (commit === undefined) {
      throw new Error(
        `${name} ${version}: scripts/addons/sources.ts records no commit of ${layout.repository} that releases chart ${version} ` +
          `(sourceRepository.releaseCommits has ${Object.keys(layout.releaseCommits).join(', ')}); find the commit whose ` +
          `${layout.render.chart}/Chart.yaml says version ${version} and record it there first`,
      );
    }
    log(`${name}: taking chart ${source.chart} ${version} from ${fromFolder} (${source.chartSourceTag(version)})`);
    const chartYaml = `${layout.render.chart}/Chart.yaml`;
    checkChartYaml(path.join(fromFolder, chartYaml), source.chart, version, `--from ${fromFolder}: ${chartYaml}`);
    return {
      files: repositoryFiles(fromFolder, layout.paths),
      source: {
        kind: 'helm-repository',
        repository: source.repository,
        chart: source.chart,
        archiveDigest: null,
        archiveDigestNote:
          `The chart repository's index was not reachable where this was vendored, so no archive or digest was read: the files are ` +
          `${layout.paths.join(' and ')} of ${layout.repository} at commit ${commit}, the chart release of ${version}, as that repository holds them, ` +
          `and sourceHash is their only hash. ${layout.note} ` +
          `npm run addons:refresh -- ${name} ${version}, where the repository is reachable, vendors the archive instead, checks its digest and records it.`,
        paths: layout.paths,
        userUrl: source.userUrl(version),
      },
    };
  }
  if (fromFolder !== undefined) {
    log(`${name}: taking chart ${source.chart} ${version} from ${fromFolder} (${source.chartSourceTag(version)})`);
    return {
      files: chartFolderFiles(fromFolder, source.chart, version, () => ensureHelm(root, log)),
      source: {
        kind: 'helm-repository',
        repository: source.repository,
        chart: source.chart,
        archiveDigest: null,
        archiveDigestNote:
          `The chart repository was not reachable where this was vendored, so the archive and the digest its index.yaml states were not read: ` +
          `the files are ${source.chartSourceTag(version)}, packaged by the pinned helm as the chart's release packages it ` +
          `(its .helmignore applied, Chart.yaml as helm writes it), and sourceHash is their only hash. ` +
          `npm run addons:refresh -- ${name} ${version}, where the repository is reachable, downloads the archive, checks its digest and records it.`,
        paths: source.paths,
        userUrl: source.userUrl(version),
      },
    };
  }
  log(`${name}: downloading chart ${source.chart} ${version} from ${source.repository}`);
  const { files, archiveDigest } = await downloadChart(source.repository, source.chart, version);
  log(`${name}: ${archiveDigest}, as the repository's index.yaml states`);
  return {
    files,
    source: {
      kind: 'helm-repository',
      repository: source.repository,
      chart: source.chart,
      archiveDigest,
      paths: source.paths,
      userUrl: source.userUrl(version),
    },
  };
}

/**
 * The files of a chart folder as its archive in the chart repository holds them: packaged by the
 * pinned helm (`helm package`, which chart repositories' release tools run), so the chart's
 * .helmignore applies (Traefik's leaves out its tests/) and Chart.yaml is written as helm writes it.
 * The folder's Chart.yaml must name the chart and the version. Keyed as in the archive (`<chart>/...`).
 */
function chartFolderFiles(folder: string, chart: string, version: string, helm: () => string): Map<string, Buffer> {
  if (!fs.existsSync(path.join(folder, 'Chart.yaml'))) throw new Error(`--from ${folder}: no Chart.yaml there`);
  checkChartYaml(path.join(folder, 'Chart.yaml'), chart, version, `--from ${folder}: its Chart.yaml`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'addon-package-'));
  try {
    execFileSync(helm(), ['package', folder, '--destination', work], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: work,
        HELM_CACHE_HOME: work,
        HELM_CONFIG_HOME: work,
        HELM_DATA_HOME: work,
      },
    });
    const archive = fs.readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (archive === undefined) throw new Error(`--from ${folder}: helm package wrote no archive`);
    return readChartArchive(fs.readFileSync(path.join(work, archive)), chart);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Refuses a Chart.yaml that is not chart@version (`what` names it in the message), so that --from
 * cannot vendor another chart or another version under this one's name.
 */
function checkChartYaml(file: string, chart: string, version: string, what: string): void {
  if (!fs.existsSync(file)) throw new Error(`${what}: no such file`);
  const text = fs.readFileSync(file, 'utf8');
  if (
    !new RegExp(`^name: ['"]?${chart}['"]?\\s*$`, 'm').test(text) ||
    !new RegExp(`^version: ['"]?v?${version.replace(/\./g, '\\.')}['"]?\\s*$`, 'm').test(text)
  ) {
    throw new Error(`${what} is not chart "${chart}" version ${version}`);
  }
}

/** The files at `paths` (files or folders) of a source repository's checkout, byte for byte, keyed by their path in it. */
function repositoryFiles(folder: string, paths: readonly string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of paths) {
    const at = path.join(folder, entry);
    if (!fs.existsSync(at)) throw new Error(`--from ${folder}: no ${entry} there`);
    const found = fs.statSync(at).isDirectory() ? filesUnder(at).map((file) => `${entry}/${file}`) : [entry];
    for (const file of found) files.set(file, fs.readFileSync(path.join(folder, file)));
  }
  return files;
}

/** Whether the vendored source is the recipe's source-repository layout (`--from` a checkout), by the paths it records. */
function fromSourceRepository(recipe: AddonRecipe, source: AddonSource): boolean {
  const layout = recipe.source.kind === 'helm-repository' ? recipe.source.sourceRepository : undefined;
  return layout !== undefined && source.kind === 'helm-repository' && isDeepStrictEqual(source.paths, layout.paths);
}

/** The lock's render field for a recipe at a version, for the source it was vendored from. */
function renderOf(recipe: AddonRecipe, version: string, source: AddonSource): AddonRender {
  const { render } = recipe;
  if (render.tool === 'manifest') return render;
  const { chartMetadata, ...rest } = render;
  const layout = recipe.source.kind === 'helm-repository' ? recipe.source.sourceRepository : undefined;
  return {
    ...rest,
    ...(layout !== undefined && fromSourceRepository(recipe, source) ? layout.render : {}),
    helm: pinnedHelmVersion(),
    ...(chartMetadata === undefined
      ? {}
      : {
          chartMetadata: {
            ...(chartMetadata.version ? { version: chartMetadata.version(version) } : {}),
            ...(chartMetadata.appVersion ? { appVersion: chartMetadata.appVersion(version) } : {}),
            note: chartMetadata.note,
          },
        }),
  };
}

/** A path inside source/ that stays inside it. */
function safeRelative(file: string): string {
  if (file === '' || file.startsWith('/') || file.split('/').some((part) => part === '..' || part === '')) {
    throw new Error(`refusing the source path "${file}": it would leave the add-on's source folder`);
  }
  return file;
}

/** Refuses a version whose documented Kubernetes range the recipe does not record: the lock would claim a range nobody read. */
function checkRangeRecorded(name: string, recipe: AddonRecipe, version: string): void {
  if (recipe.kubernetes.forVersion !== version) {
    throw new Error(
      `${name} ${version}: scripts/addons/sources.ts records the documented Kubernetes range of ${recipe.kubernetes.forVersion}; ` +
        `read ${version}'s range in the add-on's documentation and record it there (kubernetes.forVersion, min, max, documentation) first`,
    );
  }
}

/**
 * Renders the add-on from the files in sourceDir and returns its lock entry; upstream.yaml is written
 * into outDir.
 */
export function renderEntry(
  name: string,
  recipe: AddonRecipe,
  version: string,
  source: AddonSource,
  sourceDir: string,
  outDir: string,
  root: string,
  log: Log,
): AddonLockEntry {
  checkRangeRecorded(name, recipe, version);
  const render = renderOf(recipe, version, source);
  const helm =
    render.tool === 'helm' ? { helm: ensureHelm(root, log), kubeVersion: newestEnvironmentMinor(root) } : undefined;
  const documents = renderUpstream(render, sourceDir, helm);
  const yaml = upstreamYaml(documents);
  fs.writeFileSync(path.join(outDir, 'upstream.yaml'), yaml);
  const { min, max, documentation, note } = recipe.kubernetes;
  const kubernetes = { min, max, documentation, ...(note === undefined ? {} : { note }) };
  const where =
    render.tool === 'manifest' ? render.files.join(', ') : `the chart's values and templates (${render.chart})`;
  return {
    version,
    ...(recipe.role === undefined ? {} : { role: recipe.role }),
    project: recipe.project,
    source,
    render,
    sourceHash: treeHash(sourceDir),
    upstreamHash: sha256(yaml),
    kubernetes,
    images: imageEntries(imagesOf(documents), where),
  };
}

/** Writes one add-on's files and lock entry, replacing what was there. */
function install(root: string, name: string, staged: string, entry: AddonLockEntry): void {
  const folder = path.join(root, ADDONS_FOLDER, name);
  fs.rmSync(path.join(folder, 'source'), { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  fs.cpSync(path.join(staged, 'source'), path.join(folder, 'source'), { recursive: true });
  fs.copyFileSync(path.join(staged, 'upstream.yaml'), path.join(folder, 'upstream.yaml'));
  const lock = readLockFile(root);
  fs.writeFileSync(path.join(root, LOCK_FILE), lockText({ addons: { ...lock.addons, [name]: entry } }));
}

/** Fetches, checks, renders and writes one add-on. */
export async function refreshAddon(
  root: string,
  name: string,
  version: string | undefined,
  log: Log,
  fromFolder?: string,
): Promise<void> {
  const recipe = recipeOf(name);
  const locked = readLockFile(root).addons[name];
  const wanted = (version ?? locked?.version)?.replace(/^v/, '');
  if (wanted === undefined) throw new Error(`${name} is not in ${LOCK_FILE} yet: name the version to vendor`);
  checkRangeRecorded(name, recipe, wanted);
  const started = Date.now();
  const staged = fs.mkdtempSync(path.join(os.tmpdir(), `addon-${name}-`));
  try {
    const { files, source } = await fetchSource(name, recipe, wanted, log, root, fromFolder);
    for (const [file, bytes] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const target = path.join(staged, 'source', safeRelative(file));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, bytes);
    }
    const entry = renderEntry(name, recipe, wanted, source, path.join(staged, 'source'), staged, root, log);
    install(root, name, staged, entry);
    log(
      `${name} ${wanted}: ${files.size} files vendored, upstream.yaml rendered, ${LOCK_FILE} written (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } finally {
    fs.rmSync(staged, { recursive: true, force: true });
  }
}

/** Re-renders one add-on from its vendored files, which must still be the locked ones. */
export function rerenderAddon(root: string, name: string, log: Log): void {
  const recipe = recipeOf(name);
  const locked = readLockFile(root).addons[name];
  if (locked === undefined)
    throw new Error(`${name} is not in ${LOCK_FILE}: run npm run addons:refresh -- ${name} <version>`);
  const sourceDir = path.join(root, ADDONS_FOLDER, name, 'source');
  const actual = treeHash(sourceDir);
  if (actual !== locked.sourceHash) {
    throw new Error(
      `${name}: sourceHash: ${ADDONS_FOLDER}/${name}/source/ hashes to ${actual}, but ${LOCK_FILE} records ${locked.sourceHash}; refusing to render files that are not the vendored ones`,
    );
  }
  const staged = fs.mkdtempSync(path.join(os.tmpdir(), `addon-${name}-`));
  try {
    fs.cpSync(sourceDir, path.join(staged, 'source'), { recursive: true });
    const entry = renderEntry(
      name,
      recipe,
      locked.version,
      locked.source,
      path.join(staged, 'source'),
      staged,
      root,
      log,
    );
    install(root, name, staged, entry);
    log(`${name} ${locked.version}: upstream.yaml rendered again`);
  } finally {
    fs.rmSync(staged, { recursive: true, force: true });
  }
}

/** `npm run generate:crds` when the project has it: what is generated from the add-ons' CRDs follows them. */
export function regenerateFromCrds(root: string, log: Log): void {
  const scripts = (
    JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }
  ).scripts;
  if (scripts?.['generate:crds'] === undefined) {
    log('package.json has no generate:crds script: nothing generated from the CRDs to refresh');
    return;
  }
  log('running npm run generate:crds');
  execFileSync('npm', ['run', '-s', 'generate:crds'], { cwd: root, stdio: 'inherit' });
}
