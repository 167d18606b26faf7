/**
 * Server side of AWS Signature Version 4 for S3: checks the `Authorization` header or the presigned
 * query parameters of a request and says who sent it and how its body is to be verified.
 *
 * AWS (S3 API reference): "Authenticating Requests (AWS Signature Version 4)", "Signature
 * Calculations for the Authorization Header", "Authenticating Requests: Using Query Parameters",
 * "Transferring Payload in Multiple Chunks", "Signature calculations for trailing headers".
 *
 * The body is not read here: `payload` in the result tells `createPayloadVerifier` what to check.
 */
import {
  canonicalQuery,
  canonicalRequest,
  canonicalRequestBytes,
  canonicalUri,
  parseQuery,
} from './canonical';
import { AuthError } from './errors';
import {
  ALGORITHM,
  credentialScope,
  DEFAULT_MAX_SKEW_MS,
  deriveSigningKey,
  formatAmzDate,
  isScopeDate,
  MAX_PRESIGN_EXPIRES_SECONDS,
  parseAmzDate,
  SCOPE_TERMINATOR,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  sha256Hex,
  signatureMatches,
  signHex,
  UNSIGNED_PAYLOAD,
} from './sigv4';
import type {
  AuthenticatedRequest,
  ChunkSigningContext,
  Credential,
  PayloadInfo,
  RequestDescription,
  VerifyOptions,
  VerifyResult,
} from './types';

const PRESIGN_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-Date',
  'X-Amz-SignedHeaders',
  'X-Amz-Expires',
] as const;

/**
 * The one `x-amz-*` header S3 tolerates unsigned: its value is the last line of the canonical
 * request anyway, so changing it changes the signature.
 */
const MAY_BE_UNSIGNED = new Set(['x-amz-content-sha256']);

const SIGV2_UNSUPPORTED =
  'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';

const CONTENT_SHA256_VALUES =
  'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ' +
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * Authenticates `req`. Resolves to `{ anonymous: true }` when the request carries no credentials
 * at all (the caller decides, with bucket policies, whether that is allowed), to the sender and
 * the payload rules when the signature holds, and rejects with an `AuthError` otherwise.
 *
 * Checks run from the request's shape to its secret: which mechanism, the credential scope (so a
 * client in the wrong region learns the right one first), the time, required headers, then the
 * key lookup and the signature itself.
 */
export async function verifyRequest<C extends Credential>(
  req: RequestDescription,
  opts: VerifyOptions<C>,
): Promise<VerifyResult<C>> {
  const query = parseQuery(req.query);
  const authorization = req.headers.authorization;
  const hasPresign = query.some(
    ([k]) => k === 'X-Amz-Algorithm' || k === 'X-Amz-Credential' || k === 'X-Amz-Signature',
  );
  const hasSigV2Query = query.some(([k]) => k === 'AWSAccessKeyId');

  if (authorization !== undefined && (hasPresign || hasSigV2Query)) {
    throw new AuthError(
      'InvalidArgument',
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      { ArgumentName: 'Authorization', ArgumentValue: authorization },
    );
  }
  if (authorization !== undefined) return verifyHeader(req, authorization, opts);
  if (hasPresign) return verifyPresigned(req, query, opts);
  if (hasSigV2Query) throw new AuthError('InvalidRequest', SIGV2_UNSUPPORTED);
  return { anonymous: true, payload: anonymousPayload(req) };
}

/**
 * For operations that no bucket policy can open to everyone (ListBuckets, admin): an anonymous
 * request is `AccessDenied`, as AWS answers it.
 */
export function requireAuthenticated<C extends Credential>(
  result: VerifyResult<C>,
): asserts result is AuthenticatedRequest<C> {
  if (result.anonymous) throw new AuthError('AccessDenied');
}

// ---------------------------------------------------------------------------------------------
// Authorization header

