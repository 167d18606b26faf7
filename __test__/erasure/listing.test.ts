/**
 * ListObjects over erasure sets: real temp drives, real objects, compared with S3's definition
 * (a sorted array of the live keys); drives lost, emptied, stale or failing mid-walk.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import { ErasureSets } from '../../src/erasure/ErasureSets';
import { listObjectsInSet, mergeListPages, mergeVersionPages, pageSize } from '../../src/erasure/listing';
import { configureListingCache, LISTING_CACHE_MIN_CHILDREN, listingCacheStats } from '../../src/native';
import { isObjectError } from '../../src/object/errors';
import type {
  ListObjectsOptions,
  ListObjectsResult,
  ListObjectVersionsResult,
  ObjectInfo,
} from '../../src/object/types';
import { StorageError } from '../../src/storage/errors';
import { FaultyDrive } from '../../src/storage/FaultyDrive';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { objectPath } from '../../src/storage/paths';
import { SYSTEM_VOLUME, type WalkEntry, type WalkOptions } from '../../src/storage/StorageAPI';
import { byteOrder, prng } from '../storage/helpers';

const B = 'b';

async function tempDrives(
  n: number,
): Promise<{ base: string; roots: string[]; cleanup: () => Promise<void> }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-list-'));
  const roots = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = path.join(base, `d${i + 1}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  return { base, roots, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

/** A drive that counts its walks, and can fail one after it has given some entries. */
class CountingDrive extends FaultyDrive {
  walks = 0;
  /** The next walk fails with an I/O error after this many entries. */
  failAfter: number | undefined;
  override async *walk(volume: string, opts?: WalkOptions): AsyncGenerator<WalkEntry> {
    this.walks++;
    const limit = this.failAfter;
    this.failAfter = undefined;
    let n = 0;
    for await (const e of super.walk(volume, opts)) {
      if (limit !== undefined && n++ === limit)
        throw new StorageError('FaultyDrive', 'EIO in the middle of a walk');
      yield e;
    }
  }
}

async function openSet(n: number, parity: number) {
  const { base, roots, cleanup } = await tempDrives(n);
  const drives = roots.map((r) => new CountingDrive(new LocalDrive(r)));
  await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
  const set = new ErasureSet(drives, { parity });
  await set.makeBucket(B);
  return { set, drives, roots, base, cleanup };
}

type Target = ErasureSet | ErasureSets;

function put(t: Target, key: string, body = Buffer.from(`body of ${key}`), opts = {}): Promise<ObjectInfo> {
  return t.putObject(B, key, Readable.from([body]), { size: body.length, ...opts });
}

/** Writes `keys`, a few at a time. */
async function putAll(t: Target, keys: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < keys.length) {
        const k = keys[next++]!;
        await put(t, k);
      }
    }),
  );
}

function list(t: Target, opts: ListObjectsOptions = {}): Promise<ListObjectsResult> {
  return t instanceof ErasureSet ? listObjectsInSet(t, B, opts) : t.listObjects(B, opts);
}

/** What S3 lists for `keys` (the live ones): keys and common prefixes in UTF-8 order. */
function model(keys: Iterable<string>, o: ListObjectsOptions): string[] {
  const prefix = o.prefix ?? '';
  const out = new Set<string>();
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const cut = o.delimiter ? k.indexOf(o.delimiter, prefix.length) : -1;
    out.add(cut >= 0 ? k.slice(0, cut + o.delimiter!.length) : k);
  }
  return [...out].filter((e) => o.after === undefined || byteOrder(e, o.after) > 0).sort(byteOrder);
}

/** A page's entries in order, checked for order, size and the truncation fields. */
function entries(page: ListObjectsResult, maxKeys: number): string[] {
  const all = [...page.objects.map((o) => o.key), ...page.prefixes].sort(byteOrder);
  assert.deepEqual(
    page.objects.map((o) => o.key),
    [...page.objects.map((o) => o.key)].sort(byteOrder),
  );
  assert.deepEqual(page.prefixes, [...page.prefixes].sort(byteOrder));
  assert.ok(all.length <= pageSize(maxKeys), `${all.length} entries in a page of ${maxKeys}`);
  if (page.isTruncated) assert.equal(page.nextAfter, all[all.length - 1]);
  else assert.equal(page.nextAfter, undefined);
  return all;
}

