#!/usr/bin/env node
/**
 * The synth command, `npm run synth` and `cdk8s synth` (cdk8s.yaml's app): main.ts, run by
 * speed/tsrun.js. Whatever stops a synth ends with one last line saying that dist/ was not touched:
 * bad input, a failed check or an exception in a construct (main.ts reports them), a syntax error that
 * stops esbuild before main.ts exists (esbuild reports it), an exception while a module loads (Node
 * reports it). It is true in each case, because only a synth that got to the end writes dist/, and
 * atomically (lib/synth/write-dist.ts): a write that fails puts back the folders it had switched. Only if
 * even that fails does main.ts exit with 3, and the last line says the output folder changed.
 *
 * Usage: node bin/synth.js [--env <name>] [--verbose] [--outdir <dir>] [--help]
 */
'use strict';
const path = require('path');

// Node would print an uncaught exception's "Node.js v20..." line after the exit handlers have run.
process.on('uncaughtException', (error) => {
  console.error(error instanceof Error && error.stack ? error.stack : String(error));
  process.exitCode = 1;
});
process.on('exit', (code) => {
  // 3: main.ts says the write had begun to switch the output folders and could not put them all back.
  if (code === 3) {
    console.error(
      'synth failed, and the output folder is not as it was: the lines above say which folders are new, which old, and where the rest is.',
    );
  } else if (code !== 0) {
    console.error('synth failed; the output folder was left as it was.');
  }
});
process.argv.splice(2, 0, path.join(__dirname, '..', 'main.ts'));
require('../speed/tsrun.js');
