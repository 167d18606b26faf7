/**
 * The object layer over one or more erasure sets. At start the drives' format records decide who is
 * who: a new deployment is formatted, drives found in another slot are put back where their id
 * says, an empty replacement drive is formatted for its slot and healed, and a drive of another
 * deployment is refused. Objects live on the set chosen by SipHash of their key keyed with the
 * deployment id (MinIO's placement); buckets exist on every set.
 */

import { Readable } from 'node:stream';
import { sipHashMod } from '../native';
import { ObjectError } from '../object/errors';
import type { Body, ObjectLayer } from '../object/ObjectLayer';
import type {
  BucketInfo,
  CompletePart,
  DeleteObjectOptions,
  GetObjectOptions,
  GetObjectResult,
  ListObjectsOptions,
  ListObjectsResult,
  ListObjectVersionsOptions,
  ListObjectVersionsResult,
  MultipartUploadInfo,
  NewMultipartUploadOptions,
  ObjectInfo,
  PartInfo,
  PartOptions,
  PutObjectOptions,
} from '../object/types';
import { isStorageError, type StorageError } from '../storage/errors';
import {
  type FormatRecord,
  formatForPosition,
  newFormats,
  readFormat,
  validateFormats,
  writeFormat,
} from '../storage/format';
import { compareKeys } from '../storage/paths';
import { type StorageAPI, SYSTEM_VOLUME, TMP_DIR } from '../storage/StorageAPI';
import { type Coordinator, LocalCoordinator } from './coordinator';
import { ErasureSet, type ErasureSetOptions, toObjectError } from './ErasureSet';
import {
  type HealAllResult,
  type HealBucketResult,
  HealQueue,
  healAll,
  healBucket,
  Scanner,
  type ScannerOptions,
} from './heal';
import { listObjectsInSet, listObjectVersionsInSet, mergeListPages, mergeVersionPages } from './listing';
import { Multipart, type MultipartOptions } from './multipart';
import { defaultParity } from './quorum';

export interface ErasureSetsOptions {
  /** Parity per object for a new deployment (default: MinIO's by set size); later starts read it from the format. */
  parity?: number;
  /** Drives per set for a new deployment (default: all when <= 16, else the largest divisor in 4..16). */
  setSize?: number;
  /** Told about objects to heal (from reads and writes that found a drive missing or stale). */
  onDegraded?: ErasureSetOptions['onDegraded'];
  /** The bitrot hash of new objects (default MinIO's `highwayhash256S`). */
  bitrot?: ErasureSetOptions['bitrot'];
  /** Smallest part but the last of a multipart upload (default 5 MiB, as S3). */
  minPartSize?: number;
  /** The background scanner's pace. */
  scanner?: ScannerOptions;
  /** Where start-up findings go (drives refused, replaced, unavailable). */
  log?: (msg: string) => void;
  /** Key locks and GET streams, when other processes serve the same drives (default: this process's own). */
  coordinator?: Coordinator;
  /**
   * Opened by a worker process of a node: the primary has formatted the drives and removed the
   * temporary files of a crash before any worker starts, so a worker does neither (a drive that would
   * need formatting is a start-up error), and heals nothing itself: degraded objects go to
   * `onDegraded` alone (the primary's heal queue).
   */
  worker?: boolean;
}

/** Set size for `n` drives: all of them up to 16, else the largest size in 16..4 dividing `n`. */
export function chooseSetSize(n: number): number {
  if (n < 1) throw new RangeError('no drives');
  if (n <= 16) return n;
  for (let s = 16; s >= 4; s--) if (n % s === 0) return s;
  throw new RangeError(`${n} drives cannot be cut into equal sets of 4 to 16 drives`);
}

export class StartupError extends Error {
  constructor(readonly problems: string[]) {
    super(`cannot start:\n  ${problems.join('\n  ')}`);
    this.name = 'StartupError';
  }
}

export class ErasureSets implements ObjectLayer {
  /** Positions (in the deployment's order) of drives formatted at this start as replacements. */
  readonly replaced: number[];

