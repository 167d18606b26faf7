import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { CopyConditions, Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
const B = 'copies';
const B2 = 'copies-other';

test.before(async () => {
  srv = await startServer();
  await srv.s3.send(new CreateBucketCommand({ Bucket: B }));
  await srv.s3.send(new CreateBucketCommand({ Bucket: B2 }));
});
test.after(async () => {
  await srv?.stop();
});

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

function put(key: string, body: string | Buffer, extra: Record<string, unknown> = {}, bucket = B) {
  return srv.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
}

function copy(key: string, source: string, extra: Record<string, unknown> = {}, bucket = B) {
  return srv.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: source, ...extra }));
}

async function bytes(key: string, bucket = B): Promise<Buffer> {
  const r = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

test('CopyObject copies the bytes, metadata and content headers (COPY directive)', async () => {
  await put('src', 'source body', {
    ContentType: 'text/x-source',
    ContentDisposition: 'inline',
    CacheControl: 'no-store',
    Metadata: { origin: 'here', Mixed: 'Case Value' },
    Tagging: 't=1',
  });
  const r = await copy('dst', `${B}/src`);
  assert.equal(r.CopyObjectResult?.ETag, `"${md5hex('source body')}"`);
  assert.ok(r.CopyObjectResult?.LastModified instanceof Date);
  assert.equal((await bytes('dst')).toString(), 'source body');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dst' }));
  assert.equal(h.ContentType, 'text/x-source');
  assert.equal(h.ContentDisposition, 'inline');
  assert.equal(h.CacheControl, 'no-store');
  assert.deepEqual(h.Metadata, { origin: 'here', mixed: 'Case Value' });
  const t = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'dst' }));
  assert.deepEqual(t.TagSet, [{ Key: 't', Value: '1' }]);
});

test('CopyObject across buckets, with a leading slash and an encoded source key', async () => {
  await put('dir/a b+c%d', 'odd key');
  await copy('copied', `/${B}/${encodeURIComponent('dir/a b+c%d')}`, {}, B2);
  assert.equal((await bytes('copied', B2)).toString(), 'odd key');
  await copy('copied-2', `${B}/dir/a%20b%2Bc%25d`, {}, B2);
  assert.equal((await bytes('copied-2', B2)).toString(), 'odd key');
});

test('CopyObject with the REPLACE directive takes metadata and tags from the request', async () => {
  await copy('replaced', `${B}/src`, {
    MetadataDirective: 'REPLACE',
    ContentType: 'application/x-new',
    Metadata: { fresh: 'yes' },
    TaggingDirective: 'REPLACE',
    Tagging: 'n=2',
  });
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'replaced' }));
  assert.equal(h.ContentType, 'application/x-new');
  assert.equal(h.ContentDisposition, undefined);
  assert.deepEqual(h.Metadata, { fresh: 'yes' });
  const t = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'replaced' }));
  assert.deepEqual(t.TagSet, [{ Key: 'n', Value: '2' }]);
});

test('CopyObject of an object onto itself without a change is InvalidRequest', async () => {
  const e = await expectError(copy('src', `${B}/src`), 'InvalidRequest', 400);
  assert.match(e.message, /This copy request is illegal because it is trying to copy an object to itself/);
});

test('CopyObject onto itself with REPLACE updates the metadata in place; the data and ETag stay', async () => {
  await put('self', 'self body', { Metadata: { v: '1' }, ContentType: 'text/a' });
  const r = await copy('self', `${B}/self`, {
    MetadataDirective: 'REPLACE',
    Metadata: { v: '2', added: 'x' },
    ContentType: 'text/b',
  });
  assert.equal(r.CopyObjectResult?.ETag, `"${md5hex('self body')}"`);
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'self' }));
  assert.deepEqual(h.Metadata, { v: '2', added: 'x' });
  assert.equal(h.ContentType, 'text/b');
  assert.equal((await bytes('self')).toString(), 'self body');
});

test('CopyObject onto itself changing the storage class rewrites it', async () => {
  await put('reclass', 'reclass body');
  await copy('reclass', `${B}/reclass`, { StorageClass: 'REDUCED_REDUNDANCY' });
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'reclass' }));
  assert.equal(h.StorageClass, 'REDUCED_REDUNDANCY');
  assert.equal((await bytes('reclass')).toString(), 'reclass body');
});

