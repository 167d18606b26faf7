/**
 * The `minio` npm client (minio-js) against a real server for versioning, Object Lock, bucket
 * policies and STS: versioning set and read, versions listed with `IncludeVersion`, lock
 * configuration, retention and legal hold per version, deletes by version refused under a lock and
 * allowed with `governanceBypass`, a public-read policy that anonymous `fetch` honours, and
 * temporary credentials from `AssumeRoleProvider` used by a second client.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Client, S3Error } from 'minio';
// Not re-exported by the package's entry point (minio 8.0.7).
import { AssumeRoleProvider } from 'minio/dist/main/AssumeRoleProvider.js';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AdminClient } from '../../src/cli/admin';
import { startServer, type TestServer } from '../helpers/server';

const test = suite('minio-js: versioning, Object Lock, policies, STS');

const VB = 'mjs-versions';
const LB = 'mjs-locked';
const PB = 'mjs-public';

let srv: TestServer;
let root: Client;
/** A user allowed everything but s3:BypassGovernanceRetention. */
let noBypass: Client;
/** A user with the built-in `readonly` policy. */
let readonly: Client;

interface Listed {
  name?: string;
  prefix?: string;
  versionId?: string | null;
  isLatest?: boolean;
  isDeleteMarker?: boolean;
  size?: number;
}

function client(accessKey: string, secretKey: string): Client {
  return new Client({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey,
    secretKey,
    region: srv.region,
    pathStyle: true,
  });
}

async function listVersions(c: Client, bucket: string, prefix = ''): Promise<Listed[]> {
  return new Promise((resolve, reject) => {
    const out: Listed[] = [];
    // (minio-js 8.0.7 sends max-keys=1000 with IncludeVersion whatever MaxKeys says.)
    const s = c.listObjects(bucket, prefix, true, { IncludeVersion: true });
    s.on('data', (o) => out.push(o as Listed));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/** The S3 error code minio-js reports for a refused call. */
async function refused(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3Error, `not an S3 error: ${e}`);
    return e.code ?? '';
  }
  assert.unreachable('expected the call to be refused');
  return '';
}

const put = async (c: Client, bucket: string, key: string, body: string) =>
  c.putObject(bucket, key, Buffer.from(body));
const text = async (c: Client, bucket: string, key: string, versionId?: string) => {
  const s = await c.getObject(bucket, key, versionId ? { versionId } : {});
  const chunks: Buffer[] = [];
  for await (const chunk of s) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

test.before(async () => {
  srv = await startServer();
  root = client(srv.accessKey, srv.secretKey);
  const admin = new AdminClient({
    endpoint: srv.endpoint,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
  });
  await admin.createPolicy(
    'mjs-no-bypass',
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] },
        { Effect: 'Deny', Action: ['s3:BypassGovernanceRetention'], Resource: ['arn:aws:s3:::*'] },
      ],
    }),
  );
  await admin.addUser({
    accessKey: 'mjs-nobypass',
    secretKey: 'mjs-nobypass-secret',
    policies: ['mjs-no-bypass'],
  });
  await admin.addUser({
    accessKey: 'mjs-readonly',
    secretKey: 'mjs-readonly-secret',
    policies: ['readonly'],
  });
  noBypass = client('mjs-nobypass', 'mjs-nobypass-secret');
  readonly = client('mjs-readonly', 'mjs-readonly-secret');
});

test.after(async () => {
  await srv?.stop();
});

test('setBucketVersioning Enabled and Suspended; getBucketVersioning reads each back', async () => {
  await root.makeBucket(VB);
  await root.setBucketVersioning(VB, { Status: 'Enabled' });
  assert.equal(await root.getBucketVersioning(VB), { Status: 'Enabled' });
  await root.setBucketVersioning(VB, { Status: 'Suspended' });
  assert.equal(await root.getBucketVersioning(VB), { Status: 'Suspended' });
  await root.setBucketVersioning(VB, { Status: 'Enabled' });
  assert.equal(await root.getBucketVersioning(VB), { Status: 'Enabled' });
});

