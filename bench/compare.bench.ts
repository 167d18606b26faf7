/**
 * Cairn against MinIO under the same load from `wrk`, with a bare `node:http` server as the floor:
 * presigned PUT and GET of 4 KiB (32 connections), 1 MiB (16) and 64 MiB (8) objects, 64 keys per
 * size, each row run on every server in turn (row 1 on Cairn, then MinIO, then the floor; row 2 ...).
 * Both stores run erasure-coded 2+2 over 4 directories on one disk. For each row and server: 2xx
 * responses per second (and MB/s for the large rows), p50/p99 latency (wrk's), the server's CPU per
 * request (CPU seconds of its whole process tree over the row / 2xx responses), its peak RSS; and the
 * Cairn/MinIO and Cairn/floor ratios.
 *
 *   npx tsx bench/compare.bench.ts [--seconds=8] [--quick] [--rows=4k-put,4k-get,1m-put,1m-get,64m-put,64m-get]
 *       [--targets=cairn,minio,bare] [--workers=N] [--dir DIR] [--json] [--server=build|head|dist] [--minio=PATH] [--cpuprof=DIR]
 *
 * --seconds  length of each measured row (default 8; --quick: 3), after a 1 s warm-up for rows up to
 *            1 MiB (--warmup=S changes it, 0 for none)
 * --workers  passed to Cairn as CAIRN_WORKERS (server processes sharing the port); unset by default
 * --dir      where the temporary drives go (default: the OS temp dir); both stores use 4 directories there
 * --server   build (default): compile the working tree's src/ with tsc into the temporary directory
 *            and run that (never a stale dist/); head: the same from the last commit (`git archive
 *            HEAD`: without edits in progress); dist: the checkout's bin/cairn.js and dist/ as they are
 * --minio    the MinIO binary (default: `minio` on the PATH, then ~/go/bin/minio); when there is none the
 *            table says so and shows Cairn and the floor only. MinIO (AGPL) is a separate binary run
 *            for measurement only, never a dependency: `go install github.com/minio/minio@latest`
 * --json     one JSON object on stdout (progress on stderr)
 * --cpuprof  a directory: Cairn's processes (the primary and every worker) run with `--cpu-prof` and
 *            write their profiles there when the bench stops them
 *
 * Requests are SigV4 presigned by `aws4` (query signing, UNSIGNED-PAYLOAD), 64 keys per size; wrk
 * (at most 2 threads: it shares the machine with the servers) cycles through them with
 * `bench/compare/presigned.lua`, each thread through its own half. Before the rows, 64 objects of
 * each size are uploaded to every server; PUT rows overwrite those same keys (every PUT is an
 * overwrite, on every server) and GET rows read them. The 64 MiB PUT row cycles through 16 of the
 * keys: wrk keeps each whole request in memory (a 64 MiB string built per request would cost the
 * client ~0.1 s of CPU each). Only 2xx responses count; a row with any other response or a socket
 * error is reported as invalid, and the exit code is then 1. All traffic goes to 127.0.0.1.
 */

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import aws4 from 'aws4';
import { Agent, request } from 'undici';
import {
  allProcesses,
  BARE_SERVER,
  buildServer,
  type Child,
  cairnServerArgs,
  clockTicks,
  freePort,
  killChildrenSync,
  peakRssBytes,
  startChild,
  stopChild,
  treeUsage,
} from './lib/procs';

const KiB = 1 << 10;
const MiB = 1 << 20;
const ACCESS_KEY = 'benchadmin';
const SECRET_KEY = 'bench-secret-key-0123456789';
const REGION = 'us-east-1';
const BUCKET = 'bench';
const KEYS = 64;
const root = path.join(__dirname, '..');
const LUA = path.join(__dirname, 'compare', 'presigned.lua');

const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- options ---------------------------------------------------------------------------------------

type Target = 'cairn' | 'minio' | 'bare';
const TARGET_NAMES: Record<Target, string> = { cairn: 'Cairn', minio: 'MinIO', bare: 'floor' };

interface RowSpec {
  id: string;
  label: string;
  op: 'PUT' | 'GET';
  size: number;
  conns: number;
}