  private readonly multiparts: Multipart[];
  /** Per set: heals of objects found degraded by reads and writes, in the background. */
  readonly healQueues: HealQueue[];
  /** Per set: the slow background scanner (started by `startBackground`). */
  readonly scanners: Scanner[];
  /** Resolves when the start-up heal of replaced drives is done (immediately when there was none). */
  readonly startupHeal: Promise<void>;

  private constructor(
    readonly sets: ErasureSet[],
    readonly deploymentId: string,
    private readonly idBytes: Buffer,
    replaced: number[],
    multipart: MultipartOptions,
    background: Pick<ErasureSetsOptions, 'onDegraded' | 'log' | 'scanner' | 'worker'>,
  ) {
    this.replaced = replaced;
    this.multiparts = sets.map((s) => new Multipart(s, multipart));
    this.healQueues = sets.map((s) => new HealQueue(s));
    this.scanners = sets.map((s) => new Scanner(s, background.scanner));
    sets.forEach((s, i) => {
      const queue = this.healQueues[i]!;
      s.onDegraded = (bucket, key, versionId) => {
        if (!background.worker) queue.enqueue(bucket, key, versionId);
        background.onDegraded?.(bucket, key, versionId);
      };
    });
    // A replaced drive comes back empty: refill its set in the background, reads serve meanwhile.
    const setSize = sets[0]!.driveCount;
    const toHeal = background.worker ? [] : [...new Set(replaced.map((p) => Math.floor(p / setSize)))];
    this.startupHeal = Promise.all(
      toHeal.map(async (i) => {
        const r = await healAll(sets[i]!);
        background.log?.(`set ${i + 1}: replaced drive healed (${JSON.stringify(summary(r))})`);
      }),
    ).then(
      () => {},
      (e) => background.log?.(`start-up heal failed: ${e}`),
    );
  }

  private cleanupTimer: NodeJS.Timeout | undefined;

  /**
   * Starts the background work: the scanners, and the removal of multipart uploads left
   * unfinished for longer than `staleUploadMs` (default a day), checked every `cleanupEveryMs`.
   */
  startBackground(opts: { staleUploadMs?: number; cleanupEveryMs?: number } = {}): void {
    for (const s of this.scanners) s.start();
    const stale = opts.staleUploadMs ?? 24 * 3600_000;
    this.cleanupTimer ??= setInterval(() => {
      this.cleanupStaleUploads(stale).catch(() => {});
    }, opts.cleanupEveryMs ?? 3600_000);
    this.cleanupTimer.unref();
  }

