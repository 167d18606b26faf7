import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import { OPS } from '../../src/s3/dispatch';
import {
  ACTIONS,
  type Action,
  bucketFromHost,
  bucketNameValid,
  type KnownAction,
  type Route,
  route,
  unknownRouteError,
} from '../../src/s3/router';

const H = { host: 'localhost:9000' };

function r(method: string, target: string, headers: Record<string, string> = {}, domains?: string[]): Route {
  return route({ method, path: target, headers: { ...H, ...headers } }, domains ? { domains } : {});
}

/** Path style with bucket `examplebucket`, and the same request virtual-host style. */
function both(method: string, target: string, headers: Record<string, string> = {}): Route {
  const p = r(method, `/examplebucket${target}`, headers);
  const v = r(method, target, { ...headers, host: 'examplebucket.s3.example.com' }, ['s3.example.com']);
  assert.deepEqual(v, p, `${method} ${target}: path and virtual-host style differ`);
  return p;
}

// The request lines of the examples in the Amazon S3 API Reference, one or more per action.
const AWS_EXAMPLES: [string, string, Action, Record<string, string>?][] = [
  [
    'DELETE',
    '/example-object?uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZ',
    'AbortMultipartUpload',
  ],
  [
    'POST',
    '/example-object?uploadId=AAAsb2FkIElEIGZvciBlbHZpbmcncyWeeS1tb3ZpZS5tMnRzIRRwbG9hZA',
    'CompleteMultipartUpload',
  ],
  ['PUT', '/my-second-image.jpg', 'CopyObject', { 'x-amz-copy-source': '/bucket/my-image.jpg' }],
  ['PUT', '/', 'CreateBucket'],
  ['POST', '/example-object?uploads', 'CreateMultipartUpload'],
  ['DELETE', '/', 'DeleteBucket'],
  ['DELETE', '/?analytics&id=list1', 'DeleteBucketAnalyticsConfiguration'],
  ['DELETE', '/?cors', 'DeleteBucketCors'],
  ['DELETE', '/?encryption', 'DeleteBucketEncryption'],
  ['DELETE', '/?intelligent-tiering&id=Id', 'DeleteBucketIntelligentTieringConfiguration'],
  ['DELETE', '/?inventory&id=list1', 'DeleteBucketInventoryConfiguration'],
  ['DELETE', '/?lifecycle', 'DeleteBucketLifecycle'],
  ['DELETE', '/?metadataTable', 'DeleteBucketMetadataTableConfiguration'],
  ['DELETE', '/?metrics&id=ExampleMetrics', 'DeleteBucketMetricsConfiguration'],
  ['DELETE', '/?ownershipControls', 'DeleteBucketOwnershipControls'],
  ['DELETE', '/?policy', 'DeleteBucketPolicy'],
  ['DELETE', '/?replication', 'DeleteBucketReplication'],
  ['DELETE', '/?tagging', 'DeleteBucketTagging'],
  ['DELETE', '/?website', 'DeleteBucketWebsite'],
  ['DELETE', '/my-second-image.jpg', 'DeleteObject'],
  [
    'DELETE',
    '/my-third-image.jpg?versionId=UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ',
    'DeleteObject',
  ],
  ['POST', '/?delete', 'DeleteObjects'],
  ['DELETE', '/exampleobject?tagging', 'DeleteObjectTagging'],
  ['DELETE', '/?publicAccessBlock', 'DeletePublicAccessBlock'],
  ['GET', '/?accelerate', 'GetBucketAccelerateConfiguration'],
  ['GET', '/?acl', 'GetBucketAcl'],
  ['GET', '/?analytics&id=Id', 'GetBucketAnalyticsConfiguration'],
  ['GET', '/?cors', 'GetBucketCors'],
  ['GET', '/?encryption', 'GetBucketEncryption'],
  ['GET', '/?intelligent-tiering&id=Id', 'GetBucketIntelligentTieringConfiguration'],
  ['GET', '/?inventory&id=list1', 'GetBucketInventoryConfiguration'],
  ['GET', '/?lifecycle', 'GetBucketLifecycleConfiguration'],
  ['GET', '/?location', 'GetBucketLocation'],
  ['GET', '/?logging', 'GetBucketLogging'],
  ['GET', '/?metadataTable', 'GetBucketMetadataTableConfiguration'],
  ['GET', '/?metrics&id=Documents', 'GetBucketMetricsConfiguration'],
  ['GET', '/?notification', 'GetBucketNotificationConfiguration'],
  ['GET', '/?ownershipControls', 'GetBucketOwnershipControls'],
  ['GET', '/?policy', 'GetBucketPolicy'],
  ['GET', '/?policyStatus', 'GetBucketPolicyStatus'],
  ['GET', '/?replication', 'GetBucketReplication'],
  ['GET', '/?requestPayment', 'GetBucketRequestPayment'],
  ['GET', '/?tagging', 'GetBucketTagging'],
  ['GET', '/?versioning', 'GetBucketVersioning'],
  ['GET', '/?website', 'GetBucketWebsite'],
  ['GET', '/my-image.jpg', 'GetObject'],
  ['GET', '/myObject?versionId=3/L4kqtJlcpXroDTDmpUMLUo', 'GetObject'],
  [
    'GET',
    '/Junk3.txt?response-cache-control=No-cache&response-content-disposition=attachment%3B%20filename%3Dtesting.txt&response-content-encoding=x-gzip&response-content-language=mi%2C%20en&response-expires=Thu%2C%2001%20Dec%201994%2016:00:00%20GMT',
    'GetObject',
  ],
  ['GET', '/my-image.jpg?acl', 'GetObjectAcl'],
  ['GET', '/my-image.jpg?versionId=3/L4kqtJlcpXroDVBH40Nr8X8gdRQBpUMLUo&acl', 'GetObjectAcl'],
  ['GET', '/example-object?attributes', 'GetObjectAttributes'],
  ['GET', '/example-object?legal-hold&versionId=VersionId', 'GetObjectLegalHold'],
  ['GET', '/?object-lock', 'GetObjectLockConfiguration'],
  ['GET', '/example-object?retention&versionId=VersionId', 'GetObjectRetention'],
  ['GET', '/example-object?tagging', 'GetObjectTagging'],
  ['GET', '/quotes/Nelson?torrent', 'GetObjectTorrent'],
  ['GET', '/?publicAccessBlock', 'GetPublicAccessBlock'],
  ['HEAD', '/', 'HeadBucket'],
  ['HEAD', '/my-image.jpg', 'HeadObject'],
  ['HEAD', '/my-image.jpg?versionId=3HL4kqCxf3vjVBH40Nrjfkd', 'HeadObject'],
  ['GET', '/?analytics', 'ListBucketAnalyticsConfigurations'],
  ['GET', '/?intelligent-tiering', 'ListBucketIntelligentTieringConfigurations'],
  ['GET', '/?inventory&continuation-token=71b9a5a8', 'ListBucketInventoryConfigurations'],
  ['GET', '/?metrics', 'ListBucketMetricsConfigurations'],
  ['GET', '/?uploads&max-uploads=3', 'ListMultipartUploads'],
  ['GET', '/?uploads&delimiter=/&prefix=photos/2006/', 'ListMultipartUploads'],
  ['GET', '/', 'ListObjects'],
  ['GET', '/?prefix=N&marker=Ned&max-keys=40', 'ListObjects'],
  ['GET', '/?list-type=2', 'ListObjectsV2'],
  ['GET', '/?list-type=2&max-keys=3&prefix=E&start-after=ExampleGuide.pdf', 'ListObjectsV2'],
  ['GET', '/?list-type=2&continuation-token=1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=', 'ListObjectsV2'],
  ['GET', '/?versions', 'ListObjectVersions'],
  ['GET', '/?versions&key-marker=key3&version-id-marker=t46Z0menlYTZBnj&max-keys=3', 'ListObjectVersions'],
  [
    'GET',
    '/example-object?uploadId=XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA&max-parts=2&part-number-marker=1',
    'ListParts',
  ],
  ['PUT', '/?accelerate', 'PutBucketAccelerateConfiguration'],
  ['PUT', '/?acl', 'PutBucketAcl'],
  ['PUT', '/?analytics&id=report1', 'PutBucketAnalyticsConfiguration'],
  ['PUT', '/?cors', 'PutBucketCors'],
  ['PUT', '/?encryption', 'PutBucketEncryption'],
  ['PUT', '/?intelligent-tiering&id=Id', 'PutBucketIntelligentTieringConfiguration'],
  ['PUT', '/?inventory&id=report1', 'PutBucketInventoryConfiguration'],
  ['PUT', '/?lifecycle', 'PutBucketLifecycleConfiguration'],
  ['PUT', '/?logging', 'PutBucketLogging'],
  ['PUT', '/?metrics&id=EntireBucket', 'PutBucketMetricsConfiguration'],
  ['PUT', '/?notification', 'PutBucketNotificationConfiguration'],
  ['PUT', '/?ownershipControls', 'PutBucketOwnershipControls'],
  ['PUT', '/?policy', 'PutBucketPolicy'],
  ['PUT', '/?replication', 'PutBucketReplication'],
  ['PUT', '/?requestPayment', 'PutBucketRequestPayment'],
  ['PUT', '/?tagging', 'PutBucketTagging'],
  ['PUT', '/?versioning', 'PutBucketVersioning'],
  ['PUT', '/?website', 'PutBucketWebsite'],
  ['PUT', '/my-image.jpg', 'PutObject'],
  ['PUT', '/my-image.jpg?acl', 'PutObjectAcl'],
  [
    'PUT',
    '/my-image.jpg?acl&versionId=3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nrjfkd',
    'PutObjectAcl',
  ],
  ['PUT', '/example-object?legal-hold&versionId=VersionId', 'PutObjectLegalHold'],
  ['PUT', '/?object-lock', 'PutObjectLockConfiguration'],
  ['PUT', '/example-object?retention&versionId=VersionId', 'PutObjectRetention'],
  ['PUT', '/object-key?tagging', 'PutObjectTagging'],
  ['PUT', '/?publicAccessBlock', 'PutPublicAccessBlock'],
  ['POST', '/object-one.csv?restore', 'RestoreObject'],
  ['POST', '/exampleobject.csv?select&select-type=2', 'SelectObjectContent'],
  [
    'PUT',
    '/my-movie.m2ts?partNumber=1&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR',
    'UploadPart',
  ],
  [
    'PUT',
    '/newobject?partNumber=2&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR',
    'UploadPartCopy',
    { 'x-amz-copy-source': '/source-bucket/sourceobject' },
  ],
  ['POST', '/?metadataTable', 'CreateBucketMetadataTableConfiguration'],
  ['GET', '/?session', 'CreateSession'],
  ['POST', '/', 'PostObject', { 'content-type': 'multipart/form-data; boundary=9431149156168' }],
  [
    'OPTIONS',
    '/exampleobject',
    'Options',
    { origin: 'http://www.example.com', 'access-control-request-method': 'PUT' },
  ],
];

