/**
 * Cairn's native core through its TS facade (src/native.ts), beside the Rust figures criterion left
 * in target/criterion (bench/rust/core.rs) and klauspost/reedsolomon's from bench/go, all over
 * 1 MiB blocks, plus a study of where the async work should run (libuv's pool or the crate's own).
 *
 *     npx tsx bench/native.bench.ts            # table
 *     npx tsx bench/native.bench.ts --json     # one JSON object on stdout
 *     flags: --no-go (skip bench/go), --quick (shorter runs), --no-pool (skip the pool study)
 *
 * GB/s is 1e9 bytes of the 1 MiB block (data, not parity) per second, per core unless the row says
 * how many calls were in flight. Progress goes to stderr.
 */
import { randomFill } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ErasureCoder, hash, hashSync, INLINE_LIMIT, simdLevel, supportedSimdLevels } from '../src/native';
import { addon } from './lib/addon';
import { blockLayout, pageAligned, pageOffsetSource, shardLayout } from './lib/layout';
import { type CriterionFigure, type GoReport, readCriterion, runGo } from './lib/reference';
import { gbps, percentile, type TimingOptions, timeAsync, timeConcurrent, timeSync } from './lib/timing';

const args = new Set(process.argv.slice(2));
const JSON_OUT = args.has('--json');
const QUICK = args.has('--quick');
const MiB = 1 << 20;
const KiB64 = 64 * 1024;
const SHAPES: Array<[number, number]> = [
  [4, 2],
  [8, 4],
  [12, 4],
];
const LOST = [0, 1];
const IN_FLIGHT = 8;
const T: TimingOptions = QUICK ? { minMs: 100, runs: 2 } : { minMs: 300, runs: 3 };
const POOL_ROUNDS = QUICK ? 1 : 3;
const POOL_ROUND_MS = QUICK ? 700 : 2000;
/** `--pool-mib=N`: bytes per encode call in the pool study (blocks of 1 MiB); `--pool-encodes=N`: in flight. */
const flag = (name: string, dflt: number) => {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  return v ? Number(v) : dflt;
};
const POOL_MIB = flag('pool-mib', 1);
const POOL_ENCODES = flag('pool-encodes', IN_FLIGHT);

const progress = (s: string) => process.stderr.write(`${s}\n`);

interface Row {
  op: string;
  shape: string;
  /** `rust` (criterion), `sync`, `async` (awaited one at a time), `async xN` (N in flight). */
  via: string;
  gbps: number;
  vsMemcpy: number | null;
  vsKlauspost: number | null;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  let nodeMemcpy = Number.NaN;
  let rustMemcpy = Number.NaN;

  // ---- reference figures ------------------------------------------------------------------------

  let go: GoReport | null = null;
  let goSkipped: string | null = null;
  if (args.has('--no-go')) {
    goSkipped = '--no-go';
  } else {
    progress('bench/go: klauspost/reedsolomon, minio/highwayhash, zeebo/blake3 (about 30 s)...');
    const r = runGo();
    if ('report' in r) go = r.report;
    else goSkipped = r.skipped;
    if (goSkipped) progress(`bench/go skipped: ${goSkipped}`);
  }

  function klauspost(op: string, shape: string): number | null {
    if (!go) return null;
    if (op === 'highwayhash256') return go.highwayhash256_gbps;
    if (op === 'blake3') return go.blake3_gbps;
    const goOp =
      op.startsWith('encode') && !op.includes('hash') ? 'encode' : op === 'reconstruct' ? op : null;
    return go.rs.find((r) => r.op === goOp && r.shape === shape)?.gbps ?? null;
  }

  const criterion = readCriterion();
  const rust = (id: string): CriterionFigure | undefined => criterion?.figures.get(id);
  if (!criterion)
    progress(
      'no criterion estimates in target/criterion: run `npm run bench:rust` first for the Rust column',
    );

