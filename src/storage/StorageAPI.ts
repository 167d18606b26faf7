/**
 * One drive: a directory on a local file system today, a remote node tomorrow. It knows volumes
 * (buckets and the system volume), files and atomic renames; it knows nothing of erasure coding,
 * versions or S3.
 *
 * Paths are `/`-separated, relative to a volume, and already safe: callers build them from object
 * keys with `objectPath()` (`./paths`), which escapes every segment, and append reserved names
 * (`META_FILE`, data dirs) that no escaped key segment can equal. A drive still refuses any path
 * with an empty, `.` or `..` segment, a NUL or a leading `/` (`InvalidPath`), so nothing can reach
 * outside its volume. `walk` decodes paths back to keys.
 *
 * Every method fails with a `StorageError` (see `./errors`), never a raw OS error.
 */
import type { Readable } from 'node:stream';

export { META_FILE } from './paths';

/** Where Cairn keeps its own files on every drive: format, temp writes, multipart, configs. */
export const SYSTEM_VOLUME = '.cairn.sys';
/** Temporary writes live under this path of the system volume until renamed into place. */
export const TMP_DIR = 'tmp';

export interface DiskInfo {
  /** The drive's id from its format record ('' when unformatted). */
  id: string;
  endpoint: string;
  total: number;
  free: number;
  used: number;
  /** Files (inodes) free, where the file system says. */
  freeInodes: number;
}

export interface VolInfo {
  name: string;
  created: Date;
}

/** One entry of a walk: an object directory with its metadata file's bytes. */
export interface WalkEntry {
  /** The object's path relative to the volume, decoded back to the key. */
  name: string;
  /** The raw bytes of its metadata file. */
  metadata: Buffer;
}

export interface WalkOptions {
  /** Only names starting with this (a key prefix, not necessarily ending in `/`). */
  prefix?: string;
  /** Only names strictly after this one (S3's start-after / marker). */
  after?: string;
  /** Stop descending at `/` after the prefix: yield each directory once as `{ name: 'dir/', metadata: empty }`. */
  delimited?: boolean;
}

/** A file being written: chunks in order, then `close` (fsync + close) or `abort` (close + remove). */
export interface FileWriter {
  /** Appends; resolves when the bytes are handed to the OS. The buffers may be reused afterwards. */
  write(chunks: Buffer | readonly Buffer[]): Promise<void>;
  /** fsync, then close. After this resolves the bytes survive a crash (once renamed into place). */
  close(): Promise<void>;
  /** Close and remove the partial file; never throws. */
  abort(): Promise<void>;
}

/**
 * A file held open for reads at any offset: a GET holds one per shard file for its whole stream
 * instead of opening the file for every batch. The file stays readable while held, even if it is
 * removed meanwhile.
 */
export interface FileReader {
  /** Reads `length` bytes at `offset` into `into` (or a new Buffer); a short file is `FileCorrupt`. */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Closes the file; never throws, and a second call does nothing. */
  close(): Promise<void>;
}

export interface StorageAPI {
  /** Where this drive is (a path for local drives); used in messages and admin output. */
  readonly endpoint: string;

  /** Sizes and ids; fails with `DriveNotFound` / `DriveOffline` when the drive is not usable. */
  diskInfo(): Promise<DiskInfo>;

  // --- volumes ---------------------------------------------------------------------------------
  makeVolume(volume: string): Promise<void>; // VolumeExists
  listVolumes(): Promise<VolInfo[]>; // without the system volume
  statVolume(volume: string): Promise<VolInfo>; // VolumeNotFound
  /** `force` removes whatever is inside; otherwise `VolumeNotEmpty` when objects remain. */
  deleteVolume(volume: string, force?: boolean): Promise<void>;

  // --- small whole files (format records, metadata, configs): read whole, written atomically ---
  readAll(volume: string, path: string): Promise<Buffer>; // FileNotFound
  /** Atomic: a temporary file beside it, fsync, rename, fsync of the directory. */
  writeAll(volume: string, path: string, data: Buffer): Promise<void>;

  // --- large files (shard files) -----------------------------------------------------------------
  /** Creates (truncating) a file, making parent directories; `size` is a hint for preallocation. */
  createFile(volume: string, path: string, size?: number): Promise<FileWriter>;
  /** Reads `length` bytes at `offset` into `into` (or a new Buffer); a short file is `FileCorrupt`. */
  readFile(volume: string, path: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /**
   * Where a file is on this machine's file system, for readers that go to it directly (a GET's
   * data shards, read straight into the response by the native core). Absent on drives that are
   * not plain local directories (remote drives; the fault injector, so its faults stay seen).
   */
  localPath?(volume: string, path: string): string;
  /** Opens a file for `FileReader.read`s: `FileNotFound` if absent, `IsNotRegular` if a directory. */
  openFile(volume: string, path: string): Promise<FileReader>;
  /** A stream of `length` bytes from `offset` (to the end when `length` is omitted). */
  readFileStream(volume: string, path: string, offset: number, length?: number): Promise<Readable>;
  /** Size in bytes, `FileNotFound` if absent, `IsNotRegular` if a directory. */
  statFile(volume: string, path: string): Promise<{ size: number; modTime: Date }>;

  // --- object metadata and commit --------------------------------------------------------------
  /**
   * The object's metadata file (`<path>/cairn.meta`); `FileNotFound` when there is none. With `head`,
   * at most that many bytes from its start (all of it when it is shorter): the latest version of a
   * key with many versions is read without the rest (`docs/format.md`).
   */
  readMetadata(volume: string, path: string, opts?: { head?: number }): Promise<Buffer>;
  /** Writes the object's metadata file atomically (as `writeAll`). */
  writeMetadata(volume: string, path: string, data: Buffer): Promise<void>;
  /**
   * The commit of a write: moves the directory `srcPath` of `srcVolume` (a temporary data dir,
   * fsynced) to `<dstPath>/<dataDir>` of `dstVolume`, then writes `metadata` as the object's
   * metadata file atomically, then fsyncs the parent directories. A crash leaves either the old
   * metadata (and an orphan data dir that a scan removes) or the new one with its data in place.
   */
  renameData(
    srcVolume: string,
    srcPath: string,
    dataDir: string,
    metadata: Buffer,
    dstVolume: string,
    dstPath: string,
  ): Promise<void>;
  /** Moves a single file or directory (used by multipart completion and healing). */
  rename(srcVolume: string, srcPath: string, dstVolume: string, dstPath: string): Promise<void>;
  /**
   * Removes a file, or a directory with `recursive`; then removes the emptied parent directories up
   * to (not including) the volume, so space and inodes are really given back. Absent is not an error.
   */
  delete(volume: string, path: string, opts?: { recursive?: boolean }): Promise<void>;

  // --- listing ---------------------------------------------------------------------------------
  /** The names directly under `dir` (directories end in `/`), sorted; `FileNotFound` if absent. */
  listDir(volume: string, dir: string): Promise<string[]>;
  /**
   * Objects (directories holding a metadata file) in S3 key order, streamed: never the whole
   * volume in memory. Keys decode back from their safe path form.
   */
  walk(volume: string, opts?: WalkOptions): AsyncIterable<WalkEntry>;
}
