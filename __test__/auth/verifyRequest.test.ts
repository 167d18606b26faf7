import assert from 'node:assert/strict';
import { test } from 'uvu';
import {
  AUTH_ERRORS,
  AuthError,
  type AuthErrorCode,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  deriveSigningKey,
  formatAmzDate,
  isAuthError,
  presignRequest,
  type RequestDescription,
  requireAuthenticated,
  sha256Hex,
  signRequest,
  type VerifyOptions,
  verifyRequest,
} from '../../src/auth';
import { signHex, stringToSign } from '../../src/auth/sigv4';
import {
  ALICE,
  aws4Signed,
  describe,
  EXAMPLE,
  EXAMPLE_TIME,
  escapeUri,
  HOST,
  lookup,
  REGION,
  smithyPresigned,
  smithySigned,
} from './helpers';

const NOW = Date.UTC(2024, 5, 1, 12, 0, 0);
const MIN = 60_000;
const opts = { lookup, region: REGION, now: NOW };
const HELLO_SHA256 = sha256Hex('hello');

function ours(
  req: {
    method?: string;
    path?: string;
    query?: string;
    headers?: Record<string, string>;
    payloadHash?: string;
  },
  o: { now?: number; region?: string; signedHeaders?: string[]; credentials?: typeof ALICE } = {},
): RequestDescription {
  return describe(
    signRequest(
      {
        method: req.method ?? 'GET',
        path: req.path ?? '/bucket/key',
        query: req.query ?? '',
        headers: { host: HOST, ...req.headers },
        payloadHash: req.payloadHash,
      },
      {
        credentials: o.credentials ?? ALICE,
        region: o.region ?? REGION,
        now: o.now ?? NOW,
        signedHeaders: o.signedHeaders,
      },
    ),
  );
}

function presigned(
  req: {
    method?: string;
    path?: string;
    query?: string;
    headers?: Record<string, string>;
    payloadHash?: string;
  },
  o: { now?: number; expiresIn?: number; region?: string; credentials?: typeof ALICE } = {},
): RequestDescription {
  return describe(
    presignRequest(
      {
        method: req.method ?? 'GET',
        path: req.path ?? '/bucket/key',
        query: req.query ?? '',
        headers: { host: HOST, ...req.headers },
        payloadHash: req.payloadHash,
      },
      {
        credentials: o.credentials ?? ALICE,
        region: o.region ?? REGION,
        now: o.now ?? NOW,
        expiresIn: o.expiresIn ?? 3600,
      },
    ),
  );
}

function patched(r: RequestDescription, patch: Partial<RequestDescription>): RequestDescription {
  return { ...r, ...patch, headers: { ...r.headers, ...patch.headers } };
}

function withoutHeader(r: RequestDescription, name: string): RequestDescription {
  const headers = { ...r.headers };
  delete headers[name];
  return { ...r, headers };
}

function editQuery(r: RequestDescription, name: string, value: string | null): RequestDescription {
  const parts = r.query.split('&').filter((p) => !p.startsWith(`${name}=`));
  if (value !== null) parts.push(`${name}=${value}`);
  return { ...r, query: parts.join('&') };
}

async function rejects(
  p: Promise<unknown>,
  code: AuthErrorCode,
  status: number,
  message?: RegExp,
): Promise<AuthError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AuthError, `expected an AuthError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}, but the request verified`);
}

async function accepts(r: RequestDescription, o: Partial<VerifyOptions> = {}) {
  const res = await verifyRequest(r, { ...opts, ...o });
  assert.equal(res.anonymous, false);
  if (res.anonymous) throw new Error('unreachable');
  return res;
}

// ---------------------------------------------------------------------------------------------
// Interoperability with independent signers

test('accepts requests signed by aws4: keys with spaces, $, unicode, sub-resources, listings, bodies', async () => {
  const date = formatAmzDate(new Date(NOW));
  const cases = [
    { method: 'GET', path: '/bucket/a%20b%24c.txt' },
    { method: 'GET', path: '/bucket/%D0%BA%D0%BB%D1%8E%D1%87/%E2%82%AC' },
    { method: 'HEAD', path: '/bucket/dir/sub/object.bin' },
    { method: 'POST', path: '/bucket/big.iso?uploads' },
    { method: 'GET', path: '/bucket?list-type=2&prefix=photos%2F2024%2F&delimiter=%2F&max-keys=50' },
    { method: 'DELETE', path: '/bucket/k?versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY' },
    { method: 'PUT', path: '/bucket/hello.txt', body: 'hello' },
    { method: 'GET', path: '/bucket/r', headers: { Range: 'bytes=0-9', 'x-amz-request-payer': 'requester' } },
  ];
  for (const c of cases) {
    const r = aws4Signed({ ...c, headers: { ...c.headers, 'X-Amz-Date': date } });
    const res = await accepts(r);
    assert.equal(res.accessKey, ALICE.accessKey, c.path);
    assert.equal((res.identity as { user?: string }).user, 'alice');
    assert.equal(res.via, 'header');
    assert.equal(res.region, REGION);
    assert.equal(res.service, 's3');
    assert.deepEqual(res.payload, { kind: 'sha256', sha256: sha256Hex(c.body ?? '') });
  }
});