  function addRow(op: string, shape: string, via: string, g: number) {
    const base = via === 'rust' ? rustMemcpy : nodeMemcpy;
    rows.push({
      op,
      shape,
      via,
      gbps: g,
      vsMemcpy: Number.isFinite(base) ? g / base : null,
      vsKlauspost: ((k) => (k ? g / k : null))(klauspost(op, shape)),
    });
  }

  const rustGbps = (id: string): number | null => {
    const f = rust(id);
    return f ? gbps(f.bytes, f.ns) : null;
  };

  // Rust rows first, in the order of the Node ones.
  if (criterion) {
    rustMemcpy = rustGbps('memcpy/1MiB') ?? Number.NaN;
    const add = (id: string, op: string, shape: string) => {
      const g = rustGbps(id);
      if (g !== null) addRow(op, shape, 'rust', g);
    };
    add('memcpy/1MiB', 'memcpy', '1 MiB');
    for (const [k, m] of SHAPES) {
      const s = `${k}+${m}`;
      add(`encode/${s}`, 'encode', s);
      add(`encode_shards/${s}`, 'encodeShards', s);
      add(`encode_hash/${s}`, 'encode+hash', s);
      add(`reconstruct/${s}`, 'reconstruct', s);
    }
    add('hash/highwayhash256', 'highwayhash256', '1 MiB');
    add('hash/blake3', 'blake3', '1 MiB');
  }

  // ---- Node figures -----------------------------------------------------------------------------

  progress(`node ${process.version}, SIMD ${simdLevel()}, buffer page offsets ${pageOffsetSource}`);

  {
    const arena = pageAligned(2 * MiB + 2048);
    const src = arena.subarray(0, MiB).fill(7);
    const dst = arena.subarray(MiB + 2048, 2 * MiB + 2048);
    nodeMemcpy = gbps(
      MiB,
      timeSync(() => src.copy(dst), T),
    );
    addRow('memcpy', '1 MiB', 'sync', nodeMemcpy);
  }

  /** Per-call figures kept for the overhead table: ns per call, by name. */
  const ns: Record<string, number> = {};

  for (const [k, m] of SHAPES) {
    const shape = `${k}+${m}`;
    progress(`${shape}: encode, encodeShards, encode+hash, reconstruct...`);
    const coder = new ErasureCoder(k, m);
    const { data, parity } = blockLayout(MiB, coder.parityLength(MiB));

    ns[`encode/${shape}/async`] = await timeAsync(() => coder.encode(data, parity), T);
    ns[`encode/${shape}/sync`] = timeSync(() => coder.encodeSync(data, parity), T);
    addRow('encode', shape, 'async', gbps(MiB, ns[`encode/${shape}/async`]!));
    addRow('encode', shape, 'sync', gbps(MiB, ns[`encode/${shape}/sync`]!));

    const shards = shardLayout(k, m, coder.shardSize(MiB));
    ns[`encodeShards/${shape}/async`] = await timeAsync(() => coder.encodeShards(shards), T);
    ns[`encodeShards/${shape}/sync`] = timeSync(() => coder.encodeShardsSync(shards), T);
    addRow('encodeShards', shape, 'async', gbps(MiB, ns[`encodeShards/${shape}/async`]!));
    addRow('encodeShards', shape, 'sync', gbps(MiB, ns[`encodeShards/${shape}/sync`]!));

    const hashes = Buffer.alloc((k + m) * 32);
    ns[`encode+hash/${shape}/async`] = await timeAsync(() => coder.encode(data, parity, { hashes }), T);
    ns[`encode+hash/${shape}/sync`] = timeSync(() => coder.encodeSync(data, parity, { hashes }), T);
    addRow('encode+hash', shape, 'async', gbps(MiB, ns[`encode+hash/${shape}/async`]!));
    addRow('encode+hash', shape, 'sync', gbps(MiB, ns[`encode+hash/${shape}/sync`]!));

    const rshards = shardLayout(k, m, coder.shardSize(MiB));
    coder.encodeShardsSync(rshards);
    const want = LOST.map((i) => Buffer.from(rshards[i]!));
    for (const i of LOST) rshards[i]!.fill(0);
    ns[`reconstruct/${shape}/async`] = await timeAsync(() => coder.reconstruct(rshards, LOST), T);
    ns[`reconstruct/${shape}/sync`] = timeSync(() => coder.reconstructSync(rshards, LOST), T);
    if (!LOST.every((i, j) => rshards[i]!.equals(want[j]!)))
      throw new Error(`${shape}: reconstruct is wrong`);
    addRow('reconstruct', shape, 'async', gbps(MiB, ns[`reconstruct/${shape}/async`]!));
    addRow('reconstruct', shape, 'sync', gbps(MiB, ns[`reconstruct/${shape}/sync`]!));
  }

