/**
 * Bucket versioning through the AWS SDK against a real server: Put/GetBucketVersioning, versions
 * made by every write, reads/deletes/copies/tags by version id, delete markers, the null version in
 * unversioned and suspended buckets, ListObjectVersions, and every version surviving a restart.
 */
import assert from 'node:assert/strict';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketVersioningCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { startServer as startRaw } from '../../src/server/index';
import { createLogger } from '../../src/server/log';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let bucketNo = 0;

test.before(async () => {
  srv = await startServer();
});
test.after(async () => {
  await srv?.stop();
});

async function bucket(state?: 'Enabled' | 'Suspended'): Promise<string> {
  const b = `ver-${++bucketNo}`;
  await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
  if (state) await setVersioning(b, state);
  return b;
}

async function setVersioning(b: string, state: 'Enabled' | 'Suspended'): Promise<void> {
  await srv.s3.send(
    new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: state } }),
  );
}

async function put(b: string, key: string, body: string) {
  return srv.s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }));
}

async function get(b: string, key: string, versionId?: string): Promise<string> {
  const r = await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: key, VersionId: versionId }));
  return r.Body!.transformToString();
}

async function fails(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, String(e));
    return e;
  }
  throw new Error('expected a failure');
}

async function versions(
  b: string,
  extra: Partial<ConstructorParameters<typeof ListObjectVersionsCommand>[0]> = {},
) {
  return srv.s3.send(new ListObjectVersionsCommand({ Bucket: b, ...extra }));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// --- Put/GetBucketVersioning ----------------------------------------------------------------------

test('GetBucketVersioning of a new bucket has no Status; Enabled and Suspended read back', async () => {
  const b = await bucket();
  const raw = await signedFetch(srv, 'GET', `/${b}?versioning`);
  assert.equal(raw.status, 200);
  assert.match(
    await raw.text(),
    /<VersioningConfiguration xmlns="http:\/\/s3.amazonaws.com\/doc\/2006-03-01\/"\s*\/>|<VersioningConfiguration xmlns="[^"]+"><\/VersioningConfiguration>/,
  );
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, undefined);
  await setVersioning(b, 'Enabled');
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
  await setVersioning(b, 'Suspended');
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Suspended');
  await setVersioning(b, 'Enabled');
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
});

test('PutBucketVersioning refuses a Status other than Enabled or Suspended (no way back to unversioned)', async () => {
  const b = await bucket('Enabled');
  const body = '<VersioningConfiguration><Status>Disabled</Status></VersioningConfiguration>';
  const r = await signedFetch(srv, 'PUT', `/${b}?versioning`, { body });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /<Code>MalformedXML<\/Code>/);
  const none = await signedFetch(srv, 'PUT', `/${b}?versioning`, { body: '<VersioningConfiguration/>' });
  assert.equal(none.status, 400);
  assert.match(await none.text(), /<Code>IllegalVersioningConfigurationException<\/Code>/);
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
});

test('PutBucketVersioning accepts MfaDelete Disabled and refuses Enabled with NotImplemented', async () => {
  const b = await bucket();
  await srv.s3.send(
    new PutBucketVersioningCommand({
      Bucket: b,
      VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' },
    }),
  );
  const e = await fails(
    srv.s3.send(
      new PutBucketVersioningCommand({
        Bucket: b,
        VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' },
        MFA: '123456 654321',
      }),
    ),
  );
  assert.equal(e.name, 'NotImplemented');
  assert.equal(e.$metadata.httpStatusCode, 501);
});

test('PutBucketVersioning on a missing bucket is NoSuchBucket', async () => {
  const e = await fails(setVersioning('ver-no-such-bucket', 'Enabled'));
  assert.equal(e.name, 'NoSuchBucket');
});

test('PutBucketVersioning Suspended is InvalidBucketState (409) when the bucket has Object Lock', async () => {
  const b = `ver-lock-${++bucketNo}`;
  await srv.s3.send(new CreateBucketCommand({ Bucket: b, ObjectLockEnabledForBucket: true }));
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
  const e = await fails(setVersioning(b, 'Suspended'));
  assert.equal(e.name, 'InvalidBucketState');
  assert.equal(e.$metadata.httpStatusCode, 409);
  await setVersioning(b, 'Enabled');
});

