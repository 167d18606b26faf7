/**
 * ListObjects over an erasure set: a k-way merge of the drives' sorted walks, each key decided by
 * quorum, streamed (a page never holds more than its own entries, and the walks stop where the
 * page ends).
 *
 * Which drives are walked. Every drive holds every object's metadata, so walking all `n` does the
 * same work `n` times. A page walks `W = max(k + 1, m + 1)` drives (k data, m parity of the set's
 * STANDARD class), every reachable one when a drive is missing or its walk fails, and decides each
 * key the way a GET would:
 * - an object readable by GET sits on at least `k` drives and at most `n - W <= k - 1` are not
 *   walked, so at least one walked drive has it: nothing readable is missed, even with `m` drives
 *   empty or gone;
 * - a key agreed on by a read quorum of the walked drives is decided at once (the healthy case,
 *   with one drive to spare); one short of it but able to reach it is looked up on the drives not
 *   walked (`readMetadata`), so an empty drive among the walked ones costs lookups, not answers.
 *   A page needing many lookups starts over walking every drive;
 * - a stale copy (a delete or overwrite that missed one drive) is held by at most `n - writeQuorum`
 *   drives, below any read quorum, so it never shows.
 *
 * Common prefixes (delimiter `/`) come from the drives' delimited walks, which report a directory
 * holding any object. S3 lists a prefix only when a listed key rolls up into it (AWS does not show
 * a "folder" whose keys all end in delete markers; MinIO does), so each prefix reported is
 * confirmed: the first key below it on one drive, read on the others, is listed (the healthy case:
 * one short walk and a few metadata reads), or else the prefix gets a listing of its own. Up to
 * `WINDOW` confirmations run at once. Other delimiters roll up full keys (no shortcut).
 *
 * `bench/listing.bench.ts` has the figures behind these choices.
 */
import { ObjectError } from '../object/errors';
import type {
  ListObjectsOptions,
  ListObjectsResult,
  ListObjectVersionsOptions,
  ListObjectVersionsResult,
  ObjectInfo,
} from '../object/types';
import { compareKeys, objectPath } from '../storage/paths';
import type { StorageAPI, WalkEntry } from '../storage/StorageAPI';
import { type ErasureSet, toObjectError } from './ErasureSet';
import {
  compareVersions,
  decodeMetaVersion,
  type MetaEntries,
  type ObjectVersion,
  openMeta,
  type RawSignature,
  sameSignature,
  signature,
  toObjectInfo,
  type VersionHead,
} from './metadata';
import { readQuorum, reduceReadQuorumErrs } from './quorum';

/** AWS: ListObjects and ListObjectsV2 return at most 1000 keys and prefixes per page. */
export const MAX_LIST_KEYS = 1000;
/** Entries decided ahead of the page's end at once (prefix confirmations and lookups run together). */
const WINDOW = 64;
/** Keys needing lookups on unwalked drives, per page, before walking every drive instead. */
const MAX_LOOKUPS = 32;

/**
 * How many drives a page walks: `quorum` (`max(k + 1, m + 1)`, see above) or `all`. For benches
 * (`bench/listing.bench.ts` measures both); both give the same answers.
 */
export const listingTuning: { walk: 'quorum' | 'all' } = { walk: 'quorum' };

/** `maxKeys` as a page size: default and ceiling 1000, negatives and NaN mean the default. */
export function pageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined || !Number.isFinite(maxKeys) || maxKeys < 0) return MAX_LIST_KEYS;
  return Math.min(MAX_LIST_KEYS, Math.floor(maxKeys));
}

/** One entry of a page: an object or a version (with its info), or a common prefix. */
interface PageEntry {
  key: string;
  info?: ObjectInfo;
}

/** Thrown inside a page to start it over with another choice of drives. */
class Replan extends Error {
  constructor(
    readonly position: number | undefined,
    readonly why: Error | undefined,
  ) {
    super('replan');
  }
}

/** A page's view of the set: which drives are walked, which failed. */
class Plan {
  readonly n: number;
  /** Positions whose walk failed during this listing, with why. */
  readonly failed = new Map<number, Error>();
  walkAll = false;
  lookups = 0;
  walked: number[] = [];
  /** Reachable positions not walked: where a key short of quorum is looked up. */
  spare: number[] = [];

