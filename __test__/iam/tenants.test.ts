/**
 * The multi-tenant pattern of docs/iam.md#tenants: one user (or group) per tenant, each with a policy
 * on its own bucket-name prefix (`arn:aws:s3:::tenant-a-*`). One tenant can neither list, read, write,
 * copy from, delete nor guess the keys of another's buckets, and sees only its own in ListBuckets.
 */
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import type { IAM } from '../../src/auth/iam/IAM';
import { denied, exists } from '../helpers/s3assert';
import { startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let iam: IAM;
let a: S3Client;
let b: S3Client;
let c1: S3Client;
let c2: S3Client;

function client(accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

async function text(c: S3Client, Bucket: string, Key: string): Promise<string> {
  return (await c.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
}

/** The tenant policy of docs/iam.md: everything on the tenant's own buckets and their objects, nothing else. */
const tenantPolicy = (tenant: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'OwnBuckets',
        Effect: 'Allow',
        Action: ['s3:*'],
        Resource: [`arn:aws:s3:::${tenant}-*`, `arn:aws:s3:::${tenant}-*/*`],
      },
    ],
  });

test.before(async () => {
  srv = await startServer();
  iam = (srv.server as unknown as { iam: IAM }).iam;
  await iam.putPolicy('tenant-a', tenantPolicy('tenant-a'));
  await iam.putPolicy('tenant-b', tenantPolicy('tenant-b'));
  await iam.putPolicy('tenant-c', tenantPolicy('tenant-c'));
  await iam.createUser({ accessKey: 'tenant-a-admin', secretKey: 'tenant-a-secret', policies: ['tenant-a'] });
  await iam.createUser({ accessKey: 'tenant-b-admin', secretKey: 'tenant-b-secret', policies: ['tenant-b'] });
  // Tenant C is a group: every member gets the tenant's rights.
  await iam.createUser({ accessKey: 'carol', secretKey: 'carol-secret' });
  await iam.createUser({ accessKey: 'carl', secretKey: 'carl-secret-1' });
  await iam.addGroupMembers('tenant-c', ['carol', 'carl']);
  await iam.setGroupPolicies('tenant-c', ['tenant-c']);
  a = client('tenant-a-admin', 'tenant-a-secret');
  b = client('tenant-b-admin', 'tenant-b-secret');
  c1 = client('carol', 'carol-secret');
  c2 = client('carl', 'carl-secret-1');

  await a.send(new CreateBucketCommand({ Bucket: 'tenant-a-photos' }));
  await a.send(new CreateBucketCommand({ Bucket: 'tenant-a-backups' }));
  await a.send(new PutObjectCommand({ Bucket: 'tenant-a-photos', Key: 'cat.jpg', Body: 'a cat' }));
  await a.send(
    new PutObjectCommand({ Bucket: 'tenant-a-photos', Key: 'private/diary.txt', Body: 'dear diary' }),
  );
  await b.send(new CreateBucketCommand({ Bucket: 'tenant-b-docs' }));
  await b.send(new PutObjectCommand({ Bucket: 'tenant-b-docs', Key: 'report.pdf', Body: 'b report' }));
  await c1.send(new CreateBucketCommand({ Bucket: 'tenant-c-shared' }));
});

test.after(async () => {
  for (const c of [a, b, c1, c2]) c?.destroy();
  await srv?.stop();
});

test('each tenant works freely in its own buckets', async () => {
  assert.equal(await text(a, 'tenant-a-photos', 'cat.jpg'), 'a cat');
  const l = await a.send(new ListObjectsV2Command({ Bucket: 'tenant-a-photos' }));
  assert.deepEqual(
    l.Contents?.map((o) => o.Key),
    ['cat.jpg', 'private/diary.txt'],
  );
  await b.send(new HeadBucketCommand({ Bucket: 'tenant-b-docs' }));
  assert.equal(await text(b, 'tenant-b-docs', 'report.pdf'), 'b report');
});

test('ListBuckets shows each tenant only its own buckets', async () => {
  const names = async (c: S3Client) => (await c.send(new ListBucketsCommand({}))).Buckets?.map((x) => x.Name);
  assert.deepEqual(await names(a), ['tenant-a-backups', 'tenant-a-photos']);
  assert.deepEqual(await names(b), ['tenant-b-docs']);
  assert.deepEqual(await names(c2), ['tenant-c-shared']);
  assert.deepEqual(await names(srv.s3), [
    'tenant-a-backups',
    'tenant-a-photos',
    'tenant-b-docs',
    'tenant-c-shared',
  ]);
});

