/**
 * S3 load: PUT and GET of 64 MiB objects at concurrency 8 and of 4 KiB objects at concurrency 32,
 * one PUT stream alone, over keep-alive connections with SigV4-signed requests (undici + aws4), in
 * one run against:
 *
 * - `cairn`: the server as users run it, `node bin/cairn.js server` on 4 temporary drives (2+2), a
 *   child process so the client does not share its event loop;
 * - `bare`: a bare `node:http` child that discards PUT bodies and streams GET bodies of the same
 *   sizes from memory, in 1 MiB chunks (what HTTP alone costs in Node);
 * - `engine`: the storage engine in this process, no HTTP (as `bench/engine.bench.ts`);
 *
 * beside the MD5 rate of the same bytes (Node's `crypto`, and the addon's `Checksums`), which bounds
 * one PUT stream: the ETag is an MD5, a serial hash.
 *
 *   npx tsx bench/s3load.bench.ts [--json] [--quick] [--dir DIR] [--server=build|dist|source] [--profile] [--perf]
 *
 * --json     one JSON object on stdout (progress on stderr)
 * --quick    shorter phases (about half the time)
 * --dir      where the temporary drives go (default: the OS temp dir)
 * --server   build (default): compile src/ with tsc into the temporary directory, beside a copy of
 *            bin/cairn.js, and run that (what an installed package runs, never a stale dist/);
 *            dist: the checkout's bin/cairn.js and dist/ as they are; source: src/ through tsx
 *            (CAIRN_FROM_SOURCE=1; tsx also turns source maps on, which makes stack traces dearer)
 * --profile  run the server child with --cpu-prof and print where its (main thread's) time went
 * --perf     record each phase with `perf record -g -p <server pid>` (every thread, kernel included;
 *            the server child runs with --perf-basic-prof so JS frames have names) and print the
 *            top threads, objects and symbols of each
 * --targets=bare,cairn,engine   --phases=single,large,small,small-put   run only some (with --profile, one
 *            phase at a time tells where each one's time goes)
 */

// The engine part runs in this process: give it the pool `bin/cairn.js` gives the server.
process.env.UV_THREADPOOL_SIZE ??= '32';

import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import aws4 from 'aws4';
import { Agent, request } from 'undici';
import { ErasureSets } from '../src/erasure/ErasureSets';
import { Checksums } from '../src/native';
import { LocalDrive } from '../src/storage/LocalDrive';
import {
  BARE_SERVER,
  buildServer,
  type Child,
  cairnServerArgs,
  cpuSeconds,
  startChild,
  stopChild,
  treeCpuSeconds,
} from './lib/procs';
import { percentile } from './lib/timing';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const perf = args.includes('--perf');
const dirArg = args.indexOf('--dir');
const baseDir = dirArg >= 0 ? args[dirArg + 1]! : os.tmpdir();
const root = path.join(__dirname, '..');
const listArg = (name: string, all: string[]): Set<string> => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return new Set(a ? a.slice(name.length + 3).split(',') : all);
};
const TARGETS = listArg('targets', ['bare', 'cairn', 'engine']);
const PHASES = listArg('phases', ['single', 'large', 'small']);

const MiB = 1 << 20;
const LARGE = 64 * MiB;
const SMALL = 4 << 10;
const ACCESS_KEY = 'benchadmin';
const SECRET_KEY = 'bench-secret-key-0123456789';
const REGION = 'us-east-1';
const BUCKET = 'bench';

/** Large phases: this many objects; small phases: this long (plus a short warm-up). */
const LARGE_COUNT = quick ? 8 : 16;
const SINGLE_COUNT = quick ? 2 : 4;
const SMALL_SECONDS = quick ? 1.5 : 3;

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the servers ---------------------------------------------------------------------------------

type ServerMode = 'build' | 'dist' | 'source';
const SERVER_MODE = (args.find((a) => a.startsWith('--server='))?.slice(9) ?? 'build') as ServerMode;
if (!['build', 'dist', 'source'].includes(SERVER_MODE)) throw new Error(`--server=${SERVER_MODE}?`);

/** The `bin/cairn.js` to run: for `build`, one compiled from the working tree into `work`. */
async function serverLauncher(work: string): Promise<string> {
  if (SERVER_MODE !== 'build') return path.join(root, 'bin', 'cairn.js');
  return buildServer(root, work, log);
}

