import http from 'node:http';
import net from 'node:net';
import {
  CreateBucketCommand,
  ListBucketsCommand,
  PutBucketCorsCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { presignRequest, sha256Hex, signRequest } from '../../src/auth';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

let srv: TestServer;

test.before(async () => {
  srv = await startServer({ server: { idleTimeoutMs: 1_000 } });
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'web' }));
  await srv.s3.send(
    new PutBucketCorsCommand({
      Bucket: 'web',
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: ['https://app.example.com'],
            AllowedMethods: ['GET', 'PUT'],
            AllowedHeaders: ['content-type', 'x-amz-*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 300,
          },
          { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
        ],
      },
    }),
  );
});
test.after(async () => {
  await srv?.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything received, interim responses included. */
  raw: string;
}

/** Parses the last complete response in `raw` (after any `100 Continue`). */
function parseResponse(raw: string): RawResponse | undefined {
  let text = raw;
  while (text.startsWith('HTTP/1.1 100')) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    text = text.slice(end + 4);
  }
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = text.slice(0, end).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
  }
  const body = text.slice(end + 4);
  const len = Number(headers['content-length'] ?? 0);
  if (Buffer.byteLength(body) < len) return undefined;
  return { status, headers, body, raw };
}

/** A raw connection: write what you like, read what comes back. */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let raw = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    raw += d;
    for (const w of waiters.splice(0)) w();
  });
  socket.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  const until = (pred: () => boolean, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(raw)}`)),
        ms,
      );
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  return {
    socket,
    write: (s: string | Buffer) => new Promise<void>((r) => socket.write(s, () => r())),
    get raw() {
      return raw;
    },
    get closed() {
      return closed;
    },
    /** Resolves with the first complete response. */
    response: async (ms = 5_000): Promise<RawResponse> => {
      await until(() => parseResponse(raw) !== undefined || closed, ms, 'a response');
      const r = parseResponse(raw);
      if (!r) throw new Error(`connection closed without a complete response: ${JSON.stringify(raw)}`);
      return r;
    },
    waitClosed: (ms = 5_000) => until(() => closed, ms, 'the connection to close'),
    waitFor: (s: string, ms = 5_000) => until(() => raw.includes(s), ms, JSON.stringify(s)),
  };
}

/** A signed request's head, written by hand. */
function signedHead(
  method: string,
  pathAndQuery: string,
  body: string,
  extra: Record<string, string> = {},
  contentLength = Buffer.byteLength(body),
): string {
  const url = new URL(pathAndQuery, srv.endpoint);
  const signed = signRequest(
    { method, path: url.pathname, query: url.search.slice(1), headers: { host: url.host, ...extra }, body },
    { credentials: { accessKey: srv.accessKey, secretKey: srv.secretKey }, region: srv.region },
  );
  const lines = [`${method} ${pathAndQuery} HTTP/1.1`];
  for (const [k, v] of Object.entries(signed.headers)) lines.push(`${k}: ${v}`);
  lines.push(`content-length: ${contentLength}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

const CORS_BODY =
  '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';

async function healthy(port = srv.port): Promise<boolean> {
  const r = await fetch(`http://127.0.0.1:${port}/minio/health/live`);
  return r.status === 200;
}

// --- health and the headers of every response --------------------------------------------------

test('health: live and ready answer 200 without credentials', async () => {
  const live = await fetch(`${srv.endpoint}/minio/health/live`);
  assert.is(live.status, 200);
  const ready = await fetch(`${srv.endpoint}/minio/health/ready`);
  assert.is(ready.status, 200);
  const head = await fetch(`${srv.endpoint}/minio/health/live`, { method: 'HEAD' });
  assert.is(head.status, 200);
});

