import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { pack, unpack } from 'msgpackr';
import { test } from 'uvu';
import {
  addVersion,
  compareVersions,
  crc32,
  crc32Combine,
  type DeleteMarkerVersion,
  decodeMeta,
  decodeMetaVersion,
  decoders,
  encodeMeta,
  encodeMetaV1,
  findVersion,
  latest,
  META_FORMAT_VERSION,
  type MetaFile,
  metaLatestLength,
  newDataDir,
  type ObjectDataVersion,
  type ObjectVersion,
  openMeta,
  removeVersion,
  sameSignature,
  signature,
  toObjectInfo,
  toObjectInfos,
  versionIdNew,
} from '../../src/erasure/metadata';
import { isStorageError } from '../../src/storage/errors';

const T0 = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function obj(over: Partial<ObjectDataVersion> = {}): ObjectDataVersion {
  const modTime = over.modTime ?? T0;
  return {
    type: 'object',
    versionId: 'null',
    modTime,
    dataDir: 'cairn.d.0b7d4c8e-3f1a-4c2b-9d5e-6f7a8b9c0d1e',
    size: 1234567,
    etag: 'd41d8cd98f00b204e9800998ecf8427e',
    userMetadata: {},
    tags: '',
    storageClass: 'STANDARD',
    checksums: {},
    parts: [
      {
        number: 1,
        size: over.size ?? 1234567,
        etag: over.etag ?? 'd41d8cd98f00b204e9800998ecf8427e',
        modTime,
      },
    ],
    erasure: {
      algorithm: 'reedsolomon-vandermonde',
      dataBlocks: 2,
      parityBlocks: 2,
      blockSize: 1 << 20,
      index: 3,
      distribution: [3, 4, 1, 2],
      bitrot: 'highwayhash256S',
    },
    ...over,
  };
}

function marker(versionId: string, modTime: number): DeleteMarkerVersion {
  return { type: 'deleteMarker', versionId, modTime };
}

/** A full-featured version: every optional field set. */
function rich(): ObjectDataVersion {
  return obj({
    versionId: '01890a5d-ac96-774b-bcce-b302099a8057',
    dataDir: '',
    size: 11,
    etag: '5eb63bbbe01eeed093cb22bb8f5acdc3',
    contentType: 'text/plain; charset=utf-8',
    contentEncoding: 'gzip',
    contentDisposition: 'attachment; filename="a b.txt"',
    contentLanguage: 'en-GB',
    cacheControl: 'max-age=60',
    expires: 'Wed, 21 Oct 2015 07:28:00 GMT',
    userMetadata: { color: 'blue', ünïcode: 'välue', empty: '' },
    tags: 'project=cairn&tier=gold',
    storageClass: 'REDUCED_REDUNDANCY',
    checksums: { CRC32: 'DUoRhQ==', SHA256: 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=' },
    parts: [
      { number: 1, size: 5 << 20, etag: '0123456789abcdef0123456789abcdef', modTime: T0 - 1000 },
      { number: 3, size: 7, etag: 'fedcba9876543210fedcba9876543210', modTime: T0 - 500 },
    ],
    erasure: {
      algorithm: 'reedsolomon-vandermonde',
      dataBlocks: 12,
      parityBlocks: 4,
      blockSize: 1 << 20,
      index: 16,
      distribution: [16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
      bitrot: 'blake3S',
    },
    inline: Buffer.from('0123456789abcdef0123456789abcdef-shard-bytes'),
    lockRetention: { mode: 'COMPLIANCE', retainUntil: T0 + 86_400_000 },
    legalHold: true,
  });
}

function expectCorrupt(fn: () => unknown, why?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isStorageError(e, 'FileCorrupt'), `expected FileCorrupt, got ${String(e)}`);
    if (why) assert.match((e as Error).message, why);
    return true;
  });
}

/** A metadata file around any payload, with a correct length and CRC. */
function frame(payload: Buffer, version = 1): Buffer {
  const h = Buffer.alloc(15);
  h.write('CAIRNMETA', 0, 'latin1');
  h.writeUInt16BE(version, 9);
  h.writeUInt32BE(payload.length, 11);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc32(payload));
  return Buffer.concat([h, payload, c]);
}

test('a version with every field survives encode and decode', () => {
  const file: MetaFile = { versions: [rich(), obj({ modTime: T0 - 10 }), marker('null-marker-id', T0 - 20)] };
  const back = decodeMeta(encodeMeta(file));
  assert.deepEqual(back, file);
});

test('user metadata named __proto__ stays data', () => {
  const um: Record<string, string> = {};
  Object.defineProperty(um, '__proto__', {
    value: 'x',
    enumerable: true,
    writable: true,
    configurable: true,
  });
  um.a = 'b';
  const back = decodeMeta(encodeMeta({ versions: [obj({ userMetadata: um })] }));
  const v = back.versions[0] as ObjectDataVersion;
  assert.deepEqual(Object.entries(v.userMetadata), [
    ['__proto__', 'x'],
    ['a', 'b'],
  ]);
  assert.equal(Object.getPrototypeOf(v.userMetadata), Object.prototype);
});

test('a single part equal to the object is implied, not stored, and comes back', () => {
  const single = obj();
  const bytesSingle = encodeMeta({ versions: [single] });
  const other = obj({ parts: [{ ...single.parts[0]!, modTime: T0 - 1 }] });
  const bytesOther = encodeMeta({ versions: [other] });
  assert.ok(bytesSingle.length < bytesOther.length);
  assert.deepEqual(decodeMeta(bytesSingle).versions[0], single);
  assert.deepEqual(decodeMeta(bytesOther).versions[0], other);
});