  constructor(
    readonly set: ErasureSet,
    readonly bucket: string,
    private readonly rotation: number,
  ) {
    this.n = set.driveCount;
    this.choose();
  }

  /** Drives that can be asked: present and not failed in this listing. */
  private reachable(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) if (this.set.drives[i] && !this.failed.has(i)) out.push(i);
    return out;
  }

  choose(): void {
    const up = this.reachable();
    const m = this.set.parity;
    const k = this.n - m;
    const errs = Array.from({ length: this.n }, (_, i) =>
      this.set.drives[i]
        ? (this.failed.get(i) ?? null)
        : new ObjectError('InsufficientReadQuorum', `drive ${i + 1} is missing`),
    );
    // Too few drives to walk: no key could reach a read quorum.
    const err = reduceReadQuorumErrs(errs, [], readQuorum(k, m));
    if (err) throw toObjectError(err, this.bucket);
    const want = Math.max(k + 1, m + 1);
    if (this.walkAll || listingTuning.walk === 'all' || up.length < this.n || want >= up.length) {
      this.walked = up;
      this.spare = [];
      return;
    }
    // Spread the walks over the drives from one listing to the next.
    const start = this.rotation % up.length;
    const order = [...up.slice(start), ...up.slice(0, start)];
    this.walked = order.slice(0, want).sort((a, b) => a - b);
    this.spare = order.slice(want).sort((a, b) => a - b);
  }

  drive(i: number): StorageAPI {
    return this.set.drives[i]!;
  }
}

/** One drive's walk, one entry ahead. */
class Cursor {
  head: WalkEntry | undefined;
  done = false;
  private readonly it: AsyncIterator<WalkEntry>;

  constructor(
    readonly position: number,
    walk: AsyncIterable<WalkEntry>,
  ) {
    this.it = walk[Symbol.asyncIterator]();
  }

  async advance(): Promise<void> {
    let r: IteratorResult<WalkEntry>;
    try {
      r = await this.it.next();
    } catch (e) {
      this.done = true;
      throw new Replan(this.position, e instanceof Error ? e : new Error(String(e)));
    }
    if (r.done) this.done = true;
    else this.head = r.value;
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.it.return?.(undefined)?.catch(() => {});
  }
}

/** A key (or prefix) and the metadata each walked drive holds for it, by drive position. */
interface Candidate {
  name: string;
  metas: (Buffer | undefined)[];
  /** How many walked drives reported it. */
  count: number;
}

/** The k-way merge of the cursors on `compareKeys`. */
class Merge {
  constructor(
    private readonly cursors: Cursor[],
    private readonly n: number,
  ) {}

  async next(): Promise<Candidate | undefined> {
    const pending: Promise<void>[] = [];
    for (const c of this.cursors) if (c.head === undefined && !c.done) pending.push(c.advance());
    if (pending.length === 1) await pending[0];
    else if (pending.length > 1) await Promise.all(pending);
    let min: string | undefined;
    for (const c of this.cursors) {
      if (c.head !== undefined && (min === undefined || compareKeys(c.head.name, min) < 0)) min = c.head.name;
    }
    if (min === undefined) return undefined;
    const metas: (Buffer | undefined)[] = new Array(this.n);
    let count = 0;
    for (const c of this.cursors) {
      if (c.head !== undefined && c.head.name === min) {
        metas[c.position] = c.head.metadata;
        c.head = undefined;
        count++;
      }
    }
    return { name: min, metas, count };
  }
}

/** What the drives say about one key: the latest version a quorum agrees on, if any. */
type Verdict =
  | { kind: 'version'; version: ObjectVersion }
  | { kind: 'none' }
  /** Short of quorum, but the drives not walked could make it up. */
  | { kind: 'lookup' };

/**
 * The latest version held alike by `quorum` drives (the object's read quorum: its data shard count,
 * or half the drives when no drive holds an object version, as `ErasureSet.pick` reads it). A drive
 * without the key, or with metadata that does not decode, agrees with nothing. Copies are decoded
 * in drive order until the leading version can no longer be overtaken: with `k + 1` drives walked
 * and all agreeing, the last copy is never decoded.
 */
