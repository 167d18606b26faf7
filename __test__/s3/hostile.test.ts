/**
 * Malformed and hostile requests: bodies that stop short or run long, smuggled requests, giant and
 * countless headers, XML bombs, huge XML bodies, path tricks in keys, slow clients, bad signatures.
 * Each gets the right error, stores nothing it should not (nothing at all outside the drives), and
 * the server keeps serving. Requests are written by hand on raw sockets (`node:net`) where `fetch`
 * would normalise them, and signed with the server's own SigV4 signer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { presignRequest, signRequest } from '../../src/auth';
import { signedFetch, startServer, type TestServer } from '../helpers/server';

const BUCKET = 'hostile';
let srv: TestServer;
/** The directory holding the drive directories, and a file in it no request may touch. */
let base: string;
let sentinel: string;
const SENTINEL = `sentinel ${randomBytes(8).toString('hex')}\n`;
/** A file name no request may create in the OS temp directory. */
const ESCAPE = `cairn-escape-${randomBytes(6).toString('hex')}`;
let baseEntries: string[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

test.before(async () => {
  srv = await startServer({ server: { idleTimeoutMs: 2_000 } });
  base = path.dirname(srv.roots[0]!);
  sentinel = path.join(base, 'sentinel.txt');
  await writeFile(sentinel, SENTINEL);
  baseEntries = (await readdir(base)).sort();
  await srv.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
test.after(async () => {
  await srv?.stop();
});

// --- raw requests ---------------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A raw connection: write bytes, read whole responses (interim 100s skipped) as they come. */
function connect() {
  const socket = net.connect(srv.port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  let closed = false;
  let writeError: Error | undefined;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.on('error', (e) => {
    writeError = e;
  });
  const wait = (pred: () => boolean, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}; got ${JSON.stringify(buf.toString('latin1').slice(0, 500))}`,
            ),
          ),
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
  /** Takes one complete response off the front of `buf`, if there is one. */
  const take = (): Reply | undefined => {
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(lines[0]!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      if (status === 100) {
        buf = buf.subarray(end + 4);
        continue;
      }
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < end + 4 + len) return undefined;
      const body = Buffer.from(buf.subarray(end + 4, end + 4 + len));
      buf = buf.subarray(end + 4 + len);
      return { status, headers, body };
    }
  };
  let pending: Reply | undefined;
  return {
    socket,
    write: (s: string | Buffer) =>
      new Promise<void>((resolve) => {
        if (socket.destroyed) return resolve();
        socket.write(s, () => resolve());
      }),
    get closed() {
      return closed;
    },
    /** Everything received and not yet taken as a response. */
    received: () => buf,
    get writeError() {
      return writeError;
    },
    /** The next complete response; fails if the connection closes first. */
    async response(ms = 5_000): Promise<Reply> {
      const ready = () => {
        pending ??= take();
        return pending !== undefined || closed;
      };
      await wait(ready, ms, 'a response');
      const r = pending ?? take();
      pending = undefined;
      if (!r)
        throw new Error(`closed without a complete response: ${JSON.stringify(buf.toString('latin1'))}`);
      return r;
    },
    /** Whether a complete response has arrived (without waiting). */
    hasResponse(): boolean {
      pending ??= take();
      return pending !== undefined;
    },
    waitClosed: (ms = 5_000) => wait(() => closed, ms, 'the connection to close'),
  };
}

/**
 * A signed request head, written as given: `target` is the raw request target (not normalised,
 * not re-encoded). The body is UNSIGNED-PAYLOAD unless `body` is given.
 */
function head(
  method: string,
  target: string,
  opts: {
    headers?: Record<string, string>;
    body?: string | Buffer;
    secretKey?: string;
    signedTarget?: string;
  } = {},
): string {
  const signedTarget = opts.signedTarget ?? target;
  const q = signedTarget.indexOf('?');
  const signed = signRequest(
    {
      method,
      path: q < 0 ? signedTarget : signedTarget.slice(0, q),
      query: q < 0 ? '' : signedTarget.slice(q + 1),
      headers: { host: `127.0.0.1:${srv.port}`, ...opts.headers },
      ...(opts.body !== undefined ? { body: opts.body } : { payloadHash: 'UNSIGNED-PAYLOAD' }),
    },
    {
      credentials: { accessKey: srv.accessKey, secretKey: opts.secretKey ?? srv.secretKey },
      region: srv.region,
    },
  );
  const lines = [`${method} ${target} HTTP/1.1`];
  for (const [k, v] of Object.entries(signed.headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** One signed request on its own connection, through `http.request` (which sends the path as is). */
function request(
  method: string,
  target: string,
  opts: { body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const q = target.indexOf('?');
  const signed = signRequest(
    {
      method,
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? '' : target.slice(q + 1),
      headers: {
        host: `127.0.0.1:${srv.port}`,
        ...(body ? { 'content-length': String(body.length) } : {}),
        ...opts.headers,
      },
      ...(body ? { body } : {}),
    },
    { credentials: { accessKey: srv.accessKey, secretKey: srv.secretKey }, region: srv.region },
  );
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: srv.port, method, path: target, headers: signed.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers as Record<string, string>,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function code(r: Reply): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(r.body.toString())?.[1];
}

async function exists(key: string): Promise<boolean> {
  try {
    await srv.server.objects.getObjectInfo(BUCKET, key);
    return true;
  } catch {
    return false;
  }
}

async function healthy(): Promise<void> {
  const r = await fetch(`${srv.endpoint}/minio/health/live`);
  assert.is(r.status, 200);
  const key = `healthy-${randomBytes(4).toString('hex')}`;
  await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'ok' }));
  const got = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.is(await got.Body!.transformToString(), 'ok');
}

async function settled(): Promise<void> {
  await until(() => srv.server.inflight() === 0, 5_000, 'no request in flight');
}

/** Files in the drives' temporary directories (an upload that stored nothing leaves none). */
async function tmpFiles(): Promise<string[]> {
  const out: string[] = [];
  for (const r of srv.roots) {
    const dir = path.join(r, '.cairn.sys', 'tmp');
    if (!existsSync(dir)) continue;
    for (const e of await readdir(dir, { recursive: true })) out.push(path.join(dir, String(e)));
  }
  return out;
}

// --- bodies that stop short or run long ----------------------------------------------------------

test('a PUT whose client goes away mid-body stores nothing and leaves nothing in flight', async () => {
  const c = connect();
  await c.write(head('PUT', `/${BUCKET}/truncated-1`, { headers: { 'content-length': String(4 << 20) } }));
  await c.write(randomBytes(1 << 20));
  await sleep(50);
  c.socket.destroy();
  await settled();
  assert.not.ok(await exists('truncated-1'));
  await until(async () => (await tmpFiles()).length === 0, 5_000, 'the temporary files to go');
  await healthy();
});

test('a PUT whose client half-closes mid-body is IncompleteBody (or a close), stores nothing, does not hang', async () => {
  const c = connect();
  await c.write(head('PUT', `/${BUCKET}/truncated-2`, { headers: { 'content-length': String(4 << 20) } }));
  await c.write(randomBytes(100_000));
  await sleep(50);
  c.socket.end();
  const t0 = Date.now();
  await c.waitClosed();
  assert.ok(Date.now() - t0 < 1_500, `closed after ${Date.now() - t0} ms`);
  if (c.hasResponse()) {
    const r = await c.response();
    assert.is(r.status, 400);
    // AWS answers IncompleteBody. Node's parser reports the early EOF as a client error, whose
    // handler answers first, with InvalidRequest: a 400 that stores nothing all the same.
    assert.ok(['IncompleteBody', 'InvalidRequest'].includes(code(r)!), code(r));
  }
  await settled();
  assert.not.ok(await exists('truncated-2'));
  await healthy();
});

test('an UploadPart whose client goes away mid-body keeps no part', async () => {
  const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-truncated' }));
  const c = connect();
  await c.write(
    head('PUT', `/${BUCKET}/mp-truncated?partNumber=1&uploadId=${encodeURIComponent(up.UploadId!)}`, {
      headers: { 'content-length': String(6 << 20) },
    }),
  );
  await c.write(randomBytes(2 << 20));
  await sleep(50);
  c.socket.destroy();
  await settled();
  const parts = await srv.s3.send(
    new ListPartsCommand({ Bucket: BUCKET, Key: 'mp-truncated', UploadId: up.UploadId }),
  );
  assert.is(parts.Parts?.length ?? 0, 0);
  await srv.s3.send(
    new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-truncated', UploadId: up.UploadId }),
  );
  await healthy();
});

test('bytes past Content-Length are the next request on the connection and are judged on their own', async () => {
  await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'victim', Body: 'precious' }));
  const c = connect();
  const body = '0123456789';
  // The "extra body" is an unsigned DELETE of another key: it must be its own, anonymous request.
  const smuggled = `DELETE /${BUCKET}/victim HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`;
  await c.write(
    head('PUT', `/${BUCKET}/long-body`, { body, headers: { 'content-length': '10' } }) + body + smuggled,
  );
  const first = await c.response();
  assert.is(first.status, 200);
  const second = await c.response();
  assert.is(second.status, 403);
  assert.is(code(second), 'AccessDenied');
  assert.ok(await exists('victim'));
  const got = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'long-body' }));
  assert.is(await got.Body!.transformToString(), body);

  // Extra bytes that are not HTTP: a 400 and the connection closes; the object is as declared or
  // absent (the 400 may cut the PUT short, since the parser reads ahead of the response).
  const g = connect();
  await g.write(
    `${head('PUT', `/${BUCKET}/long-body-2`, { body, headers: { 'content-length': '10' } })}${body}GARBAGE\x00\x01 not http\r\n\r\n`,
  );
  await g.waitClosed();
  const statuses: number[] = [];
  while (g.hasResponse()) statuses.push((await g.response()).status);
  assert.ok(statuses.includes(400), JSON.stringify(statuses));
  await settled();
  if (await exists('long-body-2')) {
    const got2 = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'long-body-2' }));
    assert.is(await got2.Body!.transformToString(), body);
  }
  await healthy();
});

// Known bug (src/server/index.ts, the 'clientError' handler): it writes its 400 onto the socket even
// while a response is being streamed there, so pipelined garbage lands inside a GET's body. Node's
// own handler writes only when no response has started (`!socket._httpMessage?._headerSent`);
// un-skip once the handler does the same (and otherwise just destroys the socket).
test('pipelined garbage during a large GET never lands inside the response body', async () => {
  const size = 64 << 20;
  await srv.server.objects.putObject(
    BUCKET,
    'big-get',
    [Buffer.alloc(size, 'A')] as unknown as AsyncIterable<Buffer>,
    {
      size,
    },
  );
  const c = connect();
  await c.write(head('GET', `/${BUCKET}/big-get`));
  await sleep(30);
  await c.write('GARBAGE not http\r\n\r\n');
  await c.waitClosed(10_000);
  const all = c.received();
  const end = all.indexOf('\r\n\r\n');
  const bodyStart = end + 4;
  const injected = all.indexOf('HTTP/1.1 400', bodyStart);
  assert.ok(
    injected < 0 || injected >= bodyStart + size,
    `a 400 was written at body offset ${injected - bodyStart}`,
  );
  await healthy();
});

test('Content-Length with Transfer-Encoding, or two different Content-Lengths, is 400 and stores nothing', async () => {
  const body = 'abcdefghij';
  for (const [i, extra] of [
    'Transfer-Encoding: chunked\r\n',
    'Content-Length: 3\r\n',
    'Transfer-Encoding: chunked, identity\r\n',
  ].entries()) {
    const c = connect();
    const h = head('PUT', `/${BUCKET}/smuggle-${i}`, { body, headers: { 'content-length': '10' } });
    await c.write(`${h.slice(0, -2)}${extra}\r\n${body}`);
    const r = await c.response();
    assert.is(r.status, 400, extra);
    await c.waitClosed();
    assert.not.ok(await exists(`smuggle-${i}`), extra);
  }
  await healthy();
});

test('a chunked PUT is 411 MissingContentLength; a bad chunk size is 400; neither touches anything', async () => {
  const c = connect();
  const h = head('PUT', `/${BUCKET}/chunked`, { headers: { 'transfer-encoding': 'chunked' } });
  await c.write(`${h}5\r\nhello\r\n0\r\n\r\n`);
  const r = await c.response();
  assert.is(r.status, 411);
  assert.is(code(r), 'MissingContentLength');
  c.socket.destroy();

  await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept', Body: 'kept' }));
  const doc = '<Delete><Object><Key>kept</Key></Object></Delete>';
  const d = connect();
  const hd = head('POST', `/${BUCKET}?delete`, {
    headers: { 'transfer-encoding': 'chunked', 'content-md5': md5b64(doc) },
  });
  await d.write(`${hd}10\r\n${doc.slice(0, 16)}\r\nzz\r\n${doc.slice(16)}\r\n0\r\n\r\n`);
  const bad = await d.response();
  assert.is(bad.status, 400);
  await d.waitClosed();
  await settled();
  assert.not.ok(await exists('chunked'));
  assert.ok(await exists('kept'));
  await healthy();
});

// --- headers ---------------------------------------------------------------------------------------

test('a 100 KiB header, or a 100 KiB URL, is 400 RequestHeaderSectionTooLarge; the server keeps serving', async () => {
  for (const req of [
    `GET /${BUCKET}/x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${'a'.repeat(100 << 10)}\r\n\r\n`,
    `GET /${BUCKET}/${'k'.repeat(100 << 10)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
  ]) {
    const c = connect();
    await c.write(req);
    const r = await c.response();
    assert.ok(r.status === 400 || r.status === 431, String(r.status));
    if (r.status === 400) assert.is(code(r), 'RequestHeaderSectionTooLarge');
    await c.waitClosed();
  }
  await healthy();
});

test('thousands of headers: under the size limit they are served quickly, over it refused', async () => {
  // 3,000 short headers (~36 KiB): a signed GET still works and answers quickly.
  const many: Record<string, string> = {};
  for (let i = 0; i < 3000; i++) many[`x-h${i}`] = String(i);
  await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'many-headers', Body: 'many' }));
  const c = connect();
  const signed = head('GET', `/${BUCKET}/many-headers`);
  const extra = Object.entries(many)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const t0 = Date.now();
  await c.write(`${signed.slice(0, -2)}${extra}\r\n`);
  const r = await c.response();
  assert.ok(Date.now() - t0 < 2_000, `answered after ${Date.now() - t0} ms`);
  assert.is(r.status, 200);
  assert.is(r.body.toString(), 'many');
  c.socket.destroy();

  // 10,000 of them (~140 KiB): over the limit.
  const d = connect();
  const lots = Array.from({ length: 10_000 }, (_, i) => `x-h${i}: ${i}\r\n`).join('');
  await d.write(`GET /${BUCKET}/many-headers HTTP/1.1\r\nHost: 127.0.0.1\r\n${lots}\r\n`);
  const big = await d.response();
  assert.ok(big.status === 400 || big.status === 431, String(big.status));
  await d.waitClosed();
  await healthy();
});

