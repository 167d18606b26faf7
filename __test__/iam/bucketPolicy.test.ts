/**
 * Bucket policies: Put/Get/Delete/GetBucketPolicyStatus through real clients, validation
 * (MalformedPolicy, nothing stored), anonymous access where a policy allows it (plain unsigned
 * requests, as curl sends them), principals, Deny over Allow, conditions, and the root user's way
 * back from a policy that denies everyone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { deriveSigningKey, formatAmzDate } from '../../src/auth';
import type { IAM } from '../../src/auth/iam/IAM';
import { signHex } from '../../src/auth/sigv4';
import { denied, exists, policyDoc, refused } from '../helpers/s3assert';
import { startServer, type TestServer } from '../helpers/server';

const run = promisify(execFile);

let srv: TestServer;
let iam: IAM;

function client(accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

async function text(Bucket: string, Key: string, c: S3Client = srv.s3): Promise<string> {
  const r = await c.send(new GetObjectCommand({ Bucket, Key }));
  return r.Body!.transformToString();
}

/** Anyone may read objects and list the bucket: the usual "public read" bucket. */
const publicRead = (bucket: string) =>
  policyDoc(
    {
      Sid: 'PublicRead',
      Effect: 'Allow',
      Principal: '*',
      Action: ['s3:GetObject'],
      Resource: [`arn:aws:s3:::${bucket}/*`],
    },
    {
      Sid: 'PublicList',
      Effect: 'Allow',
      Principal: { AWS: ['*'] },
      Action: 's3:ListBucket',
      Resource: `arn:aws:s3:::${bucket}`,
    },
  );

const put = (Bucket: string, Policy: string, c: S3Client = srv.s3) =>
  c.send(new PutBucketPolicyCommand({ Bucket, Policy }));

test.before(async () => {
  srv = await startServer();
  iam = (srv.server as unknown as { iam: IAM }).iam;
  for (const b of ['pub', 'priv', 'shared']) await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
  await srv.s3.send(new PutObjectCommand({ Bucket: 'pub', Key: 'index.html', Body: '<h1>hello</h1>' }));
  await srv.s3.send(new PutObjectCommand({ Bucket: 'pub', Key: 'dir/a b.txt', Body: 'spaced' }));
  await srv.s3.send(new PutObjectCommand({ Bucket: 'priv', Key: 'secret.txt', Body: 'secret' }));
  await srv.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'doc.txt', Body: 'shared doc' }));
  await iam.createUser({ accessKey: 'nobody', secretKey: 'nobody-secret' });
  await iam.createUser({ accessKey: 'friend', secretKey: 'friend-secret' });
  await iam.createUser({ accessKey: 'rwuser', secretKey: 'rw-secret-123', policies: ['readwrite'] });
});

test.after(async () => {
  await srv?.stop();
});

// --- the operations -------------------------------------------------------------------------------

test('GetBucketPolicy is 404 NoSuchBucketPolicy on a bucket without one', async () => {
  const e = await refused(srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'priv' })));
  assert.equal(e.name, 'NoSuchBucketPolicy');
  assert.equal(e.$metadata.httpStatusCode, 404);
  assert.equal(e.message, 'The bucket policy does not exist');
});

test('PutBucketPolicy stores the document; GetBucketPolicy returns it byte for byte', async () => {
  const text = `{
  "Version": "2012-10-17",
  "Statement": [ { "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*" } ]
}`;
  const r = await put('shared', text);
  assert.equal(r.$metadata.httpStatusCode, 204);
  const g = await srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'shared' }));
  assert.equal(g.Policy, text);
  const del = await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  assert.equal(del.$metadata.httpStatusCode, 204);
  assert.equal(
    (await refused(srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'shared' })))).name,
    'NoSuchBucketPolicy',
  );
  // Deleting again is still 204.
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
});

test('the bucket policy operations on a bucket that does not exist are NoSuchBucket', async () => {
  for (const call of [
    () => put('nosuchbucket', publicRead('nosuchbucket')),
    () => srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'nosuchbucket' })),
    () => srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'nosuchbucket' })),
    () => srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'nosuchbucket' })),
  ]) {
    assert.equal((await refused(call())).name, 'NoSuchBucket');
  }
});