function decide(metas: readonly (Buffer | Error | undefined)[], n: number, spare: number): Verdict {
  const sigs: string[] = [];
  const counts: number[] = [];
  const firsts: ObjectVersion[] = [];
  let quorum = 0;
  let left = 0;
  for (const m of metas) if (m !== undefined && !(m instanceof Error)) left++;
  let best = -1;
  for (const m of metas) {
    if (m === undefined || m instanceof Error) continue;
    left--;
    let v: ObjectVersion | undefined;
    try {
      v = decodeMetaVersion(m).versions[0];
    } catch {
      continue; // corrupt here: counts for nothing, as in a GET
    }
    if (!v) continue;
    if (quorum === 0 && v.type === 'object')
      quorum = readQuorum(v.erasure.dataBlocks, v.erasure.parityBlocks);
    const sig = signature(v);
    let g = sigs.indexOf(sig);
    if (g >= 0) counts[g]!++;
    else {
      g = sigs.length;
      sigs.push(sig);
      counts.push(1);
      firsts.push(v);
    }
    // The most held version; on a tie the one met first, as `pickVersionByQuorum` picks.
    if (best < 0 || counts[g]! > counts[best]! || (counts[g] === counts[best] && g < best)) best = g;
    if (quorum > 0 && counts[best]! >= quorum) {
      let runnerUp = 0;
      for (let h = 0; h < counts.length; h++) if (h !== best && counts[h]! > runnerUp) runnerUp = counts[h]!;
      if (counts[best]! > runnerUp + left) break; // the rest cannot change the answer
    }
  }
  if (best < 0) return { kind: 'none' };
  if (quorum === 0) quorum = Math.ceil(n / 2);
  const agree = counts[best]!;
  if (agree >= quorum) return { kind: 'version', version: firsts[best]! };
  if (agree + spare >= quorum) return { kind: 'lookup' };
  return { kind: 'none' };
}

/** A page being assembled: entries in order, some still being decided. */
type Slot = PageEntry | null | Promise<PageEntry | null>;

class Lister {
  constructor(
    private readonly plan: Plan,
    private readonly bucket: string,
  ) {}

  /**
   * Up to `limit` entries after `after` under `prefix`, in key order. Walks only as far as needed:
   * the last entry wanted decides where every walk stops.
   */
  async list(
    prefix: string,
    after: string | undefined,
    delimiter: string | undefined,
    limit: number,
  ): Promise<PageEntry[]> {
    const plan = this.plan;
    const slash = delimiter === '/';
    const cursors = plan.walked.map(
      (i) => new Cursor(i, plan.drive(i).walk(this.bucket, { prefix, after, delimited: slash })),
    );
    const merge = new Merge(cursors, plan.n);
    const out: PageEntry[] = [];
    const window: { slot: Slot; rollup?: string }[] = [];
    let lastPrefix: string | undefined;
    let exhausted = false;
    try {
      while (out.length < limit) {
        while (!exhausted && window.length < WINDOW && out.length + window.length < limit) {
          const c = await merge.next();
          if (!c) {
            exhausted = true;
            break;
          }
          if (slash && c.name.length > prefix.length && c.name.endsWith('/')) {
            window.push({ slot: this.confirmPrefix(c) });
            continue;
          }
          if (delimiter && !slash) {
            const cut = c.name.indexOf(delimiter, prefix.length);
            if (cut >= 0) {
              const rollup = c.name.slice(0, cut + delimiter.length);
              // Listed already, or sorting before `after` (S3 skips a prefix <= the marker).
              if (rollup === lastPrefix || (after !== undefined && compareKeys(rollup, after) <= 0)) continue;
              // The prefix is in when any key below it is listed: once one is known to be, the
              // rest of its keys need no deciding.
              const tail = window[window.length - 1];
              if (tail?.rollup === rollup && tail.slot !== null && !(tail.slot instanceof Promise)) continue;
              window.push({ slot: this.object(c), rollup });
              continue;
            }
          }
          window.push({ slot: this.object(c) });
        }
        const next = window.shift();
        if (!next) break;
        const entry = next.slot instanceof Promise ? await next.slot : next.slot;
        if (!entry) continue;
        if (next.rollup !== undefined) {
          if (next.rollup === lastPrefix) continue;
          lastPrefix = next.rollup;
          out.push({ key: next.rollup });
        } else out.push(entry);
      }
      return out;
    } finally {
      for (const c of cursors) c.close();
    }
  }

