/**
 * Condition keys and permission rules that need more than the request line, through real clients:
 * `s3:ExistingObjectTag/<k>` (read from the object only when a policy names it), the tags of a
 * PutObjectTagging body and of a browser form as `s3:RequestObjectTag/<k>`, Object Lock headers on
 * GET/HEAD only for callers allowed to read them, anonymous browser-form uploads where a bucket policy
 * allows them, and `aws:SourceIp` behind trusted reverse proxies (`X-Forwarded-For`).
 */
import assert from 'node:assert/strict';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import type { IAM } from '../../src/auth/iam/IAM';
import { parseCidr } from '../../src/auth/policy/values';
import { clientIp } from '../../src/server/authz';
import { ConfigError, trustedProxies } from '../../src/server/config';
import { denied, exists, policyDoc } from '../helpers/s3assert';
import { s3ClientFor, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let iam: IAM;

async function user(name: string, ...Statement: object[]): Promise<S3Client> {
  await iam.putPolicy(`${name}-policy`, policyDoc(...Statement));
  await iam.createUser({ accessKey: name, secretKey: `${name}-secret`, policies: [`${name}-policy`] });
  return s3ClientFor(srv, { accessKeyId: name, secretAccessKey: `${name}-secret` });
}

const put = (Bucket: string, Key: string, Tagging?: string, Body = `body of ${Key}`) =>
  srv.s3.send(new PutObjectCommand({ Bucket, Key, Body, ...(Tagging !== undefined ? { Tagging } : {}) }));

async function text(c: S3Client, Bucket: string, Key: string, VersionId?: string): Promise<string> {
  const r = await c.send(new GetObjectCommand({ Bucket, Key, ...(VersionId ? { VersionId } : {}) }));
  return r.Body!.transformToString();
}

async function tagsOf(Bucket: string, Key: string): Promise<Record<string, string>> {
  const r = await srv.s3.send(new GetObjectTaggingCommand({ Bucket, Key }));
  return Object.fromEntries((r.TagSet ?? []).map((t) => [t.Key!, t.Value!]));
}

test.before(async () => {
  srv = await startServer();
  iam = srv.server.iam;
  for (const Bucket of ['tags', 'guarded', 'drop', 'closed']) {
    await srv.s3.send(new CreateBucketCommand({ Bucket }));
  }
  await put('tags', 'prod.txt', 'environment=production');
  await put('tags', 'dev.txt', 'environment=dev&team=web');
  await put('tags', 'plain.txt');
});

test.after(async () => {
  await srv.stop();
});

// ------------------------------------------------------------------------------------------------
// s3:ExistingObjectTag

test('s3:ExistingObjectTag in an identity policy: GetObject and HeadObject only on objects with the tag', async () => {
  const c = await user('prodreader', {
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:GetObjectTagging'],
    Resource: ['arn:aws:s3:::tags/*'],
    Condition: { StringEquals: { 's3:ExistingObjectTag/environment': 'production' } },
  });
  try {
    assert.equal(await text(c, 'tags', 'prod.txt'), 'body of prod.txt');
    await c.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'prod.txt' }));
    const t = await c.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'prod.txt' }));
    assert.deepEqual(t.TagSet, [{ Key: 'environment', Value: 'production' }]);
    await denied(c.send(new GetObjectCommand({ Bucket: 'tags', Key: 'dev.txt' })));
    await denied(c.send(new HeadObjectCommand({ Bucket: 'tags', Key: 'dev.txt' })));
    await denied(c.send(new GetObjectTaggingCommand({ Bucket: 'tags', Key: 'dev.txt' })));
    // No tags at all: the key is absent, so StringEquals does not hold.
    await denied(c.send(new GetObjectCommand({ Bucket: 'tags', Key: 'plain.txt' })));
    // A key that does not exist has no tags either: AccessDenied, not NoSuchKey.
    await denied(c.send(new GetObjectCommand({ Bucket: 'tags', Key: 'missing.txt' })));
  } finally {
    c.destroy();
  }
});

