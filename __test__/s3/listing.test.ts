/**
 * ListObjects (v1) and ListObjectsV2 against a real server: every combination of prefix, delimiter
 * and page size paged to the end and compared, page by page, with an in-memory model of S3's rules
 * (UTF-8 byte order, common prefixes counted once against max-keys, a prefix at or before the
 * marker skipped); start-after, continuation tokens, `encoding-type=url`, owners and max-keys edges.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  ListObjectsCommand,
  type ListObjectsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { suite } from 'uvu';
import { raw } from '../helpers/raw';
import { startServer, type TestServer } from '../helpers/server';

// --- the model --------------------------------------------------------------------------------------

const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

interface ModelPage {
  keys: string[];
  prefixes: string[];
  isTruncated: boolean;
  /** The last key or prefix of the page. */
  last?: string;
}

/** One page as S3 answers it. */
function modelPage(
  all: readonly string[],
  q: { prefix?: string; delimiter?: string; after?: string; max: number },
): ModelPage {
  const prefix = q.prefix ?? '';
  const entries: { key?: string; prefix?: string }[] = [];
  let lastPrefix: string | undefined;
  for (const k of all) {
    if (!k.startsWith(prefix)) continue;
    if (q.after !== undefined && utf8(k, q.after) <= 0) continue;
    if (q.delimiter) {
      const cut = k.indexOf(q.delimiter, prefix.length);
      if (cut >= 0) {
        const cp = k.slice(0, cut + q.delimiter.length);
        if (cp === lastPrefix || (q.after !== undefined && utf8(cp, q.after) <= 0)) continue;
        lastPrefix = cp;
        entries.push({ prefix: cp });
        continue;
      }
    }
    entries.push({ key: k });
  }
  const page = entries.slice(0, q.max);
  const lastEntry = page[page.length - 1];
  const out: ModelPage = {
    keys: page.filter((e) => e.key !== undefined).map((e) => e.key!),
    prefixes: page.filter((e) => e.prefix !== undefined).map((e) => e.prefix!),
    isTruncated: entries.length > q.max,
  };
  if (lastEntry) out.last = lastEntry.key ?? lastEntry.prefix!;
  return out;
}

// --- the data ---------------------------------------------------------------------------------------

/** A few hundred keys: folders, several delimiters' worth of structure, non-ASCII, odd characters. */
function makeKeys(): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 40; i++) keys.push(`photos/2024/01/img${String(i).padStart(2, '0')}.jpg`);
  for (let i = 0; i < 25; i++) keys.push(`photos/2024/02/img${i}.jpg`);
  for (let i = 0; i < 15; i++) keys.push(`photos/2023/x${i}`);
  keys.push('photos/readme', 'photos', 'docs/a b/c', 'docs/readme', 'docs/z');
  for (let i = 0; i < 30; i++) keys.push(`logs-2024-${String((i % 12) + 1).padStart(2, '0')}-${i}`);
  for (let i = 0; i < 100; i++) keys.push(`k${String(i).padStart(3, '0')}`);
  keys.push(
    'ü/ß',
    'ü/x/y',
    'é',
    '日本/語',
    '😀/x',
    '\u{E000}private',
    'sp ace/inner',
    'sp ace2',
    'plus+sign',
    'pct%20',
    'amp&lt;',
    'q?x=1',
    'hash#frag',
    'tilde~',
    'quote"\'',
    'semi;colon',
    'a/b/c/d/e',
    'a/b/c/f',
    'a/b/g',
    'a/h',
    'a-b',
    'a.b',
    'a0',
  );
  return keys;
}

const KEYS = makeKeys();
const SORTED = [...KEYS].sort(utf8);
const BUCKET = 'listing';

const L = suite<{ srv: TestServer }>('listing', {} as { srv: TestServer });

L.before(async (ctx) => {
  ctx.srv = await startServer();
  const objects = ctx.srv.server.objects;
  await objects.makeBucket(BUCKET);
  await objects.makeBucket('empty');
  let next = 0;
  const worker = async () => {
    while (next < KEYS.length) {
      const key = KEYS[next++]!;
      const body = Buffer.from(`body of ${key}`);
      await objects.putObject(BUCKET, key, Readable.from([body]), { size: body.length });
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
});

L.after(async (ctx) => {
  await ctx.srv?.stop();
});

async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, String(e));
    return e;
  }
  assert.fail('expected an error');
}

