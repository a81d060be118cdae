#!/usr/bin/env node
/**
 * Runs a TypeScript entry point straight from its sources: esbuild bundles the project's own files
 * in memory (packages stay external and load from node_modules as usual) and Node runs the result.
 * No type checking here: that is `npm run typecheck`. This is what makes `npm run synth` and
 * `cdk8s synth` fast; ts-node, the stock cdk8s app command, type-checks and compiles file by file.
 *
 * Usage: node bin/tsrun.js <entry.ts> [args...]
 */
'use strict';
const path = require('path');
const Module = require('module');
const esbuild = require('esbuild');

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bin/tsrun.js <entry.ts> [args...]');
  process.exit(2);
}
const file = path.resolve(entry);
const { outputFiles } = esbuild.buildSync({
  entryPoints: [file],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // Stack traces point at the TypeScript lines; the sources themselves are on disk, so the map
  // does not carry them (that made the bundle eight times larger and Node's start slower).
  sourcemap: 'inline',
  sourcesContent: false,
  // Never written (write: false); it only names the bundle, so the map's paths resolve from the
  // entry's own folder.
  outfile: `${file}.js`,
  write: false,
  logLevel: 'error',
});

process.setSourceMapsEnabled(true);
process.argv = [process.argv[0], file, ...args];
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
mod._compile(outputFiles[0].text, file);