test('the file layout: magic, format version, payload length, head length, head CRC, payload, CRC-32 of payload', () => {
  const buf = encodeMeta({ versions: [obj(), marker('dm', T0 - 1)] });
  assert.equal(buf.subarray(0, 9).toString('latin1'), 'CAIRNMETA');
  assert.equal(buf.readUInt16BE(9), 2);
  assert.equal(META_FORMAT_VERSION, 2);
  const len = buf.readUInt32BE(11);
  const headLen = buf.readUInt32BE(15);
  assert.equal(buf.length, 23 + len + 4);
  assert.equal(buf.readUInt32BE(23 + len), crc32(buf.subarray(23, 23 + len)));
  // The head's CRC covers the header's version and lengths, then the head.
  assert.equal(buf.readUInt32BE(19), crc32(buf.subarray(23, 23 + headLen), crc32(buf.subarray(9, 19))));
  // The head is the array's header and the first entry: the second starts right after it.
  const second = encodeMeta({ versions: [marker('dm', T0 - 1)] }).subarray(24, -4);
  assert.deepEqual(buf.subarray(23 + headLen, 23 + len), second);
});

test('format 1 payload is plain MessagePack: [type, versionId, modTime, bin body] per version', () => {
  const v = obj({ versionId: 'abc' });
  const buf = encodeMeta({ versions: [v, marker('dm', T0 - 1)] });
  const payload = buf.subarray(23, buf.length - 4);
  const entries = unpack(payload) as [number, string, number, Uint8Array][];
  assert.equal(entries.length, 2);
  assert.deepEqual(
    entries.map((e) => e.slice(0, 3)),
    [
      [1, 'abc', T0],
      [2, 'dm', T0 - 1],
    ],
  );
  const body = unpack(entries[0]![3]) as Record<string, unknown>;
  assert.equal(body.sz, v.size);
  assert.equal(body.et, v.etag);
  assert.equal(body.dd, v.dataDir);
  assert.deepEqual(body.ec, [1, 2, 2, 1 << 20, 3, [3, 4, 1, 2], 1]);
  assert.deepEqual(unpack(entries[1]![3]), {});
});

// Bytes written by format 1 (regenerate only with a new format version; this one must keep reading).
const GOLDEN_V1 = [
  'Q0FJUk5NRVRBAAEAAAMck5QB2SQwMTg5MGE1ZC1hYzk2LTc3NGItYmNjZS1iMzAyMDk5YTgwNTfLQnjMgg2y4ADFAhPeABGi',
  'c3oLomV02SA1ZWI2M2JiYmUwMWVlZWQwOTNjYjIyYmI4ZjVhY2RjM6JjdLl0ZXh0L3BsYWluOyBjaGFyc2V0PXV0Zi04omNl',
  'pGd6aXCiY2S+YXR0YWNobWVudDsgZmlsZW5hbWU9ImEgYi50eHQiomNspWVuLUdComNjqm1heC1hZ2U9NjCiZXi9V2VkLCAy',
  'MSBPY3QgMjAxNSAwNzoyODowMCBHTVSidW2WpWNvbG9ypGJsdWWpw7xuw69jb2RlpnbDpGx1ZaVlbXB0eaCidGe3cHJvamVj',
  'dD1jYWlybiZ0aWVyPWdvbGSic2OyUkVEVUNFRF9SRURVTkRBTkNZomNrlKVDUkMzMqhEVW9SaFE9PaZTSEEyNTbZLHVVMG51',
  'Wk5OUGdpbExsTFgybjJyK3NTRTcrTjZVNER1a0lqM3JPTHZ6ZWs9onB0kpQBzgBQAADZIDAxMjM0NTY3ODlhYmNkZWYwMTIz',
  'NDU2Nzg5YWJjZGVmy0J4zIINdGAAlAMH2SBmZWRjYmE5ODc2NTQzMjEwZmVkY2JhOTg3NjU0MzIxMMtCeMyCDZOgAKJlY5cB',
  'DATOABAAABDcABAQAQIDBAUGBwgJCgsMDQ4PAqJpbsQsMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYtc2hhcmQt',
  'Ynl0ZXOibHKSAstCeMzUc3LgAKJsaMOUAtkkMDE4OTBhNWQtYWM5Ni03NzRiLWJjY2UtYjMwMjA5OWE4MDAwy0J4zIINspAA',
  'xAGAlAGkbnVsbMtCeMyCDbJAAMSOhqJzes4AEtaHomV02SBkNDFkOGNkOThmMDBiMjA0ZTk4MDA5OThlY2Y4NDI3ZaJkZNks',
  'Y2Fpcm4uZC4wYjdkNGM4ZS0zZjFhLTRjMmItOWQ1ZS02ZjdhOGI5YzBkMWWiY3SwYXBwbGljYXRpb24vanNvbqJ1bZKha6F2',
  'omVjlwECAs4AEAAAA5QDBAECAUemq3I=',
].join('');

function goldenFile(): MetaFile {
  return {
    versions: [
      rich(),
      marker('01890a5d-ac96-774b-bcce-b302099a8000', T0 - 5),
      obj({ modTime: T0 - 10, userMetadata: { k: 'v' }, contentType: 'application/json' }),
    ],
  };
}

