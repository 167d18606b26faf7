import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import { StorageError } from '../../src/storage/errors';
import {
  FORMAT_FILE,
  type FormatRecord,
  formatForPosition,
  newFormats,
  parseFormat,
  readFormat,
  serializeFormat,
  validateFormats,
  writeFormat,
} from '../../src/storage/format';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { SYSTEM_VOLUME } from '../../src/storage/StorageAPI';
import { rejects } from './helpers';

const f = suite('format');

const four = () => newFormats({ setCount: 2, setSize: 2, parity: 1, now: new Date('2024-06-01T00:00:00Z') });
const unformatted = () => new StorageError('UnformattedDrive');

f('newFormats gives one record per drive, sharing deployment and layout', () => {
  const recs = four();
  assert.equal(recs.length, 4);
  assert.equal(new Set(recs.map((r) => r.deploymentId)).size, 1);
  assert.deepEqual(
    recs.map((r) => r.driveId),
    recs[0]!.sets.flat(),
  );
  assert.equal(recs[0]!.sets.length, 2);
  for (const r of recs) assert.deepEqual(parseFormat(serializeFormat(r)), r);
  assert.throws(() => newFormats({ setCount: 1, setSize: 4, parity: 3 }), RangeError);
});

f('parseFormat refuses garbage and broken records with CorruptedFormat', async () => {
  const good = four()[1]!;
  const bad: (string | Record<string, unknown>)[] = [
    'not json',
    '',
    '[]',
    'null',
    { ...good, version: 2 },
    { ...good, version: '1' },
    { ...good, format: 'xl' },
    { ...good, deploymentId: '' },
    { ...good, driveId: 42 },
    { ...good, driveId: 'not-in-sets' },
    { ...good, sets: [] },
    { ...good, sets: [[good.driveId], ['a', 'b']] },
    { ...good, sets: [[good.driveId, good.driveId]] },
    { ...good, parity: 2 },
    { ...good, parity: -1 },
    { ...good, parity: 0.5 },
    { ...good, createdAt: 'yesterday' },
  ];
  for (const b of bad) {
    const text = typeof b === 'string' ? b : JSON.stringify(b);
    await rejects(async () => parseFormat(text), 'CorruptedFormat');
  }
});

f('a version 1 record parses, extra fields ignored', () => {
  const r = four()[0]!;
  const parsed = parseFormat(JSON.stringify({ ...r, futureField: true }));
  assert.deepEqual(parsed, r);
});

f(
  'readFormat of a drive without one is UnformattedDrive; writeFormat then readFormat round-trips',
  async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-format-'));
    try {
      const drive = new LocalDrive(base);
      await rejects(readFormat(drive), 'UnformattedDrive');
      const rec = four()[2]!;
      await writeFormat(drive, rec);
      assert.deepEqual(await readFormat(drive), rec);
      assert.equal((await drive.diskInfo()).id, rec.driveId);
      await writeFormat(drive, { ...rec, createdAt: '2025-01-01T00:00:00.000Z' }); // over an existing one
      assert.equal((await readFormat(drive)).createdAt, '2025-01-01T00:00:00.000Z');
      await fs.writeFile(path.join(base, SYSTEM_VOLUME, FORMAT_FILE), '{"version":1,');
      await rejects(readFormat(drive), 'CorruptedFormat');
      assert.equal((await drive.diskInfo()).id, '');
      await rejects(writeFormat(drive, { ...rec, parity: 9 }), 'CorruptedFormat');
    } finally {
      await fs.rm(base, { recursive: true, force: true });
    }
  },
);

f('validateFormats: all drives agree', () => {
  const recs = four();
  const v = validateFormats(recs, 4);
  assert.deepEqual(v.ok, [0, 1, 2, 3]);
  assert.equal(v.agreeing, 4);
  assert.equal(v.ambiguous, false);
  assert.deepEqual(v.reference, recs[0]);
  assert.deepEqual(v.messages, []);
});

f('validateFormats: a new deployment has no reference and every drive unformatted', () => {
  const v = validateFormats([unformatted(), unformatted(), unformatted()], 3);
  assert.equal(v.reference, undefined);
  assert.deepEqual(v.unformatted, [
    { position: 0, driveId: undefined },
    { position: 1, driveId: undefined },
    { position: 2, driveId: undefined },
  ]);
  assert.deepEqual(v.ok, []);
});

