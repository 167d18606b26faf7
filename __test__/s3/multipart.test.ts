/**
 * Multipart uploads against a real server, through @aws-sdk/client-s3 (and lib-storage's Upload),
 * the minio client and hand-signed requests: a 200 MiB streamed upload checked by SHA-256, parts
 * copied from objects (whole and by range), ListParts and ListMultipartUploads paging, every error
 * completion can answer, and the limits (part numbers, part size).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import * as Minio from 'minio';
import { suite } from 'uvu';
import type { ReqCtx } from '../../src/s3/context';
import { isS3Error } from '../../src/s3/errors';
import { UploadPart } from '../../src/s3/ops/UploadPart';
import type { RouteOf } from '../../src/s3/router';
import { raw } from '../helpers/raw';
import { startServer, type TestServer } from '../helpers/server';

const MiB = 1024 * 1024;
const BUCKET = 'mpu';

const M = suite<{ srv: TestServer }>('multipart', {} as { srv: TestServer });

M.before(async (ctx) => {
  ctx.srv = await startServer();
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

const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** AWS's multipart ETag: md5 of the parts' binary MD5s, `-N`. */
function multipartEtag(parts: Buffer[]): string {
  const h = createHash('md5');
  for (const p of parts) h.update(createHash('md5').update(p).digest());
  return `"${h.digest('hex')}-${parts.length}"`;
}

/** The object's bytes, through GetObject. */
async function download(srv: TestServer, key: string, bucket = BUCKET): Promise<Buffer> {
  const r = await srv.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

/** Starts an upload and uploads `parts`, returning what CompleteMultipartUpload needs. */
async function uploadParts(
  srv: TestServer,
  key: string,
  parts: Buffer[],
): Promise<{ uploadId: string; completed: CompletedPart[] }> {
  const { UploadId } = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const completed: CompletedPart[] = [];
  for (const [i, body] of parts.entries()) {
    const r = await srv.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body: body }),
    );
    completed.push({ PartNumber: i + 1, ETag: r.ETag! });
  }
  return { uploadId: UploadId!, completed };
}

// --- the clients' own multipart uploads ----------------------------------------------------------------

M(
  'lib-storage Upload streams 200 MiB from a generator in parts; the download has the same SHA-256',
  async ({ srv }) => {
    const block = randomBytes(MiB);
    const sent = createHash('sha256');
    async function* generate() {
      for (let i = 0; i < 200; i++) {
        const chunk = Buffer.from(block);
        chunk.writeUInt32BE(i, 0); // every MiB differs
        sent.update(chunk);
        yield chunk;
      }
    }
    const upload = new Upload({
      client: srv.s3,
      params: { Bucket: BUCKET, Key: 'big/200MiB.bin', Body: Readable.from(generate()) },
      partSize: 8 * MiB,
      queueSize: 4,
      leavePartsOnError: false,
    });
    const done = await upload.done();
    const want = sent.digest('hex');
    // 200 MiB in parts of 8 MiB: 25 parts.
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-25"$/);
    // lib-storage names CRC32 at creation (the SDK's default checksums): the object has its composite.
    assert.match(done.ChecksumCRC32 ?? '', /^[A-Za-z0-9+/]{6}==-25$/);

    const r = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big/200MiB.bin' }));
    assert.equal(r.ContentLength, 200 * MiB);
    assert.equal(r.ETag, done.ETag);
    const got = createHash('sha256');
    for await (const chunk of r.Body as Readable) got.update(chunk as Buffer);
    assert.equal(got.digest('hex'), want);

    const uploads = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'big/' }));
    assert.equal(uploads.Uploads, undefined, 'the completed upload is gone');
  },
);

M('the minio client uploads above its part size as a multipart upload', async ({ srv }) => {
  const mc = new Minio.Client({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
    partSize: 5 * MiB,
    pathStyle: true,
  });
  const data = randomBytes(12 * MiB + 12345);
  // In 64 KiB chunks as a file stream gives them (minio's block splitter loses data given one huge chunk).
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) chunks.push(data.subarray(i, i + 65536));
  const res = await mc.putObject(BUCKET, 'minio/obj.bin', Readable.from(chunks), data.length, {
    'Content-Type': 'application/x-test',
    'X-Amz-Meta-Color': 'blue',
  });
  // 5 + 5 + 2 MiB.
  assert.equal(
    res.etag,
    multipartEtag([
      data.subarray(0, 5 * MiB),
      data.subarray(5 * MiB, 10 * MiB),
      data.subarray(10 * MiB),
    ]).slice(1, -1),
  );
  const stat = await mc.statObject(BUCKET, 'minio/obj.bin');
  assert.equal(stat.size, data.length);
  assert.equal(stat.metaData['content-type'], 'application/x-test');
  assert.equal(stat.metaData.color, 'blue');
  const stream = await mc.getObject(BUCKET, 'minio/obj.bin');
  const back: Buffer[] = [];
  for await (const c of stream) back.push(c as Buffer);
  assert.equal(sha256hex(Buffer.concat(back)), sha256hex(data));
});

