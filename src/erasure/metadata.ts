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
 * a key with one (only the CRC, ~0.2 ms per MB, still covers the whole payload). A write changes
 * one version the same way: `openMeta` reads the headers and offsets only, and `MetaEntries.add` /
 * `remove` splice the one entry among the other entries' bytes, copied as they are (byte for byte
 * what `encodeMeta` of the decoded and changed file gives).
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
  /** The part's `x-amz-checksum-*` (base64, by S3's algorithm name), kept from a multipart upload. */
  checksums?: Record<string, string>;
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
      ...(p.checksums ? { checksums: { ...p.checksums } } : {}),
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
  // A part's checksums, when kept, are a fifth element (`[alg, value, ...]`); four-element parts read the same.
  if (!implied) {
    b.pt = v.parts.map((p) => {
      const pc = p.checksums ? pairs(p.checksums) : [];
      return pc.length ? [p.number, p.size, p.etag, p.modTime, pc] : [p.number, p.size, p.etag, p.modTime];
    });
  }
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

function checkVersion(v: ObjectVersion): void {
  if (typeof v.versionId !== 'string' || v.versionId === '' || !Number.isFinite(v.modTime)) {
    throw new TypeError(`encodeMeta: bad version id or modTime (${JSON.stringify(v.versionId)})`);
  }
}

