/**
 * S3's request and response headers as pure functions: ranges, conditional requests, user metadata,
 * content headers, copy sources, digests and checksums, tags, dates and ETags. Each returns plain data
 * or throws the S3Error AWS answers with.
 */
import type { ContentHeaders, Range } from '../object/types';
import { S3Error } from './errors';

/** Request headers as Node gives them: names lower-cased, repeated headers as arrays. */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A header's value; a repeated header's values joined with `, ` as HTTP folds them. */
export function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

// ---------------------------------------------------------------------------------------------------
// ETags
// ---------------------------------------------------------------------------------------------------

/** An ETag as S3 sends it, in double quotes (idempotent). */
export function quoteEtag(etag: string): string {
  return etag.length >= 2 && etag.startsWith('"') && etag.endsWith('"') ? etag : `"${etag}"`;
}

/** An ETag without its quotes or weak prefix, as the object layer stores it. */
export function unquoteEtag(etag: string): string {
  let t = etag.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

// ---------------------------------------------------------------------------------------------------
// HTTP dates (RFC 7231 §7.1.1.1)
// ---------------------------------------------------------------------------------------------------

/** IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function formatHttpDate(d: Date): string {
  // Objects' Last-Modified, sent again and again: the strings of recent seconds are kept.
  const sec = Math.floor(d.getTime() / 1000);
  let s = httpDates.get(sec);
  if (s === undefined) {
    s = d.toUTCString();
    if (httpDates.size >= 4096) httpDates.clear();
    httpDates.set(sec, s);
  }
  return s;
}

const httpDates = new Map<number, string>();

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const IMF = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const RFC850 = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/i;
const ASCTIME = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/i;

function utc(y: number, mon: string, d: number, h: number, mi: number, s: number): Date | undefined {
  const m = MONTHS.indexOf(mon.toLowerCase());
  if (m < 0 || h > 23 || mi > 59 || s > 60) return undefined;
  const t = Date.UTC(y, m, d, h, mi, Math.min(s, 59));
  const date = new Date(t);
  // Refuses 31 Feb and the like, which Date.UTC would roll into March.
  return date.getUTCDate() === d && date.getUTCMonth() === m ? date : undefined;
}

/**
 * An HTTP-date in any of the three forms a recipient must accept (IMF-fixdate, RFC 850, asctime), or
 * undefined when it is none of them (RFC 7232: a conditional header with an invalid date is ignored).
 */
export function parseHttpDate(value: string | undefined, now: Date = new Date()): Date | undefined {
  if (value === undefined) return undefined;
  const s = value.trim();
  let m = IMF.exec(s);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  m = RFC850.exec(s);
  if (m) {
    // RFC 7231: a two-digit year more than 50 years in the future is in the past century.
    let y = Math.floor(now.getUTCFullYear() / 100) * 100 + Number(m[3]);
    if (y > now.getUTCFullYear() + 50) y -= 100;
    return utc(y, m[2]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME.exec(s);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Range (RFC 7233)
// ---------------------------------------------------------------------------------------------------

/** A syntactically valid single byte range: `first-[last]`, or the last `length` bytes. */
export type ByteRangeSpec = { first: number; last?: number } | { suffix: number };

/**
 * The one byte range a `Range` header asks for, or undefined to serve the whole object. AWS serves
 * the whole object (200) when the header is absent, is not a `bytes` range, is not valid syntax
 * (RFC 7233 §3.1: a recipient ignores an invalid Range), or asks for several ranges (S3 does not
 * serve multipart/byteranges). Satisfiability is decided against the size by `resolveRange`.
 */
export function parseRange(value: string | undefined): ByteRangeSpec | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/i.exec(value.trim());
  if (!m) return undefined;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return undefined;
  if (a === '') return { suffix: Number(b) };
  const first = Number(a);
  if (b === '') return { first };
  const last = Number(b);
  // RFC 7233 §2.1: last before first makes the spec invalid, so the header is ignored.
  return last < first ? undefined : { first, last };
}

/**
 * The inclusive range to serve from an object of `size` bytes, or null when it is unsatisfiable:
 * 416 InvalidRange with `Content-Range: bytes *\/size`. A first byte at or past the end is
 * unsatisfiable, as is a zero-length suffix; a last byte past the end is clamped. An empty object
 * satisfies no range (AWS answers 416 even to `bytes=0-`).
 */
export function resolveRange(spec: ByteRangeSpec, size: number): Range | null {
  if (size <= 0) return null;
  if ('suffix' in spec) {
    if (spec.suffix === 0) return null;
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  if (spec.first >= size) return null;
  return { start: spec.first, end: Math.min(spec.last ?? size - 1, size - 1) };
}

/** `Content-Range` for a 206 (`bytes 0-9/100`) or, with no range, for a 416 (`bytes *\/100`). */
export function contentRange(range: Range | null, size: number): string {
  return range ? `bytes ${range.start}-${range.end}/${size}` : `bytes */${size}`;
}

/**
 * `x-amz-copy-source-range` (UploadPartCopy): strictly `bytes=first-last`, both offsets present and
 * inside the source object.
 */
export function parseCopySourceRange(value: string, size: number): Range {
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m) {
    throw new S3Error('InvalidArgument', {
      message:
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      fields: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value },
    });
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (start > end || end >= size) {
    throw new S3Error('InvalidArgument', {
      message: `Range specified is not valid for source object of size: ${size}`,
      fields: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value },
    });
  }
  return { start, end };
}

// ---------------------------------------------------------------------------------------------------
// Conditional requests (RFC 7232 §6, as AWS documents for GetObject, HeadObject, PutObject, CopyObject)
// ---------------------------------------------------------------------------------------------------

/** `ok`: go on. `not-modified`: 304 (GET and HEAD only). `precondition-failed`: 412 PreconditionFailed. */
export type ConditionOutcome = 'ok' | 'not-modified' | 'precondition-failed';

/** The entity tags of an If-Match / If-None-Match value; `*` as the single entry `'*'`. */
export function parseEtagList(value: string): string[] {
  const tags: string[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === ',' || c === ' ' || c === '\t') {
      i++;
      continue;
    }
    const weak = value.startsWith('W/"', i);
    const open = weak ? i + 2 : i;
    if (value[open] === '"') {
      const close = value.indexOf('"', open + 1);
      const end = close < 0 ? value.length : close + 1;
      tags.push(value.slice(i, end));
      i = end;
    } else {
      // Lenient: many clients send ETags unquoted.
      let end = value.indexOf(',', i);
      if (end < 0) end = value.length;
      tags.push(value.slice(i, end).trim());
      i = end;
    }
  }
  return tags;
}

function matches(value: string, etag: string, weak: boolean): boolean {
  const want = unquoteEtag(etag);
  for (const t of parseEtagList(value)) {
    if (t === '*') return true;
    // Strong comparison (If-Match) never matches a weak tag; weak comparison ignores the W/.
    if (!weak && t.startsWith('W/')) continue;
    if (unquoteEtag(t) === want) return true;
  }
  return false;
}

/** Last-Modified at HTTP-date precision: whole seconds. */
function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

interface ConditionHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

function evaluate(
  c: ConditionHeaders,
  current: { etag: string; lastModified: Date } | null,
  read: boolean,
): ConditionOutcome {
  // 1-2: If-Match, or If-Unmodified-Since when If-Match is absent. AWS: "If-Match true and
  // If-Unmodified-Since false" succeeds, which is this order.
  if (c.ifMatch !== undefined) {
    if (!current || !matches(c.ifMatch, current.etag, false)) return 'precondition-failed';
  } else if (c.ifUnmodifiedSince !== undefined && current) {
    const d = parseHttpDate(c.ifUnmodifiedSince);
    if (d && seconds(current.lastModified) > seconds(d)) return 'precondition-failed';
  }
  // 3-4: If-None-Match, or If-Modified-Since when If-None-Match is absent. AWS: "If-None-Match false
  // and If-Modified-Since true" is 304, which is this order.
  if (c.ifNoneMatch !== undefined) {
    if (current && matches(c.ifNoneMatch, current.etag, true))
      return read ? 'not-modified' : 'precondition-failed';
  } else if (c.ifModifiedSince !== undefined && current && read) {
    const d = parseHttpDate(c.ifModifiedSince);
    if (d && seconds(current.lastModified) <= seconds(d)) return 'not-modified';
  }
  return 'ok';
}

/**
 * If-Match, If-None-Match (ETag lists, `*`), If-Modified-Since and If-Unmodified-Since against the
 * object as it is (`null` when there is none), in RFC 7232's order. GET and HEAD may answer 304;
 * other methods (PutObject and CompleteMultipartUpload's conditional writes, DeleteObject's If-Match)
 * answer 412 instead, and If-Modified-Since does not apply to them.
 */
export function evaluateConditions(
  h: Headers,
  current: { etag: string; lastModified: Date } | null,
  method: string,
): ConditionOutcome {
  const m = method.toUpperCase();
  const c: ConditionHeaders = {};
  const im = header(h, 'if-match');
  if (im !== undefined) c.ifMatch = im;
  const inm = header(h, 'if-none-match');
  if (inm !== undefined) c.ifNoneMatch = inm;
  const ims = header(h, 'if-modified-since');
  if (ims !== undefined) c.ifModifiedSince = ims;
  const ius = header(h, 'if-unmodified-since');
  if (ius !== undefined) c.ifUnmodifiedSince = ius;
  return evaluate(c, current, m === 'GET' || m === 'HEAD');
}

/**
 * CopyObject and UploadPartCopy's `x-amz-copy-source-if-*` against the source object: the same rules,
 * except that every failure is 412 (AWS: "If-None-Match false and If-Modified-Since true" → 412).
 */
export function evaluateCopySourceConditions(
  h: Headers,
  source: { etag: string; lastModified: Date },
): 'ok' | 'precondition-failed' {
  const c: ConditionHeaders = {};
  const im = header(h, 'x-amz-copy-source-if-match');
  if (im !== undefined) c.ifMatch = im;
  const inm = header(h, 'x-amz-copy-source-if-none-match');
  if (inm !== undefined) c.ifNoneMatch = inm;
  const ims = header(h, 'x-amz-copy-source-if-modified-since');
  if (ims !== undefined) c.ifModifiedSince = ims;
  const ius = header(h, 'x-amz-copy-source-if-unmodified-since');
  if (ius !== undefined) c.ifUnmodifiedSince = ius;
  return evaluate(c, source, true) === 'ok' ? 'ok' : 'precondition-failed';
}

// ---------------------------------------------------------------------------------------------------
// User metadata and content headers
// ---------------------------------------------------------------------------------------------------

/** AWS: user-defined metadata is at most 2 KB, counted as the UTF-8 bytes of every key and value. */
export const MAX_USER_METADATA_BYTES = 2048;
const META_PREFIX = 'x-amz-meta-';

/**
 * `x-amz-meta-*` headers as `{ key: value }`, keys lower-cased without the prefix. The size counts each
 * key (without the prefix) and value; over 2 KB is MetadataTooLarge.
 */
export function userMetadata(h: Headers): Record<string, string> {
  const meta: Record<string, string> = {};
  let size = 0;
  for (const name of Object.keys(h)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(META_PREFIX) || lower.length === META_PREFIX.length) continue;
    const value = header(h, name);
    if (value === undefined) continue;
    const key = lower.slice(META_PREFIX.length);
    meta[key] = value;
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  if (size > MAX_USER_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', {
      fields: { Size: size, MaxSizeAllowed: MAX_USER_METADATA_BYTES },
    });
  }
  return meta;
}

