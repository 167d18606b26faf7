/**
 * The only importer of the native addon: finds the binary, and gives the rest of Cairn typed
 * wrappers over it. Work on 64 KiB or more runs on a worker thread; smaller work runs inline,
 * where a thread round trip (~15-30 us) would cost more than the work.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as Binding from '../native/index';
import { binaryName, packageName, platformTriple } from '../native/platform';

export { platformTriple };

export type HashAlgorithm = Binding.HashAlgorithm;
export type EncodeOptions = Binding.EncodeOptions;
export type FrameLayout = Binding.FrameLayout;
export type FrameOptions = Binding.FrameOptions;

/** Below this many bytes a call runs inline instead of on a worker thread. */
export const INLINE_LIMIT = 64 * 1024;
/** Bytes in a bitrot digest. */
export const DIGEST_LENGTH = 32;

function load(): typeof Binding {
  const triple = platformTriple();
  const candidates = [
    process.env.CAIRN_NATIVE_PATH,
    path.join(__dirname, '..', 'native', binaryName(triple)),
    packageName(triple),
  ].filter((c): c is string => !!c);
  const errors: string[] = [];
  for (const c of candidates) {
    if (path.isAbsolute(c) && !existsSync(c)) {
      errors.push(`${c}: not found`);
      continue;
    }
    try {
      return require(c) as typeof Binding;
    } catch (e) {
      errors.push(`${c}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `Cairn's native addon for ${triple} was not found.\n` +
      `Tried:\n  ${errors.join('\n  ')}\n` +
      'No prebuilt binary fits this platform, so build it from source: install Rust >= 1.89 ' +
      '(https://rustup.rs) and a C compiler, then run `npm run build:native` in the cairn-s3 package ' +
      '(or reinstall it: `npm install` builds it when cargo is on the PATH).',
  );
}

const native = load();

/** The SIMD kernel family in use: `avx512gfni`, `gfni256`, `avx2`, `ssse3`, `neon` or `scalar`. */
export const simdLevel: () => string = native.simdLevel;
/** Every kernel family this CPU can run, weakest first. `CAIRN_SIMD=<level>` caps the choice. */
export const supportedSimdLevels: () => string[] = native.supportedSimdLevels;
/** The erasure set (0-based) of `key` among `sets`: SipHash-2-4 keyed by the 16-byte deployment id. */
export const sipHashMod: (key: string, deploymentId: Uint8Array, sets: number) => number = native.sipHashMod;
/** MinIO's HighwayHash-256 bitrot key, the default key of `highwayhash256`. */
export const minioBitrotKey: () => Buffer = native.minioBitrotKey;

/**
 * Reed-Solomon over GF(2^8) for `dataShards + parityShards` (at most 256), byte-compatible with
 * klauspost/reedsolomon and so with MinIO's shard files.
 */
export class ErasureCoder {
  readonly dataShards: number;
  readonly parityShards: number;
  readonly totalShards: number;
  private readonly coder: Binding.ErasureCoder;

  constructor(dataShards: number, parityShards: number) {
    if (
      !Number.isInteger(dataShards) ||
      !Number.isInteger(parityShards) ||
      dataShards < 1 ||
      parityShards < 0
    ) {
      throw new RangeError(`invalid erasure shape ${dataShards}+${parityShards}`);
    }
    this.coder = new native.ErasureCoder(dataShards, parityShards);
    this.dataShards = dataShards;
    this.parityShards = parityShards;
    this.totalShards = dataShards + parityShards;
  }

  /** Bytes per shard for a block of `length` bytes: `ceil(length / dataShards)`. */
  shardSize(length: number): number {
    return Math.ceil(length / this.dataShards);
  }

  /** Bytes of parity `encode` writes for `length` bytes cut in blocks of `blockSize`. */
  parityLength(length: number, blockSize = length): number {
    return this.coder.parityLength(length, blockSize);
  }

  /**
   * Computes the parity of `data` (one or more blocks of `options.blockSize`) into `parity`, and,
   * with `options.hashes`, a bitrot digest of every shard. Buffers are used in place: leave them
   * alone until the promise settles.
   */
  encode(data: Buffer, parity: Buffer, options?: EncodeOptions): Promise<void> {
    if (data.length < INLINE_LIMIT) return settle(() => this.coder.encodeSync(data, parity, options));
    return this.coder.encode(data, parity, options);
  }

  encodeSync(data: Buffer, parity: Buffer, options?: EncodeOptions): void {
    this.coder.encodeSync(data, parity, options);
  }

  /** One block as `k + m` equal shard Buffers: data in the first `k`, parity written to the rest. */
  encodeShards(shards: Buffer[], options?: EncodeOptions): Promise<void> {
    const bytes = (shards[0]?.length ?? 0) * this.dataShards;
    if (bytes < INLINE_LIMIT) return settle(() => this.coder.encodeShardsSync(shards, options));
    return this.coder.encodeShards(shards, options);
  }

  encodeShardsSync(shards: Buffer[], options?: EncodeOptions): void {
    this.coder.encodeShardsSync(shards, options);
  }

  /**
   * Rebuilds the shards in `missing` (their Buffers are overwritten) from any `dataShards` of the
   * others; `null` marks a shard that is neither present nor wanted. Rejects, writing nothing,
   * when fewer than `dataShards` are present.
   */
  reconstruct(shards: Array<Buffer | null | undefined>, missing: number[]): Promise<void> {
    const len = shards.find((s) => s)?.length ?? 0;
    if (len * this.dataShards < INLINE_LIMIT)
      return settle(() => this.coder.reconstructSync(shards, missing));
    return this.coder.reconstruct(shards, missing);
  }

  reconstructSync(shards: Array<Buffer | null | undefined>, missing: number[]): void {
    this.coder.reconstructSync(shards, missing);
  }

  /**
   * Blocks of data (whole blocks from `layout.firstBlock`, only the part's last may be short) to
   * the frames of every shard file: `frames[i]` gets `[32-byte digest][shard block]` per block.
   */
  encodeFrames(data: Buffer, frames: Buffer[], layout: FrameLayout, options?: FrameOptions): Promise<void> {
    if (data.length < INLINE_LIMIT)
      return settle(() => this.coder.encodeFramesSync(data, frames, layout, options));
    return this.coder.encodeFrames(data, frames, layout, options);
  }

  /**
   * Frames read from the shard files (`null` where not read) back to data bytes in `out`, verifying
   * every frame and rebuilding what is missing or rotten. Resolves to the rotten shard indices;
   * rejects with "too few shards" when fewer than `dataShards` are good.
   */
  decodeFrames(
    frames: Array<Buffer | null | undefined>,
    out: Buffer,
    layout: FrameLayout,
    options?: FrameOptions,
  ): Promise<number[]> {
    if (out.length < INLINE_LIMIT)
      return settle(() => this.coder.decodeFramesSync(frames, out, layout, options));
    return this.coder.decodeFrames(frames, out, layout, options);
  }

  /**
   * Data shards read straight into `out` from their files (`paths[i]`: shard `i`, `dataShards` of
   * them), every digest checked, in one worker-thread task; with `cachedOnly` from the page cache
   * only. `done`; `notCached`; `failed` (missing, short, rotten: read the usual way).
   */
  readDataShards(
    paths: string[],
    out: Buffer,
    layout: FrameLayout,
    options: FrameOptions | undefined,
    cachedOnly: boolean,
  ): Promise<'done' | 'notCached' | 'failed'> {
    return this.coder.readDataShards(paths, out, layout, options, cachedOnly);
  }

  /** `decodeFrames` on the calling thread (for small inputs: inline data). Throws as it rejects. */
  decodeFramesSync(
    frames: (Buffer | null)[],
    out: Buffer,
    layout: FrameLayout,
    options?: FrameOptions,
  ): number[] {
    return this.coder.decodeFramesSync(frames, out, layout, options);
  }
}

export type ChecksumKind = 'md5' | 'sha1' | 'sha256' | 'crc32' | 'crc32c' | 'crc64nvme';

/**
 * Running checksums of one stream (the ETag's MD5 and S3's `x-amz-checksum-*`), updated off the
 * JS thread. Updates are queued in order: call `update` as chunks arrive and `digest` at the end.
 */
export class Checksums {
  readonly kinds: readonly ChecksumKind[];
  private readonly inner: Binding.Checksums;
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown = null;

  constructor(kinds: readonly ChecksumKind[]) {
    this.kinds = kinds;
    this.inner = new native.Checksums([...kinds]);
  }

  /** Queues `data` (which must stay unchanged until `flush` resolves) after the earlier chunks. */
  update(data: Buffer): Promise<void> {
    this.chain = this.chain.then(() =>
      data.length < INLINE_LIMIT ? this.inner.updateSync(data) : this.inner.update(data),
    );
    this.chain.catch((e) => {
      this.failed ??= e;
    });
    return this.chain;
  }

  /** Resolves when every queued update is done. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failed) throw this.failed;
  }

  /** The digests of everything queued, by kind. */
  async digest(): Promise<Record<ChecksumKind, Buffer>> {
    await this.flush();
    const out = {} as Record<ChecksumKind, Buffer>;
    this.inner.digest().forEach((d, i) => {
      out[this.kinds[i]!] = d;
    });
    return out;
  }
}

/** The 32-byte bitrot digest of `data` (HighwayHash defaults to MinIO's key; BLAKE3 is unkeyed). */
export function hash(algorithm: HashAlgorithm, data: Buffer, key?: Buffer): Promise<Buffer> {
  if (data.length < INLINE_LIMIT) return settle(() => native.hashSync(algorithm, data, key));
  return native.hash(algorithm, data, key);
}

export function hashSync(algorithm: HashAlgorithm, data: Uint8Array, key?: Uint8Array): Buffer {
  return native.hashSync(algorithm, data, key);
}

/** Digest of each `chunkSize` piece of `data` (the last may be shorter) into `out`, 32 bytes each. */
export function hashChunks(
  algorithm: HashAlgorithm,
  data: Buffer,
  chunkSize: number,
  out: Buffer,
  key?: Buffer,
): Promise<void> {
  if (data.length < INLINE_LIMIT)
    return settle(() => native.hashChunksSync(algorithm, data, chunkSize, out, key));
  return native.hashChunks(algorithm, data, chunkSize, out, key);
}

export function hashChunksSync(
  algorithm: HashAlgorithm,
  data: Buffer,
  chunkSize: number,
  out: Buffer,
  key?: Buffer,
): void {
  native.hashChunksSync(algorithm, data, chunkSize, out, key);
}

/** A streaming bitrot hasher: `update` as data arrives, `digest` at any point, `reset` to reuse. */
export interface Hasher {
  update(data: Uint8Array): Hasher;
  digest(): Buffer;
  reset(): void;
}

export function createHasher(algorithm: HashAlgorithm, key?: Uint8Array): Hasher {
  let h: Binding.Blake3Hasher | Binding.HighwayHasher;
  if (algorithm === 'blake3') h = new native.Blake3Hasher(key);
  else if (algorithm === 'highwayhash256') h = new native.HighwayHasher(key);
  else throw new TypeError(`unknown hash algorithm ${String(algorithm)}`);
  const hasher: Hasher = {
    update(data) {
      h.update(data);
      return hasher;
    },
    digest: () => h.digest(),
    reset: () => h.reset(),
  };
  return hasher;
}

export type ObjectWalkOptions = Binding.ObjectWalkOptions;

/** An OS error of a walk, shaped as Node's fs errors are (`code` is the errno name). */
export interface ObjectWalkError extends Error {
  code?: string;
  errno?: number;
  path: string;
  /** The volume's directory itself is missing (the caller tells a missing drive apart). */
  volumeMissing: boolean;
}

/** A batch of a walk: entry `i` is `names[i]`, its metadata file `metadata[i]` (a view into one Buffer). */
export interface ObjectWalkBatch {
  names: string[];
  metadata: Buffer[];
  /** Nothing follows (the walk is over, or failed with `error`). */
  done: boolean;
  /** Why the walk stopped early; the entries before it are in the batch. */
  error?: ObjectWalkError;
}

let errnoNames: Map<number, string> | undefined;

function walkError(f: Binding.ObjectWalkFailure): ObjectWalkError {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [name, n] of Object.entries(os.constants.errno))
      if (!errnoNames.has(n)) errnoNames.set(n, name);
  }
  const code = f.errno === undefined ? undefined : errnoNames.get(f.errno);
  const e = new Error(f.message) as ObjectWalkError;
  if (code !== undefined) e.code = code;
  if (f.errno !== undefined) e.errno = f.errno;
  e.path = f.path;
  e.volumeMissing = f.volumeMissing;
  return e;
}

