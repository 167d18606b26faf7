/**
 * Where the bytes of a part fall in its shard files: blocks of `blockSize` data bytes, each shard
 * file a run of frames `[32-byte digest][shard block]`, a shard block `ceil(blockLen / k)` bytes.
 * The same arithmetic as `native/src/frames.rs` (the native side checks what it is given).
 */
import { DIGEST_LENGTH } from '../native';

export class PartLayout {
  constructor(
    readonly size: number,
    readonly blockSize: number,
    readonly k: number,
  ) {}

  get blocks(): number {
    return Math.ceil(this.size / this.blockSize);
  }

  blockLength(b: number): number {
    return Math.min(this.blockSize, this.size - b * this.blockSize);
  }

  shardLength(b: number): number {
    return Math.ceil(this.blockLength(b) / this.k);
  }

  /** Offset of block `b`'s frame in a shard file. */
  frameOffset(b: number): number {
    return b * (DIGEST_LENGTH + Math.ceil(this.blockSize / this.k));
  }

  /** Bytes of the frames of blocks `b0 .. b0 + n - 1` in one shard file. */
  framesLength(b0: number, n: number): number {
    if (n <= 0) return 0;
    const last = b0 + n - 1;
    return this.frameOffset(last) - this.frameOffset(b0) + DIGEST_LENGTH + this.shardLength(last);
  }

  get shardFileSize(): number {
    return this.framesLength(0, this.blocks);
  }

  /** Data bytes in blocks `b0 .. b0 + n - 1`. */
  dataLength(b0: number, n: number): number {
    if (n <= 0) return 0;
    return Math.min(this.size, (b0 + n) * this.blockSize) - b0 * this.blockSize;
  }
}
