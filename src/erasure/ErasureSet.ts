/**
 * One erasure set: `n` drives, each object cut into 1 MiB blocks, each block into `k` data and `m`
 * parity shards that go to the drives in the object's own order (`hashOrder`), each shard block
 * preceded by its bitrot digest. Metadata lives beside the data on every drive.
 *
 * Writes stream: a body is read in batches of whole blocks (a few in flight), encoded and hashed off
 * the JS thread while its MD5 runs beside on another worker, and written to temporary files on every
 * drive; after fsync the write commits by rename at write quorum, under the key's write lock, so a
 * reader sees the whole old object or the whole new one. Reads take the version a read quorum agrees
 * on, read the data shards, verify every block and rebuild from parity what is missing or rotten.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { type ChecksumKind, Checksums, ErasureCoder } from '../native';
import { isObjectError, ObjectError } from '../object/errors';
import type { Body } from '../object/ObjectLayer';
import type {
  DeleteObjectOptions,
  GetObjectOptions,
  GetObjectResult,
  ObjectInfo,
  ObjectMetadataUpdate,
  PutObjectOptions,
  Range,
  UpdateMetadataOptions,
  WritePrecondition,
} from '../object/types';
import { isStorageError, StorageError } from '../storage/errors';
import { META_FILE, objectPath } from '../storage/paths';
import { type FileReader, type StorageAPI, SYSTEM_VOLUME, TMP_DIR } from '../storage/StorageAPI';
import { type Batch, BatchReader, BatchStream, BodyTooLarge, giveBuffer, takeBuffer } from './batches';
import { type Coordinator, LocalCoordinator } from './coordinator';
import { PartLayout } from './layout';
import {
  type BitrotAlgorithm,
  decodeMeta,
  decodeMetaVersion,
  encodeMeta,
  INLINE_DATA_LIMIT,
  META_HEAD_READ,
  type MetaEntries,
  type MetaFile,
  metaLatestLength,
  NULL_VERSION_ID,
  newDataDir,
  type ObjectDataVersion,
  type ObjectVersion,
  openMeta,
  type StorageClass,
  toObjectInfo,
  versionIdNew,
} from './metadata';
import { deletionBlocker } from './objectLock';
import {
  hashOrder,
  pickVersionByQuorum,
  type QuorumPick,
  readQuorum,
  reduceReadQuorumErrs,
  reduceWriteQuorumErrs,
  writeQuorum,
} from './quorum';

export const BLOCK_SIZE = 1024 * 1024;
/** Blocks encoded and written per step of a PUT, and read per step of a GET. */
export const BATCH_BLOCKS = 1;
/** `inlineGets` from which a GET reads the metadata without the lock first, and its ceiling. */
const INLINE_GETS_TRY = 8;
const INLINE_GETS_MAX = 16;
/** How long a write waits for the key's lock before giving up. */
const LOCK_TIMEOUT_MS = 30_000;

export interface ErasureSetOptions {
  /** Parity shards for STANDARD objects. */
  parity: number;
  /** Parity shards for REDUCED_REDUNDANCY objects (at most `parity`). */
  rrsParity?: number;
  /** The bitrot hash of new objects: MinIO's `highwayhash256S` (default) or `blake3S`. */
  bitrot?: BitrotAlgorithm;
  blockSize?: number;
  /** Locks and GET streams, shared with the other sets (and, with workers, the other processes). */
  nslock?: Coordinator;
  /** Told about objects found degraded (a drive missing, outdated or rotten) for healing. */
  onDegraded?: (bucket: string, key: string, versionId: string) => void;
}

/** A drive slot: the drive, or why it cannot be used. */
type Slot = StorageAPI | null;

type Settled<T> = T | Error;

/** The shard files of one part a GET reads from, each opened on first use and held to the part's end. */
interface ShardFiles {
  path: string;
  /** The part is read in one batch: each shard in one `readFile` (one pool round trip), not held. */
  once: boolean;
  open: (Promise<FileReader> | undefined)[];
  /** Shards that failed to open or read: not tried again in this part. */
  dead: boolean[];
  /**
   * The direct read of the data shards (`readDataShards`) did not serve a batch of this part (not
   * cached, or damaged): the rest of the part is read the usual way, without a failed try each.
   */
  direct?: false;
}