  /**
   * Opens the drives (in the order given on the command line), formatting or checking them first.
   * Throws `StartupError` with one line per problem when it cannot start safely.
   */
  static async open(drives: StorageAPI[], opts: ErasureSetsOptions = {}): Promise<ErasureSets> {
    const log = opts.log ?? (() => {});
    const n = drives.length;
    const records = await Promise.all(
      drives.map((d) => readFormat(d).catch((e: unknown) => e as StorageError)),
    );
    const v = validateFormats(records, n);
    let reference: FormatRecord;
    const replaced: number[] = [];
    // Slot of each drive: by its id when formatted, so drives given in another order still land right.
    const slots: (StorageAPI | null)[] = new Array(n).fill(null);

    if (!v.reference && opts.worker) {
      throw new StartupError(['the drives are not formatted (a worker never formats: the primary does)']);
    }
    if (!v.reference) {
      const notFresh = records
        .map((r, i) =>
          isStorageError(r, 'UnformattedDrive')
            ? null
            : `drive ${i + 1} (${drives[i]!.endpoint}): ${r instanceof Error ? r.message : 'formatted for another layout'}`,
        )
        .filter((m): m is string => m !== null);
      if (notFresh.length > 0) {
        throw new StorageStartError(['a new deployment needs every drive reachable and empty', ...notFresh]);
      }
      const setSize = opts.setSize ?? chooseSetSize(n);
      if (n % setSize !== 0) throw new StartupError([`${n} drives do not divide into sets of ${setSize}`]);
      const parity = opts.parity ?? defaultParity(setSize);
      const formats = newFormats({ setCount: n / setSize, setSize, parity });
      await Promise.all(drives.map((d, i) => writeFormat(d, formats[i]!)));
      reference = formats[0]!;
      drives.forEach((d, i) => {
        slots[i] = d;
      });
      log(
        `formatted ${n} drives: ${n / setSize} set(s) of ${setSize}, parity ${parity}, deployment ${reference.deploymentId}`,
      );
    } else {
      reference = v.reference;
      const problems = [
        ...v.foreign.map((f) => `${drives[f.position]!.endpoint}: ${f.message}`),
        ...v.inconsistent.map((f) => `${drives[f.position]!.endpoint}: ${f.message}`),
        ...v.corrupted.map(
          (f) => `${drives[f.position]!.endpoint}: ${f.error.message} (move it aside to have it replaced)`,
        ),
      ];
      if (problems.length > 0) throw new StartupError(problems);
      const ids = reference.sets.flat();
      for (const i of v.ok) slots[i] = drives[i]!;
      for (const mp of v.misplaced) {
        if (slots[mp.belongsAt]) {
          throw new StartupError([`${drives[mp.position]!.endpoint}: ${mp.message}; its slot is taken`]);
        }
        slots[mp.belongsAt] = drives[mp.position]!;
        log(
          `${drives[mp.position]!.endpoint} carries the id of position ${mp.belongsAt + 1}: using it there`,
        );
      }
      // Empty replacement drives take the slots whose drive is not here.
      const free = ids
        .map((_, i) => i)
        .filter((i) => !slots[i] && !v.unavailable.some((u) => u.position === i));
      if (opts.worker && v.unformatted.length > 0) {
        throw new StartupError(
          v.unformatted.map((u) => `${drives[u.position]!.endpoint}: unformatted (the primary formats it)`),
        );
      }
      for (const u of v.unformatted) {
        const at = free.includes(u.position) ? u.position : free[0];
        if (at === undefined)
          throw new StartupError([
            `${drives[u.position]!.endpoint}: unformatted, and no slot is free for it`,
          ]);
        free.splice(free.indexOf(at), 1);
        await writeFormat(drives[u.position]!, formatForPosition(reference, at));
        slots[at] = drives[u.position]!;
        replaced.push(at);
        log(`${drives[u.position]!.endpoint}: new drive formatted for position ${at + 1}; it will be healed`);
      }
      for (const u of v.unavailable) {
        slots[u.position] ??= drives[u.position]!;
        log(`${drives[u.position]!.endpoint}: unavailable (${u.error.message}); serving from the others`);
      }
    }

    // Temporary files of writes that never finished (a crash) are garbage; not for a worker, whose
    // siblings are writing theirs now.
    if (!opts.worker)
      await Promise.all(
        slots.map((d) => d?.delete(SYSTEM_VOLUME, TMP_DIR, { recursive: true }).catch(() => {})),
      );

    const setSize = reference.sets[0]!.length;
    const nslock = opts.coordinator ?? new LocalCoordinator();
    const sets = reference.sets.map(
      (_, s) =>
        new ErasureSet(slots.slice(s * setSize, (s + 1) * setSize), {
          parity: reference.parity,
          bitrot: opts.bitrot,
          nslock,
        }),
    );
    for (const [s, set] of sets.entries()) {
      const ok = set.drives.filter((d) => d !== null).length;
      if (ok < setSize - reference.parity) {
        log(`set ${s + 1}: only ${ok} of ${setSize} drives; reads and writes fail until more are back`);
      }
    }
    const idBytes = Buffer.from(reference.deploymentId.replace(/-/g, ''), 'hex');
    const layer = new ErasureSets(
      sets,
      reference.deploymentId,
      idBytes.length === 16 ? idBytes : Buffer.alloc(16),
      replaced,
      { minPartSize: opts.minPartSize },
      opts,
    );
    return layer;
  }

