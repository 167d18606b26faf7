import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let minio: MinioClient;
const B = 'objects';

test.before(async () => {
  srv = await startServer();
  minio = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
  });
  await srv.s3.send(new CreateBucketCommand({ Bucket: B }));
});
test.after(async () => {
  await srv?.stop();
});

// --- helpers -----------------------------------------------------------------------------------------

async function fails(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

async function expectError(p: Promise<unknown>, code: string, status: number): Promise<S3ServiceException> {
  const e = await fails(p);
  assert.equal(e.name, code, `${e.name}: ${e.message}`);
  assert.equal(e.$metadata.httpStatusCode, status);
  return e;
}

const md5hex = (b: string | Buffer) => createHash('md5').update(b).digest('hex');
const md5b64 = (b: string | Buffer) => createHash('md5').update(b).digest('base64');

function enc(key: string): string {
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

function req(
  method: string,
  key: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; query?: string } = {},
) {
  const q = opts.query ? `?${opts.query}` : '';
  return signedFetch(srv, method, `/${B}/${enc(key)}${q}`, opts);
}

async function put(key: string, body: string | Buffer, extra: Record<string, unknown> = {}) {
  return srv.s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body, ...extra }));
}

async function getText(key: string): Promise<string> {
  const r = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  return r.Body!.transformToString();
}

async function exists(key: string): Promise<boolean> {
  try {
    await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
    return true;
  } catch (e) {
    if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404) return false;
    throw e;
  }
}

