/**
 * Authorization of S3 requests through real clients, for each kind of identity: a user with its own
 * policies, a user through its group's policy, a service account narrowed by an inline policy, and
 * temporary (STS) credentials. Allowed calls work; refused ones get 403 AccessDenied saying why, and
 * leave the bucket as it was.
 */
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { presignRequest } from '../../src/auth';
import type { IAM } from '../../src/auth/iam/IAM';
import { denied, exists, policyDoc, refused } from '../helpers/s3assert';
import { startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let iam: IAM;

function client(accessKeyId: string, secretAccessKey: string, sessionToken?: string): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });
}

async function body(c: S3Client, Bucket: string, Key: string): Promise<string> {
  const r = await c.send(new GetObjectCommand({ Bucket, Key }));
  return r.Body!.transformToString();
}

const allow = (Action: string[], Resource: string[]) => ({ Effect: 'Allow', Action, Resource });

let reader: S3Client;
let member: S3Client;

test.before(async () => {
  srv = await startServer();
  iam = (srv.server as unknown as { iam: IAM }).iam;
  for (const b of ['data', 'other']) await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
  for (const k of ['public/a.txt', 'private/b.txt', 'secret/c.txt', 'tmp/d.txt', 'keep/e.txt']) {
    await srv.s3.send(new PutObjectCommand({ Bucket: 'data', Key: k, Body: `root wrote ${k}` }));
  }
  await srv.s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'x.txt', Body: 'other bucket' }));

  await iam.putPolicy(
    'read-data',
    policyDoc(
      allow(['s3:GetObject'], ['arn:aws:s3:::data/*']),
      allow(['s3:ListBucket'], ['arn:aws:s3:::data']),
    ),
  );
  await iam.putPolicy('write-data', policyDoc(allow(['s3:PutObject'], ['arn:aws:s3:::data/*'])));
  await iam.createUser({ accessKey: 'reader', secretKey: 'reader-secret-1', policies: ['read-data'] });
  reader = client('reader', 'reader-secret-1');
  await iam.createUser({ accessKey: 'member', secretKey: 'member-secret-1' });
  await iam.addGroupMembers('writers', ['member']);
  await iam.setGroupPolicies('writers', ['write-data']);
  member = client('member', 'member-secret-1');
});

test.after(async () => {
  reader?.destroy();
  member?.destroy();
  await srv?.stop();
});

// --- a user with its own policy -------------------------------------------------------------------

test('a user reads, heads and lists what its policy allows', async () => {
  assert.equal(await body(reader, 'data', 'public/a.txt'), 'root wrote public/a.txt');
  await reader.send(new HeadObjectCommand({ Bucket: 'data', Key: 'private/b.txt' }));
  await reader.send(new HeadBucketCommand({ Bucket: 'data' }));
  const l = await reader.send(new ListObjectsV2Command({ Bucket: 'data' }));
  assert.equal(l.KeyCount, 5);
});

test('a user cannot write what its policy does not allow, and nothing is written', async () => {
  await denied(
    reader.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/a.txt', Body: 'overwritten' })),
    /User: arn:aws:iam::\d+:user\/reader is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::data\/public\/a.txt" because no identity-based policy allows the s3:PutObject action/,
  );
  await denied(reader.send(new PutObjectCommand({ Bucket: 'data', Key: 'new.txt', Body: 'x' })));
  assert.equal(await body(srv.s3, 'data', 'public/a.txt'), 'root wrote public/a.txt');
  assert.equal(await exists(srv.s3, 'data', 'new.txt'), false);
});

test('a user cannot delete without s3:DeleteObject, and the object stays', async () => {
  await denied(
    reader.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'keep/e.txt' })),
    /s3:DeleteObject/,
  );
  assert.equal(await exists(srv.s3, 'data', 'keep/e.txt'), true);
});

test('a user cannot read or list another bucket', async () => {
  await denied(reader.send(new GetObjectCommand({ Bucket: 'other', Key: 'x.txt' })), /s3:GetObject/);
  await denied(reader.send(new ListObjectsV2Command({ Bucket: 'other' })), /s3:ListBucket/);
  await denied(reader.send(new HeadBucketCommand({ Bucket: 'other' })));
});

