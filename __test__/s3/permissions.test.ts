import assert from 'node:assert/strict';
import { test } from 'uvu';
import { hasMapping, type Permission, requiredPermissions } from '../../src/s3/permissions';
import { ACTIONS, type KnownAction, route } from '../../src/s3/router';

function needs(method: string, target: string, headers: Record<string, string> = {}) {
  const url = new URL(target, 'http://localhost');
  const r = route({
    method,
    path: url.pathname,
    query: url.search,
    headers: { host: 'localhost', ...headers },
  });
  assert.notEqual(r.action, 'Unknown', `${method} ${target} routes to Unknown`);
  return requiredPermissions(
    r,
    { host: 'localhost', ...headers },
    url.searchParams,
    new Date('2030-01-01T00:00:00Z'),
  );
}

const pairs = (ps: Permission[]) => ps.map((p) => `${p.action} ${p.resource}`);

test('every action in ACTIONS has a permission mapping', () => {
  for (const a of Object.keys(ACTIONS) as KnownAction[]) assert.ok(hasMapping(a), `${a} has no mapping`);
});

test('every action but the preflight and those that authorize in the op needs at least one permission', () => {
  // One representative request per routable action is in the router's tests; here the cases that matter.
  const inOp = new Set(['ListBuckets', 'DeleteObjects', 'PostObject']);
  assert.equal(needs('GET', '/').inOp, true);
  assert.equal(needs('POST', '/b?delete').inOp, true);
  assert.equal(needs('POST', '/b').inOp, true);
  assert.equal(needs('GET', '/b/k').inOp, false);
  assert.deepEqual(needs('GET', '/').checks, []);
  for (const a of inOp) assert.ok(hasMapping(a as KnownAction));
});

test('GetObject and HeadObject need s3:GetObject; with a versionId s3:GetObjectVersion', () => {
  assert.deepEqual(pairs(needs('GET', '/b/k').checks), ['s3:GetObject arn:aws:s3:::b/k']);
  assert.deepEqual(pairs(needs('HEAD', '/b/dir/k%20x').checks), ['s3:GetObject arn:aws:s3:::b/dir/k x']);
  assert.deepEqual(pairs(needs('GET', '/b/k?versionId=v1').checks), ['s3:GetObjectVersion arn:aws:s3:::b/k']);
  assert.deepEqual(needs('GET', '/b/k?versionId=v1').conditions['s3:VersionId'], ['v1']);
});

test('HeadBucket, ListObjects and ListObjectsV2 need s3:ListBucket on the bucket', () => {
  for (const t of ['/b', '/b?list-type=2', '/b?prefix=a/']) {
    const method = t === '/b' ? 'HEAD' : 'GET';
    assert.deepEqual(pairs(needs(method, t).checks), ['s3:ListBucket arn:aws:s3:::b'], t);
    assert.equal(needs(method, t).checks[0]!.bucket, 'b');
  }
  assert.deepEqual(pairs(needs('GET', '/b?versions').checks), ['s3:ListBucketVersions arn:aws:s3:::b']);
  assert.deepEqual(pairs(needs('GET', '/b?uploads').checks), [
    's3:ListBucketMultipartUploads arn:aws:s3:::b',
  ]);
});

test('listing carries s3:prefix ("" when absent), s3:delimiter and s3:max-keys', () => {
  const c = needs('GET', '/b?list-type=2&prefix=home/alice/&delimiter=/&max-keys=10').conditions;
  assert.deepEqual(c['s3:prefix'], ['home/alice/']);
  assert.deepEqual(c['s3:delimiter'], ['/']);
  assert.deepEqual(c['s3:max-keys'], ['10']);
  const none = needs('GET', '/b').conditions;
  assert.deepEqual(none['s3:prefix'], ['']);
  assert.equal(none['s3:delimiter'], undefined);
  assert.equal(needs('GET', '/b/k').conditions['s3:prefix'], undefined);
});

