/**
 * Conditional writes through the AWS SDK against a real server: PutObject, CopyObject and
 * CompleteMultipartUpload with `If-None-Match` (`*` or ETags) and `If-Match`, as AWS: 412
 * PreconditionFailed when the condition fails, 404 NoSuchKey for `If-Match` with no current object
 * (none, or a delete marker latest), only the current version counts, and the condition is checked
 * again under the key's write lock so that racing writes cannot both pass it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import { startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let bucketNo = 0;

test.before(async () => {
  srv = await startServer({ minPartSize: 5 });
});
test.after(async () => {
  await srv?.stop();
});

async function bucket(versioned = false): Promise<string> {
  const b = `cond-${++bucketNo}`;
  await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
  if (versioned) {
    await srv.s3.send(
      new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }),
    );
  }
  return b;
}

const quoted = (body: string | Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`;

async function put(
  b: string,
  key: string,
  body: string,
  extra: { IfMatch?: string; IfNoneMatch?: string } = {},
) {
  return srv.s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body, ...extra }));
}

async function read(b: string, key: string): Promise<string> {
  const r = await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
  return r.Body!.transformToString();
}

async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  assert.fail('expected an S3 error');
}

async function expectError(p: Promise<unknown>, code: string, status: number): Promise<S3ServiceException> {
  const e = await s3Error(p);
  assert.equal(e.name, code);
  assert.equal(e.$metadata.httpStatusCode, status);
  return e;
}

/** Files left in every drive's temporary space (a refused write must leave none). */
async function tmpFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const root of srv.roots) {
    const names = await readdir(path.join(root, '.cairn.sys', 'tmp')).catch(() => [] as string[]);
    out.push(...names);
  }
  return out;
}

// --- PutObject ---------------------------------------------------------------------------------------

test('PutObject with If-None-Match: * creates a missing key and refuses an existing one with 412', async () => {
  const b = await bucket();
  const r = await put(b, 'k', 'one', { IfNoneMatch: '*' });
  assert.equal(r.ETag, quoted('one'));
  const e = await expectError(put(b, 'k', 'two', { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
  assert.equal((e as S3ServiceException & { Condition?: string }).Condition, 'If-None-Match');
  assert.equal(await read(b, 'k'), 'one');
});

test('PutObject with If-None-Match: <etag> is 412 when the current ETag matches, 200 otherwise', async () => {
  const b = await bucket();
  const { ETag } = await put(b, 'k', 'one');
  await expectError(put(b, 'k', 'two', { IfNoneMatch: ETag! }), 'PreconditionFailed', 412);
  await put(b, 'k', 'three', { IfNoneMatch: '"badetag"' });
  assert.equal(await read(b, 'k'), 'three');
  // On a missing key any ETag list passes.
  await put(b, 'other', 'x', { IfNoneMatch: ETag! });
});

test('PutObject with If-Match replaces the object only when the current ETag matches', async () => {
  const b = await bucket();
  const { ETag } = await put(b, 'k', 'one');
  await expectError(put(b, 'k', 'two', { IfMatch: '"badetag"' }), 'PreconditionFailed', 412);
  assert.equal(await read(b, 'k'), 'one');
  const r = await put(b, 'k', 'two', { IfMatch: ETag! });
  assert.equal(r.ETag, quoted('two'));
  // The old ETag no longer matches; `*` matches any object.
  await expectError(put(b, 'k', 'three', { IfMatch: ETag! }), 'PreconditionFailed', 412);
  await put(b, 'k', 'four', { IfMatch: '*' });
  assert.equal(await read(b, 'k'), 'four');
});

test('PutObject with If-Match on a missing key is 404 NoSuchKey and stores nothing', async () => {
  const b = await bucket();
  await expectError(put(b, 'k', 'one', { IfMatch: '*' }), 'NoSuchKey', 404);
  await expectError(put(b, 'k', 'one', { IfMatch: '"badetag"' }), 'NoSuchKey', 404);
  await expectError(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })), 'NoSuchKey', 404);
});

