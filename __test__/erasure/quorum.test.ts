import assert from 'node:assert/strict';
import { test } from 'uvu';
import {
  crc32,
  crc32Portable,
  type DeleteMarkerVersion,
  type MetaFile,
  type ObjectDataVersion,
} from '../../src/erasure/metadata';
import {
  contentKey,
  defaultParity,
  hashOrder,
  pickVersionByQuorum,
  readQuorum,
  reduceReadQuorumErrs,
  reduceWriteQuorumErrs,
  sameContent,
  writeQuorum,
} from '../../src/erasure/quorum';
import { isObjectError, ObjectError, type ObjectErrorCode } from '../../src/object/errors';
import { StorageError, type StorageErrorCode } from '../../src/storage/errors';

test('read quorum is k; write quorum is k, or k+1 when k == m', () => {
  const table: [k: number, m: number, read: number, write: number][] = [
    [1, 0, 1, 1],
    [1, 1, 1, 2],
    [2, 1, 2, 2],
    [2, 2, 2, 3],
    [3, 2, 3, 3],
    [4, 4, 4, 5],
    [6, 2, 6, 6],
    [8, 8, 8, 9],
    [12, 4, 12, 12],
  ];
  for (const [k, m, r, w] of table) {
    assert.equal(readQuorum(k, m), r, `read ${k}+${m}`);
    assert.equal(writeQuorum(k, m), w, `write ${k}+${m}`);
  }
});

test('defaultParity follows MinIO by erasure set size', () => {
  const want = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4]; // drives 1..16
  assert.deepEqual(
    want.map((_, i) => defaultParity(i + 1)),
    want,
  );
  assert.equal(defaultParity(32), 4);
  assert.throws(() => defaultParity(0), RangeError);
  assert.throws(() => defaultParity(2.5), RangeError);
});

test('crc32 is IEEE CRC-32, natively and portably', () => {
  const table: [string, number][] = [
    ['', 0],
    ['a', 0xe8b7be43],
    ['123456789', 0xcbf43926],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
    ['object', 0xa8adabec],
  ];
  for (const [s, want] of table) {
    assert.equal(crc32(Buffer.from(s)), want, s);
    assert.equal(crc32Portable(Buffer.from(s)), want, s);
  }
  const big = Buffer.alloc(100_003, 7);
  assert.equal(crc32Portable(big), crc32(big));
  assert.equal(crc32Portable(big.subarray(50_000), crc32Portable(big.subarray(0, 50_000))), crc32(big));
});

test('hashOrder matches MinIO for 16 drives', () => {
  // MinIO cmd/erasure-metadata-utils_test.go TestHashOrder
  const table: [string, number][] = [
    ['object', 14],
    ['The Shining Script <v1>.pdf', 16],
    ['Cost Benefit Analysis (2009-2010).pptx', 15],
    ['117Gn8rfHL2ACARPAhaFd0AGzic9pUbIA/5OCn5A', 3],
    ['SHØRT', 11],
    ['There are far too many object names, and far too few bucket names!', 15],
    ['a/b/c/', 3],
    ['/a/b/c', 6],
  ];
  for (const [key, first] of table) {
    const want = Array.from({ length: 16 }, (_, i) => ((first - 1 + i) % 16) + 1);
    assert.deepEqual(hashOrder(key, 16), want, key);
  }
});

test('hashOrder is a rotation of 1..n starting after crc32(key) % n', () => {
  for (const n of [1, 2, 3, 4, 5, 8, 12, 16]) {
    for (const key of ['', 'a', 'photos/2024/x.jpg', 'ünïcode/🙂']) {
      const d = hashOrder(key, n);
      const start = crc32(Buffer.from(key, 'utf8')) % n;
      assert.deepEqual(
        [...d].sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i + 1),
      );
      assert.equal(d[0], 1 + ((start + 1) % n));
      for (let i = 1; i < n; i++) assert.equal(d[i], (d[i - 1]! % n) + 1);
    }
  }
  assert.deepEqual(hashOrder('x', 0), []);
  assert.deepEqual(hashOrder('x', -1), []);
});

const se = (code: StorageErrorCode) => new StorageError(code);
const code = (e: Error | null): string | null =>
  e === null ? null : ((e as StorageError | ObjectError).code ?? e.message);