test("a tenant cannot list another's bucket, with or without a prefix", async () => {
  await denied(b.send(new ListObjectsV2Command({ Bucket: 'tenant-a-photos' })));
  await denied(b.send(new ListObjectsV2Command({ Bucket: 'tenant-a-photos', Prefix: 'private/' })));
  await denied(b.send(new ListMultipartUploadsCommand({ Bucket: 'tenant-a-photos' })));
  await denied(b.send(new HeadBucketCommand({ Bucket: 'tenant-a-photos' })));
});

test("a tenant cannot read another's objects, and cannot tell which keys exist", async () => {
  const there = await denied(b.send(new GetObjectCommand({ Bucket: 'tenant-a-photos', Key: 'cat.jpg' })));
  const notThere = await denied(b.send(new GetObjectCommand({ Bucket: 'tenant-a-photos', Key: 'dog.jpg' })));
  // The same refusal either way, naming only the key asked for.
  assert.equal(there.replace('cat.jpg', 'KEY'), notThere.replace('dog.jpg', 'KEY'));
  await denied(b.send(new HeadObjectCommand({ Bucket: 'tenant-a-photos', Key: 'cat.jpg' })));
  await denied(b.send(new HeadObjectCommand({ Bucket: 'tenant-a-photos', Key: 'dog.jpg' })));
});

test("another tenant's bucket is AccessDenied; a name nobody has taken is NoSuchBucket, as on AWS", async () => {
  await denied(b.send(new ListObjectsV2Command({ Bucket: 'tenant-a-photos' })));
  // AWS: bucket names are global, so whether one exists is no secret.
  const free = await b.send(new ListObjectsV2Command({ Bucket: 'tenant-a-nothing' })).then(
    () => assert.fail('listed a bucket that does not exist'),
    (e: { name: string; $metadata: { httpStatusCode?: number } }) => e,
  );
  assert.equal(free.name, 'NoSuchBucket');
  assert.equal(free.$metadata.httpStatusCode, 404);
  const head = await b.send(new HeadBucketCommand({ Bucket: 'tenant-a-nothing' })).catch((e) => e);
  assert.equal(head.$metadata.httpStatusCode, 404);
});

test("a tenant cannot write, overwrite or delete in another's bucket, and nothing changes", async () => {
  await denied(
    b.send(new PutObjectCommand({ Bucket: 'tenant-a-photos', Key: 'cat.jpg', Body: 'not a cat' })),
  );
  await denied(b.send(new PutObjectCommand({ Bucket: 'tenant-a-photos', Key: 'planted.txt', Body: 'x' })));
  await denied(b.send(new CreateMultipartUploadCommand({ Bucket: 'tenant-a-photos', Key: 'big.bin' })));
  await denied(b.send(new DeleteObjectCommand({ Bucket: 'tenant-a-photos', Key: 'cat.jpg' })));
  const r = await b.send(
    new DeleteObjectsCommand({
      Bucket: 'tenant-a-photos',
      Delete: { Objects: [{ Key: 'cat.jpg' }, { Key: 'private/diary.txt' }] },
    }),
  );
  assert.equal(r.Deleted?.length ?? 0, 0);
  assert.deepEqual(
    r.Errors?.map((e) => e.Code),
    ['AccessDenied', 'AccessDenied'],
  );
  await denied(b.send(new DeleteBucketCommand({ Bucket: 'tenant-a-backups' })));
  assert.equal(await text(srv.s3, 'tenant-a-photos', 'cat.jpg'), 'a cat');
  assert.equal(await exists(srv.s3, 'tenant-a-photos', 'private/diary.txt'), true);
  assert.equal(await exists(srv.s3, 'tenant-a-photos', 'planted.txt'), false);
  await srv.s3.send(new HeadBucketCommand({ Bucket: 'tenant-a-backups' }));
});

