/**
 * CompleteMultipartUpload as AWS answers it in the cases ceph/s3-tests found wrong: a completion
 * repeated after it succeeded, a completion without a body, the version id header by versioning
 * state, the object checksum a completion names (x-amz-checksum-*), and FULL_OBJECT CRC checksums
 * combined from the parts'.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  type ChecksumAlgorithm,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { suite } from 'uvu';
import { type ChecksumKind, Checksums } from '../../src/native';
import { raw } from '../helpers/raw';
import { startServer, type TestServer } from '../helpers/server';

const KiB = 1024;
const BUCKET = 'mpc';

const M = suite<{ srv: TestServer }>('multipart completion', {} as { srv: TestServer });

M.before(async (ctx) => {
  // Parts of 5 KiB stand in for AWS's 5 MiB minimum.
  ctx.srv = await startServer({ minPartSize: 5 * KiB });
  await ctx.srv.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

M.after(async (ctx) => {
  await ctx.srv?.stop();
});

async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, String(e));
    return e;
  }
  assert.fail('expected an error');
}

async function upload(
  srv: TestServer,
  bucket: string,
  key: string,
  parts: Buffer[],
  checksum?: { algorithm: ChecksumAlgorithm; type?: 'COMPOSITE' | 'FULL_OBJECT' },
): Promise<{ uploadId: string; completed: CompletedPart[] }> {
  const created = await srv.s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ...(checksum ? { ChecksumAlgorithm: checksum.algorithm, ChecksumType: checksum.type } : {}),
    }),
  );
  const uploadId = created.UploadId!;
  const completed: CompletedPart[] = [];
  for (const [i, body] of parts.entries()) {
    const r = await srv.s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: i + 1,
        Body: body,
        ...(checksum ? { ChecksumAlgorithm: checksum.algorithm } : {}),
      }),
    );
    const part: CompletedPart = { ETag: r.ETag!, PartNumber: i + 1 };
    if (checksum?.algorithm === 'SHA256') part.ChecksumSHA256 = r.ChecksumSHA256!;
    completed.push(part);
  }
  return { uploadId, completed };
}

async function digest(kind: ChecksumKind, ...bufs: Buffer[]): Promise<Buffer> {
  const c = new Checksums([kind]);
  for (const b of bufs) await c.update(b);
  return (await c.digest())[kind];
}

M('CompleteMultipartUpload repeated after it succeeded answers as the first one did', async ({ srv }) => {
  const parts = [randomBytes(5 * KiB), randomBytes(100)];
  const { uploadId, completed } = await upload(srv, BUCKET, 'again', parts);
  const complete = () =>
    srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'again',
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      }),
    );
  const first = await complete();
  const second = await complete();
  assert.equal(second.ETag, first.ETag);
  const got = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'again' }));
  assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), Buffer.concat(parts));
});

M(
  "CompleteMultipartUpload of an unknown upload id with a completed upload's parts is NoSuchUpload",
  async ({ srv }) => {
    const { uploadId, completed } = await upload(srv, BUCKET, 'again3', [
      randomBytes(5 * KiB),
      randomBytes(9),
    ]);
    const send = (id: string) =>
      srv.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'again3',
          UploadId: id,
          MultipartUpload: { Parts: completed },
        }),
      );
    await send(uploadId);
    const e = await s3Error(send('A'.repeat(32)));
    assert.equal(e.name, 'NoSuchUpload');
  },
);

M(
  'CompleteMultipartUpload repeated in a versioned bucket names the version the first one made',
  async ({ srv }) => {
    await srv.s3.send(new CreateBucketCommand({ Bucket: 'mpc-again-v' }));
    await srv.s3.send(
      new PutBucketVersioningCommand({
        Bucket: 'mpc-again-v',
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
    const { uploadId, completed } = await upload(srv, 'mpc-again-v', 'k', [
      randomBytes(5 * KiB),
      randomBytes(9),
    ]);
    const send = () =>
      srv.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'mpc-again-v',
          Key: 'k',
          UploadId: uploadId,
          MultipartUpload: { Parts: completed },
        }),
      );
    const first = await send();
    const second = await send();
    assert.ok(first.VersionId);
    assert.equal(second.VersionId, first.VersionId);
    assert.equal(second.ETag, first.ETag);
  },
);

M(
  'CompleteMultipartUpload repeated with other parts than made the object is NoSuchUpload',
  async ({ srv }) => {
    const { uploadId, completed } = await upload(srv, BUCKET, 'again2', [
      randomBytes(5 * KiB),
      randomBytes(9),
    ]);
    const send = (parts: CompletedPart[]) =>
      srv.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'again2',
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    await send(completed);
    const e = await s3Error(send(completed.slice(0, 1)));
    assert.equal(e.name, 'NoSuchUpload');
    assert.equal(e.$metadata.httpStatusCode, 404);
  },
);

M('CompleteMultipartUpload without a body is MalformedXML', async ({ srv }) => {
  const { uploadId } = await upload(srv, BUCKET, 'empty', [randomBytes(10)]);
  const r = await raw(srv, { method: 'POST', path: `/${BUCKET}/empty`, query: { uploadId } });
  assert.equal(r.status, 400, r.body);
  assert.match(r.body, /<Code>MalformedXML<\/Code>/);
});

M('CompleteMultipartUpload names a version id only when versioning made one', async ({ srv }) => {
  const complete = async (bucket: string) => {
    const { uploadId, completed } = await upload(srv, bucket, 'k', [randomBytes(10)]);
    return srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'k',
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      }),
    );
  };
  for (const [bucket, status] of [
    ['mpc-enabled', 'Enabled'],
    ['mpc-suspended', 'Suspended'],
    ['mpc-unversioned', undefined],
  ] as const) {
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (status) {
      await srv.s3.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }),
      );
    }
    const r = await complete(bucket);
    if (status === 'Enabled') assert.match(r.VersionId ?? '', /^[0-9a-f-]{36}$/);
    else assert.equal(r.VersionId, undefined, bucket);
  }
});

M(
  'CompleteMultipartUpload with an object checksum other than the parts make is BadDigest',
  async ({ srv }) => {
    const parts = [randomBytes(5 * KiB), randomBytes(7)];
    const { uploadId, completed } = await upload(srv, BUCKET, 'sha', parts, { algorithm: 'SHA256' });
    const send = (sum: string) =>
      srv.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'sha',
          UploadId: uploadId,
          ChecksumSHA256: sum,
          MultipartUpload: { Parts: completed },
        }),
      );
    const e = await s3Error(send('bad'));
    assert.equal(e.name, 'BadDigest');
    assert.equal(e.$metadata.httpStatusCode, 400);
    // Refused, the upload is still there to be completed with the right checksum.
    const partSums = await Promise.all(parts.map((p) => digest('sha256', p)));
    const composite = `${(await digest('sha256', ...partSums)).toString('base64')}-2`;
    const ok = await send(composite);
    assert.equal(ok.ChecksumSHA256, composite);
    assert.equal(ok.ChecksumType, 'COMPOSITE');
  },
);

for (const [algorithm, kind] of [
  ['CRC32', 'crc32'],
  ['CRC32C', 'crc32c'],
  ['CRC64NVME', 'crc64nvme'],
] as const) {
  M(`a FULL_OBJECT ${algorithm} upload gets the ${algorithm} of the whole object`, async ({ srv }) => {
    const key = `full-${algorithm}`;
    const parts = [randomBytes(5 * KiB + 3), randomBytes(5 * KiB), randomBytes(11)];
    const whole = (await digest(kind, ...parts)).toString('base64');
    const { uploadId, completed } = await upload(srv, BUCKET, key, parts, { algorithm, type: 'FULL_OBJECT' });
    const field = `Checksum${algorithm}` as const;
    const done = await srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: uploadId,
        [field]: whole,
        MultipartUpload: { Parts: completed },
      }),
    );
    assert.equal(done.ChecksumType, 'FULL_OBJECT');
    assert.equal(done[field], whole);
    const head = await srv.s3.send(
      new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ChecksumType, 'FULL_OBJECT');
    assert.equal(head[field], whole);
    const attrs = await srv.s3.send(
      new GetObjectAttributesCommand({ Bucket: BUCKET, Key: key, ObjectAttributes: ['Checksum'] }),
    );
    assert.equal(attrs.Checksum?.ChecksumType, 'FULL_OBJECT');
    assert.equal(attrs.Checksum?.[field], whole);
  });
}

M('GetObjectAttributes lists each part of a multipart object with its checksum', async ({ srv }) => {
  const parts = [randomBytes(5 * KiB), randomBytes(5 * KiB), randomBytes(3)];
  const { uploadId, completed } = await upload(srv, BUCKET, 'attrs', parts, { algorithm: 'SHA256' });
  const done = await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'attrs',
      UploadId: uploadId,
      MultipartUpload: { Parts: completed },
    }),
  );
  const attrs = await srv.s3.send(
    new GetObjectAttributesCommand({
      Bucket: BUCKET,
      Key: 'attrs',
      ObjectAttributes: ['Checksum', 'ObjectParts', 'ObjectSize'],
    }),
  );
  assert.equal(attrs.Checksum?.ChecksumSHA256, done.ChecksumSHA256);
  assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
  const want = await Promise.all(parts.map(async (p) => (await digest('sha256', p)).toString('base64')));
  assert.deepEqual(
    attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256]),
    parts.map((p, i) => [i + 1, p.length, want[i]]),
  );
});

M.run();
