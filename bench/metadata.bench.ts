/**
 * A drive's small-file operations as a 4 KiB GET and PUT use them, on 4 drives at once (an erasure
 * set of 2+2): `readMetadata` of one object on each drive (the head read of a GET), and
 * `writeMetadata` on each (the commit of a small PUT, fsync included). It reports operations per
 * second (one operation = all 4 drives), the process CPU per operation (every thread) and the JS
 * thread's share, and the GC pauses per 1000 operations.
 *
 *   npx tsx bench/metadata.bench.ts [--seconds=2] [--runs=3] [--only=read,write,raw] [--json] [--dir DIR]
 *
 * It runs whatever `LocalDrive` its checkout has, so a copy of this file in an older checkout
 * measures the `fs/promises` implementation beside the native one (`bench/README.md`). Where the
 * addon has the `fsio` calls, it also measures them raw, to tell what one task per drive costs
 * against doing the 4 reads in one task or on the JS thread:
 *
 * - `fsio.readFile x4`: 4 tasks in flight (what `LocalDrive` does, without its JS);
 * - `fsio.readFile x1`: one task, one read (the cost of one pool round trip);
 * - `fsio.readFileSync x4`: the 4 reads on the JS thread (no round trip at all).
 *
 * Each figure is the best of `--runs` runs of `--seconds`, at 1 operation in flight (latency) and
 * at 32 (throughput, as a server under load); files are in the page cache. Progress on stderr.
 */
process.env.UV_THREADPOOL_SIZE ??= '32'; // as bin/cairn.js gives the server

import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { META_HEAD_READ } from '../src/erasure/metadata';
import * as native from '../src/native';
import { LocalDrive } from '../src/storage/LocalDrive';
import { META_FILE, objectPath } from '../src/storage/paths';

const args = process.argv.slice(2);
const num = (name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
};
const SECONDS = num('seconds', 2);
const RUNS = num('runs', 3);
const JSON_OUT = args.includes('--json');
const ONLY = new Set((args.find((x) => x.startsWith('--only='))?.slice(7) ?? 'read,write,raw').split(','));
const dirArg = args.indexOf('--dir');
const BASE = dirArg >= 0 ? args[dirArg + 1]! : os.tmpdir();
const OBJECTS = 256;
/** What a 4 KiB object's metadata file weighs (its data inline). */
const META_BYTES = 4096 + 420;
const V = 'bench';

const fsio = (native as Partial<typeof native>).fsio;
const log = (s: string) => process.stderr.write(`${s}\n`);

let clockTicks = 100;
try {
  clockTicks = Number(require('node:child_process').execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
} catch {}

/** CPU seconds of this process's main (JS) thread, from /proc (Linux; undefined elsewhere). */
function jsThreadSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

interface Row {
  name: string;
  inFlight: number;
  opsPerSec: number;
  /** Process CPU (all threads) per operation, microseconds. */
  cpuUs: number;
  /** The JS thread's CPU per operation, microseconds. */
  jsUs?: number;
  /** GC pause per 1000 operations, milliseconds. */
  gcMsPer1000: number;
}

/** Best of `RUNS` runs of `SECONDS` with `inFlight` operations outstanding; `op(i)` is one operation. */
async function measure(name: string, inFlight: number, op: (i: number) => Promise<unknown>): Promise<Row> {
  for (let i = 0; i < 64; i++) await op(i); // warm-up
  let best: Row | undefined;
  for (let r = 0; r < RUNS; r++) {
    let next = 0;
    let done = 0;
    const cpu0 = process.cpuUsage();
    const js0 = jsThreadSeconds();
    const gc0 = gcMs;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(Math.round(SECONDS * 1e9));
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (process.hrtime.bigint() < end) {
          await op(next++);
          done++;
        }
      }),
    );
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    await new Promise((r) => setImmediate(r)); // let the GC observer catch up
    const cpu = process.cpuUsage(cpu0);
    const js1 = jsThreadSeconds();
    const row: Row = {
      name,
      inFlight,
      opsPerSec: done / secs,
      cpuUs: (cpu.user + cpu.system) / done,
      gcMsPer1000: ((gcMs - gc0) * 1000) / done,
    };
    if (js0 !== undefined && js1 !== undefined) row.jsUs = ((js1 - js0) * 1e6) / done;
    if (!best || row.opsPerSec > best.opsPerSec) best = row;
  }
  log(`  ${fmt(best!)}`);
  return best!;
}

