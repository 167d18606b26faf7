/**
 * The client side of Signature Version 4, for tests, tools and server-to-server calls: sign a
 * request's headers, presign a URL, and encode an aws-chunked body with its chunk signatures.
 * Built on the same canonicalisation as `verifyRequest`; the tests check both against AWS's
 * published examples and against independent signers.
 */
import { canonicalQuery, canonicalRequest, canonicalUri, uriEncode } from './canonical';
import {
  ALGORITHM,
  chunkStringToSign,
  credentialScope,
  deriveSigningKey,
  EMPTY_SHA256,
  formatAmzDate,
  sha256Hex,
  signHex,
  stringToSign,
  trailerStringToSign,
  UNSIGNED_PAYLOAD,
} from './sigv4';
import type { ChunkSigningContext } from './types';

export interface SigningCredentials {
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
}

export interface SignOptions {
  credentials: SigningCredentials;
  region: string;
  /** Default `s3`. */
  service?: string;
  /** Default now. */
  now?: Date | number;
}

export interface RequestToSign {
  method: string;
  /** Raw, percent-encoded path as it will be sent. */
  path: string;
  /** Raw query string as it will be sent, without `?`. */
  query?: string;
  /** Any case; `host` is required. */
  headers: Record<string, string>;
}

export interface SignedRequest {
  method: string;
  path: string;
  query: string;
  /** Lower-cased, with the signing headers added. */
  headers: Record<string, string>;
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
  /** What a chunked body's signatures continue from. */
  signing: ChunkSigningContext;
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function timeOf(now: Date | number | undefined): Date {
  return now === undefined ? new Date() : new Date(typeof now === 'number' ? now : now.getTime());
}

function sign(
  method: string,
  path: string,
  query: string,
  exclude: string | undefined,
  headers: Record<string, string>,
  signedHeaders: string[],
  payloadHash: string,
  amzDate: string,
  opts: SignOptions,
) {
  const service = opts.service ?? 's3';
  const date = amzDate.slice(0, 8);
  const scope = credentialScope(date, opts.region, service);
  const cr = canonicalRequest({
    method,
    canonicalUri: canonicalUri(path),
    canonicalQuery: canonicalQuery(query, exclude),
    headers,
    signedHeaders,
    payloadHash,
  });
  const sts = stringToSign(amzDate, scope, cr);
  const signingKey = deriveSigningKey(opts.credentials.secretKey, date, opts.region, service);
  const signature = signHex(signingKey, sts);
  return { cr, sts, signature, signing: { seedSignature: signature, signingKey, scope, amzDate } };
}

/**
 * Signs with an `Authorization` header. Adds `x-amz-date` (unless given), `x-amz-content-sha256`
 * (the payload hash; `EMPTY_SHA256` unless given, or `sha256Hex(body)`), and the session token.
 * Signs every header given unless `signedHeaders` says which.
 */
export function signRequest(
  req: RequestToSign & { payloadHash?: string; body?: string | Uint8Array },
  opts: SignOptions & { signedHeaders?: string[]; omitContentSha256Header?: boolean },
): SignedRequest {
  const headers = lowerCased(req.headers);
  delete headers.authorization;
  const amzDate = headers['x-amz-date'] ?? formatAmzDate(timeOf(opts.now));
  headers['x-amz-date'] = amzDate;
  const payloadHash =
    req.payloadHash ??
    headers['x-amz-content-sha256'] ??
    (req.body === undefined ? EMPTY_SHA256 : sha256Hex(req.body));
  if (!opts.omitContentSha256Header) headers['x-amz-content-sha256'] = payloadHash;
  if (opts.credentials.sessionToken) headers['x-amz-security-token'] = opts.credentials.sessionToken;
  const signedHeaders = [
    ...new Set((opts.signedHeaders ?? Object.keys(headers)).map((h) => h.toLowerCase())),
  ].sort();
  const query = req.query ?? '';
  const s = sign(req.method, req.path, query, undefined, headers, signedHeaders, payloadHash, amzDate, opts);
  const scope = s.signing.scope;
  headers.authorization =
    `${ALGORITHM} Credential=${opts.credentials.accessKey}/${scope}, ` +
    `SignedHeaders=${signedHeaders.join(';')}, Signature=${s.signature}`;
  return {
    method: req.method,
    path: req.path,
    query,
    headers,
    signature: s.signature,
    canonicalRequest: s.cr,
    stringToSign: s.sts,
    signing: s.signing,
  };
}

/**
 * Presigns: returns the request with the `X-Amz-*` parameters (and `X-Amz-Signature`) appended to
 * its query. Signs `host` and any other header given; the payload is `UNSIGNED-PAYLOAD` unless
 * `payloadHash` says otherwise (then sent as `X-Amz-Content-Sha256`).
 */
export function presignRequest(
  req: RequestToSign & { payloadHash?: string },
  opts: SignOptions & { expiresIn: number },
): SignedRequest {
  const headers = lowerCased(req.headers);
  const amzDate = formatAmzDate(timeOf(opts.now));
  const service = opts.service ?? 's3';
  const signedHeaders = [...new Set(Object.keys(headers))].sort();
  const params: Array<[string, string]> = [
    ['X-Amz-Algorithm', ALGORITHM],
    [
      'X-Amz-Credential',
      `${opts.credentials.accessKey}/${credentialScope(amzDate.slice(0, 8), opts.region, service)}`,
    ],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(opts.expiresIn)],
    ['X-Amz-SignedHeaders', signedHeaders.join(';')],
  ];
  if (req.payloadHash !== undefined) params.push(['X-Amz-Content-Sha256', req.payloadHash]);
  if (opts.credentials.sessionToken) params.push(['X-Amz-Security-Token', opts.credentials.sessionToken]);
  const base = req.query ?? '';
  const added = params.map(([k, v]) => `${k}=${uriEncode(v)}`).join('&');
  const query = base === '' ? added : `${base}&${added}`;
  const payloadHash = req.payloadHash ?? UNSIGNED_PAYLOAD;
  const s = sign(
    req.method,
    req.path,
    query,
    'X-Amz-Signature',
    headers,
    signedHeaders,
    payloadHash,
    amzDate,
    opts,
  );
  return {
    method: req.method,
    path: req.path,
    query: `${query}&X-Amz-Signature=${s.signature}`,
    headers,
    signature: s.signature,
    canonicalRequest: s.cr,
    stringToSign: s.sts,
    signing: s.signing,
  };
}