test('a retag takes effect on the next request: the condition reads the tags as they are now', async () => {
  const c = await user('retagreader', {
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: ['arn:aws:s3:::tags/*'],
    Condition: { StringEquals: { 's3:ExistingObjectTag/environment': 'production' } },
  });
  try {
    await put('tags', 'moving.txt', 'environment=dev');
    await denied(c.send(new GetObjectCommand({ Bucket: 'tags', Key: 'moving.txt' })));
    await srv.s3.send(
      new PutObjectTaggingCommand({
        Bucket: 'tags',
        Key: 'moving.txt',
        Tagging: { TagSet: [{ Key: 'environment', Value: 'production' }] },
      }),
    );
    assert.equal(await text(c, 'tags', 'moving.txt'), 'body of moving.txt');
  } finally {
    c.destroy();
  }
});

test('s3:ExistingObjectTag in a bucket policy Deny refuses reads, copies and retags of tagged objects, root included', async () => {
  await put('guarded', 'secret.txt', 'classification=secret');
  await put('guarded', 'open.txt', 'classification=public');
  await srv.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'guarded',
      Policy: policyDoc({
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:GetObject', 's3:PutObjectTagging'],
        Resource: ['arn:aws:s3:::guarded/*'],
        Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'secret' } },
      }),
    }),
  );
  const rw = await user('guardrw', { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] });
  try {
    assert.equal(await text(rw, 'guarded', 'open.txt'), 'body of open.txt');
    await denied(rw.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'secret.txt' })));
    // AWS applies a bucket policy's Deny to the account root as well.
    await denied(srv.s3.send(new GetObjectCommand({ Bucket: 'guarded', Key: 'secret.txt' })));
    // A copy reads its source: the source's tags decide, not the target's.
    await denied(
      rw.send(new CopyObjectCommand({ Bucket: 'tags', Key: 'leak.txt', CopySource: 'guarded/secret.txt' })),
    );
    assert.equal(await exists(srv.s3, 'tags', 'leak.txt'), false);
    await rw.send(
      new CopyObjectCommand({ Bucket: 'tags', Key: 'copied.txt', CopySource: 'guarded/open.txt' }),
    );
    // Retagging the secret object away is refused; the open one may be retagged.
    await denied(
      rw.send(
        new PutObjectTaggingCommand({
          Bucket: 'guarded',
          Key: 'secret.txt',
          Tagging: { TagSet: [{ Key: 'classification', Value: 'public' }] },
        }),
      ),
    );
    assert.deepEqual(await tagsOf('guarded', 'secret.txt'), { classification: 'secret' });
    await rw.send(
      new PutObjectTaggingCommand({
        Bucket: 'guarded',
        Key: 'open.txt',
        Tagging: { TagSet: [{ Key: 'classification', Value: 'internal' }] },
      }),
    );
    assert.deepEqual(await tagsOf('guarded', 'open.txt'), { classification: 'internal' });
  } finally {
    rw.destroy();
  }
});

