#!/usr/bin/env node
/**
 * Runs a TypeScript entry point straight from its sources: esbuild bundles the project's own files,
 * and, in a second script, the packages they import; Node runs the two. No type checking here: that
 * is `npm run typecheck`. This is what makes `npm run synth` and `cdk8s synth` fast; ts-node, the stock
 * cdk8s app command, type-checks and compiles file by file.
 *
 * Usage: node speed/tsrun.js <entry.ts> [args...]
 *
 * Both bundles are cached under node_modules/.cache/lab-to-prod-tsrun/ (git-ignored, never dist/), so
 * that a run after an unchanged run skips esbuild and V8's compiling; no cached bundle can be stale:
 *
 * - For each bundle a run records which files esbuild read (its metafile), each with the SHA-256 of
 *   its content and its identity on disk (inode, size, modification and change time), plus the
 *   names in every folder those files sit in (and the folders above them up to the project root), so
 *   that a new file that would now win module resolution (`./x.ts` beside `./x/index.ts`) or a
 *   changed tsconfig.json/package.json counts as a change too. The next run checks every file's
 *   identity, reads and hashes those whose identity changed, and reuses the bundle only if every
 *   content is the same. Records are keyed by the entry (or the list of packages), the working
 *   folder, the Node and V8 versions, esbuild's version and the source of this file and of the one
 *   rewrite it makes to esbuild's output (tsrun-linear-maps.js), so an upgrade of any of them starts
 *   afresh.
 * - An edit to a project file bundles the project again (about as long as esbuild always took); the
 *   packages' bundle, the larger, stays until a package changes.
 * - V8's code cache of each bundle (vm.Script `cachedData`): the bytecode of every function the run
 *   compiled, saved once after a run that had none, so the next run skips parsing and compiling.
 *
 * Stack traces still point at the TypeScript lines (and the packages' own files): the source maps are
 * kept beside the bundles and read only when a stack trace is formatted (an error), not on every run.
 *
 * LAB_TO_PROD_TSRUN_CACHE=off runs without any cache (esbuild every time, nothing written);
 * LAB_TO_PROD_TSRUN_CACHE=<folder> puts the cache elsewhere (tests use a temporary one);
 * LAB_TO_PROD_TSRUN_VERBOSE=1 says on stderr where each bundle came from and why.
 *
 * What this relies on in esbuild, Node and V8, and the tests that fail when an upgrade breaks it:
 * speed/README.md.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');
const vm = require('vm');
const url = require('url');
const { withLinearMapBuilds } = require('./tsrun-linear-maps');

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node speed/tsrun.js <entry.ts> [args...]');
  process.exit(2);
}
const file = path.resolve(entry);
const PROJECT_ROOT = path.resolve(__dirname, '..');
const CACHE_SETTING = process.env.LAB_TO_PROD_TSRUN_CACHE;
const CACHE_DIR =
  CACHE_SETTING === 'off'
    ? undefined
    : CACHE_SETTING || path.join(PROJECT_ROOT, 'node_modules', '.cache', 'lab-to-prod-tsrun');
const say = process.env.LAB_TO_PROD_TSRUN_VERBOSE === '1' ? (line) => console.error(`tsrun: ${line}`) : () => {};
/** How many bundles (and records) the cache keeps; the least recently used go first. */
const KEEP_ENTRIES = 24;
/** Files esbuild consults besides the sources; their content is part of what a bundle depends on. */
const CONFIG_FILES = ['tsconfig.json', 'jsconfig.json', 'package.json'];

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

function readOrUndefined(p, encoding) {
  try {
    return fs.readFileSync(p, encoding);
  } catch {
    return undefined;
  }
}