test('accepts URLs presigned by aws4', async () => {
  const date = formatAmzDate(new Date(NOW));
  for (const path of ['/bucket/a%20b.txt', '/bucket/x?response-content-type=text%2Fplain']) {
    const sep = path.includes('?') ? '&' : '?';
    const r = aws4Signed({
      method: 'GET',
      path: `${path}${sep}X-Amz-Date=${date}&X-Amz-Expires=300`,
      signQuery: true,
    });
    const res = await accepts(r);
    assert.equal(res.via, 'presigned');
    assert.deepEqual(res.payload, { kind: 'unsigned' });
    assert.equal(res.expiresAt?.getTime(), NOW + 300_000);
  }
});

test('accepts requests signed by the AWS SDK signer (@smithy/signature-v4), keys escaped as the S3 client does', async () => {
  const keys = [
    "a+b!c'd(e)f*g",
    'spaces and   more',
    'dir/€uro/naïve',
    'semi;colon=eq&amp',
    'tilde~percent%',
  ];
  for (const key of keys) {
    const path = `/bucket/${key.split('/').map(escapeUri).join('/')}`;
    const r = await smithySigned(
      {
        method: 'PUT',
        path,
        headers: { 'x-amz-content-sha256': HELLO_SHA256, 'x-amz-meta-note': ' two  spaces ' },
        body: 'hello',
      },
      { now: NOW },
    );
    const res = await accepts(r);
    assert.deepEqual(res.payload, { kind: 'sha256', sha256: HELLO_SHA256 }, key);
  }
  const list = await smithySigned(
    {
      method: 'GET',
      path: '/bucket',
      query: { 'list-type': '2', prefix: 'a b+c/', 'continuation-token': 'x=y&z/+', 'fetch-owner': '' },
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { now: NOW },
  );
  assert.deepEqual((await accepts(list)).payload, { kind: 'unsigned' });
});

test('accepts URLs presigned by the AWS SDK signer, with x-amz-* headers hoisted into the query', async () => {
  const r = await smithyPresigned(
    {
      method: 'PUT',
      path: '/bucket/upload%20me.txt',
      query: { partNumber: '3', uploadId: 'abc/def+g' },
      headers: {
        'x-amz-acl': 'private',
        'content-type': 'text/plain',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    },
    { now: NOW, expiresIn: 900 },
  );
  assert.match(r.query, /x-amz-acl=private/);
  assert.match(r.query, /X-Amz-Content-Sha256=UNSIGNED-PAYLOAD/i);
  const res = await accepts(r);
  assert.equal(res.via, 'presigned');
  assert.deepEqual(res.signedHeaders, ['content-type', 'host']);
  assert.deepEqual(res.payload, { kind: 'unsigned' });
  await rejects(
    verifyRequest(patched(r, { headers: { 'content-type': 'text/html' } }), opts),
    'SignatureDoesNotMatch',
    403,
  );
});

test('accepts what its own signers produce, and reports the payload kind x-amz-content-sha256 names', async () => {
  const base = {
    'x-amz-decoded-content-length': '10',
    'x-amz-trailer': 'x-amz-checksum-crc32, X-Amz-Checksum-CRC32C',
  };
  const cases: Array<[string, string]> = [
    [HELLO_SHA256, 'sha256'],
    [HELLO_SHA256.toUpperCase(), 'sha256'],
    ['UNSIGNED-PAYLOAD', 'unsigned'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'streaming-signed'],
    ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'streaming-signed-trailer'],
    ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'streaming-unsigned-trailer'],
  ];
  for (const [hash, kind] of cases) {
    const res = await accepts(ours({ method: 'PUT', headers: base, payloadHash: hash }));
    assert.equal(res.payload.kind, kind, hash);
    if (res.payload.kind === 'sha256') assert.equal(res.payload.sha256, HELLO_SHA256);
    if ('decodedLength' in res.payload) assert.equal(res.payload.decodedLength, 10);
    if ('trailers' in res.payload)
      assert.deepEqual(res.payload.trailers, ['x-amz-checksum-crc32', 'x-amz-checksum-crc32c']);
    if ('signing' in res.payload) {
      assert.equal(res.payload.signing.amzDate, '20240601T120000Z');
      assert.equal(res.payload.signing.scope, `20240601/${REGION}/s3/aws4_request`);
      assert.equal(
        res.payload.signing.seedSignature,
        /Signature=([0-9a-f]{64})/.exec(
          ours({ method: 'PUT', headers: base, payloadHash: hash }).headers.authorization!,
        )?.[1],
      );
    }
  }
  const p = await accepts(presigned({ method: 'PUT', payloadHash: HELLO_SHA256 }));
  assert.deepEqual(p.payload, { kind: 'sha256', sha256: HELLO_SHA256 });
});