const ROWS: RowSpec[] = [
  { id: '4k-put', label: '4 KiB PUT', op: 'PUT', size: 4 * KiB, conns: 32 },
  { id: '4k-get', label: '4 KiB GET', op: 'GET', size: 4 * KiB, conns: 32 },
  { id: '1m-put', label: '1 MiB PUT', op: 'PUT', size: MiB, conns: 16 },
  { id: '1m-get', label: '1 MiB GET', op: 'GET', size: MiB, conns: 16 },
  { id: '64m-put', label: '64 MiB PUT', op: 'PUT', size: 64 * MiB, conns: 8 },
  { id: '64m-get', label: '64 MiB GET', op: 'GET', size: 64 * MiB, conns: 8 },
];

interface Options {
  json: boolean;
  quick: boolean;
  seconds: number;
  warmup: number;
  rows: RowSpec[];
  targets: Target[];
  workers: number | undefined;
  dir: string;
  server: 'build' | 'head' | 'dist';
  minio: string | undefined;
  cpuprof: string | undefined;
}

const USAGE =
  'usage: npx tsx bench/compare.bench.ts [--seconds=N] [--warmup=S] [--quick] [--rows=ID,...] [--targets=cairn,minio,bare] [--workers=N] [--dir DIR] [--json] [--server=build|head|dist] [--minio=PATH] [--cpuprof=DIR]';

function parseOptions(argv: string[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a}\n${USAGE}`);
    const [, name, value] = m as unknown as [string, string, string | undefined];
    if (value !== undefined) values.set(name, value);
    else if (name === 'json' || name === 'quick') flags.add(name);
    else if (i + 1 < argv.length) values.set(name, argv[++i]!);
    else throw new Error(`--${name} needs a value\n${USAGE}`);
  }
  const known = ['seconds', 'warmup', 'rows', 'targets', 'workers', 'dir', 'server', 'minio', 'cpuprof'];
  for (const k of values.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
  const num = (name: string, fallback: number, min: number): number => {
    const v = values.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    // wrk takes whole seconds.
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name}=${v}: a whole number >= ${min}`);
    return n;
  };
  const quick = flags.has('quick');
  const rowIds = values.get('rows')?.split(',') ?? ROWS.map((r) => r.id);
  const rows = rowIds.map((id) => {
    const r = ROWS.find((x) => x.id === id);
    if (!r) throw new Error(`--rows: ${id}? (${ROWS.map((x) => x.id).join(', ')})`);
    return r;
  });
  const targets = (values.get('targets')?.split(',') ?? ['cairn', 'minio', 'bare']).map((t) => {
    if (t !== 'cairn' && t !== 'minio' && t !== 'bare')
      throw new Error(`--targets: ${t}? (cairn, minio, bare)`);
    return t;
  });
  const server = values.get('server') ?? 'build';
  if (server !== 'build' && server !== 'head' && server !== 'dist')
    throw new Error(`--server=${server}? (build, head, dist)`);
  const workers = values.has('workers') ? num('workers', 1, 1) : undefined;
  return {
    json: flags.has('json'),
    quick,
    seconds: num('seconds', quick ? 3 : 8, 1),
    warmup: num('warmup', 1, 0),
    rows,
    // Always in this order: the rows alternate Cairn, MinIO, floor.
    targets: (['cairn', 'minio', 'bare'] as const).filter((t) => targets.includes(t)),
    workers,
    dir: values.get('dir') ?? os.tmpdir(),
    server,
    minio: values.get('minio'),
    cpuprof: values.get('cpuprof'),
  };
}

// --- the servers -----------------------------------------------------------------------------------

interface Server {
  target: Target;
  child: Child;
  /** What ran: a commit, a MinIO release. */
  version: string;
  /** Sampled while the bench ran (every 200 ms): the tree's resident set, its process count. */
  peakRss: number;
  rowPeakRss: number;
  maxProcesses: number;
  /** The tree's pids at the last sample. */
  pids: number[];
}

