/**
 * Server processes for the HTTP benches (`s3load.bench.ts`, `compare.bench.ts`): start a child and
 * wait until it serves, stop it, build the Cairn server from the working tree, a bare `node:http`
 * floor server, and the CPU and memory a process (or a process tree) has used, from `/proc` (Linux;
 * the readers answer `undefined` or zero elsewhere).
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- children --------------------------------------------------------------------------------------

export interface Child {
  name: string;
  proc: ChildProcess;
  /** `127.0.0.1:port` */
  host: string;
  stdout: () => string;
  stderr: () => string;
}

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * When it serves: a pattern its stdout will match, whose first group is the port; or the port it
   * was told to use and a URL that answers 200 once it is ready (polled).
   */
  ready: RegExp | { port: number; url: string };
  /** Give up (and kill it) after this long; default 30 s. */
  timeoutMs?: number;
}

/** Children still running, killed (their whole process group) if this process exits first. */
const live = new Set<ChildProcess>();
let exitHookSet = false;

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  try {
    // The child leads its own process group (`detached`), so this reaches its workers too.
    process.kill(-proc.pid, signal);
  } catch {
    try {
      proc.kill(signal);
    } catch {}
  }
}

/** SIGKILLs every child still running (for `exit` handlers: synchronous). */
export function killChildrenSync(): void {
  for (const p of live) killGroup(p, 'SIGKILL');
  live.clear();
}

/** Starts a child in its own process group and resolves once it serves (see `ChildSpec.ready`). */
export function startChild(spec: ChildSpec): Promise<Child> {
  if (!exitHookSet) {
    process.once('exit', killChildrenSync);
    exitHookSet = true;
  }
  return new Promise((resolve, reject) => {
    const proc = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(proc);
    let out = '';
    let err = '';
    let settled = false;
    const child = (port: string | number): Child => ({
      name: spec.name,
      proc,
      host: `127.0.0.1:${port}`,
      stdout: () => out,
      stderr: () => err,
    });
    const done = (c?: Child, why?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (c) resolve(c);
      else {
        killGroup(proc, 'SIGKILL');
        reject(new Error(`${spec.name}: ${why}\n${out.slice(-4000)}\n${err.slice(-4000)}`));
      }
    };
    const timer = setTimeout(
      () => done(undefined, `not serving after ${spec.timeoutMs ?? 30_000} ms`),
      spec.timeoutMs ?? 30_000,
    );
    const { ready } = spec;
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 1 << 20) out += d;
      if (ready instanceof RegExp) {
        const m = ready.exec(out);
        if (m) done(child(m[1]!));
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 1 << 20) err += d;
    });
    proc.once('error', (e) => done(undefined, e.message));
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      done(undefined, `exited with ${code ?? signal}`);
    });
    if (!(ready instanceof RegExp)) {
      void (async () => {
        while (!settled) {
          if (await answers200(ready.url)) return done(child(ready.port));
          await sleep(100);
        }
      })();
    }
  });
}

