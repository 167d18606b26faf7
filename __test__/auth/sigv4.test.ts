import assert from 'node:assert/strict';
import { test } from 'uvu';
import {
  ChunkSigner,
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUri,
  deriveSigningKey,
  EMPTY_SHA256,
  formatAmzDate,
  parseAmzDate,
  presignRequest,
  signRequest,
} from '../../src/auth';
import { percentDecode, uriEncode } from '../../src/auth/canonical';
import { Lru, signatureMatches, signingKeyCache } from '../../src/auth/sigv4';
import { crc32cBase64, EXAMPLE, EXAMPLE_TIME } from './helpers';

// The worked examples of the S3 API reference, "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk", "Authenticating Requests: Using Query
// Parameters", "Transferring Payload in Multiple Chunks" and "Signature calculations for trailing
// headers": example keys, 20130524T000000Z, us-east-1, bucket examplebucket.
const ex = { credentials: EXAMPLE, region: 'us-east-1', now: EXAMPLE_TIME };
const HOST = 'examplebucket.s3.amazonaws.com';

test('AWS example GET Object with Range: canonical request, string to sign, signature', () => {
  const s = signRequest(
    { method: 'GET', path: '/test.txt', headers: { Host: HOST, Range: 'bytes=0-9' } },
    ex,
  );
  assert.equal(
    s.canonicalRequest,
    [
      'GET',
      '/test.txt',
      '',
      'host:examplebucket.s3.amazonaws.com',
      'range:bytes=0-9',
      `x-amz-content-sha256:${EMPTY_SHA256}`,
      'x-amz-date:20130524T000000Z',
      '',
      'host;range;x-amz-content-sha256;x-amz-date',
      EMPTY_SHA256,
    ].join('\n'),
  );
  assert.equal(
    s.stringToSign,
    'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
  );
  assert.equal(s.signature, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.equal(
    s.headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  );
});

test('AWS example PUT Object: "$" in the key is encoded once, Date and x-amz-date both signed', () => {
  const s = signRequest(
    {
      method: 'PUT',
      path: '/test$file.text',
      headers: {
        Host: HOST,
        Date: 'Fri, 24 May 2013 00:00:00 GMT',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      },
      body: 'Welcome to Amazon S3.',
    },
    ex,
  );
  assert.equal(
    s.headers['x-amz-content-sha256'],
    '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
  );
  assert.match(s.canonicalRequest, /^PUT\n\/test%24file\.text\n\n/);
  assert.equal(
    s.stringToSign.split('\n')[3],
    '9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d',
  );
  assert.equal(s.signature, '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd');
  // The path as an SDK sends it, already encoded, signs the same.
  const encoded = signRequest({ ...s, path: '/test%24file.text', headers: s.headers }, ex);
  assert.equal(encoded.signature, s.signature);
});

test('AWS example GET Bucket Lifecycle: a value-less sub-resource signs as "lifecycle="', () => {
  const s = signRequest({ method: 'GET', path: '/', query: 'lifecycle', headers: { Host: HOST } }, ex);
  assert.equal(s.canonicalRequest.split('\n')[2], 'lifecycle=');
  assert.equal(
    s.stringToSign.split('\n')[3],
    '9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca',
  );
  assert.equal(s.signature, 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543');
});

test('AWS example GET Bucket (List Objects): query sorted by name, whatever order it came in', () => {
  for (const query of ['max-keys=2&prefix=J', 'prefix=J&max-keys=2']) {
    const s = signRequest({ method: 'GET', path: '/', query, headers: { Host: HOST } }, ex);
    assert.equal(s.canonicalRequest.split('\n')[2], 'max-keys=2&prefix=J');
    assert.equal(s.signature, '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  }
});

test('AWS example presigned GET Object: 86400 s, host signed, UNSIGNED-PAYLOAD', () => {
  const p = presignRequest(
    { method: 'GET', path: '/test.txt', headers: { host: HOST } },
    { ...ex, expiresIn: 86400 },
  );
  assert.equal(
    p.canonicalRequest,
    [
      'GET',
      '/test.txt',
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host',
      'host:examplebucket.s3.amazonaws.com',
      '',
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n'),
  );
  assert.equal(
    p.stringToSign.split('\n')[3],
    '3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04',
  );
  assert.equal(p.signature, 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404');
  assert.equal(
    p.query,
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  );
});

const CHUNKED_HEADERS = {
  host: 's3.amazonaws.com',
  'x-amz-storage-class': 'REDUCED_REDUNDANCY',
  'content-encoding': 'aws-chunked',
  'x-amz-decoded-content-length': '66560',
};

test('AWS example chunked PUT: seed signature and the three chunk signatures', () => {
  const s = signRequest(
    {
      method: 'PUT',
      path: '/examplebucket/chunkObject.txt',
      headers: { ...CHUNKED_HEADERS, 'content-length': '66824' },
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    },
    ex,
  );
  assert.equal(
    s.headers.authorization,
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  );
  assert.equal(
    s.stringToSign.split('\n')[3],
    'cee3fed04b70f867d036f722359b0b1f2f0e5dc0efadbc082b76c4c60e316455',
  );
  const signer = new ChunkSigner(s.signing);
  assert.equal(
    signer.chunk(Buffer.alloc(65536, 'a')),
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  );
  assert.equal(
    signer.chunk(Buffer.alloc(1024, 'a')),
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  );
  assert.equal(
    signer.chunk(Buffer.alloc(0)),
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  );
});

test('AWS example chunked PUT with a signed CRC32C trailer: seed, chunks and trailer signature', () => {
  const s = signRequest(
    {
      method: 'PUT',
      path: '/examplebucket/chunkObject.txt',
      headers: { ...CHUNKED_HEADERS, 'x-amz-trailer': 'x-amz-checksum-crc32c' },
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    },
    ex,
  );
  assert.equal(s.signature, '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e');
  const signer = new ChunkSigner(s.signing);
  assert.equal(
    signer.chunk(Buffer.alloc(65536, 'a')),
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
  );
  assert.equal(
    signer.chunk(Buffer.alloc(1024, 'a')),
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
  );
  assert.equal(
    signer.chunk(Buffer.alloc(0)),
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  );
  // The example's trailer is the CRC32C of the 66560 'a's.
  assert.equal(crc32cBase64(Buffer.alloc(66560, 'a')), 'sOO8/Q==');
  assert.equal(
    signer.trailer([['x-amz-checksum-crc32c', 'sOO8/Q==']]),
    'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435',
  );
});

test('SigV4 test suite (AKIDEXAMPLE, service "service"): get-vanilla, post-vanilla, query order and case', () => {
  const suite = {
    credentials: { accessKey: 'AKIDEXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
    region: 'us-east-1',
    service: 'service',
    now: Date.UTC(2015, 7, 30, 12, 36, 0),
    omitContentSha256Header: true,
  };
  const sig = (method: string, query = '') =>
    signRequest({ method, path: '/', query, headers: { Host: 'example.amazonaws.com' } }, suite).signature;
  assert.equal(sig('GET'), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  assert.equal(sig('POST'), '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
  assert.equal(
    sig('GET', 'Param2=value2&Param1=value1'),
    'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  );
  // The general SigV4 documentation's derived-key example (IAM, 20150830).
  assert.equal(
    deriveSigningKey('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830', 'us-east-1', 'iam').toString(
      'hex',
    ),
    'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9',
  );
});

test('uriEncode keeps only the unreserved characters, hex upper case, "/" as asked', () => {
  assert.equal(uriEncode('A-Za-z0-9-._~'), 'A-Za-z0-9-._~');
  assert.equal(
    uriEncode("a b+c!'()*$&=,;:@?#[]%"),
    'a%20b%2Bc%21%27%28%29%2A%24%26%3D%2C%3B%3A%40%3F%23%5B%5D%25',
  );
  assert.equal(uriEncode('a/b'), 'a%2Fb');
  assert.equal(uriEncode('a/b', false), 'a/b');
  assert.equal(uriEncode('ключ €'), '%D0%BA%D0%BB%D1%8E%D1%87%20%E2%82%AC');
  assert.equal(uriEncode(Buffer.from([0x00, 0xff])), '%00%FF');
});

test('percentDecode decodes %XX to bytes and leaves broken escapes literal', () => {
  assert.deepEqual(percentDecode('a%20b%e2%82%ACc'), Buffer.from('a b€c'));
  assert.deepEqual(percentDecode('100%'), Buffer.from('100%'));
  assert.deepEqual(percentDecode('%zz%4'), Buffer.from('%zz%4'));
  assert.deepEqual(percentDecode('a+b'), Buffer.from('a+b'));
  assert.deepEqual(percentDecode('a+b', true), Buffer.from('a b'));
  assert.deepEqual(percentDecode('%ff%fe'), Buffer.from([0xff, 0xfe]));
  assert.deepEqual(percentDecode('é%41'), Buffer.from('éA'));
});

test('canonicalUri re-encodes each segment once, the S3 way, without normalising the path', () => {
  const cases: Array<[string, string]> = [
    ['', '/'],
    ['/', '/'],
    ['/bucket/key', '/bucket/key'],
    ['/bucket/test$file.text', '/bucket/test%24file.text'],
    ['/bucket/test%24file.text', '/bucket/test%24file.text'],
    ['/bucket/a%2fb', '/bucket/a%2Fb'], // an encoded slash stays inside its segment
    ['/bucket/a b', '/bucket/a%20b'],
    ['/bucket/a%20b', '/bucket/a%20b'],
    ['/bucket/a+b', '/bucket/a%2Bb'], // a path "+" is a plus, not a space
    ['/bucket/%7Etilde~', '/bucket/~tilde~'],
    ['/bucket/ключ', '/bucket/%D0%BA%D0%BB%D1%8E%D1%87'],
    ['/bucket/%D0%BA', '/bucket/%D0%BA'],
    ['/bucket//a/./b/../c/', '/bucket//a/./b/../c/'], // S3 keys may hold all of these
    ['/bucket/100%', '/bucket/100%25'],
    ['relative', '/relative'],
  ];
  for (const [raw, want] of cases) assert.equal(canonicalUri(raw), want, raw);
});

test('canonicalQuery sorts by encoded name then value, keeps empty values, re-encodes', () => {
  const cases: Array<[string, string]> = [
    ['', ''],
    ['?', ''],
    ['uploads', 'uploads='],
    ['b=2&a=1', 'a=1&b=2'],
    ['a=2&a=10&a=1', 'a=1&a=10&a=2'],
    ['prefix=a%2fb&delimiter=%2F', 'delimiter=%2F&prefix=a%2Fb'],
    ['x=a+b&y=a%2Bb', 'x=a%20b&y=a%2Bb'],
    ['%7e=~&tilde=%7E', 'tilde=~&~=~'], // '~' (0x7E) sorts after letters
    ['a-b=1&a=2', 'a=2&a-b=1'], // by name first: "a" < "a-b", though "a-b=1" < "a=2"
    ['empty=&x', 'empty=&x='],
    ['a=1&&b=2&', 'a=1&b=2'],
    ['key=%E2%82%AC&k%C3%A9y=1', 'k%C3%A9y=1&key=%E2%82%AC'], // sorted encoded: '%' < 'e'
    ['Param2=value2&Param1=value1&param0=v', 'Param1=value1&Param2=value2&param0=v'], // code-point order
  ];
  for (const [raw, want] of cases) assert.equal(canonicalQuery(raw), want, raw);
  assert.equal(canonicalQuery('a=1&X-Amz-Signature=abc&b=2', 'X-Amz-Signature'), 'a=1&b=2');
  assert.equal(canonicalQuery('a=1&X-Amz-Signature=abc'), 'X-Amz-Signature=abc&a=1');
});

test('canonicalHeaderValue trims and collapses runs of HTTP whitespace, nothing else', () => {
  assert.equal(canonicalHeaderValue('  a   b \t c  '), 'a b c');
  assert.equal(canonicalHeaderValue('a\r\n b'), 'a b');
  assert.equal(canonicalHeaderValue('"a   b"'), '"a b"');
  assert.equal(canonicalHeaderValue('a\u00a0\u00a0b'), 'a\u00a0\u00a0b');
  assert.equal(canonicalHeaderValue(''), '');
});

test('amz dates: format and strict parse', () => {
  assert.equal(formatAmzDate(new Date(EXAMPLE_TIME)), '20130524T000000Z');
  assert.equal(parseAmzDate('20130524T000000Z')?.getTime(), EXAMPLE_TIME);
  for (const bad of [
    '20130524T000000',
    '2013-05-24T00:00:00Z',
    '20130231T000000Z',
    '20130524T246000Z',
    '',
    'x',
  ]) {
    assert.equal(parseAmzDate(bad), null, bad);
  }
});

test('signature comparison: equal only for the same 64 hex digits, any case', () => {
  const sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
  assert.ok(signatureMatches(sig, sig));
  assert.ok(signatureMatches(sig, sig.toUpperCase()));
  assert.ok(!signatureMatches(sig, `${sig.slice(0, 63)}0`));
  assert.ok(!signatureMatches(sig, sig.slice(0, 62)));
  assert.ok(!signatureMatches(sig, `${sig}00`));
  assert.ok(!signatureMatches(sig, ''));
  assert.ok(!signatureMatches(sig, `${sig.slice(0, 63)}g`));
});

test('derived signing keys are cached per (secret, day, region, service) in a bounded LRU', () => {
  signingKeyCache.clear();
  const a = deriveSigningKey('secret', '20240101', 'r1', 's3');
  assert.equal(deriveSigningKey('secret', '20240101', 'r1', 's3'), a); // same Buffer: from the cache
  assert.notDeepEqual(deriveSigningKey('secret', '20240102', 'r1', 's3'), a);
  assert.notDeepEqual(deriveSigningKey('secret', '20240101', 'r2', 's3'), a);
  assert.notDeepEqual(deriveSigningKey('other', '20240101', 'r1', 's3'), a);
  assert.equal(signingKeyCache.size, 4);
  for (let i = 0; i < signingKeyCache.capacity + 50; i++) deriveSigningKey(`s${i}`, '20240101', 'r1', 's3');
  assert.equal(signingKeyCache.size, signingKeyCache.capacity);

  const lru = new Lru<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  lru.get('a'); // a is now the most recent
  lru.set('c', 3);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), 1);
  assert.equal(lru.get('c'), 3);
});

test.run();