function v2Of(r: ListObjectsV2CommandOutput): ModelPage {
  const keys = (r.Contents ?? []).map((c) => c.Key!);
  const prefixes = (r.CommonPrefixes ?? []).map((c) => c.Prefix!);
  const last = [...keys, ...prefixes].sort(utf8).pop();
  return { keys, prefixes, isTruncated: r.IsTruncated === true, ...(last !== undefined ? { last } : {}) };
}

function v1Of(r: ListObjectsCommandOutput): ModelPage {
  const keys = (r.Contents ?? []).map((c) => c.Key!);
  const prefixes = (r.CommonPrefixes ?? []).map((c) => c.Prefix!);
  const last = [...keys, ...prefixes].sort(utf8).pop();
  return { keys, prefixes, isTruncated: r.IsTruncated === true, ...(last !== undefined ? { last } : {}) };
}

// --- the matrix -------------------------------------------------------------------------------------

const PREFIXES = ['', 'photos/', 'photos/2024/', 'logs-', 'k0', 'a/', 'ü', 'nothing-here/'];
const DELIMITERS = [undefined, '/', '-', 'b'];
const PAGES = [4, 1000];

L('ListObjectsV2 pages match the model for every prefix, delimiter and page size', async ({ srv }) => {
  for (const prefix of PREFIXES) {
    for (const delimiter of DELIMITERS) {
      for (const max of PAGES) {
        const what = JSON.stringify({ prefix, delimiter, max });
        let token: string | undefined;
        let after: string | undefined;
        for (let n = 0; ; n++) {
          assert.ok(n < 500, `${what}: too many pages`);
          const r = await srv.s3.send(
            new ListObjectsV2Command({
              Bucket: BUCKET,
              ...(prefix ? { Prefix: prefix } : {}),
              ...(delimiter ? { Delimiter: delimiter } : {}),
              MaxKeys: max,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          const want = modelPage(SORTED, { prefix, delimiter, after, max });
          assert.deepEqual(v2Of(r), want, `${what} page ${n}`);
          assert.equal(r.KeyCount, want.keys.length + want.prefixes.length, `${what} KeyCount`);
          assert.equal(r.MaxKeys, max);
          assert.equal(r.Prefix ?? '', prefix);
          assert.equal(r.Delimiter, delimiter);
          assert.equal(r.ContinuationToken, token);
          if (!r.IsTruncated) {
            assert.equal(r.NextContinuationToken, undefined);
            break;
          }
          assert.ok(r.NextContinuationToken, `${what}: truncated without a token`);
          token = r.NextContinuationToken;
          after = want.last;
        }
      }
    }
  }
});

L('ListObjects (v1) pages match the model; NextMarker only with a delimiter', async ({ srv }) => {
  for (const prefix of PREFIXES) {
    for (const delimiter of DELIMITERS) {
      for (const max of PAGES) {
        const what = JSON.stringify({ prefix, delimiter, max });
        let marker: string | undefined;
        for (let n = 0; ; n++) {
          assert.ok(n < 500, `${what}: too many pages`);
          const r = await srv.s3.send(
            new ListObjectsCommand({
              Bucket: BUCKET,
              ...(prefix ? { Prefix: prefix } : {}),
              ...(delimiter ? { Delimiter: delimiter } : {}),
              MaxKeys: max,
              ...(marker !== undefined ? { Marker: marker } : {}),
            }),
          );
          const want = modelPage(SORTED, { prefix, delimiter, after: marker, max });
          assert.deepEqual(v1Of(r), want, `${what} page ${n}`);
          assert.equal(r.Marker ?? '', marker ?? '');
          assert.equal(r.MaxKeys, max);
          if (!r.IsTruncated) {
            assert.equal(r.NextMarker, undefined);
            break;
          }
          if (delimiter) {
            assert.equal(r.NextMarker, want.last, `${what}: NextMarker`);
            marker = r.NextMarker;
          } else {
            // AWS: without a delimiter there is no NextMarker; the last key is the next marker.
            assert.equal(r.NextMarker, undefined, `${what}: NextMarker without a delimiter`);
            marker = r.Contents![r.Contents!.length - 1]!.Key;
          }
        }
      }
    }
  }
});

L('over two erasure sets (20 drives) the pages are the same', async () => {
  const srv = await startServer({ drives: 20 });
  try {
    assert.equal(srv.server.objects.sets.length, 2);
    const objects = srv.server.objects;
    await objects.makeBucket(BUCKET);
    const keys = SORTED.filter((_, i) => i % 3 === 0);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        await objects.putObject(BUCKET, key, Readable.from([Buffer.from(key)]), {
          size: Buffer.byteLength(key),
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    for (const [prefix, delimiter, max] of [
      ['', undefined, 7],
      ['', '/', 3],
      ['photos/', '/', 2],
      ['logs-', '-', 5],
    ] as const) {
      const what = JSON.stringify({ prefix, delimiter, max });
      let token: string | undefined;
      let after: string | undefined;
      for (let n = 0; ; n++) {
        assert.ok(n < 200, what);
        const r = await srv.s3.send(
          new ListObjectsV2Command({
            Bucket: BUCKET,
            ...(prefix ? { Prefix: prefix } : {}),
            ...(delimiter ? { Delimiter: delimiter } : {}),
            MaxKeys: max,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        const want = modelPage(keys, { prefix, delimiter, after, max });
        assert.deepEqual(v2Of(r), want, `${what} page ${n}`);
        if (!r.IsTruncated) break;
        token = r.NextContinuationToken;
        after = want.last;
      }
    }
  } finally {
    await srv.stop();
  }
});

L('ListObjectsV2 pages one key at a time to the same listing', async ({ srv }) => {
  const got: string[] = [];
  let token: string | undefined;
  for (let n = 0; n <= SORTED.length; n++) {
    const r = await srv.s3.send(
      new ListObjectsV2Command({
        Bucket: BUCKET,
        MaxKeys: 1,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    assert.equal(r.KeyCount, 1);
    got.push(r.Contents![0]!.Key!);
    if (!r.IsTruncated) break;
    token = r.NextContinuationToken;
  }
  assert.deepEqual(got, SORTED);
});

L('keys list in UTF-8 byte order, not UTF-16 order', async ({ srv }) => {
  const r = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const keys = r.Contents!.map((c) => c.Key!);
  // U+E000 is EE 80 80 in UTF-8, before the emoji's F0 9F 98 80; as UTF-16 the emoji (D83D) sorts first.
  assert.ok(keys.indexOf('\u{E000}private') < keys.indexOf('😀/x'));
  assert.deepEqual(keys, SORTED.slice(0, 1000));
});

L('start-after: keys after it, echoed on every page; a continuation token takes over', async ({ srv }) => {
  for (const startAfter of ['k050', 'k050x', 'photos/2024/01/img10.jpg', 'a', 'zzzz', 'ü', '']) {
    for (const delimiter of [undefined, '/']) {
      const what = JSON.stringify({ startAfter, delimiter });
      let token: string | undefined;
      let after: string | undefined = startAfter || undefined;
      for (let n = 0; ; n++) {
        assert.ok(n < 200, what);
        const r = await srv.s3.send(
          new ListObjectsV2Command({
            Bucket: BUCKET,
            MaxKeys: 37,
            ...(startAfter ? { StartAfter: startAfter } : {}),
            ...(delimiter ? { Delimiter: delimiter } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        const want = modelPage(SORTED, { delimiter, after, max: 37 });
        assert.deepEqual(v2Of(r), want, `${what} page ${n}`);
        assert.equal(r.StartAfter, startAfter || undefined, `${what}: StartAfter echoed`);
        if (!r.IsTruncated) break;
        token = r.NextContinuationToken;
        after = want.last;
      }
    }
  }
});

L('a continuation token this server did not make is InvalidArgument', async ({ srv }) => {
  for (const token of ['garbage!!', 'AAAA', '////', 'MWI=', 'not a token', '_w']) {
    const e = await s3Error(
      srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token })),
    );
    assert.equal(e.name, 'InvalidArgument', token);
    assert.equal(e.$metadata.httpStatusCode, 400);
  }
  // The SDK drops an empty token; AWS refuses one sent as `continuation-token=`.
  const r = await raw(srv, {
    method: 'GET',
    path: `/${BUCKET}`,
    query: { 'list-type': '2', 'continuation-token': '' },
  });
  assert.equal(r.status, 400);
  assert.match(r.body, /<Code>InvalidArgument<\/Code>/);
});

L('max-keys=0 is an empty, untruncated page; max-keys over 1000 is 1000', async ({ srv }) => {
  const zero = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 0 }));
  assert.equal(zero.KeyCount, 0);
  assert.equal(zero.IsTruncated, false);
  assert.equal(zero.Contents, undefined);
  assert.equal(zero.NextContinuationToken, undefined);
  assert.equal(zero.MaxKeys, 0);
  const zero1 = await srv.s3.send(new ListObjectsCommand({ Bucket: BUCKET, MaxKeys: 0 }));
  assert.equal(zero1.IsTruncated, false);
  assert.equal(zero1.Contents, undefined);

  const big = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 5000 }));
  assert.equal(big.MaxKeys, 1000);
  assert.equal(big.KeyCount, Math.min(1000, SORTED.length));
  const dflt = await raw(srv, {
    method: 'GET',
    path: `/${BUCKET}`,
    query: { 'list-type': '2', prefix: 'k0' },
  });
  assert.match(dflt.body, /<MaxKeys>1000<\/MaxKeys>/);

  for (const bad of ['-1', 'abc', '1.5', '99999999999']) {
    const r = await raw(srv, {
      method: 'GET',
      path: `/${BUCKET}`,
      query: { 'list-type': '2', 'max-keys': bad },
    });
    assert.equal(r.status, 400, bad);
    assert.match(r.body, /<Code>InvalidArgument<\/Code>/);
  }
});

L('a listing of a missing bucket is NoSuchBucket; of an empty one is empty', async ({ srv }) => {
  const e = await s3Error(srv.s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })));
  assert.equal(e.name, 'NoSuchBucket');
  assert.equal(e.$metadata.httpStatusCode, 404);
  const e1 = await s3Error(srv.s3.send(new ListObjectsCommand({ Bucket: 'no-such-bucket', MaxKeys: 0 })));
  assert.equal(e1.name, 'NoSuchBucket');
  const r = await srv.s3.send(new ListObjectsV2Command({ Bucket: 'empty', Delimiter: '/' }));
  assert.equal(r.KeyCount, 0);
  assert.equal(r.IsTruncated, false);
});

L(
  'encoding-type=url encodes Key, Prefix, Delimiter, StartAfter, CommonPrefixes as AWS does',
  async ({ srv }) => {
    // AWS (measured): space → +, + → %2B, % → %25, non-ASCII as UTF-8 %XX, / kept.
    const r = await raw(srv, {
      method: 'GET',
      path: `/${BUCKET}`,
      query: {
        'list-type': '2',
        'encoding-type': 'url',
        prefix: 's',
        delimiter: ' ',
        'start-after': 'pct%20',
      },
    });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /<EncodingType>url<\/EncodingType>/);
    assert.match(r.body, /<Prefix>s<\/Prefix>/);
    assert.match(r.body, /<Delimiter>\+<\/Delimiter>/);
    assert.match(r.body, /<StartAfter>pct%2520<\/StartAfter>/);
    assert.match(r.body, /<CommonPrefixes><Prefix>sp\+<\/Prefix><\/CommonPrefixes>/);
    assert.match(r.body, /<Key>semi%3Bcolon<\/Key>/);

    const all = await raw(srv, {
      method: 'GET',
      path: `/${BUCKET}`,
      query: { 'list-type': '2', 'encoding-type': 'url' },
    });
    const keys = [...all.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!);
    for (const [key, encoded] of [
      ['plus+sign', 'plus%2Bsign'],
      ['pct%20', 'pct%2520'],
      ['sp ace2', 'sp+ace2'],
      ['ü/ß', '%C3%BC/%C3%9F'],
      ['日本/語', '%E6%97%A5%E6%9C%AC/%E8%AA%9E'],
      ['amp&lt;', 'amp%26lt%3B'],
      ['q?x=1', 'q%3Fx%3D1'],
      ['hash#frag', 'hash%23frag'],
      ['a/b/c/d/e', 'a/b/c/d/e'],
    ] as const) {
      assert.ok(
        keys.includes(encoded),
        `${key} → ${encoded}, got ${keys.filter((k) => k.startsWith(encoded.slice(0, 2)))}`,
      );
    }
    // What a client gets back after decoding (form decoding: + is a space) is the key list.
    const decoded = keys.map((k) => decodeURIComponent(k.replace(/\+/g, ' ')));
    assert.deepEqual(decoded, SORTED.slice(0, 1000));

    // v1 with a delimiter: Marker and NextMarker are encoded too.
    const v1 = await raw(srv, {
      method: 'GET',
      path: `/${BUCKET}`,
      query: { 'encoding-type': 'url', delimiter: '/', marker: 'sp ace', 'max-keys': '1' },
    });
    assert.match(v1.body, /<Marker>sp\+ace<\/Marker>/);
    assert.match(v1.body, /<NextMarker>sp\+ace\/<\/NextMarker>/);
    assert.match(v1.body, /<CommonPrefixes><Prefix>sp\+ace\/<\/Prefix><\/CommonPrefixes>/);

    const bad = await raw(srv, {
      method: 'GET',
      path: `/${BUCKET}`,
      query: { 'list-type': '2', 'encoding-type': 'xml' },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /<Code>InvalidArgument<\/Code>/);
  },
);

L('ListObjects (v1) echoes Prefix as sent under encoding-type=url; v2 encodes it', async ({ srv }) => {
  // AWS and the SDKs: v1 encodes Delimiter, Marker, NextMarker, Key and CommonPrefixes, not Prefix.
  const v1 = await raw(srv, {
    method: 'GET',
    path: `/${BUCKET}`,
    query: { 'encoding-type': 'url', prefix: '\n sp+' },
  });
  assert.equal(v1.status, 200, v1.body);
  // (XML-escaped, as every text: a newline is `&#xA;`.)
  assert.match(v1.body, /<Prefix>&#xA; sp\+<\/Prefix>/);
  const v2 = await raw(srv, {
    method: 'GET',
    path: `/${BUCKET}`,
    query: { 'list-type': '2', 'encoding-type': 'url', prefix: '\n sp+' },
  });
  assert.match(v2.body, /<Prefix>%0A\+sp%2B<\/Prefix>/);
});

L('without encoding-type, keys are XML-escaped, never URL-encoded', async ({ srv }) => {
  const r = await raw(srv, { method: 'GET', path: `/${BUCKET}`, query: { 'list-type': '2', prefix: 'amp' } });
  assert.match(r.body, /<Key>amp&amp;lt;<\/Key>/);
  const sdk = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'quote' }));
  assert.equal(sdk.Contents![0]!.Key, 'quote"\'');
});

L('Owner: always in v1, in v2 only with fetch-owner; a stable id for the root user', async ({ srv }) => {
  const v2 = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 3 }));
  for (const c of v2.Contents!) assert.equal(c.Owner, undefined);
  const v2o = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 3, FetchOwner: true }));
  const v1 = await srv.s3.send(new ListObjectsCommand({ Bucket: BUCKET, MaxKeys: 3 }));
  const ids = new Set<string>();
  for (const c of [...v2o.Contents!, ...v1.Contents!]) {
    assert.match(c.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
    assert.ok(c.Owner?.DisplayName);
    ids.add(c.Owner!.ID!);
  }
  assert.equal(ids.size, 1);
  // The same on another server (another deployment, other credentials).
  const other = await startServer({ drives: 1 });
  try {
    await other.server.objects.makeBucket('owners');
    await other.server.objects.putObject('owners', 'k', Readable.from([Buffer.from('x')]), { size: 1 });
    const r = await other.s3.send(new ListObjectsCommand({ Bucket: 'owners' }));
    assert.equal(r.Contents![0]!.Owner!.ID, [...ids][0]);
  } finally {
    await other.stop();
  }
});

