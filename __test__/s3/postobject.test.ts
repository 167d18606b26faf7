import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { deriveSigningKey, formatAmzDate } from '../../src/auth';
import { signHex } from '../../src/auth/sigv4';
import { isS3Error, type S3Error } from '../../src/s3/errors';
import { checkPostPolicy, parsePostPolicy } from '../../src/s3/ops/PostObject';
import { startServer, type TestServer } from '../helpers/server';

const b64json = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

function throwsS3(f: () => unknown, code: string, message?: RegExp): S3Error {
  try {
    f();
  } catch (e) {
    assert.ok(isS3Error(e), `not an S3Error: ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

// --- The policy document, as pure functions ------------------------------------------------------------

const LATER = new Date(Date.now() + 3600_000).toISOString();

test('parsePostPolicy reads eq, starts-with, content-length-range and exact-match conditions', () => {
  const p = parsePostPolicy(
    b64json({
      expiration: LATER,
      conditions: [
        { bucket: 'b' },
        ['eq', '$Key', 'k'],
        ['starts-with', '$Content-Type', 'image/'],
        ['content-length-range', 1, '100'],
      ],
    }),
  );
  assert.equal(p.expiration.toISOString(), LATER);
  assert.deepEqual(
    p.conditions.map((c) =>
      c.op === 'content-length-range' ? [c.op, c.min, c.max] : [c.op, c.field, c.value],
    ),
    [
      ['eq', 'bucket', 'b'],
      ['eq', 'key', 'k'],
      ['starts-with', 'content-type', 'image/'],
      ['content-length-range', 1, 100],
    ],
  );
});

test('parsePostPolicy refuses bad documents with InvalidPolicyDocument', () => {
  throwsS3(() => parsePostPolicy('%%%'), 'InvalidPolicyDocument', /Invalid JSON/);
  throwsS3(() => parsePostPolicy(Buffer.from('{not json').toString('base64')), 'InvalidPolicyDocument');
  throwsS3(() => parsePostPolicy(b64json({ conditions: [] })), 'InvalidPolicyDocument', /missing expiration/);
  throwsS3(
    () => parsePostPolicy(b64json({ expiration: LATER })),
    'InvalidPolicyDocument',
    /missing conditions/,
  );
  throwsS3(
    () => parsePostPolicy(b64json({ expiration: 'tomorrow', conditions: [] })),
    'InvalidPolicyDocument',
  );
  throwsS3(
    () => parsePostPolicy(b64json({ expiration: LATER, conditions: [['ends-with', '$key', 'x']] })),
    'InvalidPolicyDocument',
    /unknown operation/,
  );
  throwsS3(
    () => parsePostPolicy(b64json({ expiration: LATER, conditions: [['content-length-range', -1, 5]] })),
    'InvalidPolicyDocument',
  );
  throwsS3(
    () => parsePostPolicy(b64json({ expiration: LATER, conditions: [{ a: '1', b: '2' }] })),
    'InvalidPolicyDocument',
  );
});

test('checkPostPolicy: conditions on fields and the bucket, extra fields, expiry, size range', () => {
  const policy = parsePostPolicy(
    b64json({
      expiration: LATER,
      conditions: [{ bucket: 'photos' }, ['starts-with', '$key', 'user/'], ['content-length-range', 10, 20]],
    }),
  );
  const fields = new Map([
    ['key', 'user/a.jpg'],
    ['policy', 'x'],
    ['x-amz-signature', 'y'],
    ['x-ignore-me', 'z'],
  ]);
  assert.deepEqual(checkPostPolicy(policy, fields, 'photos'), { minSize: 10, maxSize: 20 });
  throwsS3(
    () => checkPostPolicy(policy, fields, 'other'),
    'AccessDenied',
    /Policy Condition failed: \{"bucket":"photos"\}/,
  );
  throwsS3(
    () => checkPostPolicy(policy, new Map([['key', 'admin/a.jpg']]), 'photos'),
    'AccessDenied',
    /^Invalid according to Policy: Policy Condition failed: \["starts-with", "\$key", "user\/"\]$/,
  );
  throwsS3(
    () => checkPostPolicy(policy, new Map([...fields, ['acl', 'public-read']]), 'photos'),
    'AccessDenied',
    /Extra input fields: acl/,
  );
  throwsS3(
    () => checkPostPolicy(policy, fields, 'photos', new Date(Date.now() + 7200_000)),
    'AccessDenied',
    /Policy expired/,
  );
  // Field names are case-insensitive; a missing field is the empty string.
  const p2 = parsePostPolicy(
    b64json({ expiration: LATER, conditions: [['starts-with', '$Content-Type', '']] }),
  );
  assert.deepEqual(checkPostPolicy(p2, new Map(), 'b'), { minSize: 0, maxSize: Number.POSITIVE_INFINITY });
});

// --- Through the server ---------------------------------------------------------------------------------

let srv: TestServer;
const B = 'uploads';

test.before(async () => {
  srv = await startServer();
  await srv.s3.send(new CreateBucketCommand({ Bucket: B }));
});
test.after(async () => {
  await srv?.stop();
});

interface FormOptions {
  /** Conditions besides the credential fields; default: the bucket and a key prefix of ''. */
  conditions?: unknown[];
  expiration?: string;
  /** Fields before the file (after the signature fields). */
  fields?: Record<string, string>;
  /** Fields after the file. */
  after?: Record<string, string>;
  file?: { data: string | Buffer; name?: string; type?: string } | null;
  secretKey?: string;
  accessKey?: string;
  tamper?: boolean;
  omit?: string[];
}

/** A browser-style form: policy signed with SigV4, fields, then the file. */
function form(o: FormOptions = {}): FormData {
  const now = new Date();
  const amzDate = formatAmzDate(now);
  const date = amzDate.slice(0, 8);
  const accessKey = o.accessKey ?? srv.accessKey;
  const credential = `${accessKey}/${date}/${srv.region}/s3/aws4_request`;
  const policy = b64json({
    expiration: o.expiration ?? new Date(Date.now() + 600_000).toISOString(),
    conditions: [
      { bucket: B },
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-credential': credential },
      { 'x-amz-date': amzDate },
      ...(o.conditions ?? [['starts-with', '$key', '']]),
    ],
  });
  const signature = signHex(deriveSigningKey(o.secretKey ?? srv.secretKey, date, srv.region, 's3'), policy);
  const fd = new FormData();
  const fields: Record<string, string> = {
    key: 'posted',
    ...o.fields,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': credential,
    'x-amz-date': amzDate,
    policy,
    'x-amz-signature': o.tamper ? signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) : signature,
  };
  for (const [k, v] of Object.entries(fields)) if (!o.omit?.includes(k)) fd.append(k, v);
  if (o.file !== null) {
    const f = o.file ?? { data: 'posted content' };
    fd.append(
      'file',
      new Blob([f.data], { type: f.type ?? 'application/octet-stream' }),
      f.name ?? 'upload.txt',
    );
  }
  for (const [k, v] of Object.entries(o.after ?? {})) fd.append(k, v);
  return fd;
}

function post(body: FormData | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${srv.endpoint}/${B}`, { method: 'POST', body, headers, redirect: 'manual' });
}

async function text(key: string): Promise<string | null> {
  try {
    const r = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
    return await r.Body!.transformToString();
  } catch (e) {
    if (e instanceof S3ServiceException && e.name === 'NoSuchKey') return null;
    throw e;
  }
}

async function expectXmlError(r: Response, status: number, code: string, message?: RegExp): Promise<void> {
  const body = await r.text();
  assert.equal(r.status, status, body);
  assert.ok(body.includes(`<Code>${code}</Code>`), body);
  if (message) assert.match(body, message);
}

test('PostObject stores the file with the form fields as metadata; 204 with ETag and Location', async () => {
  const r = await post(
    form({
      conditions: [
        ['starts-with', '$key', 'form/'],
        ['starts-with', '$Content-Type', 'text/'],
        ['eq', '$x-amz-meta-color', 'green'],
        ['content-length-range', 1, 1000],
      ],
      fields: { key: 'form/one.txt', 'Content-Type': 'text/plain', 'x-amz-meta-color': 'green' },
    }),
  );
  assert.equal(r.status, 204, await r.text());
  assert.equal(r.headers.get('etag'), `"${createHash('md5').update('posted content').digest('hex')}"`);
  assert.match(r.headers.get('location')!, /\/uploads\/form\/one\.txt$/);
  assert.equal(await text('form/one.txt'), 'posted content');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'form/one.txt' }));
  assert.equal(h.ContentType, 'text/plain');
  assert.deepEqual(h.Metadata, { color: 'green' });
});