  progress('hashes...');
  {
    const data = blockLayout(MiB, 0).data;
    for (const alg of ['highwayhash256', 'blake3'] as const) {
      ns[`${alg}/async`] = await timeAsync(() => hash(alg, data), T);
      ns[`${alg}/sync`] = timeSync(() => hashSync(alg, data), T);
      addRow(alg, '1 MiB', 'async', gbps(MiB, ns[`${alg}/async`]!));
      addRow(alg, '1 MiB', 'sync', gbps(MiB, ns[`${alg}/sync`]!));
    }
  }

  // ---- per-call overhead ------------------------------------------------------------------------

  progress('per-call overhead...');
  interface Overhead {
    call: string;
    size: string;
    rustNs: number | null;
    nodeNs: number;
    /** (node - rust) / rust */
    overhead: number | null;
  }
  const overheads: Overhead[] = [];
  {
    const raw = new addon.ErasureCoder(8, 4);
    const empty = Buffer.alloc(0);
    const noEmpty = Buffer.alloc(0);
    ns['noop/sync'] = timeSync(() => raw.encodeSync(empty, noEmpty), T);
    ns['noop/async'] = await timeAsync(() => raw.encode(empty, noEmpty), T);
    // The same round trip without the addon: libuv's threadpool, and a turn of the event loop.
    const one = Buffer.alloc(1);
    ns['libuv/async'] = await timeAsync(() => new Promise((resolve) => randomFill(one, resolve)), T);
    ns['immediate/async'] = await timeAsync(() => new Promise((resolve) => setImmediate(resolve)), T);
    const coder124 = new ErasureCoder(12, 4);
    const emptyShards = Array.from({ length: 16 }, () => Buffer.alloc(0));
    ns['noop16/sync'] = timeSync(() => coder124.encodeShardsSync(emptyShards), T);

    const coder = new ErasureCoder(8, 4);
    const small = blockLayout(KiB64, coder.parityLength(KiB64));
    if (KiB64 < INLINE_LIMIT) progress('note: 64 KiB is below INLINE_LIMIT, so the facade runs it inline');
    ns['encode/8+4/64k/sync'] = timeSync(() => coder.encodeSync(small.data, small.parity), T);
    ns['encode/8+4/64k/async'] = await timeAsync(() => coder.encode(small.data, small.parity), T);

    const rustNs = (id: string) => rust(id)?.ns ?? null;
    const add = (call: string, size: string, rustId: string | null, nodeNs: number) => {
      const r = rustId ? rustNs(rustId) : null;
      overheads.push({ call, size, rustNs: r, nodeNs, overhead: r ? (nodeNs - r) / r : null });
    };
    add('encodeSync(empty) (no work)', '0', null, ns['noop/sync']!);
    add('encodeShardsSync(16 empty Buffers)', '0', null, ns['noop16/sync']!);
    add('await encode(empty) (worker round trip)', '0', null, ns['noop/async']!);
    add('crypto.randomFill(1 B) (libuv, no addon)', '1 B', null, ns['libuv/async']!);
    add('setImmediate (one loop turn)', '0', null, ns['immediate/async']!);
    add('encodeSync 8+4', '64 KiB', 'encode_64k/8+4', ns['encode/8+4/64k/sync']!);
    add('await encode 8+4', '64 KiB', 'encode_64k/8+4', ns['encode/8+4/64k/async']!);
    for (const [k, m] of SHAPES) {
      const s = `${k}+${m}`;
      add(`encodeSync ${s}`, '1 MiB', `encode/${s}`, ns[`encode/${s}/sync`]!);
      add(`await encode ${s}`, '1 MiB', `encode/${s}`, ns[`encode/${s}/async`]!);
      add(`encodeShardsSync ${s}`, '1 MiB', `encode_shards/${s}`, ns[`encodeShards/${s}/sync`]!);
      add(`reconstructSync ${s}`, '1 MiB', `reconstruct/${s}`, ns[`reconstruct/${s}/sync`]!);
    }
    add('hashSync highwayhash256', '1 MiB', 'hash/highwayhash256', ns['highwayhash256/sync']!);
    add('hashSync blake3', '1 MiB', 'hash/blake3', ns['blake3/sync']!);
  }

