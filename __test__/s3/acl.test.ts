/**
 * ACLs disabled (Object Ownership BucketOwnerEnforced, AWS's default for new buckets): reading an ACL
 * shows the owner's FULL_CONTROL; setting one is accepted only when it says no more than that.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketOwnershipControlsCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT_OWNER } from '../../src/s3/owner';
import { raw } from '../helpers/raw';
import { refused } from '../helpers/s3assert';
import { startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
const B = 'acl-bucket';

test.before(async () => {
  srv = await startServer();
  await srv.s3.send(new CreateBucketCommand({ Bucket: B }));
  await srv.s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'hello' }));
});
test.after(async () => {
  await srv?.stop();
});

async function refusedWith(p: Promise<unknown>, code: string, status = 400): Promise<void> {
  const e = await refused(p);
  assert.is(e.name, code, e.message);
  assert.is(e.$metadata.httpStatusCode, status);
}

const ownerGrant = (id = ROOT_OWNER.id, permission = 'FULL_CONTROL') =>
  `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${id}</ID></Grantee><Permission>${permission}</Permission></Grant>`;
const policy = (grants: string, ownerId = ROOT_OWNER.id) =>
  `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${ownerId}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;

// --- reading -----------------------------------------------------------------------------------------

test('GetBucketAcl shows the owner, as ListBuckets does, with FULL_CONTROL', async () => {
  const acl = await srv.s3.send(new GetBucketAclCommand({ Bucket: B }));
  const list = await srv.s3.send(new ListBucketsCommand({}));
  assert.equal(acl.Owner, { ID: list.Owner?.ID, DisplayName: list.Owner?.DisplayName });
  assert.equal(acl.Owner?.ID, ROOT_OWNER.id);
  assert.equal(acl.Grants, [
    {
      Grantee: { Type: 'CanonicalUser', ID: ROOT_OWNER.id, DisplayName: ROOT_OWNER.displayName },
      Permission: 'FULL_CONTROL',
    },
  ]);
});

test('GetBucketAcl renders AWS XML: Owner, then one Grant with Grantee xsi:type="CanonicalUser"', async () => {
  const r = await raw(srv, { method: 'GET', path: `/${B}`, query: { acl: '' } });
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /application\/xml/);
  const who = `<ID>${ROOT_OWNER.id}</ID><DisplayName>${ROOT_OWNER.displayName}</DisplayName>`;
  assert.is(
    r.body,
    '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Owner>${who}</Owner><AccessControlList><Grant>` +
      `<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${who}</Grantee>` +
      '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>',
  );
});

test('GetBucketAcl on a missing bucket is 404 NoSuchBucket', async () => {
  await refusedWith(srv.s3.send(new GetBucketAclCommand({ Bucket: 'acl-missing' })), 'NoSuchBucket', 404);
});

test('GetObjectAcl shows the owner with FULL_CONTROL', async () => {
  const acl = await srv.s3.send(new GetObjectAclCommand({ Bucket: B, Key: 'k' }));
  assert.is(acl.Owner?.ID, ROOT_OWNER.id);
  assert.is(acl.Grants?.length, 1);
  assert.is(acl.Grants?.[0]?.Permission, 'FULL_CONTROL');
  assert.is(acl.Grants?.[0]?.Grantee?.Type, 'CanonicalUser');
  assert.is(acl.Grants?.[0]?.Grantee?.ID, ROOT_OWNER.id);
});

test('GetObjectAcl on a missing key is 404 NoSuchKey', async () => {
  await refusedWith(srv.s3.send(new GetObjectAclCommand({ Bucket: B, Key: 'nope' })), 'NoSuchKey', 404);
});

test('GetObjectAcl with a versionId reads that version; an unknown one is NoSuchVersion', async () => {
  const vb = 'acl-versioned';
  await srv.s3.send(new CreateBucketCommand({ Bucket: vb }));
  await srv.s3.send(
    new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const put = await srv.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'v', Body: 'one' }));
  await srv.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'v', Body: 'two' }));
  const acl = await srv.s3.send(new GetObjectAclCommand({ Bucket: vb, Key: 'v', VersionId: put.VersionId }));
  assert.is(acl.Grants?.[0]?.Permission, 'FULL_CONTROL');
  await srv.s3.send(
    new PutObjectAclCommand({ Bucket: vb, Key: 'v', VersionId: put.VersionId, ACL: 'private' }),
  );
  await refusedWith(
    srv.s3.send(
      new GetObjectAclCommand({ Bucket: vb, Key: 'v', VersionId: '00000000-0000-0000-0000-000000000000' }),
    ),
    'NoSuchVersion',
    404,
  );
});

// --- PutBucketAcl / PutObjectAcl -------------------------------------------------------------------

test('PutBucketAcl accepts the private and bucket-owner-full-control canned ACLs', async () => {
  await srv.s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'private' }));
  await srv.s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'bucket-owner-full-control' }));
  const acl = await srv.s3.send(new GetBucketAclCommand({ Bucket: B }));
  assert.is(acl.Grants?.length, 1);
});

test('PutBucketAcl refuses public-read with 400 AccessControlListNotSupported', async () => {
  const e = await refused(srv.s3.send(new PutBucketAclCommand({ Bucket: B, ACL: 'public-read' })));
  assert.is(e.name, 'AccessControlListNotSupported');
  assert.is(e.$metadata.httpStatusCode, 400);
  assert.is(e.message, 'The bucket does not allow ACLs');
});

test('PutBucketAcl accepts a body granting the owner FULL_CONTROL alone', async () => {
  await srv.s3.send(
    new PutBucketAclCommand({
      Bucket: B,
      AccessControlPolicy: {
        Owner: { ID: ROOT_OWNER.id },
        Grants: [{ Grantee: { Type: 'CanonicalUser', ID: ROOT_OWNER.id }, Permission: 'FULL_CONTROL' }],
      },
    }),
  );
});

test('PutBucketAcl refuses a body granting anyone else anything', async () => {
  for (const grants of [
    ownerGrant() +
      '<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>',
    ownerGrant('a'.repeat(64)),
    ownerGrant(ROOT_OWNER.id, 'READ'),
    '',
  ]) {
    const r = await raw(srv, { method: 'PUT', path: `/${B}`, query: { acl: '' }, body: policy(grants) });
    assert.is(r.status, 400, grants);
    assert.match(r.body, '<Code>AccessControlListNotSupported</Code>');
  }
});

test('PutBucketAcl refuses a body naming another owner', async () => {
  const r = await raw(srv, {
    method: 'PUT',
    path: `/${B}`,
    query: { acl: '' },
    body: policy(ownerGrant(), 'b'.repeat(64)),
  });
  assert.is(r.status, 400);
  assert.match(r.body, '<Code>AccessControlListNotSupported</Code>');
});

test('PutBucketAcl refuses a body outside the schema with MalformedACLError', async () => {
  for (const body of [
    '<AccessControlPolicy><AccessControlList/></AccessControlPolicy>',
    '<AccessControlPolicy><Owner><ID>x</ID></Owner><AccessControlList><Grant><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>',
    policy(ownerGrant(ROOT_OWNER.id, 'EVERYTHING')),
    '<AccessControlPolicy><Owner>',
    '<Tagging/>',
  ]) {
    const r = await raw(srv, { method: 'PUT', path: `/${B}`, query: { acl: '' }, body });
    assert.is(r.status, 400, body);
    assert.match(r.body, '<Code>MalformedACLError</Code>');
  }
});

test('PutBucketAcl accepts x-amz-grant-full-control naming the owner alone, refuses other grants', async () => {
  const ok = await raw(srv, {
    method: 'PUT',
    path: `/${B}`,
    query: { acl: '' },
    headers: { 'x-amz-grant-full-control': `id="${ROOT_OWNER.id}"` },
  });
  assert.is(ok.status, 200, ok.body);
  for (const headers of [
    {
      'x-amz-grant-full-control': `id="${ROOT_OWNER.id}", uri="http://acs.amazonaws.com/groups/global/AllUsers"`,
    },
    { 'x-amz-grant-read': `id="${ROOT_OWNER.id}"` },
    { 'x-amz-grant-write-acp': 'emailAddress="a@example.com"' },
  ]) {
    const r = await raw(srv, { method: 'PUT', path: `/${B}`, query: { acl: '' }, headers });
    assert.is(r.status, 400, JSON.stringify(headers));
    assert.match(r.body, '<Code>AccessControlListNotSupported</Code>');
  }
});

test('an unknown canned ACL is 400 InvalidArgument; a canned ACL with grant headers is InvalidRequest', async () => {
  const bad = await raw(srv, {
    method: 'PUT',
    path: `/${B}`,
    query: { acl: '' },
    headers: { 'x-amz-acl': 'everyone-welcome' },
  });
  assert.is(bad.status, 400);
  assert.match(bad.body, '<Code>InvalidArgument</Code>');
  const both = await raw(srv, {
    method: 'PUT',
    path: `/${B}`,
    query: { acl: '' },
    headers: { 'x-amz-acl': 'private', 'x-amz-grant-full-control': `id="${ROOT_OWNER.id}"` },
  });
  assert.is(both.status, 400);
  assert.match(both.body, '<Code>InvalidRequest</Code>');
});

test('PutBucketAcl with neither ACL headers nor a body is 400 MissingRequestBodyError', async () => {
  const r = await raw(srv, { method: 'PUT', path: `/${B}`, query: { acl: '' } });
  assert.is(r.status, 400);
  assert.match(r.body, '<Code>MissingRequestBodyError</Code>');
});

test('PutBucketAcl on a missing bucket is 404 NoSuchBucket', async () => {
  await refusedWith(
    srv.s3.send(new PutBucketAclCommand({ Bucket: 'acl-missing', ACL: 'private' })),
    'NoSuchBucket',
    404,
  );
});

test('PutObjectAcl accepts private, refuses public-read-write with AccessControlListNotSupported', async () => {
  await srv.s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'k', ACL: 'private' }));
  await srv.s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'k', ACL: 'bucket-owner-full-control' }));
  await refusedWith(
    srv.s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'k', ACL: 'public-read-write' })),
    'AccessControlListNotSupported',
  );
});

test('PutObjectAcl with an owner-only body is accepted; on a missing key it is NoSuchKey', async () => {
  const AccessControlPolicy = {
    Owner: { ID: ROOT_OWNER.id },
    Grants: [
      { Grantee: { Type: 'CanonicalUser' as const, ID: ROOT_OWNER.id }, Permission: 'FULL_CONTROL' as const },
    ],
  };
  await srv.s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'k', AccessControlPolicy }));
  await refusedWith(
    srv.s3.send(new PutObjectAclCommand({ Bucket: B, Key: 'nope', AccessControlPolicy })),
    'NoSuchKey',
    404,
  );
});

// --- ACL headers on writes ---------------------------------------------------------------------------

test('PutObject takes any canned x-amz-acl and applies none (public-read stores the object, not public)', async () => {
  await srv.s3.send(new PutObjectCommand({ Bucket: B, Key: 'p1', Body: 'x', ACL: 'private' }));
  await srv.s3.send(
    new PutObjectCommand({ Bucket: B, Key: 'p2', Body: 'x', ACL: 'bucket-owner-full-control' }),
  );
  await srv.s3.send(new PutObjectCommand({ Bucket: B, Key: 'p3', Body: 'x', ACL: 'public-read' }));
  await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'p3' }));
  const anonymous = await fetch(`${srv.endpoint}/${B}/p3`);
  assert.is(anonymous.status, 403);
  const acl = await srv.s3.send(new GetObjectAclCommand({ Bucket: B, Key: 'p3' }));
  assert.is(acl.Grants?.length, 1);
  assert.is(acl.Grants?.[0]?.Permission, 'FULL_CONTROL');
  await refusedWith(
    srv.s3.send(new PutObjectCommand({ Bucket: B, Key: 'p5', Body: 'x', ACL: 'no-such-acl' as 'private' })),
    'InvalidArgument',
  );
});

test('PutObject refuses a read grant to everyone', async () => {
  await refusedWith(
    srv.s3.send(
      new PutObjectCommand({
        Bucket: B,
        Key: 'p4',
        Body: 'x',
        GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
      }),
    ),
    'AccessControlListNotSupported',
  );
});

test('CopyObject takes canned ACLs without applying them; refuses a grant to another', async () => {
  await srv.s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c1', CopySource: `${B}/k`, ACL: 'private' }));
  await srv.s3.send(
    new CopyObjectCommand({ Bucket: B, Key: 'c2', CopySource: `${B}/k`, ACL: 'authenticated-read' }),
  );
  await refusedWith(
    srv.s3.send(
      new CopyObjectCommand({
        Bucket: B,
        Key: 'c3',
        CopySource: `${B}/k`,
        GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
      }),
    ),
    'AccessControlListNotSupported',
  );
});

test('CreateMultipartUpload takes canned ACLs without applying them', async () => {
  for (const ACL of ['bucket-owner-full-control', 'public-read'] as const) {
    const ok = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: `m-${ACL}`, ACL }));
    assert.ok(ok.UploadId);
  }
});

test('CreateBucket takes a canned ACL without applying it; a grant to everyone is InvalidBucketAclWithObjectOwnership', async () => {
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'acl-public', ACL: 'public-read' }));
  const acl = await srv.s3.send(new GetBucketAclCommand({ Bucket: 'acl-public' }));
  assert.is(acl.Grants?.length, 1);
  assert.is((await fetch(`${srv.endpoint}/acl-public`)).status, 403);
  await refusedWith(
    srv.s3.send(
      new CreateBucketCommand({
        Bucket: 'acl-granted',
        GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"',
      }),
    ),
    'InvalidBucketAclWithObjectOwnership',
  );
  await refusedWith(srv.s3.send(new GetBucketAclCommand({ Bucket: 'acl-granted' })), 'NoSuchBucket', 404);
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'acl-private', ACL: 'private' }));
});

test('CreateBucket takes x-amz-object-ownership BucketOwnerEnforced; ACL-enabling settings are 501', async () => {
  await srv.s3.send(
    new CreateBucketCommand({ Bucket: 'acl-enforced', ObjectOwnership: 'BucketOwnerEnforced' }),
  );
  await refusedWith(
    srv.s3.send(new CreateBucketCommand({ Bucket: 'acl-writer', ObjectOwnership: 'ObjectWriter' })),
    'NotImplemented',
    501,
  );
  const r = await raw(srv, {
    method: 'PUT',
    path: '/acl-odd-ownership',
    headers: { 'x-amz-object-ownership': 'Whoever' },
  });
  assert.is(r.status, 400);
  assert.match(r.body, '<Code>InvalidArgument</Code>');
});

// --- ownership controls ------------------------------------------------------------------------------

test('GetBucketOwnershipControls reports BucketOwnerEnforced', async () => {
  const r = await srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: B }));
  assert.equal(r.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
});

test('PutBucketOwnershipControls accepts BucketOwnerEnforced; BucketOwnerPreferred is 501 NotImplemented', async () => {
  await srv.s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: B,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
  await refusedWith(
    srv.s3.send(
      new PutBucketOwnershipControlsCommand({
        Bucket: B,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] },
      }),
    ),
    'NotImplemented',
    501,
  );
});

test('PutBucketOwnershipControls refuses an unknown setting or no rule with MalformedXML', async () => {
  for (const body of [
    '<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>',
    '<OwnershipControls></OwnershipControls>',
  ]) {
    const r = await raw(srv, { method: 'PUT', path: `/${B}`, query: { ownershipControls: '' }, body });
    assert.is(r.status, 400, body);
    assert.match(r.body, '<Code>MalformedXML</Code>');
  }
});

test('DeleteBucketOwnershipControls: Get is then 404 OwnershipControlsNotFoundError until a Put', async () => {
  const b = 'acl-ownership';
  await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
  const del = await srv.s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }));
  assert.is(del.$metadata.httpStatusCode, 204);
  await refusedWith(
    srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })),
    'OwnershipControlsNotFoundError',
    404,
  );
  // ACLs stay disabled all the same.
  await refusedWith(
    srv.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })),
    'AccessControlListNotSupported',
  );
  await srv.s3.send(
    new PutBucketOwnershipControlsCommand({
      Bucket: b,
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    }),
  );
  const r = await srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
  assert.equal(r.OwnershipControls?.Rules, [{ ObjectOwnership: 'BucketOwnerEnforced' }]);
});

test('ownership controls on a missing bucket are 404 NoSuchBucket', async () => {
  await refusedWith(
    srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'acl-missing' })),
    'NoSuchBucket',
    404,
  );
  await refusedWith(
    srv.s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: 'acl-missing' })),
    'NoSuchBucket',
    404,
  );
});

test.run();
