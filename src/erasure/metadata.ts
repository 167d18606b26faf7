/**
 * The per-object metadata file (`cairn.meta`): every version of one object as one drive holds it.
 *
 * Byte layout (all integers big-endian; `docs/format.md` has every field):
 *
 *   'CAIRNMETA' (9 bytes) | u16 format version | u32 payload length | payload | u32 CRC-32 (IEEE) of payload
 *
 * Format 1's payload is a MessagePack array of entries, newest version first, each entry
 * `[type, versionId, modTime, body]` where `body` is a `bin` holding the version's own MessagePack
 * map. The version headers sit outside the bodies so the latest version (or one version id) is read
 * by decoding one body, not all of them: a key with 10,000 versions reads its latest about as fast as
 * a key with one (only the CRC, ~0.2 ms per MB, still covers the whole payload).
 *
 * A newer format adds a decoder to `decoders`; the format-1 decoder stays, and its golden bytes stay
 * in the tests.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import type { ContentHeaders, ObjectInfo } from '../object/types';
import { StorageError } from '../storage/errors';
import { DATA_DIR_PREFIX } from '../storage/paths';

/** First bytes of every metadata file. */
export const META_MAGIC = Buffer.from('CAIRNMETA', 'latin1');
/** The format `encodeMeta` writes (2: format 1 plus a checksummed head, see `docs/format.md`). */
export const META_FORMAT_VERSION = 2;
/** Objects of at most this many bytes live inside the metadata file instead of a data dir. */
export const INLINE_DATA_LIMIT = 128 * 1024;
/** The version id S3 gives objects written while versioning is off or suspended. */
export const NULL_VERSION_ID = 'null';

const HEADER_LEN = META_MAGIC.length + 2 + 4;
/** Format 2's header: format 1's, then the head's length and its CRC-32. */
const HEADER_LEN_V2 = HEADER_LEN + 4 + 4;
const TRAILER_LEN = 4;
/**
 * Bytes a read of the latest version asks a drive for (`readMetadata`'s `head`): enough for the
 * head of any file, the largest inline shard included (128 KiB on a set of 1 drive), so one read
 * serves it; a key with 10,000 versions is not read whole for its latest.
 */
export const META_HEAD_READ = INLINE_DATA_LIMIT + 4096;

export type BitrotAlgorithm = 'highwayhash256S' | 'blake3S';
export type ErasureAlgorithm = 'reedsolomon-vandermonde';
export type StorageClass = 'STANDARD' | 'REDUCED_REDUNDANCY';

export interface ErasureInfo {
  algorithm: ErasureAlgorithm;
  dataBlocks: number;
  parityBlocks: number;
  /** Bytes of data per erasure block (1 MiB); each shard block is `ceil(blockLen / dataBlocks)`. */
  blockSize: number;
  /** The 1-based shard index this drive holds. */
  index: number;
  /** The 1-based shard index of each drive position (MinIO's `hashOrder`). */
  distribution: number[];
  bitrot: BitrotAlgorithm;
}

export interface VersionPart {
  number: number;
  size: number;
  /** Hex MD5 of the part, no quotes. */
  etag: string;
  /** Milliseconds since the epoch. */
  modTime: number;
}

/** S3 Object Lock retention; reserved in format 1, filled by the Object Lock work. */
export interface LockRetention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Milliseconds since the epoch. */
  retainUntil: number;
}

/** A version holding data (in its data dir, or inline). */
export interface ObjectDataVersion extends ContentHeaders {
  type: 'object';
  /** `'null'` for S3's null version; otherwise from `versionIdNew()`. */
  versionId: string;
  /** Milliseconds since the epoch. */
  modTime: number;
  /** `cairn.d.<uuid>`, the directory beside `cairn.meta` holding `part.N`; '' when inline. */
  dataDir: string;
  size: number;
  etag: string;
  userMetadata: Record<string, string>;
  tags: string;
  storageClass: StorageClass;
  checksums: Record<string, string>;
  /** A single-part PUT has one part, number 1. */
  parts: VersionPart[];
  erasure: ErasureInfo;
  /** This drive's shard of the inline data, framed as in a shard file (`[hash][shard]`). */
  inline?: Buffer;
  lockRetention?: LockRetention;
  legalHold?: boolean;
}