/** A version's entry of the payload array: `[type, versionId, modTime, body]`. */
function entryOf(v: ObjectVersion): unknown[] {
  return v.type === 'deleteMarker'
    ? [TYPE_DELETE_MARKER, v.versionId, v.modTime, EMPTY_MAP]
    : [TYPE_OBJECT, v.versionId, v.modTime, encodeBody(v)];
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
    checkVersion(v);
    entries.push(entryOf(v));
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

/** An entry's header as `EnvelopeReader.nextHead` reads it: the id left as bytes. */
interface RawHead {
  type: number;
  idAt: number;
  idEnd: number;
  modTime: number;
}

/** One entry's header, with where its body is; the body is decoded only when asked for. */
interface EntryRef {
  type: number;
  versionId: string;
  modTime: number;
  body: Buffer;
}

/** Bytes after the type byte of MessagePack's fixed-size types (numbers, fixext); 0 for others. */
const FIXED_SIZE = (() => {
  const t = new Uint8Array(256);
  const sizes: [number, number][] = [
    [0xca, 4],
    [0xcb, 8],
    [0xcc, 1],
    [0xcd, 2],
    [0xce, 4],
    [0xcf, 8],
    [0xd0, 1],
    [0xd1, 2],
    [0xd2, 4],
    [0xd3, 8],
    [0xd4, 2],
    [0xd5, 3],
    [0xd6, 5],
    [0xd7, 9],
    [0xd8, 17],
  ];
  for (const [b, n] of sizes) t[b] = n;
  return t;
})();

/** MessagePack read by hand where the envelope and a body's few signature fields are all we need. */
class MsgReader {
  protected pos = 0;
  /** Where the bytes to read end. */
  protected end: number;
  constructor(protected readonly buf: Buffer) {
    this.end = buf.length;
  }
  protected need(n: number): void {
    if (this.pos + n > this.end) corrupt('truncated payload');
  }
  protected byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  protected uint(n: 1 | 2 | 4): number {
    this.need(n);
    const v = this.buf.readUIntBE(this.pos, n);
    this.pos += n;
    return v;
  }
  protected number(): number {
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
  protected at(n: number): number {
    this.need(n);
    this.pos += n;
    return this.pos - n;
  }
  protected strLength(): number {
    const b = this.byte();
    if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
    if (b === 0xd9) return this.uint(1);
    if (b === 0xda) return this.uint(2);
    if (b === 0xdb) return this.uint(4);
    return corrupt('expected a string');
  }
  protected str(): string {
    const n = this.strLength();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  protected binLength(): number {
    const b = this.byte();
    if (b === 0xc4) return this.uint(1);
    if (b === 0xc5) return this.uint(2);
    if (b === 0xc6) return this.uint(4);
    return corrupt('expected bin');
  }
  protected bin(): Buffer {
    const n = this.binLength();
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** Skips one value of any type (what a body skim does with fields it does not need). */
  skip(): void {
    const b = this.byte();
    let bytes = 0; // to skip
    let values = 0; // nested values to skip
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    if (b <= 0x8f) values = 2 * (b & 0x0f);
    else if (b <= 0x9f) values = b & 0x0f;
    else if (b <= 0xbf) bytes = b & 0x1f;
    else if (b === 0xc4 || b === 0xd9) bytes = this.uint(1);
    else if (b === 0xc5 || b === 0xda) bytes = this.uint(2);
    else if (b === 0xc6 || b === 0xdb) bytes = this.uint(4);
    else if (b === 0xc7)
      bytes = this.uint(1) + 1; // ext: length, type, data
    else if (b === 0xc8) bytes = this.uint(2) + 1;
    else if (b === 0xc9) bytes = this.uint(4) + 1;
    else if (b === 0xdc) values = this.uint(2);
    else if (b === 0xdd) values = this.uint(4);
    else if (b === 0xde) values = 2 * this.uint(2);
    else if (b === 0xdf) values = 2 * this.uint(4);
    else {
      bytes = FIXED_SIZE[b]!; // numbers and fixext
      if (bytes === 0) corrupt(`0x${b.toString(16)} is not MessagePack`);
    }
    this.at(bytes);
    this.skipN(values);
  }
  private skipN(n: number): void {
    for (let i = 0; i < n; i++) this.skip();
  }
}

/** Reads format 1's envelope (an array of `[type, id, modTime, bin]`) one entry at a time. */
class EnvelopeReader extends MsgReader {
  readonly count: number;
  constructor(buf: Buffer) {
    super(buf);
    const b = this.byte();
    if (b >= 0x90 && b <= 0x9f) this.count = b & 0x0f;
    else if (b === 0xdc) this.count = this.uint(2);
    else if (b === 0xdd) this.count = this.uint(4);
    else corrupt('payload is not an array');
  }
  get done(): boolean {
    return this.pos === this.end;
  }
  /** Where the next entry starts (the payload's length once `done`). */
  get offset(): number {
    return this.pos;
  }
  next(): EntryRef {
    if (this.byte() !== 0x94) corrupt('entry is not a 4-array');
    const type = this.number();
    const versionId = this.str();
    const modTime = this.number();
    const body = this.bin();
    return { type, versionId, modTime, body };
  }
  /**
   * `next` without slicing the body or decoding the id: the header lands in `head` (the id as the
   * bytes `[idAt, idEnd)`), the body's start is returned.
   */
  nextHead(head: RawHead): number {
    const fast = this.nextHeadAsWritten(head);
    if (fast >= 0) return fast;
    if (this.byte() !== 0x94) corrupt('entry is not a 4-array');
    head.type = this.number();
    const id = this.strLength();
    this.need(id);
    head.idAt = this.pos;
    this.pos += id;
    head.idEnd = this.pos;
    head.modTime = this.number();
    const n = this.binLength();
    this.need(n);
    this.pos += n;
    return this.pos - n;
  }
  /**
   * `nextHead` for an entry laid out as `encodeMeta` writes it (fixint type, fixstr or str8 id,
   * float64 modTime, bin8 or bin16 body), read with one bounds check; -1, nothing read, otherwise.
   * Twice as fast, and a key with 10,000 versions scans 10,000 of them per write.
   */
  private nextHeadAsWritten(head: RawHead): number {
    const p = this.buf;
    let pos = this.pos;
    if (pos + 16 > this.end || p[pos] !== 0x94 || p[pos + 1]! > 0x7f) return -1;
    const type = p[pos + 1]!;
    const s = p[pos + 2]!;
    let id: number;
    if (s >= 0xa0 && s <= 0xbf) {
      id = s & 0x1f;
      pos += 3;
    } else if (s === 0xd9) {
      id = p[pos + 3]!;
      pos += 4;
    } else return -1;
    const idAt = pos;
    pos += id;
    if (pos + 12 > this.end || p[pos] !== 0xcb) return -1;
    const modTime = p.readDoubleBE(pos + 1);
    pos += 9;
    let n: number;
    if (p[pos] === 0xc4) {
      n = p[pos + 1]!;
      pos += 2;
    } else if (p[pos] === 0xc5) {
      n = p.readUInt16BE(pos + 1);
      pos += 3;
    } else return -1;
    if (pos + n > this.end) return -1;
    head.type = type;
    head.idAt = idAt;
    head.idEnd = idAt + id;
    head.modTime = modTime;
    this.pos = pos + n;
    return pos;
  }
}

/**
 * What drives must agree on for an object version (`signature` but its header), read from the
 * body's bytes and compared as bytes (`sameSignature`), with the erasure shape for the read quorum.
 */
export interface RawSignature {
  readonly bytes: Buffer;
  size: number;
  dataBlocks: number;
  parityBlocks: number;
  /** The etag's and the data dir's bytes in `bytes` (the data dir's empty when inline). */
  etagAt: number;
  etagEnd: number;
  dataDirAt: number;
  dataDirEnd: number;
}

/** Whether two copies of one version (same header) have the same `signature`. */
export function sameSignature(a: RawSignature, b: RawSignature): boolean {
  return (
    a.size === b.size &&
    a.dataBlocks === b.dataBlocks &&
    a.parityBlocks === b.parityBlocks &&
    compareBytes(a.bytes, a.etagAt, a.etagEnd, b.bytes, b.etagAt, b.etagEnd) === 0 &&
    compareBytes(a.bytes, a.dataDirAt, a.dataDirEnd, b.bytes, b.dataDirAt, b.dataDirEnd) === 0
  );
}

/** Body keys a skim reads, as the big-endian u16 of their two bytes. */
const KEY_SIZE = 0x737a; // 'sz'
const KEY_ETAG = 0x6574; // 'et'
const KEY_DATA_DIR = 0x6464; // 'dd'
const KEY_ERASURE = 0x6563; // 'ec'

/**
 * An object version's signature fields read from its body's bytes: size, etag, data dir, erasure
 * shape; every other value is skipped by its length (an inline shard costs nothing) and no string
 * is made. What lets drives' copies be compared without decoding them.
 */
class BodySkim extends MsgReader {
  signature(at: number, end: number): RawSignature | undefined {
    this.pos = at;
    this.end = end;
    const b = this.byte();
    let n: number;
    if (b >= 0x80 && b <= 0x8f) n = b & 0x0f;
    else if (b === 0xde) n = this.uint(2);
    else if (b === 0xdf) n = this.uint(4);
    else return undefined;
    const sig: RawSignature = {
      bytes: this.buf,
      size: -1,
      dataBlocks: -1,
      parityBlocks: -1,
      etagAt: 0,
      etagEnd: -1,
      dataDirAt: 0,
      dataDirEnd: 0,
    };
    for (let i = 0; i < n; i++) {
      let key = -1;
      if (this.pos + 3 <= this.end && this.buf[this.pos] === 0xa2) {
        key = this.buf.readUInt16BE(this.pos + 1);
        this.pos += 3;
      } else this.skip();
      if (key === KEY_SIZE) sig.size = this.number();
      else if (key === KEY_ETAG) [sig.etagAt, sig.etagEnd] = this.strBytes();
      else if (key === KEY_DATA_DIR) [sig.dataDirAt, sig.dataDirEnd] = this.strBytes();
      else if (key === KEY_ERASURE) {
        if (this.byte() !== 0x97) return undefined;
        this.skip();
        sig.dataBlocks = this.number();
        sig.parityBlocks = this.number();
        for (let j = 0; j < 4; j++) this.skip();
      } else this.skip();
    }
    if (!isUint(sig.size) || sig.etagEnd < 0 || !isUint(sig.dataBlocks) || !isUint(sig.parityBlocks))
      return undefined;
    return sig;
  }
  private strBytes(): [number, number] {
    const n = this.strLength();
    return [this.pos, this.at(n) + n];
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
      if (!Array.isArray(p) || (p.length !== 4 && p.length !== 5)) return badField(e, 'part');
      const [number, size, etag, modTime, pc] = p as unknown[];
      if (!isUint(number) || !isUint(size) || !isStr(etag) || !isNum(modTime)) return badField(e, 'part');
      const part: VersionPart = { number, size, etag, modTime };
      if (pc !== undefined) part.checksums = record(pc, 'part checksums');
      v.parts.push(part);
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

// --- CRC-32 arithmetic -----------------------------------------------------------------------------

/**
 * `a(x) * b(x)` modulo CRC-32's polynomial, bit-reflected as the CRC is (zlib's `multmodp`); `a` is
 * a power of x, never 0.
 */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ 0xedb88320 : b >>> 1;
  }
  return p >>> 0;
}

/** `x^(2^k)` modulo the polynomial, k = 0..31. */
const X2N = (() => {
  const t = new Uint32Array(32);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let k = 1; k < 32; k++) t[k] = p = multModP(p, p);
  return t;
})();

/** `x^(n * 2^k)` modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multModP(X2N[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The CRC-32 of `A || B` from `crc32(A)`, `crc32(B)` and B's length (zlib's `crc32_combine`): a
 * few microseconds whatever the lengths, so a splice checksums only the bytes it did not copy.
 */
export function crc32Combine(crcA: number, crcB: number, lenB: number): number {
  return (multModP(x2nModP(lenB, 3), crcA) ^ crcB) >>> 0;
}

// --- entries as bytes: a change of one version, a page of versions ---------------------------------

/** Where a change will land, so `openMeta`'s checksum pass cuts the payload there (see `add`). */
export interface SpliceHint {
  /** The version about to be added, replaced or removed. */
  versionId: string;
  /** An added version's modTime (where it goes); leave out for a removal. */
  modTime?: number;
}

/** MessagePack's array header for `n` elements, as msgpackr writes it. */
function arrayHeader(n: number): Buffer {
  if (n < 16) return Buffer.from([0x90 | n]);
  if (n < 0x10000) return Buffer.from([0xdc, n >>> 8, n & 0xff]);
  const b = Buffer.from([0xdd, 0, 0, 0, 0]);
  b.writeUInt32BE(n, 1);
  return b;
}

/** `null` as a big-endian u32: the null version's id bytes. */
const NULL_ID_BYTES = 0x6e756c6c;

/** Compares `a[a0, a1)` with `b[b0, b1)` byte by byte, then by length. */
function compareBytes(a: Buffer, a0: number, a1: number, b: Buffer, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const d = a[a0 + k]! - b[b0 + k]!;
    if (d !== 0) return d;
  }
  return a1 - a0 - (b1 - b0);
}

/** The smallest entry there is: `0x94`, a fixint type, a 1-byte id, a fixint modTime, a bin8 header. */
const MIN_ENTRY_LEN = 6;

/**
 * A metadata file read as its versions' headers and byte offsets, the bodies left as bytes: a write
 * adds, replaces or removes one version by copying the other entries' bytes as they are (`add`,
 * `remove`; the output is byte for byte what `encodeMeta` of the decoded and changed file gives),
 * and a listing decodes only the versions of its page (`version`).
 *
 * Everything `decodeMeta` checks is checked except the contents of bodies not decoded: magic,
 * lengths, the payload CRC and the head CRC, every entry's header (type, id, modTime), the order,
 * no id twice, nothing after the last entry. A body is decoded with its version (`version`, and the
 * version an `add` replaces or a `remove` removes); the others were checked when they were encoded
 * and the CRC shows they are still those bytes. (A body that decodes wrong under a correct CRC can
 * only come from a writer bug; it is copied along, and every reader that decodes it, heal included,
 * still calls the file corrupt.)
 */
export class MetaEntries {
  /** Versions in the file. */
  readonly count: number;
  /** Entry `i` is `payload[starts[i], starts[i + 1])`; `starts[count]` is the payload's length. */
  private readonly starts: Uint32Array;
  /** Where entry `i`'s body starts (it ends where the entry does). */
  private readonly bodies: Uint32Array;
  private readonly types: Uint8Array;
  private readonly modTimes: Float64Array;
  /** Entry `i`'s id is `payload[idAt[i], idEnd[i])`, made a string only when asked for (`ids`). */
  private readonly idAt: Uint32Array;
  private readonly idEnd: Uint32Array;
  /** Ids made strings so far (a write needs a few, a listing its page's). */
  private ids: (string | undefined)[] | undefined;
  /**
   * Ids by index, built only when the ids (the null version's aside) are not in descending byte
   * order. When they are (UUIDv7s made in time order: the usual file), no id can be there twice and
   * an id is found by binary search, with no string made for the others: a key with 10,000 versions
   * opens several times faster.
   */
  private byId: Map<string, number> | undefined;
  private nullAt = -1;
  /** The checksum pass's pieces: piece `k` is `[cuts[k], cuts[k + 1])`, its CRC-32 `crcs[k]`. */
  private cuts: number[] = [];
  private crcs: number[] = [];
  private readonly decoded = new Map<number, ObjectVersion>();
  private skimmer: BodySkim | undefined;

  /** Scans `payload`'s headers (FileCorrupt if any is off); the CRC is `verify`'s. */
  constructor(private readonly payload: Buffer) {
    const r = new EnvelopeReader(payload);
    const n = r.count;
    // A damaged count must not allocate gigabytes before the entries run out.
    if (n * MIN_ENTRY_LEN > payload.length - r.offset) corrupt('truncated payload');
    this.count = n;
    // One allocation for the columns: a file is opened per drive on every write.
    const cols = new ArrayBuffer(8 * n + 4 * (4 * n + 1) + n);
    this.modTimes = new Float64Array(cols, 0, n);
    this.starts = new Uint32Array(cols, 8 * n, n + 1);
    this.bodies = new Uint32Array(cols, 12 * n + 4, n);
    this.idAt = new Uint32Array(cols, 16 * n + 4, n);
    this.idEnd = new Uint32Array(cols, 20 * n + 4, n);
    this.types = new Uint8Array(cols, 24 * n + 4, n);
    const head: RawHead = { type: 0, idAt: 0, idEnd: 0, modTime: 0 };
    let descending = true;
    let last = -1; // the last id that is not the null version's
    for (let i = 0; i < n; i++) {
      this.starts[i] = r.offset;
      this.bodies[i] = r.nextHead(head);
      const { type, modTime } = head;
      const at = head.idAt;
      const end = head.idEnd;
      this.idAt[i] = at;
      this.idEnd[i] = end;
      this.modTimes[i] = modTime;
      // decodeMeta's checks, in its order (an id twice among ids out of order: after the loop)
      if (end - at === 4 && payload.readUInt32BE(at) === NULL_ID_BYTES) {
        if (this.nullAt >= 0) corrupt(`version ${NULL_VERSION_ID} twice`);
        this.nullAt = i;
      } else if (descending) {
        if (last >= 0 && this.compareIds(i, last) >= 0) descending = false;
        last = i;
      }
      if (i > 0) {
        const p = this.modTimes[i - 1]!;
        // Newest first: modTime descending, then id descending (as strings, as `compareVersions`).
        if (p < modTime || (p === modTime && !(this.versionIdAt(i - 1) > this.versionIdAt(i))))
          corrupt('versions out of order');
      }
      if (end === at) corrupt('empty version id');
      if (!Number.isFinite(modTime)) corrupt(`version ${this.versionIdAt(i)}: bad modTime`);
      if (type !== TYPE_OBJECT && type !== TYPE_DELETE_MARKER)
        corrupt(`version ${this.versionIdAt(i)}: unknown type ${type}`);
      this.types[i] = type;
    }
    if (!r.done) corrupt('bytes after the last version');
    this.starts[n] = payload.length;
    if (!descending) {
      this.byId = new Map();
      for (let i = 0; i < n; i++) {
        const id = this.versionIdAt(i);
        if (this.byId.has(id)) corrupt(`version ${id} twice`);
        this.byId.set(id, i);
      }
    }
  }

  /** Byte order of the ids of entries `i` and `j` (one total order: all a search needs). */
  private compareIds(i: number, j: number): number {
    return compareBytes(
      this.payload,
      this.idAt[i]!,
      this.idEnd[i]!,
      this.payload,
      this.idAt[j]!,
      this.idEnd[j]!,
    );
  }

  /**
   * Checks the payload against its stored CRC-32 in one pass, cut where `hint`'s change will land:
   * each piece's CRC is kept, so the new file's CRC is combined from them (`crc32Combine`) rather
   * than computed again over every byte copied.
   */
  verify(stored: number, hint?: SpliceHint): void {
    const cut = new Set<number>([0, this.starts[0]!, this.payload.length]);
    if (hint) {
      const r = this.indexOf(hint.versionId);
      if (r >= 0) cut.add(this.starts[r]!).add(this.starts[r + 1]!);
      if (hint.modTime !== undefined)
        cut.add(this.starts[this.insertionIndex(hint.modTime, hint.versionId, r)]!);
    }
    const cuts = [...cut].sort((a, b) => a - b);
    const crcs: number[] = [];
    let total = 0;
    for (let k = 0; k + 1 < cuts.length; k++) {
      const c = crc32(this.payload.subarray(cuts[k], cuts[k + 1]));
      crcs.push(c);
      total = crc32Combine(total, c, cuts[k + 1]! - cuts[k]!);
    }
    if (total !== stored) corrupt('checksum mismatch');
    this.cuts = cuts;
    this.crcs = crcs;
  }

  /** The index of the version with this id, or -1. */
  indexOf(versionId: string): number {
    if (this.byId) return this.byId.get(versionId) ?? -1;
    if (versionId === NULL_VERSION_ID) return this.nullAt;
    // Binary search of the ids, descending in byte order, stepping off the null version's entry.
    const want = Buffer.from(versionId, 'utf8');
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      let mid = (lo + hi) >>> 1;
      if (mid === this.nullAt) {
        if (mid > lo) mid--;
        else if (mid < hi) mid++;
        else return -1;
      }
      const c = compareBytes(this.payload, this.idAt[mid]!, this.idEnd[mid]!, want, 0, want.length);
      if (c === 0) return this.versionIdAt(mid) === versionId ? mid : -1;
      if (c > 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  head(i: number): VersionHead {
    return {
      type: this.types[i] === TYPE_DELETE_MARKER ? 'deleteMarker' : 'object',
      versionId: this.versionIdAt(i),
      modTime: this.modTimes[i]!,
    };
  }

  versionIdAt(i: number): string {
    this.ids ??= new Array<string | undefined>(this.count);
    let id = this.ids[i];
    if (id === undefined) {
      id = this.payload.toString('utf8', this.idAt[i], this.idEnd[i]);
      this.ids[i] = id;
    }
    return id;
  }

  modTimeAt(i: number): number {
    return this.modTimes[i]!;
  }

  isDeleteMarker(i: number): boolean {
    return this.types[i] === TYPE_DELETE_MARKER;
  }

  /**
   * Object version `i`'s signature read from its body's bytes (`sameSignature` compares two), or
   * undefined where the body does not hold one (such a copy agrees with nothing, as one that does
   * not decode).
   */
  rawSignatureAt(i: number): RawSignature | undefined {
    this.skimmer ??= new BodySkim(this.payload);
    try {
      return this.skimmer.signature(this.bodies[i]!, this.starts[i + 1]!);
    } catch {
      return undefined; // a body cut short, or nested deeper than the stack
    }
  }

  /** Version `i`, its body decoded (once); FileCorrupt if the body is bad. */
  version(i: number): ObjectVersion {
    let v = this.decoded.get(i);
    if (!v) {
      v = decodeEntry({
        type: this.types[i]!,
        versionId: this.versionIdAt(i),
        modTime: this.modTimes[i]!,
        body: this.payload.subarray(this.bodies[i], this.starts[i + 1]),
      });
      this.decoded.set(i, v);
    }
    return v;
  }

  /** Every version decoded: `decodeMeta`'s result. */
  toFile(): MetaFile {
    const versions: ObjectVersion[] = [];
    for (let i = 0; i < this.count; i++) versions.push(this.version(i));
    return { versions };
  }

  /**
   * `addVersion` then `encodeMeta`, as bytes: `v` goes where the order puts it (usually first),
   * replacing the version with its id, and the other entries are copied. Returns the new file and
   * the version replaced (decoded).
   */
  add(
    v: ObjectVersion,
    opts: { replaceNull: boolean },
  ): { meta: Buffer; replaced: ObjectVersion | undefined } {
    if (opts.replaceNull && v.versionId !== NULL_VERSION_ID) {
      throw new TypeError(
        `addVersion: replaceNull needs the null version, got ${JSON.stringify(v.versionId)}`,
      );
    }
    checkVersion(v);
    const r = this.indexOf(v.versionId);
    const replaced = r >= 0 ? this.version(r) : undefined;
    const j = this.insertionIndex(v.modTime, v.versionId, r);
    const parts: Part[] = [];
    this.entries(parts, 0, j, r);
    parts.push(packr.pack(entryOf(v)));
    this.entries(parts, j, this.count, r);
    return { meta: this.assemble(parts, this.count + (r >= 0 ? 0 : 1)), replaced };
  }

  /**
   * `removeVersion` then `encodeMeta`, as bytes. `meta` is undefined when there is no such version;
   * `count` is what the new file holds (0: the caller removes the file instead).
   */
  remove(versionId: string): { meta: Buffer | undefined; removed: ObjectVersion | undefined; count: number } {
    const r = this.indexOf(versionId);
    if (r < 0) return { meta: undefined, removed: undefined, count: this.count };
    const removed = this.version(r);
    const parts: Part[] = [];
    this.entries(parts, 0, this.count, r);
    return { meta: this.assemble(parts, this.count - 1), removed, count: this.count - 1 };
  }

  /** The file as `encodeMeta` of its versions writes it (format 2), nothing changed. */
  encode(): Buffer {
    const parts: Part[] = [];
    this.entries(parts, 0, this.count, -1);
    return this.assemble(parts, this.count);
  }

  /** Where a version (`modTime`, `versionId`) goes among the others, `skip` (its old copy) aside. */
  private insertionIndex(modTime: number, versionId: string, skip: number): number {
    for (let i = 0; i < this.count; i++) {
      if (i === skip) continue;
      const t = this.modTimes[i]!;
      if (modTime > t || (modTime === t && versionId >= this.versionIdAt(i))) return i;
    }
    return this.count;
  }

  /** Entries `[from, to)` but `skip`, as ranges of the payload. */
  private entries(parts: Part[], from: number, to: number, skip: number): void {
    if (skip >= from && skip < to) {
      this.entries(parts, from, skip, -1);
      this.entries(parts, skip + 1, to, -1);
    } else if (to > from) parts.push([this.starts[from]!, this.starts[to]!, this.starts[from + 1]!]);
  }

  /** CRC-32 of `payload[a, b)`: from the verified pieces when it is made of whole ones. */
  private rangeCrc(a: number, b: number): number {
    let k = this.cuts.indexOf(a);
    if (k < 0) return crc32(this.payload.subarray(a, b));
    let crc = 0;
    let at = a;
    while (at < b) {
      const end = this.cuts[k + 1]!;
      if (end > b) return crc32Combine(crc, crc32(this.payload.subarray(at, b)), b - at);
      crc = crc32Combine(crc, this.crcs[k]!, end - at);
      at = end;
      k++;
    }
    return crc;
  }

  /** The format 2 file of `count` entries made of `parts`, in order. */
  private assemble(parts: Part[], count: number): Buffer {
    const hdr = arrayHeader(count);
    let len = hdr.length;
    for (const p of parts) len += Buffer.isBuffer(p) ? p.length : p[1] - p[0];
    const first = parts[0];
    const headLen =
      hdr.length + (first === undefined ? 0 : Buffer.isBuffer(first) ? first.length : first[2] - first[0]);
    const out = Buffer.allocUnsafe(HEADER_LEN_V2 + len + TRAILER_LEN);
    META_MAGIC.copy(out, 0);
    out.writeUInt16BE(META_FORMAT_VERSION, META_MAGIC.length);
    out.writeUInt32BE(len, META_MAGIC.length + 2);
    out.writeUInt32BE(headLen, HEADER_LEN);
    let at = HEADER_LEN_V2 + hdr.copy(out, HEADER_LEN_V2);
    let crc = crc32(hdr);
    for (const p of parts) {
      if (Buffer.isBuffer(p)) {
        crc = crc32(p, crc);
        at += p.copy(out, at);
      } else {
        crc = crc32Combine(crc, this.rangeCrc(p[0], p[1]), p[1] - p[0]);
        at += this.payload.copy(out, at, p[0], p[1]);
      }
    }
    out.writeUInt32BE(headCrc(out, out.subarray(HEADER_LEN_V2, HEADER_LEN_V2 + headLen)), HEADER_LEN + 4);
    out.writeUInt32BE(crc, at);
    return out;
  }
}

/** New bytes, or a range `[start, end)` of the old payload with where its first entry ends. */
type Part = Buffer | readonly [start: number, end: number, firstEnd: number];

/**
 * The file's versions as headers and offsets, ready for a change of one version (`add`, `remove`)
 * or a page of a listing (`version`); `hint` says where a change will land (see `verify`).
 * FileCorrupt as `decodeMeta`, bodies aside (see `MetaEntries`).
 */
export function openMeta(buf: Buffer, hint?: SpliceHint): MetaEntries {
  const h = header(buf);
  if (buf.length !== h.start + h.len + TRAILER_LEN) {
    corrupt(`payload of ${h.len} bytes in a file of ${buf.length}`);
  }
  // Formats 1 and 2 share format 1's payload, the only one `MetaEntries` reads.
  if (h.decoder !== format1) corrupt(`format version ${h.version} cannot be spliced`);
  const payload = buf.subarray(h.start, h.start + h.len);
  const stored = buf.readUInt32BE(h.start + h.len);
  let entries: MetaEntries;
  try {
    entries = new MetaEntries(payload);
  } catch (e) {
    // Damage shows as a bad checksum first, as in `decodeMeta`.
    if (crc32(payload) !== stored) corrupt('checksum mismatch');
    throw e;
  }
  entries.verify(stored, hint);
  if (h.version >= 2 && headCrc(buf, payload.subarray(0, h.headLen)) !== h.headCrc)
    corrupt('head checksum mismatch');
  return entries;
}
