/**
 * A GET streams batch by batch from shard files held open for the whole stream: what happens to a
 * shard while the body is being read.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import { ErasureSet } from '../../src/erasure/ErasureSet';
import { hashOrder } from '../../src/erasure/quorum';
import { FaultyDrive } from '../../src/storage/FaultyDrive';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { objectPath } from '../../src/storage/paths';
import { SYSTEM_VOLUME } from '../../src/storage/StorageAPI';

const MiB = 1 << 20;

async function openSet() {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-get-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new FaultyDrive(new LocalDrive(r)));
  await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
  const degraded: string[] = [];
  const set = new ErasureSet(drives, { parity: 2, onDegraded: (_b, key) => degraded.push(key) });
  await set.makeBucket('b');
  return { set, drives, roots, degraded, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

/** The drive (index) holding shard `s` (0-based) of `key`. */
function holderOf(key: string, s: number): number {
  return hashOrder(`b/${key}`, 4).indexOf(s + 1);
}

async function shardFile(root: string, key: string): Promise<string> {
  const dir = path.join(root, 'b', objectPath(key));
  const dataDir = (await fs.readdir(dir)).find((e) => e.startsWith('cairn.d.'));
  assert.ok(dataDir, `no data dir in ${dir}`);
  return path.join(dir, dataDir, 'part.1');
}

/** Reads the GET of `key`, calling `midway` once the first chunk is in. */
async function getWith(set: ErasureSet, key: string, midway: () => Promise<void> | void): Promise<Buffer> {
  const { stream } = await set.getObject('b', key);
  const parts: Buffer[] = [];
  let first = true;
  for await (const c of stream) {
    parts.push(c as Buffer);
    if (first) {
      first = false;
      await midway();
    }
  }
  return Buffer.concat(parts);
}

const openFds = () => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : 0);

const g = suite('ErasureSet GET streams');

const it = (name: string, body: (t: Awaited<ReturnType<typeof openSet>>) => Promise<void>) =>
  g(name, async () => {
    const t = await openSet();
    try {
      await body(t);
    } finally {
      await t.cleanup();
    }
  });

it('a data shard failing mid-stream: the exact bytes from parity, the object reported degraded', async (t) => {
  const data = randomBytes(12 * MiB + 5);
  await t.set.putObject('b', 'k', Readable.from([data]), { size: data.length });
  const got = await getWith(t.set, 'k', () => t.drives[holderOf('k', 0)]!.failNext('read', 'FaultyDrive'));
  assert.ok(got.equals(data));
  assert.deepEqual(t.degraded, ['k']);
});

it('a data shard file truncated mid-stream: the rest is read from parity', async (t) => {
  const data = randomBytes(12 * MiB + 5);
  await t.set.putObject('b', 'k', Readable.from([data]), { size: data.length });
  const file = await shardFile(t.roots[holderOf('k', 1)]!, 'k');
  const got = await getWith(t.set, 'k', () => fs.truncate(file, 1000));
  assert.ok(got.equals(data));
  assert.deepEqual(t.degraded, ['k']);
});

it('a data shard file removed mid-stream is still read through the file the GET holds', async (t) => {
  const data = randomBytes(8 * MiB + 1);
  await t.set.putObject('b', 'k', Readable.from([data]), { size: data.length });
  const file = await shardFile(t.roots[holderOf('k', 0)]!, 'k');
  const got = await getWith(t.set, 'k', () => fs.rm(file));
  assert.ok(got.equals(data));
  assert.deepEqual(t.degraded, []);
});

it('a drive going offline mid-stream: the exact bytes, not reported for healing', async (t) => {
  const data = randomBytes(8 * MiB + 1);
  await t.set.putObject('b', 'k', Readable.from([data]), { size: data.length });
  const got = await getWith(t.set, 'k', () => t.drives[holderOf('k', 1)]!.setOffline(true));
  assert.ok(got.equals(data));
  assert.deepEqual(t.degraded, []);
});

it('three shards gone mid-stream: the stream fails, never wrong bytes', async (t) => {
  const data = randomBytes(12 * MiB);
  await t.set.putObject('b', 'k', Readable.from([data]), { size: data.length });
  await assert.rejects(
    getWith(t.set, 'k', () => {
      for (const s of [0, 1, 2]) t.drives[holderOf('k', s)]!.setOffline(true);
    }),
    /shards readable|missing or rotten/,
  );
});

it('the shard files a GET holds are closed at its end, and when it is abandoned', async (t) => {
  if (process.platform !== 'linux') return;
  const data = randomBytes(6 * MiB);
  await t.set.putObject('b', 'k', Readable.from([data]), { size: data.length });
  const before = openFds();
  assert.ok((await getWith(t.set, 'k', () => {})).equals(data));
  assert.equal(openFds(), before);
  const { stream } = await t.set.getObject('b', 'k');
  for await (const _ of stream) break;
  for (let i = 0; i < 50 && openFds() !== before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(openFds(), before);
});

g.run();
