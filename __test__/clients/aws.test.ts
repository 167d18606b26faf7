/**
 * The `aws` CLI against a real server (path style, SigV4, a custom endpoint): `aws s3 sync` of a
 * tree of 1,000 files up and back, a 200 MiB multipart upload, download and server-side copy,
 * presigned downloads, listings with prefixes and delimiters, and a few `aws s3api` calls.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
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

const BUCKET = 'aws-cli';
const BIG = 200 * MiB;

clientSuite('aws CLI', 'aws', 'pip install awscli, or apt-get install awscli', (test, version) => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let tree: string;
  let expected: Map<string, string>;
  let bigFile: string;
  let bigHash: string;

  const aws = (args: string[], timeoutMs = 180_000): Promise<RunResult> =>
    mustRun('aws', ['--endpoint-url', srv.endpoint, ...args], { env, timeoutMs });

  /** All keys under `prefix`, through the SDK (not the client under test). */
  async function keys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await srv.s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) out.push(o.Key!);
      token = r.NextContinuationToken;
    } while (token);
    return out;
  }

  test.before(async () => {
    console.log(`\n  aws CLI: ${version}`);
    srv = await startServer();
    work = await tempDir('cairn-aws-');
    const home = path.join(work, 'home');
    await mkdir(home);
    const config = path.join(work, 'aws-config');
    const credentials = path.join(work, 'aws-credentials');
    // Path style and SigV4 everywhere: `aws s3 presign` signs with SigV2 unless told otherwise.
    await writeFile(
      config,
      `[default]\nregion = ${srv.region}\noutput = json\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n`,
    );
    await writeFile(
      credentials,
      `[default]\naws_access_key_id = ${srv.accessKey}\naws_secret_access_key = ${srv.secretKey}\n`,
    );
    env = clientEnv(home, {
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    });
    tree = path.join(work, 'tree');
    // 1,000 small files; 9 MiB is over the CLI's 8 MiB multipart threshold, so sync uses both paths.
    expected = await makeTree(tree, 1000, [MiB + 1, 5 * MiB, 9 * MiB]);
    bigFile = path.join(work, 'big.bin');
    bigHash = await writeRandomFile(bigFile, BIG);
  });

  test.after(async () => {
    await srv?.stop();
    await removeAll(work);
  });

  test('aws s3 mb makes a bucket; aws s3 ls lists it', async () => {
    await aws(['s3', 'mb', `s3://${BUCKET}`]);
    const r = await aws(['s3', 'ls']);
    assert.match(r.stdout, new RegExp(`\\s${BUCKET}\\n`));
  });

  test('aws s3 sync: a tree of 1,000 files up and back is identical by SHA-256', async () => {
    await aws(['s3', 'sync', tree, `s3://${BUCKET}/tree`, '--only-show-errors']);
    assert.is((await keys('tree/')).length, expected.size);
    const back = path.join(work, 'back');
    await aws(['s3', 'sync', `s3://${BUCKET}/tree`, back, '--only-show-errors']);
    const got = await hashTree(back);
    assert.equal([...got.keys()], [...expected.keys()]);
    for (const [rel, h] of expected) assert.is(got.get(rel), h, rel);
  });

  test('aws s3 sync again transfers nothing; --delete removes what was deleted locally', async () => {
    const again = await aws(['s3', 'sync', tree, `s3://${BUCKET}/tree`]);
    assert.not.match(again.stdout, /upload:/, again.stdout);
    const gone = [...expected.keys()].filter((k) => k.startsWith('top3/')).slice(0, 5);
    assert.is(gone.length, 5);
    for (const rel of gone) await rm(path.join(tree, rel));
    const del = await aws(['s3', 'sync', tree, `s3://${BUCKET}/tree`, '--delete']);
    assert.is(del.stdout.match(/delete:/g)?.length, 5, del.stdout);
    const left = new Set(await keys('tree/'));
    assert.is(left.size, expected.size - 5);
    for (const rel of gone) assert.not.ok(left.has(`tree/${rel}`), rel);
  });

  test('aws s3 cp of 200 MiB: a multipart upload, the download has the same SHA-256', async () => {
    await aws(['s3', 'cp', bigFile, `s3://${BUCKET}/big/200MiB.bin`, '--only-show-errors']);
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/200MiB.bin' }));
    assert.is(head.ContentLength, BIG);
    // The CLI's default part size is 8 MiB: 25 parts.
    assert.match(head.ETag ?? '', /-25"$/);
    const down = path.join(work, 'big.down');
    await aws(['s3', 'cp', `s3://${BUCKET}/big/200MiB.bin`, down, '--only-show-errors']);
    assert.is(await sha256File(down), bigHash);
    await rm(down);
  });

  test('aws s3 cp between keys of 200 MiB copies on the server (UploadPartCopy)', async () => {
    await aws([
      's3',
      'cp',
      `s3://${BUCKET}/big/200MiB.bin`,
      `s3://${BUCKET}/big/copy.bin`,
      '--only-show-errors',
    ]);
    const head = await srv.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big/copy.bin' }));
    assert.is(head.ContentLength, BIG);
    assert.match(head.ETag ?? '', /-\d+"$/);
    const down = path.join(work, 'copy.down');
    await aws(['s3', 'cp', `s3://${BUCKET}/big/copy.bin`, down, '--only-show-errors']);
    assert.is(await sha256File(down), bigHash);
    await rm(down);
  });

  test('aws s3api get-object --range returns those bytes of the multipart object', async () => {
    const out = path.join(work, 'range.out');
    const first = 8 * MiB - 10;
    const last = 8 * MiB + 9; // across the boundary between parts 1 and 2
    const r = await aws([
      's3api',
      'get-object',
      '--bucket',
      BUCKET,
      '--key',
      'big/200MiB.bin',
      '--range',
      `bytes=${first}-${last}`,
      out,
    ]);
    const meta = JSON.parse(r.stdout) as { ContentLength: number; ContentRange: string };
    assert.is(meta.ContentLength, 20);
    assert.is(meta.ContentRange, `bytes ${first}-${last}/${BIG}`);
    const whole = await readFile(bigFile);
    assert.ok((await readFile(out)).equals(whole.subarray(first, last + 1)));
  });

  test('aws s3 presign: a plain GET of the URL downloads the object; a changed signature is 403', async () => {
    for (const rel of [
      'large/nested dir/large-1.bin',
      'odd names/emoji 🚀 rocket.bin',
      '日本語のファイル.txt',
    ]) {
      const r = await aws(['s3', 'presign', `s3://${BUCKET}/tree/${rel}`, '--expires-in', '300']);
      const url = r.stdout.trim();
      assert.match(url, /X-Amz-Algorithm=AWS4-HMAC-SHA256/);
      const res = await fetch(url);
      assert.is(res.status, 200, rel);
      const body = Buffer.from(await res.arrayBuffer());
      assert.is(createHash('sha256').update(body).digest('hex'), expected.get(rel), rel);
      const bad = url.replace(
        /X-Amz-Signature=([0-9a-f])/,
        (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
      );
      const denied = await fetch(bad);
      assert.is(denied.status, 403);
      assert.match(await denied.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
    }
  });

  /** `aws s3 ls` output: `PRE name/` lines and `date time size name` lines. */
  function parseLs(stdout: string): { prefixes: string[]; files: { name: string; size: number }[] } {
    const prefixes: string[] = [];
    const files: { name: string; size: number }[] = [];
    for (const line of stdout.split('\n')) {
      if (line.trim() === '') continue;
      const pre = /^\s+PRE (.*)$/.exec(line);
      if (pre) {
        prefixes.push(pre[1]!);
        continue;
      }
      const f = /^\S+ \S+\s+(\d+) (.*)$/.exec(line);
      assert.ok(f, `unexpected aws s3 ls line ${JSON.stringify(line)}`);
      files.push({ name: f![2]!, size: Number(f![1]) });
    }
    return { prefixes: prefixes.sort(), files: files.sort((a, b) => (a.name < b.name ? -1 : 1)) };
  }

  test('aws s3 ls with a prefix lists one level: common prefixes and files', async () => {
    const current = await hashTree(tree);
    const wantPrefixes = new Set<string>();
    const wantFiles: string[] = [];
    for (const rel of current.keys()) {
      const slash = rel.indexOf('/');
      if (slash < 0) wantFiles.push(rel);
      else wantPrefixes.add(rel.slice(0, slash + 1));
    }
    const r = parseLs((await aws(['s3', 'ls', `s3://${BUCKET}/tree/`])).stdout);
    assert.equal(r.prefixes, [...wantPrefixes].sort());
    assert.equal(
      r.files.map((f) => f.name),
      wantFiles.sort(),
    );
    // A prefix that is not a whole "directory": the matching directories only.
    const partial = parseLs((await aws(['s3', 'ls', `s3://${BUCKET}/tree/top`])).stdout);
    assert.equal(partial.prefixes, ['top0/', 'top1/', 'top2/', 'top3/', 'top4/', 'top5/', 'top6/']);
    assert.equal(partial.files, []);
    const rec = (await aws(['s3', 'ls', `s3://${BUCKET}/tree/`, '--recursive'])).stdout.trim().split('\n');
    assert.is(rec.length, current.size);
  });

  test('aws s3api head-object and list-objects-v2 with --delimiter, paged', async () => {
    await aws([
      's3',
      'cp',
      path.join(tree, 'with space.txt'),
      `s3://${BUCKET}/meta/with space.txt`,
      '--metadata',
      'color=blue,owner=me',
      '--content-type',
      'text/x-test',
    ]);
    const head = JSON.parse(
      (await aws(['s3api', 'head-object', '--bucket', BUCKET, '--key', 'meta/with space.txt'])).stdout,
    ) as { ContentLength: number; ETag: string; ContentType: string; Metadata: Record<string, string> };
    assert.is(head.ContentLength, 100);
    assert.match(head.ETag, /^"[0-9a-f]{32}"$/);
    assert.is(head.ContentType, 'text/x-test');
    assert.equal(head.Metadata, { color: 'blue', owner: 'me' });

    const missing = await run(
      'aws',
      ['--endpoint-url', srv.endpoint, 's3api', 'head-object', '--bucket', BUCKET, '--key', 'nope'],
      { env },
    );
    assert.is.not(missing.code, 0);
    assert.match(missing.stderr, /404|Not Found/);

    // Page size 2 over 7 prefixes + files at the level: several requests, continuation tokens.
    const listed = JSON.parse(
      (
        await aws([
          's3api',
          'list-objects-v2',
          '--bucket',
          BUCKET,
          '--prefix',
          'tree/',
          '--delimiter',
          '/',
          '--page-size',
          '2',
        ])
      ).stdout,
    ) as { CommonPrefixes?: { Prefix: string }[]; Contents?: { Key: string }[] };
    const ls = parseLs((await aws(['s3', 'ls', `s3://${BUCKET}/tree/`])).stdout);
    assert.equal(
      (listed.CommonPrefixes ?? []).map((p) => p.Prefix).sort(),
      ls.prefixes.map((p) => `tree/${p}`),
    );
    assert.equal(
      (listed.Contents ?? []).map((c) => c.Key).sort(),
      ls.files.map((f) => `tree/${f.name}`),
    );

    const v1 = JSON.parse(
      (
        await aws([
          's3api',
          'list-objects',
          '--bucket',
          BUCKET,
          '--prefix',
          'tree/odd names/',
          '--delimiter',
          '/',
          '--page-size',
          '3',
        ])
      ).stdout,
    ) as { Contents?: { Key: string }[] };
    assert.is(v1.Contents?.length, 5);
  });

  test('aws s3 rm --recursive and aws s3 rb empty the bucket and remove it', async () => {
    await aws(['s3', 'rm', `s3://${BUCKET}`, '--recursive', '--only-show-errors']);
    assert.equal(await keys(''), []);
    await aws(['s3', 'rb', `s3://${BUCKET}`]);
    const r = await aws(['s3', 'ls']);
    assert.not.match(r.stdout, new RegExp(`\\s${BUCKET}\\n`));
  });
});
