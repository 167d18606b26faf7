import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import {
  type DriveState,
  HealQueue,
  type HealResult,
  healAll,
  healBucket,
  healObject,
  isClean,
  listKeys,
  Scanner,
} from '../../src/erasure/heal';
import { PartLayout } from '../../src/erasure/layout';
import {
  addVersion,
  decodeMeta,
  encodeMeta,
  type MetaFile,
  newDataDir,
  type ObjectDataVersion,
  type ObjectVersion,
  versionIdNew,
} from '../../src/erasure/metadata';
import { hashOrder } from '../../src/erasure/quorum';
import { ErasureCoder } from '../../src/native';
import { FaultyDrive } from '../../src/storage/FaultyDrive';
import { type FormatRecord, formatForPosition, newFormats, writeFormat } from '../../src/storage/format';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { META_FILE, objectPath } from '../../src/storage/paths';
import { SYSTEM_VOLUME, TMP_DIR } from '../../src/storage/StorageAPI';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const KiB = 1024;
const MiB = 1024 * 1024;
/** The sizes every damage is tried on: empty, tiny, inline, just past inline, several blocks. */
const SIZES = [0, 1, 100 * KiB, 128 * KiB + 1, 3 * MiB + 5];
const LAYOUTS = [
  [4, 2],
  [8, 4],
  [8, 2],
] as const;

interface TestSet {
  set: ErasureSet;
  roots: string[];
  drives: FaultyDrive[];
  formats: FormatRecord[];
  cleanup: () => Promise<void>;
}