/**
 * A volume's objects in S3 key order (the walk of `LocalDrive.walk`), read in batches on a worker
 * thread: directory listings, name decoding, sorting and metadata reads all off the JS thread.
 * Await each `next` before the next one.
 */
export class ObjectWalker {
  private readonly inner: Binding.ObjectWalker;

  constructor(options: ObjectWalkOptions) {
    this.inner = new native.ObjectWalker(options);
  }

  /** Up to `maxEntries` entries (fewer once their metadata passes `maxBytes`, default 4 MiB). */
  async next(maxEntries: number, maxBytes?: number): Promise<ObjectWalkBatch> {
    const b = await this.inner.next(maxEntries, maxBytes);
    // One string, one index and one data Buffer cross from the addon; the entries are cut here.
    const names = new Array<string>(b.count);
    const metadata = new Array<Buffer>(b.count);
    let n0 = 0;
    let d0 = 0;
    for (let i = 0; i < b.count; i++) {
      const n1 = b.index.readUInt32LE(8 * i);
      const d1 = b.index.readUInt32LE(8 * i + 4);
      names[i] = b.names.slice(n0, n1);
      metadata[i] = b.data.subarray(d0, d1);
      n0 = n1;
      d0 = d1;
    }
    return { names, metadata, done: b.done, error: b.error && walkError(b.error) };
  }
}

