import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import {
  decodePartMeta,
  decodeUploadMeta,
  encodePartMeta,
  encodeUploadMeta,
  Multipart,
  multipartEtag,
  type UploadMeta,
  uploadsDirOf,
} from '../../src/erasure/multipart';
import { isObjectError, type ObjectErrorCode } from '../../src/object/errors';
import type { PartInfo } from '../../src/object/types';
import { isStorageError } from '../../src/storage/errors';
import { FaultyDrive } from '../../src/storage/FaultyDrive';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { objectPath } from '../../src/storage/paths';
import { SYSTEM_VOLUME } from '../../src/storage/StorageAPI';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The smallest part but the last, lowered from S3's 5 MiB to keep the tests fast. */
const MIN = 64 * KiB;
const B = 'bkt';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** S3's ETag of a multipart object, computed here independently of the code under test. */
const s3Etag = (parts: Buffer[]) =>
  `${createHash('md5')
    .update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest())))
    .digest('hex')}-${parts.length}`;

/** A body in chunks that do not line up with blocks (as a socket delivers it). */
function body(buf: Buffer, chunk = 100_003): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) chunks.push(buf.subarray(i, i + chunk));
  return Readable.from(chunks.length ? chunks : [buf]);
}

interface Env {
  roots: string[];
  drives: FaultyDrive[];
  set: ErasureSet;
  mp: Multipart;
  cleanup: () => Promise<void>;
}

