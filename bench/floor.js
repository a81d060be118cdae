#!/usr/bin/env node
/**
 * The floor for a synth: plain Node reading the rendered files and writing the same bytes
 * elsewhere, with nothing computed in between. No tool that writes these files can be faster.
 *
 * Usage: node bench/floor.js <from-dir> <to-dir>
 */
'use strict';
const fs = require('fs');
const path = require('path');

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: node bench/floor.js <from-dir> <to-dir>');
  process.exit(2);
}

function copyTree(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dst, entry.name);
    if (entry.isDirectory()) {
      copyTree(s, d);
    } else {
      fs.writeFileSync(d, fs.readFileSync(s));
    }
  }
}

copyTree(from, to);