test('verifies the AWS chunked-upload example request itself (seed signature 4f232c...)', async () => {
  const headers: Record<string, string> = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
  };
  const res = await verifyRequest(
    { method: 'PUT', path: '/examplebucket/chunkObject.txt', query: '', headers },
    { lookup, region: 'us-east-1', now: EXAMPLE_TIME },
  );
  assert.equal(res.anonymous, false);
  if (res.anonymous || res.payload.kind !== 'streaming-signed') throw new Error('wrong kind');
  assert.equal(res.accessKey, EXAMPLE.accessKey);
  assert.equal(res.payload.decodedLength, 66560);
  assert.equal(
    res.payload.signing.seedSignature,
    '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  );
});

// ---------------------------------------------------------------------------------------------
// Tampering and keys

test('a changed method, path, query, signed header, date or payload hash is SignatureDoesNotMatch (403)', async () => {
  const good = ours({
    path: '/bucket/key.txt',
    query: 'versionId=v1&partNumber=2',
    headers: { range: 'bytes=0-9', 'x-amz-meta-a': '1' },
    payloadHash: HELLO_SHA256,
  });
  await accepts(good);
  const tampered: Array<[string, RequestDescription]> = [
    ['method', patched(good, { method: 'POST' })],
    ['method case', patched(good, { method: 'get' })],
    ['path', patched(good, { path: '/bucket/key.txt2' })],
    ['path case', patched(good, { path: '/bucket/Key.txt' })],
    ['path bucket', patched(good, { path: '/other/key.txt' })],
    ['path encoded slash', patched(good, { path: '/bucket%2Fkey.txt' })],
    ['query value', patched(good, { query: 'versionId=v2&partNumber=2' })],
    ['query added', patched(good, { query: 'versionId=v1&partNumber=2&acl' })],
    ['query removed', patched(good, { query: 'versionId=v1' })],
    ['signed header', patched(good, { headers: { range: 'bytes=0-99' } })],
    ['signed x-amz header', patched(good, { headers: { 'x-amz-meta-a': '2' } })],
    ['signed header removed', withoutHeader(good, 'range')],
    ['host', patched(good, { headers: { host: 'evil.test:9000' } })],
    ['payload hash', patched(good, { headers: { 'x-amz-content-sha256': sha256Hex('hellO') } })],
    ['payload kind', patched(good, { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } })],
    ['date +1s', patched(good, { headers: { 'x-amz-date': formatAmzDate(new Date(NOW + 1000)) } })],
    [
      'signature',
      patched(good, {
        headers: { authorization: good.headers.authorization!.replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
      }),
    ],
  ];
  for (const [what, r] of tampered) {
    const e = await rejects(verifyRequest(r, opts), 'SignatureDoesNotMatch', 403);
    assert.ok(e.details.StringToSign?.startsWith('AWS4-HMAC-SHA256\n'), what);
    assert.ok(e.details.CanonicalRequest, what);
    assert.equal(e.details.AWSAccessKeyId, ALICE.accessKey);
  }
});

test('unsigned headers may change, and equivalent encodings of the same request verify', async () => {
  const good = ours({ path: '/bucket/a%20b~c', query: 'prefix=x%2Fy', headers: { 'x-amz-meta-v': 'a  b' } });
  await accepts(patched(good, { headers: { 'user-agent': 'something else', 'x-amzn-trace-id': 'Root=1' } }));
  await accepts(patched(good, { path: '/bucket/a b%7Ec' }));
  await accepts(patched(good, { query: 'prefix=x/y' }));
  await accepts(patched(good, { query: '?prefix=x%2fy' }));
  await accepts(patched(good, { headers: { 'x-amz-meta-v': '  a \t b ' } }));
});

test('a non-ASCII header value verifies over the bytes sent: UTF-8 signed, handed over as Node reads it (latin1)', async () => {
  // A signer hashes `Hello Worldé` as UTF-8 and sends those bytes; Node gives them as one char per byte.
  const good = ours({ headers: { 'x-amz-meta-m': 'Hello Worldé' } });
  const onWire = Buffer.from('Hello Worldé', 'utf8').toString('latin1');
  await accepts(patched(good, { headers: { 'x-amz-meta-m': onWire } }));
  // Other bytes for the same text (Latin-1 é) are another value: refused.
  await rejects(
    verifyRequest(patched(good, { headers: { 'x-amz-meta-m': 'Hello World\xe9' } }), opts),
    'SignatureDoesNotMatch',
    403,
  );
});