test('malformed request lines and targets are 400 (or an S3 error), and the server keeps serving', async () => {
  for (const req of [
    'GET /hostile/x HTTP/1.1\r\n\r\n', // no Host
    'GET http://evil.example/hostile/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'G\x00T /hostile/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET /hostile/x HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n',
    'GET /hostile/%ff%fe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET /hostile/x HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n',
    'GET /hostile/x HTTP/1.1\r\nHost: 127.0.0.1\r\nx-a: b\x00c\r\n\r\n',
  ]) {
    const c = connect();
    await c.write(req);
    const r = await c.response();
    assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(req)} → ${r.status}`);
    c.socket.destroy();
  }
  await healthy();
});

// --- XML ---------------------------------------------------------------------------------------------

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>`;

const XXE = `<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`;

function md5b64(s: string): string {
  return createHash('md5').update(s).digest('base64');
}

test('XML bombs, external entities and deep nesting are MalformedXML wherever XML is read', async () => {
  const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-bomb' }));
  const part = await srv.s3.send(
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: 'mp-bomb',
      UploadId: up.UploadId,
      PartNumber: 1,
      Body: 'x',
    }),
  );
  const partXml = (inner: string) =>
    `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${inner}</ETag></Part></CompleteMultipartUpload>`;
  const targets: { target: string; method: string; body: (inner: string) => string }[] = [
    {
      method: 'POST',
      target: `/${BUCKET}?delete`,
      body: (inner) => `<Delete><Object><Key>${inner}</Key></Object></Delete>`,
    },
    {
      method: 'POST',
      target: `/${BUCKET}/mp-bomb?uploadId=${encodeURIComponent(up.UploadId!)}`,
      body: partXml,
    },
    {
      method: 'PUT',
      target: `/${BUCKET}?tagging`,
      body: (inner) => `<Tagging><TagSet><Tag><Key>k</Key><Value>${inner}</Value></Tag></TagSet></Tagging>`,
    },
    {
      method: 'PUT',
      target: `/${BUCKET}?cors`,
      body: (inner) =>
        `<CORSConfiguration><CORSRule><AllowedOrigin>${inner}</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
    },
  ];
  const deep = (n: number) => `${'<a>'.repeat(n)}x${'</a>'.repeat(n)}`;
  for (const t of targets) {
    for (const [what, doc] of [
      ['billion laughs', `${BILLION_LAUGHS}\n${t.body('&lol9;')}`],
      ['external entity', `${XXE}\n${t.body('&xxe;')}`],
      ['undeclared entity', t.body('&lol9;')],
      ['deep nesting', t.body(deep(50_000))],
    ] as const) {
      const t0 = Date.now();
      const r = await request(t.method, t.target, { body: doc, headers: { 'content-md5': md5b64(doc) } });
      assert.ok(Date.now() - t0 < 2_000, `${t.target} ${what}: ${Date.now() - t0} ms`);
      assert.is(r.status, 400, `${t.target} ${what}: ${r.body}`);
      assert.is(code(r), 'MalformedXML', `${t.target} ${what}`);
      assert.not.match(r.body.toString(), 'root:');
    }
  }
  // Nothing happened: the upload is still there with its part, the bucket has no tags or CORS.
  const parts = await srv.s3.send(
    new ListPartsCommand({ Bucket: BUCKET, Key: 'mp-bomb', UploadId: up.UploadId }),
  );
  assert.is(parts.Parts?.[0]?.ETag, part.ETag);
  assert.is((await request('GET', `/${BUCKET}?tagging`)).status, 404);
  assert.is((await request('GET', `/${BUCKET}?cors`)).status, 404);
  await healthy();
});

test('a 100 MB XML body is refused long before it is read, and the connection closes', async () => {
  const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-huge' }));
  for (const [method, target, limit] of [
    ['POST', `/${BUCKET}?delete`, 4 << 20],
    ['POST', `/${BUCKET}/mp-huge?uploadId=${encodeURIComponent(up.UploadId!)}`, 4 << 20],
    ['PUT', `/${BUCKET}?tagging`, 64 << 10],
    ['PUT', `/${BUCKET}?cors`, 1 << 20],
    ['PUT', `/${BUCKET}/kept?tagging`, 64 << 10],
    ['PUT', '/huge-create-bucket', 1 << 20],
  ] as const) {
    const c = connect();
    await c.write(
      head(method, target, {
        headers: { 'content-length': String(100_000_000), 'content-md5': md5b64('x') },
      }),
    );
    // DeleteObjects and CompleteMultipartUpload refuse from the Content-Length alone; the others
    // once past their limit. Either way, long before 100 MB.
    const chunk = Buffer.from(`<x>${'a'.repeat((64 << 10) - 7)}</x>`);
    let sent = 0;
    while (!c.hasResponse() && !c.closed && sent < limit + (2 << 20)) {
      await c.write(chunk);
      sent += chunk.length;
      await sleep(1);
    }
    const r = await c.response(5_000);
    assert.is(r.status, 400, `${target}: ${r.status} ${r.body}`);
    assert.is(code(r), 'MalformedXML', target);
    assert.is(r.headers.connection, 'close', target);
    assert.ok(sent <= limit + (1 << 20), `${target}: refused after ${sent} bytes`);
    await c.waitClosed();
  }
  await srv.s3.send(
    new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-huge', UploadId: up.UploadId }),
  );
  await healthy();
});

test('a chunked XML body that grows past its limit is refused once past it, and the connection closes', async () => {
  const c = connect();
  await c.write(
    head('POST', `/${BUCKET}?delete`, {
      headers: { 'transfer-encoding': 'chunked', 'content-md5': md5b64('x') },
    }),
  );
  const chunk = Buffer.alloc(256 << 10, 'a');
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  let sent = 0;
  await c.write('8\r\n<Delete>\r\n');
  // Up to 100 MB, stopping as soon as the server answers.
  while (sent < 100_000_000 && !c.hasResponse() && !c.closed) {
    await c.write(frame);
    sent += chunk.length;
  }
  const r = await c.response();
  assert.is(r.status, 400);
  assert.is(code(r), 'MalformedXML');
  assert.ok(sent < 16 << 20, `the server read ${sent} bytes before refusing`);
  // Once refused, the server stops taking the body: the connection goes away.
  const t0 = Date.now();
  while (!c.closed && Date.now() - t0 < 3_000) {
    await c.write(frame);
    await sleep(5);
  }
  assert.ok(c.closed, 'the server kept reading a refused body');
  await healthy();
});

// --- path tricks -------------------------------------------------------------------------------------

/** Request targets with traversal, empty segments, NUL and backslashes in the key. */
const TRICKS = [
  `/${BUCKET}/../sentinel.txt`,
  `/${BUCKET}/../../sentinel.txt`,
  `/${BUCKET}/../../../../../../../../../..${tmpdir()}/${ESCAPE}`,
  `/${BUCKET}/%2e%2e/%2e%2e/sentinel.txt`,
  `/${BUCKET}/%2e%2e%2f%2e%2e%2fsentinel.txt`,
  `/${BUCKET}/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..${encodeURIComponent(tmpdir())}%2f${ESCAPE}`,
  `/${BUCKET}/a/../../../sentinel.txt`,
  `/${BUCKET}/..`,
  `/${BUCKET}/.`,
  `/${BUCKET}/./x`,
  `/${BUCKET}/a/./b/../c`,
  `/${BUCKET}//etc/${ESCAPE}`,
  `/${BUCKET}/a//b///c`,
  `/${BUCKET}/x%00y`,
  `/${BUCKET}/%00`,
  `/${BUCKET}/..%5c..%5c..%5csentinel.txt`,
  `/${BUCKET}/..\\..\\sentinel.txt`,
  `/${BUCKET}/.cairn.sys/format.json`,
  `/${BUCKET}/a/.cairn.sys`,
  `/${BUCKET}/xl.meta`,
  `/${BUCKET}/dir/xl.meta`,
];

/** Targets whose "bucket" is a traversal: never a bucket. */
const BUCKET_TRICKS = [
  '/../sentinel.txt',
  '/%2e%2e/sentinel.txt',
  '/..%2fsentinel.txt',
  `/..%2f${BUCKET}/x`,
  '/..',
  '/.',
];

async function systemVolumeIntact(): Promise<void> {
  for (const r of srv.roots) assert.ok(existsSync(path.join(r, '.cairn.sys', 'format.json')), r);
}

test('keys with ../, %2e%2e/, //, NUL and backslashes are stored inside the bucket or refused, never outside', async () => {
  // Several targets decode to the same key (`%2e%2e%2f` is `../`): the last PUT is what it holds.
  const stored = new Map<string, { target: string; body: string }>();
  for (const [i, target] of TRICKS.entries()) {
    const body = `trick ${i}`;
    const r = await request('PUT', target, { body });
    if (r.status === 200) {
      stored.set(decodeURIComponent(target.slice(BUCKET.length + 2)), { target, body });
    } else {
      assert.ok(r.status >= 400 && r.status < 500, `${target}: ${r.status} ${r.body}`);
      assert.ok(code(r), `${target}: not an S3 error: ${r.body}`);
    }
  }
  // What was stored reads back by the same target, and lists inside the bucket.
  const listed = new Set<string>();
  let token: string | undefined;
  do {
    const l = await srv.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const o of l.Contents ?? []) listed.add(o.Key!);
    token = l.NextContinuationToken;
  } while (token);
  for (const [key, { target, body }] of stored) {
    const r = await request('GET', target);
    assert.is(r.status, 200, target);
    assert.is(r.body.toString(), body, target);
    assert.ok(listed.has(key), `${target} stored but not listed as ${JSON.stringify(key)}`);
  }
  for (const target of BUCKET_TRICKS) {
    for (const method of ['PUT', 'GET', 'HEAD', 'DELETE']) {
      const r = await request(method, target, method === 'PUT' ? { body: 'evil' } : {});
      // Refused; 503 SlowDown is what GET/DELETE of a `..` bucket get today (see the skipped test below).
      assert.ok(r.status >= 400 && r.status !== 500, `${method} ${target}: ${r.status} ${r.body}`);
      if (method !== 'HEAD') assert.ok(code(r), `${method} ${target}: not an S3 error`);
    }
  }
  // Nothing outside the drives: the sentinel and its directory are as they were, no escape file.
  assert.is(await readFile(sentinel, 'utf8'), SENTINEL);
  assert.equal((await readdir(base)).sort(), baseEntries);
  assert.not.ok(existsSync(path.join(tmpdir(), ESCAPE)));
  assert.not.ok(existsSync(`/etc/${ESCAPE}`));
  await systemVolumeIntact();
  for (const r of srv.roots) {
    const top = (await readdir(r)).filter((e) => e !== '.cairn.sys');
    assert.equal(top, [BUCKET], r);
  }
  // And each goes away with a DELETE by the same target.
  for (const { target } of stored.values()) {
    assert.is((await request('DELETE', target)).status, 204, target);
    assert.is((await request('GET', target)).status, 404, target);
  }
  await healthy();
});

// Known bug: the system volume answers as a bucket. `DELETE /.cairn.sys` (DeleteBucket, root
// credentials) removes `.cairn.sys` from every drive (format, bucket settings, multipart uploads)
// and the next start formats the drives anew; `GET /.cairn.sys` lists it, `PUT /.cairn.sys/k` stores
// an object in it; GET of a `..` bucket is 503 SlowDown (every drive refuses the path, which the
// quorum rules read as "unreadable"). Fix: check the bucket name of every action in the S3 layer
// (InvalidBucketName, as for CreateBucket), and refuse reserved and invalid names in the object
// layer's bucket-level entry points too. Un-skip once fixed.
test('the system volume and traversal names are never buckets: 400 InvalidBucketName, nothing touched', async () => {
  for (const target of [
    '/.cairn.sys',
    '/.cairn.sys?list-type=2',
    '/.cairn.sys/format.json',
    '/.cairn.sys/newobj',
    '/%2ecairn.sys/newobj',
    '/.cairn.sys/buckets/hostile/tagging.json',
    '/../sentinel.txt',
    '/%2e%2e/sentinel.txt',
  ]) {
    for (const method of ['PUT', 'GET', 'HEAD', 'DELETE']) {
      const r = await request(method, target, method === 'PUT' ? { body: 'evil' } : {});
      assert.is(r.status, 400, `${method} ${target}: ${r.status} ${r.body}`);
      if (method !== 'HEAD') assert.is(code(r), 'InvalidBucketName', `${method} ${target}`);
    }
  }
  await systemVolumeIntact();
  for (const r of srv.roots) assert.not.ok(existsSync(path.join(r, '.cairn.sys', 'newobj')), r);
  await healthy();
});

// --- slow clients ------------------------------------------------------------------------------------

test('slowloris: clients trickling headers or bodies do not hold up other requests', async () => {
  const slow = Array.from({ length: 40 }, () => connect());
  const heads = slow.map((_, i) =>
    i % 2 === 0
      ? `PUT /${BUCKET}/slow-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-pad: ${'p'.repeat(200)}\r\n\r\n`
      : `${head('PUT', `/${BUCKET}/slow-${i}`, { headers: { 'content-length': '100000' } })}${'b'.repeat(200)}`,
  );
  let stop = false;
  const trickle = (async () => {
    for (let pos = 0; !stop && pos < 200; pos++) {
      for (const [i, c] of slow.entries()) {
        const h = heads[i]!;
        if (pos < h.length) await c.write(h[pos]!);
      }
      await sleep(50);
    }
  })();
  await sleep(200);
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = Date.now();
    await srv.s3.send(new HeadBucketCommand({ Bucket: BUCKET }));
    await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `fast-${i}`, Body: 'fast' }));
    times.push(Date.now() - t0);
  }
  stop = true;
  await trickle;
  for (const c of slow) c.socket.destroy();
  const worst = Math.max(...times);
  assert.ok(worst < 1_000, `a request took ${worst} ms beside the slow clients`);
  await settled();
  for (let i = 0; i < slow.length; i++) assert.not.ok(await exists(`slow-${i}`));
  await healthy();
});