/** The environment without any CAIRN_* or MINIO_* setting of the caller's (Cairn reads MINIO_* too). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CAIRN|MINIO)_/.test(k)) env[k] = v;
  return env;
}

async function makeDrives(work: string, prefix: string): Promise<string[]> {
  const drives = [1, 2, 3, 4].map((i) => path.join(work, `${prefix}${i}`));
  for (const d of drives) await fs.mkdir(d);
  return drives;
}

function git(argv: string[]): string {
  try {
    return execFileSync('git', argv, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

async function startCairn(opts: Options, work: string): Promise<Server> {
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const launcher =
    opts.server === 'dist'
      ? path.join(root, 'bin', 'cairn.js')
      : await buildServer(root, path.join(work, 'build'), log, opts.server === 'head' ? 'HEAD' : undefined);
  const drives = await makeDrives(work, 'cairn');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    CAIRN_ROOT_USER: ACCESS_KEY,
    CAIRN_ROOT_PASSWORD: SECRET_KEY,
    CAIRN_REGION: REGION,
    CAIRN_LOG_LEVEL: 'warn',
  };
  if (opts.workers !== undefined) env.CAIRN_WORKERS = String(opts.workers);
  const child = await startChild({
    name: 'cairn',
    command: process.execPath,
    args: [
      // Workers inherit the primary's exec arguments (Node's cluster).
      ...(opts.cpuprof ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.cpuprof)}`] : []),
      ...cairnServerArgs(launcher, port, drives),
    ],
    env,
    cwd: root,
    ready: { port, url: `http://127.0.0.1:${port}/minio/health/ready` },
    timeoutMs: 60_000,
  });
  const dirty = git(['status', '--porcelain', '--', 'src', 'bin']) ? ' + uncommitted changes' : '';
  const version =
    opts.server === 'head'
      ? `${commit} (built from the commit)`
      : `${commit}${dirty} (${opts.server === 'build' ? 'built from the working tree' : 'dist/'})`;
  return newServer('cairn', child, version);
}

/** The MinIO binary: --minio, `minio` on the PATH, ~/go/bin/minio; undefined when there is none. */
function findMinio(opts: Options): string | undefined {
  if (opts.minio) return existsSync(opts.minio) ? opts.minio : undefined;
  for (const dir of [...(process.env.PATH ?? '').split(':'), path.join(os.homedir(), 'go', 'bin')]) {
    if (!dir) continue;
    const p = path.join(dir, 'minio');
    if (existsSync(p)) return p;
  }
  return undefined;
}

async function startMinio(bin: string, work: string): Promise<Server> {
  await makeDrives(work, 'minio');
  const [port, consolePort] = [await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    MINIO_CI_CD: '1',
    MINIO_ROOT_USER: ACCESS_KEY,
    MINIO_ROOT_PASSWORD: SECRET_KEY,
    MINIO_REGION: REGION,
    MINIO_STORAGE_CLASS_STANDARD: 'EC:2',
  };
  delete env.AWS_CA_BUNDLE;
  const child = await startChild({
    name: 'minio',
    command: bin,
    args: [
      'server',
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      path.join(work, 'minio{1...4}'),
    ],
    env,
    cwd: work,
    ready: { port, url: `http://127.0.0.1:${port}/minio/health/ready` },
    timeoutMs: 60_000,
  });
  return newServer('minio', child, minioVersion(bin));
}

