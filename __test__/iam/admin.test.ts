/**
 * The admin API through the CLI's client (`AdminClient`) and through `node bin/cairn.js admin ...`
 * against a real server: users, groups, policies, service accounts, server info, heal; who may call
 * it (root, a user with admin actions, a user for its own service accounts) and the JSON errors.
 */
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { main } from '../../src/cli';
import { AdminApiError, AdminClient, parseExpiry, table } from '../../src/cli/admin';
import { s3ClientFor, signedFetch, startServer, type TestServer } from '../helpers/server';

const REPO = path.join(__dirname, '..', '..');

let srv: TestServer;
let root: AdminClient;

const client = (accessKey: string, secretKey: string) =>
  new AdminClient({ endpoint: srv.endpoint, accessKey, secretKey, region: srv.region });

async function apiError(p: Promise<unknown>): Promise<AdminApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AdminApiError, `not an admin API error: ${e}`);
    return e;
  }
  assert.unreachable('expected the call to fail');
  throw new Error('unreachable');
}

const READ_B = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::adm-b/*'] }],
};

/** `node bin/cairn.js admin ARGS` against the test server, as a script would run it. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO, 'bin', 'cairn.js'), 'admin', ...args],
      {
        cwd: REPO,
        env: {
          PATH: process.env.PATH ?? '',
          CAIRN_FROM_SOURCE: '1',
          CAIRN_ENDPOINT: srv.endpoint,
          CAIRN_ROOT_USER: srv.accessKey,
          CAIRN_ROOT_PASSWORD: srv.secretKey,
          ...env,
        },
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** `main` in this process, output captured. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  let code = -1;
  await main(['node', 'cairn', ...args], {
    env: {},
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    exit: (c) => {
      code = c;
    },
  });
  return { code, out, err };
}

test.before(async () => {
  srv = await startServer();
  root = client(srv.accessKey, srv.secretKey);
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'adm-b' }));
  await srv.s3.send(new PutObjectCommand({ Bucket: 'adm-b', Key: 'k', Body: 'hello' }));
});

test.after(async () => {
  await srv.stop();
});

test('users: add (secret shown once), list, info, disable (refused at once), enable, remove', async () => {
  const made = (await root.addUser({
    accessKey: 'adm-u1',
    secretKey: 'adm-u1-secret',
    policies: ['readwrite'],
  })) as Record<string, unknown>;
  assert.is(made.accessKey, 'adm-u1');
  assert.is(made.secretKey, 'adm-u1-secret');
  assert.equal(made.policies, ['readwrite']);
  const list = (await root.listUsers()) as Record<string, unknown>[];
  assert.ok(list.some((u) => u.accessKey === 'adm-u1'));
  assert.not.ok(JSON.stringify(list).includes('adm-u1-secret'), 'no secret in the list');
  const info = (await root.userInfo('adm-u1')) as Record<string, unknown>;
  assert.is(info.status, 'enabled');
  assert.not.ok('secretKey' in info);

  const s3 = s3ClientFor(srv, { accessKeyId: 'adm-u1', secretAccessKey: 'adm-u1-secret' });
  const r = await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));
  assert.is(await r.Body!.transformToString(), 'hello');

  await root.setUserStatus('adm-u1', 'disabled');
  try {
    await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));
    assert.unreachable('a disabled user is refused');
  } catch (e) {
    assert.ok(e instanceof S3ServiceException);
    assert.is(e.name, 'InvalidAccessKeyId');
    assert.is(e.$metadata.httpStatusCode, 403);
    assert.is(e.message, 'Your account is disabled; please contact your administrator.');
  }
  await root.setUserStatus('adm-u1', 'enabled');
  await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));

  const gen = (await root.addUser({})) as Record<string, string>;
  assert.match(gen.accessKey!, /^[A-Z0-9]{20}$/);
  assert.is(gen.secretKey!.length, 40);

  assert.is(await root.removeUser('adm-u1'), undefined);
  let e = await apiError(root.userInfo('adm-u1'));
  assert.is(e.code, 'NoSuchUser');
  assert.is(e.status, 404);
  assert.match(e.requestId, /^[0-9A-F]{16}$/);
  e = await apiError(root.addUser({ accessKey: gen.accessKey!, secretKey: 'whatever-1' }));
  assert.is(e.code, 'UserAlreadyExists');
  assert.is(e.status, 409);
  e = await apiError(root.addUser({ accessKey: 'x', secretKey: 'whatever-1' }));
  assert.is(e.code, 'InvalidArgument');
  assert.is(e.status, 400);
});

test('groups: add members (made on first use), policies for members, disable, remove members, remove', async () => {
  await root.addUser({ accessKey: 'adm-g1', secretKey: 'adm-g1-secret' });
  const g = (await root.addGroupMembers('adm-team', ['adm-g1'])) as Record<string, unknown>;
  assert.equal(g.members, ['adm-g1']);
  await root.setGroupPolicies('adm-team', ['readonly']);
  assert.equal(((await root.userInfo('adm-g1')) as Record<string, unknown>).groups, ['adm-team']);
  const s3 = s3ClientFor(srv, { accessKeyId: 'adm-g1', secretAccessKey: 'adm-g1-secret' });
  await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));
  await root.setGroupStatus('adm-team', 'disabled');
  assert.is(((await root.groupInfo('adm-team')) as Record<string, unknown>).status, 'disabled');
  await root.setGroupStatus('adm-team', 'enabled');
  assert.ok(((await root.listGroups()) as Record<string, unknown>[]).some((x) => x.name === 'adm-team'));

  let e = await apiError(root.removeGroup('adm-team'));
  assert.is(e.code, 'GroupNotEmpty');
  assert.is(e.status, 409);
  e = await apiError(root.addGroupMembers('adm-team', ['nobody-here']));
  assert.is(e.code, 'NoSuchUser');
  await root.removeGroupMembers('adm-team', ['adm-g1']);
  await root.removeGroup('adm-team');
  e = await apiError(root.groupInfo('adm-team'));
  assert.is(e.code, 'NoSuchGroup');
  assert.is(e.status, 404);
});

test('policies: create, list with built-ins, info, attach, detach, remove; malformed is 400 MalformedPolicy', async () => {
  const created = (await root.createPolicy('adm-read-b', JSON.stringify(READ_B))) as Record<string, unknown>;
  assert.is(created.name, 'adm-read-b');
  assert.is(created.builtin, false);
  const names = ((await root.listPolicies()) as Record<string, unknown>[]).map((p) => p.name);
  for (const n of ['adm-read-b', 'consoleAdmin', 'diagnostics', 'readonly', 'readwrite', 'writeonly']) {
    assert.ok(names.includes(n), n);
  }
  let e = await apiError(
    root.createPolicy('adm-bad', '{"Version":"2012-10-17","Statement":[{"Effect":"Allow"}]}'),
  );
  assert.is(e.code, 'MalformedPolicy');
  assert.is(e.status, 400);
  assert.ok(
    e.message.length > 0 && e.message !== 'The policy is not valid.',
    `the parser says why: ${e.message}`,
  );
  e = await apiError(root.createPolicy('adm-bad', 'not json'));
  assert.is(e.code, 'MalformedPolicy');

  await root.addUser({ accessKey: 'adm-p1', secretKey: 'adm-p1-secret' });
  assert.equal(await root.attachPolicies(['adm-read-b'], { user: 'adm-p1' }), {
    user: 'adm-p1',
    policies: ['adm-read-b'],
  });
  assert.equal(((await root.policyInfo('adm-read-b')) as Record<string, unknown>).users, ['adm-p1']);
  const s3 = s3ClientFor(srv, { accessKeyId: 'adm-p1', secretAccessKey: 'adm-p1-secret' });
  await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));
  e = await apiError(root.removePolicy('adm-read-b'));
  assert.is(e.code, 'DeleteConflict');
  assert.is(e.status, 409);
  e = await apiError(root.attachPolicies(['no-such-policy'], { user: 'adm-p1' }));
  assert.is(e.code, 'NoSuchPolicy');
  e = await apiError(root.removePolicy('readwrite'));
  assert.is(e.code, 'InvalidArgument');
  assert.equal(await root.detachPolicies(['adm-read-b'], { user: 'adm-p1' }), {
    user: 'adm-p1',
    policies: [],
  });
  await root.removePolicy('adm-read-b');
  e = await apiError(root.policyInfo('adm-read-b'));
  assert.is(e.code, 'NoSuchPolicy');
});

test('service accounts: an admin adds one for a user; info and list never show the secret; edit; remove', async () => {
  await root.addUser({ accessKey: 'adm-s1', secretKey: 'adm-s1-secret', policies: ['readwrite'] });
  const a = (await root.addServiceAccount({
    user: 'adm-s1',
    policy: JSON.stringify(READ_B),
    name: 'backup',
    expiresAt: new Date(Date.now() + 86400_000).toISOString(),
  })) as Record<string, string>;
  assert.match(a.accessKey!, /^[A-Z0-9]{20}$/);
  assert.is(a.secretKey!.length, 40);
  assert.is(a.parent, 'adm-s1');
  const info = (await root.serviceAccountInfo(a.accessKey!)) as Record<string, unknown>;
  assert.not.ok('secretKey' in info);
  assert.ok(info.policy);
  const listed = (await root.listServiceAccounts({ user: 'adm-s1' })) as Record<string, unknown>[];
  assert.equal(
    listed.map((x) => x.accessKey),
    [a.accessKey],
  );
  assert.not.ok(JSON.stringify(listed).includes(a.secretKey!));

  const s3 = s3ClientFor(srv, { accessKeyId: a.accessKey!, secretAccessKey: a.secretKey! });
  await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));
  const edited = (await root.updateServiceAccount(a.accessKey!, {
    policy: null,
    expiresAt: null,
    name: 'b2',
  })) as Record<string, unknown>;
  assert.is(edited.policy, undefined);
  assert.is(edited.expiresAt, undefined);
  assert.is(edited.name, 'b2');
  await root.updateServiceAccount(a.accessKey!, { status: 'disabled' });
  try {
    await s3.send(new GetObjectCommand({ Bucket: 'adm-b', Key: 'k' }));
    assert.unreachable('disabled');
  } catch (e) {
    assert.ok(e instanceof S3ServiceException);
    assert.is(e.name, 'InvalidAccessKeyId');
  }
  await root.removeServiceAccount(a.accessKey!);
  const e = await apiError(root.serviceAccountInfo(a.accessKey!));
  assert.is(e.code, 'NoSuchServiceAccount');
  assert.is(e.status, 404);
});

test('a user manages its own service accounts without admin rights, but not anyone else', async () => {
  await root.addUser({ accessKey: 'adm-self', secretKey: 'adm-self-secret', policies: ['readonly'] });
  await root.addUser({ accessKey: 'adm-other', secretKey: 'adm-other-secret' });
  const me = client('adm-self', 'adm-self-secret');
  const mine = (await me.addServiceAccount({ name: 'mine' })) as Record<string, string>;
  assert.is(mine.parent, 'adm-self');
  assert.equal(
    ((await me.listServiceAccounts()) as Record<string, unknown>[]).map((x) => x.accessKey),
    [mine.accessKey],
  );
  await me.updateServiceAccount(mine.accessKey!, { description: 'mine, edited' });
  let e = await apiError(me.addServiceAccount({ user: 'adm-other' }));
  assert.is(e.code, 'AccessDenied');
  assert.is(e.status, 403);
  const theirs = (await root.addServiceAccount({ user: 'adm-other' })) as Record<string, string>;
  e = await apiError(me.serviceAccountInfo(theirs.accessKey!));
  assert.is(e.code, 'AccessDenied');
  e = await apiError(me.removeServiceAccount(theirs.accessKey!));
  assert.is(e.code, 'AccessDenied');
  e = await apiError(me.listServiceAccounts({ user: 'adm-other' }));
  assert.is(e.code, 'AccessDenied');
  await me.removeServiceAccount(mine.accessKey!);
});

test('a non-admin user gets 403 AccessDenied as JSON; a consoleAdmin user is allowed', async () => {
  await root.addUser({ accessKey: 'adm-plain', secretKey: 'adm-plain-secret', policies: ['readwrite'] });
  const plain = client('adm-plain', 'adm-plain-secret');
  for (const call of [
    () => plain.listUsers(),
    () => plain.addUser({ accessKey: 'adm-sneaky', secretKey: 'sneaky-secret' }),
    () => plain.listPolicies(),
    () => plain.setUserStatus('adm-plain', 'disabled'),
    () => plain.serverInfo(),
    () => plain.heal(),
  ]) {
    const e = await apiError(call());
    assert.is(e.code, 'AccessDenied');
    assert.is(e.status, 403);
    assert.match(e.message, /admin:/);
  }
  const res = await signedFetch(
    { ...srv, accessKey: 'adm-plain', secretKey: 'adm-plain-secret' },
    'GET',
    '/cairn/admin/v1/users',
  );
  assert.is(res.status, 403);
  assert.is(res.headers.get('content-type'), 'application/json');
  const body = (await res.json()) as Record<string, string>;
  assert.equal(Object.keys(body), ['Code', 'Message', 'RequestId']);
  assert.is(body.Code, 'AccessDenied');
  assert.is(body.RequestId, res.headers.get('x-amz-request-id'));

  await root.addUser({ accessKey: 'adm-boss', secretKey: 'adm-boss-secret', policies: ['consoleAdmin'] });
  const boss = client('adm-boss', 'adm-boss-secret');
  assert.ok(Array.isArray(await boss.listUsers()));
  await boss.addUser({ accessKey: 'adm-by-boss', secretKey: 'by-boss-secret' });
  // diagnostics allows server info and nothing else.
  await root.addUser({ accessKey: 'adm-diag', secretKey: 'adm-diag-secret', policies: ['diagnostics'] });
  const diag = client('adm-diag', 'adm-diag-secret');
  assert.ok(((await diag.serverInfo()) as Record<string, unknown>).version);
  assert.is((await apiError(diag.listUsers())).code, 'AccessDenied');
});

test('unsigned, unknown keys, bad signatures, unknown paths and methods get JSON errors', async () => {
  let res = await fetch(`${srv.endpoint}/cairn/admin/v1/users`);
  assert.is(res.status, 403);
  assert.is(((await res.json()) as Record<string, string>).Code, 'AccessDenied');
  let e = await apiError(client('no-such-key', 'whatever-secret').listUsers());
  assert.is(e.code, 'InvalidAccessKeyId');
  assert.is(e.status, 403);
  e = await apiError(client(srv.accessKey, 'wrong-secret-1').listUsers());
  assert.is(e.code, 'SignatureDoesNotMatch');
  assert.is(e.status, 403);
  e = await apiError(root.request('GET', '/nothing-here'));
  assert.is(e.code, 'NotFound');
  assert.is(e.status, 404);
  e = await apiError(root.request('PATCH', '/users'));
  assert.is(e.code, 'MethodNotAllowed');
  assert.is(e.status, 405);
  e = await apiError(root.request('POST', '/users', { body: '{not json' }));
  assert.is(e.code, 'InvalidArgument');
  // A body that does not match its signed hash.
  res = await signedFetch(srv, 'POST', '/cairn/admin/v1/users', {
    body: '{}',
    headers: { 'x-amz-content-sha256': 'a'.repeat(64) },
  });
  assert.is(res.status, 400);
  assert.is(((await res.json()) as Record<string, string>).Code, 'XAmzContentSHA256Mismatch');
});

test('server info lists every drive with its state and space', async () => {
  const info = (await root.serverInfo()) as {
    version: string;
    deploymentId: string;
    uptimeSeconds: number;
    sets: {
      set: number;
      parity: number;
      drives: { state: string; total: number; free: number; endpoint: string }[];
    }[];
    drivesOnline: number;
  };
  assert.is(info.version, (require('../../package.json') as { version: string }).version);
  assert.is(info.deploymentId, srv.server.objects.deploymentId);
  assert.ok(info.uptimeSeconds >= 0);
  assert.is(info.sets.length, 1);
  assert.is(info.sets[0]!.drives.length, 4);
  assert.is(info.drivesOnline, 4);
  for (const d of info.sets[0]!.drives) {
    assert.is(d.state, 'ok');
    assert.ok(d.total > 0 && d.free > 0 && d.free <= d.total);
    assert.ok(
      srv.roots.some((r) => d.endpoint.includes(path.basename(r))),
      d.endpoint,
    );
  }
});

test('heal rebuilds an object whose shard a drive lost, for a bucket or for everything', async () => {
  await srv.s3.send(new PutObjectCommand({ Bucket: 'adm-b', Key: 'heal/me', Body: 'x'.repeat(300_000) }));
  const dir = path.join(srv.roots[2]!, 'adm-b', 'heal', 'me');
  assert.ok((await readdir(dir)).length > 0);
  await rm(dir, { recursive: true, force: true });
  const dry = (await root.heal({ bucket: 'adm-b', prefix: 'heal/', dryRun: true })) as {
    buckets: { objects: number; healedVersions: number }[];
  };
  assert.is(dry.buckets[0]!.objects, 1);
  assert.is(dry.buckets[0]!.healedVersions, 1);
  assert.is(
    (await readdir(path.join(srv.roots[2]!, 'adm-b', 'heal')).catch(() => [])).length,
    0,
    'dry run wrote nothing',
  );
  const done = (await root.heal({ bucket: 'adm-b', prefix: 'heal/' })) as {
    buckets: { bucket: string; healedVersions: number; results: { key: string }[] }[];
  };
  assert.is(done.buckets[0]!.bucket, 'adm-b');
  assert.is(done.buckets[0]!.healedVersions, 1);
  assert.equal(
    done.buckets[0]!.results.map((r) => r.key),
    ['heal/me'],
  );
  assert.ok((await readdir(dir)).length > 0, 'rebuilt');
  const all = (await root.heal()) as {
    buckets: { bucket: string }[];
    system: { bucket: string; objects: number };
  };
  assert.ok(all.buckets.some((b) => b.bucket === 'adm-b'));
  assert.ok(all.system.objects > 0, 'the IAM documents are looked at too');
  const e = await apiError(root.heal({ bucket: 'no-such-bucket' }));
  assert.is(e.code, 'NoSuchBucket');
  assert.is(e.status, 404);
});

test('cairn admin --json: user add, user list, policy list; errors exit 1 with the JSON error', async () => {
  let r = await cli(['user', 'add', 'adm-cli', 'adm-cli-secret', '--policy', 'readonly', '--json']);
  assert.is(r.code, 0, r.stderr);
  const made = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.is(made.accessKey, 'adm-cli');
  assert.is(made.secretKey, 'adm-cli-secret');
  r = await cli(['--json', 'user', 'list']);
  assert.is(r.code, 0, r.stderr);
  assert.ok((JSON.parse(r.stdout) as Record<string, unknown>[]).some((u) => u.accessKey === 'adm-cli'));
  r = await cli(['policy', 'list']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^POLICY\s+BUILT-IN\s+USERS\s+GROUPS\n/);
  assert.match(r.stdout, /\nreadonly\s+yes\s+\S*adm-cli/);
  r = await cli(['user', 'info', 'nobody-at-all', '--json']);
  assert.is(r.code, 1);
  assert.is((JSON.parse(r.stdout) as Record<string, string>).Code, 'NoSuchUser');
  assert.match(r.stderr, /^cairn admin: NoSuchUser: /);
  r = await cli(['user', 'list'], { CAIRN_ROOT_USER: '', CAIRN_ROOT_PASSWORD: '' });
  assert.is(r.code, 2);
  assert.match(r.stderr, /no credentials/);
});

test('cairn admin: tables for people (in process, CAIRN_ACCESS_KEY from the flags)', async () => {
  const flags = [
    'admin',
    '--endpoint',
    srv.endpoint,
    '--access-key',
    srv.accessKey,
    '--secret-key',
    srv.secretKey,
  ];
  let r = await run([...flags, 'group', 'add', 'adm-tbl', 'adm-cli']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^Group:\s+adm-tbl\nStatus:\s+enabled\nMembers:\s+adm-cli\n/);
  r = await run([...flags, 'info']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /Drives:\s+4 online, 0 offline/);
  assert.match(r.out, /\nSET\s+DRIVE\s+ENDPOINT\s+STATE\s+TOTAL\s+FREE\n1\s+1\s+/);
  r = await run([
    ...flags,
    'svcacct',
    'add',
    '--user',
    'adm-cli',
    '--access-key',
    'adm-cli-svc',
    '--expiry',
    '24h',
  ]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /^Access key:\s+adm-cli-svc\nSecret key:\s+\S{40}\nParent:\s+adm-cli\n/);
  r = await run([...flags, 'svcacct', 'list', '--user', 'adm-cli']);
  assert.match(
    r.out,
    /^ACCESS KEY\s+PARENT\s+STATUS\s+POLICY\s+EXPIRES\s+NAME\nadm-cli-svc\s+adm-cli\s+enabled\s+inherited\s+\d{4}-/,
  );
  r = await run([...flags, 'svcacct', 'edit', 'adm-cli-svc', '--no-expiry']);
  assert.match(r.out, /Expires:\s+never/);
  r = await run([...flags, 'policy', 'attach', 'writeonly', '--user', 'adm-cli']);
  assert.is(r.out, 'user adm-cli: policies readonly,writeonly\n');
  r = await run([...flags, 'policy', 'attach', 'writeonly']);
  assert.is(r.code, 2);
  assert.match(r.err, /--user or --group/);
  r = await run([...flags, 'user', 'remove', 'adm-cli']);
  assert.is(r.out, 'removed\n');
});

test('cairn admin --help lists every command, and each command has its own help', async () => {
  const top = await run(['admin', '--help']);
  assert.is(top.code, 0);
  for (const c of [
    'user',
    'group',
    'policy',
    'svcacct',
    'info',
    'heal',
    '--endpoint',
    '--access-key',
    '--secret-key',
    '--json',
  ]) {
    assert.ok(top.out.includes(c), `${c} in admin --help`);
  }
  const sub: Record<string, string[]> = {
    user: ['add', 'list', 'info', 'enable', 'disable', 'remove'],
    group: ['add', 'remove', 'list', 'info', 'enable', 'disable'],
    policy: ['create', 'list', 'info', 'remove', 'attach', 'detach'],
    svcacct: ['add', 'list', 'info', 'edit', 'enable', 'disable', 'remove'],
  };
  for (const [group, cmds] of Object.entries(sub)) {
    const h = await run(['admin', group, '--help']);
    assert.is(h.code, 0);
    for (const c of cmds) {
      assert.match(h.out, new RegExp(`\\n  ${c}\\b`), `${group} ${c} in ${group} --help`);
      const leaf = await run(['admin', group, c, '--help']);
      assert.is(leaf.code, 0);
      assert.match(leaf.out, new RegExp(`^Usage: cairn admin ${group} ${c} `));
      assert.ok(leaf.out.includes('--json'));
    }
  }
  const heal = await run(['admin', 'heal', '--help']);
  for (const o of ['--prefix', '--dry-run', '--deep', '[BUCKET]']) assert.ok(heal.out.includes(o), o);
  const svcAdd = await run(['admin', 'svcacct', 'add', '--help']);
  for (const o of [
    '--user',
    '--access-key',
    '--secret-key',
    '--policy',
    '--expiry',
    '--name',
    '--description',
  ]) {
    assert.ok(svcAdd.out.includes(o), o);
  }
  const cairn = await run(['--help']);
  assert.match(cairn.out, /\n {2}admin /);
});

test('helpers: expiry durations and dates; tables pad their columns', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  assert.is(parseExpiry('24h', now), '2030-01-02T00:00:00.000Z');
  assert.is(parseExpiry('30m', now), '2030-01-01T00:30:00.000Z');
  assert.is(parseExpiry('7d', now), '2030-01-08T00:00:00.000Z');
  assert.is(parseExpiry('2031-02-03T04:05:06Z', now), '2031-02-03T04:05:06.000Z');
  assert.throws(() => parseExpiry('soon', now));
  assert.is(
    table(
      ['A', 'BB'],
      [
        ['xxx', 'y'],
        ['z', undefined],
      ],
    ),
    'A    BB\nxxx  y\nz\n',
  );
});

test.run();
