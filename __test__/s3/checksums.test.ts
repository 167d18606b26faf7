import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import {
  type ChecksumAlgorithm,
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Client as MinioClient } from 'minio';
import { test } from 'uvu';
import { digest } from '../../src/s3/ops/objectCommon';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;
const B = 'sums';

test.before(async () => {
  srv = await startServer();
  await srv.s3.send(new CreateBucketCommand({ Bucket: B }));
});
test.after(async () => {
  await srv?.stop();
});

type Alg = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
const ALGS: Alg[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
const HEADER: Record<Alg, string> = {
  CRC32: 'x-amz-checksum-crc32',
  CRC32C: 'x-amz-checksum-crc32c',
  CRC64NVME: 'x-amz-checksum-crc64nvme',
  SHA1: 'x-amz-checksum-sha1',
  SHA256: 'x-amz-checksum-sha256',
};
const FIELD: Record<
  Alg,
  'ChecksumCRC32' | 'ChecksumCRC32C' | 'ChecksumCRC64NVME' | 'ChecksumSHA1' | 'ChecksumSHA256'
> = {
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  CRC64NVME: 'ChecksumCRC64NVME',
  SHA1: 'ChecksumSHA1',
  SHA256: 'ChecksumSHA256',
};

const b64 = (alg: Alg, data: string | Buffer) => digest(alg, Buffer.from(data)).toString('base64');

async function fails(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
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

/** An `STREAMING-UNSIGNED-PAYLOAD-TRAILER` body, as SDKs send for streams, with the trailer given. */
function chunkedPut(key: string, data: Buffer, trailer: { name: string; value: string }): Promise<Response> {
  const body = Buffer.concat([
    Buffer.from(`${data.length.toString(16)}\r\n`),
    data,
    Buffer.from(`\r\n0\r\n${trailer.name}:${trailer.value}\r\n\r\n`),
  ]);
  return signedFetch(srv, 'PUT', `/${B}/${key}`, {
    body,
    headers: {
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': trailer.name,
    },
  });
}

// --- The JS digests of small bodies ----------------------------------------------------------------------

test('digest: the CRCs match the check values and the AWS SDK implementations', async () => {
  const check = Buffer.from('123456789');
  assert.equal(digest('CRC32', check).toString('hex'), 'cbf43926');
  assert.equal(digest('CRC32C', check).toString('hex'), 'e3069283');
  assert.equal(digest('CRC64NVME', check).toString('hex'), 'ae8b14860a799888');
  for (const size of [0, 1, 7, 8, 9, 1000, 65537]) {
    const data = randomBytes(size);
    for (const [alg, C] of [
      ['CRC32', Crc32],
      ['CRC32C', Crc32c],
      ['CRC64NVME', Crc64Nvme],
    ] as const) {
      const h = new C();
      h.update(data);
      assert.deepEqual(digest(alg, data), Buffer.from(await h.digest()), `${alg} of ${size} bytes`);
    }
    assert.deepEqual(digest('SHA256', data), createHash('sha256').update(data).digest());
    assert.deepEqual(digest('SHA1', data), createHash('sha1').update(data).digest());
    assert.deepEqual(digest('md5', data), createHash('md5').update(data).digest());
  }
});

// --- PutObject -----------------------------------------------------------------------------------------

test('PutObject with the SDK defaults (CRC32) returns the checksum; GetObject returns it with checksum mode', async () => {
  const body = 'checksummed by default';
  const p = await srv.s3.send(new PutObjectCommand({ Bucket: B, Key: 'default', Body: body }));
  assert.equal(p.ChecksumCRC32, b64('CRC32', body));
  assert.equal(p.ChecksumType, 'FULL_OBJECT');
  const g = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'default', ChecksumMode: 'ENABLED' }));
  assert.equal(await g.Body!.transformToString(), body);
  assert.equal(g.ChecksumCRC32, b64('CRC32', body));
  assert.equal(g.ChecksumType, 'FULL_OBJECT');
  const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: 'default', ChecksumMode: 'ENABLED' }));
  assert.equal(h.ChecksumCRC32, b64('CRC32', body));
});

test('PutObject computes, checks and stores each algorithm given as a header', async () => {
  const body = randomBytes(3 * 1024 * 1024 + 17);
  for (const alg of ALGS) {
    const key = `header-${alg}`;
    const p = await srv.s3.send(
      new PutObjectCommand({ Bucket: B, Key: key, Body: body, ChecksumAlgorithm: alg as ChecksumAlgorithm }),
    );
    assert.equal(p[FIELD[alg]], b64(alg, body), alg);
    const g = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
    assert.deepEqual(Buffer.from(await g.Body!.transformToByteArray()), body, alg);
    assert.equal(g[FIELD[alg]], b64(alg, body), alg);
    const a = await srv.s3.send(
      new GetObjectAttributesCommand({ Bucket: B, Key: key, ObjectAttributes: ['Checksum'] }),
    );
    assert.equal(a.Checksum?.[FIELD[alg]], b64(alg, body), alg);
  }
});