test('format 1 golden bytes still decode (latest and by id too), and encode the same as format 1', () => {
  const buf = Buffer.from(GOLDEN_V1, 'base64');
  assert.deepEqual(decodeMeta(buf), goldenFile());
  assert.deepEqual(decodeMetaVersion(buf).versions, [goldenFile().versions[0]]);
  assert.equal(metaLatestLength(buf), buf.length);
  assert.equal(encodeMetaV1(goldenFile()).toString('base64'), GOLDEN_V1);
  // Format 2 holds the same payload behind its longer header.
  assert.deepEqual(encodeMeta(goldenFile()).subarray(23, -4), buf.subarray(15, -4));
});

test('decoders are kept by format version', () => {
  assert.deepEqual(Object.keys(decoders), ['1', '2']);
  const payload = encodeMeta({ versions: [obj()] }).subarray(23, -4);
  assert.deepEqual(decoders[1]!.all(payload), [obj()]);
  assert.deepEqual(decodeMeta(frame(payload, 1)).versions, [obj()]);
  expectCorrupt(() => decodeMeta(frame(payload, 3)), /unknown format version 3/);
  expectCorrupt(() => decodeMeta(frame(payload, 0)), /unknown format version 0/);
});

test('versions are stored newest first: modTime, then versionId, descending', () => {
  const a = obj({ versionId: 'a', modTime: T0 });
  const b = obj({ versionId: 'b', modTime: T0 });
  const c = marker('c', T0 + 1);
  const d = obj({ versionId: 'd', modTime: T0 - 1 });
  const file = decodeMeta(encodeMeta({ versions: [d, a, c, b] }));
  assert.deepEqual(
    file.versions.map((v) => v.versionId),
    ['c', 'b', 'a', 'd'],
  );
  assert.equal(latest(file)?.versionId, 'c');
  assert.equal(latest({ versions: [] }), undefined);
  assert.equal(compareVersions(a, a), 0);
});

test('encodeMeta refuses the same version id twice and bad ids', () => {
  assert.throws(() => encodeMeta({ versions: [obj(), obj({ modTime: T0 - 1 })] }), /twice/);
  assert.throws(() => encodeMeta({ versions: [obj({ versionId: '' })] }), /bad version id/);
  assert.throws(() => encodeMeta({ versions: [obj({ modTime: Number.NaN })] }), /modTime/);
});

test('every truncation of a file is FileCorrupt', () => {
  const buf = encodeMeta({ versions: [rich(), marker('x', T0 - 1)] });
  for (let n = 0; n < buf.length; n++) expectCorrupt(() => decodeMeta(buf.subarray(0, n)));
  expectCorrupt(() => decodeMeta(Buffer.concat([buf, Buffer.from([0])])), /payload of/);
});

test('every flipped byte of a file is FileCorrupt', () => {
  const buf = encodeMeta({ versions: [rich(), marker('dm', T0 - 1)] });
  const headEnd = metaLatestLength(buf);
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf);
    bad[i] = bad[i]! ^ 0x01;
    expectCorrupt(() => decodeMeta(bad));
    expectCorrupt(() => decodeMetaVersion(bad));
    // A head read: what GET reads of a file for its latest version.
    if (i < headEnd) expectCorrupt(() => decodeMetaVersion(bad.subarray(0, headEnd)));
  }
});

test('the latest version decodes from the head alone; more versions behind it are not read', () => {
  const versions: ObjectVersion[] = [rich()];
  for (let i = 1; i <= 50; i++) versions.push(obj({ versionId: `v${i}`, modTime: T0 - i }));
  const buf = encodeMeta({ versions });
  const need = metaLatestLength(buf.subarray(0, 64));
  assert.ok(need < buf.length / 10);
  assert.deepEqual(decodeMetaVersion(buf.subarray(0, need)).versions, [rich()]);
  assert.deepEqual(decodeMetaVersion(buf.subarray(0, need + 7)).versions, [rich()]);
  expectCorrupt(() => decodeMetaVersion(buf.subarray(0, need - 1)), /head needs/);
  // By id the whole file is needed.
  expectCorrupt(() => decodeMetaVersion(buf.subarray(0, need), 'v3'));
  assert.equal(decodeMetaVersion(buf, 'v3').versions[0]!.versionId, 'v3');
});

test('bad magic, length and checksum say what is wrong', () => {
  const buf = encodeMeta({ versions: [obj()] });
  const magic = Buffer.from(buf);
  magic.write('CAIRNMETB', 0, 'latin1');
  expectCorrupt(() => decodeMeta(magic), /bad magic/);
  const len = Buffer.from(buf);
  len.writeUInt32BE(len.readUInt32BE(11) + 1, 11);
  expectCorrupt(() => decodeMeta(len), /payload of/);
  const crc = Buffer.from(buf);
  crc[crc.length - 1] = crc[crc.length - 1]! ^ 0xff;
  expectCorrupt(() => decodeMeta(crc), /checksum/);
  expectCorrupt(() => decodeMeta(Buffer.alloc(0)), /too short/);
});

