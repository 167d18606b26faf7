/**
 * Healing of one erasure set: every drive brought back to holding every version a read quorum of
 * drives agrees on, each with its own shard verified, and nothing else.
 *
 * - `healObject`: one key, under its write lock. Reads every drive's whole metadata file; for each
 *   version id decides, from what the drives hold, whether it is *agreed* (a read quorum holds the
 *   same copy: restore it where it is missing, outdated or rotten), *dangling* (so many drives
 *   provably lack it that it can never have been committed: remove it where it lingers) or
 *   *unrecoverable* (neither: left exactly as it is, in case the drives that are away come back).
 *   Shards are rebuilt batch by batch (bounded memory) from any `k` verified shards: `decodeFrames`
 *   gives the data back, `encodeFrames` regenerates the frames exactly as a PUT wrote them.
 * - `healBucket` / `healAll`: the union of the keys on every drive (a key on any one drive is a
 *   candidate: it may hold the only stale copy), healed one by one; bucket volumes made where a
 *   majority has them, removed (when empty) where only a provable minority does.
 * - `HealQueue`: on-read healing in the background (`ErasureSetOptions.onDegraded`).
 * - `Scanner`: a slow background pass over everything, deep (every frame read and verified) every
 *   Nth cycle.
 *
 * Crash safety: nothing a drive holds is overwritten in place. Rebuilt shard files are written to
 * the drive's temp directory and fsynced, then renamed into place (a whole data dir with
 * `renameData`, which writes the metadata after it, or one `part.N` over a rotten one), and the
 * drive's metadata file is replaced atomically last. A crash leaves the old state, or the new data
 * beside the old metadata (an orphan data dir, which the next heal removes), never a torn file.
 */
import { randomUUID } from 'node:crypto';
import type { FrameOptions } from '../native';
import { isStorageError, StorageError } from '../storage/errors';
import { readFormat } from '../storage/format';
import { compareKeys, DATA_DIR_PREFIX, META_FILE, objectPath } from '../storage/paths';
import { type FileWriter, type StorageAPI, SYSTEM_VOLUME, TMP_DIR } from '../storage/StorageAPI';
import type { ErasureSet } from './ErasureSet';
import { PartLayout } from './layout';
import {
  compareVersions,
  decodeMeta,
  encodeMeta,
  type MetaFile,
  type ObjectDataVersion,
  type ObjectVersion,
  signature,
  type VersionPart,
} from './metadata';
import type { Release } from './nslock';
import { contentKey, readQuorum } from './quorum';

/** How long a heal waits for the key's write lock. */
const LOCK_TIMEOUT_MS = 30_000;
/** Blocks read, verified and rebuilt per step. */
const HEAL_BATCH_BLOCKS = 2;

// --- results -----------------------------------------------------------------------------------

/**
 * How a drive position stands for a version (or, in `HealResult.before/after`, the worst over the
 * object's versions): `missing` (no metadata, no such version, or shard files absent), `outdated`
 * (another copy of the version, stale metadata, or a version it should not hold), `corrupt`
 * (unreadable metadata, a shard file of the wrong size or failing its digests), `offline` (the
 * drive did not answer: nothing can be said or done there).
 */
export type DriveState = 'ok' | 'missing' | 'outdated' | 'corrupt' | 'offline';

/**
 * - `ok`: every drive that answered holds it whole;
 * - `healed`: rebuilt on every drive that lacked it (`partial`: on some; `failed`: on none);
 * - `removed`: dangling (never committed), removed from the drives that held it;
 * - `unrecoverable`: fewer than `k` good shards (or too few copies) and not provably dangling:
 *   nothing was written, it stays as it is until more drives come back.
 * In a dry run the status says what a heal would do; nothing is written.
 */
export type VersionStatus = 'ok' | 'healed' | 'partial' | 'failed' | 'removed' | 'unrecoverable';

export interface VersionHealResult {
  versionId: string;
  type: 'object' | 'deleteMarker';
  status: VersionStatus;
  /** Per drive position. */
  before: DriveState[];
  after: DriveState[];
  /** Drive positions rewritten for this version (to be rewritten, in a dry run). */
  drives: number[];
  /** Shard bytes written for this version, over all drives. */
  bytesWritten: number;
  error?: string;
}

export interface HealResult {
  bucket: string;
  key: string;
  dryRun: boolean;
  deep: boolean;
  /** Per drive position: the worst state over the object's versions. */
  before: DriveState[];
  after: DriveState[];
  /** Every version looked at, newest first. */
  versions: VersionHealResult[];
  /** Ids of versions rebuilt (fully or on some drives). */
  healed: string[];
  /** Ids of dangling versions removed. */
  removed: string[];
  /** Ids of versions too damaged (or too few drives answering) to heal: left untouched. */
  unrecoverable: string[];
  /** Ids of versions whose rebuild or removal failed on every drive it was meant for. */
  failed: string[];
  /** Data dirs no version names, removed (found, in a dry run). */
  orphansRemoved: number;
  /** Drive positions where the bucket volume was missing and was made. */
  volumesMade: number[];
  /** Shard and metadata bytes written, in total and per drive position. */
  bytesWritten: number;
  bytesWrittenPerDrive: number[];
  /** Set when the heal could not run (lock timeout, aborted, unexpected failure). */
  error?: string;
}

export interface HealOptions {
  /** Only this version id (dangling and outdated copies of it included). */
  versionId?: string;
  /** Look and report, write nothing. */
  dryRun?: boolean;
  /**
   * Read every frame of every shard and check its digest. Without it, shard files are checked by
   * presence and size only (inline shards, being in memory already, are always verified).
   */
  deep?: boolean;
  lockTimeoutMs?: number;
  /** Stops between batches; what was written is cleaned up, nothing is committed half-way. */
  signal?: AbortSignal;
}

/** True when the heal found nothing to do (and nothing went wrong). */
export function isClean(r: HealResult): boolean {
  return (
    r.error === undefined &&
    r.orphansRemoved === 0 &&
    r.volumesMade.length === 0 &&
    r.versions.every((v) => v.status === 'ok')
  );
}

// --- helpers -----------------------------------------------------------------------------------

const RANK: Record<DriveState, number> = { ok: 0, outdated: 1, missing: 2, corrupt: 3, offline: 4 };

function worse(a: DriveState, b: DriveState): DriveState {
  return RANK[b] > RANK[a] ? b : a;
}