test('PutObject of a stream sends the checksum as an aws-chunked trailer; it is checked and stored', async () => {
  const body = randomBytes(2 * 1024 * 1024 + 5);
  for (const alg of ALGS) {
    const key = `trailer-${alg}`;
    const p = await srv.s3.send(
      new PutObjectCommand({
        Bucket: B,
        Key: key,
        Body: Readable.from([body.subarray(0, 1000), body.subarray(1000)]),
        ContentLength: body.length,
        ChecksumAlgorithm: alg as ChecksumAlgorithm,
      }),
    );
    assert.equal(p[FIELD[alg]], b64(alg, body), alg);
    const h = await srv.s3.send(new HeadObjectCommand({ Bucket: B, Key: key, ChecksumMode: 'ENABLED' }));
    assert.equal(h[FIELD[alg]], b64(alg, body), alg);
  }
});

test('PutObject without any checksum stores CRC64NVME, as AWS does', async () => {
  const body = Buffer.from('no checksum sent');
  const r = await signedFetch(srv, 'PUT', `/${B}/none`, { body });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-amz-checksum-crc64nvme'), b64('CRC64NVME', body));
  assert.equal(r.headers.get('x-amz-checksum-type'), 'FULL_OBJECT');
  const g = await signedFetch(srv, 'GET', `/${B}/none`, { headers: { 'x-amz-checksum-mode': 'ENABLED' } });
  assert.equal(await g.text(), 'no checksum sent');
  assert.equal(g.headers.get('x-amz-checksum-crc64nvme'), b64('CRC64NVME', body));
  // Without checksum mode, no checksum headers.
  const g2 = await signedFetch(srv, 'GET', `/${B}/none`);
  await g2.text();
  assert.equal(g2.headers.get('x-amz-checksum-crc64nvme'), null);
  // The SDK validates what it receives (CRC64NVME included).
  const s = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'none', ChecksumMode: 'ENABLED' }));
  assert.equal(await s.Body!.transformToString(), 'no checksum sent');
});

test('a wrong x-amz-checksum-* header is BadDigest naming the algorithm, and nothing is stored', async () => {
  const body = Buffer.from('the real body');
  for (const alg of ALGS) {
    const key = `wrong-${alg}`;
    await srv.s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: 'old' }));
    const r = await signedFetch(srv, 'PUT', `/${B}/${key}`, {
      body,
      headers: { [HEADER[alg]]: b64(alg, 'something else') },
    });
    assert.equal(r.status, 400, alg);
    const xml = await r.text();
    assert.match(xml, /<Code>BadDigest<\/Code>/, alg);
    assert.ok(
      xml.includes(`<Message>The ${alg} you specified did not match the calculated checksum.</Message>`),
      xml,
    );
    assert.equal(await text(key), 'old', alg);
    const fresh = await signedFetch(srv, 'PUT', `/${B}/fresh-${key}`, {
      body,
      headers: { [HEADER[alg]]: b64(alg, 'something else') },
    });
    assert.equal(fresh.status, 400);
    assert.equal(await text(`fresh-${key}`), null, alg);
  }
});

test('a wrong checksum in an aws-chunked trailer is BadDigest, and nothing is stored', async () => {
  const data = randomBytes(100_000);
  const good = await chunkedPut('chunked', data, {
    name: 'x-amz-checksum-crc32c',
    value: b64('CRC32C', data),
  });
  assert.equal(good.status, 200, await good.text());
  assert.equal(good.headers.get('x-amz-checksum-crc32c'), b64('CRC32C', data));
  const bad = await chunkedPut('chunked', randomBytes(100_000), {
    name: 'x-amz-checksum-crc32c',
    value: b64('CRC32C', data),
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /<Code>BadDigest<\/Code><Message>The CRC32C you specified did not match/);
  const g = await srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'chunked' }));
  assert.deepEqual(Buffer.from(await g.Body!.transformToByteArray()), data);
  const bad2 = await chunkedPut('chunked-new', data, {
    name: 'x-amz-checksum-sha256',
    value: b64('SHA256', 'x'),
  });
  assert.equal(bad2.status, 400);
  await bad2.text();
  assert.equal(await text('chunked-new'), null);
});