test('a well-framed payload that is not a valid format 1 payload is FileCorrupt', () => {
  const body = (b: unknown) => pack(b);
  const good = { sz: 1, et: 'e', ec: [1, 1, 0, 1 << 20, 1, [1], 1] };
  const cases: [string, unknown][] = [
    ['not an array', { a: 1 }],
    ['entry not a 4-array', [[1, 'a', T0]]],
    ['unknown type', [[3, 'a', T0, body(good)]]],
    ['id not a string', [[1, 7, T0, body(good)]]],
    ['empty id', [[1, '', T0, body(good)]]],
    ['modTime not a number', [[1, 'a', 'now', body(good)]]],
    ['body not bin', [[1, 'a', T0, good]]],
    ['body not a map', [[1, 'a', T0, body([1])]]],
    ['body not msgpack', [[1, 'a', T0, Buffer.from([0xc1])]]],
    ['size missing', [[1, 'a', T0, body({ ...good, sz: undefined })]]],
    ['negative size', [[1, 'a', T0, body({ ...good, sz: -1 })]]],
    ['etag not a string', [[1, 'a', T0, body({ ...good, et: 5 })]]],
    ['unknown erasure algorithm', [[1, 'a', T0, body({ ...good, ec: [9, 1, 0, 1, 1, [1], 1] })]]],
    ['unknown bitrot algorithm', [[1, 'a', T0, body({ ...good, ec: [1, 1, 0, 1, 1, [1], 0] })]]],
    ['short erasure', [[1, 'a', T0, body({ ...good, ec: [1, 1, 0] })]]],
    ['user metadata odd pairs', [[1, 'a', T0, body({ ...good, um: ['a'] })]]],
    ['user metadata non-string', [[1, 'a', T0, body({ ...good, um: ['a', 1] })]]],
    ['bad part', [[1, 'a', T0, body({ ...good, pt: [[1, 2, 'e']] })]]],
    ['bad storage class', [[1, 'a', T0, body({ ...good, sc: 'GLACIER' })]]],
    ['bad content type', [[1, 'a', T0, body({ ...good, ct: 1 })]]],
    ['bad lock retention', [[1, 'a', T0, body({ ...good, lr: [7, T0] })]]],
    ['bad legal hold', [[1, 'a', T0, body({ ...good, lh: 'yes' })]]],
    ['bad inline', [[1, 'a', T0, body({ ...good, in: 'text' })]]],
    [
      'out of order',
      [
        [2, 'a', T0, body({})],
        [2, 'b', T0 + 1, body({})],
      ],
    ],
    [
      'same id twice',
      [
        [2, 'a', T0, body({})],
        [2, 'a', T0 - 1, body({})],
      ],
    ],
    ['bytes after the last entry', Buffer.concat([pack([]), Buffer.from([0])])],
  ];
  for (const [name, payload] of cases) {
    const p = Buffer.isBuffer(payload) ? payload : pack(payload);
    assert.throws(
      () => decodeMeta(frame(p)),
      (e: unknown) => isStorageError(e, 'FileCorrupt'),
      name,
    );
  }
  // and the same shapes, valid, decode
  assert.equal(decodeMeta(frame(pack([[1, 'a', T0, body(good)]]))).versions.length, 1);
});

test('decodeMetaVersion reads the latest or one version, and the result cannot be written back', () => {
  const file: MetaFile = {
    versions: [marker('m', T0 + 2), obj({ versionId: 'v2', modTime: T0 + 1 }), obj({ versionId: 'v1' })],
  };
  const buf = encodeMeta(file);
  assert.deepEqual(decodeMetaVersion(buf), { versions: [file.versions[0]], partial: true });
  assert.deepEqual(decodeMetaVersion(buf, 'v1'), { versions: [file.versions[2]], partial: true });
  assert.deepEqual(decodeMetaVersion(buf, 'nope'), { versions: [], partial: true });
  assert.deepEqual(decodeMetaVersion(encodeMeta({ versions: [] })), { versions: [], partial: true });
  const partial = decodeMetaVersion(buf);
  assert.throws(() => encodeMeta(partial), /not writable/);
  assert.throws(() => addVersion(partial, obj(), { replaceNull: true }), /not writable/);
  assert.throws(() => removeVersion(partial, 'm'), /not writable/);
});

test('versioning Enabled: a PUT adds a version and keeps the null version', () => {
  let file: MetaFile = { versions: [obj({ versionId: 'null', modTime: T0 })] };
  const v1 = obj({ versionId: versionIdNew(T0 + 1), modTime: T0 + 1, dataDir: newDataDir() });
  const r = addVersion(file, v1, { replaceNull: false });
  assert.equal(r.replaced, undefined);
  file = r.file;
  assert.deepEqual(
    file.versions.map((v) => v.versionId),
    [v1.versionId, 'null'],
  );
  // a delete without a version id writes a delete marker on top
  const dm = marker(versionIdNew(T0 + 2), T0 + 2);
  file = addVersion(file, dm, { replaceNull: false }).file;
  assert.equal(latest(file), dm);
  assert.equal(file.versions.length, 3);
});

test('versioning off or Suspended: a PUT replaces the null version and hands back the old one', () => {
  const old = obj({ versionId: 'null', modTime: T0 });
  const kept = obj({ versionId: 'v-enabled', modTime: T0 + 1 });
  const file: MetaFile = { versions: [kept, old] };
  const next = obj({ versionId: 'null', modTime: T0 + 2, dataDir: newDataDir() });
  const r = addVersion(file, next, { replaceNull: true });
  assert.equal(r.replaced, old);
  assert.deepEqual(r.file.versions, [next, kept]);
  assert.deepEqual(file.versions, [kept, old], 'the input file is not changed');
  // a suspended-bucket DELETE: a null delete marker replaces the null version too
  const dm = marker('null', T0 + 3);
  const r2 = addVersion(r.file, dm, { replaceNull: true });
  assert.equal(r2.replaced, next);
  assert.deepEqual(r2.file.versions, [dm, kept]);
  assert.throws(() => addVersion(file, obj({ versionId: 'x' }), { replaceNull: true }), /null version/);
});