test('health: ready is 503 when a set loses read quorum', async () => {
  const one = await startServer({ drives: 4 });
  try {
    const { rm } = await import('node:fs/promises');
    // 4 drives, parity 2: reads need 2. Take 3 away.
    for (const r of one.roots.slice(0, 3)) await rm(r, { recursive: true, force: true });
    const ready = await fetch(`${one.endpoint}/minio/health/ready`);
    assert.is(ready.status, 503);
    const live = await fetch(`${one.endpoint}/minio/health/live`);
    assert.is(live.status, 200);
  } finally {
    await one.stop();
  }
});

test("health: /minio/health/cluster and /cluster/read answer by write and read quorum, with MinIO's headers", async () => {
  const one = await startServer({ drives: 4 });
  const probe = async (path: string, method = 'GET') => {
    const r = await fetch(`${one.endpoint}${path}`, { method });
    return {
      status: r.status,
      wq: r.headers.get('x-minio-write-quorum'),
      rq: r.headers.get('x-minio-read-quorum'),
      defaults: r.headers.get('x-minio-storage-class-defaults'),
    };
  };
  try {
    const { rm } = await import('node:fs/promises');
    // 4 drives, parity 2: writes need 3, reads 2.
    assert.equal(await probe('/minio/health/cluster'), { status: 200, wq: '3', rq: null, defaults: 'true' });
    assert.equal(await probe('/minio/health/cluster/read'), {
      status: 200,
      wq: null,
      rq: '2',
      defaults: 'true',
    });
    assert.is((await probe('/minio/health/cluster', 'HEAD')).status, 200);
    // Taking the only node down for maintenance would lose everything.
    assert.is((await probe('/minio/health/cluster?maintenance=true')).status, 412);
    await rm(one.roots[0]!, { recursive: true, force: true });
    assert.is((await probe('/minio/health/cluster')).status, 200);
    await rm(one.roots[1]!, { recursive: true, force: true });
    assert.is((await probe('/minio/health/cluster')).status, 503);
    assert.is((await probe('/minio/health/cluster/read')).status, 200);
    assert.is((await fetch(`${one.endpoint}/minio/health/ready`)).status, 200);
    await rm(one.roots[2]!, { recursive: true, force: true });
    assert.is((await probe('/minio/health/cluster/read')).status, 503);
  } finally {
    await one.stop();
  }
});

test('every response carries x-amz-request-id, x-amz-id-2, Server and Date', async () => {
  const responses = [
    await fetch(`${srv.endpoint}/minio/health/live`),
    await fetch(`${srv.endpoint}/web`),
    await signedFetch(srv, 'GET', '/web?location'),
    await signedFetch(srv, 'GET', '/no-such-bucket?location'),
  ];
  const ids = new Set<string>();
  for (const r of responses) {
    const id = r.headers.get('x-amz-request-id');
    assert.ok(id && /^[0-9A-F]{16}$/.test(id), `request id ${id}`);
    ids.add(id);
    assert.ok(r.headers.get('x-amz-id-2'));
    assert.is(r.headers.get('server'), 'Cairn');
    assert.ok(r.headers.get('date') && !Number.isNaN(Date.parse(r.headers.get('date')!)));
  }
  assert.is(ids.size, responses.length);
  const err = await responses[3]!.text();
  assert.match(err, `<RequestId>${responses[3]!.headers.get('x-amz-request-id')}</RequestId>`);
  assert.match(err, '<Resource>/no-such-bucket</Resource>');
  assert.is(responses[3]!.headers.get('content-type'), 'application/xml');
});