/**
 * An OS error of an `fsio` call, shaped as Node's fs errors are (`code` is the errno name, e.g.
 * `ENOENT`), plus the step that failed: `read`; `tmp` (the temporary file or directory), `commit`
 * (the rename into place); for `renameData` also `source` (nothing to move), `move`, `sync`.
 */
/**
 * Bounds of the cache of large directories' sorted listings (a flat bucket's top directory): at
 * most `maxBytes` in all per process (0 turns it off), for directories of at least `minChildren`
 * child directories (default 256 MiB and 4096). A cached listing is used only while the
 * directory's `stat` is unchanged (`native/src/dirlist.rs`).
 */
export const configureListingCache: (maxBytes: number, minChildren: number) => void =
  native.configureListingCache;
/** The listing cache's default threshold: smaller directories are read in a few ms. */
export const LISTING_CACHE_MIN_CHILDREN = 4096;
/** What the listing cache holds. */
export const listingCacheStats: () => { dirs: number; bytes: number } = native.listingCacheStats;

export interface FsioError extends Error {
  code: string;
  syscall: string;
  path: string;
  stage: 'read' | 'tmp' | 'commit' | 'source' | 'move' | 'sync';
  /** A read found the file missing but `volumeDir` there: the drive and the volume are fine. */
  volumeExists?: boolean;
}