// --- create, upload, complete -----------------------------------------------------------------------

M('CompleteMultipartUpload answers Location, Bucket, Key and the md5-N ETag', async ({ srv }) => {
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
  const key = 'dir/with space/ü.bin';
  const { uploadId, completed } = await uploadParts(srv, key, parts);
  for (const [i, p] of parts.entries()) assert.equal(completed[i]!.ETag, `"${md5hex(p)}"`);
  const body = `<CompleteMultipartUpload>${completed
    .map((p) => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`)
    .join('')}</CompleteMultipartUpload>`;
  const r = await raw(srv, {
    method: 'POST',
    path: `/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`,
    query: { uploadId },
    body,
  });
  assert.equal(r.status, 200, r.body);
  const etag = multipartEtag(parts);
  assert.equal(
    r.body,
    `<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://127.0.0.1:${srv.port}/${BUCKET}/dir/with%20space/%C3%BC.bin</Location><Bucket>${BUCKET}</Bucket><Key>${key}</Key><ETag>${etag.replace(/"/g, '&quot;')}</ETag></CompleteMultipartUploadResult>`,
  );
  assert.equal(r.headers.get('x-amz-version-id'), null);
  const got = await download(srv, key);
  assert.equal(got.length, 10 * MiB + 1234);
  assert.equal(sha256hex(got), sha256hex(Buffer.concat(parts)));
});

M(
  'CreateMultipartUpload keeps content headers, metadata, tags and storage class for the object',
  async ({ srv }) => {
    const { UploadId } = await srv.s3.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'meta/obj',
        ContentType: 'text/plain; charset=utf-8',
        ContentDisposition: 'attachment; filename="x.txt"',
        ContentLanguage: 'fr',
        CacheControl: 'max-age=60',
        ContentEncoding: 'identity',
        Metadata: { color: 'green', 'two-words': 'a b' },
        Tagging: 'project=cairn&stage=test',
        StorageClass: 'REDUCED_REDUNDANCY',
      }),
    );
    const part = await srv.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'meta/obj', UploadId, PartNumber: 1, Body: 'hello' }),
    );
    await srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'meta/obj',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
      }),
    );
    const r = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'meta/obj' }));
    assert.equal(await r.Body!.transformToString(), 'hello');
    assert.equal(r.ContentType, 'text/plain; charset=utf-8');
    assert.equal(r.ContentDisposition, 'attachment; filename="x.txt"');
    assert.equal(r.ContentLanguage, 'fr');
    assert.equal(r.CacheControl, 'max-age=60');
    assert.deepEqual(r.Metadata, { color: 'green', 'two-words': 'a b' });
    assert.equal(r.TagCount, 2);
    assert.equal(r.StorageClass, 'REDUCED_REDUNDANCY');
    assert.equal(r.ETag, multipartEtag([Buffer.from('hello')]));
  },
);

M('CreateMultipartUpload refuses a bad storage class, tag set or checksum algorithm', async ({ srv }) => {
  const create = (headers: Record<string, string>) =>
    raw(srv, { method: 'POST', path: `/${BUCKET}/k`, query: { uploads: '' }, headers });
  const sc = await create({ 'x-amz-storage-class': 'GLACIER_X' });
  assert.equal(sc.status, 400);
  assert.match(sc.body, /<Code>InvalidStorageClass<\/Code>/);
  const tags = await create({ 'x-amz-tagging': 'aws:x=1' });
  assert.match(tags.body, /<Code>InvalidTag<\/Code>/);
  const alg = await create({ 'x-amz-checksum-algorithm': 'MD4' });
  assert.match(alg.body, /<Code>InvalidRequest<\/Code>/);
  const ok = await create({ 'x-amz-checksum-algorithm': 'crc32c' });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('x-amz-checksum-algorithm'), 'CRC32C');
  assert.equal(ok.headers.get('x-amz-checksum-type'), 'COMPOSITE');
  const missing = await raw(srv, { method: 'POST', path: `/no-such-bucket/k`, query: { uploads: '' } });
  assert.equal(missing.status, 404);
  assert.match(missing.body, /<Code>NoSuchBucket<\/Code>/);
});

