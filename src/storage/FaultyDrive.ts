/**
 * A `StorageAPI` wrapper that injects faults, for tests of everything above a drive (quorum,
 * healing, listing merges). With no fault set it behaves exactly like the drive it wraps.
 *
 * - `setOffline(true)`: every call (and every further write, read, read chunk or walk entry of what
 *   is already open) fails with `DriveOffline`; `abort` and `FileReader.close` still never throw.
 * - `failNext(method, error, count = 1)`: the next `count` calls of `method` fail with `error`
 *   (a code or a `StorageError`) without reaching the drive. `'write'` targets `FileWriter.write`,
 *   `'read'` targets `FileReader.read`.
 * - `delay(ms)`: every call waits `ms` first (0 turns it off).
 * - `corruptReads(true)`: data returned by `readFile`, `FileReader.read` and `readFileStream` has
 *   one byte flipped (the first of each read, the first of each stream), as bitrot would.
 * - `failWritesAfter(bytes)`: `FileWriter.write` fails with `DriveFull` once the writers of this
 *   drive have written `bytes` in total from now (`undefined` turns it off). The failing write
 *   writes nothing.
 * - `reset()`: all of the above off.
 */
import { Readable } from 'node:stream';
import { StorageError, type StorageErrorCode } from './errors';
import type {
  DiskInfo,
  FileReader,
  FileWriter,
  StorageAPI,
  VolInfo,
  WalkEntry,
  WalkOptions,
} from './StorageAPI';

