import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'uvu';
import {
  ChunkSigner,
  createPayloadVerifier,
  encodeAwsChunked,
  type PayloadInfo,
  sha256Hex,
  signRequest,
  verifyRequest,
} from '../../src/auth';
import {
  ALICE,
  crc32Base64,
  crc32cBase64,
  cut,
  EXAMPLE_TIME,
  HOST,
  lookup,
  prng,
  REGION,
  run,
} from './helpers';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);

type StreamingHash =
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
  | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/**
 * A chunked upload end to end: the request signed (its headers announcing the data length and
 * trailers), accepted by verifyRequest, and its aws-chunked body encoded with our chunk signer.
 */
async function chunkedUpload(
  chunks: Buffer[],
  hash: StreamingHash,
  trailers?: Array<[string, string]>,
): Promise<{ body: Buffer; payload: PayloadInfo; data: Buffer; signer: () => ChunkSigner }> {
  const data = Buffer.concat(chunks);
  const headers: Record<string, string> = {
    host: HOST,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(data.length),
  };
  if (trailers) headers['x-amz-trailer'] = trailers.map(([n]) => n).join(',');
  const signed = signRequest(
    { method: 'PUT', path: '/bucket/object', headers, payloadHash: hash },
    { credentials: ALICE, region: REGION, now: NOW },
  );
  const res = await verifyRequest(signed, { lookup, region: REGION, now: NOW });
  if (res.anonymous) throw new Error('unexpected anonymous');
  const signer = () => new ChunkSigner(signed.signing);
  const body = encodeAwsChunked(chunks, {
    signer: hash === 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' ? undefined : signer(),
    trailers,
  });
  return { body, payload: res.payload, data, signer };
}

/** A storage writer that, like the object layer, commits only once its input ended cleanly. */
function storage() {
  const state = { committed: false, bytes: 0 };
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      state.bytes += chunk.length;
      cb();
    },
    final(cb) {
      state.committed = true;
      cb();
    },
  });
  return { sink, state };
}

const pattern = (n: number, seed = 1) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
};

// ---------------------------------------------------------------------------------------------
// Plain bodies

test('sha256: a body that hashes to x-amz-content-sha256 passes through unchanged, in any pieces', async () => {
  const body = randomBytes(200_000);
  const rnd = prng(7);
  const points = Array.from({ length: 12 }, () => Math.floor(rnd() * body.length)).sort((a, b) => a - b);
  const r = await run(
    createPayloadVerifier({ kind: 'sha256', sha256: sha256Hex(body).toUpperCase() }),
    cut(body, ...points),
  );
  assert.equal(r.error, undefined);
  assert.ok(r.ended);
  assert.ok(r.data.equals(body));
  const empty = await run(createPayloadVerifier({ kind: 'sha256', sha256: sha256Hex('') }), []);
  assert.ok(empty.ended);
});

test('sha256: a body that does not match is XAmzContentSHA256Mismatch (400), and its last bytes and end never reach the consumer', async () => {
  const body = Buffer.from('hello brave new world');
  const r = await run(
    createPayloadVerifier({ kind: 'sha256', sha256: sha256Hex('hello brave new worlD') }),
    cut(body, 6, 12, 16),
  );
  assert.equal(r.error?.code, 'XAmzContentSHA256Mismatch');
  assert.equal(r.error?.status, 400);
  assert.equal(
    (r.error as unknown as { details: Record<string, string> }).details.S3ComputedContentSHA256,
    sha256Hex(body),
  );
  assert.equal(r.ended, false);
  assert.ok(r.data.length < body.length, 'the last piece is held back until the hash is known');
  assert.ok(body.subarray(0, r.data.length).equals(r.data));

  // Through a pipeline into a writer that commits on a clean end: nothing is committed.
  const { sink, state } = storage();
  await assert.rejects(
    pipeline(
      Readable.from(cut(body, 3, 9)),
      createPayloadVerifier({ kind: 'sha256', sha256: sha256Hex('other') }),
      sink,
    ),
    (e: { code?: string }) => e.code === 'XAmzContentSHA256Mismatch',
  );
  assert.equal(state.committed, false);
  assert.ok(state.bytes < body.length);
});