test('s3:ExistingObjectTag with a versionId is the tags of that version', async () => {
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'vtags' }));
  await srv.s3.send(
    new PutBucketVersioningCommand({ Bucket: 'vtags', VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const v1 = await put('vtags', 'doc.txt', 'environment=production', 'first');
  await put('vtags', 'doc.txt', 'environment=dev', 'second');
  const c = await user('versionreader', {
    Effect: 'Allow',
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: ['arn:aws:s3:::vtags/*'],
    Condition: { StringEquals: { 's3:ExistingObjectTag/environment': 'production' } },
  });
  try {
    await denied(c.send(new GetObjectCommand({ Bucket: 'vtags', Key: 'doc.txt' })));
    assert.equal(await text(c, 'vtags', 'doc.txt', v1.VersionId), 'first');
  } finally {
    c.destroy();
  }
});

test('objects are read for their tags only when a policy that applies names s3:ExistingObjectTag', async () => {
  const layer = srv.server.objects;
  const original = layer.getObjectInfo;
  let reads = 0;
  layer.getObjectInfo = function (this: typeof layer, ...args: Parameters<typeof original>) {
    reads++;
    return original.apply(this, args);
  };
  const plain = await user('plainreader', {
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: ['arn:aws:s3:::tags/*'],
  });
  const tagged = await user('taggedreader', {
    Effect: 'Allow',
    Action: ['s3:GetObject'],
    Resource: ['arn:aws:s3:::tags/*'],
    Condition: { StringLike: { 's3:ExistingObjectTag/environment': '*' } },
  });
  try {
    assert.equal(await text(plain, 'tags', 'dev.txt'), 'body of dev.txt');
    assert.equal(await text(srv.s3, 'tags', 'dev.txt'), 'body of dev.txt');
    assert.equal(reads, 0, 'a GET without a tag condition reads no metadata before the object');
    assert.equal(await text(tagged, 'tags', 'dev.txt'), 'body of dev.txt');
    assert.equal(reads, 1);
  } finally {
    layer.getObjectInfo = original;
    plain.destroy();
    tagged.destroy();
  }
});

// ------------------------------------------------------------------------------------------------
// s3:RequestObjectTag from a PutObjectTagging body

test('PutObjectTagging is checked with the tags of its body (s3:RequestObjectTag, s3:RequestObjectTagKeys)', async () => {
  await put('tags', 'project.txt', 'project=alpha');
  const c = await user('tagger', {
    Effect: 'Allow',
    Action: ['s3:PutObjectTagging'],
    Resource: ['arn:aws:s3:::tags/*'],
    Condition: {
      StringEquals: { 's3:RequestObjectTag/project': 'alpha' },
      'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['project', 'owner'] },
    },
  });
  const retag = (TagSet: { Key: string; Value: string }[]) =>
    c.send(new PutObjectTaggingCommand({ Bucket: 'tags', Key: 'project.txt', Tagging: { TagSet } }));
  try {
    await retag([
      { Key: 'project', Value: 'alpha' },
      { Key: 'owner', Value: 'ann' },
    ]);
    assert.deepEqual(await tagsOf('tags', 'project.txt'), { project: 'alpha', owner: 'ann' });
    // Another value, a key outside the allowed set, or no project tag at all: refused, tags unchanged.
    await denied(retag([{ Key: 'project', Value: 'beta' }]));
    await denied(
      retag([
        { Key: 'project', Value: 'alpha' },
        { Key: 'cost', Value: '1' },
      ]),
    );
    await denied(retag([{ Key: 'owner', Value: 'bob' }]));
    assert.deepEqual(await tagsOf('tags', 'project.txt'), { project: 'alpha', owner: 'ann' });
  } finally {
    c.destroy();
  }
});

test('a Deny on s3:RequestObjectTag in a bucket policy refuses PutObjectTagging with that tag', async () => {
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'notags' }));
  await put('notags', 'x.txt');
  await srv.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'notags',
      Policy: policyDoc({
        Effect: 'Deny',
        Principal: '*',
        Action: ['s3:PutObjectTagging'],
        Resource: ['arn:aws:s3:::notags/*'],
        Condition: { StringEquals: { 's3:RequestObjectTag/release': 'true' } },
      }),
    }),
  );
  const setTags = (TagSet: { Key: string; Value: string }[]) =>
    srv.s3.send(new PutObjectTaggingCommand({ Bucket: 'notags', Key: 'x.txt', Tagging: { TagSet } }));
  await denied(setTags([{ Key: 'release', Value: 'true' }]));
  await setTags([{ Key: 'release', Value: 'false' }]);
  assert.deepEqual(await tagsOf('notags', 'x.txt'), { release: 'false' });
});

// ------------------------------------------------------------------------------------------------
// Object Lock headers on GET / HEAD