/** The methods faults can target; `'write'` is `FileWriter.write`, `'read'` is `FileReader.read`. */
export type FaultMethod = Exclude<keyof StorageAPI, 'endpoint'> | 'write' | 'read';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class FaultyDrive implements StorageAPI {
  private offline = false;
  private delayMs = 0;
  private corrupt = false;
  private writeBudget: number | undefined;
  private readonly failures = new Map<
    FaultMethod,
    { error: StorageError | StorageErrorCode; count: number }[]
  >();

  constructor(readonly inner: StorageAPI) {}

  get endpoint(): string {
    return this.inner.endpoint;
  }

  setOffline(offline: boolean): void {
    this.offline = offline;
  }

  failNext(method: FaultMethod, error: StorageError | StorageErrorCode, count = 1): void {
    if (count <= 0) return;
    const queue = this.failures.get(method) ?? [];
    queue.push({ error, count });
    this.failures.set(method, queue);
  }

  delay(ms: number): void {
    this.delayMs = Math.max(0, ms);
  }

  corruptReads(on: boolean): void {
    this.corrupt = on;
  }

  failWritesAfter(bytes: number | undefined): void {
    this.writeBudget = bytes;
  }

  reset(): void {
    this.offline = false;
    this.delayMs = 0;
    this.corrupt = false;
    this.writeBudget = undefined;
    this.failures.clear();
  }

  private checkOffline(): void {
    if (this.offline) throw new StorageError('DriveOffline', this.endpoint);
  }

  /** The faults every call goes through before reaching the drive. */
  private async enter(method: FaultMethod): Promise<void> {
    if (this.delayMs > 0) await sleep(this.delayMs);
    this.checkOffline();
    const queue = this.failures.get(method);
    const next = queue?.[0];
    if (!queue || !next) return;
    if (--next.count === 0) queue.shift();
    throw typeof next.error === 'string'
      ? new StorageError(next.error, `injected on ${method} of ${this.endpoint}`)
      : next.error;
  }

  async diskInfo(): Promise<DiskInfo> {
    await this.enter('diskInfo');
    return this.inner.diskInfo();
  }

  async makeVolume(volume: string): Promise<void> {
    await this.enter('makeVolume');
    return this.inner.makeVolume(volume);
  }

  async listVolumes(): Promise<VolInfo[]> {
    await this.enter('listVolumes');
    return this.inner.listVolumes();
  }

  async statVolume(volume: string): Promise<VolInfo> {
    await this.enter('statVolume');
    return this.inner.statVolume(volume);
  }

  async deleteVolume(volume: string, force?: boolean): Promise<void> {
    await this.enter('deleteVolume');
    return this.inner.deleteVolume(volume, force);
  }

  async readAll(volume: string, path: string): Promise<Buffer> {
    await this.enter('readAll');
    return this.inner.readAll(volume, path);
  }

  async writeAll(volume: string, path: string, data: Buffer): Promise<void> {
    await this.enter('writeAll');
    return this.inner.writeAll(volume, path, data);
  }

  async createFile(volume: string, path: string, size?: number): Promise<FileWriter> {
    await this.enter('createFile');
    const w = await this.inner.createFile(volume, path, size);
    return {
      write: async (chunks) => {
        await this.enter('write');
        const n = Buffer.isBuffer(chunks) ? chunks.length : chunks.reduce((s, b) => s + b.length, 0);
        if (this.writeBudget !== undefined) {
          if (n > this.writeBudget)
            throw new StorageError('DriveFull', `injected on write of ${this.endpoint}`);
          this.writeBudget -= n;
        }
        return w.write(chunks);
      },
      close: async () => {
        this.checkOffline();
        return w.close();
      },
      abort: () => w.abort(),
    };
  }

  async readFile(
    volume: string,
    path: string,
    offset: number,
    length: number,
    into?: Buffer,
  ): Promise<Buffer> {
    await this.enter('readFile');
    const buf = await this.inner.readFile(volume, path, offset, length, into);
    if (this.corrupt && buf.length > 0) buf[0]! ^= 0xff;
    return buf;
  }

  async openFile(volume: string, path: string): Promise<FileReader> {
    await this.enter('openFile');
    const r = await this.inner.openFile(volume, path);
    return {
      read: async (offset, length, into) => {
        await this.enter('read');
        const buf = await r.read(offset, length, into);
        if (this.corrupt && buf.length > 0) buf[0]! ^= 0xff;
        return buf;
      },
      close: () => r.close(),
    };
  }

  async readFileStream(volume: string, path: string, offset: number, length?: number): Promise<Readable> {
    await this.enter('readFileStream');
    const inner = await this.inner.readFileStream(volume, path, offset, length);
    // Pulled only as the consumer reads (errors surface to it, never as an unheard 'error' event);
    // destroying the result ends the loop, which destroys `inner`.
    const chunks = async function* (this: FaultyDrive): AsyncGenerator<Buffer> {
      let flipped = false;
      for await (const chunk of inner as AsyncIterable<Buffer>) {
        this.checkOffline();
        if (this.corrupt && !flipped && chunk.length > 0) {
          flipped = true;
          const copy = Buffer.from(chunk);
          copy[0]! ^= 0xff;
          yield copy;
        } else {
          yield chunk;
        }
      }
    };
    return Readable.from(chunks.call(this), { objectMode: false });
  }

  async statFile(volume: string, path: string): Promise<{ size: number; modTime: Date }> {
    await this.enter('statFile');
    return this.inner.statFile(volume, path);
  }

  async readMetadata(volume: string, path: string, opts?: { head?: number }): Promise<Buffer> {
    await this.enter('readMetadata');
    return this.inner.readMetadata(volume, path, opts);
  }

  async writeMetadata(volume: string, path: string, data: Buffer): Promise<void> {
    await this.enter('writeMetadata');
    return this.inner.writeMetadata(volume, path, data);
  }

  async renameData(
    srcVolume: string,
    srcPath: string,
    dataDir: string,
    metadata: Buffer,
    dstVolume: string,
    dstPath: string,
  ): Promise<void> {
    await this.enter('renameData');
    return this.inner.renameData(srcVolume, srcPath, dataDir, metadata, dstVolume, dstPath);
  }

  async rename(srcVolume: string, srcPath: string, dstVolume: string, dstPath: string): Promise<void> {
    await this.enter('rename');
    return this.inner.rename(srcVolume, srcPath, dstVolume, dstPath);
  }

  async delete(volume: string, path: string, opts?: { recursive?: boolean }): Promise<void> {
    await this.enter('delete');
    return this.inner.delete(volume, path, opts);
  }

  async listDir(volume: string, dir: string): Promise<string[]> {
    await this.enter('listDir');
    return this.inner.listDir(volume, dir);
  }

  async *walk(volume: string, opts?: WalkOptions): AsyncGenerator<WalkEntry> {
    await this.enter('walk');
    for await (const entry of this.inner.walk(volume, opts)) {
      this.checkOffline();
      yield entry;
    }
  }
}