test('unsigned and none pass bytes through; a declared length is enforced: short IncompleteBody, long refused', async () => {
  const body = pattern(5000);
  for (const payload of [
    { kind: 'unsigned' },
    { kind: 'none' },
    { kind: 'sha256', sha256: sha256Hex(body) },
  ] as PayloadInfo[]) {
    const ok = await run(createPayloadVerifier(payload, { decodedLength: 5000 }), cut(body, 1000, 4999));
    assert.ok(ok.ended && ok.data.equals(body), payload.kind);
    const short = await run(createPayloadVerifier(payload, { decodedLength: 5001 }), cut(body, 1000));
    assert.equal(short.error?.code, 'IncompleteBody', payload.kind);
    assert.equal(short.ended, false);
    assert.ok(short.data.length < body.length);
    const long = await run(createPayloadVerifier(payload, { decodedLength: 4999 }), cut(body, 1000, 2000));
    assert.equal(long.error?.code, 'InvalidRequest', payload.kind);
    assert.ok(long.data.length <= 1000, 'nothing past the offending piece is released');
  }
});

// ---------------------------------------------------------------------------------------------
// aws-chunked, signed

test('signed chunks: the AWS example body (seed 4f232c..., chunk signatures as published) decodes to its 66560 bytes', async () => {
  const body = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from(
      '\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
    ),
    Buffer.alloc(1024, 'a'),
    Buffer.from(
      '\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
    ),
  ]);
  assert.equal(body.length, 66824); // the example's Content-Length
  const req = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: '',
    headers: {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'content-length': '66824',
    },
  };
  const auth = await verifyRequest(req, { lookup, region: 'us-east-1', now: EXAMPLE_TIME });
  for (const pieces of [
    [body],
    cut(body, 1, 87, 88, 65624, 65625, 66700),
    Array.from({ length: 67 }, (_, i) => body.subarray(i * 1000, i * 1000 + 1000)),
  ]) {
    const r = await run(createPayloadVerifier(auth.payload), pieces);
    assert.equal(r.error, undefined);
    assert.ok(r.ended);
    assert.ok(r.data.equals(Buffer.alloc(66560, 'a')));
  }
});

test('signed chunks: a small body split at every byte position, byte by byte, and at random, always decodes', async () => {
  const chunks = [pattern(10, 1), pattern(17, 2), pattern(1, 3), pattern(13, 4)];
  const { body, payload, data } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  for (let i = 0; i <= body.length; i++) {
    const r = await run(createPayloadVerifier(payload), cut(body, i));
    assert.ok(r.ended && r.data.equals(data), `split at ${i}: ${r.error?.message}`);
  }
  const bytes = await run(
    createPayloadVerifier(payload),
    Array.from(body, (b) => Buffer.from([b])),
  );
  assert.ok(bytes.ended && bytes.data.equals(data));
  const rnd = prng(42);
  for (let k = 0; k < 200; k++) {
    const points = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () =>
      Math.floor(rnd() * body.length),
    ).sort((a, b) => a - b);
    const r = await run(createPayloadVerifier(payload), cut(body, ...points));
    assert.ok(r.ended && r.data.equals(data), `cut at ${points}`);
  }
});

test('signed chunks: a tampered middle chunk is SignatureDoesNotMatch (403) and none of its bytes are released', async () => {
  const chunks = [pattern(300, 1), pattern(300, 2), pattern(300, 3)];
  const { body, payload } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const second = body.indexOf(Buffer.from('12c;chunk-signature='), 10);
  const secondData = body.indexOf('\r\n', second) + 2;

  const flipped = Buffer.from(body);
  flipped[secondData + 150]! ^= 1;
  const badSig = Buffer.from(body);
  const sigAt = second + '12c;chunk-signature='.length;
  badSig[sigAt] = badSig[sigAt] === 0x61 ? 0x62 : 0x61;
  for (const [what, tampered] of [
    ['data', flipped],
    ['signature', badSig],
  ] as const) {
    for (const pieces of [[tampered], cut(tampered, secondData + 10, secondData + 200)]) {
      const r = await run(createPayloadVerifier(payload), pieces);
      assert.equal(r.error?.code, 'SignatureDoesNotMatch', what);
      assert.equal(r.error?.status, 403);
      assert.equal(r.ended, false);
      assert.ok(r.data.length <= 300, `${what}: only bytes of the verified first chunk may have gone out`);
      assert.ok(chunks[0]!.subarray(0, r.data.length).equals(r.data));
    }
  }
});

