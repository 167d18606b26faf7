/**
 * Versions at the engine level: healing reaches every version (not only the latest), a Suspended
 * delete gives back the null version's data, ListObjectVersions decides each version by quorum, and
 * the latest of a key with many versions is read from the head of its metadata file.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import { ErasureSets } from '../../src/erasure/ErasureSets';
import { healObject } from '../../src/erasure/heal';
import {
  decodeMeta,
  encodeMeta,
  type MetaFile,
  type ObjectDataVersion,
  type ObjectVersion,
  versionIdNew,
} from '../../src/erasure/metadata';
import { newFormats, writeFormat } from '../../src/storage/format';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { META_FILE, objectPath } from '../../src/storage/paths';
import type { StorageAPI } from '../../src/storage/StorageAPI';

async function openSet(n = 4, parity = 2) {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-versions-'));
  const roots = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = path.join(base, `d${i + 1}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new LocalDrive(r));
  const formats = newFormats({ setCount: 1, setSize: n, parity });
  await Promise.all(drives.map((d, i) => writeFormat(d, formats[i]!)));
  const set = new ErasureSet(drives, { parity });
  await set.makeBucket('b');
  return { set, roots, drives, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

const put = (set: ErasureSet, key: string, body: Buffer, versioned = true) =>
  set.putObject('b', key, Readable.from([body]), { size: body.length, versioned });

async function read(set: ErasureSet, key: string, versionId?: string): Promise<Buffer> {
  const r = await set.getObject('b', key, versionId ? { versionId } : {});
  const chunks: Buffer[] = [];
  for await (const c of r.stream) chunks.push(c);
  return Buffer.concat(chunks);
}

test('heal rebuilds an older version on a wiped drive, not only the latest', async () => {
  const { set, roots, drives, cleanup } = await openSet();
  try {
    const old = randomBytes(300_000); // over the inline limit: shard files in a data dir
    const oldSmall = randomBytes(1000); // inline
    const v1 = await put(set, 'k', old);
    const v2 = await put(set, 'k', oldSmall);
    const v3 = await put(set, 'k', randomBytes(500_000));
    // Drive 1 loses everything of the bucket.
    await fs.rm(path.join(roots[0]!, 'b'), { recursive: true, force: true });
    await fs.mkdir(path.join(roots[0]!, 'b'));
    const r = await healObject(set, 'b', 'k');
    assert.equal(r.error, undefined);
    assert.deepEqual(new Set(r.healed), new Set([v1.versionId, v2.versionId, v3.versionId]));
    const file = decodeMeta(await drives[0]!.readMetadata('b', objectPath('k')));
    assert.deepEqual(
      file.versions.map((v) => v.versionId),
      [v3.versionId, v2.versionId, v1.versionId],
    );
    const oldOnDrive = file.versions[2] as ObjectDataVersion;
    assert.ok(oldOnDrive.dataDir !== '');
    const shard = await drives[0]!.statFile('b', `${objectPath('k')}/${oldOnDrive.dataDir}/part.1`);
    assert.ok(shard.size > 0);
    // The older version reads back with two of the drives gone, one of them the healed one.
    const only = new ErasureSet([drives[0]!, null, null, drives[3]!] as (StorageAPI | null)[], { parity: 2 });
    assert.deepEqual(await read(only, 'k', v1.versionId), old);
    assert.deepEqual(await read(only, 'k', v2.versionId), oldSmall);
  } finally {
    await cleanup();
  }
});

test('a Suspended delete writes the null marker and removes the null version and its data dir', async () => {
  const { set, roots, cleanup } = await openSet();
  try {
    const v1 = await put(set, 'k', randomBytes(200_000));
    await put(set, 'k', randomBytes(200_000), false); // the null version (Suspended write)
    const dirsBefore = (await fs.readdir(path.join(roots[0]!, 'b', objectPath('k')))).filter(
      (e) => e !== META_FILE,
    );
    assert.equal(dirsBefore.length, 2);
    const m = await set.deleteObject('b', 'k', { suspended: true });
    assert.equal(m.deleteMarker, true);
    assert.equal(m.versionId, 'null');
    const dirsAfter = (await fs.readdir(path.join(roots[0]!, 'b', objectPath('k')))).filter(
      (e) => e !== META_FILE,
    );
    assert.equal(dirsAfter.length, 1);
    const file = decodeMeta(await fs.readFile(path.join(roots[0]!, 'b', objectPath('k'), META_FILE)));
    assert.deepEqual(
      file.versions.map((v) => [v.type, v.versionId]),
      [
        ['deleteMarker', 'null'],
        ['object', v1.versionId],
      ],
    );
    // A second Suspended delete replaces the null marker: still one.
    await set.deleteObject('b', 'k', { suspended: true });
    const again = decodeMeta(await fs.readFile(path.join(roots[0]!, 'b', objectPath('k'), META_FILE)));
    assert.equal(again.versions.length, 2);
  } finally {
    await cleanup();
  }
});

test('ListObjectVersions lists a version only where a read quorum holds it', async () => {
  // The clock stepped back an hour since this process last made an id: new ids carry a later time
  // than the versions' modTimes. Paging past a deleted version must not depend on the two agreeing.
  versionIdNew(Date.now() + 3_600_000);
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-versions-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const layer = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
  try {
    await layer.makeBucket('b');
    const a = await layer.putObject('b', 'k', Readable.from([Buffer.from('a')]), {
      size: 1,
      versioned: true,
    });
    const b = await layer.putObject('b', 'k', Readable.from([Buffer.from('b')]), {
      size: 1,
      versioned: true,
    });
    // A stale version on one drive only (a write that never reached quorum): not listed.
    const d0 = new LocalDrive(roots[0]!);
    const file = decodeMeta(await d0.readMetadata('b', objectPath('k')));
    const stray = {
      ...(file.versions[0] as ObjectDataVersion),
      versionId: '01890a5d-ac96-774b-bcce-b302099a8057',
      modTime: 5,
    };
    await d0.writeMetadata('b', objectPath('k'), encodeMeta({ versions: [...file.versions, stray] }));
    const page = await layer.listObjectVersions('b');
    assert.deepEqual(
      page.versions.map((v) => [v.versionId, v.isLatest]),
      [
        [b.versionId, true],
        [a.versionId, false],
      ],
    );
    const dm = await layer.deleteObject('b', 'k', { versioned: true });
    const p1 = await layer.listObjectVersions('b', { maxKeys: 1 });
    assert.deepEqual(
      p1.versions.map((v) => [v.versionId, v.deleteMarker, v.isLatest]),
      [[dm.versionId, true, true]],
    );
    assert.equal(p1.isTruncated, true);
    const p2 = await layer.listObjectVersions('b', {
      maxKeys: 5,
      keyMarker: p1.nextKeyMarker!,
      versionIdMarker: p1.nextVersionIdMarker!,
    });
    assert.deepEqual(
      p2.versions.map((v) => [v.versionId, v.isLatest]),
      [
        [b.versionId, false],
        [a.versionId, false],
      ],
    );
    assert.equal(p2.isTruncated, false);
    // A marker deleted between pages: the next page resumes at the versions made before it.
    await layer.deleteObject('b', 'k', { versionId: b.versionId });
    const p3 = await layer.listObjectVersions('b', { keyMarker: 'k', versionIdMarker: b.versionId });
    assert.deepEqual(
      p3.versions.map((v) => v.versionId),
      [a.versionId],
    );
  } finally {
    await layer.shutdown();
    await fs.rm(base, { recursive: true, force: true });
  }
});

test('the latest version of a key with many versions is read from the head of its metadata file', async () => {
  const { set, drives, cleanup } = await openSet();
  try {
    await put(set, 'k', Buffer.from('first'));
    const p = objectPath('k');
    // 2,000 older versions behind it, written straight into every drive's file.
    await Promise.all(
      drives.map(async (d) => {
        const file = decodeMeta(await d.readMetadata('b', p));
        const real = file.versions[0] as ObjectDataVersion;
        const older = Array.from({ length: 2000 }, (_, i) => ({
          ...real,
          versionId: `01890a5d-ac96-774b-bcce-${String(i).padStart(12, '0')}`,
          modTime: real.modTime - 1 - i,
        }));
        await d.writeMetadata('b', p, encodeMeta({ versions: [real, ...older] }));
      }),
    );
    const latest = await put(set, 'k', Buffer.from('latest'));
    const reads: (number | undefined)[] = [];
    for (const d of drives) {
      const inner = d.readMetadata.bind(d);
      d.readMetadata = async (v: string, path: string, o?: { head?: number }) => {
        const buf = await inner(v, path, o);
        reads.push(buf.length);
        return buf;
      };
    }
    assert.deepEqual(await read(set, 'k'), Buffer.from('latest'));
    const info = await set.getObjectInfo('b', 'k');
    assert.equal(info.versionId, latest.versionId);
    const fileSize = (await drives[0]!.readMetadata('b', p)).length;
    reads.pop();
    assert.ok(fileSize > 200_000, `${fileSize}`);
    assert.ok(reads.length >= 8);
    // Each GET and HEAD read a head, a small part of the file: at most the head read's size.
    for (const n of reads) assert.ok(n! <= 132 * 1024 && n! < fileSize, `read ${n} of ${fileSize}`);
  } finally {
    await cleanup();
  }
});

test('readMetadata with head gives at most that many bytes: all of a shorter file, FileNotFound when none', async () => {
  const { drives, cleanup } = await openSet(1, 0);
  try {
    const d = drives[0]!;
    const data = randomBytes(10_000);
    await d.writeMetadata('b', 'k', data);
    assert.deepEqual(await d.readMetadata('b', 'k', { head: 100 }), data.subarray(0, 100));
    assert.deepEqual(await d.readMetadata('b', 'k', { head: 1 << 20 }), data);
    assert.deepEqual(await d.readMetadata('b', 'k'), data);
    await assert.rejects(d.readMetadata('b', 'missing', { head: 100 }), (e: Error) =>
      /FileNotFound/.test(`${(e as { code?: string }).code}`),
    );
  } finally {
    await cleanup();
  }
});

/**
 * `count` older versions written straight into every drive's file behind its real latest version
 * (its data inline; ids in time order), every `markerEvery`-th a delete marker, one the null version.
 */