  /** Names starting with '.' are Cairn's own volumes (`.cairn.sys`), never buckets. */
  private checkBucket(bucket: string): void {
    if (bucket === '' || bucket.startsWith('.') || bucket.includes('/') || bucket.includes('\\')) {
      throw new ObjectError('BucketNameInvalid', `${JSON.stringify(bucket)} is not a bucket name`, {
        bucket,
      });
    }
  }

  /** The set holding `key`. */
  setFor(key: string): ErasureSet {
    if (this.sets.length === 1) return this.sets[0]!;
    return this.sets[sipHashMod(key, this.idBytes, this.sets.length)]!;
  }

  // --- buckets -----------------------------------------------------------------------------------

  async makeBucket(bucket: string): Promise<void> {
    this.checkBucket(bucket);
    const done: ErasureSet[] = [];
    try {
      for (const s of this.sets) {
        await s.makeBucket(bucket);
        done.push(s);
      }
    } catch (e) {
      await Promise.all(done.map((s) => s.deleteBucket(bucket, true).catch(() => {})));
      throw e;
    }
  }

  async getBucketInfo(bucket: string): Promise<BucketInfo> {
    this.checkBucket(bucket);
    const info = await this.sets[0]!.statBucket(bucket);
    return { name: bucket, created: info.created };
  }