M(
  'a part uploaded again replaces the earlier one; unlisted parts are dropped at completion',
  async ({ srv }) => {
    const a = randomBytes(5 * MiB);
    const b = randomBytes(5 * MiB);
    const { uploadId, completed } = await uploadParts(srv, 'replace', [
      a,
      Buffer.from('tail'),
      Buffer.from('x'),
    ]);
    const again = await srv.s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key: 'replace', UploadId: uploadId, PartNumber: 1, Body: b }),
    );
    assert.equal(again.ETag, `"${md5hex(b)}"`);
    await srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'replace',
        UploadId: uploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: again.ETag! }, completed[1]!] },
      }),
    );
    assert.equal(
      sha256hex(await download(srv, 'replace')),
      sha256hex(Buffer.concat([b, Buffer.from('tail')])),
    );
  },
);

// --- errors -----------------------------------------------------------------------------------------

M('InvalidPart: a part not uploaded, or listed with another ETag', async ({ srv }) => {
  const { uploadId, completed } = await uploadParts(srv, 'invalid-part', [
    randomBytes(5 * MiB),
    Buffer.from('b'),
  ]);
  const complete = (parts: CompletedPart[]) =>
    srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'invalid-part',
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  let e = await s3Error(complete([completed[0]!, { PartNumber: 3, ETag: completed[1]!.ETag! }]));
  assert.equal(e.name, 'InvalidPart');
  assert.equal(e.$metadata.httpStatusCode, 400);
  e = await s3Error(complete([completed[0]!, { PartNumber: 2, ETag: `"${'0'.repeat(32)}"` }]));
  assert.equal(e.name, 'InvalidPart');
  // The upload is still there: a right list completes it.
  await complete(completed);
});

M('InvalidPartOrder: parts out of order or repeated', async ({ srv }) => {
  const { uploadId, completed } = await uploadParts(srv, 'order', [randomBytes(5 * MiB), Buffer.from('b')]);
  for (const parts of [
    [completed[1]!, completed[0]!],
    [completed[0]!, completed[0]!],
  ]) {
    const e = await s3Error(
      srv.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: 'order',
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
    assert.equal(e.name, 'InvalidPartOrder');
    assert.equal(e.$metadata.httpStatusCode, 400);
  }
});

M('EntityTooSmall: a part under 5 MiB that is not the last', async ({ srv }) => {
  const { uploadId, completed } = await uploadParts(srv, 'small', [
    randomBytes(5 * MiB - 1),
    Buffer.from('last'),
  ]);
  const e = await s3Error(
    srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'small',
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      }),
    ),
  );
  assert.equal(e.name, 'EntityTooSmall');
  assert.equal(e.$metadata.httpStatusCode, 400);
  // The small part alone is the last part: fine.
  await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'small',
      UploadId: uploadId,
      MultipartUpload: { Parts: [completed[0]!] },
    }),
  );
  assert.equal((await download(srv, 'small')).length, 5 * MiB - 1);
});

M('NoSuchUpload for an unknown, aborted or completed upload id', async ({ srv }) => {
  const ids = ['A'.repeat(32), 'not-an-upload-id', '../../etc/passwd'];
  const { uploadId, completed } = await uploadParts(srv, 'gone', [Buffer.from('x')]);
  await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'gone',
      UploadId: uploadId,
      MultipartUpload: { Parts: completed },
    }),
  );
  ids.push(uploadId);
  for (const id of ids) {
    const calls: [string, () => Promise<unknown>][] = [
      [
        'UploadPart',
        () =>
          srv.s3.send(
            new UploadPartCommand({ Bucket: BUCKET, Key: 'gone', UploadId: id, PartNumber: 1, Body: 'x' }),
          ),
      ],
      ['ListParts', () => srv.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'gone', UploadId: id }))],
      [
        'Complete',
        () =>
          srv.s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: BUCKET,
              Key: 'gone',
              UploadId: id,
              MultipartUpload: { Parts: completed },
            }),
          ),
      ],
      [
        'Abort',
        () => srv.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'gone', UploadId: id })),
      ],
    ];
    for (const [what, call] of calls) {
      // AWS: completing a completed upload again with the same parts answers as the first time did
      // (multipartCompletion.test.ts).
      if (what === 'Complete' && id === uploadId) continue;
      const e = await s3Error(call());
      assert.equal(e.name, 'NoSuchUpload', `${what} ${id}`);
      assert.equal(e.$metadata.httpStatusCode, 404);
    }
  }
  // An upload of another key is not this key's upload.
  const other = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'other' }));
  const e = await s3Error(
    srv.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'gone', UploadId: other.UploadId! })),
  );
  assert.equal(e.name, 'NoSuchUpload');
});

