/**
 * `rclone` against a real server, configured by a temporary config file (`type = s3`,
 * `provider = Minio`, path style, the server as `endpoint`): copy a tree up and back, check it,
 * list with `ls`/`lsd`/`lsjson`, a 200 MiB multipart upload, server-side copy, delete and purge.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import * as assert from 'uvu/assert';
import { startServer, type TestServer } from '../helpers/server';
import {
  clientEnv,
  clientSuite,
  hashTree,
  MiB,
  makeTree,
  mustRun,
  type RunResult,
  removeAll,
  run,
  sha256File,
  tempDir,
  writeRandomFile,
} from './tools';

const BUCKET = 'rclone-test';
const BIG = 200 * MiB;

clientSuite('rclone', 'rclone', 'apt-get install rclone', (test, version) => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let conf: string;
  let tree: string;
  let expected: Map<string, string>;

  const rclone = (args: string[], timeoutMs = 180_000): Promise<RunResult> =>
    // --retries 1: a failure is the server's answer, not a retried one.
    mustRun('rclone', ['--config', conf, '--retries', '1', '--low-level-retries', '1', ...args], {
      env,
      timeoutMs,
    });

  test.before(async () => {
    console.log(`\n  rclone: ${version}`);
    srv = await startServer();
    work = await tempDir('cairn-rclone-');
    const home = path.join(work, 'home');
    await mkdir(home);
    conf = path.join(work, 'rclone.conf');
    // 16 MiB parts from 16 MiB up (rclone's own defaults: 5 MiB parts from 200 MiB).
    await writeFile(
      conf,
      [
        '[cairn]',
        'type = s3',
        'provider = Minio',
        'env_auth = false',
        `access_key_id = ${srv.accessKey}`,
        `secret_access_key = ${srv.secretKey}`,
        `endpoint = ${srv.endpoint}`,
        `region = ${srv.region}`,
        'force_path_style = true',
        'upload_cutoff = 16Mi',
        'chunk_size = 16Mi',
        '',
      ].join('\n'),
    );
    env = clientEnv(home);
    tree = path.join(work, 'tree');
    expected = await makeTree(tree, 300, [20 * MiB]);
  });

  test.after(async () => {
    await srv?.stop();
    await removeAll(work);
  });

  test('rclone mkdir makes a bucket; lsd lists it', async () => {
    await rclone(['mkdir', `cairn:${BUCKET}`]);
    const r = await rclone(['lsd', 'cairn:']);
    assert.match(r.stdout, new RegExp(` ${BUCKET}\\n`));
  });

  test('rclone copy up and back is identical by SHA-256; rclone check finds no difference', async () => {
    await rclone(['copy', tree, `cairn:${BUCKET}/tree`, '--transfers', '8']);
    const check = await rclone(['check', tree, `cairn:${BUCKET}/tree`]);
    assert.match(check.stderr, /0 differences found/);
    assert.match(check.stderr, new RegExp(`${expected.size} matching files`));
    const back = path.join(work, 'back');
    await rclone(['copy', `cairn:${BUCKET}/tree`, back, '--transfers', '8']);
    const got = await hashTree(back);
    assert.equal([...got.keys()], [...expected.keys()]);
    for (const [rel, h] of expected) assert.is(got.get(rel), h, rel);
  });

  test('rclone ls, lsd and lsjson list by prefix and delimiter', async () => {
    const lsd = await rclone(['lsd', `cairn:${BUCKET}/tree`]);
    const dirs = lsd.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(4).join(' '))
      .sort();
    const want = new Set<string>();
    for (const rel of expected.keys()) if (rel.includes('/')) want.add(rel.slice(0, rel.indexOf('/')));
    assert.equal(dirs, [...want].sort());

    const ls = await rclone(['ls', `cairn:${BUCKET}/tree/odd names`]);
    const files = ls.stdout
      .trim()
      .split('\n')
      .map((l) => /^\s*(\d+) (.*)$/.exec(l)![2]!)
      .sort();
    assert.equal(
      files,
      [...expected.keys()]
        .filter((k) => k.startsWith('odd names/'))
        .map((k) => k.slice('odd names/'.length))
        .sort(),
    );

    const js = JSON.parse((await rclone(['lsjson', `cairn:${BUCKET}/tree`, '--no-modtime'])).stdout) as {
      Path: string;
      IsDir: boolean;
      Size: number;
    }[];
    const top = [...expected.keys()].filter((k) => !k.includes('/'));
    assert.equal(
      js
        .filter((e) => !e.IsDir)
        .map((e) => e.Path)
        .sort(),
      top.sort(),
    );
    assert.equal(
      js
        .filter((e) => e.IsDir)
        .map((e) => e.Path)
        .sort(),
      [...want].sort(),
    );
  });

  test('rclone copyto of 200 MiB: a multipart upload; rclone cat and copy back match by SHA-256', async () => {
    const dir = path.join(work, 'bigdir');
    await mkdir(dir);
    const big = path.join(dir, '200MiB.bin');
    const hash = await writeRandomFile(big, BIG);
    await rclone(['copyto', big, `cairn:${BUCKET}/big/200MiB.bin`]);
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/200MiB.bin' }));
    assert.is(head.ContentLength, BIG);
    assert.match(head.ETag ?? '', /-13"$/); // 16 MiB parts
    // rclone keeps the MD5 of a multipart upload in its metadata and checks against it.
    const check = await rclone(['check', dir, `cairn:${BUCKET}/big`]);
    assert.match(check.stderr, /0 differences found/);
    assert.match(check.stderr, /1 matching files/);
    const down = path.join(work, 'big.down');
    await rclone(['copyto', `cairn:${BUCKET}/big/200MiB.bin`, down]);
    assert.is(await sha256File(down), hash);
    await removeAll(dir, down);
  });

  test('rclone copyto between keys copies on the server; cat reads it back', async () => {
    await rclone(['copyto', `cairn:${BUCKET}/tree/with space.txt`, `cairn:${BUCKET}/copies/copied é.txt`]);
    const r = await run('rclone', ['--config', conf, 'cat', `cairn:${BUCKET}/copies/copied é.txt`], { env });
    assert.is(r.code, 0, r.stderr);
    const original = await readFile(path.join(tree, 'with space.txt'));
    assert.ok(r.stdoutBytes.equals(original));
    assert.is(createHash('sha256').update(r.stdoutBytes).digest('hex'), expected.get('with space.txt'));
  });

  test('rclone delete and purge remove objects; the bucket goes with purge', async () => {
    await rclone(['delete', `cairn:${BUCKET}/tree/odd names`]);
    const ls = await rclone(['ls', `cairn:${BUCKET}/tree/odd names`]);
    assert.is(ls.stdout.trim(), '');
    await rclone(['purge', `cairn:${BUCKET}`]);
    const r = await rclone(['lsd', 'cairn:']);
    assert.not.match(r.stdout, new RegExp(` ${BUCKET}\\n`));
  });
});
