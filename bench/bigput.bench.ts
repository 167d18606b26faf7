/**
 * Memory under large streamed uploads: N concurrent PUTs of S MiB each (default 16 x 512 MiB) into a
 * Cairn node (EC 2+2 on 4 directories), bodies generated as they are sent (never held by the
 * client), SigV4 header-signed with UNSIGNED-PAYLOAD. Prints the peak resident set of Cairn's whole
 * process tree (sampled every 100 ms, and the sum of each process's VmHWM), the throughput and the
 * server's CPU per GiB. The target: 16 x 512 MiB under 512 MiB of RSS.
 *
 *   npx tsx bench/bigput.bench.ts [--puts=16] [--mib=512] [--workers=N] [--dir DIR] [--server=build|dist]
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import aws4 from 'aws4';
import { Agent, request } from 'undici';
import {
  allProcesses,
  buildServer,
  cairnServerArgs,
  freePort,
  peakRssBytes,
  startChild,
  stopChild,
  treeUsage,
} from './lib/procs';

const MiB = 1 << 20;
const ACCESS_KEY = 'benchadmin';
const SECRET_KEY = 'bench-secret-key-0123456789';
const root = path.join(__dirname, '..');
const log = (s: string) => process.stderr.write(`${s}\n`);

function option(name: string, fallback: string): string {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (process.argv[i + 1] ?? fallback);
}

/** `size` bytes from a 1 MiB random block repeated, made as they are read. */
function body(size: number, block: Buffer): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(block.length, size - sent);
      sent += n;
      this.push(n === block.length ? block : block.subarray(0, n));
    },
  });
}

async function main(): Promise<void> {
  const puts = Number(option('puts', '16'));
  const mib = Number(option('mib', '512'));
  const workers = option('workers', String(os.availableParallelism()));
  const work = await fs.mkdtemp(path.join(option('dir', os.tmpdir()), 'cairn-bigput-'));
  try {
    const launcher =
      option('server', 'build') === 'dist'
        ? path.join(root, 'bin', 'cairn.js')
        : await buildServer(root, path.join(work, 'build'), log);
    const drives = [1, 2, 3, 4].map((i) => path.join(work, `d${i}`));
    for (const d of drives) await fs.mkdir(d);
    const port = await freePort();
    const child = await startChild({
      name: 'cairn',
      command: process.execPath,
      args: cairnServerArgs(launcher, port, drives),
      env: {
        ...process.env,
        CAIRN_ROOT_USER: ACCESS_KEY,
        CAIRN_ROOT_PASSWORD: SECRET_KEY,
        CAIRN_LOG_LEVEL: 'warn',
        CAIRN_WORKERS: workers,
      },
      ready: { port, url: `http://127.0.0.1:${port}/minio/health/ready` },
      timeoutMs: 60_000,
    });
    const dispatcher = new Agent({ connections: puts * 2, bodyTimeout: 0, headersTimeout: 0 });
    const send = async (method: string, p: string, data?: Readable, length?: number) => {
      const headers: Record<string, string> = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      if (length !== undefined) headers['content-length'] = String(length);
      const signed = aws4.sign(
        { host: `127.0.0.1:${port}`, method, path: p, headers, service: 's3', region: 'us-east-1' },
        { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      );
      const r = await request(`http://127.0.0.1:${port}${p}`, {
        method: method as 'PUT',
        headers: signed.headers as Record<string, string>,
        ...(data ? { body: data } : {}),
        dispatcher,
      });
      const text = await r.body.text();
      if (r.statusCode !== 200) throw new Error(`${method} ${p}: ${r.statusCode} ${text.slice(0, 300)}`);
    };
    await send('PUT', '/big');
    let peak = 0;
    let pids: number[] = [];
    const sample = setInterval(() => {
      const u = treeUsage(child.proc.pid, allProcesses());
      peak = Math.max(peak, u.rssBytes);
      pids = u.pids;
    }, 100);
    const cpu0 = treeUsage(child.proc.pid, allProcesses()).cpu;
    const block = randomBytes(MiB);
    const size = mib * MiB;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: puts }, (_, i) => send('PUT', `/big/o${i}`, body(size, block), size)),
    );
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(sample);
    const usage = treeUsage(child.proc.pid, allProcesses());
    const hwm = peakRssBytes(usage.pids.length ? usage.pids : pids);
    const gib = (puts * size) / (1 << 30);
    await dispatcher.close();
    await stopChild(child);
    const line =
      `${puts} x ${mib} MiB PUT, ${workers} workers: all 200 in ${seconds.toFixed(1)} s ` +
      `(${((puts * size) / 1e6 / seconds).toFixed(0)} MB/s), server CPU ${((usage.cpu - cpu0) / gib).toFixed(2)} s/GiB; ` +
      `peak RSS of the process tree ${(peak / MiB).toFixed(0)} MiB sampled, ${(hwm / MiB).toFixed(0)} MiB VmHWM summed ` +
      `over ${usage.pids.length} processes`;
    console.log(line);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