// --- versions made by writes --------------------------------------------------------------------------

test('an unversioned bucket keeps one null version and sends no x-amz-version-id', async () => {
  const b = await bucket();
  const p = await put(b, 'k', 'one');
  assert.equal(p.VersionId, undefined);
  await put(b, 'k', 'two');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(h.VersionId, undefined);
  const v = await versions(b);
  assert.equal(v.Versions?.length, 1);
  assert.equal(v.Versions![0]!.VersionId, 'null');
  assert.equal(v.Versions![0]!.IsLatest, true);
  const d = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(d.DeleteMarker, undefined);
  assert.equal(d.VersionId, undefined);
  assert.equal((await versions(b)).Versions, undefined);
});

test('every PUT in an Enabled bucket makes a new, sortable version; each is readable by id', async () => {
  const b = await bucket('Enabled');
  const ids: string[] = [];
  for (const body of ['a', 'b', 'c']) {
    const p = await put(b, 'k', body);
    assert.match(p.VersionId!, UUID);
    ids.push(p.VersionId!);
  }
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(await get(b, 'k'), 'c');
  assert.equal(await get(b, 'k', ids[0]), 'a');
  assert.equal(await get(b, 'k', ids[1]), 'b');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[0] }));
  assert.equal(h.VersionId, ids[0]);
  assert.equal(h.ContentLength, 1);
  const g = await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(g.VersionId, ids[2]);
  await g.Body!.transformToString();
});

test('objects written before versioning keep the null version, named null once versioning is set', async () => {
  const b = await bucket();
  await put(b, 'k', 'old');
  await setVersioning(b, 'Enabled');
  const p = await put(b, 'k', 'new');
  assert.notEqual(p.VersionId, 'null');
  assert.equal(await get(b, 'k', 'null'), 'old');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: 'null' }));
  assert.equal(h.VersionId, 'null');
  const v = await versions(b);
  assert.deepEqual(
    v.Versions!.map((x) => [x.VersionId, x.IsLatest]),
    [
      [p.VersionId, true],
      ['null', false],
    ],
  );
});

test('a Suspended bucket replaces the null version, keeps the others, and PutObject names no version', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'k', 'v1')).VersionId!;
  await setVersioning(b, 'Suspended');
  const p = await put(b, 'k', 's1');
  // AWS's PutObject "versioning suspended" example answers without x-amz-version-id.
  assert.equal(p.VersionId, undefined);
  await put(b, 'k', 's2');
  assert.equal(await get(b, 'k'), 's2');
  assert.equal(await get(b, 'k', 'null'), 's2');
  assert.equal(await get(b, 'k', v1), 'v1');
  const v = await versions(b);
  assert.deepEqual(
    v.Versions!.map((x) => x.VersionId),
    ['null', v1],
  );
});

test('CompleteMultipartUpload and CopyObject make new versions in an Enabled bucket', async () => {
  const b = await bucket('Enabled');
  const first = (await put(b, 'src', 'source-1')).VersionId!;
  await put(b, 'src', 'source-2');
  const c = await srv.s3.send(
    new CopyObjectCommand({ Bucket: b, Key: 'dst', CopySource: `${b}/src?versionId=${first}` }),
  );
  assert.equal(c.CopySourceVersionId, first);
  assert.match(c.VersionId!, UUID);
  assert.equal(await get(b, 'dst'), 'source-1');
  // A copy onto itself in a versioned bucket is a new version, not an in-place change.
  const self = await srv.s3.send(
    new CopyObjectCommand({
      Bucket: b,
      Key: 'dst',
      CopySource: `${b}/dst`,
      MetadataDirective: 'REPLACE',
      Metadata: { m: '1' },
    }),
  );
  assert.notEqual(self.VersionId, c.VersionId);
  assert.equal((await versions(b, { Prefix: 'dst' })).Versions?.length, 2);

  const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
  const part = await srv.s3.send(
    new UploadPartCopyCommand({
      Bucket: b,
      Key: 'mp',
      UploadId: up.UploadId,
      PartNumber: 1,
      CopySource: `${b}/src?versionId=${first}`,
    }),
  );
  assert.equal(part.CopySourceVersionId, first);
  const done = await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: b,
      Key: 'mp',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] },
    }),
  );
  assert.match(done.VersionId!, UUID);
  assert.equal(await get(b, 'mp'), 'source-1');
});

