import assert from 'node:assert/strict';
import net from 'node:net';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import { signRequest } from '../../src/auth';
import { startServer, type TestServer } from '../helpers/server';

let srv: TestServer;

test.before(async () => {
  srv = await startServer();
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
});
test.after(async () => {
  await srv?.stop();
});

/** Sends a signed request head and part of its body on a raw socket, then drops the connection. */
async function abandon(method: string, path: string, declared: number, sent: number): Promise<void> {
  const url = new URL(path, srv.endpoint);
  const signed = signRequest(
    {
      method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: { host: url.host, 'content-length': String(declared) },
      payloadHash: 'UNSIGNED-PAYLOAD',
    },
    { credentials: { accessKey: srv.accessKey, secretKey: srv.secretKey }, region: srv.region },
  );
  const head = Object.entries(signed.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  await new Promise<void>((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1', () => {
      s.write(`${method} ${url.pathname}${url.search} HTTP/1.1\r\n${head}\r\n\r\n`);
      s.write(Buffer.alloc(sent, 1));
      setImmediate(() => s.destroy());
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

test('clients that drop mid-body on any body-taking operation never take the server down', async () => {
  const targets = [
    ['PUT', '/bkt/obj'],
    ['PUT', '/bkt?tagging'],
    ['PUT', '/bkt?cors'],
    ['POST', '/bkt?delete'],
    ['PUT', '/bkt/obj?tagging'],
    ['POST', '/bkt/obj?uploadId=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['PUT', '/nobucket/obj'],
  ] as const;
  for (let i = 0; i < 300; i++) {
    const [method, path] = targets[i % targets.length]!;
    await abandon(method, path, 100_000, i % 3 === 0 ? 0 : 1000);
  }
  // Still serving, and nothing half-written is visible.
  const body = Buffer.from('still here');
  await srv.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'after', Body: body }));
  const got = await srv.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'after' }));
  assert.equal(await got.Body!.transformToString(), 'still here');
  await assert.rejects(
    srv.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'obj' })),
    /NoSuchKey|does not exist/,
  );
});

test.run();