/**
 * The content headers S3 stores with an object. `aws-chunked` is a transfer detail of SigV4 streaming
 * uploads, not the object's encoding: AWS removes it from Content-Encoding, and so does this.
 */
export function contentHeaders(h: Headers): ContentHeaders {
  const c: ContentHeaders = {};
  const set = (name: string, field: keyof ContentHeaders) => {
    const v = header(h, name);
    if (v !== undefined && v !== '') c[field] = v;
  };
  set('content-type', 'contentType');
  set('content-disposition', 'contentDisposition');
  set('content-language', 'contentLanguage');
  set('cache-control', 'cacheControl');
  set('expires', 'expires');
  const enc = header(h, 'content-encoding');
  if (enc !== undefined) {
    const tokens = enc.split(',').map((t) => t.trim());
    const kept = tokens.filter((t) => t !== '' && t.toLowerCase() !== 'aws-chunked');
    // AWS returns the value as written (`deflate, gzip` stays so) when there is nothing to remove.
    if (kept.length === tokens.length) c.contentEncoding = enc.trim();
    else if (kept.length > 0) c.contentEncoding = kept.join(', ');
  }
  return c;
}

/** `x-amz-storage-class`: the classes Cairn stores; other names are InvalidStorageClass. */
export function storageClass(h: Headers): 'STANDARD' | 'REDUCED_REDUNDANCY' | undefined {
  const v = header(h, 'x-amz-storage-class');
  if (v === undefined || v === '') return undefined;
  if (v === 'STANDARD' || v === 'REDUCED_REDUNDANCY') return v;
  throw new S3Error('InvalidStorageClass', { fields: { StorageClassRequested: v } });
}