test('GET and HEAD show the retention only with s3:GetObjectRetention and the legal hold only with s3:GetObjectLegalHold', async () => {
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  const until = new Date(Date.now() + 86_400_000);
  await srv.s3.send(
    new PutObjectCommand({
      Bucket: 'locked',
      Key: 'held.txt',
      Body: 'kept',
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
      ObjectLockLegalHoldStatus: 'ON',
    }),
  );
  const reader = (name: string, extra: string[]) =>
    user(name, {
      Effect: 'Allow',
      Action: ['s3:GetObject', ...extra],
      Resource: ['arn:aws:s3:::locked/*'],
    });
  const only = await reader('lockblind', []);
  const retention = await reader('lockretention', ['s3:GetObjectRetention']);
  const hold = await reader('lockhold', ['s3:GetObjectLegalHold']);
  const both = await reader('lockboth', ['s3:GetObjectRetention', 's3:GetObjectLegalHold']);
  const lockOf = async (c: S3Client) => {
    const h = await c.send(new HeadObjectCommand({ Bucket: 'locked', Key: 'held.txt' }));
    const g = await c.send(new GetObjectCommand({ Bucket: 'locked', Key: 'held.txt' }));
    assert.equal(await g.Body!.transformToString(), 'kept');
    const seen = (r: typeof h | typeof g) => ({
      mode: r.ObjectLockMode,
      until: r.ObjectLockRetainUntilDate?.getTime(),
      hold: r.ObjectLockLegalHoldStatus,
    });
    assert.deepEqual(seen(g), seen(h), 'GET and HEAD agree');
    return seen(h);
  };
  const t = until.getTime();
  try {
    assert.deepEqual(await lockOf(only), { mode: undefined, until: undefined, hold: undefined });
    assert.deepEqual(await lockOf(retention), { mode: 'GOVERNANCE', until: t, hold: undefined });
    assert.deepEqual(await lockOf(hold), { mode: undefined, until: undefined, hold: 'ON' });
    assert.deepEqual(await lockOf(both), { mode: 'GOVERNANCE', until: t, hold: 'ON' });
    assert.deepEqual(await lockOf(srv.s3), { mode: 'GOVERNANCE', until: t, hold: 'ON' });
  } finally {
    for (const c of [only, retention, hold, both]) c.destroy();
  }
});

// ------------------------------------------------------------------------------------------------
// Anonymous browser-form uploads

/** An unsigned browser form (no policy, no signature): `fields` first, then the file. */
function unsignedPost(bucket: string, fields: Record<string, string>, body = 'form body'): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([body]), 'f.txt');
  return fetch(`${srv.endpoint}/${bucket}`, { method: 'POST', body: form });
}

test('an unsigned form upload is accepted where a bucket policy lets anyone s3:PutObject the key', async () => {
  await srv.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'drop',
      Policy: policyDoc({
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:PutObject'],
        Resource: ['arn:aws:s3:::drop/uploads/*'],
      }),
    }),
  );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder AWS defines
  const ok = await unsignedPost('drop', { key: 'uploads/${filename}', success_action_status: '201' });
  const xml = await ok.text();
  assert.equal(ok.status, 201, xml);
  assert.match(xml, /<Key>uploads\/f\.txt<\/Key>/);
  assert.equal(await text(srv.s3, 'drop', 'uploads/f.txt'), 'form body');
});

test('an unsigned form upload outside what the bucket policy allows is 403 AccessDenied and stores nothing', async () => {
  let res = await unsignedPost('drop', { key: 'elsewhere/x.txt' });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /<Code>AccessDenied<\/Code><Message>Access Denied<\/Message>/);
  assert.equal(await exists(srv.s3, 'drop', 'elsewhere/x.txt'), false);
  // Tags need s3:PutObjectTagging as well, which the policy does not grant.
  res = await unsignedPost('drop', {
    key: 'uploads/tagged.txt',
    tagging: '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>',
  });
  assert.equal(res.status, 403);
  assert.equal(await exists(srv.s3, 'drop', 'uploads/tagged.txt'), false);
  // A bucket without a policy takes no anonymous upload.
  res = await unsignedPost('closed', { key: 'x.txt' });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /<Code>AccessDenied<\/Code>/);
  assert.equal(await exists(srv.s3, 'closed', 'x.txt'), false);
});

test('an unsigned form still needs its key field', async () => {
  const res = await unsignedPost('drop', {});
  assert.equal(res.status, 400);
  assert.match(await res.text(), /<Code>InvalidArgument<\/Code>/);
});

// ------------------------------------------------------------------------------------------------
// aws:SourceIp behind reverse proxies

const SOURCE_IP_POLICY = (bucket: string) =>
  policyDoc({
    Effect: 'Allow',
    Principal: '*',
    Action: ['s3:GetObject'],
    Resource: [`arn:aws:s3:::${bucket}/*`],
    Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
  });