test('reduceReadQuorumErrs: success, the prevailing error, or InsufficientReadQuorum', () => {
  const ok = null;
  const table: {
    name: string;
    errs: (Error | null)[];
    ignored?: StorageErrorCode[];
    quorum: number;
    want: string | null;
  }[] = [
    { name: 'all answered', errs: [ok, ok, ok, ok], quorum: 2, want: null },
    {
      name: 'exactly quorum answered',
      errs: [ok, ok, se('DriveOffline'), se('FaultyDrive')],
      quorum: 2,
      want: null,
    },
    {
      name: 'a tie goes to success',
      errs: [ok, ok, se('FileNotFound'), se('FileNotFound')],
      quorum: 2,
      want: null,
    },
    {
      name: 'the error most drives gave, at quorum',
      errs: [se('FileNotFound'), se('FileNotFound'), se('FileNotFound'), ok],
      quorum: 2,
      want: 'FileNotFound',
    },
    {
      name: 'no answer reaches quorum',
      errs: [ok, se('FileNotFound'), se('DriveOffline'), se('FaultyDrive')],
      quorum: 2,
      want: 'InsufficientReadQuorum',
    },
    {
      name: 'drives offline beyond parity',
      errs: [se('DriveOffline'), se('DriveOffline'), ok, ok],
      quorum: 3,
      want: 'InsufficientReadQuorum',
    },
    {
      name: 'ignored errors count for nothing',
      errs: [
        se('VolumeNotFound'),
        se('VolumeNotFound'),
        se('VolumeNotFound'),
        se('DriveOffline'),
        se('DriveOffline'),
      ],
      ignored: ['DriveOffline'],
      quorum: 3,
      want: 'VolumeNotFound',
    },
    {
      name: 'ignored errors cannot make quorum either',
      errs: [se('DriveOffline'), se('DriveOffline'), se('DriveOffline'), ok],
      ignored: ['DriveOffline'],
      quorum: 2,
      want: 'InsufficientReadQuorum',
    },
    {
      name: 'errors of one code are one error, whatever their message',
      errs: [new StorageError('FileCorrupt', 'a'), new StorageError('FileCorrupt', 'b'), ok],
      quorum: 2,
      want: 'FileCorrupt',
    },
    {
      name: 'object errors and plain errors group too',
      errs: [new Error('boom'), new Error('boom'), new ObjectError('StorageFull'), ok],
      quorum: 2,
      want: 'boom',
    },
    { name: 'no drives', errs: [], quorum: 0, want: 'InsufficientReadQuorum' },
    { name: 'one drive, fine', errs: [ok], quorum: 1, want: null },
    { name: 'one drive, missing', errs: [se('FileNotFound')], quorum: 1, want: 'FileNotFound' },
  ];
  for (const t of table) {
    assert.equal(code(reduceReadQuorumErrs(t.errs, t.ignored ?? [], t.quorum)), t.want, t.name);
  }
});

test('reduceWriteQuorumErrs: InsufficientWriteQuorum below quorum, with what each drive said', () => {
  assert.equal(reduceWriteQuorumErrs([null, null, null, se('DriveFull')], [], 3), null);
  const full = reduceWriteQuorumErrs([se('DriveFull'), se('DriveFull'), se('DriveFull'), null], [], 3);
  assert.ok(full instanceof StorageError && full.code === 'DriveFull');
  const e = reduceWriteQuorumErrs([null, null, se('DriveOffline'), se('DriveFull')], [], 3);
  assert.ok(isObjectError(e, 'InsufficientWriteQuorum'));
  assert.equal(e.detail.quorum, 3);
  assert.deepEqual(e.detail.errors, [null, null, 'StorageError:DriveOffline', 'StorageError:DriveFull']);
  // the first instance of the winning error comes back, message and all
  const first = new StorageError('FaultyDrive', 'first');
  assert.equal(reduceWriteQuorumErrs([first, new StorageError('FaultyDrive', 'second')], [], 2), first);
});

// --- pickVersionByQuorum -----------------------------------------------------------------------

const T0 = Date.UTC(2024, 5, 1);

function ver(versionId: string, modTime: number, index: number, over: Partial<ObjectDataVersion> = {}) {
  const v: ObjectDataVersion = {
    type: 'object',
    versionId,
    modTime,
    dataDir: `cairn.d.${versionId}`,
    size: 100,
    etag: `etag-${versionId}`,
    userMetadata: {},
    tags: '',
    storageClass: 'STANDARD',
    checksums: {},
    parts: [{ number: 1, size: 100, etag: `etag-${versionId}`, modTime }],
    erasure: {
      algorithm: 'reedsolomon-vandermonde',
      dataBlocks: 2,
      parityBlocks: 2,
      blockSize: 1 << 20,
      index,
      distribution: [2, 3, 4, 1],
      bitrot: 'highwayhash256S',
    },
    inline: Buffer.from(`shard ${index}`),
    ...over,
  };
  return v;
}
const dm = (versionId: string, modTime: number): DeleteMarkerVersion => ({
  type: 'deleteMarker',
  versionId,
  modTime,
});