test("a tenant cannot copy another's object into its own bucket", async () => {
  await denied(
    b.send(
      new CopyObjectCommand({
        Bucket: 'tenant-b-docs',
        Key: 'stolen.jpg',
        CopySource: 'tenant-a-photos/cat.jpg',
      }),
    ),
  );
  assert.equal(await exists(srv.s3, 'tenant-b-docs', 'stolen.jpg'), false);
  // Nor push its own objects into the other's bucket.
  await denied(
    b.send(
      new CopyObjectCommand({
        Bucket: 'tenant-a-photos',
        Key: 'pushed.pdf',
        CopySource: 'tenant-b-docs/report.pdf',
      }),
    ),
  );
  assert.equal(await exists(srv.s3, 'tenant-a-photos', 'pushed.pdf'), false);
});

test("a tenant cannot create buckets in another's name space, nor take over its policy", async () => {
  await denied(b.send(new CreateBucketCommand({ Bucket: 'tenant-a-new' })));
  await denied(b.send(new CreateBucketCommand({ Bucket: 'unprefixed' })));
  const all = await srv.s3.send(new ListBucketsCommand({}));
  assert.ok(!all.Buckets?.some((x) => x.Name === 'tenant-a-new' || x.Name === 'unprefixed'));
  await denied(b.send(new GetBucketPolicyCommand({ Bucket: 'tenant-a-photos' })));
  await denied(
    b.send(
      new PutBucketPolicyCommand({
        Bucket: 'tenant-a-photos',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:GetObject',
              Resource: 'arn:aws:s3:::tenant-a-photos/*',
            },
          ],
        }),
      }),
    ),
  );
  assert.equal((await fetch(`${srv.endpoint}/tenant-a-photos/cat.jpg`)).status, 403);
});

test('a tenant may open a bucket of its own to the public without opening anything else', async () => {
  await a.send(
    new PutBucketPolicyCommand({
      Bucket: 'tenant-a-photos',
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::tenant-a-photos/*',
          },
        ],
      }),
    }),
  );
  try {
    assert.equal((await fetch(`${srv.endpoint}/tenant-a-photos/cat.jpg`)).status, 200);
    // Other tenants read it as the public does, and write nothing.
    assert.equal(await text(b, 'tenant-a-photos', 'cat.jpg'), 'a cat');
    await denied(b.send(new PutObjectCommand({ Bucket: 'tenant-a-photos', Key: 'cat.jpg', Body: 'x' })));
    assert.equal((await fetch(`${srv.endpoint}/tenant-a-backups`)).status, 403);
  } finally {
    await a.send(new PutBucketPolicyCommand({ Bucket: 'tenant-a-photos', Policy: tenantBucketOnly() }));
  }
});

/** A bucket policy that grants nothing extra (tenant A's own policy already covers its admin). */
function tenantBucketOnly(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::000000000000:user/tenant-a-admin'] },
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::tenant-a-photos/*',
      },
    ],
  });
}

test("a tenant group's members share the tenant's buckets and nothing else", async () => {
  await c1.send(new PutObjectCommand({ Bucket: 'tenant-c-shared', Key: 'plan.md', Body: 'from carol' }));
  assert.equal(await text(c2, 'tenant-c-shared', 'plan.md'), 'from carol');
  await denied(c2.send(new GetObjectCommand({ Bucket: 'tenant-a-photos', Key: 'private/diary.txt' })));
  await denied(c1.send(new ListObjectsV2Command({ Bucket: 'tenant-b-docs' })));
  // Removed from the group: the tenant's rights go with it, at once.
  await iam.removeGroupMembers('tenant-c', ['carl']);
  try {
    await denied(c2.send(new GetObjectCommand({ Bucket: 'tenant-c-shared', Key: 'plan.md' })));
  } finally {
    await iam.addGroupMembers('tenant-c', ['carl']);
  }
});

test('the minio client: a tenant lists only its own buckets and is refused the others', async () => {
  const mc = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: 'tenant-b-admin',
    secretKey: 'tenant-b-secret',
    region: srv.region,
    pathStyle: true,
  });
  const buckets = await mc.listBuckets();
  assert.deepEqual(
    buckets.map((x) => x.name),
    ['tenant-b-docs'],
  );
  await assert.rejects(mc.statObject('tenant-a-photos', 'cat.jpg'));
  await assert.rejects(mc.getObject('tenant-a-photos', 'cat.jpg'), (e: { code?: string }) => {
    assert.equal(e.code, 'AccessDenied');
    return true;
  });
});

test.run();