test('a malformed policy is 400 MalformedPolicy saying what is wrong, and nothing is stored', async () => {
  await put('shared', publicRead('shared'));
  const bad: [string, RegExp][] = [
    ['not json', /Policies must be valid JSON/],
    [
      policyDoc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::other/*',
      }),
      /invalid resource/,
    ],
    [policyDoc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' }), /Principal/],
    [
      policyDoc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObjekt',
        Resource: 'arn:aws:s3:::shared/*',
      }),
      /invalid action/,
    ],
    [
      policyDoc({
        Effect: 'allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::shared/*',
      }),
      /Effect/,
    ],
    [
      policyDoc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::shared/*',
        Condition: { NoSuchOperator: { 'aws:SourceIp': '10.0.0.0/8' } },
      }),
      /NoSuchOperator/,
    ],
  ];
  for (const [text, why] of bad) {
    const e = await refused(put('shared', text));
    assert.equal(e.name, 'MalformedPolicy', text);
    assert.equal(e.$metadata.httpStatusCode, 400);
    assert.match(e.message, why);
  }
  const g = await srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'shared' }));
  assert.equal(g.Policy, publicRead('shared'));
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
});

test('a policy over 20 KB is MalformedPolicy', async () => {
  const big = policyDoc(
    ...Array.from({ length: 200 }, (_, i) => ({
      Sid: `S${i}`,
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::shared/some/rather/long/prefix/number/${i}/*`,
    })),
  );
  assert.ok(big.length > 20 * 1024);
  assert.equal((await refused(put('shared', big))).name, 'MalformedPolicy');
});

test('DeleteBucket removes the policy: a bucket made again under the name has none', async () => {
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'ephemeral' }));
  await put('ephemeral', publicRead('ephemeral'));
  await srv.s3.send(new DeleteBucketCommand({ Bucket: 'ephemeral' }));
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'ephemeral' }));
  assert.equal(
    (await refused(srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'ephemeral' })))).name,
    'NoSuchBucketPolicy',
  );
  const r = await fetch(`${srv.endpoint}/ephemeral`);
  assert.equal(r.status, 403);
});

test('GetBucketPolicyStatus says whether the policy makes the bucket public', async () => {
  await put('shared', publicRead('shared'));
  let s = await srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'shared' }));
  assert.equal(s.PolicyStatus?.IsPublic, true);
  await put(
    'shared',
    policyDoc({
      Effect: 'Allow',
      Principal: { AWS: ['friend'] },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::shared/*',
    }),
  );
  s = await srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'shared' }));
  assert.equal(s.PolicyStatus?.IsPublic, false);
  // Everyone, but only from one network: not public.
  await put(
    'shared',
    policyDoc({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::shared/*',
      Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } },
    }),
  );
  s = await srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'shared' }));
  assert.equal(s.PolicyStatus?.IsPublic, false);
  const raw = await (await fetch(`${srv.endpoint}/shared?policyStatus`, { headers: {} })).status;
  assert.equal(raw, 403, 'anonymous callers may not read the policy status');
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  const e = await refused(srv.s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'shared' })));
  assert.equal(e.name, 'NoSuchBucketPolicy');
});

// --- anonymous access -----------------------------------------------------------------------------

test('a public-read bucket serves unsigned GET, HEAD and listing', async () => {
  await put('pub', publicRead('pub'));
  const get = await fetch(`${srv.endpoint}/pub/index.html`);
  assert.equal(get.status, 200);
  assert.equal(await get.text(), '<h1>hello</h1>');
  const spaced = await fetch(`${srv.endpoint}/pub/dir/a%20b.txt`);
  assert.equal(await spaced.text(), 'spaced');
  const head = await fetch(`${srv.endpoint}/pub/index.html`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '14');
  const list = await fetch(`${srv.endpoint}/pub?list-type=2`);
  assert.equal(list.status, 200);
  const xml = await list.text();
  assert.match(xml, /<Key>index.html<\/Key>/);
  assert.match(xml, /<Key>dir\/a b.txt<\/Key>/);
  // A key that is not there: NoSuchKey, as the policy allows listing.
  const missing = await fetch(`${srv.endpoint}/pub/nothing-here`);
  assert.equal(missing.status, 404);
  assert.match(await missing.text(), /<Code>NoSuchKey<\/Code>/);
});

test('a public-read bucket works with plain curl', async () => {
  const { stdout } = await run('curl', ['-s', '-w', '\\n%{http_code}', `${srv.endpoint}/pub/index.html`]);
  assert.equal(stdout, '<h1>hello</h1>\n200');
  const put = await run('curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-X',
    'PUT',
    '--data',
    'x',
    `${srv.endpoint}/pub/curl.txt`,
  ]);
  assert.equal(put.stdout, '403');
  assert.equal(await exists(srv.s3, 'pub', 'curl.txt'), false);
});

test('a public-read bucket refuses anonymous writes and deletes, and is left as it was', async () => {
  const put = await fetch(`${srv.endpoint}/pub/index.html`, { method: 'PUT', body: 'defaced' });
  assert.equal(put.status, 403);
  assert.match(await put.text(), /<Code>AccessDenied<\/Code>/);
  const create = await fetch(`${srv.endpoint}/pub/new.html`, { method: 'PUT', body: 'new' });
  assert.equal(create.status, 403);
  const del = await fetch(`${srv.endpoint}/pub/index.html`, { method: 'DELETE' });
  assert.equal(del.status, 403);
  const pol = await fetch(`${srv.endpoint}/pub?policy`, { method: 'DELETE' });
  assert.equal(pol.status, 403);
  const mp = await fetch(`${srv.endpoint}/pub/big?uploads`, { method: 'POST' });
  assert.equal(mp.status, 403);
  const delBucket = await fetch(`${srv.endpoint}/pub`, { method: 'DELETE' });
  assert.equal(delBucket.status, 403);
  assert.equal(await text('pub', 'index.html'), '<h1>hello</h1>');
  assert.equal(await exists(srv.s3, 'pub', 'new.html'), false);
  await srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'pub' }));
});

test("a public bucket's policy opens nothing in other buckets; a missing bucket is NoSuchBucket", async () => {
  const r = await fetch(`${srv.endpoint}/priv/secret.txt`);
  assert.equal(r.status, 403);
  const l = await fetch(`${srv.endpoint}/priv`);
  assert.equal(l.status, 403);
  // AWS: bucket names are global and no secret; a bucket that does not exist is NoSuchBucket to all.
  const none = await fetch(`${srv.endpoint}/nosuchbucket/secret.txt`);
  assert.equal(none.status, 404);
  assert.match(await none.text(), /<Code>NoSuchBucket<\/Code>/);
});

test('a write-only drop box: anonymous PUT allowed under a prefix, reads still refused', async () => {
  await put(
    'shared',
    policyDoc({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::shared/inbox/*',
    }),
  );
  const ok = await fetch(`${srv.endpoint}/shared/inbox/drop.txt`, { method: 'PUT', body: 'dropped' });
  assert.equal(ok.status, 200);
  assert.equal(await text('shared', 'inbox/drop.txt'), 'dropped');
  const read = await fetch(`${srv.endpoint}/shared/inbox/drop.txt`);
  assert.equal(read.status, 403);
  const outside = await fetch(`${srv.endpoint}/shared/doc.txt`, { method: 'PUT', body: 'overwritten' });
  assert.equal(outside.status, 403);
  assert.equal(await text('shared', 'doc.txt'), 'shared doc');
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
});

test('the minio client sets and reads a bucket policy, and anonymous reads follow it', async () => {
  const mc = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
    pathStyle: true,
  });
  await mc.setBucketPolicy('shared', publicRead('shared'));
  assert.equal(await mc.getBucketPolicy('shared'), publicRead('shared'));
  assert.equal((await fetch(`${srv.endpoint}/shared/doc.txt`)).status, 200);
  await mc.setBucketPolicy('shared', '');
  assert.equal((await fetch(`${srv.endpoint}/shared/doc.txt`)).status, 403);
});

// --- principals and evaluation --------------------------------------------------------------------

test('a bucket policy naming a user grants it access its own policies do not', async () => {
  const friend = client('friend', 'friend-secret');
  const nobody = client('nobody', 'nobody-secret');
  try {
    await denied(friend.send(new GetObjectCommand({ Bucket: 'shared', Key: 'doc.txt' })));
    await put(
      'shared',
      policyDoc({
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::000000000000:user/friend'] },
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: 'arn:aws:s3:::shared/*',
      }),
    );
    assert.equal(await text('shared', 'doc.txt', friend), 'shared doc');
    await friend.send(new PutObjectCommand({ Bucket: 'shared', Key: 'from-friend.txt', Body: 'hi' }));
    await denied(
      nobody.send(new GetObjectCommand({ Bucket: 'shared', Key: 'doc.txt' })),
      /because no identity-based policy allows the s3:GetObject action/,
    );
    await denied(nobody.send(new PutObjectCommand({ Bucket: 'shared', Key: 'from-nobody.txt', Body: 'x' })));
    assert.equal(await exists(srv.s3, 'shared', 'from-nobody.txt'), false);
    // Anonymous callers are not the named user.
    assert.equal((await fetch(`${srv.endpoint}/shared/doc.txt`)).status, 403);
  } finally {
    friend.destroy();
    nobody.destroy();
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  }
});

test("an explicit Deny in a bucket policy wins over a user's Allow, and says so", async () => {
  const rw = client('rwuser', 'rw-secret-123');
  try {
    assert.equal(await text('shared', 'doc.txt', rw), 'shared doc');
    await put(
      'shared',
      policyDoc({
        Effect: 'Deny',
        Principal: { AWS: 'rwuser' },
        Action: ['s3:GetObject', 's3:DeleteObject'],
        Resource: 'arn:aws:s3:::shared/*',
      }),
    );
    await denied(
      rw.send(new GetObjectCommand({ Bucket: 'shared', Key: 'doc.txt' })),
      /with an explicit deny in a resource-based policy/,
    );
    await denied(rw.send(new DeleteObjectCommand({ Bucket: 'shared', Key: 'doc.txt' })));
    assert.equal(await exists(srv.s3, 'shared', 'doc.txt'), true);
    // What the Deny does not name is still allowed by the user's own policy.
    await rw.send(new PutObjectCommand({ Bucket: 'shared', Key: 'rw.txt', Body: 'rw' }));
  } finally {
    rw.destroy();
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  }
});

test('conditions apply: a public read limited to other networks is refused to this one', async () => {
  await put(
    'shared',
    policyDoc({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::shared/*',
      Condition: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32'] } },
    }),
  );
  assert.equal((await fetch(`${srv.endpoint}/shared/doc.txt`)).status, 403);
  await put(
    'shared',
    policyDoc({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::shared/*',
      Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
    }),
  );
  assert.equal((await fetch(`${srv.endpoint}/shared/doc.txt`)).status, 200);
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
});

test('a Deny on aws:SecureTransport false refuses plain-HTTP requests, the root user too', async () => {
  await put(
    'shared',
    policyDoc({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::shared', 'arn:aws:s3:::shared/*'],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }),
  );
  await denied(srv.s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'doc.txt' })), /explicit deny/);
  // The root user can always take such a policy away again.
  await srv.s3.send(new GetBucketPolicyCommand({ Bucket: 'shared' }));
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  assert.equal(await text('shared', 'doc.txt'), 'shared doc');
});

test('a policy denying everyone everything cannot lock the root user out of the bucket for good', async () => {
  await put(
    'priv',
    policyDoc({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::priv', 'arn:aws:s3:::priv/*'],
    }),
  );
  await denied(srv.s3.send(new GetObjectCommand({ Bucket: 'priv', Key: 'secret.txt' })));
  await denied(srv.s3.send(new DeleteObjectCommand({ Bucket: 'priv', Key: 'secret.txt' })));
  await put(
    'priv',
    policyDoc({ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::priv/*' }),
  );
  assert.equal(await text('priv', 'secret.txt'), 'secret');
  await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'priv' }));
});

test('a user allowed s3:PutBucketPolicy by its own policy can set one; others cannot', async () => {
  const rw = client('rwuser', 'rw-secret-123');
  const nobody = client('nobody', 'nobody-secret');
  try {
    await denied(put('shared', publicRead('shared'), nobody), /s3:PutBucketPolicy/);
    await denied(nobody.send(new GetBucketPolicyCommand({ Bucket: 'shared' })));
    await put('shared', publicRead('shared'), rw);
    assert.equal(
      (await rw.send(new GetBucketPolicyCommand({ Bucket: 'shared' }))).Policy,
      publicRead('shared'),
    );
    await rw.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  } finally {
    rw.destroy();
    nobody.destroy();
  }
});

test('a browser form upload is authorized as the user who signed the form', async () => {
  // PostObject's own tests cover the form; here: a signer without s3:PutObject is refused.
  const post = async (accessKey: string, secretKey: string, key: string) => {
    const amzDate = formatAmzDate(new Date());
    const date = amzDate.slice(0, 8);
    const credential = `${accessKey}/${date}/${srv.region}/s3/aws4_request`;
    const policy = Buffer.from(
      JSON.stringify({
        expiration: new Date(Date.now() + 600_000).toISOString(),
        conditions: [
          { bucket: 'shared' },
          ['eq', '$key', key],
          { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
          { 'x-amz-credential': credential },
          { 'x-amz-date': amzDate },
        ],
      }),
    ).toString('base64');
    const form = new FormData();
    form.append('key', key);
    form.append('x-amz-algorithm', 'AWS4-HMAC-SHA256');
    form.append('x-amz-credential', credential);
    form.append('x-amz-date', amzDate);
    form.append('policy', policy);
    form.append('x-amz-signature', signHex(deriveSigningKey(secretKey, date, srv.region, 's3'), policy));
    form.append('file', new Blob(['form body']), 'f.txt');
    return fetch(`${srv.endpoint}/shared`, { method: 'POST', body: form });
  };
  const no = await post('nobody', 'nobody-secret', 'form-nobody.txt');
  assert.equal(no.status, 403);
  assert.match(await no.text(), /<Code>AccessDenied<\/Code>/);
  assert.equal(await exists(srv.s3, 'shared', 'form-nobody.txt'), false);
  const ok = await post('rwuser', 'rw-secret-123', 'form-rw.txt');
  assert.equal(ok.status, 204);
  assert.equal(await text('shared', 'form-rw.txt'), 'form body');
});

test('a Deny on s3:x-amz-server-side-encryption-customer-algorithm sees the SSE-C algorithm header', async () => {
  // AWS lists the header as an S3 condition key; a policy requiring SSE-C must be able to read it.
  const ssec = (algorithm: string) => ({
    SSECustomerAlgorithm: algorithm,
    SSECustomerKey: 'pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=',
    SSECustomerKeyMD5: 'DWygnHRtgiJ77HCm+1rvHw==',
  });
  const explicitDeny = /explicit deny in a resource-based policy/;
  /** Refused by the bucket policy, or let through to the operation (whatever it then answers). */
  const policyDenies = async (p: Promise<unknown>): Promise<boolean> => {
    try {
      await p;
      return false;
    } catch (e) {
      return explicitDeny.test((e as Error).message);
    }
  };
  await put(
    'shared',
    policyDoc({
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::shared/*',
      Condition: { Null: { 's3:x-amz-server-side-encryption-customer-algorithm': 'true' } },
    }),
  );
  try {
    await denied(
      srv.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'plain', Body: 'x' })),
      explicitDeny,
    );
    assert.equal(
      await policyDenies(
        srv.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'ssec', Body: 'x', ...ssec('AES256') })),
      ),
      false,
    );
    await put(
      'shared',
      policyDoc({
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::shared/*',
        Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption-customer-algorithm': 'AES256' } },
      }),
    );
    assert.equal(
      await policyDenies(
        srv.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'ssec', Body: 'x', ...ssec('AES192') })),
      ),
      true,
    );
    assert.equal(
      await policyDenies(
        srv.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'ssec', Body: 'x', ...ssec('AES256') })),
      ),
      false,
    );
  } finally {
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  }
});

test('StringLikeIfExists on aws:Referer: a matching or absent Referer is allowed, another refused', async () => {
  await put(
    'shared',
    policyDoc({
      Effect: 'Allow',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::shared/*',
      Condition: { StringLikeIfExists: { 'aws:Referer': 'http://www.example.com/*' } },
    }),
  );
  try {
    const get = (referer?: string) =>
      fetch(`${srv.endpoint}/shared/doc.txt`, referer === undefined ? {} : { headers: { referer } });
    assert.equal((await get('http://www.example.com/')).status, 200);
    assert.equal((await get('http://www.example.com/index.html')).status, 200);
    assert.equal((await get()).status, 200);
    const no = await get('http://example.com');
    assert.equal(no.status, 403);
    assert.match(await no.text(), /<Code>AccessDenied<\/Code>/);
  } finally {
    await srv.s3.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' }));
  }
});

test('s3:x-amz-copy-source and s3:x-amz-metadata-directive limit what a user without rights may copy in', async () => {
  // A user with no policy of its own: both buckets' policies decide (AWS's bucket-policy example
  // "Granting permission to copy objects with a restriction on the copy source").
  const nobody = client('nobody', 'nobody-secret');
  const copy = (Key: string, CopySource: string, MetadataDirective?: 'COPY' | 'REPLACE') =>
    nobody.send(new CopyObjectCommand({ Bucket: 'cpdst', Key, CopySource, MetadataDirective }));
  try {
    for (const b of ['cpsrc', 'cpdst']) await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const k of ['public/foo', 'private/foo']) {
      await srv.s3.send(new PutObjectCommand({ Bucket: 'cpsrc', Key: k, Body: k }));
    }
    await put(
      'cpsrc',
      policyDoc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::cpsrc/*',
      }),
    );
    await put(
      'cpdst',
      policyDoc({
        Effect: 'Allow',
        Principal: { AWS: 'nobody' },
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::cpdst/*',
        Condition: { StringLike: { 's3:x-amz-copy-source': 'cpsrc/public/*' } },
      }),
    );
    await copy('new_foo', 'cpsrc/public/foo');
    assert.equal(await text('cpdst', 'new_foo'), 'public/foo');
    await denied(
      copy('new_foo2', 'cpsrc/private/foo'),
      /s3:PutObject on resource: "arn:aws:s3:::cpdst\/new_foo2"/,
    );
    assert.equal(await exists(srv.s3, 'cpdst', 'new_foo2'), false);

    await put(
      'cpdst',
      policyDoc({
        Effect: 'Allow',
        Principal: { AWS: 'nobody' },
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::cpdst/*',
        Condition: { StringEquals: { 's3:x-amz-metadata-directive': 'COPY' } },
      }),
    );
    await copy('meta_copy', 'cpsrc/public/foo', 'COPY');
    // Without the header there is no key to compare: StringEquals does not hold.
    await denied(copy('meta_none', 'cpsrc/public/foo'));
    await denied(copy('meta_replace', 'cpsrc/public/foo', 'REPLACE'));
    assert.equal(await exists(srv.s3, 'cpdst', 'meta_replace'), false);
  } finally {
    nobody.destroy();
  }
});

test('UploadPartCopy needs s3:GetObject on the source: a policy opening public/* lets those parts in only', async () => {
  const nobody = client('nobody', 'nobody-secret');
  try {
    for (const b of ['upsrc', 'updst']) await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    for (const k of ['public/foo', 'private/foo']) {
      await srv.s3.send(new PutObjectCommand({ Bucket: 'upsrc', Key: k, Body: k }));
    }
    await put(
      'upsrc',
      policyDoc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::upsrc/public/*',
      }),
    );
    await put(
      'updst',
      policyDoc({
        Effect: 'Allow',
        Principal: { AWS: 'nobody' },
        Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        Resource: 'arn:aws:s3:::updst/*',
      }),
    );
    const part = async (Key: string, CopySource: string) => {
      const { UploadId } = await nobody.send(new CreateMultipartUploadCommand({ Bucket: 'updst', Key }));
      try {
        const r = await nobody.send(
          new UploadPartCopyCommand({ Bucket: 'updst', Key, UploadId, PartNumber: 1, CopySource }),
        );
        await nobody.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'updst',
            Key,
            UploadId,
            MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r.CopyPartResult!.ETag! }] },
          }),
        );
      } catch (e) {
        await nobody.send(new AbortMultipartUploadCommand({ Bucket: 'updst', Key, UploadId }));
        throw e;
      }
    };
    await part('new_foo', 'upsrc/public/foo');
    assert.equal(await text('updst', 'new_foo', nobody), 'public/foo');
    await denied(
      part('new_foo2', 'upsrc/private/foo'),
      /s3:GetObject on resource: "arn:aws:s3:::upsrc\/private\/foo"/,
    );
    assert.equal(await exists(srv.s3, 'updst', 'new_foo2'), false);
  } finally {
    nobody.destroy();
  }
});

test.run();
