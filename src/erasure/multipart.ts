/**
 * Multipart uploads of one erasure set (S3's CreateMultipartUpload, UploadPart, ListParts,
 * ListMultipartUploads, AbortMultipartUpload, CompleteMultipartUpload).
 *
 * An upload lives in the system volume of every drive of the set until it is completed or aborted
 * (`docs/format.md`, "Multipart uploads"):
 *
 *   multipart/<sha256hex(bucket/key)>/<uploadId>/upload.meta   the upload: key, time, options, erasure shape
 *   multipart/<sha256hex(bucket/key)>/<uploadId>/part.N.meta   part N: size, ETag, time
 *   multipart/<sha256hex(bucket/key)>/<uploadId>/data/part.N   this drive's shard file of part N
 *
 * A part streams in exactly as a PUT's data does (`ErasureSet.writeShards`) to a temporary file, then
 * moves into `data/` under the part's lock. Completion turns `data/` as a whole into the new version's
 * data dir (`renameData`, through `ErasureSet.commitHeld`), so no byte of a part is copied; the part
 * metadata files stay behind, outside `data/`, and go with the upload directory.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type ChecksumKind, Checksums } from '../native';
import { isObjectError, ObjectError } from '../object/errors';
import type { Body } from '../object/ObjectLayer';
import type {
  ChecksumAlgorithm,
  ChecksumType,
  CompletePart,
  MultipartUploadInfo,
  NewMultipartUploadOptions,
  ObjectInfo,
  PartInfo,
  PartOptions,
  WritePrecondition,
} from '../object/types';
import { isStorageError, StorageError } from '../storage/errors';
import { compareKeys, objectPath } from '../storage/paths';
import { type StorageAPI, SYSTEM_VOLUME, TMP_DIR } from '../storage/StorageAPI';
import { BatchReader, BodyTooLarge } from './batches';
import { BATCH_BLOCKS, type ErasureSet, toObjectError } from './ErasureSet';
import {
  type BitrotAlgorithm,
  type LockRetention,
  NULL_VERSION_ID,
  newDataDir,
  type ObjectDataVersion,
  type StorageClass,
  toObjectInfo,
  versionIdNew,
} from './metadata';
import { hashOrder, writeQuorum } from './quorum';

/** Where uploads live in the system volume. */
export const MULTIPART_DIR = 'multipart';
export const UPLOAD_META = 'upload.meta';
/** The format `encodeUploadMeta` and `encodePartMeta` write. */
export const MULTIPART_FORMAT_VERSION = 1;
/** AWS: every part but the last is at least 5 MiB. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** AWS: a part is at most 5 GiB. */
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
/** AWS: part numbers are 1 to 10,000. */
export const MAX_PART_NUMBER = 10_000;
/** AWS: ListParts and ListMultipartUploads return at most 1000 entries. */
const MAX_LIST = 1000;
const LOCK_TIMEOUT_MS = 30_000;
/** Small files read at once per drive (part metadata of a 10,000-part completion). */
const READ_CONCURRENCY = 32;
/** base64url of 24 random bytes. */
const UPLOAD_ID_RE = /^[A-Za-z0-9_-]{32}$/;
const PART_META_RE = /^part\.(\d+)\.meta$/;
const PART_FILE_RE = /^part\.(\d+)$/;

export interface MultipartOptions {
  /** Smallest size of a part that is not the last one (tests lower it); default 5 MiB. */
  minPartSize?: number;
}

/** What `newMultipartUpload` was given, kept for the object that completion makes. */
export interface UploadOptions {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  userMetadata: Record<string, string>;
  tags: string;
  storageClass: StorageClass;
  checksums: Record<string, string>;
  versioned?: boolean;
  /** The checksum every part carries (computed for each), and how completion combines them. */
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  /** S3 Object Lock retention (retain-until in ms since the epoch) and legal hold for the object. */
  lockRetention?: LockRetention;
  legalHold?: boolean;
}