test('PutObject needs s3:PutObject, plus tagging, ACL and lock permissions for what its headers set', () => {
  assert.deepEqual(pairs(needs('PUT', '/b/k').checks), ['s3:PutObject arn:aws:s3:::b/k']);
  const p = needs('PUT', '/b/k', {
    'x-amz-tagging': 'team=a&env=prod',
    'x-amz-acl': 'public-read',
    'x-amz-object-lock-mode': 'GOVERNANCE',
    'x-amz-object-lock-retain-until-date': '2030-01-11T00:00:00Z',
    'x-amz-object-lock-legal-hold': 'ON',
  });
  assert.deepEqual(pairs(p.checks), [
    's3:PutObject arn:aws:s3:::b/k',
    's3:PutObjectTagging arn:aws:s3:::b/k',
    's3:PutObjectAcl arn:aws:s3:::b/k',
    's3:PutObjectRetention arn:aws:s3:::b/k',
    's3:PutObjectLegalHold arn:aws:s3:::b/k',
  ]);
  assert.deepEqual(p.conditions['s3:RequestObjectTag/team'], ['a']);
  assert.deepEqual(p.conditions['s3:RequestObjectTagKeys'], ['team', 'env']);
  assert.deepEqual(p.conditions['s3:x-amz-acl'], ['public-read']);
  assert.deepEqual(p.conditions['s3:object-lock-mode'], ['GOVERNANCE']);
  assert.deepEqual(p.conditions['s3:object-lock-remaining-retention-days'], ['10']);
  assert.deepEqual(p.conditions['s3:object-lock-legal-hold'], ['ON']);
});

test('CopyObject needs s3:PutObject on the target and s3:GetObject(Version) on the source', () => {
  const p = needs('PUT', '/dst/k2', {
    'x-amz-copy-source': '/src/a%20b',
    'x-amz-metadata-directive': 'REPLACE',
  });
  assert.deepEqual(pairs(p.checks), [
    's3:PutObject arn:aws:s3:::dst/k2',
    's3:GetObject arn:aws:s3:::src/a b',
  ]);
  assert.deepEqual(
    p.checks.map((c) => c.bucket),
    ['dst', 'src'],
  );
  assert.deepEqual(p.conditions['s3:x-amz-copy-source'], ['/src/a%20b']);
  assert.deepEqual(p.conditions['s3:x-amz-metadata-directive'], ['REPLACE']);
  const v = needs('PUT', '/dst/k2', { 'x-amz-copy-source': 'src/a?versionId=v9' });
  assert.deepEqual(pairs(v.checks), [
    's3:PutObject arn:aws:s3:::dst/k2',
    's3:GetObjectVersion arn:aws:s3:::src/a',
  ]);
  // Tags sent with a COPY directive are ignored by the copy, so they need no tagging permission.
  const t = needs('PUT', '/dst/k2', { 'x-amz-copy-source': 'src/a', 'x-amz-tagging': 'a=1' });
  assert.equal(pairs(t.checks).includes('s3:PutObjectTagging arn:aws:s3:::dst/k2'), false);
  const t2 = needs('PUT', '/dst/k2', {
    'x-amz-copy-source': 'src/a',
    'x-amz-tagging': 'a=1',
    'x-amz-tagging-directive': 'REPLACE',
  });
  assert.ok(pairs(t2.checks).includes('s3:PutObjectTagging arn:aws:s3:::dst/k2'));
});

test('UploadPartCopy needs s3:PutObject on the target and s3:GetObject on the source', () => {
  const p = needs('PUT', '/dst/k?partNumber=1&uploadId=u', { 'x-amz-copy-source': '/src/a' });
  assert.deepEqual(pairs(p.checks), ['s3:PutObject arn:aws:s3:::dst/k', 's3:GetObject arn:aws:s3:::src/a']);
});

test('a malformed copy source needs only the target permission (the op refuses the source)', () => {
  const p = needs('PUT', '/dst/k', { 'x-amz-copy-source': 'nokey' });
  assert.deepEqual(pairs(p.checks), ['s3:PutObject arn:aws:s3:::dst/k']);
});

test('multipart calls map to s3:PutObject, s3:AbortMultipartUpload and s3:ListMultipartUploadParts', () => {
  assert.deepEqual(pairs(needs('POST', '/b/k?uploads').checks), ['s3:PutObject arn:aws:s3:::b/k']);
  assert.deepEqual(pairs(needs('PUT', '/b/k?partNumber=2&uploadId=u').checks), [
    's3:PutObject arn:aws:s3:::b/k',
  ]);
  assert.deepEqual(pairs(needs('POST', '/b/k?uploadId=u').checks), ['s3:PutObject arn:aws:s3:::b/k']);
  assert.deepEqual(pairs(needs('DELETE', '/b/k?uploadId=u').checks), [
    's3:AbortMultipartUpload arn:aws:s3:::b/k',
  ]);
  assert.deepEqual(pairs(needs('GET', '/b/k?uploadId=u').checks), [
    's3:ListMultipartUploadParts arn:aws:s3:::b/k',
  ]);
});