  async listBuckets(): Promise<BucketInfo[]> {
    const set = this.sets[0]!;
    const res = await set.onAll((d) => d.listVolumes());
    const seen = new Map<string, { count: number; created: Date }>();
    for (const r of res) {
      if (r instanceof Error) continue;
      for (const v of r) {
        const e = seen.get(v.name);
        if (e) {
          e.count++;
          if (v.created < e.created) e.created = v.created;
        } else seen.set(v.name, { count: 1, created: v.created });
      }
    }
    const quorum = Math.ceil(set.driveCount / 2);
    return [...seen.entries()]
      .filter(([, e]) => e.count >= quorum)
      .map(([name, e]) => ({ name, created: e.created }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async deleteBucket(bucket: string, opts: { force?: boolean } = {}): Promise<void> {
    this.checkBucket(bucket);
    if (!opts.force) {
      // S3: a bucket holding any version, a delete marker included, is not empty.
      const page = await this.listObjectVersions(bucket, { maxKeys: 1 });
      if (page.versions.length > 0 || page.prefixes.length > 0)
        throw new ObjectError('BucketNotEmpty', undefined, { bucket });
    }
    for (const s of this.sets)
      await s.deleteBucket(bucket, true).catch((e) => {
        if (!(e instanceof ObjectError && e.code === 'BucketNotFound' && s !== this.sets[0])) throw e;
      });
  }

  // --- objects -----------------------------------------------------------------------------------

  putObject(bucket: string, key: string, body: Body, opts: PutObjectOptions): Promise<ObjectInfo> {
    this.checkBucket(bucket);
    return this.setFor(key).putObject(bucket, key, body, opts);
  }

  getObjectInfo(bucket: string, key: string, opts?: GetObjectOptions): Promise<ObjectInfo> {
    this.checkBucket(bucket);
    return this.setFor(key).getObjectInfo(bucket, key, opts);
  }

  getObject(bucket: string, key: string, opts?: GetObjectOptions): Promise<GetObjectResult> {
    this.checkBucket(bucket);
    return this.setFor(key).getObject(bucket, key, opts);
  }

  deleteObject(bucket: string, key: string, opts?: DeleteObjectOptions): Promise<ObjectInfo> {
    this.checkBucket(bucket);
    return this.setFor(key).deleteObject(bucket, key, opts);
  }

  updateObjectMetadata(
    bucket: string,
    key: string,
    update: Parameters<ObjectLayer['updateObjectMetadata']>[2],
    opts?: Parameters<ObjectLayer['updateObjectMetadata']>[3],
  ): Promise<ObjectInfo> {
    return this.setFor(key).updateObjectMetadata(bucket, key, update, opts);
  }

  /** Each set lists its own objects; the pages merge in key order, common prefixes once. */
  async listObjects(bucket: string, opts: ListObjectsOptions = {}): Promise<ListObjectsResult> {
    if (this.sets.length === 1) return listObjectsInSet(this.sets[0]!, bucket, opts);
    const pages = await Promise.all(this.sets.map((s) => listObjectsInSet(s, bucket, opts)));
    return mergeListPages(pages, opts.maxKeys);
  }

  /** Each set lists its own versions; the pages merge by key. */
  async listObjectVersions(
    bucket: string,
    opts: ListObjectVersionsOptions = {},
  ): Promise<ListObjectVersionsResult> {
    this.checkBucket(bucket);
    if (this.sets.length === 1) return listObjectVersionsInSet(this.sets[0]!, bucket, opts);
    const pages = await Promise.all(this.sets.map((s) => listObjectVersionsInSet(s, bucket, opts)));
    return mergeVersionPages(pages, opts.maxKeys);
  }

  // --- multipart ---------------------------------------------------------------------------------

  /** The multipart side of the set holding `key`. */
  private multipartFor(key: string): Multipart {
    return this.multiparts[this.sets.indexOf(this.setFor(key))]!;
  }

  newMultipartUpload(bucket: string, key: string, opts: NewMultipartUploadOptions): Promise<string> {
    return this.multipartFor(key).newMultipartUpload(bucket, key, opts);
  }

  putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Body,
    opts: PartOptions,
  ): Promise<PartInfo> {
    return this.multipartFor(key).putObjectPart(bucket, key, uploadId, partNumber, body, opts);
  }

  listObjectParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts?: { after?: number; maxParts?: number },
  ): Promise<{ parts: PartInfo[]; isTruncated: boolean; nextAfter?: number; upload: MultipartUploadInfo }> {
    return this.multipartFor(key).listObjectParts(bucket, key, uploadId, opts);
  }

  async listMultipartUploads(
    bucket: string,
    opts: { prefix?: string; afterKey?: string; afterUploadId?: string; maxUploads?: number } = {},
  ): Promise<{ uploads: MultipartUploadInfo[]; isTruncated: boolean }> {
    if (this.multiparts.length === 1) return this.multiparts[0]!.listMultipartUploads(bucket, opts);
    // Each set lists its own page; merge by (key, initiated, id) and cut to the page size.
    const max = Math.max(0, Math.min(opts.maxUploads ?? 1000, 1000));
    const pages = await Promise.all(this.multiparts.map((m) => m.listMultipartUploads(bucket, opts)));
    const all = pages
      .flatMap((p) => p.uploads)
      .sort(
        (a, b) =>
          compareKeys(a.key, b.key) ||
          a.initiated.getTime() - b.initiated.getTime() ||
          (a.uploadId < b.uploadId ? -1 : 1),
      );
    return { uploads: all.slice(0, max), isTruncated: all.length > max || pages.some((p) => p.isTruncated) };
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.multipartFor(key).abortMultipartUpload(bucket, key, uploadId);
  }

  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts?: Parameters<ObjectLayer['completeMultipartUpload']>[4],
  ): Promise<ObjectInfo> {
    return this.multipartFor(key).completeMultipartUpload(bucket, key, uploadId, parts, opts);
  }