test('addVersion keeps the order and replaces a version with the same id (a retried write)', () => {
  const base: MetaFile = {
    versions: [obj({ versionId: 'c', modTime: T0 + 30 }), obj({ versionId: 'a', modTime: T0 + 10 })],
  };
  const mid = addVersion(base, obj({ versionId: 'b', modTime: T0 + 20 }), { replaceNull: false }).file;
  assert.deepEqual(
    mid.versions.map((v) => v.versionId),
    ['c', 'b', 'a'],
  );
  const oldest = addVersion(mid, obj({ versionId: 'z', modTime: T0 }), { replaceNull: false }).file;
  assert.equal(oldest.versions.at(-1)?.versionId, 'z');
  const again = obj({ versionId: 'b', modTime: T0 + 20, size: 9 });
  const r = addVersion(mid, again, { replaceNull: false });
  assert.equal(r.replaced, mid.versions[1]);
  assert.equal(findVersion(r.file, 'b'), again);
  assert.equal(r.file.versions.length, 3);
});

test('removeVersion removes one version, or reports there was none', () => {
  const file: MetaFile = { versions: [obj({ versionId: 'b', modTime: T0 + 1 }), obj({ versionId: 'a' })] };
  const r = removeVersion(file, 'b');
  assert.equal(r.removed, file.versions[0]);
  assert.deepEqual(
    r.file.versions.map((v) => v.versionId),
    ['a'],
  );
  const none = removeVersion(file, 'zz');
  assert.equal(none.removed, undefined);
  assert.equal(none.file, file);
  assert.equal(findVersion(file, 'zz'), undefined);
});

test('versionIdNew makes UUIDv7 strings that sort by time and never repeat', () => {
  const re = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  const ids: string[] = [];
  for (let i = 0; i < 10_000; i++) ids.push(versionIdNew());
  for (let i = 0; i < ids.length; i++) {
    assert.match(ids[i]!, re);
    if (i > 0) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  }
  const t = Date.now() + 60_000;
  const id = versionIdNew(t);
  assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16), t);
  // the same millisecond 5,000 times: the 12-bit counter runs out and the time moves on, still sorted
  const same = Array.from({ length: 5000 }, () => versionIdNew(t));
  for (let i = 1; i < same.length; i++) assert.ok(same[i - 1]! < same[i]!);
  // a clock that steps back still gives increasing ids
  assert.ok(versionIdNew(t - 10_000) > same.at(-1)!);
});

test('newDataDir names a cairn.d.<uuid> directory', () => {
  const a = newDataDir();
  assert.match(a, /^cairn\.d\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, newDataDir());
});

test('signature ignores what differs per drive and catches what must agree', () => {
  const v = obj({ versionId: 'v' });
  const same: ObjectVersion[] = [
    { ...v, erasure: { ...v.erasure, index: 1 } },
    { ...v, inline: Buffer.from('other shard') },
    { ...v, userMetadata: { changed: 'later' }, tags: 'a=b' },
  ];
  for (const s of same) assert.equal(signature(s), signature(v));
  const different: ObjectVersion[] = [
    { ...v, versionId: 'w' },
    { ...v, modTime: v.modTime + 1 },
    { ...v, dataDir: newDataDir() },
    { ...v, size: v.size + 1 },
    { ...v, etag: 'x' },
    { ...v, erasure: { ...v.erasure, dataBlocks: 3 } },
    { ...v, erasure: { ...v.erasure, parityBlocks: 1 } },
    marker('v', v.modTime),
  ];
  const sigs = new Set([signature(v), ...different.map(signature)]);
  assert.equal(sigs.size, different.length + 1);
});

test('toObjectInfo maps a version and a delete marker to ObjectInfo', () => {
  const v = rich();
  const info = toObjectInfo(v, 'bkt', 'a/b.txt', true);
  assert.deepEqual(info, {
    bucket: 'bkt',
    key: 'a/b.txt',
    versionId: v.versionId,
    isLatest: true,
    deleteMarker: false,
    size: 11,
    etag: v.etag,
    modTime: new Date(T0),
    userMetadata: v.userMetadata,
    tags: v.tags,
    storageClass: 'REDUCED_REDUNDANCY',
    parts: v.parts.map((p) => ({ ...p, modTime: new Date(p.modTime) })),
    checksums: v.checksums,
    contentType: v.contentType,
    contentEncoding: v.contentEncoding,
    contentDisposition: v.contentDisposition,
    contentLanguage: v.contentLanguage,
    cacheControl: v.cacheControl,
    expires: v.expires,
    lockRetention: { mode: 'COMPLIANCE', retainUntil: new Date(T0 + 86_400_000) },
    legalHold: true,
  });
  info.userMetadata.changed = 'yes';
  assert.equal(v.userMetadata.changed, undefined, 'the info does not share maps with the version');
  const plain = toObjectInfo(obj(), 'b', 'k', false);
  assert.equal('contentType' in plain, false);
  const dm = toObjectInfo(marker('m', T0), 'b', 'k', false);
  assert.equal(dm.deleteMarker, true);
  assert.equal(dm.size, 0);
  assert.equal(dm.isLatest, false);
  assert.deepEqual(dm.modTime, new Date(T0));
  const all = toObjectInfos({ versions: [marker('m', T0 + 1), obj()] }, 'b', 'k');
  assert.deepEqual(
    all.map((i) => [i.versionId, i.isLatest]),
    [
      ['m', true],
      ['null', false],
    ],
  );
});