test('the wrong secret is SignatureDoesNotMatch; an unknown access key is InvalidAccessKeyId (403)', async () => {
  await rejects(
    verifyRequest(
      ours({}, { credentials: { accessKey: ALICE.accessKey, secretKey: 'not-the-secret' } }),
      opts,
    ),
    'SignatureDoesNotMatch',
    403,
  );
  const e = await rejects(
    verifyRequest(ours({}, { credentials: { accessKey: 'AKIDNOBODY', secretKey: 'x' } }), opts),
    'InvalidAccessKeyId',
    403,
  );
  assert.equal(e.details.AWSAccessKeyId, 'AKIDNOBODY');
  await rejects(
    verifyRequest(presigned({}, { credentials: { accessKey: 'AKIDNOBODY', secretKey: 'x' } }), opts),
    'InvalidAccessKeyId',
    403,
  );
});

test('a request with no credentials at all is anonymous, with whatever payload it announces', async () => {
  const bare = { method: 'GET', path: '/bucket/key', query: 'acl', headers: { host: HOST } };
  assert.deepEqual(await verifyRequest(bare, opts), { anonymous: true, payload: { kind: 'none' } });
  assert.deepEqual(
    await verifyRequest(patched(bare, { headers: { 'x-amz-content-sha256': HELLO_SHA256 } }), opts),
    {
      anonymous: true,
      payload: { kind: 'sha256', sha256: HELLO_SHA256 },
    },
  );
  assert.deepEqual(
    await verifyRequest(
      patched(bare, {
        headers: {
          'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': '5',
          'x-amz-trailer': 'x-amz-checksum-crc32',
        },
      }),
      opts,
    ),
    {
      anonymous: true,
      payload: { kind: 'streaming-unsigned-trailer', decodedLength: 5, trailers: ['x-amz-checksum-crc32'] },
    },
  );
  await rejects(
    verifyRequest(
      patched(bare, { headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } }),
      opts,
    ),
    'InvalidRequest',
    400,
  );
  await rejects(
    verifyRequest(patched(bare, { headers: { 'x-amz-content-sha256': 'nope' } }), opts),
    'InvalidArgument',
    400,
  );

  // Where credentials are required, the anonymous answer is AccessDenied (403).
  const anon = await verifyRequest(bare, opts);
  assert.throws(
    () => requireAuthenticated(anon),
    (e: unknown) => isAuthError(e, 'AccessDenied') && e.status === 403,
  );
  const signed = await verifyRequest(ours({}), opts);
  requireAuthenticated(signed);
  assert.equal(signed.accessKey, ALICE.accessKey);
});

// ---------------------------------------------------------------------------------------------
// Time

test('RequestTimeTooSkewed (403) beyond 15 minutes either way; inside it verifies', async () => {
  for (const offset of [-16 * MIN, 16 * MIN, -15 * MIN - 1000, 2 * 3600 * 1000]) {
    const e = await rejects(
      verifyRequest(ours({}, { now: NOW + offset }), opts),
      'RequestTimeTooSkewed',
      403,
    );
    assert.equal(e.details.MaxAllowedSkewMilliseconds, '900000');
    assert.equal(e.details.ServerTime, new Date(NOW).toISOString());
    assert.equal(e.details.RequestTime, formatAmzDate(new Date(NOW + offset)));
  }
  for (const offset of [-15 * MIN, -14 * MIN, 14 * MIN, 15 * MIN])
    await accepts(ours({}, { now: NOW + offset }));
  // The window is configurable.
  await rejects(
    verifyRequest(ours({}, { now: NOW + 2 * MIN }), { ...opts, maxSkewMs: MIN }),
    'RequestTimeTooSkewed',
    403,
  );
});

test('no usable date (neither x-amz-date nor Date, or unreadable) is AccessDenied (403)', async () => {
  const good = ours({});
  for (const r of [
    withoutHeader(good, 'x-amz-date'),
    patched(good, { headers: { 'x-amz-date': '2024-06-01T12:00:00Z' } }),
    patched(good, { headers: { 'x-amz-date': '20240631T120000Z' } }),
    patched(withoutHeader(good, 'x-amz-date'), { headers: { date: 'yesterday' } }),
  ]) {
    await rejects(verifyRequest(r, opts), 'AccessDenied', 403, /valid Date or x-amz-date/);
  }
});

