#!/usr/bin/env node

// libuv's thread pool runs file I/O, fsyncs and the addon's erasure and hashing work; its default of
// 4 threads starves under concurrent requests. It is sized when first used, so this must come before
// anything that touches it. A value the user set wins.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '32';

const fs = require('node:fs');
const path = require('node:path');

// The built CLI (npm start builds it first; the published package ships it). From a checkout without
// a build, or with CAIRN_FROM_SOURCE=1, the TypeScript source runs through tsx.
const dist = path.join(__dirname, '..', 'dist', 'cli.js');
let cli;
if (process.env.CAIRN_FROM_SOURCE === '1' || !fs.existsSync(dist)) {
  try {
    require('tsx/cjs');
  } catch {
    console.error('cairn: dist/ is not built and tsx is not installed: run `npm run build:ts` first');
    process.exit(1);
  }
  cli = require('../src/cli.ts');
} else {
  cli = require(dist);
}
cli.main(process.argv);