test('putObject returns version ids; listObjects with IncludeVersion lists versions and delete markers', async () => {
  const v1 = (await put(root, VB, 'dir/k', 'one')).versionId;
  const v2 = (await put(root, VB, 'dir/k', 'two')).versionId;
  const other = (await put(root, VB, 'top', 'top')).versionId;
  assert.type(v1, 'string');
  assert.ok(v1 !== v2);
  assert.is(await text(root, VB, 'dir/k', v1!), 'one');
  await root.removeObject(VB, 'top');
  const all = await listVersions(root, VB);
  // minio-js puts a page's <Version>s first and its <DeleteMarker>s after them, whatever their
  // order in the XML (its parser groups elements by name), so each kind is checked on its own.
  const markers = all.filter((o) => o.isDeleteMarker);
  assert.equal(
    all.filter((o) => !o.isDeleteMarker).map((o) => [o.name, o.versionId, o.isLatest]),
    [
      ['dir/k', v2, true],
      ['dir/k', v1, false],
      ['top', other, false],
    ],
  );
  assert.equal(
    markers.map((o) => [o.name, o.isLatest]),
    [['top', true]],
  );
  assert.type(markers[0]!.versionId, 'string');
  assert.equal(
    (await listVersions(root, VB, 'dir/')).map((o) => o.versionId),
    [v2, v1],
  );
  // removeObject of the marker by versionId brings the key back.
  await root.removeObject(VB, 'top', { versionId: markers[0]!.versionId! });
  assert.is(await text(root, VB, 'top'), 'top');
  // removeObject of a version by id removes only that version.
  await root.removeObject(VB, 'dir/k', { versionId: v2! });
  assert.is(await text(root, VB, 'dir/k'), 'one');
  assert.is(await refused(text(root, VB, 'dir/k', v2!)), 'NoSuchVersion');
});

test('a bucket made with ObjectLocking: versioning Enabled, a lock configuration without a rule', async () => {
  await root.makeBucket(LB, srv.region, { ObjectLocking: true });
  assert.equal(await root.getBucketVersioning(LB), { Status: 'Enabled' });
  assert.equal(await root.getObjectLockConfig(LB), { objectLockEnabled: 'Enabled' });
  // Its typings pick a `void` overload for the one-argument form; it returns a promise.
  const lockOf = (b: string) => Promise.resolve(root.getObjectLockConfig(b));
  assert.is(await refused(lockOf(VB)), 'ObjectLockConfigurationNotFoundError');
});

let keptId = '';

test('putObjectRetention GOVERNANCE then getObjectRetention; removeObject by versionId is AccessDenied', async () => {
  // No default retention yet: a plain upload is not locked and needs no Content-MD5.
  keptId = (await put(root, LB, 'kept', 'keep me')).versionId!;
  assert.is(
    await refused(root.getObjectRetention(LB, 'kept', { versionId: keptId })),
    'NoSuchObjectLockConfiguration',
  );
  const until = new Date(Date.now() + 5 * 86_400_000);
  until.setUTCMilliseconds(0);
  await root.putObjectRetention(LB, 'kept', {
    versionId: keptId,
    mode: 'GOVERNANCE',
    retainUntilDate: until.toISOString(),
  });
  const got = await root.getObjectRetention(LB, 'kept', { versionId: keptId });
  assert.is(got?.mode, 'GOVERNANCE');
  assert.is(Date.parse(got!.retainUntilDate), until.getTime());
  assert.is(await refused(root.removeObject(LB, 'kept', { versionId: keptId })), 'AccessDenied');
  assert.is(await text(root, LB, 'kept', keptId), 'keep me');
  // Without a version id, removeObject only writes a delete marker: allowed.
  await root.removeObject(LB, 'kept');
  assert.is(await refused(text(root, LB, 'kept')), 'NoSuchKey');
  const marker = (await listVersions(root, LB, 'kept')).find((o) => o.isDeleteMarker);
  assert.is(marker?.isLatest, true);
  await root.removeObject(LB, 'kept', { versionId: marker!.versionId! });
});

test('shortening GOVERNANCE retention: AccessDenied without governanceBypass or without the permission', async () => {
  const sooner = new Date(Date.now() + 3_600_000);
  sooner.setUTCMilliseconds(0);
  const shorten = { versionId: keptId, mode: 'GOVERNANCE' as const, retainUntilDate: sooner.toISOString() };
  assert.is(await refused(root.putObjectRetention(LB, 'kept', shorten)), 'AccessDenied');
  assert.is(
    await refused(noBypass.putObjectRetention(LB, 'kept', { ...shorten, governanceBypass: true })),
    'AccessDenied',
  );
  await root.putObjectRetention(LB, 'kept', { ...shorten, governanceBypass: true });
  const after = await root.getObjectRetention(LB, 'kept', { versionId: keptId });
  assert.is(Date.parse(after!.retainUntilDate), sooner.getTime());
});