export interface DeleteMarkerVersion {
  type: 'deleteMarker';
  versionId: string;
  modTime: number;
}

export type ObjectVersion = ObjectDataVersion | DeleteMarkerVersion;

export interface MetaFile {
  /** Newest first: by `modTime` descending, ties by `versionId` descending. */
  versions: ObjectVersion[];
  /**
   * Set by `decodeMetaVersion`: the file holds only the version asked for. Such a file is for
   * reading; `encodeMeta` refuses it, since writing it back would drop the other versions.
   */
  partial?: boolean;
}

// --- checksums -------------------------------------------------------------------------------

let crcTable: Uint32Array | undefined;

/** Table-driven IEEE CRC-32, for Node versions before 20.15 (no `zlib.crc32`). */
export function crc32Portable(data: Uint8Array, value = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** IEEE CRC-32 (as Go's `crc32.ChecksumIEEE`): zlib's SIMD version where Node has it (>= 20.15). */
export const crc32: (data: Uint8Array, value?: number) => number = nativeCrc32
  ? (data, value = 0) => nativeCrc32(data, value)
  : crc32Portable;

// --- ids -------------------------------------------------------------------------------------

let lastMs = 0;
let seq = 0;

/**
 * A new version id: a UUIDv7 (RFC 9562), so ids sort by creation time. Within one millisecond the
 * 12-bit `rand_a` field is a counter (RFC 9562 method 1), so ids made by this process are strictly
 * increasing; when it runs out the timestamp is advanced by 1 ms.
 */
export function versionIdNew(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = randomBytes(2).readUInt16BE(0) & 0x1ff; // start low so the counter has room
  } else if (++seq > 0xfff) {
    lastMs++;
    seq = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(lastMs, 0, 6);
  b[6] = 0x70 | (seq >>> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The name of a new data dir: `cairn.d.<uuid v4>`. */
export function newDataDir(): string {
  return `${DATA_DIR_PREFIX}${randomUUID()}`;
}

// --- ordering and version operations ---------------------------------------------------------

/** Newest first: `modTime` descending, then `versionId` descending. */
export function compareVersions(
  a: Pick<ObjectVersion, 'modTime' | 'versionId'>,
  b: Pick<ObjectVersion, 'modTime' | 'versionId'>,
): number {
  if (a.modTime !== b.modTime) return b.modTime - a.modTime;
  return a.versionId === b.versionId ? 0 : a.versionId < b.versionId ? 1 : -1;
}

/** The newest version (possibly a delete marker), or undefined when there is none. */
export function latest(file: MetaFile): ObjectVersion | undefined {
  return file.versions[0];
}

export function findVersion(file: MetaFile, versionId: string): ObjectVersion | undefined {
  return file.versions.find((v) => v.versionId === versionId);
}

/**
 * Adds `v`. `replaceNull` is for a bucket whose versioning is off or suspended: `v` must then be the
 * null version and it replaces the existing one (S3). Either way a version with `v`'s id is replaced
 * (a retried or healed write of the same version). Returns the new file and what was replaced: a
 * replaced version's data dir is the caller's to delete.
 */
export function addVersion(
  file: MetaFile,
  v: ObjectVersion,
  opts: { replaceNull: boolean },
): { file: MetaFile; replaced: ObjectVersion | undefined } {
  if (opts.replaceNull && v.versionId !== NULL_VERSION_ID) {
    throw new TypeError(`addVersion: replaceNull needs the null version, got ${JSON.stringify(v.versionId)}`);
  }
  assertWritable(file);
  let replaced: ObjectVersion | undefined;
  const versions: ObjectVersion[] = [];
  let placed = false;
  for (const cur of file.versions) {
    if (cur.versionId === v.versionId) {
      replaced = cur;
      continue;
    }
    if (!placed && compareVersions(v, cur) <= 0) {
      versions.push(v);
      placed = true;
    }
    versions.push(cur);
  }
  if (!placed) versions.push(v);
  return { file: { versions }, replaced };
}

/** Removes a version; `removed` is undefined when the file has no such version. */
export function removeVersion(
  file: MetaFile,
  versionId: string,
): { file: MetaFile; removed: ObjectVersion | undefined } {
  assertWritable(file);
  const i = file.versions.findIndex((v) => v.versionId === versionId);
  if (i < 0) return { file, removed: undefined };
  return { file: { versions: file.versions.filter((_, j) => j !== i) }, removed: file.versions[i] };
}

/**
 * What drives must agree on to hold the same version: identity, size, content and erasure geometry.
 * Not the per-drive shard `index` nor the `inline` shard, which differ from drive to drive, and not
 * the user metadata, which `updateObjectMetadata` may have reached on only some drives (the quorum
 * picks the most common copy among the agreeing drives).
 */
export function signature(v: ObjectVersion): string {
  if (v.type === 'deleteMarker') return `D\0${v.versionId}\0${v.modTime}`;
  const e = v.erasure;
  return `O\0${v.versionId}\0${v.modTime}\0${v.dataDir}\0${v.size}\0${v.etag}\0${e.dataBlocks}\0${e.parityBlocks}`;
}

// --- ObjectInfo --------------------------------------------------------------------------------

/** The object layer's view of a version. */
export function toObjectInfo(v: ObjectVersion, bucket: string, key: string, isLatest: boolean): ObjectInfo {
  if (v.type === 'deleteMarker') {
    return {
      bucket,
      key,
      versionId: v.versionId,
      isLatest,
      deleteMarker: true,
      size: 0,
      etag: '',
      modTime: new Date(v.modTime),
      userMetadata: {},
      tags: '',
      storageClass: 'STANDARD',
      parts: [],
      checksums: {},
    };
  }
  const info: ObjectInfo = {
    bucket,
    key,
    versionId: v.versionId,
    isLatest,
    deleteMarker: false,
    size: v.size,
    etag: v.etag,
    modTime: new Date(v.modTime),
    userMetadata: { ...v.userMetadata },
    tags: v.tags,
    storageClass: v.storageClass,
    parts: v.parts.map((p) => ({
      number: p.number,
      size: p.size,
      etag: p.etag,
      modTime: new Date(p.modTime),
    })),
    checksums: { ...v.checksums },
  };
  for (const h of CONTENT_HEADERS) {
    const value = v[h];
    if (value !== undefined) info[h] = value;
  }
  if (v.lockRetention) {
    info.lockRetention = { mode: v.lockRetention.mode, retainUntil: new Date(v.lockRetention.retainUntil) };
  }
  if (v.legalHold !== undefined) info.legalHold = v.legalHold;
  return info;
}

/** Every version as `ObjectInfo`, newest first; the first one is the latest. */
export function toObjectInfos(file: MetaFile, bucket: string, key: string): ObjectInfo[] {
  return file.versions.map((v, i) => toObjectInfo(v, bucket, key, i === 0));
}

// --- encoding ----------------------------------------------------------------------------------

const CONTENT_HEADERS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'expires',
] as const satisfies readonly (keyof ContentHeaders)[];

/** Body keys of format 1 (short: a key with 10,000 versions keeps a ~2 MB file, not ~5 MB). */
const CONTENT_KEYS = ['ct', 'ce', 'cd', 'cl', 'cc', 'ex'] as const;

const TYPE_OBJECT = 1;
const TYPE_DELETE_MARKER = 2;
const ERASURE_ALGORITHMS: readonly ErasureAlgorithm[] = ['reedsolomon-vandermonde']; // code = index + 1
const BITROT_ALGORITHMS: readonly BitrotAlgorithm[] = ['highwayhash256S', 'blake3S'];
const LOCK_MODES: readonly LockRetention['mode'][] = ['GOVERNANCE', 'COMPLIANCE'];

const packr = new Packr({ useRecords: false, variableMapSize: true, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

function pairs(r: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(r)) out.push(k, r[k]!);
  return out;
}

function encodeBody(v: ObjectDataVersion): Buffer {
  const b: Record<string, unknown> = { sz: v.size, et: v.etag };
  if (v.dataDir !== '') b.dd = v.dataDir;
  for (let i = 0; i < CONTENT_HEADERS.length; i++) {
    const value = v[CONTENT_HEADERS[i]!];
    if (value !== undefined) b[CONTENT_KEYS[i]!] = value;
  }
  const um = pairs(v.userMetadata);
  if (um.length) b.um = um;
  if (v.tags !== '') b.tg = v.tags;
  if (v.storageClass !== 'STANDARD') b.sc = v.storageClass;
  const ck = pairs(v.checksums);
  if (ck.length) b.ck = ck;
  const p0 = v.parts[0];
  const implied =
    v.parts.length === 1 &&
    p0!.number === 1 &&
    p0!.size === v.size &&
    p0!.etag === v.etag &&
    p0!.modTime === v.modTime;
  if (!implied) b.pt = v.parts.map((p) => [p.number, p.size, p.etag, p.modTime]);
  const e = v.erasure;
  b.ec = [
    ERASURE_ALGORITHMS.indexOf(e.algorithm) + 1,
    e.dataBlocks,
    e.parityBlocks,
    e.blockSize,
    e.index,
    e.distribution,
    BITROT_ALGORITHMS.indexOf(e.bitrot) + 1,
  ];
  if (v.inline) b.in = v.inline;
  if (v.lockRetention) b.lr = [LOCK_MODES.indexOf(v.lockRetention.mode) + 1, v.lockRetention.retainUntil];
  if (v.legalHold !== undefined) b.lh = v.legalHold;
  return packr.pack(b);
}

const EMPTY_MAP = Buffer.from([0x80]);

function assertWritable(file: MetaFile): void {
  if (file.partial) throw new TypeError('a MetaFile from decodeMetaVersion holds one version: not writable');
}

/** The file's bytes: format `META_FORMAT_VERSION`, versions sorted newest first. */
export function encodeMeta(file: MetaFile): Buffer {
  assertWritable(file);
  const versions = [...file.versions].sort(compareVersions);
  const entries: unknown[] = [];
  let prev: string | undefined;
  for (const v of versions) {
    if (v.versionId === prev) throw new TypeError(`encodeMeta: version ${v.versionId} twice`);
    prev = v.versionId;
    if (typeof v.versionId !== 'string' || v.versionId === '' || !Number.isFinite(v.modTime)) {
      throw new TypeError(`encodeMeta: bad version id or modTime (${JSON.stringify(v.versionId)})`);
    }
    entries.push(
      v.type === 'deleteMarker'
        ? [TYPE_DELETE_MARKER, v.versionId, v.modTime, EMPTY_MAP]
        : [TYPE_OBJECT, v.versionId, v.modTime, encodeBody(v)],
    );
  }
  const payload = packr.pack(entries);
  // The head: the array's header and the first (latest) entry, the bytes a read of the latest needs.
  const arrayHeader = entries.length < 16 ? 1 : entries.length < 0x10000 ? 3 : 5;
  const headLen = entries.length === 0 ? arrayHeader : arrayHeader + packr.pack([entries[0]]).length - 1;
  const out = Buffer.allocUnsafe(HEADER_LEN_V2 + payload.length + TRAILER_LEN);
  META_MAGIC.copy(out, 0);
  out.writeUInt16BE(META_FORMAT_VERSION, META_MAGIC.length);
  out.writeUInt32BE(payload.length, META_MAGIC.length + 2);
  out.writeUInt32BE(headLen, HEADER_LEN);
  out.writeUInt32BE(headCrc(out, payload.subarray(0, headLen)), HEADER_LEN + 4);
  payload.copy(out, HEADER_LEN_V2);
  out.writeUInt32BE(crc32(payload), HEADER_LEN_V2 + payload.length);
  return out;
}

/**
 * Format 2's head CRC: over the header's format version, payload length and head length, then the
 * head, so a read of the head alone also catches a damaged length.
 */
function headCrc(file: Buffer, head: Buffer): number {
  return crc32(head, crc32(file.subarray(META_MAGIC.length, HEADER_LEN + 4)));
}

/**
 * Format 1's bytes for `file` (what `encodeMeta` wrote before format 2). Kept for the tests that
 * show files of format 1 are still read.
 */
export function encodeMetaV1(file: MetaFile): Buffer {
  const v2 = encodeMeta(file);
  const payload = v2.subarray(HEADER_LEN_V2, v2.length - TRAILER_LEN);
  const out = Buffer.allocUnsafe(HEADER_LEN + payload.length + TRAILER_LEN);
  META_MAGIC.copy(out, 0);
  out.writeUInt16BE(1, META_MAGIC.length);
  out.writeUInt32BE(payload.length, META_MAGIC.length + 2);
  payload.copy(out, HEADER_LEN);
  out.writeUInt32BE(crc32(payload), HEADER_LEN + payload.length);
  return out;
}

// --- decoding ----------------------------------------------------------------------------------

function corrupt(why: string): never {
  throw new StorageError('FileCorrupt', `metadata: ${why}`);
}

/** One entry's header, with where its body is; the body is decoded only when asked for. */
interface EntryRef {
  type: number;
  versionId: string;
  modTime: number;
  body: Buffer;
}

/** Reads format 1's envelope (an array of `[type, id, modTime, bin]`) one entry at a time. */
class EnvelopeReader {
  private pos = 0;
  readonly count: number;
  constructor(private readonly buf: Buffer) {
    const b = this.byte();
    if (b >= 0x90 && b <= 0x9f) this.count = b & 0x0f;
    else if (b === 0xdc) this.count = this.uint(2);
    else if (b === 0xdd) this.count = this.uint(4);
    else corrupt('payload is not an array');
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
  next(): EntryRef {
    if (this.byte() !== 0x94) corrupt('entry is not a 4-array');
    const type = this.number();
    const versionId = this.str();
    const modTime = this.number();
    const body = this.bin();
    return { type, versionId, modTime, body };
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) corrupt('truncated payload');
  }
  private byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  private uint(n: 1 | 2 | 4): number {
    this.need(n);
    const v = this.buf.readUIntBE(this.pos, n);
    this.pos += n;
    return v;
  }
  private number(): number {
    const b = this.byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    const buf = this.buf;
    switch (b) {
      case 0xcc:
        return this.uint(1);
      case 0xcd:
        return this.uint(2);
      case 0xce:
        return this.uint(4);
      case 0xcf:
        return Number(buf.readBigUInt64BE(this.at(8)));
      case 0xd0:
        return buf.readInt8(this.at(1));
      case 0xd1:
        return buf.readInt16BE(this.at(2));
      case 0xd2:
        return buf.readInt32BE(this.at(4));
      case 0xd3:
        return Number(buf.readBigInt64BE(this.at(8)));
      case 0xca:
        return buf.readFloatBE(this.at(4));
      case 0xcb:
        return buf.readDoubleBE(this.at(8));
      default:
        return corrupt(`expected a number, found 0x${b.toString(16)}`);
    }
  }
  /** Claims `n` bytes; returns where they start. */
  private at(n: number): number {
    this.need(n);
    this.pos += n;
    return this.pos - n;
  }
  private str(): string {
    const b = this.byte();
    let n: number;
    if (b >= 0xa0 && b <= 0xbf) n = b & 0x1f;
    else if (b === 0xd9) n = this.uint(1);
    else if (b === 0xda) n = this.uint(2);
    else if (b === 0xdb) n = this.uint(4);
    else return corrupt('expected a string');
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  private bin(): Buffer {
    const b = this.byte();
    let n: number;
    if (b === 0xc4) n = this.uint(1);
    else if (b === 0xc5) n = this.uint(2);
    else if (b === 0xc6) n = this.uint(4);
    else return corrupt('expected bin');
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

type Body = Record<string, unknown>;

function isStr(x: unknown): x is string {
  return typeof x === 'string';
}
function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
function isUint(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

function record(x: unknown, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (x === undefined) return out;
  if (!Array.isArray(x) || x.length % 2 !== 0) return corrupt(`${what} is not a list of pairs`);
  for (let i = 0; i < x.length; i += 2) {
    const k = x[i];
    const v = x[i + 1];
    if (!isStr(k) || !isStr(v)) return corrupt(`${what} holds a non-string`);
    // a user may name metadata `__proto__`: keep it as data, never as the prototype
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  }
  return out;
}

function badField(e: EntryRef, field: string): never {
  return corrupt(`version ${e.versionId}: bad ${field}`);
}

function decodeBody(e: EntryRef): ObjectDataVersion {
  let b: unknown;
  try {
    b = unpackr.unpack(e.body);
  } catch (err) {
    return corrupt(`version ${e.versionId}: ${(err as Error).message}`);
  }
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return corrupt(`version ${e.versionId}: body`);
  const o = b as Body;
  if (!isUint(o.sz)) badField(e, 'size');
  if (!isStr(o.et)) badField(e, 'etag');
  if (o.dd !== undefined && !isStr(o.dd)) badField(e, 'dataDir');
  const ec = o.ec;
  if (!Array.isArray(ec) || ec.length !== 7) return badField(e, 'erasure');
  const [alg, k, m, bs, index, dist, bitrot] = ec as unknown[];
  const algorithm = ERASURE_ALGORITHMS[(alg as number) - 1];
  const bitrotAlg = BITROT_ALGORITHMS[(bitrot as number) - 1];
  if (!algorithm || !bitrotAlg) return badField(e, 'erasure algorithm');
  if (
    !isUint(k) ||
    !isUint(m) ||
    !isUint(bs) ||
    !isUint(index) ||
    !Array.isArray(dist) ||
    !dist.every(isUint)
  )
    return badField(e, 'erasure');
  const v: ObjectDataVersion = {
    type: 'object',
    versionId: e.versionId,
    modTime: e.modTime,
    dataDir: (o.dd as string | undefined) ?? '',
    size: o.sz as number,
    etag: o.et as string,
    userMetadata: record(o.um, 'userMetadata'),
    tags: '',
    storageClass: 'STANDARD',
    checksums: record(o.ck, 'checksums'),
    parts: [],
    erasure: {
      algorithm,
      dataBlocks: k,
      parityBlocks: m,
      blockSize: bs,
      index,
      distribution: dist as number[],
      bitrot: bitrotAlg,
    },
  };
  for (let i = 0; i < CONTENT_KEYS.length; i++) {
    const value = o[CONTENT_KEYS[i]!];
    if (value === undefined) continue;
    if (!isStr(value)) badField(e, CONTENT_HEADERS[i]!);
    v[CONTENT_HEADERS[i]!] = value as string;
  }
  if (o.tg !== undefined) v.tags = isStr(o.tg) ? o.tg : badField(e, 'tags');
  if (o.sc !== undefined) {
    if (o.sc !== 'STANDARD' && o.sc !== 'REDUCED_REDUNDANCY') badField(e, 'storageClass');
    v.storageClass = o.sc as StorageClass;
  }
  if (o.pt === undefined) {
    v.parts = [{ number: 1, size: v.size, etag: v.etag, modTime: v.modTime }];
  } else {
    if (!Array.isArray(o.pt)) badField(e, 'parts');
    for (const p of o.pt as unknown[]) {
      if (!Array.isArray(p) || p.length !== 4) return badField(e, 'part');
      const [number, size, etag, modTime] = p as unknown[];
      if (!isUint(number) || !isUint(size) || !isStr(etag) || !isNum(modTime)) return badField(e, 'part');
      v.parts.push({ number, size, etag, modTime });
    }
  }
  if (o.in !== undefined) v.inline = Buffer.isBuffer(o.in) ? o.in : badField(e, 'inline');
  if (o.lr !== undefined) {
    const lr = o.lr;
    const mode = Array.isArray(lr) ? LOCK_MODES[(lr[0] as number) - 1] : undefined;
    if (!Array.isArray(lr) || !mode || !isNum(lr[1])) return badField(e, 'lockRetention');
    v.lockRetention = { mode, retainUntil: lr[1] as number };
  }
  if (o.lh !== undefined) v.legalHold = typeof o.lh === 'boolean' ? o.lh : badField(e, 'legalHold');
  return v;
}

function decodeEntry(e: EntryRef): ObjectVersion {
  if (e.versionId === '') corrupt('empty version id');
  if (!Number.isFinite(e.modTime)) corrupt(`version ${e.versionId}: bad modTime`);
  if (e.type === TYPE_DELETE_MARKER)
    return { type: 'deleteMarker', versionId: e.versionId, modTime: e.modTime };
  if (e.type === TYPE_OBJECT) return decodeBody(e);
  return corrupt(`version ${e.versionId}: unknown type ${e.type}`);
}

/** A reader of one format version's payload. */
export interface PayloadDecoder {
  /** Every version, newest first. */
  all(payload: Buffer): ObjectVersion[];
  /** The latest version (no id) or the one with `versionId`, decoding only that one's body. */
  one(payload: Buffer, versionId?: string): ObjectVersion | undefined;
}

const format1: PayloadDecoder = {
  all(payload) {
    const r = new EnvelopeReader(payload);
    const out: ObjectVersion[] = [];
    const seen = new Set<string>();
    let prev: EntryRef | undefined;
    for (let i = 0; i < r.count; i++) {
      const e = r.next();
      if (seen.has(e.versionId)) corrupt(`version ${e.versionId} twice`);
      if (prev && compareVersions(prev, e) >= 0) corrupt('versions out of order');
      seen.add(e.versionId);
      out.push(decodeEntry(e));
      prev = e;
    }
    if (!r.done) corrupt('bytes after the last version');
    return out;
  },
  one(payload, versionId) {
    const r = new EnvelopeReader(payload);
    for (let i = 0; i < r.count; i++) {
      const e = r.next();
      if (versionId === undefined || e.versionId === versionId) return decodeEntry(e);
    }
    return undefined;
  },
};

/**
 * Readers by format version. A new format adds its reader here; old ones stay, with tests. Format
 * 2's payload is format 1's (only the file's header grew).
 */
export const decoders: Readonly<Record<number, PayloadDecoder>> = { 1: format1, 2: format1 };

/** The header's fields; the payload's bounds; for format 2 the head's length and CRC. */
function header(buf: Buffer): {
  version: number;
  decoder: PayloadDecoder;
  start: number;
  len: number;
  headLen: number;
  headCrc: number;
} {
  if (buf.length < HEADER_LEN + TRAILER_LEN) corrupt(`${buf.length} bytes is too short`);
  if (!buf.subarray(0, META_MAGIC.length).equals(META_MAGIC)) corrupt('bad magic');
  const version = buf.readUInt16BE(META_MAGIC.length);
  const decoder = decoders[version];
  if (!decoder) corrupt(`unknown format version ${version}`);
  const len = buf.readUInt32BE(META_MAGIC.length + 2);
  if (version === 1) return { version, decoder, start: HEADER_LEN, len, headLen: 0, headCrc: 0 };
  if (buf.length < HEADER_LEN_V2) corrupt(`${buf.length} bytes is too short`);
  const headLen = buf.readUInt32BE(HEADER_LEN);
  if (headLen > len) corrupt(`a head of ${headLen} bytes in a payload of ${len}`);
  return { version, decoder, start: HEADER_LEN_V2, len, headLen, headCrc: buf.readUInt32BE(HEADER_LEN + 4) };
}

/** Checks magic, length and CRC; returns the format version's decoder and the payload. */
function open(buf: Buffer): { decoder: PayloadDecoder; payload: Buffer } {
  const h = header(buf);
  if (buf.length !== h.start + h.len + TRAILER_LEN) {
    corrupt(`payload of ${h.len} bytes in a file of ${buf.length}`);
  }
  const payload = buf.subarray(h.start, h.start + h.len);
  if (crc32(payload) !== buf.readUInt32BE(h.start + h.len)) corrupt('checksum mismatch');
  if (h.version >= 2 && headCrc(buf, payload.subarray(0, h.headLen)) !== h.headCrc)
    corrupt('head checksum mismatch');
  return { decoder: h.decoder, payload };
}

/**
 * How many bytes from the start of the file `buf` begins (a `readMetadata` head read, or the whole
 * file) a read of the latest version needs: format 2's header and head, or all of a format 1 file.
 * A `buf` that is the whole file needs no more than it has.
 */
export function metaLatestLength(buf: Buffer): number {
  if (buf.length < HEADER_LEN_V2) return buf.length;
  if (!buf.subarray(0, META_MAGIC.length).equals(META_MAGIC)) return buf.length;
  const version = buf.readUInt16BE(META_MAGIC.length);
  const len = buf.readUInt32BE(META_MAGIC.length + 2);
  if (version === 1) return HEADER_LEN + len + TRAILER_LEN;
  if (version !== 2) return buf.length;
  return Math.min(HEADER_LEN_V2 + buf.readUInt32BE(HEADER_LEN), HEADER_LEN_V2 + len + TRAILER_LEN);
}

/** Every version of the file; `StorageError('FileCorrupt')` if anything is off. */
export function decodeMeta(buf: Buffer): MetaFile {
  const { decoder, payload } = open(buf);
  return { versions: decoder.all(payload) };
}

/**
 * Only the latest version (no `versionId`) or the one asked for, decoding nothing else: the read
 * path of GET and HEAD. The whole file is checked (magic, length, CRC); for the latest, `buf` may
 * also be the start of a format 2 file holding its head (`metaLatestLength` bytes), and then the
 * head's own CRC is what is checked. The result is marked `partial` (it cannot be encoded back);
 * `versions` is empty when the version is not there.
 */
export function decodeMetaVersion(buf: Buffer, versionId?: string): MetaFile {
  if (versionId === undefined) {
    const h = header(buf);
    if (h.version >= 2 && buf.length !== h.start + h.len + TRAILER_LEN) {
      if (buf.length < h.start + h.headLen)
        corrupt(`the head needs ${h.start + h.headLen} bytes, ${buf.length} read`);
      const head = buf.subarray(h.start, h.start + h.headLen);
      if (headCrc(buf, head) !== h.headCrc) corrupt('head checksum mismatch');
      const v = h.len === 0 ? undefined : h.decoder.one(head);
      return { versions: v ? [v] : [], partial: true };
    }
  }
  const { decoder, payload } = open(buf);
  const v = decoder.one(payload, versionId);
  return { versions: v ? [v] : [], partial: true };
}

/** A version's header, read without decoding its body. */
export interface VersionHead {
  type: 'object' | 'deleteMarker';
  versionId: string;
  modTime: number;
}

/**
 * The file's versions as headers (newest first), each body decoded only when asked for: what
 * ListObjectVersions reads, so a page deep into a key with many versions decodes only its own.
 */
export interface MetaIndex {
  heads: VersionHead[];
  version(i: number): ObjectVersion;
}

export function indexMeta(buf: Buffer): MetaIndex {
  const { payload } = open(buf);
  const r = new EnvelopeReader(payload);
  const refs: EntryRef[] = [];
  const heads: VersionHead[] = [];
  for (let i = 0; i < r.count; i++) {
    const e = r.next();
    refs.push(e);
    heads.push({
      type: e.type === TYPE_DELETE_MARKER ? 'deleteMarker' : 'object',
      versionId: e.versionId,
      modTime: e.modTime,
    });
  }
  return { heads, version: (i) => decodeEntry(refs[i]!) };
}
