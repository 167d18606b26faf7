/**
 * What the object actions share: key and size limits, the write options a request's headers give,
 * the headers a stored object is answered with, checksums (request side and response side), small
 * request bodies read whole and checked, and the one mapping of errors thrown under an object action.
 */
import { createHash } from 'node:crypto';
import { isAuthError } from '../../auth/errors';
import { isObjectError } from '../../object/errors';
import type {
  ChecksumAlgorithm,
  DeleteObjectOptions,
  ObjectInfo,
  PutObjectOptions,
  WritePrecondition,
} from '../../object/types';
import type { ReqCtx, S3Response } from '../context';
import { isS3ErrorCode, S3Error, toS3Error } from '../errors';
import {
  CHECKSUM_ALGORITHMS,
  checksumAlgorithm,
  checksumHeader,
  checksumTrailer,
  contentHeaders,
  contentMd5Hex,
  evaluateConditions,
  formatHttpDate,
  formatTags,
  type Headers,
  header,
  parseTaggingHeader,
  quoteEtag,
  storageClass,
  userMetadata,
} from '../headers';

/** AWS: an object key is at most 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** AWS: a single PUT (and a copy source) is at most 5 GiB. */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;
/** AWS's Content-Type for an object stored without one. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
/** Cairn computes this checksum when the client sends none, as AWS does since 2025. */
export const DEFAULT_CHECKSUM: ChecksumAlgorithm = 'CRC64NVME';

export const ALGORITHMS = Object.keys(CHECKSUM_ALGORITHMS) as ChecksumAlgorithm[];

