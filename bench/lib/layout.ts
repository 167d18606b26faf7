/**
 * Buffers placed the way bench/rust/core.rs places them (`Layout::GOOD`): every buffer 64-byte
 * aligned, shards back to back at a 64-byte stride, and the parity starting 2 KiB past a 4 KiB
 * boundary, so no parity store lands on the 4 KiB offset of a data load a few lines later
 * (4K aliasing; see bench/README.md, "Layout").
 *
 * Node gives no control over where a Buffer lands: a large `allocUnsafeSlow` is glibc's `malloc`,
 * 16 bytes past a page boundary. So each layout is cut from one arena, shifted to a page boundary
 * using the addon's `pageOffset` (or, without it, assuming glibc's 16).
 */
import { randomFillSync } from 'node:crypto';
import { addon } from './addon';

export const PAGE = 4096;
/** Where the parity starts relative to a page boundary. */
export const PARITY_SKEW = 2048;

const roundUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** How the page offset of an arena was learned. */
export const pageOffsetSource = addon.pageOffset ? 'measured (addon pageOffset)' : 'assumed (glibc: 16)';

/** `size` bytes starting on a page boundary. */
export function pageAligned(size: number): Buffer {
  const raw = Buffer.allocUnsafeSlow(size + PAGE);
  const off = addon.pageOffset ? addon.pageOffset(raw) : 16;
  const shift = (PAGE - off) % PAGE;
  const arena = raw.subarray(shift, shift + size);
  if (addon.pageOffset && addon.pageOffset(arena) !== 0) throw new Error('arena is not page aligned');
  return arena.fill(0);
}

/** One contiguous block of `length` random bytes and its parity buffer (`parityLength` bytes). */
export function blockLayout(length: number, parityLength: number): { data: Buffer; parity: Buffer } {
  const p0 = roundUp(length, PAGE) + PARITY_SKEW;
  const arena = pageAligned(p0 + parityLength);
  const data = randomFillSync(arena.subarray(0, length));
  return { data, parity: arena.subarray(p0, p0 + parityLength) };
}

/** `k` random data shards then `m` parity shards, `shardLength` bytes each. */
export function shardLayout(k: number, m: number, shardLength: number): Buffer[] {
  const stride = roundUp(shardLength, 64);
  const p0 = roundUp(k * stride, PAGE) + PARITY_SKEW;
  const arena = pageAligned(p0 + m * stride);
  const shards: Buffer[] = [];
  for (let i = 0; i < k; i++)
    shards.push(randomFillSync(arena.subarray(i * stride, i * stride + shardLength)));
  for (let j = 0; j < m; j++) shards.push(arena.subarray(p0 + j * stride, p0 + j * stride + shardLength));
  return shards;
}