test('every example request of the AWS API reference routes to its action, path and virtual-host style', () => {
  for (const [method, target, action, headers] of AWS_EXAMPLES) {
    assert.equal(both(method, target, headers).action, action, `${method} ${target}`);
  }
  assert.equal(r('GET', '/').action, 'ListBuckets');
});

test('every action the router names is reached by an example, and has a status', () => {
  const reached = new Set<Action>([...AWS_EXAMPLES.map((e) => e[2]), 'ListBuckets']);
  for (const a of Object.keys(ACTIONS) as KnownAction[]) assert.ok(reached.has(a), `${a} is never routed to`);
});

test('docs/compat.md lists every action with the status ACTIONS gives it', () => {
  const full = readFileSync(path.join(__dirname, '../../docs/compat.md'), 'utf8');
  const doc = full.slice(
    full.indexOf('## Operations'),
    full.indexOf('\n## ', full.indexOf('## Operations') + 1),
  );
  const words = {
    implemented: 'implemented',
    planned: 'planned',
    stub: 'stub',
    'not-implemented': 'NotImplemented',
  } as const;
  const rows = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`(\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (name) rows.set(name, cells[4] ?? '');
  }
  for (const [a, info] of Object.entries(ACTIONS)) {
    assert.ok(rows.has(a), `${a} missing from docs/compat.md`);
    assert.equal(rows.get(a), words[info.status], `${a}: status in docs/compat.md`);
  }
  for (const a of rows.keys())
    assert.ok(a in ACTIONS, `docs/compat.md lists ${a}, which the router does not name`);
});

test('params carry the parsed query: versionId, uploadId, partNumber, list parameters', () => {
  assert.deepEqual(both('GET', '/k?versionId=v1&partNumber=3&response-content-type=text/plain'), {
    action: 'GetObject',
    bucket: 'examplebucket',
    key: 'k',
    params: { versionId: 'v1', partNumber: 3, responseHeaders: { contentType: 'text/plain' } },
  });
  assert.deepEqual(both('PUT', '/k?partNumber=10000&uploadId=u'), {
    action: 'UploadPart',
    bucket: 'examplebucket',
    key: 'k',
    params: { uploadId: 'u', partNumber: 10000 },
  });
  assert.deepEqual(
    both('GET', '/?list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=2&fetch-owner=true&encoding-type=url'),
    {
      action: 'ListObjectsV2',
      bucket: 'examplebucket',
      params: { prefix: 'a/b', delimiter: '/', maxKeys: 2, fetchOwner: true, encodingType: 'url' },
    },
  );
  assert.deepEqual(both('GET', '/?list-type=2&continuation-token='), {
    action: 'ListObjectsV2',
    bucket: 'examplebucket',
    params: { continuationToken: '', fetchOwner: false },
  });
  assert.deepEqual(both('GET', '/?prefix=&marker=&delimiter='), {
    action: 'ListObjects',
    bucket: 'examplebucket',
    params: {},
  });
  assert.deepEqual(both('GET', '/?versions&key-marker=k&version-id-marker=v&max-keys=5'), {
    action: 'ListObjectVersions',
    bucket: 'examplebucket',
    params: { keyMarker: 'k', versionIdMarker: 'v', maxKeys: 5 },
  });
  assert.deepEqual(both('GET', '/?uploads&key-marker=k&upload-id-marker=u&max-uploads=7'), {
    action: 'ListMultipartUploads',
    bucket: 'examplebucket',
    params: { keyMarker: 'k', uploadIdMarker: 'u', maxUploads: 7 },
  });
  assert.deepEqual(both('GET', '/k?uploadId=u&max-parts=2&part-number-marker=1'), {
    action: 'ListParts',
    bucket: 'examplebucket',
    key: 'k',
    params: { uploadId: 'u', maxParts: 2, partNumberMarker: 1 },
  });
  assert.deepEqual(both('DELETE', '/k?tagging&versionId=v'), {
    action: 'DeleteObjectTagging',
    bucket: 'examplebucket',
    key: 'k',
    params: { versionId: 'v' },
  });
  assert.deepEqual(r('GET', '/?max-buckets=10&prefix=a'), {
    action: 'ListBuckets',
    params: { maxBuckets: 10, prefix: 'a' },
  });
});

test('subresources that could collide resolve as AWS does, whatever their order in the query', () => {
  const cases: [string, string, Action, Record<string, string>?][] = [
    // uploadId alone vs with partNumber, on each method
    ['GET', '/k?uploadId=u', 'ListParts'],
    ['GET', '/k?partNumber=1&uploadId=u', 'ListParts'],
    ['GET', '/k?partNumber=1', 'GetObject'],
    ['PUT', '/k?partNumber=1&uploadId=u', 'UploadPart'],
    ['PUT', '/k?uploadId=u&partNumber=1', 'UploadPart'],
    ['PUT', '/k?partNumber=1&uploadId=u', 'UploadPartCopy', { 'x-amz-copy-source': 'b/k' }],
    ['PUT', '/k', 'CopyObject', { 'x-amz-copy-source': 'b/k' }],
    ['POST', '/k?uploadId=u', 'CompleteMultipartUpload'],
    ['DELETE', '/k?uploadId=u', 'AbortMultipartUpload'],
    ['DELETE', '/k?versionId=v', 'DeleteObject'],
    // versionId with a subresource
    ['GET', '/k?versionId=v&tagging', 'GetObjectTagging'],
    ['GET', '/k?tagging&versionId=v', 'GetObjectTagging'],
    ['PUT', '/k?versionId=v&tagging', 'PutObjectTagging'],
    ['GET', '/?tagging&versionId=v', 'GetBucketTagging'],
    // a subresource wins over uploadId / list-type, which only matter without one
    ['GET', '/k?tagging&uploadId=u', 'GetObjectTagging'],
    ['DELETE', '/k?tagging&uploadId=u', 'DeleteObjectTagging'],
    ['GET', '/?versions&list-type=2', 'ListObjectVersions'],
    ['GET', '/?list-type=2&uploads', 'ListMultipartUploads'],
    ['GET', '/?list-type=2&prefix=x', 'ListObjectsV2'],
    // ?uploads on bucket vs object
    ['GET', '/?uploads', 'ListMultipartUploads'],
    ['POST', '/k?uploads', 'CreateMultipartUpload'],
    ['POST', '/k?uploads&uploadId=u', 'CreateMultipartUpload'],
    // ?delete is a bucket POST; a DELETE of the bucket is DeleteBucket
    ['POST', '/?delete', 'DeleteObjects'],
    ['DELETE', '/', 'DeleteBucket'],
    // ?id only chooses between Get and List
    ['GET', '/?metrics&id=m', 'GetBucketMetricsConfiguration'],
    ['GET', '/?metrics', 'ListBucketMetricsConfigurations'],
    ['GET', '/?metrics&id=', 'ListBucketMetricsConfigurations'],
    // unknown query keys are ignored; presign parameters are not subresources
    ['GET', '/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc&x-id=GetObject', 'GetObject'],
    ['GET', '/?foo=bar', 'ListObjects'],
    // keywords are case-sensitive, as in AWS
    ['GET', '/?ACL', 'ListObjects'],
  ];
  for (const [method, target, action, headers] of cases) {
    assert.equal(both(method, target, headers).action, action, `${method} ${target}`);
  }
});

test('a method or subresource S3 has no action for is MethodNotAllowed, naming method and resource type', () => {
  const cases: [string, string, 'SERVICE' | 'BUCKET' | 'OBJECT'][] = [
    ['POST', '/examplebucket/k', 'OBJECT'],
    ['GET', '/examplebucket/k?uploads', 'OBJECT'],
    ['GET', '/examplebucket/k?versioning', 'OBJECT'],
    ['PUT', '/examplebucket/k?versions', 'OBJECT'],
    ['HEAD', '/examplebucket/k?tagging', 'OBJECT'],
    ['POST', '/examplebucket/k?delete', 'OBJECT'],
    ['POST', '/examplebucket?uploads', 'BUCKET'],
    ['GET', '/examplebucket?retention', 'BUCKET'],
    ['PATCH', '/examplebucket/k', 'OBJECT'],
    ['PUT', '/', 'SERVICE'],
    ['DELETE', '/', 'SERVICE'],
    ['POST', '/', 'SERVICE'],
    ['HEAD', '/', 'SERVICE'],
  ];
  for (const [method, target, resourceType] of cases) {
    const got = r(method, target);
    assert.equal(got.action, 'Unknown', `${method} ${target}`);
    if (got.action !== 'Unknown') continue;
    assert.equal(got.error, 'MethodNotAllowed', `${method} ${target}`);
    assert.equal(got.resourceType, resourceType);
    assert.equal(got.method, method);
    const e = unknownRouteError(got, target);
    assert.equal(e.status, 405);
    assert.deepEqual(e.fields, { Method: method, ResourceType: resourceType });
  }
});

test('several subresources at once are NotImplemented', () => {
  const got = r('GET', '/examplebucket?acl&cors');
  assert.equal(got.action, 'Unknown');
  if (got.action === 'Unknown') {
    assert.equal(got.error, 'NotImplemented');
    assert.equal(unknownRouteError(got).status, 501);
  }
  assert.equal(r('PUT', '/examplebucket/k?tagging&acl').action, 'Unknown');
});

test('malformed parameters are refused with the argument AWS names', () => {
  const cases: [string, string, string, string][] = [
    ['GET', '/b/k?versionId=', 'InvalidArgument', 'versionId'],
    ['PUT', '/b/k?partNumber=0&uploadId=u', 'InvalidArgument', 'partNumber'],
    ['PUT', '/b/k?partNumber=10001&uploadId=u', 'InvalidArgument', 'partNumber'],
    ['PUT', '/b/k?partNumber=1.5&uploadId=u', 'InvalidArgument', 'partNumber'],
    ['PUT', '/b/k?partNumber=1', 'InvalidArgument', 'uploadId'],
    ['PUT', '/b/k?uploadId=u', 'InvalidArgument', 'partNumber'],
    ['PUT', '/b/k?partNumber=1&uploadId=', 'InvalidArgument', 'uploadId'],
    ['GET', '/b/k?partNumber=abc', 'InvalidArgument', 'partNumber'],
    ['GET', '/b?max-keys=-1', 'InvalidArgument', 'max-keys'],
    ['GET', '/b?list-type=2&max-keys=99999999999', 'InvalidArgument', 'max-keys'],
    ['GET', '/b?uploads&max-uploads=x', 'InvalidArgument', 'max-uploads'],
    ['GET', '/b/k?uploadId=u&max-parts=x', 'InvalidArgument', 'max-parts'],
    ['GET', '/b?encoding-type=base64', 'InvalidArgument', 'encoding-type'],
    ['GET', '/b?list-type=3', 'InvalidArgument', 'list-type'],
  ];
  for (const [method, target, error, arg] of cases) {
    const got = r(method, target);
    assert.equal(got.action, 'Unknown', `${method} ${target}`);
    if (got.action !== 'Unknown') continue;
    assert.equal(got.error, error, `${method} ${target}`);
    assert.equal(got.fields?.ArgumentName, arg, `${method} ${target}`);
    assert.equal(unknownRouteError(got).message, got.reason);
  }
  const t = r('GET', '/b?torrent');
  assert.ok(t.action === 'Unknown' && t.error === 'RequestTorrentOfBucketError');
});

test('keys are percent-decoded once and kept exactly', () => {
  const key = (target: string) => {
    const got = r('GET', target);
    assert.ok('key' in got, `${target} has no key: ${JSON.stringify(got)}`);
    return got.key;
  };
  assert.equal(key('/b/a+b'), 'a+b');
  assert.equal(key('/b/a%2Bb'), 'a+b');
  assert.equal(key('/b/a%20b'), 'a b');
  assert.equal(key('/b/a%2Fb'), 'a/b');
  assert.equal(key('/b/%2F'), '/');
  assert.equal(key('/b/a%252F'), 'a%2F');
  assert.equal(key('/b/%26%2B%3F%25%C3%A9/something'), '&+?%é/something');
  assert.equal(key('/b/%E6%97%A5%E6%9C%AC'), '日本');
  assert.equal(key('/b//leading'), '/leading');
  assert.equal(key('/b/a//b'), 'a//b');
  assert.equal(key('/b/dir/'), 'dir/');
  assert.equal(key('/b/../x'), '../x');
  assert.equal(key('/b/./.'), './.');
  assert.equal(key('/b/%3Fnot-a-query'), '?not-a-query');
  assert.equal(key('/b/k?x=1'), 'k');
  // empty key after `bucket/` is the bucket
  assert.equal(r('GET', '/b/').action, 'ListObjects');
  assert.equal(r('GET', '/b').action, 'ListObjects');
  const bad = r('GET', '/b/%E0%A4%A');
  assert.ok(bad.action === 'Unknown' && bad.error === 'InvalidURI');
  const badUtf8 = r('GET', '/b/%FF');
  assert.ok(badUtf8.action === 'Unknown' && badUtf8.error === 'InvalidURI');
  const notAbsolute = r('GET', 'http://example.com/b/k');
  assert.ok(notAbsolute.action === 'Unknown' && notAbsolute.error === 'InvalidURI');
});

test('the query may come as a string, a URLSearchParams, or on the path', () => {
  const want = { action: 'GetObjectTagging', bucket: 'b', key: 'k', params: { versionId: 'v' } };
  assert.deepEqual(route({ method: 'GET', path: '/b/k?tagging&versionId=v', headers: H }), want);
  assert.deepEqual(route({ method: 'GET', path: '/b/k', query: '?tagging&versionId=v', headers: H }), want);
  assert.deepEqual(route({ method: 'GET', path: '/b/k', query: 'tagging&versionId=v', headers: H }), want);
  assert.deepEqual(
    route({ method: 'get', path: '/b/k', query: new URLSearchParams('tagging&versionId=v'), headers: H }),
    want,
  );
  // `+` in the query is a space (form encoding), unlike in the path
  const p = route({ method: 'GET', path: '/b', query: 'prefix=a+b', headers: H });
  assert.ok(p.action === 'ListObjects' && p.params.prefix === 'a b');
});

test('virtual-host style: bucket from Host for a configured domain, dots allowed, longest domain wins', () => {
  const d = ['example.com', 's3.example.com'];
  assert.deepEqual(r('GET', '/photo.jpg', { host: 'my.bucket.s3.example.com:9000' }, d), {
    action: 'GetObject',
    bucket: 'my.bucket',
    key: 'photo.jpg',
    params: { responseHeaders: {} },
  });
  assert.deepEqual(r('GET', '/', { host: 'B1.Example.COM' }, d), {
    action: 'ListObjects',
    bucket: 'b1',
    params: {},
  });
  assert.deepEqual(r('GET', '/', { host: 's3.example.com' }, d), { action: 'ListBuckets', params: {} });
  assert.deepEqual(r('GET', '/bucket/key', { host: 's3.example.com' }, d).action, 'GetObject');
  assert.deepEqual(r('GET', '/bucket/key', { host: 'other.org' }, d), {
    action: 'GetObject',
    bucket: 'bucket',
    key: 'key',
    params: { responseHeaders: {} },
  });
  // the whole path is the key in virtual-host style
  const v = r('GET', '/a/b%2Fc', { host: 'bkt.s3.example.com' }, d);
  assert.ok(v.action === 'GetObject' && v.bucket === 'bkt' && v.key === 'a/b/c');
  assert.equal(bucketFromHost('[::1]', d), undefined);
  assert.equal(bucketFromHost('x.s3.example.com', ['.s3.example.com.']), 'x');
  assert.equal(bucketFromHost('s3.example.com', []), undefined);
});

test('OPTIONS is the CORS preflight at any level', () => {
  assert.deepEqual(r('OPTIONS', '/b/k?uploads'), { action: 'Options', bucket: 'b', key: 'k', params: {} });
  assert.deepEqual(r('OPTIONS', '/b'), { action: 'Options', bucket: 'b', params: {} });
  assert.deepEqual(r('OPTIONS', '/'), { action: 'Options', params: {} });
});

test('bucketNameValid follows S3 bucket naming rules', () => {
  const good = [
    'abc',
    'my-bucket',
    'my.bucket.name',
    'a'.repeat(63),
    '1bucket',
    'bucket1',
    'a-b.c-d',
    '192.168.5.4x',
  ];
  const bad = [
    'ab',
    'a'.repeat(64),
    'MyBucket',
    'my_bucket',
    '-bucket',
    'bucket-',
    '.bucket',
    'bucket.',
    'my..bucket',
    '192.168.5.4',
    'xn--bucket',
    'sthree-bucket',
    'sthree-configurator',
    'amzn-s3-demo-bucket',
    'bucket-s3alias',
    'bucket--ol-s3',
    'bucket.mrap',
    'bucket--x-s3',
    'bucket--table-s3',
    'my bucket',
    'bücket',
    '',
  ];
  for (const n of good) assert.ok(bucketNameValid(n), n);
  for (const n of bad) assert.ok(!bucketNameValid(n), n);
});

test('every action marked implemented has an operation, and every operation is marked', () => {
  for (const [a, info] of Object.entries(ACTIONS)) {
    if (info.status === 'implemented' && a !== 'Options')
      assert.ok(a in OPS, `${a} is marked implemented but has no op`);
  }
  for (const a of Object.keys(OPS)) {
    const status = ACTIONS[a as keyof typeof ACTIONS].status;
    assert.ok(status === 'implemented' || status === 'stub', `${a} has an op but is marked ${status}`);
  }
});

test.run();