test('removeObject with governanceBypass: AccessDenied for a user without s3:BypassGovernanceRetention, done by root', async () => {
  assert.is(
    await refused(noBypass.removeObject(LB, 'kept', { versionId: keptId, governanceBypass: true })),
    'AccessDenied',
  );
  await root.removeObject(LB, 'kept', { versionId: keptId, governanceBypass: true });
  assert.equal(await listVersions(root, LB, 'kept'), []);
});

test('setObjectLegalHold ON blocks even a bypassing delete; getObjectLegalHold reads it; OFF releases it', async () => {
  const { versionId } = await put(root, LB, 'held', 'h');
  await root.setObjectLegalHold(LB, 'held', { versionId: versionId!, status: 'ON' });
  // minio-js resolves to the parsed <LegalHold> ({ Status }), not the bare status its types declare.
  assert.equal(await root.getObjectLegalHold(LB, 'held', { versionId: versionId! }), { Status: 'ON' });
  assert.is(
    await refused(root.removeObject(LB, 'held', { versionId: versionId!, governanceBypass: true })),
    'AccessDenied',
  );
  await root.setObjectLegalHold(LB, 'held', { versionId: versionId!, status: 'OFF' });
  assert.equal(await root.getObjectLegalHold(LB, 'held', { versionId: versionId! }), { Status: 'OFF' });
  await root.removeObject(LB, 'held', { versionId: versionId! });
});

test('setObjectLockConfig GOVERNANCE 1 day; getObjectLockConfig reads it; new versions get that retention', async () => {
  await root.setObjectLockConfig(LB, { mode: 'GOVERNANCE', unit: 'Days', validity: 1 });
  assert.equal(await root.getObjectLockConfig(LB), {
    objectLockEnabled: 'Enabled',
    mode: 'GOVERNANCE',
    unit: 'Days',
    validity: 1,
  });
  // AWS: an upload that ends up locked must carry Content-MD5 or an x-amz-checksum-*; minio-js
  // sends Content-MD5 only over TLS (over plain HTTP it signs the payload's SHA-256 instead).
  const e = await refused(put(root, LB, 'defaulted', 'd'));
  assert.is(e, 'InvalidRequest');
  // The SDK sends a CRC32 checksum: accepted, and the version carries the default retention.
  const { VersionId } = await srv.s3.send(new PutObjectCommand({ Bucket: LB, Key: 'defaulted', Body: 'd' }));
  const ret = await root.getObjectRetention(LB, 'defaulted', { versionId: VersionId! });
  assert.is(ret?.mode, 'GOVERNANCE');
  assert.ok(
    Math.abs(Date.parse(ret!.retainUntilDate) - (Date.now() + 86_400_000)) < 120_000,
    ret!.retainUntilDate,
  );
  assert.is(await refused(root.removeObject(LB, 'defaulted', { versionId: VersionId! })), 'AccessDenied');
  await root.removeObject(LB, 'defaulted', { versionId: VersionId!, governanceBypass: true });
});

test('getObjectLegalHold of a version never held is NoSuchObjectLockConfiguration', async () => {
  const { VersionId: versionId } = await srv.s3.send(
    new PutObjectCommand({ Bucket: LB, Key: 'never-held', Body: 'n' }),
  );
  assert.is(
    await refused(root.getObjectLegalHold(LB, 'never-held', { versionId: versionId! })),
    'NoSuchObjectLockConfiguration',
  );
});