function manyVersions(n: number): MetaFile {
  const versions: ObjectVersion[] = [];
  for (let i = 0; i < n; i++) {
    const t = T0 + i;
    versions.push(
      i % 10 === 9
        ? marker(versionIdNew(t), t)
        : obj({
            versionId: versionIdNew(t),
            modTime: t,
            dataDir: newDataDir(),
            contentType: 'application/octet-stream',
          }),
    );
  }
  return { versions };
}

test('the latest of 10,000 versions decodes without decoding the others', () => {
  const big = manyVersions(10_000);
  const buf = encodeMeta(big);
  const full = decodeMeta(buf);
  assert.equal(full.versions.length, 10_000);
  assert.deepEqual(decodeMetaVersion(buf).versions[0], full.versions[0]);
  const mid = full.versions[5000]!;
  assert.deepEqual(decodeMetaVersion(buf, mid.versionId).versions[0], mid);
  // That the others are not decoded is shown by a file with an undecodable older body (below); the
  // time it saves is bench/versions.bench.ts's to measure, not a test's.
});

// --- splicing: a change of one version, the other entries copied as bytes --------------------------

/** A small seeded PRNG (mulberry32): the property tests replay from their seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random version: object (with random optional fields, some inline) or delete marker. */
function randomVersion(rnd: () => number, versionId: string, modTime: number): ObjectVersion {
  if (rnd() < 0.25) return marker(versionId, modTime);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const size = Math.floor(rnd() * 5000);
  const v = obj({
    versionId,
    modTime,
    size,
    etag: randomBytes(16).toString('hex'),
    dataDir: rnd() < 0.5 ? '' : newDataDir(),
    userMetadata: rnd() < 0.3 ? { k: String(rnd()), ü: 'x'.repeat(Math.floor(rnd() * 40)) } : {},
    tags: rnd() < 0.2 ? 'a=b' : '',
    storageClass: pick(['STANDARD', 'REDUCED_REDUNDANCY'] as const),
    checksums: rnd() < 0.3 ? { CRC32: 'DUoRhQ==' } : {},
  });
  v.parts = [{ number: 1, size, etag: v.etag, modTime }];
  if (rnd() < 0.2) v.parts.push({ number: 2, size: 7, etag: 'e', modTime: modTime - 1 });
  // an inline shard now and then, up to 70 KiB (bin16 and bin32 bodies)
  if (v.dataDir === '' && rnd() < 0.5) v.inline = randomBytes(Math.floor(rnd() ** 3 * 70_000));
  if (rnd() < 0.2)
    v.lockRetention = { mode: pick(['GOVERNANCE', 'COMPLIANCE'] as const), retainUntil: T0 + 5 };
  if (rnd() < 0.2) v.legalHold = rnd() < 0.5;
  return v;
}

/** Ids for a random file: UUIDv7s in time order (the usual file), shuffled ones, or short ones. */
function idMaker(rnd: () => number): (modTime: number) => string {
  const style = Math.floor(rnd() * 3);
  let n = 0;
  return (modTime) => {
    if (rnd() < 0.05) return NULL;
    if (style === 0) return versionIdNew(modTime);
    if (style === 1) return `${Math.floor(rnd() * 1e9).toString(36)}-${n++}`;
    return String.fromCharCode(97 + Math.floor(rnd() * 26)) + n++;
  };
}
const NULL = 'null';

function randomFile(rnd: () => number, count: number, newId: (t: number) => string): MetaFile {
  let file: MetaFile = { versions: [] };
  for (let i = 0; i < count; i++) {
    const t = T0 + Math.floor(rnd() * 1000);
    file = addVersion(file, randomVersion(rnd, newId(t), t), { replaceNull: false }).file;
  }
  return file;
}

test('crc32Combine gives the CRC-32 of the concatenation', () => {
  const rnd = prng(7);
  for (let i = 0; i < 200; i++) {
    const a = randomBytes(Math.floor(rnd() * 300));
    const b = randomBytes(i % 20 === 0 ? 70_000 + Math.floor(rnd() * 100_000) : Math.floor(rnd() * 300));
    assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
  }
  assert.equal(crc32Combine(0, 0, 0), 0);
  assert.equal(crc32Combine(crc32(Buffer.from('abc')), 0, 0), crc32(Buffer.from('abc')));
});

