#!/usr/bin/env node

// The test command: the Rust tests (cargo test) and the TypeScript tests (uvu, real addon, real
// servers), then one closing line with the totals: "N passed, N failed".
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const only = process.argv[2]; // 'rust' | 'ts' | undefined (both)
let passed = 0;
let failed = 0;
let broken = false;
let skippedAll = 0;

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  if (r.error) throw r.error;
  return { out: `${r.stdout}\n${r.stderr}`, status: r.status };
}

if (only !== 'ts') {
  const { out, status } = run('cargo', [
    'test',
    '--release',
    '--locked',
    '--no-default-features',
    '--manifest-path',
    'native/Cargo.toml',
  ]);
  const results = [...out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)];
  for (const m of results) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  if (status !== 0 && !results.some((m) => Number(m[2]) > 0)) broken = true;
}

// The NEON kernel, on an emulated arm64 CPU, when the cross toolchain is there (.ci/run installs it).
if (only !== 'ts' && process.env.CAIRN_CROSS_AARCH64 === '1') {
  const { out, status } = run(
    'cargo',
    [
      'test',
      '--release',
      '--locked',
      '--no-default-features',
      '-p',
      'cairn-native',
      '--target',
      'aarch64-unknown-linux-gnu',
    ],
    {
      CC_aarch64_unknown_linux_gnu: 'aarch64-linux-gnu-gcc',
      CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER: 'aarch64-linux-gnu-gcc',
      CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER: 'qemu-aarch64 -L /usr/aarch64-linux-gnu',
    },
  );
  const results = [...out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)];
  for (const m of results) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  if (status !== 0 && !results.some((m) => Number(m[2]) > 0)) broken = true;
}

if (only !== 'rust') {
  // uvu's own summary: "Total: N / Passed: N / Skipped: N". Colors off so it can be read.
  const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
  const { out, status } = run(process.execPath, [uvu, '-r', 'tsx/cjs', '__test__', '\\.test\\.ts$'], {
    FORCE_COLOR: '0',
    NO_COLOR: '1',
  });
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (Number.isNaN(total) || Number.isNaN(ok)) {
    broken = true;
  } else {
    // uvu's Total leaves out skipped tests already.
    passed += ok;
    failed += total - ok;
    skippedAll += skipped;
  }
  if (status !== 0 && failed === 0) broken = true;
}

if (broken) {
  console.error('a test runner failed before reporting its results');
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed${skippedAll ? `, ${skippedAll} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