async function olderVersions(
  drives: StorageAPI[],
  key: string,
  count: number,
  markerEvery = 7,
): Promise<void> {
  const p = objectPath(key);
  const start = Date.now() - 10 * count - 60_000;
  const ids = Array.from({ length: count }, (_, i) => (i === 3 ? 'null' : versionIdNew(start + 10 * i)));
  await Promise.all(
    drives.map(async (d) => {
      const file = decodeMeta(await d.readMetadata('b', p));
      const real = file.versions[0] as ObjectDataVersion;
      const older: ObjectVersion[] = ids.map((versionId, i) =>
        i % markerEvery === markerEvery - 1
          ? { type: 'deleteMarker', versionId, modTime: start + 10 * i }
          : { ...real, versionId, modTime: start + 10 * i, etag: `${i}`.padStart(32, '0') },
      );
      await d.writeMetadata('b', p, encodeMeta({ versions: [...file.versions, ...older] }));
    }),
  );
}

async function files(drives: StorageAPI[], key: string): Promise<MetaFile[]> {
  return Promise.all(drives.map(async (d) => decodeMeta(await d.readMetadata('b', objectPath(key)))));
}

/** Every drive's versions but `except`, as they were in `before`. */
function othersKept(before: MetaFile[], after: MetaFile[], except: string | undefined, what: string): void {
  before.forEach((b, i) => {
    const keep = (f: MetaFile) => f.versions.filter((v) => v.versionId !== except);
    assert.deepEqual(keep(after[i]!), keep(b), `${what}: drive ${i + 1}`);
  });
}