L('entries carry a quoted ETag, size, STANDARD, LastModified with milliseconds', async ({ srv }) => {
  const r = await raw(srv, {
    method: 'GET',
    path: `/${BUCKET}`,
    query: { 'list-type': '2', prefix: 'k00', 'max-keys': '2' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/xml');
  assert.match(
    r.body,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<ListBucketResult xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/">/,
  );
  const body = Buffer.from('body of k000');
  const md5 = createHash('md5').update(body).digest('hex');
  assert.match(
    r.body,
    new RegExp(
      `<Contents><Key>k000</Key><LastModified>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z</LastModified><ETag>&quot;${md5}&quot;</ETag>(<Checksum[^/]*/Checksum\\w+>)*<Size>${body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    ),
  );
  assert.match(r.body, /<KeyCount>2<\/KeyCount><MaxKeys>2<\/MaxKeys>/);
  assert.match(r.body, /<IsTruncated>true<\/IsTruncated>/);
});

L('objects written through PutObject list with their ETag and checksum algorithm', async ({ srv }) => {
  const put = await srv.s3.send(
    new PutObjectCommand({ Bucket: 'empty', Key: 'via-sdk', Body: 'hello', ChecksumAlgorithm: 'SHA256' }),
  );
  const r = await srv.s3.send(new ListObjectsV2Command({ Bucket: 'empty' }));
  assert.equal(r.Contents![0]!.Key, 'via-sdk');
  assert.equal(r.Contents![0]!.ETag, put.ETag);
  assert.deepEqual(r.Contents![0]!.ChecksumAlgorithm, ['SHA256']);
  assert.equal(r.Contents![0]!.ChecksumType, 'FULL_OBJECT');
});

L.run();