// --- signatures --------------------------------------------------------------------------------------

test('a request with a bad signature touches nothing', async () => {
  await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'guarded', Body: 'original' }));
  const wrong = `${srv.secretKey}x`;
  const send = async (
    method: string,
    target: string,
    body?: string,
    headers: Record<string, string> = {},
  ) => {
    const c = connect();
    const h = head(method, target, {
      secretKey: wrong,
      headers: { 'content-length': String(Buffer.byteLength(body ?? '')), ...headers },
    });
    await c.write(h + (body ?? ''));
    const r = await c.response();
    c.socket.destroy();
    return r;
  };
  const expectDenied = (r: Reply, what: string) => {
    assert.is(r.status, 403, what);
    assert.is(code(r), 'SignatureDoesNotMatch', what);
  };
  expectDenied(await send('PUT', `/${BUCKET}/guarded`, 'overwritten'), 'PUT over');
  expectDenied(await send('PUT', `/${BUCKET}/unsigned-new`, 'new'), 'PUT new');
  expectDenied(await send('DELETE', `/${BUCKET}/guarded`), 'DELETE');
  const del = '<Delete><Object><Key>guarded</Key></Object></Delete>';
  expectDenied(await send('POST', `/${BUCKET}?delete`, del, { 'content-md5': md5b64(del) }), 'DeleteObjects');
  expectDenied(await send('PUT', '/bad-sig-bucket'), 'CreateBucket');
  expectDenied(await send('DELETE', `/${BUCKET}`), 'DeleteBucket');
  expectDenied(
    await send('PUT', `/${BUCKET}/copy-of-guarded`, '', { 'x-amz-copy-source': `/${BUCKET}/guarded` }),
    'CopyObject',
  );
  const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-guarded' }));
  const part = await srv.s3.send(
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: 'mp-guarded',
      UploadId: up.UploadId,
      PartNumber: 1,
      Body: 'p',
    }),
  );
  const complete = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.ETag}</ETag></Part></CompleteMultipartUpload>`;
  expectDenied(
    await send('POST', `/${BUCKET}/mp-guarded?uploadId=${encodeURIComponent(up.UploadId!)}`, complete),
    'CompleteMultipartUpload',
  );
  expectDenied(
    await send('DELETE', `/${BUCKET}/mp-guarded?uploadId=${encodeURIComponent(up.UploadId!)}`),
    'AbortMultipartUpload',
  );

  // A good signature for one request, replayed onto another target or with a header changed.
  const c = connect();
  const h = head('PUT', `/${BUCKET}/replayed`, {
    signedTarget: `/${BUCKET}/allowed`,
    body: 'x',
    headers: { 'content-length': '1' },
  });
  await c.write(`${h}x`);
  expectDenied(await c.response(), 'replayed onto another key');
  c.socket.destroy();
  const d = connect();
  const h2 = head('PUT', `/${BUCKET}/tampered`, {
    body: 'x',
    headers: { 'content-length': '1', 'x-amz-meta-role': 'user' },
  });
  await d.write(`${h2.replace('x-amz-meta-role: user', 'x-amz-meta-role: admin')}x`);
  expectDenied(await d.response(), 'signed header changed');
  d.socket.destroy();
  // A presigned GET used to PUT.
  const pre = presignRequest(
    {
      method: 'GET',
      path: `/${BUCKET}/presigned-put`,
      query: '',
      headers: { host: `127.0.0.1:${srv.port}` },
    },
    {
      credentials: { accessKey: srv.accessKey, secretKey: srv.secretKey },
      region: srv.region,
      expiresIn: 60,
    },
  );
  const put = await fetch(`${srv.endpoint}${pre.path}?${pre.query}`, { method: 'PUT', body: 'evil' });
  assert.is(put.status, 403);

  // Nothing changed.
  const got = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'guarded' }));
  assert.is(await got.Body!.transformToString(), 'original');
  for (const k of [
    'unsigned-new',
    'copy-of-guarded',
    'mp-guarded',
    'replayed',
    'tampered',
    'presigned-put',
  ]) {
    assert.not.ok(await exists(k), k);
  }
  const parts = await srv.s3.send(
    new ListPartsCommand({ Bucket: BUCKET, Key: 'mp-guarded', UploadId: up.UploadId }),
  );
  assert.is(parts.Parts?.length, 1);
  assert.is((await signedFetch(srv, 'HEAD', '/bad-sig-bucket')).status, 404);
  assert.is((await signedFetch(srv, 'HEAD', `/${BUCKET}`)).status, 200);
  await srv.s3.send(
    new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-guarded', UploadId: up.UploadId }),
  );
});

// --- after all of it --------------------------------------------------------------------------------

test('after all of it, a normal PUT and GET work, nothing is in flight and no temporary file is left', async () => {
  const body = randomBytes(3 << 20);
  await srv.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after/all', Body: body }));
  const got = await srv.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'after/all' }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
  await settled();
  await until(async () => (await tmpFiles()).length === 0, 5_000, 'the temporary files to go');
  assert.is(await readFile(sentinel, 'utf8'), SENTINEL);
});

test.run();
