import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import { ErasureSets } from '../../src/erasure/ErasureSets';
import { isObjectError } from '../../src/object/errors';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { objectPath } from '../../src/storage/paths';
import { SYSTEM_VOLUME } from '../../src/storage/StorageAPI';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function tempDrives(n: number): Promise<{ roots: string[]; cleanup: () => Promise<void> }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-set-'));
  const roots = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const r = path.join(base, `d${i + 1}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  return { roots, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

async function openSet(n: number, parity: number) {
  const { roots, cleanup } = await tempDrives(n);
  const drives = roots.map((r) => new LocalDrive(r));
  // What formatting does: every drive gets its system volume.
  await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
  const set = new ErasureSet(drives, { parity });
  await set.makeBucket('b');
  return { set, roots, cleanup };
}

async function readAll(
  set: ErasureSet,
  key: string,
  range?: { start: number; end: number },
): Promise<Buffer> {
  const { stream } = await set.getObject('b', key, range ? { range } : {});
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const put = (set: ErasureSet, key: string, data: Buffer, opts = {}) =>
  set.putObject('b', key, Readable.from([data]), { size: data.length, ...opts });

/** The drive position holding shard `s` (0-based) of an object, from its metadata on disk. */
async function shardFile(root: string, key: string): Promise<string | null> {
  const dir = path.join(root, 'b', objectPath(key));
  const entries = await fs.readdir(dir).catch(() => []);
  const dataDir = entries.find((e) => e.startsWith('cairn.d.'));
  return dataDir ? path.join(dir, dataDir, 'part.1') : null;
}

// Damage a drive the ways real drives fail.
type Damage = 'removed' | 'unreadable' | 'file' | 'emptied' | 'bitrot';
async function damage(root: string, how: Damage, key: string): Promise<void> {
  switch (how) {
    case 'removed':
      await fs.rm(root, { recursive: true, force: true });
      return;
    case 'unreadable':
      await fs.chmod(root, 0o000);
      return;
    case 'file':
      await fs.rm(root, { recursive: true, force: true });
      await fs.writeFile(root, 'not a drive');
      return;
    case 'emptied':
      for (const e of await fs.readdir(root))
        await fs.rm(path.join(root, e), { recursive: true, force: true });
      return;
    case 'bitrot': {
      const f = await shardFile(root, key);
      if (!f) return;
      const h = await fs.open(f, 'r+');
      const { size } = await h.stat();
      for (const at of [0, 40, Math.floor(size / 2), size - 1]) {
        const b = Buffer.alloc(1);
        await h.read(b, 0, 1, at);
        b[0]! ^= 0x5a;
        await h.write(b, 0, 1, at);
      }
      await h.close();
    }
  }
}

async function restore(root: string): Promise<void> {
  await fs.chmod(root, 0o755).catch(() => {});
}

function combinations(n: number, r: number): number[][] {
  const out: number[][] = [];
  const go = (start: number, cur: number[]) => {
    if (cur.length === r) return void out.push([...cur]);
    for (let i = start; i < n; i++) go(i + 1, [...cur, i]);
  };
  go(0, []);
  return out;
}

// --- round trips --------------------------------------------------------------------------------

const rt = suite('ErasureSet round trips');

for (const [n, parity] of [
  [1, 0],
  [4, 2],
  [8, 4],
  [8, 2],
] as const) {
  rt(`objects of every size round-trip byte for byte on ${n} drives (parity ${parity})`, async () => {
    const { set, cleanup } = await openSet(n, parity);
    try {
      for (const size of [
        0,
        1,
        128 * 1024 - 1,
        128 * 1024,
        128 * 1024 + 1,
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 1,
        10 * (1 << 20) + 7,
      ]) {
        const data = randomBytes(size);
        const info = await put(set, `obj-${size}`, data);
        assert.equal(info.size, size);
        assert.equal(info.etag, md5(data), `etag of ${size}`);
        assert.equal(sha(await readAll(set, `obj-${size}`)), sha(data), `bytes of ${size}`);
        const stat = await set.getObjectInfo('b', `obj-${size}`);
        assert.equal(stat.size, size);
        assert.equal(stat.etag, md5(data));
      }
    } finally {
      await cleanup();
    }
  });
}

rt('BLAKE3 bitrot: objects round-trip and a flipped byte is caught and rebuilt', async () => {
  const { roots, cleanup } = await tempDrives(4);
  try {
    const drives = roots.map((r) => new LocalDrive(r));
    await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
    const set = new ErasureSet(drives, { parity: 2, bitrot: 'blake3S' });
    await set.makeBucket('b');
    const data = randomBytes(3 * (1 << 20) + 5);
    await put(set, 'k', data);
    assert.equal((await set.pick('b', 'k')).version.type, 'object');
    const v = (await set.pick('b', 'k')).version;
    assert.equal(v.type === 'object' && v.erasure.bitrot, 'blake3S');
    await damage(roots[0]!, 'bitrot', 'k');
    assert.ok((await readAll(set, 'k')).equals(data));
  } finally {
    await cleanup();
  }
});

rt('ranged reads return exactly the bytes asked for and touch only their blocks', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    const data = randomBytes(3 * (1 << 20) + 12345);
    await put(set, 'r', data);
    for (const [s, e] of [
      [0, 0],
      [0, 99],
      [1 << 20, (1 << 20) + 5],
      [(1 << 20) - 3, (1 << 20) + 3],
      [data.length - 10, data.length - 1],
      [5, data.length + 1000],
      [2 * (1 << 20) + 1, 3 * (1 << 20) + 100],
    ] as const) {
      const got = await readAll(set, 'r', { start: s, end: e });
      assert.ok(got.equals(data.subarray(s, Math.min(e, data.length - 1) + 1)), `${s}-${e}`);
    }
    await assert.rejects(
      set.getObject('b', 'r', { range: { start: data.length, end: data.length + 5 } }),
      (e) => isObjectError(e, 'InvalidRange'),
    );
  } finally {
    await cleanup();
  }
});

rt('metadata and content headers are stored as given', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    const data = randomBytes(200_000);
    await put(set, 'm', data, {
      contentType: 'image/png',
      cacheControl: 'max-age=60',
      userMetadata: { color: 'Blue', 'x-odd': 'ünïcödé' },
      tags: 'a=1&b=2',
    });
    const info = await set.getObjectInfo('b', 'm');
    assert.equal(info.contentType, 'image/png');
    assert.equal(info.cacheControl, 'max-age=60');
    assert.deepEqual(info.userMetadata, { color: 'Blue', 'x-odd': 'ünïcödé' });
    assert.equal(info.tags, 'a=1&b=2');
    const upd = await set.updateObjectMetadata('b', 'm', { tags: 'c=3' });
    assert.equal(upd.tags, 'c=3');
    assert.equal((await set.getObjectInfo('b', 'm')).tags, 'c=3');
    assert.ok((await readAll(set, 'm')).equals(data));
  } finally {
    await cleanup();
  }
});

rt('a wrong Content-MD5 or a short body stores nothing and leaves the old object', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    const old = randomBytes(2_000_000);
    await put(set, 'k', old);
    const next = randomBytes(2_000_000);
    await assert.rejects(put(set, 'k', next, { expectedMd5: md5(old) }), (e) =>
      isObjectError(e, 'BadDigest'),
    );
    await assert.rejects(
      set.putObject('b', 'k', Readable.from([next.subarray(0, 1000)]), { size: next.length }),
      (e) => isObjectError(e, 'IncompleteBody'),
    );
    await assert.rejects(set.putObject('b', 'k', Readable.from([next, next]), { size: next.length }), (e) =>
      isObjectError(e, 'IncompleteBody'),
    );
    assert.ok((await readAll(set, 'k')).equals(old));
    // No temporary files were left behind.
    for (const r of roots) {
      const tmp = await fs.readdir(path.join(r, '.cairn.sys', 'tmp')).catch(() => []);
      assert.deepEqual(tmp, [], r);
    }
  } finally {
    await cleanup();
  }
});

rt('overwrite replaces the object and gives back the old data space', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    await put(set, 'o', randomBytes(3_000_000));
    const next = randomBytes(1_500_000);
    await put(set, 'o', next);
    assert.ok((await readAll(set, 'o')).equals(next));
    for (const r of roots) {
      const entries = await fs.readdir(path.join(r, 'b', 'o'));
      assert.equal(entries.filter((e) => e.startsWith('cairn.d.')).length, 1, r);
    }
    await set.deleteObject('b', 'o');
    await assert.rejects(set.getObjectInfo('b', 'o'), (e) => isObjectError(e, 'ObjectNotFound'));
    for (const r of roots) assert.deepEqual(await fs.readdir(path.join(r, 'b')), [], `${r} emptied`);
  } finally {
    await cleanup();
  }
});

rt('deleting a key keeps the keys below it (a and a/b)', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    await put(set, 'a', Buffer.from('top'));
    await put(set, 'a/b', Buffer.from('below'));
    await put(set, 'a/c/d', randomBytes(300_000));
    await set.deleteObject('b', 'a');
    await assert.rejects(set.getObjectInfo('b', 'a'), (e) => isObjectError(e, 'ObjectNotFound'));
    assert.equal((await readAll(set, 'a/b')).toString(), 'below');
    assert.equal((await set.getObjectInfo('b', 'a/c/d')).size, 300_000);
  } finally {
    await cleanup();
  }
});

rt('missing buckets and keys give the right errors', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    await assert.rejects(set.getObjectInfo('b', 'nope'), (e) => isObjectError(e, 'ObjectNotFound'));
    await assert.rejects(set.getObjectInfo('nob', 'x'), (e) => isObjectError(e, 'BucketNotFound'));
    await assert.rejects(
      put(set, 'x', Buffer.alloc(1)).then(() =>
        set.putObject('nob', 'x', Readable.from([Buffer.alloc(1)]), { size: 1 }),
      ),
      (e) => isObjectError(e, 'BucketNotFound'),
    );
    await assert.rejects(set.makeBucket('b'), (e) => isObjectError(e, 'BucketExists'));
    await assert.rejects(set.deleteBucket('b'), (e) => isObjectError(e, 'BucketNotEmpty'));
    await assert.rejects(set.deleteBucket('nob'), (e) => isObjectError(e, 'BucketNotFound'));
  } finally {
    await cleanup();
  }
});

rt('keys with .., //, leading / and reserved names stay inside the bucket', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    const sentinel = path.join(path.dirname(roots[0]!), 'sentinel');
    await fs.writeFile(sentinel, 'keep');
    const keys = [
      '../../sentinel',
      'a//b',
      '/lead',
      'x/../..',
      '.',
      '..',
      'cairn.meta',
      'dir/cairn.meta',
      'a/',
      '%41',
    ];
    for (const [i, key] of keys.entries()) {
      const data = Buffer.from(`value ${i}`);
      await put(set, key, data);
      assert.ok((await readAll(set, key)).equals(data), key);
    }
    for (const [i, key] of keys.entries())
      assert.ok((await readAll(set, key)).equals(Buffer.from(`value ${i}`)), key);
    assert.equal(await fs.readFile(sentinel, 'utf8'), 'keep');
    for (const r of roots) assert.deepEqual((await fs.readdir(r)).sort(), ['.cairn.sys', 'b'], r);
  } finally {
    await cleanup();
  }
});

rt.run();

// --- drive failures -------------------------------------------------------------------------------

const faults = suite('ErasureSet drive failures');

for (const [n, parity] of [
  [4, 2],
  [8, 4],
  [8, 2],
] as const) {
  faults(
    `${n} drives, parity ${parity}: every way of losing up to ${parity} drives still reads the exact bytes`,
    async () => {
      const sizes = [100_000, 2 * (1 << 20) + 3];
      const patterns: number[][] = [];
      for (let r = 1; r <= parity; r++) patterns.push(...combinations(n, r));
      // Keep the run short on 8 drives: every pattern of the maximum size, a sample of the rest.
      const chosen = n === 8 ? patterns.filter((p, i) => p.length === parity || i % 5 === 0) : patterns;
      const kinds: Damage[] = ['removed', 'unreadable', 'file', 'emptied', 'bitrot'];
      let c = 0;
      for (const lost of chosen) {
        const how = kinds[c++ % kinds.length]!;
        if (how === 'unreadable' && process.getuid?.() === 0) continue; // root reads through chmod 000
        const { set, roots, cleanup } = await openSet(n, parity);
        try {
          const data = sizes.map((s) => randomBytes(s));
          for (const [i, d] of data.entries()) await put(set, `k${i}`, d);
          for (const i of lost)
            for (const [j] of data.entries()) await damage(roots[i]!, how, `k${j}`).catch(() => {});
          for (const [i, d] of data.entries()) {
            const got = await readAll(set, `k${i}`);
            assert.ok(got.equals(d), `lost ${lost} (${how}), object ${i}`);
          }
        } finally {
          for (const r of roots) await restore(r);
          await cleanup();
        }
      }
    },
  );

  faults(
    `${n} drives, parity ${parity}: losing ${parity + 1} drives is a clear error, never wrong bytes`,
    async () => {
      const { set, roots, cleanup } = await openSet(n, parity);
      try {
        const data = randomBytes(3 * (1 << 20));
        await put(set, 'k', data);
        for (let i = 0; i <= parity; i++) await damage(roots[i]!, i % 2 ? 'bitrot' : 'emptied', 'k');
        await assert.rejects(readAll(set, 'k'), (e) =>
          isObjectError(e, 'InsufficientReadQuorum', 'ObjectNotFound'),
        );
      } finally {
        await cleanup();
      }
    },
  );
}

faults(
  'a data shard rotten on a local drive: the GET rebuilds the exact bytes and reports the object degraded',
  async () => {
    const { set, roots, cleanup } = await openSet(4, 2);
    try {
      const data = randomBytes(3 * (1 << 20) + 5);
      await put(set, 'k', data);
      const degraded: string[] = [];
      set.onDegraded = (_b, key) => degraded.push(key);
      assert.ok((await readAll(set, 'k')).equals(data));
      assert.deepEqual(degraded, [], 'a clean read reports nothing');
      // The drives holding the data shards (read straight into the output when clean).
      const metas = await set.readMetas('b', 'k');
      const dataHolders = metas.flatMap((m, i) => {
        const v = m instanceof Error ? undefined : m.versions[0];
        return v?.type === 'object' && v.erasure.index <= v.erasure.dataBlocks ? [i] : [];
      });
      assert.equal(dataHolders.length, 2);
      for (const i of dataHolders) await damage(roots[i]!, 'bitrot', 'k');
      assert.ok((await readAll(set, 'k')).equals(data));
      assert.ok(
        (await readAll(set, 'k', { start: 1_000_000, end: 2_100_000 })).equals(
          data.subarray(1_000_000, 2_100_001),
        ),
      );
      assert.ok(degraded.length >= 1, 'the rot was reported');
    } finally {
      await cleanup();
    }
  },
);

faults(
  'a rotten metadata file on one local drive: GET and HEAD still answer, the object is reported',
  async () => {
    const { set, roots, cleanup } = await openSet(4, 2);
    try {
      const small = randomBytes(3000); // inline
      const large = randomBytes(2 * (1 << 20) + 9);
      await put(set, 'small', small);
      await put(set, 'large', large);
      const degraded: string[] = [];
      set.onDegraded = (_b, key) => degraded.push(key);
      for (const key of ['small', 'large']) {
        const meta = path.join(roots[1]!, 'b', objectPath(key), 'cairn.meta');
        const bytes = await fs.readFile(meta);
        bytes[bytes.length - 10]! ^= 0xff;
        await fs.writeFile(meta, bytes);
      }
      assert.ok((await readAll(set, 'small')).equals(small));
      assert.ok((await readAll(set, 'large')).equals(large));
      assert.equal((await set.getObjectInfo('b', 'small')).size, 3000);
      assert.ok(degraded.includes('small') && degraded.includes('large'), degraded.join());
    } finally {
      await cleanup();
    }
  },
);

faults(
  'a write with m drives gone succeeds at quorum and reads back; below quorum it fails and leaves nothing',
  async () => {
    const { set, roots, cleanup } = await openSet(4, 1);
    try {
      await fs.rm(roots[3]!, { recursive: true, force: true });
      const data = randomBytes(1_500_000);
      await put(set, 'q', data);
      assert.ok((await readAll(set, 'q')).equals(data));
      await fs.rm(roots[2]!, { recursive: true, force: true });
      await assert.rejects(put(set, 'q2', data), (e) =>
        isObjectError(e, 'InsufficientWriteQuorum', 'BucketNotFound'),
      );
      for (const r of roots.slice(0, 2)) {
        assert.deepEqual(
          await fs.readdir(path.join(r, '.cairn.sys', 'tmp')).catch(() => []),
          [],
          'tmp cleaned',
        );
        await assert.rejects(fs.stat(path.join(r, 'b', 'q2')), 'nothing committed');
      }
    } finally {
      await cleanup();
    }
  },
);

faults.run();

// --- concurrency ----------------------------------------------------------------------------------

const conc = suite('ErasureSet concurrency');

conc('50 concurrent writers and readers on one key: every read is one whole write', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    const versions = Array.from({ length: 10 }, (_, i) => Buffer.alloc(300_000 + i * 1000, i + 1));
    const known = new Set(versions.map(sha));
    await put(set, 'hot', versions[0]!);
    const ops: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      if (i % 2 === 0) {
        ops.push(put(set, 'hot', versions[i % versions.length]!).then(() => {}));
      } else {
        ops.push(
          readAll(set, 'hot').then((b) => {
            assert.ok(known.has(sha(b)), `read ${i} saw a torn object of ${b.length} bytes`);
          }),
        );
      }
    }
    await Promise.all(ops);
    assert.ok(known.has(sha(await readAll(set, 'hot'))));
  } finally {
    await cleanup();
  }
});

conc('inline objects: GETs and HEADs raced with overwrites and deletes see whole versions only', async () => {
  const { set, cleanup } = await openSet(4, 2);
  try {
    // Small enough to live in the metadata: these reads run without the key's lock when the
    // drives agree, and under it when a commit is half done.
    const versions = Array.from({ length: 8 }, (_, i) => randomBytes(100 + i * 700));
    const known = new Map(versions.map((v) => [sha(v), v.length]));
    const etags = new Set<string>();
    for (const v of versions) etags.add((await put(set, 'hot', v)).etag);
    const ops: Promise<void>[] = [];
    let deleted = 0;
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) ops.push(put(set, 'hot', versions[i % versions.length]!).then(() => {}));
      else if (i % 47 === 0) {
        deleted++;
        ops.push(set.deleteObject('b', 'hot').then(() => {}));
      } else if (i % 3 === 1) {
        ops.push(
          readAll(set, 'hot').then(
            (b) => assert.ok(known.has(sha(b)), `GET ${i}: a torn body of ${b.length} bytes`),
            (e) => assert.ok(isObjectError(e, 'ObjectNotFound') && deleted > 0, `GET ${i}: ${e}`),
          ),
        );
      } else {
        ops.push(
          set.getObjectInfo('b', 'hot').then(
            (info) => {
              assert.ok(etags.has(info.etag), `HEAD ${i}: an ETag no write made`);
              assert.ok([...known.values()].includes(info.size), `HEAD ${i}: size ${info.size}`);
            },
            (e) => assert.ok(isObjectError(e, 'ObjectNotFound') && deleted > 0, `HEAD ${i}: ${e}`),
          ),
        );
      }
    }
    await Promise.all(ops);
  } finally {
    await cleanup();
  }
});

conc(
  'a GET or HEAD of an inline object the drives agree on does not wait for the key lock; others do',
  async () => {
    const { set, roots, cleanup } = await openSet(4, 2);
    try {
      const small = randomBytes(1000);
      await put(set, 'small', small);
      await put(set, 'large', randomBytes(2 * 1024 * 1024));
      const held = await set.nslock.lock('b/small', 'write', 1000);
      const heldLarge = await set.nslock.lock('b/large', 'write', 1000);
      try {
        assert.equal(sha(await readAll(set, 'small')), sha(small));
        assert.equal((await set.getObjectInfo('b', 'small')).size, 1000);
        // A data dir is only read under the lock: this GET waits for it.
        let done = false;
        const large = readAll(set, 'large').then(() => {
          done = true;
        });
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(done, false, 'a GET of a data dir went past the write lock');
        heldLarge();
        await large;
        // A drive that lacks the object: the drives disagree, so the read takes the lock.
        await fs.rm(path.join(roots[3]!, 'b', objectPath('small')), { recursive: true });
        let seen = false;
        const head = set.getObjectInfo('b', 'small').then(() => {
          seen = true;
        });
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(seen, false, 'a HEAD over disagreeing drives went past the write lock');
        held();
        await head;
      } finally {
        held();
        heldLarge();
      }
    } finally {
      await cleanup();
    }
  },
);

conc(
  'a GET whose body is not read keeps no writer out; it still reads the old bytes, then their space is freed',
  async () => {
    const { set, roots, cleanup } = await openSet(4, 2);
    try {
      const old = randomBytes(3 * 1024 * 1024 + 5); // outside the metadata file: a data dir per version
      const next = randomBytes(2 * 1024 * 1024 + 1);
      await put(set, 'k', old);
      const dirs = async () =>
        (await fs.readdir(path.join(roots[0]!, 'b', objectPath('k')))).filter((e) =>
          e.startsWith('cairn.d.'),
        );
      const [oldDir] = await dirs();
      const slow = await set.getObject('b', 'k');
      // The overwrite and a delete of the new version do not wait for the unread GET (the lock timeout
      // is 30 s: a held read lock would make these time out, not finish at once).
      await put(set, 'k', next);
      assert.equal(sha(await readAll(set, 'k')), sha(next));
      assert.ok((await dirs()).includes(oldDir!), 'the old data dir stays while a GET streams it');
      const chunks: Buffer[] = [];
      for await (const c of slow.stream) chunks.push(c as Buffer);
      assert.equal(sha(Buffer.concat(chunks)), sha(old));
      for (let i = 0; i < 50 && (await dirs()).includes(oldDir!); i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual((await dirs()).length, 1, 'the replaced data dir is removed once the stream ends');
      assert.ok(!(await dirs()).includes(oldDir!));
    } finally {
      await cleanup();
    }
  },
);

conc('a GET abandoned mid-stream frees what it held', async () => {
  const { set, roots, cleanup } = await openSet(4, 2);
  try {
    await put(set, 'k', randomBytes(4 * 1024 * 1024));
    const slow = await set.getObject('b', 'k');
    const it = slow.stream[Symbol.asyncIterator]();
    await it.next();
    await put(set, 'k', randomBytes(1024 * 1024 + 7));
    (slow.stream as Readable).destroy();
    const dirs = async () =>
      (await fs.readdir(path.join(roots[0]!, 'b', objectPath('k')))).filter((e) => e.startsWith('cairn.d.'));
    for (let i = 0; i < 50 && (await dirs()).length > 1; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await dirs()).length, 1);
  } finally {
    await cleanup();
  }
});

conc.run();

// --- sets -------------------------------------------------------------------------------------------

const sets = suite('ErasureSets');

sets(
  'a new deployment is formatted; later starts find drives by id even when given in another order',
  async () => {
    const { roots, cleanup } = await tempDrives(4);
    try {
      const a = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
      await a.makeBucket('b');
      const data = randomBytes(500_000);
      await a.putObject('b', 'x', Readable.from([data]), { size: data.length });
      const b = await ErasureSets.open([...roots].reverse().map((r) => new LocalDrive(r)));
      assert.equal(b.deploymentId, a.deploymentId);
      const { stream } = await b.getObject('b', 'x');
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(data));
    } finally {
      await cleanup();
    }
  },
);

sets(
  'a foreign drive is refused with a clear message; an empty replacement is formatted for its slot',
  async () => {
    const one = await tempDrives(4);
    const other = await tempDrives(4);
    try {
      const first = await ErasureSets.open(one.roots.map((r) => new LocalDrive(r)));
      await first.makeBucket('b');
      const data = randomBytes(700_000);
      await first.putObject('b', 'kept', Readable.from([data]), { size: data.length });
      await ErasureSets.open(other.roots.map((r) => new LocalDrive(r)));
      const mixed = [...one.roots.slice(0, 3), other.roots[0]!];
      await assert.rejects(ErasureSets.open(mixed.map((r) => new LocalDrive(r))), /another deployment/);
      await fs.rm(one.roots[2]!, { recursive: true });
      await fs.mkdir(one.roots[2]!);
      const s = await ErasureSets.open(one.roots.map((r) => new LocalDrive(r)));
      assert.deepEqual(s.replaced, [2]);
      // The replacement is refilled in the background: its shard of the object is back.
      await s.startupHeal;
      assert.ok(await shardFile(one.roots[2]!, 'kept'), 'the replaced drive holds its shard again');
      await s.shutdown();
    } finally {
      await one.cleanup();
      await other.cleanup();
    }
  },
);

sets('with more than 16 drives objects spread over several sets by a stable hash', async () => {
  const { roots, cleanup } = await tempDrives(32);
  try {
    const s = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
    assert.equal(s.sets.length, 2);
    await s.makeBucket('b');
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const key = `key-${i}`;
      seen.add(s.sets.indexOf(s.setFor(key)));
      await s.putObject('b', key, Readable.from([Buffer.from(key)]), { size: key.length });
    }
    assert.equal(seen.size, 2, 'both sets used');
    const again = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
    for (let i = 0; i < 20; i++)
      assert.equal((await again.getObjectInfo('b', `key-${i}`)).size, `key-${i}`.length);
  } finally {
    await cleanup();
  }
});

sets('the background task removes multipart uploads left unfinished past the cutoff', async () => {
  const { roots, cleanup } = await tempDrives(4);
  try {
    const s = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
    await s.makeBucket('b');
    const id = await s.newMultipartUpload('b', 'k', {});
    assert.equal((await s.listMultipartUploads('b')).uploads.length, 1);
    s.startBackground({ staleUploadMs: 0, cleanupEveryMs: 50 });
    const deadline = Date.now() + 5000;
    while ((await s.listMultipartUploads('b')).uploads.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual((await s.listMultipartUploads('b')).uploads, [], `upload ${id} still there`);
    await s.shutdown();
  } finally {
    await cleanup();
  }
});

sets.run();