/** A request written on a socket by hand: for bodies shorter than their Content-Length. */
function rawSocket(head: string, body: Buffer, endEarly: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(srv.port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
    });
    s.on('error', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('connect', () => {
      s.write(head);
      s.write(body);
      if (endEarly) s.end();
    });
    setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer; got ${out}`));
    }, 20_000).unref();
  });
}

// --- PutObject / GetObject / HeadObject -------------------------------------------------------------

test('PutObject stores the body; GetObject returns it with ETag, Last-Modified, Accept-Ranges, Content-Length', async () => {
  const body = 'hello, cairn';
  const p = await put('greeting.txt', body, { ContentType: 'text/plain' });
  assert.equal(p.ETag, `"${md5hex(body)}"`);
  const r = await req('GET', 'greeting.txt');
  assert.equal(r.status, 200);
  assert.equal(await r.text(), body);
  assert.equal(r.headers.get('etag'), `"${md5hex(body)}"`);
  assert.equal(r.headers.get('content-length'), String(body.length));
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.equal(r.headers.get('content-type'), 'text/plain');
  const lm = new Date(r.headers.get('last-modified')!);
  assert.ok(Math.abs(lm.getTime() - Date.now()) < 60_000);
  assert.match(r.headers.get('last-modified')!, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
});

test('PutObject of an empty body works; the object has size 0', async () => {
  const p = await put('empty', '');
  assert.equal(p.ETag, `"${md5hex('')}"`);
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'empty' }));
  assert.equal(h.ContentLength, 0);
  assert.equal(await getText('empty'), '');
});

test('PutObject overwrites the object', async () => {
  await put('over', 'one');
  await put('over', 'two two');
  assert.equal(await getText('over'), 'two two');
});

test('user metadata and content headers are returned exactly as given', async () => {
  const r0 = await req('PUT', 'headers', {
    body: 'x',
    headers: {
      'content-type': 'application/x-custom; charset=utf-8',
      'content-disposition': 'attachment; filename="a b.txt"',
      'content-encoding': 'identity',
      'content-language': 'en-GB',
      'cache-control': 'max-age=60, private',
      expires: 'Thu, 01 Dec 2094 16:00:00 GMT',
      'x-amz-meta-Mixed-Case': 'Value With  Spaces',
      'x-amz-meta-empty': '',
      'x-amz-meta-symbols': 'a=b&c;d,e"f',
    },
  });
  assert.equal(r0.status, 200);
  const r = await req('GET', 'headers');
  await r.text();
  assert.equal(r.headers.get('content-type'), 'application/x-custom; charset=utf-8');
  assert.equal(r.headers.get('content-disposition'), 'attachment; filename="a b.txt"');
  assert.equal(r.headers.get('content-encoding'), 'identity');
  assert.equal(r.headers.get('content-language'), 'en-GB');
  assert.equal(r.headers.get('cache-control'), 'max-age=60, private');
  assert.equal(r.headers.get('expires'), 'Thu, 01 Dec 2094 16:00:00 GMT');
  assert.equal(r.headers.get('x-amz-meta-mixed-case'), 'Value With  Spaces');
  assert.equal(r.headers.get('x-amz-meta-empty'), '');
  assert.equal(r.headers.get('x-amz-meta-symbols'), 'a=b&c;d,e"f');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'headers' }));
  assert.deepEqual(h.Metadata, { 'mixed-case': 'Value With  Spaces', empty: '', symbols: 'a=b&c;d,e"f' });
  assert.equal(h.ContentType, 'application/x-custom; charset=utf-8');
});

test('an object stored without Content-Type is served as binary/octet-stream', async () => {
  const r0 = await req('PUT', 'no-type', { body: Buffer.from('x') });
  assert.equal(r0.status, 200);
  const r = await req('HEAD', 'no-type');
  assert.equal(r.headers.get('content-type'), 'binary/octet-stream');
});

test('PutObject with a correct Content-MD5 is stored', async () => {
  const r = await req('PUT', 'md5-ok', {
    body: 'digest me',
    headers: { 'content-md5': md5b64('digest me') },
  });
  assert.equal(r.status, 200);
  assert.equal(await getText('md5-ok'), 'digest me');
});

test('PutObject with a wrong Content-MD5 is BadDigest and stores nothing', async () => {
  await put('md5-bad', 'old');
  const r = await req('PUT', 'md5-bad', {
    body: 'new body',
    headers: { 'content-md5': md5b64('something else') },
  });
  assert.equal(r.status, 400);
  const text = await r.text();
  assert.match(text, /<Code>BadDigest<\/Code>/);
  assert.match(text, /<Message>The Content-MD5 you specified did not match what we received.<\/Message>/);
  assert.equal(await getText('md5-bad'), 'old');
  const r2 = await req('PUT', 'md5-bad-new', { body: 'x', headers: { 'content-md5': md5b64('y') } });
  assert.equal(r2.status, 400);
  assert.equal(await exists('md5-bad-new'), false);
});

test('PutObject with a malformed Content-MD5 is InvalidDigest', async () => {
  const r = await req('PUT', 'md5-malformed', { body: 'x', headers: { 'content-md5': 'not-base64!' } });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /<Code>InvalidDigest<\/Code>/);
  assert.equal(await exists('md5-malformed'), false);
});

test('GetObject of a missing key is NoSuchKey; of a missing bucket NoSuchBucket', async () => {
  const e = await expectError(
    srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'nope' })),
    'NoSuchKey',
    404,
  );
  assert.equal((e as unknown as { Key?: string }).Key, 'nope');
  await expectError(
    srv.s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
    'NoSuchBucket',
    404,
  );
  const r = await signedFetch(srv, 'GET', `/${B}/nope`);
  const xml = await r.text();
  assert.match(
    xml,
    /<Code>NoSuchKey<\/Code><Message>The specified key does not exist.<\/Message><Key>nope<\/Key>/,
  );
  assert.match(xml, /<Resource>\/objects\/nope<\/Resource>/);
});

test('HeadObject of a missing key is 404 without a body; of a missing bucket 404', async () => {
  await expectError(srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'nope' })), 'NotFound', 404);
  const r = await req('HEAD', 'nope');
  assert.equal(r.status, 404);
  assert.equal(await r.text(), '');
  await expectError(
    srv.s3.send(new HeadObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
    'NotFound',
    404,
  );
});

test('PutObject into a missing bucket is NoSuchBucket', async () => {
  await expectError(
    srv.s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })),
    'NoSuchBucket',
    404,
  );
});

test('HeadObject returns the headers GetObject does, and Content-Length', async () => {
  await put('head-me', '0123456789', { ContentType: 'text/csv', Metadata: { a: '1' } });
  const r = await req('HEAD', 'head-me');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-length'), '10');
  assert.equal(r.headers.get('etag'), `"${md5hex('0123456789')}"`);
  assert.equal(r.headers.get('content-type'), 'text/csv');
  assert.equal(r.headers.get('x-amz-meta-a'), '1');
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.ok(r.headers.get('last-modified'));
});

// --- Range --------------------------------------------------------------------------------------------

test('GetObject serves one byte range: first-last, open-ended, suffix, clamped', async () => {
  const body = 'abcdefghijklmnopqrstuvwxyz';
  await put('alphabet', body);
  const cases: [string, string, string][] = [
    ['bytes=0-4', 'abcde', 'bytes 0-4/26'],
    ['bytes=5-5', 'f', 'bytes 5-5/26'],
    ['bytes=20-', 'uvwxyz', 'bytes 20-25/26'],
    ['bytes=-3', 'xyz', 'bytes 23-25/26'],
    ['bytes=-100', body, 'bytes 0-25/26'],
    ['bytes=24-1000', 'yz', 'bytes 24-25/26'],
  ];
  for (const [range, want, cr] of cases) {
    const r = await req('GET', 'alphabet', { headers: { range } });
    assert.equal(r.status, 206, range);
    assert.equal(await r.text(), want, range);
    assert.equal(r.headers.get('content-range'), cr, range);
    assert.equal(r.headers.get('content-length'), String(want.length), range);
  }
  const s = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'alphabet', Range: 'bytes=-2' }));
  assert.equal(await s.Body!.transformToString(), 'yz');
  assert.equal(s.ContentRange, 'bytes 24-25/26');
});

test('GetObject ignores an invalid or multiple Range and serves the whole object (200)', async () => {
  for (const range of ['bytes=5-2', 'items=0-1', 'bytes=0-1,3-4', 'bytes=x-y']) {
    const r = await req('GET', 'alphabet', { headers: { range } });
    assert.equal(r.status, 200, range);
    assert.equal((await r.text()).length, 26);
  }
});

test('GetObject with an unsatisfiable range is 416 InvalidRange with Content-Range: bytes */size', async () => {
  for (const range of ['bytes=26-', 'bytes=100-200', 'bytes=-0']) {
    const r = await req('GET', 'alphabet', { headers: { range } });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get('content-range'), 'bytes */26');
    const xml = await r.text();
    assert.match(xml, /<Code>InvalidRange<\/Code>/);
    assert.match(xml, /<ActualObjectSize>26<\/ActualObjectSize>/);
  }
  await expectError(
    srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'alphabet', Range: 'bytes=30-' })),
    'InvalidRange',
    416,
  );
  const e = await req('GET', 'empty', { headers: { range: 'bytes=0-' } });
  assert.equal(e.status, 416);
});

test('HeadObject with a Range answers 206 with the range Content-Length', async () => {
  const r = await req('HEAD', 'alphabet', { headers: { range: 'bytes=2-5' } });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-length'), '4');
  assert.equal(r.headers.get('content-range'), 'bytes 2-5/26');
});

test('GetObject ?partNumber=1 of a single-part object serves it all; a higher part is 416; with Range 400', async () => {
  const r = await req('GET', 'alphabet', { query: 'partNumber=1' });
  assert.equal(r.status, 206);
  assert.equal((await r.text()).length, 26);
  assert.equal(r.headers.get('content-range'), 'bytes 0-25/26');
  const r2 = await req('GET', 'alphabet', { query: 'partNumber=2' });
  assert.equal(r2.status, 416);
  await r2.text();
  const r3 = await req('GET', 'alphabet', { query: 'partNumber=1', headers: { range: 'bytes=0-1' } });
  assert.equal(r3.status, 400);
  assert.match(await r3.text(), /<Code>InvalidRequest<\/Code>/);
});

// --- Conditional requests -----------------------------------------------------------------------------

test('GetObject returns 200 when If-Match matches and 412 PreconditionFailed when it differs', async () => {
  const p = await put('cond', 'conditional');
  const ok = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfMatch: p.ETag }));
  assert.equal(await ok.Body!.transformToString(), 'conditional');
  await expectError(
    srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfMatch: '"0123"' })),
    'PreconditionFailed',
    412,
  );
  const r = await req('GET', 'cond', { headers: { 'if-match': '"nope"' } });
  assert.equal(r.status, 412);
  assert.match(await r.text(), /<Condition>If-Match<\/Condition>/);
  const star = await req('GET', 'cond', { headers: { 'if-match': '*' } });
  assert.equal(star.status, 200);
  await star.text();
});

test('GetObject returns 304 without a body when If-None-Match matches', async () => {
  const etag = `"${md5hex('conditional')}"`;
  const r = await req('GET', 'cond', { headers: { 'if-none-match': etag } });
  assert.equal(r.status, 304);
  assert.equal(await r.text(), '');
  assert.equal(r.headers.get('etag'), etag);
  assert.ok(r.headers.get('last-modified'));
  const other = await req('GET', 'cond', { headers: { 'if-none-match': '"other"' } });
  assert.equal(other.status, 200);
  await other.text();
  const e = await fails(srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfNoneMatch: etag })));
  assert.equal(e.$metadata.httpStatusCode, 304);
});

test('GetObject and HeadObject honour If-Modified-Since (304) and If-Unmodified-Since (412)', async () => {
  const future = new Date(Date.now() + 3600_000).toUTCString();
  const past = new Date(Date.now() - 3600_000).toUTCString();
  for (const method of ['GET', 'HEAD']) {
    const a = await req(method, 'cond', { headers: { 'if-modified-since': future } });
    assert.equal(a.status, 304, method);
    await a.text();
    const b = await req(method, 'cond', { headers: { 'if-modified-since': past } });
    assert.equal(b.status, 200, method);
    await b.text();
    const c = await req(method, 'cond', { headers: { 'if-unmodified-since': past } });
    assert.equal(c.status, 412, method);
    await c.text();
    const d = await req(method, 'cond', { headers: { 'if-unmodified-since': future } });
    assert.equal(d.status, 200, method);
    await d.text();
  }
  // AWS: If-Match true and If-Unmodified-Since false → 200; If-None-Match false and If-Modified-Since true → 304.
  const etag = `"${md5hex('conditional')}"`;
  const e = await req('GET', 'cond', { headers: { 'if-match': etag, 'if-unmodified-since': past } });
  assert.equal(e.status, 200);
  await e.text();
  const f = await req('GET', 'cond', { headers: { 'if-none-match': etag, 'if-modified-since': past } });
  assert.equal(f.status, 304);
});

test('the conditions are answered before an unsatisfiable range', async () => {
  const r = await req('GET', 'cond', { headers: { 'if-match': '"x"', range: 'bytes=100-' } });
  assert.equal(r.status, 412);
  await r.text();
});

test('PutObject with If-None-Match: * refuses to overwrite (412) and creates a new key', async () => {
  await put('exists-already', 'x');
  const r = await req('PUT', 'exists-already', { body: 'y', headers: { 'if-none-match': '*' } });
  assert.equal(r.status, 412);
  await r.text();
  assert.equal(await getText('exists-already'), 'x');
  const r2 = await req('PUT', 'brand-new', { body: 'y', headers: { 'if-none-match': '*' } });
  assert.equal(r2.status, 200);
  const r3 = await req('PUT', 'brand-new', { body: 'z', headers: { 'if-match': `"${md5hex('y')}"` } });
  assert.equal(r3.status, 200);
  const r4 = await req('PUT', 'brand-new', { body: 'w', headers: { 'if-match': '"nope"' } });
  assert.equal(r4.status, 412);
  await r4.text();
  const r5 = await req('PUT', 'never-was', { body: 'w', headers: { 'if-match': '"nope"' } });
  assert.equal(r5.status, 404);
  assert.match(await r5.text(), /<Code>NoSuchKey<\/Code>/);
  assert.equal(await getText('brand-new'), 'z');
});

// --- response-* overrides -----------------------------------------------------------------------------

test('GetObject response-* parameters override the response headers', async () => {
  await put('override', 'body', { ContentType: 'text/plain' });
  const r = await srv.s3.send(
    new GetObjectCommand({
      Bucket: B,
      Key: 'override',
      ResponseContentType: 'application/json',
      ResponseContentDisposition: 'attachment; filename="x.json"',
      ResponseCacheControl: 'no-cache',
      ResponseContentLanguage: 'fr',
      ResponseContentEncoding: 'identity',
      ResponseExpires: new Date('2030-01-01T00:00:00Z'),
    }),
  );
  await r.Body!.transformToString();
  assert.equal(r.ContentType, 'application/json');
  assert.equal(r.ContentDisposition, 'attachment; filename="x.json"');
  assert.equal(r.CacheControl, 'no-cache');
  assert.equal(r.ContentLanguage, 'fr');
  assert.equal(r.ContentEncoding, 'identity');
  assert.equal(r.ExpiresString, 'Tue, 01 Jan 2030 00:00:00 GMT');
  // The stored headers are unchanged.
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'override' }));
  assert.equal(h.ContentType, 'text/plain');
});

test('response-* values that cannot be header bytes are RFC 2047 encoded, not a server error', async () => {
  const r = await req('GET', 'override', {
    query: `response-content-disposition=${encodeURIComponent('attachment; filename="日本.txt"')}`,
  });
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'body');
  assert.equal(
    r.headers.get('content-disposition'),
    `=?UTF-8?B?${Buffer.from('attachment; filename="日本.txt"').toString('base64')}?=`,
  );
});

// --- Keys and limits ---------------------------------------------------------------------------------

const ODD_KEYS = [
  'with space',
  'plus+sign',
  'per%cent',
  '%2F-literal',
  'a//double//slash',
  '../dot-dot/../x',
  './dot',
  'trailing/',
  'unicode/日本語/ключ/😀',
  'tab\there',
  'question?mark&amp=1#hash',
  'semi;colon,comma:colon@at',
  'quote\'and"double',
  '~tilde*star(paren)!',
];

test('keys with spaces, +, %, //, ../, unicode and reserved characters round-trip exactly (SDK)', async () => {
  for (const key of ODD_KEYS) {
    await put(key, `body of ${key}`);
    assert.equal(await getText(key), `body of ${key}`, key);
    const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: key }));
    assert.equal(h.ContentLength, Buffer.byteLength(`body of ${key}`), key);
  }
  for (const key of ODD_KEYS) {
    await srv.s3.send(new DeleteObjectCommand({ Bucket: B, Key: key }));
    assert.equal(await exists(key), false, key);
  }
});

test('keys with odd characters round-trip through the minio client too', async () => {
  for (const key of ODD_KEYS.filter((k) => !k.includes('\t'))) {
    const body = Buffer.from(`minio ${key}`);
    await minio.putObject(B, key, body, body.length);
    const stat = await minio.statObject(B, key);
    assert.equal(stat.size, body.length, key);
    const chunks: Buffer[] = [];
    for await (const c of await minio.getObject(B, key)) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), body.toString(), key);
    await minio.removeObject(B, key);
  }
});

test('a key of 1024 bytes is accepted; 1025 bytes is KeyTooLongError', async () => {
  // Segments between slashes are at most 255 bytes on the drives (docs/compat.md).
  const ok = `${'k'.repeat(200)}/`.repeat(5) + 'k'.repeat(19);
  assert.equal(ok.length, 1024);
  await put(ok, 'long');
  assert.equal(await getText(ok), 'long');
  const tooLong = 'k'.repeat(1025);
  const e = await expectError(put(tooLong, 'x'), 'KeyTooLongError', 400);
  assert.match(e.message, /Your key is too long/);
  // Multi-byte characters count as their UTF-8 bytes.
  await expectError(put('é'.repeat(513), 'x'), 'KeyTooLongError', 400);
  // A segment the drives cannot hold is refused the same way, never a server error.
  await expectError(put('s'.repeat(300), 'x'), 'KeyTooLongError', 400);
  await expectError(
    srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 's'.repeat(300) })),
    'KeyTooLongError',
    400,
  );
  await expectError(
    srv.s3.send(new DeleteObjectCommand({ Bucket: B, Key: 's'.repeat(300) })),
    'KeyTooLongError',
    400,
  );
  const h = await req('HEAD', 's'.repeat(300));
  assert.equal(h.status, 400);
});

test('user metadata over 2 KB is MetadataTooLarge; exactly 2 KB is accepted', async () => {
  await put('meta-ok', 'x', { Metadata: { k: 'v'.repeat(2047) } });
  await expectError(put('meta-big', 'x', { Metadata: { k: 'v'.repeat(2048) } }), 'MetadataTooLarge', 400);
  assert.equal(await exists('meta-big'), false);
});

test('an unknown storage class is InvalidStorageClass; REDUCED_REDUNDANCY is returned', async () => {
  await expectError(put('sc', 'x', { StorageClass: 'GLACIER' }), 'InvalidStorageClass', 400);
  await put('sc', 'x', { StorageClass: 'REDUCED_REDUNDANCY' });
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sc' }));
  assert.equal(h.StorageClass, 'REDUCED_REDUNDANCY');
  const h2 = await req('HEAD', 'greeting.txt');
  assert.equal(h2.headers.get('x-amz-storage-class'), null);
});

test('PutObject without Content-Length is MissingContentLength', async () => {
  const signed = aws4.sign(
    {
      host: `127.0.0.1:${srv.port}`,
      method: 'PUT',
      path: `/${B}/no-length`,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      service: 's3',
      region: srv.region,
    },
    { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  );
  const lines = Object.entries(signed.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
  const head = `PUT /${B}/no-length HTTP/1.1\r\n${lines.join('\r\n')}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
  const out = await rawSocket(head, Buffer.from('5\r\nhello\r\n0\r\n\r\n'), false);
  assert.match(out, /^HTTP\/1.1 411/);
  assert.match(out, /<Code>MissingContentLength<\/Code>/);
  assert.equal(await exists('no-length'), false);
});

