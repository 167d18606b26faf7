import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErasureBucketConfigs } from '../../src/erasure/bucketConfig';
import { isObjectError } from '../../src/object/errors';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { SYSTEM_VOLUME } from '../../src/storage/StorageAPI';

async function drives(n: number) {
  const base = await mkdtemp(path.join(tmpdir(), 'cairn-bc-'));
  const { mkdir } = await import('node:fs/promises');
  const list = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await mkdir(path.join(base, `d${i}`));
      return new LocalDrive(path.join(base, `d${i}`));
    }),
  );
  return { list, done: () => rm(base, { recursive: true, force: true }) };
}

test('bucket configs: put, get, replace, remove; every drive holds a copy', async () => {
  const d = await drives(4);
  try {
    const s = new ErasureBucketConfigs(d.list);
    assert.is(await s.get('b', 'cors.json'), null);
    await s.put('b', 'cors.json', Buffer.from('one'));
    assert.is((await s.get('b', 'cors.json'))?.toString(), 'one');
    for (const drive of d.list) {
      assert.is((await drive.readAll(SYSTEM_VOLUME, 'buckets/b/cors.json')).toString(), 'one');
    }
    await s.put('b', 'cors.json', Buffer.from('two'));
    assert.is((await new ErasureBucketConfigs(d.list).get('b', 'cors.json'))?.toString(), 'two');
    await s.put('b', 'cors.json', null);
    assert.is(await new ErasureBucketConfigs(d.list).get('b', 'cors.json'), null);
  } finally {
    await d.done();
  }
});

test('bucket configs: a majority outvotes a drive that missed a write or holds an old copy', async () => {
  const d = await drives(4);
  try {
    await new ErasureBucketConfigs(d.list).put('b', 'tagging.json', Buffer.from('new'));
    await d.list[0]!.writeAll(SYSTEM_VOLUME, 'buckets/b/tagging.json', Buffer.from('old'));
    await d.list[1]!.delete(SYSTEM_VOLUME, 'buckets/b/tagging.json');
    // 2 of 4 say "new": read quorum is half the drives, and it is the largest group.
    assert.is((await new ErasureBucketConfigs(d.list).get('b', 'tagging.json'))?.toString(), 'new');
  } finally {
    await d.done();
  }
});

test('bucket configs: without a majority of drives, writes fail with InsufficientWriteQuorum', async () => {
  const d = await drives(4);
  try {
    const s = new ErasureBucketConfigs([d.list[0]!, null, null, d.list[3]!]);
    try {
      await s.put('b', 'cors.json', Buffer.from('x'));
      assert.unreachable('should have failed');
    } catch (e) {
      assert.ok(isObjectError(e, 'InsufficientWriteQuorum'));
    }
    const reader = new ErasureBucketConfigs([d.list[0]!, null, null, null]);
    try {
      await reader.get('b', 'cors.json');
      assert.unreachable('should have failed');
    } catch (e) {
      assert.ok(isObjectError(e, 'InsufficientReadQuorum'));
    }
  } finally {
    await d.done();
  }
});

test('bucket configs: removeAll drops every document of the bucket, and only of it', async () => {
  const d = await drives(2);
  try {
    const s = new ErasureBucketConfigs(d.list);
    await s.put('b', 'cors.json', Buffer.from('1'));
    await s.put('b', 'tagging.json', Buffer.from('2'));
    await s.put('c', 'cors.json', Buffer.from('3'));
    await s.removeAll('b');
    const fresh = new ErasureBucketConfigs(d.list);
    assert.is(await fresh.get('b', 'cors.json'), null);
    assert.is(await fresh.get('b', 'tagging.json'), null);
    assert.is((await fresh.get('c', 'cors.json'))?.toString(), '3');
    assert.is(await s.get('b', 'cors.json'), null);
  } finally {
    await d.done();
  }
});

test('bucket configs: names that could leave the bucket directory are refused', async () => {
  const d = await drives(1);
  try {
    const s = new ErasureBucketConfigs(d.list);
    for (const [b, n] of [
      ['../x', 'cors.json'],
      ['b', '../cors.json'],
      ['b', 'a/b'],
      ['', 'cors.json'],
    ] as const) {
      let threw = false;
      try {
        await s.get(b, n);
      } catch {
        threw = true;
      }
      assert.ok(threw, `${b} ${n}`);
    }
  } finally {
    await d.done();
  }
});

test.run();