test('PostObject takes form fields sent as file parts (a filename on every part, as python-requests sends them)', async () => {
  const plain = form({
    conditions: [
      ['starts-with', '$key', 'as-files/'],
      ['eq', '$x-amz-meta-color', 'blue'],
    ],
    fields: { key: 'as-files/one.txt', 'x-amz-meta-color': 'blue' },
  });
  const fd = new FormData();
  for (const [k, v] of plain.entries()) {
    if (k === 'file') fd.append(k, v as Blob, 'upload.txt');
    else fd.append(k, new Blob([v as string]), k);
  }
  const r = await post(fd);
  assert.equal(r.status, 204, await r.text());
  assert.equal(await text('as-files/one.txt'), 'posted content');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'as-files/one.txt' }));
  assert.deepEqual(h.Metadata, { color: 'blue' });
});

test('PostObject replaces the filename placeholder in the key with the uploaded file name', async () => {
  const r = await post(
    form({
      conditions: [['starts-with', '$key', 'by-name/']],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: AWS's literal placeholder
      fields: { key: 'by-name/${filename}' },
      file: { data: 'named', name: 'report 2024.pdf' },
    }),
  );
  assert.equal(r.status, 204, await r.text());
  assert.equal(await text('by-name/report 2024.pdf'), 'named');
});