/** What a drive's error says about the thing asked for. */
function stateOf(e: unknown): DriveState {
  if (isStorageError(e, 'FileNotFound', 'FileVersionNotFound', 'VolumeNotFound')) return 'missing';
  if (isStorageError(e, 'FileCorrupt', 'IsNotRegular', 'FaultyDrive')) return 'corrupt';
  return 'offline';
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class Unrecoverable extends Error {}

class Aborted extends Error {
  constructor() {
    super('heal aborted');
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Aborted();
}

function tooFewShards(e: unknown): boolean {
  return /too few shards/i.test(message(e));
}

/** Drives that must hold a version for it to be read: `k` for data, a majority for a delete marker. */
function quorumOf(v: ObjectVersion, n: number): number {
  return v.type === 'object' ? readQuorum(v.erasure.dataBlocks, v.erasure.parityBlocks) : Math.ceil(n / 2);
}

function frameOptions(v: ObjectDataVersion): FrameOptions | undefined {
  return v.erasure.bitrot === 'blake3S' ? { algorithm: 'blake3' } : undefined;
}

/** Drive `p`'s own copy of the agreed version: its shard index, and its inline shard if any. */
function ownCopy(c: ObjectVersion, p: number, inline?: Buffer): ObjectVersion {
  if (c.type === 'deleteMarker') return { ...c };
  const { inline: _drop, ...rest } = c;
  const v: ObjectDataVersion = { ...rest, erasure: { ...c.erasure, index: c.erasure.distribution[p]! } };
  if (inline) v.inline = inline;
  return v;
}

function geometryFits(v: ObjectDataVersion, n: number): boolean {
  const { dataBlocks: k, parityBlocks: m, distribution } = v.erasure;
  if (k < 1 || k + m !== n || distribution.length !== n) return false;
  const seen = new Set(distribution);
  return seen.size === n && distribution.every((s) => Number.isInteger(s) && s >= 1 && s <= n);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}

// --- one object --------------------------------------------------------------------------------

/** What one drive holds of the object when the heal starts. */
interface DriveView {
  drive: StorageAPI | null;
  raw: Buffer | null;
  file: MetaFile | null;
  metaErr: Error | null;
  /** Names in the object directory (directories end in `/`); null when it could not be listed. */
  entries: Set<string> | null;
  byId: Map<string, ObjectVersion>;
}

/** What the heal will do on one drive, committed at the end in one step per drive. */
interface DrivePlan {
  /** Versions to add or replace (the drive's own copies). */
  put: Map<string, ObjectVersion>;
  /** Version ids to drop (dangling). */
  remove: Set<string>;
  /** Rebuilt data dirs (temp dir → data dir name). */
  dirMoves: { tmp: string; dataDir: string }[];
  /** Rebuilt part files (temp file → path in the bucket volume). */
  fileMoves: { tmp: string; dest: string }[];
  /** Temp dirs made, to remove whatever is left of them at the end. */
  tmpDirs: Map<string, string>;
  /** Data dirs to remove once committed (of replaced or removed versions). */
  deleteAfter: Set<string>;
  /** Shard bytes of the rebuilt files to commit. */
  shardBytes: number;
  final: MetaFile | null;
  committed: boolean;
  error: Error | null;
}

/** A version whose outcome depends on the drives' commits. */
interface Pending {
  kind: 'heal' | 'remove';
  targets: number[];
  /** Targets whose rebuild succeeded (their commit decides). */
  ready: Set<number>;
  /** Shard bytes written per target. */
  bytes: Map<number, number>;
}

interface Ctx {
  set: ErasureSet;
  bucket: string;
  path: string;
  n: number;
  opts: HealOptions;
  views: DriveView[];
  plans: DrivePlan[];
  result: HealResult;
  pending: Map<VersionHealResult, Pending>;
  formats: Promise<(number | null)[]> | undefined;
}

function newPlan(): DrivePlan {
  return {
    put: new Map(),
    remove: new Set(),
    dirMoves: [],
    fileMoves: [],
    tmpDirs: new Map(),
    deleteAfter: new Set(),
    shardBytes: 0,
    final: null,
    committed: false,
    error: null,
  };
}

function planChanges(p: DrivePlan): boolean {
  return p.put.size > 0 || p.remove.size > 0 || p.dirMoves.length > 0 || p.fileMoves.length > 0;
}

/**
 * Heals one object (every version, or `opts.versionId`) under its write lock. Never throws: what
 * went wrong is in the result (`error`, and per version `status` / `error`).
 */
export async function healObject(
  set: ErasureSet,
  bucket: string,
  key: string,
  opts: HealOptions = {},
): Promise<HealResult> {
  const n = set.driveCount;
  const result: HealResult = {
    bucket,
    key,
    dryRun: opts.dryRun ?? false,
    deep: opts.deep ?? false,
    before: new Array<DriveState>(n).fill('ok'),
    after: new Array<DriveState>(n).fill('ok'),
    versions: [],
    healed: [],
    removed: [],
    unrecoverable: [],
    failed: [],
    orphansRemoved: 0,
    volumesMade: [],
    bytesWritten: 0,
    bytesWrittenPerDrive: new Array<number>(n).fill(0),
  };
  let release: Release | undefined;
  let ctx: Ctx | undefined;
  try {
    const path = objectPath(key);
    release = await set.nslock.lock(`${bucket}/${key}`, 'write', opts.lockTimeoutMs ?? LOCK_TIMEOUT_MS);
    ctx = {
      set,
      bucket,
      path,
      n,
      opts,
      views: [],
      plans: set.drives.map(newPlan),
      result,
      pending: new Map(),
      formats: undefined,
    };
    await healLocked(ctx);
  } catch (e) {
    result.error = message(e);
  } finally {
    if (ctx) await removeTmp(ctx);
    release?.();
  }
  return result;
}

async function readView(d: StorageAPI | null, bucket: string, path: string, i: number): Promise<DriveView> {
  const view: DriveView = { drive: d, raw: null, file: null, metaErr: null, entries: null, byId: new Map() };
  if (!d) {
    view.metaErr = new StorageError('DriveNotFound', `drive ${i + 1} of the set is missing`);
    return view;
  }
  const [meta, entries] = await Promise.allSettled([d.readMetadata(bucket, path), d.listDir(bucket, path)]);
  if (meta.status === 'fulfilled') {
    view.raw = meta.value;
    try {
      view.file = decodeMeta(meta.value);
      for (const v of view.file.versions) view.byId.set(v.versionId, v);
    } catch (e) {
      view.metaErr = e instanceof Error ? e : new Error(String(e));
    }
  } else {
    view.metaErr = meta.reason instanceof Error ? meta.reason : new Error(String(meta.reason));
  }
  if (entries.status === 'fulfilled') view.entries = new Set(entries.value);
  return view;
}

/** The drive's state for the object as a whole, before looking at versions. */
function metaState(view: DriveView): DriveState {
  if (!view.drive) return 'offline';
  if (!view.metaErr) return 'ok';
  const s = stateOf(view.metaErr);
  return s === 'missing' ? 'ok' : s; // absence is judged per version
}

async function healLocked(ctx: Ctx): Promise<void> {
  const { set, bucket, path, n, result, opts } = ctx;
  ctx.views = await Promise.all(set.drives.map((d, i) => readView(d, bucket, path, i)));
  for (let p = 0; p < n; p++) result.before[p] = metaState(ctx.views[p]!);

  // Every copy of every version id, grouped by signature (what drives must agree on).
  const groupsById = new Map<string, Map<string, number[]>>();
  const reps = new Map<string, ObjectVersion>();
  ctx.views.forEach((view, p) => {
    for (const v of view.file?.versions ?? []) {
      if (opts.versionId !== undefined && v.versionId !== opts.versionId) continue;
      const sig = signature(v);
      let groups = groupsById.get(v.versionId);
      if (!groups) {
        groups = new Map();
        groupsById.set(v.versionId, groups);
      }
      const g = groups.get(sig);
      if (g) g.push(p);
      else groups.set(sig, [p]);
      if (!reps.has(sig)) reps.set(sig, v);
    }
  });

  const ids = [...groupsById.keys()].map((id) => {
    const groups = [...groupsById.get(id)!.entries()].map(([sig, positions]) => ({
      sig,
      positions,
      rep: reps.get(sig)!,
    }));
    // The most held copy; on a tie the newest write.
    groups.sort((a, b) => b.positions.length - a.positions.length || compareVersions(a.rep, b.rep));
    return { id, groups };
  });
  ids.sort((a, b) => compareVersions(a.groups[0]!.rep, b.groups[0]!.rep));

  for (const { id, groups } of ids) {
    checkAbort(opts.signal);
    const winner = groups[0]!;
    const q = quorumOf(winner.rep, n);
    let vr: VersionHealResult;
    if (winner.positions.length >= q) {
      // Other copies of the id (another signature) are outdated: replaced where they are.
      vr = await healAgreed(ctx, id, winner.sig, winner.positions);
    } else {
      vr = await judgeMinority(ctx, id, groups);
    }
    result.versions.push(vr);
  }

  if (!opts.dryRun) await Promise.all(ctx.plans.map((_, p) => commitDrive(ctx, p)));
  await removeOrphans(ctx);
  finish(ctx);
}

// --- agreed versions -----------------------------------------------------------------------------

/** Per drive, for a data version: which part numbers need rebuilding, or all (`'all'`: a new data dir). */
type NeedData = 'all' | Set<number>;

async function healAgreed(ctx: Ctx, id: string, sig: string, holders: number[]): Promise<VersionHealResult> {
  const { n, views, plans, opts } = ctx;
  // The copy most holders have in full: what reads return, and what every drive should hold.
  const copies = new Map<string, number[]>();
  for (const p of holders) {
    const k = contentKey(views[p]!.byId.get(id)!);
    const c = copies.get(k);
    if (c) c.push(p);
    else copies.set(k, [p]);
  }
  let best: number[] = [];
  for (const c of copies.values()) if (c.length > best.length) best = c;
  const canon = views[best[0]!]!.byId.get(id)!;
  const canonKey = contentKey(canon);
  const isHolder = new Set(holders);

  const vr: VersionHealResult = {
    versionId: id,
    type: canon.type,
    status: 'ok',
    before: new Array<DriveState>(n).fill('ok'),
    after: [],
    drives: [],
    bytesWritten: 0,
  };
  const before = vr.before;
  for (let p = 0; p < n; p++) {
    const view = views[p]!;
    if (!view.drive) before[p] = 'offline';
    else if (view.metaErr) before[p] = stateOf(view.metaErr);
    else {
      const own = view.byId.get(id);
      if (!own) before[p] = 'missing';
      else if (signature(own) !== sig) before[p] = 'outdated';
      else if (
        contentKey(own) !== canonKey ||
        (own.type === 'object' &&
          canon.type === 'object' &&
          own.erasure.index !== canon.erasure.distribution[p])
      )
        before[p] = 'outdated';
    }
  }

  const need = new Map<number, NeedData>();
  let inlineFrames: Buffer[] | null = null;
  try {
    if (canon.type === 'object') {
      if (!geometryFits(canon, n)) throw new Unrecoverable(`its erasure geometry does not fit ${n} drives`);
      if (canon.dataDir === '') inlineFrames = await checkInline(ctx, id, canon, holders, before);
      else await checkShards(ctx, canon, holders, before, need);
    }
  } catch (e) {
    if (e instanceof Aborted) throw e;
    return unrecoverable(ctx, vr, e);
  }

  const targets: number[] = [];
  for (let p = 0; p < n; p++) {
    if (before[p] === 'ok' || before[p] === 'offline') continue;
    targets.push(p);
    if (canon.type === 'object' && canon.dataDir !== '' && !need.has(p)) {
      // Not a holder (or its data dir is gone): a whole new data dir. A holder whose only fault is
      // its metadata needs none.
      if (!isHolder.has(p) || !views[p]!.entries?.has(`${canon.dataDir}/`)) need.set(p, 'all');
    }
  }
  vr.drives = targets;
  if (canon.type === 'object' && canon.dataDir !== '') {
    // Every part needs k good shards somewhere to be read, or rebuilt.
    const k = canon.erasure.dataBlocks;
    for (const part of canon.parts) {
      const good = holders.filter((p) => before[p] !== 'offline' && !partNeeded(need.get(p), part.number));
      if (good.length < k) {
        return unrecoverable(
          ctx,
          vr,
          new Unrecoverable(`part ${part.number}: ${good.length} good shards, ${k} needed`),
        );
      }
    }
  }
  if (targets.length === 0) {
    vr.after = [...before];
    return vr;
  }
  if (opts.dryRun) {
    vr.status = 'healed';
    vr.after = [...before];
    return vr;
  }

  const pending: Pending = { kind: 'heal', targets, ready: new Set(), bytes: new Map() };
  const failed = new Map<number, Error>();
  if (canon.type === 'object' && canon.dataDir !== '') {
    try {
      await rebuildShards(ctx, id, canon, holders, need, before, failed, pending.bytes);
    } catch (e) {
      if (e instanceof Aborted) throw e;
      return unrecoverable(ctx, vr, e);
    }
  }
  // Sources found rotten on the way became targets too.
  for (let p = 0; p < n; p++) if (need.has(p) && !targets.includes(p)) targets.push(p);
  for (const p of targets) {
    const plan = plans[p]!;
    if (failed.has(p)) {
      dropMoves(plan, id);
      continue;
    }
    pending.ready.add(p);
    plan.shardBytes += pending.bytes.get(p) ?? 0;
    const own = views[p]!.byId.get(id);
    let copy: ObjectVersion;
    if (inlineFrames && canon.type === 'object') {
      const shard = canon.erasure.distribution[p]! - 1;
      const frame =
        before[p] === 'outdated' && own?.type === 'object' && isHolder.has(p) ? own.inline : undefined;
      copy = ownCopy(canon, p, frame ?? inlineFrames[shard]!);
    } else {
      copy = ownCopy(canon, p);
    }
    plan.put.set(id, copy);
    // The data dir of the copy it replaces, if another one.
    if (own?.type === 'object' && own.dataDir && own.dataDir !== (copy as ObjectDataVersion).dataDir) {
      plan.deleteAfter.add(own.dataDir);
    }
  }
  vr.drives = targets;
  if (failed.size > 0) vr.error = [...failed].map(([p, e]) => `drive ${p + 1}: ${e.message}`).join('; ');
  // `status` and `after` are settled once the drives have committed (`finish`).
  ctx.pending.set(vr, pending);
  return vr;
}

/** Forgets the rebuilt files of version `id` on a drive (its temp dir goes at the end). */
function dropMoves(plan: DrivePlan, id: string): void {
  const dir = plan.tmpDirs.get(id);
  if (!dir) return;
  plan.fileMoves = plan.fileMoves.filter((m) => !m.tmp.startsWith(`${dir}/`));
  plan.dirMoves = plan.dirMoves.filter((m) => m.tmp !== dir);
}

function unrecoverable(ctx: Ctx, vr: VersionHealResult, e: unknown): VersionHealResult {
  vr.status = 'unrecoverable';
  vr.error = message(e);
  vr.after = [...vr.before];
  // Nothing of this version is written anywhere.
  for (const plan of ctx.plans) {
    plan.put.delete(vr.versionId);
    dropMoves(plan, vr.versionId);
  }
  return vr;
}

/** Verifies the inline shards of the holders (always: they are in memory) and returns all `n` frames. */
async function checkInline(
  ctx: Ctx,
  id: string,
  v: ObjectDataVersion,
  holders: number[],
  before: DriveState[],
): Promise<Buffer[]> {
  const { n, set } = ctx;
  const { dataBlocks: k, parityBlocks: m, blockSize, distribution } = v.erasure;
  const layout = new PartLayout(v.size, blockSize, k);
  const frames: (Buffer | null)[] = new Array(n).fill(null);
  const holderOf: (number | undefined)[] = new Array(n);
  for (const p of holders) {
    const own = ctx.views[p]!.byId.get(id) as ObjectDataVersion;
    const s = distribution[p]! - 1;
    holderOf[s] = p;
    if (own.inline && own.inline.length === layout.shardFileSize) frames[s] = own.inline;
    else before[p] = 'corrupt';
  }
  const coder = set.coder(k, m);
  const data = Buffer.alloc(v.size);
  let rotten: number[];
  try {
    rotten = await coder.decodeFrames(
      frames,
      data,
      { size: v.size, blockSize, firstBlock: 0, blockCount: layout.blocks },
      frameOptions(v),
    );
  } catch (e) {
    throw new Unrecoverable(`fewer than ${k} good inline shards (${message(e)})`);
  }
  for (const s of rotten) {
    const p = holderOf[s];
    if (p !== undefined) before[p] = 'corrupt';
  }
  const out = Array.from({ length: n }, () => Buffer.alloc(layout.shardFileSize));
  await coder.encodeFrames(data, out, { size: v.size, blockSize, firstBlock: 0 }, frameOptions(v));
  return out;
}

/**
 * Checks the holders' shard files: present, regular, the right size, and (deep) every frame's
 * digest. Marks `before` and records in `need` which parts of which holder to rebuild.
 */
async function checkShards(
  ctx: Ctx,
  v: ObjectDataVersion,
  holders: number[],
  before: DriveState[],
  need: Map<number, NeedData>,
): Promise<void> {
  const { views, bucket, path } = ctx;
  const k = v.erasure.dataBlocks;
  const mark = (p: number, part: number, s: DriveState) => {
    if (s === 'offline') {
      before[p] = 'offline';
      need.delete(p);
      return;
    }
    before[p] = worse(before[p]!, s);
    const cur = need.get(p);
    if (cur === 'all') return;
    if (cur) cur.add(part);
    else need.set(p, new Set([part]));
  };
  const live = holders.filter((p) => before[p] !== 'offline' && before[p] !== 'corrupt');
  const withDir: number[] = [];
  for (const p of live) {
    if (views[p]!.entries?.has(`${v.dataDir}/`)) withDir.push(p);
    else {
      before[p] = 'missing';
      need.set(p, 'all');
    }
  }
  await Promise.all(
    withDir.map(async (p) => {
      const d = views[p]!.drive!;
      for (const part of v.parts) {
        const want = new PartLayout(part.size, v.erasure.blockSize, k).shardFileSize;
        try {
          const st = await d.statFile(ctx.bucket, `${path}/${v.dataDir}/part.${part.number}`);
          if (st.size !== want) mark(p, part.number, 'corrupt');
        } catch (e) {
          mark(p, part.number, stateOf(e));
          if (before[p] === 'offline') return;
        }
      }
    }),
  );
  if (!ctx.opts.deep) return;
  for (const part of v.parts) {
    const good = withDir.filter((p) => before[p] !== 'offline' && !partNeeded(need.get(p), part.number));
    const bad = await verifyPart(ctx, bucket, v, part, good);
    for (const [p, s] of bad) mark(p, part.number, s);
  }
}

function partNeeded(need: NeedData | undefined, part: number): boolean {
  return need === 'all' || need?.has(part) === true;
}

/** Reads every frame of one part from `positions` and checks each digest; returns the drives found bad. */
async function verifyPart(
  ctx: Ctx,
  bucket: string,
  v: ObjectDataVersion,
  part: VersionPart,
  positions: number[],
): Promise<Map<number, DriveState>> {
  const { n, set, views, path, opts } = ctx;
  const { dataBlocks: k, parityBlocks: m, blockSize, distribution } = v.erasure;
  const bad = new Map<number, DriveState>();
  const layout = new PartLayout(part.size, blockSize, k);
  if (layout.blocks === 0 || positions.length === 0) return bad;
  const coder = set.coder(k, m);
  const file = `${path}/${v.dataDir}/part.${part.number}`;
  const maxLen = layout.framesLength(0, Math.min(HEAL_BATCH_BLOCKS, layout.blocks));
  const bufs = new Map(positions.map((p) => [p, Buffer.allocUnsafe(maxLen)]));
  const out = Buffer.allocUnsafe(layout.dataLength(0, Math.min(HEAL_BATCH_BLOCKS, layout.blocks)));
  const holderOf: (number | undefined)[] = new Array(n);
  for (const p of positions) holderOf[distribution[p]! - 1] = p;
  for (let b = 0; b < layout.blocks; b += HEAL_BATCH_BLOCKS) {
    checkAbort(opts.signal);
    const nb = Math.min(HEAL_BATCH_BLOCKS, layout.blocks - b);
    const off = layout.frameOffset(b);
    const len = layout.framesLength(b, nb);
    const frames: (Buffer | null)[] = new Array(n).fill(null);
    await Promise.all(
      positions.map(async (p) => {
        if (bad.has(p)) return;
        try {
          frames[distribution[p]! - 1] = await views[p]!.drive!.readFile(bucket, file, off, len, bufs.get(p));
        } catch (e) {
          bad.set(p, stateOf(e));
        }
      }),
    );
    if (frames.filter((f) => f !== null).length < k) {
      throw new Unrecoverable(`part ${part.number}: fewer than ${k} shards readable at block ${b}`);
    }
    let rotten: number[];
    try {
      rotten = await coder.decodeFrames(
        frames,
        out.subarray(0, layout.dataLength(b, nb)),
        { size: part.size, blockSize, firstBlock: b, blockCount: nb },
        frameOptions(v),
      );
    } catch (e) {
      throw new Unrecoverable(
        `part ${part.number}: fewer than ${k} good shards at block ${b} (${message(e)})`,
      );
    }
    for (const s of rotten) {
      const p = holderOf[s];
      if (p !== undefined) bad.set(p, 'corrupt');
    }
  }
  return bad;
}

/** A temp dir on drive `p` for version `id`, made on first use. */
function tmpDirOf(ctx: Ctx, p: number, id: string): string {
  const plan = ctx.plans[p]!;
  let dir = plan.tmpDirs.get(id);
  if (!dir) {
    dir = `${TMP_DIR}/heal-${randomUUID()}`;
    plan.tmpDirs.set(id, dir);
  }
  return dir;
}

async function ensureVolume(d: StorageAPI, volume: string): Promise<boolean> {
  try {
    await d.makeVolume(volume);
    return true;
  } catch (e) {
    if (isStorageError(e, 'VolumeExists')) return false;
    throw e;
  }
}

async function createTmpFile(d: StorageAPI, file: string, size: number): Promise<FileWriter> {
  try {
    return await d.createFile(SYSTEM_VOLUME, file, size);
  } catch (e) {
    // A drive emptied under us has lost its system volume too.
    if (!isStorageError(e, 'VolumeNotFound')) throw e;
    await ensureVolume(d, SYSTEM_VOLUME);
    return await d.createFile(SYSTEM_VOLUME, file, size);
  }
}

/**
 * Rebuilds the shard files `need` asks for into temp dirs on their drives, part by part, batch by
 * batch, from verified shards of the holders, and plans their move into place. A source found
 * rotten on the way becomes a target of its own (a further pass over that part). A target whose
 * writes fail is left out (`failed`).
 */
async function rebuildShards(
  ctx: Ctx,
  id: string,
  v: ObjectDataVersion,
  holders: number[],
  need: Map<number, NeedData>,
  before: DriveState[],
  failed: Map<number, Error>,
  bytes: Map<number, number>,
): Promise<void> {
  const { plans, path } = ctx;
  const k = v.erasure.dataBlocks;
  for (const part of v.parts) {
    let targets = [...need]
      .filter(([p, nd]) => partNeeded(nd, part.number) && !failed.has(p))
      .map(([p]) => p);
    let sources = holders.filter(
      (p) => !partNeeded(need.get(p), part.number) && !failed.has(p) && before[p] !== 'offline',
    );
    while (targets.length > 0) {
      if (sources.length < k) {
        throw new Unrecoverable(`part ${part.number}: ${sources.length} good shards, ${k} needed`);
      }
      const { rotten, gone } = await rebuildPart(ctx, id, v, part, sources, targets, failed, bytes);
      for (const p of gone) before[p] = 'offline';
      for (const p of targets) {
        if (failed.has(p)) continue;
        const tmp = `${tmpDirOf(ctx, p, id)}/part.${part.number}`;
        if (need.get(p) !== 'all')
          plans[p]!.fileMoves.push({ tmp, dest: `${path}/${v.dataDir}/part.${part.number}` });
      }
      // Sources that turned out rotten: rebuild their shard too, from the others.
      for (const p of rotten) {
        before[p] = worse(before[p]!, 'corrupt');
        const nd = need.get(p);
        if (nd === undefined) need.set(p, new Set([part.number]));
        else if (nd !== 'all') nd.add(part.number);
      }
      sources = sources.filter((p) => !rotten.includes(p) && !gone.includes(p));
      targets = rotten.filter((p) => !failed.has(p));
    }
  }
  for (const [p, nd] of need) {
    if (nd === 'all' && !failed.has(p))
      plans[p]!.dirMoves.push({ tmp: tmpDirOf(ctx, p, id), dataDir: v.dataDir });
  }
}

/**
 * One pass over a part: decode from `sources`, re-encode, write the targets' shards. Returns the
 * sources found rotten (or unreadable) and those that went offline.
 */
async function rebuildPart(
  ctx: Ctx,
  id: string,
  v: ObjectDataVersion,
  part: VersionPart,
  sources: number[],
  targets: number[],
  failed: Map<number, Error>,
  bytes: Map<number, number>,
): Promise<{ rotten: number[]; gone: number[] }> {
  const { n, set, views, bucket, path, opts } = ctx;
  const { dataBlocks: k, parityBlocks: m, blockSize, distribution } = v.erasure;
  const coder = set.coder(k, m);
  const fo = frameOptions(v);
  const layout = new PartLayout(part.size, blockSize, k);
  const file = `${path}/${v.dataDir}/part.${part.number}`;
  const shardOf = (p: number) => distribution[p]! - 1;

  const writers = new Map<number, FileWriter>();
  const fail = async (p: number, e: unknown) => {
    failed.set(p, e instanceof Error ? e : new Error(String(e)));
    const w = writers.get(p);
    writers.delete(p);
    await w?.abort();
  };
  await Promise.all(
    targets.map(async (p) => {
      try {
        const w = await createTmpFile(
          views[p]!.drive!,
          `${tmpDirOf(ctx, p, id)}/part.${part.number}`,
          layout.shardFileSize,
        );
        writers.set(p, w);
      } catch (e) {
        await fail(p, e);
      }
    }),
  );

  const holderOf: (number | undefined)[] = new Array(n);
  for (const p of sources) holderOf[shardOf(p)] = p;
  // Data shards first: decoding from them is a copy, no arithmetic.
  const order = sources.map(shardOf).sort((a, b) => a - b);
  const rotten = new Set<number>();
  const gone = new Set<number>();
  const batch = Math.min(HEAL_BATCH_BLOCKS, Math.max(1, layout.blocks));
  const maxLen = layout.framesLength(0, Math.min(batch, layout.blocks));
  const srcBufs = new Map<number, Buffer>();
  const encoded = Array.from({ length: n }, () => Buffer.allocUnsafe(maxLen));
  const out = Buffer.allocUnsafe(layout.dataLength(0, Math.min(batch, layout.blocks)));
  try {
    for (let b = 0; b < layout.blocks && writers.size > 0; b += batch) {
      checkAbort(opts.signal);
      const nb = Math.min(batch, layout.blocks - b);
      const off = layout.frameOffset(b);
      const len = layout.framesLength(b, nb);
      const frames: (Buffer | null)[] = new Array(n).fill(null);
      const tried = new Set<number>();
      const read = async (s: number) => {
        tried.add(s);
        const p = holderOf[s]!;
        if (rotten.has(p) || gone.has(p)) return;
        let buf = srcBufs.get(s);
        if (!buf) {
          buf = Buffer.allocUnsafe(maxLen);
          srcBufs.set(s, buf);
        }
        try {
          frames[s] = await views[p]!.drive!.readFile(bucket, file, off, len, buf);
        } catch (e) {
          if (stateOf(e) === 'offline') gone.add(p);
          else rotten.add(p);
        }
      };
      await Promise.all(order.slice(0, k).map(read));
      const data = out.subarray(0, layout.dataLength(b, nb));
      for (;;) {
        const got = frames.filter((f) => f !== null).length;
        const untried = order.filter((s) => !tried.has(s));
        if (got >= k) {
          try {
            const r = await coder.decodeFrames(
              frames,
              data,
              { size: part.size, blockSize, firstBlock: b, blockCount: nb },
              fo,
            );
            for (const s of r) rotten.add(holderOf[s]!);
            break;
          } catch (e) {
            if (!tooFewShards(e) || untried.length === 0) {
              throw new Unrecoverable(
                `part ${part.number}: too few good shards at block ${b} (${message(e)})`,
              );
            }
            // Some of them were rotten: read the others and decode again (the rotten are re-found).
            await Promise.all(untried.map(read));
            continue;
          }
        }
        if (untried.length === 0) {
          throw new Unrecoverable(`part ${part.number}: ${got} of ${k} shards readable at block ${b}`);
        }
        await Promise.all(untried.slice(0, k - got).map(read));
      }
      const views2 = encoded.map((f) => f.subarray(0, len));
      await coder.encodeFrames(data, views2, { size: part.size, blockSize, firstBlock: b }, fo);
      await Promise.all(
        [...writers].map(async ([p, w]) => {
          try {
            await w.write(views2[shardOf(p)]!);
            bytes.set(p, (bytes.get(p) ?? 0) + len);
          } catch (e) {
            await fail(p, e);
          }
        }),
      );
    }
    await Promise.all(
      [...writers].map(async ([p, w]) => {
        try {
          await w.close();
        } catch (e) {
          await fail(p, e);
        }
      }),
    );
  } catch (e) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw e;
  }
  return { rotten: [...rotten], gone: [...gone] };
}

// --- versions no quorum holds --------------------------------------------------------------------

/** When each drive was formatted (ms), or null when unknown; read once per heal, only if needed. */
function formatTimes(ctx: Ctx): Promise<(number | null)[]> {
  ctx.formats ??= Promise.all(
    ctx.set.drives.map(async (d) => {
      if (!d) return null;
      try {
        const t = Date.parse((await readFormat(d)).createdAt);
        return Number.isNaN(t) ? null : t;
      } catch {
        return null;
      }
    }),
  );
  return ctx.formats;
}

/**
 * A version held by fewer drives than its read quorum: dangling (remove it) when more than `n - q`
 * drives *provably* lack it, so that even if every drive that did not answer held it there would be
 * too few to read it: a write that never committed. Otherwise it is left alone: the drives away may
 * hold it. A drive is proof of absence only if it answered (no metadata, no such version, or
 * another copy of it), and was not formatted after the version was written (a replacement drive
 * lacks everything; that says nothing about whether a write reached its slot).
 */
async function judgeMinority(
  ctx: Ctx,
  id: string,
  groups: { sig: string; positions: number[]; rep: ObjectVersion }[],
): Promise<VersionHealResult> {
  const { n, views, plans, opts } = ctx;
  const rep = groups[0]!.rep;
  const vr: VersionHealResult = {
    versionId: id,
    type: rep.type,
    status: 'unrecoverable',
    before: new Array<DriveState>(n).fill('ok'),
    after: [],
    drives: [],
    bytesWritten: 0,
  };
  const holding = new Set(groups.flatMap((g) => g.positions));
  for (let p = 0; p < n; p++) {
    const view = views[p]!;
    if (!view.drive) vr.before[p] = 'offline';
    else if (view.metaErr) vr.before[p] = stateOf(view.metaErr);
    else if (!holding.has(p)) vr.before[p] = 'missing';
  }
  const formats = await formatTimes(ctx);
  const dangling: number[] = [];
  for (const g of groups) {
    const inGroup = new Set(g.positions);
    let absent = 0;
    for (let p = 0; p < n; p++) {
      if (inGroup.has(p)) continue;
      const view = views[p]!;
      if (!view.drive) continue;
      const answered =
        view.metaErr === null || isStorageError(view.metaErr, 'FileNotFound', 'VolumeNotFound');
      const formatted = formats[p];
      const newer = formatted !== null && formatted !== undefined && formatted > g.rep.modTime;
      if (answered && !newer) absent++;
    }
    if (absent > n - quorumOf(g.rep, n)) dangling.push(...g.positions);
  }
  if (dangling.length === 0) {
    vr.error = `held by ${holding.size} of ${n} drives, ${quorumOf(rep, n)} needed, and not provably dangling`;
    vr.after = [...vr.before];
    return vr;
  }
  vr.status = dangling.length === holding.size ? 'removed' : 'unrecoverable';
  if (vr.status === 'unrecoverable') vr.error = 'some copies are dangling, others not provably';
  else {
    // Drives without it are right not to have it.
    for (let p = 0; p < n; p++) if (vr.before[p] === 'missing') vr.before[p] = 'ok';
  }
  for (const p of dangling) vr.before[p] = 'outdated';
  vr.drives = dangling;
  if (opts.dryRun || vr.status !== 'removed') {
    vr.after = [...vr.before];
    return vr;
  }
  for (const p of dangling) {
    const plan = plans[p]!;
    plan.remove.add(id);
    const own = views[p]!.byId.get(id);
    if (own?.type === 'object' && own.dataDir) plan.deleteAfter.add(own.dataDir);
  }
  ctx.pending.set(vr, { kind: 'remove', targets: dangling, ready: new Set(dangling), bytes: new Map() });
  return vr;
}

// --- commit ------------------------------------------------------------------------------------

/** Moves a rebuilt part file over the old one (a directory in its way is removed first). */
async function moveFile(d: StorageAPI, bucket: string, tmp: string, dest: string): Promise<void> {
  try {
    await d.rename(SYSTEM_VOLUME, tmp, bucket, dest);
  } catch (e) {
    if (!isStorageError(e, 'IsNotRegular', 'VolumeNotEmpty')) throw e;
    await d.delete(bucket, dest, { recursive: true });
    await d.rename(SYSTEM_VOLUME, tmp, bucket, dest);
  }
}

/**
 * Commits drive `p`'s plan: rebuilt part files over rotten ones, rebuilt data dirs into place, then
 * its metadata file (the last data dir goes with it through `renameData`). On failure the data dirs
 * moved in are taken out again (the metadata never named them) and the drive stays as it was.
 */
async function commitDrive(ctx: Ctx, p: number): Promise<void> {
  const { bucket, path, views, plans, result } = ctx;
  const plan = plans[p]!;
  const view = views[p]!;
  const d = view.drive;
  if (!d || !planChanges(plan)) return;
  // What it keeps, what it gains (replacing its copy of the same id); `encodeMeta` orders them.
  const kept = (view.file?.versions ?? []).filter(
    (v) => !plan.remove.has(v.versionId) && !plan.put.has(v.versionId),
  );
  const file: MetaFile = { versions: [...kept, ...plan.put.values()].sort(compareVersions) };
  const meta = encodeMeta(file);
  const moved: string[] = [];
  let written = 0;
  try {
    checkAbort(ctx.opts.signal);
    if (isStorageError(view.metaErr, 'VolumeNotFound')) {
      if (await ensureVolume(d, bucket)) result.volumesMade.push(p);
    }
    if (isStorageError(view.metaErr, 'IsNotRegular')) {
      await d.delete(bucket, `${path}/${META_FILE}`, { recursive: true });
    }
    for (const m of plan.fileMoves) await moveFile(d, bucket, m.tmp, m.dest);
    let metaWritten = false;
    for (let i = 0; i < plan.dirMoves.length; i++) {
      const { tmp, dataDir } = plan.dirMoves[i]!;
      // Whatever sits at that name is not what the drive's metadata names (else it would be a holder).
      if (view.entries?.has(`${dataDir}/`) || view.entries?.has(dataDir)) {
        await d.delete(bucket, `${path}/${dataDir}`, { recursive: true });
      }
      if (i === plan.dirMoves.length - 1) {
        await d.renameData(SYSTEM_VOLUME, tmp, dataDir, meta, bucket, path);
        metaWritten = true;
        written += meta.length;
      } else {
        await d.rename(SYSTEM_VOLUME, tmp, bucket, `${path}/${dataDir}`);
      }
      moved.push(dataDir);
    }
    if (!metaWritten) {
      if (file.versions.length === 0) {
        if (view.raw || isStorageError(view.metaErr, 'FileCorrupt', 'IsNotRegular', 'FaultyDrive')) {
          await d.delete(bucket, `${path}/${META_FILE}`, { recursive: true });
        }
      } else if (!view.raw || !meta.equals(view.raw)) {
        await d.writeMetadata(bucket, path, meta);
        written += meta.length;
      }
    }
    plan.committed = true;
    plan.final = file;
  } catch (e) {
    plan.error = e instanceof Error ? e : new Error(String(e));
    for (const dataDir of moved) {
      await d.delete(bucket, `${path}/${dataDir}`, { recursive: true }).catch(() => {});
    }
    return;
  }
  result.bytesWrittenPerDrive[p]! += plan.shardBytes + written;
  const named = new Set(file.versions.map((v) => (v.type === 'object' ? v.dataDir : '')));
  for (const dataDir of plan.deleteAfter) {
    if (!named.has(dataDir) && !(await ctx.set.isStreaming(bucket, path, dataDir)))
      await d.delete(bucket, `${path}/${dataDir}`, { recursive: true }).catch(() => {});
  }
}

/**
 * Data dirs no version names (the leftover of a crash between moving a data dir in and writing the
 * metadata), on drives whose metadata is known. A data dir that any copy on any drive names is kept,
 * even where that drive's metadata does not: it may hold a shard a version still needs.
 */
async function removeOrphans(ctx: Ctx): Promise<void> {
  const { views, plans, bucket, path, result, opts } = ctx;
  const named = new Set<string>();
  views.forEach((view, p) => {
    const plan = plans[p]!;
    for (const v of [...(view.file?.versions ?? []), ...(plan.final?.versions ?? [])]) {
      if (v.type === 'object' && v.dataDir) named.add(v.dataDir);
    }
  });
  await Promise.all(
    views.map(async (view, p) => {
      const d = view.drive;
      const plan = plans[p]!;
      if (!d || !view.entries || !(view.file || plan.committed)) return;
      for (const entry of view.entries) {
        if (!entry.startsWith(DATA_DIR_PREFIX) || !entry.endsWith('/')) continue;
        const dataDir = entry.slice(0, -1);
        if (named.has(dataDir) || (plan.committed && plan.deleteAfter.has(dataDir))) continue;
        // A GET still streams what an overwrite replaced: its data dir goes when the stream ends.
        if (await ctx.set.isStreaming(bucket, path, dataDir)) continue;
        if (opts.dryRun) {
          result.orphansRemoved++;
          continue;
        }
        try {
          await d.delete(bucket, `${path}/${dataDir}`, { recursive: true });
          result.orphansRemoved++;
        } catch {
          // Left for the next heal.
        }
      }
    }),
  );
}

/** Temp dirs left behind (rebuilt files whose move failed, or whose version turned unrecoverable). */
async function removeTmp(ctx: Ctx): Promise<void> {
  await Promise.all(
    ctx.plans.map(async (plan, p) => {
      const d = ctx.set.drives[p];
      if (!d) return;
      for (const dir of plan.tmpDirs.values()) {
        await d.delete(SYSTEM_VOLUME, dir, { recursive: true }).catch(() => {});
      }
    }),
  );
}

/** Settles each version's status and `after`, and the object's totals, from what committed. */
function finish(ctx: Ctx): void {
  const { result, plans, n } = ctx;
  for (const vr of result.versions) {
    const pending = ctx.pending.get(vr);
    if (pending) {
      vr.after = [...vr.before];
      vr.bytesWritten = 0;
      let done = 0;
      const errors: string[] = vr.error ? [vr.error] : [];
      for (const p of pending.targets) {
        const plan = plans[p]!;
        if (pending.ready.has(p) && plan.committed) {
          vr.after[p] = 'ok';
          vr.bytesWritten += pending.bytes.get(p) ?? 0;
          done++;
        } else if (plan.error) {
          if (stateOf(plan.error) === 'offline') vr.after[p] = 'offline';
          errors.push(`drive ${p + 1}: ${plan.error.message}`);
        }
      }
      const all = done === pending.targets.length;
      if (pending.kind === 'remove') vr.status = all ? 'removed' : 'failed';
      else vr.status = all ? 'healed' : done > 0 ? 'partial' : 'failed';
      if (errors.length > 0) vr.error = errors.join('; ');
    }
    if (vr.after.length === 0) vr.after = [...vr.before];
    if (vr.status === 'healed' || vr.status === 'partial') result.healed.push(vr.versionId);
    else if (vr.status === 'removed') result.removed.push(vr.versionId);
    else if (vr.status === 'unrecoverable') result.unrecoverable.push(vr.versionId);
    else if (vr.status === 'failed') result.failed.push(vr.versionId);
  }
  for (let p = 0; p < n; p++) {
    let b = result.before[p]!;
    // A drive whose metadata was unreadable is whole again once its new metadata is committed.
    let a: DriveState = plans[p]!.committed ? 'ok' : b;
    for (const vr of result.versions) {
      b = worse(b, vr.before[p]!);
      a = worse(a, vr.after[p]!);
    }
    result.before[p] = b;
    result.after[p] = a;
  }
  result.bytesWritten = result.bytesWrittenPerDrive.reduce((s, x) => s + x, 0);
}

// --- buckets and everything ----------------------------------------------------------------------

/**
 * The keys of `bucket` on any drive, each once, in S3 order: each drive's walk merged. A drive
 * whose walk fails (offline, no such volume) is left out; keys that show up again behind the merge
 * (made by a heal while walking) are skipped.
 */
export async function* listKeys(
  set: ErasureSet,
  bucket: string,
  opts: { prefix?: string; after?: string } = {},
): AsyncGenerator<string> {
  const its = set.drives.map((d) =>
    d ? d.walk(bucket, { prefix: opts.prefix, after: opts.after })[Symbol.asyncIterator]() : null,
  );
  const heads: (string | undefined)[] = new Array(its.length).fill(undefined);
  const advance = async (i: number): Promise<void> => {
    const it = its[i];
    if (!it) return;
    try {
      const r = await it.next();
      if (r.done) {
        its[i] = null;
        heads[i] = undefined;
      } else heads[i] = r.value.name;
    } catch {
      its[i] = null;
      heads[i] = undefined;
    }
  };
  try {
    await Promise.all(its.map((_, i) => advance(i)));
    let last: string | undefined;
    for (;;) {
      let min: string | undefined;
      for (const h of heads) if (h !== undefined && (min === undefined || compareKeys(h, min) < 0)) min = h;
      if (min === undefined) return;
      if (last === undefined || compareKeys(min, last) > 0) {
        last = min;
        yield min;
      }
      await Promise.all(heads.map((h, i) => (h === min ? advance(i) : undefined)));
    }
  } finally {
    await Promise.all(its.map((it) => it?.return?.(undefined).catch(() => {})));
  }
}

export interface HealBucketOptions {
  prefix?: string;
  deep?: boolean;
  dryRun?: boolean;
  signal?: AbortSignal;
  lockTimeoutMs?: number;
  /** Pause between objects (the scanner's pace). */
  objectDelayMs?: number;
  /** Told every object's result, clean ones included. */
  onResult?: (r: HealResult) => void;
  /** How many results that are not clean to keep in the summary (default 1000). */
  keepResults?: number;
}

export interface HealBucketResult {
  bucket: string;
  prefix: string;
  /** Objects looked at. */
  objects: number;
  /** Objects found clean. */
  clean: number;
  /** Versions rebuilt, removed as dangling, left unrecoverable. */
  healedVersions: number;
  removedVersions: number;
  unrecoverableVersions: number;
  /** Objects whose heal could not run (`error`) or failed on some version. */
  errors: number;
  bytesWritten: number;
  /** The results that were not clean (up to `keepResults`). */
  results: HealResult[];
  aborted: boolean;
}

/** Heals every object of `bucket` (under `prefix`) found on any drive, one at a time. */
export async function healBucket(
  set: ErasureSet,
  bucket: string,
  opts: HealBucketOptions = {},
): Promise<HealBucketResult> {
  const summary: HealBucketResult = {
    bucket,
    prefix: opts.prefix ?? '',
    objects: 0,
    clean: 0,
    healedVersions: 0,
    removedVersions: 0,
    unrecoverableVersions: 0,
    errors: 0,
    bytesWritten: 0,
    results: [],
    aborted: false,
  };
  const keep = opts.keepResults ?? 1000;
  for await (const key of listKeys(set, bucket, { prefix: opts.prefix })) {
    if (opts.signal?.aborted) break;
    const r = await healObject(set, bucket, key, {
      deep: opts.deep,
      dryRun: opts.dryRun,
      signal: opts.signal,
      lockTimeoutMs: opts.lockTimeoutMs,
    });
    summary.objects++;
    summary.healedVersions += r.healed.length;
    summary.removedVersions += r.removed.length;
    summary.unrecoverableVersions += r.unrecoverable.length;
    summary.bytesWritten += r.bytesWritten;
    if (r.error !== undefined || r.failed.length > 0) summary.errors++;
    if (isClean(r)) summary.clean++;
    else if (summary.results.length < keep) summary.results.push(r);
    try {
      opts.onResult?.(r);
    } catch {
      // A reporting hook must not stop the heal.
    }
    await sleep(opts.objectDelayMs ?? 0, opts.signal);
  }
  summary.aborted = opts.signal?.aborted ?? false;
  return summary;
}

export interface VolumeHealResult {
  /** Buckets made on the drives (positions) that lacked them. */
  made: { bucket: string; drives: number[] }[];
  /** Buckets only a minority held, removed from those drives (empty ones only). */
  removed: { bucket: string; drives: number[] }[];
  /** Minority buckets not removed: not empty, or not provably a minority. */
  kept: string[];
}

/**
 * Every drive gets every bucket volume that at least half the drives have (the quorum `statBucket`
 * reads with), and, with `removeMinority`, a bucket that more than half the drives provably lack
 * (a `deleteBucket` that missed some drives) is removed where it is left, if empty. A drive
 * formatted after the bucket was made proves nothing about it.
 */
export async function healVolumes(
  set: ErasureSet,
  opts: { dryRun?: boolean; removeMinority?: boolean } = {},
): Promise<VolumeHealResult> {
  const n = set.driveCount;
  const half = Math.ceil(n / 2);
  const out: VolumeHealResult = { made: [], removed: [], kept: [] };
  const lists = await set.onAll((d) => d.listVolumes());
  const holders = new Map<string, { positions: number[]; created: number }>();
  lists.forEach((l, p) => {
    if (l instanceof Error) return;
    for (const v of l) {
      const h = holders.get(v.name) ?? { positions: [], created: Number.POSITIVE_INFINITY };
      h.positions.push(p);
      h.created = Math.min(h.created, v.created.getTime());
      holders.set(v.name, h);
    }
  });
  let formats: (number | null)[] | undefined;
  for (const [bucket, h] of [...holders].sort((a, b) => compareKeys(a[0], b[0]))) {
    const lacking = lists
      .map((l, p) => (!(l instanceof Error) && !h.positions.includes(p) ? p : -1))
      .filter((p) => p >= 0);
    if (h.positions.length >= half) {
      if (lacking.length === 0) continue;
      const made: number[] = [];
      for (const p of lacking) {
        if (opts.dryRun) made.push(p);
        else if (await ensureVolume(set.drives[p]!, bucket).catch(() => false)) made.push(p);
      }
      if (made.length > 0) out.made.push({ bucket, drives: made });
      continue;
    }
    if (!opts.removeMinority) continue;
    formats ??= await Promise.all(
      set.drives.map(async (d) => {
        if (!d) return null;
        try {
          return Date.parse((await readFormat(d)).createdAt);
        } catch {
          return null;
        }
      }),
    );
    const proof = lacking.filter((p) => {
      const f = formats![p];
      return f === null || f === undefined || Number.isNaN(f) || f <= h.created;
    }).length;
    if (proof <= n - half) {
      out.kept.push(bucket);
      continue;
    }
    const removed: number[] = [];
    for (const p of h.positions) {
      if (opts.dryRun) {
        removed.push(p);
        continue;
      }
      try {
        await set.drives[p]!.deleteVolume(bucket, false);
        removed.push(p);
      } catch {
        // Not empty (objects no heal could remove), or the drive went away.
      }
    }
    if (removed.length > 0) out.removed.push({ bucket, drives: removed });
    if (removed.length < h.positions.length) out.kept.push(bucket);
  }
  return out;
}

export interface HealAllResult {
  volumes: VolumeHealResult;
  buckets: HealBucketResult[];
  aborted: boolean;
}

/**
 * Heals the whole set: bucket volumes first (so a replaced drive has its buckets), then every
 * object of every bucket found on any drive, then minority buckets left empty are removed.
 */
export async function healAll(
  set: ErasureSet,
  opts: Omit<HealBucketOptions, 'prefix'> = {},
): Promise<HealAllResult> {
  const volumes = await healVolumes(set, { dryRun: opts.dryRun });
  const lists = await set.onAll((d) => d.listVolumes());
  const names = new Set<string>();
  for (const l of lists) if (!(l instanceof Error)) for (const v of l) names.add(v.name);
  const buckets: HealBucketResult[] = [];
  for (const bucket of [...names].sort(compareKeys)) {
    if (opts.signal?.aborted) break;
    buckets.push(await healBucket(set, bucket, opts));
  }
  const aborted = opts.signal?.aborted ?? false;
  if (!aborted) {
    const after = await healVolumes(set, { dryRun: opts.dryRun, removeMinority: true });
    volumes.removed.push(...after.removed);
    volumes.kept.push(...after.kept);
    volumes.made.push(...after.made);
  }
  return { volumes, buckets, aborted };
}

// --- on-read healing -----------------------------------------------------------------------------

export interface HealQueueOptions {
  /** Heals run at once (default 1). */
  concurrency?: number;
  /** Verify every frame of the version (default true: a read may have found rot that sizes do not show). */
  deep?: boolean;
  /** Requests waiting at most; more are dropped (counted) until it drains (default 10,000). */
  maxPending?: number;
  /** Results remembered for `stats()` (default 100). */
  keepResults?: number;
  /**
   * After a heal that could not make every drive whole (a drive offline, a write failing), the same
   * request is ignored for this long (default 5 minutes): every read of the object would ask again,
   * and each ask would re-read the whole version for nothing.
   */
  retryAfterMs?: number;
  lockTimeoutMs?: number;
  onResult?: (r: HealResult) => void;
}

export interface HealQueueStats {
  pending: number;
  running: number;
  enqueued: number;
  deduplicated: number;
  /** Requests ignored because the same heal was tried recently and could not finish. */
  skipped: number;
  dropped: number;
  completed: number;
  /** Heals that rebuilt or removed something. */
  healed: number;
  /** Heals that hit an error or left a version unrecoverable. */
  failed: number;
  /** The most recent results, newest last. */
  recent: HealResult[];
}

interface QueueJob {
  bucket: string;
  key: string;
  versionId: string | undefined;
}

/**
 * Background healing of what reads and writes found degraded. Wire it as
 * `onDegraded: (b, k, v) => queue.enqueue(b, k, v)`. `enqueue` returns at once and never throws;
 * a request already waiting or running is not queued twice.
 */
export class HealQueue {
  private readonly pending = new Map<string, QueueJob>();
  private readonly active = new Set<string>();
  private readonly recent: HealResult[] = [];
  private idle: (() => void)[] = [];
  private closed = false;
  /** When each recent request last ran, and whether it left every drive whole. */
  private readonly tried = new Map<string, { at: number; whole: boolean }>();
  private readonly counts = {
    enqueued: 0,
    deduplicated: 0,
    skipped: 0,
    dropped: 0,
    completed: 0,
    healed: 0,
    failed: 0,
  };
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly keepResults: number;

  constructor(
    private readonly set: ErasureSet,
    private readonly opts: HealQueueOptions = {},
  ) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.maxPending = Math.max(1, opts.maxPending ?? 10_000);
    this.keepResults = Math.max(0, opts.keepResults ?? 100);
  }

  /** Queues a heal of `bucket/key` (one version, or all); false when not queued (duplicate, full, closed). */
  enqueue(bucket: string, key: string, versionId?: string): boolean {
    try {
      if (this.closed) return false;
      const id = `${bucket}\0${key}\0${versionId ?? ''}`;
      if (this.pending.has(id) || this.active.has(id)) {
        this.counts.deduplicated++;
        return false;
      }
      const last = this.tried.get(id);
      if (last && !last.whole && Date.now() - last.at < (this.opts.retryAfterMs ?? 300_000)) {
        this.counts.skipped++;
        return false;
      }
      if (this.pending.size >= this.maxPending) {
        this.counts.dropped++;
        return false;
      }
      this.pending.set(id, { bucket, key, versionId });
      this.counts.enqueued++;
      // Off the caller's stack: it may hold the key's lock (a read, a commit).
      setImmediate(() => this.pump());
      return true;
    } catch {
      return false;
    }
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.pending.size > 0) {
      const [id, job] = this.pending.entries().next().value as [string, QueueJob];
      this.pending.delete(id);
      this.active.add(id);
      void this.run(id, job);
    }
    if (this.pending.size === 0 && this.active.size === 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const w of waiters) w();
    }
  }

  private async run(id: string, job: QueueJob): Promise<void> {
    let r: HealResult;
    try {
      r = await healObject(this.set, job.bucket, job.key, {
        versionId: job.versionId,
        deep: this.opts.deep ?? true,
        lockTimeoutMs: this.opts.lockTimeoutMs,
      });
    } catch (e) {
      // healObject does not throw; this is only a guard for the queue's own sake.
      r = {
        bucket: job.bucket,
        key: job.key,
        dryRun: false,
        deep: false,
        before: [],
        after: [],
        versions: [],
        healed: [],
        removed: [],
        unrecoverable: [],
        failed: [],
        orphansRemoved: 0,
        volumesMade: [],
        bytesWritten: 0,
        bytesWrittenPerDrive: [],
        error: message(e),
      };
    }
    this.counts.completed++;
    // A heal that could not run (a lock not had in time) may be asked again at once.
    const whole = r.error !== undefined || r.after.every((s) => s === 'ok');
    this.tried.delete(id);
    this.tried.set(id, { at: Date.now(), whole });
    if (this.tried.size > this.maxPending) this.tried.delete(this.tried.keys().next().value as string);
    if (r.error !== undefined || r.unrecoverable.length > 0 || r.failed.length > 0) this.counts.failed++;
    if (r.healed.length > 0 || r.removed.length > 0 || r.orphansRemoved > 0) this.counts.healed++;
    if (this.keepResults > 0) {
      this.recent.push(r);
      if (this.recent.length > this.keepResults) this.recent.shift();
    }
    try {
      this.opts.onResult?.(r);
    } catch {
      // A reporting hook must not break the queue.
    }
    this.active.delete(id);
    this.pump();
  }

  /** Resolves when nothing is waiting or running. */
  drain(): Promise<void> {
    if (this.pending.size === 0 && this.active.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops taking requests, drops those waiting, and waits for the running ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.counts.dropped += this.pending.size;
    this.pending.clear();
    await this.drain();
  }

  stats(): HealQueueStats {
    return {
      pending: this.pending.size,
      running: this.active.size,
      ...this.counts,
      recent: [...this.recent],
    };
  }
}