M('MalformedXML: a body that is not a CompleteMultipartUpload with parts', async ({ srv }) => {
  const { uploadId } = await uploadParts(srv, 'xml', [Buffer.from('x')]);
  const post = (body: string) =>
    raw(srv, { method: 'POST', path: `/${BUCKET}/xml`, query: { uploadId }, body });
  for (const body of [
    '<CompleteMultipartUpload>',
    'not xml at all',
    '<CompleteMultipartUpload></CompleteMultipartUpload>',
    '<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>',
    '<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>',
    '<!DOCTYPE x [<!ENTITY a "b">]><CompleteMultipartUpload/>',
    `<CompleteMultipartUpload>${'<Part><PartNumber>1</PartNumber><ETag>x</ETag></Part>'.repeat(90000)}</CompleteMultipartUpload>`,
  ]) {
    const r = await post(body);
    assert.equal(r.status, 400, body.slice(0, 80));
    assert.match(r.body, /<Code>MalformedXML<\/Code>/, body.slice(0, 80));
  }
  const empty = await post('');
  assert.equal(empty.status, 400);
  assert.match(empty.body, /<Code>(MissingRequestBodyError|MalformedXML)<\/Code>/);
});

M(
  'part numbers 0 and 10001 are InvalidArgument, in the query and in the completion list',
  async ({ srv }) => {
    const { uploadId, completed } = await uploadParts(srv, 'pn', [Buffer.from('x')]);
    for (const pn of ['0', '10001', '-1', 'x']) {
      const r = await raw(srv, {
        method: 'PUT',
        path: `/${BUCKET}/pn`,
        query: { partNumber: pn, uploadId },
        body: 'x',
      });
      assert.equal(r.status, 400, pn);
      assert.match(r.body, /<Code>InvalidArgument<\/Code>/);
      assert.match(r.body, /<ArgumentName>partNumber<\/ArgumentName>/);
    }
    const ok = await raw(srv, {
      method: 'PUT',
      path: `/${BUCKET}/pn`,
      query: { partNumber: '10000', uploadId },
      body: 'y',
    });
    assert.equal(ok.status, 200, ok.body);
    for (const pn of ['0', '10001']) {
      const r = await raw(srv, {
        method: 'POST',
        path: `/${BUCKET}/pn`,
        query: { uploadId },
        body: `<CompleteMultipartUpload><Part><PartNumber>${pn}</PartNumber><ETag>${completed[0]!.ETag}</ETag></Part></CompleteMultipartUpload>`,
      });
      assert.equal(r.status, 400);
      assert.match(r.body, /<Code>InvalidArgument<\/Code>/);
    }
  },
);

M('UploadPart checks Content-MD5 and x-amz-checksum-* before it keeps the part', async ({ srv }) => {
  const { UploadId } = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'digest' }));
  const body = Buffer.from('part data');
  const badMd5 = createHash('md5').update('other').digest('base64');
  let e = await s3Error(
    srv.s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'digest',
        UploadId,
        PartNumber: 1,
        Body: body,
        ContentMD5: badMd5,
      }),
    ),
  );
  assert.equal(e.name, 'BadDigest');
  const r = await raw(srv, {
    method: 'PUT',
    path: `/${BUCKET}/digest`,
    query: { partNumber: '1', uploadId: UploadId! },
    headers: { 'content-md5': 'not-base64' },
    body,
  });
  assert.match(r.body, /<Code>InvalidDigest<\/Code>/);
  const wrongCrc = Buffer.alloc(4, 7).toString('base64');
  e = await s3Error(
    srv.s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: 'digest',
        UploadId,
        PartNumber: 1,
        Body: body,
        ChecksumCRC32: wrongCrc,
      }),
    ),
  );
  assert.equal(e.name, 'BadDigest');
  // Nothing was kept.
  const none = await srv.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'digest', UploadId }));
  assert.equal(none.Parts, undefined);

  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  const good = await srv.s3.send(
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: 'digest',
      UploadId,
      PartNumber: 1,
      Body: body,
      ChecksumAlgorithm: 'CRC32',
      ContentMD5: createHash('md5').update(body).digest('base64'),
    }),
  );
  assert.equal(good.ETag, `"${md5hex(body)}"`);
  assert.equal(good.ChecksumCRC32, crc.toString('base64'));
  const sha = await srv.s3.send(
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: 'digest',
      UploadId,
      PartNumber: 2,
      Body: body,
      ChecksumAlgorithm: 'SHA256',
    }),
  );
  assert.equal(sha.ChecksumSHA256, createHash('sha256').update(body).digest('base64'));
  const parts = await srv.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'digest', UploadId }));
  assert.equal(parts.Parts![0]!.ChecksumCRC32, crc.toString('base64'));
  assert.equal(parts.Parts![1]!.ChecksumSHA256, sha.ChecksumSHA256);
});