/** `x-amz-metadata-directive` / `x-amz-tagging-directive` (CopyObject): COPY (default) or REPLACE. */
export function directive(
  h: Headers,
  name: 'x-amz-metadata-directive' | 'x-amz-tagging-directive',
): 'COPY' | 'REPLACE' {
  const v = header(h, name);
  if (v === undefined || v === 'COPY') return 'COPY';
  if (v === 'REPLACE') return 'REPLACE';
  throw new S3Error('InvalidArgument', {
    message:
      name === 'x-amz-metadata-directive' ? 'Unknown metadata directive.' : 'Unknown tagging directive.',
    fields: { ArgumentName: name, ArgumentValue: v },
  });
}

// ---------------------------------------------------------------------------------------------------
// Copy source
// ---------------------------------------------------------------------------------------------------

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/**
 * `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, URL-encoded. Split before decoding, so an
 * encoded `?` or `/` stays in the key.
 */
export function parseCopySource(value: string): CopySource {
  const bad = (message = 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey') =>
    new S3Error('InvalidArgument', {
      message,
      fields: { ArgumentName: 'x-amz-copy-source', ArgumentValue: value },
    });
  const q = value.indexOf('?');
  const path = (q < 0 ? value : value.slice(0, q)).replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw bad();
  let src: CopySource;
  try {
    src = {
      bucket: decodeURIComponent(path.slice(0, slash)),
      key: decodeURIComponent(path.slice(slash + 1)),
    };
  } catch {
    throw bad('Invalid copy source encoding');
  }
  if (q >= 0) {
    const v = new URLSearchParams(value.slice(q + 1)).get('versionId');
    if (v === '') throw bad('Version id cannot be the empty string');
    if (v !== null) src.versionId = v;
  }
  return src;
}

// ---------------------------------------------------------------------------------------------------
// Content-MD5 and checksums
// ---------------------------------------------------------------------------------------------------

/** `Content-MD5` (base64 of 16 bytes) as hex, or undefined when absent; anything else is InvalidDigest. */
export function contentMd5Hex(h: Headers): string | undefined {
  const v = header(h, 'content-md5');
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^[A-Za-z0-9+/]{22}==$/.test(t)) throw new S3Error('InvalidDigest', { fields: { 'Content-MD5': v } });
  return Buffer.from(t, 'base64').toString('hex');
}