async function closeShard(f: Promise<FileReader> | undefined): Promise<void> {
  await f?.then(
    (r) => r.close(),
    () => {},
  );
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The object's directory; a key the drives cannot hold (a segment over 255 bytes, a NUL) is the object error. */
function pathOf(bucket: string, key: string): string {
  try {
    return objectPath(key);
  } catch (e) {
    throw toObjectError(e, bucket, key);
  }
}

/** Storage errors a caller never sees: mapped to what the object layer says. */
export function toObjectError(e: unknown, bucket: string, key?: string): Error {
  if (e instanceof ObjectError) return e;
  if (e instanceof BodyTooLarge) return new ObjectError('IncompleteBody', e.message, { bucket, key });
  if (e instanceof StorageError) {
    switch (e.code) {
      case 'VolumeNotFound':
        return new ObjectError('BucketNotFound', undefined, { bucket });
      case 'VolumeExists':
        return new ObjectError('BucketExists', undefined, { bucket });
      case 'VolumeNotEmpty':
        return new ObjectError('BucketNotEmpty', undefined, { bucket });
      case 'FileNotFound':
      case 'IsNotRegular':
        return new ObjectError('ObjectNotFound', undefined, { bucket, key });
      case 'FileVersionNotFound':
        return new ObjectError('VersionNotFound', undefined, { bucket, key });
      case 'FileNameTooLong':
        return new ObjectError('ObjectNameTooLong', e.message, { bucket, key });
      case 'InvalidPath':
        return new ObjectError('ObjectNameInvalid', e.message, { bucket, key });
      case 'DriveFull':
        return new ObjectError('StorageFull', e.message, { bucket, key });
      default:
        return new ObjectError('InsufficientReadQuorum', e.message, { bucket, key }, { cause: e });
    }
  }
  return asError(e);
}

export class ErasureSet {
  readonly drives: Slot[];
  readonly parity: number;
  readonly rrsParity: number;
  readonly blockSize: number;
  readonly bitrot: BitrotAlgorithm;
  /**
   * The key locks, and the data dirs GETs are streaming from. A GET holds the key's read lock only
   * while it picks the version: a client that reads slowly, or never, must not keep writers out of
   * the key. What an overwrite or delete replaced stays on the drives until the last stream of it
   * ends, in any process (a crash in between leaves an orphan data dir, which heal removes).
   */
  readonly nslock: Coordinator;
  private readonly coders = new Map<string, ErasureCoder>();
  /**
   * Recent GETs that found their data inline (up by one for each, halved by one that found a data
   * dir): whether a GET tries the metadata without the key's lock first (see `getObject`).
   */
  private inlineGets = INLINE_GETS_TRY;
  /** Told about objects found degraded; the owner wires it to a heal queue. */
  onDegraded: ErasureSetOptions['onDegraded'];

  constructor(drives: Slot[], opts: ErasureSetOptions) {
    if (drives.length < 1 || drives.length > 16) throw new RangeError('an erasure set has 1 to 16 drives');
    if (opts.parity < 0 || opts.parity > drives.length / 2) {
      throw new RangeError(`parity ${opts.parity} for ${drives.length} drives: at most half the drives`);
    }
    this.drives = drives;
    this.parity = opts.parity;
    this.rrsParity = Math.min(opts.rrsParity ?? Math.min(opts.parity, 1), opts.parity);
    this.blockSize = opts.blockSize ?? BLOCK_SIZE;
    this.bitrot = opts.bitrot ?? 'highwayhash256S';
    this.nslock = opts.nslock ?? new LocalCoordinator();
    this.onDegraded = opts.onDegraded;
  }

  get driveCount(): number {
    return this.drives.length;
  }

  /** The native hash options for this set's bitrot algorithm. */
  frameOptions(): { algorithm: 'highwayhash256' | 'blake3' } {
    return { algorithm: this.bitrot === 'blake3S' ? 'blake3' : 'highwayhash256' };
  }

  parityFor(storageClass: StorageClass | undefined): number {
    return storageClass === 'REDUCED_REDUNDANCY' ? this.rrsParity : this.parity;
  }

  coder(k: number, m: number): ErasureCoder {
    const id = `${k}+${m}`;
    let c = this.coders.get(id);
    if (!c) {
      c = new ErasureCoder(k, m);
      this.coders.set(id, c);
    }
    return c;
  }

  /** Runs `fn` on every drive at once; an absent drive or a failure becomes that slot's Error. */
  async onAll<T>(fn: (drive: StorageAPI, i: number) => Promise<T>): Promise<Settled<T>[]> {
    return Promise.all(
      this.drives.map(async (d, i) => {
        if (!d) return new StorageError('DriveNotFound', `drive ${i + 1} of the set is missing`);
        try {
          return await fn(d, i);
        } catch (e) {
          return asError(e);
        }
      }),
    );
  }

  // --- buckets -----------------------------------------------------------------------------------

  /** Quorum over the drives for a bucket operation: a majority (half + 1 for even counts). */
  private bucketQuorum(): number {
    return Math.floor(this.drives.length / 2) + 1;
  }

  async makeBucket(bucket: string): Promise<void> {
    const res = await this.onAll((d) => d.makeVolume(bucket));
    const errs = res.map((r) => (r instanceof Error ? r : null));
    const err = reduceWriteQuorumErrs(errs, [], this.bucketQuorum());
    if (err) {
      // Undo where it was made, unless it already existed there.
      if (!isStorageError(err, 'VolumeExists')) {
        await this.onAll((d, i) => (errs[i] ? Promise.resolve() : d.deleteVolume(bucket, false)));
      }
      throw toObjectError(err, bucket);
    }
  }

  async statBucket(bucket: string): Promise<{ name: string; created: Date }> {
    const res = await this.onAll((d) => d.statVolume(bucket));
    const err = reduceReadQuorumErrs(
      res.map((r) => (r instanceof Error ? r : null)),
      [],
      Math.ceil(this.drives.length / 2),
    );
    if (err) throw toObjectError(err, bucket);
    const infos = res.filter((r): r is { name: string; created: Date } => !(r instanceof Error));
    return infos.reduce((a, b) => (a.created <= b.created ? a : b));
  }

  async deleteBucket(bucket: string, force = false): Promise<void> {
    const res = await this.onAll((d) => d.deleteVolume(bucket, force));
    const errs = res.map((r) => (r instanceof Error ? r : null));
    if (errs.filter((e) => isStorageError(e, 'VolumeNotFound')).length >= this.bucketQuorum()) {
      throw new ObjectError('BucketNotFound', undefined, { bucket });
    }
    const err = reduceWriteQuorumErrs(errs, ['VolumeNotFound'], this.bucketQuorum());
    if (err) {
      if (isStorageError(err, 'VolumeNotEmpty')) {
        // Put back what was removed, so the bucket stays whole.
        await this.onAll((d, i) => (errs[i] ? Promise.resolve() : d.makeVolume(bucket)));
      }
      throw toObjectError(err, bucket);
    }
    if (errs.every((e) => isStorageError(e, 'VolumeNotFound')))
      throw new ObjectError('BucketNotFound', undefined, { bucket });
  }

  // --- metadata ----------------------------------------------------------------------------------

  /** Every drive's metadata file for the key (`FileNotFound` where there is none). */
  async readMetas(
    bucket: string,
    key: string,
    versionId?: string,
    whole = false,
  ): Promise<Settled<MetaFile>[]> {
    const path = pathOf(bucket, key);
    return this.onAll(async (d) => {
      if (whole) return decodeMeta(await d.readMetadata(bucket, path));
      if (versionId !== undefined) return decodeMetaVersion(await d.readMetadata(bucket, path), versionId);
      // The latest: the file's head only, however many versions follow it.
      let buf = await d.readMetadata(bucket, path, { head: META_HEAD_READ });
      const need = metaLatestLength(buf);
      if (need > buf.length) buf = await d.readMetadata(bucket, path, { head: need });
      return decodeMetaVersion(buf);
    });
  }

  /** The version a read quorum agrees on (the latest, or `versionId`). */
  async pick(bucket: string, key: string, versionId?: string): Promise<QuorumPick> {
    return this.pickFrom(await this.readMetas(bucket, key, versionId), bucket, key, versionId);
  }

  /** `pick` over metadata already read. */
  private pickFrom(metas: Settled<MetaFile>[], bucket: string, key: string, versionId?: string): QuorumPick {
    // A missing bucket reads as missing files on every drive: tell the two apart.
    if (metas.every((m) => m instanceof Error && isStorageError(m, 'VolumeNotFound'))) {
      throw new ObjectError('BucketNotFound', undefined, { bucket });
    }
    let pick: QuorumPick;
    try {
      pick = pickVersionByQuorum(metas, this.readQuorumFor(metas), versionId);
    } catch (e) {
      if (isObjectError(e, 'ObjectNotFound', 'VersionNotFound')) {
        const missingBucket = metas.filter((m) => isStorageError(m, 'VolumeNotFound')).length;
        if (missingBucket >= this.bucketQuorum())
          throw new ObjectError('BucketNotFound', undefined, { bucket });
      }
      throw e instanceof ObjectError ? Object.assign(e, { detail: { ...e.detail, bucket, key } }) : e;
    }
    if (pick.disagree.length > 0 || pick.errored.length > 0) {
      // Missing on drives that are there but lack it: worth healing.
      const present = pick.errored.filter((i) => !isStorageError(metas[i], 'DriveNotFound', 'DriveOffline'));
      if (pick.disagree.length > 0 || present.length > 0)
        this.onDegraded?.(bucket, key, pick.version.versionId);
    }
    return pick;
  }

  /**
   * `pick` without the key's read lock, when that answers as the locked read would: every drive
   * answered with the same copy of the version, or every drive gave the same error (no such
   * object, version or bucket: thrown as `pick` throws it). A commit or delete changes the drives
   * one by one, so a read that overlaps one sees them differ; then (and when any drive failed)
   * this returns undefined and the caller reads again under the lock. Saves small GETs and HEADs
   * the lock's round trip (over IPC to the node's primary when there are workers).
   */
  private async pickUnlocked(
    bucket: string,
    key: string,
    versionId?: string,
  ): Promise<QuorumPick | undefined> {
    const metas = await this.readMetas(bucket, key, versionId);
    const first = metas[0];
    if (first instanceof Error) {
      const code = isStorageError(first) ? first.code : undefined;
      const same = (m: Settled<MetaFile>) => m instanceof Error && isStorageError(m) && m.code === code;
      if (
        (code === 'FileNotFound' || code === 'FileVersionNotFound' || code === 'VolumeNotFound') &&
        metas.every(same)
      ) {
        return this.pickFrom(metas, bucket, key, versionId); // throws the not-found
      }
      return undefined;
    }
    if (metas.some((m) => m instanceof Error)) return undefined;
    let pick: QuorumPick;
    try {
      pick = pickVersionByQuorum(metas, this.readQuorumFor(metas), versionId);
    } catch {
      return undefined;
    }
    return pick.disagree.length === 0 && pick.agree.length === metas.length ? pick : undefined;
  }

  /** Read quorum from the versions found: their data shard count (k), or a majority before any is read. */
  private readQuorumFor(metas: Settled<MetaFile>[]): number {
    for (const m of metas) {
      if (m instanceof Error) continue;
      const v = m.versions[0];
      if (v?.type === 'object') return readQuorum(v.erasure.dataBlocks, v.erasure.parityBlocks);
    }
    return Math.ceil(this.drives.length / 2);
  }

  async getObjectInfo(bucket: string, key: string, opts: GetObjectOptions = {}): Promise<ObjectInfo> {
    const fast = await this.pickUnlocked(bucket, key, opts.versionId);
    if (fast) return this.infoOf(fast, bucket, key, opts.versionId);
    const release = await this.nslock.lock(`${bucket}/${key}`, 'read', LOCK_TIMEOUT_MS);
    try {
      const pick = await this.pick(bucket, key, opts.versionId);
      return this.infoOf(pick, bucket, key, opts.versionId);
    } finally {
      release();
    }
  }

  private infoOf(pick: QuorumPick, bucket: string, key: string, versionId?: string): ObjectInfo {
    const v = pick.version;
    const info = toObjectInfo(v, bucket, key, versionId === undefined || versionId === v.versionId);
    if (v.type === 'deleteMarker') {
      // S3: a GET of a key whose latest is a marker is 404; of the marker by id, 405.
      const code = versionId === undefined ? 'ObjectNotFound' : 'MethodNotAllowed';
      throw new ObjectError(code, 'delete marker', {
        bucket,
        key,
        deleteMarker: true,
        versionId: v.versionId,
        info,
      });
    }
    return info;
  }

  // --- PUT ---------------------------------------------------------------------------------------

  async putObject(bucket: string, key: string, body: Body, opts: PutObjectOptions): Promise<ObjectInfo> {
    const n = this.drives.length;
    const m = this.parityFor(opts.storageClass);
    const k = n - m;
    const coder = this.coder(k, m);
    const distribution = hashOrder(`${bucket}/${key}`, n);
    const path = pathOf(bucket, key);
    await this.statBucket(bucket);
    const algorithms = opts.checksumAlgorithms ?? [];
    const checks = new Checksums(['md5', ...algorithms.map((a) => a.toLowerCase() as ChecksumKind)]);
    const limit = opts.size >= 0 ? opts.size : Number.POSITIVE_INFINITY;
    const reader = new BatchReader(this.blockSize * BATCH_BLOCKS, 4);
    const batches = reader.read(body, limit);
    const wq = writeQuorum(k, m);

    const base = {
      type: 'object' as const,
      versionId: opts.versioned ? versionIdNew() : NULL_VERSION_ID,
      userMetadata: opts.userMetadata ?? {},
      tags: opts.tags ?? '',
      storageClass: opts.storageClass ?? 'STANDARD',
      contentType: opts.contentType,
      contentEncoding: opts.contentEncoding,
      contentDisposition: opts.contentDisposition,
      contentLanguage: opts.contentLanguage,
      cacheControl: opts.cacheControl,
      expires: opts.expires,
      ...(opts.lockRetention
        ? {
            lockRetention: {
              mode: opts.lockRetention.mode,
              retainUntil: opts.lockRetention.retainUntil.getTime(),
            },
          }
        : {}),
      ...(opts.legalHold !== undefined ? { legalHold: opts.legalHold } : {}),
    };
    const erasureOf = (i: number) => ({
      algorithm: 'reedsolomon-vandermonde' as const,
      dataBlocks: k,
      parityBlocks: m,
      blockSize: this.blockSize,
      index: distribution[i]!,
      distribution,
      bitrot: this.bitrot,
    });

    let size: number;
    let dataDir = '';
    let tmp = '';
    let inline: Buffer[] | null = null;
    let alive: boolean[];
    try {
      const first = await batches.next();
      if (first.done) throw new Error('unreachable: a body always yields a batch');
      if (first.value.last && first.value.data.length <= INLINE_DATA_LIMIT) {
        // Small: every drive keeps its framed shard inside the metadata file.
        const b = first.value;
        size = b.data.length;
        const layout = new PartLayout(size, this.blockSize, k);
        const frames = Array.from({ length: n }, () => Buffer.alloc(layout.shardFileSize));
        await Promise.all([
          checks.update(b.data),
          coder.encodeFrames(
            b.data,
            frames,
            { size, blockSize: this.blockSize, firstBlock: 0 },
            this.frameOptions(),
          ),
        ]);
        b.release();
        inline = frames;
        alive = this.drives.map((d) => d !== null);
      } else {
        dataDir = newDataDir();
        tmp = `${TMP_DIR}/${randomUUID()}`;
        const r = await this.writeShards(
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
      }
      if (opts.size >= 0 && size !== opts.size) {
        throw new ObjectError('IncompleteBody', `${size} of ${opts.size} bytes received`, { bucket, key });
      }
    } catch (e) {
      await batches.return(undefined);
      if (tmp) await this.onAll((d) => d.delete(SYSTEM_VOLUME, tmp, { recursive: true }));
      throw toObjectError(e, bucket, key);
    }

    const digests = await checks.digest();
    const etag = digests.md5.toString('hex');
    const checksums: Record<string, string> = { ...opts.checksums };
    for (const a of algorithms) checksums[a] = digests[a.toLowerCase() as ChecksumKind].toString('base64');
    try {
      if (opts.expectedMd5 !== undefined && opts.expectedMd5.toLowerCase() !== etag) {
        throw new ObjectError('BadDigest', 'the Content-MD5 does not match the body', {
          bucket,
          key,
          expected: opts.expectedMd5.toLowerCase(),
          calculated: digests.md5.toString('base64'),
        });
      }
      const expected =
        typeof opts.expectedChecksums === 'function' ? opts.expectedChecksums() : opts.expectedChecksums;
      for (const [a, want] of Object.entries(expected ?? {})) {
        if (want !== undefined && checksums[a] !== want) {
          throw new ObjectError('BadDigest', `the ${a} checksum does not match the body`, {
            bucket,
            key,
            algorithm: a,
            expected: want,
            calculated: checksums[a],
          });
        }
      }
    } catch (e) {
      if (tmp) await this.onAll((d) => d.delete(SYSTEM_VOLUME, tmp, { recursive: true }));
      throw e;
    }

    const modTime = Date.now();
    const versionOf = (i: number): ObjectDataVersion => ({
      ...base,
      checksums,
      modTime,
      dataDir,
      size,
      etag,
      parts: [{ number: 1, size, etag, modTime }],
      erasure: erasureOf(i),
      ...(inline ? { inline: inline[distribution[i]! - 1]! } : {}),
    });
    const version = await this.commit(
      bucket,
      key,
      path,
      alive,
      versionOf,
      !opts.versioned,
      tmp,
      wq,
      opts.precondition,
    );
    return toObjectInfo(version, bucket, key, true);
  }

  /**
   * Streams the batches into a temporary shard file on every drive. A drive that fails is dropped;
   * fewer than `wq` left fails the write. Returns the bytes written and which drives hold them.
   * Also streams each part of a multipart upload (`./multipart`).
   * @internal
   */
  async writeShards(
    coder: ErasureCoder,
    distribution: number[],
    batches: AsyncGenerator<Batch>,
    first: Batch,
    checks: Checksums,
    tmp: string,
    declaredSize: number,
    wq: number,
  ): Promise<{ size: number; alive: boolean[] }> {
    const n = this.drives.length;
    const k = coder.dataShards;
    const file = `${tmp}/part.1`;
    const hint =
      declaredSize >= 0 ? new PartLayout(declaredSize, this.blockSize, k).shardFileSize : undefined;
    const writers = await this.onAll((d) => d.createFile(SYSTEM_VOLUME, file, hint));
    const alive = writers.map((w) => !(w instanceof Error));
    const fail = (i: number) => {
      if (!alive[i]) return;
      alive[i] = false;
      const w = writers[i];
      if (w && !(w instanceof Error)) void w.abort();
    };
    const checkQuorum = () => {
      const ok = alive.filter(Boolean).length;
      if (ok < wq) {
        const errs = writers.map((w, i) =>
          alive[i] ? null : w instanceof Error ? w : new StorageError('FaultyDrive'),
        );
        throw reduceWriteQuorumErrs(errs, [], wq) ?? new ObjectError('InsufficientWriteQuorum');
      }
    };

    // Frame buffers: two sets, so one batch is written while the next is encoded. They come from
    // the shared pool, a full batch's frames each, and go back once the writes are settled.
    const framePool: Buffer[][] = [];
    const frameSets: Buffer[][] = [];
    const full = new PartLayout(Number.MAX_SAFE_INTEGER, this.blockSize, k);
    const fullFrames = full.framesLength(0, BATCH_BLOCKS);
    let writing: Promise<void> = Promise.resolve();
    let closing: Promise<void> | undefined;
    let size = 0;
    let pending: Promise<void>[] = [];
    try {
      // Inside the try: below quorum from the start, the files that did open are aborted (closed).
      checkQuorum();
      let batch: Batch | undefined = first;
      while (batch) {
        const b: Batch = batch;
        // The body's next batch is read while this one is encoded and written.
        const ahead = b.last ? undefined : batches.next();
        ahead?.catch(() => {}); // awaited below, unless this batch fails first
        const layoutSize = b.last ? b.offset + b.data.length : Number.MAX_SAFE_INTEGER;
        const layout = new PartLayout(layoutSize, this.blockSize, k);
        const firstBlock = b.offset / this.blockSize;
        const blocks = Math.ceil(b.data.length / this.blockSize);
        const flen = layout.framesLength(firstBlock, blocks);
        let frames = framePool.pop();
        if (!frames) {
          frames = Array.from({ length: n }, () => takeBuffer(Math.max(flen, fullFrames)));
          frameSets.push(frames);
        }
        const views = frames.map((f) => f.subarray(0, flen));
        // MD5 runs beside the encoding, on another worker; the batch's buffer is released when both
        // are done, whatever happens (the read ahead may be waiting for a buffer).
        const md5 = checks.update(b.data);
        const encoded = coder.encodeFrames(
          b.data,
          views,
          { size: layoutSize, blockSize: this.blockSize, firstBlock },
          this.frameOptions(),
        );
        const done = Promise.allSettled([md5, encoded]).then(() => {
          b.release();
          return md5;
        });
        done.catch(() => {}); // awaited with the others below; not unhandled meanwhile
        pending.push(done);
        await encoded;
        size += b.data.length;
        await writing;
        checkQuorum();
        const used = frames;
        writing = Promise.all(
          writers.map(async (w, i) => {
            if (!alive[i] || w instanceof Error) return;
            try {
              await w.write(views[distribution[i]! - 1]!);
            } catch {
              fail(i);
            }
          }),
        ).then(() => {
          framePool.push(used);
        });
        if (pending.length > 8) {
          await Promise.all(pending);
          pending = [];
        }
        const next: IteratorResult<Batch> | undefined = ahead && (await ahead);
        batch = next && !next.done ? next.value : undefined;
      }
      await writing;
      // The files' fdatasync runs while the last MD5 updates finish.
      closing = Promise.all(
        writers.map(async (w, i) => {
          if (!alive[i] || w instanceof Error) return;
          try {
            await w.close();
          } catch {
            fail(i);
          }
        }),
      ).then(() => {});
      await Promise.all(pending);
      await closing;
      checkQuorum();
      return { size, alive };
    } catch (e) {
      await writing.catch(() => {});
      await closing;
      await Promise.allSettled(pending);
      await Promise.all(writers.map((w) => (w instanceof Error ? undefined : w.abort())));
      throw e;
    } finally {
      // Every write and encode has settled here (awaited above, on either path).
      for (const set of frameSets) for (const f of set) giveBuffer(f);
    }
  }

  /**
   * Commits a version on every live drive: the drive's metadata file gains the version (replacing
   * the null version when `replaceNull`), and with `tmp` the data dir moves into place in the same
   * step. Below write quorum every drive is put back as it was.
   */
  private async commit(
    bucket: string,
    key: string,
    path: string,
    alive: boolean[],
    versionOf: (i: number) => ObjectVersion,
    replaceNull: boolean,
    tmp: string,
    wq: number,
    precondition?: WritePrecondition,
  ): Promise<ObjectVersion> {
    const release = await this.nslock.lock(`${bucket}/${key}`, 'write', LOCK_TIMEOUT_MS).catch(async (e) => {
      if (tmp) await this.onAll((d) => d.delete(SYSTEM_VOLUME, tmp, { recursive: true }));
      throw e;
    });
    try {
      if (precondition) {
        // A refused conditional write leaves no data behind (inline data never left memory).
        await this.checkPrecondition(bucket, key, precondition).catch(async (e) => {
          if (tmp) await this.onAll((d) => d.delete(SYSTEM_VOLUME, tmp, { recursive: true }));
          throw e;
        });
      }
      return await this.commitHeld(bucket, key, path, alive, versionOf, replaceNull, tmp, wq);
    } finally {
      release();
    }
  }

  /**
   * Runs a conditional write's precondition against the key's latest version (`null` when there is
   * none or it is a delete marker). The caller holds the key's write lock, so what it saw is what
   * the commit replaces. Also used by multipart completion.
   * @internal
   */
  async checkPrecondition(bucket: string, key: string, precondition: WritePrecondition): Promise<void> {
    let current: ObjectInfo | null = null;
    try {
      const pick = await this.pick(bucket, key);
      if (pick.version.type === 'object') current = toObjectInfo(pick.version, bucket, key, true);
    } catch (e) {
      if (!isObjectError(e, 'ObjectNotFound')) throw e;
    }
    precondition(current);
  }

  /**
   * `commit` for a caller already holding the key's write lock (multipart completion). With
   * `keepTmp`, a commit below write quorum moves the data dir back to `tmp` instead of deleting it,
   * so the caller can try again (a failed completion does not lose the upload's parts).
   * @internal
   */
  async commitHeld(
    bucket: string,
    key: string,
    path: string,
    alive: boolean[],
    versionOf: (i: number) => ObjectVersion,
    replaceNull: boolean,
    tmp: string,
    wq: number,
    keepTmp = false,
  ): Promise<ObjectVersion> {
    const old: (Buffer | null)[] = this.drives.map(() => null);
    const replaced: (ObjectVersion | undefined)[] = [];
    const res = await this.onAll(async (d, i) => {
      if (!alive[i]) throw new StorageError('FaultyDrive', 'failed during the write');
      const v = versionOf(i);
      const file = await readForSplice(d, bucket, path, v.versionId, v.modTime, old, i);
      if (replaceNull && v.versionId === NULL_VERSION_ID) refuseLockedNull(file.replaces, bucket, key);
      const next = file.entries
        ? file.entries.add(v, { replaceNull: replaceNull && v.versionId === NULL_VERSION_ID })
        : { meta: encodeMeta({ versions: [v] }), replaced: undefined };
      replaced[i] = next.replaced;
      const meta = next.meta;
      if (tmp) await d.renameData(SYSTEM_VOLUME, tmp, (v as ObjectDataVersion).dataDir, meta, bucket, path);
      else await d.writeMetadata(bucket, path, meta);
    });
    const errs = res.map((r) => (r instanceof Error ? r : null));
    const err = reduceWriteQuorumErrs(errs, [], wq);
    if (err) {
      await this.onAll(async (d, i) => {
        if (errs[i]) return;
        const v = versionOf(i) as ObjectDataVersion;
        if (old[i]) await d.writeMetadata(bucket, path, old[i]!);
        else await d.delete(bucket, `${path}/${'cairn.meta'}`);
        if (v.dataDir && keepTmp && tmp) await d.rename(bucket, `${path}/${v.dataDir}`, SYSTEM_VOLUME, tmp);
        else if (v.dataDir) await d.delete(bucket, `${path}/${v.dataDir}`, { recursive: true });
      });
      // A refused write (a locked null version) leaves no data behind, unless the caller keeps it.
      if (!keepTmp && tmp)
        await this.onAll((d, i) =>
          errs[i] ? d.delete(SYSTEM_VOLUME, tmp, { recursive: true }) : Promise.resolve(),
        );
      throw toObjectError(err, bucket, key);
    }
    // Give back the space of what the new version replaced, and the leftovers of failed drives.
    await this.onAll(async (d, i) => {
      const r = replaced[i];
      if (
        !errs[i] &&
        r?.type === 'object' &&
        r.dataDir &&
        r.dataDir !== (versionOf(i) as ObjectDataVersion).dataDir
      ) {
        await this.removeDataDir(d, bucket, path, r.dataDir);
      }
      if (errs[i] && tmp) await d.delete(SYSTEM_VOLUME, tmp, { recursive: true });
    });
    const v = versionOf(alive.findIndex((a, i) => a && !errs[i]));
    if (errs.some((e) => e !== null)) this.onDegraded?.(bucket, key, v.versionId);
    return v;
  }

  // --- GET ---------------------------------------------------------------------------------------

  async getObject(bucket: string, key: string, opts: GetObjectOptions = {}): Promise<GetObjectResult> {
    // Data held inline in the metadata needs no lock when all drives agree on it: nothing can be
    // removed under the read. Data in a data dir is read under the lock (see `streamFrom`), after
    // a second metadata read: so the unlocked read is tried first only while recent GETs of this
    // set found inline data (`inlineGets`), as they do under a small-object load.
    if (this.inlineGets >= INLINE_GETS_TRY) {
      const fast = await this.pickUnlocked(bucket, key, opts.versionId);
      const inline = fast !== undefined && !(fast.version as ObjectDataVersion).dataDir;
      this.inlineGets = inline ? Math.min(this.inlineGets + 1, INLINE_GETS_MAX) : this.inlineGets >> 1;
      if (inline) return this.getPicked(fast, bucket, key, opts);
    }
    const release = await this.nslock.lock(`${bucket}/${key}`, 'read', LOCK_TIMEOUT_MS);
    try {
      const pick = await this.pick(bucket, key, opts.versionId);
      if ((pick.version as ObjectDataVersion).dataDir) this.inlineGets >>= 1;
      else if (this.inlineGets < INLINE_GETS_MAX) this.inlineGets++;
      return this.getPicked(pick, bucket, key, opts);
    } finally {
      // Not held while the body streams: see `nslock`.
      release();
    }
  }

  /** GetObject's answer for a version picked (under the lock unless inline). */
  private getPicked(pick: QuorumPick, bucket: string, key: string, opts: GetObjectOptions): GetObjectResult {
    const info = this.infoOf(pick, bucket, key, opts.versionId);
    const v = pick.version as ObjectDataVersion;
    const range = opts.range ? clampRange(opts.range, v.size, bucket, key) : null;
    const start = range ? range.start : 0;
    const end = range ? range.end : v.size - 1;
    const data = v.dataDir ? undefined : this.readInline(pick, start, end);
    if (data) {
      // The stream only for callers that want one (the S3 layer sends `data` as it is).
      let stream: Readable | undefined;
      return {
        info,
        range,
        data,
        get stream() {
          stream ??= Readable.from([data]);
          return stream;
        },
      };
    }
    const stream = this.readRange(bucket, key, pick, start, end);
    if (v.dataDir) {
      const done = this.streamFrom(bucket, pathOf(bucket, key), v.dataDir);
      stream.once('close', done);
      stream.once('end', done);
      stream.once('error', done);
    }
    return { info, range, stream };
  }

  /** Marks `dataDir` as being streamed; the function returned (idempotent) ends that. */
  private streamFrom(bucket: string, path: string, dataDir: string): () => void {
    return this.nslock.streamStart(`${bucket}\0${path}\0${dataDir}`);
  }

  /** Whether a GET, in any process, is streaming from `dataDir` (heal leaves such a dir for a later pass). */
  async isStreaming(bucket: string, path: string, dataDir: string): Promise<boolean> {
    return !(await this.nslock.streamState(`${bucket}\0${path}\0${dataDir}`)).idle;
  }

  /**
   * Deletes a data dir a version no longer names, now, or when the last GET streaming from it ends.
   * A deferred deletion that fails (or never runs: a crash) leaves an orphan for heal.
   */
  private async removeDataDir(d: StorageAPI, bucket: string, path: string, dataDir: string): Promise<void> {
    const state = await this.nslock.streamState(`${bucket}\0${path}\0${dataDir}`);
    const del = () => d.delete(bucket, `${path}/${dataDir}`, { recursive: true });
    if (!state.idle) {
      void state.done.then(() => del().catch(() => {}));
      return;
    }
    await del();
  }

  /**
   * The bytes `start..end` (inclusive) of the picked version, part by part, batch by batch, as a
   * stream that reads the next batch while the current one is written (`BatchStream`). Each shard
   * file is opened once per part and held to its end; one read buffer per shard for the whole
   * stream (each batch is decoded before the next is read).
   */
  private readRange(bucket: string, key: string, pick: QuorumPick, start: number, end: number): Readable {
    const v = pick.version as ObjectDataVersion;
    const { dataBlocks: k, parityBlocks: m, blockSize, distribution } = v.erasure;
    const batches = async function* (this: ErasureSet, take: (length: number) => Buffer) {
      if (end < start) return;
      const coder = this.coder(k, m);
      const path = pathOf(bucket, key);
      // Which drive holds shard s (0-based): the agreeing drive whose distribution says so.
      const holder: (number | undefined)[] = new Array(k + m);
      for (const i of pick.agree) holder[distribution[i]! - 1] = i;
      // Read buffers, one per shard for the whole stream, from the shared pool and back to it.
      const scratch: (Buffer | undefined)[] = new Array(k + m);
      let partStart = 0;
      try {
        for (const part of v.parts) {
          const partEnd = partStart + part.size - 1;
          if (partEnd < start || partStart > end) {
            partStart += part.size;
            continue;
          }
          const from = Math.max(start, partStart) - partStart;
          const to = Math.min(end, partEnd) - partStart;
          const layout = new PartLayout(part.size, blockSize, k);
          const b0 = Math.floor(from / blockSize);
          const b1 = Math.floor(to / blockSize);
          const files: ShardFiles = {
            path: `${path}/${v.dataDir}/part.${part.number}`,
            once: b1 - b0 < BATCH_BLOCKS,
            open: new Array(k + m),
            dead: new Array<boolean>(k + m).fill(false),
          };
          try {
            for (let b = b0; b <= b1; b += BATCH_BLOCKS) {
              const nb = Math.min(BATCH_BLOCKS, b1 - b + 1);
              const out = take(layout.dataLength(b, nb));
              await this.readBlocks(bucket, key, pick, holder, coder, layout, files, b, nb, out, scratch);
              const lo = b === b0 ? from - b0 * blockSize : 0;
              const hi = b + nb - 1 === b1 ? to - b * blockSize + 1 : out.length;
              yield out.subarray(lo, hi);
            }
          } finally {
            await Promise.all(files.open.map(closeShard));
          }
          partStart += part.size;
        }
      } finally {
        // No read is in flight here: each batch's reads are settled before it is decoded.
        for (const buf of scratch) if (buf) giveBuffer(buf);
      }
    };
    return new BatchStream((take) => batches.call(this, take), blockSize * BATCH_BLOCKS);
  }

  /**
   * The bytes `start..end` (inclusive) of a version held inline, decoded on this thread from the
   * metadata already read: the data shards only. Undefined when one of them is missing or rotten:
   * the stream path (`readRange`) then rebuilds from parity and reports the damage.
   */
  private readInline(pick: QuorumPick, start: number, end: number): Buffer | undefined {
    const v = pick.version as ObjectDataVersion;
    if (v.parts.length !== 1) return undefined;
    if (end < start) return Buffer.alloc(0);
    const { dataBlocks: k, parityBlocks: m, blockSize, distribution } = v.erasure;
    const layout = new PartLayout(v.size, blockSize, k);
    const length = layout.framesLength(0, layout.blocks);
    const frames: (Buffer | null)[] = new Array(k + m).fill(null);
    let got = 0;
    for (const i of pick.agree) {
      const s = distribution[i]! - 1;
      const own = pick.perDrive[i] as ObjectDataVersion | undefined;
      if (s < k && own?.inline && own.inline.length >= length) {
        frames[s] = own.inline.subarray(0, length);
        got++;
      }
    }
    if (got < k) return undefined;
    const out = Buffer.allocUnsafe(v.size);
    const layoutArg = { size: v.size, blockSize, firstBlock: 0, blockCount: layout.blocks };
    try {
      const rotten = this.coder(k, m).decodeFramesSync(frames, out, layoutArg, {
        algorithm: bitrotOf(v),
      });
      if (rotten.length > 0) return undefined;
    } catch {
      return undefined;
    }
    return start === 0 && end === v.size - 1 ? out : out.subarray(start, end + 1);
  }

  /**
   * Reads and decodes blocks `b .. b + nb - 1` of one part into `out`: data shards first, parity if
   * needed. A shard that fails to open or read is not read again in this part (`files.dead`).
   */
  private async readBlocks(
    bucket: string,
    key: string,
    pick: QuorumPick,
    holder: (number | undefined)[],
    coder: ErasureCoder,
    layout: PartLayout,
    files: ShardFiles,
    b: number,
    nb: number,
    out: Buffer,
    scratch: (Buffer | undefined)[],
  ): Promise<void> {
    const k = coder.dataShards;
    const total = coder.totalShards;
    const inline = (pick.version as ObjectDataVersion).dataDir === '';
    const layoutArg = { size: layout.size, blockSize: layout.blockSize, firstBlock: b, blockCount: nb };
    const frameOpts = { algorithm: bitrotOf(pick.version as ObjectDataVersion) };
    // The data shards straight from the page cache into `out` in one task, when all are on local
    // drives; anything else (not cached, missing, rotten) goes the usual way below.
    if (!inline && files.direct !== false) {
      const paths: string[] = [];
      for (let s = 0; s < k; s++) {
        const i = holder[s];
        const p =
          i === undefined || files.dead[s] ? undefined : this.drives[i]?.localPath?.(bucket, files.path);
        if (p === undefined) break;
        paths.push(p);
      }
      if (paths.length === k) {
        if ((await coder.readDataShards(paths, out, layoutArg, frameOpts, true)) === 'done') return;
      }
      files.direct = false;
    }
    const offset = layout.frameOffset(b);
    const length = layout.framesLength(b, nb);
    const frames: (Buffer | null)[] = new Array(total).fill(null);
    const tried = new Array<boolean>(total).fill(false);
    const read = async (s: number) => {
      tried[s] = true;
      const i = holder[s];
      if (i === undefined || files.dead[s]) return;
      if (inline) {
        const own = pick.perDrive[i] as ObjectDataVersion | undefined;
        frames[s] =
          own?.inline && own.inline.length >= offset + length
            ? own.inline.subarray(offset, offset + length)
            : null;
        return;
      }
      const d = this.drives[i];
      if (!d) return;
      try {
        let into = scratch[s];
        if (!into || into.length < length) {
          // A full batch's frames whatever this part's size: the pool keeps one size per shape.
          const full = new PartLayout(Number.MAX_SAFE_INTEGER, layout.blockSize, k);
          if (into) giveBuffer(into);
          into = takeBuffer(Math.max(length, full.framesLength(0, BATCH_BLOCKS)));
          scratch[s] = into;
        }
        if (files.once) {
          frames[s] = await d.readFile(bucket, files.path, offset, length, into);
        } else {
          files.open[s] ??= d.openFile(bucket, files.path);
          frames[s] = await (await files.open[s]).read(offset, length, into);
        }
      } catch (e) {
        frames[s] = null;
        files.dead[s] = true;
        void closeShard(files.open[s]);
        // An offline drive is not damage to heal; a missing or short file on a live one is.
        if (!isStorageError(e, 'DriveNotFound', 'DriveOffline')) damaged = true;
      }
    };
    let damaged = false;
    // The first k shards that can be read, data shards first: no second round trip for a shard
    // already known missing.
    const first: number[] = [];
    for (let s = 0; s < total; s++) {
      if (holder[s] === undefined || files.dead[s]) tried[s] = true;
      else if (first.length < k) first.push(s);
    }
    await Promise.all(first.map(read));
    let rotten: number[] = [];
    for (;;) {
      const got = frames.filter((f) => f !== null).length;
      const untried = frames.map((_, s) => s).filter((s) => !tried[s]);
      if (got >= k) {
        try {
          rotten = await coder.decodeFrames(frames, out, layoutArg, frameOpts);
          break;
        } catch (e) {
          if (!/too few shards/.test(String(e)) || untried.length === 0) {
            throw new ObjectError(
              'InsufficientReadQuorum',
              'too many shards missing or rotten',
              { bucket, key },
              { cause: e },
            );
          }
          // Some given shards were rotten: read more and decode again.
          await Promise.all(untried.map(read));
          continue;
        }
      }
      if (untried.length === 0) {
        throw new ObjectError('InsufficientReadQuorum', `${got} of ${k} shards readable`, { bucket, key });
      }
      await Promise.all(untried.slice(0, k - got).map(read));
    }
    if (rotten.length > 0 || damaged) this.onDegraded?.(bucket, key, pick.version.versionId);
  }

  // --- DELETE and metadata updates -----------------------------------------------------------------

  async deleteObject(bucket: string, key: string, opts: DeleteObjectOptions = {}): Promise<ObjectInfo> {
    const path = pathOf(bucket, key);
    const release = await this.nslock.lock(`${bucket}/${key}`, 'write', LOCK_TIMEOUT_MS);
    try {
      const pick = await this.pick(bucket, key, opts.versionId).catch((e) => {
        // Deleting what is not there: S3 succeeds (204) for a missing key without a version id.
        if (isObjectError(e, 'ObjectNotFound') && opts.versionId === undefined) return null;
        throw e;
      });
      if ((opts.versioned || opts.suspended) && opts.versionId === undefined) {
        // Enabled: a new marker. Suspended: the null marker, in place of the null version (S3).
        const marker: ObjectVersion = {
          type: 'deleteMarker',
          versionId: opts.versioned ? versionIdNew() : NULL_VERSION_ID,
          modTime: Date.now(),
        };
        const alive = this.drives.map((d) => d !== null);
        const v = await this.commitLocked(bucket, key, path, alive, () => marker, !opts.versioned);
        return toObjectInfo(v, bucket, key, true);
      }
      if (!pick) {
        return toObjectInfo(
          { type: 'deleteMarker', versionId: NULL_VERSION_ID, modTime: Date.now() },
          bucket,
          key,
          false,
        );
      }
      const target = opts.versionId ?? pick.version.versionId;
      // S3 Object Lock, checked under the key's lock: a locked version stays.
      const blocker = deletionBlocker(
        toObjectInfo(pick.version, bucket, key, false),
        { bypassGovernance: opts.bypassGovernance === true },
        Date.now(),
      );
      if (blocker) {
        throw new ObjectError('ObjectLocked', `version ${target} is protected (${blocker})`, {
          bucket,
          key,
          versionId: target,
          reason: blocker,
        });
      }
      const wq = this.writeQuorumOf(pick.version);
      const res = await this.onAll(async (d) => {
        let file: MetaEntries;
        try {
          file = openMeta(await d.readMetadata(bucket, path), { versionId: target });
        } catch (e) {
          if (isStorageError(e, 'FileNotFound')) return;
          throw e;
        }
        const { meta, removed, count } = file.remove(target);
        if (!removed) return;
        // Only this object's own files: the directory may also hold keys below it (`a` and `a/b`).
        if (count === 0) await d.delete(bucket, `${path}/${META_FILE}`);
        else await d.writeMetadata(bucket, path, meta!);
        if (removed.type === 'object' && removed.dataDir) {
          await this.removeDataDir(d, bucket, path, removed.dataDir);
        }
      });
      const err = reduceWriteQuorumErrs(
        res.map((r) => (r instanceof Error ? r : null)),
        [],
        wq,
      );
      if (err) throw toObjectError(err, bucket, key);
      return toObjectInfo(pick.version, bucket, key, false);
    } finally {
      release();
    }
  }

  private writeQuorumOf(v: ObjectVersion): number {
    if (v.type === 'object') return writeQuorum(v.erasure.dataBlocks, v.erasure.parityBlocks);
    return this.bucketQuorum();
  }

  /** `commit` for callers already holding the key's write lock (no data to move). */
  private async commitLocked(
    bucket: string,
    key: string,
    path: string,
    alive: boolean[],
    versionOf: (i: number) => ObjectVersion,
    replaceNull: boolean,
  ): Promise<ObjectVersion> {
    const wq = this.bucketQuorum();
    const old: (Buffer | null)[] = this.drives.map(() => null);
    const replaced: (ObjectVersion | undefined)[] = [];
    const res = await this.onAll(async (d, i) => {
      if (!alive[i]) throw new StorageError('DriveNotFound');
      const v = versionOf(i);
      const file = await readForSplice(d, bucket, path, v.versionId, v.modTime, old, i);
      if (replaceNull) refuseLockedNull(file.replaces, bucket, key);
      const next = file.entries
        ? file.entries.add(v, { replaceNull })
        : { meta: encodeMeta({ versions: [v] }), replaced: undefined };
      replaced[i] = next.replaced;
      await d.writeMetadata(bucket, path, next.meta);
    });
    const errs = res.map((r) => (r instanceof Error ? r : null));
    const err = reduceWriteQuorumErrs(errs, [], wq);
    if (err) {
      // Below quorum: put every drive that took it back as it was.
      await this.onAll(async (d, i) => {
        if (errs[i]) return;
        if (old[i]) await d.writeMetadata(bucket, path, old[i]!);
        else await d.delete(bucket, `${path}/${META_FILE}`);
      });
      throw toObjectError(err, bucket, key);
    }
    // A null delete marker (versioning Suspended) replaces the null version: give back its data.
    await this.onAll(async (d, i) => {
      const r = replaced[i];
      if (!errs[i] && r?.type === 'object' && r.dataDir) await this.removeDataDir(d, bucket, path, r.dataDir);
    });
    return versionOf(0);
  }

  async updateObjectMetadata(
    bucket: string,
    key: string,
    update: ObjectMetadataUpdate,
    opts: UpdateMetadataOptions = {},
  ): Promise<ObjectInfo> {
    const path = pathOf(bucket, key);
    const release = await this.nslock.lock(`${bucket}/${key}`, 'write', LOCK_TIMEOUT_MS);
    try {
      const pick = await this.pick(bucket, key, opts.versionId);
      if (pick.version.type !== 'object') {
        throw new ObjectError(opts.versionId ? 'MethodNotAllowed' : 'ObjectNotFound', 'delete marker', {
          bucket,
          key,
          deleteMarker: true,
          versionId: pick.version.versionId,
        });
      }
      const target = pick.version.versionId;
      opts.precondition?.(toObjectInfo(pick.version, bucket, key, opts.versionId === undefined));
      const apply = (v: ObjectDataVersion): ObjectDataVersion => {
        const { lockRetention, ...rest } = update;
        const next: ObjectDataVersion = { ...v, ...rest };
        if (lockRetention === null) delete next.lockRetention;
        else if (lockRetention !== undefined) {
          next.lockRetention = { mode: lockRetention.mode, retainUntil: lockRetention.retainUntil.getTime() };
        }
        return next;
      };
      const res = await this.onAll(async (d, i) => {
        if (!pick.agree.includes(i)) throw new StorageError('FileVersionNotFound');
        const file = openMeta(await d.readMetadata(bucket, path), {
          versionId: target,
          modTime: pick.version.modTime,
        });
        const at = file.indexOf(target);
        const v = at >= 0 ? file.version(at) : undefined;
        await d.writeMetadata(
          bucket,
          path,
          v?.type === 'object' ? file.add(apply(v), { replaceNull: false }).meta : file.encode(),
        );
      });
      const err = reduceWriteQuorumErrs(
        res.map((r) => (r instanceof Error ? r : null)),
        [],
        this.writeQuorumOf(pick.version),
      );
      if (err) throw toObjectError(err, bucket, key);
      return toObjectInfo(apply(pick.version), bucket, key, opts.versionId === undefined);
    } finally {
      release();
    }
  }
}

/**
 * S3 Object Lock: the null version about to be replaced (a PUT into a bucket whose versioning is off
 * or suspended) must not be locked, as it must not be deleted. No bypass: S3 has none for overwrites.
 */
function refuseLockedNull(cur: ObjectVersion | undefined, bucket: string, key: string): void {
  if (cur?.type !== 'object') return;
  const blocker = deletionBlocker(toObjectInfo(cur, bucket, key, false), {}, Date.now());
  if (blocker) {
    throw new ObjectError('ObjectLocked', `the null version is protected (${blocker})`, {
      bucket,
      key,
      versionId: NULL_VERSION_ID,
      reason: blocker,
    });
  }
}

/**
 * A drive's metadata file opened for a change of version `versionId` (`MetaEntries`: the other
 * versions stay bytes), its bytes kept in `old[i]` to put back. No file, or a corrupt one, gives no
 * entries (the new version is then the file's only one, as a heal would rebuild the rest). `replaces`
 * is the version of that id already there: decoded now, so a bad body counts as a corrupt file.
 */
async function readForSplice(
  d: StorageAPI,
  bucket: string,
  path: string,
  versionId: string,
  modTime: number,
  old: (Buffer | null)[],
  i: number,
): Promise<{ entries?: MetaEntries; replaces?: ObjectVersion }> {
  try {
    old[i] = await d.readMetadata(bucket, path);
    const entries = openMeta(old[i]!, { versionId, modTime });
    const at = entries.indexOf(versionId);
    return { entries, replaces: at >= 0 ? entries.version(at) : undefined };
  } catch (e) {
    if (!isStorageError(e, 'FileNotFound', 'FileCorrupt')) throw e;
    return {};
  }
}

/** The native hash of a version's bitrot algorithm. */
export function bitrotOf(v: ObjectDataVersion): 'highwayhash256' | 'blake3' {
  return v.erasure.bitrot === 'blake3S' ? 'blake3' : 'highwayhash256';
}

function clampRange(r: Range, size: number, bucket: string, key: string): Range {
  if (r.start >= size || r.start < 0 || r.end < r.start) {
    throw new ObjectError('InvalidRange', `bytes ${r.start}-${r.end} of ${size}`, { bucket, key, size });
  }
  return { start: r.start, end: Math.min(r.end, size - 1) };
}
