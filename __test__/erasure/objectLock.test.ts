import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import { Multipart } from '../../src/erasure/multipart';
import {
  defaultRetainUntil,
  deletionBlocker,
  type LockReason,
  type LockState,
  type Retention,
  retentionActive,
  retentionChangeBlocker,
} from '../../src/erasure/objectLock';
import { isObjectError } from '../../src/object/errors';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { SYSTEM_VOLUME, TMP_DIR } from '../../src/storage/StorageAPI';

const NOW = Date.parse('2030-06-01T00:00:00.000Z');
const at = (ms: number): Date => new Date(NOW + ms);
const gov = (ms: number): Retention => ({ mode: 'GOVERNANCE', retainUntil: at(ms) });
const comp = (ms: number): Retention => ({ mode: 'COMPLIANCE', retainUntil: at(ms) });

// --- the rules, as tables --------------------------------------------------------------------------

test('a retention protects until its date, not at or after it', () => {
  assert.equal(retentionActive(undefined, NOW), false);
  assert.equal(retentionActive(gov(1), NOW), true);
  assert.equal(retentionActive(gov(0), NOW), false);
  assert.equal(retentionActive(comp(-1000), NOW), false);
});

test('deletionBlocker: legal hold always, COMPLIANCE always, GOVERNANCE unless bypassed, expired never', () => {
  const table: [name: string, v: LockState, bypass: boolean, want: LockReason | null][] = [
    ['nothing', {}, false, null],
    ['legal hold off', { legalHold: false }, false, null],
    ['legal hold on', { legalHold: true }, false, 'legalHold'],
    ['legal hold on, bypass', { legalHold: true }, true, 'legalHold'],
    [
      'legal hold on, expired governance, bypass',
      { legalHold: true, lockRetention: gov(-1) },
      true,
      'legalHold',
    ],
    ['governance', { lockRetention: gov(60_000) }, false, 'governance'],
    ['governance, bypass', { lockRetention: gov(60_000) }, true, null],
    ['governance and legal hold, bypass', { lockRetention: gov(60_000), legalHold: true }, true, 'legalHold'],
    ['expired governance', { lockRetention: gov(-1) }, false, null],
    ['compliance', { lockRetention: comp(60_000) }, false, 'compliance'],
    ['compliance, bypass', { lockRetention: comp(60_000) }, true, 'compliance'],
    ['expired compliance', { lockRetention: comp(-1) }, false, null],
    ['compliance ending now', { lockRetention: comp(0) }, false, null],
  ];
  for (const [name, v, bypass, want] of table) {
    assert.equal(deletionBlocker(v, { bypassGovernance: bypass }, NOW), want, name);
  }
});

test('retentionChangeBlocker: keep or extend in the same mode; COMPLIANCE never otherwise; GOVERNANCE with bypass', () => {
  const table: [
    name: string,
    cur: Retention | undefined,
    next: Retention | null,
    bypass: boolean,
    want: LockReason | null,
  ][] = [
    ['set on a version without one', undefined, comp(1000), false, null],
    ['remove none', undefined, null, false, null],
    ['governance extended', gov(1000), gov(2000), false, null],
    ['governance kept', gov(1000), gov(1000), false, null],
    ['governance shortened', gov(2000), gov(1000), false, 'governance'],
    ['governance shortened, bypass', gov(2000), gov(1000), true, null],
    ['governance removed', gov(1000), null, false, 'governance'],
    ['governance removed, bypass', gov(1000), null, true, null],
    ['governance to compliance', gov(1000), comp(2000), false, 'governance'],
    ['governance to compliance, bypass', gov(1000), comp(1000), true, null],
    ['compliance extended', comp(1000), comp(5000), false, null],
    ['compliance kept', comp(1000), comp(1000), false, null],
    ['compliance shortened', comp(2000), comp(1000), false, 'compliance'],
    ['compliance shortened, bypass', comp(2000), comp(1000), true, 'compliance'],
    ['compliance to governance, later', comp(1000), gov(9000), true, 'compliance'],
    ['compliance removed, bypass', comp(1000), null, true, 'compliance'],
    ['expired compliance replaced', comp(-1), gov(1000), false, null],
    ['expired compliance removed', comp(-1), null, false, null],
    ['expired governance shortened', gov(-10), gov(-20), false, null],
  ];
  for (const [name, cur, next, bypass, want] of table) {
    assert.equal(retentionChangeBlocker(cur, next, { bypassGovernance: bypass }, NOW), want, name);
  }
});

