/**
 * S3 Object Lock through the AWS SDK against a real server: bucket lock configuration, retention and
 * legal hold on writes and by their own calls, the rules deletes and retention changes obey, a
 * retention that runs out, a restart, and a backup tool's attempt to get rid of locked versions.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ObjectLockRetentionMode,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import { deriveSigningKey, formatAmzDate } from '../../src/auth';
import { signHex } from '../../src/auth/sigv4';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
const PLAIN = 'lock-plain';
const LOCKED = 'lock-on';

const DAY = 86_400_000;
const LOCKED_MESSAGE = 'Access Denied because object protected by object lock.';
const MISSING_LOCK = 'Bucket is missing Object Lock Configuration';

test.before(async () => {
  srv = await startServer();
  await srv.s3.send(new CreateBucketCommand({ Bucket: PLAIN }));
  await srv.s3.send(new CreateBucketCommand({ Bucket: LOCKED, ObjectLockEnabledForBucket: true }));
});
test.after(async () => {
  await srv?.stop();
});

async function fails(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

async function expectError(p: Promise<unknown>, code: string, status: number): Promise<S3ServiceException> {
  const e = await fails(p);
  assert.equal(e.name, code, `${e.name}: ${e.message}`);
  assert.equal(e.$metadata.httpStatusCode, status);
  return e;
}

const denied = async (p: Promise<unknown>) => {
  const e = await expectError(p, 'AccessDenied', 403);
  assert.equal(e.message, LOCKED_MESSAGE);
};

const md5b64 = (b: string | Buffer) => createHash('md5').update(b).digest('base64');
const later = (ms: number) => new Date(Date.now() + ms);
/** Whole seconds: what a date survives an HTTP date header or an XML round trip as. */
const secs = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