test('with only a Date header, the string to sign carries it in ISO 8601 basic form', async () => {
  const headers = {
    host: HOST,
    date: 'Sat, 01 Jun 2024 12:00:00 GMT',
    'x-amz-content-sha256': HELLO_SHA256,
  };
  const signedHeaders = ['date', 'host', 'x-amz-content-sha256'];
  const cr = canonicalRequest({
    method: 'PUT',
    canonicalUri: canonicalUri('/bucket/k'),
    canonicalQuery: canonicalQuery(''),
    headers,
    signedHeaders,
    payloadHash: HELLO_SHA256,
  });
  const scope = `20240601/${REGION}/s3/aws4_request`;
  const sig = signHex(
    deriveSigningKey(ALICE.secretKey, '20240601', REGION, 's3'),
    stringToSign('20240601T120000Z', scope, cr),
  );
  const authorization = `AWS4-HMAC-SHA256 Credential=${ALICE.accessKey}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
  const res = await accepts({
    method: 'PUT',
    path: '/bucket/k',
    query: '',
    headers: { ...headers, authorization },
  });
  assert.equal(res.requestTime.getTime(), NOW);
});

// ---------------------------------------------------------------------------------------------
// The Authorization header's shape and scope

test('a scope for another region is AuthorizationHeaderMalformed (400) naming the region expected', async () => {
  const e = await rejects(
    verifyRequest(ours({}, { region: 'us-east-1' }), opts),
    'AuthorizationHeaderMalformed',
    400,
    /the region 'us-east-1' is wrong; expecting 'eu-west-3'/,
  );
  assert.equal(e.details.Region, REGION);
  // Even for a key nobody knows: the region is settled first, so clients can redirect.
  await rejects(
    verifyRequest(
      ours({}, { region: 'us-east-1', credentials: { accessKey: 'AKIDNOBODY', secretKey: 'x' } }),
      opts,
    ),
    'AuthorizationHeaderMalformed',
    400,
  );
});

test('a malformed credential scope is AuthorizationHeaderMalformed (400)', async () => {
  const good = ours({});
  const auth = good.headers.authorization!;
  const scope = `${ALICE.accessKey}/20240601/${REGION}/s3/aws4_request`;
  const cases: Array<[string, RegExp]> = [
    [
      `${ALICE.accessKey}/20240601/${REGION}/s4/aws4_request`,
      /incorrect service "s4". This endpoint belongs to "s3"/,
    ],
    [`${ALICE.accessKey}/20240601/${REGION}/s3/aws5_request`, /incorrect terminal "aws5_request"/],
    [`${ALICE.accessKey}/20240601/${REGION}/s3`, /Credential is mal-formed/],
    [`${ALICE.accessKey}/20240601/${REGION}/s3/aws4_request/extra`, /Credential is mal-formed/],
    [`/20240601/${REGION}/s3/aws4_request`, /Credential is mal-formed/],
    [`${ALICE.accessKey}/20241301/${REGION}/s3/aws4_request`, /Invalid credential date "20241301"/],
    [`${ALICE.accessKey}/2024061/${REGION}/s3/aws4_request`, /Invalid credential date/],
    [
      `${ALICE.accessKey}/20240602/${REGION}/s3/aws4_request`,
      /This date is not the same as X-Amz-Date: "20240601"/,
    ],
  ];
  for (const [credential, message] of cases) {
    const r = patched(good, { headers: { authorization: auth.replace(scope, credential) } });
    await rejects(verifyRequest(r, opts), 'AuthorizationHeaderMalformed', 400, message);
  }
});

test('an Authorization header without its three components is AuthorizationHeaderMalformed (400)', async () => {
  const sig = `Signature=${'0'.repeat(64)}`;
  const cred = `Credential=${ALICE.accessKey}/20240601/${REGION}/s3/aws4_request`;
  for (const value of [
    'AWS4-HMAC-SHA256',
    `AWS4-HMAC-SHA256 ${cred}, ${sig}`,
    `AWS4-HMAC-SHA256 ${cred}, SignedHeaders=host`,
    `AWS4-HMAC-SHA256 SignedHeaders=host, ${sig}`,
    `AWS4-HMAC-SHA256 ${cred}, SignedHeaders=, ${sig}`,
    `AWS4-HMAC-SHA256 ${cred}, SignedHeaders=host, SignedHeaders=host, ${sig}`,
    `AWS4-HMAC-SHA256 ${cred} SignedHeaders=host ${sig}`,
    `AWS4-HMAC-SHA256 ${cred}, garbage, SignedHeaders=host, ${sig}`,
  ]) {
    await rejects(
      verifyRequest(patched(ours({}), { headers: { authorization: value } }), opts),
      'AuthorizationHeaderMalformed',
      400,
      /malformed/,
    );
  }
  // Spacing around the commas varies between clients; all of it is fine.
  const good = ours({});
  const tight = good.headers.authorization!.replace(/, /g, ',');
  await accepts(patched(good, { headers: { authorization: tight } }));
  await accepts(patched(good, { headers: { authorization: `  ${tight.replace(/,/g, ' ,  ')} ` } }));
});

test('other schemes: SigV4a and unknown are InvalidArgument, SigV2 is InvalidRequest, two at once InvalidArgument', async () => {
  const good = ours({});
  const e = await rejects(
    verifyRequest(
      patched(good, {
        headers: {
          authorization: good.headers.authorization!.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'),
        },
      }),
      opts,
    ),
    'InvalidArgument',
    400,
    /Unsupported Authorization Type/,
  );
  assert.equal(e.details.ArgumentName, 'Authorization');
  await rejects(
    verifyRequest(patched(good, { headers: { authorization: 'Bearer abc' } }), opts),
    'InvalidArgument',
    400,
  );
  await rejects(
    verifyRequest(patched(good, { headers: { authorization: '' } }), opts),
    'InvalidArgument',
    400,
  );
  await rejects(
    verifyRequest(
      patched(good, { headers: { authorization: `AWS ${ALICE.accessKey}:frJIUN8DYpKDtOLCwo//yllqDzg=` } }),
      opts,
    ),
    'InvalidRequest',
    400,
    /Please use AWS4-HMAC-SHA256/,
  );
  const v2Query = {
    method: 'GET',
    path: '/bucket/key',
    query: `AWSAccessKeyId=${ALICE.accessKey}&Expires=1700000000&Signature=abc%3D`,
    headers: { host: HOST },
  };
  await rejects(verifyRequest(v2Query, opts), 'InvalidRequest', 400);
  const both = patched(presigned({}), { headers: { authorization: good.headers.authorization! } });
  await rejects(verifyRequest(both, opts), 'InvalidArgument', 400, /Only one auth mechanism allowed/);
});

