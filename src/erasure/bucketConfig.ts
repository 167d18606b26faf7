/**
 * Bucket settings (tagging, CORS, later policy, versioning, lifecycle...) as small documents in the
 * system volume, `buckets/<bucket>/<name>`, written to every drive of every set (atomically, per
 * drive) and read back by majority: a drive that missed a write, or was replaced empty, is outvoted.
 * Bucket configs are tiny and rare next to objects, so they are not erasure coded: each drive keeps
 * a whole copy, which survives the loss of any minority of drives.
 *
 * Documents are cached in memory. A put updates this process's cache; with several processes
 * serving the drives (a node's workers), a put holds the document's lock across them and tells the
 * others (`changed`, awaited) to forget their copy before it returns, so no read after it, in any
 * process, sees an older document.
 */
import { ObjectError } from '../object/errors';
import { isStorageError } from '../storage/errors';
import { type StorageAPI, SYSTEM_VOLUME } from '../storage/StorageAPI';
import type { Locker } from './coordinator';
import type { ErasureSets } from './ErasureSets';

/** The store the S3 layer uses (`BucketConfigStore` in `src/s3/context.ts` has the same shape). */
export interface BucketConfigs {
  get(bucket: string, name: string): Promise<Buffer | null>;
  put(bucket: string, name: string, data: Buffer | null): Promise<void>;
  /** Removes every document of the bucket (DeleteBucket, and CreateBucket for leftovers of a crash). */
  removeAll(bucket: string): Promise<void>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** How many documents are kept in memory; evicted oldest first. */
const CACHE_ENTRIES = 4096;

/** With workers: the lock the writers share, and the news of a change to the other processes. */
export interface BucketConfigsCluster {
  locker: Locker;
  /** Resolves when every other process has forgotten these documents (or directories, ending in `/`). */
  changed(paths: string[]): Promise<void>;
}

export class ErasureBucketConfigs implements BucketConfigs {
  private readonly cache = new Map<string, Buffer | null>();

  constructor(
    private readonly drives: readonly (StorageAPI | null)[],
    private readonly cluster?: BucketConfigsCluster,
  ) {}

  /** Every drive of every set of the object layer. */
  static of(layer: ErasureSets, cluster?: BucketConfigsCluster): ErasureBucketConfigs {
    return new ErasureBucketConfigs(
      layer.sets.flatMap((s) => s.drives),
      cluster,
    );
  }

  /** Drops documents another process changed (a path ending in `/`: everything under it). */
  forget(paths: string[]): void {
    for (const p of paths) {
      if (!p.endsWith('/')) this.cache.delete(p);
      else for (const k of [...this.cache.keys()]) if (k.startsWith(p)) this.cache.delete(k);
    }
  }

  /** Runs a change under the document's cross-process lock, telling the others before letting go. */
  private async changing(p: string, fn: () => Promise<void>): Promise<void> {
    if (!this.cluster) return fn();
    const release = await this.cluster.locker.lock(`.cairn.sys/${p}`, 'write', 30_000);
    try {
      await fn();
    } finally {
      try {
        await this.cluster.changed([p]);
      } finally {
        release();
      }
    }
  }

  private path(bucket: string, name?: string): string {
    // Bucket names are S3 names (no `/`), but this is the system volume: refuse anything odd here too.
    if (bucket === '' || bucket.includes('/') || bucket === '.' || bucket === '..') {
      throw new ObjectError('BucketNameInvalid', undefined, { bucket });
    }
    if (name !== undefined && !NAME.test(name)) throw new RangeError(`config name ${JSON.stringify(name)}`);
    return name === undefined ? `buckets/${bucket}` : `buckets/${bucket}/${name}`;
  }

  /** Majority of all drives: written by more than half, so any two majorities share a drive. */
  private get quorum(): number {
    return Math.floor(this.drives.length / 2) + 1;
  }

  async get(bucket: string, name: string): Promise<Buffer | null> {
    const p = this.path(bucket, name);
    if (this.cache.has(p)) return this.cache.get(p) ?? null;
    const answers = await Promise.all(
      this.drives.map(async (d): Promise<Buffer | null | Error> => {
        if (!d) return new Error('drive missing');
        try {
          return await d.readAll(SYSTEM_VOLUME, p);
        } catch (e) {
          return isStorageError(e, 'FileNotFound', 'VolumeNotFound') ? null : (e as Error);
        }
      }),
    );
    // Votes by content; absence is a vote too (a document deleted on a majority is gone).
    const votes = new Map<string, { value: Buffer | null; count: number }>();
    for (const a of answers) {
      if (a instanceof Error) continue;
      const k = a === null ? '' : `#${a.toString('base64')}`;
      const v = votes.get(k);
      if (v) v.count++;
      else votes.set(k, { value: a, count: 1 });
    }
    let best: { value: Buffer | null; count: number } | undefined;
    for (const v of votes.values()) if (!best || v.count > best.count) best = v;
    // Read quorum is half the drives: with the write quorum above, a read sees at least one copy of
    // the latest write, and a majority of answers agreeing is what makes it the winner.
    if (!best || best.count < Math.ceil(this.drives.length / 2)) {
      throw new ObjectError('InsufficientReadQuorum', `bucket config ${name} of ${bucket}`, { bucket });
    }
    this.remember(p, best.value);
    return best.value;
  }

  async put(bucket: string, name: string, data: Buffer | null): Promise<void> {
    const p = this.path(bucket, name);
    await this.changing(p, () => this.putHeld(p, bucket, name, data));
  }

  private async putHeld(p: string, bucket: string, name: string, data: Buffer | null): Promise<void> {
    this.cache.delete(p);
    const results = await Promise.all(
      this.drives.map(async (d) => {
        if (!d) return false;
        try {
          if (data === null) await d.delete(SYSTEM_VOLUME, p);
          else await d.writeAll(SYSTEM_VOLUME, p, data);
          return true;
        } catch {
          return false;
        }
      }),
    );
    if (results.filter(Boolean).length < this.quorum) {
      throw new ObjectError('InsufficientWriteQuorum', `bucket config ${name} of ${bucket}`, { bucket });
    }
    this.remember(p, data);
  }

  async removeAll(bucket: string): Promise<void> {
    const dir = this.path(bucket);
    await this.changing(`${dir}/`, async () => {
      this.forget([`${dir}/`]);
      await Promise.all(
        this.drives.map((d) => d?.delete(SYSTEM_VOLUME, dir, { recursive: true }).catch(() => {})),
      );
    });
  }

  private remember(p: string, value: Buffer | null): void {
    this.cache.delete(p);
    this.cache.set(p, value);
    if (this.cache.size > CACHE_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
  }
}