/** Writes a file so that a concurrent reader sees all of it or none of it. */
function writeAtomically(target, data) {
  const temporary = `${target}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, target);
}

function esbuildVersion() {
  const manifest = require.resolve('esbuild/package.json', { paths: [PROJECT_ROOT, path.dirname(file)] });
  return JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
}

/** What every bundle depends on besides its sources: the tools, and where names resolve from. */
function versionsKey() {
  return {
    cwd: process.cwd(),
    node: process.version,
    v8: process.versions.v8,
    arch: process.arch,
    esbuild: esbuildVersion(),
    tsrun: sha256(fs.readFileSync(__filename)),
    rewrite: sha256(fs.readFileSync(require.resolve('./tsrun-linear-maps'))),
  };
}

// --- What a bundle depends on: files, folder listings, config files -------------------------------

/** A folder's entries as module resolution sees them (hidden names cannot be found by `./x`). */
function folderListing(dir) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 'missing';
  }
  const names = entries
    .filter((e) => !e.name.startsWith('.'))
    .map((e) => `${e.name}${e.isDirectory() ? '/' : ''}`)
    .sort();
  const configs = CONFIG_FILES.filter((name) => names.includes(name)).map(
    (name) => `${name}:${sha256(readOrUndefined(path.join(dir, name)) ?? 'unreadable')}`,
  );
  return sha256([...names, ...configs].join('\n'));
}

/** The folders whose listings matter: those holding an input and the ones above them up to the root. */
function foldersOf(inputs) {
  const folders = new Set();
  for (const input of inputs) {
    for (let dir = path.dirname(input); !folders.has(dir); dir = path.dirname(dir)) {
      folders.add(dir);
      if (dir === PROJECT_ROOT || !dir.startsWith(PROJECT_ROOT + path.sep)) {
        break;
      }
    }
  }
  return [...folders].sort();
}

/**
 * A file's identity on disk: inode, size, modification and change times. Any write to a file changes
 * its change time (ctime), which no program can set back, so an unchanged identity means unchanged
 * content; only when it differs is the file read and hashed.
 */
function identityOf(file) {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return 'missing';
  }
}

const contentHash = (file) => sha256(readOrUndefined(file) ?? 'missing');

/** The record of a build: every input with its hash and identity, and every relevant folder listing. */
function describeInputs(inputs) {
  return {
    files: inputs.map((input) => [input, contentHash(input), identityOf(input)]),
    folders: foldersOf(inputs).map((dir) => [dir, folderListing(dir)]),
  };
}

/**
 * Whether every input and folder is as recorded; says which one is not. A file whose identity changed
 * but whose content did not (a checkout, a touch) is still valid; its new identity is recorded, so the
 * next run need not read it again.
 */
function stillValid(record, recordFile) {
  let reidentified = false;
  for (const entry of record.files) {
    const [input, hash, identity] = entry;
    const now = identityOf(input);
    if (now === identity) {
      continue;
    }
    if (contentHash(input) !== hash) {
      say(`${path.relative(process.cwd(), input)} changed`);
      return false;
    }
    entry[2] = now;
    reidentified = true;
  }
  const changedFolder = record.folders.find(([dir, listing]) => folderListing(dir) !== listing);
  if (changedFolder) {
    say(`the files in ${path.relative(process.cwd(), changedFolder[0]) || '.'} changed`);
    return false;
  }
  if (reidentified) {
    try {
      writeAtomically(recordFile, JSON.stringify(record));
    } catch {
      // Only the next run's speed suffers.
    }
  }
  return true;
}

// --- Building and caching the bundles ---------------------------------------------------------------

/*
 * Two bundles, each cached on its own. The project's files form one, with the packages left out
 * (`require('cdk8s')` stays a call); the packages they import form the other. After an edit only the
 * first is made again, in about as long as before; the second, the larger, stays with its code cache
 * until a package changes. Running one script for the packages instead of 150 or so modules through
 * Node's loader (resolving, reading and compiling each) took a third off a synth.
 */

/** The name of the generated source that requires every package (not a file). */
const PACKAGES_SOURCE = '<tsrun: the packages>';

let esbuildModule;
const esbuild = () => (esbuildModule ??= require('esbuild'));

function bundleWith(options) {
  const result = esbuild().buildSync({
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The map points at the files on disk, so it does not carry their text (that made the bundle
    // eight times larger). It stays out of the bundle and is read only for a stack trace.
    sourcemap: 'external',
    sourcesContent: false,
    // Never written (write: false); it only names the bundle, so the map's paths resolve from the
    // entry's own folder.
    outfile: `${file}.js`,
    write: false,
    metafile: true,
    logLevel: 'error',
    ...options,
  });
  // Generated mapping code made linear (speed/tsrun-linear-maps.js): the same output, sooner.
  const { code, rewritten } = withLinearMapBuilds(result.outputFiles.find((f) => f.path.endsWith('.js')).text);
  say(`${rewritten} generated field mapping(s) made linear`);
  const map = result.outputFiles.find((f) => f.path.endsWith('.js.map')).text;
  const metafileInputs = Object.keys(result.metafile.inputs)
    // The generated source is named relative to the folder it resolves from; it is not a file.
    .filter((input) => !input.endsWith(PACKAGES_SOURCE));
  // An import() esbuild left in the code (of a module outside the bundle) needs Node's own loader: a
  // vm.Script would need an experimental callback for it. The metafile says so; the text does not
  // (a package's comment may well mention `import()`).
  const dynamicImport = Object.values(result.metafile.inputs).some(({ imports }) =>
    imports.some((i) => i.kind === 'dynamic-import' && i.external),
  );
  return {
    code,
    map,
    inputs: metafileInputs.map((input) => path.resolve(input)).sort(),
    metafileInputs,
    metafile: result.metafile,
    dynamicImport,
  };
}

/** The project's own files, packages left out; also says which packages they import. */
function buildProject() {
  // Tests are never part of a run. lib/environments/index.ts requires its folder's files by a pattern
  // (`./${name}.ts`), which esbuild expands to every .ts file there, its tests too: left out here.
  const built = bundleWith({ entryPoints: [file], packages: 'external', external: ['*.test.ts'] });
  const packages = new Set();
  for (const { imports } of Object.values(built.metafile.inputs)) {
    for (const { path: specifier, external } of imports) {
      // Relative paths are the project's own files imported only for their types (esbuild lists
      // them, then leaves them out); what remains are packages and Node's built-in modules.
      if (external && !/^[./]/.test(specifier) && !Module.isBuiltin(specifier)) {
        packages.add(specifier);
      }
    }
  }
  return { ...built, packages: [...packages].sort() };
}

/**
 * The packages, as one script whose exports are a function per package that loads it (on first
 * use, as `require` would). If they cannot be bundled (a native addon, a layout the step below
 * does not recognise), there is no such script and Node loads them from node_modules as usual.
 */
function buildPackages(packages) {
  const contents = `module.exports = {\n${packages.map((p) => `  ${JSON.stringify(p)}: () => require(${JSON.stringify(p)}),`).join('\n')}\n};\n`;
  // Silent: a failure here is not the user's (it is reported with LAB_TO_PROD_TSRUN_VERBOSE=1).
  return withPackageFolders(
    bundleWith({
      stdin: { contents, resolveDir: path.dirname(file), sourcefile: PACKAGES_SOURCE, loader: 'js' },
      logLevel: 'silent',
    }),
  );
}

/**
 * In a bundle, `__dirname` and `__filename` are the bundle's. A package module that finds its own
 * files by them (cdk8s's Yaml.load runs a script beside it) gets its real folder back: esbuild wraps
 * each CommonJS module in a function that opens with `"<path>"(exports…) {`, and the two names are
 * declared there, on the same line, so that no line of the source map moves.
 */
function withPackageFolders(built) {
  let code = built.code;
  for (const input of built.metafileInputs) {
    const absolute = path.resolve(input);
    if (!/\b__(dirname|filename)\b/.test(fs.readFileSync(absolute, 'utf8'))) {
      continue;
    }
    const opening = new RegExp(
      `\\n  ${JSON.stringify(input).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\([\\w$, ]*\\) \\{\\n`,
      'g',
    );
    const found = [...code.matchAll(opening)];
    if (found.length !== 1) {
      throw new Error(`${input} uses __dirname and its wrapper in the bundle was not found once (${found.length})`);
    }
    const at = found[0].index + found[0][0].length - 1;
    const names = ` var __dirname = ${JSON.stringify(path.dirname(absolute))}, __filename = ${JSON.stringify(absolute)};`;
    code = code.slice(0, at) + names + code.slice(at);
  }
  return { ...built, code };
}

/**
 * A bundle from the cache when its record says every input is unchanged, otherwise from `build`.
 * `what` names it in messages; `extra` are fields the record keeps besides the inputs.
 */
function cachedBundle(what, key, build) {
  if (!CACHE_DIR) {
    say(`${what}: bundled by esbuild (cache off)`);
    return { ...build(), cachedAs: undefined };
  }
  const recordFile = path.join(CACHE_DIR, `${key}.record.json`);
  const record = readJsonOrUndefined(recordFile);
  if (record && stillValid(record, recordFile)) {
    const bundleFile = path.join(CACHE_DIR, `${record.bundle}.js`);
    const code = readOrUndefined(bundleFile, 'utf8');
    // The bundle is what was written while its identity is the one recorded then (any write changes
    // its ctime); otherwise its content must still hash to its name. Hashing the 3 MB of both bundles
    // on every run cost about 8 ms.
    if (code !== undefined && (identityOf(bundleFile) === record.bundleIdentity || sha256(code) === record.bundle)) {
      say(`${what}: bundle from the cache`);
      touch(recordFile);
      return {
        code,
        packages: record.packages,
        dynamicImport: record.dynamicImport,
        cachedAs: path.join(CACHE_DIR, `${record.bundle}.js`),
      };
    }
  }
  if (!record) {
    say(`${what}: no bundle cached for it with this Node, esbuild and tsrun`);
  }
  const started = Date.now();
  const built = build();
  say(`${what}: bundled by esbuild`);
  const bundle = sha256(built.code);
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    writeAtomically(path.join(CACHE_DIR, `${bundle}.js.map`), built.map);
    writeAtomically(path.join(CACHE_DIR, `${bundle}.js`), built.code);
    // The record holds the inputs' hashes as they are now, after the build. A file saved while esbuild
    // ran (or within a second before: some file systems keep coarse times) may differ from what
    // esbuild read, so such a build is used for this run but not recorded; the next run builds again.
    if (built.inputs.every((input) => fs.statSync(input).mtimeMs < started - 1000)) {
      // Written last, so that a record never names a bundle that is not there.
      writeAtomically(
        recordFile,
        JSON.stringify({
          bundle,
          bundleIdentity: identityOf(path.join(CACHE_DIR, `${bundle}.js`)),
          packages: built.packages,
          dynamicImport: built.dynamicImport,
          ...describeInputs(built.inputs),
        }),
      );
    } else {
      say(`${what}: not recorded: an input changed less than a second before the build`);
    }
    prune();
  } catch {
    // A read-only checkout only loses the speed-up.
  }
  return { ...built, cachedAs: path.join(CACHE_DIR, `${bundle}.js`) };
}

/** The entry's bundle and, if they can be bundled, the packages it imports. */
function loadBundles() {
  const versions = CACHE_DIR ? versionsKey() : {};
  const project = cachedBundle(
    path.relative(process.cwd(), file),
    sha256(JSON.stringify({ entry: file, ...versions })),
    buildProject,
  );
  if (project.packages.length === 0) {
    return { project, packages: undefined };
  }
  const key = sha256(JSON.stringify({ packages: project.packages, from: path.dirname(file), ...versions }));
  try {
    return { project, packages: cachedBundle('packages', key, () => buildPackages(project.packages)) };
  } catch (error) {
    say(`packages left external: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    return { project, packages: undefined };
  }
}

function readJsonOrUndefined(p) {
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch {
    return undefined;
  }
}

function touch(p) {
  try {
    const now = new Date();
    fs.utimesSync(p, now, now);
  } catch {
    // Only the pruning order suffers.
  }
}

/** Keeps the cache small: the newest KEEP_ENTRIES records and the bundles they name. */
function prune() {
  const entries = fs
    .readdirSync(CACHE_DIR)
    .filter((name) => name.endsWith('.record.json'))
    .map((name) => ({ name, mtime: fs.statSync(path.join(CACHE_DIR, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of entries.slice(KEEP_ENTRIES)) {
    fs.rmSync(path.join(CACHE_DIR, old.name), { force: true });
  }
  const kept = new Set(
    entries.slice(0, KEEP_ENTRIES).map((e) => readJsonOrUndefined(path.join(CACHE_DIR, e.name))?.bundle),
  );
  const anHourAgo = Date.now() - 3600_000;
  for (const name of fs.readdirSync(CACHE_DIR)) {
    const bundle = /^([0-9a-f]{64})(?:\.js|\.js\.map|-[0-9a-f]{12}\.v8cache)$/.exec(name)?.[1];
    // A temporary file an interrupted run left behind (a live run renames its own within moments).
    const abandoned = name.endsWith('.tmp') && fs.statSync(path.join(CACHE_DIR, name)).mtimeMs < anHourAgo;
    if ((bundle && !kept.has(bundle)) || abandoned) {
      fs.rmSync(path.join(CACHE_DIR, name), { force: true });
    }
  }
}

// --- Stack traces through the source maps, read only when one is formatted --------------------------

/** The cached bundles' files, each with its source map, parsed on the first stack trace that needs it. */
const sourceMaps = new Map();

/**
 * Maps the stack frames of the cached bundles (named by their files in the cache, so that Node's note
 * of the failing line under an uncaught error shows that file's true line) to the sources; frames of a
 * bundle Node compiled itself go through Node's own source maps. Installed once.
 */
function mapStackTraces(scriptFile, mapText) {
  const first = sourceMaps.size === 0;
  sourceMaps.set(scriptFile, { mapText, sourceMap: undefined });
  if (first) {
    Error.prepareStackTrace = (error, frames) =>
      [errorHead(error), ...frames.map((frame) => `    at ${frameText(frame)}`)].join('\n');
  }
}

function sourceMapOf(fileName) {
  const known = sourceMaps.get(fileName);
  if (!known) {
    return fileName ? Module.findSourceMap(fileName) : undefined;
  }
  if (known.sourceMap === undefined) {
    const text = known.mapText();
    known.sourceMap = text === undefined ? null : new Module.SourceMap(JSON.parse(text));
  }
  return known.sourceMap ?? undefined;
}

function frameText(frame) {
  const text = String(frame);
  const fileName = frame.getFileName();
  const line = frame.getLineNumber();
  if (line === null) {
    return text;
  }
  // SourceMap positions count from 0; stack frames count lines and columns from 1.
  const found = sourceMapOf(fileName)?.findEntry(line - 1, frame.getColumnNumber() - 1);
  if (!found || found.originalSource === undefined) {
    return text;
  }
  // The maps' paths are relative to the bundles' names in esbuild's options, in the entry's own folder;
  // a map Node has read may hold them as file: URLs already.
  const source = found.originalSource.startsWith('file:')
    ? url.fileURLToPath(found.originalSource)
    : path.resolve(path.dirname(file), found.originalSource);
  return text.replace(
    `${fileName}:${line}:${frame.getColumnNumber()}`,
    `${source}:${found.originalLine + 1}:${found.originalColumn + 1}`,
  );
}

/** The first line of a stack trace, as V8 writes it: `Error: message`. */
function errorHead(error) {
  try {
    return String(error);
  } catch {
    return '<error>';
  }
}

// --- Running the bundle, through V8's code cache ------------------------------------------------------

/** The require function Node gives a module (as Node's lib/internal/modules/helpers makes it). */
function requireFor(mod) {
  const require = (id) => mod.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

/**
 * Runs the cached bundle as Node's Module.prototype._compile would, but through vm.Script with V8's
 * code cache (`cachedData`, public API; Node 22's `module.enableCompileCache()` is not in Node 20).
 * The code cache is saved when the process ends, so that it holds every function the run compiled,
 * not only the top level; once per bundle, later runs find it.
 */
function runWithCodeCache(mod, code, scriptFile, what) {
  // V8 keeps the file name a code cache was made under, so the name is part of the cache's name
  // (the same cache folder can be reached by two paths when a worktree links node_modules). V8 also
  // refuses a code cache made under other flags; runs with flags of their own (`node --inspect`,
  // NODE_OPTIONS) keep a cache of their own, rather than each replacing the other's at every turn.
  const madeUnder = JSON.stringify([scriptFile, process.execArgv, process.env.NODE_OPTIONS ?? '']);
  const codeCacheFile = scriptFile.replace(/\.js$/, `-${sha256(madeUnder).slice(0, 12)}.v8cache`);
  const cachedData = readOrUndefined(codeCacheFile);
  const script = new vm.Script(Module.wrap(code), { filename: scriptFile, cachedData });
  if (script.cachedDataRejected) {
    say(`${what}: V8 refused its code cache; a new one is saved at exit`);
  }
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        writeAtomically(codeCacheFile, script.createCachedData());
      } catch {
        // A read-only checkout only loses the speed-up.
      }
    });
  }
  mapStackTraces(scriptFile, () => readOrUndefined(`${scriptFile}.map`, 'utf8'));
  script.runInThisContext().call(mod.exports, mod.exports, requireFor(mod), mod, file, path.dirname(file));
}

/**
 * Runs a bundle the plain Node way, with Node's own source-map support: without a cache, and for
 * code that uses `import()` (a vm.Script would need an experimental callback for it).
 */
function runPlain(mod, code, mapText, scriptName) {
  process.setSourceMapsEnabled(true);
  const inlineMap = Buffer.from(mapText ?? '{}').toString('base64');
  mod._compile(`${code}\n//# sourceMappingURL=data:application/json;base64,${inlineMap}`, scriptName);
}

function runBundle(mod, bundle, scriptName, what) {
  if (bundle.cachedAs !== undefined && fs.existsSync(bundle.cachedAs) && !bundle.dynamicImport) {
    say(`${what}: run with V8's code cache`);
    runWithCodeCache(mod, bundle.code, bundle.cachedAs, what);
  } else {
    say(`${what}: run by Node's own loader${bundle.dynamicImport ? ' (it uses import())' : ''}`);
    runPlain(mod, bundle.code, bundle.map ?? readOrUndefined(`${bundle.cachedAs}.map`, 'utf8'), scriptName);
  }
}

/** esbuild's error for a build with errors; it has printed them already (logLevel 'error'). */
const isBuildFailure = (error) => Array.isArray(error?.errors) && Array.isArray(error?.warnings);

function run() {
  let bundles;
  try {
    bundles = loadBundles();
  } catch (error) {
    if (!isBuildFailure(error)) {
      throw error;
    }
    // A syntax error in a source file: esbuild's messages name the file, line and column; a stack
    // trace of this file would add nothing.
    process.exitCode = 1;
    return;
  }
  const { project, packages } = bundles;
  process.argv = [process.argv[0], file, ...args];
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  if (packages) {
    // The packages' script exports a loader per package; the project's `require` of one of them takes
    // it from there (Node's require calls module.require), of anything else from Node as usual.
    const holder = new Module(`${file}.packages.js`, module);
    holder.filename = `${file}.packages.js`;
    holder.paths = mod.paths;
    runBundle(holder, packages, holder.filename, 'packages');
    const loaders = holder.exports;
    const nodeRequire = mod.require;
    mod.require = (id) => (Object.hasOwn(loaders, id) ? loaders[id]() : nodeRequire.call(mod, id));
  }
  runBundle(mod, project, file, path.relative(process.cwd(), file));
}

run();