/** The checksum algorithms S3 takes, with their header and digest length in bytes. */
export const CHECKSUM_ALGORITHMS = {
  CRC32: { header: 'x-amz-checksum-crc32', bytes: 4 },
  CRC32C: { header: 'x-amz-checksum-crc32c', bytes: 4 },
  CRC64NVME: { header: 'x-amz-checksum-crc64nvme', bytes: 8 },
  SHA1: { header: 'x-amz-checksum-sha1', bytes: 20 },
  SHA256: { header: 'x-amz-checksum-sha256', bytes: 32 },
} as const;

export type ChecksumAlgorithm = keyof typeof CHECKSUM_ALGORITHMS;

export function checksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const n = name.trim().toUpperCase();
  return Object.hasOwn(CHECKSUM_ALGORITHMS, n) ? (n as ChecksumAlgorithm) : undefined;
}

function validChecksum(alg: ChecksumAlgorithm, value: string): boolean {
  const bytes = CHECKSUM_ALGORITHMS[alg].bytes;
  const chars = Math.ceil(bytes / 3) * 4;
  return (
    value.length === chars &&
    /^[A-Za-z0-9+/]+={0,2}$/.test(value) &&
    Buffer.from(value, 'base64').length === bytes
  );
}

/**
 * The one `x-amz-checksum-*` header of a request, checked for length and base64 (InvalidRequest
 * otherwise, as AWS answers). `x-amz-sdk-checksum-algorithm`, when sent, must name the same algorithm.
 */
export function checksumHeader(h: Headers): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  const found: { algorithm: ChecksumAlgorithm; value: string }[] = [];
  for (const alg of Object.keys(CHECKSUM_ALGORITHMS) as ChecksumAlgorithm[]) {
    const v = header(h, CHECKSUM_ALGORITHMS[alg].header);
    if (v !== undefined) found.push({ algorithm: alg, value: v.trim() });
  }
  if (found.length > 1) {
    throw new S3Error('InvalidRequest', {
      message: 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    });
  }
  const one = found[0];
  const sdk = header(h, 'x-amz-sdk-checksum-algorithm');
  if (one === undefined) return undefined;
  if (!validChecksum(one.algorithm, one.value)) {
    throw new S3Error('InvalidRequest', {
      message: `Value for ${CHECKSUM_ALGORITHMS[one.algorithm].header} header is invalid.`,
    });
  }
  if (sdk !== undefined && checksumAlgorithm(sdk) !== one.algorithm) {
    throw new S3Error('InvalidRequest', {
      message: `Value for x-amz-sdk-checksum-algorithm header is invalid.`,
    });
  }
  return one;
}