/** The release, or for a `go install` build (which says DEVELOPMENT.GOGET) the module version. */
function minioVersion(bin: string): string {
  const run = (cmd: string, argv: string[]) => {
    try {
      return execFileSync(cmd, argv, {
        encoding: 'utf8',
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      return '';
    }
  };
  const release = /minio version (\S+)/.exec(run(bin, ['--version']))?.[1];
  if (release && !release.startsWith('DEVELOPMENT')) return release;
  const mod = /^\s*mod\s+github\.com\/minio\/minio\s+(\S+)/m.exec(run('go', ['version', '-m', bin]))?.[1];
  return mod ? `github.com/minio/minio@${mod} (go install)` : (release ?? 'unknown');
}

async function startBare(): Promise<Server> {
  const child = await startChild({
    name: 'bare',
    command: process.execPath,
    args: ['-e', BARE_SERVER],
    env: cleanEnv(),
    cwd: root,
    ready: /listening on (\d+)/,
  });
  return newServer('bare', child, `node:http, Node ${process.version}`);
}

function newServer(target: Target, child: Child, version: string): Server {
  return { target, child, version, peakRss: 0, rowPeakRss: 0, maxProcesses: 0, pids: [] };
}

// --- requests --------------------------------------------------------------------------------------

/** A presigned request target (path?query) for `method` on `p`: SigV4 in the query, UNSIGNED-PAYLOAD. */
function presign(host: string, method: string, p: string): string {
  const req = aws4.sign(
    { host, method, path: p, service: 's3', region: REGION, signQuery: true },
    { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  );
  return req.path!;
}

const keyOf = (size: number, i: number) => `/${BUCKET}/${size}-${i}`;

async function send(
  agent: Agent,
  host: string,
  method: 'PUT' | 'GET',
  p: string,
  body?: Buffer,
): Promise<{ status: number; length: number; text: string }> {
  const res = await request(`http://${host}${presign(host, method, p)}`, {
    method,
    body,
    headers: body ? { 'content-length': String(body.length) } : {},
    dispatcher: agent,
  });
  let length = 0;
  const parts: Buffer[] = [];
  for await (const chunk of res.body) {
    length += (chunk as Buffer).length;
    if (res.statusCode >= 300 && length < 4096) parts.push(chunk as Buffer);
  }
  return { status: res.statusCode, length, text: Buffer.concat(parts).toString() };
}

/** The bucket, then `KEYS` objects of each size the rows use, 4 at a time; then one read back per size. */
async function prepare(s: Server, sizes: number[], bodies: Map<number, Buffer>): Promise<void> {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 4_000 });
  const t0 = Date.now();
  try {
    if (s.target !== 'bare') {
      const r = await send(agent, s.child.host, 'PUT', `/${BUCKET}`);
      if (r.status !== 200) throw new Error(`${s.target}: CreateBucket: ${r.status} ${r.text}`);
    }
    for (const size of sizes) {
      const body = bodies.get(size)!;
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < KEYS) {
            const p = keyOf(size, next++);
            const r = await send(agent, s.child.host, 'PUT', p, body);
            if (r.status !== 200) throw new Error(`${s.target}: PUT ${p}: ${r.status} ${r.text}`);
          }
        }),
      );
      const r = await send(agent, s.child.host, 'GET', keyOf(size, 0));
      if (r.status !== 200 || r.length !== size)
        throw new Error(`${s.target}: GET ${keyOf(size, 0)}: ${r.status}, ${r.length} bytes ${r.text}`);
    }
  } finally {
    await agent.close();
  }
  log(
    `${s.target}: bucket and ${KEYS} objects of each size uploaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

// --- wrk -------------------------------------------------------------------------------------------

interface WrkResult {
  requests: number;
  bytes: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  /** Responses with a status above 399 (wrk's own count). */
  status: number;
  timeout: number;
  /** Responses outside 2xx, counted in Lua when `check` is on. */
  bad: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  /** wrk's CPU seconds (all its threads) after building its requests. */
  cpu: number;
  /** With `check`: statuses outside 2xx and their counts ("503=12 404=1"), and the first one's body. */
  statuses: string;
  firstBad: string;
}

let runningWrk: ChildProcess | undefined;

/**
 * Runs wrk against `host` for `seconds`, cycling through the request targets in `targetsFile`.
 * `check`: count non-2xx responses in Lua (only for small responses: wrk then copies every body).
 */
async function runWrk(
  host: string,
  row: RowSpec,
  seconds: number,
  targetsFile: string,
  bodyFile: string | undefined,
  check: boolean,
): Promise<WrkResult> {
  const threads = Math.min(2, row.conns);
  // Requests larger than 1 MiB are kept 2 per connection (see presigned.lua): 16 keys of 64 MiB, 1 GiB.
  const keep = row.op === 'PUT' && row.size > MiB ? 2 * Math.ceil(row.conns / threads) : 0;
  const argv = [
    '-t',
    String(threads),
    '-c',
    String(row.conns),
    '-d',
    `${seconds}s`,
    // Longer than the row: a slow request is then one that had not finished, never a "timeout".
    '--timeout',
    `${seconds + 5}s`,
    '-s',
    LUA,
    `http://${host}`,
    targetsFile,
    bodyFile ?? '-',
    check ? '1' : '0',
    String(threads),
    String(keep),
  ];
  const proc = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  runningWrk = proc;
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  // wrk stops itself after `seconds`; this only guards against a hang.
  const guard = setTimeout(() => proc.kill('SIGKILL'), (seconds + 60) * 1000);
  const code = await new Promise<number | string>((resolve) => {
    proc.once('error', (e) => resolve(e.message));
    proc.once('exit', (c, sig) => resolve(c ?? sig ?? 'unknown'));
  });
  clearTimeout(guard);
  runningWrk = undefined;
  const line = /^compare-result (\{.*\})$/m.exec(out);
  if (code !== 0 || !line) throw new Error(`wrk ${argv.join(' ')}: exit ${code}\n${out}\n${err}`);
  const r = JSON.parse(line[1]!) as Omit<WrkResult, 'cpu'> & { cpuTicks: number; initTicks: number };
  const { cpuTicks, initTicks, ...rest } = r;
  return { ...rest, cpu: (cpuTicks - initTicks) / clockTicks };
}