test('every write on a key with many versions changes its one version and keeps the others as they were', async () => {
  const { set, drives, cleanup } = await openSet();
  try {
    const first = await put(set, 'k', Buffer.from('first'));
    await olderVersions(drives, 'k', 300);
    let before = await files(drives, 'k');
    const check = async (except: string | undefined, what: string) => {
      const after = await files(drives, 'k');
      othersKept(before, after, except, what);
      // each drive's file is what encodeMeta makes of its versions, byte for byte
      for (const d of drives) {
        const buf = await d.readMetadata('b', objectPath('k'));
        assert.ok(buf.equals(encodeMeta(decodeMeta(buf))), `${what}: the file is encodeMeta's`);
      }
      before = after;
      return after;
    };
    const v = await put(set, 'k', Buffer.from('new'));
    let after = await check(v.versionId, 'a versioned PUT');
    assert.equal(after[0]!.versions[0]!.versionId, v.versionId);
    assert.equal(after[0]!.versions.length, 302);
    // versioning Suspended: the null version (an older one here) is replaced by the new latest
    const n = await put(set, 'k', Buffer.from('null now'), false);
    assert.equal(n.versionId, 'null');
    after = await check('null', 'a PUT replacing the null version');
    assert.equal(after[0]!.versions[0]!.versionId, 'null');
    assert.equal(after[0]!.versions.length, 302);
    assert.deepEqual(await read(set, 'k', 'null'), Buffer.from('null now'));
    const dm = await set.deleteObject('b', 'k', { versioned: true });
    await check(dm.versionId, 'a delete marker');
    // a version deep in the file: removed, and its metadata updated
    const deep = before[0]!.versions[150]!;
    await set.deleteObject('b', 'k', { versionId: deep.versionId });
    after = await check(deep.versionId, 'a delete of a version');
    assert.equal(after[0]!.versions.length, 302);
    const other = before[0]!.versions.find((x, i) => i > 100 && x.type === 'object')!;
    await set.updateObjectMetadata('b', 'k', { tags: 'a=b' }, { versionId: other.versionId });
    after = await check(other.versionId, 'a metadata update');
    assert.equal(
      (after[2]!.versions.find((x) => x.versionId === other.versionId) as ObjectDataVersion).tags,
      'a=b',
    );
    assert.deepEqual(await read(set, 'k', first.versionId), Buffer.from('first'));
    assert.deepEqual(await read(set, 'k', v.versionId), Buffer.from('new'));
  } finally {
    await cleanup();
  }
});