/** `x-amz-trailer` naming a checksum header (streaming uploads): the algorithm it will carry. */
export function checksumTrailer(h: Headers): ChecksumAlgorithm | undefined {
  const v = header(h, 'x-amz-trailer');
  if (v === undefined) return undefined;
  const name = v.trim().toLowerCase();
  for (const alg of Object.keys(CHECKSUM_ALGORITHMS) as ChecksumAlgorithm[]) {
    if (CHECKSUM_ALGORITHMS[alg].header === name) return alg;
  }
  throw new S3Error('InvalidRequest', {
    message: 'The value specified in the x-amz-trailer header is not supported',
  });
}

/** `x-amz-checksum-type` (CreateMultipartUpload): FULL_OBJECT or COMPOSITE. */
export function checksumType(h: Headers): 'FULL_OBJECT' | 'COMPOSITE' | undefined {
  const v = header(h, 'x-amz-checksum-type');
  if (v === undefined) return undefined;
  const t = v.trim().toUpperCase();
  if (t === 'FULL_OBJECT' || t === 'COMPOSITE') return t;
  throw new S3Error('InvalidRequest', { message: 'Value for x-amz-checksum-type header is invalid.' });
}

// ---------------------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------------------

export interface Tag {
  key: string;
  value: string;
}

/** AWS's tag limits: 10 per object, 50 per bucket; keys up to 128 and values up to 256 characters. */
export const TAG_LIMITS = { object: 10, bucket: 50, keyLength: 128, valueLength: 256 } as const;

/** Letters, digits, spaces and `+ - = . _ : / @`: the characters AWS allows in tags. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function invalidTag(message: string, fields?: Record<string, string>): S3Error {
  return new S3Error('InvalidTag', fields ? { message, fields } : { message });
}

/**
 * A tag set checked as AWS checks it, throwing InvalidTag: count, key and value lengths (in
 * characters), allowed characters, no empty key, no repeated key, no `aws:` keys.
 */
export function validateTags(tags: Tag[], kind: 'object' | 'bucket'): Tag[] {
  if (tags.length > TAG_LIMITS[kind]) {
    throw invalidTag(
      kind === 'object'
        ? `Object tags cannot be greater than ${TAG_LIMITS.object}`
        : `Bucket tag count cannot be greater than ${TAG_LIMITS.bucket}`,
    );
  }
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.key === '') throw invalidTag('The TagKey you have provided is invalid');
    if ([...t.key].length > TAG_LIMITS.keyLength) {
      throw invalidTag('The TagKey you have provided is too long, max 128', { TagKey: t.key });
    }
    if ([...t.value].length > TAG_LIMITS.valueLength) {
      throw invalidTag('The TagValue you have provided is too long, max 256', {
        TagKey: t.key,
        TagValue: t.value,
      });
    }
    if (!TAG_CHARS.test(t.key))
      throw invalidTag('The TagKey you have provided is invalid', { TagKey: t.key });
    if (!TAG_CHARS.test(t.value)) {
      throw invalidTag('The TagValue you have provided is invalid', { TagKey: t.key, TagValue: t.value });
    }
    if (t.key.toLowerCase().startsWith('aws:')) {
      throw invalidTag('System tags cannot be added/updated by requester', { TagKey: t.key });
    }
    if (seen.has(t.key))
      throw invalidTag('Cannot provide multiple Tags with the same key', { TagKey: t.key });
    seen.add(t.key);
  }
  return tags;
}

/** `x-amz-tagging` (PutObject, CreateMultipartUpload, CopyObject): `k1=v1&k2=v2`, URL-encoded. */
export function parseTaggingHeader(value: string): Tag[] {
  const tags: Tag[] = [];
  for (const [key, v] of new URLSearchParams(value)) tags.push({ key, value: v });
  return validateTags(tags, 'object');
}

/** Tags as the object layer stores them and `x-amz-tagging` carries them. */
export function formatTags(tags: Tag[]): string {
  const q = new URLSearchParams();
  for (const t of tags) q.append(t.key, t.value);
  return q.toString();
}