test('signed chunks: reordered, replayed, unsigned, or a bad final chunk all fail; the end never comes', async () => {
  const chunks = [pattern(100, 1), pattern(100, 2)];
  const { body, payload, data } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const frames = body.toString('latin1').split(/(?=64;chunk-signature|0;chunk-signature)/);
  assert.equal(frames.length, 3);
  const swapped = Buffer.from(frames[1]! + frames[0]! + frames[2]!, 'latin1');
  const other = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  // Same data and key, another request (other seed): its chunks do not chain from this seed.
  if (!('signing' in payload)) throw new Error('a signed payload has a signing context');
  const replayed = encodeAwsChunked(chunks, {
    signer: new ChunkSigner({ ...payload.signing, seedSignature: '0'.repeat(64) }),
  });
  const finalBad = Buffer.from(body);
  finalBad[finalBad.length - 5] = finalBad[finalBad.length - 5] === 0x30 ? 0x31 : 0x30;
  const unsigned = encodeAwsChunked(chunks);
  const cases: Array<[string, Buffer, string]> = [
    ['reordered', swapped, 'SignatureDoesNotMatch'],
    ['other seed', replayed, 'SignatureDoesNotMatch'],
    ['final chunk', finalBad, 'SignatureDoesNotMatch'],
    ['no chunk-signature', unsigned, 'SignatureDoesNotMatch'],
  ];
  assert.ok(other.body.equals(body)); // deterministic: same request, same signatures
  for (const [what, b, code] of cases) {
    const r = await run(createPayloadVerifier(payload), cut(b, 50, 170));
    assert.equal(r.error?.code, code, what);
    assert.equal(r.ended, false, what);
    assert.ok(r.data.length < data.length, `${what}: the last bytes are held back`);
  }
  // And through a pipeline, the storage writer commits nothing.
  const { sink, state } = storage();
  await assert.rejects(pipeline(Readable.from([finalBad]), createPayloadVerifier(payload), sink));
  assert.equal(state.committed, false);
});

test('signed chunks: a body cut short anywhere errors promptly (IncompleteBody), never hangs', async () => {
  const chunks = [pattern(40, 1), pattern(25, 2)];
  const { body, payload, data } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  // Everything up to the final chunk's header is needed; the final CRLF after it carries nothing.
  const lastNeeded = body.length - 2;
  for (let i = 0; i < lastNeeded; i++) {
    const started = Date.now();
    const r = await run(createPayloadVerifier(payload), [body.subarray(0, i)], { timeoutMs: 5000 });
    assert.equal(r.error?.code, 'IncompleteBody', `cut at ${i}: ${r.error?.message}`);
    assert.equal(r.ended, false);
    assert.ok(r.data.length < data.length);
    assert.ok(Date.now() - started < 2000, 'errors at the end of input, without waiting for more');
  }
  for (let i = lastNeeded; i <= body.length; i++) {
    const r = await run(createPayloadVerifier(payload), [body.subarray(0, i)]);
    assert.ok(r.ended && r.data.equals(data), `cut at ${i}`);
  }
  // A client that goes away mid-body (the request stream errors) fails the pipeline at once.
  const aborted = Readable.from(
    (async function* () {
      yield body.subarray(0, 60);
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    })(),
  );
  const { sink, state } = storage();
  await assert.rejects(pipeline(aborted, createPayloadVerifier(payload), sink), /aborted/);
  assert.equal(state.committed, false);
});