/** Pages through a query with `nextAfter`, checking every page against the model. */
async function pageThrough(t: Target, live: readonly string[], o: ListObjectsOptions): Promise<void> {
  const want = model(live, o);
  const got: string[] = [];
  let after = o.after;
  for (let pages = 0; ; pages++) {
    assert.ok(pages <= want.length + 1, 'paging does not end');
    const page = await list(t, { ...o, after });
    const es = entries(page, o.maxKeys ?? 1000);
    got.push(...es);
    // More follows exactly when the page says so.
    assert.equal(page.isTruncated, got.length < want.length, `${JSON.stringify(o)} page ${pages}`);
    if (!page.isTruncated) break;
    assert.ok(es.length > 0);
    after = page.nextAfter;
  }
  assert.deepEqual(got, want, JSON.stringify(o));
}

/** Copies a key's directory on one drive aside, to put it back later (a drive that missed a change). */
async function snapshot(root: string, key: string): Promise<() => Promise<void>> {
  const dir = path.join(root, B, objectPath(key));
  const aside = `${root}.aside-${Math.random().toString(36).slice(2)}`;
  await fs.cp(dir, aside, { recursive: true });
  return async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(path.dirname(dir), { recursive: true });
    await fs.cp(aside, dir, { recursive: true });
    await fs.rm(aside, { recursive: true, force: true });
  };
}

/** Takes a drive away (its root renamed); returns how to bring it back. */
async function takeAway(root: string): Promise<() => Promise<void>> {
  await fs.rename(root, `${root}.away`);
  return () => fs.rename(`${root}.away`, root);
}

// A few hundred keys from segments that sort in awkward ways (UTF-8 vs UTF-16, escapes, empties).
const SEGS = [
  'a',
  'b',
  'a-',
  'a-b',
  '',
  'é',
  '😀',
  '\uFFFD',
  '\uE000',
  '%',
  '%e',
  'a b',
  'cairn.meta',
  '.',
  '..',
  'a0',
  'ab',
];

function randomKeys(count: number, seed: number): string[] {
  const rnd = prng(seed);
  const keys = new Set<string>();
  while (keys.size < count) {
    const n = 1 + Math.floor(rnd() * 3);
    keys.add(Array.from({ length: n }, () => SEGS[Math.floor(rnd() * SEGS.length)]!).join('/'));
  }
  return [...keys];
}

function randomQueries(live: readonly string[], count: number, seed: number): ListObjectsOptions[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const cut = (k: string) => {
    const cps = Array.from(k);
    return cps.slice(0, Math.floor(rnd() * (cps.length + 1))).join('');
  };
  const out: ListObjectsOptions[] = [];
  for (let q = 0; q < count; q++) {
    const prefix = rnd() < 0.3 ? undefined : cut(pick(live));
    const delimiter = pick([undefined, undefined, '/', '/', '-', 'b', '😀', '/a']);
    const r = rnd();
    const after = r < 0.5 ? undefined : r < 0.7 ? pick(live) : r < 0.85 ? cut(pick(live)) : `${pick(live)}-`;
    const maxKeys = pick([1, 2, 3, 7, 50, 1000]);
    out.push({ prefix, delimiter, after, maxKeys });
  }
  return out;
}

// --- one set ---------------------------------------------------------------------------------------

const one = suite('listing: one erasure set');

one('lists like S3 (prefix, delimiter, after, maxKeys, paging) over a few hundred keys', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    const keys = randomKeys(260, 7);
    await putAll(set, keys);
    // Some keys die in ways listing must see through: removed, or behind a delete marker.
    const removed = keys.filter((_, i) => i % 13 === 0);
    const marked = keys.filter((_, i) => i % 17 === 1);
    for (const k of removed) await set.deleteObject(B, k);
    for (const k of marked) await set.deleteObject(B, k, { versioned: true });
    const live = keys.filter((k) => !removed.includes(k) && !marked.includes(k));

    await pageThrough(set, live, {});
    await pageThrough(set, live, { delimiter: '/' });
    await pageThrough(set, live, { maxKeys: 17 });
    await pageThrough(set, live, { maxKeys: 5, delimiter: '/' });
    for (const q of randomQueries(live, 70, 11)) await pageThrough(set, live, q);
  } finally {
    await cleanup();
  }
});

