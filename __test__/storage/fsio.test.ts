/**
 * The native small-file calls (`fsio` in src/native.ts) and how `LocalDrive` maps their failures:
 * the errors carry Node's fs shape (`code`, `syscall`, `path`) plus the step that failed, and each
 * step maps to the `StorageError` the JS implementation gave.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import { type FsioError, fsio } from '../../src/native';
import { LocalDrive } from '../../src/storage/LocalDrive';
import { META_FILE } from '../../src/storage/paths';
import { SYSTEM_VOLUME, TMP_DIR } from '../../src/storage/StorageAPI';
import { rejects } from './helpers';

const test = suite('fsio');

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-fsio-'));
  try {
    await body(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function failure(p: Promise<unknown>): Promise<FsioError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof Error, String(e));
    return e as FsioError;
  }
  return assert.fail('expected a failure');
}

test('readFile reads a whole file or its head; a missing one fails ENOENT at open', async () => {
  await withDir(async (dir) => {
    const f = path.join(dir, 'f');
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i & 0xff));
    await fs.writeFile(f, data);
    assert.deepEqual(await fsio.readFile(f), data);
    assert.deepEqual(await fsio.readFile(f, 100), data.subarray(0, 100));
    assert.deepEqual(await fsio.readFile(f, 1e9), data);
    assert.deepEqual(fsio.readFileSync(f, 3), data.subarray(0, 3));
    const e = await failure(fsio.readFile(path.join(dir, 'nope')));
    assert.equal(e.code, 'ENOENT');
    assert.equal(e.syscall, 'open');
    assert.equal(e.stage, 'read');
    assert.equal(e.path, path.join(dir, 'nope'));
    assert.match(e.message, /^ENOENT: .*, open '/);
    assert.throws(() => fsio.readFileSync(path.join(dir, 'nope')), { code: 'ENOENT' });
    // A missing file in a volume that is there says so; nothing is said when the volume is missing.
    const inVolume = await failure(fsio.readFile(path.join(dir, 'a', 'b'), undefined, dir));
    assert.deepEqual([inVolume.code, inVolume.volumeExists], ['ENOENT', true]);
    const below = await failure(fsio.readFile(path.join(f, 'below'), 10, dir));
    assert.deepEqual([below.code, below.volumeExists], ['ENOTDIR', true]);
    const noVolume = await failure(fsio.readFile(path.join(dir, 'v', 'a'), undefined, path.join(dir, 'v')));
    assert.deepEqual([noVolume.code, noVolume.volumeExists], ['ENOENT', undefined]);
    const fileVolume = await failure(fsio.readFile(path.join(f, 'x'), undefined, f));
    assert.deepEqual([fileVolume.code, fileVolume.volumeExists], ['ENOTDIR', undefined]);
    assert.equal((await failure(fsio.readFile(dir))).code, 'EISDIR');
    assert.equal((await failure(fsio.readFile(path.join(f, 'below')))).code, 'ENOTDIR');
  });
});

test('readFileCached serves a cached file or its head on this thread, and nothing else', async () => {
  await withDir(async (dir) => {
    const file = path.join(dir, 'meta');
    const data = Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 13) & 255));
    await fs.writeFile(file, data);
    // Just written, so cached (on Linux 5.12+: openat2 RESOLVE_CACHED, preadv2 RWF_NOWAIT).
    const [major, minor] = os.release().split('.').map(Number) as [number, number];
    if (process.platform === 'linux' && (major > 5 || (major === 5 && minor >= 12))) {
      assert.deepEqual(fsio.readFileCached(file), data);
      assert.deepEqual(fsio.readFileCached(file, 100), data.subarray(0, 100));
      assert.deepEqual(fsio.readFileCached(file, 1 << 30), data);
      assert.equal(fsio.readFileCached(file, 0)?.length, 0);
    }
    // Errors are left to readFile, which names them.
    assert.equal(fsio.readFileCached(path.join(dir, 'missing')) ?? undefined, undefined);
    assert.equal(fsio.readFileCached(dir) ?? undefined, undefined);
    assert.equal(fsio.readFileCached(path.join(file, 'below')) ?? undefined, undefined);
  });
});

test('writeFileAtomic names the step that failed: tmp or commit', async () => {
  await withDir(async (dir) => {
    const tmpDir = path.join(dir, 'sys', 'tmp');
    await fs.mkdir(path.join(dir, 'vol'));
    const opts = { tmpDir, baseDir: path.join(dir, 'vol') };
    await fsio.writeFileAtomic(path.join(dir, 'vol', 'a', 'b'), Buffer.from('x'), opts);
    assert.equal(await fs.readFile(path.join(dir, 'vol', 'a', 'b'), 'utf8'), 'x');
    // The volume is never made.
    const missing = { tmpDir, baseDir: path.join(dir, 'nope') };
    const e = await failure(
      fsio.writeFileAtomic(path.join(dir, 'nope', 'a', 'b'), Buffer.from('x'), missing),
    );
    assert.deepEqual([e.code, e.stage], ['ENOENT', 'commit']);
    await assert.rejects(fs.stat(path.join(dir, 'nope')), { code: 'ENOENT' });
    assert.deepEqual(await fs.readdir(tmpDir), []);
    // A file where the temp dir should be.
    await fs.rm(path.join(dir, 'sys'), { recursive: true });
    await fs.writeFile(path.join(dir, 'sys'), 'in the way');
    const t = await failure(fsio.writeFileAtomic(path.join(dir, 'vol', 'c'), Buffer.from('x'), opts));
    assert.deepEqual([t.code, t.stage], ['ENOTDIR', 'tmp']);
    // Names that are not one plain name are refused before anything runs.
    for (const bad of ['../x', 'a/b', '', '/abs'])
      assert.throws(
        () => fsio.renameData(Buffer.from('m'), { ...opts, src: dir, dir, dataDir: bad, metaFile: 'm' }),
        /not a plain name/,
      );
  });
});

const drive = suite('LocalDrive over fsio: error mapping');

async function withDrive(body: (d: LocalDrive, root: string) => Promise<void>): Promise<void> {
  await withDir(async (dir) => {
    const root = path.join(dir, 'drive');
    await fs.mkdir(root);
    const d = new LocalDrive(root);
    await d.makeVolume('v');
    await body(d, root);
  });
}

drive('missing file, missing volume, missing drive', async () => {
  await withDrive(async (d, root) => {
    await rejects(d.readMetadata('v', 'k'), 'FileNotFound');
    await rejects(d.readMetadata('v', 'k', { head: 10 }), 'FileNotFound');
    await rejects(d.readAll('v', 'a/b'), 'FileNotFound');
    await rejects(d.readMetadata('nope', 'k'), 'VolumeNotFound');
    await rejects(d.writeMetadata('nope', 'k', Buffer.from('m')), 'VolumeNotFound');
    await d.writeAll('v', 'tmp/cairn.d.1/part.1', Buffer.from('x'));
    await rejects(
      d.renameData('v', 'tmp/cairn.d.1', 'cairn.d.1', Buffer.from('m'), 'nope', 'k'),
      'VolumeNotFound',
    );
    assert.deepEqual(await d.readAll('v', 'tmp/cairn.d.1/part.1'), Buffer.from('x'));
    await fs.rm(root, { recursive: true });
    await rejects(d.readMetadata('v', 'k'), 'DriveNotFound');
    await rejects(d.writeMetadata('v', 'k', Buffer.from('m')), 'DriveNotFound');
    await rejects(d.writeAll('v', 'f', Buffer.from('m')), 'DriveNotFound');
    await assert.rejects(fs.stat(root), { code: 'ENOENT' }); // never remade
  });
});

drive('a file where a directory is expected, and a directory where a file is', async () => {
  await withDrive(async (d, root) => {
    await d.writeAll('v', 'file', Buffer.from('x'));
    await rejects(d.readMetadata('v', 'file'), 'FileNotFound');
    await rejects(d.readMetadata('v', 'file', { head: 1 }), 'FileNotFound');
    await rejects(d.writeMetadata('v', 'file', Buffer.from('m')), 'IsNotRegular');
    await rejects(d.writeMetadata('v', 'file/below', Buffer.from('m')), 'IsNotRegular');
    await fs.mkdir(path.join(root, 'v', 'obj', META_FILE), { recursive: true });
    await rejects(d.readMetadata('v', 'obj', { head: 8 }), 'IsNotRegular');
    await rejects(d.readAll('v', 'obj'), 'IsNotRegular');
    // renameData: a file in place of the object's directory (move), a directory in place of the
    // metadata file (commit): IsNotRegular, and the data dir stays (or is put back) where it was.
    await d.writeAll('v', 'tmp/cairn.d.1/part.1', Buffer.from('data'));
    const e = await rejects(
      d.renameData('v', 'tmp/cairn.d.1', 'cairn.d.1', Buffer.from('m'), 'v', 'file'),
      'IsNotRegular',
    );
    assert.match(e.message, /ENOTDIR at v\/file\/cairn\.d\.1 on /);
    const c = await rejects(
      d.renameData('v', 'tmp/cairn.d.1', 'cairn.d.1', Buffer.from('m'), 'v', 'obj'),
      'IsNotRegular',
    );
    assert.match(c.message, new RegExp(`EISDIR at v/obj/${META_FILE} on `));
    assert.deepEqual(await d.readAll('v', 'tmp/cairn.d.1/part.1'), Buffer.from('data'));
    assert.deepEqual(await d.listDir('v', 'obj'), [`${META_FILE}/`]);
  });
});

drive('a temp directory that cannot be made fails about the system volume', async () => {
  await withDrive(async (d, root) => {
    await d.writeAll('v', 'f', Buffer.from('1'));
    await fs.rm(path.join(root, SYSTEM_VOLUME, TMP_DIR), { recursive: true });
    await fs.writeFile(path.join(root, SYSTEM_VOLUME, TMP_DIR), 'in the way');
    const e = await rejects(d.writeMetadata('v', 'k', Buffer.from('m')), 'IsNotRegular');
    assert.match(e.message, new RegExp(`at ${SYSTEM_VOLUME}/${TMP_DIR} on `));
    await fs.mkdir(path.join(root, 'v', 'tmp', 'cairn.d.1'), { recursive: true });
    await fs.writeFile(path.join(root, 'v', 'tmp', 'cairn.d.1', 'part.1'), 'data');
    await rejects(
      d.renameData('v', 'tmp/cairn.d.1', 'cairn.d.1', Buffer.from('m'), 'v', 'a/b'),
      'IsNotRegular',
    );
    // Not committed: the data dir went back and the object directories made for it are gone.
    assert.deepEqual(await d.readAll('v', 'tmp/cairn.d.1/part.1'), Buffer.from('data'));
    assert.deepEqual(await d.listDir('v', ''), ['f', 'tmp/']);
  });
});

test.run();
drive.run();