test('host and every x-amz-* header sent must be signed: AccessDenied (403) with HeadersNotSigned', async () => {
  const noHost = ours(
    { payloadHash: HELLO_SHA256 },
    { signedHeaders: ['x-amz-content-sha256', 'x-amz-date'] },
  );
  let e = await rejects(
    verifyRequest(noHost, opts),
    'AccessDenied',
    403,
    /headers present in the request which were not signed/,
  );
  assert.equal(e.details.HeadersNotSigned, 'host');

  const good = ours({ headers: { 'x-amz-meta-a': '1' } });
  e = await rejects(
    verifyRequest(patched(good, { headers: { 'x-amz-meta-b': '2', 'x-amz-acl': 'public-read' } }), opts),
    'AccessDenied',
    403,
  );
  assert.equal(e.details.HeadersNotSigned, 'x-amz-meta-b, x-amz-acl');
  e = await rejects(
    verifyRequest(patched(presigned({}), { headers: { 'x-amz-tagging': 'a=b' } }), opts),
    'AccessDenied',
    403,
  );
  assert.equal(e.details.HeadersNotSigned, 'x-amz-tagging');

  // S3 lets x-amz-content-sha256 go unsigned: it is the canonical request's last line anyway.
  await accepts(ours({ payloadHash: HELLO_SHA256 }, { signedHeaders: ['host', 'x-amz-date'] }));
  // Signed-header names are case-insensitive and need not be sorted.
  const shuffled = good.headers.authorization!.replace(
    'SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-a',
    'SignedHeaders=X-Amz-Meta-A;host;X-AMZ-DATE;x-amz-content-sha256',
  );
  assert.notEqual(shuffled, good.headers.authorization);
  await accepts(patched(good, { headers: { authorization: shuffled } }));
});

test('x-amz-content-sha256: missing is InvalidRequest (400), not a hash nor a known value InvalidArgument (400)', async () => {
  const good = ours({ payloadHash: HELLO_SHA256 });
  await rejects(
    verifyRequest(withoutHeader(good, 'x-amz-content-sha256'), opts),
    'InvalidRequest',
    400,
    /x-amz-content-sha256/,
  );
  for (const bad of [
    'abc',
    HELLO_SHA256.slice(1),
    `${HELLO_SHA256}0`,
    'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
    'unsigned-payload',
  ]) {
    const e = await rejects(
      verifyRequest(ours({ payloadHash: bad }), opts),
      'InvalidArgument',
      400,
      /x-amz-content-sha256 must be UNSIGNED-PAYLOAD/,
    );
    assert.equal(e.details.ArgumentName, 'x-amz-content-sha256');
  }
});

test('a streaming payload without x-amz-decoded-content-length is MissingSecurityHeader (400)', async () => {
  for (const hash of [
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  ]) {
    const e = await rejects(
      verifyRequest(ours({ method: 'PUT', payloadHash: hash }), opts),
      'MissingSecurityHeader',
      400,
    );
    assert.equal(e.details.MissingHeaderName, 'x-amz-decoded-content-length');
    await rejects(
      verifyRequest(
        ours({ method: 'PUT', payloadHash: hash, headers: { 'x-amz-decoded-content-length': '-1' } }),
        opts,
      ),
      'InvalidArgument',
      400,
    );
  }
});