test('DeleteObject needs s3:DeleteObject; with a versionId s3:DeleteObjectVersion', () => {
  assert.deepEqual(pairs(needs('DELETE', '/b/k').checks), ['s3:DeleteObject arn:aws:s3:::b/k']);
  assert.deepEqual(pairs(needs('DELETE', '/b/k?versionId=v').checks), [
    's3:DeleteObjectVersion arn:aws:s3:::b/k',
  ]);
});

test('object tagging and attributes of a version need both the plain and the Version action', () => {
  assert.deepEqual(pairs(needs('GET', '/b/k?tagging').checks), ['s3:GetObjectTagging arn:aws:s3:::b/k']);
  assert.deepEqual(pairs(needs('PUT', '/b/k?tagging&versionId=v').checks), [
    's3:PutObjectTagging arn:aws:s3:::b/k',
    's3:PutObjectVersionTagging arn:aws:s3:::b/k',
  ]);
  assert.deepEqual(pairs(needs('DELETE', '/b/k?tagging').checks), [
    's3:DeleteObjectTagging arn:aws:s3:::b/k',
  ]);
  assert.deepEqual(pairs(needs('GET', '/b/k?attributes&versionId=v').checks), [
    's3:GetObjectAttributes arn:aws:s3:::b/k',
    's3:GetObjectVersionAttributes arn:aws:s3:::b/k',
  ]);
});

test('bucket settings map to their documented actions (deletes to the Put action where AWS says so)', () => {
  const cases: [string, string, string][] = [
    ['PUT', '/b', 's3:CreateBucket'],
    ['DELETE', '/b', 's3:DeleteBucket'],
    ['GET', '/b?location', 's3:GetBucketLocation'],
    ['GET', '/b?policy', 's3:GetBucketPolicy'],
    ['PUT', '/b?policy', 's3:PutBucketPolicy'],
    ['DELETE', '/b?policy', 's3:DeleteBucketPolicy'],
    ['GET', '/b?policyStatus', 's3:GetBucketPolicyStatus'],
    ['GET', '/b?tagging', 's3:GetBucketTagging'],
    ['DELETE', '/b?tagging', 's3:PutBucketTagging'],
    ['GET', '/b?cors', 's3:GetBucketCORS'],
    ['DELETE', '/b?cors', 's3:PutBucketCORS'],
    ['PUT', '/b?versioning', 's3:PutBucketVersioning'],
    ['GET', '/b?object-lock', 's3:GetBucketObjectLockConfiguration'],
    ['PUT', '/b?object-lock', 's3:PutBucketObjectLockConfiguration'],
    ['DELETE', '/b?lifecycle', 's3:PutLifecycleConfiguration'],
    ['GET', '/b?encryption', 's3:GetEncryptionConfiguration'],
    ['DELETE', '/b?website', 's3:DeleteBucketWebsite'],
    ['DELETE', '/b?publicAccessBlock', 's3:PutBucketPublicAccessBlock'],
    ['GET', '/b?analytics', 's3:GetAnalyticsConfiguration'],
    ['GET', '/b/k?retention', 's3:GetObjectRetention'],
    ['PUT', '/b/k?legal-hold', 's3:PutObjectLegalHold'],
  ];
  for (const [m, t, action] of cases) {
    assert.deepEqual(
      needs(m, t).checks.map((c) => c.action),
      [action],
      `${m} ${t}`,
    );
  }
});

test('CreateBucket with Object Lock also needs the lock and versioning permissions', () => {
  const p = needs('PUT', '/b', { 'x-amz-bucket-object-lock-enabled': 'true' });
  assert.deepEqual(
    p.checks.map((c) => c.action),
    ['s3:CreateBucket', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketVersioning'],
  );
});

test('the CORS preflight needs nothing', () => {
  const r = route({ method: 'OPTIONS', path: '/b/k', headers: { host: 'localhost' } });
  assert.deepEqual(requiredPermissions(r, {}, new URLSearchParams()).checks, []);
});

test.run();