  /** A key's entry when it is listed (its latest version, agreed on, is not a delete marker). */
  private object(c: Candidate): Slot {
    const plan = this.plan;
    const v = decide(c.metas, plan.n, plan.spare.length);
    if (v.kind === 'version') return this.entry(c.name, v.version);
    if (v.kind === 'none') return null;
    return handled(this.lookup(c));
  }

  private entry(key: string, v: ObjectVersion): PageEntry | null {
    if (v.type === 'deleteMarker') return null;
    return { key, info: toObjectInfo(v, this.bucket, key, true) };
  }

  /** Short of quorum on the walked drives: ask the others, then decide over all. */
  private async lookup(c: Candidate): Promise<PageEntry | null> {
    const plan = this.plan;
    if (++plan.lookups > MAX_LOOKUPS && !plan.walkAll) {
      plan.walkAll = true;
      throw new Replan(undefined, undefined);
    }
    const path = safePath(c.name);
    if (path === undefined) return null;
    const metas: (Buffer | Error | undefined)[] = [...c.metas];
    await Promise.all(
      plan.spare.map(async (i) => {
        try {
          metas[i] = await plan.drive(i).readMetadata(this.bucket, path);
        } catch (e) {
          metas[i] = e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    const v = decide(metas, plan.n, 0);
    return v.kind === 'version' ? this.entry(c.name, v.version) : null;
  }

  /** A common prefix is listed when some key below it is. */
  private confirmPrefix(c: Candidate): Slot {
    // Any listed key sits on at least half the drives.
    if (c.count + this.plan.spare.length < Math.ceil(this.plan.n / 2)) return null;
    return handled(this.confirm(c));
  }

  /**
   * The first key below the prefix on one drive that reported it, read on the others: in the
   * common case it is listed, and that settles it for one short walk and a few metadata reads. Only
   * when it is not (a delete marker, a stale copy) does the prefix get a full listing of its own.
   */
  private async confirm(c: Candidate): Promise<PageEntry | null> {
    const plan = this.plan;
    const at = plan.walked.find((i) => c.metas[i] !== undefined);
    if (at !== undefined) {
      const cursor = new Cursor(at, plan.drive(at).walk(this.bucket, { prefix: c.name }));
      try {
        await cursor.advance();
      } finally {
        cursor.close();
      }
      const first = cursor.head;
      const path = first && safePath(first.name);
      if (first && path !== undefined) {
        const metas: (Buffer | Error | undefined)[] = new Array(plan.n);
        metas[at] = first.metadata;
        await Promise.all(
          [...plan.walked, ...plan.spare]
            .filter((i) => i !== at)
            .map(async (i) => {
              try {
                metas[i] = await plan.drive(i).readMetadata(this.bucket, path);
              } catch (e) {
                metas[i] = e instanceof Error ? e : new Error(String(e));
              }
            }),
        );
        const v = decide(metas, plan.n, 0);
        if (v.kind === 'version' && v.version.type === 'object') return { key: c.name };
      }
    }
    const found = await this.list(c.name, undefined, undefined, 1);
    return found.length > 0 ? { key: c.name } : null;
  }
}

/** The path of a key found by a walk, or undefined for a name no object can have (a stray directory). */
function safePath(key: string): string | undefined {
  try {
    return objectPath(key);
  } catch {
    return undefined;
  }
}

/**
 * Marks `p` as handled now (it is awaited later, in page order, or dropped with the page): a
 * rejection while earlier entries are still being awaited must not count as unhandled.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

let rotation = 0;

/**
 * One page of the objects of `bucket` on `set` (ListObjects v1/v2 without versions): keys after
 * `opts.after` under `opts.prefix` whose latest version is an object, in UTF-8 byte order, keys
 * holding `opts.delimiter` after the prefix rolled up into common prefixes, at most `maxKeys`
 * (1000) keys and prefixes together. `isTruncated` only when another entry follows; `nextAfter` is
 * then the last key or prefix returned.
 */
export async function listObjectsInSet(
  set: ErasureSet,
  bucket: string,
  opts: ListObjectsOptions = {},
): Promise<ListObjectsResult> {
  const maxKeys = pageSize(opts.maxKeys);
  const prefix = opts.prefix ?? '';
  const delimiter = opts.delimiter === '' ? undefined : opts.delimiter;
  await set.statBucket(bucket);
  // MinIO and AWS answer an empty, untruncated page to max-keys=0.
  if (maxKeys === 0) return { objects: [], prefixes: [], isTruncated: false };
  const plan = new Plan(set, bucket, rotation++);
  let entries: PageEntry[];
  for (;;) {
    try {
      entries = await new Lister(plan, bucket).list(prefix, opts.after, delimiter, maxKeys + 1);
      break;
    } catch (e) {
      if (!(e instanceof Replan)) throw e;
      if (e.position !== undefined) plan.failed.set(e.position, e.why ?? new Error('walk failed'));
      plan.lookups = 0;
      plan.choose();
    }
  }
  return toResult(entries, maxKeys);
}

function toResult(entries: PageEntry[], maxKeys: number): ListObjectsResult {
  const isTruncated = entries.length > maxKeys;
  const page = isTruncated ? entries.slice(0, maxKeys) : entries;
  const objects: ObjectInfo[] = [];
  const prefixes: string[] = [];
  for (const e of page) {
    if (e.info) objects.push(e.info);
    else prefixes.push(e.key);
  }
  const res: ListObjectsResult = { objects, prefixes, isTruncated };
  if (isTruncated) res.nextAfter = page[page.length - 1]!.key;
  return res;
}

/**
 * A page's entries back in key order: its objects (or versions) and its common prefixes, which never
 * share a key within a page.
 */
function entriesOf(items: readonly ObjectInfo[], prefixes: readonly string[]): PageEntry[] {
  const out: PageEntry[] = [];
  let o = 0;
  let p = 0;
  while (o < items.length || p < prefixes.length) {
    const item = items[o];
    const pre = prefixes[p];
    if (item && (pre === undefined || compareKeys(item.key, pre) < 0)) {
      out.push({ key: item.key, info: item });
      o++;
    } else {
      out.push({ key: pre! });
      p++;
    }
  }
  return out;
}

/**
 * The sets' entry lists merged in key order, up to one past `limit` (so the caller sees whether more
 * follow). An entry whose key heads another list too is taken once: a common prefix always, and with
 * `versions` nothing else (a key lives in one set, and its versions share the key: each is kept).
 */
function mergeEntries(lists: readonly PageEntry[][], limit: number, versions: boolean): PageEntry[] {
  const at = lists.map(() => 0);
  const merged: PageEntry[] = [];
  for (;;) {
    let min = -1;
    for (let s = 0; s < lists.length; s++) {
      const e = lists[s]![at[s]!];
      if (e && (min < 0 || compareKeys(e.key, lists[min]![at[min]!]!.key) < 0)) min = s;
    }
    if (min < 0 || merged.length > limit) break;
    const e = lists[min]![at[min]!]!;
    at[min]!++;
    if (!versions || !e.info) {
      for (let s = 0; s < lists.length; s++) {
        const o = lists[s]![at[s]!];
        if (o && o.key === e.key && (!versions || !o.info)) at[s]!++;
      }
    }
    merged.push(e);
  }
  return merged;
}

/**
 * The page of a layer of several sets from each set's page for the same query: merged in key order,
 * a common prefix found in several sets listed once. Each set's page holds its first `maxKeys`
 * entries, so the first `maxKeys` of the union are all there; more follow when the union is longer
 * or a set has more.
 */
export function mergeListPages(
  pages: readonly ListObjectsResult[],
  maxKeys: number | undefined,
): ListObjectsResult {
  const limit = pageSize(maxKeys);
  const merged = mergeEntries(
    pages.map((p) => entriesOf(p.objects, p.prefixes)),
    limit,
    false,
  );
  const res = toResult(merged, limit);
  if (!res.isTruncated && pages.some((p) => p.isTruncated)) {
    res.isTruncated = true;
    if (merged.length > 0) res.nextAfter = merged[merged.length - 1]!.key;
  }
  return res;
}

// --- ListObjectVersions ----------------------------------------------------------------------------

/** The version id a UUIDv7 carries the creation time of (ms), or undefined for `null` and others. */
function idTime(versionId: string): number | undefined {
  const hex = versionId.replace(/-/g, '');
  return /^[0-9a-f]{32}$/.test(hex) && hex[12] === '7' ? Number.parseInt(hex.slice(0, 12), 16) : undefined;
}

/**
 * The versions of one key the drives agree on, newest first, after `afterVersion` (a page's
 * version-id-marker), at most `limit`. Each drive's file is read as headers (`openMeta`: no body
 * decoded), and the drives' versions are merged newest first, one version at a time, stopping when
 * the page is full: the page decodes its own versions and no others (a delete marker not even its
 * own: its header is all of it). A version is listed when a read quorum of drives hold the same copy
 * of it (as `ErasureSet.pick` decides for one version); `isLatest` is the first agreed version.
 */
function agreedVersions(
  metas: readonly (Buffer | Error | undefined)[],
  n: number,
  bucket: string,
  key: string,
  afterVersion: string | undefined,
  limit: number,
): ObjectInfo[] {
  const files: (MetaEntries | undefined)[] = metas.map((m) => {
    if (!(m instanceof Buffer)) return undefined;
    try {
      return openMeta(m);
    } catch {
      return undefined; // corrupt here: counts for nothing, as in a GET
    }
  });
  const drives = files.flatMap((f, d) => (f && f.count > 0 ? [d] : []));
  const at = new Array<number>(files.length).fill(0);
  const head = (d: number): VersionHead => files[d]!.head(at[d]!);
  /**
   * The next version by identity (type, id, modTime), newest first, with where each drive holds it.
   * Each drive's versions are strictly ordered (`openMeta` checks), so every drive holding it is at it.
   */
  const next = (): { head: VersionHead; at: { drive: number; i: number }[] } | undefined => {
    let best = -1;
    let h: VersionHead | undefined;
    for (const d of drives) {
      if (at[d]! >= files[d]!.count) continue;
      const c = head(d);
      if (!h || compareVersions(c, h) < 0) {
        best = d;
        h = c;
      }
    }
    if (!h) return undefined;
    const group: { drive: number; i: number }[] = [];
    for (const d of drives) {
      const f = files[d]!;
      const i = at[d]!;
      if (
        i < f.count &&
        (d === best ||
          (f.versionIdAt(i) === h.versionId &&
            f.modTimeAt(i) === h.modTime &&
            f.isDeleteMarker(i) === (h.type === 'deleteMarker')))
      ) {
        group.push({ drive: d, i });
        at[d] = i + 1;
      }
    }
    return { head: h, at: group };
  };
  type Group = { head: VersionHead; at: { drive: number; i: number }[] };
  /**
   * The copy most drives hold (by `signature`, first seen on a tie), if a read quorum hold it. The
   * copies are compared by their bodies' bytes (`rawSignatureAt`); only the copy listed is decoded.
   */
  const agreed = (g: Group): ObjectVersion | undefined => {
    if (g.head.type === 'deleteMarker') {
      // A marker's signature is its header, which every copy shares; the scan checked it.
      if (g.at.length < Math.ceil(n / 2)) return undefined;
      return { type: 'deleteMarker', versionId: g.head.versionId, modTime: g.head.modTime };
    }
    const tallies: { sig: RawSignature; drive: number; i: number; count: number }[] = [];
    for (const { drive, i } of g.at) {
      const sig = files[drive]!.rawSignatureAt(i);
      if (!sig) continue;
      const t = tallies.find((c) => sameSignature(c.sig, sig));
      if (t) t.count++;
      else tallies.push({ sig, drive, i, count: 1 });
    }
    let best: (typeof tallies)[number] | undefined;
    for (const t of tallies) if (!best || t.count > best.count) best = t;
    if (!best || best.count < readQuorum(best.sig.dataBlocks, best.sig.parityBlocks)) return undefined;
    try {
      return files[best.drive]!.version(best.i);
    } catch {
      return agreedDecoded(g); // its signature reads but the rest does not: decide as before
    }
  };
  /** `agreed` decoding every copy (a copy that does not decode counts for nothing). */
  const agreedDecoded = (g: Group): ObjectVersion | undefined => {
    const sigs = new Map<string, { v: ObjectVersion; count: number }>();
    for (const { drive, i } of g.at) {
      let v: ObjectVersion;
      try {
        v = files[drive]!.version(i);
      } catch {
        continue;
      }
      const sig = signature(v);
      const s = sigs.get(sig);
      if (s) s.count++;
      else sigs.set(sig, { v, count: 1 });
    }
    let best: { v: ObjectVersion; count: number } | undefined;
    for (const s of sigs.values()) if (!best || s.count > best.count) best = s;
    if (!best) return undefined;
    const quorum =
      best.v.type === 'object'
        ? readQuorum(best.v.erasure.dataBlocks, best.v.erasure.parityBlocks)
        : Math.ceil(n / 2);
    return best.count >= quorum ? best.v : undefined;
  };
  // Where the page starts: after the marker's version, or, when that is gone (deleted since), at the
  // versions made before it. Version ids are compared by the time in them (and then as ids), not
  // with modTimes: ids are monotonic in a process even when the clock steps back, modTimes are not.
  let started = afterVersion === undefined;
  const present =
    afterVersion !== undefined && files.some((f) => f !== undefined && f.indexOf(afterVersion) >= 0);
  const t = afterVersion === undefined ? undefined : idTime(afterVersion);
  if (!started && !present && t === undefined) return [];
  const before = (h: VersionHead): boolean => {
    const ht = idTime(h.versionId) ?? h.modTime;
    return ht < t! || (ht === t && h.versionId < afterVersion!);
  };
  const out: ObjectInfo[] = [];
  let latestFound = false;
  while (out.length < limit) {
    const g = next();
    if (!g) break;
    let onPage = started;
    if (!started) {
      if (present) started = g.head.versionId === afterVersion;
      else onPage = started = before(g.head);
    }
    // Before the page, a version is decided only to know which is the latest.
    if (!onPage && latestFound) continue;
    const v = agreed(g);
    if (!v) continue;
    const isLatest = !latestFound;
    latestFound = true;
    if (onPage) out.push(toObjectInfo(v, bucket, key, isLatest));
  }
  return out;
}

/**
 * One page of ListObjectVersions on `set`: every version and delete marker of the keys under
 * `prefix`, key ascending (UTF-8 bytes) and newest first within a key, starting after
 * (`keyMarker`, `versionIdMarker`), keys holding the delimiter rolled up into common prefixes; at
 * most `maxKeys` (1000) entries, versions and prefixes together. Streamed as ListObjects is: the
 * drives' walks stop where the page ends, and a key's versions are read as headers, only those on
 * the page decoded. Every reachable drive is walked (an older version may sit on a different
 * quorum of drives than the latest).
 */
export async function listObjectVersionsInSet(
  set: ErasureSet,
  bucket: string,
  opts: ListObjectVersionsOptions = {},
): Promise<ListObjectVersionsResult> {
  const maxKeys = pageSize(opts.maxKeys);
  const prefix = opts.prefix ?? '';
  const delimiter = opts.delimiter === '' ? undefined : opts.delimiter;
  await set.statBucket(bucket);
  if (maxKeys === 0) return { versions: [], prefixes: [], isTruncated: false };
  const plan = new Plan(set, bucket, rotation++);
  plan.walkAll = true;
  plan.choose();
  for (;;) {
    try {
      return versionsResult(await listVersions(plan, bucket, prefix, delimiter, opts, maxKeys + 1), maxKeys);
    } catch (e) {
      if (!(e instanceof Replan)) throw e;
      if (e.position !== undefined) plan.failed.set(e.position, e.why ?? new Error('walk failed'));
      plan.choose();
    }
  }
}

async function listVersions(
  plan: Plan,
  bucket: string,
  prefix: string,
  delimiter: string | undefined,
  opts: ListObjectVersionsOptions,
  limit: number,
): Promise<PageEntry[]> {
  const out: PageEntry[] = [];
  const push = (infos: ObjectInfo[]) => {
    for (const info of infos) out.push({ key: info.key, info });
  };
  const marker = opts.keyMarker;
  // The rest of the marker's key first, when the page resumes inside it.
  if (
    marker !== undefined &&
    opts.versionIdMarker !== undefined &&
    marker.startsWith(prefix) &&
    !(delimiter && marker.indexOf(delimiter, prefix.length) >= 0)
  ) {
    const path = safePath(marker);
    if (path !== undefined) {
      const metas = await Promise.all(
        plan.walked.map(async (i) => {
          try {
            return { i, m: (await plan.drive(i).readMetadata(bucket, path)) as Buffer | Error };
          } catch (e) {
            return { i, m: e instanceof Error ? e : new Error(String(e)) };
          }
        }),
      );
      const byDrive: (Buffer | Error | undefined)[] = new Array(plan.n);
      for (const { i, m } of metas) byDrive[i] = m;
      push(agreedVersions(byDrive, plan.n, bucket, marker, opts.versionIdMarker, limit));
    }
  }
  const slash = delimiter === '/';
  const cursors = plan.walked.map(
    (i) => new Cursor(i, plan.drive(i).walk(bucket, { prefix, after: marker, delimited: slash })),
  );
  const merge = new Merge(cursors, plan.n);
  let lastPrefix: string | undefined;
  try {
    while (out.length < limit) {
      const c = await merge.next();
      if (!c) break;
      if (slash && c.name.length > prefix.length && c.name.endsWith('/')) {
        // A directory holding objects on enough drives: some version lives below it.
        if (c.count >= Math.ceil(plan.n / 2)) out.push({ key: c.name });
        continue;
      }
      if (delimiter && !slash) {
        const cut = c.name.indexOf(delimiter, prefix.length);
        if (cut >= 0) {
          const rollup = c.name.slice(0, cut + delimiter.length);
          if (rollup === lastPrefix || (marker !== undefined && compareKeys(rollup, marker) <= 0)) continue;
          if (agreedVersions(c.metas, plan.n, bucket, c.name, undefined, 1).length > 0) {
            lastPrefix = rollup;
            out.push({ key: rollup });
          }
          continue;
        }
      }
      push(agreedVersions(c.metas, plan.n, bucket, c.name, undefined, limit - out.length));
    }
    return out;
  } finally {
    for (const c of cursors) c.close();
  }
}

function versionsResult(entries: PageEntry[], maxKeys: number): ListObjectVersionsResult {
  const isTruncated = entries.length > maxKeys;
  const page = isTruncated ? entries.slice(0, maxKeys) : entries;
  const res: ListObjectVersionsResult = { versions: [], prefixes: [], isTruncated };
  for (const e of page) {
    if (e.info) res.versions.push(e.info);
    else res.prefixes.push(e.key);
  }
  if (isTruncated) {
    const last = page[page.length - 1]!;
    res.nextKeyMarker = last.key;
    if (last.info) res.nextVersionIdMarker = last.info.versionId;
  }
  return res;
}

/**
 * The versions page of a layer of several sets from each set's page for the same query: a key lives
 * in one set, so entries merge by key (a key's versions staying together, in their order), common
 * prefixes found in several sets once.
 */
export function mergeVersionPages(
  pages: readonly ListObjectVersionsResult[],
  maxKeys: number | undefined,
): ListObjectVersionsResult {
  const limit = pageSize(maxKeys);
  const merged = mergeEntries(
    pages.map((p) => entriesOf(p.versions, p.prefixes)),
    limit,
    true,
  );
  const res = versionsResult(merged, limit);
  if (!res.isTruncated && pages.some((p) => p.isTruncated)) {
    res.isTruncated = true;
    const last = merged[merged.length - 1];
    if (last) {
      res.nextKeyMarker = last.key;
      if (last.info) res.nextVersionIdMarker = last.info.versionId;
    }
  }
  return res;
}