async function openSet(n: number, parity: number): Promise<Env> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-mp-'));
  const roots = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = path.join(base, `d${i + 1}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new FaultyDrive(new LocalDrive(r)));
  // What formatting does: every drive gets its system volume.
  await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
  const set = new ErasureSet(drives, { parity });
  await set.makeBucket(B);
  const mp = new Multipart(set, { minPartSize: MIN });
  return { roots, drives, set, mp, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

async function withSet(n: number, parity: number, fn: (env: Env) => Promise<void>): Promise<void> {
  const env = await openSet(n, parity);
  try {
    await fn(env);
  } finally {
    await env.cleanup();
  }
}

async function readObject(
  set: ErasureSet,
  key: string,
  range?: { start: number; end: number },
): Promise<Buffer> {
  const { stream } = await set.getObject(B, key, range ? { range } : {});
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function rejects(p: Promise<unknown>, code: ObjectErrorCode, what = ''): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.ok(isObjectError(e, code), `${what} expected ${code}, got ${String(e)}`);
    return;
  }
  assert.fail(`${what} expected ${code}, but it succeeded`);
}

const upload = (mp: Multipart, key: string, id: string, n: number, data: Buffer, opts = {}) =>
  mp.putObjectPart(B, key, id, n, body(data), { size: data.length, ...opts });

const complete = (mp: Multipart, key: string, id: string, parts: PartInfo[], opts = {}) =>
  mp.completeMultipartUpload(
    B,
    key,
    id,
    parts.map((p) => ({ number: p.number, etag: p.etag })),
    opts,
  );

/** Every file under `dir` (relative), or [] when it does not exist. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}

/** The files of the object's data dirs on one drive: `{ dataDir: [part files] }`. */
async function dataDirs(root: string, key: string): Promise<Record<string, string[]>> {
  const dir = path.join(root, B, objectPath(key));
  const out: Record<string, string[]> = {};
  for (const e of await fs.readdir(dir).catch(() => [] as string[])) {
    if (e.startsWith('cairn.d.')) out[e] = (await fs.readdir(path.join(dir, e))).sort();
  }
  return out;
}

const uploadDir = (root: string, key: string, id: string) =>
  path.join(root, SYSTEM_VOLUME, uploadsDirOf(B, key), id);

// Sizes that cross block boundaries (1 MiB blocks) and land off any shard boundary.
const P1 = randomBytes(MiB + MiB / 2 + 3);
const P2 = randomBytes(MIN);
const P3 = randomBytes(100 * KiB + 7);

for (const [n, parity] of [
  [4, 2],
  [8, 4],
] as const) {
  test(`${n} drives, parity ${parity}: a 3-part upload reads back byte-exact, with the S3 multipart ETag`, () =>
    withSet(n, parity, async ({ set, mp, roots }) => {
      const key = 'dir/obj.bin';
      const id = await mp.newMultipartUpload(B, key, {
        contentType: 'application/x-test',
        // an own `__proto__` key, as a header parser may produce it
        userMetadata: JSON.parse('{"color":"blue","__proto__":"kept"}') as Record<string, string>,
        tags: 'a=1',
      });
      assert.match(id, /^[A-Za-z0-9_-]{32}$/);
      // Uploaded out of order; listed and completed in order.
      const i3 = await upload(mp, key, id, 3, P3);
      const i1 = await upload(mp, key, id, 1, P1);
      const i2 = await upload(mp, key, id, 2, P2);
      assert.deepEqual(
        [i1, i2, i3].map((p) => [p.number, p.size, p.etag]),
        [
          [1, P1.length, md5(P1)],
          [2, P2.length, md5(P2)],
          [3, P3.length, md5(P3)],
        ],
      );
      const info = await mp.completeMultipartUpload(B, key, id, [
        { number: 1, etag: `"${i1.etag.toUpperCase()}"` }, // as a client may send it back
        { number: 2, etag: i2.etag },
        { number: 3, etag: i3.etag },
      ]);
      const whole = Buffer.concat([P1, P2, P3]);
      assert.equal(info.etag, s3Etag([P1, P2, P3]));
      assert.equal(info.etag, multipartEtag([i1.etag, i2.etag, i3.etag]));
      assert.equal(info.size, whole.length);
      assert.equal(info.versionId, 'null');
      assert.equal(info.contentType, 'application/x-test');
      assert.equal(info.tags, 'a=1');
      assert.equal(info.userMetadata.color, 'blue');
      assert.equal(Object.getOwnPropertyDescriptor(info.userMetadata, '__proto__')?.value, 'kept');
      assert.deepEqual(
        info.parts.map((p) => [p.number, p.size, p.etag]),
        [
          [1, P1.length, md5(P1)],
          [2, P2.length, md5(P2)],
          [3, P3.length, md5(P3)],
        ],
      );
      const head = await set.getObjectInfo(B, key);
      assert.equal(head.etag, info.etag);
      assert.equal(head.parts.length, 3);
      assert.equal(sha(await readObject(set, key)), sha(whole));
      for (const root of roots) {
        const dirs = Object.values(await dataDirs(root, key));
        assert.deepEqual(dirs, [['part.1', 'part.2', 'part.3']], `${root}: one data dir with the parts`);
        // Only the completion's marker stays, for a repeated completion to answer again.
        assert.deepEqual(
          await files(path.join(root, SYSTEM_VOLUME, 'multipart')),
          [path.join(uploadsDirOf(B, key).slice('multipart/'.length), `${id}.completed`)],
          'the upload is gone',
        );
        assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'tmp')), [], 'no temporary file left');
      }
      await rejects(mp.listObjectParts(B, key, id), 'InvalidUploadId', 'after completion');
    }));

  test(`${n} drives, parity ${parity}: ranges within and across part and block boundaries`, () =>
    withSet(n, parity, async ({ set, mp }) => {
      const key = 'ranges';
      const id = await mp.newMultipartUpload(B, key, {});
      const parts = [await upload(mp, key, id, 1, P1), await upload(mp, key, id, 2, P2)];
      parts.push(await upload(mp, key, id, 3, P3));
      await complete(mp, key, id, parts);
      const whole = Buffer.concat([P1, P2, P3]);
      const a = P1.length;
      const b = a + P2.length;
      const t = whole.length;
      const ranges: [number, number][] = [
        [0, 0],
        [a - 1, a], // the last byte of part 1 and the first of part 2
        [a, a],
        [a - 10, b + 10], // through all of part 2
        [b - 1, b],
        [b, t - 1],
        [MiB - 1, MiB + 1], // a block boundary inside part 1
        [MiB - 5, a + 5],
        [t - 1, t - 1],
        [0, t - 1],
        [5, t + 1000], // past the end: clamped
      ];
      for (let i = 0; i < 10; i++) {
        const s = Math.floor(Math.random() * t);
        ranges.push([s, s + Math.floor(Math.random() * (t - s))]);
      }
      for (const [start, end] of ranges) {
        const got = await readObject(set, key, { start, end });
        assert.ok(got.equals(whole.subarray(start, Math.min(end, t - 1) + 1)), `bytes ${start}-${end}`);
      }
      await rejects(readObject(set, key, { start: t, end: t + 1 }), 'InvalidRange');
    }));
}

test('uploading a part number again replaces the part', () =>
  withSet(4, 2, async ({ set, mp, roots }) => {
    const key = 'again';
    const id = await mp.newMultipartUpload(B, key, {});
    const a = randomBytes(MIN + 5);
    const b = randomBytes(MIN + 99);
    const first = await upload(mp, key, id, 1, a);
    const second = await upload(mp, key, id, 1, b);
    const p2 = await upload(mp, key, id, 2, P3);
    const { parts } = await mp.listObjectParts(B, key, id);
    assert.deepEqual(
      parts.map((p) => [p.number, p.size, p.etag]),
      [
        [1, b.length, md5(b)],
        [2, P3.length, md5(P3)],
      ],
    );
    for (const root of roots) {
      assert.deepEqual(await files(uploadDir(root, key, id)), [
        'data/part.1',
        'data/part.2',
        'part.1.meta',
        'part.2.meta',
        'upload.meta',
      ]);
      assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'tmp')), [], 'no temporary file left');
    }
    await rejects(complete(mp, key, id, [first, p2]), 'InvalidPart', 'the replaced ETag');
    await complete(mp, key, id, [second, p2]);
    assert.ok((await readObject(set, key)).equals(Buffer.concat([b, P3])));
  }));

test('completing with some of the parts drops the others from every drive', () =>
  withSet(4, 2, async ({ set, mp, roots }) => {
    const key = 'subset';
    const id = await mp.newMultipartUpload(B, key, {});
    const data = [0, 1, 2, 3].map(() => randomBytes(MIN + 1000));
    const infos: PartInfo[] = [];
    for (let i = 0; i < 4; i++) infos.push(await upload(mp, key, id, i + 1, data[i]!));
    const info = await complete(mp, key, id, [infos[0]!, infos[2]!]);
    assert.equal(info.etag, s3Etag([data[0]!, data[2]!]));
    assert.deepEqual(
      info.parts.map((p) => p.number),
      [1, 3],
    );
    assert.ok((await readObject(set, key)).equals(Buffer.concat([data[0]!, data[2]!])));
    for (const root of roots) {
      assert.deepEqual(Object.values(await dataDirs(root, key)), [['part.1', 'part.3']]);
      assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'multipart')), [
        path.join(uploadsDirOf(B, key).slice('multipart/'.length), `${id}.completed`),
      ]);
    }
  }));

test('part numbers, sizes and digests are checked as S3 does', () =>
  withSet(4, 2, async ({ set, mp }) => {
    const key = 'checks';
    const id = await mp.newMultipartUpload(B, key, {});
    for (const n of [0, 10_001, 1.5, -1]) {
      await rejects(upload(mp, key, id, n, P2), 'InvalidArgument', `part ${n}`);
    }
    await rejects(
      mp.putObjectPart(B, key, id, 1, body(P2), { size: P2.length + 1 }),
      'IncompleteBody',
      'a short body',
    );
    await rejects(
      mp.putObjectPart(B, key, id, 1, body(P2), { size: P2.length - 1 }),
      'IncompleteBody',
      'a long body',
    );
    await rejects(upload(mp, key, id, 1, P2, { expectedMd5: md5(P3) }), 'BadDigest');
    const p1 = await upload(mp, key, id, 1, P2, { expectedMd5: md5(P2).toUpperCase() });
    // A failed part left nothing behind.
    assert.deepEqual(
      (await mp.listObjectParts(B, key, id)).parts.map((p) => p.number),
      [1],
    );
    // A body of unknown size (-1): its end decides.
    const unsized = await mp.putObjectPart(B, key, id, 9, body(P3), { size: -1 });
    assert.deepEqual([unsized.size, unsized.etag], [P3.length, md5(P3)]);
    const small = randomBytes(MIN - 1);
    const p2 = await upload(mp, key, id, 2, small);
    const p3 = await upload(mp, key, id, 3, P3);
    const done = (parts: { number: number; etag: string }[]) => mp.completeMultipartUpload(B, key, id, parts);
    await rejects(done([]), 'InvalidArgument', 'no parts');
    await rejects(done([p1, { number: 7, etag: p1.etag }]), 'InvalidPart', 'a part never uploaded');
    await rejects(done([p1, { number: 3, etag: p2.etag }]), 'InvalidPart', 'another part ETag');
    await rejects(done([p1, { number: 3, etag: 'nonsense' }]), 'InvalidPart', 'a malformed ETag');
    await rejects(done([p3, p1]), 'InvalidPartOrder', 'descending');
    await rejects(done([p1, p1]), 'InvalidPartOrder', 'a part twice');
    await rejects(done([p1, p2, p3]), 'PartTooSmall', 'a small part in the middle');
    // The same small part is fine last; the upload survived every refusal.
    const info = await done([p1, p2]);
    assert.ok((await readObject(set, key)).equals(Buffer.concat([P2, small])));
    assert.equal(info.size, P2.length + small.length);
  }));

test('unknown, malformed and finished upload ids are InvalidUploadId', () =>
  withSet(4, 2, async ({ mp }) => {
    const key = 'ids';
    const id = await mp.newMultipartUpload(B, key, {});
    const other = await mp.newMultipartUpload(B, 'elsewhere', {});
    const unknown = randomBytes(24).toString('base64url');
    for (const bad of ['nope', '../../etc', '', unknown, other]) {
      await rejects(upload(mp, key, bad, 1, P2), 'InvalidUploadId', `upload part to ${bad}`);
      await rejects(mp.listObjectParts(B, key, bad), 'InvalidUploadId', `list ${bad}`);
      await rejects(mp.abortMultipartUpload(B, key, bad), 'InvalidUploadId', `abort ${bad}`);
      await rejects(
        mp.completeMultipartUpload(B, key, bad, [{ number: 1, etag: md5(P2) }]),
        'InvalidUploadId',
        `complete ${bad}`,
      );
    }
    await rejects(mp.listObjectParts('other-bucket', key, id), 'InvalidUploadId', 'another bucket');
    await rejects(mp.newMultipartUpload('no-such-bucket', key, {}), 'BucketNotFound');
  }));

test('abort removes the upload from every drive', () =>
  withSet(4, 2, async ({ mp, roots }) => {
    const key = 'abort/me';
    const id = await mp.newMultipartUpload(B, key, {});
    const p1 = await upload(mp, key, id, 1, P2);
    for (const root of roots) assert.ok((await files(uploadDir(root, key, id))).includes('data/part.1'));
    await mp.abortMultipartUpload(B, key, id);
    for (const root of roots) assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'multipart')), []);
    await rejects(mp.abortMultipartUpload(B, key, id), 'InvalidUploadId', 'abort twice');
    await rejects(upload(mp, key, id, 2, P2), 'InvalidUploadId', 'a part after abort');
    await rejects(complete(mp, key, id, [p1]), 'InvalidUploadId', 'complete after abort');
    assert.deepEqual((await mp.listMultipartUploads(B)).uploads, []);
  }));

test('an upload aborted while a part streams in does not get the part', () =>
  withSet(4, 2, async ({ mp, roots }) => {
    const key = 'race';
    const id = await mp.newMultipartUpload(B, key, {});
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = Readable.from(
      (async function* () {
        yield P2.subarray(0, 1000);
        await gate;
        yield P2.subarray(1000);
      })(),
    );
    const part = mp.putObjectPart(B, key, id, 1, slow, { size: P2.length });
    await sleep(20);
    await mp.abortMultipartUpload(B, key, id);
    release();
    await rejects(part, 'InvalidUploadId');
    for (const root of roots) {
      assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'multipart')), []);
      assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'tmp')), []);
    }
  }));

test('listObjectParts pages by part number', () =>
  withSet(4, 2, async ({ mp }) => {
    const key = 'pages';
    const id = await mp.newMultipartUpload(B, key, { storageClass: 'REDUCED_REDUNDANCY' });
    for (const n of [8, 2, 5, 1, 3]) await upload(mp, key, id, n, randomBytes(100 + n));
    const all = await mp.listObjectParts(B, key, id);
    assert.deepEqual(
      all.parts.map((p) => [p.number, p.size]),
      [
        [1, 101],
        [2, 102],
        [3, 103],
        [5, 105],
        [8, 108],
      ],
    );
    assert.equal(all.isTruncated, false);
    assert.equal(all.upload.key, key);
    assert.equal(all.upload.uploadId, id);
    assert.equal(all.upload.storageClass, 'REDUCED_REDUNDANCY');
    const pages: number[][] = [];
    let after: number | undefined;
    for (;;) {
      const page = await mp.listObjectParts(B, key, id, { maxParts: 2, ...(after ? { after } : {}) });
      pages.push(page.parts.map((p) => p.number));
      if (!page.isTruncated) break;
      after = page.nextAfter;
      assert.equal(after, page.parts[page.parts.length - 1]!.number);
    }
    assert.deepEqual(pages, [[1, 2], [3, 5], [8]]);
    assert.deepEqual((await mp.listObjectParts(B, key, id, { after: 8 })).parts, []);
  }));

test('listMultipartUploads sorts by key then initiation, filters by bucket and prefix, and pages', () =>
  withSet(4, 2, async ({ set, mp }) => {
    await set.makeBucket('other');
    const mk = async (key: string) => {
      const id = await mp.newMultipartUpload(B, key, {});
      await sleep(3); // distinct initiation times
      return id;
    };
    const b1 = await mk('b/1');
    const a1x = await mk('a/1');
    const a1y = await mk('a/1');
    const a2 = await mk('a/2');
    await mp.newMultipartUpload('other', 'a/1', {});
    const ids = (us: { key: string; uploadId: string }[]) => us.map((u) => `${u.key} ${u.uploadId}`);
    const all = await mp.listMultipartUploads(B);
    assert.deepEqual(ids(all.uploads), [`a/1 ${a1x}`, `a/1 ${a1y}`, `a/2 ${a2}`, `b/1 ${b1}`]);
    assert.equal(all.isTruncated, false);
    assert.ok(all.uploads[0]!.initiated < all.uploads[1]!.initiated);
    assert.deepEqual(ids((await mp.listMultipartUploads(B, { prefix: 'a/' })).uploads), [
      `a/1 ${a1x}`,
      `a/1 ${a1y}`,
      `a/2 ${a2}`,
    ]);
    const p1 = await mp.listMultipartUploads(B, { maxUploads: 2 });
    assert.deepEqual(ids(p1.uploads), [`a/1 ${a1x}`, `a/1 ${a1y}`]);
    assert.equal(p1.isTruncated, true);
    const p2 = await mp.listMultipartUploads(B, { maxUploads: 2, afterKey: 'a/1', afterUploadId: a1y });
    assert.deepEqual(ids(p2.uploads), [`a/2 ${a2}`, `b/1 ${b1}`]);
    assert.equal(p2.isTruncated, false);
    const mid = await mp.listMultipartUploads(B, { maxUploads: 2, afterKey: 'a/1', afterUploadId: a1x });
    assert.deepEqual(ids(mid.uploads), [`a/1 ${a1y}`, `a/2 ${a2}`]);
    assert.equal(mid.isTruncated, true);
    assert.deepEqual(ids((await mp.listMultipartUploads(B, { afterKey: 'a/1' })).uploads), [
      `a/2 ${a2}`,
      `b/1 ${b1}`,
    ]);
    assert.deepEqual(ids((await mp.listMultipartUploads('other')).uploads).length, 1);
    await rejects(mp.listMultipartUploads('no-such-bucket'), 'BucketNotFound');
  }));

test('parts upload concurrently, the same part number too', () =>
  withSet(8, 4, async ({ set, mp, roots }) => {
    const key = 'concurrent';
    const id = await mp.newMultipartUpload(B, key, {});
    const data = Array.from({ length: 6 }, (_, i) => randomBytes(MIN + i * 33_333));
    const x = randomBytes(MIN + 1);
    const y = randomBytes(MIN + 2);
    await Promise.all([
      ...data.map((d, i) => (i === 1 ? null : upload(mp, key, id, i + 1, d))),
      upload(mp, key, id, 2, x),
      upload(mp, key, id, 2, y),
    ]);
    const { parts } = await mp.listObjectParts(B, key, id);
    assert.deepEqual(
      parts.map((p) => p.number),
      [1, 2, 3, 4, 5, 6],
    );
    const winner = parts[1]!.etag === md5(x) ? x : y;
    assert.equal(parts[1]!.etag, md5(winner));
    // Every drive holds the same copy of part 2: the per-part lock serialises the two.
    for (const root of roots) {
      const meta = decodePartMeta(await fs.readFile(path.join(uploadDir(root, key, id), 'part.2.meta')));
      assert.equal(meta.etag, md5(winner), root);
    }
    await complete(mp, key, id, parts);
    data[1] = winner;
    assert.equal(sha(await readObject(set, key)), sha(Buffer.concat(data)));
  }));

test('an upload survives losing m drives midway (k > m) and completes at quorum', () =>
  withSet(6, 2, async ({ set, mp, roots }) => {
    const key = 'survivor';
    const id = await mp.newMultipartUpload(B, key, {});
    const p1 = await upload(mp, key, id, 1, P1);
    // Two drives lose everything (replaced by empty disks).
    for (const root of roots.slice(1, 3)) {
      for (const e of await fs.readdir(root))
        await fs.rm(path.join(root, e), { recursive: true, force: true });
    }
    const p2 = await upload(mp, key, id, 2, P2);
    const p3 = await upload(mp, key, id, 3, P3);
    assert.equal((await mp.listObjectParts(B, key, id)).parts.length, 3);
    await complete(mp, key, id, [p1, p2, p3]);
    assert.equal(sha(await readObject(set, key)), sha(Buffer.concat([P1, P2, P3])));
    for (const root of [roots[0]!, ...roots.slice(3)]) {
      assert.deepEqual(Object.values(await dataDirs(root, key)), [['part.1', 'part.2', 'part.3']]);
    }
  }));

test('8 drives, parity 4: parts and completion with 3 drives offline; reads with them back', () =>
  withSet(8, 4, async ({ set, mp, drives }) => {
    const key = 'offline';
    const id = await mp.newMultipartUpload(B, key, {});
    const p1 = await upload(mp, key, id, 1, P2);
    for (const d of drives.slice(5)) d.setOffline(true);
    const p2 = await upload(mp, key, id, 2, P3);
    const info = await complete(mp, key, id, [p1, p2]);
    assert.equal(info.etag, s3Etag([P2, P3]));
    const want = sha(Buffer.concat([P2, P3]));
    assert.equal(sha(await readObject(set, key)), want);
    for (const d of drives) d.setOffline(false);
    assert.equal(sha(await readObject(set, key)), want);
  }));

test('4 drives, parity 2: below write quorum (k == m needs k + 1) a part fails, and works once back', () =>
  withSet(4, 2, async ({ set, mp, drives }) => {
    const key = 'quorum';
    const id = await mp.newMultipartUpload(B, key, {});
    drives[0]!.setOffline(true);
    drives[3]!.setOffline(true);
    await rejects(upload(mp, key, id, 1, P2), 'InsufficientWriteQuorum');
    drives[3]!.setOffline(false);
    const p1 = await upload(mp, key, id, 1, P2);
    const p2 = await upload(mp, key, id, 2, P3);
    await complete(mp, key, id, [p1, p2]);
    drives[0]!.setOffline(false);
    assert.equal(sha(await readObject(set, key)), sha(Buffer.concat([P2, P3])));
  }));

test('a drive that missed a part upload does not take the object', () =>
  withSet(6, 2, async ({ set, mp, drives, roots }) => {
    const key = 'missed';
    const id = await mp.newMultipartUpload(B, key, {});
    const p1 = await upload(mp, key, id, 1, P2);
    drives[4]!.failNext('rename', 'FaultyDrive');
    const p2 = await upload(mp, key, id, 2, P3);
    await complete(mp, key, id, [p1, p2]);
    assert.deepEqual(
      Object.values(await dataDirs(roots[4]!, key)),
      [],
      'no version on the drive that missed part 2',
    );
    assert.deepEqual(await fs.readdir(path.join(roots[4]!, B)), []);
    assert.equal(sha(await readObject(set, key)), sha(Buffer.concat([P2, P3])));
  }));

test('completion moves the part files: no byte is copied', () =>
  withSet(4, 2, async ({ mp, roots }) => {
    const key = 'moved';
    const id = await mp.newMultipartUpload(B, key, {});
    const p1 = await upload(mp, key, id, 1, P1);
    const p2 = await upload(mp, key, id, 2, P3);
    const before = await Promise.all(
      roots.map(async (r) =>
        Promise.all(
          [1, 2].map(async (n) => (await fs.stat(path.join(uploadDir(r, key, id), 'data', `part.${n}`))).ino),
        ),
      ),
    );
    await complete(mp, key, id, [p1, p2]);
    for (let i = 0; i < roots.length; i++) {
      const [dataDir] = Object.keys(await dataDirs(roots[i]!, key));
      const dir = path.join(roots[i]!, B, objectPath(key), dataDir!);
      const after = await Promise.all(
        [1, 2].map(async (n) => (await fs.stat(path.join(dir, `part.${n}`))).ino),
      );
      assert.deepEqual(after, before[i], `drive ${i + 1}`);
    }
  }));

test('completion replaces the null version (its data dir goes) or adds a version when versioned', () =>
  withSet(4, 2, async ({ set, mp, roots }) => {
    const key = 'versions';
    const old = randomBytes(300 * KiB);
    await set.putObject(B, key, body(old), { size: old.length });
    const [oldDir] = Object.keys(await dataDirs(roots[0]!, key));
    const id = await mp.newMultipartUpload(B, key, {});
    const info = await complete(mp, key, id, [
      await upload(mp, key, id, 1, P2),
      await upload(mp, key, id, 2, P3),
    ]);
    assert.equal(info.versionId, 'null');
    for (const root of roots) {
      const dirs = Object.keys(await dataDirs(root, key));
      assert.equal(dirs.length, 1);
      assert.notEqual(dirs[0], oldDir);
    }
    const id2 = await mp.newMultipartUpload(B, key, { versioned: true });
    const v2 = await complete(mp, key, id2, [await upload(mp, key, id2, 1, P3)]);
    assert.notEqual(v2.versionId, 'null');
    assert.ok((await readObject(set, key)).equals(P3));
    const { stream } = await set.getObject(B, key, { versionId: 'null' });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(Buffer.concat([P2, P3])));
    for (const root of roots) assert.equal(Object.keys(await dataDirs(root, key)).length, 2);
  }));

test('a completion that fails below write quorum keeps the upload, which completes later', () =>
  withSet(4, 2, async ({ set, mp, drives, roots }) => {
    const key = 'retry';
    const id = await mp.newMultipartUpload(B, key, {});
    const parts = [await upload(mp, key, id, 1, P2), await upload(mp, key, id, 2, P3)];
    drives[1]!.failNext('renameData', 'FaultyDrive');
    drives[2]!.failNext('renameData', 'FaultyDrive');
    await rejects(complete(mp, key, id, parts), 'InsufficientWriteQuorum');
    await rejects(set.getObjectInfo(B, key), 'ObjectNotFound');
    for (const root of roots) {
      assert.deepEqual(await files(path.join(uploadDir(root, key, id), 'data')), ['part.1', 'part.2'], root);
    }
    assert.equal((await mp.listObjectParts(B, key, id)).parts.length, 2);
    await complete(mp, key, id, parts);
    assert.ok((await readObject(set, key)).equals(Buffer.concat([P2, P3])));
  }));

test('a completed upload completes again to the same object until its marker is cleaned up', () =>
  withSet(4, 2, async ({ mp, roots }) => {
    const key = 'twice';
    const id = await mp.newMultipartUpload(B, key, {});
    const p = await upload(mp, key, id, 1, P3);
    const first = await complete(mp, key, id, [p]);
    const again = await complete(mp, key, id, [p]);
    assert.equal(again.etag, first.etag);
    assert.equal(again.versionId, first.versionId);
    await rejects(complete(mp, key, 'A'.repeat(32), [p]), 'InvalidUploadId', 'another upload id');
    assert.equal(await mp.cleanupStaleUploads(60_000, Date.now() + 60_001), 0);
    for (const root of roots) assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'multipart')), []);
    await rejects(complete(mp, key, id, [p]), 'InvalidUploadId', 'after the marker is gone');
  }));

test('an empty single part makes an empty object', () =>
  withSet(4, 2, async ({ set, mp }) => {
    const key = 'empty';
    const id = await mp.newMultipartUpload(B, key, {});
    const p = await upload(mp, key, id, 1, Buffer.alloc(0));
    assert.equal(p.etag, md5(Buffer.alloc(0)));
    const info = await complete(mp, key, id, [p]);
    assert.equal(info.size, 0);
    assert.equal(info.etag, s3Etag([Buffer.alloc(0)]));
    assert.equal((await readObject(set, key)).length, 0);
  }));

test('cleanupStaleUploads removes uploads initiated before the cut-off, of every bucket', () =>
  withSet(4, 2, async ({ set, mp, roots }) => {
    await set.makeBucket('other');
    const old1 = await mp.newMultipartUpload(B, 'old', {});
    await upload(mp, 'old', old1, 1, P2);
    await mp.newMultipartUpload('other', 'old', {});
    await sleep(5);
    const fresh = await mp.newMultipartUpload(B, 'fresh', {});
    const { uploads } = await mp.listMultipartUploads(B);
    const cutoff = uploads.find((u) => u.uploadId === fresh)!.initiated.getTime();
    assert.equal(await mp.cleanupStaleUploads(60_000, cutoff + 60_000), 2);
    assert.deepEqual(
      (await mp.listMultipartUploads(B)).uploads.map((u) => u.uploadId),
      [fresh],
    );
    assert.deepEqual((await mp.listMultipartUploads('other')).uploads, []);
    for (const root of roots) {
      assert.deepEqual(await files(path.join(root, SYSTEM_VOLUME, 'multipart')), [
        path.join(uploadsDirOf(B, 'fresh').slice('multipart/'.length), fresh, 'upload.meta'),
      ]);
    }
    assert.equal(await mp.cleanupStaleUploads(0, cutoff), 0);
  }));

test('upload.meta and part.N.meta: format 1 decodes, unknown formats are FileCorrupt', () => {
  const golden = Buffer.from(
    JSON.stringify({
      version: 1,
      bucket: 'b',
      key: 'k',
      uploadId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      initiated: 1700000000000,
      opts: {
        userMetadata: ['a', '1', '__proto__', 'x'],
        tags: 't=1',
        storageClass: 'STANDARD',
        checksums: [],
        contentType: 'text/plain',
      },
      erasure: {
        dataBlocks: 2,
        parityBlocks: 2,
        blockSize: 1048576,
        distribution: [2, 3, 4, 1],
        bitrot: 'highwayhash256S',
      },
    }),
  );
  const u: UploadMeta = decodeUploadMeta(golden);
  assert.equal(u.key, 'k');
  assert.equal(u.opts.contentType, 'text/plain');
  assert.equal(u.opts.userMetadata.a, '1');
  assert.equal(Object.getOwnPropertyDescriptor(u.opts.userMetadata, '__proto__')?.value, 'x');
  assert.equal(Object.getPrototypeOf(u.opts.userMetadata), Object.prototype);
  assert.deepEqual(decodeUploadMeta(encodeUploadMeta(u)), u);
  const part = { number: 3, size: 10, etag: md5(Buffer.from('x')), modTime: 1700000000001 };
  assert.deepEqual(decodePartMeta(encodePartMeta(part)), part);
  assert.deepEqual(
    decodePartMeta(
      Buffer.from(`{"version":1,"number":3,"size":10,"etag":"${part.etag}","modTime":1700000000001}`),
    ),
    part,
  );
  for (const bad of [
    '{"version":2}',
    'not json',
    '[]',
    golden.toString().replace('"STANDARD"', '"GLACIER"'),
    golden.toString().replace('"dataBlocks":2', '"dataBlocks":0'),
  ]) {
    assert.throws(
      () => decodeUploadMeta(Buffer.from(bad)),
      (e) => isStorageError(e, 'FileCorrupt'),
      bad,
    );
  }
  assert.throws(
    () => decodePartMeta(Buffer.from('{"version":1,"number":1,"size":1,"etag":"zz","modTime":1}')),
    (e) => isStorageError(e, 'FileCorrupt'),
  );
});

test.run();
