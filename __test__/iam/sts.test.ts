/**
 * STS at the S3 endpoint through `@aws-sdk/client-sts`, then the temporary credentials through
 * `@aws-sdk/client-s3`: they work, carry at most the caller's rights, are narrowed by a session
 * policy, expire (ExpiredToken), and need their session token. Errors come as STS ErrorResponses.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  STSClient,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deriveSigningKey, formatAmzDate, presignRequest, signRequest } from '../../src/auth';
import type { IAM } from '../../src/auth/iam/IAM';
import { signHex } from '../../src/auth/sigv4';
import { s3ClientFor, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
let iam: IAM;

function sts(accessKeyId: string, secretAccessKey: string, sessionToken?: string): STSClient {
  return new STSClient({
    endpoint: srv.endpoint,
    region: srv.region,
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    maxAttempts: 1,
  });
}

async function assume(
  client: STSClient,
  input: { DurationSeconds?: number; Policy?: string; RoleSessionName?: string } = {},
) {
  const r = await client.send(
    new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/any', ...input }),
  );
  const c = r.Credentials!;
  return {
    response: r,
    s3: s3ClientFor(srv, {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
    }),
    creds: c,
  };
}

async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `not an S3 error: ${e}`);
    return e;
  }
  assert.unreachable('expected the call to fail');
  throw new Error('unreachable');
}

async function stsError(p: Promise<unknown>): Promise<STSServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof STSServiceException, `not an STS error: ${e}`);
    return e;
  }
  assert.unreachable('expected the call to fail');
  throw new Error('unreachable');
}

const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });
const put = (c: S3Client, Key: string) => c.send(new PutObjectCommand({ Bucket: 'sts-b', Key, Body: 'x' }));
const get = (c: S3Client, Key: string) => c.send(new GetObjectCommand({ Bucket: 'sts-b', Key }));

test.before(async () => {
  srv = await startServer();
  iam = srv.server.iam;
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'sts-b' }));
  await srv.s3.send(new PutObjectCommand({ Bucket: 'sts-b', Key: 'seed', Body: 'seed' }));
  await iam.createUser({ accessKey: 'sts-rw', secretKey: 'sts-rw-secret', policies: ['readwrite'] });
  await iam.createUser({ accessKey: 'sts-ro', secretKey: 'sts-ro-secret', policies: ['readonly'] });
});

test.after(async () => {
  await srv.stop();
});

test('the root user assumes a role: credentials with an expiry, usable with client-s3', async () => {
  const before = Date.now();
  const { response, s3, creds } = await assume(sts(srv.accessKey, srv.secretKey), {
    DurationSeconds: 1800,
    RoleSessionName: 'root-session',
  });
  assert.match(creds.AccessKeyId!, /^[A-Z0-9]{20}$/);
  assert.is(creds.SecretAccessKey!.length, 40);
  assert.ok(creds.SessionToken!.length >= 64);
  const exp = creds.Expiration!.getTime();
  assert.ok(
    exp >= Math.floor(before / 1000) * 1000 + 1800_000 - 1000 && exp <= Date.now() + 1800_000,
    `${exp}`,
  );
  assert.is(response.AssumedRoleUser?.Arn, 'arn:aws:sts::000000000000:assumed-role/any/root-session');
  assert.is(response.AssumedRoleUser?.AssumedRoleId, `${creds.AccessKeyId}:root-session`);
  await put(s3, 'by-root-sts');
  assert.is(await (await get(s3, 'by-root-sts')).Body!.transformToString(), 'x');
});

test('the response is AWS STS XML: namespace, elements and their order', async () => {
  const url = new URL('/', srv.endpoint);
  const body =
    'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s1';
  const signed = signRequest(
    {
      method: 'POST',
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    } as Parameters<typeof signRequest>[0],
    { credentials: { accessKey: 'sts-rw', secretKey: 'sts-rw-secret' }, region: srv.region, service: 'sts' },
  );
  const { host: _, ...headers } = signed.headers;
  const res = await fetch(url, { method: 'POST', headers, body });
  const xml = await res.text();
  assert.is(res.status, 200, xml);
  assert.is(res.headers.get('content-type'), 'text/xml');
  assert.match(
    xml,
    /^<AssumeRoleResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::000000000000:assumed-role\/r\/s1<\/Arn><AssumedRoleId>[A-Z0-9]{20}:s1<\/AssumedRoleId><\/AssumedRoleUser><Credentials><AccessKeyId>[A-Z0-9]{20}<\/AccessKeyId><SecretAccessKey>[^<]{40}<\/SecretAccessKey><SessionToken>[^<]+<\/SessionToken><Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration><\/Credentials><\/AssumeRoleResult><ResponseMetadata><RequestId>[0-9A-F]{16}<\/RequestId><\/ResponseMetadata><\/AssumeRoleResponse>$/,
  );
});

test('temporary credentials have at most the caller rights: a readonly user cannot write through them', async () => {
  const { s3 } = await assume(sts('sts-ro', 'sts-ro-secret'), {
    Policy: policy({ Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] }),
  });
  assert.is(await (await get(s3, 'seed')).Body!.transformToString(), 'seed');
  const e = await s3Error(put(s3, 'nope'));
  assert.is(e.name, 'AccessDenied');
  assert.is(e.$metadata.httpStatusCode, 403);
});

test('a session policy narrows the credentials below the caller rights', async () => {
  const { s3 } = await assume(sts('sts-rw', 'sts-rw-secret'), {
    Policy: policy({ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::sts-b/*'] }),
  });
  assert.is(await (await get(s3, 'seed')).Body!.transformToString(), 'seed');
  assert.is((await s3Error(put(s3, 'narrowed'))).name, 'AccessDenied');
  assert.is(
    (await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'sts-b' })))).name,
    'AccessDenied',
    'ListBucket is not in the session policy',
  );
  // Without a session policy the same user writes.
  const plain = await assume(sts('sts-rw', 'sts-rw-secret'));
  await put(plain.s3, 'written');
});

test('GetCallerIdentity names the user behind user keys and behind temporary ones', async () => {
  const me = await sts('sts-rw', 'sts-rw-secret').send(new GetCallerIdentityCommand({}));
  assert.is(me.Arn, 'arn:aws:iam::000000000000:user/sts-rw');
  assert.is(me.UserId, 'sts-rw');
  assert.is(me.Account, '000000000000');
  const { creds } = await assume(sts('sts-rw', 'sts-rw-secret'));
  const tmp = await sts(creds.AccessKeyId!, creds.SecretAccessKey!, creds.SessionToken!).send(
    new GetCallerIdentityCommand({}),
  );
  assert.is(tmp.Arn, 'arn:aws:iam::000000000000:user/sts-rw');
  assert.is(tmp.UserId, creds.AccessKeyId);
});

test('expired temporary credentials are refused with ExpiredToken, by S3 and by STS', async () => {
  const { s3, creds } = await assume(sts('sts-rw', 'sts-rw-secret'), { DurationSeconds: 900 });
  await put(s3, 'before-expiry');
  const shift = 901_000;
  iam.useClock(() => Date.now() + shift);
  try {
    const e = await s3Error(put(s3, 'after-expiry'));
    assert.is(e.name, 'ExpiredToken');
    assert.is(e.$metadata.httpStatusCode, 400);
    assert.is(e.message, 'The provided token has expired.');
    const se = await stsError(
      sts(creds.AccessKeyId!, creds.SecretAccessKey!, creds.SessionToken!).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    assert.is(se.name, 'ExpiredToken');
    assert.is(se.$metadata.httpStatusCode, 400);
  } finally {
    iam.useClock(Date.now);
  }
});

test('a wrong or missing session token is refused', async () => {
  const { creds } = await assume(sts('sts-rw', 'sts-rw-secret'));
  const wrong = s3ClientFor(srv, {
    accessKeyId: creds.AccessKeyId!,
    secretAccessKey: creds.SecretAccessKey!,
    sessionToken: `${creds.SessionToken!.slice(0, -2)}AA`,
  });
  let e = await s3Error(get(wrong, 'seed'));
  assert.is(e.name, 'InvalidToken');
  assert.is(e.$metadata.httpStatusCode, 400);
  assert.is(e.message, 'The provided token is malformed or otherwise invalid.');
  // AWS: without its token a temporary key does not exist (403 InvalidAccessKeyId).
  const none = s3ClientFor(srv, { accessKeyId: creds.AccessKeyId!, secretAccessKey: creds.SecretAccessKey! });
  e = await s3Error(get(none, 'seed'));
  assert.is(e.$metadata.httpStatusCode, 403);
  assert.is(e.name, 'InvalidAccessKeyId');
  assert.is(e.message, 'The AWS Access Key Id you provided does not exist in our records.');
  // A token on a key that has none is refused too.
  const stray = s3ClientFor(srv, {
    accessKeyId: 'sts-rw',
    secretAccessKey: 'sts-rw-secret',
    sessionToken: 'x',
  });
  assert.is((await s3Error(get(stray, 'seed'))).name, 'InvalidToken');
});

test('temporary credentials without their token: InvalidAccessKeyId naming the key (header, presigned URL, form)', async () => {
  const { creds } = await assume(sts('sts-rw', 'sts-rw-secret'));
  const key = creds.AccessKeyId!;
  const secret = creds.SecretAccessKey!;
  const url = new URL('/sts-b/seed', srv.endpoint);
  const xmlError = async (res: Response) => {
    const xml = await res.text();
    assert.is(res.status, 403, xml);
    assert.match(xml, /<Code>InvalidAccessKeyId<\/Code>/);
    assert.match(xml, new RegExp(`<AWSAccessKeyId>${key}</AWSAccessKeyId>`));
  };
  // A signed request without x-amz-security-token.
  const signed = signRequest(
    { method: 'GET', path: url.pathname, headers: { host: url.host } },
    { credentials: { accessKey: key, secretKey: secret }, region: srv.region },
  );
  const { host: _, ...headers } = signed.headers;
  await xmlError(await fetch(url, { headers }));
  // A presigned URL without X-Amz-Security-Token.
  const p = presignRequest(
    { method: 'GET', path: url.pathname, headers: { host: url.host } },
    { credentials: { accessKey: key, secretKey: secret }, region: srv.region, expiresIn: 60 },
  );
  await xmlError(await fetch(new URL(`${url.pathname}?${p.query}`, srv.endpoint)));
  // With the token in the URL it works; with a wrong one it is InvalidToken.
  const good = presignRequest(
    { method: 'GET', path: url.pathname, headers: { host: url.host } },
    {
      credentials: { accessKey: key, secretKey: secret, sessionToken: creds.SessionToken! },
      region: srv.region,
      expiresIn: 60,
    },
  );
  const ok = await fetch(new URL(`${url.pathname}?${good.query}`, srv.endpoint));
  assert.is(ok.status, 200);
  assert.is(await ok.text(), 'seed');
  const wrong = presignRequest(
    { method: 'GET', path: url.pathname, headers: { host: url.host } },
    {
      credentials: { accessKey: key, secretKey: secret, sessionToken: 'not-it' },
      region: srv.region,
      expiresIn: 60,
    },
  );
  const bad = await fetch(new URL(`${url.pathname}?${wrong.query}`, srv.endpoint));
  assert.is(bad.status, 400);
  assert.match(await bad.text(), /<Code>InvalidToken<\/Code>/);
  // A browser form signed with the key but without its x-amz-security-token field.
  const form = (token?: string) => {
    const amzDate = formatAmzDate(new Date());
    const date = amzDate.slice(0, 8);
    const credential = `${key}/${date}/${srv.region}/s3/aws4_request`;
    const conditions: unknown[] = [
      { bucket: 'sts-b' },
      ['starts-with', '$key', 'form/'],
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-credential': credential },
      { 'x-amz-date': amzDate },
    ];
    if (token !== undefined) conditions.push({ 'x-amz-security-token': token });
    const policy = Buffer.from(
      JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions }),
    ).toString('base64');
    const f = new FormData();
    f.append('key', 'form/by-sts.txt');
    f.append('x-amz-algorithm', 'AWS4-HMAC-SHA256');
    f.append('x-amz-credential', credential);
    f.append('x-amz-date', amzDate);
    if (token !== undefined) f.append('x-amz-security-token', token);
    f.append('policy', policy);
    f.append('x-amz-signature', signHex(deriveSigningKey(secret, date, srv.region, 's3'), policy));
    f.append('file', new Blob(['from a form']), 'f.txt');
    return fetch(`${srv.endpoint}/sts-b`, { method: 'POST', body: f });
  };
  await xmlError(await form());
  const wrongForm = await form('not-it');
  assert.is(wrongForm.status, 400);
  assert.match(await wrongForm.text(), /<Code>InvalidToken<\/Code>/);
  const okForm = await form(creds.SessionToken!);
  assert.is(okForm.status, 204, await okForm.text());
});

test('DurationSeconds out of 900..43200 is a ValidationError with AWS wording', async () => {
  const c = sts('sts-rw', 'sts-rw-secret');
  let e = await stsError(assume(c, { DurationSeconds: 899 }));
  assert.is(e.name, 'ValidationError');
  assert.is(e.$metadata.httpStatusCode, 400);
  assert.is(
    e.message,
    "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
  );
  e = await stsError(assume(c, { DurationSeconds: 43_201 }));
  assert.is(e.name, 'ValidationError');
  assert.match(e.message, /less than or equal to 43200/);
  // The bounds themselves are fine.
  const long = await assume(c, { DurationSeconds: 43_200 });
  assert.ok(long.creds.Expiration!.getTime() > Date.now() + 43_100_000);
});

test('a session policy that does not parse is MalformedPolicyDocument; too long is a ValidationError', async () => {
  const c = sts('sts-rw', 'sts-rw-secret');
  let e = await stsError(
    assume(c, { Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps"}]}' }),
  );
  // The SDK names its class for AWS's code MalformedPolicyDocument.
  assert.is(e.name, 'MalformedPolicyDocumentException');
  assert.is(e.$metadata.httpStatusCode, 400);
  e = await stsError(
    assume(c, { Policy: `{"Version":"2012-10-17","Statement":[],"x":"${'a'.repeat(2100)}"}` }),
  );
  assert.is(e.name, 'ValidationError');
  e = await stsError(assume(c, { RoleSessionName: 'bad name!' }));
  assert.is(e.name, 'ValidationError');
});

test('temporary credentials cannot assume a role again', async () => {
  const { creds } = await assume(sts('sts-rw', 'sts-rw-secret'));
  const e = await stsError(assume(sts(creds.AccessKeyId!, creds.SecretAccessKey!, creds.SessionToken!)));
  assert.is(e.name, 'AccessDenied');
  assert.is(e.$metadata.httpStatusCode, 403);
});

test('unknown keys, bad signatures and disabled users get STS errors', async () => {
  let e = await stsError(assume(sts('no-such-user', 'whatever-secret')));
  assert.is(e.name, 'InvalidClientTokenId');
  assert.is(e.$metadata.httpStatusCode, 403);
  e = await stsError(assume(sts('sts-rw', 'not-the-secret')));
  assert.is(e.name, 'SignatureDoesNotMatch');
  assert.is(e.$metadata.httpStatusCode, 403);
  await iam.createUser({ accessKey: 'sts-off', secretKey: 'sts-off-secret', policies: ['readwrite'] });
  const { s3 } = await assume(sts('sts-off', 'sts-off-secret'));
  await iam.setUserStatus('sts-off', 'disabled');
  e = await stsError(assume(sts('sts-off', 'sts-off-secret')));
  assert.is(e.name, 'InvalidClientTokenId');
  assert.match(e.message, /disabled/);
  // Its temporary credentials stop at once too.
  const s3e = await s3Error(get(s3, 'seed'));
  assert.is(s3e.name, 'InvalidAccessKeyId');
});

test('an unsigned STS request is MissingAuthenticationToken; an unknown action is InvalidAction', async () => {
  let res = await fetch(srv.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=AssumeRole&Version=2011-06-15',
  });
  let xml = await res.text();
  assert.is(res.status, 403);
  assert.match(
    xml,
    /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code><Message>Request is missing Authentication Token<\/Message><\/Error><RequestId>[0-9A-F]{16}<\/RequestId><\/ErrorResponse>$/,
  );
  const url = new URL('/', srv.endpoint);
  const body = 'Action=GetSessionToken&Version=2011-06-15';
  const signed = signRequest(
    {
      method: 'POST',
      path: '/',
      headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    } as Parameters<typeof signRequest>[0],
    { credentials: { accessKey: 'sts-rw', secretKey: 'sts-rw-secret' }, region: srv.region, service: 'sts' },
  );
  const { host: _, ...headers } = signed.headers;
  res = await fetch(url, { method: 'POST', headers, body });
  xml = await res.text();
  assert.is(res.status, 400);
  assert.match(
    xml,
    /<Code>InvalidAction<\/Code><Message>Could not find operation GetSessionToken for version 2011-06-15<\/Message>/,
  );
});

test.run();
