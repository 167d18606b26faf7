/**
 * Quorum arithmetic and the per-drive answers it reduces, as small pure functions (MinIO's
 * `reduceReadQuorumErrs`, `hashOrder`, storage class defaults), so each rule has a table test.
 *
 * Drive answers come in drive-position order: `errs[i]` / `metas[i]` is what drive position `i` said.
 */
import { ObjectError } from '../object/errors';
import { isStorageError, type StorageErrorCode } from '../storage/errors';
import { crc32, findVersion, latest, type MetaFile, type ObjectVersion, signature } from './metadata';

/** Drives that must answer alike for a read: the data shards. */
export function readQuorum(dataBlocks: number, _parityBlocks: number): number {
  return dataBlocks;
}

/**
 * Drives that must take a write. With as many parity as data shards, `k` drives could hold two
 * different committed versions (two disjoint halves), so one more is needed (MinIO does the same).
 */
export function writeQuorum(dataBlocks: number, parityBlocks: number): number {
  return dataBlocks === parityBlocks ? dataBlocks + 1 : dataBlocks;
}

/** MinIO's default parity for an erasure set of `driveCount` drives (storage class STANDARD). */
export function defaultParity(driveCount: number): number {
  if (!Number.isInteger(driveCount) || driveCount < 1) throw new RangeError(`drive count ${driveCount}`);
  if (driveCount === 1) return 0;
  if (driveCount <= 3) return 1;
  if (driveCount <= 5) return 2;
  if (driveCount <= 7) return 3;
  return 4;
}

/**
 * MinIO's per-key shard order: `dist[i]` is the 1-based shard index that drive position `i` holds.
 * The start rotates with the IEEE CRC-32 of the key's UTF-8 bytes, which spreads data shard 1 (and
 * so load) over the drives.
 */
export function hashOrder(key: string, cardinality: number): number[] {
  if (!Number.isInteger(cardinality) || cardinality <= 0) return [];
  const start = crc32(Buffer.from(key, 'utf8')) % cardinality;
  const dist = new Array<number>(cardinality);
  for (let i = 0; i < cardinality; i++) dist[i] = 1 + ((start + i + 1) % cardinality);
  return dist;
}

/** Same kind of failure: same storage or object error code, else same class and message. */
function errorKey(e: Error): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (e.name === 'StorageError' || e.name === 'ObjectError')) {
    return `${e.name}:${code}`;
  }
  return `${e.name}:${e.message}`;
}

function isIgnored(e: Error, ignored: readonly StorageErrorCode[]): boolean {
  return ignored.length > 0 && isStorageError(e, ...ignored);
}

/**
 * The answer most drives gave, when at least `quorum` gave it: `null` (success) or that error (the
 * first instance of it). Errors in `ignored` count for nothing. On a tie success wins, then the
 * error seen first. Below quorum: `quorumError`.
 */
function reduceErrs(
  errs: readonly (Error | null)[],
  ignored: readonly StorageErrorCode[],
  quorum: number,
  quorumError: () => ObjectError,
): Error | null {
  let successes = 0;
  const counts = new Map<string, { err: Error; count: number }>();
  for (const e of errs) {
    if (e === null) {
      successes++;
      continue;
    }
    if (isIgnored(e, ignored)) continue;
    const k = errorKey(e);
    const c = counts.get(k);
    if (c) c.count++;
    else counts.set(k, { err: e, count: 1 });
  }
  let best: Error | null = null;
  let max = successes;
  for (const c of counts.values()) {
    if (c.count > max) {
      max = c.count;
      best = c.err;
    }
  }
  if (max >= quorum && max > 0) return best;
  return quorumError();
}

/** For reads: `null` when `quorum` drives answered, else the prevailing error or `InsufficientReadQuorum`. */
export function reduceReadQuorumErrs(
  errs: readonly (Error | null)[],
  ignored: readonly StorageErrorCode[],
  quorum: number,
): Error | null {
  return reduceErrs(errs, ignored, quorum, () => quorumError('InsufficientReadQuorum', errs, quorum, 'read'));
}

/** For writes: `null` when `quorum` drives took it, else the prevailing error or `InsufficientWriteQuorum`. */
export function reduceWriteQuorumErrs(
  errs: readonly (Error | null)[],
  ignored: readonly StorageErrorCode[],
  quorum: number,
): Error | null {
  return reduceErrs(errs, ignored, quorum, () =>
    quorumError('InsufficientWriteQuorum', errs, quorum, 'write'),
  );
}

function quorumError(
  code: 'InsufficientReadQuorum' | 'InsufficientWriteQuorum',
  errs: readonly (Error | null)[],
  quorum: number,
  what: string,
): ObjectError {
  const ok = errs.filter((e) => e === null).length;
  return new ObjectError(code, `${ok} of ${errs.length} drives answered, ${what} quorum is ${quorum}`, {
    quorum,
    drives: errs.length,
    errors: errs.map((e) => (e ? errorKey(e) : null)),
  });
}