test('splicing one change into a file gives byte for byte what decode, change and encodeMeta give', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rnd = prng(seed);
    const newId = idMaker(rnd);
    // 0 to 40 versions, some files across the 15/16 entries boundary of the array header
    const count = seed % 5 === 0 ? 14 + Math.floor(rnd() * 4) : Math.floor(rnd() * 40);
    let file = randomFile(rnd, count, newId);
    let buf = seed % 7 === 0 ? encodeMetaV1(file) : encodeMeta(file);
    for (let step = 0; step < 25; step++) {
      const what = rnd();
      const where = `seed ${seed} step ${step}`;
      const ids = file.versions.map((v) => v.versionId);
      const anyId = ids.length && rnd() < 0.8 ? ids[Math.floor(rnd() * ids.length)]! : 'absent';
      let fast: Buffer | undefined;
      let slow: MetaFile;
      if (what < 0.7) {
        // add: a new latest (most writes), an older one, the null version, or a retried id
        const t = rnd() < 0.6 ? T0 + 2000 + step : T0 + Math.floor(rnd() * 1000);
        const kind = rnd();
        const id = kind < 0.15 ? NULL : kind < 0.3 && ids.length ? anyId : newId(t);
        const v = randomVersion(rnd, id === 'absent' ? newId(t) : id, t);
        const replaceNull = v.versionId === NULL && rnd() < 0.7;
        const expected = addVersion(file, v, { replaceNull });
        // with the right hint, with none, and with one pointing elsewhere: the same bytes
        const hint = rnd() < 0.6 ? v : rnd() < 0.5 ? undefined : { versionId: anyId, modTime: T0 };
        const got = openMeta(buf, hint).add(v, { replaceNull });
        assert.deepEqual(got.replaced, expected.replaced, where);
        fast = got.meta;
        slow = expected.file;
      } else if (what < 0.9) {
        const expected = removeVersion(file, anyId);
        const got = openMeta(buf, rnd() < 0.7 ? { versionId: anyId } : undefined).remove(anyId);
        assert.deepEqual(got.removed, expected.removed, where);
        assert.equal(got.count, expected.file.versions.length, where);
        if (!got.removed) {
          assert.equal(got.meta, undefined, where);
          continue;
        }
        fast = got.meta;
        slow = expected.file;
      } else {
        // an update of one version's metadata (tagging, retention, legal hold), or none
        const f = openMeta(buf, { versionId: anyId, modTime: T0 });
        const at = f.indexOf(anyId);
        const v = at >= 0 ? f.version(at) : undefined;
        if (v?.type === 'object') {
          const changed: ObjectDataVersion = { ...v, tags: `t=${step}`, legalHold: rnd() < 0.5 };
          fast = f.add(changed, { replaceNull: false }).meta;
          slow = { versions: file.versions.map((x) => (x.versionId === anyId ? changed : x)) };
        } else {
          fast = f.encode();
          slow = file;
        }
      }
      assert.ok(fast);
      assert.ok(fast.equals(encodeMeta(slow)), `${where}: the spliced file differs`);
      assert.deepEqual(decodeMeta(fast), { versions: [...slow.versions].sort(compareVersions) }, where);
      assert.deepEqual(
        decodeMetaVersion(fast.subarray(0, metaLatestLength(fast))).versions[0],
        slow.versions[0],
      );
      file = decodeMeta(fast);
      buf = fast;
    }
  }
});

test('openMeta finds every id by indexOf, in files with ids in order or not, the null version anywhere', () => {
  for (let seed = 100; seed < 140; seed++) {
    const rnd = prng(seed);
    const file = randomFile(rnd, Math.floor(rnd() * 60), idMaker(rnd));
    const f = openMeta(encodeMeta(file));
    assert.equal(f.count, file.versions.length);
    file.versions.forEach((v, i) => {
      assert.equal(f.indexOf(v.versionId), i);
      assert.deepEqual(f.head(i), { type: v.type, versionId: v.versionId, modTime: v.modTime });
      assert.deepEqual(f.version(i), v);
    });
    for (const absent of ['absent', '', 'zzzz', '0', versionIdNew(T0), NULL]) {
      if (!file.versions.some((v) => v.versionId === absent)) assert.equal(f.indexOf(absent), -1, absent);
    }
    assert.deepEqual(f.toFile(), file);
  }
});

test('openMeta refuses what decodeMeta refuses in the envelope, the headers and the checksums', () => {
  const body = (b: unknown) => pack(b);
  const good = { sz: 1, et: 'e', ec: [1, 1, 0, 1 << 20, 1, [1], 1] };
  const cases: [string, unknown][] = [
    ['not an array', { a: 1 }],
    ['entry not a 4-array', [[1, 'a', T0]]],
    ['unknown type', [[3, 'a', T0, body(good)]]],
    ['id not a string', [[1, 7, T0, body(good)]]],
    ['empty id', [[1, '', T0, body(good)]]],
    ['modTime not a number', [[1, 'a', 'now', body(good)]]],
    ['modTime not finite', [[1, 'a', Number.NaN, body(good)]]],
    ['body not bin', [[1, 'a', T0, good]]],
    [
      'out of order by time',
      [
        [2, 'a', T0, body({})],
        [2, 'b', T0 + 1, body({})],
      ],
    ],
    [
      'out of order by id',
      [
        [2, 'a', T0, body({})],
        [2, 'b', T0, body({})],
      ],
    ],
    [
      'same id twice, ids in order',
      [
        [2, 'b', T0, body({})],
        [2, 'b', T0 - 1, body({})],
      ],
    ],
    [
      'same id twice, ids out of order',
      [
        [2, 'a', T0, body({})],
        [2, 'b', T0 - 1, body({})],
        [2, 'a', T0 - 2, body({})],
      ],
    ],
    [
      'null twice',
      [
        [2, 'null', T0, body({})],
        [2, 'null', T0 - 1, body({})],
      ],
    ],
    ['bytes after the last entry', Buffer.concat([pack([]), Buffer.from([0])])],
    ['a count far past the bytes', Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x94])],
  ];
  for (const [name, payload] of cases) {
    const p = Buffer.isBuffer(payload) ? payload : pack(payload);
    for (const framed of [frame(p), encodeMetaV2Frame(p)]) {
      expectCorrupt(() => decodeMeta(framed), undefined);
      assert.throws(
        () => openMeta(framed),
        (e: unknown) => isStorageError(e, 'FileCorrupt'),
        name,
      );
    }
  }
  // every truncation and every flipped byte, as for decodeMeta
  const buf = encodeMeta({
    versions: [rich(), obj({ versionId: 'b', modTime: T0 - 1 }), marker('a', T0 - 2)],
  });
  for (let n = 0; n < buf.length; n++) expectCorrupt(() => openMeta(buf.subarray(0, n)));
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf);
    bad[i] = bad[i]! ^ 0x01;
    expectCorrupt(() => openMeta(bad, { versionId: 'b', modTime: T0 }));
  }
});

