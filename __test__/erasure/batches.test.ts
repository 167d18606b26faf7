import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { suite } from 'uvu';
import { BatchReader, BatchStream } from '../../src/erasure/batches';

const BATCH = 64 * 1024;

/** Batch `i` of a test stream: every byte says which batch it is and where (a reused buffer shows). */
function fill(b: Buffer, i: number): void {
  for (let o = 0; o < b.length; o += 4) b.writeUInt32LE((i * 1_000_003 + o) >>> 0, o);
}

function expected(batches: number): Buffer {
  const out = Buffer.alloc(batches * BATCH);
  for (let i = 0; i < batches; i++) fill(out.subarray(i * BATCH, (i + 1) * BATCH), i);
  return out;
}

/** A stream of `batches` full batches, filled only once a buffer is taken, slowly now and then. */
function testStream(batches: number, seen: Set<ArrayBufferLike>, ended?: { finally: boolean }): BatchStream {
  return new BatchStream(async function* (take) {
    try {
      for (let i = 0; i < batches; i++) {
        const out = take(BATCH);
        seen.add(out.buffer);
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 1));
        fill(out, i);
        yield out;
      }
    } finally {
      if (ended) ended.finally = true;
    }
  }, BATCH);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function serve(handler: (res: http.ServerResponse) => Promise<void>): Promise<{
  url: string;
  close: () => Promise<void>;
}> {
  const server = http.createServer((_req, res) => {
    void handler(res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** GETs `url`, pausing now and then so the server's writes back up. */
function slowGet(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          parts.push(c);
          if (++n % 16 === 0) {
            res.pause();
            setTimeout(() => res.resume(), 2);
          }
        });
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const out = suite('BatchStream');

out(
  'piped into an HTTP response, a long stream reuses a few batch buffers and every byte arrives',
  async () => {
    const batches = 300;
    const seen = new Set<ArrayBufferLike>();
    const srv = await serve(async (res) => {
      res.setHeader('Content-Length', batches * BATCH);
      await pipeline(testStream(batches, seen), res);
    });
    try {
      const got = await slowGet(srv.url);
      assert.equal(sha(got), sha(expected(batches)));
      assert.ok(seen.size <= 8, `${seen.size} buffers for ${batches} batches`);
      // A second response takes the buffers the first one gave back.
      const again = new Set<ArrayBufferLike>();
      const srv2 = await serve(async (res) => {
        res.setHeader('Content-Length', 3 * BATCH);
        await pipeline(testStream(3, again), res);
      });
      try {
        assert.equal(sha(await slowGet(srv2.url)), sha(expected(3)));
        assert.ok(
          [...again].some((b) => seen.has(b)),
          'a buffer of the first stream was reused',
        );
      } finally {
        await srv2.close();
      }
    } finally {
      await srv.close();
    }
  },
);

out('plain pipe into an HTTP response (end: true) reuses buffers too, and every byte arrives', async () => {
  const seen = new Set<ArrayBufferLike>();
  const srv = await serve(async (res) => {
    res.setHeader('Content-Length', 200 * BATCH);
    testStream(200, seen).pipe(res);
  });
  try {
    assert.equal(sha(await slowGet(srv.url)), sha(expected(200)));
    assert.ok(seen.size <= 8, `${seen.size} buffers for 200 batches`);
  } finally {
    await srv.close();
  }
});

out('async iteration gets a fresh buffer per batch: what the consumer keeps stays intact', async () => {
  const seen = new Set<ArrayBufferLike>();
  const kept: Buffer[] = [];
  for await (const c of testStream(40, seen)) kept.push(c as Buffer);
  assert.equal(seen.size, 40);
  assert.equal(sha(Buffer.concat(kept)), sha(expected(40)));
});

out('piped into a PassThrough (which keeps chunks) nothing is reused', async () => {
  const seen = new Set<ArrayBufferLike>();
  const pass = new PassThrough({ highWaterMark: 64 * BATCH });
  await pipeline(testStream(30, seen), pass);
  const kept: Buffer[] = [];
  for await (const c of pass) kept.push(c as Buffer);
  assert.equal(seen.size, 30);
  assert.equal(sha(Buffer.concat(kept)), sha(expected(30)));
});

out('a second consumer stops the reuse: both see intact bytes', async () => {
  const seen = new Set<ArrayBufferLike>();
  const kept: Buffer[] = [];
  const srv = await serve(async (res) => {
    const s = testStream(60, seen);
    res.setHeader('Content-Length', 60 * BATCH);
    const p = pipeline(s, res);
    s.on('data', (c: Buffer) => kept.push(c));
    await p;
  });
  try {
    const got = await slowGet(srv.url);
    assert.equal(sha(got), sha(expected(60)));
    assert.equal(sha(Buffer.concat(kept)), sha(expected(60)));
  } finally {
    await srv.close();
  }
});

out('destroyed early, the stream ends its producer (its finally runs)', async () => {
  const ended = { finally: false };
  const s = testStream(1000, new Set(), ended);
  for await (const _ of s) break;
  await new Promise((r) => setImmediate(r));
  assert.ok(s.destroyed);
  assert.ok(ended.finally);
});

out('an error of the producer fails the stream with it', async () => {
  const s = new BatchStream(async function* (take) {
    yield take(10).fill(1);
    throw new Error('shard gone');
  }, BATCH);
  await assert.rejects(
    (async () => {
      for await (const _ of s);
    })(),
    /shard gone/,
  );
});

out.run();

const inp = suite('BatchReader');

inp('cuts a body into full batches, the last one marked, reusing at most pool buffers', async () => {
  const body = Readable.from(Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i)));
  const reader = new BatchReader(64 * 1024, 3);
  const seen = new Set<ArrayBufferLike>();
  const parts: Buffer[] = [];
  let last = 0;
  for await (const b of reader.read(body)) {
    seen.add(b.data.buffer);
    parts.push(Buffer.from(b.data));
    if (b.last) last++;
    b.release();
  }
  assert.equal(last, 1);
  assert.ok(seen.size <= 3);
  assert.deepEqual(
    Buffer.concat(parts),
    Buffer.concat(Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i))),
  );
});

inp('buffers go back to the shared pool once released after the body is read, never before', async () => {
  const size = 48 * 1024; // a size of its own: no other test shares these buffers
  const body = () => Readable.from([Buffer.alloc(size * 2 + 5, 1)]);
  const first: Buffer[] = [];
  for await (const b of new BatchReader(size, 3).read(body())) first.push(b.data);
  // Held, not released: a new reader must not get them.
  const second: Buffer[] = [];
  for await (const b of new BatchReader(size, 3).read(body())) {
    second.push(b.data);
    b.release();
  }
  for (const b of second) assert.ok(!first.some((f) => f.buffer === b.buffer), 'a held buffer was reused');
  // Released after the body was read: a third reader takes them.
  const third = new Set<ArrayBufferLike>();
  for await (const b of new BatchReader(size, 3).read(body())) {
    third.add(b.data.buffer);
    b.release();
  }
  assert.ok(
    second.some((b) => third.has(b.buffer)),
    'released buffers were not reused',
  );
});

inp('a body that fails midway stops with its error', async () => {
  const body = (async function* () {
    yield Buffer.alloc(100_000, 1);
    throw new Error('connection reset');
  })();
  const reader = new BatchReader(64 * 1024, 3);
  await assert.rejects(
    (async () => {
      for await (const b of reader.read(body)) b.release();
    })(),
    /connection reset/,
  );
});

inp.run();
