import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'uvu';
import { isS3Error, type S3Error, type S3ErrorCode } from '../../src/s3/errors';
import * as h from '../../src/s3/headers';

function throwsS3(f: () => unknown, code: S3ErrorCode, message?: RegExp): S3Error {
  try {
    f();
  } catch (e) {
    assert.ok(isS3Error(e), `not an S3Error: ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

// --- Range -------------------------------------------------------------------------------------------

test('Range: the three single-range forms are parsed', () => {
  assert.deepEqual(h.parseRange('bytes=0-499'), { first: 0, last: 499 });
  assert.deepEqual(h.parseRange('bytes=500-'), { first: 500 });
  assert.deepEqual(h.parseRange('bytes=-500'), { suffix: 500 });
  assert.deepEqual(h.parseRange(' Bytes=5-5 '), { first: 5, last: 5 });
});

test('Range: invalid syntax, other units and several ranges are ignored (the whole object is served)', () => {
  for (const v of [
    undefined,
    '',
    'bytes=',
    'bytes=-',
    'bytes=5-2',
    'bytes=a-b',
    'bytes=1-2-3',
    'bytes=+1-2',
    'bytes = 1-2',
    'items=0-5',
    '0-5',
    'bytes=0-1,3-4',
    'bytes=0-1, 3-4',
    'bytes=0-5,',
  ]) {
    assert.equal(h.parseRange(v), undefined, String(v));
  }
});

test('Range: resolved against the size, clamped at the end, 416 when unsatisfiable', () => {
  const resolve = (v: string, size: number) => h.resolveRange(h.parseRange(v)!, size);
  assert.deepEqual(resolve('bytes=0-499', 10000), { start: 0, end: 499 });
  assert.deepEqual(resolve('bytes=9500-', 10000), { start: 9500, end: 9999 });
  assert.deepEqual(resolve('bytes=-500', 10000), { start: 9500, end: 9999 });
  assert.deepEqual(resolve('bytes=0-0', 1), { start: 0, end: 0 });
  // a last byte past the end is clamped; a suffix longer than the object is the whole object
  assert.deepEqual(resolve('bytes=5-100', 10), { start: 5, end: 9 });
  assert.deepEqual(resolve('bytes=0-99999999999999999999', 10), { start: 0, end: 9 });
  assert.deepEqual(resolve('bytes=-100', 10), { start: 0, end: 9 });
  // unsatisfiable: first byte at or past the end, zero-length suffix, any range of an empty object
  assert.equal(resolve('bytes=10-', 10), null);
  assert.equal(resolve('bytes=10-20', 10), null);
  assert.equal(resolve('bytes=99999999999999999999-', 10), null);
  assert.equal(resolve('bytes=-0', 10), null);
  assert.equal(resolve('bytes=0-', 0), null);
  assert.equal(resolve('bytes=-5', 0), null);
  assert.equal(h.contentRange({ start: 0, end: 9 }, 100), 'bytes 0-9/100');
  assert.equal(h.contentRange(null, 100), 'bytes */100');
});

test('x-amz-copy-source-range is strictly bytes=first-last within the source', () => {
  assert.deepEqual(h.parseCopySourceRange('bytes=0-9', 10), { start: 0, end: 9 });
  assert.deepEqual(h.parseCopySourceRange('bytes=5242880-10485759', 20971520), {
    start: 5242880,
    end: 10485759,
  });
  for (const v of ['bytes=0-', 'bytes=-5', '0-9', 'bytes=0-1,2-3', 'bytes=a-b']) {
    const e = throwsS3(() => h.parseCopySourceRange(v, 10), 'InvalidArgument', /bytes=first-last/);
    assert.equal(e.fields.ArgumentName, 'x-amz-copy-source-range');
  }
  throwsS3(() => h.parseCopySourceRange('bytes=0-10', 10), 'InvalidArgument', /size: 10/);
  throwsS3(() => h.parseCopySourceRange('bytes=5-4', 10), 'InvalidArgument');
});

// --- Conditional requests ----------------------------------------------------------------------------

const OBJ = { etag: 'd41d8cd98f00b204e9800998ecf8427e', lastModified: new Date('2024-05-01T12:00:00.750Z') };
const Q = `"${OBJ.etag}"`;
const BEFORE = 'Wed, 01 May 2024 11:59:59 GMT';
const SAME = 'Wed, 01 May 2024 12:00:00 GMT';
const AFTER = 'Wed, 01 May 2024 12:00:01 GMT';

test('If-Match: 412 unless an ETag in the list matches (strong comparison), * matches any object', () => {
  const ev = (v: string, m = 'GET') => h.evaluateConditions({ 'if-match': v }, OBJ, m);
  assert.equal(ev(Q), 'ok');
  assert.equal(ev(OBJ.etag), 'ok'); // unquoted, as some clients send
  assert.equal(ev(`"other", ${Q}`), 'ok');
  assert.equal(ev('*'), 'ok');
  assert.equal(ev('"other"'), 'precondition-failed');
  assert.equal(ev(`W/${Q}`), 'precondition-failed');
  assert.equal(ev('"other"', 'PUT'), 'precondition-failed');
  assert.equal(h.evaluateConditions({ 'if-match': '*' }, null, 'PUT'), 'precondition-failed');
});

test('If-None-Match: 304 on GET/HEAD and 412 on writes when an ETag matches (weak comparison)', () => {
  const ev = (v: string, m: string, cur: typeof OBJ | null = OBJ) =>
    h.evaluateConditions({ 'if-none-match': v }, cur, m);
  assert.equal(ev(Q, 'GET'), 'not-modified');
  assert.equal(ev(Q, 'HEAD'), 'not-modified');
  assert.equal(ev(`W/${Q}`, 'GET'), 'not-modified');
  assert.equal(ev('"a", "b"', 'GET'), 'ok');
  assert.equal(ev('*', 'GET'), 'not-modified');
  // conditional write: PutObject with If-None-Match: * fails when the key exists, succeeds when not
  assert.equal(ev('*', 'PUT'), 'precondition-failed');
  assert.equal(ev('*', 'PUT', null), 'ok');
  assert.equal(ev(Q, 'DELETE'), 'precondition-failed');
});

test('If-Modified-Since / If-Unmodified-Since compare to the second, and only apply where RFC 7232 says', () => {
  const ev = (hdrs: Record<string, string>, m = 'GET') => h.evaluateConditions(hdrs, OBJ, m);
  assert.equal(ev({ 'if-modified-since': BEFORE }), 'ok');
  assert.equal(ev({ 'if-modified-since': SAME }), 'not-modified');
  assert.equal(ev({ 'if-modified-since': AFTER }), 'not-modified');
  assert.equal(ev({ 'if-modified-since': SAME }, 'PUT'), 'ok'); // GET and HEAD only
  assert.equal(ev({ 'if-unmodified-since': BEFORE }), 'precondition-failed');
  assert.equal(ev({ 'if-unmodified-since': SAME }), 'ok');
  assert.equal(ev({ 'if-unmodified-since': BEFORE }, 'PUT'), 'precondition-failed');
  // an invalid date is ignored
  assert.equal(ev({ 'if-modified-since': 'yesterday' }), 'ok');
  assert.equal(ev({ 'if-unmodified-since': '2024-05-01' }), 'ok');
  // no object: the dates have nothing to compare with
  assert.equal(h.evaluateConditions({ 'if-unmodified-since': BEFORE }, null, 'GET'), 'ok');
});

test("conditional headers follow AWS's documented precedence", () => {
  const ev = (hdrs: Record<string, string>, m = 'GET') => h.evaluateConditions(hdrs, OBJ, m);
  // AWS: If-Match true and If-Unmodified-Since false → 200
  assert.equal(ev({ 'if-match': Q, 'if-unmodified-since': BEFORE }), 'ok');
  // AWS: If-None-Match false and If-Modified-Since true → 304
  assert.equal(ev({ 'if-none-match': Q, 'if-modified-since': BEFORE }), 'not-modified');
  // If-None-Match true overrides If-Modified-Since false
  assert.equal(ev({ 'if-none-match': '"other"', 'if-modified-since': AFTER }), 'ok');
  // If-Match false wins over everything
  assert.equal(ev({ 'if-match': '"other"', 'if-none-match': '"x"' }), 'precondition-failed');
  // If-Match true, If-None-Match false
  assert.equal(ev({ 'if-match': Q, 'if-none-match': Q }), 'not-modified');
  assert.equal(ev({ 'if-match': Q, 'if-none-match': Q }, 'PUT'), 'precondition-failed');
  // If-Unmodified-Since false fails before If-None-Match is looked at
  assert.equal(ev({ 'if-unmodified-since': BEFORE, 'if-none-match': Q }), 'precondition-failed');
});

test('x-amz-copy-source-if-* use the same rules but every failure is 412', () => {
  const ev = (hdrs: Record<string, string>) => h.evaluateCopySourceConditions(hdrs, OBJ);
  assert.equal(ev({}), 'ok');
  assert.equal(ev({ 'x-amz-copy-source-if-match': Q }), 'ok');
  assert.equal(ev({ 'x-amz-copy-source-if-match': '"x"' }), 'precondition-failed');
  assert.equal(ev({ 'x-amz-copy-source-if-none-match': Q }), 'precondition-failed');
  assert.equal(ev({ 'x-amz-copy-source-if-modified-since': AFTER }), 'precondition-failed');
  assert.equal(ev({ 'x-amz-copy-source-if-unmodified-since': BEFORE }), 'precondition-failed');
  // AWS: if-match true + if-unmodified-since false → copies; if-none-match false + if-modified-since true → 412
  assert.equal(
    ev({ 'x-amz-copy-source-if-match': Q, 'x-amz-copy-source-if-unmodified-since': BEFORE }),
    'ok',
  );
  assert.equal(
    ev({ 'x-amz-copy-source-if-none-match': Q, 'x-amz-copy-source-if-modified-since': BEFORE }),
    'precondition-failed',
  );
});

test('ETag lists: quoted, weak, unquoted, and * entries', () => {
  assert.deepEqual(h.parseEtagList('"a", W/"b",c , "d,e",*'), ['"a"', 'W/"b"', 'c', '"d,e"', '*']);
  assert.deepEqual(h.parseEtagList(''), []);
  assert.equal(h.quoteEtag('abc'), '"abc"');
  assert.equal(h.quoteEtag('"abc"'), '"abc"');
  assert.equal(h.quoteEtag('abc-3'), '"abc-3"');
  assert.equal(h.unquoteEtag('"abc"'), 'abc');
  assert.equal(h.unquoteEtag('W/"abc"'), 'abc');
  assert.equal(h.unquoteEtag(' abc '), 'abc');
});

// --- Dates -------------------------------------------------------------------------------------------

test('HTTP dates: IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in', () => {
  const d = new Date('1994-11-06T08:49:37.000Z');
  assert.equal(h.formatHttpDate(d), 'Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(h.formatHttpDate(new Date('2024-05-01T12:00:00.750Z')), SAME);
  assert.deepEqual(h.parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), d);
  assert.deepEqual(h.parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', new Date('2024-01-01Z')), d);
  assert.deepEqual(h.parseHttpDate('Sun Nov  6 08:49:37 1994'), d);
  assert.deepEqual(
    h.parseHttpDate('Thursday, 01-Jan-70 00:00:00 GMT', new Date('2030-01-01Z')),
    new Date('2070-01-01Z'),
  );
  // RFC 850 two-digit years more than 50 years ahead are last century
  assert.equal(
    h.parseHttpDate('Monday, 01-Jan-74 00:00:00 GMT', new Date('2024-01-01Z'))?.getUTCFullYear(),
    2074,
  );
  assert.equal(
    h.parseHttpDate('Monday, 01-Jan-75 00:00:00 GMT', new Date('2024-01-01Z'))?.getUTCFullYear(),
    1975,
  );
  for (const bad of [
    '',
    '2024-05-01T12:00:00Z',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 PST',
    'Sun, 31 Feb 1994 08:49:37 GMT',
    'Sun, 06 Foo 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 25:49:37 GMT',
    '1994',
  ]) {
    assert.equal(h.parseHttpDate(bad), undefined, bad);
  }
  assert.equal(h.parseHttpDate(undefined), undefined);
});

// --- Metadata and content headers --------------------------------------------------------------------

test('x-amz-meta-* become user metadata with lower-cased keys; over 2 KB is MetadataTooLarge', () => {
  assert.deepEqual(
    h.userMetadata({
      'x-amz-meta-color': 'blue',
      'x-amz-meta-Camel-Case': 'x',
      'x-amz-meta-multi': ['a', 'b'],
      'x-amz-meta-': 'ignored',
      'x-amz-metadata-directive': 'REPLACE',
      'content-type': 'text/plain',
    }),
    { color: 'blue', 'camel-case': 'x', multi: 'a, b' },
  );
  // 2048 bytes of key + value is the limit
  const key = 'k'.repeat(48);
  assert.equal(Object.keys(h.userMetadata({ [`x-amz-meta-${key}`]: 'v'.repeat(2000) })).length, 1);
  throwsS3(() => h.userMetadata({ [`x-amz-meta-${key}`]: 'v'.repeat(2001) }), 'MetadataTooLarge');
  // UTF-8 bytes, not characters
  throwsS3(() => h.userMetadata({ 'x-amz-meta-k': 'é'.repeat(1024) }), 'MetadataTooLarge');
});

test('content headers are kept as sent; aws-chunked is not the object encoding', () => {
  assert.deepEqual(
    h.contentHeaders({
      'content-type': 'image/jpeg',
      'content-encoding': 'aws-chunked,gzip',
      'content-disposition': 'attachment; filename="a.jpg"',
      'content-language': 'en',
      'cache-control': 'max-age=60',
      expires: 'Thu, 01 Dec 1994 16:00:00 GMT',
      'content-length': '5',
    }),
    {
      contentType: 'image/jpeg',
      contentEncoding: 'gzip',
      contentDisposition: 'attachment; filename="a.jpg"',
      contentLanguage: 'en',
      cacheControl: 'max-age=60',
      expires: 'Thu, 01 Dec 1994 16:00:00 GMT',
    },
  );
  assert.deepEqual(h.contentHeaders({ 'content-encoding': 'aws-chunked' }), {});
  assert.deepEqual(h.contentHeaders({ 'content-encoding': 'aws-chunked, aws-chunked' }), {});
  assert.deepEqual(h.contentHeaders({}), {});
});

test('Content-Encoding keeps the spelling the client wrote: deflate, gzip stays deflate, gzip', () => {
  assert.deepEqual(h.contentHeaders({ 'content-encoding': 'deflate, gzip' }), {
    contentEncoding: 'deflate, gzip',
  });
  assert.deepEqual(h.contentHeaders({ 'content-encoding': 'deflate,gzip' }), {
    contentEncoding: 'deflate,gzip',
  });
  assert.deepEqual(h.contentHeaders({ 'content-encoding': 'gzip, aws-chunked' }), {
    contentEncoding: 'gzip',
  });
  assert.deepEqual(h.contentHeaders({ 'content-encoding': 'deflate, aws-chunked, gzip' }), {
    contentEncoding: 'deflate, gzip',
  });
});

test('storage class and copy directives', () => {
  assert.equal(h.storageClass({}), undefined);
  assert.equal(h.storageClass({ 'x-amz-storage-class': 'STANDARD' }), 'STANDARD');
  assert.equal(h.storageClass({ 'x-amz-storage-class': 'REDUCED_REDUNDANCY' }), 'REDUCED_REDUNDANCY');
  throwsS3(() => h.storageClass({ 'x-amz-storage-class': 'GLACIER' }), 'InvalidStorageClass');
  assert.equal(h.directive({}, 'x-amz-metadata-directive'), 'COPY');
  assert.equal(h.directive({ 'x-amz-metadata-directive': 'REPLACE' }, 'x-amz-metadata-directive'), 'REPLACE');
  throwsS3(
    () => h.directive({ 'x-amz-tagging-directive': 'MERGE' }, 'x-amz-tagging-directive'),
    'InvalidArgument',
  );
});

// --- Copy source -------------------------------------------------------------------------------------

test('x-amz-copy-source: bucket/key?versionId=, URL-decoded, leading slash optional', () => {
  assert.deepEqual(h.parseCopySource('/awsexamplebucket/reports/january.pdf'), {
    bucket: 'awsexamplebucket',
    key: 'reports/january.pdf',
  });
  assert.deepEqual(
    h.parseCopySource('awsexamplebucket/reports/january.pdf?versionId=QUpfdndhfd8438MNFDN93jdnJFkdmqnh893'),
    {
      bucket: 'awsexamplebucket',
      key: 'reports/january.pdf',
      versionId: 'QUpfdndhfd8438MNFDN93jdnJFkdmqnh893',
    },
  );
  assert.deepEqual(h.parseCopySource('/b/a%20b%2Bc%3Fd%2Fe/%E6%97%A5'), { bucket: 'b', key: 'a b+c?d/e/日' });
  assert.deepEqual(h.parseCopySource('b//k/'), { bucket: 'b', key: '/k/' });
  assert.deepEqual(h.parseCopySource('b/k?versionId=null'), { bucket: 'b', key: 'k', versionId: 'null' });
  for (const bad of ['', '/', 'bucket', 'bucket/', '/bucket/', '//key', 'b/%E0%A4%A']) {
    const e = throwsS3(() => h.parseCopySource(bad), 'InvalidArgument');
    assert.equal(e.fields.ArgumentName, 'x-amz-copy-source', bad);
  }
  throwsS3(() => h.parseCopySource('b/k?versionId='), 'InvalidArgument', /empty/);
});

// --- Content-MD5 and checksums -----------------------------------------------------------------------

test('Content-MD5: base64 of 16 bytes as hex; anything else is InvalidDigest', () => {
  const md5 = createHash('md5').update('hello').digest();
  assert.equal(h.contentMd5Hex({ 'content-md5': md5.toString('base64') }), md5.toString('hex'));
  assert.equal(h.contentMd5Hex({}), undefined);
  for (const bad of [
    '',
    'abc',
    md5.toString('hex'),
    Buffer.alloc(15).toString('base64'),
    `${md5.toString('base64')}x`,
    '!!!!!!!!!!!!!!!!!!!!!!==',
  ]) {
    throwsS3(() => h.contentMd5Hex({ 'content-md5': bad }), 'InvalidDigest');
  }
});

test('x-amz-checksum-*: one header, the right length for its algorithm', () => {
  const crc32 = Buffer.alloc(4, 1).toString('base64');
  const sha256 = createHash('sha256').update('x').digest('base64');
  assert.deepEqual(h.checksumHeader({ 'x-amz-checksum-crc32': crc32 }), { algorithm: 'CRC32', value: crc32 });
  assert.deepEqual(
    h.checksumHeader({ 'x-amz-checksum-sha256': sha256, 'x-amz-sdk-checksum-algorithm': 'sha256' }),
    {
      algorithm: 'SHA256',
      value: sha256,
    },
  );
  assert.deepEqual(
    h.checksumHeader({ 'x-amz-checksum-crc64nvme': Buffer.alloc(8).toString('base64') })?.algorithm,
    'CRC64NVME',
  );
  assert.equal(h.checksumHeader({}), undefined);
  throwsS3(
    () => h.checksumHeader({ 'x-amz-checksum-crc32': sha256 }),
    'InvalidRequest',
    /x-amz-checksum-crc32/,
  );
  throwsS3(() => h.checksumHeader({ 'x-amz-checksum-sha1': 'not base64!' }), 'InvalidRequest');
  throwsS3(
    () => h.checksumHeader({ 'x-amz-checksum-crc32': crc32, 'x-amz-checksum-crc32c': crc32 }),
    'InvalidRequest',
    /Multiple checksum/,
  );
  throwsS3(
    () => h.checksumHeader({ 'x-amz-checksum-crc32': crc32, 'x-amz-sdk-checksum-algorithm': 'SHA1' }),
    'InvalidRequest',
  );
  assert.equal(h.checksumTrailer({ 'x-amz-trailer': 'x-amz-checksum-crc32c' }), 'CRC32C');
  assert.equal(h.checksumTrailer({}), undefined);
  throwsS3(() => h.checksumTrailer({ 'x-amz-trailer': 'x-amz-foo' }), 'InvalidRequest');
  assert.equal(h.checksumType({ 'x-amz-checksum-type': 'FULL_OBJECT' }), 'FULL_OBJECT');
  throwsS3(() => h.checksumType({ 'x-amz-checksum-type': 'PARTIAL' }), 'InvalidRequest');
  assert.equal(h.checksumAlgorithm('crc32c'), 'CRC32C');
  assert.equal(h.checksumAlgorithm('md5'), undefined);
});

// --- Tags --------------------------------------------------------------------------------------------

test('x-amz-tagging is a URL-encoded query of at most 10 valid tags', () => {
  assert.deepEqual(h.parseTaggingHeader('Key1=Value1&Key%202=Value+2'), [
    { key: 'Key1', value: 'Value1' },
    { key: 'Key 2', value: 'Value 2' },
  ]);
  assert.deepEqual(h.parseTaggingHeader(''), []);
  assert.deepEqual(h.parseTaggingHeader('flag'), [{ key: 'flag', value: '' }]);
  throwsS3(() => h.parseTaggingHeader('a=1&a=2'), 'InvalidTag');
  throwsS3(
    () => h.parseTaggingHeader(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&')),
    'InvalidTag',
  );
  const tags = [
    { key: 'a b', value: 'c+d' },
    { key: 'e', value: '' },
  ];
  assert.deepEqual(h.parseTaggingHeader(h.formatTags(tags)), tags);
});

test('a repeated header is folded as HTTP folds it', () => {
  assert.equal(h.header({ a: ['1', '2'] }, 'a'), '1, 2');
  assert.equal(h.header({ a: '1' }, 'a'), '1');
  assert.equal(h.header({}, 'a'), undefined);
});

test.run();