test('setBucketPolicy public-read: getBucketPolicy returns it, anonymous GET works, anonymous PUT is 403', async () => {
  await root.makeBucket(PB);
  await put(root, PB, 'index.html', '<h1>hi</h1>');
  const url = `${srv.endpoint}/${PB}/index.html`;
  assert.is((await fetch(url)).status, 403);
  assert.is(await refused(root.getBucketPolicy(PB)), 'NoSuchBucketPolicy');
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: ['s3:GetBucketLocation', 's3:ListBucket'],
        Resource: [`arn:aws:s3:::${PB}`],
      },
      {
        Effect: 'Allow',
        Principal: { AWS: ['*'] },
        Action: ['s3:GetObject'],
        Resource: [`arn:aws:s3:::${PB}/*`],
      },
    ],
  });
  await root.setBucketPolicy(PB, policy);
  assert.equal(JSON.parse(await root.getBucketPolicy(PB)), JSON.parse(policy));
  const anon = await fetch(url);
  assert.is(anon.status, 200);
  assert.is(await anon.text(), '<h1>hi</h1>');
  const listing = await fetch(`${srv.endpoint}/${PB}?list-type=2`);
  assert.is(listing.status, 200);
  assert.match(await listing.text(), /<Key>index\.html<\/Key>/);
  const write = await fetch(`${srv.endpoint}/${PB}/x`, { method: 'PUT', body: 'x' });
  assert.is(write.status, 403);
  assert.match(await write.text(), /<Code>AccessDenied<\/Code>/);
  assert.is(await refused(root.setBucketPolicy(PB, '{"Version":')), 'MalformedPolicy');
  // An empty policy removes it (minio-js sends DELETE ?policy).
  await root.setBucketPolicy(PB, '');
  assert.is(await refused(root.getBucketPolicy(PB)), 'NoSuchBucketPolicy');
  assert.is((await fetch(url)).status, 403);
});

test('a readonly IAM user reads but its writes, deletes and policy changes are AccessDenied', async () => {
  assert.is(await text(readonly, PB, 'index.html'), '<h1>hi</h1>');
  assert.is(await refused(put(readonly, PB, 'nope', 'x')), 'AccessDenied');
  assert.is(await refused(readonly.removeObject(PB, 'index.html')), 'AccessDenied');
  assert.is(await refused(readonly.setBucketVersioning(PB, { Status: 'Enabled' })), 'AccessDenied');
  assert.is(await refused(readonly.setBucketPolicy(PB, '')), 'AccessDenied');
});

test('AssumeRoleProvider gets temporary credentials from the endpoint; a client with them works', async () => {
  const provider = new AssumeRoleProvider({
    stsEndpoint: srv.endpoint,
    accessKey: 'mjs-nobypass',
    secretKey: 'mjs-nobypass-secret',
    region: srv.region,
    durationSeconds: 900,
    roleSessionName: 'minio-js',
  });
  const creds = await provider.getCredentials();
  assert.match(creds.getAccessKey(), /^[A-Z0-9]{20}$/);
  assert.ok((creds.getSessionToken() ?? '').length > 0);
  const temp = new Client({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    region: srv.region,
    pathStyle: true,
    credentialsProvider: provider,
  });
  await put(temp, VB, 'from-sts', 'temporary');
  assert.is(await text(temp, VB, 'from-sts'), 'temporary');
  // They carry the user's rights, its explicit Deny included.
  const { VersionId: versionId } = await srv.s3.send(
    new PutObjectCommand({ Bucket: LB, Key: 'sts-kept', Body: 'k' }),
  );
  assert.is(
    await refused(temp.removeObject(LB, 'sts-kept', { versionId: versionId!, governanceBypass: true })),
    'AccessDenied',
  );
});

test('AssumeRoleProvider with a session policy: what it does not allow is AccessDenied', async () => {
  const provider = new AssumeRoleProvider({
    stsEndpoint: srv.endpoint,
    accessKey: 'mjs-nobypass',
    secretKey: 'mjs-nobypass-secret',
    region: srv.region,
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`arn:aws:s3:::${VB}/*`] }],
    }),
  });
  const temp = new Client({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    region: srv.region,
    pathStyle: true,
    credentialsProvider: provider,
  });
  assert.is(await text(temp, VB, 'from-sts'), 'temporary');
  assert.is(await refused(put(temp, VB, 'narrowed', 'x')), 'AccessDenied');
});

test('AssumeRoleProvider with a wrong secret key fails with the STS error code', async () => {
  const provider = new AssumeRoleProvider({
    stsEndpoint: srv.endpoint,
    accessKey: 'mjs-nobypass',
    secretKey: 'not-the-secret',
    region: srv.region,
  });
  try {
    await provider.getCredentials();
    assert.unreachable('expected AssumeRole to fail');
  } catch (e) {
    assert.match(String(e), /SignatureDoesNotMatch/);
  }
});

test.run();