export type WriteFileOptions = Binding.WriteFileOptions;
export type RenameDataOptions = Binding.RenameDataOptions;

/**
 * A drive's small whole files (`native/src/fsio.rs`), each operation one task on a worker thread
 * (one pool round trip where `fs/promises` makes one per system call), failing with an
 * `FsioError`. Paths are absolute and already checked; `LocalDrive` is the caller.
 */
export const fsio = {
  /**
   * A whole file, or at most its first `head` bytes (open, fstat, read, close); a directory is
   * `EISDIR`. A missing file in an existing `volumeDir` fails with `volumeExists: true`.
   */
  readFile: native.readFile as (path: string, head?: number, volumeDir?: string) => Promise<Buffer>,
  /** `readFile` on the calling thread. */
  readFileSync: native.readFileSync as (path: string, head?: number, volumeDir?: string) => Buffer,
  /**
   * `readFile` on the calling thread from the kernel's caches only (Linux 5.12+): never waits for a
   * device; undefined when the file is not all cached, or on any error (then use `readFile`).
   */
  readFileCached: native.readFileCached as (path: string, head?: number) => Buffer | null | undefined,
  /**
   * Replaces `path` with `data` atomically: a temporary file in `tmpDir`, fsync, rename (making the
   * missing parents below `baseDir`), fsync of the directory. Leave `data` alone until it settles.
   */
  writeFileAtomic: native.writeFileAtomic as (
    path: string,
    data: Buffer,
    options: WriteFileOptions,
  ) => Promise<void>,
  /**
   * The commit of a write with a data dir: moves `src` to `dir/dataDir`, fsyncs both directories,
   * then writes `dir/metaFile` as `writeFileAtomic` does; puts the data dir back on failure.
   */
  renameData: native.renameData as (metadata: Buffer, options: RenameDataOptions) => Promise<void>,
};

function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Starts writing `length` bytes at `offset` of the open file `fd` to the device without waiting
 * for it (Linux `sync_file_range`; elsewhere nothing), on a worker thread. Only a hint that makes
 * the file's final fsync shorter: it never rejects (an I/O error shows at that fsync). Keep `fd`
 * open until it settles.
 */
export const startWriteback: (fd: number, offset: number, length: number) => Promise<void> =
  native.startWriteback;

/** A file written front to back past the page cache (`O_DIRECT`); see `openDirectWriter`. */
export type DirectWriter = Binding.DirectWriter;

/**
 * Creates (or truncates) `path` for writing with `O_DIRECT` when `direct` and the file system takes
 * it (else through the page cache, transparently): the writes are staged in aligned buffers on
 * worker threads, `finish()` writes the unaligned end, fdatasyncs and closes, `close()` only closes.
 * Await each call before the next. Failures are Errors shaped as Node's fs errors (`code`).
 */
export const openDirectWriter: (path: string, direct: boolean) => Promise<DirectWriter> =
  native.openDirectWriter;

/**
 * Reads `into.length` bytes at `offset` of the file at `path` into `into`: open, read until full
 * or the end of the file, close, in one task on a worker thread. Resolves to the bytes read (fewer
 * when the file ends first); fails with an Error shaped as Node's fs errors are (`code` is the
 * errno name, `ENOENT`; a directory is `EISDIR`). Leave `into` alone until it settles.
 */
export async function readFileAt(path: string, offset: number, into: Buffer): Promise<number> {
  const r = await native.readFileAt(path, offset, into);
  if (typeof r === 'number') return r;
  throw Object.assign(new Error(`${r}: read ${path}`), { code: r, syscall: 'read', path });
}