function fmt(r: Row): string {
  return [
    r.name.padEnd(26),
    String(r.inFlight).padStart(3),
    r.opsPerSec.toFixed(0).padStart(8),
    r.cpuUs.toFixed(1).padStart(9),
    (r.jsUs === undefined ? 'n/a' : r.jsUs.toFixed(1)).padStart(8),
    r.gcMsPer1000.toFixed(2).padStart(8),
  ].join(' ');
}
const HEADER = `${'operation (4 drives)'.padEnd(26)} ${'inf'.padStart(3)} ${'ops/s'.padStart(8)} ${'cpu us/op'.padStart(9)} ${'js us/op'.padStart(8)} ${'gc ms/1k'.padStart(8)}`;

async function main() {
  const work = await fs.mkdtemp(path.join(BASE, 'cairn-metadata-'));
  const rows: Row[] = [];
  try {
    const drives = await Promise.all(
      [1, 2, 3, 4].map(async (i) => {
        const root = path.join(work, `d${i}`);
        await fs.mkdir(root);
        const d = new LocalDrive(root);
        await d.makeVolume(V);
        return d;
      }),
    );
    const keys = Array.from({ length: OBJECTS }, (_, i) => objectPath(`photos/2024/img-${i}.jpg`));
    const meta = Buffer.alloc(META_BYTES, 7);
    for (const k of keys) await Promise.all(drives.map((d) => d.writeMetadata(V, k, meta)));
    const files = keys.map((k) => drives.map((_, i) => path.join(work, `d${i + 1}`, V, k, META_FILE)));
    log(
      `${fsio ? 'native fsio' : 'fs/promises'} LocalDrive, ${OBJECTS} objects of ${META_BYTES} B on 4 drives`,
    );
    log(HEADER);

    const readAll4 = (i: number) =>
      Promise.all(drives.map((d) => d.readMetadata(V, keys[i % OBJECTS]!, { head: META_HEAD_READ })));
    if (ONLY.has('read')) {
      rows.push(await measure('readMetadata x4', 1, readAll4));
      rows.push(await measure('readMetadata x4', 32, readAll4));
    }
    let w = 0;
    const write4 = () => {
      const k = keys[w++ % OBJECTS]!;
      return Promise.all(drives.map((d) => d.writeMetadata(V, k, meta)));
    };
    if (ONLY.has('write')) {
      rows.push(await measure('writeMetadata x4', 1, write4));
      rows.push(await measure('writeMetadata x4', 32, write4));
    }

    if (fsio && ONLY.has('raw')) {
      const raw4 = (i: number) =>
        Promise.all(files[i % OBJECTS]!.map((f) => fsio.readFile(f, META_HEAD_READ)));
      rows.push(await measure('fsio.readFile x4', 1, raw4));
      rows.push(await measure('fsio.readFile x4', 32, raw4));
      const raw1 = (i: number) => fsio.readFile(files[i % OBJECTS]![0]!, META_HEAD_READ);
      rows.push(await measure('fsio.readFile x1', 1, raw1));
      rows.push(await measure('fsio.readFile x1', 32, raw1));
      const sync4 = async (i: number) => files[i % OBJECTS]!.map((f) => fsio.readFileSync(f, META_HEAD_READ));
      rows.push(await measure('fsio.readFileSync x4', 1, sync4));
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
  if (JSON_OUT) {
    console.log(
      JSON.stringify({ node: process.version, cpus: os.cpus().length, native: !!fsio, rows }, null, 2),
    );
    return;
  }
  console.log(`\n${fsio ? 'native fsio' : 'fs/promises'}, Node ${process.version}, ${os.cpus().length} CPUs`);
  console.log(HEADER);
  for (const r of rows) console.log(fmt(r));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