test('temporary credentials: the session token must be sent, signed, and the one issued', async () => {
  const temp = { accessKey: 'ASIATEMP', secretKey: 'temp-secret', sessionToken: 'token-123' };
  const withToken = async (k: string) =>
    k === temp.accessKey ? { secretKey: temp.secretKey, sessionToken: temp.sessionToken } : null;
  const o = { ...opts, lookup: withToken };
  const signed = describe(
    signRequest(
      { method: 'GET', path: '/b/k', headers: { host: HOST } },
      { credentials: temp, region: REGION, now: NOW },
    ),
  );
  assert.equal(signed.headers['x-amz-security-token'], 'token-123');
  await accepts(signed, o);
  const other = describe(
    signRequest(
      { method: 'GET', path: '/b/k', headers: { host: HOST } },
      { credentials: { ...temp, sessionToken: 'token-456' }, region: REGION, now: NOW },
    ),
  );
  await rejects(verifyRequest(other, o), 'InvalidToken', 400);
  const none = describe(
    signRequest(
      { method: 'GET', path: '/b/k', headers: { host: HOST } },
      { credentials: { accessKey: temp.accessKey, secretKey: temp.secretKey }, region: REGION, now: NOW },
    ),
  );
  // AWS: without its token a temporary key is unknown (403 InvalidAccessKeyId), naming the key.
  const missing = await rejects(verifyRequest(none, o), 'InvalidAccessKeyId', 403);
  assert.equal(missing.details.AWSAccessKeyId, temp.accessKey);
  // A long-term key presented with a token is refused too.
  const stray = describe(
    signRequest(
      { method: 'GET', path: '/b/k', headers: { host: HOST } },
      { credentials: { ...ALICE, sessionToken: 'x' }, region: REGION, now: NOW },
    ),
  );
  await rejects(verifyRequest(stray, opts), 'InvalidToken', 400);
  const p = describe(
    presignRequest(
      { method: 'GET', path: '/b/k', headers: { host: HOST } },
      { credentials: temp, region: REGION, now: NOW, expiresIn: 60 },
    ),
  );
  assert.match(p.query, /X-Amz-Security-Token=token-123/);
  await accepts(p, o);
});

test('a header sent several times, joined with commas, signs as its canonical form', async () => {
  const r = ours({ headers: { 'x-amz-meta-list': 'a,  b ,c', 'cache-control': 'no-cache,   no-store' } });
  assert.deepEqual((await accepts(r)).signedHeaders, [
    'cache-control',
    'host',
    'x-amz-content-sha256',
    'x-amz-date',
    'x-amz-meta-list',
  ]);
  await accepts(patched(r, { headers: { 'x-amz-meta-list': 'a, b ,c' } }));
  await rejects(
    verifyRequest(patched(r, { headers: { 'x-amz-meta-list': 'a,b,c' } }), opts),
    'SignatureDoesNotMatch',
    403,
  );
});

// ---------------------------------------------------------------------------------------------
// Presigned URLs

test('presigned: valid up to X-Amz-Date + X-Amz-Expires, then AccessDenied "Request has expired" (403)', async () => {
  const r = presigned({}, { expiresIn: 60 });
  await accepts(r, { now: NOW + 60_000 });
  const e = await rejects(
    verifyRequest(r, { ...opts, now: NOW + 61_000 }),
    'AccessDenied',
    403,
    /^Request has expired$/,
  );
  assert.equal(e.details['X-Amz-Expires'], '60');
  assert.equal(e.details.Expires, new Date(NOW + 60_000).toISOString());
  // Long after: the date may even be another day than the server's; expiry alone decides.
  await rejects(
    verifyRequest(presigned({}, { expiresIn: 604800 }), { ...opts, now: NOW + 8 * 86400_000 }),
    'AccessDenied',
    403,
    /expired/,
  );
  await accepts(presigned({}, { expiresIn: 604800 }), { now: NOW + 604800_000 });
});

test('presigned: a URL dated in the future beyond the skew is AccessDenied "Request is not valid yet" (403)', async () => {
  await rejects(
    verifyRequest(presigned({}, { now: NOW + 16 * MIN }), opts),
    'AccessDenied',
    403,
    /^Request is not valid yet$/,
  );
  await accepts(presigned({}, { now: NOW + 5 * MIN }));
});