// --- the client ------------------------------------------------------------------------------------

interface Row {
  target: 'bare' | 'cairn' | 'engine';
  op: 'PUT' | 'GET';
  size: number;
  concurrency: number;
  ops: number;
  seconds: number;
  mbps: number;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
  /** Server CPU over the phase, in cores (1.0 = one core busy); this process's for `engine`. */
  serverCores?: number;
  /** This process's CPU over the phase, in cores (the client; for `engine`, everything). */
  clientCores: number;
}

/**
 * Runs `fn(i)` with `concurrency` calls in flight until `count` calls are done or `seconds` have
 * passed; records each call's latency and the CPU both sides used.
 */
async function phase(
  meta: Pick<Row, 'target' | 'op' | 'size' | 'concurrency'>,
  limit: { count?: number; seconds?: number; warmup?: boolean },
  pid: number | undefined,
  fn: (i: number) => Promise<void>,
): Promise<Row> {
  const recording = perf && pid !== undefined && !limit.warmup ? await startPerf(pid) : undefined;
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  // A server child's workers count too; the bench process itself (engine) is measured alone.
  const serverCpu = (p: number | undefined) => (p === process.pid ? cpuSeconds(p) : treeCpuSeconds(p));
  const srv0 = serverCpu(pid);
  const t0 = process.hrtime.bigint();
  const deadline = limit.seconds !== undefined ? t0 + BigInt(Math.round(limit.seconds * 1e9)) : undefined;
  await Promise.all(
    Array.from({ length: meta.concurrency }, async () => {
      for (;;) {
        if (limit.count !== undefined && next >= limit.count) return;
        if (deadline !== undefined && process.hrtime.bigint() >= deadline) return;
        const i = next++;
        const t = process.hrtime.bigint();
        await fn(i);
        lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = serverCpu(pid);
  const row: Row = {
    ...meta,
    ops: lat.length,
    seconds,
    mbps: (meta.size * lat.length) / seconds / 1e6,
    opsPerSec: lat.length / seconds,
    p50ms: percentile(lat, 50),
    p99ms: percentile(lat, 99),
    clientCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
  if (srv0 !== undefined && srv1 !== undefined) row.serverCores = (srv1 - srv0) / seconds;
  if (!limit.warmup) log(`  ${fmtRow(row)}`);
  if (recording) {
    const lines = await recording.stop(
      `${meta.target} ${meta.op} ${sizeName(meta.size)} x${meta.concurrency}`,
    );
    perfLines.push(...lines);
    for (const l of lines) log(`    ${l}`);
  }
  return row;
}

function signedHeaders(
  host: string,
  method: string,
  p: string,
  payloadHash: string,
  extra: Record<string, string> = {},
) {
  const req = {
    host,
    method,
    path: p,
    service: 's3',
    region: REGION,
    headers: { 'X-Amz-Content-Sha256': payloadHash, ...extra } as Record<string, string>,
  };
  aws4.sign(req, { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== 'host') out[k] = String(v);
  return out;
}

/** PUT `body` as `/bench/<key>`: large bodies UNSIGNED-PAYLOAD (as SDKs do over TLS), small ones signed. */
async function put(agent: Agent, host: string, key: string, body: Buffer, bodyHash: string): Promise<void> {
  const p = `/${BUCKET}/${key}`;
  const headers = signedHeaders(host, 'PUT', p, body.length >= MiB ? 'UNSIGNED-PAYLOAD' : bodyHash, {
    'Content-Length': String(body.length),
  });
  const res = await request(`http://${host}${p}`, { method: 'PUT', headers, body, dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`PUT ${p}: ${res.statusCode} ${text}`);
}

async function get(agent: Agent, host: string, key: string, size: number): Promise<void> {
  const p = `/${BUCKET}/${key}`;
  const headers = signedHeaders(host, 'GET', p, createHash('sha256').update('').digest('hex'));
  const res = await request(`http://${host}${p}`, { method: 'GET', headers, dispatcher: agent });
  if (res.statusCode !== 200) throw new Error(`GET ${p}: ${res.statusCode} ${await res.body.text()}`);
  let n = 0;
  for await (const chunk of res.body) n += (chunk as Buffer).length;
  if (n !== size) throw new Error(`GET ${p}: ${n} bytes, expected ${size}`);
}

/** The same workloads against one HTTP target. */
async function httpPhases(target: 'bare' | 'cairn', host: string, pid: number | undefined): Promise<Row[]> {
  const rows: Row[] = [];
  const large = randomBytes(LARGE);
  const largeHash = createHash('sha256').update(large).digest('hex');
  const small = randomBytes(SMALL);
  const smallHash = createHash('sha256').update(small).digest('hex');
  log(`${target}:`);
  if (target === 'cairn') {
    const headers = signedHeaders(host, 'PUT', `/${BUCKET}`, createHash('sha256').update('').digest('hex'));
    const res = await request(`http://${host}/${BUCKET}`, { method: 'PUT', headers });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`CreateBucket: ${res.statusCode}`);
  }
  if (PHASES.has('single')) {
    // One stream, one connection: the rate a single client gets.
    const agent = new Agent({ connections: 1, keepAliveTimeout: 4_000 });
    await put(agent, host, `${LARGE}-warm`, large, largeHash);
    rows.push(
      await phase({ target, op: 'PUT', size: LARGE, concurrency: 1 }, { count: SINGLE_COUNT }, pid, (i) =>
        put(agent, host, `${LARGE}-single-${i}`, large, largeHash),
      ),
    );
    await agent.close();
  }
  if (PHASES.has('large')) {
    const agent = new Agent({ connections: 8, keepAliveTimeout: 4_000 });
    rows.push(
      await phase({ target, op: 'PUT', size: LARGE, concurrency: 8 }, { count: LARGE_COUNT }, pid, (i) =>
        put(agent, host, `${LARGE}-${i}`, large, largeHash),
      ),
    );
    rows.push(
      await phase({ target, op: 'GET', size: LARGE, concurrency: 8 }, { count: LARGE_COUNT }, pid, (i) =>
        get(agent, host, `${LARGE}-${i % LARGE_COUNT}`, LARGE),
      ),
    );
    await agent.close();
  }
  if (PHASES.has('small') || PHASES.has('small-put')) {
    const agent = new Agent({ connections: 32, keepAliveTimeout: 4_000 });
    // Warm-up: connections open, JIT warm.
    await phase(
      { target, op: 'PUT', size: SMALL, concurrency: 32 },
      { seconds: 0.3, warmup: true },
      pid,
      (i) => put(agent, host, `${SMALL}-warm-${i}`, small, smallHash),
    );
    const putRow = await phase(
      { target, op: 'PUT', size: SMALL, concurrency: 32 },
      { seconds: SMALL_SECONDS },
      pid,
      (i) => put(agent, host, `${SMALL}-${i}`, small, smallHash),
    );
    rows.push(putRow);
    const written = putRow.ops;
    if (PHASES.has('small')) {
      rows.push(
        await phase(
          { target, op: 'GET', size: SMALL, concurrency: 32 },
          { seconds: SMALL_SECONDS },
          pid,
          (i) => get(agent, host, `${SMALL}-${i % written}`, SMALL),
        ),
      );
    }
    await agent.close();
  }
  return rows;
}

async function enginePhases(dir: string): Promise<Row[]> {
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(dir, `e${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const layer = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
  await layer.makeBucket(BUCKET);
  const rows: Row[] = [];
  const large = randomBytes(LARGE);
  const small = randomBytes(SMALL);
  const target = 'engine';
  const pid = process.pid;
  const putObj = (key: string, body: Buffer) =>
    layer.putObject(BUCKET, key, Readable.from([body]), { size: body.length }).then(() => {});
  const getObj = async (key: string) => {
    const { stream } = await layer.getObject(BUCKET, key);
    for await (const _ of stream) {
    }
  };
  log('engine (in this process, no HTTP; CPU is all of it):');
  try {
    await putObj('warm', large);
    if (PHASES.has('single')) {
      rows.push(
        await phase({ target, op: 'PUT', size: LARGE, concurrency: 1 }, { count: SINGLE_COUNT }, pid, (i) =>
          putObj(`${LARGE}-single-${i}`, large),
        ),
      );
    }
    if (PHASES.has('large')) {
      rows.push(
        await phase({ target, op: 'PUT', size: LARGE, concurrency: 8 }, { count: LARGE_COUNT }, pid, (i) =>
          putObj(`${LARGE}-${i}`, large),
        ),
      );
      rows.push(
        await phase({ target, op: 'GET', size: LARGE, concurrency: 8 }, { count: LARGE_COUNT }, pid, (i) =>
          getObj(`${LARGE}-${i % LARGE_COUNT}`),
        ),
      );
    }
    if (!PHASES.has('small') && !PHASES.has('small-put')) return rows;
    await phase(
      { target, op: 'PUT', size: SMALL, concurrency: 32 },
      { seconds: 0.3, warmup: true },
      pid,
      (i) => putObj(`${SMALL}-warm-${i}`, small),
    );
    const putRow = await phase(
      { target, op: 'PUT', size: SMALL, concurrency: 32 },
      { seconds: SMALL_SECONDS },
      pid,
      (i) => putObj(`${SMALL}-${i}`, small),
    );
    rows.push(putRow);
    if (PHASES.has('small')) {
      rows.push(
        await phase(
          { target, op: 'GET', size: SMALL, concurrency: 32 },
          { seconds: SMALL_SECONDS },
          pid,
          (i) => getObj(`${SMALL}-${i % putRow.ops}`),
        ),
      );
    }
  } finally {
    await layer.shutdown();
  }
  for (const r of rows) r.clientCores = r.serverCores ?? r.clientCores;
  return rows;
}

/** MB/s of MD5 over `LARGE` bytes in 1 MiB updates: Node's crypto, and the addon (alone, and with CRC64NVME as PUT computes). */
async function md5Rates(): Promise<{ cryptoMd5: number; nativeMd5: number; nativeMd5Crc64: number }> {
  const data = randomBytes(LARGE);
  const best = (fn: () => void) => {
    let b = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const t = process.hrtime.bigint();
      fn();
      b = Math.min(b, Number(process.hrtime.bigint() - t) / 1e9);
    }
    return LARGE / b / 1e6;
  };
  const chunks = Array.from({ length: LARGE / MiB }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
  const cryptoMd5 = best(() => {
    const h = createHash('md5');
    for (const c of chunks) h.update(c);
    h.digest();
  });
  const native = (kinds: ('md5' | 'crc64nvme')[]) => async () => {
    let b = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const t = process.hrtime.bigint();
      const c = new Checksums(kinds);
      for (const ch of chunks) void c.update(ch);
      await c.digest();
      b = Math.min(b, Number(process.hrtime.bigint() - t) / 1e9);
    }
    return LARGE / b / 1e6;
  };
  return {
    cryptoMd5,
    nativeMd5: await native(['md5'])(),
    nativeMd5Crc64: await native(['md5', 'crc64nvme'])(),
  };
}

// --- perf ------------------------------------------------------------------------------------------

const perfLines: string[] = [];
let perfDir = os.tmpdir();
let perfCount = 0;

/** `perf report` lines as [percent, name], the top `n`. */
function perfTop(file: string, sort: string, n: number): [number, string][] {
  let out = '';
  try {
    out = execFileSync(
      'perf',
      ['report', '-i', file, '--no-children', '--sort', sort, '--stdio', '-g', 'none'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        maxBuffer: 1 << 26,
      },
    );
  } catch {
    return [];
  }
  const rows: [number, string][] = [];
  for (const line of out.split('\n')) {
    const m = /^\s+([\d.]+)%\s+(.*)$/.exec(line);
    if (m) rows.push([Number(m[1]), m[2]!.replace(/\s+/g, ' ').trim()]);
  }
  return rows.slice(0, n);
}

/** Starts `perf record` on `pid`; `stop` ends it and summarises: by thread, by object, by symbol. */
async function startPerf(pid: number): Promise<{ stop(label: string): Promise<string[]> }> {
  const file = path.join(perfDir, `perf-${++perfCount}.data`);
  const rec = spawn('perf', ['record', '-F', '999', '-g', '-p', String(pid), '-o', file], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => rec.once('exit', () => r()));
  rec.once('error', () => {});
  await sleep(300);
  return {
    async stop(label: string) {
      rec.kill('SIGINT');
      await exited;
      if (!existsSync(file)) return [`perf ${label}: no data (is perf installed and allowed?)`];
      const fmt = (rows: [number, string][]) => rows.map(([p, n]) => `${p.toFixed(1)}% ${n}`).join(', ');
      return [
        `perf ${label}:`,
        `  threads: ${fmt(perfTop(file, 'comm', 6))}`,
        `  objects: ${fmt(perfTop(file, 'dso', 8))}`,
        ...perfTop(file, 'sym', 20).map(([p, n]) => `  ${p.toFixed(1).padStart(5)}%  ${n.slice(0, 140)}`),
      ];
    },
  };
}

// --- CPU profile summary -------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time by function (and by file), from a `.cpuprofile`. */
function summarizeProfile(file: string, top = 25): string[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (const [i, id] of prof.samples.entries()) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnTime = new Map<string, number>();
  const fileTime = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = f.url.replace(`file://${root}/`, '').replace(/^.*node_modules\//, 'node_modules/');
    const name = `${f.functionName || '(anonymous)'} ${where ? `${where}:${f.lineNumber + 1}` : ''}`.trim();
    fnTime.set(name, (fnTime.get(name) ?? 0) + us);
    const group = where === '' ? f.functionName : where.replace(/:\d+$/, '');
    fileTime.set(group, (fileTime.get(group) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`profile ${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled on the main thread`];
  lines.push('  by file / kind:');
  for (const [k, us] of [...fileTime].sort((a, b) => b[1] - a[1]).slice(0, 15))
    lines.push(`    ${pct(us)}  ${k}`);
  lines.push('  by function (self):');
  for (const [k, us] of [...fnTime].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`    ${pct(us)}  ${k}`);
  return lines;
}

// --- output --------------------------------------------------------------------------------------

function sizeName(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n >> 10} KiB`;
}

function fmtRow(r: Row): string {
  return [
    r.target.padEnd(6),
    r.op.padEnd(3),
    sizeName(r.size).padStart(6),
    String(r.concurrency).padStart(4),
    r.mbps.toFixed(0).padStart(7),
    r.opsPerSec.toFixed(0).padStart(7),
    r.p50ms.toFixed(2).padStart(8),
    r.p99ms.toFixed(2).padStart(8),
    (r.serverCores === undefined ? 'n/a' : r.serverCores.toFixed(2)).padStart(7),
    r.clientCores.toFixed(2).padStart(7),
  ].join(' ');
}

const HEADER = `${'target'.padEnd(6)} ${'op'.padEnd(3)} ${'size'.padStart(6)} ${'conc'.padStart(4)} ${'MB/s'.padStart(7)} ${'ops/s'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'srv cpu'.padStart(7)} ${'cli cpu'.padStart(7)}`;

async function main() {
  const load0 = os.loadavg();
  const work = await fs.mkdtemp(path.join(baseDir, 'cairn-s3load-'));
  const profDir = path.join(work, 'prof');
  perfDir = work;
  const children: Child[] = [];
  const rows: Row[] = [];
  let profileLines: string[] = [];
  try {
    log(`load average ${load0.map((l) => l.toFixed(2)).join(' ')}; server: ${SERVER_MODE}`);
    const md5 = await md5Rates();
    log(
      `MD5 of 64 MiB: crypto ${md5.cryptoMd5.toFixed(0)} MB/s, addon ${md5.nativeMd5.toFixed(0)} MB/s (with CRC64NVME ${md5.nativeMd5Crc64.toFixed(0)})`,
    );

    if (TARGETS.has('bare')) {
      const bare = await startChild({
        name: 'bare',
        command: process.execPath,
        args: ['-e', BARE_SERVER],
        env: { ...process.env },
        cwd: root,
        ready: /listening on (\d+)/,
      });
      children.push(bare);
      rows.push(...(await httpPhases('bare', bare.host, bare.proc.pid)));
      await stopChild(bare);
    }

    if (TARGETS.has('cairn')) {
      const launcher = await serverLauncher(work);
      const drives = [1, 2, 3, 4].map((i) => path.join(work, `d${i}`));
      const cairn = await startChild({
        name: 'cairn',
        command: process.execPath,
        args: [
          ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
          ...(perf ? ['--perf-basic-prof'] : []),
          ...cairnServerArgs(launcher, 0, drives, false),
        ],
        env: {
          ...process.env,
          CAIRN_ROOT_USER: ACCESS_KEY,
          CAIRN_ROOT_PASSWORD: SECRET_KEY,
          CAIRN_REGION: REGION,
          CAIRN_LOG_LEVEL: 'warn',
          ...(SERVER_MODE === 'source' ? { CAIRN_FROM_SOURCE: '1' } : { CAIRN_FROM_SOURCE: '' }),
        },
        cwd: root,
        ready: /S3 API:\s+http:\/\/127\.0\.0\.1:(\d+)/,
      });
      children.push(cairn);
      log(`cairn: pid ${cairn.proc.pid}, ${cairn.host}`);
      rows.push(...(await httpPhases('cairn', cairn.host, cairn.proc.pid)));
      await stopChild(cairn);
      if (perf) await fs.rm(`/tmp/perf-${cairn.proc.pid}.map`, { force: true });
      if (cairn.stderr().trim()) log(`cairn stderr:\n${cairn.stderr().trim().slice(-2000)}`);
      if (profile) {
        for (const f of existsSync(profDir) ? readdirSync(profDir) : []) {
          profileLines = profileLines.concat(summarizeProfile(path.join(profDir, f)));
        }
      }
    }
    if (TARGETS.has('engine')) {
      const engineDir = path.join(work, 'engine');
      await fs.mkdir(engineDir);
      rows.push(...(await enginePhases(engineDir)));
    }

    const load1 = os.loadavg();
    const find = (target: Row['target'], op: Row['op'], size: number, conc: number) =>
      rows.find((r) => r.target === target && r.op === op && r.size === size && r.concurrency === conc);
    const ratio = (a?: Row, b?: Row) => (a && b ? a.mbps / b.mbps : Number.NaN);
    const getLarge = ratio(find('cairn', 'GET', LARGE, 8), find('bare', 'GET', LARGE, 8));
    const single = find('cairn', 'PUT', LARGE, 1);
    const vsMd5 = single ? single.mbps / md5.nativeMd5 : Number.NaN;
    const vsCryptoMd5 = single ? single.mbps / md5.cryptoMd5 : Number.NaN;
    const smallPut = find('cairn', 'PUT', SMALL, 32);
    const smallGet = find('cairn', 'GET', SMALL, 32);
    const targets = [
      {
        target: 'GET 64 MiB x8 >= 0.7x bare',
        value: `${getLarge.toFixed(2)}x`,
        met: getLarge >= 0.7,
      },
      {
        target: 'one PUT stream >= 0.8x MD5 rate',
        value: `${vsMd5.toFixed(2)}x addon MD5, ${vsCryptoMd5.toFixed(2)}x crypto MD5`,
        met: vsMd5 >= 0.8,
      },
      {
        target: '4 KiB PUT x32: thousands of ops/s, p99 < 20 ms',
        value: smallPut
          ? `${smallPut.opsPerSec.toFixed(0)} ops/s, p99 ${smallPut.p99ms.toFixed(1)} ms`
          : 'n/a',
        met: !!smallPut && smallPut.opsPerSec >= 1000 && smallPut.p99ms < 20,
      },
      {
        target: '4 KiB GET x32: thousands of ops/s, p99 < 20 ms',
        value: smallGet
          ? `${smallGet.opsPerSec.toFixed(0)} ops/s, p99 ${smallGet.p99ms.toFixed(1)} ms`
          : 'n/a',
        met: !!smallGet && smallGet.opsPerSec >= 1000 && smallGet.p99ms < 20,
      },
    ];
    const meta = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      loadAverageBefore: load0,
      loadAverageAfter: load1,
      server: SERVER_MODE,
      quick,
    };
    if (json) {
      console.log(
        JSON.stringify({ meta, md5, rows, targets, profile: profileLines, perf: perfLines }, null, 2),
      );
      return;
    }
    console.log(
      `\n${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs (${meta.cpuModel}), load average ${load0.map((l) => l.toFixed(2)).join(' ')} -> ${load1.map((l) => l.toFixed(2)).join(' ')}`,
    );
    console.log(
      `MD5 of 64 MiB, one core: crypto ${md5.cryptoMd5.toFixed(0)} MB/s, addon ${md5.nativeMd5.toFixed(0)} MB/s (MD5 + CRC64NVME ${md5.nativeMd5Crc64.toFixed(0)} MB/s)\n`,
    );
    console.log(HEADER);
    for (const r of rows) console.log(fmtRow(r));
    console.log('\ntargets:');
    for (const t of targets) console.log(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.target}: ${t.value}`);
    if (profileLines.length) console.log(`\n${profileLines.join('\n')}`);
    if (perfLines.length) console.log(`\n${perfLines.join('\n')}`);
  } finally {
    for (const c of children) await stopChild(c).catch(() => {});
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
