/**
 * The `aws` CLI (`aws s3api`, `aws s3`) against a real server for versioning, Object Lock and bucket
 * policies: version ids from put-object, list-object-versions paged by key and version-id markers,
 * delete markers and their removal, a GOVERNANCE default retention that refuses deletes unless
 * bypassed, retention and legal hold per version, and a bucket policy put, read and deleted.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import * as assert from 'uvu/assert';
import { AdminClient } from '../../src/cli/admin';
import { startServer, type TestServer } from '../helpers/server';
import { clientEnv, clientSuite, mustRun, type RunResult, removeAll, run, tempDir } from './tools';

const VB = 'aws-versions';
const LB = 'aws-locked';
const PB = 'aws-policy';
const ODD = 'other/odd é & + %20.txt';

interface Version {
  Key: string;
  VersionId: string;
  IsLatest: boolean;
  Size?: number;
  ETag?: string;
}
interface Listing {
  Versions?: Version[];
  DeleteMarkers?: Version[];
  NextToken?: string;
}

clientSuite('aws CLI: versioning, Object Lock, policies', 'aws', 'pip install awscli', (test, version) => {
  let srv: TestServer;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let userEnv: NodeJS.ProcessEnv;

  const argv = (args: string[]) => ['--endpoint-url', srv.endpoint, ...args];
  /** Runs `aws ARGS`, exit 0 required; the JSON it printed (undefined when it printed nothing). */
  async function aws<T = Record<string, unknown>>(args: string[], e = env): Promise<T> {
    const r = await mustRun('aws', argv(args), { env: e, timeoutMs: 60_000 });
    return (r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout)) as T;
  }
  /** Runs `aws ARGS`, which must fail: its exit code and the error code it printed. */
  async function awsFails(args: string[], e = env): Promise<{ r: RunResult; code: string }> {
    const r = await run('aws', argv(args), { env: e, timeoutMs: 60_000 });
    assert.is.not(r.code, 0, `aws ${args.join(' ')} should have failed:\n${r.stdout}`);
    // botocore: "An error occurred (AccessDenied) when calling the DeleteObject operation: ..."
    const m = /An error occurred \(([^)]+)\) when calling/.exec(r.stderr);
    assert.ok(m, r.stderr);
    return { r, code: m![1]! };
  }
  const sdkPut = (Bucket: string, Key: string, Body: string) =>
    srv.s3.send(new PutObjectCommand({ Bucket, Key, Body }));
  let bodies = 0;
  const putObject = async (bucket: string, key: string, body: string) => {
    const file = path.join(work, `body-${++bodies}`);
    await writeFile(file, body);
    return aws<{ VersionId?: string; ETag: string }>([
      's3api',
      'put-object',
      '--bucket',
      bucket,
      '--key',
      key,
      '--body',
      file,
    ]);
  };
  const getObject = async (bucket: string, key: string, versionId?: string, name = 'out') => {
    const out = path.join(work, name);
    const meta = await aws<{ VersionId?: string; ContentLength: number }>([
      's3api',
      'get-object',
      '--bucket',
      bucket,
      '--key',
      key,
      ...(versionId ? ['--version-id', versionId] : []),
      out,
    ]);
    return { meta, body: await readFile(out, 'utf8') };
  };
  const listVersions = (bucket: string, extra: string[] = []) =>
    aws<Listing>(['s3api', 'list-object-versions', '--bucket', bucket, ...extra]);

  async function writeConfig(dir: string, accessKey: string, secretKey: string) {
    await mkdir(path.join(dir, 'home'), { recursive: true });
    const config = path.join(dir, 'config');
    const credentials = path.join(dir, 'credentials');
    await writeFile(
      config,
      `[default]\nregion = ${srv.region}\noutput = json\ns3 =\n    addressing_style = path\n    signature_version = s3v4\n`,
    );
    await writeFile(
      credentials,
      `[default]\naws_access_key_id = ${accessKey}\naws_secret_access_key = ${secretKey}\n`,
    );
    return clientEnv(path.join(dir, 'home'), {
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
      // One attempt: a refused call is reported as the server answered it.
      AWS_MAX_ATTEMPTS: '1',
    });
  }

  test.before(async () => {
    console.log(`\n  aws CLI: ${version}`);
    srv = await startServer();
    work = await tempDir('cairn-aws-versions-');
    env = await writeConfig(path.join(work, 'root'), srv.accessKey, srv.secretKey);
    // A user allowed everything but s3:BypassGovernanceRetention, made through the admin API.
    const admin = new AdminClient({
      endpoint: srv.endpoint,
      accessKey: srv.accessKey,
      secretKey: srv.secretKey,
      region: srv.region,
    });
    await admin.createPolicy(
      'no-bypass',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] },
          { Effect: 'Deny', Action: ['s3:BypassGovernanceRetention'], Resource: ['arn:aws:s3:::*'] },
        ],
      }),
    );
    await admin.addUser({
      accessKey: 'aws-nobypass',
      secretKey: 'aws-nobypass-secret',
      policies: ['no-bypass'],
    });
    userEnv = await writeConfig(path.join(work, 'user'), 'aws-nobypass', 'aws-nobypass-secret');
  });

  test.after(async () => {
    await srv?.stop();
    await removeAll(work);
  });

  test('put-bucket-versioning Enabled; get-bucket-versioning reports it', async () => {
    // Setup that is not under test goes through the SDK: each CLI run costs half a second of CPU.
    await srv.s3.send(new CreateBucketCommand({ Bucket: VB }));
    const before = await aws(['s3api', 'get-bucket-versioning', '--bucket', VB]);
    // An empty VersioningConfiguration: the CLI prints nothing (or an empty object).
    assert.equal(before ?? {}, {});
    await aws([
      's3api',
      'put-bucket-versioning',
      '--bucket',
      VB,
      '--versioning-configuration',
      'Status=Enabled',
    ]);
    const after = await aws(['s3api', 'get-bucket-versioning', '--bucket', VB]);
    assert.equal(after, { Status: 'Enabled' });
  });

  const ids: string[] = [];
  let everything: string[] = [];

  test('put-object three times gives three version ids; get-object --version-id reads each', async () => {
    for (const body of ['one', 'two', 'three']) {
      const r = await putObject(VB, 'doc.txt', body);
      assert.type(r.VersionId, 'string');
      assert.ok(!ids.includes(r.VersionId!), 'version ids are unique');
      ids.push(r.VersionId!);
    }
    // Separate output files: the reads run side by side.
    const [latest, first, second] = await Promise.all([
      getObject(VB, 'doc.txt', undefined, 'latest'),
      getObject(VB, 'doc.txt', ids[0], 'v0'),
      getObject(VB, 'doc.txt', ids[1], 'v1'),
    ]);
    assert.is(latest.body, 'three');
    assert.is(latest.meta.VersionId, ids[2]);
    assert.is(first.body, 'one');
    assert.is(first.meta.VersionId, ids[0]);
    assert.is(second.body, 'two');
    assert.is(second.meta.VersionId, ids[1]);
  });

  test('list-object-versions lists every version, newest first, and filters by --prefix', async () => {
    await sdkPut(VB, 'other/a.txt', 'a');
    await sdkPut(VB, 'other/a.txt', 'aa');
    await sdkPut(VB, 'other/b.txt', 'b');
    // The CLI asks for encoding-type=url and decodes keys and NextKeyMarker: a name that needs it.
    await sdkPut(VB, ODD, 'odd');
    const all = await listVersions(VB);
    everything = all.Versions!.map((v) => `${v.Key}@${v.VersionId}`);
    assert.equal(
      all.Versions!.slice(0, 3).map((v) => v.VersionId),
      [ids[2], ids[1], ids[0]],
    );
    assert.equal(
      all.Versions!.map((v) => `${v.Key}:${v.IsLatest}:${v.Size}`),
      [
        'doc.txt:true:5',
        'doc.txt:false:3',
        'doc.txt:false:3',
        'other/a.txt:true:2',
        'other/a.txt:false:1',
        'other/b.txt:true:1',
        `${ODD}:true:3`,
      ],
    );
    assert.is(all.DeleteMarkers, undefined);
    const other = await listVersions(VB, ['--prefix', 'other/']);
    assert.equal(
      other.Versions!.map((v) => v.Key),
      ['other/a.txt', 'other/a.txt', 'other/b.txt', ODD],
    );
  });

  test('list-object-versions paged (--page-size, --max-items/--starting-token) sees each version once, in order', async () => {
    const all = everything;
    assert.is(all.length, 7);
    // --page-size 1 makes the CLI send max-keys=1 and resume from each page's NextKeyMarker and
    // NextVersionIdMarker, several times inside the versions of one key.
    const paged = await listVersions(VB, ['--page-size', '1']);
    assert.equal(
      paged.Versions!.map((v) => `${v.Key}@${v.VersionId}`),
      all,
    );
    // --max-items stops and hands back a token that encodes the markers; resume from it.
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page: Listing = await listVersions(VB, [
        '--max-items',
        '3',
        '--page-size',
        '2',
        ...(token ? ['--starting-token', token] : []),
      ]);
      for (const v of page.Versions ?? []) seen.push(`${v.Key}@${v.VersionId}`);
      token = page.NextToken;
      pages++;
      assert.ok(pages <= 6, 'pagination does not end');
    } while (token);
    assert.equal(seen, all);
    assert.is(pages, 3);
  });

  test('delete-object writes a delete marker; deleting the marker by --version-id restores the key', async () => {
    const del = await aws<{ DeleteMarker: boolean; VersionId: string }>([
      's3api',
      'delete-object',
      '--bucket',
      VB,
      '--key',
      'doc.txt',
    ]);
    assert.is(del.DeleteMarker, true);
    assert.type(del.VersionId, 'string');
    const [missing, listed] = await Promise.all([
      awsFails(['s3api', 'get-object', '--bucket', VB, '--key', 'doc.txt', path.join(work, 'x')]),
      listVersions(VB, ['--prefix', 'doc.txt']),
    ]);
    assert.is(missing.code, 'NoSuchKey');
    assert.equal(
      listed.DeleteMarkers!.map((m) => [m.Key, m.VersionId, m.IsLatest]),
      [['doc.txt', del.VersionId, true]],
    );
    assert.equal(
      listed.Versions!.map((v) => [v.VersionId, v.IsLatest]),
      [
        [ids[2], false],
        [ids[1], false],
        [ids[0], false],
      ],
    );
    const undo = await aws<{ DeleteMarker: boolean; VersionId: string }>([
      's3api',
      'delete-object',
      '--bucket',
      VB,
      '--key',
      'doc.txt',
      '--version-id',
      del.VersionId,
    ]);
    assert.is(undo.DeleteMarker, true);
    assert.is(undo.VersionId, del.VersionId);
    assert.is((await getObject(VB, 'doc.txt')).body, 'three');
  });

  test('delete-object --version-id removes that version for good', async () => {
    const r = await aws<{ VersionId: string }>([
      's3api',
      'delete-object',
      '--bucket',
      VB,
      '--key',
      'doc.txt',
      '--version-id',
      ids[0]!,
    ]);
    assert.is(r.VersionId, ids[0]);
    const [left, e] = await Promise.all([
      listVersions(VB, ['--prefix', 'doc.txt']),
      awsFails([
        's3api',
        'get-object',
        '--bucket',
        VB,
        '--key',
        'doc.txt',
        '--version-id',
        ids[0]!,
        path.join(work, 'x'),
      ]),
    ]);
    assert.equal(
      left.Versions!.map((v) => v.VersionId),
      [ids[2], ids[1]],
    );
    assert.is(e.code, 'NoSuchVersion');
  });

  test('aws s3 cp then aws s3 rm on a versioned bucket leaves the versions behind a delete marker', async () => {
    const file = path.join(work, 'cp.txt');
    await sdkPut(VB, 'cp/file.txt', 'an older version');
    await writeFile(file, 'copied up');
    await mustRun('aws', argv(['s3', 'cp', file, `s3://${VB}/cp/file.txt`]), { env });
    const rm = await mustRun('aws', argv(['s3', 'rm', `s3://${VB}/cp/file.txt`]), { env });
    assert.match(rm.stdout, /delete: s3:\/\/aws-versions\/cp\/file\.txt/);
    const listed = await listVersions(VB, ['--prefix', 'cp/']);
    assert.is(listed.Versions!.length, 2);
    assert.ok(listed.Versions!.every((v) => !v.IsLatest));
    assert.is(listed.DeleteMarkers!.length, 1);
    assert.is(listed.DeleteMarkers![0]!.IsLatest, true);
  });

  test('create-bucket --object-lock-enabled-for-bucket; put/get-object-lock-configuration GOVERNANCE 1 day', async () => {
    await aws(['s3api', 'create-bucket', '--bucket', LB, '--object-lock-enabled-for-bucket']);
    const versioning = await srv.s3.send(new GetBucketVersioningCommand({ Bucket: LB }));
    assert.is(versioning.Status, 'Enabled');
    // A bucket made with Object Lock has a configuration without a rule.
    const bare = await aws<{ ObjectLockConfiguration: unknown }>([
      's3api',
      'get-object-lock-configuration',
      '--bucket',
      LB,
    ]);
    assert.equal(bare.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' });
    const cfg = {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
    };
    await aws([
      's3api',
      'put-object-lock-configuration',
      '--bucket',
      LB,
      '--object-lock-configuration',
      JSON.stringify(cfg),
    ]);
    const got = await aws<{ ObjectLockConfiguration: unknown }>([
      's3api',
      'get-object-lock-configuration',
      '--bucket',
      LB,
    ]);
    assert.equal(got.ObjectLockConfiguration, cfg);
    const unlocked = await awsFails(['s3api', 'get-object-lock-configuration', '--bucket', VB]);
    assert.is(unlocked.code, 'ObjectLockConfigurationNotFoundError');
  });

  let lockedId = '';

  test('a version under the default GOVERNANCE retention: delete by --version-id is AccessDenied', async () => {
    const put = await putObject(LB, 'kept.txt', 'keep me');
    lockedId = put.VersionId!;
    const ret = await aws<{ Retention: { Mode: string; RetainUntilDate: string } }>([
      's3api',
      'get-object-retention',
      '--bucket',
      LB,
      '--key',
      'kept.txt',
      '--version-id',
      lockedId,
    ]);
    assert.is(ret.Retention.Mode, 'GOVERNANCE');
    const until = Date.parse(ret.Retention.RetainUntilDate);
    assert.ok(Math.abs(until - (Date.now() + 86_400_000)) < 120_000, ret.Retention.RetainUntilDate);
    const e = await awsFails([
      's3api',
      'delete-object',
      '--bucket',
      LB,
      '--key',
      'kept.txt',
      '--version-id',
      lockedId,
    ]);
    assert.is(e.code, 'AccessDenied');
    assert.match(e.r.stderr, /object lock/i);
    // A delete without a version id only writes a delete marker: allowed.
    const marker = await aws<{ DeleteMarker: boolean; VersionId: string }>([
      's3api',
      'delete-object',
      '--bucket',
      LB,
      '--key',
      'kept.txt',
    ]);
    assert.is(marker.DeleteMarker, true);
    await srv.s3.send(new DeleteObjectCommand({ Bucket: LB, Key: 'kept.txt', VersionId: marker.VersionId }));
    const kept = await srv.s3.send(new GetObjectCommand({ Bucket: LB, Key: 'kept.txt' }));
    assert.is(kept.VersionId, lockedId);
    assert.is(await kept.Body!.transformToString(), 'keep me');
  });

  test('--bypass-governance-retention: refused without s3:BypassGovernanceRetention, allowed with it', async () => {
    const put = await sdkPut(LB, 'bypass.txt', 'bye');
    const args = [
      's3api',
      'delete-object',
      '--bucket',
      LB,
      '--key',
      'bypass.txt',
      '--version-id',
      put.VersionId!,
      '--bypass-governance-retention',
    ];
    const e = await awsFails(args, userEnv);
    assert.is(e.code, 'AccessDenied');
    await aws(args);
  });

  test('put-object-retention and get-object-retention; shortening GOVERNANCE needs the bypass', async () => {
    const later = new Date(Date.now() + 3 * 86_400_000);
    later.setUTCMilliseconds(0);
    await aws([
      's3api',
      'put-object-retention',
      '--bucket',
      LB,
      '--key',
      'kept.txt',
      '--version-id',
      lockedId,
      '--retention',
      JSON.stringify({ Mode: 'GOVERNANCE', RetainUntilDate: later.toISOString() }),
    ]);
    const got = await aws<{ Retention: { Mode: string; RetainUntilDate: string } }>([
      's3api',
      'get-object-retention',
      '--bucket',
      LB,
      '--key',
      'kept.txt',
      '--version-id',
      lockedId,
    ]);
    assert.is(got.Retention.Mode, 'GOVERNANCE');
    assert.is(Date.parse(got.Retention.RetainUntilDate), later.getTime());
    const sooner = JSON.stringify({
      Mode: 'GOVERNANCE',
      RetainUntilDate: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const base = [
      's3api',
      'put-object-retention',
      '--bucket',
      LB,
      '--key',
      'kept.txt',
      '--version-id',
      lockedId,
    ];
    const e = await awsFails([...base, '--retention', sooner]);
    assert.is(e.code, 'AccessDenied');
    await aws([...base, '--retention', sooner, '--bypass-governance-retention']);
  });

  test('put-object-legal-hold ON blocks a delete even with the bypass; OFF releases it', async () => {
    const put = await sdkPut(LB, 'held.txt', 'held');
    const id = put.VersionId!;
    const hold = (status: string) =>
      aws([
        's3api',
        'put-object-legal-hold',
        '--bucket',
        LB,
        '--key',
        'held.txt',
        '--version-id',
        id,
        '--legal-hold',
        `Status=${status}`,
      ]);
    await hold('ON');
    const got = await aws<{ LegalHold: { Status: string } }>([
      's3api',
      'get-object-legal-hold',
      '--bucket',
      LB,
      '--key',
      'held.txt',
      '--version-id',
      id,
    ]);
    assert.equal(got.LegalHold, { Status: 'ON' });
    const del = [
      's3api',
      'delete-object',
      '--bucket',
      LB,
      '--key',
      'held.txt',
      '--version-id',
      id,
      '--bypass-governance-retention',
    ];
    const e = await awsFails(del);
    assert.is(e.code, 'AccessDenied');
    await hold('OFF');
    await aws(del);
  });

  test('put-bucket-policy, get-bucket-policy and delete-bucket-policy; anonymous reads follow it', async () => {
    await srv.s3.send(new CreateBucketCommand({ Bucket: PB }));
    await sdkPut(PB, 'public/hello.txt', 'hello');
    const url = `${srv.endpoint}/${PB}/public/hello.txt`;
    assert.is((await fetch(url)).status, 403);
    const missing = await awsFails(['s3api', 'get-bucket-policy', '--bucket', PB]);
    assert.is(missing.code, 'NoSuchBucketPolicy');
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:GetObject'],
          Resource: [`arn:aws:s3:::${PB}/public/*`],
        },
      ],
    });
    await aws(['s3api', 'put-bucket-policy', '--bucket', PB, '--policy', policy]);
    const got = await aws<{ Policy: string }>(['s3api', 'get-bucket-policy', '--bucket', PB]);
    assert.equal(JSON.parse(got.Policy), JSON.parse(policy));
    const status = await aws<{ PolicyStatus: { IsPublic: boolean } }>([
      's3api',
      'get-bucket-policy-status',
      '--bucket',
      PB,
    ]);
    assert.is(status.PolicyStatus.IsPublic, true);
    const anon = await fetch(url);
    assert.is(anon.status, 200);
    assert.is(await anon.text(), 'hello');
    const write = await fetch(url, { method: 'PUT', body: 'x' });
    assert.is(write.status, 403);
    const bad = await awsFails([
      's3api',
      'put-bucket-policy',
      '--bucket',
      PB,
      '--policy',
      '{"Version":"2012-10-17"',
    ]);
    assert.is(bad.code, 'MalformedPolicy');
    await aws(['s3api', 'delete-bucket-policy', '--bucket', PB]);
    assert.is((await fetch(url)).status, 403);
  });
});