/** Signs the chunks of an aws-chunked body in order, each chaining the previous signature. */
export class ChunkSigner {
  private previous: string;
  constructor(private readonly ctx: ChunkSigningContext) {
    this.previous = ctx.seedSignature;
  }
  /** The signature of the next chunk (the final one is empty). */
  chunk(data: Uint8Array): string {
    const toSign = chunkStringToSign(this.ctx.amzDate, this.ctx.scope, this.previous, sha256Hex(data));
    this.previous = signHex(this.ctx.signingKey, toSign);
    return this.previous;
  }
  /** The `x-amz-trailer-signature` of these trailing headers, after the final chunk. */
  trailer(trailers: ReadonlyArray<readonly [string, string]>): string {
    const canonical = trailers.map(([n, v]) => `${n.toLowerCase()}:${v.trim()}\n`).join('');
    const toSign = trailerStringToSign(this.ctx.amzDate, this.ctx.scope, this.previous, sha256Hex(canonical));
    return signHex(this.ctx.signingKey, toSign);
  }
}

/**
 * An aws-chunked body of these data chunks: signed when `signer` is given, with trailing headers
 * when `trailers` is (then signed too with a signer), laid out as the AWS examples and SDKs do.
 */
export function encodeAwsChunked(
  chunks: readonly Uint8Array[],
  opts: { signer?: ChunkSigner; trailers?: ReadonlyArray<readonly [string, string]> } = {},
): Buffer {
  const parts: Buffer[] = [];
  const header = (data: Uint8Array) =>
    opts.signer
      ? `${data.length.toString(16)};chunk-signature=${opts.signer.chunk(data)}\r\n`
      : `${data.length.toString(16)}\r\n`;
  for (const c of chunks) {
    if (c.length === 0) continue;
    parts.push(Buffer.from(header(c), 'latin1'), Buffer.from(c), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(header(new Uint8Array(0)), 'latin1'));
  if (opts.trailers) {
    let t = opts.trailers.map(([n, v]) => `${n}:${v}\r\n`).join('');
    if (opts.signer) t += `x-amz-trailer-signature:${opts.signer.trailer(opts.trailers)}\r\n`;
    parts.push(Buffer.from(t, 'utf8'));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}
