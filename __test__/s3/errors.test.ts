import assert from 'node:assert/strict';
import { test } from 'uvu';
import { AUTH_ERRORS } from '../../src/auth';
import { ObjectError, ObjectErrorCodes } from '../../src/object/errors';
import {
  fromObjectError,
  isS3Error,
  isS3ErrorCode,
  S3Error,
  type S3ErrorCode,
  S3Errors,
  toS3Error,
  toXml,
} from '../../src/s3/errors';

test('every S3 error code has an HTTP status and a message', () => {
  for (const [code, spec] of Object.entries(S3Errors)) {
    assert.ok(
      Number.isInteger(spec.status) && spec.status >= 300 && spec.status <= 599,
      `${code}: ${spec.status}`,
    );
    assert.ok(spec.message.length > 0, `${code} has no message`);
    assert.match(code, /^[A-Z][A-Za-z0-9]+$/, `${code} is not an S3 code name`);
  }
});

test('the table holds the codes AWS documents, with AWS statuses', () => {
  const want: Partial<Record<S3ErrorCode, number>> = {
    AccessDenied: 403,
    AuthorizationHeaderMalformed: 400,
    BadDigest: 400,
    BucketAlreadyExists: 409,
    BucketAlreadyOwnedByYou: 409,
    BucketNotEmpty: 409,
    EntityTooLarge: 400,
    EntityTooSmall: 400,
    ExpiredToken: 400,
    IncompleteBody: 400,
    InternalError: 500,
    InvalidAccessKeyId: 403,
    InvalidArgument: 400,
    InvalidBucketName: 400,
    InvalidDigest: 400,
    InvalidObjectState: 403,
    InvalidPart: 400,
    InvalidPartOrder: 400,
    InvalidRange: 416,
    InvalidRequest: 400,
    InvalidStorageClass: 400,
    InvalidTag: 400,
    KeyTooLongError: 400,
    MalformedPolicy: 400,
    MalformedXML: 400,
    MetadataTooLarge: 400,
    MethodNotAllowed: 405,
    MissingContentLength: 411,
    MissingRequestBodyError: 400,
    NoSuchBucket: 404,
    NoSuchBucketPolicy: 404,
    NoSuchCORSConfiguration: 404,
    NoSuchKey: 404,
    NoSuchLifecycleConfiguration: 404,
    NoSuchTagSet: 404,
    NoSuchUpload: 404,
    NoSuchVersion: 404,
    NoSuchWebsiteConfiguration: 404,
    NotImplemented: 501,
    NotModified: 304,
    ObjectLockConfigurationNotFoundError: 404,
    OwnershipControlsNotFoundError: 404,
    PermanentRedirect: 301,
    PreconditionFailed: 412,
    ReplicationConfigurationNotFoundError: 404,
    RequestTimeTooSkewed: 403,
    RequestTimeout: 400,
    ServerSideEncryptionConfigurationNotFoundError: 404,
    ServiceUnavailable: 503,
    SignatureDoesNotMatch: 403,
    SlowDown: 503,
    TemporaryRedirect: 307,
    XAmzContentSHA256Mismatch: 400,
  };
  for (const [code, status] of Object.entries(want)) {
    assert.ok(isS3ErrorCode(code), `${code} missing`);
    assert.equal(S3Errors[code as S3ErrorCode].status, status, code);
  }
  assert.ok(isS3ErrorCode('InvalidRetentionPeriod'));
  assert.ok(!isS3ErrorCode('toString'));
  assert.ok(!isS3ErrorCode('NoSuchThing'));
});

test('S3Error takes its status and message from the table, with overrides and extra fields', () => {
  const e = new S3Error('NoSuchKey', { fields: { Key: 'a/b', VersionId: undefined } });
  assert.equal(e.status, 404);
  assert.equal(e.message, 'The specified key does not exist.');
  assert.deepEqual(e.fields, { Key: 'a/b' });
  assert.ok(e instanceof Error);
  assert.ok(isS3Error(e));
  assert.ok(isS3Error(e, 'NoSuchKey', 'NoSuchBucket'));
  assert.ok(!isS3Error(e, 'NoSuchBucket'));
  const o = new S3Error('InvalidArgument', {
    message: 'x-amz-foo is bad',
    fields: { ArgumentName: 'x-amz-foo' },
  });
  assert.equal(o.message, 'x-amz-foo is bad');
  assert.equal(o.status, 400);
});

