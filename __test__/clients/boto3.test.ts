/**
 * boto3 (the AWS SDK for Python) against a real server for versioning, Object Lock, bucket policies,
 * STS and IAM refusals. Each test runs one step of a Python script (written to a temporary directory
 * from the string below) that talks to the server through boto3 and prints one JSON document, which
 * the test asserts on. Refused calls are caught as botocore `ClientError`s and reported by their
 * error code, as a Python program sees them.
 *
 * The script is also the "client" `clientSuite` looks for: `script --version` imports boto3, so a
 * machine without boto3 fails these tests saying so (or skips them with CAIRN_SKIP_CLIENTS=1).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { AdminClient } from '../../src/cli/admin';
import { startServer, type TestServer } from '../helpers/server';
import { clientEnv, clientSuite, mustRun, removeAll } from './tools';

const SCRIPT = `#!/usr/bin/env python3
"""Cairn client test: one boto3 flow per step; prints a JSON document."""
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import boto3
import botocore
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

if sys.argv[1:] == ["--version"]:
    print(f"boto3 {boto3.__version__} botocore {botocore.__version__}")
    sys.exit(0)

ENDPOINT = os.environ["CAIRN_ENDPOINT"]
REGION = os.environ["CAIRN_REGION"]
ROOT = (os.environ["CAIRN_ROOT_KEY"], os.environ["CAIRN_ROOT_SECRET"])
NOBYPASS = ("b3-nobypass", "b3-nobypass-secret")
READONLY = ("b3-readonly", "b3-readonly-secret")
NOTHING = ("b3-nothing", "b3-nothing-secret")
# boto3 lists with encoding-type=url and decodes keys and markers: a key that needs it.
ODD = "zz odd é & + %20.txt"


def config(signed=True):
    kw = dict(
        region_name=REGION,
        s3={"addressing_style": "path"},
        retries={"max_attempts": 1, "mode": "standard"},
    )
    if signed:
        kw["signature_version"] = "s3v4"
    else:
        kw["signature_version"] = UNSIGNED
    return Config(**kw)


def s3(creds=ROOT, token=None):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        aws_access_key_id=creds[0],
        aws_secret_access_key=creds[1],
        aws_session_token=token,
        config=config(),
    )


def anonymous():
    return boto3.client("s3", endpoint_url=ENDPOINT, config=config(signed=False))


def error(fn, *args, **kw):
    """The error code (and HTTP status) of a call that must fail."""
    try:
        fn(*args, **kw)
    except ClientError as e:
        return {
            "code": e.response["Error"]["Code"],
            "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
            "message": e.response["Error"].get("Message", ""),
        }
    return {"code": None, "status": 200, "message": "the call succeeded"}


def body(c, **kw):
    return c.get_object(**kw)["Body"].read().decode()


def versioning():
    c = s3()
    b = "b3-versions"
    out = {}
    c.create_bucket(Bucket=b)
    out["before"] = {k: v for k, v in c.get_bucket_versioning(Bucket=b).items() if k != "ResponseMetadata"}
    c.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    out["status"] = c.get_bucket_versioning(Bucket=b).get("Status")
    ids = [c.put_object(Bucket=b, Key="doc", Body=t.encode())["VersionId"] for t in ("one", "two", "three")]
    c.put_object(Bucket=b, Key=ODD, Body=b"x")
    out["ids"] = ids
    out["bodies"] = [body(c, Bucket=b, Key="doc", VersionId=v) for v in ids]
    # A paginator with one entry a page: every page follows NextKeyMarker / NextVersionIdMarker.
    pages = c.get_paginator("list_object_versions").paginate(Bucket=b, PaginationConfig={"PageSize": 1})
    listed, requests = [], 0
    for page in pages:
        requests += 1
        for v in page.get("Versions", []):
            listed.append([v["Key"], v["VersionId"], v["IsLatest"]])
    out["paged"] = listed
    out["requests"] = requests
    marker = c.delete_object(Bucket=b, Key="doc")
    out["marker"] = {"DeleteMarker": marker.get("DeleteMarker"), "VersionId": marker.get("VersionId")}
    out["get_deleted"] = error(c.get_object, Bucket=b, Key="doc")
    out["head_deleted"] = error(c.head_object, Bucket=b, Key="doc")
    lv = c.list_object_versions(Bucket=b, Prefix="doc")
    out["markers"] = [[m["Key"], m["VersionId"], m["IsLatest"]] for m in lv.get("DeleteMarkers", [])]
    undo = c.delete_object(Bucket=b, Key="doc", VersionId=marker["VersionId"])
    out["undo"] = {"DeleteMarker": undo.get("DeleteMarker"), "VersionId": undo.get("VersionId")}
    out["restored"] = body(c, Bucket=b, Key="doc")
    c.delete_object(Bucket=b, Key="doc", VersionId=ids[0])
    out["no_such_version"] = error(c.get_object, Bucket=b, Key="doc", VersionId=ids[0])
    out["bad_version"] = error(c.get_object, Bucket=b, Key="doc", VersionId="not-a-version")
    # delete_objects with version ids (the batch form).
    r = c.delete_objects(
        Bucket=b,
        Delete={"Objects": [{"Key": "doc", "VersionId": ids[1]}, {"Key": ODD}]},
    )
    out["batch"] = sorted(
        [d["Key"], d.get("VersionId"), d.get("DeleteMarker", False)] for d in r.get("Deleted", [])
    )
    out["left"] = [v["VersionId"] for v in c.list_object_versions(Bucket=b, Prefix="doc").get("Versions", [])]
    return out


def lock():
    root, nobypass = s3(), s3(NOBYPASS)
    b = "b3-locked"
    out = {}
    root.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    root.put_object_lock_configuration(
        Bucket=b,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )
    out["config"] = root.get_object_lock_configuration(Bucket=b)["ObjectLockConfiguration"]
    vid = root.put_object(Bucket=b, Key="kept", Body=b"keep")["VersionId"]
    ret = root.get_object_retention(Bucket=b, Key="kept", VersionId=vid)["Retention"]
    until = ret["RetainUntilDate"]
    out["retention"] = {"Mode": ret["Mode"], "seconds_left": (until - datetime.now(timezone.utc)).total_seconds()}
    head = root.head_object(Bucket=b, Key="kept", VersionId=vid)
    out["head_lock_mode"] = head.get("ObjectLockMode")
    out["delete"] = error(root.delete_object, Bucket=b, Key="kept", VersionId=vid)
    out["delete_bypass_no_permission"] = error(
        nobypass.delete_object, Bucket=b, Key="kept", VersionId=vid, BypassGovernanceRetention=True
    )
    shorter = datetime.now(timezone.utc) + timedelta(hours=1)
    out["shorten"] = error(
        root.put_object_retention,
        Bucket=b,
        Key="kept",
        VersionId=vid,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter},
    )
    root.put_object_retention(
        Bucket=b,
        Key="kept",
        VersionId=vid,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter},
        BypassGovernanceRetention=True,
    )
    got = root.get_object_retention(Bucket=b, Key="kept", VersionId=vid)["Retention"]["RetainUntilDate"]
    out["shortened_to"] = abs((got - shorter).total_seconds())
    root.put_object_legal_hold(Bucket=b, Key="kept", VersionId=vid, LegalHold={"Status": "ON"})
    out["hold"] = root.get_object_legal_hold(Bucket=b, Key="kept", VersionId=vid)["LegalHold"]
    out["delete_held_bypass"] = error(
        root.delete_object, Bucket=b, Key="kept", VersionId=vid, BypassGovernanceRetention=True
    )
    root.put_object_legal_hold(Bucket=b, Key="kept", VersionId=vid, LegalHold={"Status": "OFF"})
    root.delete_object(Bucket=b, Key="kept", VersionId=vid, BypassGovernanceRetention=True)
    out["left"] = root.list_object_versions(Bucket=b, Prefix="kept").get("Versions", [])
    # The batch form refuses the locked key alone, as a per-key error.
    v2 = root.put_object(Bucket=b, Key="batch", Body=b"b")["VersionId"]
    r = root.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "batch", "VersionId": v2}]})
    out["batch_errors"] = [[e["Key"], e["Code"]] for e in r.get("Errors", [])]
    r = root.delete_objects(
        Bucket=b, Delete={"Objects": [{"Key": "batch", "VersionId": v2}]}, BypassGovernanceRetention=True
    )
    out["batch_bypass"] = [[d["Key"], d.get("VersionId")] for d in r.get("Deleted", [])] == [["batch", v2]]
    out["no_lock_config"] = error(s3().get_object_lock_configuration, Bucket="b3-versions")
    out["retention_no_lock"] = error(s3().get_object_retention, Bucket="b3-versions", Key="doc")
    out["suspend"] = error(root.put_bucket_versioning, Bucket=b, VersioningConfiguration={"Status": "Suspended"})
    # Lock headers on the upload itself: COMPLIANCE until a date, and a legal hold.
    until = (datetime.now(timezone.utc) + timedelta(minutes=10)).replace(microsecond=0)
    v3 = root.put_object(
        Bucket=b,
        Key="explicit",
        Body=b"e",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=until,
        ObjectLockLegalHoldStatus="ON",
    )["VersionId"]
    h = root.head_object(Bucket=b, Key="explicit", VersionId=v3)
    out["explicit"] = {
        "mode": h.get("ObjectLockMode"),
        "until_matches": h.get("ObjectLockRetainUntilDate") == until,
        "hold": h.get("ObjectLockLegalHoldStatus"),
    }
    root.put_object_legal_hold(Bucket=b, Key="explicit", VersionId=v3, LegalHold={"Status": "OFF"})
    # COMPLIANCE gives way to nobody, the bypass header notwithstanding.
    out["compliance_delete"] = error(
        root.delete_object, Bucket=b, Key="explicit", VersionId=v3, BypassGovernanceRetention=True
    )
    out["compliance_to_governance"] = error(
        root.put_object_retention,
        Bucket=b,
        Key="explicit",
        VersionId=v3,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
        BypassGovernanceRetention=True,
    )
    # A delete marker read by version id: 405 (botocore names a HEAD error by its status).
    dm = root.delete_object(Bucket=b, Key="explicit")["VersionId"]
    out["head_marker"] = error(root.head_object, Bucket=b, Key="explicit", VersionId=dm)
    out["get_marker"] = error(root.get_object, Bucket=b, Key="explicit", VersionId=dm)
    return out


def policy():
    root, anon = s3(), anonymous()
    b = "b3-policy"
    out = {}
    root.create_bucket(Bucket=b)
    root.put_object(Bucket=b, Key="pub/hello.txt", Body=b"hello")
    root.put_object(Bucket=b, Key="private.txt", Body=b"secret")
    out["anon_before"] = error(anon.get_object, Bucket=b, Key="pub/hello.txt")
    out["missing"] = error(root.get_bucket_policy, Bucket=b)
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{b}/pub/*"],
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::000000000000:user/{NOTHING[0]}"]},
                "Action": ["s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{b}/drop/*"],
            },
        ],
    }
    root.put_bucket_policy(Bucket=b, Policy=json.dumps(doc))
    out["same"] = json.loads(root.get_bucket_policy(Bucket=b)["Policy"]) == doc
    out["public"] = root.get_bucket_policy_status(Bucket=b)["PolicyStatus"]["IsPublic"]
    out["anon_get"] = body(anon, Bucket=b, Key="pub/hello.txt")
    out["anon_private"] = error(anon.get_object, Bucket=b, Key="private.txt")
    out["anon_put"] = error(anon.put_object, Bucket=b, Key="pub/x", Body=b"x")
    # A user with no policies of its own, named by the bucket policy: that write only.
    nothing = s3(NOTHING)
    nothing.put_object(Bucket=b, Key="drop/in.txt", Body=b"dropped")
    out["granted_put"] = body(root, Bucket=b, Key="drop/in.txt")
    out["ungranted_put"] = error(nothing.put_object, Bucket=b, Key="elsewhere.txt", Body=b"x")
    out["malformed"] = error(root.put_bucket_policy, Bucket=b, Policy='{"Version": "2012-10-17", "Statement": [')
    out["user_put_policy"] = error(s3(READONLY).put_bucket_policy, Bucket=b, Policy=json.dumps(doc))
    root.delete_bucket_policy(Bucket=b)
    out["after_delete"] = error(root.get_bucket_policy, Bucket=b)
    out["anon_after"] = error(anon.get_object, Bucket=b, Key="pub/hello.txt")
    return out


def sts():
    out = {}
    client = boto3.client(
        "sts",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=NOBYPASS[0],
        aws_secret_access_key=NOBYPASS[1],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    r = client.assume_role(
        RoleArn="arn:aws:iam::000000000000:role/boto3", RoleSessionName="boto3-session", DurationSeconds=900
    )
    creds = r["Credentials"]
    out["access_key"] = creds["AccessKeyId"]
    out["expires_in"] = (creds["Expiration"] - datetime.now(timezone.utc)).total_seconds()
    out["arn"] = r["AssumedRoleUser"]["Arn"]
    temp = s3((creds["AccessKeyId"], creds["SecretAccessKey"]), creds["SessionToken"])
    temp.put_object(Bucket="b3-versions", Key="from-sts", Body=b"temporary")
    out["read_back"] = body(temp, Bucket="b3-versions", Key="from-sts")
    ident = boto3.client(
        "sts",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).get_caller_identity()
    out["caller_arn"] = ident["Arn"]
    # Without the session token the key is unknown.
    out["no_token"] = error(s3((creds["AccessKeyId"], creds["SecretAccessKey"])).list_buckets)
    # A session policy narrows the credentials to what it allows.
    narrowed = client.assume_role(
        RoleArn="arn:aws:iam::000000000000:role/boto3",
        RoleSessionName="narrow",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b3-versions/*"]}
                ],
            }
        ),
    )["Credentials"]
    n = s3((narrowed["AccessKeyId"], narrowed["SecretAccessKey"]), narrowed["SessionToken"])
    out["narrowed_get"] = body(n, Bucket="b3-versions", Key="from-sts")
    out["narrowed_put"] = error(n.put_object, Bucket="b3-versions", Key="nope", Body=b"x")
    bad = boto3.client(
        "sts",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=NOBYPASS[0],
        aws_secret_access_key="not-the-secret",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    out["bad_secret"] = error(bad.assume_role, RoleArn="arn:aws:iam::000000000000:role/x", RoleSessionName="xy")
    # botocore checks DurationSeconds itself; without its check the server answers.
    unchecked = boto3.client(
        "sts",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=NOBYPASS[0],
        aws_secret_access_key=NOBYPASS[1],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, parameter_validation=False),
    )
    out["bad_duration"] = error(
        unchecked.assume_role, RoleArn="arn:aws:iam::000000000000:role/x", RoleSessionName="xy", DurationSeconds=60
    )
    return out


def iam():
    ro, nothing = s3(READONLY), s3(NOTHING)
    b = "b3-versions"
    return {
        "ro_get": body(ro, Bucket=b, Key="from-sts"),
        "ro_put": error(ro.put_object, Bucket=b, Key="ro", Body=b"x"),
        "ro_delete": error(ro.delete_object, Bucket=b, Key="from-sts"),
        "ro_list_versions": error(ro.list_object_versions, Bucket=b),
        "ro_put_versioning": error(
            ro.put_bucket_versioning, Bucket=b, VersioningConfiguration={"Status": "Suspended"}
        ),
        "ro_create_bucket": error(ro.create_bucket, Bucket="b3-ro-bucket"),
        "nothing_get": error(nothing.get_object, Bucket=b, Key="from-sts"),
        "nothing_missing_key": error(nothing.get_object, Bucket=b, Key="no-such-key"),
        "unknown_key": error(s3(("NOSUCHACCESSKEY1234", "whatever-secret")).list_buckets),
        "bad_secret": error(s3((READONLY[0], "wrong-secret-key")).get_object, Bucket=b, Key="from-sts"),
    }


STEPS = {"versioning": versioning, "lock": lock, "policy": policy, "sts": sts, "iam": iam}
print(json.dumps(STEPS[sys.argv[1]](), default=str))
`;

interface Failure {
  code: string | null;
  status: number;
  message: string;
}

// The script is written while the file loads: clientSuite probes it (`--version`) right away.
const scriptDir = mkdtempSync(path.join(tmpdir(), 'cairn-boto3-'));
const script = path.join(scriptDir, 'boto3_flows.py');
writeFileSync(script, SCRIPT);
chmodSync(script, 0o755);
// Also when the suite never starts (boto3 missing): its `after` hook then does not run.
process.once('exit', () => rmSync(scriptDir, { recursive: true, force: true }));

clientSuite('boto3', script, 'pip install boto3', (test, version) => {
  let srv: TestServer;
  let env: NodeJS.ProcessEnv;

  /** Runs one step of the script; its JSON. */
  async function step<T>(name: string): Promise<T> {
    const r = await mustRun('python3', [script, name], { env, timeoutMs: 60_000 });
    return JSON.parse(r.stdout) as T;
  }
  const refused = (f: Failure, code: string, status: number) => {
    assert.is(f.code, code, f.message);
    assert.is(f.status, status, f.message);
  };

  test.before(async () => {
    console.log(`\n  boto3: ${version}`);
    srv = await startServer();
    const admin = new AdminClient({
      endpoint: srv.endpoint,
      accessKey: srv.accessKey,
      secretKey: srv.secretKey,
      region: srv.region,
    });
    await admin.createPolicy(
      'b3-no-bypass',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::*'] },
          { Effect: 'Deny', Action: ['s3:BypassGovernanceRetention'], Resource: ['arn:aws:s3:::*'] },
        ],
      }),
    );
    await admin.addUser({
      accessKey: 'b3-nobypass',
      secretKey: 'b3-nobypass-secret',
      policies: ['b3-no-bypass'],
    });
    await admin.addUser({
      accessKey: 'b3-readonly',
      secretKey: 'b3-readonly-secret',
      policies: ['readonly'],
    });
    await admin.addUser({ accessKey: 'b3-nothing', secretKey: 'b3-nothing-secret' });
    env = clientEnv(path.join(scriptDir, 'home'), {
      CAIRN_ENDPOINT: srv.endpoint,
      CAIRN_REGION: srv.region,
      CAIRN_ROOT_KEY: srv.accessKey,
      CAIRN_ROOT_SECRET: srv.secretKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(scriptDir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(scriptDir, 'no-credentials'),
    });
  });

  test.after(async () => {
    await srv?.stop();
    await removeAll(scriptDir);
  });

  test('versioning: version ids, paged list_object_versions, delete markers, delete_objects by version', async () => {
    const r = await step<{
      before: Record<string, unknown>;
      status: string;
      ids: string[];
      bodies: string[];
      paged: [string, string, boolean][];
      requests: number;
      marker: { DeleteMarker: boolean; VersionId: string };
      get_deleted: Failure;
      head_deleted: Failure;
      markers: [string, string, boolean][];
      undo: { DeleteMarker: boolean; VersionId: string };
      restored: string;
      no_such_version: Failure;
      bad_version: Failure;
      batch: [string, string | null, boolean][];
      left: string[];
    }>('versioning');
    assert.equal(r.before, {});
    assert.is(r.status, 'Enabled');
    assert.is(new Set(r.ids).size, 3);
    assert.equal(r.bodies, ['one', 'two', 'three']);
    assert.equal(r.paged.slice(0, 3), [
      ['doc', r.ids[2], true],
      ['doc', r.ids[1], false],
      ['doc', r.ids[0], false],
    ]);
    assert.is(r.paged.length, 4);
    assert.equal(r.paged[3]!.slice(0, 1), ['zz odd é & + %20.txt']);
    assert.ok(r.requests >= 4, `${r.requests} requests`);
    assert.is(r.marker.DeleteMarker, true);
    refused(r.get_deleted, 'NoSuchKey', 404);
    // HEAD has no body: botocore names the error by its status.
    refused(r.head_deleted, '404', 404);
    assert.equal(r.markers, [['doc', r.marker.VersionId, true]]);
    assert.equal(r.undo, { DeleteMarker: true, VersionId: r.marker.VersionId });
    assert.is(r.restored, 'three');
    refused(r.no_such_version, 'NoSuchVersion', 404);
    refused(r.bad_version, 'InvalidArgument', 400);
    assert.is(r.batch.length, 2);
    assert.equal(r.batch[0], ['doc', r.ids[1], false]);
    assert.is(r.batch[1]![0], 'zz odd é & + %20.txt');
    assert.is(r.batch[1]![2], true, 'a delete without a version id writes a marker');
    assert.equal(r.left, [r.ids[2]]);
  });

  test('Object Lock: default GOVERNANCE retention, refused deletes, bypass with the permission, legal hold, COMPLIANCE', async () => {
    const r = await step<{
      config: unknown;
      retention: { Mode: string; seconds_left: number };
      head_lock_mode: string;
      delete: Failure;
      delete_bypass_no_permission: Failure;
      shorten: Failure;
      shortened_to: number;
      hold: { Status: string };
      delete_held_bypass: Failure;
      left: unknown[];
      batch_errors: [string, string][];
      batch_bypass: boolean;
      no_lock_config: Failure;
      retention_no_lock: Failure;
      suspend: Failure;
      explicit: { mode: string; until_matches: boolean; hold: string };
      compliance_delete: Failure;
      compliance_to_governance: Failure;
      head_marker: Failure;
      get_marker: Failure;
    }>('lock');
    assert.equal(r.config, {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
    });
    assert.is(r.retention.Mode, 'GOVERNANCE');
    assert.ok(Math.abs(r.retention.seconds_left - 86_400) < 120, `${r.retention.seconds_left}`);
    assert.is(r.head_lock_mode, 'GOVERNANCE');
    refused(r.delete, 'AccessDenied', 403);
    assert.match(r.delete.message, /object lock/i);
    refused(r.delete_bypass_no_permission, 'AccessDenied', 403);
    refused(r.shorten, 'AccessDenied', 403);
    assert.ok(r.shortened_to < 1, `${r.shortened_to}`);
    assert.equal(r.hold, { Status: 'ON' });
    refused(r.delete_held_bypass, 'AccessDenied', 403);
    assert.equal(r.left, []);
    assert.equal(r.batch_errors, [['batch', 'AccessDenied']]);
    assert.is(r.batch_bypass, true);
    refused(r.no_lock_config, 'ObjectLockConfigurationNotFoundError', 404);
    refused(r.retention_no_lock, 'InvalidRequest', 400);
    refused(r.suspend, 'InvalidBucketState', 409);
    assert.equal(r.explicit, { mode: 'COMPLIANCE', until_matches: true, hold: 'ON' });
    refused(r.compliance_delete, 'AccessDenied', 403);
    refused(r.compliance_to_governance, 'AccessDenied', 403);
    refused(r.head_marker, '405', 405);
    refused(r.get_marker, 'MethodNotAllowed', 405);
  });

  test('bucket policy: put/get/status/delete, anonymous reads it grants, a user it names, refusals', async () => {
    const r = await step<{
      anon_before: Failure;
      missing: Failure;
      same: boolean;
      public: boolean;
      anon_get: string;
      anon_private: Failure;
      anon_put: Failure;
      granted_put: string;
      ungranted_put: Failure;
      malformed: Failure;
      user_put_policy: Failure;
      after_delete: Failure;
      anon_after: Failure;
    }>('policy');
    refused(r.anon_before, 'AccessDenied', 403);
    refused(r.missing, 'NoSuchBucketPolicy', 404);
    assert.is(r.same, true);
    assert.is(r.public, true);
    assert.is(r.anon_get, 'hello');
    refused(r.anon_private, 'AccessDenied', 403);
    refused(r.anon_put, 'AccessDenied', 403);
    assert.is(r.granted_put, 'dropped');
    refused(r.ungranted_put, 'AccessDenied', 403);
    refused(r.malformed, 'MalformedPolicy', 400);
    refused(r.user_put_policy, 'AccessDenied', 403);
    refused(r.after_delete, 'NoSuchBucketPolicy', 404);
    refused(r.anon_after, 'AccessDenied', 403);
  });

  test('STS: assume_role through the sts client at the endpoint; the credentials work for s3', async () => {
    const r = await step<{
      access_key: string;
      expires_in: number;
      arn: string;
      read_back: string;
      caller_arn: string;
      no_token: Failure;
      narrowed_get: string;
      narrowed_put: Failure;
      bad_secret: Failure;
      bad_duration: Failure;
    }>('sts');
    assert.match(r.access_key, /^[A-Z0-9]{20}$/);
    assert.ok(r.expires_in > 800 && r.expires_in <= 900, `${r.expires_in}`);
    assert.is(r.arn, 'arn:aws:sts::000000000000:assumed-role/boto3/boto3-session');
    assert.is(r.read_back, 'temporary');
    // docs/iam.md: GetCallerIdentity names the user behind temporary credentials (AWS would answer
    // the assumed-role ARN).
    assert.is(r.caller_arn, 'arn:aws:iam::000000000000:user/b3-nobypass');
    refused(r.no_token, 'InvalidAccessKeyId', 403);
    assert.is(r.narrowed_get, 'temporary');
    refused(r.narrowed_put, 'AccessDenied', 403);
    refused(r.bad_secret, 'SignatureDoesNotMatch', 403);
    refused(r.bad_duration, 'ValidationError', 400);
  });

  test('IAM: a readonly user and a user without policies get AccessDenied as ClientError', async () => {
    const r = await step<Record<string, Failure> & { ro_get: string }>('iam');
    assert.is(r.ro_get, 'temporary');
    for (const k of [
      'ro_put',
      'ro_delete',
      'ro_list_versions',
      'ro_put_versioning',
      'ro_create_bucket',
      'nothing_get',
    ]) {
      refused(r[k]!, 'AccessDenied', 403);
    }
    // A key that does not exist is AccessDenied, not NoSuchKey, to a caller not allowed s3:ListBucket.
    refused(r.nothing_missing_key!, 'AccessDenied', 403);
    refused(r.unknown_key!, 'InvalidAccessKeyId', 403);
    refused(r.bad_secret!, 'SignatureDoesNotMatch', 403);
  });
});
