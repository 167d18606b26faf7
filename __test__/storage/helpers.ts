import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StorageError, type StorageErrorCode } from '../../src/storage/errors';
import { META_FILE, objectPath } from '../../src/storage/paths';

/** Awaits `p` and checks it fails with a `StorageError` of `code`; returns the error. */
export async function rejects(p: Promise<unknown> | (() => Promise<unknown>), code: StorageErrorCode) {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    assert.ok(e instanceof StorageError, `expected StorageError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** S3 order, computed independently of `compareKeys`: UTF-8 bytes. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Lays an object out on disk directly (fast, no fsync), as a drive would: `<key dir>/cairn.meta`. */
export async function putRaw(
  root: string,
  volume: string,
  key: string,
  meta = Buffer.from(key),
): Promise<void> {
  const dir = path.join(root, volume, objectPath(key));
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, META_FILE), meta);
}

/** What `walk` should give for `keys`, by the definition (S3's ListObjects with delimiter '/'). */
export function expectedWalk(
  keys: Iterable<string>,
  opts: { prefix?: string; after?: string; delimited?: boolean } = {},
): string[] {
  const prefix = opts.prefix ?? '';
  const out = new Set<string>();
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const slash = opts.delimited ? k.indexOf('/', prefix.length) : -1;
    out.add(slash >= 0 ? k.slice(0, slash + 1) : k);
  }
  return [...out].filter((n) => opts.after === undefined || byteOrder(n, opts.after) > 0).sort(byteOrder);
}

/** A small deterministic PRNG (mulberry32), so that a failing random case can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