/** A format 2 file around any payload, lengths and both CRCs right (the head: the whole payload). */
function encodeMetaV2Frame(payload: Buffer): Buffer {
  const h = Buffer.alloc(23);
  h.write('CAIRNMETA', 0, 'latin1');
  h.writeUInt16BE(2, 9);
  h.writeUInt32BE(payload.length, 11);
  h.writeUInt32BE(payload.length, 15);
  h.writeUInt32BE(crc32(payload, crc32(h.subarray(9, 19))), 19);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc32(payload));
  return Buffer.concat([h, payload, c]);
}

test('a body that does not decode under a good CRC is copied along; the version replaced is decoded', () => {
  // Only a writer bug makes one (the CRC catches damage); readers that decode it still refuse it.
  const good = pack({ sz: 1, et: 'e', ec: [1, 1, 0, 1 << 20, 1, [1], 1] });
  const bad = pack({ sz: -1, et: 'e', ec: [1, 1, 0, 1 << 20, 1, [1], 1] });
  const buf = frame(
    pack([
      [1, 'b', T0, bad],
      [1, 'a', T0 - 1, good],
    ]),
    1,
  );
  expectCorrupt(() => decodeMeta(buf), /bad size/);
  const f = openMeta(buf);
  expectCorrupt(() => f.version(0), /bad size/);
  const next = f.add(obj({ versionId: 'c', modTime: T0 + 1 }), { replaceNull: false }).meta;
  assert.deepEqual(decodeMetaVersion(next).versions[0]?.versionId, 'c');
  expectCorrupt(() => decodeMeta(next), /bad size/);
  // replacing or removing the bad version itself decodes it: FileCorrupt, as decodeMeta gives
  expectCorrupt(() => openMeta(buf).add(obj({ versionId: 'b', modTime: T0 }), { replaceNull: false }));
  expectCorrupt(() => openMeta(buf).remove('b'));
  assert.equal(openMeta(buf).remove('a').count, 1);
});

test('rawSignatureAt and sameSignature agree with signature on every pair of copies', () => {
  const rnd = prng(99);
  const base = obj({ versionId: 'v', modTime: T0, userMetadata: { a: 'b' }, checksums: { CRC32: 'x' } });
  const variants: ObjectDataVersion[] = [
    base,
    { ...base, erasure: { ...base.erasure, index: 1 } }, // per drive: same signature
    { ...base, dataDir: '', inline: randomBytes(3000) },
    { ...base, dataDir: '', inline: randomBytes(3000), erasure: { ...base.erasure, index: 2 } },
    { ...base, userMetadata: { c: 'd' } }, // a partial metadata update: same signature
    { ...base, size: base.size + 1 },
    { ...base, etag: 'ffffffffffffffffffffffffffffffff' },
    { ...base, dataDir: newDataDir() },
    { ...base, erasure: { ...base.erasure, dataBlocks: 3 } },
    { ...base, erasure: { ...base.erasure, parityBlocks: 1 } },
    { ...rich(), versionId: 'v', modTime: T0 },
  ];
  const files = variants.map((v) => openMeta(encodeMeta({ versions: [v] })));
  for (let a = 0; a < variants.length; a++) {
    const sa = files[a]!.rawSignatureAt(0)!;
    assert.equal(sa.dataBlocks, variants[a]!.erasure.dataBlocks);
    assert.equal(sa.parityBlocks, variants[a]!.erasure.parityBlocks);
    for (let b = 0; b < variants.length; b++) {
      const same = signature(variants[a]!) === signature(variants[b]!);
      assert.equal(sameSignature(sa, files[b]!.rawSignatureAt(0)!), same, `${a} vs ${b}`);
    }
  }
  // random versions: the skim reads what decoding reads
  for (let i = 0; i < 200; i++) {
    const v = randomVersion(rnd, `id${i}`, T0);
    if (v.type !== 'object') continue;
    const s = openMeta(encodeMeta({ versions: [v] })).rawSignatureAt(0)!;
    assert.equal(s.size, v.size);
    assert.equal(s.bytes.toString('utf8', s.etagAt, s.etagEnd), v.etag);
    assert.equal(s.bytes.toString('utf8', s.dataDirAt, s.dataDirEnd), v.dataDir);
  }
  // a body without the fields agrees with nothing
  const odd = frame(pack([[1, 'a', T0, pack({ sz: 'x', et: 'e' })]]));
  assert.equal(openMeta(odd).rawSignatureAt(0), undefined);
  assert.equal(openMeta(frame(pack([[1, 'a', T0, pack([1, 2])]]))).rawSignatureAt(0), undefined);
});

test('a new version on a key with 10,000 versions copies the others without decoding them', () => {
  const big = manyVersions(10_000);
  const buf = encodeMeta(big);
  const v = obj({ versionId: versionIdNew(), modTime: Date.now() });
  const fast = openMeta(buf, v).add(v, { replaceNull: false }).meta;
  assert.ok(fast.equals(encodeMeta(addVersion(big, v, { replaceNull: false }).file)));
  // Not decoding them: see 'a body that does not decode under a good CRC is copied along'; the time
  // is measured by bench/versions.bench.ts.
});

test.run();
