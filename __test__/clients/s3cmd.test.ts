/**
 * `s3cmd` against a real server, configured by a temporary `.s3cfg` (`host_base` and `host_bucket`
 * both the server, so path style; SigV4): put/get/info/ls/del, `sync` of a tree up and back, a
 * 200 MiB multipart upload, listing with a prefix.
 */
import { mkdir, writeFile } from 'node:fs/promises';
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
  ODD_NAMES,
  type RunResult,
  removeAll,
  sha256File,
  tempDir,
  writeRandomFile,
} from './tools';

const BUCKET = 's3cmd-test';
const BIG = 200 * MiB;

clientSuite('s3cmd', 's3cmd', 'apt-get install s3cmd', (test, version) => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let cfg: string;
  let tree: string;
  let expected: Map<string, string>;

  const s3cmd = (args: string[], timeoutMs = 180_000): Promise<RunResult> =>
    mustRun('s3cmd', ['-c', cfg, '--no-progress', ...args], { env, timeoutMs });

  /** `s3cmd ls` output: `DIR s3://...` lines and `date time size s3://...` lines, names after `base`. */
  function parseLs(stdout: string, base: string): { dirs: string[]; files: string[] } {
    const dirs: string[] = [];
    const files: string[] = [];
    for (const line of stdout.split('\n')) {
      if (line.trim() === '') continue;
      const d = /^\s+DIR\s+(s3:\/\/.*)$/.exec(line);
      if (d) {
        dirs.push(d[1]!.slice(base.length));
        continue;
      }
      const f = /^\S+ \S+\s+\d+\s+(s3:\/\/.*)$/.exec(line);
      assert.ok(f, `unexpected s3cmd ls line ${JSON.stringify(line)}`);
      files.push(f![1]!.slice(base.length));
    }
    return { dirs: dirs.sort(), files: files.sort() };
  }

  test.before(async () => {
    console.log(`\n  s3cmd: ${version}`);
    srv = await startServer();
    work = await tempDir('cairn-s3cmd-');
    const home = path.join(work, 'home');
    await mkdir(home);
    cfg = path.join(work, 's3cfg');
    const host = new URL(srv.endpoint).host;
    await writeFile(
      cfg,
      [
        '[default]',
        `access_key = ${srv.accessKey}`,
        `secret_key = ${srv.secretKey}`,
        `host_base = ${host}`,
        `host_bucket = ${host}`,
        'use_https = False',
        'signature_v2 = False',
        `bucket_location = ${srv.region}`,
        'multipart_chunk_size_mb = 15',
        '',
      ].join('\n'),
    );
    env = clientEnv(home);
    tree = path.join(work, 'tree');
    expected = await makeTree(tree, 200, [16 * MiB]);
  });

  test.after(async () => {
    await srv?.stop();
    await removeAll(work);
  });

  test('s3cmd mb makes a bucket; s3cmd ls lists it', async () => {
    await s3cmd(['mb', `s3://${BUCKET}`]);
    const r = await s3cmd(['ls']);
    assert.match(r.stdout, new RegExp(`s3://${BUCKET}\\n`));
  });

  test('s3cmd put, info and get of keys with odd names', async () => {
    for (const [i, name] of ODD_NAMES.entries()) {
      const rel = i % 2 ? `odd names/${name}` : name;
      await s3cmd(['put', path.join(tree, rel), `s3://${BUCKET}/single/${name}`]);
      const info = await s3cmd(['info', `s3://${BUCKET}/single/${name}`]);
      assert.match(info.stdout, new RegExp(`File size:\\s+${100 + i}\\n`), name);
      const down = path.join(work, `get-${i}`);
      await s3cmd(['get', `s3://${BUCKET}/single/${name}`, down]);
      assert.is(await sha256File(down), expected.get(rel), name);
    }
  });

  test('s3cmd sync: a tree up and back is identical by SHA-256', async () => {
    await s3cmd(['sync', `${tree}/`, `s3://${BUCKET}/tree/`]);
    const back = path.join(work, 'back');
    await mkdir(back);
    await s3cmd(['sync', `s3://${BUCKET}/tree/`, `${back}/`]);
    const got = await hashTree(back);
    assert.equal([...got.keys()], [...expected.keys()]);
    for (const [rel, h] of expected) assert.is(got.get(rel), h, rel);
  });

  test('s3cmd ls with a prefix lists one level: DIR entries and files', async () => {
    const base = `s3://${BUCKET}/tree/`;
    const r = parseLs((await s3cmd(['ls', base])).stdout, base);
    const dirs = new Set<string>();
    const files: string[] = [];
    for (const rel of expected.keys()) {
      const slash = rel.indexOf('/');
      if (slash < 0) files.push(rel);
      else dirs.add(rel.slice(0, slash + 1));
    }
    assert.equal(r.dirs, [...dirs].sort());
    assert.equal(r.files, files.sort());
    const rec = parseLs((await s3cmd(['ls', '--recursive', base])).stdout, base);
    assert.is(rec.files.length, expected.size);
  });

  test('s3cmd put of 200 MiB: a multipart upload; get verifies and matches by SHA-256', async () => {
    const big = path.join(work, 'big.bin');
    const hash = await writeRandomFile(big, BIG);
    await s3cmd(['put', big, `s3://${BUCKET}/big/200MiB.bin`]);
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/200MiB.bin' }));
    assert.is(head.ContentLength, BIG);
    assert.match(head.ETag ?? '', /-14"$/); // 15 MiB parts
    const down = path.join(work, 'big.down');
    await s3cmd(['get', `s3://${BUCKET}/big/200MiB.bin`, down]);
    assert.is(await sha256File(down), hash);
    await removeAll(big, down);
  });

  test('s3cmd del, del --recursive and rb', async () => {
    await s3cmd(['del', `s3://${BUCKET}/single/${ODD_NAMES[0]}`]);
    const left = parseLs((await s3cmd(['ls', `s3://${BUCKET}/single/`])).stdout, `s3://${BUCKET}/single/`);
    assert.is(left.files.length, ODD_NAMES.length - 1);
    await s3cmd(['del', '--recursive', '--force', `s3://${BUCKET}`]);
    const none = await s3cmd(['ls', '--recursive', `s3://${BUCKET}`]);
    assert.is(none.stdout.trim(), '');
    await s3cmd(['rb', `s3://${BUCKET}`]);
    assert.not.match((await s3cmd(['ls'])).stdout, new RegExp(`s3://${BUCKET}\\n`));
  });
});