test('x-amz-copy-source-if-* are checked against the source: 412 when they fail', async () => {
  const etag = `"${md5hex('source body')}"`;
  const future = new Date(Date.now() + 3600_000);
  const past = new Date(Date.now() - 3600_000);
  await copy('cond-ok', `${B}/src`, { CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: future });
  await copy('cond-ok2', `${B}/src`, { CopySourceIfNoneMatch: '"other"', CopySourceIfModifiedSince: past });
  for (const extra of [
    { CopySourceIfMatch: '"other"' },
    { CopySourceIfNoneMatch: etag },
    { CopySourceIfModifiedSince: future },
    { CopySourceIfUnmodifiedSince: past },
  ]) {
    await expectError(copy('cond-fail', `${B}/src`, extra), 'PreconditionFailed', 412);
  }
  await expectError(srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cond-fail' })), 'NotFound', 404);
  const r = await signedFetch(srv, 'PUT', `/${B}/cond-fail`, {
    headers: { 'x-amz-copy-source': `${B}/src`, 'x-amz-copy-source-if-match': '"nope"' },
  });
  assert.equal(r.status, 412);
  assert.match(await r.text(), /<Condition>x-amz-copy-source-If-Match<\/Condition>/);
});

test('CopyObject errors: missing source key, missing source bucket, missing destination bucket', async () => {
  await expectError(copy('x', `${B}/no-such-key`), 'NoSuchKey', 404);
  await expectError(copy('x', 'no-such-bucket/key'), 'NoSuchBucket', 404);
  await expectError(copy('x', `${B}/src`, {}, 'no-such-bucket'), 'NoSuchBucket', 404);
});

test('CopyObject refuses a malformed copy source and an unknown directive with InvalidArgument', async () => {
  for (const source of ['just-a-bucket', '/', `${B}/`]) {
    const r = await signedFetch(srv, 'PUT', `/${B}/x`, { headers: { 'x-amz-copy-source': source } });
    assert.equal(r.status, 400, source);
    assert.match(await r.text(), /<Code>InvalidArgument<\/Code>/);
  }
  const r = await signedFetch(srv, 'PUT', `/${B}/x`, {
    headers: { 'x-amz-copy-source': `${B}/src`, 'x-amz-metadata-directive': 'MERGE' },
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /Unknown metadata directive/);
});

test('CopyObject result XML has AWS shape and namespace', async () => {
  const r = await signedFetch(srv, 'PUT', `/${B}/xml-copy`, { headers: { 'x-amz-copy-source': `${B}/src` } });
  assert.equal(r.status, 200);
  const xml = await r.text();
  assert.match(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<CopyObjectResult xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"><LastModified>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z<\/LastModified><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag>/,
  );
});

test('CopyObject streams a multi-block object; the copy has the same bytes and ETag', async () => {
  const body = randomBytes(12 * 1024 * 1024 + 3);
  await put('large', body);
  const r = await copy('large-copy', `${B}/large`);
  assert.equal(r.CopyObjectResult?.ETag, `"${md5hex(body)}"`);
  const got = await bytes('large-copy');
  assert.equal(
    createHash('sha256').update(got).digest('hex'),
    createHash('sha256').update(body).digest('hex'),
  );
});

test('CopyObject refuses metadata over 2 KB and a destination key over 1024 bytes', async () => {
  await expectError(
    copy('too-much', `${B}/src`, { MetadataDirective: 'REPLACE', Metadata: { k: 'v'.repeat(2048) } }),
    'MetadataTooLarge',
    400,
  );
  await expectError(copy('k'.repeat(1025), `${B}/src`), 'KeyTooLongError', 400);
});

test('CopyObject through the minio client, with conditions', async () => {
  const minio = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
  });
  const conds = new CopyConditions();
  conds.setMatchETag(md5hex('source body'));
  await minio.copyObject(B2, 'via-minio', `/${B}/src`, conds);
  assert.equal((await bytes('via-minio', B2)).toString(), 'source body');
  const bad = new CopyConditions();
  bad.setMatchETag('0000');
  await assert.rejects(minio.copyObject(B2, 'via-minio-2', `/${B}/src`, bad));
});

test.run();
