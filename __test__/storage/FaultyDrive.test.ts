import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { suite } from 'uvu';
import { StorageError } from '../../src/storage/errors';
import { FaultyDrive } from '../../src/storage/FaultyDrive';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { collect, rejects } from './helpers';
import { type DriveFixture, storageAPISuite } from './StorageAPI.suite';

async function faultyFixture(): Promise<DriveFixture & { drive: FaultyDrive }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-faulty-'));
  const root = path.join(base, 'drive');
  await fs.mkdir(root);
  return {
    drive: new FaultyDrive(new LocalDrive(root)),
    root,
    cleanup: () => fs.rm(base, { recursive: true, force: true }),
  };
}

async function readStream(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const shared = suite('FaultyDrive without faults: StorageAPI suite');
storageAPISuite(shared, faultyFixture);
shared.run();

const faults = suite('FaultyDrive');

const it = (name: string, body: (drive: FaultyDrive) => Promise<void>) =>
  faults(name, async () => {
    const fx = await faultyFixture();
    try {
      await fx.drive.makeVolume('v');
      await body(fx.drive);
    } finally {
      await fx.cleanup();
    }
  });

it('an offline drive fails every call with DriveOffline, and works again when back', async (d) => {
  await d.writeAll('v', 'f', Buffer.from('x'));
  d.setOffline(true);
  await rejects(d.diskInfo(), 'DriveOffline');
  await rejects(d.readAll('v', 'f'), 'DriveOffline');
  await rejects(d.writeAll('v', 'f', Buffer.from('y')), 'DriveOffline');
  await rejects(d.listVolumes(), 'DriveOffline');
  await rejects(d.makeVolume('w'), 'DriveOffline');
  await rejects(d.createFile('v', 'g'), 'DriveOffline');
  await rejects(d.readFile('v', 'f', 0, 1), 'DriveOffline');
  await rejects(d.readFileStream('v', 'f', 0), 'DriveOffline');
  await rejects(d.renameData('v', 'a', 'cairn.d.1', Buffer.alloc(0), 'v', 'b'), 'DriveOffline');
  await rejects(d.delete('v', 'f'), 'DriveOffline');
  await rejects(collect(d.walk('v')), 'DriveOffline');
  d.setOffline(false);
  assert.deepEqual(await d.readAll('v', 'f'), Buffer.from('x'));
});

it('going offline fails what is already open: writers, streams and walks', async (d) => {
  await d.writeMetadata('v', 'a', Buffer.from('m'));
  await d.writeMetadata('v', 'b', Buffer.from('m'));
  await d.writeAll('v', 'big', Buffer.alloc(2 << 20));
  const w = await d.createFile('v', 'part');
  await w.write(Buffer.from('1'));
  const stream = await d.readFileStream('v', 'big', 0);
  const walk = d.walk('v')[Symbol.asyncIterator]();
  assert.equal((await walk.next()).value?.name, 'a');

  d.setOffline(true);
  await rejects(w.write(Buffer.from('2')), 'DriveOffline');
  await rejects(w.close(), 'DriveOffline');
  await w.abort(); // never throws, even offline
  await rejects(readStream(stream), 'DriveOffline');
  await rejects(walk.next(), 'DriveOffline');
});

it('failNext fails the next calls of one method only, then passes through', async (d) => {
  await d.writeAll('v', 'f', Buffer.from('x'));
  d.failNext('readAll', 'FaultyDrive', 2);
  await rejects(d.readAll('v', 'f'), 'FaultyDrive');
  assert.deepEqual(await d.statFile('v', 'f'), await d.inner.statFile('v', 'f'));
  await rejects(d.readAll('v', 'f'), 'FaultyDrive');
  assert.deepEqual(await d.readAll('v', 'f'), Buffer.from('x'));

  const custom = new StorageError('FileCorrupt', 'planted');
  d.failNext('readMetadata', custom);
  d.failNext('readMetadata', 'FileNotFound');
  assert.equal(await d.readMetadata('v', 'k').catch((e: unknown) => e), custom);
  await rejects(d.readMetadata('v', 'k'), 'FileNotFound');
});

it('failNext on walk fails the walk before its first entry', async (d) => {
  await d.writeMetadata('v', 'a', Buffer.from('m'));
  d.failNext('walk', 'DriveFull');
  await rejects(collect(d.walk('v')), 'DriveFull');
  assert.equal((await collect(d.walk('v'))).length, 1);
});

it('failNext on write fails FileWriter.write, and nothing is written', async (d) => {
  const w = await d.createFile('v', 'part');
  await w.write(Buffer.from('ab'));
  d.failNext('write', 'FaultyDrive');
  await rejects(w.write(Buffer.from('cd')), 'FaultyDrive');
  await w.write([Buffer.from('e')]);
  await w.close();
  assert.deepEqual(await d.readAll('v', 'part'), Buffer.from('abe'));
});

it('a failed call does not reach the drive', async (d) => {
  d.failNext('writeAll', 'DriveFull');
  await rejects(d.writeAll('v', 'f', Buffer.from('x')), 'DriveFull');
  await rejects(d.readAll('v', 'f'), 'FileNotFound');
});

it('delay makes every call wait, and 0 turns it off', async (d) => {
  d.delay(60);
  let t = performance.now();
  await d.listVolumes();
  assert.ok(performance.now() - t >= 50);
  d.delay(0);
  t = performance.now();
  await d.listVolumes();
  assert.ok(performance.now() - t < 50);
});

it('corruptReads flips a byte of what readFile and readFileStream return', async (d) => {
  const data = Buffer.alloc(1000, 0x11);
  await d.writeAll('v', 'shard', data);
  d.corruptReads(true);
  const got = await d.readFile('v', 'shard', 0, 1000);
  assert.notDeepEqual(got, data);
  assert.equal(
    got.reduce((n, b, i) => n + (b !== data[i] ? 1 : 0), 0),
    1,
  );
  const streamed = await readStream(await d.readFileStream('v', 'shard', 0));
  assert.equal(streamed.length, 1000);
  assert.notDeepEqual(streamed, data);
  assert.deepEqual(await d.readAll('v', 'shard'), data); // the file itself is intact
  d.corruptReads(false);
  assert.deepEqual(await d.readFile('v', 'shard', 0, 1000), data);
});

it('faults reach a file held by openFile: offline, failNext read, corruptReads', async (d) => {
  const data = Buffer.alloc(1000, 0x11);
  await d.writeAll('v', 'shard', data);
  const f = await d.openFile('v', 'shard');
  try {
    d.failNext('read', 'FaultyDrive');
    await rejects(f.read(0, 10), 'FaultyDrive');
    assert.deepEqual(await f.read(0, 10), data.subarray(0, 10));
    d.corruptReads(true);
    const got = await f.read(0, 1000);
    assert.equal(
      got.reduce((n, b, i) => n + (b !== data[i] ? 1 : 0), 0),
      1,
    );
    d.corruptReads(false);
    d.setOffline(true);
    await rejects(f.read(0, 10), 'DriveOffline');
    await rejects(d.openFile('v', 'shard'), 'DriveOffline');
    await f.close(); // never throws, even offline
    d.setOffline(false);
    d.failNext('openFile', 'FileNotFound');
    await rejects(d.openFile('v', 'shard'), 'FileNotFound');
  } finally {
    d.reset();
    await f.close();
  }
});

it('failWritesAfter fails FileWriter.write with DriveFull once the budget is spent', async (d) => {
  d.failWritesAfter(10);
  const w = await d.createFile('v', 'part');
  await w.write(Buffer.alloc(6));
  await w.write([Buffer.alloc(2), Buffer.alloc(2)]);
  await rejects(w.write(Buffer.alloc(1)), 'DriveFull');
  await w.abort();
  const w2 = await d.createFile('v', 'part2');
  await rejects(w2.write(Buffer.alloc(1)), 'DriveFull');
  await w2.abort();
  d.failWritesAfter(undefined);
  const w3 = await d.createFile('v', 'part3');
  await w3.write(Buffer.alloc(100));
  await w3.close();
  assert.equal((await d.statFile('v', 'part3')).size, 100);
});

it('reset turns every fault off', async (d) => {
  d.setOffline(true);
  d.corruptReads(true);
  d.failNext('listVolumes', 'FaultyDrive');
  d.failWritesAfter(0);
  d.delay(1000);
  d.reset();
  assert.deepEqual(
    (await d.listVolumes()).map((v) => v.name),
    ['v'],
  );
  const w = await d.createFile('v', 'f');
  await w.write(Buffer.from('ok'));
  await w.close();
  assert.deepEqual(await d.readFile('v', 'f', 0, 2), Buffer.from('ok'));
});

faults.run();