one(
  'keys with spaces, unicode (astral too), empty segments and % list in UTF-8 order with their info',
  async () => {
    const { set, cleanup } = await openSet(4, 2);
    try {
      const keys = [
        'a',
        'a/',
        'a//b',
        'a/b',
        'a b',
        'a%20b',
        '%',
        '100%/x',
        'é',
        'e\u0301',
        '日本/語',
        '😀',
        '😀/a',
        '\uFFFD',
        '\uE000',
        '\u{10FFFF}',
        'cairn.meta',
        'x/cairn.d.1',
        '.',
        '../x',
        'tab\there',
      ];
      await putAll(set, keys);
      const page = await listObjectsInSet(set, B);
      assert.deepEqual(
        page.objects.map((o) => o.key),
        [...keys].sort(byteOrder),
      );
      // UTF-8 order puts astral characters after U+E000..U+FFFF (UTF-16 order would not).
      const order = page.objects.map((o) => o.key);
      assert.ok(
        order.indexOf('\uFFFD') < order.indexOf('😀') && order.indexOf('😀') < order.indexOf('\u{10FFFF}'),
      );
      for (const o of page.objects) {
        assert.equal(o.size, Buffer.byteLength(`body of ${o.key}`));
        assert.equal(o.bucket, B);
        assert.ok(o.isLatest && !o.deleteMarker);
        assert.equal(o.etag, (await set.getObjectInfo(B, o.key)).etag);
      }
      await pageThrough(set, keys, { delimiter: '/' });
      await pageThrough(set, keys, { prefix: 'a/', delimiter: '/' });
      await pageThrough(set, keys, { prefix: 'a/', delimiter: '/', maxKeys: 1 });
      await pageThrough(set, keys, { prefix: '😀', delimiter: '/' });
      await pageThrough(set, keys, { delimiter: '%' });
      await pageThrough(set, keys, { after: '\uFFFD' });
    } finally {
      await cleanup();
    }
  },
);

one('an empty bucket lists nothing; a missing bucket is BucketNotFound', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    assert.deepEqual(await listObjectsInSet(set, B), { objects: [], prefixes: [], isTruncated: false });
    assert.deepEqual(await listObjectsInSet(set, B, { delimiter: '/', prefix: 'x/' }), {
      objects: [],
      prefixes: [],
      isTruncated: false,
    });
    await assert.rejects(listObjectsInSet(set, 'nope'), (e) => isObjectError(e, 'BucketNotFound'));
  } finally {
    await cleanup();
  }
});

one('a page is truncated only when a listed entry really follows', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    await putAll(set, ['a', 'b', 'c', 'd/x', 'e']);
    // 'd/x' ends in a delete marker, 'e' is removed with a stale copy left on one drive: neither is listed.
    await set.deleteObject(B, 'd/x', { versioned: true });
    const restore = await snapshot(roots[0]!, 'e');
    await set.deleteObject(B, 'e');
    await restore();
    for (const delimiter of [undefined, '/']) {
      const p = await listObjectsInSet(set, B, { maxKeys: 3, delimiter });
      assert.deepEqual(
        p.objects.map((o) => o.key),
        ['a', 'b', 'c'],
      );
      assert.deepEqual(p.prefixes, []);
      assert.equal(p.isTruncated, false);
      assert.equal(p.nextAfter, undefined);
    }
    const p2 = await listObjectsInSet(set, B, { maxKeys: 2 });
    assert.equal(p2.isTruncated, true);
    assert.equal(p2.nextAfter, 'b');
    assert.deepEqual(await listObjectsInSet(set, B, { maxKeys: 0 }), {
      objects: [],
      prefixes: [],
      isTruncated: false,
    });
  } finally {
    await cleanup();
  }
});

