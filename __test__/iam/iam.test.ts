/**
 * The IAM store over the real system store (erasure-coded documents on temporary drives): users,
 * groups, policies, service accounts and temporary credentials; what `lookup` answers; persistence
 * across reopen, the loss of a drive, and a root password change; no secret in plaintext on disk.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthError } from '../../src/auth/errors';
import { IAMError, IAMKeyError } from '../../src/auth/iam/errors';
import { IAM, type IAMOptions } from '../../src/auth/iam/IAM';
import type { IdentityRecord } from '../../src/auth/iam/types';
import { BUILTIN_POLICIES } from '../../src/auth/policy';
import { ErasureSets, StartupError } from '../../src/erasure/ErasureSets';
import { startServer as startCairn } from '../../src/server/index';
import { LocalDrive } from '../../src/storage/LocalDrive';

// The SDK warns once per process that its 2027 releases need Node 22; tests run on Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROOT = { accessKey: 'rootuser', secretKey: 'root-secret-123' };

const READ_B = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*'] }],
});

interface Deployment {
  roots: string[];
  layer: ErasureSets;
  iam: IAM;
  reopen(opts?: Partial<IAMOptions>): Promise<void>;
  done(): Promise<void>;
}

async function deployment(n = 4, opts: Partial<IAMOptions> = {}): Promise<Deployment> {
  const base = await mkdtemp(path.join(tmpdir(), 'cairn-iam-'));
  const roots = Array.from({ length: n }, (_, i) => path.join(base, `d${i + 1}`));
  for (const r of roots) await mkdir(r);
  const open = async (o: Partial<IAMOptions>) => {
    const layer = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
    try {
      const iam = await IAM.open({ store: layer.systemStore(), root: ROOT, ...o });
      return { layer, iam };
    } catch (e) {
      await layer.shutdown();
      throw e;
    }
  };
  const d: Deployment = {
    roots,
    ...(await open(opts)),
    async reopen(o = {}) {
      await d.layer.shutdown();
      Object.assign(d, await open(o));
    },
    async done() {
      await d.layer.shutdown();
      await rm(base, { recursive: true, force: true });
    },
  };
  return d;
}

async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    assert.ok(check(e), `${what}: got ${e instanceof Error ? `${e.name} ${e.message}` : String(e)}`);
    return e;
  }
  assert.unreachable(`${what}: no error`);
}

const iamCode = (code: string) => (e: unknown) => e instanceof IAMError && e.code === code;
const authCode = (code: string) => (e: unknown) => e instanceof AuthError && e.code === code;

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test('the root user is looked up from its configured credentials, with no policies', async () => {
  const d = await deployment();
  try {
    const r = (await d.iam.lookup(ROOT.accessKey)) as IdentityRecord;
    assert.is(r.kind, 'root');
    assert.is(r.secretKey, ROOT.secretKey);
    assert.is(r.username, 'root');
    assert.is(r.arn, 'arn:aws:iam::000000000000:root');
    assert.equal(r.policies, []);
    assert.is(await d.iam.lookup('nobody'), null);
  } finally {
    await d.done();
  }
});

test('a user is created, looked up with its policies, disabled (refused at once), enabled and removed', async () => {
  const d = await deployment();
  try {
    const c = await d.iam.createUser({
      accessKey: 'alice',
      secretKey: 'alice-secret',
      policies: ['readonly'],
    });
    assert.equal(c, { accessKey: 'alice', secretKey: 'alice-secret' });
    const r = (await d.iam.lookup('alice')) as IdentityRecord;
    assert.is(r.kind, 'user');
    assert.is(r.secretKey, 'alice-secret');
    assert.is(r.username, 'alice');
    assert.is(r.arn, 'arn:aws:iam::000000000000:user/alice');
    assert.equal(r.policies, [BUILTIN_POLICIES.readonly]);
    assert.is(r.sessionPolicy, undefined);

    await d.iam.setUserStatus('alice', 'disabled');
    const e = (await rejects(d.iam.lookup('alice'), authCode('InvalidAccessKeyId'), 'disabled')) as AuthError;
    assert.is(e.message, 'Your account is disabled; please contact your administrator.');
    assert.is(e.status, 403);
    await d.iam.setUserStatus('alice', 'enabled');
    assert.ok(await d.iam.lookup('alice'));

    const info = await d.iam.getUser('alice');
    assert.is(info.status, 'enabled');
    assert.equal(info.policies, ['readonly']);
    assert.not.ok('secretKey' in info, 'the secret is never returned after creation');

    await d.iam.deleteUser('alice');
    assert.is(await d.iam.lookup('alice'), null);
    await rejects(d.iam.getUser('alice'), iamCode('NoSuchUser'), 'removed user');
  } finally {
    await d.done();
  }
});

test('two processes over one store: a change in one is read again by the other before it returns', async () => {
  const d = await deployment();
  let peer: IAM | undefined;
  const told: string[][] = [];
  let locks = 0;
  try {
    await d.reopen({
      cluster: {
        lock: async () => {
          locks++;
          return () => {};
        },
        changed: async (paths) => {
          told.push(paths);
          await peer?.reload(paths);
        },
      },
    });
    peer = await IAM.open({ store: d.layer.systemStore(), root: ROOT });
    await d.iam.createUser({ accessKey: 'carol', secretKey: 'carol-secret', policies: ['readonly'] });
    assert.equal(told.at(-1), ['iam/users/carol.json']);
    assert.is(((await peer.lookup('carol')) as IdentityRecord).secretKey, 'carol-secret');
    await d.iam.putPolicy('readb', READ_B);
    await d.iam.setUserPolicies('carol', ['readb']);
    assert.equal(((await peer.lookup('carol')) as IdentityRecord).policies.length, 1);
    await d.iam.setUserStatus('carol', 'disabled');
    await rejects(peer.lookup('carol'), authCode('InvalidAccessKeyId'), 'disabled in the other process');
    await d.iam.deleteUser('carol');
    assert.is(await peer.lookup('carol'), null);
    assert.ok(locks >= 4, 'every change held the cross-process lock');
  } finally {
    await d.done();
  }
});

test('generated user keys: 20 characters of access key, 40 of secret', async () => {
  const d = await deployment(1);
  try {
    const c = await d.iam.createUser({});
    assert.match(c.accessKey, /^[A-Z0-9]{20}$/);
    assert.is(c.secretKey.length, 40);
    assert.is(((await d.iam.lookup(c.accessKey)) as IdentityRecord).secretKey, c.secretKey);
  } finally {
    await d.done();
  }
});

test('user names and secrets are validated; a taken access key is UserAlreadyExists', async () => {
  const d = await deployment(1);
  try {
    await rejects(
      d.iam.createUser({ accessKey: 'ab', secretKey: 'long-enough' }),
      iamCode('InvalidArgument'),
      'short key',
    );
    await rejects(
      d.iam.createUser({ accessKey: 'a/b', secretKey: 'long-enough' }),
      iamCode('InvalidArgument'),
      'slash',
    );
    await rejects(
      d.iam.createUser({ accessKey: 'a,b', secretKey: 'long-enough' }),
      iamCode('InvalidArgument'),
      'comma',
    );
    await rejects(
      d.iam.createUser({ accessKey: 'x'.repeat(129), secretKey: 'long-enough' }),
      iamCode('InvalidArgument'),
      'long',
    );
    await rejects(
      d.iam.createUser({ accessKey: 'bob', secretKey: 'short' }),
      iamCode('InvalidArgument'),
      'short secret',
    );
    await rejects(
      d.iam.createUser({ accessKey: 'bob', secretKey: 'x'.repeat(41) }),
      iamCode('InvalidArgument'),
      'long secret',
    );
    await rejects(
      d.iam.createUser({ accessKey: 'bob', secretKey: 'long-enough', policies: ['nope'] }),
      iamCode('NoSuchPolicy'),
      'unknown policy',
    );
    await d.iam.createUser({ accessKey: 'bob', secretKey: 'long-enough' });
    await rejects(
      d.iam.createUser({ accessKey: 'bob', secretKey: 'long-enough' }),
      iamCode('UserAlreadyExists'),
      'twice',
    );
    await rejects(
      d.iam.createUser({ accessKey: ROOT.accessKey, secretKey: 'long-enough' }),
      iamCode('UserAlreadyExists'),
      'the root key',
    );
  } finally {
    await d.done();
  }
});

test('group policies apply to members; a disabled group gives nothing; removing needs an empty group', async () => {
  const d = await deployment();
  try {
    await d.iam.createUser({ accessKey: 'carol', secretKey: 'carol-secret' });
    await d.iam.putPolicy('read-b', READ_B);
    const g = await d.iam.addGroupMembers('devs', ['carol']);
    assert.equal(g.members, ['carol']);
    await d.iam.setGroupPolicies('devs', ['read-b', 'writeonly']);
    let r = (await d.iam.lookup('carol')) as IdentityRecord;
    assert.equal(r.groups, ['devs']);
    assert.is(r.policies.length, 2);
    assert.equal((await d.iam.getUser('carol')).groups, ['devs']);

    await d.iam.setGroupStatus('devs', 'disabled');
    r = (await d.iam.lookup('carol')) as IdentityRecord;
    assert.equal(r.groups, []);
    assert.equal(r.policies, []);
    await d.iam.setGroupStatus('devs', 'enabled');

    await rejects(d.iam.deleteGroup('devs'), iamCode('GroupNotEmpty'), 'non-empty group');
    await rejects(d.iam.addGroupMembers('devs', ['nobody']), iamCode('NoSuchUser'), 'unknown member');
    await rejects(d.iam.removeGroupMembers('devs', ['nobody']), iamCode('InvalidArgument'), 'not a member');
    await d.iam.removeGroupMembers('devs', ['carol']);
    await d.iam.deleteGroup('devs');
    await rejects(d.iam.getGroup('devs'), iamCode('NoSuchGroup'), 'removed group');
  } finally {
    await d.done();
  }
});

test('policies: malformed is MalformedPolicy with the parser message; built-ins stay; attached ones cannot go', async () => {
  const d = await deployment(1);
  try {
    const e = (await rejects(
      d.iam.putPolicy(
        'bad',
        '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}',
      ),
      iamCode('MalformedPolicy'),
      'bad effect',
    )) as IAMError;
    assert.ok(e.message.length > 0);
    await rejects(d.iam.putPolicy('bad', 'not json'), iamCode('MalformedPolicy'), 'not JSON');
    await rejects(d.iam.putPolicy('readwrite', READ_B), iamCode('InvalidArgument'), 'replace a built-in');
    await rejects(d.iam.deletePolicy('readonly'), iamCode('InvalidArgument'), 'remove a built-in');
    await rejects(d.iam.deletePolicy('nope'), iamCode('NoSuchPolicy'), 'remove unknown');

    await d.iam.putPolicy('read-b', READ_B);
    const names = (await d.iam.listPolicies()).map((p) => `${p.name}${p.builtin ? '*' : ''}`);
    for (const n of ['consoleAdmin*', 'diagnostics*', 'read-b', 'readonly*', 'readwrite*', 'writeonly*']) {
      assert.ok(names.includes(n), `${n} in ${names}`);
    }
    await d.iam.createUser({ accessKey: 'dave', secretKey: 'dave-secret' });
    assert.equal(await d.iam.attachPolicies({ user: 'dave' }, ['read-b']), ['read-b']);
    assert.equal((await d.iam.getPolicy('read-b')).users, ['dave']);
    await rejects(d.iam.deletePolicy('read-b'), iamCode('DeleteConflict'), 'attached');
    await rejects(
      d.iam.detachPolicies({ user: 'dave' }, ['readonly']),
      iamCode('InvalidArgument'),
      'not attached',
    );
    assert.equal(await d.iam.detachPolicies({ user: 'dave' }, ['read-b']), []);
    await d.iam.deletePolicy('read-b');
    await rejects(d.iam.getPolicy('read-b'), iamCode('NoSuchPolicy'), 'removed');
  } finally {
    await d.done();
  }
});

test('a service account inherits its parent policies, adds its inline policy, and follows the parent', async () => {
  const d = await deployment();
  try {
    await d.iam.createUser({ accessKey: 'erin', secretKey: 'erin-secret', policies: ['readwrite'] });
    const s = await d.iam.createServiceAccount({ parent: 'erin', policy: READ_B, name: 'backup' });
    assert.match(s.accessKey, /^[A-Z0-9]{20}$/);
    const r = (await d.iam.lookup(s.accessKey)) as IdentityRecord;
    assert.is(r.kind, 'serviceAccount');
    assert.is(r.username, 'erin');
    assert.is(r.secretKey, s.secretKey);
    assert.equal(r.policies, [BUILTIN_POLICIES.readwrite]);
    assert.ok(r.sessionPolicy);
    assert.equal(
      (await d.iam.listServiceAccounts('erin')).map((x) => x.accessKey),
      [s.accessKey],
    );
    assert.not.ok('secretKey' in (await d.iam.getServiceAccount(s.accessKey)));

    await d.iam.updateServiceAccount(s.accessKey, { policy: null });
    assert.is(((await d.iam.lookup(s.accessKey)) as IdentityRecord).sessionPolicy, undefined);

    await d.iam.updateServiceAccount(s.accessKey, { status: 'disabled' });
    await rejects(d.iam.lookup(s.accessKey), authCode('InvalidAccessKeyId'), 'disabled account');
    await d.iam.updateServiceAccount(s.accessKey, { status: 'enabled' });

    await d.iam.setUserStatus('erin', 'disabled');
    await rejects(d.iam.lookup(s.accessKey), authCode('InvalidAccessKeyId'), 'parent disabled');
    await d.iam.setUserStatus('erin', 'enabled');

    await d.iam.deleteUser('erin');
    assert.is(await d.iam.lookup(s.accessKey), null, 'removed with its parent');
  } finally {
    await d.done();
  }
});

test('an expiring service account is refused with ExpiredToken once its time is up', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const d = await deployment(1, { now: () => now });
  try {
    await d.iam.createUser({ accessKey: 'frank', secretKey: 'frank-secret' });
    const s = await d.iam.createServiceAccount({ parent: 'frank', expiresAt: '2030-01-01T01:00:00Z' });
    assert.is(
      ((await d.iam.lookup(s.accessKey)) as IdentityRecord).expiresAt?.toISOString(),
      '2030-01-01T01:00:00.000Z',
    );
    now += 3600_000;
    await rejects(d.iam.lookup(s.accessKey), authCode('ExpiredToken'), 'expired');
    await rejects(
      d.iam.createServiceAccount({ parent: 'frank', expiresAt: '2029-01-01T00:00:00Z' }),
      iamCode('InvalidArgument'),
      'expiry in the past',
    );
  } finally {
    await d.done();
  }
});

test('a service account for an unknown user is NoSuchUser; the root user may have service accounts', async () => {
  const d = await deployment(1);
  try {
    await rejects(d.iam.createServiceAccount({ parent: 'nobody' }), iamCode('NoSuchUser'), 'unknown parent');
    const s = await d.iam.createServiceAccount({ parent: 'root' });
    const r = (await d.iam.lookup(s.accessKey)) as IdentityRecord;
    assert.is(r.username, 'root');
    assert.equal(r.policies, [BUILTIN_POLICIES.consoleAdmin]);
  } finally {
    await d.done();
  }
});

test('temporary credentials: parent rights, session policy, token, expiry → ExpiredToken, then purged', async () => {
  let now = Date.now();
  const d = await deployment(1, { now: () => now });
  try {
    await d.iam.createUser({ accessKey: 'gina', secretKey: 'gina-secret', policies: ['readwrite'] });
    const caller = (await d.iam.lookup('gina')) as IdentityRecord;
    const t = await d.iam.assumeRole(caller, { durationSeconds: 900, sessionPolicy: READ_B });
    const r = (await d.iam.lookup(t.accessKey)) as IdentityRecord;
    assert.is(r.kind, 'sts');
    assert.is(r.username, 'gina');
    assert.is(r.sessionToken, t.sessionToken);
    assert.equal(r.policies, [BUILTIN_POLICIES.readwrite]);
    assert.ok(r.sessionPolicy);
    assert.is(r.expiresAt?.getTime(), now + 900_000);

    await rejects(d.iam.assumeRole(r, { durationSeconds: 900 }), iamCode('AccessDenied'), 'chained');
    await rejects(
      d.iam.assumeRole(caller, { durationSeconds: 899 }),
      iamCode('InvalidArgument'),
      'too short',
    );
    await rejects(
      d.iam.assumeRole(caller, { durationSeconds: 43_201 }),
      iamCode('InvalidArgument'),
      'too long',
    );

    now += 900_000;
    await rejects(d.iam.lookup(t.accessKey), authCode('ExpiredToken'), 'expired');
    // Still answered ExpiredToken for a while after, then gone from the store.
    now += 2 * 3600_000;
    await rejects(d.iam.lookup(t.accessKey), authCode('ExpiredToken'), 'long expired');
    await d.iam.assumeRole(caller, { durationSeconds: 900 });
    await d.reopen({ now: () => now });
    assert.is(await d.iam.lookup(t.accessKey), null, 'purged');
  } finally {
    await d.done();
  }
});

test('everything survives a restart', async () => {
  const d = await deployment();
  try {
    await d.iam.putPolicy('read-b', READ_B);
    await d.iam.createUser({ accessKey: 'henry', secretKey: 'henry-secret', policies: ['read-b'] });
    await d.iam.addGroupMembers('ops', ['henry']);
    await d.iam.setGroupPolicies('ops', ['readonly']);
    const s = await d.iam.createServiceAccount({ parent: 'henry', policy: READ_B });
    const t = await d.iam.assumeRole((await d.iam.lookup('henry')) as IdentityRecord, {
      durationSeconds: 3600,
    });
    await d.reopen();
    const r = (await d.iam.lookup('henry')) as IdentityRecord;
    assert.is(r.secretKey, 'henry-secret');
    assert.equal(r.groups, ['ops']);
    assert.is(r.policies.length, 2);
    assert.is(((await d.iam.lookup(s.accessKey)) as IdentityRecord).secretKey, s.secretKey);
    const tr = (await d.iam.lookup(t.accessKey)) as IdentityRecord;
    assert.is(tr.secretKey, t.secretKey);
    assert.is(tr.sessionToken, t.sessionToken);
    assert.equal((await d.iam.getPolicy('read-b')).users, ['henry']);
  } finally {
    await d.done();
  }
});

test('IAM survives the loss of a drive: one missing, or replaced by an empty one', async () => {
  const d = await deployment(4);
  try {
    await d.iam.createUser({ accessKey: 'ivan', secretKey: 'ivan-secret', policies: ['readonly'] });
    await d.iam.addGroupMembers('g1', ['ivan']);
    // A drive gone (its directory unmounted): served from the other three.
    await rm(d.roots[1]!, { recursive: true, force: true });
    await d.reopen();
    assert.is(((await d.iam.lookup('ivan')) as IdentityRecord).secretKey, 'ivan-secret');
    assert.equal((await d.iam.getUser('ivan')).groups, ['g1']);
    // Changes still commit at write quorum.
    await d.iam.createUser({ accessKey: 'judy', secretKey: 'judy-secret' });
    // An empty replacement drive, then the system documents healed onto it.
    await mkdir(d.roots[1]!);
    await d.reopen();
    const healed = await d.layer.healSystem();
    assert.ok(healed.reduce((n, h) => n + h.healedVersions, 0) > 0, 'documents rebuilt on the new drive');
    // Now a different drive may go.
    await rm(d.roots[3]!, { recursive: true, force: true });
    await d.reopen();
    assert.is(((await d.iam.lookup('judy')) as IdentityRecord).secretKey, 'judy-secret');
    assert.is(((await d.iam.lookup('ivan')) as IdentityRecord).secretKey, 'ivan-secret');
  } finally {
    await d.done();
  }
});

test('no secret key or session token appears in plaintext in any file on the drives', async () => {
  const d = await deployment(4);
  try {
    const secrets: string[] = [];
    secrets.push(
      (await d.iam.createUser({ accessKey: 'kate', secretKey: 'KateSecretValue1', policies: ['readwrite'] }))
        .secretKey,
    );
    secrets.push((await d.iam.createUser({})).secretKey);
    const s = await d.iam.createServiceAccount({ parent: 'kate', secretKey: 'SvcSecretValue42' });
    secrets.push(s.secretKey);
    const t = await d.iam.assumeRole((await d.iam.lookup('kate')) as IdentityRecord, {
      durationSeconds: 900,
    });
    secrets.push(t.secretKey, t.sessionToken, ROOT.secretKey);
    await d.iam.updateServiceAccount(s.accessKey, { secretKey: 'SvcSecretValue43' });
    secrets.push('SvcSecretValue43');
    const files = d.roots.length > 0 ? (await Promise.all(d.roots.map(allFiles))).flat() : [];
    assert.ok(files.length > 10, 'the drives hold the IAM documents');
    let seenUser = false;
    for (const f of files) {
      const bytes = await readFile(f);
      if (bytes.includes('kate')) seenUser = true;
      for (const sec of secrets) {
        assert.not.ok(bytes.includes(Buffer.from(sec)), `${sec} in plaintext in ${f}`);
        assert.not.ok(bytes.includes(Buffer.from(sec).toString('base64')), `${sec} as base64 in ${f}`);
      }
    }
    assert.ok(seenUser, 'the documents are there (their names are not secret)');
  } finally {
    await d.done();
  }
});

test('a changed root password is a clear start-up error, fixed by giving the previous one once', async () => {
  const d = await deployment(1);
  try {
    await d.iam.createUser({ accessKey: 'leo', secretKey: 'leo-secret-1' });
    const newRoot = { accessKey: ROOT.accessKey, secretKey: 'a-new-root-pass' };
    const e = (await rejects(
      d.reopen({ root: newRoot }),
      (x) => x instanceof IAMKeyError,
      'new root',
    )) as Error;
    assert.match(e.message, /CAIRN_ROOT_PASSWORD_PREVIOUS/);
    await d.reopen({ root: newRoot, previousRootSecrets: ['wrong-one', ROOT.secretKey] });
    assert.is(((await d.iam.lookup('leo')) as IdentityRecord).secretKey, 'leo-secret-1');
    // Re-encrypted: the new password alone opens it now, the old one no longer does.
    await d.reopen({ root: newRoot });
    assert.is(((await d.iam.lookup('leo')) as IdentityRecord).secretKey, 'leo-secret-1');
    await rejects(d.reopen({ root: ROOT }), (x) => x instanceof IAMKeyError, 'old root');
  } finally {
    await d.done().catch(() => {});
  }
});

test('a changed root password with nothing encrypted yet is not an error', async () => {
  const d = await deployment(1);
  try {
    await d.iam.putPolicy('read-b', READ_B);
    await d.reopen({ root: { accessKey: 'other', secretKey: 'another-root-pass' } });
    assert.ok(await d.iam.getPolicy('read-b'));
  } finally {
    await d.done();
  }
});

test('through the server: users survive a restart; a changed root password stops the start', async () => {
  const base = await mkdtemp(path.join(tmpdir(), 'cairn-iam-srv-'));
  const drives = Array.from({ length: 4 }, (_, i) => path.join(base, `d${i + 1}`));
  const opts = {
    drives,
    address: '127.0.0.1:0',
    rootUser: 'srvroot',
    rootPassword: 'srv-root-pass',
    region: 'us-east-1',
    background: false,
  };
  try {
    let srv = await startCairn(opts);
    await srv.iam.createUser({ accessKey: 'mona', secretKey: 'mona-secret', policies: ['readwrite'] });
    await srv.close();
    srv = await startCairn(opts);
    const s3 = new S3Client({
      endpoint: `http://127.0.0.1:${srv.port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'mona', secretAccessKey: 'mona-secret' },
      maxAttempts: 1,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'mona-b' }));
    s3.destroy();
    await srv.close();
    const e = await rejects(
      startCairn({ ...opts, rootPassword: 'other-root-pass' }),
      (x) => x instanceof StartupError,
      'new root password',
    );
    assert.match((e as Error).message, /CAIRN_ROOT_PASSWORD_PREVIOUS/);
    srv = await startCairn({
      ...opts,
      rootPassword: 'other-root-pass',
      previousRootPassword: 'srv-root-pass',
    });
    assert.is(((await srv.iam.lookup('mona')) as IdentityRecord).secretKey, 'mona-secret');
    await srv.close();
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test.run();
