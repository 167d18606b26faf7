import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { storageCodeFor, toStorageError } from '../../src/storage/osErrors';
import { SYSTEM_VOLUME, TMP_DIR } from '../../src/storage/StorageAPI';
import { collect } from './helpers';
import { type DriveFixture, storageAPISuite } from './StorageAPI.suite';

export async function localFixture(): Promise<DriveFixture & { drive: LocalDrive }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-drive-'));
  const root = path.join(base, 'drive');
  await fs.mkdir(root);
  return { drive: new LocalDrive(root), root, cleanup: () => fs.rm(base, { recursive: true, force: true }) };
}

const shared = suite('LocalDrive: StorageAPI suite');
storageAPISuite(shared, localFixture);
shared.run();

// The same suite with shard files written through the page cache (CAIRN_API_ODIRECT=off).
const buffered = suite('LocalDrive, page-cache writes: StorageAPI suite');
storageAPISuite(buffered, async () => {
  const f = await localFixture();
  return { ...f, drive: new LocalDrive(f.root, { directWrites: false }) };
});
buffered.run();

const local = suite('LocalDrive');

/** The open descriptors of this process on `file`, with their flags (octal, from fdinfo). */
async function openFlags(file: string): Promise<number[]> {
  const out: number[] = [];
  for (const fd of await fs.readdir('/proc/self/fd')) {
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target !== file) continue;
    const info = await fs.readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    const m = /^flags:\s+([0-7]+)$/m.exec(info);
    if (m) out.push(Number.parseInt(m[1]!, 8));
  }
  return out;
}

local('shard files of any size and chunking are written whole and in order, direct or not', async () => {
  const f = await localFixture();
  try {
    const sizes = [[1], [4095], [4096], [4097], [524_320, 524_320, 77], [3, 2_097_155, 4096 * 3, 1]];
    for (const direct of [true, false]) {
      const drive = new LocalDrive(f.root, { directWrites: direct });
      await drive.makeVolume(`v${direct}`);
      for (const [i, chunks] of sizes.entries()) {
        const bufs = chunks.map((n, j) => Buffer.alloc(n, (i * 31 + j * 7 + 1) & 255));
        const w = await drive.createFile(`v${direct}`, `f${i}`);
        // Some calls with one Buffer, some with several.
        if (i % 2 === 0) for (const b of bufs) await w.write(b);
        else await w.write(bufs);
        await w.close();
        const got = await drive.readAll(`v${direct}`, `f${i}`);
        assert.ok(got.equals(Buffer.concat(bufs)), `${direct} ${chunks}`);
      }
    }
  } finally {
    await f.cleanup();
  }
});

local('shard files bypass the page cache (O_DIRECT) on disk file systems, unless turned off', async () => {
  const f = await localFixture();
  try {
    // ext4, XFS, btrfs take O_DIRECT; elsewhere (old tmpfs) the writer falls back, and there is
    // nothing to check.
    const { type } = await fs.statfs(f.root);
    if (![0xef53, 0x58465342, 0x9123683e].includes(type)) return;
    // x86-64's value (arm64: 0o200000); the machines this runs on are x86-64.
    const O_DIRECT = process.arch === 'arm64' ? 0o200000 : 0o40000;
    for (const direct of [true, false]) {
      const drive = new LocalDrive(f.root, { directWrites: direct });
      await drive.makeVolume(`d${direct}`);
      const w = await drive.createFile(`d${direct}`, 'shard');
      await w.write(Buffer.alloc(1 << 20, 1));
      const flags = await openFlags(path.join(f.root, `d${direct}`, 'shard'));
      assert.equal(flags.length, 1);
      assert.equal((flags[0]! & O_DIRECT) !== 0, direct);
      await w.close();
      assert.equal((await openFlags(path.join(f.root, `d${direct}`, 'shard'))).length, 0, 'closed');
    }
  } finally {
    await f.cleanup();
  }
});

local('an aborted direct write leaves no file and no open descriptor', async () => {
  const f = await localFixture();
  try {
    const drive = new LocalDrive(f.root);
    await drive.makeVolume('v');
    const w = await drive.createFile('v', 'shard');
    await w.write(Buffer.alloc(10_000, 2));
    await w.abort();
    await assert.rejects(fs.stat(path.join(f.root, 'v', 'shard')), /ENOENT/);
    assert.equal((await openFlags(path.join(f.root, 'v', 'shard'))).length, 0);
    await assert.rejects(w.write(Buffer.alloc(1)), /write after aborted/);
  } finally {
    await f.cleanup();
  }
});