/** `n` formatted drives (each a LocalDrive behind a fault injector) in one set, bucket `b` made. */
async function openSet(
  n: number,
  parity: number,
  onDegraded?: (bucket: string, key: string, versionId: string) => void,
): Promise<TestSet> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-heal-'));
  const roots = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = path.join(base, `d${i + 1}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new FaultyDrive(new LocalDrive(r)));
  const formats = newFormats({ setCount: 1, setSize: n, parity });
  await Promise.all(drives.map((d, i) => writeFormat(d, formats[i]!)));
  const set = new ErasureSet(drives, { parity, onDegraded });
  await set.makeBucket('b');
  return { set, roots, drives, formats, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

const put = (set: ErasureSet, key: string, data: Buffer, opts = {}) =>
  set.putObject('b', key, Readable.from([data]), { size: data.length, ...opts });

async function readAll(set: ErasureSet, key: string, versionId?: string): Promise<Buffer> {
  const { stream } = await set.getObject('b', key, versionId ? { versionId } : {});
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Every file (by content hash) and directory under a drive's volume. */
async function tree(root: string, volume = 'b'): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string, rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        out[`${r}/`] = 'dir';
        await walk(abs, r);
      } else out[r] = sha(await fs.readFile(abs));
    }
  };
  await walk(path.join(root, volume), '');
  return out;
}

const trees = (roots: string[]) => Promise.all(roots.map((r) => tree(r)));

/** Each drive's decoded metadata of each key (undefined where there is none). */
async function metas(roots: string[], keys: string[]): Promise<(MetaFile | undefined)[][]> {
  return Promise.all(
    roots.map((r) =>
      Promise.all(
        keys.map(async (k) => {
          const buf = await fs.readFile(path.join(r, 'b', objectPath(k), META_FILE)).catch(() => undefined);
          return buf ? decodeMeta(buf) : undefined;
        }),
      ),
    ),
  );
}

/** No heal leftovers in any drive's temp dir. */
async function assertNoTmp(roots: string[]): Promise<void> {
  for (const r of roots) {
    const left = await fs.readdir(path.join(r, SYSTEM_VOLUME, TMP_DIR)).catch(() => []);
    assert.deepEqual(left, [], `temp files left on ${r}`);
  }
}

/** The object directory's data dir on a drive, if any. */
async function dataDirOf(root: string, key: string): Promise<string | undefined> {
  const entries = await fs.readdir(path.join(root, 'b', objectPath(key))).catch(() => [] as string[]);
  return entries.find((e) => e.startsWith('cairn.d.'));
}

/** The file a damage to a drive's copy of `key` hits: its shard file, or (inline) its metadata file. */
async function victimFile(root: string, key: string): Promise<string> {
  const dir = path.join(root, 'b', objectPath(key));
  const dd = await dataDirOf(root, key);
  return dd ? path.join(dir, dd, 'part.1') : path.join(dir, META_FILE);
}

async function flipBytes(file: string): Promise<void> {
  const h = await fs.open(file, 'r+');
  try {
    const { size } = await h.stat();
    for (const at of new Set([0, 40, Math.floor(size / 2), size - 1])) {
      if (at < 0 || at >= size) continue;
      const b = Buffer.alloc(1);
      await h.read(b, 0, 1, at);
      b[0]! ^= 0x5a;
      await h.write(b, 0, 1, at);
    }
  } finally {
    await h.close();
  }
}

// The ways a drive's copy is lost.
type Damage = 'wiped' | 'objectDir' | 'truncated' | 'directory' | 'bitrot';
const DAMAGES: Damage[] = ['wiped', 'objectDir', 'truncated', 'directory', 'bitrot'];

async function wipe(root: string): Promise<void> {
  for (const e of await fs.readdir(root)) await fs.rm(path.join(root, e), { recursive: true, force: true });
}

async function damage(root: string, key: string, how: Exclude<Damage, 'wiped'>): Promise<void> {
  switch (how) {
    case 'objectDir':
      await fs.rm(path.join(root, 'b', objectPath(key)), { recursive: true, force: true });
      return;
    case 'truncated': {
      const f = await victimFile(root, key);
      const { size } = await fs.stat(f);
      await fs.truncate(f, Math.floor(size / 2));
      return;
    }
    case 'directory': {
      const f = await victimFile(root, key);
      await fs.rm(f, { force: true });
      await fs.mkdir(f);
      await fs.writeFile(path.join(f, 'junk'), 'not a shard');
      return;
    }
    case 'bitrot':
      await flipBytes(await victimFile(root, key));
      return;
  }
}

/** The drive position holding shard index `shard` (1-based) of `key`, from its metadata. */
async function holderOf(roots: string[], key: string, shard: number): Promise<number> {
  for (let i = 0; i < roots.length; i++) {
    const buf = await fs.readFile(path.join(roots[i]!, 'b', objectPath(key), META_FILE));
    const v = decodeMeta(buf).versions[0] as ObjectDataVersion;
    if (v.erasure.index === shard) return i;
  }
  throw new Error(`no drive holds shard ${shard} of ${key}`);
}

const allOk = (n: number): DriveState[] => new Array<DriveState>(n).fill('ok');

// --- every layout, every damage, every size -------------------------------------------------------

const restore = suite('healing restores every shard and metadata file');

for (const [n, parity] of LAYOUTS) {
  DAMAGES.forEach((how, di) => {
    const viaAll = di % 2 === 0;
    restore(
      `${how} on ${parity} of ${n} drives: ${viaAll ? 'healAll' : 'healObject'} restores every object byte for byte`,
      async () => {
        const t = await openSet(n, parity);
        try {
          const data = new Map<string, Buffer>();
          for (const size of SIZES) {
            const key = `dir/obj-${size}`;
            data.set(key, randomBytes(size));
            await put(t.set, key, data.get(key)!);
          }
          const keys = [...data.keys()];
          const want = await trees(t.roots);
          const wantMeta = await metas(t.roots, keys);
          const hit = Array.from({ length: parity }, (_, j) => (di + j * 2) % n);
          for (const i of hit) {
            if (how === 'wiped') await wipe(t.roots[i]!);
            else for (const key of keys) await damage(t.roots[i]!, key, how);
          }
          assert.notDeepEqual(await trees(t.roots), want, 'the damage changed something');

          const deep = how === 'bitrot';
          if (viaAll) {
            const all = await healAll(t.set, { deep });
            const b = all.buckets.find((x) => x.bucket === 'b')!;
            assert.equal(b.objects, keys.length);
            assert.equal(b.healedVersions, keys.length, JSON.stringify(b.results.map((r) => r.versions)));
            for (const r of b.results)
              assert.deepEqual(r.after, allOk(n), `${r.key}: ${JSON.stringify(r.versions)}`);
          } else {
            for (const key of keys) {
              const r = await healObject(t.set, 'b', key, { deep });
              assert.equal(r.error, undefined, r.error);
              assert.deepEqual(r.healed, ['null'], `${key}: ${JSON.stringify(r.versions)}`);
              assert.deepEqual(r.after, allOk(n), `${key}: ${JSON.stringify(r.versions)}`);
              for (const i of hit) assert.notEqual(r.before[i], 'ok', `${key} on drive ${i} was damaged`);
              assert.ok(r.bytesWritten > 0);
            }
          }
          assert.deepEqual(await trees(t.roots), want);
          assert.deepEqual(await metas(t.roots, keys), wantMeta);
          await assertNoTmp(t.roots);
          // A second heal finds nothing to do, even verifying every frame.
          for (const key of keys) {
            const again = await healObject(t.set, 'b', key, { deep: true });
            assert.ok(isClean(again), `${key}: ${JSON.stringify(again)}`);
            assert.equal(again.bytesWritten, 0);
          }
          // And the data reads back with the healed drives doing the work.
          const others = Array.from({ length: n }, (_, i) => i).filter((i) => !hit.includes(i));
          for (const i of others.slice(0, parity)) t.drives[i]!.setOffline(true);
          for (const [key, bytes] of data) assert.equal(sha(await readAll(t.set, key)), sha(bytes), key);
        } finally {
          await t.cleanup();
        }
      },
    );
  });
}

restore.run();

// --- versions ----------------------------------------------------------------------------------

const versions = suite('healing versions');

versions('every version of a versioned key is healed, delete marker included', async () => {
  const t = await openSet(8, 4);
  try {
    const v1 = randomBytes(200 * KiB);
    const v2 = randomBytes(5 * KiB);
    const i1 = await put(t.set, 'k', v1, { versioned: true });
    const i2 = await put(t.set, 'k', v2, { versioned: true });
    const dm = await t.set.deleteObject('b', 'k', { versioned: true });
    assert.ok(dm.deleteMarker);
    const want = await trees(t.roots);
    const wantMeta = await metas(t.roots, ['k']);
    await damage(t.roots[0]!, 'k', 'objectDir');
    await wipe(t.roots[3]!);
    await damage(t.roots[5]!, 'k', 'truncated');
    await damage(t.roots[6]!, 'k', 'directory');
    const r = await healObject(t.set, 'b', 'k');
    assert.equal(r.versions.length, 3);
    assert.deepEqual(
      r.versions.map((v) => v.versionId),
      [dm.versionId, i2.versionId, i1.versionId],
    );
    assert.deepEqual(
      r.versions.map((v) => v.type),
      ['deleteMarker', 'object', 'object'],
    );
    assert.deepEqual(new Set(r.healed), new Set([dm.versionId, i2.versionId, i1.versionId]));
    assert.deepEqual(r.after, allOk(8));
    assert.deepEqual(r.volumesMade, [3]);
    assert.deepEqual(await trees(t.roots), want);
    assert.deepEqual(await metas(t.roots, ['k']), wantMeta);
    assert.equal(sha(await readAll(t.set, 'k', i1.versionId)), sha(v1));
    assert.equal(sha(await readAll(t.set, 'k', i2.versionId)), sha(v2));
  } finally {
    await t.cleanup();
  }
});

versions(
  'a drive that missed the latest version gets it, and one with another copy of a version has it replaced',
  async () => {
    const t = await openSet(4, 2);
    try {
      await put(t.set, 'k', randomBytes(300 * KiB));
      // Drive 1 misses the overwrite of the null version: it keeps the old copy (another data dir).
      t.drives[1]!.setOffline(true);
      const newer = randomBytes(400 * KiB);
      await put(t.set, 'k', newer);
      t.drives[1]!.setOffline(false);
      const oldDir = await dataDirOf(t.roots[1]!, 'k');
      const r = await healObject(t.set, 'b', 'k');
      assert.equal(r.versions[0]!.before[1], 'outdated');
      assert.deepEqual(r.healed, ['null']);
      assert.deepEqual(r.after, allOk(4));
      const dirs = (await fs.readdir(path.join(t.roots[1]!, 'b', 'k'))).filter((e) =>
        e.startsWith('cairn.d.'),
      );
      assert.equal(dirs.length, 1);
      assert.notEqual(dirs[0], oldDir, 'the outdated data dir is gone');
      // Drives 0 and 1 alone now serve the new bytes.
      t.drives[2]!.setOffline(true);
      t.drives[3]!.setOffline(true);
      assert.equal(sha(await readAll(t.set, 'k')), sha(newer));
    } finally {
      await t.cleanup();
    }
  },
);

versions('a drive with stale user metadata (a partial update) is brought in line', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(10), { userMetadata: { a: '1' } });
    const want = await trees(t.roots);
    const f = path.join(t.roots[2]!, 'b', 'k', META_FILE);
    const file = decodeMeta(await fs.readFile(f));
    const v = file.versions[0] as ObjectDataVersion;
    await fs.writeFile(f, encodeMeta({ versions: [{ ...v, userMetadata: { a: 'stale' } }] }));
    const r = await healObject(t.set, 'b', 'k');
    assert.deepEqual(r.versions[0]!.before, ['ok', 'ok', 'outdated', 'ok']);
    assert.deepEqual(r.after, allOk(4));
    assert.equal(r.bytesWrittenPerDrive.filter((b) => b > 0).length, 1);
    assert.deepEqual(await trees(t.roots), want);
  } finally {
    await t.cleanup();
  }
});

/** Adds a version (and, for data, a data dir with junk) to one drive only: a failed write's leftover. */
async function danglingOn(root: string, key: string, v: ObjectVersion): Promise<void> {
  const dir = path.join(root, 'b', objectPath(key));
  await fs.mkdir(dir, { recursive: true });
  const f = path.join(dir, META_FILE);
  const cur = await fs.readFile(f).then(decodeMeta, () => ({ versions: [] }) as MetaFile);
  await fs.writeFile(f, encodeMeta(addVersion(cur, v, { replaceNull: false }).file));
  if (v.type === 'object' && v.dataDir) {
    await fs.mkdir(path.join(dir, v.dataDir));
    await fs.writeFile(path.join(dir, v.dataDir, 'part.1'), randomBytes(1000));
  }
}

function fakeVersion(like: ObjectDataVersion): ObjectDataVersion {
  return {
    ...like,
    versionId: versionIdNew(),
    modTime: Date.now() + 1,
    dataDir: newDataDir(),
    etag: md5(randomBytes(4)),
  };
}

versions('a version only a minority holds (a failed write) is removed, with its data dir', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(200 * KiB), { versioned: true });
    const want = await trees(t.roots);
    const like = decodeMeta(await fs.readFile(path.join(t.roots[0]!, 'b', 'k', META_FILE)))
      .versions[0] as ObjectDataVersion;
    const ghost = fakeVersion(like);
    await danglingOn(t.roots[0]!, 'k', ghost);
    // A key that only one drive has is dangling too.
    await danglingOn(t.roots[2]!, 'lonely', fakeVersion(like));
    const r = await healObject(t.set, 'b', 'k');
    assert.deepEqual(r.removed, [ghost.versionId]);
    const vr = r.versions.find((v) => v.versionId === ghost.versionId)!;
    assert.equal(vr.status, 'removed');
    assert.deepEqual(vr.before, ['outdated', 'ok', 'ok', 'ok']);
    assert.deepEqual(vr.after, allOk(4));
    const all = await healAll(t.set);
    assert.equal(all.buckets[0]!.removedVersions, 1);
    assert.deepEqual(await trees(t.roots), want);
  } finally {
    await t.cleanup();
  }
});

versions('a delete marker only a minority holds is removed; one a majority holds is restored', async () => {
  const t = await openSet(8, 2);
  try {
    await put(t.set, 'k', randomBytes(50), { versioned: true });
    await put(t.set, 'm', randomBytes(50), { versioned: true });
    const wantK = await trees(t.roots);
    const marker: ObjectVersion = {
      type: 'deleteMarker',
      versionId: versionIdNew(),
      modTime: Date.now() + 1,
    };
    for (const i of [1, 4, 6]) await danglingOn(t.roots[i]!, 'k', marker);
    const r = await healObject(t.set, 'b', 'k');
    assert.deepEqual(r.removed, [marker.versionId]);
    assert.deepEqual(await trees(t.roots), wantK);
    // Written on 5 of 8 (a committed marker), then lost on one more: restored everywhere.
    const kept: ObjectVersion = { type: 'deleteMarker', versionId: versionIdNew(), modTime: Date.now() + 2 };
    for (const i of [0, 1, 2, 3]) await danglingOn(t.roots[i]!, 'm', kept);
    const r2 = await healObject(t.set, 'b', 'm');
    assert.deepEqual(r2.healed, [kept.versionId]);
    const info = await t.set.getObjectInfo('b', 'm').catch((e) => e);
    assert.equal(info.code, 'ObjectNotFound', 'the latest is the delete marker');
    for (const m of await metas(t.roots, ['m'])) assert.equal(m[0]!.versions[0]!.versionId, kept.versionId);
  } finally {
    await t.cleanup();
  }
});

versions('a minority version is left alone when the drives that are away could hold it', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(200 * KiB), { versioned: true });
    const like = decodeMeta(await fs.readFile(path.join(t.roots[0]!, 'b', 'k', META_FILE)))
      .versions[0] as ObjectDataVersion;
    const ghost = fakeVersion(like);
    await danglingOn(t.roots[0]!, 'k', ghost);
    t.drives[2]!.setOffline(true);
    t.drives[3]!.setOffline(true);
    const before = await trees(t.roots.slice(0, 2));
    const r = await healObject(t.set, 'b', 'k');
    assert.deepEqual(r.unrecoverable, [ghost.versionId]);
    assert.deepEqual(r.removed, []);
    assert.deepEqual(await trees(t.roots.slice(0, 2)), before, 'nothing written');
  } finally {
    await t.cleanup();
  }
});

versions.run();

// --- what cannot be healed -----------------------------------------------------------------------

const lost = suite('beyond parity');

lost('with m + 1 drives gone, every version is reported unrecoverable and nothing is written', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'small', randomBytes(10));
    await put(t.set, 'big', randomBytes(2 * MiB + 3));
    for (const i of [0, 1, 2]) t.drives[i]!.setOffline(true);
    const before = await trees(t.roots);
    for (const key of ['small', 'big']) {
      const r = await healObject(t.set, 'b', key, { deep: true });
      assert.deepEqual(r.unrecoverable, ['null'], JSON.stringify(r));
      assert.deepEqual(r.healed, []);
      assert.deepEqual(r.removed, []);
      assert.deepEqual(r.after, ['offline', 'offline', 'offline', 'ok']);
      assert.equal(r.bytesWritten, 0);
    }
    assert.deepEqual(await trees(t.roots), before);
    // The drives come back: everything is there.
    for (const i of [0, 1, 2]) t.drives[i]!.setOffline(false);
    assert.equal((await readAll(t.set, 'big')).length, 2 * MiB + 3);
  } finally {
    await t.cleanup();
  }
});

lost('with m + 1 drives replaced by fresh ones, the survivors are kept as they are', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'small', randomBytes(10));
    await put(t.set, 'big', randomBytes(MiB + 1));
    await new Promise((r) => setTimeout(r, 5));
    for (const i of [0, 1, 2]) {
      await wipe(t.roots[i]!);
      await writeFormat(t.drives[i]!, formatForPosition(t.formats[3]!, i));
    }
    const survivor = await tree(t.roots[3]!);
    const all = await healAll(t.set);
    assert.equal(all.buckets[0]!.unrecoverableVersions, 2);
    assert.equal(all.buckets[0]!.removedVersions, 0);
    assert.deepEqual(await tree(t.roots[3]!), survivor);
    for (const i of [0, 1, 2]) assert.deepEqual(await tree(t.roots[i]!), {});
  } finally {
    await t.cleanup();
  }
});

lost(
  'with m + 1 shards rotten, a deep heal reports the object unrecoverable and writes no byte',
  async () => {
    const t = await openSet(4, 2);
    try {
      await put(t.set, 'k', randomBytes(3 * MiB + 5));
      for (const i of [0, 1, 3]) await damage(t.roots[i]!, 'k', 'bitrot');
      const before = await trees(t.roots);
      const r = await healObject(t.set, 'b', 'k', { deep: true });
      assert.deepEqual(r.unrecoverable, ['null']);
      assert.equal(r.bytesWritten, 0);
      assert.deepEqual(await trees(t.roots), before);
      await assertNoTmp(t.roots);
    } finally {
      await t.cleanup();
    }
  },
);

lost.run();

// --- multipart, orphans, volumes, dry runs --------------------------------------------------------

const more = suite('healing: multipart, orphans, volumes, dry runs');

/** Lays out a multipart object directly on the drives: one data dir, `part.N` per part, as completion does. */
async function putMultipartRaw(
  t: TestSet,
  key: string,
  parts: Buffer[],
  n: number,
  parity: number,
): Promise<void> {
  const k = n - parity;
  const coder = new ErasureCoder(k, parity);
  const distribution = hashOrder(`b/${key}`, n);
  const dataDir = newDataDir();
  const now = Date.now();
  const vparts = parts.map((p, i) => ({ number: i + 1, size: p.length, etag: md5(p), modTime: now }));
  const etag = `${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))))}-${parts.length}`;
  for (let i = 0; i < n; i++) {
    const dir = path.join(t.roots[i]!, 'b', objectPath(key), dataDir);
    await fs.mkdir(dir, { recursive: true });
  }
  for (const [pi, p] of parts.entries()) {
    const layout = new PartLayout(p.length, MiB, k);
    const frames = Array.from({ length: n }, () => Buffer.alloc(layout.shardFileSize));
    await coder.encodeFrames(p, frames, { size: p.length, blockSize: MiB, firstBlock: 0 });
    for (let i = 0; i < n; i++) {
      await fs.writeFile(
        path.join(t.roots[i]!, 'b', objectPath(key), dataDir, `part.${pi + 1}`),
        frames[distribution[i]! - 1]!,
      );
    }
  }
  for (let i = 0; i < n; i++) {
    const v: ObjectDataVersion = {
      type: 'object',
      versionId: 'null',
      modTime: now,
      dataDir,
      size: parts.reduce((s, p) => s + p.length, 0),
      etag,
      userMetadata: {},
      tags: '',
      storageClass: 'STANDARD',
      checksums: {},
      parts: vparts,
      erasure: {
        algorithm: 'reedsolomon-vandermonde',
        dataBlocks: k,
        parityBlocks: parity,
        blockSize: MiB,
        index: distribution[i]!,
        distribution,
        bitrot: 'highwayhash256S',
      },
    };
    await fs.writeFile(
      path.join(t.roots[i]!, 'b', objectPath(key), META_FILE),
      encodeMeta({ versions: [v] }),
    );
  }
}

more('every part file of a multipart object is rebuilt', async () => {
  const t = await openSet(4, 2);
  try {
    const parts = [randomBytes(MiB + 3), randomBytes(2 * MiB), randomBytes(5)];
    await putMultipartRaw(t, 'mp', parts, 4, 2);
    assert.equal(sha(await readAll(t.set, 'mp')), sha(Buffer.concat(parts)), 'laid out right');
    const want = await trees(t.roots);
    await damage(t.roots[0]!, 'mp', 'objectDir');
    const dd = (await dataDirOf(t.roots[2]!, 'mp'))!;
    await fs.truncate(path.join(t.roots[2]!, 'b', 'mp', dd, 'part.2'), 100);
    await fs.rm(path.join(t.roots[2]!, 'b', 'mp', dd, 'part.3'));
    const r = await healObject(t.set, 'b', 'mp');
    assert.deepEqual(r.healed, ['null']);
    assert.deepEqual(r.versions[0]!.before, ['missing', 'ok', 'corrupt', 'ok']);
    assert.deepEqual(await trees(t.roots), want);
    // A rotten part found only by a deep heal.
    await flipBytes(path.join(t.roots[1]!, 'b', 'mp', dd, 'part.2'));
    assert.ok(isClean(await healObject(t.set, 'b', 'mp')), 'sizes alone do not show rot');
    const deep = await healObject(t.set, 'b', 'mp', { deep: true });
    assert.deepEqual(deep.versions[0]!.before, ['ok', 'corrupt', 'ok', 'ok']);
    assert.deepEqual(await trees(t.roots), want);
  } finally {
    await t.cleanup();
  }
});

more('data dirs no version names are removed; those a version names elsewhere are kept', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(300 * KiB));
    const want = await trees(t.roots);
    for (const i of [0, 3]) {
      const orphan = path.join(t.roots[i]!, 'b', 'k', newDataDir());
      await fs.mkdir(orphan);
      await fs.writeFile(path.join(orphan, 'part.1'), 'left by a crash');
    }
    const dry = await healObject(t.set, 'b', 'k', { dryRun: true });
    assert.equal(dry.orphansRemoved, 2);
    assert.notDeepEqual(await trees(t.roots), want);
    const r = await healObject(t.set, 'b', 'k');
    assert.equal(r.orphansRemoved, 2);
    assert.deepEqual(await trees(t.roots), want);
  } finally {
    await t.cleanup();
  }
});

more('a dry run reports what it would heal and writes nothing', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(2 * MiB));
    await damage(t.roots[1]!, 'k', 'objectDir');
    await damage(t.roots[2]!, 'k', 'bitrot');
    const damaged = await trees(t.roots);
    const r = await healObject(t.set, 'b', 'k', { dryRun: true, deep: true });
    assert.equal(r.dryRun, true);
    assert.deepEqual(r.healed, ['null']);
    assert.deepEqual(r.versions[0]!.before, ['ok', 'missing', 'corrupt', 'ok']);
    assert.deepEqual(r.versions[0]!.drives, [1, 2]);
    assert.equal(r.bytesWritten, 0);
    assert.deepEqual(await trees(t.roots), damaged);
    const b = await healBucket(t.set, 'b', { dryRun: true, deep: true });
    assert.equal(b.healedVersions, 1);
    assert.deepEqual(await trees(t.roots), damaged);
  } finally {
    await t.cleanup();
  }
});

more('healBucket heals only under its prefix, and lists keys any drive has', async () => {
  const t = await openSet(4, 2);
  try {
    for (const key of ['a/1', 'a/2', 'b/1', 'c']) await put(t.set, key, randomBytes(20));
    for (const key of ['a/1', 'b/1']) await damage(t.roots[0]!, key, 'objectDir');
    // A key only drive 3 has (its other copies lost) is still listed.
    for (const i of [0, 1, 2]) await damage(t.roots[i]!, 'c', 'objectDir');
    const keys: string[] = [];
    for await (const k of listKeys(t.set, 'b')) keys.push(k);
    assert.deepEqual(keys, ['a/1', 'a/2', 'b/1', 'c']);
    const r = await healBucket(t.set, 'b', { prefix: 'a/' });
    assert.equal(r.objects, 2);
    assert.equal(r.healedVersions, 1);
    assert.equal(r.clean, 1);
    assert.ok(
      (await fs.stat(path.join(t.roots[0]!, 'b', 'b', '1')).catch(() => null)) === null,
      'b/1 not touched',
    );
  } finally {
    await t.cleanup();
  }
});

more(
  'bucket volumes: made where a majority has them, removed where only a minority has them and they are empty',
  async () => {
    const t = await openSet(4, 2);
    try {
      await t.set.makeBucket('empty');
      await fs.rm(path.join(t.roots[1]!, 'empty'), { recursive: true });
      await fs.mkdir(path.join(t.roots[2]!, 'ghost'));
      const all = await healAll(t.set);
      assert.deepEqual(all.volumes.made, [{ bucket: 'empty', drives: [1] }]);
      assert.deepEqual(all.volumes.removed, [{ bucket: 'ghost', drives: [2] }]);
      await fs.stat(path.join(t.roots[1]!, 'empty'));
      assert.equal(await fs.stat(path.join(t.roots[2]!, 'ghost')).catch(() => null), null);
    } finally {
      await t.cleanup();
    }
  },
);

more('a replaced drive (formatted, empty) is refilled by healAll', async () => {
  const t = await openSet(8, 2);
  try {
    await t.set.makeBucket('other');
    for (const size of SIZES) await put(t.set, `obj-${size}`, randomBytes(size));
    await put(t.set, 'v', randomBytes(300 * KiB), { versioned: true });
    await put(t.set, 'v', randomBytes(3), { versioned: true });
    await t.set.deleteObject('b', 'v', { versioned: true });
    const want = await trees(t.roots);
    await wipe(t.roots[5]!);
    await writeFormat(t.drives[5]!, formatForPosition(t.formats[0]!, 5));
    const all = await healAll(t.set);
    assert.deepEqual(all.volumes.made, [
      { bucket: 'b', drives: [5] },
      { bucket: 'other', drives: [5] },
    ]);
    const b = all.buckets.find((x) => x.bucket === 'b')!;
    assert.equal(b.objects, SIZES.length + 1);
    assert.equal(b.healedVersions, SIZES.length + 3);
    assert.deepEqual(await trees(t.roots), want);
    await fs.stat(path.join(t.roots[5]!, 'other'));
    await assertNoTmp(t.roots);
  } finally {
    await t.cleanup();
  }
});

more('a drive offline during the heal is reported offline; the others are healed', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(MiB + 7));
    await damage(t.roots[0]!, 'k', 'objectDir');
    t.drives[3]!.setOffline(true);
    const r = await healObject(t.set, 'b', 'k');
    assert.deepEqual(r.healed, ['null']);
    assert.deepEqual(r.after, ['ok', 'ok', 'ok', 'offline']);
    t.drives[3]!.setOffline(false);
    assert.ok(isClean(await healObject(t.set, 'b', 'k', { deep: true })));
  } finally {
    await t.cleanup();
  }
});

more('a drive failing while it is written is left as it was; the heal says so', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(MiB + 7));
    await damage(t.roots[0]!, 'k', 'objectDir');
    await damage(t.roots[1]!, 'k', 'objectDir');
    t.drives[1]!.failNext('write', 'FaultyDrive');
    const r = await healObject(t.set, 'b', 'k');
    assert.equal(r.versions[0]!.status, 'partial');
    assert.deepEqual(r.after, ['ok', 'missing', 'ok', 'ok']);
    assert.match(r.versions[0]!.error ?? '', /drive 2/);
    await assertNoTmp(t.roots);
    const again = await healObject(t.set, 'b', 'k');
    assert.deepEqual(again.after, allOk(4));
  } finally {
    await t.cleanup();
  }
});

more('a drive whose metadata file rotted gets it back, its data dir replaced by a rebuilt one', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(MiB + 9), { versioned: true });
    await put(t.set, 'k', randomBytes(200 * KiB), { versioned: true });
    const want = await trees(t.roots);
    const wantMeta = await metas(t.roots, ['k']);
    await flipBytes(path.join(t.roots[2]!, 'b', 'k', META_FILE));
    const r = await healObject(t.set, 'b', 'k');
    assert.equal(r.before[2], 'corrupt');
    assert.equal(r.healed.length, 2);
    assert.deepEqual(r.after, allOk(4));
    assert.deepEqual(await trees(t.roots), want);
    assert.deepEqual(await metas(t.roots, ['k']), wantMeta);
    await assertNoTmp(t.roots);
  } finally {
    await t.cleanup();
  }
});

more('a drive whose root is gone is offline: left alone, the others healed', async () => {
  const t = await openSet(4, 2);
  try {
    await put(t.set, 'k', randomBytes(MiB));
    await fs.rm(t.roots[1]!, { recursive: true, force: true });
    await damage(t.roots[2]!, 'k', 'truncated');
    const r = await healObject(t.set, 'b', 'k');
    assert.deepEqual(r.after, ['ok', 'offline', 'ok', 'ok']);
    assert.deepEqual(r.healed, ['null']);
    assert.equal(await fs.stat(t.roots[1]!).catch(() => null), null, 'a missing drive is never recreated');
  } finally {
    await t.cleanup();
  }
});

more(
  'a heal runs beside a GET streaming the key: the GET reads the right bytes, the heal heals',
  async () => {
    const t = await openSet(4, 2);
    try {
      const data = randomBytes(3 * MiB);
      await put(t.set, 'k', data);
      await damage(t.roots[0]!, 'k', 'objectDir');
      const { stream } = await t.set.getObject('b', 'k');
      // A GET holds the key only while it picks the version, so the heal need not wait for the stream.
      assert.deepEqual((await healObject(t.set, 'b', 'k')).healed, ['null']);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      assert.equal(sha(Buffer.concat(chunks)), sha(data));
      assert.equal(sha(await readAll(t.set, 'k')), sha(data));
    } finally {
      await t.cleanup();
    }
  },
);

more.run();

// --- background healing ------------------------------------------------------------------------

const background = suite('background healing');

background('the heal queue heals what a GET found rotten', async () => {
  let queue: HealQueue | undefined;
  const t = await openSet(4, 2, (b, k, v) => queue?.enqueue(b, k, v));
  queue = new HealQueue(t.set);
  try {
    const data = randomBytes(3 * MiB + 5);
    await put(t.set, 'k', data);
    await queue.drain();
    const want = await trees(t.roots);
    const first = await holderOf(t.roots, 'k', 1);
    await damage(t.roots[first]!, 'k', 'bitrot');
    assert.equal(sha(await readAll(t.set, 'k')), sha(data));
    await queue.drain();
    const s = queue.stats();
    assert.equal(s.healed, 1, JSON.stringify(s));
    assert.equal(s.recent.at(-1)!.versions[0]!.before[first], 'corrupt');
    assert.deepEqual(await trees(t.roots), want);
  } finally {
    await queue.close();
    await t.cleanup();
  }
});

background(
  'a GET of inline data whose first data shard rotted reads the rest and queues the heal',
  async () => {
    let queue: HealQueue | undefined;
    const t = await openSet(4, 2, (b, k, v) => queue?.enqueue(b, k, v));
    queue = new HealQueue(t.set);
    try {
      const data = randomBytes(5000); // held in the metadata files
      await put(t.set, 'k', data);
      await queue.drain();
      const want = await trees(t.roots);
      const first = await holderOf(t.roots, 'k', 1);
      await damage(t.roots[first]!, 'k', 'bitrot');
      for (let i = 0; i < 3; i++) assert.equal(sha(await readAll(t.set, 'k')), sha(data));
      await queue.drain();
      assert.ok(queue.stats().healed >= 1, JSON.stringify(queue.stats()));
      assert.deepEqual(await trees(t.roots), want);
    } finally {
      await queue.close();
      await t.cleanup();
    }
  },
);

background('the heal queue de-duplicates, and never throws into its caller', async () => {
  const t = await openSet(4, 2);
  const queue = new HealQueue(t.set);
  try {
    await put(t.set, 'k', randomBytes(10));
    await damage(t.roots[2]!, 'k', 'objectDir');
    assert.equal(queue.enqueue('b', 'k', 'null'), true);
    assert.equal(queue.enqueue('b', 'k', 'null'), false);
    assert.equal(queue.enqueue('nobucket', '\0bad', 'null'), true);
    await queue.drain();
    const s = queue.stats();
    assert.equal(s.enqueued, 2);
    assert.equal(s.deduplicated, 1);
    assert.equal(s.completed, 2);
    assert.equal(s.healed, 1);
    assert.ok(
      s.recent.some((r: HealResult) => r.error !== undefined),
      'a bad key is reported, not thrown',
    );
  } finally {
    await queue.close();
    await t.cleanup();
  }
});

background('the heal queue does not retry at once what it could not finish', async () => {
  const t = await openSet(4, 2);
  const queue = new HealQueue(t.set);
  try {
    await put(t.set, 'k', randomBytes(10));
    await damage(t.roots[0]!, 'k', 'objectDir');
    t.drives[3]!.setOffline(true);
    queue.enqueue('b', 'k', 'null');
    await queue.drain();
    assert.deepEqual(queue.stats().recent[0]!.after, ['ok', 'ok', 'ok', 'offline']);
    assert.equal(queue.enqueue('b', 'k', 'null'), false);
    assert.equal(queue.stats().skipped, 1);
    const eager = new HealQueue(t.set, { retryAfterMs: 0 });
    assert.equal(eager.enqueue('b', 'k', 'null'), true);
    await eager.drain();
  } finally {
    await queue.close();
    await t.cleanup();
  }
});

background('a scanner cycle finds and heals a rotten shard with deep verification', async () => {
  const t = await openSet(8, 4);
  const scanner = new Scanner(t.set, { deepEvery: 2, objectDelayMs: 0 });
  try {
    await put(t.set, 'k', randomBytes(2 * MiB + 1));
    await put(t.set, 'other', randomBytes(64));
    const want = await trees(t.roots);
    await damage(t.roots[4]!, 'k', 'bitrot');
    const c1 = await scanner.cycle();
    assert.equal(c1.deep, false);
    assert.equal(c1.objects, 2);
    assert.equal(c1.healedVersions, 0, 'a shallow cycle does not read the frames');
    const c2 = await scanner.cycle();
    assert.equal(c2.deep, true);
    assert.equal(c2.healedVersions, 1);
    assert.equal(c2.results[0]!.key, 'k');
    assert.equal(c2.results[0]!.before[4], 'corrupt');
    assert.deepEqual(await trees(t.roots), want);
  } finally {
    await scanner.stop();
    await t.cleanup();
  }
});

background('a running scanner stops promptly', async () => {
  const t = await openSet(4, 2);
  try {
    for (let i = 0; i < 5; i++) await put(t.set, `k${i}`, randomBytes(10));
    const scanner = new Scanner(t.set, { objectDelayMs: 60_000, intervalMs: 60_000 });
    scanner.start();
    assert.ok(scanner.running);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await scanner.stop();
    assert.ok(Date.now() - t0 < 1000, 'stop waits for no sleep');
    assert.equal(scanner.running, false);
  } finally {
    await t.cleanup();
  }
});

background.run();