async function verifyHeader<C extends Credential>(
  req: RequestDescription,
  authorization: string,
  opts: VerifyOptions<C>,
): Promise<AuthenticatedRequest<C>> {
  const value = authorization.trim();
  const space = value.search(/\s/);
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme === 'AWS') throw new AuthError('InvalidRequest', SIGV2_UNSUPPORTED);
  if (scheme !== ALGORITHM) {
    throw new AuthError('InvalidArgument', 'Unsupported Authorization Type', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }

  const fields = new Map<string, string>();
  let wellFormed = true;
  for (const part of (space < 0 ? '' : value.slice(space + 1)).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = p.slice(0, eq).trim();
    if (eq <= 0 || fields.has(name)) {
      wellFormed = false;
      break;
    }
    fields.set(name, p.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersField = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!wellFormed || !credential || !signedHeadersField || !signature) {
    throw malformedHeader(
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }

  const service = opts.service ?? 's3';
  const cred = parseCredential(credential, opts.region, service, malformedHeader);

  // AWS: x-amz-date wins over Date; with Date only, the string to sign takes it in ISO 8601 basic form.
  const amzDateHeader = req.headers['x-amz-date'];
  let requestTime: Date | null;
  let amzDate: string;
  if (amzDateHeader !== undefined) {
    requestTime = parseAmzDate(amzDateHeader.trim());
    amzDate = amzDateHeader.trim();
  } else {
    const date = req.headers.date;
    const t = date === undefined ? Number.NaN : Date.parse(date);
    requestTime = Number.isNaN(t) ? null : new Date(t);
    amzDate = requestTime ? formatAmzDate(requestTime) : '';
  }
  if (requestTime === null) {
    throw new AuthError('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  if (cred.date !== amzDate.slice(0, 8)) {
    throw malformedHeader(
      `Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  const now = nowMs(opts);
  const maxSkew = opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (Math.abs(now - requestTime.getTime()) > maxSkew) {
    throw new AuthError('RequestTimeTooSkewed', undefined, {
      RequestTime: amzDateHeader ?? req.headers.date ?? '',
      ServerTime: new Date(now).toISOString(),
      MaxAllowedSkewMilliseconds: String(maxSkew),
    });
  }

  const contentSha256 = req.headers['x-amz-content-sha256'];
  if (contentSha256 === undefined) {
    throw new AuthError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const payloadHash = contentSha256.trim();
  checkContentSha256(payloadHash);

  const signedHeaders = parseSignedHeaders(signedHeadersField, malformedHeader);
  checkHeadersSigned(req, signedHeaders);

  const identity = await lookup(opts, cred.accessKey);
  checkSessionToken(identity, req.headers['x-amz-security-token'], cred.accessKey);

  const cr = canonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(req.path),
    canonicalQuery: canonicalQuery(req.query),
    headers: req.headers,
    signedHeaders,
    payloadHash,
  });
  const signing = checkSignature(cr, amzDate, cred, identity.secretKey, signature);
  return {
    anonymous: false,
    via: 'header',
    accessKey: cred.accessKey,
    identity,
    region: cred.region,
    service: cred.service,
    signedHeaders,
    payload: payloadInfo(payloadHash, req, signing),
    requestTime,
  };
}

// ---------------------------------------------------------------------------------------------
// Presigned URL

async function verifyPresigned<C extends Credential>(
  req: RequestDescription,
  query: Array<[string, string]>,
  opts: VerifyOptions<C>,
): Promise<AuthenticatedRequest<C>> {
  const param = (name: string) => query.find(([k]) => k === name)?.[1];
  if (PRESIGN_PARAMS.some((p) => param(p) === undefined)) {
    throw new AuthError(
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  if (param('X-Amz-Algorithm') !== ALGORITHM) {
    throw queryError(`X-Amz-Algorithm only supports "${ALGORITHM}"`);
  }
  const service = opts.service ?? 's3';
  const cred = parseCredential(param('X-Amz-Credential')!, opts.region, service, (m, details) =>
    queryError(`Error parsing the X-Amz-Credential parameter; ${m}`, details),
  );

  const amzDate = param('X-Amz-Date')!;
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === null) {
    throw queryError(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  }
  if (cred.date !== amzDate.slice(0, 8)) {
    throw queryError(
      `Invalid credential date "${cred.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`,
    );
  }
  const expiresParam = param('X-Amz-Expires')!;
  if (!/^-?\d+$/.test(expiresParam)) throw queryError('X-Amz-Expires should be a number');
  const expires = Number(expiresParam);
  if (expires < 0) throw queryError('X-Amz-Expires must be non-negative');
  if (expires < 1) throw queryError('X-Amz-Expires must be at least 1 second');
  if (expires > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw queryError(
      `X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than ${MAX_PRESIGN_EXPIRES_SECONDS} seconds`,
    );
  }

  const now = nowMs(opts);
  const expiresAt = new Date(requestTime.getTime() + expires * 1000);
  // A signer whose clock runs a little ahead still gets in, as with header auth.
  if (requestTime.getTime() - now > (opts.maxSkewMs ?? DEFAULT_MAX_SKEW_MS)) {
    throw new AuthError('AccessDenied', 'Request is not valid yet', {
      'X-Amz-Date': amzDate,
      ServerTime: new Date(now).toISOString(),
    });
  }
  if (now > expiresAt.getTime()) {
    throw new AuthError('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expiresParam,
      Expires: expiresAt.toISOString(),
      ServerTime: new Date(now).toISOString(),
    });
  }

  const signedHeaders = parseSignedHeaders(param('X-Amz-SignedHeaders')!, (m) =>
    queryError(`Error parsing the X-Amz-SignedHeaders parameter; ${m}`),
  );
  checkHeadersSigned(req, signedHeaders);

  // The SDKs sign UNSIGNED-PAYLOAD unless told a hash, which they then send (hoisted) in the query.
  const payloadHash =
    param('X-Amz-Content-Sha256') ?? req.headers['x-amz-content-sha256']?.trim() ?? UNSIGNED_PAYLOAD;
  checkContentSha256(payloadHash);

  const identity = await lookup(opts, cred.accessKey);
  checkSessionToken(
    identity,
    param('X-Amz-Security-Token') ?? req.headers['x-amz-security-token'],
    cred.accessKey,
  );

  const cr = canonicalRequest({
    method: req.method,
    canonicalUri: canonicalUri(req.path),
    canonicalQuery: canonicalQuery(req.query, 'X-Amz-Signature'),
    headers: req.headers,
    signedHeaders,
    payloadHash,
  });
  const signing = checkSignature(cr, amzDate, cred, identity.secretKey, param('X-Amz-Signature')!);
  return {
    anonymous: false,
    via: 'presigned',
    accessKey: cred.accessKey,
    identity,
    region: cred.region,
    service: cred.service,
    signedHeaders,
    payload: payloadInfo(payloadHash, req, signing),
    requestTime,
    expiresAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared steps

interface ParsedCredential {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

type Fail = (detail: string, details?: Record<string, string>) => AuthError;

function malformedHeader(detail: string, details?: Record<string, string>): AuthError {
  return new AuthError(
    'AuthorizationHeaderMalformed',
    `The authorization header is malformed; ${detail}`,
    details,
  );
}

function queryError(message: string, details?: Record<string, string>): AuthError {
  return new AuthError('AuthorizationQueryParametersError', message, details);
}

function nowMs(opts: VerifyOptions<Credential>): number {
  const n = opts.now ?? Date.now();
  return typeof n === 'number' ? n : n.getTime();
}

/** `AKID/YYYYMMDD/region/service/aws4_request`, checked against this server's region and service. */
function parseCredential(credential: string, region: string, service: string, fail: Fail): ParsedCredential {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  }
  const [accessKey, date, credRegion, credService, terminator] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (credRegion !== region) {
    throw fail(`the region '${credRegion}' is wrong; expecting '${region}'`, { Region: region });
  }
  if (credService !== service) {
    throw fail(`incorrect service "${credService}". This endpoint belongs to "${service}".`);
  }
  if (terminator !== SCOPE_TERMINATOR) {
    throw fail(`incorrect terminal "${terminator}". This endpoint uses "${SCOPE_TERMINATOR}".`);
  }
  if (!isScopeDate(date)) {
    throw fail(`Invalid credential date "${date}". Date must be in the format "yyyyMMdd".`);
  }
  return { accessKey, date, region, service, scope: credentialScope(date, region, service) };
}

/** Lower-cased, sorted, deduplicated; AWS sorts them, and names are case-insensitive. */
function parseSignedHeaders(field: string, fail: Fail): string[] {
  const names = field.split(';').map((n) => n.trim().toLowerCase());
  if (names.some((n) => n === '' || !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(n))) {
    throw fail(`the SignedHeaders "${field}" are malformed.`);
  }
  return [...new Set(names)].sort();
}

/** AWS: `host` is always signed, and so is every `x-amz-*` header the request carries. */
function checkHeadersSigned(req: RequestDescription, signedHeaders: readonly string[]): void {
  const signed = new Set(signedHeaders);
  const missing: string[] = [];
  if (!signed.has('host')) missing.push('host');
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith('x-amz-') && !signed.has(name) && !MAY_BE_UNSIGNED.has(name)) {
      if (req.headers[name] !== undefined) missing.push(name);
    }
  }
  if (missing.length) {
    throw new AuthError('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: missing.join(', '),
    });
  }
}

function checkContentSha256(value: string): void {
  if (
    value === UNSIGNED_PAYLOAD ||
    value === STREAMING_SIGNED ||
    value === STREAMING_SIGNED_TRAILER ||
    value === STREAMING_UNSIGNED_TRAILER ||
    SHA256_HEX.test(value)
  ) {
    return;
  }
  throw new AuthError('InvalidArgument', CONTENT_SHA256_VALUES, {
    ArgumentName: 'x-amz-content-sha256',
    ArgumentValue: value,
  });
}

async function lookup<C extends Credential>(opts: VerifyOptions<C>, accessKey: string): Promise<C> {
  const identity = await opts.lookup(accessKey);
  if (!identity) throw new AuthError('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });
  return identity;
}

/**
 * AWS: temporary credentials used without their session token are an unknown access key (403
 * `InvalidAccessKeyId`: the key exists only together with its token); a token that is not the one
 * issued with the key, or a token on a long-term key, is 400 `InvalidToken`.
 */
export function checkSessionToken(identity: Credential, token: string | undefined, accessKey: string): void {
  const want = identity.sessionToken;
  if (want === undefined && token === undefined) return;
  if (want !== undefined && token === undefined) {
    throw new AuthError('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });
  }
  if (want === undefined || token === undefined || !constantTimeEqual(want, token.trim())) {
    throw new AuthError('InvalidToken');
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  // Compare digests, so neither the length nor the first differing byte shows in the timing.
  return signatureMatches(sha256Hex(a), sha256Hex(b));
}

function checkSignature(
  canonical: string,
  amzDate: string,
  cred: ParsedCredential,
  secretKey: string,
  provided: string,
): ChunkSigningContext {
  // stringToSign with the canonical request hashed as the bytes received (see canonicalRequestBytes).
  const toSign = `${ALGORITHM}\n${amzDate}\n${cred.scope}\n${sha256Hex(canonicalRequestBytes(canonical))}`;
  const signingKey = deriveSigningKey(secretKey, cred.date, cred.region, cred.service);
  const expected = signHex(signingKey, toSign);
  if (!signatureMatches(expected, provided)) {
    // AWS hands these back so a client can see where its canonical request differs.
    throw new AuthError('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: cred.accessKey,
      StringToSign: toSign,
      SignatureProvided: provided,
      CanonicalRequest: canonical,
    });
  }
  return { seedSignature: expected, signingKey, scope: cred.scope, amzDate };
}

function declaredTrailers(req: RequestDescription): string[] {
  const h = req.headers['x-amz-trailer'];
  if (h === undefined) return [];
  return h
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter((n) => n !== '');
}

function decodedLength(req: RequestDescription): number {
  const v = req.headers['x-amz-decoded-content-length'];
  // AWS: "For all requests, you must include the x-amz-decoded-content-length header".
  if (v === undefined) {
    throw new AuthError('MissingSecurityHeader', undefined, {
      MissingHeaderName: 'x-amz-decoded-content-length',
    });
  }
  const t = v.trim();
  if (!/^\d{1,16}$/.test(t) || !Number.isSafeInteger(Number(t))) {
    throw new AuthError('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer', {
      ArgumentName: 'x-amz-decoded-content-length',
      ArgumentValue: v,
    });
  }
  return Number(t);
}

function payloadInfo(hash: string, req: RequestDescription, signing: ChunkSigningContext): PayloadInfo {
  switch (hash) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'streaming-signed', decodedLength: decodedLength(req), signing };
    case STREAMING_SIGNED_TRAILER:
      return {
        kind: 'streaming-signed-trailer',
        decodedLength: decodedLength(req),
        trailers: declaredTrailers(req),
        signing,
      };
    case STREAMING_UNSIGNED_TRAILER:
      return {
        kind: 'streaming-unsigned-trailer',
        decodedLength: decodedLength(req),
        trailers: declaredTrailers(req),
      };
    default:
      return { kind: 'sha256', sha256: hash.toLowerCase() };
  }
}

/**
 * An anonymous request may still say how its body is encoded; a signed chunk chain without a
 * signature to seed it cannot be checked.
 */
function anonymousPayload(req: RequestDescription): PayloadInfo {
  const v = req.headers['x-amz-content-sha256'];
  if (v === undefined) return { kind: 'none' };
  const hash = v.trim();
  checkContentSha256(hash);
  if (hash === STREAMING_SIGNED || hash === STREAMING_SIGNED_TRAILER) {
    throw new AuthError('InvalidRequest', `${hash} needs a signed request; this one carries no credentials`);
  }
  if (hash === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (hash === STREAMING_UNSIGNED_TRAILER) {
    return {
      kind: 'streaming-unsigned-trailer',
      decodedLength: decodedLength(req),
      trailers: declaredTrailers(req),
    };
  }
  return { kind: 'sha256', sha256: hash.toLowerCase() };
}