/** A version id Cairn makes (a UUID, lower-case hex), or `null` for the null version. */
const VERSION_ID = /^(null|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * AWS: a version id that cannot be one is 400 InvalidArgument ("Invalid version id specified"); a
 * well-formed one that names no version is 404 NoSuchVersion. Returns the object layer's options.
 */
export function versionOpts(
  versionId: string | undefined,
  argumentName = 'versionId',
): { versionId?: string } {
  if (versionId === undefined) return {};
  if (!VERSION_ID.test(versionId)) {
    throw new S3Error('InvalidArgument', {
      message: 'Invalid version id specified',
      fields: { ArgumentName: argumentName, ArgumentValue: versionId },
    });
  }
  return { versionId };
}

/** KeyTooLongError for a key over 1024 UTF-8 bytes. */
export function checkKey(key: string): void {
  const size = Buffer.byteLength(key);
  if (size > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', { fields: { Size: size, MaxSizeAllowed: MAX_KEY_BYTES } });
  }
}

/**
 * Whatever was thrown under an object action, as the S3 error to answer with: authentication's
 * errors from the body (its payload verifier) keep their S3 code; a checksum mismatch names its
 * algorithm as AWS does; a body that broke off because the client left is IncompleteBody.
 */
export function toOpError(e: unknown, signal?: AbortSignal): S3Error {
  if (e instanceof S3Error) return e;
  if (isAuthError(e) && isS3ErrorCode(e.code)) {
    return new S3Error(e.code, { message: e.message, fields: { ...e.details }, cause: e });
  }
  if (isObjectError(e, 'BadDigest') && typeof e.detail.algorithm === 'string') {
    return new S3Error('BadDigest', {
      message: `The ${e.detail.algorithm} you specified did not match the calculated checksum.`,
      cause: e,
    });
  }
  if (signal?.aborted && !isObjectError(e)) return new S3Error('IncompleteBody', { cause: e });
  return toS3Error(e);
}

// ---------------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------------

function ignore(): void {}

/**
 * The request body, taken once the request has passed the checks that need no I/O (taking it asks
 * a waiting client for it: 100 Continue). Its errors are left for the reader to see, but never go
 * unheard: a client that goes away while the action awaits something else (a bucket lookup, a
 * condition) must not be an unhandled 'error' event.
 */
export function takeBody(ctx: ReqCtx): ReqCtx['body'] {
  const body = ctx.body;
  body.on('error', ignore);
  return body;
}

/** User metadata and content headers as a PUT (or CopyObject with REPLACE) gives them. */
export function metadataFromHeaders(
  h: Headers,
): Pick<
  PutObjectOptions,
  | 'userMetadata'
  | 'contentType'
  | 'contentEncoding'
  | 'contentDisposition'
  | 'contentLanguage'
  | 'cacheControl'
  | 'expires'
> {
  return { userMetadata: userMetadata(h), ...contentHeaders(h) };
}

/** `x-amz-tagging` as the object layer stores tags ('' when absent). */
export function tagsFromHeader(h: Headers): string {
  const v = header(h, 'x-amz-tagging');
  if (v === undefined || v === '') return '';
  return formatTags(parseTaggingHeader(v));
}

/** What the request says about its body's checksum. */
export interface RequestChecksum {
  algorithm: ChecksumAlgorithm;
  /** The value sent as a header; absent for a trailer or an algorithm given alone. */
  value?: string;
  /** The value comes in the aws-chunked trailer. */
  trailer: boolean;
}

/**
 * The body checksum a request declares: an `x-amz-checksum-*` header, a trailer named by
 * `x-amz-trailer`, or only `x-amz-sdk-checksum-algorithm` (compute it, nothing to compare).
 */
export function requestChecksum(h: Headers): RequestChecksum | undefined {
  const sent = checksumHeader(h);
  const trailer = checksumTrailer(h);
  if (sent && trailer) {
    throw new S3Error('InvalidRequest', {
      message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    });
  }
  if (sent) return { algorithm: sent.algorithm, value: sent.value, trailer: false };
  const sdk = header(h, 'x-amz-sdk-checksum-algorithm');
  if (trailer) {
    if (sdk !== undefined && checksumAlgorithm(sdk) !== trailer) {
      throw new S3Error('InvalidRequest', {
        message: 'Value for x-amz-sdk-checksum-algorithm header is invalid.',
      });
    }
    return { algorithm: trailer, trailer: true };
  }
  if (sdk !== undefined) {
    const algorithm = checksumAlgorithm(sdk);
    if (!algorithm) {
      throw new S3Error('InvalidRequest', {
        message: 'Value for x-amz-sdk-checksum-algorithm header is invalid.',
      });
    }
    return { algorithm, trailer: false };
  }
  return undefined;
}

/** Whether `value` is a well-formed base64 digest of `algorithm`'s length. */
export function checksumWellFormed(algorithm: ChecksumAlgorithm, value: string): boolean {
  const bytes = CHECKSUM_ALGORITHMS[algorithm].bytes;
  return (
    value.length === Math.ceil(bytes / 3) * 4 &&
    /^[A-Za-z0-9+/]+={0,2}$/.test(value) &&
    Buffer.from(value, 'base64').length === bytes
  );
}

/** The checksum value a trailer carried, checked for shape once the body has ended. */
export function trailerChecksum(ctx: ReqCtx, algorithm: ChecksumAlgorithm): string {
  const name = CHECKSUM_ALGORITHMS[algorithm].header;
  const value = ctx.trailers()[name]?.trim();
  if (value === undefined) {
    throw new S3Error('InvalidRequest', {
      message: `The ${name} trailer was declared in x-amz-trailer but not sent.`,
    });
  }
  if (!checksumWellFormed(algorithm, value)) {
    throw new S3Error('InvalidRequest', { message: `Value for ${name} trailing header is invalid.` });
  }
  return value;
}

/**
 * The checksum options of a streamed write: the algorithm to compute (the client's, or CRC64NVME),
 * and the value to check before the write commits (a header now, a trailer once the body ended).
 */
export function checksumOptions(
  ctx: ReqCtx,
  declared: RequestChecksum | undefined = requestChecksum(ctx.headers),
): Pick<PutObjectOptions, 'checksumAlgorithms' | 'expectedChecksums'> {
  if (!declared) return { checksumAlgorithms: [DEFAULT_CHECKSUM] };
  const { algorithm, value } = declared;
  if (value !== undefined)
    return { checksumAlgorithms: [algorithm], expectedChecksums: { [algorithm]: value } };
  if (declared.trailer) {
    return {
      checksumAlgorithms: [algorithm],
      expectedChecksums: () => ({ [algorithm]: trailerChecksum(ctx, algorithm) }),
    };
  }
  return { checksumAlgorithms: [algorithm] };
}

/** Content-MD5 as the hex the object layer checks, or nothing. */
export function expectedMd5(h: Headers): Pick<PutObjectOptions, 'expectedMd5'> {
  const md5 = contentMd5Hex(h);
  return md5 === undefined ? {} : { expectedMd5: md5 };
}

export { storageClass };

// ---------------------------------------------------------------------------------------------------
// Checksums on responses
// ---------------------------------------------------------------------------------------------------

/**
 * S3's checksum type of a stored value: a composite checksum of a multipart upload ends in `-N`
 * (the part count); anything else covers the whole object.
 */
export function checksumTypeOf(value: string): 'COMPOSITE' | 'FULL_OBJECT' {
  return /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT';
}

/** The stored checksums by algorithm, in S3's names (unknown keys dropped). */
export function storedChecksums(
  info: Pick<ObjectInfo, 'checksums'>,
): Partial<Record<ChecksumAlgorithm, string>> {
  const out: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const a of ALGORITHMS) {
    const v = info.checksums[a];
    if (v !== undefined) out[a] = v;
  }
  return out;
}