  // ---- many calls in flight ---------------------------------------------------------------------

  progress(`${IN_FLIGHT} concurrent 1 MiB encodes...`);
  const coder84 = new ErasureCoder(8, 4);
  const lanes = Array.from({ length: IN_FLIGHT }, () => blockLayout(MiB, coder84.parityLength(MiB)));
  const viaLibuv = (i: number) => coder84.encode(lanes[i]!.data, lanes[i]!.parity);
  const encodeOnOwnPool = addon.encodeOnOwnPool;
  const viaOwnPool = encodeOnOwnPool
    ? (i: number) => encodeOnOwnPool(8, 4, lanes[i]!.data, lanes[i]!.parity)
    : null;
  addRow('encode', '8+4', `async x${IN_FLIGHT}`, gbps(MiB, await timeConcurrent(viaLibuv, IN_FLIGHT, T)));
  if (viaOwnPool) {
    addRow('encode (own pool)', '8+4', 'async', gbps(MiB, await timeAsync(() => viaOwnPool(0), T)));
    addRow(
      'encode (own pool)',
      '8+4',
      `async x${IN_FLIGHT}`,
      gbps(MiB, await timeConcurrent(viaOwnPool, IN_FLIGHT, T)),
    );
  }
  addRow(
    'highwayhash256',
    '1 MiB',
    `async x${IN_FLIGHT}`,
    gbps(MiB, await timeConcurrent((i) => hash('highwayhash256', lanes[i]!.data), IN_FLIGHT, T)),
  );

  // ---- pool study -------------------------------------------------------------------------------

  interface PoolResult {
    mode: string;
    encodeGBps: number;
    readsPerSec: number;
    readP50ms: number;
    readP99ms: number;
    readMaxms: number;
  }