test('a bucket that does not exist is NoSuchBucket to every caller, allowed it or not (AWS)', async () => {
  const none = await refused(reader.send(new ListObjectsV2Command({ Bucket: 'nosuchbucket' })));
  assert.equal(none.name, 'NoSuchBucket');
  assert.equal(none.$metadata.httpStatusCode, 404);
  await iam.createUser({ accessKey: 'rw-user', secretKey: 'rw-user-secret', policies: ['readwrite'] });
  const rw = client('rw-user', 'rw-user-secret');
  try {
    const e = await refused(rw.send(new ListObjectsV2Command({ Bucket: 'nosuchbucket' })));
    assert.equal(e.name, 'NoSuchBucket');
  } finally {
    rw.destroy();
  }
});

test('a missing key is NoSuchKey with s3:ListBucket, AccessDenied without it', async () => {
  const e = await refused(reader.send(new GetObjectCommand({ Bucket: 'data', Key: 'public/none' })));
  assert.equal(e.name, 'NoSuchKey');
  await iam.putPolicy('get-only', policyDoc(allow(['s3:GetObject'], ['arn:aws:s3:::data/*'])));
  await iam.createUser({ accessKey: 'getter', secretKey: 'getter-secret', policies: ['get-only'] });
  const g = client('getter', 'getter-secret');
  try {
    assert.equal(await body(g, 'data', 'public/a.txt'), 'root wrote public/a.txt');
    await denied(g.send(new GetObjectCommand({ Bucket: 'data', Key: 'public/none' })), /s3:ListBucket/);
    await denied(g.send(new HeadObjectCommand({ Bucket: 'data', Key: 'public/none' })));
  } finally {
    g.destroy();
  }
});

test('ListBuckets shows a user only the buckets it may list', async () => {
  const r = await reader.send(new ListBucketsCommand({}));
  assert.deepEqual(
    r.Buckets?.map((b) => b.Name),
    ['data'],
  );
  const all = await srv.s3.send(new ListBucketsCommand({}));
  assert.deepEqual(
    all.Buckets?.map((b) => b.Name),
    ['data', 'other'],
  );
});

test('a user cannot create a bucket without s3:CreateBucket', async () => {
  await denied(reader.send(new CreateBucketCommand({ Bucket: 'readers-bucket' })), /s3:CreateBucket/);
  const l = await srv.s3.send(new ListBucketsCommand({}));
  assert.ok(!l.Buckets?.some((b) => b.Name === 'readers-bucket'));
});

// --- a user through its group ---------------------------------------------------------------------

test("a group member may do what the group's policy allows and nothing else", async () => {
  await member.send(new PutObjectCommand({ Bucket: 'data', Key: 'tmp/by-member.txt', Body: 'member' }));
  assert.equal(await body(srv.s3, 'data', 'tmp/by-member.txt'), 'member');
  await denied(
    member.send(new GetObjectCommand({ Bucket: 'data', Key: 'tmp/by-member.txt' })),
    /s3:GetObject/,
  );
  await denied(member.send(new PutObjectCommand({ Bucket: 'other', Key: 'y', Body: 'y' })));
  assert.equal(await exists(srv.s3, 'other', 'y'), false);
});

test("a disabled group's policy no longer applies", async () => {
  await iam.setGroupStatus('writers', 'disabled');
  try {
    await denied(member.send(new PutObjectCommand({ Bucket: 'data', Key: 'tmp/disabled.txt', Body: 'x' })));
    assert.equal(await exists(srv.s3, 'data', 'tmp/disabled.txt'), false);
  } finally {
    await iam.setGroupStatus('writers', 'enabled');
  }
  await member.send(new PutObjectCommand({ Bucket: 'data', Key: 'tmp/enabled.txt', Body: 'x' }));
});

// --- explicit Deny --------------------------------------------------------------------------------