test('malformed or several checksum headers are InvalidRequest', async () => {
  const r = await signedFetch(srv, 'PUT', `/${B}/malformed`, {
    body: Buffer.from('x'),
    headers: { 'x-amz-checksum-crc32': 'not-a-crc' },
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /<Code>InvalidRequest<\/Code>/);
  const r2 = await signedFetch(srv, 'PUT', `/${B}/malformed`, {
    body: Buffer.from('x'),
    headers: { 'x-amz-checksum-crc32': b64('CRC32', 'x'), 'x-amz-checksum-sha1': b64('SHA1', 'x') },
  });
  assert.equal(r2.status, 400);
  assert.match(await r2.text(), /Multiple checksum Types are not allowed/);
  const r3 = await signedFetch(srv, 'PUT', `/${B}/malformed`, {
    body: Buffer.from('x'),
    headers: { 'x-amz-checksum-crc32': b64('CRC32', 'x'), 'x-amz-sdk-checksum-algorithm': 'SHA256' },
  });
  assert.equal(r3.status, 400);
  assert.match(await r3.text(), /<Code>InvalidRequest<\/Code>/);
  assert.equal(await text('malformed'), null);
});

test('x-amz-sdk-checksum-algorithm alone has the server compute that checksum', async () => {
  const r = await signedFetch(srv, 'PUT', `/${B}/sdk-alg`, {
    body: Buffer.from('abc'),
    headers: { 'x-amz-sdk-checksum-algorithm': 'SHA1' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-amz-checksum-sha1'), b64('SHA1', 'abc'));
});

test('a ranged GET carries no whole-object checksum', async () => {
  const g = await signedFetch(srv, 'GET', `/${B}/default`, {
    headers: { 'x-amz-checksum-mode': 'ENABLED', range: 'bytes=0-3' },
  });
  assert.equal(g.status, 206);
  await g.text();
  assert.equal(g.headers.get('x-amz-checksum-crc32'), null);
  const s = await srv.s3.send(
    new GetObjectCommand({ Bucket: B, Key: 'default', Range: 'bytes=0-3', ChecksumMode: 'ENABLED' }),
  );
  assert.equal(await s.Body!.transformToString(), 'chec');
});

// --- CopyObject and small bodies ------------------------------------------------------------------------

test('CopyObject keeps the source checksum algorithm, or computes the one asked for', async () => {
  const c = await srv.s3.send(
    new CopyObjectCommand({ Bucket: B, Key: 'copy-sha', CopySource: `${B}/header-SHA256` }),
  );
  const src = await srv.s3.send(
    new HeadObjectCommand({ Bucket: B, Key: 'header-SHA256', ChecksumMode: 'ENABLED' }),
  );
  assert.equal(c.CopyObjectResult?.ChecksumSHA256, src.ChecksumSHA256);
  const c2 = await srv.s3.send(
    new CopyObjectCommand({
      Bucket: B,
      Key: 'copy-crc32c',
      CopySource: `${B}/default`,
      ChecksumAlgorithm: 'CRC32C',
    }),
  );
  assert.equal(c2.CopyObjectResult?.ChecksumCRC32C, b64('CRC32C', 'checksummed by default'));
  assert.equal(c2.CopyObjectResult?.ChecksumType, 'FULL_OBJECT');
});

test('DeleteObjects accepts any x-amz-checksum-* in place of Content-MD5, and checks it', async () => {
  await srv.s3.send(new PutObjectCommand({ Bucket: B, Key: 'del-me', Body: 'x' }));
  const body = '<Delete><Object><Key>del-me</Key></Object></Delete>';
  for (const alg of ['CRC32C', 'CRC64NVME', 'SHA256'] as const) {
    const bad = await signedFetch(srv, 'POST', `/${B}?delete`, {
      body,
      headers: { [HEADER[alg]]: b64(alg, 'nope') },
    });
    assert.equal(bad.status, 400, alg);
    assert.match(await bad.text(), /<Code>BadDigest<\/Code>/);
  }
  assert.equal(await text('del-me'), 'x');
  const ok = await signedFetch(srv, 'POST', `/${B}?delete`, {
    body,
    headers: { [HEADER.CRC32C]: b64('CRC32C', body) },
  });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /<Deleted><Key>del-me<\/Key><\/Deleted>/);
  // The SDK's own choice (a CRC32 by default) works too.
  const r = await srv.s3.send(
    new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'gone' }] } }),
  );
  assert.equal(r.Deleted?.[0]?.Key, 'gone');
});

test('PutObjectTagging checks Content-MD5 when sent', async () => {
  const body = '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>';
  const bad = await signedFetch(srv, 'PUT', `/${B}/default?tagging`, {
    body,
    headers: { 'content-md5': createHash('md5').update('x').digest('base64') },
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /<Code>BadDigest<\/Code>/);
});

test('the minio client uploads get a CRC64NVME by default', async () => {
  const minio = new MinioClient({
    endPoint: '127.0.0.1',
    port: srv.port,
    useSSL: false,
    accessKey: srv.accessKey,
    secretKey: srv.secretKey,
    region: srv.region,
  });
  const body = Buffer.from('via minio');
  await minio.putObject(B, 'minio-sum', body, body.length);
  const h = await srv.s3.send(
    new HeadObjectCommand({ Bucket: B, Key: 'minio-sum', ChecksumMode: 'ENABLED' }),
  );
  assert.equal(h.ChecksumCRC64NVME, b64('CRC64NVME', body));
});

test('a body that fails x-amz-content-sha256 is XAmzContentSHA256Mismatch and stores nothing', async () => {
  const r = await signedFetch(srv, 'PUT', `/${B}/sha-mismatch`, {
    body: Buffer.from('actual'),
    headers: { 'x-amz-content-sha256': createHash('sha256').update('claimed').digest('hex') },
  });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  assert.equal(await text('sha-mismatch'), null);
  const e = await fails(srv.s3.send(new GetObjectCommand({ Bucket: B, Key: 'sha-mismatch' })));
  assert.equal(e.name, 'NoSuchKey');
});

test.run();
