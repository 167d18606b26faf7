/**
 * Running real S3 clients (`aws`, `rclone`, `s3cmd`) against a test server: finding them, an
 * environment that never reads or writes the machine's own settings (`HOME` is a temporary
 * directory, every `AWS_*` variable of the machine is dropped), child processes that cannot hang a
 * test, and trees of files compared by SHA-256.
 *
 * A client that is not installed fails its tests with a message saying how to install it, unless
 * `CAIRN_SKIP_CLIENTS=1` is set: then its tests are skipped and a line says so.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite, type Test } from 'uvu';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes (`rclone cat`, `aws s3 cp ... -`). */
  stdoutBytes: Buffer;
}

/**
 * The machine's environment without anything that would point a client elsewhere: no `AWS_*`
 * (profiles, CA bundles, endpoints), no proxies, `HOME` and the XDG directories in `home`.
 */
export function clientEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|BOTO_|RCLONE_|S3CMD_)/i.test(k) || /_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    NO_PROXY: '127.0.0.1,localhost',
    ...extra,
  };
}

/**
 * Runs a command to completion without blocking the event loop (the server under test lives in
 * this process). Killed after `timeoutMs`, and that is an error naming the command.
 */
export function run(
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const limit = opts.timeoutMs ?? 120_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${cmd} ${args.join(' ')}: no answer after ${limit} ms\n${Buffer.concat(out)}\n${Buffer.concat(err)}`,
        ),
      );
    }, limit);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        stdoutBytes,
      });
    });
  });
}

/** `run`, and an error with everything the command printed unless it exited 0. */
export async function mustRun(
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`,
    );
  }
  return r;
}

export type ToolCheck = { ok: true; version: string } | { ok: false; reason: string };

/** Whether `cmd --version` runs here (synchronous: called while the test files load). */
export function findTool(cmd: string, versionArgs: string[] = ['--version']): ToolCheck {
  const home = mkdtempSync(path.join(tmpdir(), 'cairn-clients-probe-'));
  const r = spawnSync(cmd, versionArgs, { env: clientEnv(home), encoding: 'utf8', timeout: 30_000 });
  rmSync(home, { recursive: true, force: true });
  if (r.error) return { ok: false, reason: (r.error as NodeJS.ErrnoException).code ?? r.error.message };
  if (r.status !== 0) return { ok: false, reason: `exit ${r.status}: ${(r.stderr || r.stdout).trim()}` };
  return { ok: true, version: (r.stdout || r.stderr).trim().split('\n')[0] ?? '' };
}

/**
 * A uvu suite for one client. When the client is missing, each test fails saying so, or, with
 * `CAIRN_SKIP_CLIENTS=1`, is skipped with one printed line.
 */
export function clientSuite(
  title: string,
  cmd: string,
  install: string,
  define: (test: Test, version: string) => void,
): void {
  const found = findTool(cmd);
  const test = suite(title);
  if (found.ok) {
    define(test, found.version);
  } else {
    const skip = process.env.CAIRN_SKIP_CLIENTS === '1';
    const message = `\`${cmd}\` is not available (${found.reason}). Install it (${install}) or set CAIRN_SKIP_CLIENTS=1 to skip the ${title} tests.`;
    let count = 0;
    // Registers every test of the suite as failing (or skipped); its hooks never run.
    const stand = (name: string) => {
      count++;
      if (skip) test.skip(name, () => {});
      else
        test(name, () => {
          throw new Error(message);
        });
    };
    const hook = Object.assign(() => {}, { each: () => {} });
    define(
      Object.assign(stand, { skip: stand, only: stand, before: hook, after: hook, run() {} }) as Test,
      '',
    );
    if (skip) {
      console.log(
        `\nskip: ${title}: \`${cmd}\` is not available (${found.reason}); CAIRN_SKIP_CLIENTS=1, so its ${count} tests are skipped`,
      );
    }
  }
  test.run();
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Writes `size` random bytes (1 MiB at a time); returns their SHA-256. */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const h = createHash('sha256');
  const fd = await open(file, 'w');
  try {
    for (let done = 0; done < size; ) {
      const n = Math.min(1 << 20, size - done);
      const buf = randomBytes(n);
      h.update(buf);
      await fd.write(buf);
      done += n;
    }
  } finally {
    await fd.close();
  }
  return h.digest('hex');
}

/** Relative path (with `/`) → SHA-256 of every file under `dir`. */
export async function hashTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(r);
      else out.set(r, await sha256File(path.join(dir, r)));
    }
  };
  await walk('');
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Names real trees have: spaces, accents, other scripts, emoji, punctuation. */
export const ODD_NAMES = [
  'with space.txt',
  'accentué é à ç.txt',
  '日本語のファイル.txt',
  'emoji 🚀 rocket.bin',
  'plus+and&amp=eq.txt',
  'percent %41 not an escape.txt',
  'parens (1) [2] {3}.txt',
  "quote ' and comma, semi; colon:.txt",
  'hash # and question ?.txt',
  'tilde~dollar$at@bang!.txt',
];

/**
 * A tree of `count` small files (0 to 8 KiB) in nested directories (up to four deep), the names
 * in `ODD_NAMES`, an empty file, and `large` files of the given sizes. Returns the expected hashes.
 */
export async function makeTree(
  dir: string,
  count: number,
  large: number[] = [],
): Promise<Map<string, string>> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count - ODD_NAMES.length - 1; i++) {
    const depth = i % 5;
    const parts = [`top${i % 7}`, `mid ${i % 3}`, `ünder${i % 4}`, `leaf-${i % 2}`].slice(0, depth);
    files.set([...parts, `file-${i}.dat`].join('/'), randomBytes((i * 37) % 8193));
  }
  for (const [i, n] of ODD_NAMES.entries()) files.set(i % 2 ? `odd names/${n}` : n, randomBytes(100 + i));
  files.set('empty file', Buffer.alloc(0));
  for (const [rel, buf] of files) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), buf);
  }
  const expected = new Map<string, string>();
  for (const [rel, buf] of files) expected.set(rel, createHash('sha256').update(buf).digest('hex'));
  for (const [i, size] of large.entries()) {
    const rel = `large/nested dir/large-${i}.bin`;
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    expected.set(rel, await writeRandomFile(path.join(dir, rel), size));
  }
  return new Map([...expected.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Removes directories, ignoring any that are already gone. */
export async function removeAll(...dirs: (string | undefined)[]): Promise<void> {
  await Promise.all(dirs.map((d) => (d ? rm(d, { recursive: true, force: true }) : undefined)));
}

export const MiB = 1 << 20;