/** "503=12 (SlowDown: Please reduce your request rate)" from a run with `check`. */
function describeBad(w: WrkResult): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(w.firstBad)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(w.firstBad)?.[1];
  const body = code ? `${code}${message ? `: ${message}` : ''}` : w.firstBad.trim().slice(0, 120);
  return `${w.statuses}${body ? ` (first: ${body})` : ''}`;
}

// --- measuring -------------------------------------------------------------------------------------

interface Result {
  row: string;
  label: string;
  target: Target;
  op: 'PUT' | 'GET';
  size: number;
  conns: number;
  seconds: number;
  /** Responses wrk saw complete, and those of them that were 2xx. */
  requests: number;
  ok: number;
  errors: { connect: number; read: number; write: number; timeout: number; non2xx: number };
  opsPerSec: number;
  mbps: number;
  p50ms: number;
  p99ms: number;
  meanMs: number;
  maxMs: number;
  /** CPU seconds of the server's process tree over the row, in cores, and per 2xx response (ms). */
  serverCpuSeconds: number;
  serverCores: number;
  cpuMsPerOp: number;
  /** The server's tree RSS at its highest sample during the row, and its process count. */
  rowPeakRssBytes: number;
  processes: number;
  /** wrk's CPU over the row, in cores. */
  wrkCores: number;
  /** The other servers' CPU over the row, in cores (they idle meanwhile, or should). */
  othersCores: Partial<Record<Target, number>>;
  valid: boolean;
  problems: string[];
}