test('aws-chunked framing errors are InvalidRequest (400): bad size, missing CRLF, wrong size, long line, big chunk, trailing junk', async () => {
  const chunks = [pattern(20, 1)];
  const { body, payload } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const text = body.toString('latin1');
  const sig = /chunk-signature=([0-9a-f]{64})/.exec(text)![1]!;
  const cases: Array<[string, Buffer | string, string]> = [
    ['size not hex', text.replace(/^14;/, 'zz;'), 'InvalidRequest'],
    ['negative size', text.replace(/^14;/, '-14;'), 'InvalidRequest'],
    ['empty size', text.replace(/^14;/, ';'), 'InvalidRequest'],
    ['LF without CR', text.replace(`${sig}\r\n`, `${sig}\n`), 'InvalidRequest'],
    ['size too small', text.replace(/^14;/, '13;'), 'InvalidRequest'],
    ['size too large', text.replace(/^14;/, '15;'), 'InvalidRequest'],
    ['junk after the final chunk', `${text}more`, 'InvalidRequest'],
    ['an endless header line', `14;chunk-signature=${'a'.repeat(5000)}`, 'InvalidRequest'],
  ];
  for (const [what, b, code] of cases) {
    const r = await run(createPayloadVerifier(payload), [Buffer.from(b as string, 'latin1')]);
    assert.equal(r.error?.code, code, `${what}: ${r.error?.message}`);
    assert.equal(r.error?.status, 400);
    assert.match(r.error!.message, /aws-chunked|declared/, what);
  }
  // A signed chunk is held until verified, so its size is bounded.
  const big = await chunkedUpload([pattern(2048)], 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const r = await run(createPayloadVerifier(big.payload, { maxChunkSize: 1024 }), [big.body]);
  assert.equal(r.error?.code, 'InvalidRequest');
  assert.match(r.error!.message, /exceeds the largest accepted chunk, 1024 bytes/);
  assert.equal(r.data.length, 0);
});

test('aws-chunked: the data must add up to x-amz-decoded-content-length', async () => {
  const chunks = [pattern(64, 1), pattern(64, 2)];
  const { body, payload } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const short = await run(createPayloadVerifier(payload, { decodedLength: 129 }), [body]);
  assert.equal(short.error?.code, 'IncompleteBody');
  assert.ok(short.data.length < 128);
  const long = await run(createPayloadVerifier(payload, { decodedLength: 100 }), [body]);
  assert.equal(long.error?.code, 'InvalidRequest');
  assert.equal(
    long.data.length,
    0,
    'the overflowing chunk is refused from its header; the first is still held',
  );
});

// ---------------------------------------------------------------------------------------------
// Trailers

test('unsigned trailer (the JS SDK shape): CRC32 and CRC32C trailers, every split position, exposed after the end', async () => {
  const chunks = [pattern(33, 1), pattern(7, 2), pattern(20, 3)];
  const data = Buffer.concat(chunks);
  for (const [name, value] of [
    ['x-amz-checksum-crc32', crc32Base64(data)],
    ['x-amz-checksum-crc32c', crc32cBase64(data)],
  ] as const) {
    const { body, payload } = await chunkedUpload(chunks, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', [
      [name, value],
    ]);
    assert.equal(payload.kind, 'streaming-unsigned-trailer');
    assert.ok(body.toString('latin1').endsWith(`0\r\n${name}:${value}\r\n\r\n`));
    for (let i = 0; i <= body.length; i++) {
      const v = createPayloadVerifier(payload);
      const r = await run(v, cut(body, i));
      assert.ok(r.ended && r.data.equals(data), `${name} split at ${i}: ${r.error?.message}`);
      assert.deepEqual({ ...v.trailers }, { [name]: value });
      // What the caller then checks against the bytes it stored:
      assert.equal(v.trailers[name], name.endsWith('c') ? crc32cBase64(r.data) : crc32Base64(r.data));
    }
  }
});

test('signed trailer: the AWS example (CRC32C sOO8/Q==, trailer signature d81f82...) verifies, in the layouts clients send', async () => {
  const head =
    '10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n' +
    'a'.repeat(65536) +
    '\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n' +
    'a'.repeat(1024) +
    '\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n';
  const sig = 'x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';
  const req = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: '',
    headers: {
      host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'x-amz-trailer': 'x-amz-checksum-crc32c',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer, Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
    },
  };
  const auth = await verifyRequest(req, { lookup, region: 'us-east-1', now: EXAMPLE_TIME });
  const layouts = [
    `x-amz-checksum-crc32c:sOO8/Q==\r\n${sig}\r\n\r\n`, // as the SDKs send it
    `\r\nx-amz-checksum-crc32c:sOO8/Q==\r\n${sig}\r\n\r\n`, // a blank line after the final chunk
    `x-amz-checksum-crc32c:sOO8/Q==\n\r\n${sig}\r\n\r\n`, // "\n\r\n" after the value
    `x-amz-checksum-crc32c:sOO8/Q==\r\n${sig}`, // no final CRLFs
  ];
  for (const tail of layouts) {
    const body = Buffer.from(head + tail, 'latin1');
    const v = createPayloadVerifier(auth.payload);
    const r = await run(v, cut(body, 30000, body.length - 40, body.length - 3));
    assert.equal(r.error, undefined, JSON.stringify(tail));
    assert.ok(r.ended && r.data.equals(Buffer.alloc(66560, 'a')));
    assert.equal(v.trailers['x-amz-checksum-crc32c'], 'sOO8/Q==');
  }
  const bad: Array<[string, string]> = [
    ['value', `x-amz-checksum-crc32c:sOO8/Q=A\r\n${sig}\r\n\r\n`],
    ['signature', `x-amz-checksum-crc32c:sOO8/Q==\r\n${sig.replace(/5$/, '6')}\r\n\r\n`],
    ['missing signature', 'x-amz-checksum-crc32c:sOO8/Q==\r\n\r\n'],
    ['cut inside the signature', `x-amz-checksum-crc32c:sOO8/Q==\r\n${sig.slice(0, -10)}`],
  ];
  for (const [what, tail] of bad) {
    const r = await run(createPayloadVerifier(auth.payload), [Buffer.from(head + tail, 'latin1')]);
    assert.equal(r.error?.code, 'SignatureDoesNotMatch', what);
    assert.equal(r.ended, false);
    assert.ok(r.data.length < 66560, `${what}: the last bytes are held back`);
  }
});