test('a write over a corrupt metadata file on one drive leaves it the new version alone, as before', async () => {
  const { set, roots, drives, cleanup } = await openSet();
  try {
    const old = await put(set, 'k', Buffer.from('old'));
    await olderVersions(drives, 'k', 50);
    const file = path.join(roots[0]!, 'b', objectPath('k'), META_FILE);
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01; // an older version's byte: the CRC
    await fs.writeFile(file, bytes);
    const v = await put(set, 'k', Buffer.from('new'));
    const after = await files(drives, 'k');
    assert.deepEqual(
      after[0]!.versions.map((x) => x.versionId),
      [v.versionId],
    );
    for (const f of after.slice(1)) assert.equal(f.versions.length, 52);
    // the other drives still serve every version; a heal puts drive 1 back
    assert.deepEqual(await read(set, 'k', old.versionId), Buffer.from('old'));
    await healObject(set, 'b', 'k');
    assert.equal((await files(drives, 'k'))[0]!.versions.length, 52);
  } finally {
    await cleanup();
  }
});

test('ListObjectVersions pages through a key with 2,500 versions, each decided by quorum', async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-versions-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new LocalDrive(r));
  const layer = await ErasureSets.open(drives);
  try {
    await layer.makeBucket('b');
    await layer.putObject('b', 'a', Readable.from([Buffer.from('x')]), { size: 1, versioned: true });
    const first = await layer.putObject('b', 'k', Readable.from([Buffer.from('x')]), {
      size: 1,
      versioned: true,
    });
    await olderVersions(drives, 'k', 2498);
    const latest = await layer.putObject('b', 'k', Readable.from([Buffer.from('y')]), {
      size: 1,
      versioned: true,
    });
    await layer.putObject('b', 'z', Readable.from([Buffer.from('x')]), { size: 1, versioned: true });
    // Drive 1 disagrees on some versions (still held alike by 3 of 4: listed as they hold them);
    // drives 1 and 2 both lack others and drive 3 holds a different copy (1 of 4 alike: not listed);
    // a stray version sits on drive 4 alone (not listed).
    const p = objectPath('k');
    const all = (await files(drives, 'k'))[3]!.versions;
    const expected = all.map((v) => v.versionId);
    const gone = new Set(expected.filter((_, i) => i % 500 === 250));
    const stray: ObjectVersion = {
      type: 'deleteMarker',
      versionId: versionIdNew(Date.now() - 5_000_000),
      modTime: 9,
    };
    await Promise.all(
      drives.map(async (d, i) => {
        const f = decodeMeta(await d.readMetadata('b', p));
        let versions = f.versions.map((v, j) =>
          v.type === 'object' && ((i === 0 && j % 100 === 5) || (i === 2 && gone.has(v.versionId)))
            ? { ...v, etag: 'ffffffffffffffffffffffffffffffff' }
            : v,
        );
        if (i < 2) versions = versions.filter((v) => !gone.has(v.versionId) || v.type === 'deleteMarker');
        if (i === 3) versions = [...versions, stray];
        await d.writeMetadata('b', p, encodeMeta({ versions }));
      }),
    );
    const goneObjects = new Set(
      all.filter((v) => gone.has(v.versionId) && v.type === 'object').map((v) => v.versionId),
    );
    const want = expected.filter((id) => !goneObjects.has(id));
    const seen: { versionId: string; isLatest: boolean; etag: string; deleteMarker: boolean }[] = [];
    let page = await layer.listObjectVersions('b', { prefix: 'k', maxKeys: 1000 });
    let pages = 1;
    for (;;) {
      for (const v of page.versions) {
        assert.equal(v.key, 'k');
        seen.push({
          versionId: v.versionId,
          isLatest: v.isLatest,
          etag: v.etag,
          deleteMarker: v.deleteMarker,
        });
      }
      if (!page.isTruncated) break;
      page = await layer.listObjectVersions('b', {
        prefix: 'k',
        maxKeys: 1000,
        keyMarker: page.nextKeyMarker!,
        versionIdMarker: page.nextVersionIdMarker!,
      });
      pages++;
    }
    assert.equal(pages, 3);
    assert.deepEqual(
      seen.map((v) => v.versionId),
      want,
    );
    assert.deepEqual(
      seen.filter((v) => v.isLatest).map((v) => v.versionId),
      [latest.versionId],
    );
    assert.equal(seen[1]!.versionId, first.versionId);
    // the disagreeing drive's copies are not the ones listed
    assert.ok(seen.every((v) => v.etag !== 'ffffffffffffffffffffffffffffffff'));
    assert.ok(seen.some((v) => v.deleteMarker));
    // the keys around it are listed too, in order
    const everything = await layer.listObjectVersions('b', { maxKeys: 1000 });
    assert.deepEqual(everything.versions[0]!.key, 'a');
    assert.equal(everything.versions.filter((v) => v.key === 'k').length, 999);
  } finally {
    await layer.shutdown();
    await fs.rm(base, { recursive: true, force: true });
  }
});

test.run();
