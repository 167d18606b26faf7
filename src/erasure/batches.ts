/**
 * Batches of whole erasure blocks, with bounded memory. In: `BatchReader` cuts a PUT body into
 * batches (at most `pool` batch buffers exist, a buffer reused only once its consumer says it is
 * done with it). Out: `BatchStream` is a GET body, its batch buffers recycled once written.
 */
import { OutgoingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Readable, type Writable } from 'node:stream';
import type { Body } from '../object/ObjectLayer';

export interface Batch {
  /** The bytes (a view of a pooled buffer: call `release` when no longer needed). */
  data: Buffer;
  /** Offset of the first byte in the body. */
  offset: number;
  /** True for the body's last batch. */
  last: boolean;
  release(): void;
}

export class BatchReader {
  private readonly free: Buffer[] = [];
  private waiting: Array<() => void> = [];
  private allocated = 0;
  /** The body is read: buffers released from now on go back to the shared pool. */
  private done = false;

  constructor(
    private readonly batchSize: number,
    private readonly pool = 3,
  ) {}

  private async take(): Promise<Buffer> {
    for (;;) {
      const b = this.free.pop();
      if (b) return b;
      if (this.allocated < this.pool) {
        this.allocated++;
        return takeBuffer(this.batchSize);
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  private give(b: Buffer): void {
    if (this.done) {
      giveBuffer(b);
      return;
    }
    this.free.push(b);
    this.waiting.shift()?.();
  }

  /** No more buffers will be taken: the free ones, and the ones released later, go to the shared pool. */
  private retire(): void {
    this.done = true;
    for (const b of this.free.splice(0)) giveBuffer(b);
  }

  /**
   * Yields batches of `batchSize` bytes (the last shorter, possibly empty for an empty body),
   * marking the last one. Stops with an error if the body has more than `limit` bytes.
   */
  async *read(body: Body, limit = Number.POSITIVE_INFINITY): AsyncGenerator<Batch> {
    /** The buffer being filled; null once a batch holds it. */
    let buf: Buffer | null = await this.take();
    let fill = 0;
    let offset = 0;
    /** The last batch cut; `held` while it has not been yielded (nobody else has it yet). */
    let pending: Batch | null = null;
    let held = false;
    const emit = (b: Buffer, n: number): Batch => {
      let released = false;
      const batch: Batch = {
        data: b.subarray(0, n),
        offset,
        last: false,
        release: () => {
          if (released) return;
          released = true;
          this.give(b);
        },
      };
      offset += n;
      held = true;
      return batch;
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        let c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (offset + fill + c.length > limit) throw new BodyTooLarge(limit);
        while (c.length > 0) {
          const n = Math.min(c.length, this.batchSize - fill);
          c.copy(buf!, fill, 0, n);
          fill += n;
          c = c.subarray(n);
          if (fill === this.batchSize) {
            // A full batch is emitted once we know whether more follows (the one before it first).
            if (pending) {
              held = false;
              yield pending;
            }
            pending = emit(buf!, fill);
            buf = null;
            buf = await this.take();
            fill = 0;
          }
        }
      }
      if (fill > 0 || !pending) {
        if (pending) {
          held = false;
          yield pending;
        }
        pending = emit(buf!, fill);
      } else {
        this.give(buf!);
      }
      buf = null;
      pending.last = true;
      held = false;
      // Nothing more is taken: buffers released from now on go back to the shared pool.
      this.retire();
      yield pending;
    } finally {
      this.retire();
      if (buf) giveBuffer(buf);
      // Cut but never yielded (the body failed first): nobody else has it.
      if (held) pending?.release();
    }
  }
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is longer than ${limit} bytes`);
  }
}

/** Sinks whose writes are done with a buffer once their callback runs (the kernel has the bytes). */
function isKernelSink(dest: unknown): dest is Writable {
  return dest instanceof OutgoingMessage || dest instanceof Socket;
}

/**
 * Buffers no GET holds, by size, shared by all streams: a GET of one batch (1 MiB) takes its output
 * and read buffers here and gives them back when done with them. At most `SHARED_BUFFERS` wait per
 * size.
 */
const shared = new Map<number, Buffer[]>();
const SHARED_BUFFERS = 16;

/** A buffer of exactly `size` bytes, from the shared pool when one waits there. */
export function takeBuffer(size: number): Buffer {
  return shared.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** Gives `buf` (whole, from `takeBuffer`) back to the pool: nothing may refer to it any more. */
export function giveBuffer(buf: Buffer): void {
  let free = shared.get(buf.length);
  if (!free) {
    free = [];
    shared.set(buf.length, free);
  }
  if (free.length < SHARED_BUFFERS) free.push(buf);
}

/**
 * The body of a GET: batches of bytes that `produce` decodes into the buffers `take` gives it,
 * produced ahead of the consumer (up to two batches wait beside the one being written), so the
 * next batch's shards are read while the socket sends the current one.
 *
 * Piped into a socket or an HTTP response, the stream recycles its full-size batch buffers: a
 * batch's buffer is reused once the sink has written it, which is when the batch has left this
 * stream and the sink has nothing left to write (`writableLength` 0, looked at on its 'drain', on
 * its 'finish' and before each batch). A GET then holds a few batch buffers however long the
 * object, and allocates nothing per batch for the collector to chase. Any other consumer (async
 * iteration, a 'data' listener, a pipe into a Transform, which keeps chunks) gets a fresh buffer
 * per batch: it may keep what it was given.
 */
export class BatchStream extends Readable {
  private readonly source: AsyncGenerator<Buffer>;
  /** Memory of the pooled buffers (each its own ArrayBuffer). */
  private readonly ours = new WeakSet<ArrayBufferLike>();
  /** Pooled batches pushed and not yet known written, oldest first; `end` counts bytes pushed. */
  private handed: { buf: Buffer; end: number }[] = [];
  private pushed = 0;
  /** The one consumer, while its writes may still hold our buffers. */
  private sink: Writable | undefined;
  /** Whether new batches go into pooled buffers (the sink is still our sole consumer). */
  private recycling = false;
  private pumping = false;

  /**
   * @param produce yields the batches in order, each a view of a buffer `take(length)` gave it
   *   (or any other Buffer); its `finally` runs when the stream ends or is destroyed
   * @param batchSize the length of a full batch (the size of the pooled buffers)
   */
  constructor(
    produce: (take: (length: number) => Buffer) => AsyncGenerator<Buffer>,
    private readonly batchSize: number,
  ) {
    super({ highWaterMark: 2 * batchSize });
    this.source = produce((n) => this.batchBuffer(n));
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T {
    const r = super.pipe(dest, opts);
    // Only a sole consumer from the first byte: whoever saw an earlier chunk may still hold it.
    if (!this.sink && this.pushed === 0 && isKernelSink(dest) && this.listenerCount('data') === 1) {
      this.sink = dest;
      this.recycling = true;
      dest.prependListener('drain', this.reclaim);
      dest.on('finish', this.onFinish);
      dest.on('close', this.detach);
      dest.on('unpipe', this.onUnpipe);
    }
    return r;
  }

  /** Unpiped (at our end, or on an error): no new pooled batches; those written still come back. */
  private readonly onUnpipe = (src: unknown): void => {
    if (src === this) this.recycling = false;
  };

  /** Everything the sink was given is written (its `writableLength` may already count the next response's bytes). */
  private readonly onFinish = (): void => {
    this.giveBack();
    this.detach();
  };

  /** Forgets the sink; batches not known written are left to the collector. */
  private readonly detach = (): void => {
    const s = this.sink;
    if (!s) return;
    this.sink = undefined;
    this.recycling = false;
    this.handed = [];
    s.removeListener('drain', this.reclaim);
    s.removeListener('finish', this.onFinish);
    s.removeListener('close', this.detach);
    s.removeListener('unpipe', this.onUnpipe);
  };

  /** Pooled batches the sink has written go back to the shared pool. */
  private readonly reclaim = (): void => {
    if (this.sink?.writableLength === 0) this.giveBack();
  };

  /** Pooled batches that reached the sink, which has written all it was given, go back to the pool. */
  private giveBack(): void {
    // Batches still buffered here have not reached the sink.
    const delivered = this.pushed - this.readableLength;
    while (this.handed.length > 0 && this.handed[0]!.end <= delivered) giveBuffer(this.handed.shift()!.buf);
  }

  private batchBuffer(length: number): Buffer {
    // A second consumer appeared (another pipe, a 'data' listener): no more recycling.
    if (this.recycling && this.listenerCount('data') !== 1) this.detach();
    if (!this.recycling || length !== this.batchSize) return Buffer.allocUnsafe(length);
    this.reclaim();
    const b = takeBuffer(this.batchSize);
    this.ours.add(b.buffer);
    return b;
  }

  override _read(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const r = await this.source.next();
        if (this.destroyed) break;
        if (r.done) {
          this.push(null);
          break;
        }
        const chunk = r.value;
        this.pushed += chunk.length;
        if (this.recycling && this.ours.has(chunk.buffer)) {
          this.handed.push({ buf: Buffer.from(chunk.buffer, 0, this.batchSize), end: this.pushed });
        }
        if (!this.push(chunk)) break;
      }
    } catch (e) {
      this.destroy(e instanceof Error ? e : new Error(String(e)));
    }
    // Reset before anything else runs: a `_read` that came meanwhile was ignored, and the next
    // one must start the pump again.
    this.pumping = false;
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.recycling = false;
    // Ends the producer (its `finally` closes what it holds), after the step it is in, if any.
    this.source.return(undefined).then(
      () => cb(err),
      (e: unknown) => cb(err ?? (e instanceof Error ? e : new Error(String(e)))),
    );
  }
}