local('OS errors map to storage error codes by what the call was doing', () => {
  const table: [string | undefined, 'read' | 'write' | 'volume', string][] = [
    ['ENOENT', 'read', 'FileNotFound'],
    ['ENOENT', 'volume', 'VolumeNotFound'],
    ['ENOTDIR', 'read', 'FileNotFound'],
    ['ENOTDIR', 'write', 'IsNotRegular'],
    ['EISDIR', 'read', 'IsNotRegular'],
    ['EEXIST', 'volume', 'VolumeExists'],
    ['ENOTEMPTY', 'volume', 'VolumeNotEmpty'],
    ['ENOTEMPTY', 'write', 'VolumeNotEmpty'],
    ['EACCES', 'read', 'FileAccessDenied'],
    ['EPERM', 'write', 'FileAccessDenied'],
    ['EROFS', 'write', 'FileAccessDenied'],
    ['ENOSPC', 'write', 'DriveFull'],
    ['EDQUOT', 'write', 'DriveFull'],
    ['ENAMETOOLONG', 'read', 'FileNameTooLong'],
    ['EIO', 'read', 'FaultyDrive'],
    ['EMFILE', 'read', 'FaultyDrive'],
    [undefined, 'read', 'FaultyDrive'],
  ];
  for (const [errno, op, code] of table) assert.equal(storageCodeFor(errno, op), code, `${errno} ${op}`);
  const e = toStorageError(Object.assign(new Error('boom'), { code: 'EIO' }), 'read', 'v/p');
  assert.equal(e.code, 'FaultyDrive');
  assert.match(e.message, /EIO at v\/p/);
  assert.equal((e.cause as Error).message, 'boom');
});

local('a forced volume delete works after the temp dir was cleaned away (start-up clean-up)', async () => {
  const fx = await localFixture();
  try {
    await fx.drive.makeVolume('v');
    await fx.drive.writeAll('v', 'a/b', Buffer.from('x'));
    await fx.drive.delete(SYSTEM_VOLUME, TMP_DIR, { recursive: true });
    await fx.drive.deleteVolume('v', true);
    assert.deepEqual(await fx.drive.listVolumes(), []);
  } finally {
    await fx.cleanup();
  }
});

local('a key segment too long for the file system fails with FileNameTooLong', async () => {
  const fx = await localFixture();
  try {
    await fx.drive.makeVolume('v');
    const e = await fx.drive
      .writeAll('v', `${'x'.repeat(300)}/f`, Buffer.from('x'))
      .catch((err: unknown) => err);
    assert.equal((e as { code?: string }).code, 'FileNameTooLong');
  } finally {
    await fx.cleanup();
  }
});

local('cleanTmp removes what interrupted writes left in the temp directory', async () => {
  const fx = await localFixture();
  try {
    await fx.drive.makeVolume('v');
    await fx.drive.writeAll('v', 'f', Buffer.from('x'));
    const tmp = path.join(fx.root, SYSTEM_VOLUME, TMP_DIR);
    await fs.writeFile(path.join(tmp, 'old'), 'x');
    await fs.mkdir(path.join(tmp, 'olddir', 'sub'), { recursive: true });
    const past = new Date(Date.now() - 3_600_000);
    await fs.utimes(path.join(tmp, 'old'), past, past);
    await fs.utimes(path.join(tmp, 'olddir'), past, past);
    await fs.writeFile(path.join(tmp, 'fresh'), 'x');
    assert.equal(await fx.drive.cleanTmp(new Date(Date.now() - 60_000)), 2);
    assert.deepEqual(await fs.readdir(tmp), ['fresh']);
    assert.equal(await fx.drive.cleanTmp(), 1);
    assert.deepEqual(await fs.readdir(tmp), []);
    assert.deepEqual(await fx.drive.readAll('v', 'f'), Buffer.from('x'));
  } finally {
    await fx.cleanup();
  }
});

local('writes still work after the temp directory is removed', async () => {
  const fx = await localFixture();
  try {
    await fx.drive.makeVolume('v');
    await fx.drive.writeAll('v', 'f', Buffer.from('1'));
    await fs.rm(path.join(fx.root, SYSTEM_VOLUME), { recursive: true });
    await fx.drive.writeAll('v', 'f', Buffer.from('2'));
    assert.deepEqual(await fx.drive.readAll('v', 'f'), Buffer.from('2'));
  } finally {
    await fx.cleanup();
  }
});

local('a volume deleted with force leaves nothing behind', async () => {
  const fx = await localFixture();
  try {
    await fx.drive.makeVolume('v');
    for (let i = 0; i < 20; i++) await fx.drive.writeMetadata('v', `k${i}/x`, Buffer.from('m'));
    await fx.drive.deleteVolume('v', true);
    assert.deepEqual(await fs.readdir(path.join(fx.root, SYSTEM_VOLUME, TMP_DIR)), []);
    assert.deepEqual(await fs.readdir(fx.root), [SYSTEM_VOLUME]);
  } finally {
    await fx.cleanup();
  }
});

local('walk does not follow symbolic links out of the volume', async () => {
  const fx = await localFixture();
  try {
    await fx.drive.makeVolume('v');
    const outside = path.join(path.dirname(fx.root), 'outside');
    await fs.mkdir(path.join(outside, 'obj'), { recursive: true });
    await fs.writeFile(path.join(outside, 'obj', 'cairn.meta'), 'outside');
    await fs.symlink(outside, path.join(fx.root, 'v', 'link'));
    assert.deepEqual(await collect(fx.drive.walk('v')), []);
  } finally {
    await fx.cleanup();
  }
});

local.run();