/** `x-amz-checksum-<alg>` headers and `x-amz-checksum-type` for the stored checksums. */
export function checksumResponseHeaders(info: Pick<ObjectInfo, 'checksums'>): Record<string, string> {
  const out: Record<string, string> = {};
  let type: string | undefined;
  for (const [a, v] of Object.entries(storedChecksums(info))) {
    out[CHECKSUM_ALGORITHMS[a as ChecksumAlgorithm].header] = v;
    type ??= checksumTypeOf(v);
  }
  if (type !== undefined) out['x-amz-checksum-type'] = type;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------------

/** Tags in the stored form (`a=1&b=2`), counted. */
export function tagCount(tags: string): number {
  return tags === '' ? 0 : [...new URLSearchParams(tags).keys()].length;
}

/** Whether the object was assembled from a multipart upload (its ETag is `md5-N`). */
export function isMultipart(info: Pick<ObjectInfo, 'etag'>): boolean {
  return /-\d+$/.test(info.etag);
}

const NOT_HEADER_SAFE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * A stored value as a response header. Values that came in as headers go back byte for byte (Node
 * reads header bytes as latin1, and writes them back so). Values that cannot be header bytes (from a
 * form or a query string: characters past U+00FF, control characters) are RFC 2047 encoded, as AWS
 * answers non-ASCII metadata: `=?UTF-8?B?...?=`.
 */
export function headerValue(v: string): string {
  return NOT_HEADER_SAFE.test(v) ? `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=` : v;
}

/**
 * The headers a stored object is answered with (GetObject, HeadObject): ETag, Last-Modified, the
 * content headers as stored, `x-amz-meta-*`, tag count, storage class (AWS omits STANDARD), the
 * version id once the object has a real one.
 */
export function objectHeaders(info: ObjectInfo): Record<string, string | number | undefined> {
  const h: Record<string, string | number | undefined> = {
    ETag: quoteEtag(info.etag),
    'Last-Modified': formatHttpDate(info.modTime),
    'Accept-Ranges': 'bytes',
    'Content-Type': info.contentType ?? DEFAULT_CONTENT_TYPE,
    'Content-Encoding': info.contentEncoding,
    'Content-Disposition': info.contentDisposition,
    'Content-Language': info.contentLanguage,
    'Cache-Control': info.cacheControl,
    Expires: info.expires,
  };
  for (const [k, v] of Object.entries(h)) if (typeof v === 'string') h[k] = headerValue(v);
  for (const [k, v] of Object.entries(info.userMetadata)) {
    // A name from a form may hold what no header name can: such an entry cannot be sent at all.
    if (/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(k)) h[`x-amz-meta-${k}`] = headerValue(v);
  }
  const tags = tagCount(info.tags);
  if (tags > 0) h['x-amz-tagging-count'] = tags;
  if (info.storageClass !== 'STANDARD') h['x-amz-storage-class'] = info.storageClass;
  if (info.versionId !== 'null') h['x-amz-version-id'] = info.versionId;
  return h;
}

/**
 * The conditional headers of a read against the object: a 304 response to send (ETag and
 * Last-Modified only), nothing to go on, or a thrown 412 PreconditionFailed naming the condition.
 */
export function conditionResponse(ctx: ReqCtx, info: ObjectInfo): S3Response | undefined {
  const outcome = evaluateConditions(
    ctx.headers,
    { etag: info.etag, lastModified: info.modTime },
    ctx.method,
  );
  if (outcome === 'ok') return undefined;
  if (outcome === 'not-modified') {
    const headers: Record<string, string> = {
      ETag: quoteEtag(info.etag),
      'Last-Modified': formatHttpDate(info.modTime),
    };
    if (info.versionId !== 'null') headers['x-amz-version-id'] = info.versionId;
    return { status: 304, headers };
  }
  // Reads fail with 412 only on If-Match, or on If-Unmodified-Since when If-Match is absent.
  const condition = header(ctx.headers, 'if-match') !== undefined ? 'If-Match' : 'If-Unmodified-Since';
  throw new S3Error('PreconditionFailed', { fields: { Condition: condition } });
}

/**
 * Conditional writes (PutObject, CopyObject's destination, CompleteMultipartUpload): `If-None-Match`
 * refuses to overwrite an object it matches (`*`: any; 412), `If-Match` needs the current ETag (404
 * NoSuchKey when there is no object or a delete marker is the latest, as AWS). Checked once here,
 * before the body is read (a big body that will be refused is not uploaded), and the returned
 * precondition goes to the object layer, which checks it again under the key's write lock at commit:
 * that check is the one that counts, so of two racing `If-None-Match: *` writes one gets 412.
 */
export async function checkWriteConditions(
  ctx: ReqCtx,
  bucket: string,
  key: string,
): Promise<WritePrecondition | undefined> {
  const precondition = writePrecondition(ctx.headers, key);
  if (!precondition) return undefined;
  let current: ObjectInfo | null = null;
  try {
    current = await ctx.objects.getObjectInfo(bucket, key);
  } catch (e) {
    if (!isObjectError(e, 'ObjectNotFound')) throw toOpError(e);
  }
  precondition(current);
  return precondition;
}

/** The request's If-Match / If-None-Match as a precondition on the key's current object, if any. */
function writePrecondition(h: Headers, key: string): WritePrecondition | undefined {
  const ifMatch = header(h, 'if-match');
  const ifNoneMatch = header(h, 'if-none-match');
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (current) => {
    if (ifMatch !== undefined && !current) throw new S3Error('NoSuchKey', { fields: { Key: key } });
    const cur = current && { etag: current.etag, lastModified: current.modTime };
    // Only these two apply to writes (If-Unmodified-Since and If-Modified-Since do not).
    for (const [name, value] of [
      ['If-Match', ifMatch],
      ['If-None-Match', ifNoneMatch],
    ] as const) {
      if (value === undefined) continue;
      if (evaluateConditions({ [name.toLowerCase()]: value }, cur, 'PUT') !== 'ok')
        throw new S3Error('PreconditionFailed', { fields: { Condition: name } });
    }
  };
}

/**
 * Deletes a key or one version of it. Deleting what is not there succeeds, a missing version
 * included (as MinIO; S3 deletes are idempotent): the answer is a null version that was not there.
 */
export async function deleteIdempotent(
  objects: ReqCtx['objects'],
  bucket: string,
  key: string,
  opts: DeleteObjectOptions,
): Promise<ObjectInfo> {
  try {
    return await objects.deleteObject(bucket, key, opts);
  } catch (e) {
    if (!isObjectError(e, 'ObjectNotFound', 'VersionNotFound')) throw toOpError(e);
    return {
      bucket,
      key,
      versionId: opts.versionId ?? 'null',
      isLatest: false,
      deleteMarker: false,
      size: 0,
      etag: '',
      modTime: new Date(),
      userMetadata: {},
      tags: '',
      storageClass: 'STANDARD',
      parts: [],
      checksums: {},
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// Small request bodies (XML documents)
// ---------------------------------------------------------------------------------------------------

/**
 * Reads a small body whole. Past `limit` bytes it stops reading and throws `tooLarge` (the server
 * deals with the rest of the body).
 */
export async function readBody(ctx: ReqCtx, limit: number, tooLarge: () => S3Error): Promise<Buffer> {
  if (ctx.bodyLength > limit) throw tooLarge();
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of takeBody(ctx) as AsyncIterable<Buffer | string>) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > limit) throw tooLarge();
      parts.push(b);
    }
  } catch (e) {
    throw toOpError(e, ctx.signal);
  }
  return Buffer.concat(parts, size);
}