const CHECKSUM_ALGORITHMS: readonly string[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** `upload.meta`, the same on every drive of the set. */
export interface UploadMeta {
  bucket: string;
  key: string;
  uploadId: string;
  /** Milliseconds since the epoch. */
  initiated: number;
  opts: UploadOptions;
  erasure: {
    dataBlocks: number;
    parityBlocks: number;
    blockSize: number;
    /** The 1-based shard index of each drive position (`hashOrder(bucket/key)`). */
    distribution: number[];
    bitrot: BitrotAlgorithm;
  };
}

/** `part.N.meta`, the same on every drive that holds the part. */
export interface PartMeta {
  number: number;
  size: number;
  /** Hex MD5 of the part, no quotes. */
  etag: string;
  /** Milliseconds since the epoch. */
  modTime: number;
  /** `x-amz-checksum-*` of the part (base64, by S3's algorithm name), when the upload named any. */
  checksums?: Record<string, string>;
}

// --- file formats ----------------------------------------------------------------------------------

const CONTENT_HEADERS = [
  'contentType',
  'contentEncoding',
  'contentDisposition',
  'contentLanguage',
  'cacheControl',
  'expires',
] as const;

function corrupt(what: string): never {
  throw new StorageError('FileCorrupt', `multipart: ${what}`);
}

function parseJson(buf: Buffer, what: string): Record<string, unknown> {
  let o: unknown;
  try {
    o = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    return corrupt(`${what}: ${(e as Error).message}`);
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return corrupt(`${what} is not an object`);
  return o as Record<string, unknown>;
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isUint = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

function pairs(r: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(r)) out.push(k, r[k]!);
  return out;
}

function unpairs(x: unknown, what: string): Record<string, string> {
  if (!Array.isArray(x) || x.length % 2 !== 0 || !x.every(isStr))
    return corrupt(`${what} is not a list of pairs`);
  const out: Record<string, string> = {};
  for (let i = 0; i < x.length; i += 2) {
    // a user may name metadata `__proto__`: keep it as data, never as the prototype
    Object.defineProperty(out, x[i]!, {
      value: x[i + 1],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** `upload.meta`: JSON, `{ "version": 1, ... }`; user metadata and checksums as `[k, v, ...]` pairs. */
export function encodeUploadMeta(u: UploadMeta): Buffer {
  const opts: Record<string, unknown> = {
    userMetadata: pairs(u.opts.userMetadata),
    tags: u.opts.tags,
    storageClass: u.opts.storageClass,
    checksums: pairs(u.opts.checksums),
  };
  for (const h of CONTENT_HEADERS) if (u.opts[h] !== undefined) opts[h] = u.opts[h];
  if (u.opts.versioned !== undefined) opts.versioned = u.opts.versioned;
  if (u.opts.checksumAlgorithm !== undefined) opts.checksumAlgorithm = u.opts.checksumAlgorithm;
  if (u.opts.checksumType !== undefined) opts.checksumType = u.opts.checksumType;
  if (u.opts.lockRetention !== undefined) opts.lockRetention = u.opts.lockRetention;
  if (u.opts.legalHold !== undefined) opts.legalHold = u.opts.legalHold;
  return Buffer.from(
    JSON.stringify({
      version: MULTIPART_FORMAT_VERSION,
      bucket: u.bucket,
      key: u.key,
      uploadId: u.uploadId,
      initiated: u.initiated,
      opts,
      erasure: u.erasure,
    }),
  );
}

/** Readers of `upload.meta` by format version; a new format adds one and keeps the old. */
const uploadReaders: Readonly<Record<number, (o: Record<string, unknown>) => UploadMeta>> = {
  1(o) {
    const { bucket, key, uploadId, initiated } = o;
    if (!isStr(bucket) || !isStr(key) || !isStr(uploadId) || !isUint(initiated))
      corrupt('upload.meta: identity');
    const opts = o.opts as Record<string, unknown> | undefined;
    if (typeof opts !== 'object' || opts === null) return corrupt('upload.meta: opts');
    if (!isStr(opts.tags)) corrupt('upload.meta: tags');
    if (opts.storageClass !== 'STANDARD' && opts.storageClass !== 'REDUCED_REDUNDANCY') {
      corrupt('upload.meta: storage class');
    }
    if (opts.versioned !== undefined && typeof opts.versioned !== 'boolean')
      corrupt('upload.meta: versioned');
    const uo: UploadOptions = {
      userMetadata: unpairs(opts.userMetadata, 'upload.meta: user metadata'),
      tags: opts.tags as string,
      storageClass: opts.storageClass as StorageClass,
      checksums: unpairs(opts.checksums, 'upload.meta: checksums'),
    };
    if (opts.versioned !== undefined) uo.versioned = opts.versioned as boolean;
    // Optional (uploads started before they existed have neither).
    if (opts.checksumAlgorithm !== undefined) {
      if (!CHECKSUM_ALGORITHMS.includes(opts.checksumAlgorithm as string))
        corrupt('upload.meta: checksum algorithm');
      uo.checksumAlgorithm = opts.checksumAlgorithm as ChecksumAlgorithm;
    }
    if (opts.checksumType !== undefined) {
      if (opts.checksumType !== 'COMPOSITE' && opts.checksumType !== 'FULL_OBJECT')
        corrupt('upload.meta: checksum type');
      uo.checksumType = opts.checksumType;
    }
    if (opts.lockRetention !== undefined) {
      const lr = opts.lockRetention as { mode?: unknown; retainUntil?: unknown } | null;
      if (
        typeof lr !== 'object' ||
        lr === null ||
        (lr.mode !== 'GOVERNANCE' && lr.mode !== 'COMPLIANCE') ||
        !isUint(lr.retainUntil)
      )
        corrupt('upload.meta: lock retention');
      uo.lockRetention = { mode: lr.mode, retainUntil: lr.retainUntil };
    }
    if (opts.legalHold !== undefined) {
      if (typeof opts.legalHold !== 'boolean') corrupt('upload.meta: legal hold');
      uo.legalHold = opts.legalHold;
    }
    for (const h of CONTENT_HEADERS) {
      const v = opts[h];
      if (v === undefined) continue;
      if (!isStr(v)) corrupt(`upload.meta: ${h}`);
      uo[h] = v;
    }
    const e = o.erasure as Record<string, unknown> | undefined;
    if (
      typeof e !== 'object' ||
      e === null ||
      !isUint(e.dataBlocks) ||
      e.dataBlocks < 1 ||
      !isUint(e.parityBlocks) ||
      !isUint(e.blockSize) ||
      !Array.isArray(e.distribution) ||
      !e.distribution.every(isUint) ||
      (e.bitrot !== 'highwayhash256S' && e.bitrot !== 'blake3S')
    ) {
      return corrupt('upload.meta: erasure');
    }
    return {
      bucket: bucket as string,
      key: key as string,
      uploadId: uploadId as string,
      initiated: initiated as number,
      opts: uo,
      erasure: {
        dataBlocks: e.dataBlocks,
        parityBlocks: e.parityBlocks,
        blockSize: e.blockSize,
        distribution: e.distribution as number[],
        bitrot: e.bitrot,
      },
    };
  },
};

export function decodeUploadMeta(buf: Buffer): UploadMeta {
  const o = parseJson(buf, 'upload.meta');
  const read = uploadReaders[o.version as number];
  if (!read) return corrupt(`upload.meta: unknown format version ${String(o.version)}`);
  return read(o);
}

/**
 * `part.N.meta`: JSON, `{ "version": 1, "number", "size", "etag", "modTime" }`, and `"checksums"` as
 * `[alg, value, ...]` pairs when the part has any (optional, so files without it read the same).
 */
export function encodePartMeta(p: PartMeta): Buffer {
  const o: Record<string, unknown> = {
    version: MULTIPART_FORMAT_VERSION,
    number: p.number,
    size: p.size,
    etag: p.etag,
    modTime: p.modTime,
  };
  if (p.checksums && Object.keys(p.checksums).length > 0) o.checksums = pairs(p.checksums);
  return Buffer.from(JSON.stringify(o));
}

const partReaders: Readonly<Record<number, (o: Record<string, unknown>) => PartMeta>> = {
  1(o) {
    const { number, size, etag, modTime } = o;
    if (
      !isUint(number) ||
      !isUint(size) ||
      !isStr(etag) ||
      !/^[0-9a-f]{32}$/.test(etag) ||
      !isUint(modTime)
    ) {
      return corrupt('part meta: fields');
    }
    const p: PartMeta = { number, size, etag, modTime };
    if (o.checksums !== undefined) p.checksums = unpairs(o.checksums, 'part meta: checksums');
    return p;
  },
};

export function decodePartMeta(buf: Buffer): PartMeta {
  const o = parseJson(buf, 'part meta');
  const read = partReaders[o.version as number];
  if (!read) return corrupt(`part meta: unknown format version ${String(o.version)}`);
  return read(o);
}

// --- helpers ---------------------------------------------------------------------------------------

/** The upload directory of every upload of `bucket/key`. */
export function uploadsDirOf(bucket: string, key: string): string {
  return `${MULTIPART_DIR}/${createHash('sha256').update(`${bucket}/${key}`, 'utf8').digest('hex')}`;
}

/** S3: `md5(concat(binary part MD5s))-N`. */
export function multipartEtag(etags: readonly string[]): string {
  const h = createHash('md5');
  for (const e of etags) h.update(Buffer.from(e, 'hex'));
  return `${h.digest('hex')}-${etags.length}`;
}

/** An ETag as a client sends it back: maybe quoted, maybe upper case. */
function normalizeEtag(etag: string): string {
  return etag
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A drive that answered that it does not have the file (as opposed to one that could not answer). */
function isAbsent(e: unknown): boolean {
  return isStorageError(e, 'FileNotFound', 'VolumeNotFound', 'FileCorrupt', 'IsNotRegular');
}

/**
 * Errors of the system volume in object words: a missing system volume or file there is a quorum
 * failure, not a missing bucket or key.
 */
function sysError(e: unknown, bucket: string, key: string, write: boolean): Error {
  if (e instanceof ObjectError) return e;
  if (isStorageError(e, 'DriveFull')) return new ObjectError('StorageFull', e.message, { bucket, key });
  if (e instanceof StorageError) {
    return new ObjectError(
      write ? 'InsufficientWriteQuorum' : 'InsufficientReadQuorum',
      e.message,
      { bucket, key },
      {
        cause: e,
      },
    );
  }
  return toObjectError(e, bucket, key);
}

function firstError(res: readonly unknown[]): Error | undefined {
  return res.find((r): r is Error => r instanceof Error);
}

/**
 * The value most drives hold, when `quorum` of them do (`has` tells which). `undefined` when it cannot
 * reach quorum even if every silent drive held it (too many drives say they have none, or another
 * one): the thing is not there. Throws `InsufficientReadQuorum` when offline drives could change that.
 */
function pickByQuorum<T>(
  res: readonly (T | Error)[],
  signature: (x: T) => string,
  quorumOf: (x: T | undefined) => number,
  newer: (a: T, b: T) => boolean,
): { value: T; has: boolean[] } | undefined {
  const groups = new Map<string, number[]>();
  res.forEach((r, i) => {
    if (r instanceof Error) return;
    const s = signature(r);
    const g = groups.get(s);
    if (g) g.push(i);
    else groups.set(s, [i]);
  });
  let best: number[] = [];
  for (const g of groups.values()) {
    if (g.length > best.length || (g.length === best.length && newer(res[g[0]!] as T, res[best[0]!] as T)))
      best = g;
  }
  const value = best.length > 0 ? (res[best[0]!] as T) : undefined;
  const quorum = quorumOf(value);
  if (value !== undefined && best.length >= quorum) {
    return { value, has: res.map((_, i) => best.includes(i)) };
  }
  const against = res.filter((r, i) => (r instanceof Error ? isAbsent(r) : !best.includes(i))).length;
  if (res.length - against < quorum) return undefined;
  throw new ObjectError(
    'InsufficientReadQuorum',
    `${best.length} of ${res.length} drives agree, quorum is ${quorum}`,
  );
}

/** What `completeMultipartUpload` takes besides the parts. */
export interface CompleteOptions {
  versioned?: boolean;
  defaultRetention?: ObjectInfo['lockRetention'];
  precondition?: WritePrecondition;
  /** The object's checksum the request names, by S3's algorithm name (base64, `-N` optional). */
  expectedChecksums?: Record<string, string>;
}

/**
 * `<uploadId>.completed`, beside where the upload's directory was: what its completion made, so a
 * repeated completion can answer again. Removed by `cleanupStaleUploads` as uploads are.
 */
export const COMPLETED_SUFFIX = '.completed';

interface Completed {
  etag: string;
  versionId: string;
  /** Milliseconds since the epoch. */
  completed: number;
}

/** JSON, `{ "version": 1, "etag", "versionId", "completed" }`. */
function encodeCompleted(c: Completed): Buffer {
  return Buffer.from(JSON.stringify({ version: MULTIPART_FORMAT_VERSION, ...c }));
}

function decodeCompleted(buf: Buffer): Completed {
  const o = parseJson(buf, 'completed');
  if (o.version !== MULTIPART_FORMAT_VERSION)
    return corrupt(`completed: unknown format version ${String(o.version)}`);
  const { etag, versionId, completed } = o;
  if (!isStr(etag) || !isStr(versionId) || !isUint(completed)) return corrupt('completed: fields');
  return { etag, versionId, completed };
}

/** A composite checksum without its `-N` part count. */
function stripPartCount(v: string): string {
  return v.replace(/-\d+$/, '');
}

interface OpenUpload {
  upload: UploadMeta;
  /** The upload's directory in the system volume. */
  dir: string;
  /** Drive positions holding the agreed `upload.meta`. */
  has: boolean[];
}

interface ScannedUpload {
  upload: UploadMeta;
  dir: string;
  /** Drives holding this `upload.meta`. */
  count: number;
}

// --- the uploads -----------------------------------------------------------------------------------

export class Multipart {
  readonly minPartSize: number;

  constructor(
    readonly set: ErasureSet,
    opts: MultipartOptions = {},
  ) {
    this.minPartSize = opts.minPartSize ?? MIN_PART_SIZE;
  }

  /** The lock of one upload: a system volume path, which no `bucket/key` lock can equal. */
  private lockOf(dir: string): string {
    return `${SYSTEM_VOLUME}/${dir}`;
  }

  private checkUploadId(bucket: string, key: string, uploadId: string): void {
    if (typeof uploadId !== 'string' || !UPLOAD_ID_RE.test(uploadId)) {
      throw new ObjectError('InvalidUploadId', undefined, { bucket, key, uploadId });
    }
  }

  /** The upload, as a read quorum of drives holds it; `InvalidUploadId` when it is not there. */
  private async open(bucket: string, key: string, uploadId: string): Promise<OpenUpload> {
    this.checkUploadId(bucket, key, uploadId);
    const dir = `${uploadsDirOf(bucket, key)}/${uploadId}`;
    const res = await this.set.onAll(async (d) => {
      const u = decodeUploadMeta(await d.readAll(SYSTEM_VOLUME, `${dir}/${UPLOAD_META}`));
      // A hash collision (or a misplaced file) is not this upload.
      if (u.bucket !== bucket || u.key !== key || u.uploadId !== uploadId)
        corrupt('upload.meta of another upload');
      return u;
    });
    const minK = this.set.driveCount - this.set.parity;
    let picked: { value: UploadMeta; has: boolean[] } | undefined;
    try {
      picked = pickByQuorum(
        res,
        (u) => `${u.initiated}\0${u.erasure.dataBlocks}\0${u.erasure.parityBlocks}`,
        (u) => (u ? u.erasure.dataBlocks : minK),
        (a, b) => a.initiated > b.initiated,
      );
    } catch (e) {
      throw isObjectError(e) ? Object.assign(e, { detail: { ...e.detail, bucket, key, uploadId } }) : e;
    }
    if (!picked) throw new ObjectError('InvalidUploadId', undefined, { bucket, key, uploadId });
    if (picked.value.erasure.distribution.length !== this.set.driveCount) {
      throw new ObjectError('InsufficientReadQuorum', 'the upload was made for another set shape', {
        bucket,
        key,
        uploadId,
      });
    }
    return { upload: picked.value, dir, has: picked.has };
  }

  /** Part metadata of `numbers` from the drives in `has`: `[part][drive]`. */
  private async readPartMetas(
    dir: string,
    numbers: readonly number[],
    has: boolean[],
  ): Promise<(PartMeta | Error)[][]> {
    const perDrive = await this.set.onAll(async (d, i) => {
      if (!has[i]) return numbers.map(() => new StorageError('FileNotFound', 'no upload on this drive'));
      return mapLimit(numbers, READ_CONCURRENCY, async (n) => {
        try {
          const p = decodePartMeta(await d.readAll(SYSTEM_VOLUME, `${dir}/part.${n}.meta`));
          return p.number === n ? p : corrupt(`part.${n}.meta names part ${p.number}`);
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      });
    });
    return numbers.map((_, j) => perDrive.map((r) => (r instanceof Error ? r : r[j]!)));
  }

  private pickPart(
    res: readonly (PartMeta | Error)[],
    k: number,
  ): { value: PartMeta; has: boolean[] } | undefined {
    return pickByQuorum(
      res,
      (p) => `${p.size}\0${p.etag}\0${p.modTime}`,
      () => k,
      (a, b) => a.modTime > b.modTime,
    );
  }

  private info(u: UploadMeta): MultipartUploadInfo {
    const info: MultipartUploadInfo = {
      bucket: u.bucket,
      key: u.key,
      uploadId: u.uploadId,
      initiated: new Date(u.initiated),
      storageClass: u.opts.storageClass,
    };
    if (u.opts.checksumAlgorithm !== undefined) info.checksumAlgorithm = u.opts.checksumAlgorithm;
    if (u.opts.checksumType !== undefined) info.checksumType = u.opts.checksumType;
    return info;
  }

  // --- CreateMultipartUpload -------------------------------------------------------------------------

  async newMultipartUpload(bucket: string, key: string, opts: NewMultipartUploadOptions): Promise<string> {
    try {
      objectPath(key); // refuses keys that cannot be stored, before anything is written
    } catch (e) {
      throw toObjectError(e, bucket, key);
    }
    await this.set.statBucket(bucket);
    const n = this.set.driveCount;
    const m = this.set.parityFor(opts.storageClass);
    const k = n - m;
    const uploadId = randomBytes(24).toString('base64url');
    const uo: UploadOptions = {
      userMetadata: { ...opts.userMetadata },
      tags: opts.tags ?? '',
      storageClass: opts.storageClass ?? 'STANDARD',
      checksums: { ...opts.checksums },
    };
    if (opts.versioned !== undefined) uo.versioned = opts.versioned;
    if (opts.checksumAlgorithm !== undefined) {
      uo.checksumAlgorithm = opts.checksumAlgorithm;
      uo.checksumType = opts.checksumType ?? 'COMPOSITE';
    }
    if (opts.lockRetention !== undefined) {
      uo.lockRetention = {
        mode: opts.lockRetention.mode,
        retainUntil: opts.lockRetention.retainUntil.getTime(),
      };
    }
    if (opts.legalHold !== undefined) uo.legalHold = opts.legalHold;
    for (const h of CONTENT_HEADERS) if (opts[h] !== undefined) uo[h] = opts[h];
    const upload: UploadMeta = {
      bucket,
      key,
      uploadId,
      initiated: Date.now(),
      opts: uo,
      erasure: {
        dataBlocks: k,
        parityBlocks: m,
        blockSize: this.set.blockSize,
        distribution: hashOrder(`${bucket}/${key}`, n),
        bitrot: this.set.bitrot,
      },
    };
    const dir = `${uploadsDirOf(bucket, key)}/${uploadId}`;
    const data = encodeUploadMeta(upload);
    const res = await this.set.onAll((d) => d.writeAll(SYSTEM_VOLUME, `${dir}/${UPLOAD_META}`, data));
    const ok = res.filter((r) => !(r instanceof Error)).length;
    if (ok < writeQuorum(k, m)) {
      await this.set.onAll((d) => d.delete(SYSTEM_VOLUME, dir, { recursive: true }));
      throw new ObjectError(
        'InsufficientWriteQuorum',
        `${ok} of ${n} drives took the upload`,
        { bucket, key },
        {
          cause: firstError(res),
        },
      );
    }
    return uploadId;
  }

  // --- UploadPart --------------------------------------------------------------------------------------

  /**
   * Streams part `partNumber` in (as `ErasureSet.putObject` streams a body) and stores it, replacing
   * an earlier upload of the same part number. Parts of one upload may be uploaded concurrently.
   */
  async putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Body,
    opts: PartOptions,
  ): Promise<PartInfo> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new ObjectError('InvalidArgument', `part number ${partNumber}: 1 to ${MAX_PART_NUMBER}`, {
        bucket,
        key,
        uploadId,
      });
    }
    if (opts.size > MAX_PART_SIZE) {
      throw new ObjectError('EntityTooLarge', `a part of ${opts.size} bytes`, { bucket, key, uploadId });
    }
    const { upload, dir } = await this.open(bucket, key, uploadId);
    const { dataBlocks: k, parityBlocks: m, blockSize, distribution } = upload.erasure;
    if (blockSize !== this.set.blockSize) {
      throw new ObjectError('InvalidArgument', `the upload was made with blocks of ${blockSize} bytes`, {
        bucket,
        key,
        uploadId,
      });
    }
    const coder = this.set.coder(k, m);
    const wq = writeQuorum(k, m);
    // The upload's own checksum is computed for every part, so completion can combine them.
    const algorithms: ChecksumAlgorithm[] = [
      ...new Set([
        ...(opts.checksumAlgorithms ?? []),
        ...(upload.opts.checksumAlgorithm ? [upload.opts.checksumAlgorithm] : []),
      ]),
    ];
    const checks = new Checksums(['md5', ...algorithms.map((a) => a.toLowerCase() as ChecksumKind)]);
    const limit = opts.size >= 0 ? opts.size : MAX_PART_SIZE;
    const batches = new BatchReader(blockSize * BATCH_BLOCKS, 4).read(body, limit);
    const tmp = `${TMP_DIR}/${randomUUID()}`;
    const dropTmp = () => this.set.onAll((d) => d.delete(SYSTEM_VOLUME, tmp, { recursive: true }));

    let size: number;
    let alive: boolean[];
    try {
      const first = await batches.next();
      if (first.done) throw new Error('unreachable: a body always yields a batch');
      const r = await this.set.writeShards(
        coder,
        distribution,
        batches,
        first.value,
        checks,
        tmp,
        opts.size,
        wq,
      );
      size = r.size;
      alive = r.alive;
      if (opts.size >= 0 && size !== opts.size) {
        throw new ObjectError('IncompleteBody', `${size} of ${opts.size} bytes received`, { bucket, key });
      }
    } catch (e) {
      await batches.return(undefined);
      await dropTmp();
      if (e instanceof BodyTooLarge && opts.size < 0) {
        throw new ObjectError('EntityTooLarge', `a part over ${MAX_PART_SIZE} bytes`, {
          bucket,
          key,
          uploadId,
        });
      }
      throw sysError(e, bucket, key, true);
    }
    const digests = await checks.digest();
    const etag = digests.md5.toString('hex');
    const checksums: Record<string, string> = {};
    for (const a of algorithms) checksums[a] = digests[a.toLowerCase() as ChecksumKind].toString('base64');
    try {
      if (opts.expectedMd5 !== undefined && normalizeEtag(opts.expectedMd5) !== etag) {
        throw new ObjectError('BadDigest', 'the Content-MD5 does not match the part', {
          bucket,
          key,
          partNumber,
          expected: normalizeEtag(opts.expectedMd5),
          calculated: digests.md5.toString('base64'),
        });
      }
      // A function gives values that came after the body (aws-chunked trailers); what it throws
      // abandons the part as a mismatch does.
      const expected =
        typeof opts.expectedChecksums === 'function' ? opts.expectedChecksums() : opts.expectedChecksums;
      for (const [a, want] of Object.entries(expected ?? {})) {
        if (want !== undefined && checksums[a] !== want) {
          throw new ObjectError('BadDigest', `the ${a} checksum does not match the part`, {
            bucket,
            key,
            partNumber,
            algorithm: a,
            expected: want,
            calculated: checksums[a],
          });
        }
      }
    } catch (e) {
      await dropTmp();
      throw e;
    }

    const part: PartMeta = { number: partNumber, size, etag, modTime: Date.now() };
    if (algorithms.length > 0) part.checksums = checksums;
    const lock = this.lockOf(dir);
    let release: () => void;
    try {
      release = await this.set.nslock.lockMany(
        [
          { resource: lock, mode: 'read' },
          { resource: `${lock}/part.${partNumber}`, mode: 'write' },
        ],
        'write',
        LOCK_TIMEOUT_MS,
      );
    } catch (e) {
      await dropTmp();
      throw e;
    }
    try {
      // Aborted or completed while the part streamed in: nothing to add it to.
      const now = await this.open(bucket, key, uploadId);
      if (now.upload.initiated !== upload.initiated)
        throw new ObjectError('InvalidUploadId', undefined, { uploadId });
      const meta = `${dir}/part.${partNumber}.meta`;
      const metaBytes = encodePartMeta(part);
      // Meta gone, data moved, meta written: a drive never pairs a part's metadata with other data.
      const res = await this.set.onAll(async (d, i) => {
        if (!alive[i] || !now.has[i]) throw new StorageError('FaultyDrive', 'not written');
        await d.delete(SYSTEM_VOLUME, meta);
        await d.rename(SYSTEM_VOLUME, `${tmp}/part.1`, SYSTEM_VOLUME, `${dir}/data/part.${partNumber}`);
        await d.writeAll(SYSTEM_VOLUME, meta, metaBytes);
      });
      const ok = res.filter((r) => !(r instanceof Error)).length;
      // An older copy of the part left on a drive that missed this one would disagree: drop it.
      await this.set.onAll(async (d, i) => {
        if (now.has[i] && (res[i] instanceof Error || ok < wq)) await d.delete(SYSTEM_VOLUME, meta);
      });
      if (ok < wq) {
        throw new ObjectError('InsufficientWriteQuorum', `${ok} of ${res.length} drives took the part`, {
          bucket,
          key,
          partNumber,
        });
      }
    } finally {
      release();
      await dropTmp();
    }
    return partInfo(part);
  }

  // --- ListParts ---------------------------------------------------------------------------------------

  /**
   * Parts after `after`, by number, at most `maxParts` (1000). `nextAfter` is the last number returned
   * (S3's NextPartNumberMarker), for the next page's `after`.
   */
  async listObjectParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts: { after?: number; maxParts?: number } = {},
  ): Promise<{ parts: PartInfo[]; isTruncated: boolean; nextAfter?: number; upload: MultipartUploadInfo }> {
    const { upload, dir, has } = await this.open(bucket, key, uploadId);
    const k = upload.erasure.dataBlocks;
    const after = opts.after ?? 0;
    const max = Math.max(0, Math.min(opts.maxParts ?? MAX_LIST, MAX_LIST));
    const names = await this.set.onAll((d, i) =>
      has[i] ? d.listDir(SYSTEM_VOLUME, dir) : Promise.resolve([] as string[]),
    );
    const known = new Set<number>();
    for (const r of names) {
      if (r instanceof Error) continue;
      for (const name of r) {
        const n = Number(PART_META_RE.exec(name)?.[1]);
        if (n > after) known.add(n);
      }
    }
    const candidates = [...known].sort((a, b) => a - b);
    // One more than a page, to tell whether another page follows.
    const found: PartMeta[] = [];
    for (let at = 0; at < candidates.length && found.length <= max; ) {
      const chunk = candidates.slice(at, at + max + 1 - found.length);
      at += chunk.length;
      const metas = await this.readPartMetas(dir, chunk, has);
      for (const res of metas) {
        const p = this.pickPart(res, k);
        if (p) found.push(p.value);
      }
    }
    const parts = found.slice(0, max).map(partInfo);
    const last = parts[parts.length - 1];
    return {
      parts,
      isTruncated: found.length > max,
      ...(last ? { nextAfter: last.number } : {}),
      upload: this.info(upload),
    };
  }

  // --- ListMultipartUploads ------------------------------------------------------------------------------

  /** Every upload of the set (any bucket), each as most drives hold it, with how many drives do. */
  private async scan(): Promise<ScannedUpload[]> {
    const perDrive = await this.set.onAll(async (d) => {
      const found: { dir: string; upload: UploadMeta }[] = [];
      const keys = await listOrEmpty(d, MULTIPART_DIR);
      for (const h of keys) {
        if (!h.endsWith('/')) continue;
        const ids = await listOrEmpty(d, `${MULTIPART_DIR}/${h.slice(0, -1)}`);
        const dirs = ids
          .filter((id) => id.endsWith('/'))
          .map((id) => `${MULTIPART_DIR}/${h}${id.slice(0, -1)}`);
        const metas = await mapLimit(dirs, READ_CONCURRENCY, async (dir) => {
          try {
            return { dir, upload: decodeUploadMeta(await d.readAll(SYSTEM_VOLUME, `${dir}/${UPLOAD_META}`)) };
          } catch {
            return undefined; // half made or half removed: not an upload on this drive
          }
        });
        for (const x of metas) if (x) found.push(x);
      }
      return found;
    });
    const byDir = new Map<string, Map<string, ScannedUpload>>();
    for (const r of perDrive) {
      if (r instanceof Error) continue;
      for (const { dir, upload } of r) {
        const sig = `${upload.bucket}\0${upload.key}\0${upload.initiated}`;
        let g = byDir.get(dir);
        if (!g) {
          g = new Map();
          byDir.set(dir, g);
        }
        const s = g.get(sig);
        if (s) s.count++;
        else g.set(sig, { upload, dir, count: 1 });
      }
    }
    const out: ScannedUpload[] = [];
    for (const g of byDir.values()) {
      let best: ScannedUpload | undefined;
      for (const s of g.values()) if (!best || s.count > best.count) best = s;
      out.push(best!);
    }
    return out;
  }

  /**
   * Uploads of `bucket` in S3 order (key, then initiation time), from `afterKey` (and, for that key,
   * after `afterUploadId`; all of that key's uploads when the id is not found, as MinIO).
   */
  async listMultipartUploads(
    bucket: string,
    opts: { prefix?: string; afterKey?: string; afterUploadId?: string; maxUploads?: number } = {},
  ): Promise<{ uploads: MultipartUploadInfo[]; isTruncated: boolean }> {
    await this.set.statBucket(bucket);
    const prefix = opts.prefix ?? '';
    const max = Math.max(0, Math.min(opts.maxUploads ?? MAX_LIST, MAX_LIST));
    let all = (await this.scan())
      .filter(
        (s) =>
          s.upload.bucket === bucket &&
          s.upload.key.startsWith(prefix) &&
          // on fewer drives than a read quorum: unusable leftovers (a failed create or abort)
          s.count >= s.upload.erasure.dataBlocks,
      )
      .map((s) => s.upload)
      .sort(
        (a, b) =>
          compareKeys(a.key, b.key) ||
          a.initiated - b.initiated ||
          (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0),
      );
    const afterKey = opts.afterKey;
    const afterUploadId = opts.afterUploadId || undefined;
    if (afterKey !== undefined) {
      const i = afterUploadId ? all.findIndex((u) => u.key === afterKey && u.uploadId === afterUploadId) : -1;
      all =
        i >= 0
          ? all.slice(i + 1)
          : all.filter(
              (u) => compareKeys(u.key, afterKey) > 0 || (afterUploadId !== undefined && u.key === afterKey),
            );
    }
    return { uploads: all.slice(0, max).map((u) => this.info(u)), isTruncated: all.length > max };
  }

  // --- AbortMultipartUpload ------------------------------------------------------------------------------

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    this.checkUploadId(bucket, key, uploadId);
    const dir = `${uploadsDirOf(bucket, key)}/${uploadId}`;
    const release = await this.set.nslock.lock(this.lockOf(dir), 'write', LOCK_TIMEOUT_MS);
    try {
      const { upload } = await this.open(bucket, key, uploadId);
      await this.remove(
        dir,
        writeQuorum(upload.erasure.dataBlocks, upload.erasure.parityBlocks),
        bucket,
        key,
      );
    } finally {
      release();
    }
  }

  /** Removes an upload directory from every drive; fails below `wq` removals. */
  private async remove(dir: string, wq: number, bucket: string, key: string): Promise<void> {
    const res = await this.set.onAll((d) => d.delete(SYSTEM_VOLUME, dir, { recursive: true }));
    const ok = res.filter((r) => !(r instanceof Error)).length;
    if (ok < wq) {
      throw new ObjectError(
        'InsufficientWriteQuorum',
        `${ok} of ${res.length} drives removed the upload`,
        {
          bucket,
          key,
        },
        { cause: firstError(res) },
      );
    }
  }

  // --- CompleteMultipartUpload ---------------------------------------------------------------------------

  /**
   * Makes the object from the listed parts (ascending numbers, ETags as `putObjectPart` returned them),
   * moving their data into place without copying it; unlisted parts are deleted, then the upload.
   */
  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts: CompleteOptions = {},
  ): Promise<ObjectInfo> {
    this.checkUploadId(bucket, key, uploadId);
    if (parts.length === 0)
      throw new ObjectError('InvalidArgument', 'no parts to complete', { bucket, key, uploadId });
    for (let j = 0; j < parts.length; j++) {
      const p = parts[j]!;
      if (!Number.isInteger(p.number) || p.number < 1 || p.number > MAX_PART_NUMBER) {
        throw new ObjectError('InvalidPart', `part number ${p.number}`, {
          bucket,
          key,
          uploadId,
          part: p.number,
        });
      }
      // AWS: strictly ascending; a number listed twice is InvalidPartOrder too.
      if (j > 0 && p.number <= parts[j - 1]!.number) {
        throw new ObjectError('InvalidPartOrder', `part ${p.number} after part ${parts[j - 1]!.number}`, {
          bucket,
          key,
          uploadId,
        });
      }
    }
    try {
      return await this.completeOnce(bucket, key, uploadId, parts, opts);
    } catch (e) {
      if (!isObjectError(e, 'InvalidUploadId')) throw e;
      // AWS: completing an upload that is already completed answers as the first completion did.
      const done = await this.completedAs(bucket, key, uploadId, parts);
      if (done) return done;
      throw e;
    }
  }

  /**
   * The object a completed upload made, when `uploadId` was completed (its marker says so), the
   * parts listed now make the same ETag, and that version is still there: a repeated completion
   * answers as the first one did.
   */
  private async completedAs(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
  ): Promise<ObjectInfo | undefined> {
    const etags = parts.map((p) => normalizeEtag(p.etag));
    if (!etags.every((e) => /^[0-9a-f]{32}$/.test(e))) return undefined;
    const path = `${uploadsDirOf(bucket, key)}/${uploadId}${COMPLETED_SUFFIX}`;
    const res = await this.set.onAll(async (d) => decodeCompleted(await d.readAll(SYSTEM_VOLUME, path)));
    const done = res.find((r): r is Completed => !(r instanceof Error));
    if (!done || done.etag !== multipartEtag(etags)) return undefined;
    try {
      const info = await this.set.getObjectInfo(bucket, key, { versionId: done.versionId });
      return info.etag === done.etag ? info : undefined;
    } catch {
      return undefined; // deleted since
    }
  }

  private async completeOnce(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts: CompleteOptions,
  ): Promise<ObjectInfo> {
    let path: string;
    try {
      path = objectPath(key);
    } catch (e) {
      throw toObjectError(e, bucket, key);
    }
    const dir = `${uploadsDirOf(bucket, key)}/${uploadId}`;
    const release = await this.set.nslock.lockMany(
      [`${bucket}/${key}`, this.lockOf(dir)],
      'write',
      LOCK_TIMEOUT_MS,
    );
    try {
      const { upload, has } = await this.open(bucket, key, uploadId);
      // A conditional write, under the key's lock: refused, the upload stays to be completed again.
      if (opts.precondition) await this.set.checkPrecondition(bucket, key, opts.precondition);
      const { dataBlocks: k, parityBlocks: m, blockSize, distribution, bitrot } = upload.erasure;
      const wq = writeQuorum(k, m);
      const numbers = parts.map((p) => p.number);
      const metas = await this.readPartMetas(dir, numbers, has);
      // A drive takes the object only if it holds every listed part as the quorum does.
      const alive = has.slice();
      const chosen: PartMeta[] = [];
      for (let j = 0; j < parts.length; j++) {
        const want = parts[j]!;
        const pick = this.pickPart(metas[j]!, k);
        if (!pick || normalizeEtag(want.etag) !== pick.value.etag) {
          throw new ObjectError('InvalidPart', `part ${want.number}`, {
            bucket,
            key,
            uploadId,
            part: want.number,
          });
        }
        // A checksum listed for the part must be the one it was uploaded with.
        for (const [alg, value] of Object.entries(want.checksums ?? {})) {
          const stored = pick.value.checksums?.[alg];
          if (value !== undefined && stored !== undefined && stored !== value.trim()) {
            throw new ObjectError('InvalidPart', `part ${want.number}: ${alg} differs`, {
              bucket,
              key,
              uploadId,
              part: want.number,
            });
          }
        }
        if (j < parts.length - 1 && pick.value.size < this.minPartSize) {
          throw new ObjectError('PartTooSmall', `part ${want.number}: ${pick.value.size} bytes`, {
            bucket,
            key,
            uploadId,
            part: want.number,
          });
        }
        pick.has.forEach((h, i) => {
          if (!h) alive[i] = false;
        });
        chosen.push(pick.value);
      }
      const ok = alive.filter(Boolean).length;
      if (ok < wq) {
        throw new ObjectError(
          'InsufficientWriteQuorum',
          `${ok} drives hold every part, write quorum is ${wq}`,
          {
            bucket,
            key,
            uploadId,
          },
        );
      }
      // What else is in `data/` goes once the commit has moved it (unlisted parts).
      const listed = new Set(numbers);
      const extra = await this.set.onAll(async (d, i) => {
        if (!alive[i]) return [];
        const names = await d.listDir(SYSTEM_VOLUME, `${dir}/data`);
        return names.filter((n) => !listed.has(Number(PART_FILE_RE.exec(n)?.[1])));
      });

      const versioned = opts.versioned ?? upload.opts.versioned ?? false;
      const o = upload.opts;
      const checksums = await compositeChecksum(o, chosen);
      // The object's checksum the request names (x-amz-checksum-<alg>) must be the one the parts make.
      for (const [alg, want] of Object.entries(opts.expectedChecksums ?? {})) {
        const got = checksums[alg];
        if (
          want !== undefined &&
          (got === undefined || stripPartCount(got) !== stripPartCount(want.trim()))
        ) {
          throw new ObjectError('BadDigest', `the ${alg} checksum does not match the object`, {
            bucket,
            key,
            uploadId,
            algorithm: alg,
            expected: want,
            calculated: got,
          });
        }
      }
      const modTime = Date.now();
      const dataDir = newDataDir();
      const size = chosen.reduce((s, p) => s + p.size, 0);
      const etag = multipartEtag(chosen.map((p) => p.etag));
      // Each part's checksums go with the object (GetObjectAttributes lists them per part).
      const vparts = chosen.map((p) => ({
        number: p.number,
        size: p.size,
        etag: p.etag,
        modTime: p.modTime,
        ...(p.checksums && Object.keys(p.checksums).length > 0 ? { checksums: { ...p.checksums } } : {}),
      }));
      const versionId = versioned ? versionIdNew() : NULL_VERSION_ID;
      // S3 Object Lock: the upload's own retention, else the bucket's default as of now.
      const lockRetention: LockRetention | undefined =
        o.lockRetention ??
        (opts.defaultRetention
          ? { mode: opts.defaultRetention.mode, retainUntil: opts.defaultRetention.retainUntil.getTime() }
          : undefined);
      const versionOf = (i: number): ObjectDataVersion => {
        const v: ObjectDataVersion = {
          type: 'object',
          versionId,
          modTime,
          dataDir,
          size,
          etag,
          userMetadata: { ...o.userMetadata },
          tags: o.tags,
          storageClass: o.storageClass,
          checksums,
          parts: vparts,
          erasure: {
            algorithm: 'reedsolomon-vandermonde',
            dataBlocks: k,
            parityBlocks: m,
            blockSize,
            index: distribution[i]!,
            distribution,
            bitrot,
          },
        };
        for (const h of CONTENT_HEADERS) if (o[h] !== undefined) v[h] = o[h];
        if (lockRetention) v.lockRetention = lockRetention;
        if (o.legalHold !== undefined) v.legalHold = o.legalHold;
        return v;
      };
      const version = await this.set.commitHeld(
        bucket,
        key,
        path,
        alive,
        versionOf,
        !versioned,
        `${dir}/data`,
        wq,
        true,
      );
      await this.set.onAll(async (d, i) => {
        const names = extra[i];
        if (!Array.isArray(names)) return;
        for (const name of names)
          await d.delete(bucket, `${path}/${dataDir}/${name.replace(/\/$/, '')}`, { recursive: true });
      });
      await this.set.onAll((d) => d.delete(SYSTEM_VOLUME, dir, { recursive: true }));
      // What a repeated completion of this upload answers with (best effort: without it, NoSuchUpload).
      const done = encodeCompleted({ etag, versionId, completed: modTime });
      await this.set.onAll((d) => d.writeAll(SYSTEM_VOLUME, `${dir}${COMPLETED_SUFFIX}`, done));
      return toObjectInfo(version, bucket, key, true);
    } finally {
      release();
    }
  }

  // --- clean-up ----------------------------------------------------------------------------------------

  /**
   * Removes the uploads (of any bucket) initiated more than `olderThanMs` before `now`; returns how
   * many. An upload busy with a completion or an abort is left for the next run.
   */
  async cleanupStaleUploads(olderThanMs: number, now = Date.now()): Promise<number> {
    const cutoff = now - olderThanMs;
    let removed = 0;
    for (const s of await this.scan()) {
      if (s.upload.initiated >= cutoff) continue;
      let release: () => void;
      try {
        release = await this.set.nslock.lock(this.lockOf(s.dir), 'write', LOCK_TIMEOUT_MS);
      } catch {
        continue;
      }
      try {
        const res = await this.set.onAll((d) => d.delete(SYSTEM_VOLUME, s.dir, { recursive: true }));
        if (res.some((r) => !(r instanceof Error))) removed++;
      } finally {
        release();
      }
    }
    // Completion markers go after as long as an upload would have stayed.
    await this.set.onAll(async (d) => {
      for (const h of await listOrEmpty(d, MULTIPART_DIR)) {
        if (!h.endsWith('/')) continue;
        const hashDir = `${MULTIPART_DIR}/${h.slice(0, -1)}`;
        for (const name of await listOrEmpty(d, hashDir)) {
          if (!name.endsWith(COMPLETED_SUFFIX)) continue;
          const file = `${hashDir}/${name}`;
          try {
            if (decodeCompleted(await d.readAll(SYSTEM_VOLUME, file)).completed >= cutoff) continue;
          } catch {
            // unreadable: nothing can use it
          }
          await d.delete(SYSTEM_VOLUME, file).catch(() => undefined);
        }
      }
    });
    return removed;
  }
}

/**
 * The object's checksum from its parts' checksums, as the upload's checksum type says. COMPOSITE: the
 * algorithm over the parts' binary checksums in order, base64, `-N` (N parts). FULL_OBJECT (CRCs
 * only): the CRC of the whole object, combined from the parts' CRCs and sizes without reading a byte.
 * None when a part lacks that checksum (every part computes it, so only a record written before part
 * checksums were kept can).
 */
async function compositeChecksum(
  o: UploadOptions,
  parts: readonly PartMeta[],
): Promise<Record<string, string>> {
  const alg = o.checksumAlgorithm;
  if (alg === undefined) return {};
  if (!parts.every((p) => p.checksums?.[alg] !== undefined)) return {};
  if ((o.checksumType ?? 'COMPOSITE') === 'FULL_OBJECT') {
    const combined = fullObjectCrc(
      alg,
      parts.map((p) => ({ crc: Buffer.from(p.checksums![alg]!, 'base64'), size: p.size })),
    );
    return combined === undefined ? {} : { [alg]: combined };
  }
  const kind = alg.toLowerCase() as ChecksumKind;
  const c = new Checksums([kind]);
  for (const p of parts) void c.update(Buffer.from(p.checksums![alg]!, 'base64'));
  const d = await c.digest();
  return { [alg]: `${d[kind].toString('base64')}-${parts.length}` };
}

/** The reflected polynomials and widths of S3's CRCs (each with init and final xor all ones). */
const CRCS: Partial<Record<ChecksumAlgorithm, { poly: bigint; width: bigint }>> = {
  CRC32: { poly: 0xedb88320n, width: 32n },
  CRC32C: { poly: 0x82f63b78n, width: 32n },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64n },
};

/** `a * b mod P` over GF(2), both reflected (the top bit is x^0). */
function gfMulMod(a: bigint, b: bigint, poly: bigint, width: bigint): bigint {
  let p = 0n;
  for (let m = 1n << (width - 1n); m !== 0n; m >>= 1n) {
    if (a & m) p ^= b;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
  return p;
}

/** `x^(8 * bytes) mod P`: what shifting a CRC past `bytes` more bytes multiplies it by. */
function xPowBytes(bytes: number, poly: bigint, width: bigint): bigint {
  let p = 1n << (width - 1n); // x^0
  let sq = 1n << (width - 2n); // x^1, squared per bit of the exponent
  for (let n = BigInt(bytes) * 8n; n > 0n; n >>= 1n) {
    if (n & 1n) p = gfMulMod(sq, p, poly, width);
    sq = gfMulMod(sq, sq, poly, width);
  }
  return p;
}

/**
 * The CRC of the parts' concatenation from each part's CRC (big-endian bytes, as S3 sends it in
 * base64) and size: `crc(A || B) = crc(A) * x^(8|B|) + crc(B)` (zlib's `crc32_combine`), base64.
 * `undefined` for an algorithm that is not a CRC.
 */
export function fullObjectCrc(
  alg: ChecksumAlgorithm,
  parts: readonly { crc: Buffer; size: number }[],
): string | undefined {
  const c = CRCS[alg];
  if (!c) return undefined;
  const bytes = Number(c.width / 8n);
  const shifts = new Map<number, bigint>(); // parts mostly share one size
  let crc = 0n; // the CRC of no bytes
  for (const p of parts) {
    if (p.crc.length !== bytes) return undefined;
    let shift = shifts.get(p.size);
    if (shift === undefined) {
      shift = xPowBytes(p.size, c.poly, c.width);
      shifts.set(p.size, shift);
    }
    crc = gfMulMod(shift, crc, c.poly, c.width) ^ BigInt(`0x${p.crc.toString('hex')}`);
  }
  return Buffer.from(crc.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}

function partInfo(p: PartMeta): PartInfo {
  const info: PartInfo = { number: p.number, size: p.size, etag: p.etag, modTime: new Date(p.modTime) };
  if (p.checksums) info.checksums = { ...p.checksums };
  return info;
}

async function listOrEmpty(d: StorageAPI, dir: string): Promise<string[]> {
  try {
    return await d.listDir(SYSTEM_VOLUME, dir);
  } catch (e) {
    if (isStorageError(e, 'FileNotFound', 'VolumeNotFound')) return [];
    throw e;
  }
}