/** Drive `i` of 4 holding these versions (its own shard index in each). */
function drive(i: number, ...vs: ((index: number) => ObjectDataVersion | DeleteMarkerVersion)[]): MetaFile {
  return { versions: vs.map((f) => f([2, 3, 4, 1][i]!)) };
}
const A = (idx: number) => ver('A', T0 + 2, idx);
const B = (idx: number) => ver('B', T0 + 1, idx);
const D = () => dm('D', T0 + 3);
const nf = () => new StorageError('FileNotFound');
const off = () => new StorageError('DriveOffline');

function throwsCode(fn: () => unknown, c: ObjectErrorCode, name: string): void {
  assert.throws(fn, (e: unknown) => isObjectError(e, c), name);
}

test('pickVersionByQuorum: all drives agree', () => {
  const metas = [0, 1, 2, 3].map((i) => drive(i, A, B));
  const p = pickVersionByQuorum(metas, 2);
  assert.equal(p.version.versionId, 'A');
  assert.deepEqual(p.agree, [0, 1, 2, 3]);
  assert.deepEqual(p.disagree, []);
  assert.deepEqual(p.errored, []);
  // each drive's own copy, with its own shard index and inline shard
  assert.deepEqual(
    p.perDrive.map((v) => (v?.type === 'object' ? v.erasure.index : 0)),
    [2, 3, 4, 1],
  );
  assert.deepEqual(
    p.perDrive.map((v) => (v?.type === 'object' ? v.inline?.toString() : '')),
    ['shard 2', 'shard 3', 'shard 4', 'shard 1'],
  );
});

test('pickVersionByQuorum: outdated and offline drives are told apart, as heal candidates', () => {
  // drive 2 missed the last write, drive 3 is offline
  const metas = [drive(0, A, B), drive(1, A, B), drive(2, B), off()];
  const p = pickVersionByQuorum(metas, 2);
  assert.equal(p.version.versionId, 'A');
  assert.deepEqual(p.agree, [0, 1]);
  assert.deepEqual(p.disagree, [2]);
  assert.deepEqual(p.errored, [3]);
  assert.equal(p.perDrive[2], undefined);
  // a drive without the object at all is an outdated drive too
  const q = pickVersionByQuorum([drive(0, A), drive(1, A), drive(2, A), nf()], 3);
  assert.deepEqual(q.agree, [0, 1, 2]);
  assert.deepEqual(q.errored, [3]);
});

test('pickVersionByQuorum by version id', () => {
  const metas = [drive(0, A, B), drive(1, A, B), drive(2, B), drive(3, A)];
  const p = pickVersionByQuorum(metas, 3, 'B');
  assert.equal(p.version.versionId, 'B');
  assert.deepEqual(p.agree, [0, 1, 2]);
  assert.deepEqual(p.disagree, [3]);
  throwsCode(() => pickVersionByQuorum(metas, 3, 'Z'), 'VersionNotFound', 'no such version anywhere');
  throwsCode(
    () => pickVersionByQuorum([nf(), nf(), nf(), drive(3, A)], 2, 'A'),
    'VersionNotFound',
    'no file',
  );
});

test('pickVersionByQuorum returns a delete marker like any version', () => {
  const metas = [0, 1, 2, 3].map((i) => drive(i, D, A));
  const p = pickVersionByQuorum(metas, 2);
  assert.equal(p.version.type, 'deleteMarker');
  assert.deepEqual(p.agree, [0, 1, 2, 3]);
});

test('pickVersionByQuorum: not found when a quorum or a majority has no such object', () => {
  throwsCode(() => pickVersionByQuorum([nf(), nf(), nf(), nf()], 2), 'ObjectNotFound', 'nowhere');
  throwsCode(
    () => pickVersionByQuorum([nf(), nf(), off(), off()], 2),
    'ObjectNotFound',
    'a read quorum says so',
  );
  // an uncommitted write left on one drive does not make an object
  throwsCode(() => pickVersionByQuorum([drive(0, A), nf(), nf(), nf()], 2), 'ObjectNotFound', 'dangling');
  // an empty metadata file (all versions removed) is no object
  throwsCode(
    () => pickVersionByQuorum([{ versions: [] }, { versions: [] }, nf(), off()], 2),
    'ObjectNotFound',
    'empty',
  );
  // 16 drives, read quorum 12: 9 say not found, 7 have a version written below write quorum
  const wide = [...Array.from({ length: 9 }, nf), ...Array.from({ length: 7 }, () => ({ versions: [A(1)] }))];
  throwsCode(() => pickVersionByQuorum(wide, 12), 'ObjectNotFound', 'majority');
});