M(
  'an upload made with a checksum algorithm: every part carries it, the object its composite',
  async ({ srv }) => {
    const key = 'checksum/composite';
    const created = await srv.s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'SHA256' }),
    );
    assert.equal(created.ChecksumAlgorithm, 'SHA256');
    const UploadId = created.UploadId!;
    const bodies = [randomBytes(5 * MiB), randomBytes(777)];
    const parts: CompletedPart[] = [];
    for (const [i, b] of bodies.entries()) {
      // No checksum named on the part: the upload's is computed anyway.
      const r = await raw(srv, {
        method: 'PUT',
        path: `/${BUCKET}/${key}`,
        query: { partNumber: String(i + 1), uploadId: UploadId },
        body: b,
      });
      assert.equal(r.status, 200, r.body);
      parts.push({
        PartNumber: i + 1,
        ETag: r.headers.get('etag')!,
        ChecksumSHA256: r.headers.get('x-amz-checksum-sha256')!,
      });
      assert.equal(parts[i]!.ChecksumSHA256, createHash('sha256').update(b).digest('base64'));
    }
    const listed = await srv.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    assert.equal(listed.ChecksumAlgorithm, 'SHA256');
    assert.equal(listed.ChecksumType, 'COMPOSITE');
    assert.deepEqual(
      listed.Parts!.map((p) => p.ChecksumSHA256),
      parts.map((p) => p.ChecksumSHA256),
    );
    const wrong = await s3Error(
      srv.s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: BUCKET,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [parts[0]!, { ...parts[1]!, ChecksumSHA256: parts[0]!.ChecksumSHA256 }] },
        }),
      ),
    );
    assert.equal(wrong.name, 'InvalidPart');
    const done = await srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const composite = createHash('sha256')
      .update(Buffer.concat(parts.map((p) => Buffer.from(p.ChecksumSHA256!, 'base64'))))
      .digest('base64');
    assert.equal(done.ChecksumSHA256, `${composite}-2`);
    assert.equal(done.ChecksumType, 'COMPOSITE');
    const got = await srv.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }),
    );
    assert.equal(got.ChecksumSHA256, `${composite}-2`);
    assert.equal(
      sha256hex(Buffer.from(await got.Body!.transformToByteArray())),
      sha256hex(Buffer.concat(bodies)),
    );
  },
);

M(
  'a part over 5 GiB is EntityTooLarge before a byte is read; a part of unknown size is refused',
  async () => {
    let touched = false;
    const objects = new Proxy(
      {},
      {
        get() {
          touched = true;
          throw new Error('the object layer was used');
        },
      },
    );
    const ctx = (bodyLength: number) =>
      ({
        requestId: 'r',
        route: { action: 'UploadPart', bucket: 'b', key: 'k', params: { uploadId: 'u', partNumber: 1 } },
        headers: {},
        bodyLength,
        body: Readable.from([]),
        objects,
        signal: new AbortController().signal,
      }) as unknown as ReqCtx<RouteOf<'UploadPart'>>;
    for (const [len, code] of [
      [5 * 1024 ** 3 + 1, 'EntityTooLarge'],
      [-1, 'MissingContentLength'],
    ] as const) {
      try {
        await UploadPart(ctx(len));
        assert.fail('expected an error');
      } catch (e) {
        assert.ok(isS3Error(e, code), String(e));
      }
    }
    assert.equal(touched, false);
  },
);

// --- UploadPartCopy ---------------------------------------------------------------------------------