test('PostObject success_action_status 201 answers PostResponse XML; 200 an empty body', async () => {
  const r = await post(
    form({
      conditions: [['starts-with', '$key', ''], { success_action_status: '201' }],
      fields: { key: 'status/201', success_action_status: '201' },
    }),
  );
  const xml = await r.text();
  assert.equal(r.status, 201, xml);
  assert.match(
    xml,
    /^<\?xml version="1.0" encoding="UTF-8"\?>\n<PostResponse><Location>http:\/\/127\.0\.0\.1:\d+\/uploads\/status\/201<\/Location><Bucket>uploads<\/Bucket><Key>status\/201<\/Key><ETag>&quot;[0-9a-f]{32}&quot;<\/ETag><\/PostResponse>$/,
  );
  const r2 = await post(
    form({
      conditions: [['starts-with', '$key', ''], { success_action_status: '200' }],
      fields: { key: 'status/200', success_action_status: '200' },
    }),
  );
  assert.equal(r2.status, 200);
  assert.equal(await r2.text(), '');
});

test('PostObject success_action_redirect answers 303 to the URL with bucket, key and etag', async () => {
  const r = await post(
    form({
      conditions: [
        ['starts-with', '$key', ''],
        ['starts-with', '$success_action_redirect', 'https://example.com/'],
      ],
      fields: { key: 'redirected', success_action_redirect: 'https://example.com/done?x=1' },
    }),
  );
  assert.equal(r.status, 303);
  const loc = new URL(r.headers.get('location')!);
  assert.equal(loc.origin + loc.pathname, 'https://example.com/done');
  assert.equal(loc.searchParams.get('x'), '1');
  assert.equal(loc.searchParams.get('bucket'), B);
  assert.equal(loc.searchParams.get('key'), 'redirected');
  assert.match(loc.searchParams.get('etag')!, /^"[0-9a-f]{32}"$/);
});

test('PostObject takes a tagging document and a checksum field', async () => {
  const tagging = '<Tagging><TagSet><Tag><Key>src</Key><Value>form</Value></Tag></TagSet></Tagging>';
  const sha = createHash('sha256').update('posted content').digest('base64');
  const r = await post(
    form({
      conditions: [['starts-with', '$key', ''], { tagging }, { 'x-amz-checksum-sha256': sha }],
      fields: { key: 'tagged-post', tagging, 'x-amz-checksum-sha256': sha },
    }),
  );
  assert.equal(r.status, 204, await r.text());
  assert.equal(r.headers.get('x-amz-checksum-sha256'), sha);
  const t = await srv.s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged-post' }));
  assert.deepEqual(t.TagSet, [{ Key: 'src', Value: 'form' }]);
  const wrong = createHash('sha256').update('other').digest('base64');
  const bad = await post(
    form({
      conditions: [['starts-with', '$key', ''], { 'x-amz-checksum-sha256': wrong }],
      fields: { key: 'bad-sum-post', 'x-amz-checksum-sha256': wrong },
    }),
  );
  await expectXmlError(bad, 400, 'BadDigest');
  assert.equal(await text('bad-sum-post'), null);
});

test('PostObject metadata past latin-1 is served RFC 2047 encoded, as AWS does', async () => {
  const r = await post(
    form({
      conditions: [
        ['starts-with', '$key', ''],
        ['starts-with', '$x-amz-meta-city', ''],
      ],
      fields: { key: 'unicode-meta', 'x-amz-meta-city': 'Zürich 東京' },
    }),
  );
  assert.equal(r.status, 204, await r.text());
  const h = await fetch(`${srv.endpoint}/${B}/unicode-meta`, { method: 'HEAD' });
  assert.equal(h.status, 403); // unsigned
  const s = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'unicode-meta' }));
  assert.equal(s.Metadata?.city, `=?UTF-8?B?${Buffer.from('Zürich 東京').toString('base64')}?=`);
});