one(
  'a key whose latest version is a delete marker is not listed, nor a prefix holding only such keys',
  async () => {
    const { set, cleanup } = await openSet(4, 2);
    try {
      const v = { versioned: true };
      await put(set, 'photos/a.jpg', undefined, v);
      await put(set, 'gone/x.jpg', undefined, v);
      await put(set, 'gone/y/z.jpg', undefined, v);
      await put(set, 'back', undefined, v);
      await set.deleteObject(B, 'gone/x.jpg', v);
      await set.deleteObject(B, 'gone/y/z.jpg', v);
      await set.deleteObject(B, 'back', v);
      await put(set, 'back', Buffer.from('again'), v);
      const all = await listObjectsInSet(set, B);
      assert.deepEqual(
        all.objects.map((o) => o.key),
        ['back', 'photos/a.jpg'],
      );
      assert.equal(all.objects[0]!.size, 5);
      const d = await listObjectsInSet(set, B, { delimiter: '/' });
      assert.deepEqual(d.prefixes, ['photos/']);
      assert.deepEqual(
        d.objects.map((o) => o.key),
        ['back'],
      );
      assert.deepEqual((await listObjectsInSet(set, B, { prefix: 'gone/', delimiter: '/' })).prefixes, []);
    } finally {
      await cleanup();
    }
  },
);

one('an object deleted while a drive was down does not come back from that drive', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    await putAll(set, ['keep', 'dir/old', 'dir2/old', 'solo']);
    for (const key of ['dir/old', 'solo', 'dir2/old']) {
      const restore = await snapshot(roots[2]!, key); // drive 3 will miss the delete
      await set.deleteObject(B, key);
      await restore();
    }
    await put(set, 'dir2/new');
    for (let i = 0; i < 4; i++) {
      // Several listings: the drives walked rotate.
      assert.deepEqual(
        (await listObjectsInSet(set, B)).objects.map((o) => o.key),
        ['dir2/new', 'keep'],
      );
      const d = await listObjectsInSet(set, B, { delimiter: '/' });
      assert.deepEqual(d.prefixes, ['dir2/']);
      assert.deepEqual(
        d.objects.map((o) => o.key),
        ['keep'],
      );
    }
    await assert.rejects(set.getObjectInfo(B, 'solo'), (e) => isObjectError(e, 'ObjectNotFound'));
  } finally {
    await cleanup();
  }
});

one('an overwrite a drive missed lists the new version', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    await put(set, 'k', Buffer.from('old'));
    const restore = await snapshot(roots[1]!, 'k');
    const info = await put(set, 'k', Buffer.from('the new one'));
    await restore();
    for (let i = 0; i < 4; i++) {
      const [o] = (await listObjectsInSet(set, B)).objects;
      assert.equal(o!.etag, info.etag);
      assert.equal(o!.size, 11);
    }
  } finally {
    await cleanup();
  }
});