M('UploadPartCopy copies a whole object and a byte range into parts', async ({ srv }) => {
  const src = randomBytes(6 * MiB + 100);
  await srv.server.objects.putObject(BUCKET, 'copy/src', Readable.from([src]), { size: src.length });
  const { UploadId } = await srv.s3.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'copy/dst' }),
  );
  const whole = await srv.s3.send(
    new UploadPartCopyCommand({
      Bucket: BUCKET,
      Key: 'copy/dst',
      UploadId,
      PartNumber: 1,
      CopySource: `${BUCKET}/copy/src`,
    }),
  );
  assert.equal(whole.CopyPartResult?.ETag, `"${md5hex(src)}"`);
  assert.ok(whole.CopyPartResult?.LastModified instanceof Date);
  assert.equal(whole.CopySourceVersionId, undefined);
  const ranged = await srv.s3.send(
    new UploadPartCopyCommand({
      Bucket: BUCKET,
      Key: 'copy/dst',
      UploadId,
      PartNumber: 2,
      CopySource: `/${BUCKET}/copy%2Fsrc`,
      CopySourceRange: 'bytes=100-5242979',
      CopySourceIfMatch: `"${md5hex(src)}"`,
    }),
  );
  const slice = src.subarray(100, 5242980);
  assert.equal(ranged.CopyPartResult?.ETag, `"${md5hex(slice)}"`);
  const last = await srv.s3.send(
    new UploadPartCopyCommand({
      Bucket: BUCKET,
      Key: 'copy/dst',
      UploadId,
      PartNumber: 3,
      CopySource: `${BUCKET}/copy/src`,
      CopySourceRange: `bytes=${src.length - 1}-${src.length - 1}`,
    }),
  );
  const done = await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'copy/dst',
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: whole.CopyPartResult!.ETag! },
          { PartNumber: 2, ETag: ranged.CopyPartResult!.ETag! },
          { PartNumber: 3, ETag: last.CopyPartResult!.ETag! },
        ],
      },
    }),
  );
  const want = Buffer.concat([src, slice, src.subarray(src.length - 1)]);
  assert.equal(done.ETag, multipartEtag([src, slice, src.subarray(src.length - 1)]));
  assert.equal(sha256hex(await download(srv, 'copy/dst')), sha256hex(want));
});

M('UploadPartCopy: source conditions, bad ranges, missing sources', async ({ srv }) => {
  const src = Buffer.from('0123456789');
  await srv.server.objects.putObject(BUCKET, 'copy/small', Readable.from([src]), { size: src.length });
  const { UploadId } = await srv.s3.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'copy/cond' }),
  );
  const copy = (extra: Record<string, unknown>) =>
    srv.s3.send(
      new UploadPartCopyCommand({
        Bucket: BUCKET,
        Key: 'copy/cond',
        UploadId,
        PartNumber: 1,
        CopySource: `${BUCKET}/copy/small`,
        ...extra,
      }),
    );
  let e = await s3Error(copy({ CopySourceIfMatch: '"00000000000000000000000000000000"' }));
  assert.equal(e.name, 'PreconditionFailed');
  assert.equal(e.$metadata.httpStatusCode, 412);
  e = await s3Error(copy({ CopySourceIfNoneMatch: `"${md5hex(src)}"` }));
  assert.equal(e.name, 'PreconditionFailed');
  e = await s3Error(copy({ CopySourceIfUnmodifiedSince: new Date(Date.now() - 86_400_000) }));
  assert.equal(e.name, 'PreconditionFailed');
  await copy({ CopySourceIfModifiedSince: new Date(Date.now() - 86_400_000) });
  for (const range of ['bytes=5-10', 'bytes=3-2', 'bytes=0-', 'bytes=-3', 'chars=0-1']) {
    e = await s3Error(copy({ CopySourceRange: range }));
    assert.equal(e.name, 'InvalidArgument', range);
  }
  e = await s3Error(copy({ CopySource: `${BUCKET}/copy/none` }));
  assert.equal(e.name, 'NoSuchKey');
  e = await s3Error(copy({ CopySource: 'no-such-bucket/x' }));
  assert.equal(e.name, 'NoSuchBucket');
  e = await s3Error(copy({ CopySource: 'justabucket' }));
  assert.equal(e.name, 'InvalidArgument');
  e = await s3Error(copy({ UploadId: 'B'.repeat(32) }));
  assert.equal(e.name, 'NoSuchUpload');
});

// --- ListParts --------------------------------------------------------------------------------------

