#!/usr/bin/env node
/**
 * Runs bench/scale/entry.ts the way bin/tsrun.js runs main.ts (esbuild bundles the project's files in
 * memory, packages load from node_modules), with one difference: where lib/render.ts imports
 * `./app`, it gets bench/scale/app.ts, the generated app of N web workloads. Everything else
 * (renderEnvironment, the constructs, writeDistAtomically) is the project's own code, unchanged.
 *
 * Why a substitution: render.ts's only entry is renderEnvironment(env), which builds the chart itself
 * through lib/app.ts; it has no entry that takes a prebuilt chart.
 *
 * Usage: BENCH_WORKLOADS=<N> node bench/scale/run-generated.js <outdir>
 */
'use strict';
const path = require('path');
const Module = require('module');
const esbuild = require('esbuild');

const entry = path.join(__dirname, 'entry.ts');
const renderModule = path.resolve(__dirname, '..', '..', 'lib', 'render.ts');
const generatedApp = path.join(__dirname, 'app.ts');

/** Sends render.ts's `./app` import to the generated app; leaves every other import alone. */
const generatedAppPlugin = {
  name: 'generated-app',
  setup(build) {
    build.onResolve({ filter: /^\.\/app$/ }, (args) => (args.importer === renderModule ? { path: generatedApp } : undefined));
  },
};

async function main() {
  const { outputFiles } = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    write: false,
    logLevel: 'error',
    plugins: [generatedAppPlugin],
  });
  process.setSourceMapsEnabled(true);
  process.argv = [process.argv[0], entry, ...process.argv.slice(2)];
  const mod = new Module(entry, module);
  mod.filename = entry;
  mod.paths = Module._nodeModulePaths(path.dirname(entry));
  mod._compile(outputFiles[0].text, entry);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