// --- background scanner --------------------------------------------------------------------------

export interface ScannerOptions {
  /** Pause between two cycles (default 1 hour). */
  intervalMs?: number;
  /** Pause between two objects (default 10 ms): the scanner's pace. */
  objectDelayMs?: number;
  /** Every Nth cycle reads and verifies every frame (default 24); 0: never. */
  deepEvery?: number;
  lockTimeoutMs?: number;
  /** Told every object's result. */
  onResult?: (r: HealResult) => void;
  /** Told each cycle's summary. */
  onCycle?: (c: ScanCycleResult) => void;
}

export interface ScanCycleResult {
  cycle: number;
  deep: boolean;
  startedAt: Date;
  finishedAt: Date;
  objects: number;
  healedVersions: number;
  removedVersions: number;
  unrecoverableVersions: number;
  errors: number;
  bytesWritten: number;
  volumes: VolumeHealResult;
  /** Results that were not clean (up to 1000). */
  results: HealResult[];
  aborted: boolean;
}

/**
 * Walks every bucket and object of the set at a slow pace, healing what it finds; deep every
 * `deepEvery` cycles. `start` runs cycles in the background until `stop`, which returns once the
 * current object is done.
 */
export class Scanner {
  private cycles = 0;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  /** The last cycle's summary. */
  last: ScanCycleResult | undefined;