M(
  'ListParts pages with max-parts and part-number-marker; Initiator, Owner, StorageClass',
  async ({ srv }) => {
    const { UploadId } = await srv.s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts', StorageClass: 'REDUCED_REDUNDANCY' }),
    );
    const bodies = new Map<number, Buffer>();
    for (const n of [1, 2, 3, 5, 8, 13, 21]) {
      const b = randomBytes(100 + n);
      bodies.set(n, b);
      await srv.s3.send(
        new UploadPartCommand({ Bucket: BUCKET, Key: 'parts', UploadId, PartNumber: n, Body: b }),
      );
    }
    const seen: number[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await srv.s3.send(
        new ListPartsCommand({
          Bucket: BUCKET,
          Key: 'parts',
          UploadId,
          MaxParts: 3,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      );
      assert.equal(r.MaxParts, 3);
      assert.equal(r.PartNumberMarker, marker ?? '0');
      assert.equal(r.StorageClass, 'REDUCED_REDUNDANCY');
      assert.match(r.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
      assert.equal(r.Initiator?.ID, r.Owner?.ID);
      assert.equal(r.Bucket, BUCKET);
      assert.equal(r.Key, 'parts');
      assert.equal(r.UploadId, UploadId);
      for (const p of r.Parts ?? []) {
        const b = bodies.get(p.PartNumber!)!;
        assert.equal(p.ETag, `"${md5hex(b)}"`);
        assert.equal(p.Size, b.length);
        assert.ok(p.LastModified instanceof Date);
        seen.push(p.PartNumber!);
      }
      assert.equal(r.NextPartNumberMarker, String(r.Parts![r.Parts!.length - 1]!.PartNumber));
      if (!r.IsTruncated) break;
      marker = r.NextPartNumberMarker;
    }
    assert.deepEqual(seen, [1, 2, 3, 5, 8, 13, 21]);
    const tail = await srv.s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'parts', UploadId, PartNumberMarker: '8' }),
    );
    assert.deepEqual(
      tail.Parts!.map((p) => p.PartNumber),
      [13, 21],
    );
    assert.equal(tail.IsTruncated, false);
    const none = await srv.s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'parts', UploadId, MaxParts: 0 }),
    );
    assert.equal(none.Parts, undefined);
    assert.equal(none.IsTruncated, false);
    const past = await srv.s3.send(
      new ListPartsCommand({ Bucket: BUCKET, Key: 'parts', UploadId, PartNumberMarker: '21' }),
    );
    assert.equal(past.Parts, undefined);
    assert.equal(past.IsTruncated, false);
    await srv.s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'parts', UploadId }));
  },
);

// --- ListMultipartUploads ---------------------------------------------------------------------------

M(
  'ListMultipartUploads: prefix, delimiter, key and upload id markers, max-uploads, CommonPrefixes',
  async ({ srv }) => {
    const bucket = 'uploads';
    await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const keys = ['a/1', 'a/2', 'b', 'b', 'b', 'c/d/e', 'c/x', 'c/x', 'd e', 'e+f/g', 'z'];
    const made: { key: string; id: string }[] = [];
    for (const key of keys) {
      const r = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      made.push({ key, id: r.UploadId! });
      await new Promise((res) => setTimeout(res, 3)); // distinct initiation times
    }
    // S3 order: by key, then by initiation time.
    const all = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.deepEqual(
      all.Uploads!.map((u) => [u.Key, u.UploadId]),
      made.map((m) => [m.key, m.id]),
    );
    for (const u of all.Uploads!) {
      assert.equal(u.StorageClass, 'STANDARD');
      assert.ok(u.Initiated instanceof Date);
      assert.match(u.Owner?.ID ?? '', /^[0-9a-f]{64}$/);
      assert.equal(u.Initiator?.ID, u.Owner?.ID);
    }
    assert.equal(all.IsTruncated, false);
    assert.equal(all.MaxUploads, 1000);

    // Paging one at a time with both markers visits every upload once.
    const paged: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await srv.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          MaxUploads: 2,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker, UploadIdMarker: idMarker } : {}),
        }),
      );
      for (const u of r.Uploads ?? []) paged.push(u.UploadId!);
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
    }
    assert.deepEqual(
      paged,
      made.map((m) => m.id),
    );

    // A key marker alone: keys after it.
    const afterB = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: 'b' }));
    assert.deepEqual(
      afterB.Uploads!.map((u) => u.Key),
      ['c/d/e', 'c/x', 'c/x', 'd e', 'e+f/g', 'z'],
    );
    // With the id of b's first upload: b's later uploads, then the rest.
    const bIds = made.filter((m) => m.key === 'b').map((m) => m.id);
    const afterB1 = await srv.s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: 'b', UploadIdMarker: bIds[0] }),
    );
    assert.deepEqual(
      afterB1.Uploads!.slice(0, 2).map((u) => u.UploadId),
      bIds.slice(1),
    );

    const delim = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: '/' }));
    assert.deepEqual(
      delim.Uploads!.map((u) => u.Key),
      ['b', 'b', 'b', 'd e', 'z'],
    );
    assert.deepEqual(
      delim.CommonPrefixes!.map((p) => p.Prefix),
      ['a/', 'c/', 'e+f/'],
    );
    assert.equal(delim.Delimiter, '/');

    const inC = await srv.s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: '/', Prefix: 'c/' }),
    );
    assert.deepEqual(
      inC.Uploads!.map((u) => u.Key),
      ['c/x', 'c/x'],
    );
    assert.deepEqual(
      inC.CommonPrefixes!.map((p) => p.Prefix),
      ['c/d/'],
    );
    assert.equal(inC.Prefix, 'c/');

    // Common prefixes count against max-uploads and page like keys.
    const entries: string[] = [];
    keyMarker = undefined;
    idMarker = undefined;
    for (let i = 0; i < 20; i++) {
      const r: ListMultipartUploadsCommandOutput = await srv.s3.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Delimiter: '/',
          MaxUploads: 2,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker, UploadIdMarker: idMarker } : {}),
        }),
      );
      const here = [
        ...(r.Uploads ?? []).map((u) => `${u.Key}`),
        ...(r.CommonPrefixes ?? []).map((p) => `${p.Prefix}`),
      ];
      assert.ok(here.length <= 2);
      entries.push(...here.sort());
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      idMarker = r.NextUploadIdMarker;
    }
    assert.deepEqual(entries, ['a/', 'b', 'b', 'b', 'c/', 'd e', 'e+f/', 'z']);

    const encoded = await raw(srv, {
      method: 'GET',
      path: `/${bucket}`,
      query: { uploads: '', delimiter: '/', 'encoding-type': 'url', prefix: 'e+' },
    });
    assert.match(encoded.body, /<Prefix>e%2B<\/Prefix>/);
    assert.match(encoded.body, /<CommonPrefixes><Prefix>e%2Bf\/<\/Prefix><\/CommonPrefixes>/);
    const spaced = await raw(srv, {
      method: 'GET',
      path: `/${bucket}`,
      query: { uploads: '', 'encoding-type': 'url', prefix: 'd' },
    });
    assert.match(spaced.body, /<Key>d\+e<\/Key>/);

    const zero = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, MaxUploads: 0 }));
    assert.equal(zero.Uploads, undefined);
    assert.equal(zero.IsTruncated, false);
    const e = await s3Error(srv.s3.send(new ListMultipartUploadsCommand({ Bucket: 'no-such-bucket' })));
    assert.equal(e.name, 'NoSuchBucket');

    // Aborted uploads leave the list.
    for (const m of made) {
      const r = await srv.s3.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: m.key, UploadId: m.id }),
      );
      assert.equal(r.$metadata.httpStatusCode, 204);
    }
    const empty = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(empty.Uploads, undefined);
  },
);