test('toXml renders the REST error document of the AWS API reference', () => {
  const e = new S3Error('NoSuchKey', {
    message: 'The resource you requested does not exist',
    resource: '/mybucket/myfoto.jpg',
  });
  assert.equal(
    toXml(e, { requestId: '4442587FB7D0A2F9' }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>',
  );
});

test('toXml puts extra elements after Message, then Resource, RequestId and HostId, escaped', () => {
  const e = new S3Error('NoSuchBucket', { fields: { BucketName: 'b&<"x">' } });
  assert.equal(
    toXml(e, { requestId: 'r1', hostId: 'h/1=', resource: "/b&<'x'>/k\r\n" }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>' +
      '<BucketName>b&amp;&lt;&quot;x&quot;&gt;</BucketName><Resource>/b&amp;&lt;&apos;x&apos;&gt;/k&#xD;&#xA;</Resource>' +
      '<RequestId>r1</RequestId><HostId>h/1=</HostId></Error>',
  );
  // the error's own resource wins over the context's
  assert.match(
    toXml(new S3Error('AccessDenied', { resource: '/own' }), { requestId: 'r', resource: '/ctx' }),
    /<Resource>\/own</,
  );
});

const detail = {
  bucket: 'bkt',
  key: 'a/b',
  versionId: 'v1',
  uploadId: 'u1',
  part: 3,
  size: 10,
  range: 'bytes=20-30',
};

test('every object-layer error code maps to an S3 error in the table', () => {
  for (const code of ObjectErrorCodes) {
    const s3 = fromObjectError(new ObjectError(code, 'detail text', detail));
    assert.ok(s3 instanceof S3Error, code);
    assert.ok(isS3ErrorCode(s3.code), `${code} → ${s3.code}`);
    assert.equal(s3.status, S3Errors[s3.code].status);
    assert.ok(s3.cause instanceof ObjectError, `${code}: cause kept for the log`);
  }
});

test('object-layer errors map to the S3 codes and statuses AWS clients expect', () => {
  const want: Record<string, [S3ErrorCode, number]> = {
    BucketNotFound: ['NoSuchBucket', 404],
    BucketExists: ['BucketAlreadyOwnedByYou', 409],
    BucketNotEmpty: ['BucketNotEmpty', 409],
    BucketNameInvalid: ['InvalidBucketName', 400],
    ObjectNotFound: ['NoSuchKey', 404],
    VersionNotFound: ['NoSuchVersion', 404],
    ObjectNameInvalid: ['InvalidArgument', 400],
    ObjectNameTooLong: ['KeyTooLongError', 400],
    MethodNotAllowed: ['MethodNotAllowed', 405],
    InvalidRange: ['InvalidRange', 416],
    InvalidArgument: ['InvalidArgument', 400],
    InsufficientReadQuorum: ['SlowDown', 503],
    InsufficientWriteQuorum: ['SlowDown', 503],
    InvalidUploadId: ['NoSuchUpload', 404],
    InvalidPart: ['InvalidPart', 400],
    InvalidPartOrder: ['InvalidPartOrder', 400],
    PartTooSmall: ['EntityTooSmall', 400],
    EntityTooLarge: ['EntityTooLarge', 400],
    IncompleteBody: ['IncompleteBody', 400],
    BadDigest: ['BadDigest', 400],
    StorageFull: ['XCairnStorageFull', 507],
    OperationTimedOut: ['SlowDown', 503],
    ObjectLocked: ['AccessDenied', 403],
  };
  assert.deepEqual(Object.keys(want).sort(), [...ObjectErrorCodes].sort());
  for (const [code, [s3code, status]] of Object.entries(want)) {
    const s3 = fromObjectError(new ObjectError(code as (typeof ObjectErrorCodes)[number], undefined, detail));
    assert.equal(s3.code, s3code, code);
    assert.equal(s3.status, status, code);
  }
});

test('mapped errors carry the elements and headers AWS adds', () => {
  assert.deepEqual(fromObjectError(new ObjectError('ObjectNotFound', undefined, detail)).fields, {
    Key: 'a/b',
  });
  assert.deepEqual(fromObjectError(new ObjectError('BucketNotFound', undefined, detail)).fields, {
    BucketName: 'bkt',
  });
  assert.deepEqual(fromObjectError(new ObjectError('VersionNotFound', undefined, detail)).fields, {
    Key: 'a/b',
    VersionId: 'v1',
  });
  assert.deepEqual(fromObjectError(new ObjectError('InvalidUploadId', undefined, detail)).fields, {
    UploadId: 'u1',
  });
  const range = fromObjectError(new ObjectError('InvalidRange', 'bytes 20-30 of 10', detail));
  assert.equal(range.headers['Content-Range'], 'bytes */10');
  assert.deepEqual(range.fields, { RangeRequested: 'bytes=20-30', ActualObjectSize: '10' });
  const marker = fromObjectError(
    new ObjectError('MethodNotAllowed', 'delete marker', {
      bucket: 'b',
      key: 'k',
      deleteMarker: true,
      versionId: 'dm',
    }),
  );
  assert.deepEqual(marker.headers, {
    'x-amz-delete-marker': 'true',
    Allow: 'DELETE',
    'x-amz-version-id': 'dm',
  });
  assert.equal(marker.fields.ResourceType, 'DeleteMarker');
});

test('object-layer messages reach the client only where they are the argument at fault', () => {
  const arg = fromObjectError(new ObjectError('InvalidArgument', 'no parts to complete'));
  assert.equal(arg.message, 'no parts to complete');
  // a drive's message may name local paths: never shown
  const name = fromObjectError(
    new ObjectError('ObjectNameInvalid', 'ENAMETOOLONG /srv/d1/.sys/tmp/x', detail),
  );
  assert.doesNotMatch(name.message, /srv/);
  const quorum = fromObjectError(new ObjectError('InsufficientReadQuorum', '2 of 8 drives answered'));
  assert.doesNotMatch(quorum.message, /drives/);
});

test('toS3Error passes S3 errors through, maps object errors, and hides anything else as InternalError', () => {
  const s3 = new S3Error('AccessDenied');
  assert.equal(toS3Error(s3), s3);
  assert.equal(toS3Error(new ObjectError('ObjectNotFound')).code, 'NoSuchKey');
  const boom = new Error('ECONNRESET at /srv/secret');
  const internal = toS3Error(boom);
  assert.equal(internal.code, 'InternalError');
  assert.equal(internal.status, 500);
  assert.doesNotMatch(internal.message, /secret/);
  assert.equal(internal.cause, boom);
  assert.equal(toS3Error('a string').code, 'InternalError');
});

// src/auth sits below src/s3 and cannot import this table, so it keeps the statuses of its own codes:
// this keeps the two from drifting apart.
test('every auth error code is in the S3 error table with the same status', () => {
  for (const [code, { status }] of Object.entries(AUTH_ERRORS)) {
    assert.ok(code in S3Errors, `${code} is not in S3Errors`);
    assert.equal(S3Errors[code as keyof typeof S3Errors].status, status, code);
  }
});

test.run();