one("a large directory's cached listing sees every put, delete and overwrite at once", async () => {
  // Directories of 8 children and more are cached here (4096 in a server), once unchanged for 2 s.
  configureListingCache(256 << 20, 8);
  const { set, cleanup } = await openSet(4, 2);
  try {
    const live = new Set(Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(3, '0')}`));
    await putAll(set, [...live]);
    await new Promise((r) => setTimeout(r, 2100));
    const before = listingCacheStats().dirs;
    await pageThrough(set, [...live], { maxKeys: 7 });
    assert.ok(listingCacheStats().dirs >= before + 3, "the walked drives' listings were cached");
    // Each change lands in the same second as the cached listing was used.
    await put(set, 'k0105');
    live.add('k0105');
    await pageThrough(set, [...live], { maxKeys: 9 });
    await set.deleteObject(B, 'k010');
    live.delete('k010');
    await pageThrough(set, [...live], { prefix: 'k01' });
    await put(set, 'k020', Buffer.from('a longer body than before'));
    const page = await list(set, { after: 'k019', maxKeys: 1 });
    assert.deepEqual(
      page.objects.map((o) => [o.key, o.size]),
      [['k020', 25]],
    );
    for (let i = 0; i < 4; i++) await pageThrough(set, [...live], { delimiter: '/', maxKeys: 13 });
  } finally {
    configureListingCache(256 << 20, LISTING_CACHE_MIN_CHILDREN);
    await cleanup();
  }
});

one('an object written with drives down is listed, with them still down and once back empty', async () => {
  // 6 drives, parity 2: a write needs 4, so 2 may be down.
  const { set, roots, cleanup } = await openSet(6, 2);
  try {
    await put(set, 'before');
    const back = await Promise.all([takeAway(roots[0]!), takeAway(roots[3]!)]);
    await put(set, 'during');
    await put(set, 'dir/during');
    const want = ['before', 'dir/during', 'during'];
    assert.deepEqual(
      (await listObjectsInSet(set, B)).objects.map((o) => o.key),
      want,
    );
    for (const b of back) await b();
    // Back, without the objects written meanwhile: whichever drives get walked, all are listed.
    for (let i = 0; i < 6; i++) {
      assert.deepEqual(
        (await listObjectsInSet(set, B)).objects.map((o) => o.key),
        want,
      );
      assert.deepEqual((await listObjectsInSet(set, B, { delimiter: '/' })).prefixes, ['dir/']);
    }
  } finally {
    await cleanup();
  }
});

one('objects stay listed with m drives emptied or missing, as long as GET reads them', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    const keys = Array.from({ length: 60 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
    await putAll(set, keys);
    // Two drives lose everything in the bucket (replaced, not healed yet).
    for (const r of [roots[0]!, roots[2]!]) {
      await fs.rm(path.join(r, B), { recursive: true });
      await fs.mkdir(path.join(r, B));
    }
    await set.getObjectInfo(B, keys[0]!);
    for (let i = 0; i < 4; i++) {
      await pageThrough(set, keys, {});
      await pageThrough(set, keys, { maxKeys: 25 });
      await pageThrough(set, keys, { delimiter: '/' });
    }
    // Two slots with no drive at all.
    const degraded = new ErasureSet([null, set.drives[1]!, null, set.drives[3]!], { parity: 2 });
    await pageThrough(degraded, keys, { maxKeys: 7 });
    // One more gone: no read quorum.
    const broken = new ErasureSet([null, set.drives[1]!, null, null], { parity: 2 });
    await assert.rejects(listObjectsInSet(broken, B), (e) => isObjectError(e, 'InsufficientReadQuorum'));
  } finally {
    await cleanup();
  }
});

one('a healthy set walks k + 1 drives; a drive failing at or during its walk is replaced', async () => {
  const { set, drives, cleanup } = await openSet(4, 2);
  try {
    const keys = Array.from({ length: 300 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
    await putAll(set, keys);
    const walks = () => drives.reduce((a, d) => a + d.walks, 0);
    const before = walks();
    await listObjectsInSet(set, B, { maxKeys: 50 });
    assert.equal(walks() - before, 3);
    assert.equal(
      drives.filter((d) => d.walks > 0).length,
      3,
      'a non-delimited page walks k + 1 drives, not all',
    );

    // Every drive in turn fails as its walk starts, then while it runs.
    for (const d of drives) {
      d.failNext('walk', 'FaultyDrive');
      await pageThrough(set, keys, { maxKeys: 120 });
      d.reset();
    }
    for (const d of drives) {
      d.failAfter = 40;
      await pageThrough(set, keys, {});
      assert.equal(d.failAfter, undefined, 'the walk was used');
    }
  } finally {
    await cleanup();
  }
});

one('pages needing many lookups start over walking every drive', async () => {
  const { set, roots, drives, cleanup } = await openSet(4, 2);
  try {
    const keys = Array.from({ length: 80 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    await putAll(set, keys);
    // Drives 1 and 2 emptied: any k + 1 walked drives include at least one of them.
    for (const r of [roots[0]!, roots[1]!]) {
      await fs.rm(path.join(r, B), { recursive: true });
      await fs.mkdir(path.join(r, B));
    }
    let everyDrive = 0;
    for (let i = 0; i < 4; i++) {
      for (const d of drives) d.walks = 0;
      await pageThrough(set, keys, {});
      if (drives.every((d) => d.walks > 0)) everyDrive++;
    }
    // The walked drives rotate: some listings got one holder of the keys among three walked.
    assert.ok(everyDrive > 0);
  } finally {
    await cleanup();
  }
});

// --- several sets ----------------------------------------------------------------------------------

const many = suite('listing: several sets');

many('32 drives (2 sets of 16): pages merge across sets like S3, common prefixes once', async () => {
  const { roots, cleanup } = await tempDrives(32);
  try {
    const sets = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
    assert.equal(sets.sets.length, 2);
    await sets.makeBucket(B);
    const keys = randomKeys(200, 23);
    await putAll(sets, keys);
    // Both sets hold keys, and a prefix's keys are spread over both.
    const inSet = keys.map((k) => sets.sets.indexOf(sets.setFor(k)));
    assert.ok(inSet.includes(0) && inSet.includes(1));
    const marked = keys.filter((_, i) => i % 11 === 3);
    for (const k of marked) await sets.deleteObject(B, k, { versioned: true });
    const live = keys.filter((k) => !marked.includes(k));

    await pageThrough(sets, live, {});
    await pageThrough(sets, live, { delimiter: '/' });
    await pageThrough(sets, live, { delimiter: '/', maxKeys: 1 });
    await pageThrough(sets, live, { maxKeys: 9 });
    for (const q of randomQueries(live, 30, 29)) await pageThrough(sets, live, q);

    await assert.rejects(sets.listObjects('nope'), (e) => isObjectError(e, 'BucketNotFound'));
    await sets.makeBucket('empty');
    assert.deepEqual(await sets.listObjects('empty'), { objects: [], prefixes: [], isTruncated: false });
  } finally {
    await cleanup();
  }
});

many('mergeListPages: union in order, duplicates once, truncated when a set has more', () => {
  const info = (key: string) => ({ key }) as ObjectInfo;
  const a: ListObjectsResult = {
    objects: [info('a'), info('c')],
    prefixes: ['p/'],
    isTruncated: true,
    nextAfter: 'p/',
  };
  const b: ListObjectsResult = { objects: [info('b')], prefixes: ['p/', 'q/'], isTruncated: false };
  const m = mergeListPages([a, b], 3);
  assert.deepEqual(
    m.objects.map((o) => o.key),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(m.prefixes, []);
  assert.equal(m.isTruncated, true);
  assert.equal(m.nextAfter, 'c');
  const all = mergeListPages([a, b], 10);
  assert.deepEqual(all.prefixes, ['p/', 'q/']);
  assert.equal(all.isTruncated, true, 'set a has more after p/');
  assert.equal(all.nextAfter, 'q/');
  const done = mergeListPages([{ ...a, isTruncated: false, nextAfter: undefined }, b], 10);
  assert.equal(done.isTruncated, false);
  assert.equal(done.nextAfter, undefined);
  assert.equal(pageSize(5000), 1000);
  assert.equal(pageSize(undefined), 1000);
  assert.equal(pageSize(-1), 1000);
  assert.equal(pageSize(0), 0);
});

many(
  'mergeVersionPages: keys in order, every version of a key kept in its order, shared prefixes once',
  () => {
    const v = (key: string, versionId: string) => ({ key, versionId }) as ObjectInfo;
    const a: ListObjectVersionsResult = {
      versions: [v('a', 'a2'), v('a', 'a1'), v('c', 'c1')],
      prefixes: ['p/'],
      isTruncated: false,
    };
    const b: ListObjectVersionsResult = {
      versions: [v('b', 'b1')],
      prefixes: ['p/', 'q/'],
      isTruncated: false,
    };
    const all = mergeVersionPages([a, b], 10);
    assert.deepEqual(
      all.versions.map((x) => `${x.key}:${x.versionId}`),
      ['a:a2', 'a:a1', 'b:b1', 'c:c1'],
    );
    assert.deepEqual(all.prefixes, ['p/', 'q/']);
    assert.equal(all.isTruncated, false);
    const page = mergeVersionPages([a, b], 2);
    assert.deepEqual(
      page.versions.map((x) => `${x.key}:${x.versionId}`),
      ['a:a2', 'a:a1'],
    );
    assert.equal(page.isTruncated, true);
    assert.equal(page.nextKeyMarker, 'a');
    assert.equal(page.nextVersionIdMarker, 'a1');
  },
);

one.run();
many.run();
