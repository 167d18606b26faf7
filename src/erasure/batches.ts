/**
 * Cuts a body into batches of whole erasure blocks, with bounded memory: at most `pool` batch
 * buffers exist, and a buffer is reused only once its consumer says it is done with it.
 */
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
        return Buffer.allocUnsafeSlow(this.batchSize);
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  private give(b: Buffer): void {
    this.free.push(b);
    this.waiting.shift()?.();
  }

  /**
   * Yields batches of `batchSize` bytes (the last shorter, possibly empty for an empty body),
   * marking the last one. Stops with an error if the body has more than `limit` bytes.
   */
  async *read(body: Body, limit = Number.POSITIVE_INFINITY): AsyncGenerator<Batch> {
    let buf = await this.take();
    let fill = 0;
    let offset = 0;
    let pending: Batch | null = null;
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
      return batch;
    };
    for await (const chunk of body as AsyncIterable<Buffer | string>) {
      let c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (offset + fill + c.length > limit) throw new BodyTooLarge(limit);
      while (c.length > 0) {
        const n = Math.min(c.length, this.batchSize - fill);
        c.copy(buf, fill, 0, n);
        fill += n;
        c = c.subarray(n);
        if (fill === this.batchSize) {
          // A full batch is emitted once we know whether more follows (the one before it first).
          if (pending) yield pending;
          pending = emit(buf, fill);
          buf = await this.take();
          fill = 0;
        }
      }
    }
    if (fill > 0 || !pending) {
      if (pending) yield pending;
      pending = emit(buf, fill);
    } else {
      this.give(buf);
    }
    pending.last = true;
    yield pending;
  }
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is longer than ${limit} bytes`);
  }
}