/** True when `url` answers 200 within a second. */
async function answers200(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** SIGTERM to the child's process group; SIGKILL after `graceMs`. */
export async function stopChild(c: Child, graceMs = 40_000): Promise<void> {
  const { proc } = c;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  killGroup(proc, 'SIGTERM');
  const t = setTimeout(() => killGroup(proc, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
  live.delete(proc);
}

/** A TCP port free on 127.0.0.1 now (the OS's pick; another process could take it before us). */
/**
 * The arguments of `cairn server` for a bench: `launcher` (bin/cairn.js of the build under test) on
 * 127.0.0.1:`port` (0: any free one) over `drives`, no console; `--quiet` (no banner) unless the
 * bench reads the banner.
 */
export function cairnServerArgs(launcher: string, port: number, drives: string[], quiet = true): string[] {
  return [
    launcher,
    'server',
    ...(quiet ? ['--quiet'] : []),
    '--address',
    `127.0.0.1:${port}`,
    '--console-address',
    '',
    ...drives,
  ];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// --- servers ---------------------------------------------------------------------------------------

/**
 * The floor: a `node:http` server that discards PUT bodies and streams GET bodies from memory, 1 MiB
 * at a time with backpressure; the size is the number after the last `/` of the path and before a
 * `-` (`GET /bench/4096-3`). It prints `listening on <port>`. Run it with `node -e`.
 */
export const BARE_SERVER = `
const http = require('node:http');
const chunk = Buffer.alloc(${1 << 20}, 7);
const server = http.createServer({ keepAliveTimeout: 5000 }, async (req, res) => {
  if (req.method === 'PUT') {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { ETag: '"0"', 'Content-Length': 0 });
      res.end();
    });
    return;
  }
  const size = Number(/\\/(\\d+)-[^/]*$/.exec(req.url.split('?')[0])?.[1] ?? 0);
  res.writeHead(200, { 'Content-Length': size, ETag: '"0"' });
  for (let sent = 0; sent < size; ) {
    const n = Math.min(chunk.length, size - sent);
    sent += n;
    if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      await new Promise((r) => res.once('drain', r));
    }
  }
  res.end();
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log('listening on ' + server.address().port));
process.on('SIGTERM', () => { server.close(); server.closeAllConnections(); });
`;

/**
 * Compiles the checkout's `src/` with `tsc` into `work/dist`, beside a copy of `bin/cairn.js`, with
 * `native`, `node_modules` and `package.json` linked from the checkout, so the launcher finds all it
 * would find in an installed package (never a stale `dist/`). With `commit`, `src/`, `bin/`,
 * `tsconfig.json` and the addon's typings come from that commit (`git archive`) instead of the working
 * tree: what is committed, without edits in progress (the addon binary is still the checkout's). Returns that
 * `bin/cairn.js`.
 */
export async function buildServer(
  root: string,
  work: string,
  log: (s: string) => void,
  commit?: string,
): Promise<string> {
  const t0 = Date.now();
  await fs.mkdir(work, { recursive: true });
  let tree = root;
  if (commit !== undefined) {
    tree = path.join(work, 'tree');
    await fs.mkdir(tree);
    const files = [
      'src',
      'bin',
      'tsconfig.json',
      'native/index.d.ts',
      'native/platform.js',
      'native/platform.d.ts',
    ];
    const tar = execFileSync('git', ['archive', '--format=tar', commit, ...files], {
      cwd: root,
      maxBuffer: 1 << 30,
    });
    execFileSync('tar', ['-x', '-C', tree], { input: tar });
    await fs.symlink(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));
  }
  execFileSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(tree, 'tsconfig.json'),
      '--outDir',
      path.join(work, 'dist'),
      '--sourceMap',
      'false',
      '--declaration',
      'false',
    ],
    { stdio: 'inherit' },
  );
  for (const name of ['native', 'node_modules', 'package.json'])
    await fs.symlink(path.join(root, name), path.join(work, name));
  await fs.mkdir(path.join(work, 'bin'));
  await fs.copyFile(path.join(tree, 'bin', 'cairn.js'), path.join(work, 'bin', 'cairn.js'));
  log(
    `built the server${commit ? ` at ${commit}` : ''} with tsc in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return path.join(work, 'bin', 'cairn.js');
}

// --- CPU and memory --------------------------------------------------------------------------------

function getconf(name: string, fallback: number): number {
  try {
    return Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim()) || fallback;
  } catch {
    return fallback;
  }
}

export const clockTicks = getconf('CLK_TCK', 100);
const pageSize = getconf('PAGESIZE', 4096);

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime, seconds */
  cpu: number;
  /** cutime + cstime: children this one has waited for, seconds */
  childCpu: number;
  rssBytes: number;
}

/** Parses the text of `/proc/<pid>/stat` (the command name may hold spaces and parentheses). */
export function parseStat(pid: number, stat: string): ProcStat | undefined {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (f.length < 22) return undefined;
  return {
    pid,
    ppid: Number(f[1]),
    cpu: (Number(f[11]) + Number(f[12])) / clockTicks,
    childCpu: (Number(f[13]) + Number(f[14])) / clockTicks,
    rssBytes: Number(f[21]) * pageSize,
  };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(pid, readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used (Linux; undefined elsewhere). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : readStat(pid)?.cpu;
}

/** Every process on the machine, by pid (one pass over `/proc`). */
export function allProcesses(): Map<number, ProcStat> {
  const out = new Map<number, ProcStat>();
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.set(s.pid, s);
  }
  return out;
}

export interface TreeUsage {
  pids: number[];
  /** CPU seconds of the live processes of the tree and of those of its children they reaped. */
  cpu: number;
  rssBytes: number;
}

/** The process `root` and its descendants (by ppid), from a snapshot of `allProcesses()`. */
export function treeUsage(root: number | undefined, procs: Map<number, ProcStat>): TreeUsage {
  const usage: TreeUsage = { pids: [], cpu: 0, rssBytes: 0 };
  if (root === undefined || !procs.has(root)) return usage;
  const children = new Map<number, number[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const queue = [root];
  // Each pid is visited once: the ppid links of one snapshot form a tree.
  for (let i = 0; i < queue.length && i < procs.size; i++) {
    const p = procs.get(queue[i]!)!;
    usage.pids.push(p.pid);
    usage.cpu += p.cpu + p.childCpu;
    usage.rssBytes += p.rssBytes;
    queue.push(...(children.get(p.pid) ?? []));
  }
  return usage;
}

/**
 * CPU seconds of `pid` and its descendants (a server's workers): as `cpuSeconds` for a process
 * without children; undefined when there is no such process.
 */
export function treeCpuSeconds(pid: number | undefined): number | undefined {
  const u = treeUsage(pid, allProcesses());
  return u.pids.length ? u.cpu : undefined;
}

/** Sum of the processes' peak resident set (`VmHWM`): exact for one process, an upper bound for several. */
export function peakRssBytes(pids: number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) sum += Number(m[1]) * 1024;
    } catch {}
  }
  return sum;
}
