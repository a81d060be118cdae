#!/usr/bin/env node
/**
 * The synth command, `npm run synth` and `cdk8s synth` (cdk8s.yaml's app): main.ts, run by
 * bin/tsrun.js. Whatever stops a synth ends with one last line saying that dist/ was not touched:
 * bad input, a failed check or an exception in a construct (main.ts reports them), a syntax error that
 * stops esbuild before main.ts exists (esbuild reports it), an exception while a module loads (Node
 * reports it). It is true in each case, because only a synth that got to the end writes dist/, and
 * atomically (lib/write-dist.ts).
 *
 * Usage: node bin/synth.js [--env <name>] [--verbose] [--outdir <dir>]
 */
'use strict';
const path = require('path');

// Node would print an uncaught exception's "Node.js v20..." line after the exit handlers have run.
process.on('uncaughtException', (error) => {
  console.error(error instanceof Error && error.stack ? error.stack : String(error));
  process.exitCode = 1;
});
process.on('exit', (code) => {
  if (code !== 0) {
    console.error('synth failed; the output folder was left as it was.');
  }
});
process.argv.splice(2, 0, path.join(__dirname, '..', 'main.ts'));
require('./tsrun.js');