test('PostObject ignores fields after the file', async () => {
  const r = await post(form({ fields: { key: 'after-file' }, after: { 'x-amz-meta-late': 'ignored' } }));
  assert.equal(r.status, 204, await r.text());
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'after-file' }));
  assert.deepEqual(h.Metadata, {});
});

test('PostObject with a wrong signature is SignatureDoesNotMatch; an unknown key InvalidAccessKeyId', async () => {
  await expectXmlError(
    await post(form({ fields: { key: 'sig' }, tamper: true })),
    403,
    'SignatureDoesNotMatch',
  );
  await expectXmlError(
    await post(form({ fields: { key: 'sig' }, secretKey: 'wrong-secret' })),
    403,
    'SignatureDoesNotMatch',
  );
  await expectXmlError(
    await post(form({ fields: { key: 'sig' }, accessKey: 'NOBODY' })),
    403,
    'InvalidAccessKeyId',
  );
  assert.equal(await text('sig'), null);
});

test('PostObject with an expired policy, a failed condition or an extra field is AccessDenied', async () => {
  await expectXmlError(
    await post(form({ fields: { key: 'late' }, expiration: new Date(Date.now() - 1000).toISOString() })),
    403,
    'AccessDenied',
    /Invalid according to Policy: Policy expired./,
  );
  await expectXmlError(
    await post(form({ conditions: [['starts-with', '$key', 'allowed/']], fields: { key: 'elsewhere/x' } })),
    403,
    'AccessDenied',
    /Policy Condition failed: \[&quot;starts-with&quot;, &quot;\$key&quot;, &quot;allowed\/&quot;\]/,
  );
  await expectXmlError(
    await post(form({ fields: { key: 'extra', 'x-amz-meta-sneaky': '1' } })),
    403,
    'AccessDenied',
    /Extra input fields: x-amz-meta-sneaky/,
  );
  for (const k of ['late', 'elsewhere/x', 'extra']) assert.equal(await text(k), null, k);
});

test('PostObject holds the file to content-length-range: EntityTooLarge / EntityTooSmall, nothing stored', async () => {
  await expectXmlError(
    await post(
      form({
        conditions: [
          ['starts-with', '$key', ''],
          ['content-length-range', 0, 10],
        ],
        fields: { key: 'too-big' },
        file: { data: Buffer.alloc(2 * 1024 * 1024, 7) },
      }),
    ),
    400,
    'EntityTooLarge',
  );
  await expectXmlError(
    await post(
      form({
        conditions: [
          ['starts-with', '$key', ''],
          ['content-length-range', 100, 200],
        ],
        fields: { key: 'too-small' },
      }),
    ),
    400,
    'EntityTooSmall',
  );
  assert.equal(await text('too-big'), null);
  assert.equal(await text('too-small'), null);
});

test('PostObject refuses what is not a signed multipart form', async () => {
  await expectXmlError(
    await post('key=x', { 'content-type': 'application/x-www-form-urlencoded' }),
    400,
    'RequestIsNotMultiPartContent',
  );
  await expectXmlError(await post(form({ file: null })), 400, 'InvalidArgument', /exactly one file/);
  await expectXmlError(
    await post(form({ omit: ['key'] })),
    400,
    'InvalidArgument',
    /field named &apos;key&apos;/,
  );
  // Neither policy nor signature: an anonymous upload, refused unless a bucket policy lets anyone PutObject.
  await expectXmlError(
    await post(
      form({ omit: ['policy', 'x-amz-signature', 'x-amz-credential', 'x-amz-algorithm', 'x-amz-date'] }),
    ),
    403,
    'AccessDenied',
  );
  await expectXmlError(await post(form({ omit: ['x-amz-signature'] })), 400, 'InvalidArgument');
  const broken = await fetch(`${srv.endpoint}/${B}`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
    body: '--XYZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nv\r\n--XY',
  });
  assert.equal(broken.status, 400, await broken.text());
});

test('PostObject through the minio client (presignedPostPolicy)', async () => {
  const minio = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
  });
  const policy = minio.newPostPolicy();
  policy.setBucket(B);
  policy.setKey('minio/post.txt');
  policy.setExpires(new Date(Date.now() + 600_000));
  policy.setContentType('text/plain');
  policy.setContentLengthRange(1, 1024);
  const { postURL, formData } = await minio.presignedPostPolicy(policy);
  const fd = new FormData();
  for (const [k, v] of Object.entries(formData)) fd.append(k, v as string);
  fd.append('file', new Blob(['from minio policy'], { type: 'text/plain' }), 'post.txt');
  const r = await fetch(postURL, { method: 'POST', body: fd });
  assert.equal(r.status, 204, await r.text());
  assert.equal(await text('minio/post.txt'), 'from minio policy');
});

test.run();