  async function poolStudy(): Promise<PoolResult[] | string> {
    if (!encodeOnOwnPool) return 'the addon has no encodeOnOwnPool (native/src/binding/pool.rs not built)';
    const size = POOL_MIB * MiB;
    const bufs = Array.from({ length: POOL_ENCODES }, () =>
      blockLayout(size, coder84.parityLength(size, MiB)),
    );
    const onLibuv = (i: number) => coder84.encode(bufs[i]!.data, bufs[i]!.parity, { blockSize: MiB });
    const onOwn = (i: number) => encodeOnOwnPool(8, 4, bufs[i]!.data, bufs[i]!.parity, MiB);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
    const file = path.join(dir, 'blob');
    writeFileSync(file, blockLayout(MiB, 0).data);
    const modes = [
      { mode: 'fs only', encode: null },
      { mode: 'AsyncTask (libuv pool)', encode: onLibuv },
      { mode: 'own pool', encode: onOwn },
    ];
    const acc = modes.map(() => ({ encodes: 0, reads: 0, ms: 0, lat: [] as number[] }));
    try {
      for (let round = 0; round < POOL_ROUNDS; round++) {
        for (const [mi, { encode }] of modes.entries()) {
          const a = acc[mi]!;
          const start = performance.now();
          const deadline = start + POOL_ROUND_MS;
          const encodeLane = async (i: number) => {
            while (encode && performance.now() < deadline) {
              await encode(i);
              a.encodes++;
            }
          };
          const readLane = async () => {
            while (performance.now() < deadline) {
              const t0 = performance.now();
              await readFile(file);
              a.lat.push(performance.now() - t0);
              a.reads++;
            }
          };
          await Promise.all([
            ...Array.from({ length: POOL_ENCODES }, (_, i) => encodeLane(i)),
            ...Array.from({ length: IN_FLIGHT }, () => readLane()),
          ]);
          a.ms += performance.now() - start;
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return modes.map(({ mode }, i) => {
      const a = acc[i]!;
      return {
        mode,
        encodeGBps: (a.encodes * size) / (a.ms * 1e6),
        readsPerSec: a.reads / (a.ms / 1000),
        readP50ms: percentile(a.lat, 50),
        readP99ms: percentile(a.lat, 99),
        readMaxms: percentile(a.lat, 100),
      };
    });
  }

  let pool: PoolResult[] | string = 'skipped (--no-pool)';
  if (!args.has('--no-pool')) {
    progress(
      `pool study: ${POOL_ENCODES} x ${POOL_MIB} MiB encodes + ${IN_FLIGHT} readFile in flight, ${POOL_ROUNDS} x ${POOL_ROUND_MS} ms per mode...`,
    );
    pool = await poolStudy();
  }

  // ---- targets ----------------------------------------------------------------------------------

  interface Target {
    target: string;
    figure: string;
    met: boolean | null;
  }
  const targets: Target[] = [];
  {
    const find = (op: string, shape: string, via: string) =>
      rows.find((r) => r.op === op && r.shape === shape && r.via === via);
    for (const op of ['encode', 'encodeShards', 'reconstruct']) {
      for (const [k, m] of SHAPES) {
        const s = `${k}+${m}`;
        for (const via of ['rust', 'sync']) {
          const r = find(op, s, via);
          if (!r) continue;
          targets.push({
            target: `${op} ${s} (${via}) >= 1.0x klauspost`,
            figure:
              r.vsKlauspost === null
                ? `${r.gbps.toFixed(2)} GB/s, klauspost n/a`
                : `${r.vsKlauspost.toFixed(2)}x`,
            met: r.vsKlauspost === null ? null : r.vsKlauspost >= 1,
          });
        }
      }
    }
    for (const [op, min] of [
      ['highwayhash256', 7],
      ['blake3', 5],
    ] as const) {
      for (const via of ['rust', 'sync']) {
        const r = find(op, '1 MiB', via);
        if (r)
          targets.push({
            target: `${op} (${via}) >= ${min} GB/s`,
            figure: `${r.gbps.toFixed(2)} GB/s`,
            met: r.gbps >= min,
          });
      }
    }
    for (const o of overheads.filter((o) => o.size === '1 MiB')) {
      targets.push({
        target: `${o.call}: binding overhead < 5% at 1 MiB`,
        figure: o.overhead === null ? 'n/a (no criterion figure)' : `${(o.overhead * 100).toFixed(1)}%`,
        met: o.overhead === null ? null : o.overhead < 0.05,
      });
    }
  }

  // ---- report -----------------------------------------------------------------------------------

  const meta = {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    simd: simdLevel(),
    supportedSimd: supportedSimdLevels(),
    node: process.version,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
    ownPoolSize: addon.ownPoolSize?.() ?? null,
    bufferPageOffsets: pageOffsetSource,
    criterion: criterion
      ? {
          dir: criterion.dir,
          measuredAt: new Date(
            Math.min(...[...criterion.figures.values()].map((f) => f.measuredAt.getTime())),
          ),
        }
      : null,
    klauspost: go ? { cpu: go.cpu, versions: go.versions } : { skipped: goSkipped },
  };

  if (JSON_OUT) {
    const rustExtras = criterion
      ? Object.fromEntries(
          [...criterion.figures]
            .filter(([id]) => /^(dispatch|layout|encode_64k)\//.test(id))
            .map(([id, f]) => [id, gbps(f.bytes, f.ns)]),
        )
      : {};
    console.log(
      JSON.stringify(
        {
          meta,
          rows,
          rustExtras,
          overheads,
          poolStudy: {
            encodeMiB: POOL_MIB,
            encodesInFlight: POOL_ENCODES,
            readsInFlight: IN_FLIGHT,
            results: pool,
          },
          targets,
          go,
        },
        null,
        2,
      ),
    );
  } else {
    const f2 = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(2));
    const line = (cols: string[], widths: number[]) =>
      cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(`date ${meta.date}; ${meta.cpu}; ${meta.cores} cores; SIMD ${meta.simd}; node ${meta.node}`);
    console.log(
      `criterion: ${meta.criterion ? `${meta.criterion.dir}, oldest estimate ${meta.criterion.measuredAt.toISOString()}` : 'none (run npm run bench:rust)'}`,
    );
    console.log(`klauspost: ${go ? `${go.versions}; ${go.cpu}` : `skipped: ${goSkipped}`}`);
    console.log(
      `libuv pool ${meta.uvThreadpoolSize} threads; own pool ${meta.ownPoolSize ?? 'n/a'} threads\n`,
    );
    const w = [20, 6, 9, 8, 10, 12];
    console.log(line(['operation', 'shape', 'via', 'GB/s', 'vs memcpy', 'vs klauspost'], w));
    for (const r of rows) {
      console.log(line([r.op, r.shape, r.via, f2(r.gbps), f2(r.vsMemcpy), f2(r.vsKlauspost)], w));
    }
    if (criterion) {
      const extras = [...criterion.figures].filter(([id]) => /^(dispatch|layout|encode_64k)\//.test(id));
      if (extras.length) {
        console.log('\nrust extras (criterion, one core)');
        for (const [id, f] of extras.sort()) {
          const g = gbps(f.bytes, f.ns);
          console.log(line([id, f2(g), f2(g / rustMemcpy)], [44, 8, 10]));
        }
      }
    }
    console.log('\nper-call overhead: (node - rust) / rust, rust = criterion time of the same work');
    const wo = [40, 7, 10, 10, 9];
    console.log(line(['call', 'size', 'rust us', 'node us', 'overhead'], wo));
    for (const o of overheads) {
      const us = (x: number | null) => (x === null ? 'n/a' : (x / 1000).toFixed(2));
      const pct = o.overhead === null ? 'n/a' : `${(o.overhead * 100).toFixed(1)}%`;
      console.log(line([o.call, o.size, us(o.rustNs), us(o.nodeNs), pct], wo));
    }
    console.log(
      `\npool study: ${POOL_ENCODES} x ${POOL_MIB} MiB 8+4 encodes and ${IN_FLIGHT} x readFile(1 MiB) in flight, ` +
        `${POOL_ROUNDS} x ${POOL_ROUND_MS} ms per mode, modes interleaved`,
    );
    if (typeof pool === 'string') {
      console.log(`  ${pool}`);
    } else {
      const wp = [24, 11, 9, 10, 10, 10];
      console.log(line(['mode', 'encode GB/s', 'reads/s', 'read p50', 'read p99', 'read max'], wp));
      for (const p of pool) {
        const ms = (x: number) => `${x.toFixed(2)}ms`;
        console.log(
          line(
            [
              p.mode,
              f2(p.encodeGBps),
              p.readsPerSec.toFixed(0),
              ms(p.readP50ms),
              ms(p.readP99ms),
              ms(p.readMaxms),
            ],
            wp,
          ),
        );
      }
    }
    console.log('\ntargets');
    for (const t of targets) {
      console.log(`  ${t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.target}: ${t.figure}`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