M('stale uploads are cleaned up; recent ones stay', async ({ srv }) => {
  const bucket = 'stale';
  await srv.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const old = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'old' }));
  await srv.s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: 'old', UploadId: old.UploadId, PartNumber: 1, Body: 'x' }),
  );
  await new Promise((res) => setTimeout(res, 50));
  const removed = await srv.server.objects.cleanupStaleUploads(40);
  assert.ok(removed >= 1);
  const fresh = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'fresh' }));
  assert.equal(await srv.server.objects.cleanupStaleUploads(60 * 60 * 1000), 0);
  const r = await srv.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual(
    r.Uploads!.map((u) => u.UploadId),
    [fresh.UploadId],
  );
  const e = await s3Error(
    srv.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'old', UploadId: old.UploadId })),
  );
  assert.equal(e.name, 'NoSuchUpload');
});

M('CompleteMultipartUpload with If-None-Match: * refuses to overwrite an object', async ({ srv }) => {
  await srv.server.objects.putObject(BUCKET, 'cond', Readable.from([Buffer.from('there')]), { size: 5 });
  const { uploadId, completed } = await uploadParts(srv, 'cond', [Buffer.from('new')]);
  const e = await s3Error(
    srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'cond',
        UploadId: uploadId,
        IfNoneMatch: '*',
        MultipartUpload: { Parts: completed },
      }),
    ),
  );
  assert.equal(e.name, 'PreconditionFailed');
  assert.equal(e.$metadata.httpStatusCode, 412);
  const e2 = await s3Error(
    srv.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: 'cond',
        UploadId: uploadId,
        IfMatch: '"ffffffffffffffffffffffffffffffff"',
        MultipartUpload: { Parts: completed },
      }),
    ),
  );
  assert.equal(e2.name, 'PreconditionFailed');
  const ok = await srv.s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: 'cond',
      UploadId: uploadId,
      IfMatch: `"${md5hex(Buffer.from('there'))}"`,
      MultipartUpload: { Parts: completed },
    }),
  );
  assert.equal(ok.ETag, multipartEtag([Buffer.from('new')]));
});

M.run();