test('S3 requests and the Koa surfaces are told apart by path: a bucket named minio or cairn is S3', async () => {
  // The S3 path skips Koa; `/minio/...`, the admin prefix and POST / go through it (and to S3 from there).
  for (const bucket of ['minio', 'cairn']) {
    assert.is((await signedFetch(srv, 'PUT', `/${bucket}`)).status, 200);
    const put = await signedFetch(srv, 'PUT', `/${bucket}/admin/v2/health`, { body: 'not a probe' });
    assert.is(put.status, 200);
    const got = await signedFetch(srv, 'GET', `/${bucket}/admin/v2/health`);
    assert.is(got.status, 200);
    assert.is(await got.text(), 'not a probe');
    assert.ok(/^[0-9A-F]{16}$/.test(got.headers.get('x-amz-request-id') ?? ''));
    const list = await signedFetch(srv, 'GET', `/${bucket}?list-type=2`);
    assert.match(await list.text(), '<Key>admin/v2/health</Key>');
    assert.is((await signedFetch(srv, 'DELETE', `/${bucket}/admin/v2/health`)).status, 204);
    assert.is((await signedFetch(srv, 'DELETE', `/${bucket}`)).status, 204);
  }
  // The health probe itself is not S3.
  const live = await fetch(`${srv.endpoint}/minio/health/live`);
  assert.is(live.status, 200);
  assert.is(await live.text(), '');
  // A request target that is not a path: InvalidURI, as XML, and the server keeps serving.
  const c = connect(srv.port);
  await c.write('GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const star = await c.response();
  assert.is(star.status, 400);
  assert.match(star.body, '<Code>InvalidURI</Code>');
  assert.is((await fetch(`${srv.endpoint}/minio/health/live`)).status, 200);
});

// --- authentication -------------------------------------------------------------------------------

test('an anonymous request is 403 AccessDenied, as XML', async () => {
  const r = await fetch(`${srv.endpoint}/web/some-key`);
  assert.is(r.status, 403);
  const body = await r.text();
  assert.match(body, '<Code>AccessDenied</Code>');
  assert.match(body, '<Message>Access Denied</Message>');
  assert.not.match(body, 'at ');
  const list = await fetch(`${srv.endpoint}/`);
  assert.is(list.status, 403);
});

async function sdkError(client: S3Client): Promise<S3ServiceException> {
  try {
    await client.send(new ListBucketsCommand({}));
  } catch (e) {
    return e as S3ServiceException;
  } finally {
    client.destroy();
  }
  throw new Error('expected an error');
}

function client(accessKeyId: string, secretAccessKey: string): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

test('a wrong secret is SignatureDoesNotMatch', async () => {
  const e = await sdkError(client(srv.accessKey, 'definitely-wrong'));
  assert.is(e.name, 'SignatureDoesNotMatch');
  assert.is(e.$metadata.httpStatusCode, 403);
});

test('an unknown access key is InvalidAccessKeyId', async () => {
  const e = await sdkError(client('nobody-here', 'whatever-secret'));
  assert.is(e.name, 'InvalidAccessKeyId');
  assert.is(e.$metadata.httpStatusCode, 403);
});

test('a skewed clock is RequestTimeTooSkewed', async () => {
  const r = await signedFetch(srv, 'GET', '/', { now: new Date(Date.now() - 60 * 60_000) });
  assert.is(r.status, 403);
  const body = await r.text();
  assert.match(body, '<Code>RequestTimeTooSkewed</Code>');
  assert.match(body, '<ServerTime>');
});

test('a presigned GET works; an expired one is AccessDenied', async () => {
  const url = new URL('/web', srv.endpoint);
  const creds = { accessKey: srv.accessKey, secretKey: srv.secretKey };
  const p = presignRequest(
    { method: 'GET', path: '/web', query: 'location', headers: { host: url.host } },
    { credentials: creds, region: srv.region, expiresIn: 60 },
  );
  const ok = await fetch(`${srv.endpoint}${p.path}?${p.query}`);
  assert.is(ok.status, 200);
  assert.match(await ok.text(), '<LocationConstraint');
  const old = presignRequest(
    { method: 'GET', path: '/web', query: 'location', headers: { host: url.host } },
    { credentials: creds, region: srv.region, expiresIn: 60, now: Date.now() - 3600_000 },
  );
  const expired = await fetch(`${srv.endpoint}${old.path}?${old.query}`);
  assert.is(expired.status, 403);
  const body = await expired.text();
  assert.match(body, '<Code>AccessDenied</Code>');
  assert.match(body, 'expired');
});

test('a body that does not match its signed hash is XAmzContentSHA256Mismatch', async () => {
  const c = connect(srv.port);
  const head = signedHead('PUT', '/web?cors', CORS_BODY);
  await c.write(head + CORS_BODY.replace('GET', 'PUT'));
  const r = await c.response();
  assert.is(r.status, 400);
  assert.match(r.body, '<Code>XAmzContentSHA256Mismatch</Code>');
  c.socket.destroy();
});

test('an unknown route is answered with its S3 error after authentication', async () => {
  const r = await signedFetch(srv, 'POST', '/web/key');
  assert.is(r.status, 405);
  const body = await r.text();
  assert.match(body, '<Code>MethodNotAllowed</Code>');
  assert.match(body, '<Method>POST</Method>');
  const anon = await fetch(`${srv.endpoint}/web/key`, { method: 'POST' });
  assert.is(anon.status, 403);
});

// --- limits ---------------------------------------------------------------------------------------

test('a giant header is 400 with an S3 error, and the server keeps serving', async () => {
  const c = connect(srv.port);
  await c.write(`GET /web HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(100_000)}\r\n\r\n`);
  const r = await c.response();
  assert.is(r.status, 400);
  assert.match(r.body, '<Code>RequestHeaderSectionTooLarge</Code>');
  await c.waitClosed();
  assert.ok(await healthy());
});

test('malformed HTTP is 400, and the server keeps serving', async () => {
  const c = connect(srv.port);
  await c.write('THIS IS NOT HTTP\r\n\r\n');
  const r = await c.response();
  assert.is(r.status, 400);
  assert.ok(await healthy());
});

test('a truncated body (client half-closes) does not hang the request or the server', async () => {
  const before = srv.server.inflight();
  const c = connect(srv.port);
  await c.write(signedHead('PUT', '/web?cors', CORS_BODY) + CORS_BODY.slice(0, 20));
  await new Promise((r) => setTimeout(r, 50));
  c.socket.end();
  await c.waitClosed();
  const t0 = Date.now();
  while (srv.server.inflight() > before && Date.now() - t0 < 3_000)
    await new Promise((r) => setTimeout(r, 20));
  assert.is(srv.server.inflight(), before);
  assert.ok(await healthy());
});

test('a body that stops coming is 400 RequestTimeout after the idle timeout', async () => {
  const c = connect(srv.port);
  await c.write(signedHead('PUT', '/web?cors', CORS_BODY) + CORS_BODY.slice(0, 20));
  const t0 = Date.now();
  const r = await c.response(5_000);
  assert.is(r.status, 400);
  assert.match(r.body, '<Code>RequestTimeout</Code>');
  assert.ok(Date.now() - t0 >= 800, `answered after ${Date.now() - t0} ms`);
  await c.waitClosed();
  assert.ok(await healthy());
});

test('a client that stops reading a response is cut off after the idle timeout', async () => {
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'big' }));
  const data = Buffer.alloc(32 << 20, 1);
  await srv.server.objects.putObject('big', 'blob', [data] as unknown as AsyncIterable<Buffer>, {
    size: data.length,
  });
  const c = connect(srv.port);
  c.socket.pause();
  await c.write(signedHead('GET', '/big/blob', ''));
  await new Promise((r) => setTimeout(r, 200));
  assert.is(srv.server.inflight(), 1);
  // The server's side: the response is given up (the paused client cannot see the close yet).
  const t0 = Date.now();
  while (srv.server.inflight() > 0 && Date.now() - t0 < 8_000) await new Promise((r) => setTimeout(r, 20));
  assert.is(srv.server.inflight(), 0);
  c.socket.resume();
  await c.waitClosed(10_000);
  assert.ok(await healthy());
});

