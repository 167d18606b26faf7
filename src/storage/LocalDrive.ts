/**
 * A drive that is a directory on a local file system: `<root>/<volume>/<path>`.
 *
 * Crash safety: whole files are written to a new file in `<root>/.cairn.sys/tmp/` (same file
 * system), fsynced, renamed over their target, and the target's directory is fsynced; a crash leaves
 * the old file or the new one, plus at worst a stray temp file that `cleanTmp` removes. Directories
 * this drive creates are fsynced into their parents too. Small whole files (metadata, configs) are
 * read and written, and commits made, by one native task each (`fsio`, native/src/fsio.rs): one
 * thread-pool round trip per drive where `fs/promises` takes one per system call.
 *
 * Errors: every OS error becomes a `StorageError` (`./osErrors`). When an ENOENT/ENOTDIR hits a path
 * that should be there, one stat of the root (then of the volume) tells `DriveNotFound` (unmounted,
 * removed) and `VolumeNotFound` apart from a missing file; healthy calls pay nothing for it, and a
 * native read of a missing file checks its volume in the same task.
 * Nothing ever creates the root or a volume implicitly (except the system volume, which the first
 * temporary write makes), so a vanished mount point is never silently refilled on the parent disk.
 */
import { randomUUID } from 'node:crypto';
import { type Dirent, constants as fsConstants, type Stats } from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type FsioError, fsio, ObjectWalker, openDirectWriter, readFileAt } from '../native';
import { StorageError } from './errors';
import { readFormat } from './format';
import {
  BufferedTarget,
  checkRange,
  DirectTarget,
  FileReadStream,
  LocalFileReader,
  LocalFileWriter,
  shortRead,
  type WriteTarget,
} from './localFiles';
import { errnoOf, type OsOp, toStorageError } from './osErrors';
import { assertSafePath, compareKeys, encodeSegment, META_FILE } from './paths';
import {
  type DiskInfo,
  type FileReader,
  type FileWriter,
  type StorageAPI,
  SYSTEM_VOLUME,
  TMP_DIR,
  type VolInfo,
  type WalkEntry,
  type WalkOptions,
} from './StorageAPI';

/**
 * Entries per batch of a walk, growing: one for a caller that wants one (is there anything here?),
 * then a few thread round trips for a page of 1000, each batch read while the previous one is
 * consumed; at most 256 entries are read ahead of the caller (`bench/listing.bench.ts`).
 */
const WALK_BATCHES = [1, 16, 128, 256];

/** Refuses volume names that are not one plain directory name. */
export function assertVolumeName(volume: string): void {
  if (
    typeof volume !== 'string' ||
    volume === '' ||
    volume === '.' ||
    volume === '..' ||
    volume.includes('/') ||
    volume.includes('\\') ||
    volume.includes('\0')
  ) {
    throw new StorageError('InvalidPath', `volume ${JSON.stringify(volume)}`);
  }
}

/** A path that names a file or directory inside a volume: safe and not the volume itself. */
function assertEntryPath(p: string): void {
  if (typeof p !== 'string' || p === '') throw new StorageError('InvalidPath', 'an empty path');
  assertSafePath(p);
}

function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function isMissing(e: unknown): boolean {
  const code = errnoOf(e);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** fsync a directory, so that entries created, renamed or removed in it survive a crash. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(dir, fsConstants.O_RDONLY);
  } catch (e) {
    // Windows cannot open directories; nothing more can be done there.
    if (errnoOf(e) === 'EISDIR' || errnoOf(e) === 'EPERM') return;
    throw e;
  }
  try {
    await fh.sync();
  } catch (e) {
    // Some file systems refuse fsync on directories (EINVAL); their renames are durable anyway.
    if (errnoOf(e) !== 'EINVAL' && errnoOf(e) !== 'EBADF') throw e;
  } finally {
    await fh.close().catch(() => {});
  }
}

export class LocalDrive implements StorageAPI {
  readonly endpoint: string;
  private readonly root: string;
  private tmpReady = false;
  private readonly directWrites: boolean;