async function ipServer(s: TestServer): Promise<void> {
  await s.s3.send(new CreateBucketCommand({ Bucket: 'office' }));
  await s.s3.send(new PutObjectCommand({ Bucket: 'office', Key: 'memo.txt', Body: 'memo' }));
  await s.s3.send(new PutBucketPolicyCommand({ Bucket: 'office', Policy: SOURCE_IP_POLICY('office') }));
}

const anonymousGet = (s: TestServer, forwardedFor?: string) =>
  fetch(`${s.endpoint}/office/memo.txt`, {
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  });

test('X-Forwarded-For is ignored unless the peer is a trusted proxy', async () => {
  await ipServer(srv);
  const res = await anonymousGet(srv, '203.0.113.9');
  assert.equal(res.status, 403);
  await res.text();
});

test('behind a trusted proxy aws:SourceIp is the rightmost untrusted X-Forwarded-For entry', async () => {
  const behind = await startServer({ server: { trustedProxies: ['127.0.0.1', '10.0.0.0/8'] } });
  try {
    await ipServer(behind);
    const status = async (xff?: string) => {
      const r = await anonymousGet(behind, xff);
      await r.text();
      return r.status;
    };
    assert.equal(await status('203.0.113.9'), 200);
    // Through a second trusted hop (10.1.2.3) the client is still 203.0.113.9.
    assert.equal(await status('203.0.113.9, 10.1.2.3'), 200);
    assert.equal(await status('203.0.113.9:51234'), 200);
    // A client that writes its own X-Forwarded-For is not believed: the proxy appends the real peer.
    assert.equal(await status('203.0.113.9, 198.51.100.7'), 403);
    assert.equal(await status('198.51.100.7'), 403);
    // No header: the trusted proxy itself is the client.
    assert.equal(await status(), 403);
  } finally {
    await behind.stop();
  }
});

test('clientIp walks X-Forwarded-For from the right, through trusted proxies only', () => {
  const trusted = ['127.0.0.1', '10.0.0.0/8', '2001:db8::/32'].map((c) => parseCidr(c)!);
  assert.equal(clientIp('::ffff:127.0.0.1', undefined, trusted), '127.0.0.1');
  assert.equal(clientIp('::ffff:127.0.0.1', '1.2.3.4', []), '127.0.0.1');
  assert.equal(clientIp('192.0.2.1', '1.2.3.4', trusted), '192.0.2.1', 'an untrusted peer is the client');
  assert.equal(clientIp('127.0.0.1', '6.6.6.6, 1.2.3.4, 10.0.0.2', trusted), '1.2.3.4');
  assert.equal(clientIp('127.0.0.1', ['6.6.6.6', '1.2.3.4'], trusted), '1.2.3.4');
  assert.equal(clientIp('127.0.0.1', '[2001:db9::1]:443', trusted), '2001:db9::1');
  assert.equal(clientIp('127.0.0.1', '10.0.0.3, 10.0.0.2', trusted), '10.0.0.3', 'all trusted: the leftmost');
  assert.equal(clientIp('127.0.0.1', 'garbage, 10.0.0.2', trusted), '10.0.0.2', 'a bad entry ends the walk');
  assert.equal(clientIp('127.0.0.1', '', trusted), '127.0.0.1');
});

test('CAIRN_TRUSTED_PROXIES takes CIDRs and addresses separated by commas or spaces; a bad one is a ConfigError', () => {
  assert.deepEqual(trustedProxies({}), []);
  assert.deepEqual(trustedProxies({ CAIRN_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7 ::1' }), [
    '10.0.0.0/8',
    '192.0.2.7',
    '::1',
  ]);
  assert.deepEqual(trustedProxies({ MINIO_TRUSTED_PROXIES: '127.0.0.1' }), ['127.0.0.1']);
  assert.throws(() => trustedProxies({ CAIRN_TRUSTED_PROXIES: '10.0.0.0/33' }), ConfigError);
  assert.throws(() => trustedProxies({ CAIRN_TRUSTED_PROXIES: 'proxy.local' }), ConfigError);
});

test('startServer refuses a trusted proxy that is not a CIDR', async () => {
  await assert.rejects(startServer({ server: { trustedProxies: ['nope'] } }), /invalid trusted proxy/);
});

test.run();
