#!/usr/bin/env node

// npm's install step: use a prebuilt addon when one fits (the platform package, or a local build),
// otherwise build it from source with cargo. Set CAIRN_SKIP_NATIVE_BUILD=1 to skip entirely.
const { execFileSync, spawnSync } = require('node:child_process');
const { copyFileSync, existsSync } = require('node:fs');
const path = require('node:path');
const { binaryName, packageName, platformTriple } = require('../native/platform');

const root = path.join(__dirname, '..');
const triple = platformTriple();
const local = path.join(root, 'native', binaryName(triple));

function main() {
  if (process.env.CAIRN_SKIP_NATIVE_BUILD)
    return console.log('cairn: CAIRN_SKIP_NATIVE_BUILD set; not building the addon');
  if (existsSync(local)) return console.log(`cairn: using the local addon ${path.relative(root, local)}`);
  try {
    require.resolve(packageName(triple), { paths: [root] });
    return console.log(`cairn: using the prebuilt addon ${packageName(triple)}`);
  } catch {}
  if (
    spawnSync('cargo', ['--version'], { stdio: 'ignore', shell: process.platform === 'win32' }).status !== 0
  ) {
    console.error(
      `cairn: no prebuilt addon for ${triple} and no Rust toolchain to build one.\n` +
        'Install Rust >= 1.89 (https://rustup.rs) and a C compiler, then run `npm rebuild cairn-s3`.',
    );
    process.exit(1);
  }
  console.log(`cairn: no prebuilt addon for ${triple}; building it from source with cargo (about a minute)`);
  execFileSync('cargo', ['build', '--release', '--locked', '-p', 'cairn-native'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  const target = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
  const lib =
    { win32: 'cairn_native.dll', darwin: 'libcairn_native.dylib' }[process.platform] || 'libcairn_native.so';
  copyFileSync(path.join(target, 'release', lib), local);
  console.log(`cairn: built ${path.relative(root, local)}`);
}

main();