test('signed trailer from our signer: several trailers, any split position', async () => {
  const chunks = [pattern(12, 1), pattern(9, 2)];
  const data = Buffer.concat(chunks);
  const trailers: Array<[string, string]> = [
    ['x-amz-checksum-crc32', crc32Base64(data)],
    ['x-amz-checksum-sha256', createHash('sha256').update(data).digest('base64')],
  ];
  const { body, payload } = await chunkedUpload(
    chunks,
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    trailers,
  );
  assert.deepEqual((payload as { trailers: string[] }).trailers, [
    'x-amz-checksum-crc32',
    'x-amz-checksum-sha256',
  ]);
  for (let i = 0; i <= body.length; i++) {
    const v = createPayloadVerifier(payload);
    const r = await run(v, cut(body, i));
    assert.ok(r.ended && r.data.equals(data), `split at ${i}: ${r.error?.message}`);
    assert.deepEqual({ ...v.trailers }, Object.fromEntries(trailers));
  }
});

test('trailers: undeclared or malformed is InvalidRequest, declared but absent or cut short IncompleteBody', async () => {
  const chunks = [pattern(10)];
  const data = Buffer.concat(chunks);
  const crc = crc32Base64(data);
  const { payload } = await chunkedUpload(chunks, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', [
    ['x-amz-checksum-crc32', crc],
  ]);
  const pre = `a\r\n${data.toString('latin1')}\r\n0\r\n`;
  const cases: Array<[string, string, string]> = [
    ['undeclared', `x-amz-checksum-crc32:${crc}\r\nx-amz-checksum-sha1:abc=\r\n\r\n`, 'InvalidRequest'],
    ['not name:value', `x-amz-checksum-crc32 ${crc}\r\n\r\n`, 'InvalidRequest'],
    ['twice', `x-amz-checksum-crc32:${crc}\r\nx-amz-checksum-crc32:${crc}\r\n\r\n`, 'InvalidRequest'],
    [
      'a signature in an unsigned trailer',
      `x-amz-checksum-crc32:${crc}\r\nx-amz-trailer-signature:${'0'.repeat(64)}\r\n\r\n`,
      'InvalidRequest',
    ],
    ['declared, not sent', '\r\n', 'IncompleteBody'],
    ['nothing after the final chunk', '', 'IncompleteBody'],
    ['cut inside the value', `x-amz-checksum-crc32:${crc.slice(0, 3)}`, 'IncompleteBody'],
    ['too long', `x-amz-checksum-crc32:${'A'.repeat(20_000)}\r\n\r\n`, 'InvalidRequest'],
  ];
  for (const [what, tail, code] of cases) {
    const r = await run(createPayloadVerifier(payload), [Buffer.from(pre + tail, 'latin1')]);
    assert.equal(r.error?.code, code, `${what}: ${r.error?.message}`);
    assert.equal(r.ended, false, what);
    assert.ok(r.data.length < data.length, what);
  }
  // The final blank line may be missing once the last trailer line is whole.
  const r = await run(createPayloadVerifier(payload), [
    Buffer.from(`${pre}x-amz-checksum-crc32:${crc}\r\n`, 'latin1'),
  ]);
  assert.ok(r.ended && r.data.equals(data));
});

test('a large signed upload streams through a pipeline with backpressure, 64 KiB chunks, same bytes out', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 12345);
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) chunks.push(data.subarray(i, i + 65536));
  const { body, payload } = await chunkedUpload(chunks, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += 16384 + 7) pieces.push(body.subarray(i, i + 16384 + 7));
  const hash = createHash('sha256');
  let committed = false;
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      setImmediate(cb);
    },
    final(cb) {
      committed = true;
      cb();
    },
  });
  const verifier = createPayloadVerifier(payload);
  await pipeline(Readable.from(pieces), verifier, slow);
  assert.ok(committed);
  assert.equal(hash.digest('hex'), sha256Hex(data));
  assert.equal(verifier.decodedBytes, data.length);
});

test.run();