test('an explicit Deny wins over an Allow, and says so', async () => {
  await iam.putPolicy(
    'no-secrets',
    policyDoc({
      Effect: 'Deny',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: ['arn:aws:s3:::data/secret/*'],
    }),
  );
  await iam.createUser({
    accessKey: 'almost-all',
    secretKey: 'almost-all-secret',
    policies: ['readwrite', 'no-secrets'],
  });
  const c = client('almost-all', 'almost-all-secret');
  try {
    assert.equal(await body(c, 'data', 'private/b.txt'), 'root wrote private/b.txt');
    await denied(
      c.send(new GetObjectCommand({ Bucket: 'data', Key: 'secret/c.txt' })),
      /with an explicit deny in an identity-based policy/,
    );
    await denied(c.send(new PutObjectCommand({ Bucket: 'data', Key: 'secret/c.txt', Body: 'overwritten' })));
    assert.equal(await body(srv.s3, 'data', 'secret/c.txt'), 'root wrote secret/c.txt');
  } finally {
    c.destroy();
  }
});

// --- ${aws:username} ------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noTemplateCurlyInString: the policy variable, literally
test('${aws:username} gives each user its own home prefix', async () => {
  await iam.putPolicy(
    'home',
    policyDoc(
      allow(
        ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the policy variable, literally
        ['arn:aws:s3:::data/home/${aws:username}/*'],
      ),
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: ['arn:aws:s3:::data'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the policy variable, literally
        Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } },
      },
    ),
  );
  await iam.createUser({ accessKey: 'alice', secretKey: 'alice-secret-1', policies: ['home'] });
  await iam.createUser({ accessKey: 'bob', secretKey: 'bob-secret-12', policies: ['home'] });
  const alice = client('alice', 'alice-secret-1');
  const bob = client('bob', 'bob-secret-12');
  try {
    await alice.send(new PutObjectCommand({ Bucket: 'data', Key: 'home/alice/notes.txt', Body: 'alice' }));
    await bob.send(new PutObjectCommand({ Bucket: 'data', Key: 'home/bob/notes.txt', Body: 'bob' }));
    assert.equal(await body(alice, 'data', 'home/alice/notes.txt'), 'alice');
    const l = await alice.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'home/alice/' }));
    assert.deepEqual(
      l.Contents?.map((o) => o.Key),
      ['home/alice/notes.txt'],
    );
    await denied(alice.send(new GetObjectCommand({ Bucket: 'data', Key: 'home/bob/notes.txt' })));
    await denied(alice.send(new PutObjectCommand({ Bucket: 'data', Key: 'home/bob/notes.txt', Body: 'x' })));
    await denied(
      alice.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'home/bob/' })),
      /s3:ListBucket/,
    );
    await denied(alice.send(new ListObjectsV2Command({ Bucket: 'data' })));
    assert.equal(await body(srv.s3, 'data', 'home/bob/notes.txt'), 'bob');
  } finally {
    alice.destroy();
    bob.destroy();
  }
});

// --- DeleteObjects --------------------------------------------------------------------------------

test('DeleteObjects deletes the keys allowed and reports AccessDenied for the others', async () => {
  await iam.putPolicy('delete-tmp', policyDoc(allow(['s3:DeleteObject'], ['arn:aws:s3:::data/tmp/*'])));
  await iam.createUser({ accessKey: 'cleaner', secretKey: 'cleaner-secret', policies: ['delete-tmp'] });
  const c = client('cleaner', 'cleaner-secret');
  try {
    const r = await c.send(
      new DeleteObjectsCommand({
        Bucket: 'data',
        Delete: { Objects: [{ Key: 'tmp/d.txt' }, { Key: 'keep/e.txt' }] },
      }),
    );
    assert.deepEqual(
      r.Deleted?.map((d) => d.Key),
      ['tmp/d.txt'],
    );
    assert.deepEqual(
      r.Errors?.map((e) => [e.Key, e.Code]),
      [['keep/e.txt', 'AccessDenied']],
    );
    assert.equal(await exists(srv.s3, 'data', 'tmp/d.txt'), false);
    assert.equal(await exists(srv.s3, 'data', 'keep/e.txt'), true);
    // On a bucket that does not exist, and no key allowed: AccessDenied rather than NoSuchBucket.
    await denied(
      c.send(new DeleteObjectsCommand({ Bucket: 'nosuchbucket', Delete: { Objects: [{ Key: 'tmp/x' }] } })),
    );
  } finally {
    c.destroy();
  }
});