test('defaultRetainUntil: days are 24 hours, years the same UTC date years on', () => {
  const from = new Date('2024-02-29T12:00:00.000Z');
  assert.equal(defaultRetainUntil({ days: 1 }, from).toISOString(), '2024-03-01T12:00:00.000Z');
  assert.equal(defaultRetainUntil({ days: 365 }, from).toISOString(), '2025-02-28T12:00:00.000Z');
  assert.equal(defaultRetainUntil({ years: 4 }, from).toISOString(), '2028-02-29T12:00:00.000Z');
});

// --- enforced in the engine ------------------------------------------------------------------------

async function openSet() {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-lock-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new LocalDrive(r));
  await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
  const set = new ErasureSet(drives, { parity: 2 });
  await set.makeBucket('b');
  return { set, roots, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

const body = (s: string | Buffer) => Readable.from([Buffer.from(s)]);
const future = (ms: number) => new Date(Date.now() + ms);

async function readAll(set: ErasureSet, key: string, versionId?: string): Promise<string> {
  const { stream } = await set.getObject('b', key, versionId ? { versionId } : {});
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

async function rejectsLocked(p: Promise<unknown>, reason: LockReason): Promise<void> {
  await assert.rejects(p, (e) => isObjectError(e, 'ObjectLocked') && e.detail.reason === reason);
}

test('the engine stores a version retention and legal hold, and returns them', async () => {
  const { set, cleanup } = await openSet();
  try {
    const until = future(3_600_000);
    const info = await set.putObject('b', 'k', body('x'), {
      size: 1,
      versioned: true,
      lockRetention: { mode: 'COMPLIANCE', retainUntil: until },
      legalHold: false,
    });
    assert.deepEqual(info.lockRetention, { mode: 'COMPLIANCE', retainUntil: until });
    assert.equal(info.legalHold, false);
    const read = await set.getObjectInfo('b', 'k', { versionId: info.versionId });
    assert.deepEqual(read.lockRetention, { mode: 'COMPLIANCE', retainUntil: until });
    assert.equal(read.legalHold, false);
    const plain = await set.putObject('b', 'p', body('y'), { size: 1, versioned: true });
    assert.equal(plain.lockRetention, undefined);
    assert.equal(plain.legalHold, undefined);
  } finally {
    await cleanup();
  }
});

test('deleteObject refuses a locked version by id, keeps it whole, and allows a delete marker', async () => {
  const { set, cleanup } = await openSet();
  try {
    const c = await set.putObject('b', 'c', body('compliance'), {
      size: 10,
      versioned: true,
      lockRetention: { mode: 'COMPLIANCE', retainUntil: future(3_600_000) },
    });
    const g = await set.putObject('b', 'g', body('governance'), {
      size: 10,
      versioned: true,
      lockRetention: { mode: 'GOVERNANCE', retainUntil: future(3_600_000) },
    });
    const h = await set.putObject('b', 'h', body('held'), { size: 4, versioned: true, legalHold: true });

    await rejectsLocked(set.deleteObject('b', 'c', { versionId: c.versionId }), 'compliance');
    await rejectsLocked(
      set.deleteObject('b', 'c', { versionId: c.versionId, bypassGovernance: true }),
      'compliance',
    );
    await rejectsLocked(set.deleteObject('b', 'g', { versionId: g.versionId }), 'governance');
    await rejectsLocked(
      set.deleteObject('b', 'h', { versionId: h.versionId, bypassGovernance: true }),
      'legalHold',
    );
    assert.equal(await readAll(set, 'c', c.versionId), 'compliance');
    assert.equal(await readAll(set, 'h', h.versionId), 'held');

    // A delete marker removes nothing: allowed.
    const marker = await set.deleteObject('b', 'c', { versioned: true });
    assert.equal(marker.deleteMarker, true);
    assert.equal(await readAll(set, 'c', c.versionId), 'compliance');

    // GOVERNANCE gives way to the bypass.
    await set.deleteObject('b', 'g', { versionId: g.versionId, bypassGovernance: true });
    await assert.rejects(set.getObjectInfo('b', 'g', { versionId: g.versionId }), (e) =>
      isObjectError(e, 'VersionNotFound', 'ObjectNotFound'),
    );
  } finally {
    await cleanup();
  }
});

test('deleteObject allows a version once its retention has passed', async () => {
  const { set, cleanup } = await openSet();
  try {
    const v = await set.putObject('b', 'k', body('soon'), {
      size: 4,
      versioned: true,
      lockRetention: { mode: 'COMPLIANCE', retainUntil: future(1_200) },
    });
    await rejectsLocked(set.deleteObject('b', 'k', { versionId: v.versionId }), 'compliance');
    await new Promise((r) => setTimeout(r, 1_400));
    await set.deleteObject('b', 'k', { versionId: v.versionId });
  } finally {
    await cleanup();
  }
});

test('a locked null version is neither replaced by a PUT nor deleted without a version id', async () => {
  const { set, roots, cleanup } = await openSet();
  try {
    await set.putObject('b', 'n', body('small'), { size: 5, legalHold: true });
    const big = Buffer.alloc(300 * 1024, 7); // past the inline limit: data moves from tmp at commit
    await set.putObject('b', 'm', body(big), {
      size: big.length,
      lockRetention: { mode: 'GOVERNANCE', retainUntil: future(3_600_000) },
    });

    await rejectsLocked(set.putObject('b', 'n', body('other'), { size: 5 }), 'legalHold');
    await rejectsLocked(set.putObject('b', 'm', body('other'), { size: 5 }), 'governance');
    await rejectsLocked(
      set.putObject('b', 'm', body(Buffer.alloc(200 * 1024, 1)), { size: 200 * 1024 }),
      'governance',
    );
    await rejectsLocked(set.deleteObject('b', 'n'), 'legalHold');
    // Versioning suspended: the null delete marker would replace the null version.
    await rejectsLocked(set.deleteObject('b', 'n', { suspended: true }), 'legalHold');
    assert.equal(await readAll(set, 'n'), 'small');
    assert.ok((await readAll(set, 'm')).length === big.length);
    // The refused writes left nothing in the drives' temporary space.
    for (const r of roots)
      assert.deepEqual(await fs.readdir(path.join(r, SYSTEM_VOLUME, TMP_DIR)).catch(() => []), []);

    // Once released, the null version is replaced as usual.
    await set.updateObjectMetadata('b', 'n', { legalHold: false });
    await set.putObject('b', 'n', body('other'), { size: 5 });
    assert.equal(await readAll(set, 'n'), 'other');
  } finally {
    await cleanup();
  }
});

test('updateObjectMetadata sets, extends and removes a retention; its precondition refuses under the lock', async () => {
  const { set, cleanup } = await openSet();
  try {
    const v = await set.putObject('b', 'k', body('x'), { size: 1, versioned: true });
    const t1 = future(60_000);
    const t2 = future(120_000);
    let seen: unknown;
    const u1 = await set.updateObjectMetadata(
      'b',
      'k',
      { lockRetention: { mode: 'GOVERNANCE', retainUntil: t1 }, legalHold: true },
      {
        versionId: v.versionId,
        precondition: (cur) => {
          seen = cur.lockRetention;
        },
      },
    );
    assert.equal(seen, undefined);
    assert.deepEqual(u1.lockRetention, { mode: 'GOVERNANCE', retainUntil: t1 });
    assert.equal(u1.legalHold, true);

    // The precondition sees the stored state and what it throws refuses the update.
    await assert.rejects(
      set.updateObjectMetadata(
        'b',
        'k',
        { lockRetention: null },
        {
          versionId: v.versionId,
          precondition: (cur) => {
            assert.deepEqual(cur.lockRetention, { mode: 'GOVERNANCE', retainUntil: t1 });
            throw new Error('refused');
          },
        },
      ),
      /refused/,
    );
    assert.deepEqual((await set.getObjectInfo('b', 'k')).lockRetention, {
      mode: 'GOVERNANCE',
      retainUntil: t1,
    });

    await set.updateObjectMetadata('b', 'k', { lockRetention: { mode: 'COMPLIANCE', retainUntil: t2 } });
    assert.deepEqual((await set.getObjectInfo('b', 'k')).lockRetention, {
      mode: 'COMPLIANCE',
      retainUntil: t2,
    });
    // Other metadata updates (tags) keep the lock.
    await set.updateObjectMetadata('b', 'k', { tags: 'a=1' });
    const info = await set.getObjectInfo('b', 'k');
    assert.deepEqual(info.lockRetention, { mode: 'COMPLIANCE', retainUntil: t2 });
    assert.equal(info.legalHold, true);
    assert.equal(info.tags, 'a=1');

    await set.updateObjectMetadata('b', 'k', { lockRetention: null, legalHold: false });
    const cleared = await set.getObjectInfo('b', 'k');
    assert.equal(cleared.lockRetention, undefined);
    assert.equal(cleared.legalHold, false);
  } finally {
    await cleanup();
  }
});

test('racing retention changes: the precondition runs under the lock, so the latest date wins', async () => {
  const { set, cleanup } = await openSet();
  try {
    const v = await set.putObject('b', 'k', body('x'), { size: 1, versioned: true });
    const dates = Array.from({ length: 12 }, (_, i) => future(60_000 + ((i * 7) % 12) * 1000));
    const results = await Promise.allSettled(
      dates.map((d) =>
        set.updateObjectMetadata(
          'b',
          'k',
          { lockRetention: { mode: 'COMPLIANCE', retainUntil: d } },
          {
            versionId: v.versionId,
            precondition: (cur) => {
              const b = retentionChangeBlocker(
                cur.lockRetention,
                { mode: 'COMPLIANCE', retainUntil: d },
                {},
                Date.now(),
              );
              if (b) throw new Error(b);
            },
          },
        ),
      ),
    );
    assert.ok(results.some((r) => r.status === 'fulfilled'));
    const latest = Math.max(...dates.map((d) => d.getTime()));
    const info = await set.getObjectInfo('b', 'k');
    assert.equal(info.lockRetention?.retainUntil.getTime(), latest);
  } finally {
    await cleanup();
  }
});

test('a multipart upload keeps its lock until completion, else takes the default retention given then', async () => {
  const { set, cleanup } = await openSet();
  try {
    const mp = new Multipart(set, { minPartSize: 1 });
    const until = future(3_600_000);
    const id = await mp.newMultipartUpload('b', 'k', {
      versioned: true,
      lockRetention: { mode: 'COMPLIANCE', retainUntil: until },
      legalHold: true,
    });
    const p = await mp.putObjectPart('b', 'k', id, 1, body('part'), { size: 4 });
    const fallback = { mode: 'GOVERNANCE' as const, retainUntil: future(60_000) };
    const info = await mp.completeMultipartUpload('b', 'k', id, [{ number: 1, etag: p.etag }], {
      versioned: true,
      defaultRetention: fallback,
    });
    assert.deepEqual(info.lockRetention, { mode: 'COMPLIANCE', retainUntil: until });
    assert.equal(info.legalHold, true);
    await rejectsLocked(set.deleteObject('b', 'k', { versionId: info.versionId }), 'legalHold');

    const id2 = await mp.newMultipartUpload('b', 'd', { versioned: true });
    const p2 = await mp.putObjectPart('b', 'd', id2, 1, body('part'), { size: 4 });
    const info2 = await mp.completeMultipartUpload('b', 'd', id2, [{ number: 1, etag: p2.etag }], {
      versioned: true,
      defaultRetention: fallback,
    });
    assert.deepEqual(info2.lockRetention, fallback);
    assert.equal(info2.legalHold, undefined);
  } finally {
    await cleanup();
  }
});

test.run();