  /** Removes uploads started more than `olderThanMs` ago on every set; returns how many. */
  async cleanupStaleUploads(olderThanMs: number): Promise<number> {
    const counts = await Promise.all(this.multiparts.map((m) => m.cleanupStaleUploads(olderThanMs)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /**
   * Cairn's own small documents (IAM users, groups, policies...) as erasure-coded objects in the
   * system volume under `config/`: the same put/get/delete/list paths as objects (write quorum,
   * bitrot checks, heal on read), without the bucket-name check that keeps users out of '.'-names.
   * The shape is `auth/iam`'s `SystemStore`, declared here structurally (imports point down only).
   */
  systemStore(): SystemDocuments {
    const keyOf = (p: string): string => {
      if (p === '' || p.startsWith('/') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
        throw new RangeError(`invalid system document path ${JSON.stringify(p)}`);
      }
      return `${SYSTEM_CONFIG_PREFIX}${p}`;
    };
    return {
      get: async (p) => {
        const key = keyOf(p);
        try {
          const r = await this.setFor(key).getObject(SYSTEM_VOLUME, key);
          const chunks: Buffer[] = [];
          for await (const c of r.stream) chunks.push(c);
          return Buffer.concat(chunks);
        } catch (e) {
          if (e instanceof ObjectError && (e.code === 'ObjectNotFound' || e.code === 'VersionNotFound')) {
            return null;
          }
          throw e;
        }
      },
      put: async (p, data) => {
        const key = keyOf(p);
        if (data === null) {
          await this.setFor(key)
            .deleteObject(SYSTEM_VOLUME, key)
            .catch((e: unknown) => {
              if (!(e instanceof ObjectError && e.code === 'ObjectNotFound')) throw e;
            });
          return;
        }
        await this.setFor(key).putObject(SYSTEM_VOLUME, key, Readable.from([data]), { size: data.length });
      },
      list: async (prefix) => {
        const out: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await this.listSystem(`${SYSTEM_CONFIG_PREFIX}${prefix}`, after);
          out.push(...page.objects.map((o) => o.key.slice(SYSTEM_CONFIG_PREFIX.length)));
          if (!page.isTruncated || page.nextAfter === undefined) return out;
          after = page.nextAfter;
        }
      },
    };
  }

  private async listSystem(prefix: string, after: string | undefined): Promise<ListObjectsResult> {
    const opts: ListObjectsOptions = { prefix, maxKeys: 1000, ...(after !== undefined ? { after } : {}) };
    if (this.sets.length === 1) return listObjectsInSet(this.sets[0]!, SYSTEM_VOLUME, opts);
    const pages = await Promise.all(this.sets.map((s) => listObjectsInSet(s, SYSTEM_VOLUME, opts)));
    return mergeListPages(pages, opts.maxKeys);
  }

  /** Heals the system documents (`config/` of the system volume) on every set. */
  async healSystem(opts: { dryRun?: boolean } = {}): Promise<HealBucketResult[]> {
    const out: HealBucketResult[] = [];
    for (const s of this.sets)
      out.push(await healBucket(s, SYSTEM_VOLUME, { prefix: SYSTEM_CONFIG_PREFIX, ...opts }));
    return out;
  }

  /** Queues a heal of the object on its set (what degraded reads in other processes report). */
  enqueueHeal(bucket: string, key: string, versionId: string): void {
    const i = this.sets.indexOf(this.setFor(key));
    this.healQueues[i]?.enqueue(bucket, key, versionId);
  }

  /** Stops the scanners and lets queued heals finish. */
  async shutdown(): Promise<void> {
    clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await Promise.all(this.scanners.map((s) => s.stop()));
    await Promise.all(this.healQueues.map((q) => q.close()));
  }
}

function summary(r: HealAllResult): Record<string, number> {
  const sum = { objects: 0, healedVersions: 0, unrecoverableVersions: 0, errors: 0, bytesWritten: 0 };
  for (const b of r.buckets) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += b[k];
  return sum;
}

/** Where system documents live in the system volume. */
const SYSTEM_CONFIG_PREFIX = 'config/';

/** `SystemStore` of `src/auth/iam/types.ts`, by shape. */
export interface SystemDocuments {
  get(path: string): Promise<Buffer | null>;
  put(path: string, data: Buffer | null): Promise<void>;
  list(prefix: string): Promise<string[]>;
}

/** A start that cannot proceed because drives are not all there for a first format. */
export class StorageStartError extends StartupError {}

export { toObjectError };