// --- CopyObject -----------------------------------------------------------------------------------

test('CopyObject needs read on the source: copying from a bucket the user cannot read is refused', async () => {
  await iam.putPolicy('rw-data', policyDoc(allow(['s3:GetObject', 's3:PutObject'], ['arn:aws:s3:::data/*'])));
  await iam.createUser({ accessKey: 'copier', secretKey: 'copier-secret', policies: ['rw-data'] });
  const c = client('copier', 'copier-secret');
  try {
    await c.send(
      new CopyObjectCommand({ Bucket: 'data', Key: 'tmp/copy.txt', CopySource: 'data/public/a.txt' }),
    );
    assert.equal(await body(srv.s3, 'data', 'tmp/copy.txt'), 'root wrote public/a.txt');
    await denied(
      c.send(new CopyObjectCommand({ Bucket: 'data', Key: 'tmp/stolen.txt', CopySource: 'other/x.txt' })),
      /s3:GetObject on resource: "arn:aws:s3:::other\/x.txt"/,
    );
    assert.equal(await exists(srv.s3, 'data', 'tmp/stolen.txt'), false);
  } finally {
    c.destroy();
  }
});

// --- presigned URLs -------------------------------------------------------------------------------

test("a presigned URL carries its signer's rights", async () => {
  const presign = (method: string, path: string) => {
    const p = presignRequest(
      { method, path, headers: { host: new URL(srv.endpoint).host } },
      {
        credentials: { accessKey: 'reader', secretKey: 'reader-secret-1' },
        region: srv.region,
        expiresIn: 60,
      },
    );
    return `${srv.endpoint}${p.path}?${p.query}`;
  };
  const ok = await fetch(presign('GET', '/data/public/a.txt'));
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'root wrote public/a.txt');
  const no = await fetch(presign('PUT', '/data/public/a.txt'), { method: 'PUT', body: 'overwritten' });
  assert.equal(no.status, 403);
  assert.match(await no.text(), /<Code>AccessDenied<\/Code>/);
  assert.equal(await body(srv.s3, 'data', 'public/a.txt'), 'root wrote public/a.txt');
});

// --- disabled users -------------------------------------------------------------------------------

test('a disabled user is refused at once, and works again once enabled', async () => {
  assert.equal(await body(reader, 'data', 'public/a.txt'), 'root wrote public/a.txt');
  await iam.setUserStatus('reader', 'disabled');
  try {
    const e = await refused(reader.send(new GetObjectCommand({ Bucket: 'data', Key: 'public/a.txt' })));
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.ok(['InvalidAccessKeyId', 'AccessDenied'].includes(e.name), e.name);
  } finally {
    await iam.setUserStatus('reader', 'enabled');
  }
  assert.equal(await body(reader, 'data', 'public/a.txt'), 'root wrote public/a.txt');
});

// --- service accounts -----------------------------------------------------------------------------

test("a service account's inline policy narrows its parent's rights", async () => {
  const sa = await iam.createServiceAccount({
    parent: 'reader',
    policy: policyDoc(allow(['s3:GetObject'], ['arn:aws:s3:::data/public/*'])),
  });
  const c = client(sa.accessKey, sa.secretKey);
  try {
    assert.equal(await body(c, 'data', 'public/a.txt'), 'root wrote public/a.txt');
    await denied(
      c.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/b.txt' })),
      /because no session policy allows the s3:GetObject action/,
    );
    await denied(c.send(new ListObjectsV2Command({ Bucket: 'data' })));
  } finally {
    c.destroy();
  }
});