/** Samples every server's process tree every 200 ms: peak RSS overall and for the current row. */
function startSampler(servers: Server[]): () => void {
  const sample = () => {
    const procs = allProcesses();
    for (const s of servers) {
      const u = treeUsage(s.child.proc.pid, procs);
      if (u.pids.length === 0) continue;
      s.pids = u.pids;
      s.peakRss = Math.max(s.peakRss, u.rssBytes);
      s.rowPeakRss = Math.max(s.rowPeakRss, u.rssBytes);
      s.maxProcesses = Math.max(s.maxProcesses, u.pids.length);
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  return () => clearInterval(timer);
}

const treeCpu = (s: Server) => treeUsage(s.child.proc.pid, allProcesses()).cpu;

/** Waits (5 s at most) until the server's tree uses under 0.1 core: aborted uploads cleaned up, etc. */
async function settle(s: Server): Promise<void> {
  await sleep(500);
  for (let i = 0; i < 18; i++) {
    const c0 = treeCpu(s);
    await sleep(250);
    if ((treeCpu(s) - c0) / 0.25 < 0.1) return;
  }
}

async function measure(
  opts: Options,
  work: string,
  row: RowSpec,
  s: Server,
  servers: Server[],
  bodyFiles: Map<number, string>,
): Promise<Result> {
  const host = s.child.host;
  const targetsFile = path.join(work, `targets-${s.target}-${row.id}.txt`);
  const lines = Array.from({ length: KEYS }, (_, i) => presign(host, row.op, keyOf(row.size, i)));
  await fs.writeFile(targetsFile, `${lines.join('\n')}\n`);
  const bodyFile = row.op === 'PUT' ? bodyFiles.get(row.size) : undefined;
  // Status checks in Lua copy each response into Lua: PUT answers are empty, small GETs cheap.
  const check = row.op === 'PUT' || row.size <= 64 * KiB;
  if (opts.warmup > 0 && row.size <= MiB) {
    const w = await runWrk(host, row, opts.warmup, targetsFile, bodyFile, check);
    const bad = w.connect + w.read + w.write + w.timeout + w.status + w.bad;
    if (bad) log(`  ${s.target} ${row.label}: ${bad} errors during the warm-up`);
  }
  await settle(s);
  const procs0 = allProcesses();
  const before = new Map(servers.map((x) => [x.target, treeUsage(x.child.proc.pid, procs0).cpu]));
  s.rowPeakRss = 0;
  const w = await runWrk(host, row, opts.seconds, targetsFile, bodyFile, check);
  const procs = allProcesses();
  const delta = (x: Server) => treeUsage(x.child.proc.pid, procs).cpu - before.get(x.target)!;
  const seconds = w.durationUs / 1e6;
  const non2xx = check ? w.bad : w.status;
  const ok = w.requests - non2xx;
  const serverCpuSeconds = delta(s);
  const problems: string[] = [];
  const errors = { connect: w.connect, read: w.read, write: w.write, timeout: w.timeout, non2xx };
  for (const [k, v] of Object.entries(errors))
    if (v) problems.push(`${v} ${k === 'non2xx' ? 'non-2xx' : k} errors`);
  if (check && w.bad) problems.push(`statuses ${describeBad(w)}`);
  if (!check && w.status) {
    // The row's responses were too big to hand to Lua: a short re-run says what the errors were.
    const d = await runWrk(host, row, 2, targetsFile, bodyFile, true);
    problems.push(d.bad ? `a 2 s re-run recording statuses saw ${describeBad(d)}` : 'a 2 s re-run saw none');
  }
  // Without the Lua check a 3xx would pass as done; a GET row must at least have read every body.
  if (row.op === 'GET' && w.bytes < ok * row.size) problems.push(`read ${w.bytes} bytes for ${ok} responses`);
  if (ok === 0) problems.push('no request completed');
  if (s.child.proc.exitCode !== null || s.child.proc.signalCode !== null) problems.push('the server exited');
  const othersCores: Partial<Record<Target, number>> = {};
  for (const x of servers) if (x !== s) othersCores[x.target] = delta(x) / seconds;
  const result: Result = {
    row: row.id,
    label: row.label,
    target: s.target,
    op: row.op,
    size: row.size,
    conns: row.conns,
    seconds,
    requests: w.requests,
    ok,
    errors,
    opsPerSec: ok / seconds,
    mbps: (ok * row.size) / seconds / 1e6,
    p50ms: w.p50Us / 1e3,
    p99ms: w.p99Us / 1e3,
    meanMs: w.meanUs / 1e3,
    maxMs: w.maxUs / 1e3,
    serverCpuSeconds,
    serverCores: serverCpuSeconds / seconds,
    cpuMsPerOp: ok > 0 ? (serverCpuSeconds / ok) * 1e3 : Number.NaN,
    rowPeakRssBytes: s.rowPeakRss,
    processes: s.maxProcesses,
    wrkCores: w.cpu / seconds,
    othersCores,
    valid: problems.length === 0,
    problems,
  };
  log(
    `  ${row.label.padEnd(10)} ${s.target.padEnd(5)} ${fmtNum(result.opsPerSec).padStart(7)} ops/s ${fmtNum(result.mbps).padStart(6)} MB/s  p50 ${fmtNum(result.p50ms)} ms  p99 ${fmtNum(result.p99ms)} ms  srv ${result.serverCores.toFixed(2)} cores, ${fmtNum(result.cpuMsPerOp)} ms/op  wrk ${result.wrkCores.toFixed(2)} cores${result.valid ? '' : `  INVALID: ${problems.join(', ')}`}`,
  );
  return result;
}

// --- output ----------------------------------------------------------------------------------------

/** Three significant figures, at most one decimal above 100. */
function fmtNum(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  const a = Math.abs(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Two decimals, or two significant figures below 0.1 (0.0049). */
const fmtRatio = (r: number) => (r >= 0.1 ? r.toFixed(2) : r.toPrecision(2));

const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function report(
  opts: Options,
  results: Result[],
  servers: Server[],
  peaks: Map<Target, number>,
  minioNote: string | undefined,
  meta: Record<string, unknown>,
): string {
  const present = opts.targets.filter((t) => servers.some((s) => s.target === t));
  const cairn = servers.find((s) => s.target === 'cairn');
  const find = (row: RowSpec, t: Target) => results.find((r) => r.row === row.id && r.target === t);
  const cell = (r: Result | undefined, big: boolean) => {
    if (!r) return '';
    const v = big ? `${fmtNum(r.opsPerSec)} (${fmtNum(r.mbps)} MB/s)` : fmtNum(r.opsPerSec);
    return r.valid ? v : `**invalid** ${v}`;
  };
  const ratio = (a?: Result, b?: Result) =>
    a && b ? (a.valid && b.valid ? fmtRatio(a.opsPerSec / b.opsPerSec) : 'invalid') : '';
  const head = ['row', 'conns'];
  for (const t of present) head.push(`${TARGET_NAMES[t]} ops/s`);
  if (present.includes('cairn') && present.includes('minio')) head.push('Cairn/MinIO');
  if (present.includes('cairn') && present.includes('bare')) head.push('Cairn/floor');
  for (const t of present) head.push(`${TARGET_NAMES[t]} CPU ms/op`);
  for (const t of present) if (t !== 'bare') head.push(`${TARGET_NAMES[t]} p50 / p99 ms`);
  const main = opts.rows.map((row) => {
    const big = row.size >= MiB;
    const line = [row.label, String(row.conns)];
    for (const t of present) line.push(cell(find(row, t), big));
    if (present.includes('cairn') && present.includes('minio'))
      line.push(ratio(find(row, 'cairn'), find(row, 'minio')));
    if (present.includes('cairn') && present.includes('bare'))
      line.push(ratio(find(row, 'cairn'), find(row, 'bare')));
    for (const t of present) line.push(fmtNum(find(row, t)?.cpuMsPerOp ?? Number.NaN));
    for (const t of present) {
      if (t === 'bare') continue;
      const r = find(row, t);
      line.push(r ? `${fmtNum(r.p50ms)} / ${fmtNum(r.p99ms)}` : '');
    }
    return line;
  });
  const detail = results.map((r) => [
    r.label,
    TARGET_NAMES[r.target],
    fmtNum(r.opsPerSec),
    fmtNum(r.mbps),
    fmtNum(r.p50ms),
    fmtNum(r.p99ms),
    r.serverCores.toFixed(2),
    fmtNum(r.cpuMsPerOp),
    mib(r.rowPeakRssBytes),
    r.wrkCores.toFixed(2),
    Object.entries(r.othersCores)
      .map(([t, c]) => `${TARGET_NAMES[t as Target]} ${c.toFixed(2)}`)
      .join(', '),
    r.valid ? `${r.ok}` : `${r.ok}; **${r.problems.join(', ')}**`,
  ]);
  const serverRows = servers.map((s) => {
    const own = results.filter((r) => r.target !== s.target);
    const idleCpu = own.reduce((a, r) => a + (r.othersCores[s.target] ?? 0) * r.seconds, 0);
    const idleSeconds = own.reduce((a, r) => a + r.seconds, 0);
    return [
      TARGET_NAMES[s.target],
      s.version,
      String(s.maxProcesses),
      mib(s.peakRss),
      mib(peaks.get(s.target) ?? 0),
      idleSeconds > 0 ? (idleCpu / idleSeconds).toFixed(3) : '',
    ];
  });
  const lines = [
    `${meta.date}; ${meta.cpus} CPUs (${meta.cpuModel}), Node ${meta.node}, ${meta.wrk}; load average ${meta.loadBefore} before, ${meta.loadAfter} after`,
    `Cairn: ${cairn ? `${cairn.version}, CAIRN_WORKERS=${opts.workers ?? 'unset'} (${plural(cairn.maxProcesses, 'process', 'processes')})` : 'not run'}; MinIO: ${servers.find((s) => s.target === 'minio')?.version ?? minioNote ?? 'not run'}`,
    `${opts.seconds} s per row${opts.warmup > 0 ? ` (after a ${opts.warmup} s warm-up up to 1 MiB)` : ''}, ${KEYS} keys per size, presigned PUT/GET, EC 2+2 on 4 directories of one disk (${opts.dir}), wrk with at most 2 threads on the same machine`,
    '',
    table(head, main),
    '',
    'ops/s: 2xx responses per second (MB/s for 1 MiB and 64 MiB rows). CPU ms/op: CPU seconds of the server process tree over the row / 2xx responses.',
    '',
    table(
      [
        'row',
        'server',
        'ops/s',
        'MB/s',
        'p50 ms',
        'p99 ms',
        'server cores',
        'CPU ms/op',
        'peak RSS in row',
        'wrk cores',
        'other servers (cores)',
        '2xx',
      ],
      detail,
    ),
    '',
    table(
      [
        'server',
        'version',
        'processes',
        'peak RSS (sampled)',
        'peak RSS (VmHWM)',
        'CPU while others ran (cores)',
      ],
      serverRows,
    ),
  ];
  if (minioNote) lines.push('', `MinIO: ${minioNote}`);
  const invalid = results.filter((r) => !r.valid);
  if (invalid.length) {
    lines.push(
      '',
      `**${invalid.length} invalid row(s)** (errors: a row with any is not a valid measurement):`,
    );
    for (const r of invalid)
      lines.push(`- ${r.label} on ${TARGET_NAMES[r.target]}: ${r.problems.join(', ')}`);
  }
  return lines.join('\n');
}

// --- main ------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  const loadBefore = load();
  // `wrk -v` prints its version, then its usage, and exits with 1.
  const v = spawnSync('wrk', ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (v.error) throw new Error(`wrk: ${v.error.message} (is it installed?)`);
  const wrkVersion = /^wrk \S+/.exec(v.stdout)?.[0] ?? 'wrk';
  const work = await fs.mkdtemp(path.join(opts.dir, 'cairn-compare-'));
  const servers: Server[] = [];
  let stopSampler = () => {};
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      stopSampler();
      runningWrk?.kill('SIGKILL');
      for (const s of servers) await stopChild(s.child, 15_000).catch(() => {});
      await fs.rm(work, { recursive: true, force: true });
    })();
    return cleaning;
  };
  let interrupted = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++interrupted > 1) {
      killChildrenSync();
      process.exit(130);
    }
    log(`${sig}: stopping the servers and removing ${work} (again to force)`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    log(`load average ${loadBefore}; work dir ${work}`);
    const sizes = [...new Set(opts.rows.map((r) => r.size))];
    const bodies = new Map(sizes.map((s) => [s, randomBytes(s)]));
    const bodyFiles = new Map<number, string>();
    for (const [size, body] of bodies) {
      const f = path.join(work, `body-${size}`);
      await fs.writeFile(f, body);
      bodyFiles.set(size, f);
    }

    let minioNote: string | undefined;
    for (const t of opts.targets) {
      if (t === 'cairn') servers.push(await startCairn(opts, work));
      if (t === 'bare') servers.push(await startBare());
      if (t === 'minio') {
        const bin = findMinio(opts);
        if (bin) servers.push(await startMinio(bin, work));
        else
          minioNote = `not installed (no \`minio\` on the PATH or in ~/go/bin): \`go install github.com/minio/minio@latest\` to compare`;
      }
    }
    for (const s of servers) log(`${s.target}: pid ${s.child.proc.pid}, ${s.child.host}, ${s.version}`);
    for (const s of servers) await prepare(s, sizes, bodies);

    stopSampler = startSampler(servers);
    const results: Result[] = [];
    for (const row of opts.rows) {
      for (const s of servers) results.push(await measure(opts, work, row, s, servers, bodyFiles));
    }
    stopSampler();
    const peaks = new Map(servers.map((s) => [s.target, peakRssBytes(s.pids)]));
    for (const s of servers) {
      // MinIO writes its banner and notices to stderr: only its errors are news.
      const lines = s.child.stderr().trim().split('\n');
      const shown = (s.target === 'minio' ? lines.filter((l) => /error|fatal|panic/i.test(l)) : lines)
        .filter(Boolean)
        .slice(-20);
      if (shown.length) log(`${s.target} stderr (last lines):\n${shown.join('\n')}`);
    }

    const meta = {
      date: new Date().toString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      wrk: wrkVersion,
      loadBefore,
      loadAfter: load(),
      options: { ...opts, rows: opts.rows.map((r) => r.id) },
    };
    if (opts.json) {
      const serverInfo = servers.map((s) => ({
        target: s.target,
        version: s.version,
        processes: s.maxProcesses,
        peakRssSampledBytes: s.peakRss,
        peakRssHwmBytes: peaks.get(s.target),
      }));
      console.log(JSON.stringify({ meta, minio: minioNote, servers: serverInfo, results }, null, 2));
    } else {
      console.log(`\n${report(opts, results, servers, peaks, minioNote, meta)}`);
    }
    if (results.some((r) => !r.valid)) process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  killChildrenSync();
  process.exit(1);
});