test('a body shorter than its Content-Length stores nothing, and the server goes on serving', async () => {
  const signed = aws4.sign(
    {
      host: `127.0.0.1:${srv.port}`,
      method: 'PUT',
      path: `/${B}/short-body`,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': '1000' },
      service: 's3',
      region: srv.region,
    },
    { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  );
  const lines = Object.entries(signed.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
  const head = `PUT /${B}/short-body HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
  await rawSocket(head, Buffer.alloc(400, 1), true);
  // Give the server a moment to see the socket close.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await exists('short-body'), false);
  await put('after-short', 'still here');
  assert.equal(await getText('after-short'), 'still here');
});

test('PutObject over 5 GiB is EntityTooLarge, answered without reading the body', async () => {
  const signed = aws4.sign(
    {
      host: `127.0.0.1:${srv.port}`,
      method: 'PUT',
      path: `/${B}/huge`,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(5 * 1024 ** 3 + 1) },
      service: 's3',
      region: srv.region,
    },
    { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  );
  const lines = Object.entries(signed.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
  const out = await rawSocket(
    `PUT /${B}/huge HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`,
    Buffer.alloc(1000),
    false,
  );
  assert.match(out, /^HTTP\/1.1 400/);
  assert.match(out, /<Code>EntityTooLarge<\/Code>/);
  assert.equal(await exists('huge'), false);
});

test('an aws-chunked body longer or shorter than its decoded length stores nothing', async () => {
  const data = randomBytes(100);
  for (const declared of [50, 150]) {
    const body = Buffer.concat([
      Buffer.from(`${data.length.toString(16)}\r\n`),
      data,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const r = await signedFetch(srv, 'PUT', `/${B}/chunk-length-${declared}`, {
      body,
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(declared),
      },
    });
    assert.equal(r.status, 400, String(declared));
    await r.text();
    assert.equal(await exists(`chunk-length-${declared}`), false);
  }
});

// --- DeleteObject --------------------------------------------------------------------------------------

test('DeleteObject removes the object (204); a missing key is 204 too', async () => {
  await put('doomed', 'x');
  const r = await srv.s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'doomed' }));
  assert.equal(r.$metadata.httpStatusCode, 204);
  assert.equal(await exists('doomed'), false);
  const r2 = await req('DELETE', 'doomed');
  assert.equal(r2.status, 204);
  assert.equal(r2.headers.get('x-amz-delete-marker'), null);
  assert.equal(r2.headers.get('x-amz-version-id'), null);
});

test('DeleteObject in a missing bucket is NoSuchBucket', async () => {
  await expectError(
    srv.s3.send(new DeleteObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })),
    'NoSuchBucket',
    404,
  );
});

test('DeleteObject with If-Match deletes only when the ETag matches', async () => {
  await put('cond-del', 'x');
  const r = await req('DELETE', 'cond-del', { headers: { 'if-match': '"nope"' } });
  assert.equal(r.status, 412);
  await r.text();
  assert.equal(await exists('cond-del'), true);
  const r2 = await req('DELETE', 'cond-del', { headers: { 'if-match': `"${md5hex('x')}"` } });
  assert.equal(r2.status, 204);
  assert.equal(await exists('cond-del'), false);
});

// --- DeleteObjects -------------------------------------------------------------------------------------

test('DeleteObjects deletes many keys and reports each', async () => {
  const keys = Array.from({ length: 30 }, (_, i) => `multi/${i}`);
  await Promise.all(keys.map((k) => put(k, k)));
  const r = await srv.s3.send(
    new DeleteObjectsCommand({
      Bucket: B,
      Delete: { Objects: [...keys.map((Key) => ({ Key })), { Key: 'multi/missing' }] },
    }),
  );
  assert.equal(r.Errors?.length ?? 0, 0);
  assert.deepEqual(new Set(r.Deleted!.map((d) => d.Key)), new Set([...keys, 'multi/missing']));
  for (const k of keys.slice(0, 3)) assert.equal(await exists(k), false);
});

test('DeleteObjects in quiet mode reports only errors', async () => {
  await put('quiet/a', 'a');
  const r = await srv.s3.send(
    new DeleteObjectsCommand({
      Bucket: B,
      Delete: { Quiet: true, Objects: [{ Key: 'quiet/a' }, { Key: 'k'.repeat(1025) }] },
    }),
  );
  assert.equal(r.Deleted, undefined);
  assert.equal(r.Errors?.length, 1);
  assert.equal(r.Errors![0]!.Code, 'KeyTooLongError');
  assert.equal(await exists('quiet/a'), false);
});

test('DeleteObjects result XML has AWS shape and namespace', async () => {
  await put('xml/a', 'a');
  const body =
    '<Delete><Object><Key>xml/a</Key></Object><Object><Key>xml/b</Key><VersionId>null</VersionId></Object></Delete>';
  const r = await signedFetch(srv, 'POST', `/${B}?delete`, {
    body,
    headers: { 'content-md5': md5b64(body) },
  });
  assert.equal(r.status, 200);
  const xml = await r.text();
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>xml/a</Key></Deleted><Deleted><Key>xml/b</Key><VersionId>null</VersionId></Deleted></DeleteResult>',
  );
});

test('DeleteObjects without Content-MD5 or a checksum is InvalidRequest; a wrong one is BadDigest', async () => {
  await put('guarded', 'x');
  const body = '<Delete><Object><Key>guarded</Key></Object></Delete>';
  const r = await signedFetch(srv, 'POST', `/${B}?delete`, { body });
  assert.equal(r.status, 400);
  const xml = await r.text();
  assert.match(xml, /<Code>InvalidRequest<\/Code>/);
  assert.match(xml, /Content-MD5/);
  const r2 = await signedFetch(srv, 'POST', `/${B}?delete`, {
    body,
    headers: { 'content-md5': md5b64('other') },
  });
  assert.equal(r2.status, 400);
  assert.match(await r2.text(), /<Code>BadDigest<\/Code>/);
  assert.equal(await exists('guarded'), true);
});

test('DeleteObjects refuses more than 1000 keys and malformed XML with MalformedXML', async () => {
  const many = `<Delete>${Array.from({ length: 1001 }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('')}</Delete>`;
  const r = await signedFetch(srv, 'POST', `/${B}?delete`, {
    body: many,
    headers: { 'content-md5': md5b64(many) },
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /<Code>MalformedXML<\/Code>/);
  const bad = '<Delete><Object><Key>x</Key></Object>';
  const r2 = await signedFetch(srv, 'POST', `/${B}?delete`, {
    body: bad,
    headers: { 'content-md5': md5b64(bad) },
  });
  assert.equal(r2.status, 400);
  assert.match(await r2.text(), /<Code>MalformedXML<\/Code>/);
});

test('DeleteObjects of 1000 keys works', async () => {
  const keys = Array.from({ length: 1000 }, (_, i) => `thousand/${String(i).padStart(4, '0')}`);
  const r = await srv.s3.send(
    new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
  );
  assert.equal(r.Deleted?.length, 1000);
});

test('DeleteObjects in a missing bucket is NoSuchBucket', async () => {
  await expectError(
    srv.s3.send(new DeleteObjectsCommand({ Bucket: 'no-such-bucket', Delete: { Objects: [{ Key: 'a' }] } })),
    'NoSuchBucket',
    404,
  );
});

test('DeleteObjects through the minio client', async () => {
  await minio.putObject(B, 'm/1', Buffer.from('1'));
  await minio.putObject(B, 'm/2', Buffer.from('2'));
  await minio.removeObjects(B, ['m/1', 'm/2']);
  assert.equal(await exists('m/1'), false);
  assert.equal(await exists('m/2'), false);
});

test('PutObject with UTF-8 metadata bytes verifies (SigV4 signs the bytes sent) and they come back as sent', async () => {
  // The SDK sends `x-amz-meta-city: Zürich` as UTF-8 bytes and signs those bytes.
  const p = await put('utf8-meta', 'x', { Metadata: { city: 'Zürich', note: 'Hello Worldé' } });
  assert.equal(p.$metadata.httpStatusCode, 200);
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'utf8-meta' }));
  // Header bytes read back one char per byte: the stored value is the bytes that were sent.
  const asSent = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  assert.equal(h.Metadata?.city, asSent('Zürich'));
  assert.equal(h.Metadata?.note, asSent('Hello Worldé'));
});

// --- Tagging --------------------------------------------------------------------------------------------

test('x-amz-tagging on PutObject stores tags; GetObjectTagging returns them; the count is a header', async () => {
  await put('tagged', 'x', { Tagging: 'project=cairn&team=storage%20team' });
  const t = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
  assert.deepEqual(t.TagSet, [
    { Key: 'project', Value: 'cairn' },
    { Key: 'team', Value: 'storage team' },
  ]);
  const h = await req('HEAD', 'tagged');
  assert.equal(h.headers.get('x-amz-tagging-count'), '2');
});

test('GetObjectTagging lists tags sorted by key; a tag written without = has an empty value', async () => {
  await put('tag-order', 'x', { Tagging: 'foo=bar&bar&Zed=1' });
  const t = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tag-order' }));
  assert.deepEqual(t.TagSet, [
    { Key: 'Zed', Value: '1' },
    { Key: 'bar', Value: '' },
    { Key: 'foo', Value: 'bar' },
  ]);
});

test('PutObjectTagging replaces the tags; DeleteObjectTagging removes them; the data is untouched', async () => {
  const r = await srv.s3.send(
    new PutObjectTaggingCommand({
      Bucket: B,
      Key: 'tagged',
      Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] },
    }),
  );
  assert.equal(r.$metadata.httpStatusCode, 200);
  const t = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
  assert.deepEqual(t.TagSet, [{ Key: 'only', Value: 'one' }]);
  const d = await srv.s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
  assert.equal(d.$metadata.httpStatusCode, 204);
  const t2 = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
  assert.deepEqual(t2.TagSet ?? [], []);
  assert.equal(await getText('tagged'), 'x');
  const raw = await req('GET', 'tagged', { query: 'tagging' });
  assert.equal(
    await raw.text(),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>',
  );
});

test('object tagging errors: NoSuchKey, InvalidTag, more than 10 tags', async () => {
  await expectError(srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'nope' })), 'NoSuchKey', 404);
  await expectError(
    srv.s3.send(
      new PutObjectTaggingCommand({
        Bucket: B,
        Key: 'nope',
        Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] },
      }),
    ),
    'NoSuchKey',
    404,
  );
  await expectError(
    srv.s3.send(
      new PutObjectTaggingCommand({
        Bucket: B,
        Key: 'tagged',
        Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
      }),
    ),
    'InvalidTag',
    400,
  );
  await expectError(put('bad-tags', 'x', { Tagging: 'aws:reserved=1' }), 'InvalidTag', 400);
  assert.equal(await exists('bad-tags'), false);
});

test('object tagging through the minio client', async () => {
  await minio.putObject(B, 'mtag', Buffer.from('x'));
  await minio.setObjectTagging(B, 'mtag', { color: 'blue' });
  const tags = await minio.getObjectTagging(B, 'mtag');
  assert.deepEqual(
    (tags as unknown as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
    [['color', 'blue']],
  );
  await minio.removeObjectTagging(B, 'mtag');
  assert.equal(((await minio.getObjectTagging(B, 'mtag')) as unknown[]).length, 0);
});

// --- GetObjectAttributes --------------------------------------------------------------------------------

test('GetObjectAttributes returns the attributes asked for', async () => {
  const p = await put('attrs', 'attributes!', { ChecksumAlgorithm: 'SHA256' });
  const a = await srv.s3.send(
    new GetObjectAttributesCommand({
      Bucket: B,
      Key: 'attrs',
      ObjectAttributes: ['ETag', 'ObjectSize', 'StorageClass', 'Checksum', 'ObjectParts'],
    }),
  );
  assert.equal(a.ETag, md5hex('attributes!'));
  assert.equal(a.ObjectSize, 11);
  assert.equal(a.StorageClass, 'STANDARD');
  assert.equal(a.Checksum?.ChecksumSHA256, p.ChecksumSHA256);
  assert.equal(a.Checksum?.ChecksumType, 'FULL_OBJECT');
  assert.equal(a.ObjectParts, undefined);
  assert.ok(a.LastModified instanceof Date);
  const r = await req('GET', 'attrs', {
    query: 'attributes',
    headers: { 'x-amz-object-attributes': 'ObjectSize' },
  });
  assert.equal(
    await r.text(),
    '<?xml version="1.0" encoding="UTF-8"?>\n<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectSize>11</ObjectSize></GetObjectAttributesResponse>',
  );
  const bad = await req('GET', 'attrs', {
    query: 'attributes',
    headers: { 'x-amz-object-attributes': 'Color' },
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /<Code>InvalidArgument<\/Code>/);
  await expectError(
    srv.s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'nope', ObjectAttributes: ['ETag'] })),
    'NoSuchKey',
    404,
  );
});

// --- minio client ----------------------------------------------------------------------------------------

test('the minio client puts, stats, gets a range of and removes an object', async () => {
  const body = randomBytes(100_000);
  const info = await minio.putObject(B, 'minio/obj', body, body.length, {
    'Content-Type': 'application/x-test',
    'X-Amz-Meta-Owner': 'me',
  });
  assert.equal(info.etag, md5hex(body));
  const stat = await minio.statObject(B, 'minio/obj');
  assert.equal(stat.size, body.length);
  assert.equal(stat.metaData['content-type'], 'application/x-test');
  assert.equal(stat.metaData.owner, 'me');
  const chunks: Buffer[] = [];
  for await (const c of await minio.getPartialObject(B, 'minio/obj', 1000, 500)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), body.subarray(1000, 1500));
  await minio.removeObject(B, 'minio/obj');
  assert.equal(await exists('minio/obj'), false);
});

// --- Large objects ------------------------------------------------------------------------------------------

/**
 * A server in a child process, so its memory is its own: `rss()` reads the child's resident set.
 */
async function childServer(): Promise<{
  srv: Pick<TestServer, 'endpoint' | 'accessKey' | 'secretKey' | 'region'>;
  rss: () => number;
  stop: () => Promise<void>;
}> {
  const code =
    "require('./__test__/helpers/server').startServer().then((s) => {" +
    'process.stdout.write(JSON.stringify({ endpoint: s.endpoint, accessKey: s.accessKey, secretKey: s.secretKey, region: s.region }) + "\\n");' +
    "process.stdin.on('end', () => s.stop().then(() => process.exit(0)));" +
    'process.stdin.resume();' +
    '});';
  const child = spawn(process.execPath, ['-r', 'tsx/cjs', '-e', code], {
    cwd: path.join(__dirname, '..', '..'),
    // Its stderr is shown only if it fails to start (its exit otherwise makes esbuild's service complain).
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.once('exit', (c) => reject(new Error(`the server process exited (${c}): ${stderr}`)));
  });
  const srvInfo = JSON.parse(line);
  return {
    srv: srvInfo,
    rss: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin!.end();
      }),
  };
}

test('a 128 MiB object round-trips (SHA-256 checked); the server streams it in bounded memory', async () => {
  const size = 128 * 1024 * 1024;
  const chunk = 1024 * 1024;
  const seed = randomBytes(chunk);
  const hashUp = createHash('sha256');
  function* gen() {
    for (let i = 0; i < size / chunk; i++) {
      const b = Buffer.from(seed);
      b.writeUInt32BE(i, 0);
      hashUp.update(b);
      yield b;
    }
  }
  const linux = process.platform === 'linux';
  const child = linux ? await childServer() : undefined;
  const target = child?.srv ?? srv;
  const s3 = new S3Client({
    endpoint: target.endpoint,
    region: target.region,
    forcePathStyle: true,
    credentials: { accessKeyId: target.accessKey, secretAccessKey: target.secretKey },
    maxAttempts: 1,
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'big-bucket' })).catch(() => {});
    // Warm up first: the first large transfers grow the heap (V8's young generation grows with the
    // allocation rate), buffer pools and worker threads to their working size once (20-30 MiB whatever
    // the object's size; a 16 MiB warm-up left part of that to the measured transfer); measured from
    // there, a transfer's growth shows whether the object is held.
    await s3.send(new PutObjectCommand({ Bucket: 'big-bucket', Key: 'warm', Body: randomBytes(64 * chunk) }));
    const warm = await s3.send(new GetObjectCommand({ Bucket: 'big-bucket', Key: 'warm' }));
    for await (const _ of warm.Body as Readable);
    const base = child?.rss() ?? 0;
    let peak = base;
    const timer = setInterval(() => {
      if (child) peak = Math.max(peak, child.rss());
    }, 10);
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'big-bucket',
          Key: 'big',
          Body: Readable.from(gen()),
          ContentLength: size,
        }),
      );
      const r = await s3.send(new GetObjectCommand({ Bucket: 'big-bucket', Key: 'big' }));
      assert.equal(r.ContentLength, size);
      const hashDown = createHash('sha256');
      let got = 0;
      for await (const c of r.Body as Readable) {
        hashDown.update(c as Buffer);
        got += (c as Buffer).length;
      }
      assert.equal(got, size);
      assert.equal(hashDown.digest('hex'), hashUp.digest('hex'));
    } finally {
      clearInterval(timer);
    }
    if (child) {
      const grown = peak - base;
      assert.ok(
        grown < size / 4,
        `server RSS grew by ${(grown / 1048576).toFixed(1)} MiB for a 128 MiB object`,
      );
    }
    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: 'big-bucket', Key: 'big', Range: `bytes=${size - 10}-` }),
    );
    const tail = Buffer.from(await ranged.Body!.transformToByteArray());
    assert.equal(tail.length, 10);
  } finally {
    s3.destroy();
    await child?.stop();
  }
});

test.run();
