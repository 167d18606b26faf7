/**
 * `LocalDrive`'s open files: the `FileWriter` of a shard file (over a buffered or a direct target),
 * the `FileReader` held by a GET, and the stream of `readFileStream`.
 */
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import { Readable } from 'node:stream';
import { type DirectWriter, startWriteback } from '../native';
import { StorageError } from './errors';
import { toStorageError } from './osErrors';
import type { FileReader, FileWriter } from './StorageAPI';

/** Offsets and lengths of reads: whole, non-negative, safe integers. */
export function checkRange(offset: number, length: number | undefined): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset ${offset}`);
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new RangeError(`length ${length}`);
  }
}

/** Bytes per read of `readFileStream`. */
const STREAM_CHUNK = 256 * 1024;
/**
 * A file being written has its writeback started every this many bytes, so that the fsync at its
 * close finds little left to write (the device works while the body streams).
 */
const WRITEBACK_BYTES = 4 * 1024 * 1024;
async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten === 0) throw new StorageError('FaultyDrive', 'a write made no progress');
    done += bytesWritten;
  }
}

/** Where a `LocalFileWriter`'s bytes go: a buffered file, or a direct (`O_DIRECT`) one. */
export interface WriteTarget {
  /** Appends every byte of `chunks` (none empty). */
  write(chunks: readonly Buffer[]): Promise<void>;
  /** Makes what was written durable (fdatasync: the size changed only by writing) and closes. */
  finish(): Promise<void>;
  /** Closes without syncing; never throws. */
  close(): Promise<void>;
}

/**
 * A file through the page cache. Every `WRITEBACK_BYTES` written, the writeback of what was
 * written is started in the background (one at a time), so that the `fdatasync` at close has
 * little left to wait for.
 */
export class BufferedTarget implements WriteTarget {
  private position = 0;
  /** Bytes whose writeback has been started. */
  private started = 0;
  private writeback: Promise<void> | undefined;

  constructor(private readonly fh: FileHandle) {}

  async write(chunks: readonly Buffer[]): Promise<void> {
    try {
      if (chunks.length === 1) {
        await writeFully(this.fh, chunks[0]!, this.position);
        this.position += chunks[0]!.length;
        return;
      }
      const bufs = [...chunks];
      while (bufs.length > 0) {
        const { bytesWritten } = await this.fh.writev(bufs, this.position);
        if (bytesWritten === 0) throw new StorageError('FaultyDrive', 'a write made no progress');
        this.position += bytesWritten;
        // A short write (rare: a signal, a full disk): continue from where it stopped.
        let skip = bytesWritten;
        while (bufs.length > 0 && skip >= bufs[0]!.length) skip -= bufs.shift()!.length;
        if (skip > 0) bufs[0] = bufs[0]!.subarray(skip);
      }
    } finally {
      this.startWriteback();
    }
  }

  private startWriteback(): void {
    if (this.writeback || this.position - this.started < WRITEBACK_BYTES) return;
    const from = this.started;
    this.started = this.position;
    this.writeback = startWriteback(this.fh.fd, from, this.position - from).finally(() => {
      this.writeback = undefined;
    });
  }

  async finish(): Promise<void> {
    await this.writeback; // it holds the descriptor's number
    try {
      await this.fh.datasync();
    } catch (e) {
      await this.fh.close().catch(() => {});
      throw e;
    }
    await this.fh.close();
  }

  async close(): Promise<void> {
    await this.writeback;
    await this.fh.close().catch(() => {});
  }
}

/** A file written past the page cache (`openDirectWriter`: staged, aligned writes). */
export class DirectTarget implements WriteTarget {
  constructor(private readonly w: DirectWriter) {}
  write(chunks: readonly Buffer[]): Promise<void> {
    return this.w.write(chunks as Buffer[]);
  }
  finish(): Promise<void> {
    return this.w.finish();
  }
  close(): Promise<void> {
    return this.w.close().catch(() => {});
  }
}

/** A `FileWriter` over a `WriteTarget`; writes are queued so that concurrent calls keep their order. */
export class LocalFileWriter implements FileWriter {
  private queue: Promise<void> = Promise.resolve();
  private failure: StorageError | undefined;
  private state: 'open' | 'closed' | 'broken' | 'aborted' = 'open';

  constructor(
    private readonly target: WriteTarget,
    private readonly file: string,
    private readonly translate: (e: unknown) => StorageError,
  ) {}

  write(chunks: Buffer | readonly Buffer[]): Promise<void> {
    const run = this.queue.then(() => this.writeNow(chunks));
    this.queue = run.catch(() => {});
    return run;
  }

  private async writeNow(chunks: Buffer | readonly Buffer[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.state !== 'open')
      throw new StorageError('FaultyDrive', `write after ${this.state}: ${this.file}`);
    const bufs = Buffer.isBuffer(chunks) ? [chunks] : chunks.filter((b) => b.length > 0);
    if (bufs.length === 0 || (bufs.length === 1 && bufs[0]!.length === 0)) return;
    try {
      await this.target.write(bufs);
    } catch (e) {
      this.failure = this.translate(e);
      throw this.failure;
    }
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.state === 'closed') return;
    if (this.state !== 'open') {
      throw this.failure ?? new StorageError('FaultyDrive', `close after ${this.state}: ${this.file}`);
    }
    if (this.failure) {
      // A file missing a write must not pass for complete.
      this.state = 'broken';
      await this.target.close();
      throw this.failure;
    }
    try {
      await this.target.finish();
      this.state = 'closed';
    } catch (e) {
      this.state = 'broken';
      this.failure = this.translate(e);
      throw this.failure;
    }
  }

  /** Removes the file unless it was closed successfully (so a `finally { abort() }` is harmless). */
  async abort(): Promise<void> {
    await this.queue;
    if (this.state === 'closed' || this.state === 'aborted') return;
    if (this.state === 'open') await this.target.close();
    this.state = 'aborted';
    await fsp.unlink(this.file).catch(() => {});
  }
}

/** A read that found the file ending before `length` bytes from `offset`: a shard cut short. */
export function shortRead(where: string, length: number, offset: number, done: number): StorageError {
  return new StorageError(
    'FileCorrupt',
    `${where}: ${length} bytes wanted at ${offset}, the file ends at ${offset + done}`,
  );
}

/** A `FileReader` over an open file: positioned reads, any number at once. */
export class LocalFileReader implements FileReader {
  private closing: Promise<void> | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly where: string,
  ) {}

  async read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    checkRange(offset, length);
    if (into && into.length < length) throw new RangeError(`a buffer of ${into.length} bytes for ${length}`);
    if (this.closing) throw new StorageError('FaultyDrive', `read after close: ${this.where}`);
    const buf = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await this.fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (e) {
      throw toStorageError(e, 'read', this.where);
    }
    if (done < length) throw shortRead(this.where, length, offset, done);
    return buf;
  }

  close(): Promise<void> {
    this.closing ??= this.fh.close().catch(() => {});
    return this.closing;
  }
}

/** Reads `length` bytes (or to the end) from `offset`; a file shorter than promised errors `FileCorrupt`. */
export class FileReadStream extends Readable {
  private remaining: number | undefined;

  constructor(
    private readonly fh: FileHandle,
    private position: number,
    length: number | undefined,
    private readonly where: string,
  ) {
    super({ highWaterMark: STREAM_CHUNK });
    this.remaining = length;
  }

  override _read(): void {
    const n = this.remaining === undefined ? STREAM_CHUNK : Math.min(STREAM_CHUNK, this.remaining);
    if (n === 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafe(n);
    this.fh.read(buf, 0, n, this.position).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          if (this.remaining === undefined) this.push(null);
          else
            this.destroy(
              new StorageError('FileCorrupt', `${this.where}: the file ended ${this.remaining} bytes early`),
            );
          return;
        }
        this.position += bytesRead;
        if (this.remaining !== undefined) this.remaining -= bytesRead;
        this.push(bytesRead < n ? buf.subarray(0, bytesRead) : buf);
      },
      (e: unknown) => this.destroy(toStorageError(e, 'read', this.where)),
    );
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.fh.close().then(
      () => cb(err),
      () => cb(err),
    );
  }
}