let bucketCounter = 0;
async function lockBucket(
  s3: S3Client = srv.s3,
  rule?: { mode: ObjectLockRetentionMode; days?: number; years?: number },
) {
  const bucket = `lock-b${++bucketCounter}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  if (rule) {
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: rule.mode, Days: rule.days, Years: rule.years } },
        },
      }),
    );
  }
  return bucket;
}

function put(
  bucket: string,
  key: string,
  body: string | Buffer,
  extra: Record<string, unknown> = {},
  s3 = srv.s3,
) {
  return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
}

async function bytes(bucket: string, key: string, versionId?: string, s3 = srv.s3): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  return Buffer.from(await r.Body!.transformToByteArray()).toString();
}

function retention(
  bucket: string,
  key: string,
  mode: ObjectLockRetentionMode,
  until: Date,
  extra: Record<string, unknown> = {},
) {
  return srv.s3.send(
    new PutObjectRetentionCommand({
      Bucket: bucket,
      Key: key,
      Retention: { Mode: mode, RetainUntilDate: until },
      ...extra,
    }),
  );
}

function hold(bucket: string, key: string, status: 'ON' | 'OFF', versionId?: string) {
  return srv.s3.send(
    new PutObjectLegalHoldCommand({
      Bucket: bucket,
      Key: key,
      LegalHold: { Status: status },
      VersionId: versionId,
    }),
  );
}

function del(bucket: string, key: string, versionId?: string, bypass?: boolean, s3 = srv.s3) {
  return s3.send(
    new DeleteObjectCommand({
      Bucket: bucket,
      Key: key,
      VersionId: versionId,
      BypassGovernanceRetention: bypass,
    }),
  );
}

/** The error code and message of a raw response's XML. */
async function xmlError(r: Response): Promise<{ status: number; code: string; message: string }> {
  const text = await r.text();
  return {
    status: r.status,
    code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '',
    message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '',
  };
}

// --- bucket configuration --------------------------------------------------------------------------

test('CreateBucket with Object Lock turns versioning on and reads back as Enabled without a rule', async () => {
  const v = await srv.s3.send(new GetBucketVersioningCommand({ Bucket: LOCKED }));
  assert.equal(v.Status, 'Enabled');
  const c = await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: LOCKED }));
  assert.deepEqual(c.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
});

test('a bucket with Object Lock cannot have its versioning suspended (409 InvalidBucketState)', async () => {
  await expectError(
    srv.s3.send(
      new PutBucketVersioningCommand({ Bucket: LOCKED, VersioningConfiguration: { Status: 'Suspended' } }),
    ),
    'InvalidBucketState',
    409,
  );
  assert.equal((await srv.s3.send(new GetBucketVersioningCommand({ Bucket: LOCKED }))).Status, 'Enabled');
});

test('GetObjectLockConfiguration: 404 ObjectLockConfigurationNotFoundError without lock, NoSuchBucket without bucket', async () => {
  await expectError(
    srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: PLAIN })),
    'ObjectLockConfigurationNotFoundError',
    404,
  );
  await expectError(
    srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-none' })),
    'NoSuchBucket',
    404,
  );
});

test('PutObjectLockConfiguration sets, replaces and removes the default retention', async () => {
  const bucket = await lockBucket(srv.s3, { mode: 'GOVERNANCE', days: 1 });
  let c = await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  assert.deepEqual(c.ObjectLockConfiguration, {
    ObjectLockEnabled: 'Enabled',
    Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
  });
  await srv.s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } },
      },
    }),
  );
  c = await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  assert.deepEqual(c.ObjectLockConfiguration?.Rule, { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } });
  await srv.s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: bucket,
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' },
    }),
  );
  c = await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  assert.deepEqual(c.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
});

test('PutObjectLockConfiguration refuses a bad rule: Days and Years, zero, a lowercase mode, no Enabled', async () => {
  const bucket = await lockBucket();
  const send = (DefaultRetention: Record<string, unknown>, enabled: string | undefined = 'Enabled') =>
    srv.s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        // biome-ignore lint/suspicious/noExplicitAny: values the SDK's types refuse, on purpose
        ObjectLockConfiguration: { ObjectLockEnabled: enabled as any, Rule: { DefaultRetention } },
      }),
    );
  await expectError(send({ Mode: 'GOVERNANCE', Days: 1, Years: 1 }), 'MalformedXML', 400);
  await expectError(send({ Mode: 'GOVERNANCE', Days: 0 }), 'InvalidRetentionPeriod', 400);
  await expectError(send({ Mode: 'GOVERNANCE', Years: 0 }), 'InvalidRetentionPeriod', 400);
  await expectError(send({ Mode: 'GOVERNANCE', Years: -1 }), 'InvalidRetentionPeriod', 400);
  await expectError(send({ Mode: 'governance', Days: 1 }), 'MalformedXML', 400);
  await expectError(send({ Mode: 'GOVERNANCE', Days: 1 }, 'Disabled'), 'MalformedXML', 400);
  // A document without ObjectLockEnabled, and no document at all.
  const empty =
    '<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></ObjectLockConfiguration>';
  let r = await signedFetch(srv, 'PUT', `/${bucket}?object-lock`, {
    body: empty,
    headers: { 'content-md5': md5b64(empty) },
  });
  assert.deepEqual((await xmlError(r)).code, 'MalformedXML');
  r = await signedFetch(srv, 'PUT', `/${bucket}?object-lock`, { body: '' });
  assert.deepEqual((await xmlError(r)).code, 'MissingRequestBodyError');
  assert.equal(
    (await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration
      ?.Rule,
    undefined,
  );
});

test('PutObjectLockConfiguration needs Content-MD5 or a checksum of its body', async () => {
  const bucket = await lockBucket();
  const doc =
    '<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>';
  const r = await signedFetch(srv, 'PUT', `/${bucket}?object-lock`, { body: doc });
  const e = await xmlError(r);
  assert.equal(e.status, 400);
  assert.equal(e.code, 'InvalidRequest');
  const ok = await signedFetch(srv, 'PUT', `/${bucket}?object-lock`, {
    body: doc,
    headers: { 'content-md5': md5b64(doc) },
  });
  assert.equal(ok.status, 200);
  const bad = await signedFetch(srv, 'PUT', `/${bucket}?object-lock`, {
    body: doc,
    headers: { 'content-md5': md5b64('x') },
  });
  assert.equal((await xmlError(bad)).code, 'BadDigest');
});

test('PutObjectLockConfiguration enables Object Lock on an existing bucket only while its versioning is Enabled', async () => {
  const bucket = 'lock-later';
  await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const conf = {
    Bucket: bucket,
    ObjectLockConfiguration: {
      ObjectLockEnabled: 'Enabled' as const,
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE' as const, Days: 1 } },
    },
  };
  let e = await expectError(
    srv.s3.send(new PutObjectLockConfigurationCommand(conf)),
    'InvalidBucketState',
    409,
  );
  assert.equal(e.message, "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
  await srv.s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }),
  );
  e = await expectError(srv.s3.send(new PutObjectLockConfigurationCommand(conf)), 'InvalidBucketState', 409);
  await srv.s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  await srv.s3.send(new PutObjectLockConfigurationCommand(conf));
  const c = await srv.s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  assert.equal(c.ObjectLockConfiguration?.ObjectLockEnabled, 'Enabled');
  await expectError(
    srv.s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }),
    ),
    'InvalidBucketState',
    409,
  );
});

// --- lock on writes --------------------------------------------------------------------------------

test('PutObject with lock headers on a bucket without Object Lock is InvalidRequest', async () => {
  let e = await expectError(
    put(PLAIN, 'k', 'x', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: later(DAY) }),
    'InvalidRequest',
    400,
  );
  assert.equal(e.message, MISSING_LOCK);
  e = await expectError(put(PLAIN, 'k', 'x', { ObjectLockLegalHoldStatus: 'ON' }), 'InvalidRequest', 400);
  assert.equal(e.message, MISSING_LOCK);
  await expectError(
    put('lock-none', 'k', 'x', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: later(DAY) }),
    'NoSuchBucket',
    404,
  );
});

test('PutObject stores the retention and legal hold it names; GET and HEAD answer with them', async () => {
  const until = new Date('2099-01-01T00:00:00.000Z');
  const p = await put(LOCKED, 'named', 'abc', {
    ObjectLockMode: 'GOVERNANCE',
    ObjectLockRetainUntilDate: until,
    ObjectLockLegalHoldStatus: 'ON',
  });
  assert.ok(p.VersionId && p.VersionId !== 'null');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'named' }));
  assert.equal(h.ObjectLockMode, 'GOVERNANCE');
  assert.equal(h.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
  assert.equal(h.ObjectLockLegalHoldStatus, 'ON');
  const g = await srv.s3.send(new GetObjectCommand({ Bucket: LOCKED, Key: 'named', VersionId: p.VersionId }));
  assert.equal(g.ObjectLockMode, 'GOVERNANCE');
  assert.equal(g.ObjectLockLegalHoldStatus, 'ON');
  await g.Body?.transformToString();
  // The raw header is ISO 8601, as AWS sends it.
  const raw = await signedFetch(srv, 'HEAD', `/${LOCKED}/named`);
  assert.equal(raw.headers.get('x-amz-object-lock-retain-until-date'), '2099-01-01T00:00:00.000Z');
  // A version without lock answers with none of them.
  await put(LOCKED, 'unlocked', 'abc');
  const u = await srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'unlocked' }));
  assert.equal(u.ObjectLockMode, undefined);
  assert.equal(u.ObjectLockRetainUntilDate, undefined);
  assert.equal(u.ObjectLockLegalHoldStatus, undefined);
});

test('PutObject refuses malformed lock headers with InvalidArgument', async () => {
  const headers = (h: Record<string, string>) =>
    signedFetch(srv, 'PUT', `/${LOCKED}/bad`, {
      body: 'abc',
      headers: { 'content-md5': md5b64('abc'), ...h },
    });
  const future = later(DAY).toISOString();
  const cases: [Record<string, string>, string][] = [
    [{ 'x-amz-object-lock-mode': 'GOVERNANCE' }, 'must both be supplied'],
    [{ 'x-amz-object-lock-retain-until-date': future }, 'must both be supplied'],
    [{ 'x-amz-object-lock-mode': 'governance', 'x-amz-object-lock-retain-until-date': future }, 'wormMode'],
    [
      { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': 'tomorrow' },
      'ISO 8601',
    ],
    [
      {
        'x-amz-object-lock-mode': 'COMPLIANCE',
        'x-amz-object-lock-retain-until-date': '2001-01-01T00:00:00Z',
      },
      'must be in the future',
    ],
    [{ 'x-amz-object-lock-legal-hold': 'on' }, 'Legal Hold'],
  ];
  for (const [h, message] of cases) {
    const e = await xmlError(await headers(h));
    assert.equal(e.status, 400, JSON.stringify(h));
    assert.equal(e.code, 'InvalidArgument', JSON.stringify(h));
    assert.match(e.message, new RegExp(message), JSON.stringify(h));
  }
  await expectError(srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'bad' })), 'NotFound', 404);
});

test('PutObject with lock parameters needs Content-MD5 or an x-amz-checksum-*', async () => {
  const until = later(DAY).toISOString();
  const lock = { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': until };
  const e = await xmlError(await signedFetch(srv, 'PUT', `/${LOCKED}/sum`, { body: 'abc', headers: lock }));
  assert.equal(e.status, 400);
  assert.equal(e.code, 'InvalidRequest');
  assert.equal(
    e.message,
    'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
  );
  const hold = await xmlError(
    await signedFetch(srv, 'PUT', `/${LOCKED}/sum`, {
      body: 'abc',
      headers: { 'x-amz-object-lock-legal-hold': 'OFF' },
    }),
  );
  assert.equal(hold.code, 'InvalidRequest');
  let ok = await signedFetch(srv, 'PUT', `/${LOCKED}/sum`, {
    body: 'abc',
    headers: { ...lock, 'content-md5': md5b64('abc') },
  });
  assert.equal(ok.status, 200);
  const crc = Buffer.from([0x35, 0x24, 0x41, 0xc2]).toString('base64'); // CRC32 of "abc"
  ok = await signedFetch(srv, 'PUT', `/${LOCKED}/sum`, {
    body: 'abc',
    headers: { ...lock, 'x-amz-checksum-crc32': crc },
  });
  assert.equal(ok.status, 200, await ok.text());
  // No lock parameter and no default retention: nothing is required.
  ok = await signedFetch(srv, 'PUT', `/${LOCKED}/sum`, { body: 'abc' });
  assert.equal(ok.status, 200);
});

test('the bucket default retention applies to new versions that name none, and needs a checksum too', async () => {
  const bucket = await lockBucket(srv.s3, { mode: 'GOVERNANCE', days: 1 });
  const before = Date.now();
  const p = await put(bucket, 'k', 'abc');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k', VersionId: p.VersionId }));
  assert.equal(h.ObjectLockMode, 'GOVERNANCE');
  const until = h.ObjectLockRetainUntilDate!.getTime();
  assert.ok(
    until >= secs(new Date(before + DAY)).getTime() && until <= Date.now() + DAY,
    String(h.ObjectLockRetainUntilDate),
  );
  // A retention named on the request wins over the default.
  const named = new Date('2098-05-05T00:00:00.000Z');
  await put(bucket, 'n', 'abc', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: named });
  const hn = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'n' }));
  assert.equal(hn.ObjectLockMode, 'COMPLIANCE');
  assert.equal(hn.ObjectLockRetainUntilDate?.toISOString(), named.toISOString());
  // A bucket with a default rule: a PUT without Content-MD5 or checksum is refused.
  const e = await xmlError(await signedFetch(srv, 'PUT', `/${bucket}/raw`, { body: 'abc' }));
  assert.equal(e.code, 'InvalidRequest');
  // The version is protected by its default retention.
  await denied(del(bucket, 'k', p.VersionId));
});

test('CopyObject gives the copy the lock it names (or the default), never the source lock', async () => {
  const src = await put(LOCKED, 'copy-src', 'source bytes', {
    ObjectLockMode: 'COMPLIANCE',
    ObjectLockRetainUntilDate: later(DAY),
    ObjectLockLegalHoldStatus: 'ON',
  });
  const plainCopy = await srv.s3.send(
    new CopyObjectCommand({ Bucket: LOCKED, Key: 'copy-plain', CopySource: `${LOCKED}/copy-src` }),
  );
  const hp = await srv.s3.send(
    new HeadObjectCommand({ Bucket: LOCKED, Key: 'copy-plain', VersionId: plainCopy.VersionId }),
  );
  assert.equal(hp.ObjectLockMode, undefined);
  assert.equal(hp.ObjectLockLegalHoldStatus, undefined);
  const until = new Date('2097-01-01T00:00:00.000Z');
  await srv.s3.send(
    new CopyObjectCommand({
      Bucket: LOCKED,
      Key: 'copy-locked',
      CopySource: `${LOCKED}/copy-src?versionId=${src.VersionId}`,
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: until,
      ObjectLockLegalHoldStatus: 'OFF',
    }),
  );
  const hl = await srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'copy-locked' }));
  assert.equal(hl.ObjectLockMode, 'GOVERNANCE');
  assert.equal(hl.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
  assert.equal(hl.ObjectLockLegalHoldStatus, 'OFF');
  assert.equal(await bytes(LOCKED, 'copy-locked'), 'source bytes');
  const e = await expectError(
    srv.s3.send(
      new CopyObjectCommand({
        Bucket: PLAIN,
        Key: 'c',
        CopySource: `${LOCKED}/copy-src`,
        ObjectLockLegalHoldStatus: 'ON',
      }),
    ),
    'InvalidRequest',
    400,
  );
  assert.equal(e.message, MISSING_LOCK);
});

test('CreateMultipartUpload keeps the lock it names for the completed object; the default applies at completion', async () => {
  const until = new Date('2096-01-01T00:00:00.000Z');
  const mp = async (bucket: string, key: string, extra: Record<string, unknown>) => {
    const c = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...extra }));
    const p = await srv.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: c.UploadId,
        PartNumber: 1,
        Body: 'part one',
      }),
    );
    return srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: c.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] },
      }),
    );
  };
  const done = await mp(LOCKED, 'mp', {
    ObjectLockMode: 'COMPLIANCE',
    ObjectLockRetainUntilDate: until,
    ObjectLockLegalHoldStatus: 'ON',
  });
  const h = await srv.s3.send(
    new HeadObjectCommand({ Bucket: LOCKED, Key: 'mp', VersionId: done.VersionId }),
  );
  assert.equal(h.ObjectLockMode, 'COMPLIANCE');
  assert.equal(h.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
  assert.equal(h.ObjectLockLegalHoldStatus, 'ON');
  await denied(del(LOCKED, 'mp', done.VersionId, true));

  const bucket = await lockBucket(srv.s3, { mode: 'GOVERNANCE', days: 2 });
  const d = await mp(bucket, 'mp', {});
  const hd = await srv.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp', VersionId: d.VersionId }));
  assert.equal(hd.ObjectLockMode, 'GOVERNANCE');
  assert.ok(Math.abs(hd.ObjectLockRetainUntilDate!.getTime() - (Date.now() + 2 * DAY)) < 60_000);

  const e = await expectError(
    srv.s3.send(
      new CreateMultipartUploadCommand({ Bucket: PLAIN, Key: 'mp', ObjectLockLegalHoldStatus: 'ON' }),
    ),
    'InvalidRequest',
    400,
  );
  assert.equal(e.message, MISSING_LOCK);
  await expectError(
    srv.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: LOCKED,
        Key: 'mp',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: new Date(1000),
      }),
    ),
    'InvalidArgument',
    400,
  );
});

/** A browser form upload (PostObject) to `bucket`, its policy signed with SigV4, naming `fields`. */
function postForm(
  bucket: string,
  key: string,
  fields: Record<string, string>,
  data: string,
): Promise<Response> {
  const now = new Date();
  const amzDate = formatAmzDate(now);
  const date = amzDate.slice(0, 8);
  const credential = `${srv.accessKey}/${date}/${srv.region}/s3/aws4_request`;
  const policy = Buffer.from(
    JSON.stringify({
      expiration: new Date(Date.now() + 600_000).toISOString(),
      conditions: [
        { bucket },
        { key },
        { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
        { 'x-amz-credential': credential },
        { 'x-amz-date': amzDate },
        ...Object.entries(fields).map(([k, v]) => ({ [k]: v })),
      ],
    }),
  ).toString('base64');
  const fd = new FormData();
  const all: Record<string, string> = {
    key,
    ...fields,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    policy,
    'x-amz-signature': signHex(deriveSigningKey(srv.secretKey, date, srv.region, 's3'), policy),
  };
  for (const [k, v] of Object.entries(all)) fd.append(k, v);
  fd.append('file', new Blob([data]), 'f.txt');
  return fetch(`${srv.endpoint}/${bucket}`, { method: 'POST', body: fd, redirect: 'manual' });
}

test('PostObject takes the lock form fields as PutObject takes the headers', async () => {
  const until = '2094-01-01T00:00:00.000Z';
  const r = await postForm(
    LOCKED,
    'posted',
    {
      'x-amz-object-lock-mode': 'COMPLIANCE',
      'x-amz-object-lock-retain-until-date': until,
      'x-amz-object-lock-legal-hold': 'ON',
    },
    'form bytes',
  );
  assert.equal(r.status, 204, await r.text());
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'posted' }));
  assert.equal(h.ObjectLockMode, 'COMPLIANCE');
  assert.equal(h.ObjectLockRetainUntilDate?.toISOString(), until);
  assert.equal(h.ObjectLockLegalHoldStatus, 'ON');
  await denied(del(LOCKED, 'posted', h.VersionId, true));
  const plain = await xmlError(
    await postForm(PLAIN, 'posted', { 'x-amz-object-lock-legal-hold': 'ON' }, 'x'),
  );
  assert.equal(plain.code, 'InvalidRequest');
  assert.equal(plain.message, MISSING_LOCK);
  const bad = await xmlError(
    await postForm(LOCKED, 'posted2', { 'x-amz-object-lock-mode': 'COMPLIANCE' }, 'x'),
  );
  assert.equal(bad.code, 'InvalidArgument');
});

// --- PutObjectRetention / GetObjectRetention -------------------------------------------------------

test('Put/GetObjectRetention set and read a retention, of the latest version or of one by id', async () => {
  const v1 = await put(LOCKED, 'ret', 'one');
  const v2 = await put(LOCKED, 'ret', 'two');
  const d1 = new Date('2090-01-01T00:00:00.000Z');
  const d2 = new Date('2091-01-01T00:00:00.000Z');
  await retention(LOCKED, 'ret', 'GOVERNANCE', d1, { VersionId: v1.VersionId });
  await retention(LOCKED, 'ret', 'COMPLIANCE', d2);
  const r1 = await srv.s3.send(
    new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'ret', VersionId: v1.VersionId }),
  );
  assert.deepEqual(r1.Retention, { Mode: 'GOVERNANCE', RetainUntilDate: d1 });
  const r2 = await srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'ret' }));
  assert.deepEqual(r2.Retention, { Mode: 'COMPLIANCE', RetainUntilDate: d2 });
  const r2b = await srv.s3.send(
    new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'ret', VersionId: v2.VersionId }),
  );
  assert.deepEqual(r2b.Retention, r2.Retention);
});

test('GetObjectRetention: 404 NoSuchObjectLockConfiguration without one, InvalidRequest without lock, NoSuchKey', async () => {
  await put(LOCKED, 'noret', 'x');
  await expectError(
    srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'noret' })),
    'NoSuchObjectLockConfiguration',
    404,
  );
  await put(PLAIN, 'k', 'x');
  const e = await expectError(
    srv.s3.send(new GetObjectRetentionCommand({ Bucket: PLAIN, Key: 'k' })),
    'InvalidRequest',
    400,
  );
  assert.equal(e.message, MISSING_LOCK);
  await expectError(
    srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'nothing' })),
    'NoSuchKey',
    404,
  );
  await expectError(
    srv.s3.send(new GetObjectRetentionCommand({ Bucket: 'lock-none', Key: 'k' })),
    'NoSuchBucket',
    404,
  );
});

test('PutObjectRetention: InvalidRequest without lock, InvalidArgument for a past date, MalformedXML for a bad mode', async () => {
  await put(PLAIN, 'k', 'x');
  const e = await expectError(retention(PLAIN, 'k', 'GOVERNANCE', later(DAY)), 'InvalidRequest', 400);
  assert.equal(e.message, MISSING_LOCK);
  await put(LOCKED, 'badret', 'x');
  await expectError(
    retention(LOCKED, 'badret', 'GOVERNANCE', new Date(Date.now() - 1000)),
    'InvalidArgument',
    400,
  );
  await expectError(
    retention(LOCKED, 'badret', 'governance' as ObjectLockRetentionMode, later(DAY)),
    'MalformedXML',
    400,
  );
  await expectError(retention(LOCKED, 'nothing', 'GOVERNANCE', later(DAY)), 'NoSuchKey', 404);
  // Without Content-MD5 or a checksum of the body.
  const doc = `<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>${later(DAY).toISOString()}</RetainUntilDate></Retention>`;
  const raw = await xmlError(await signedFetch(srv, 'PUT', `/${LOCKED}/badret?retention`, { body: doc }));
  assert.equal(raw.code, 'InvalidRequest');
  await expectError(
    srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'badret' })),
    'NoSuchObjectLockConfiguration',
    404,
  );
});

test('a GOVERNANCE retention is extended freely; shortened, removed or made COMPLIANCE only with the bypass', async () => {
  const v = await put(LOCKED, 'gov', 'x');
  const d1 = new Date('2080-01-03T00:00:00.000Z');
  await retention(LOCKED, 'gov', 'GOVERNANCE', d1);
  const d2 = new Date('2080-01-05T00:00:00.000Z');
  await retention(LOCKED, 'gov', 'GOVERNANCE', d2);
  await denied(retention(LOCKED, 'gov', 'GOVERNANCE', d1));
  await denied(retention(LOCKED, 'gov', 'COMPLIANCE', d2));
  await denied(retention(LOCKED, 'gov', 'GOVERNANCE', d1, { BypassGovernanceRetention: false }));
  await retention(LOCKED, 'gov', 'GOVERNANCE', d1, { BypassGovernanceRetention: true });
  let r = await srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'gov' }));
  assert.deepEqual(r.Retention, { Mode: 'GOVERNANCE', RetainUntilDate: d1 });
  // Removing it: an empty Retention, with the bypass.
  const empty = '<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Retention>';
  const refused = await xmlError(
    await signedFetch(srv, 'PUT', `/${LOCKED}/gov?retention`, {
      body: empty,
      headers: { 'content-md5': md5b64(empty) },
    }),
  );
  assert.equal(refused.code, 'AccessDenied');
  const removed = await signedFetch(srv, 'PUT', `/${LOCKED}/gov?retention`, {
    body: empty,
    headers: { 'content-md5': md5b64(empty), 'x-amz-bypass-governance-retention': 'true' },
  });
  assert.equal(removed.status, 200);
  await expectError(
    srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'gov' })),
    'NoSuchObjectLockConfiguration',
    404,
  );
  // Made COMPLIANCE with the bypass.
  await retention(LOCKED, 'gov', 'GOVERNANCE', d1);
  await retention(LOCKED, 'gov', 'COMPLIANCE', d1, { BypassGovernanceRetention: true });
  r = await srv.s3.send(
    new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'gov', VersionId: v.VersionId }),
  );
  assert.deepEqual(r.Retention, { Mode: 'COMPLIANCE', RetainUntilDate: d1 });
});

test('a COMPLIANCE retention is extended only: shortening, GOVERNANCE or removal is refused, bypass or not', async () => {
  await put(LOCKED, 'comp', 'x');
  const d1 = new Date('2081-01-03T00:00:00.000Z');
  const d2 = new Date('2081-01-05T00:00:00.000Z');
  await retention(LOCKED, 'comp', 'COMPLIANCE', d1);
  await retention(LOCKED, 'comp', 'COMPLIANCE', d2);
  await denied(retention(LOCKED, 'comp', 'COMPLIANCE', d1));
  await denied(retention(LOCKED, 'comp', 'COMPLIANCE', d1, { BypassGovernanceRetention: true }));
  await denied(
    retention(LOCKED, 'comp', 'GOVERNANCE', new Date('2082-01-01T00:00:00.000Z'), {
      BypassGovernanceRetention: true,
    }),
  );
  const empty = '<Retention></Retention>';
  const refused = await xmlError(
    await signedFetch(srv, 'PUT', `/${LOCKED}/comp?retention`, {
      body: empty,
      headers: { 'content-md5': md5b64(empty), 'x-amz-bypass-governance-retention': 'true' },
    }),
  );
  assert.equal(refused.status, 403);
  assert.equal(refused.code, 'AccessDenied');
  const r = await srv.s3.send(new GetObjectRetentionCommand({ Bucket: LOCKED, Key: 'comp' }));
  assert.deepEqual(r.Retention, { Mode: 'COMPLIANCE', RetainUntilDate: d2 });
});

// --- legal hold ------------------------------------------------------------------------------------

test('Put/GetObjectLegalHold place and release a hold; never set is 404 NoSuchObjectLockConfiguration', async () => {
  const v1 = await put(LOCKED, 'lh', 'one');
  await put(LOCKED, 'lh', 'two');
  await expectError(
    srv.s3.send(new GetObjectLegalHoldCommand({ Bucket: LOCKED, Key: 'lh' })),
    'NoSuchObjectLockConfiguration',
    404,
  );
  await hold(LOCKED, 'lh', 'ON', v1.VersionId);
  let g = await srv.s3.send(
    new GetObjectLegalHoldCommand({ Bucket: LOCKED, Key: 'lh', VersionId: v1.VersionId }),
  );
  assert.deepEqual(g.LegalHold, { Status: 'ON' });
  await expectError(
    srv.s3.send(new GetObjectLegalHoldCommand({ Bucket: LOCKED, Key: 'lh' })),
    'NoSuchObjectLockConfiguration',
    404,
  );
  await hold(LOCKED, 'lh', 'OFF', v1.VersionId);
  g = await srv.s3.send(
    new GetObjectLegalHoldCommand({ Bucket: LOCKED, Key: 'lh', VersionId: v1.VersionId }),
  );
  assert.deepEqual(g.LegalHold, { Status: 'OFF' });
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'lh', VersionId: v1.VersionId }));
  assert.equal(h.ObjectLockLegalHoldStatus, 'OFF');
});

test('legal hold: InvalidRequest without lock, MalformedXML for another status, a checksum required', async () => {
  await put(PLAIN, 'k', 'x');
  let e = await expectError(hold(PLAIN, 'k', 'ON'), 'InvalidRequest', 400);
  assert.equal(e.message, MISSING_LOCK);
  e = await expectError(
    srv.s3.send(new GetObjectLegalHoldCommand({ Bucket: PLAIN, Key: 'k' })),
    'InvalidRequest',
    400,
  );
  assert.equal(e.message, MISSING_LOCK);
  await put(LOCKED, 'lhbad', 'x');
  await expectError(hold(LOCKED, 'lhbad', 'on' as 'ON'), 'MalformedXML', 400);
  await expectError(hold(LOCKED, 'nothing', 'ON'), 'NoSuchKey', 404);
  const doc = '<LegalHold><Status>ON</Status></LegalHold>';
  const raw = await xmlError(await signedFetch(srv, 'PUT', `/${LOCKED}/lhbad?legal-hold`, { body: doc }));
  assert.equal(raw.code, 'InvalidRequest');
});

// --- deletes ---------------------------------------------------------------------------------------

test('DeleteObject of a locked version is AccessDenied; without a version id it writes a delete marker', async () => {
  const v = await put(LOCKED, 'del', 'keep me', {
    ObjectLockMode: 'COMPLIANCE',
    ObjectLockRetainUntilDate: later(DAY),
  });
  await denied(del(LOCKED, 'del', v.VersionId));
  await denied(del(LOCKED, 'del', v.VersionId, true));
  const m = await del(LOCKED, 'del');
  assert.equal(m.DeleteMarker, true);
  assert.ok(m.VersionId && m.VersionId !== v.VersionId);
  assert.equal(await bytes(LOCKED, 'del', v.VersionId), 'keep me');
  // The marker itself holds nothing and goes.
  await del(LOCKED, 'del', m.VersionId);
  assert.equal(await bytes(LOCKED, 'del'), 'keep me');
});

test('DeleteObject of a GOVERNANCE version goes through only with the bypass', async () => {
  const v = await put(LOCKED, 'delgov', 'x', {
    ObjectLockMode: 'GOVERNANCE',
    ObjectLockRetainUntilDate: later(DAY),
  });
  await denied(del(LOCKED, 'delgov', v.VersionId));
  await denied(del(LOCKED, 'delgov', v.VersionId, false));
  const r = await del(LOCKED, 'delgov', v.VersionId, true);
  assert.equal(r.$metadata.httpStatusCode, 204);
  await expectError(
    srv.s3.send(new HeadObjectCommand({ Bucket: LOCKED, Key: 'delgov', VersionId: v.VersionId })),
    'NotFound',
    404,
  );
});

test('a legal hold blocks deletion whatever the mode or bypass, until it is OFF', async () => {
  const v = await put(LOCKED, 'delhold', 'x', { ObjectLockLegalHoldStatus: 'ON' });
  await denied(del(LOCKED, 'delhold', v.VersionId));
  await denied(del(LOCKED, 'delhold', v.VersionId, true));
  // A GOVERNANCE retention, bypassed, still leaves the hold in force.
  await retention(LOCKED, 'delhold', 'GOVERNANCE', later(DAY));
  await denied(del(LOCKED, 'delhold', v.VersionId, true));
  await hold(LOCKED, 'delhold', 'OFF');
  await denied(del(LOCKED, 'delhold', v.VersionId));
  await del(LOCKED, 'delhold', v.VersionId, true);
});

test('DeleteObjects honours the same rules per object, and the bypass header for all', async () => {
  const a = await put(LOCKED, 'multi-a', 'a', {
    ObjectLockMode: 'GOVERNANCE',
    ObjectLockRetainUntilDate: later(DAY),
  });
  const b = await put(LOCKED, 'multi-b', 'b');
  const c = await put(LOCKED, 'multi-c', 'c', {
    ObjectLockMode: 'COMPLIANCE',
    ObjectLockRetainUntilDate: later(DAY),
  });
  const objects = [
    { Key: 'multi-a', VersionId: a.VersionId },
    { Key: 'multi-b', VersionId: b.VersionId },
    { Key: 'multi-c', VersionId: c.VersionId },
    { Key: 'multi-c' },
  ];
  let r = await srv.s3.send(new DeleteObjectsCommand({ Bucket: LOCKED, Delete: { Objects: objects } }));
  assert.deepEqual(
    (r.Deleted ?? []).map((d) => [d.Key, d.VersionId ?? null, d.DeleteMarker ?? false]),
    [
      ['multi-b', b.VersionId, false],
      ['multi-c', null, true],
    ],
  );
  assert.deepEqual(
    (r.Errors ?? []).map((e) => [e.Key, e.VersionId, e.Code, e.Message]),
    [
      ['multi-a', a.VersionId, 'AccessDenied', LOCKED_MESSAGE],
      ['multi-c', c.VersionId, 'AccessDenied', LOCKED_MESSAGE],
    ],
  );
  r = await srv.s3.send(
    new DeleteObjectsCommand({
      Bucket: LOCKED,
      Delete: { Objects: objects.slice(0, 3) },
      BypassGovernanceRetention: true,
    }),
  );
  assert.deepEqual((r.Deleted ?? []).map((d) => d.Key).sort(), ['multi-a', 'multi-b']);
  assert.deepEqual(
    (r.Errors ?? []).map((e) => [e.Key, e.Code]),
    [['multi-c', 'AccessDenied']],
  );
  assert.equal(await bytes(LOCKED, 'multi-c', c.VersionId), 'c');
});

test('a retention that runs out stops protecting: delete refused before the date, allowed after', async () => {
  const until = later(2_500);
  const v = await put(LOCKED, 'expiring', 'x', {
    ObjectLockMode: 'COMPLIANCE',
    ObjectLockRetainUntilDate: until,
  });
  await denied(del(LOCKED, 'expiring', v.VersionId));
  await denied(retention(LOCKED, 'expiring', 'COMPLIANCE', new Date(until.getTime() - 1000)));
  await new Promise((r) => setTimeout(r, Math.max(0, until.getTime() - Date.now()) + 300));
  // The expired retention is still reported, and no longer stops anything.
  const h = await srv.s3.send(
    new HeadObjectCommand({ Bucket: LOCKED, Key: 'expiring', VersionId: v.VersionId }),
  );
  assert.equal(h.ObjectLockMode, 'COMPLIANCE');
  const r = await del(LOCKED, 'expiring', v.VersionId);
  assert.equal(r.$metadata.httpStatusCode, 204);
});

// --- restart and a backup tool ---------------------------------------------------------------------

test('a restart keeps every version, its lock and the bucket configuration', async () => {
  const a = await startServer();
  let b: TestServer | undefined;
  try {
    await a.s3.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
    await a.s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: 'vault',
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    const v1 = await put('vault', 'doc', 'first', {}, a.s3);
    const until = new Date('2095-01-01T00:00:00.000Z');
    const v2 = await put(
      'vault',
      'doc',
      'second',
      { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'ON' },
      a.s3,
    );
    await a.server.close();

    b = await startServer({
      env: { CAIRN_ROOT_USER: a.accessKey, CAIRN_ROOT_PASSWORD: a.secretKey },
      server: { drives: a.roots },
    });
    const c = await b.s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'vault' }));
    assert.deepEqual(c.ObjectLockConfiguration, {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
    });
    assert.equal((await b.s3.send(new GetBucketVersioningCommand({ Bucket: 'vault' }))).Status, 'Enabled');
    assert.equal(await bytes('vault', 'doc', v1.VersionId, b.s3), 'first');
    assert.equal(await bytes('vault', 'doc', v2.VersionId, b.s3), 'second');
    const h1 = await b.s3.send(
      new HeadObjectCommand({ Bucket: 'vault', Key: 'doc', VersionId: v1.VersionId }),
    );
    assert.equal(h1.ObjectLockMode, 'COMPLIANCE');
    const h2 = await b.s3.send(
      new HeadObjectCommand({ Bucket: 'vault', Key: 'doc', VersionId: v2.VersionId }),
    );
    assert.equal(h2.ObjectLockMode, 'GOVERNANCE');
    assert.equal(h2.ObjectLockRetainUntilDate?.toISOString(), until.toISOString());
    assert.equal(h2.ObjectLockLegalHoldStatus, 'ON');
    await denied(del('vault', 'doc', v1.VersionId, false, b.s3));
    await denied(del('vault', 'doc', v2.VersionId, true, b.s3));
    const versions = await b.s3.send(new ListObjectVersionsCommand({ Bucket: 'vault' }));
    assert.deepEqual(
      (versions.Versions ?? []).map((v) => v.VersionId).sort(),
      [v1.VersionId, v2.VersionId].sort(),
    );
  } finally {
    await b?.stop();
    await a.stop();
  }
});

test('a backup tool cannot delete, overwrite, shorten, unlock or bypass COMPLIANCE versions; every byte stays', async () => {
  const bucket = await lockBucket(srv.s3, { mode: 'COMPLIANCE', days: 1 });
  const snapshots = ['snapshot one', 'snapshot two', 'snapshot three'];
  const versions: string[] = [];
  for (const s of snapshots) versions.push((await put(bucket, 'backup.tar', s)).VersionId!);
  assert.equal(new Set(versions).size, 3);

  for (const id of versions) {
    // Delete by version, with and without the bypass.
    await denied(del(bucket, 'backup.tar', id));
    await denied(del(bucket, 'backup.tar', id, true));
    // Shorten, switch to GOVERNANCE, remove.
    const r = await srv.s3.send(
      new GetObjectRetentionCommand({ Bucket: bucket, Key: 'backup.tar', VersionId: id }),
    );
    assert.equal(r.Retention?.Mode, 'COMPLIANCE');
    await denied(
      retention(bucket, 'backup.tar', 'COMPLIANCE', later(60_000), {
        VersionId: id,
        BypassGovernanceRetention: true,
      }),
    );
    await denied(
      retention(bucket, 'backup.tar', 'GOVERNANCE', later(2 * DAY), {
        VersionId: id,
        BypassGovernanceRetention: true,
      }),
    );
    const empty = '<Retention></Retention>';
    const removed = await xmlError(
      await signedFetch(srv, 'PUT', `/${bucket}/backup.tar?retention&versionId=${id}`, {
        body: empty,
        headers: { 'content-md5': md5b64(empty), 'x-amz-bypass-governance-retention': 'true' },
      }),
    );
    assert.equal(removed.code, 'AccessDenied');
  }
  // Delete everything at once, bypass included.
  const multi = await srv.s3.send(
    new DeleteObjectsCommand({
      Bucket: bucket,
      Delete: { Objects: versions.map((VersionId) => ({ Key: 'backup.tar', VersionId })) },
      BypassGovernanceRetention: true,
    }),
  );
  assert.equal(multi.Deleted?.length ?? 0, 0);
  assert.deepEqual(new Set((multi.Errors ?? []).map((e) => e.Code)), new Set(['AccessDenied']));
  // "Overwrite": a new version on top (the old ones stay), and a delete marker (hides, removes nothing).
  const over = await put(bucket, 'backup.tar', 'ransom note');
  await del(bucket, 'backup.tar');
  assert.ok(!versions.includes(over.VersionId!));
  // Every version's bytes are intact.
  for (const [i, id] of versions.entries()) assert.equal(await bytes(bucket, 'backup.tar', id), snapshots[i]);
  const list = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  for (const id of versions)
    assert.ok(
      (list.Versions ?? []).some((v) => v.VersionId === id),
      id,
    );
});

test.run();