test('presigned: X-Amz-Expires must be a number from 1 to 604800: AuthorizationQueryParametersError (400)', async () => {
  const r = presigned({});
  const cases: Array<[string, RegExp]> = [
    [
      '604801',
      /must be less than a week \(in seconds\); that is, the given X-Amz-Expires must be less than 604800 seconds/,
    ],
    ['0', /at least 1 second/],
    ['-1', /must be non-negative/],
    ['abc', /should be a number/],
    ['1.5', /should be a number/],
    ['', /should be a number/],
  ];
  for (const [value, message] of cases) {
    await rejects(
      verifyRequest(editQuery(r, 'X-Amz-Expires', value), opts),
      'AuthorizationQueryParametersError',
      400,
      message,
    );
  }
});

test('presigned: missing parameters, another algorithm, bad date or scope: AuthorizationQueryParametersError (400)', async () => {
  const r = presigned({});
  for (const p of [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Expires',
  ]) {
    await rejects(
      verifyRequest(editQuery(r, p, null), opts),
      'AuthorizationQueryParametersError',
      400,
      /requires the X-Amz-Algorithm/,
    );
  }
  await rejects(
    verifyRequest(editQuery(r, 'X-Amz-Algorithm', 'AWS4-ECDSA-P256-SHA256'), opts),
    'AuthorizationQueryParametersError',
    400,
    /X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"/,
  );
  await rejects(
    verifyRequest(editQuery(r, 'X-Amz-Date', '2024-06-01'), opts),
    'AuthorizationQueryParametersError',
    400,
    /ISO8601 Long Format/,
  );
  await rejects(
    verifyRequest(editQuery(r, 'X-Amz-Date', '20240602T000000Z'), opts),
    'AuthorizationQueryParametersError',
    400,
    /This date is not the same as X-Amz-Date/,
  );
  const e = await rejects(
    verifyRequest(presigned({}, { region: 'us-west-2' }), opts),
    'AuthorizationQueryParametersError',
    400,
    /^Error parsing the X-Amz-Credential parameter; the region 'us-west-2' is wrong; expecting 'eu-west-3'/,
  );
  assert.equal(e.details.Region, REGION);
  await rejects(
    verifyRequest(editQuery(r, 'X-Amz-Credential', `${ALICE.accessKey}%2F20240601`), opts),
    'AuthorizationQueryParametersError',
    400,
    /Credential is mal-formed/,
  );
});

test('presigned: a changed method, path, query, expiry, signed header or signature is SignatureDoesNotMatch (403)', async () => {
  const r = presigned({
    method: 'PUT',
    path: '/bucket/k',
    query: 'partNumber=1&uploadId=u',
    headers: { 'content-md5': 'XUFAKrxLKna5cZ2REBfFkg==' },
  });
  await accepts(r);
  const sig = /X-Amz-Signature=([0-9a-f]+)/.exec(r.query)![1]!;
  const tampered = [
    patched(r, { method: 'GET' }),
    patched(r, { path: '/bucket/k2' }),
    patched(r, { query: r.query.replace('partNumber=1', 'partNumber=2') }),
    patched(r, { query: `${r.query}&x-id=PutObject` }),
    editQuery(r, 'X-Amz-Expires', '3601'),
    patched(r, { headers: { 'content-md5': 'AAAAKrxLKna5cZ2REBfFkg==' } }),
    editQuery(
      r,
      'X-Amz-Signature',
      sig.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
    ),
  ];
  for (const t of tampered) await rejects(verifyRequest(t, opts), 'SignatureDoesNotMatch', 403);
  await rejects(
    verifyRequest(presigned({}, { credentials: { accessKey: ALICE.accessKey, secretKey: 'wrong' } }), opts),
    'SignatureDoesNotMatch',
    403,
  );
});

// ---------------------------------------------------------------------------------------------
// Errors

test('every auth error code has the status AWS uses, and AuthError carries it', () => {
  const expected: Record<string, number> = {
    AccessDenied: 403,
    SignatureDoesNotMatch: 403,
    InvalidAccessKeyId: 403,
    RequestTimeTooSkewed: 403,
    AuthorizationHeaderMalformed: 400,
    AuthorizationQueryParametersError: 400,
    MissingSecurityHeader: 400,
    InvalidRequest: 400,
    InvalidArgument: 400,
    InvalidToken: 400,
    ExpiredToken: 400,
    XAmzContentSHA256Mismatch: 400,
    IncompleteBody: 400,
  };
  assert.deepEqual(Object.keys(AUTH_ERRORS).sort(), Object.keys(expected).sort());
  for (const code of Object.keys(AUTH_ERRORS) as AuthErrorCode[]) {
    const e = new AuthError(code);
    assert.equal(e.status, expected[code], code);
    assert.equal(e.message, AUTH_ERRORS[code].message);
    assert.ok(e.message.length > 0);
    assert.ok(isAuthError(e, code));
    assert.ok(isAuthError(e));
  }
  assert.ok(!isAuthError(new Error('x')));
  assert.ok(!isAuthError(new AuthError('AccessDenied'), 'SignatureDoesNotMatch'));
});

test.run();