test('a service account can never do more than its parent, whatever its inline policy says', async () => {
  const sa = await iam.createServiceAccount({
    parent: 'reader',
    policy: policyDoc(allow(['s3:*'], ['arn:aws:s3:::*'])),
  });
  const c = client(sa.accessKey, sa.secretKey);
  try {
    assert.equal(await body(c, 'data', 'public/a.txt'), 'root wrote public/a.txt');
    await denied(c.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/a.txt', Body: 'no' })));
    await denied(c.send(new GetObjectCommand({ Bucket: 'other', Key: 'x.txt' })));
    assert.equal(await body(srv.s3, 'data', 'public/a.txt'), 'root wrote public/a.txt');
  } finally {
    c.destroy();
  }
});

// --- STS ------------------------------------------------------------------------------------------

test('temporary credentials from AssumeRole have at most the caller’s rights, narrowed by a session policy', async () => {
  const sts = new STSClient({
    endpoint: srv.endpoint,
    region: srv.region,
    credentials: { accessKeyId: 'reader', secretAccessKey: 'reader-secret-1' },
    maxAttempts: 1,
  });
  try {
    const r = await sts.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/any',
        RoleSessionName: 'test',
        Policy: policyDoc(allow(['s3:GetObject'], ['arn:aws:s3:::data/public/*'])),
      }),
    );
    const cr = r.Credentials!;
    const c = client(cr.AccessKeyId!, cr.SecretAccessKey!, cr.SessionToken!);
    try {
      assert.equal(await body(c, 'data', 'public/a.txt'), 'root wrote public/a.txt');
      await denied(c.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/b.txt' })));
      await denied(c.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/sts.txt', Body: 'x' })));
      assert.equal(await exists(srv.s3, 'data', 'public/sts.txt'), false);
    } finally {
      c.destroy();
    }
  } finally {
    sts.destroy();
  }
});

// --- the minio client -----------------------------------------------------------------------------

test('the minio client: a read-only user reads and is refused writes', async () => {
  const mc = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: 'reader',
    secretKey: 'reader-secret-1',
    region: srv.region,
    pathStyle: true,
  });
  const stream = await mc.getObject('data', 'public/a.txt');
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), 'root wrote public/a.txt');
  await assert.rejects(mc.putObject('data', 'minio.txt', Buffer.from('x')), (e: { code?: string }) => {
    assert.equal(e.code, 'AccessDenied');
    return true;
  });
  assert.equal(await exists(srv.s3, 'data', 'minio.txt'), false);
});

// --- anonymous ------------------------------------------------------------------------------------

test('an anonymous request is refused where no bucket policy allows it', async () => {
  for (const [method, path] of [
    ['GET', '/data/public/a.txt'],
    ['HEAD', '/data/public/a.txt'],
    ['GET', '/data'],
    ['PUT', '/data/anon.txt'],
    ['DELETE', '/data/keep/e.txt'],
    ['GET', '/'],
  ] as const) {
    const r = await fetch(`${srv.endpoint}${path}`, { method, ...(method === 'PUT' ? { body: 'x' } : {}) });
    assert.equal(r.status, 403, `${method} ${path}`);
    if (method !== 'HEAD') assert.match(await r.text(), /<Code>AccessDenied<\/Code>/);
  }
  assert.equal(await exists(srv.s3, 'data', 'anon.txt'), false);
  assert.equal(await exists(srv.s3, 'data', 'keep/e.txt'), true);
});

test('an anonymous request to a bucket that does not exist is 404 NoSuchBucket (AWS: bucket names are public)', async () => {
  for (const [method, path] of [
    ['GET', '/nosuchbucket/k'],
    ['DELETE', '/nosuchbucket/k'],
    ['GET', '/nosuchbucket'],
    ['PUT', '/nosuchbucket/k'],
  ] as const) {
    const r = await fetch(`${srv.endpoint}${path}`, { method, ...(method === 'PUT' ? { body: 'x' } : {}) });
    assert.equal(r.status, 404, `${method} ${path}`);
    const body = await r.text();
    assert.match(body, /<Code>NoSuchBucket<\/Code>/);
    assert.match(body, /<BucketName>nosuchbucket<\/BucketName>/);
  }
  // An existing bucket still refuses: AccessDenied.
  const r = await fetch(`${srv.endpoint}/data/keep/e.txt`, { method: 'DELETE' });
  assert.equal(r.status, 403);
});

test.run();