test('pickVersionByQuorum: InsufficientReadQuorum when too few drives can answer', () => {
  throwsCode(
    () => pickVersionByQuorum([drive(0, A), off(), off(), off()], 2),
    'InsufficientReadQuorum',
    'offline',
  );
  throwsCode(
    () => pickVersionByQuorum([drive(0, A), nf(), off(), off()], 2),
    'InsufficientReadQuorum',
    'one each',
  );
  throwsCode(
    () => pickVersionByQuorum([drive(0, A), drive(1, B), drive(2, A), drive(3, B)], 3),
    'InsufficientReadQuorum',
    'split brain',
  );
  throwsCode(
    () => pickVersionByQuorum([new StorageError('FileCorrupt'), drive(1, A), off(), off()], 2),
    'InsufficientReadQuorum',
    'corrupt is no answer',
  );
  throwsCode(
    () => pickVersionByQuorum([off(), off(), off(), off()], 2),
    'InsufficientReadQuorum',
    'all offline',
  );
});

test('pickVersionByQuorum: different versions with the same id do not agree', () => {
  // same id and time, but another etag (a torn write): its own signature
  const A2 = (idx: number) => ver('A', T0 + 2, idx, { etag: 'other' });
  const p = pickVersionByQuorum([drive(0, A), drive(1, A), drive(2, A), drive(3, A2)], 3);
  assert.equal(p.version.type === 'object' && p.version.etag, 'etag-A');
  assert.deepEqual(p.disagree, [3]);
});

test('pickVersionByQuorum: after a partial metadata update the copy most drives hold wins', () => {
  const tagged = (idx: number) => ver('A', T0 + 2, idx, { tags: 'x=1' });
  const p = pickVersionByQuorum([drive(0, tagged), drive(1, A), drive(2, tagged), drive(3, tagged)], 2);
  assert.equal(p.version.type === 'object' && p.version.tags, 'x=1');
  assert.deepEqual(p.agree, [0, 1, 2, 3], 'every drive can still serve its shard');
  assert.deepEqual(p.disagree, [1], 'the drive with the old tags is to heal');
});

test.run();

test('sameContent is contentKey equality: shard index and inline shard aside, every other field counts', () => {
  const base = ver('v1', 1000, 0);
  const variants: ObjectDataVersion[] = [
    base,
    ver('v1', 1000, 3, { inline: Buffer.from('another shard') }),
    ver('v1', 1000, 0, { inline: undefined }),
    ver('v1', 1000, 0, { etag: 'other' }),
    ver('v1', 1000, 0, { userMetadata: { a: '1' } }),
    ver('v1', 1000, 0, { userMetadata: { a: '2' } }),
    ver('v1', 1000, 0, { checksums: { CRC32: 'AAAAAA==' } }),
    ver('v1', 1000, 0, { legalHold: false }),
    ver('v1', 1000, 0, { legalHold: true }),
    ver('v1', 1000, 0, { lockRetention: undefined }),
    ver('v1', 1000, 0, { lockRetention: { mode: 'GOVERNANCE', retainUntil: 5 } }),
    ver('v1', 1000, 0, { parts: [{ number: 1, size: 100, etag: 'x', modTime: 1000 }] }),
    ver('v1', 1000, 0, { parts: [] }),
    { ...base, erasure: { ...base.erasure, distribution: [1, 2, 3, 4] } },
    { ...base, erasure: { ...base.erasure, index: 2 } },
    { ...base, erasure: { ...base.erasure, bitrot: undefined as unknown as 'highwayhash256S' } },
  ];
  const marker: DeleteMarkerVersion = { type: 'deleteMarker', versionId: 'v1', modTime: 1000 };
  const all = [...variants, marker, { ...marker, modTime: 2000 }];
  for (const [i, a] of all.entries()) {
    for (const [j, b] of all.entries()) {
      assert.equal(sameContent(a, b), contentKey(a) === contentKey(b), `${i} vs ${j}`);
    }
  }
});