f('validateFormats: a fresh replacement drive is unformatted, with the id it should get', () => {
  const recs: (FormatRecord | StorageError)[] = four();
  const expectedId = (recs[2] as FormatRecord).driveId;
  recs[2] = unformatted();
  const v = validateFormats(recs, 4);
  assert.deepEqual(v.ok, [0, 1, 3]);
  assert.deepEqual(v.unformatted, [{ position: 2, driveId: expectedId }]);
  const fresh = formatForPosition(v.reference!, 2, new Date('2025-01-01T00:00:00Z'));
  assert.equal(fresh.driveId, expectedId);
  assert.equal(fresh.deploymentId, v.reference!.deploymentId);
  assert.equal(fresh.createdAt, '2025-01-01T00:00:00.000Z');
  recs[2] = fresh;
  assert.deepEqual(validateFormats(recs, 4).ok, [0, 1, 2, 3]);
});

f('validateFormats: a drive of another deployment is foreign, with a clear message', () => {
  const recs: (FormatRecord | StorageError)[] = four();
  const other = newFormats({ setCount: 2, setSize: 2, parity: 1 })[1]!;
  recs[1] = other;
  const v = validateFormats(recs, 4);
  assert.deepEqual(v.ok, [0, 2, 3]);
  assert.equal(v.foreign.length, 1);
  assert.equal(v.foreign[0]!.position, 1);
  assert.equal(v.foreign[0]!.deploymentId, other.deploymentId);
  assert.match(v.foreign[0]!.message, /another deployment/);
  assert.match(v.messages.join('\n'), new RegExp(other.deploymentId));
});

f('validateFormats: swapped drives are misplaced, each told where it belongs', () => {
  const recs = four();
  const v = validateFormats([recs[0]!, recs[3]!, recs[2]!, recs[1]!], 4);
  assert.deepEqual(v.ok, [0, 2]);
  assert.deepEqual(
    v.misplaced.map((m) => [m.position, m.belongsAt, m.driveId, m.expectedDriveId]),
    [
      [1, 3, recs[3]!.driveId, recs[1]!.driveId],
      [3, 1, recs[1]!.driveId, recs[3]!.driveId],
    ],
  );
  assert.match(v.misplaced[0]!.message, /belongs at position 3 \(set 1\)/);
});

f('validateFormats: a cloned drive (an id seen twice) is misplaced where it does not belong', () => {
  const recs = four();
  const v = validateFormats([recs[0]!, recs[0]!, recs[2]!, recs[3]!], 4);
  assert.deepEqual(v.ok, [0, 2, 3]);
  assert.deepEqual(
    v.misplaced.map((m) => m.position),
    [1],
  );
});

f('validateFormats: corrupted and unreadable drives are reported apart', () => {
  const recs: (FormatRecord | StorageError)[] = four();
  recs[0] = new StorageError('CorruptedFormat', 'not JSON');
  recs[3] = new StorageError('DriveOffline');
  const v = validateFormats(recs, 4);
  assert.deepEqual(v.ok, [1, 2]);
  assert.deepEqual(
    v.corrupted.map((c) => c.position),
    [0],
  );
  assert.deepEqual(
    v.unavailable.map((c) => [c.position, c.error.code]),
    [[3, 'DriveOffline']],
  );
  assert.equal(v.messages.length, 2);
});

f('validateFormats: the majority layout is the reference, the others are inconsistent', () => {
  const recs = four();
  const stale: FormatRecord = { ...recs[3]!, parity: 0 }; // same deployment, another layout
  const v = validateFormats([recs[0]!, recs[1]!, recs[2]!, stale], 4);
  assert.equal(v.reference?.parity, 1);
  assert.equal(v.agreeing, 3);
  assert.deepEqual(v.ok, [0, 1, 2]);
  assert.deepEqual(
    v.inconsistent.map((i) => i.position),
    [3],
  );
});

f('validateFormats: a tie between layouts is flagged ambiguous', () => {
  const a = newFormats({ setCount: 1, setSize: 2, parity: 1 });
  const b = newFormats({ setCount: 1, setSize: 2, parity: 1 });
  const v = validateFormats([a[0]!, b[1]!], 2);
  assert.equal(v.ambiguous, true);
  assert.equal(v.reference?.deploymentId, a[0]!.deploymentId);
  assert.equal(v.foreign.length, 1);
  assert.equal(v.ok.length, 1);
});

f('validateFormats: drives formatted for another drive count are inconsistent, never the reference', () => {
  const eight = newFormats({ setCount: 2, setSize: 4, parity: 2 });
  const v = validateFormats(eight.slice(0, 4), 4);
  assert.equal(v.reference, undefined);
  assert.equal(v.inconsistent.length, 4);
  assert.match(v.inconsistent[0]!.message, /formatted for 8 drives, 4 are configured/);
  assert.throws(() => validateFormats(eight, 4), RangeError);
});

f.run();