/**
 * Checks a body read whole against its Content-MD5 and `x-amz-checksum-*` (header or trailer):
 * InvalidDigest / InvalidRequest for malformed values, BadDigest for a mismatch. With `required`,
 * a body with neither is refused as AWS refuses it (DeleteObjects).
 */
export function verifyBody(ctx: ReqCtx, body: Buffer, opts: { required?: boolean } = {}): void {
  const md5 = contentMd5Hex(ctx.headers);
  const declared = requestChecksum(ctx.headers);
  if (opts.required && md5 === undefined && declared?.value === undefined && !declared?.trailer) {
    throw new S3Error('InvalidRequest', {
      message: 'Missing required header for this request: Content-MD5',
    });
  }
  if (md5 !== undefined) {
    const got = digest('md5', body);
    if (got.toString('hex') !== md5) {
      throw new S3Error('BadDigest', {
        fields: { ExpectedDigest: md5, CalculatedDigest: got.toString('base64') },
      });
    }
  }
  if (declared && (declared.value !== undefined || declared.trailer)) {
    const want = declared.value ?? trailerChecksum(ctx, declared.algorithm);
    if (digest(declared.algorithm, body).toString('base64') !== want) {
      throw new S3Error('BadDigest', {
        message: `The ${declared.algorithm} you specified did not match the calculated checksum.`,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Digests of small bodies, in JS: the native hashers belong to the layers below, and these bodies
// are a few KiB to a few MiB of XML.
// ---------------------------------------------------------------------------------------------------

function crc32Table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}

const CRC32_TABLE = crc32Table(0xedb88320);
const CRC32C_TABLE = crc32Table(0x82f63b78);

function crc32With(table: Uint32Array, data: Uint8Array): Buffer {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out;
}

// CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5), as two 32-bit halves.
const CRC64_HI = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
{
  const poly = 0x9a6c9329ac4bc9b5n;
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    CRC64_HI[Number(i)] = Number(c >> 32n);
    CRC64_LO[Number(i)] = Number(c & 0xffffffffn);
  }
}

function crc64nvme(data: Uint8Array): Buffer {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!;
    hi = (hi >>> 8) ^ CRC64_HI[idx]!;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
  return out;
}

/** The digest of a small buffer (CRCs big-endian, as S3 encodes them). */
export function digest(algorithm: ChecksumAlgorithm | 'md5', data: Uint8Array): Buffer {
  switch (algorithm) {
    case 'md5':
      return createHash('md5').update(data).digest();
    case 'SHA1':
      return createHash('sha1').update(data).digest();
    case 'SHA256':
      return createHash('sha256').update(data).digest();
    case 'CRC32':
      return crc32With(CRC32_TABLE, data);
    case 'CRC32C':
      return crc32With(CRC32C_TABLE, data);
    case 'CRC64NVME':
      return crc64nvme(data);
  }
}
