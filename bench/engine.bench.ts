/**
 * The storage engine alone (no HTTP): PUT and GET of 64 MiB and 4 KiB objects on 4 drives (2+2),
 * beside writing and reading the same bytes as plain files with fsync, in the same run.
 *
 *   npx tsx bench/engine.bench.ts [--json] [--dir /path]   (default dir: the OS temp dir)
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ErasureSets } from '../src/erasure/ErasureSets';
import { LocalDrive } from '../src/storage/LocalDrive';

const args = process.argv.slice(2);
const json = args.includes('--json');
const dirArg = args.indexOf('--dir');
const baseDir = dirArg >= 0 ? args[dirArg + 1]! : os.tmpdir();

interface Row {
  op: string;
  size: string;
  concurrency: number;
  mbps: number;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

async function run(
  op: string,
  size: number,
  concurrency: number,
  count: number,
  fn: (i: number) => Promise<void>,
): Promise<Row> {
  const lat: number[] = [];
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t = process.hrtime.bigint();
        await fn(i);
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    op,
    size: size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`,
    concurrency,
    mbps: (size * count) / secs / 1e6,
    opsPerSec: count / secs,
    p50ms: pct(lat, 50),
    p99ms: pct(lat, 99),
  };
}

async function drain(s: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of s) {
  }
}

async function main() {
  // As bin/cairn.js sets it for the server (before the first use of libuv's pool).
  process.env.UV_THREADPOOL_SIZE ??= '32';
  const base = await fs.mkdtemp(path.join(baseDir, 'cairn-bench-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const plain = path.join(base, 'plain');
  await fs.mkdir(plain);
  const layer = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
  await layer.makeBucket('bench');
  const rows: Row[] = [];
  try {
    for (const [size, conc, count] of [
      [64 << 20, 1, 6],
      [64 << 20, 4, 8],
      [4 << 10, 1, 300],
      [4 << 10, 32, 2000],
    ] as const) {
      const body = randomBytes(size);
      rows.push(
        await run('plain write+fsync', size, conc, count, async (i) => {
          const h = await fs.open(path.join(plain, `f${i}`), 'w');
          await h.writeFile(body);
          await h.sync();
          await h.close();
        }),
      );
      // What the engine writes for it on 2+2: four shard files of half the size each, in parallel,
      // through the same JS fs calls: the I/O floor of a PUT, so the gap to it is the engine's cost.
      const half = body.subarray(0, Math.ceil(size / 2));
      rows.push(
        await run('plain shards x4+fsync', size, conc, count, async (i) => {
          await Promise.all(
            [0, 1, 2, 3].map(async (d) => {
              const h = await fs.open(path.join(plain, `s${i}-${d}`), 'w');
              await h.writeFile(half);
              await h.sync();
              await h.close();
            }),
          );
        }),
      );
      rows.push(
        await run('engine PUT', size, conc, count, async (i) => {
          await layer.putObject('bench', `o${size}-${i}`, Readable.from([body]), { size });
        }),
      );
      rows.push(
        await run('plain read', size, conc, count, async (i) => {
          await fs.readFile(path.join(plain, `f${i}`));
        }),
      );
      rows.push(
        await run('engine GET', size, conc, count, async (i) => {
          const { stream } = await layer.getObject('bench', `o${size}-${i}`);
          await drain(stream);
        }),
      );
      await fs.rm(plain, { recursive: true });
      await fs.mkdir(plain);
    }
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
  if (json) {
    console.log(JSON.stringify({ rows }, null, 2));
    return;
  }
  console.log(
    `${'op'.padEnd(22)} ${'size'.padEnd(7)} ${'conc'.padStart(4)} ${'MB/s'.padStart(8)} ${'ops/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  ratio`,
  );
  // Groups of five per size: plain write, plain shard writes, engine PUT, plain read, engine GET.
  for (let i = 0; i < rows.length; i += 5) {
    const [pw, ps, put, pr, get] = rows.slice(i, i + 5) as [Row, Row, Row, Row, Row];
    const line = (r: Row, ratio = '') =>
      console.log(
        `${r.op.padEnd(22)} ${r.size.padEnd(7)} ${String(r.concurrency).padStart(4)} ${r.mbps.toFixed(0).padStart(8)} ${r.opsPerSec.toFixed(0).padStart(8)} ${r.p50ms.toFixed(2).padStart(8)} ${r.p99ms.toFixed(2).padStart(8)}  ${ratio}`,
      );
    line(pw);
    line(ps);
    line(
      put,
      `${(put.mbps / pw.mbps).toFixed(2)} of plain, ${(put.mbps / ps.mbps).toFixed(2)} of shard writes`,
    );
    line(pr);
    line(get, `${(get.mbps / pr.mbps).toFixed(2)} of plain`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