  constructor(
    private readonly set: ErasureSet,
    private readonly opts: ScannerOptions = {},
  ) {}

  get running(): boolean {
    return this.loop !== undefined;
  }

  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop = (async () => {
      while (!controller.signal.aborted) {
        try {
          await this.cycle({ signal: controller.signal });
        } catch {
          // A cycle never throws on its own; keep the scanner alive whatever happens.
        }
        await sleep(this.opts.intervalMs ?? 3_600_000, controller.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    this.loop = undefined;
    this.controller = undefined;
  }

  /** One pass over everything (deep when asked, or when it is the Nth). */
  async cycle(opts: { deep?: boolean; signal?: AbortSignal } = {}): Promise<ScanCycleResult> {
    const cycle = ++this.cycles;
    const every = this.opts.deepEvery ?? 24;
    const deep = opts.deep ?? (every > 0 && cycle % every === 0);
    const startedAt = new Date();
    const all = await healAll(this.set, {
      deep,
      signal: opts.signal,
      lockTimeoutMs: this.opts.lockTimeoutMs,
      objectDelayMs: this.opts.objectDelayMs ?? 10,
      onResult: this.opts.onResult,
    });
    const c: ScanCycleResult = {
      cycle,
      deep,
      startedAt,
      finishedAt: new Date(),
      objects: 0,
      healedVersions: 0,
      removedVersions: 0,
      unrecoverableVersions: 0,
      errors: 0,
      bytesWritten: 0,
      volumes: all.volumes,
      results: [],
      aborted: all.aborted,
    };
    for (const b of all.buckets) {
      c.objects += b.objects;
      c.healedVersions += b.healedVersions;
      c.removedVersions += b.removedVersions;
      c.unrecoverableVersions += b.unrecoverableVersions;
      c.errors += b.errors;
      c.bytesWritten += b.bytesWritten;
      for (const r of b.results) if (c.results.length < 1000) c.results.push(r);
    }
    this.last = c;
    try {
      this.opts.onCycle?.(c);
    } catch {
      // Reporting must not stop the scanner.
    }
    return c;
  }
}