  /**
   * `directWrites` (default true): files made by `createFile` (shards) are written past the page
   * cache where the file system allows it, as MinIO writes them; small whole files never are.
   */
  constructor(rootDir: string, opts: { directWrites?: boolean } = {}) {
    this.root = path.resolve(rootDir);
    this.endpoint = this.root;
    this.directWrites = opts.directWrites ?? true;
  }

  // --- helpers -----------------------------------------------------------------------------------

  private volDir(volume: string): string {
    return path.join(this.root, volume);
  }

  private abs(volume: string, rel: string): string {
    return rel === '' ? this.volDir(volume) : path.join(this.root, volume, rel);
  }

  /** Throws `DriveNotFound` when the root is gone or is not a directory. */
  private async checkRoot(): Promise<void> {
    let ok: boolean;
    try {
      ok = (await fsp.stat(this.root)).isDirectory();
    } catch (e) {
      if (!isMissing(e)) return; // EIO, EACCES...: let the original error speak
      ok = false;
    }
    if (!ok) throw new StorageError('DriveNotFound', this.root);
  }

  /** Throws `VolumeNotFound` when the volume is not a directory of the root. */
  private async checkVolume(volume: string): Promise<void> {
    let ok: boolean;
    try {
      ok = (await fsp.stat(this.volDir(volume))).isDirectory();
    } catch (e) {
      if (!isMissing(e)) throw toStorageError(e, 'volume', this.where(volume));
      ok = false;
    }
    if (ok) return;
    await this.checkRoot();
    throw new StorageError('VolumeNotFound', this.where(volume));
  }

  private where(volume?: string, rel?: string): string {
    if (volume === undefined) return this.root;
    return rel ? `${volume}/${rel} on ${this.root}` : `${volume} on ${this.root}`;
  }

  /**
   * Translates an error of an operation on `volume/rel`. A missing path first rules out a missing
   * drive, then (unless the operation is on volumes themselves) a missing volume.
   */
  private async fail(e: unknown, op: OsOp, volume?: string, rel?: string): Promise<never> {
    if (e instanceof StorageError) throw e;
    if (isMissing(e)) {
      await this.checkRoot();
      if (volume !== undefined && op !== 'volume') await this.checkVolume(volume);
    }
    throw toStorageError(e, op, this.where(volume, rel));
  }

  /**
   * mkdir -p of `rel` inside an existing volume, never creating the volume itself (its absence
   * surfaces as ENOENT). Fsyncs the parent of every directory it creates.
   */
  private async mkdirAll(volume: string, rel: string): Promise<string[]> {
    const created: string[] = [];
    const make = async (r: string): Promise<void> => {
      const dir = this.abs(volume, r);
      try {
        await fsp.mkdir(dir);
        created.push(dir);
        return;
      } catch (e) {
        if (errnoOf(e) === 'EEXIST') return; // a file there shows up as ENOTDIR on the next step
        if (errnoOf(e) !== 'ENOENT' || parentOf(r) === '') throw e;
      }
      await make(parentOf(r));
      try {
        await fsp.mkdir(dir);
        created.push(dir);
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') throw e;
      }
    };
    if (rel !== '') await make(rel);
    for (const dir of created) await fsyncDir(path.dirname(dir));
    return created;
  }

  private tmpDir(): string {
    return path.join(this.root, SYSTEM_VOLUME, TMP_DIR);
  }

  /** Makes `<root>/.cairn.sys/tmp`, one level at a time so a vanished root is not recreated. */
  private async ensureTmp(): Promise<void> {
    if (this.tmpReady) return;
    for (const dir of [path.join(this.root, SYSTEM_VOLUME), this.tmpDir()]) {
      try {
        await fsp.mkdir(dir);
        await fsyncDir(path.dirname(dir));
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') await this.fail(e, 'write', SYSTEM_VOLUME, TMP_DIR);
      }
    }
    this.tmpReady = true;
  }