test('PutObject conditions in a versioned bucket apply to the current version only', async () => {
  const b = await bucket(true);
  const first = await put(b, 'k', 'one', { IfNoneMatch: '*' });
  const second = await put(b, 'k', 'two');
  await expectError(put(b, 'k', 'x', { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
  await expectError(put(b, 'k', 'x', { IfMatch: first.ETag! }), 'PreconditionFailed', 412);
  await expectError(put(b, 'k', 'x', { IfNoneMatch: second.ETag! }), 'PreconditionFailed', 412);
  // An older version's ETag is not the current one.
  const third = await put(b, 'k', 'three', { IfNoneMatch: first.ETag! });
  assert.ok(third.VersionId);
  await put(b, 'k', 'four', { IfMatch: quoted('three') });
  assert.equal(await read(b, 'k'), 'four');
});

test('PutObject treats a delete marker as latest as no object: If-Match 404, If-None-Match: * 200', async () => {
  const b = await bucket(true);
  const { ETag } = await put(b, 'k', 'one');
  const d = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(d.DeleteMarker, true);
  await expectError(put(b, 'k', 'x', { IfMatch: '*' }), 'NoSuchKey', 404);
  await expectError(put(b, 'k', 'x', { IfMatch: ETag! }), 'NoSuchKey', 404);
  await put(b, 'k', 'two', { IfNoneMatch: '*' });
  assert.equal(await read(b, 'k'), 'two');
});

test('PutObject with If-None-Match: * checks again at commit: a key created during the upload is 412, no data left', async () => {
  const b = await bucket();
  // The first write's headers (and so its early check) arrive before the key exists; its body ends
  // only after another write has created the key.
  const stream = new PassThrough();
  const first = Buffer.alloc(2 * 1024 * 1024, 1);
  const slow = srv.s3
    .send(
      new PutObjectCommand({
        Bucket: b,
        Key: 'k',
        Body: stream,
        ContentLength: first.length * 2,
        IfNoneMatch: '*',
      }),
    )
    .then(
      (r) => ({ ok: true as const, etag: r.ETag }),
      (e: unknown) => ({ ok: false as const, e }),
    );
  stream.write(first);
  await new Promise((r) => setTimeout(r, 300));
  const winner = await put(b, 'k', 'winner', { IfNoneMatch: '*' });
  assert.equal(winner.ETag, quoted('winner'));
  stream.end(first);
  const r = await slow;
  assert.equal(r.ok, false, 'the late write must not overwrite');
  if (!r.ok) {
    assert.ok(r.e instanceof S3ServiceException);
    assert.equal(r.e.name, 'PreconditionFailed');
    assert.equal(r.e.$metadata.httpStatusCode, 412);
  }
  assert.equal(await read(b, 'k'), 'winner');
  assert.deepEqual(await tmpFiles(), []);
});

test('two concurrent PutObject with If-None-Match: * on one key: exactly one 200 and one 412', async () => {
  const b = await bucket();
  for (let round = 0; round < 3; round++) {
    const key = `race-${round}`;
    const bodies = [Buffer.alloc(2 * 1024 * 1024, 1), Buffer.alloc(2 * 1024 * 1024, 2)];
    const results = await Promise.allSettled(
      bodies.map((Body) =>
        srv.s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body, IfNoneMatch: '*' })),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter(
      (r): r is PromiseRejectedResult =>
        r.status === 'rejected' &&
        r.reason instanceof S3ServiceException &&
        r.reason.name === 'PreconditionFailed' &&
        r.reason.$metadata.httpStatusCode === 412,
    );
    assert.equal(ok.length, 1, `round ${round}: one write wins`);
    assert.equal(refused.length, 1, `round ${round}: the other is 412`);
    const won = bodies[results.findIndex((r) => r.status === 'fulfilled')]!;
    const got = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: key }));
    assert.equal(got.ETag, quoted(won));
  }
  assert.deepEqual(await tmpFiles(), []);
});

// --- CopyObject --------------------------------------------------------------------------------------