test('PutObject and CopyObject answer no x-amz-version-id in Suspended and unversioned buckets', async () => {
  for (const state of ['Suspended', undefined] as const) {
    const b = await bucket(state);
    const p = await put(b, 'k', 'x');
    assert.equal(p.VersionId, undefined, `PutObject, ${state}`);
    assert.equal(p.$metadata.httpStatusCode, 200);
    const c = await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/k` }));
    assert.equal(c.VersionId, undefined, `CopyObject, ${state}`);
  }
});

test('CompleteMultipartUpload in a Suspended bucket writes the null version and names no version (as PutObject)', async () => {
  const b = await bucket('Suspended');
  const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp' }));
  const p = await srv.s3.send(
    new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'x' }),
  );
  const done = await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: b,
      Key: 'mp',
      UploadId: up.UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
    }),
  );
  assert.equal(done.VersionId, undefined);
  const head = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'mp', VersionId: 'null' }));
  assert.equal(head.ContentLength, 1);
});

/** A browser form upload (POST Object) of `body` to `bucket/key`, signed by minio-js's post policy. */
async function postForm(bucket: string, key: string, body: string): Promise<Response> {
  const minio = minioClient();
  const policy = minio.newPostPolicy();
  policy.setBucket(bucket);
  policy.setKey(key);
  policy.setExpires(new Date(Date.now() + 60_000));
  const { postURL, formData } = await minio.presignedPostPolicy(policy);
  const form = new FormData();
  for (const [k, v] of Object.entries(formData)) form.append(k, v);
  form.append('file', new Blob([body]));
  return fetch(postURL, { method: 'POST', body: form });
}

test('a POST form upload in a Suspended bucket writes the null version and names no version', async () => {
  const b = await bucket('Suspended');
  const r = await postForm(b, 'posted', 'posted body');
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('x-amz-version-id'), null);
  const head = await srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'posted', VersionId: 'null' }));
  assert.equal(head.ContentLength, 11);
});

test('a POST form upload in an Enabled bucket makes a version and names it', async () => {
  const b = await bucket('Enabled');
  const r = await postForm(b, 'posted', 'posted body');
  assert.equal(r.status, 204);
  assert.match(r.headers.get('x-amz-version-id') ?? '', UUID);
  assert.equal(await get(b, 'posted', r.headers.get('x-amz-version-id')!), 'posted body');
});

// --- version ids -------------------------------------------------------------------------------------

test('an unknown version id is NoSuchVersion (404); a malformed one is InvalidArgument (400)', async () => {
  const b = await bucket('Enabled');
  await put(b, 'k', 'x');
  const unknown = '01890a5d-ac96-774b-bcce-b302099a8057';
  const e = await fails(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: unknown })));
  assert.equal(e.name, 'NoSuchVersion');
  assert.equal(e.$metadata.httpStatusCode, 404);
  const h = await fails(srv.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k', VersionId: unknown })));
  assert.equal(h.$metadata.httpStatusCode, 404);
  const r = await signedFetch(srv, 'GET', `/${b}/k?versionId=not-a-version`);
  assert.equal(r.status, 400);
  const text = await r.text();
  assert.match(text, /<Code>InvalidArgument<\/Code>/);
  assert.match(text, /Invalid version id specified/);
  const del = await signedFetch(srv, 'DELETE', `/${b}/k?versionId=zzz`);
  assert.equal(del.status, 400);
  const tag = await fails(
    srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: 'bogus' })),
  );
  assert.equal(tag.name, 'InvalidArgument');
  const copy = await fails(
    srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/k?versionId=bogus` })),
  );
  assert.equal(copy.name, 'InvalidArgument');
  const copyUnknown = await fails(
    srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/k?versionId=${unknown}` })),
  );
  assert.equal(copyUnknown.name, 'NoSuchVersion');
});

test('tagging and attributes act on the version named', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'k', 'one')).VersionId!;
  const v2 = (await put(b, 'k', 'second')).VersionId!;
  const t = await srv.s3.send(
    new PutObjectTaggingCommand({
      Bucket: b,
      Key: 'k',
      VersionId: v1,
      Tagging: { TagSet: [{ Key: 'a', Value: '1' }] },
    }),
  );
  assert.equal(t.VersionId, v1);
  const g1 = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
  assert.deepEqual(g1.TagSet, [{ Key: 'a', Value: '1' }]);
  assert.equal(g1.VersionId, v1);
  const g2 = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k' }));
  assert.deepEqual(g2.TagSet, []);
  assert.equal(g2.VersionId, v2);
  const d = await srv.s3.send(new DeleteObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
  assert.equal(d.VersionId, v1);
  assert.deepEqual(
    (await srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: v1 }))).TagSet,
    [],
  );
  const a = await srv.s3.send(
    new GetObjectAttributesCommand({ Bucket: b, Key: 'k', VersionId: v1, ObjectAttributes: ['ObjectSize'] }),
  );
  assert.equal(a.ObjectSize, 3);
  assert.equal(a.VersionId, v1);
});

// --- delete markers ----------------------------------------------------------------------------------

test('DELETE in an Enabled bucket writes a delete marker; GET/HEAD of the key is 404 naming it', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'k', 'x')).VersionId!;
  const d = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(d.DeleteMarker, true);
  assert.match(d.VersionId!, UUID);
  const r = await signedFetch(srv, 'GET', `/${b}/k`);
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('x-amz-delete-marker'), 'true');
  assert.equal(r.headers.get('x-amz-version-id'), d.VersionId);
  assert.match(await r.text(), /<Code>NoSuchKey<\/Code>/);
  const h = await signedFetch(srv, 'HEAD', `/${b}/k`);
  assert.equal(h.status, 404);
  assert.equal(h.headers.get('x-amz-delete-marker'), 'true');
  // The older version is still there, by id; the key is gone from plain listings.
  assert.equal(await get(b, 'k', v1), 'x');
  assert.equal((await srv.s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount, 0);
});

test('GET/HEAD of a delete marker by id is 405 MethodNotAllowed with the marker headers and Allow', async () => {
  const b = await bucket('Enabled');
  await put(b, 'k', 'x');
  const d = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  const r = await signedFetch(srv, 'GET', `/${b}/k?versionId=${d.VersionId}`);
  assert.equal(r.status, 405);
  assert.equal(r.headers.get('x-amz-delete-marker'), 'true');
  assert.equal(r.headers.get('x-amz-version-id'), d.VersionId);
  assert.equal(r.headers.get('allow'), 'DELETE');
  const text = await r.text();
  assert.match(text, /<Code>MethodNotAllowed<\/Code>/);
  assert.match(text, /<Method>GET<\/Method><ResourceType>DeleteMarker<\/ResourceType>/);
  const h = await signedFetch(srv, 'HEAD', `/${b}/k?versionId=${d.VersionId}`);
  assert.equal(h.status, 405);
  assert.equal(h.headers.get('x-amz-delete-marker'), 'true');
  const copy = await fails(
    srv.s3.send(
      new CopyObjectCommand({ Bucket: b, Key: 'c', CopySource: `${b}/k?versionId=${d.VersionId}` }),
    ),
  );
  assert.equal(copy.name, 'InvalidRequest');
  const tag = await fails(
    srv.s3.send(new GetObjectTaggingCommand({ Bucket: b, Key: 'k', VersionId: d.VersionId })),
  );
  assert.equal(tag.$metadata.httpStatusCode, 405);
});

test('DELETE by version id removes that version for good; deleting the marker undeletes', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'k', 'one')).VersionId!;
  const v2 = (await put(b, 'k', 'two')).VersionId!;
  const dm = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  const undo = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: dm.VersionId }));
  assert.equal(undo.DeleteMarker, true);
  assert.equal(undo.VersionId, dm.VersionId);
  assert.equal(await get(b, 'k'), 'two');
  const gone = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
  assert.equal(gone.DeleteMarker, undefined);
  assert.equal(gone.VersionId, v2);
  assert.equal(await get(b, 'k'), 'one');
  const e = await fails(srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 })));
  assert.equal(e.name, 'NoSuchVersion');
  // Deleting a version that is not there succeeds, as S3 does.
  const again = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
  assert.equal(again.$metadata.httpStatusCode, 204);
  await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
  assert.equal((await versions(b)).Versions, undefined);
});

test('DELETE in a Suspended bucket writes the null delete marker in place of the null version', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'k', 'v1')).VersionId!;
  await setVersioning(b, 'Suspended');
  await put(b, 'k', 'null-data');
  const d = await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
  assert.equal(d.DeleteMarker, true);
  assert.equal(d.VersionId, 'null');
  const v = await versions(b);
  assert.deepEqual(
    v.DeleteMarkers!.map((x) => [x.VersionId, x.IsLatest]),
    [['null', true]],
  );
  assert.deepEqual(
    v.Versions!.map((x) => [x.VersionId, x.IsLatest]),
    [[v1, false]],
  );
  const r = await signedFetch(srv, 'GET', `/${b}/k`);
  assert.equal(r.status, 404);
  assert.equal(r.headers.get('x-amz-version-id'), 'null');
  assert.equal(r.headers.get('x-amz-delete-marker'), 'true');
});

test('DeleteObjects reports markers written and versions removed as AWS does', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'a', 'one')).VersionId!;
  await put(b, 'b', 'two');
  const r = await srv.s3.send(
    new DeleteObjectsCommand({
      Bucket: b,
      Delete: { Objects: [{ Key: 'a', VersionId: v1 }, { Key: 'b' }, { Key: 'c', VersionId: 'bogus' }] },
    }),
  );
  const byKey = new Map(r.Deleted!.map((d) => [d.Key, d]));
  assert.equal(byKey.get('a')!.VersionId, v1);
  assert.equal(byKey.get('a')!.DeleteMarker, undefined);
  assert.equal(byKey.get('b')!.DeleteMarker, true);
  assert.match(byKey.get('b')!.DeleteMarkerVersionId!, UUID);
  assert.equal(r.Errors!.length, 1);
  assert.equal(r.Errors![0]!.Key, 'c');
  assert.equal(r.Errors![0]!.Code, 'InvalidArgument');
  const marker = byKey.get('b')!.DeleteMarkerVersionId!;
  const undo = await srv.s3.send(
    new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'b', VersionId: marker }] } }),
  );
  assert.equal(undo.Deleted![0]!.DeleteMarker, true);
  assert.equal(undo.Deleted![0]!.DeleteMarkerVersionId, marker);
  assert.equal(undo.Deleted![0]!.VersionId, marker);
  assert.equal(await get(b, 'b'), 'two');
});

// --- ListObjectVersions ------------------------------------------------------------------------------

test('ListObjectVersions interleaves versions and markers: key ascending, newest first', async () => {
  const b = await bucket('Enabled');
  const a1 = (await put(b, 'a', '1')).VersionId!;
  const a2 = (await put(b, 'a', '22')).VersionId!;
  const am = (await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'a' }))).VersionId!;
  const b1 = (await put(b, 'b', '333')).VersionId!;
  const raw = await signedFetch(srv, 'GET', `/${b}?versions`);
  const xml = await raw.text();
  const order = [...xml.matchAll(/<(Version|DeleteMarker)><Key>([^<]*)<\/Key><VersionId>([^<]*)</g)].map(
    (m) => `${m[1]}:${m[2]}:${m[3]}`,
  );
  assert.deepEqual(order, [`DeleteMarker:a:${am}`, `Version:a:${a2}`, `Version:a:${a1}`, `Version:b:${b1}`]);
  const v = await versions(b);
  assert.deepEqual(
    v.Versions!.map((x) => [x.Key, x.VersionId, x.IsLatest, x.Size]),
    [
      ['a', a2, false, 2],
      ['a', a1, false, 1],
      ['b', b1, true, 3],
    ],
  );
  assert.deepEqual(
    v.DeleteMarkers!.map((x) => [x.Key, x.VersionId, x.IsLatest]),
    [['a', am, true]],
  );
  assert.equal(v.IsTruncated, false);
});

test('ListObjectVersions pages with key-marker and version-id-marker through every version once', async () => {
  const b = await bucket('Enabled');
  const all: string[] = [];
  for (const k of ['k1', 'k2', 'k3']) {
    for (let i = 0; i < 3; i++) all.unshift(`${k}:${(await put(b, k, `${i}`)).VersionId}`);
  }
  const expected = ['k1', 'k2', 'k3'].flatMap((k) => all.filter((x) => x.startsWith(`${k}:`)));
  const seen: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const p = await versions(b, { MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker });
    for (const v of p.Versions ?? []) seen.push(`${v.Key}:${v.VersionId}`);
    if (!p.IsTruncated) break;
    assert.equal(p.Versions!.length, 2);
    keyMarker = p.NextKeyMarker;
    versionIdMarker = p.NextVersionIdMarker;
    assert.equal(`${keyMarker}:${versionIdMarker}`, seen[seen.length - 1]);
  }
  assert.deepEqual(seen, expected);
  // A key-marker alone starts after that key's versions.
  const after = await versions(b, { KeyMarker: 'k2' });
  assert.deepEqual([...new Set(after.Versions!.map((v) => v.Key))], ['k3']);
});

test('ListObjectVersions rolls keys into CommonPrefixes with a delimiter, under a prefix', async () => {
  const b = await bucket('Enabled');
  await put(b, 'dir/a', '1');
  await put(b, 'dir/a', '2');
  await put(b, 'dir/sub/b', '3');
  await put(b, 'top', '4');
  await put(b, 'gone/x', '5');
  await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'gone/x' }));
  const v = await versions(b, { Delimiter: '/' });
  assert.deepEqual(
    v.CommonPrefixes!.map((p) => p.Prefix),
    ['dir/', 'gone/'],
  );
  assert.deepEqual(
    v.Versions!.map((x) => x.Key),
    ['top'],
  );
  const under = await versions(b, { Prefix: 'dir/', Delimiter: '/' });
  assert.deepEqual(
    under.Versions!.map((x) => x.Key),
    ['dir/a', 'dir/a'],
  );
  assert.deepEqual(
    under.CommonPrefixes!.map((p) => p.Prefix),
    ['dir/sub/'],
  );
  const dash = await versions(b, { Delimiter: 'i' });
  assert.deepEqual(
    dash.CommonPrefixes!.map((p) => p.Prefix),
    ['di'],
  );
});

test('ListObjectVersions with encoding-type=url encodes keys and markers', async () => {
  const b = await bucket('Enabled');
  await put(b, 'a b&c', 'x');
  const r = await signedFetch(srv, 'GET', `/${b}?versions&encoding-type=url`);
  const xml = await r.text();
  // AWS's url encoding writes a space as `+`.
  assert.match(xml, /<Key>a\+b%26c<\/Key>/);
  assert.match(xml, /<EncodingType>url<\/EncodingType>/);
});

test('ListObjectVersions refuses a version-id-marker without a key-marker, and a malformed one', async () => {
  const b = await bucket('Enabled');
  const alone = await signedFetch(srv, 'GET', `/${b}?versions&version-id-marker=null`);
  assert.equal(alone.status, 400);
  assert.match(await alone.text(), /<Code>InvalidArgument<\/Code>/);
  const bad = await signedFetch(srv, 'GET', `/${b}?versions&key-marker=a&version-id-marker=nope`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /Invalid version id specified/);
  const missing = await fails(versions('ver-no-such-bucket'));
  assert.equal(missing.name, 'NoSuchBucket');
});

test('ListObjectVersions max-keys=0 is an empty page', async () => {
  const b = await bucket('Enabled');
  await put(b, 'k', 'x');
  const v = await versions(b, { MaxKeys: 0 });
  assert.equal(v.Versions, undefined);
  assert.equal(v.IsTruncated, false);
});

test('the minio client lists versions (listObjects with IncludeVersion)', async () => {
  const b = await bucket('Enabled');
  const v1 = (await put(b, 'm', 'one')).VersionId!;
  const v2 = (await put(b, 'm', 'two')).VersionId!;
  const minio = minioClient();
  const got = await new Promise<{ name?: string; versionId?: string | null; isLatest?: boolean }[]>(
    (resolve, reject) => {
      const out: { name?: string; versionId?: string | null; isLatest?: boolean }[] = [];
      const s = minio.listObjects(b, '', true, { IncludeVersion: true });
      s.on('data', (o) => out.push(o as (typeof out)[number]));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    },
  );
  assert.deepEqual(
    got.map((o) => [o.name, o.versionId, o.isLatest]),
    [
      ['m', v2, true],
      ['m', v1, false],
    ],
  );
});

test('DeleteBucket refuses a bucket holding only older versions and delete markers (BucketNotEmpty)', async () => {
  const b = await bucket('Enabled');
  const v = (await put(b, 'k', 'x')).VersionId!;
  const dm = (await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).VersionId!;
  const e = await fails(srv.s3.send(new DeleteBucketCommand({ Bucket: b })));
  assert.equal(e.name, 'BucketNotEmpty');
  await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v }));
  const onlyMarker = await fails(srv.s3.send(new DeleteBucketCommand({ Bucket: b })));
  assert.equal(onlyMarker.name, 'BucketNotEmpty');
  await srv.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: dm }));
  await srv.s3.send(new DeleteBucketCommand({ Bucket: b }));
});

// --- restart ------------------------------------------------------------------------------------------

test('every version, marker and the versioning state survive a restart on the same drives', async () => {
  const one = await startServer();
  let second: Awaited<ReturnType<typeof startRaw>> | undefined;
  try {
    const b = 'restart';
    await one.s3.send(new CreateBucketCommand({ Bucket: b }));
    await one.s3.send(
      new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const ids: string[] = [];
    for (const body of ['a', 'b'.repeat(200_000)]) {
      ids.push((await one.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: body }))).VersionId!);
    }
    const dm = (await one.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).VersionId!;
    await one.server.close();
    second = await startRaw({
      drives: one.roots,
      address: '127.0.0.1:0',
      rootUser: one.accessKey,
      rootPassword: one.secretKey,
      region: one.region,
      domains: [],
      log: createLogger({ level: 'error' }),
      background: false,
      shutdownTimeoutMs: 5_000,
    });
    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${second.port}`,
      region: one.region,
      forcePathStyle: true,
      credentials: { accessKeyId: one.accessKey, secretAccessKey: one.secretKey },
      maxAttempts: 1,
    });
    try {
      assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: b }))).Status, 'Enabled');
      const v = await s3.send(new ListObjectVersionsCommand({ Bucket: b }));
      assert.deepEqual(
        v.Versions!.map((x) => x.VersionId),
        [ids[1], ids[0]],
      );
      assert.deepEqual(
        v.DeleteMarkers!.map((x) => x.VersionId),
        [dm],
      );
      const g = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[1] }));
      assert.equal((await g.Body!.transformToString()).length, 200_000);
      const g0 = await s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: ids[0] }));
      assert.equal(await g0.Body!.transformToString(), 'a');
      const p = await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'c' }));
      assert.match(p.VersionId!, UUID);
    } finally {
      s3.destroy();
    }
  } finally {
    await second?.close();
    await one.stop();
  }
});

function minioClient(): MinioClient {
  return new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
  });
}

test.run();