  /**
   * Renames `src` (absolute) to `volume/rel`, making the parent directories when missing, then
   * fsyncs the target's directory. Raw OS errors propagate; the caller translates.
   */
  private async renameInto(src: string, volume: string, rel: string): Promise<void> {
    const dst = this.abs(volume, rel);
    // A concurrent delete may remove the freshly made parents (it cleans empty ones): retry a little.
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rename(src, dst);
        break;
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT' || attempt === 3) throw e;
        await fsp.lstat(src); // the source itself missing: ENOENT again, no point in making dirs
        await this.mkdirAll(volume, parentOf(rel));
      }
    }
    await fsyncDir(path.dirname(dst));
  }

  /**
   * Atomically replaces `volume/rel` with `data`: a temp file, fsync, rename (making the parents),
   * fsync of the directory, all in one native task (`native/src/fsio.rs`), which remakes the temp
   * directory when it is missing.
   */
  private async atomicWrite(volume: string, rel: string, data: Buffer): Promise<void> {
    try {
      await fsio.writeFileAtomic(this.abs(volume, rel), data, {
        tmpDir: this.tmpDir(),
        baseDir: this.volDir(volume),
      });
    } catch (e) {
      await this.failCommit(e, volume, rel);
    }
  }

  /**
   * Translates an error of a native read: a missing file whose volume the read found there (a new
   * key's usual case) is `FileNotFound` without `fail`'s looks at the disk.
   */
  private async failRead(e: unknown, volume: string, rel: string): Promise<never> {
    if ((e as Partial<FsioError>).volumeExists) throw toStorageError(e, 'read', this.where(volume, rel));
    return this.fail(e, 'read', volume, rel);
  }

  /** Translates an error of a native write (`atomicWrite`, `renameData`) by the step that failed. */
  private failCommit(e: unknown, volume: string, rel: string): Promise<never> {
    if ((e as Partial<FsioError>).stage === 'tmp') return this.fail(e, 'write', SYSTEM_VOLUME, TMP_DIR);
    return this.fail(e, 'write', volume, rel);
  }

  /** Removes empty directories from `rel` upwards, stopping below the volume at the first non-empty one. */
  private async removeEmptyParents(volume: string, rel: string): Promise<void> {
    for (let dir = rel; dir !== ''; dir = parentOf(dir)) {
      if (volume === SYSTEM_VOLUME && dir === TMP_DIR) return;
      try {
        await fsp.rmdir(this.abs(volume, dir));
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') return; // ENOTEMPTY (someone else's entries), EEXIST, EBUSY...
      }
    }
  }

  // --- drive -------------------------------------------------------------------------------------

  async diskInfo(): Promise<DiskInfo> {
    await this.checkRoot();
    let st: Awaited<ReturnType<typeof fsp.statfs>>;
    try {
      st = await fsp.statfs(this.root);
    } catch (e) {
      return await this.fail(e, 'volume');
    }
    let id = '';
    try {
      id = (await readFormat(this)).driveId;
    } catch {
      // Unformatted or unreadable format: the id is '' and the caller decides what to do about it.
    }
    return {
      id,
      endpoint: this.endpoint,
      total: st.blocks * st.bsize,
      free: st.bavail * st.bsize,
      used: (st.blocks - st.bfree) * st.bsize,
      freeInodes: st.ffree,
    };
  }

  /**
   * Removes leftovers of interrupted writes from the temp directory: all of them, or those last
   * modified before `olderThan`. Call before serving (or with a cut-off older than any write).
   */
  async cleanTmp(olderThan?: Date): Promise<number> {
    let names: string[];
    try {
      names = await fsp.readdir(this.tmpDir());
    } catch (e) {
      if (isMissing(e)) {
        await this.checkRoot();
        return 0;
      }
      return await this.fail(e, 'read', SYSTEM_VOLUME, TMP_DIR);
    }
    let removed = 0;
    for (const name of names) {
      const p = path.join(this.tmpDir(), name);
      try {
        if (olderThan && (await fsp.lstat(p)).mtime >= olderThan) continue;
        await fsp.rm(p, { recursive: true, force: true });
        removed++;
      } catch {
        // Gone already, or not removable now: the next clean-up tries again.
      }
    }
    return removed;
  }

  // --- volumes -----------------------------------------------------------------------------------

  async makeVolume(volume: string): Promise<void> {
    assertVolumeName(volume);
    try {
      await fsp.mkdir(this.volDir(volume));
      await fsyncDir(this.root);
    } catch (e) {
      await this.fail(e, 'volume', volume);
    }
  }

  async listVolumes(): Promise<VolInfo[]> {
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(this.root, { withFileTypes: true });
    } catch (e) {
      return await this.fail(e, 'volume');
    }
    const names = entries.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
    const infos = await Promise.all(
      names.map((n) =>
        this.statVolume(n).catch((e: unknown) => {
          if (e instanceof StorageError && e.code === 'VolumeNotFound') return undefined; // deleted meanwhile
          throw e;
        }),
      ),
    );
    return infos
      .filter((v): v is VolInfo => v !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async statVolume(volume: string): Promise<VolInfo> {
    assertVolumeName(volume);
    let st: Stats;
    try {
      st = await fsp.stat(this.volDir(volume));
    } catch (e) {
      return await this.fail(e, 'volume', volume);
    }
    if (!st.isDirectory()) throw new StorageError('VolumeNotFound', this.where(volume));
    return { name: volume, created: st.birthtimeMs > 0 ? st.birthtime : st.ctime };
  }

  async deleteVolume(volume: string, force?: boolean): Promise<void> {
    assertVolumeName(volume);
    const dir = this.volDir(volume);
    if (!force) {
      try {
        await fsp.rmdir(dir);
      } catch (e) {
        await this.fail(e, 'volume', volume);
      }
      await fsyncDir(this.root).catch(() => {});
      return;
    }
    await this.statVolume(volume);
    if (volume === SYSTEM_VOLUME) {
      try {
        await fsp.rm(dir, { recursive: true, force: true });
      } catch (e) {
        await this.fail(e, 'volume', volume);
      }
      this.tmpReady = false;
      return;
    }
    // Out of the namespace in one rename, then removed at leisure: a crash midway leaves temp garbage,
    // not a half-deleted bucket.
    await this.ensureTmp();
    const trash = path.join(this.tmpDir(), `trash-${randomUUID()}`);
    try {
      await fsp.rename(dir, trash);
      await fsyncDir(this.root);
    } catch (e) {
      await this.fail(e, 'volume', volume);
    }
    await fsp.rm(trash, { recursive: true, force: true }).catch(() => {
      // The volume is gone already; what is left in tmp goes with the next cleanTmp.
    });
  }

  // --- small whole files -------------------------------------------------------------------------

  async readAll(volume: string, rel: string): Promise<Buffer> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    try {
      return await fsio.readFile(this.abs(volume, rel), undefined, this.volDir(volume));
    } catch (e) {
      return await this.failRead(e, volume, rel);
    }
  }

  async writeAll(volume: string, rel: string, data: Buffer): Promise<void> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    await this.atomicWrite(volume, rel, data);
  }

  // --- large files -------------------------------------------------------------------------------

  async createFile(volume: string, rel: string, _size?: number): Promise<FileWriter> {
    // `_size` could preallocate (fallocate), which Node does not offer; truncating to it would leave
    // zeros behind a short write, so it is only a hint.
    assertVolumeName(volume);
    assertEntryPath(rel);
    const file = this.abs(volume, rel);
    const parent = parentOf(rel);
    let target: WriteTarget;
    try {
      if (volume === SYSTEM_VOLUME && parentOf(parent) === TMP_DIR) {
        // A file in a directory of its own under tmp (a write's data dir): the directory is made
        // first (a fresh one is the rule) and without `mkdirAll`'s directory fsyncs, which would be
        // wasted: it leaves tmp by a rename, whose directories are fsynced then.
        const dir = this.abs(volume, parent);
        await this.ensureTmp();
        await fsp.mkdir(dir).catch(async (e: unknown) => {
          if (errnoOf(e) === 'EEXIST') return;
          if (errnoOf(e) !== 'ENOENT') throw e;
          // The tmp directory was removed under us (a clean-up): remake it, never the root.
          this.tmpReady = false;
          await this.ensureTmp();
          await fsp.mkdir(dir).catch((e2: unknown) => {
            if (errnoOf(e2) !== 'EEXIST') throw e2;
          });
        });
        target = await this.openTarget(file);
      } else {
        try {
          target = await this.openTarget(file);
        } catch (e) {
          if (errnoOf(e) !== 'ENOENT') throw e;
          await this.mkdirAll(volume, parent);
          target = await this.openTarget(file);
        }
      }
    } catch (e) {
      return await this.fail(e, 'write', volume, rel);
    }
    return new LocalFileWriter(target, file, (e) => toStorageError(e, 'write', this.where(volume, rel)));
  }

  /** A new file to write: direct (past the page cache) unless turned off. */
  private async openTarget(file: string): Promise<WriteTarget> {
    if (this.directWrites) return new DirectTarget(await openDirectWriter(file, true));
    return new BufferedTarget(await fsp.open(file, 'w'));
  }

  async readFile(
    volume: string,
    rel: string,
    offset: number,
    length: number,
    into?: Buffer,
  ): Promise<Buffer> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    checkRange(offset, length);
    if (into && into.length < length) throw new RangeError(`a buffer of ${into.length} bytes for ${length}`);
    const buf = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let done: number;
    try {
      // Open, read, close in one native task: one pool round trip instead of four.
      done = await readFileAt(this.abs(volume, rel), offset, buf);
    } catch (e) {
      return await this.fail(e, 'read', volume, rel);
    }
    if (done < length) throw shortRead(this.where(volume, rel), length, offset, done);
    return buf;
  }

  localPath(volume: string, rel: string): string {
    assertVolumeName(volume);
    assertEntryPath(rel);
    return this.abs(volume, rel);
  }

  async openFile(volume: string, rel: string): Promise<FileReader> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    let fh: FileHandle | undefined;
    try {
      fh = await fsp.open(this.abs(volume, rel), 'r');
      if (!(await fh.stat()).isFile()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
    } catch (e) {
      await fh?.close().catch(() => {});
      return await this.fail(e, 'read', volume, rel);
    }
    return new LocalFileReader(fh, this.where(volume, rel));
  }

  async readFileStream(volume: string, rel: string, offset: number, length?: number): Promise<Readable> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    checkRange(offset, length);
    let fh: FileHandle | undefined;
    try {
      fh = await fsp.open(this.abs(volume, rel), 'r');
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      if (length !== undefined && offset + length > st.size) {
        throw new StorageError(
          'FileCorrupt',
          `${this.where(volume, rel)}: ${length} bytes wanted at ${offset}, the file has ${st.size}`,
        );
      }
    } catch (e) {
      await fh?.close().catch(() => {});
      return await this.fail(e, 'read', volume, rel);
    }
    const where = this.where(volume, rel);
    return new FileReadStream(fh, offset, length, where);
  }

  async statFile(volume: string, rel: string): Promise<{ size: number; modTime: Date }> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    let st: Stats;
    try {
      st = await fsp.stat(this.abs(volume, rel));
    } catch (e) {
      return await this.fail(e, 'read', volume, rel);
    }
    if (!st.isFile()) throw new StorageError('IsNotRegular', this.where(volume, rel));
    return { size: st.size, modTime: st.mtime };
  }

  // --- metadata and commit -----------------------------------------------------------------------

  async readMetadata(volume: string, rel: string, opts: { head?: number } = {}): Promise<Buffer> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    const file = `${rel}/${META_FILE}`;
    if (opts.head !== undefined) checkRange(0, opts.head);
    // Hot metadata straight from the kernel's caches on this thread (no pool hand-off); otherwise
    // one native task per drive (open, fstat, read, close): see `bench/metadata.bench.ts`.
    const abs = this.abs(volume, file);
    const cached = fsio.readFileCached(abs, opts.head);
    if (cached) return cached;
    try {
      return await fsio.readFile(abs, opts.head, this.volDir(volume));
    } catch (e) {
      return await this.failRead(e, volume, file);
    }
  }

  async writeMetadata(volume: string, rel: string, data: Buffer): Promise<void> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    await this.atomicWrite(volume, `${rel}/${META_FILE}`, data);
  }

  async renameData(
    srcVolume: string,
    srcPath: string,
    dataDir: string,
    metadata: Buffer,
    dstVolume: string,
    dstPath: string,
  ): Promise<void> {
    assertVolumeName(srcVolume);
    assertEntryPath(srcPath);
    assertVolumeName(dstVolume);
    assertEntryPath(dstPath);
    assertEntryPath(dataDir);
    if (dataDir.includes('/')) throw new StorageError('InvalidPath', `data dir ${JSON.stringify(dataDir)}`);
    // In one native task, in this order (`native/src/fsio.rs`): 1. the data directory into the
    // object directory (made when missing); on failure nothing is left changed. 2. fsync of both
    // directories, so the move is durable, then 3. the commit: the metadata file replaced
    // atomically. A failure before the commit moves the data back where the caller can retry or
    // clean it (a crash there leaves an orphan data dir, which the scanner removes).
    try {
      await fsio.renameData(metadata, {
        src: this.abs(srcVolume, srcPath),
        dir: this.abs(dstVolume, dstPath),
        dataDir,
        metaFile: META_FILE,
        tmpDir: this.tmpDir(),
        baseDir: this.volDir(dstVolume),
      });
    } catch (e) {
      const stage = (e as Partial<FsioError>).stage;
      if (stage === 'source') return await this.fail(e, 'read', srcVolume, srcPath);
      if (stage === 'move') return await this.fail(e, 'write', dstVolume, `${dstPath}/${dataDir}`);
      if (stage === 'sync') return await this.fail(e, 'write', dstVolume, dstPath);
      return await this.failCommit(e, dstVolume, `${dstPath}/${META_FILE}`);
    }
  }

  async rename(srcVolume: string, srcPath: string, dstVolume: string, dstPath: string): Promise<void> {
    assertVolumeName(srcVolume);
    assertEntryPath(srcPath);
    assertVolumeName(dstVolume);
    assertEntryPath(dstPath);
    const src = this.abs(srcVolume, srcPath);
    try {
      await fsp.lstat(src);
    } catch (e) {
      return await this.fail(e, 'read', srcVolume, srcPath);
    }
    try {
      await this.renameInto(src, dstVolume, dstPath);
      const from = path.dirname(src);
      if (from !== path.dirname(this.abs(dstVolume, dstPath))) await fsyncDir(from);
    } catch (e) {
      await this.fail(e, 'write', dstVolume, dstPath);
    }
  }

  async delete(volume: string, rel: string, opts?: { recursive?: boolean }): Promise<void> {
    assertVolumeName(volume);
    assertEntryPath(rel);
    const target = this.abs(volume, rel);
    // Removing the temp dir (start-up clean-up does) means the next temp write must make it again.
    if (volume === SYSTEM_VOLUME && (rel === TMP_DIR || TMP_DIR.startsWith(`${rel}/`))) this.tmpReady = false;
    try {
      const st = await fsp.lstat(target);
      if (!st.isDirectory()) await fsp.unlink(target);
      else if (opts?.recursive) await fsp.rm(target, { recursive: true, force: true });
      else await fsp.rmdir(target);
    } catch (e) {
      if (!isMissing(e)) return await this.fail(e, 'write', volume, rel);
      // Absent is fine, but not when the volume or the whole drive is.
      await this.checkRoot();
      await this.checkVolume(volume);
      return;
    }
    await this.removeEmptyParents(volume, parentOf(rel));
  }

  // --- listing -----------------------------------------------------------------------------------

  async listDir(volume: string, dir: string): Promise<string[]> {
    assertVolumeName(volume);
    assertSafePath(dir);
    let entries: Dirent[];
    try {
      entries = await fsp.readdir(this.abs(volume, dir), { withFileTypes: true });
    } catch (e) {
      return await this.fail(e, 'read', volume, dir);
    }
    return entries
      .map((d) => (d.isDirectory() ? `${d.name}/` : d.name))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Depth first over object directories, one directory listing per level held at a time, by the
   * native walker (`native/src/walk.rs`): listings, name decoding, sorting and metadata reads run
   * on a worker thread, a batch at a time. Each child directory `d` of a directory with key prefix
   * `P` stands for two things: the object `P+d` (if it holds a metadata file) and the prefix `P+d/`
   * (its children). Sorting those by UTF-8 bytes (`compareKeys`) gives S3 order: every key below
   * `P+d/` extends it, and `P+d/` is never a prefix of a sibling's sort key, so no sibling falls
   * inside its range (`a` < `a-b` < `a/…` < `a0`).
   *
   * Batches grow (`WALK_BATCHES`): a caller wanting the first entry (is the bucket empty? is this
   * prefix live?) reads one metadata file; past the first entry of a batch the next one is read
   * while this one is consumed (thread and JS work overlap), so at most one batch is read beyond
   * what the caller takes. An entry's `metadata` is a view into its batch's buffer.
   */
  async *walk(volume: string, opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
    assertVolumeName(volume);
    const prefix = opts.prefix ?? '';
    const delimited = opts.delimited ?? false;

    // Keys starting with `prefix` live under the directory of its complete segments, in children
    // whose name starts with its last, partial segment.
    const segs = prefix.split('/');
    const partial = segs.pop() ?? '';
    let startRel: string | undefined;
    try {
      startRel = segs.map(encodeSegment).join('/');
    } catch {
      startRel = undefined; // a segment too long to be stored: no key can have it
    }
    const startKey = segs.length > 0 ? `${segs.join('/')}/` : '';
    let after = opts.after;
    let nothing = startRel === undefined;
    if (after !== undefined && !after.startsWith(startKey)) {
      if (compareKeys(startKey, after) < 0) nothing = true; // everything here sorts before `after`
      after = undefined;
    }
    if (nothing || startRel === undefined) {
      await this.checkVolume(volume);
      return;
    }

    const volDir = this.volDir(volume);
    const walker = new ObjectWalker({
      volumeDir: volDir,
      startDir: startRel === '' ? volDir : path.join(volDir, startRel),
      keyPrefix: startKey,
      startsWith: partial,
      after,
      delimited,
    });
    let step = 0;
    const ask = () => {
      const p = walker.next(WALK_BATCHES[Math.min(step++, WALK_BATCHES.length - 1)]!);
      p.catch(() => {}); // awaited below, unless the caller stops first
      return p;
    };
    let pending: ReturnType<typeof ask> | undefined = ask();
    for (;;) {
      const batch = await pending!;
      pending = undefined;
      for (let i = 0; i < batch.names.length; i++) {
        yield { name: batch.names[i]!, metadata: batch.metadata[i]! };
        // Back for more than the first entry (of a batch after the first): read the next batch
        // while this one is consumed. A caller that wanted one entry made no read ahead.
        if (i === 0 && step > 1 && !batch.done) pending = ask();
      }
      const err = batch.error;
      if (err) {
        if (err.volumeMissing) {
          await this.checkVolume(volume); // DriveNotFound or VolumeNotFound
          throw new StorageError('VolumeNotFound', this.where(volume));
        }
        const rel = err.path.startsWith(`${volDir}${path.sep}`)
          ? err.path.slice(volDir.length + 1)
          : undefined;
        throw toStorageError(err, 'read', rel ? this.where(volume, rel) : err.path);
      }
      if (batch.done) return;
      pending ??= ask();
    }
  }
}