test('CopyObject with If-None-Match: * refuses an existing destination and copies to a new one', async () => {
  const b = await bucket();
  await put(b, 'src', 'source');
  await put(b, 'dst', 'old');
  const copy = (Key: string, extra: { IfMatch?: string; IfNoneMatch?: string }) =>
    srv.s3.send(new CopyObjectCommand({ Bucket: b, Key, CopySource: `${b}/src`, ...extra }));
  await expectError(copy('dst', { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
  assert.equal(await read(b, 'dst'), 'old');
  await copy('new', { IfNoneMatch: '*' });
  assert.equal(await read(b, 'new'), 'source');
  await expectError(copy('dst', { IfMatch: '"badetag"' }), 'PreconditionFailed', 412);
  await expectError(copy('missing', { IfMatch: '*' }), 'NoSuchKey', 404);
  await copy('dst', { IfMatch: quoted('old') });
  assert.equal(await read(b, 'dst'), 'source');
});

test('CopyObject onto itself (a metadata update) honours If-Match and If-None-Match', async () => {
  const b = await bucket();
  await put(b, 'k', 'data');
  const self = (extra: { IfMatch?: string; IfNoneMatch?: string }) =>
    srv.s3.send(
      new CopyObjectCommand({
        Bucket: b,
        Key: 'k',
        CopySource: `${b}/k`,
        MetadataDirective: 'REPLACE',
        Metadata: { a: '1' },
        ...extra,
      }),
    );
  await expectError(self({ IfNoneMatch: '*' }), 'PreconditionFailed', 412);
  await expectError(self({ IfMatch: '"badetag"' }), 'PreconditionFailed', 412);
  await self({ IfMatch: quoted('data') });
});

// --- CompleteMultipartUpload -------------------------------------------------------------------------

async function upload(b: string, key: string, body: string): Promise<{ UploadId: string; etag: string }> {
  const { UploadId } = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
  const p = await srv.s3.send(
    new UploadPartCommand({ Bucket: b, Key: key, UploadId, PartNumber: 1, Body: body }),
  );
  return { UploadId: UploadId!, etag: p.ETag! };
}

function complete(b: string, key: string, u: { UploadId: string; etag: string }, extra: object = {}) {
  return srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: b,
      Key: key,
      UploadId: u.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: u.etag }] },
      ...extra,
    }),
  );
}

test('CompleteMultipartUpload with If-None-Match: * is 412 on an existing key and keeps the upload', async () => {
  const b = await bucket();
  const u = await upload(b, 'k', 'parts');
  await put(b, 'k', 'existing');
  await expectError(complete(b, 'k', u, { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
  assert.equal(await read(b, 'k'), 'existing');
  // The upload is still there to be completed.
  const parts = await srv.s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: u.UploadId }));
  assert.equal(parts.Parts?.length, 1);
  await complete(b, 'k', u, { IfMatch: quoted('existing') });
  assert.equal(await read(b, 'k'), 'parts');
});

test('CompleteMultipartUpload with If-Match on a missing key is 404 NoSuchKey', async () => {
  const b = await bucket(true);
  const u = await upload(b, 'k', 'parts');
  await expectError(complete(b, 'k', u, { IfMatch: '*' }), 'NoSuchKey', 404);
  await put(b, 'k', 'x');
  await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  await expectError(complete(b, 'k', u, { IfMatch: quoted('x') }), 'NoSuchKey', 404);
  await complete(b, 'k', u, { IfNoneMatch: '*' });
  assert.equal(await read(b, 'k'), 'parts');
});

test('CompleteMultipartUpload checks its condition under the key lock: a key created meanwhile is 412', async () => {
  const b = await bucket();
  const u = await upload(b, 'k', 'parts');
  // Through the object layer: the precondition sees the object as it is at commit.
  const seen: (string | null)[] = [];
  await put(b, 'k', 'meanwhile');
  await assert.rejects(
    srv.server.objects.completeMultipartUpload(b, 'k', u.UploadId, [{ number: 1, etag: u.etag }], {
      precondition: (current) => {
        seen.push(current ? current.etag : null);
        if (current) throw new Error('exists');
      },
    }),
    /exists/,
  );
  assert.deepEqual(seen, [quoted('meanwhile').slice(1, -1)]);
  assert.equal(await read(b, 'k'), 'meanwhile');
  const parts = await srv.s3.send(new ListPartsCommand({ Bucket: b, Key: 'k', UploadId: u.UploadId }));
  assert.equal(parts.Parts?.length, 1);
});

test.run();