/** The version that a quorum of drives agrees on, and how each drive position stands. */
export interface QuorumPick {
  /**
   * The agreed version, as the most agreeing drives hold it (their copies can differ in user
   * metadata or tags after a partial update). Its `erasure.index` and `inline` belong to one drive:
   * use `perDrive` for each drive's own.
   */
  version: ObjectVersion;
  /** Each position's copy of the agreed version; undefined where the drive does not agree. */
  perDrive: (ObjectVersion | undefined)[];
  /** Positions holding the agreed version (same `signature`). */
  agree: number[];
  /**
   * Positions whose metadata was read but lacks the version or holds another one, or holds it with
   * metadata most agreeing drives do not share (such a drive is in `agree` too: its shards still
   * serve reads): outdated, to heal.
   */
  disagree: number[];
  /** Positions whose metadata could not be read (offline, missing, corrupt): to heal when they are back. */
  errored: number[];
}

/**
 * Picks the latest version (or `versionId`) by quorum from each drive's metadata (an `Error` where a
 * drive's metadata could not be read: `FileNotFound` when there is none).
 *
 * - some version held by >= `quorum` drives → that version (the most held one);
 * - otherwise, when the drives that have no such object (or no such version) are a read quorum or a
 *   majority → `ObjectNotFound` (`VersionNotFound` when a version was asked for); a write quorum is
 *   always a majority, so a committed object can never be missing from that many drives;
 * - otherwise → `InsufficientReadQuorum` (too many drives offline or in disagreement to tell).
 */
export function pickVersionByQuorum(
  metas: readonly (MetaFile | Error)[],
  quorum: number,
  versionId?: string,
): QuorumPick {
  const n = metas.length;
  const found: (ObjectVersion | undefined)[] = new Array(n);
  const groups = new Map<string, number[]>();
  const errored: number[] = [];
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const m = metas[i]!;
    if (m instanceof Error) {
      errored.push(i);
      if (isStorageError(m, 'FileNotFound', 'FileVersionNotFound')) missing++;
      continue;
    }
    const v = versionId === undefined ? latest(m) : findVersion(m, versionId);
    if (!v) {
      missing++;
      continue;
    }
    found[i] = v;
    const sig = signature(v);
    const g = groups.get(sig);
    if (g) g.push(i);
    else groups.set(sig, [i]);
  }

  let agree: number[] = [];
  for (const g of groups.values()) if (g.length > agree.length) agree = g;
  if (agree.length < quorum || agree.length === 0) {
    const detail = { versionId, quorum, drives: n, missing, offline: errored.length - missing };
    if (missing > 0 && (missing >= quorum || missing > n / 2)) {
      throw versionId === undefined
        ? new ObjectError('ObjectNotFound', undefined, detail)
        : new ObjectError('VersionNotFound', undefined, detail);
    }
    throw new ObjectError(
      'InsufficientReadQuorum',
      `${agree.length} of ${n} drives agree on a version, read quorum is ${quorum}`,
      detail,
    );
  }

  // Within the agreeing drives, the copy most of them hold in full (index and inline aside).
  // Compared in place (`sameContent`), not through `contentKey`'s strings: this runs per GET.
  const copies: number[][] = [];
  for (const i of agree) {
    const c = copies.find((g) => sameContent(found[g[0]!]!, found[i]!));
    if (c) c.push(i);
    else copies.push([i]);
  }
  let best: number[] = [];
  for (const c of copies) if (c.length > best.length) best = c;

  const inAgree = new Set(agree);
  const inBest = new Set(best);
  const perDrive: (ObjectVersion | undefined)[] = new Array(n).fill(undefined);
  const disagree: number[] = [];
  for (let i = 0; i < n; i++) {
    if (inAgree.has(i)) perDrive[i] = found[i];
    if (metas[i] instanceof Error) continue;
    if (!inAgree.has(i) || !inBest.has(i)) disagree.push(i);
  }
  return { version: found[best[0]!]!, perDrive, agree, disagree, errored };
}

/** Whether two versions have the same `contentKey`, without building the strings. */
export function sameContent(a: ObjectVersion, b: ObjectVersion): boolean {
  if (a.type === 'deleteMarker' || b.type === 'deleteMarker') {
    return a.type === b.type && signature(a) === signature(b);
  }
  return sameFields(a, b, 'inline', 'erasure') && sameFields(a.erasure, b.erasure, 'index', '');
}

/** JSON.stringify's equality of two values (undefined fields absent), but key order. */
function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x) || Array.isArray(y)) {
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameValue(x[i], y[i])) return false;
    return true;
  }
  if (Buffer.isBuffer(x) || Buffer.isBuffer(y))
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) && x.equals(y);
  return sameFields(x, y, '', '');
}

/** `sameValue` over two objects' fields but `skip1` and `skip2`. */
function sameFields(x: object, y: object, skip1: string, skip2: string): boolean {
  const a = x as Record<string, unknown>;
  const b = y as Record<string, unknown>;
  let n = 0;
  for (const k in a) {
    const v = a[k];
    if (v === undefined || k === skip1 || k === skip2) continue;
    if (!sameValue(v, b[k])) return false;
    n++;
  }
  for (const k in b) if (b[k] !== undefined && k !== skip1 && k !== skip2) n--;
  return n === 0;
}

/** Everything of a version but what differs per drive by design (shard index, inline shard). */
export function contentKey(v: ObjectVersion): string {
  if (v.type === 'deleteMarker') return signature(v);
  const { inline: _inline, erasure, ...rest } = v;
  const { index: _index, ...geometry } = erasure;
  return JSON.stringify([rest, geometry]);
}