test('Expect: 100-continue: a refused request never asks for the body', async () => {
  const c = connect(srv.port);
  await c.write(
    `PUT /web?cors HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n`,
  );
  const r = await c.response();
  assert.is(r.status, 403);
  assert.not.match(r.raw, '100 Continue');
  assert.is(r.headers.connection, 'close');
  c.socket.destroy();
});

test('Expect: 100-continue: an accepted request gets 100 Continue, then its answer', async () => {
  const c = connect(srv.port);
  await c.write(signedHead('PUT', '/web?cors', CORS_BODY, { expect: '100-continue' }));
  await c.waitFor('100 Continue');
  await c.write(CORS_BODY);
  const r = await c.response();
  assert.is(r.status, 200);
  c.socket.destroy();
  // Put the test's CORS rules back.
  await srv.s3.send(
    new PutBucketCorsCommand({
      Bucket: 'web',
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: ['https://app.example.com'],
            AllowedMethods: ['GET', 'PUT'],
            AllowedHeaders: ['content-type', 'x-amz-*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 300,
          },
          { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] },
        ],
      },
    }),
  );
});

test('keep-alive: an error response that left its body unread does not poison the connection', async () => {
  const c = connect(srv.port);
  // Refused (no such bucket) before its small body is read; the next request on the socket must parse.
  const body = CORS_BODY;
  await c.write(signedHead('PUT', '/no-such-bucket-x?cors', body) + body);
  const first = await c.response();
  assert.is(first.status, 404);
  const rest = c.raw.length;
  await c.write(`GET /minio/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await c.waitFor('HTTP/1.1 200', 3_000);
  assert.ok(c.raw.length > rest);
  c.socket.destroy();
});

// --- CORS -----------------------------------------------------------------------------------------

function options(path: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${srv.endpoint}${path}`, { method: 'OPTIONS', headers });
}

test('CORS preflight: allowed from the bucket rules, without credentials', async () => {
  const r = await options('/web/some/key', {
    Origin: 'https://app.example.com',
    'Access-Control-Request-Method': 'PUT',
    'Access-Control-Request-Headers': 'Content-Type, X-Amz-Date',
  });
  assert.is(r.status, 200);
  assert.is(r.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.is(r.headers.get('access-control-allow-methods'), 'GET, PUT');
  assert.is(r.headers.get('access-control-allow-headers'), 'content-type, x-amz-date');
  assert.is(r.headers.get('access-control-expose-headers'), 'ETag');
  assert.is(r.headers.get('access-control-max-age'), '300');
  assert.is(r.headers.get('access-control-allow-credentials'), 'true');
  assert.match(r.headers.get('vary') ?? '', 'Origin');
  const any = await options('/web', {
    Origin: 'https://other.example',
    'Access-Control-Request-Method': 'HEAD',
  });
  assert.is(any.status, 200);
  assert.is(any.headers.get('access-control-allow-origin'), '*');
});

test('CORS preflight: refused with 403 when no rule matches; 400 without Origin', async () => {
  const origin = await options('/web/k', {
    Origin: 'https://evil.example',
    'Access-Control-Request-Method': 'GET',
  });
  assert.is(origin.status, 403);
  assert.match(await origin.text(), '<Code>CORSResponse</Code>');
  const method = await options('/web/k', {
    Origin: 'https://app.example.com',
    'Access-Control-Request-Method': 'DELETE',
  });
  assert.is(method.status, 403);
  const header = await options('/web/k', {
    Origin: 'https://app.example.com',
    'Access-Control-Request-Method': 'GET',
    'Access-Control-Request-Headers': 'x-custom',
  });
  assert.is(header.status, 403);
  const none = await options('/web/k', { 'Access-Control-Request-Method': 'GET' });
  assert.is(none.status, 400);
  await srv.s3.send(new CreateBucketCommand({ Bucket: 'no-cors' }));
  const noConfig = await options('/no-cors/k', {
    Origin: 'https://app.example.com',
    'Access-Control-Request-Method': 'GET',
  });
  assert.is(noConfig.status, 403);
  assert.match(await noConfig.text(), 'CORS is not enabled');
});

test('CORS headers on actual requests, errors included', async () => {
  const ok = await signedFetch(srv, 'GET', '/web?location', {
    headers: { origin: 'https://app.example.com' },
  });
  assert.is(ok.status, 200);
  assert.is(ok.headers.get('access-control-allow-origin'), 'https://app.example.com');
  assert.is(ok.headers.get('access-control-expose-headers'), 'ETag');
  const denied = await fetch(`${srv.endpoint}/web/key`, { headers: { origin: 'https://app.example.com' } });
  assert.is(denied.status, 403);
  assert.is(denied.headers.get('access-control-allow-origin'), 'https://app.example.com');
  const other = await signedFetch(srv, 'GET', '/web?location', {
    headers: { origin: 'https://evil.example' },
  });
  assert.is(other.status, 200);
  assert.is(other.headers.get('access-control-allow-origin'), null);
});

// --- addressing -----------------------------------------------------------------------------------

function hostRequest(
  s: TestServer,
  method: string,
  host: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const [p, q = ''] = path.split('?');
  const signed = signRequest(
    { method, path: p!, query: q, headers: { host } },
    { credentials: { accessKey: s.accessKey, secretKey: s.secretKey }, region: s.region },
  );
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: s.port, method, path, headers: signed.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

test('virtual-host style requests with CAIRN_DOMAIN; path style still works', async () => {
  const v = await startServer({ drives: 1, env: { CAIRN_DOMAIN: 's3.example.test' } });
  try {
    await v.s3.send(new CreateBucketCommand({ Bucket: 'vhost' }));
    const r = await hostRequest(v, 'GET', `vhost.s3.example.test:${v.port}`, '/?location');
    assert.is(r.status, 200, r.body);
    assert.match(r.body, '<LocationConstraint');
    const missing = await hostRequest(v, 'GET', `nope-bucket.s3.example.test:${v.port}`, '/?location');
    assert.is(missing.status, 404);
    assert.match(missing.body, '<Code>NoSuchBucket</Code>');
    const path = await hostRequest(v, 'GET', `s3.example.test:${v.port}`, '/vhost?location');
    assert.is(path.status, 200);
  } finally {
    await v.stop();
  }
});

// --- graceful shutdown --------------------------------------------------------------------------

test('graceful shutdown: an in-flight request finishes, new connections are refused', async () => {
  const s = await startServer({ drives: 1 });
  await s.s3.send(new CreateBucketCommand({ Bucket: 'slow' }));
  const url = new URL('/slow?cors', s.endpoint);
  const signed = signRequest(
    { method: 'PUT', path: '/slow', query: 'cors', headers: { host: url.host }, body: CORS_BODY },
    { credentials: { accessKey: s.accessKey, secretKey: s.secretKey }, region: s.region },
  );
  const head = `PUT /slow?cors HTTP/1.1\r\n${Object.entries(signed.headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\ncontent-length: ${CORS_BODY.length}\r\n\r\n`;
  const c = connect(s.port);
  await c.write(head + CORS_BODY.slice(0, 30));
  await new Promise((r) => setTimeout(r, 100));
  assert.is(s.server.inflight(), 1);
  let closed = false;
  const closing = s.server.close().then(() => {
    closed = true;
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.not.ok(closed, 'close() waits for the in-flight request');
  const refused = await fetch(`${s.endpoint}/minio/health/live`).then(
    () => false,
    () => true,
  );
  assert.ok(refused, 'new connections are refused');
  await c.write(CORS_BODY.slice(30));
  const r = await c.response();
  assert.is(r.status, 200);
  assert.is(r.headers.connection, 'close');
  await closing;
  assert.ok(closed);
  await s.stop();
});

test('sha256 of the CORS body is what the raw requests sign', () => {
  // Guards the hand-written requests above: the signer hashes the body it is given.
  const signed = signRequest(
    { method: 'PUT', path: '/x', query: 'cors', headers: { host: 'h' }, body: CORS_BODY },
    { credentials: { accessKey: 'a', secretKey: 'b' }, region: 'us-east-1' },
  );
  assert.is(signed.headers['x-amz-content-sha256'], sha256Hex(CORS_BODY));
});

test.run();
