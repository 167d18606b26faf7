/**
 * The keyed parts of AWS Signature Version 4: the signing key, the strings to sign (request, chunk,
 * trailer) and the comparison of signatures. AWS: "Authenticating Requests (AWS Signature Version 4)"
 * and "Transferring Payload in Multiple Chunks" in the S3 API reference.
 */
import * as nodeCrypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const SCOPE_TERMINATOR = 'aws4_request';
/** SHA-256 of no bytes: the payload hash of an empty body, and a fixed line of every chunk's string to sign. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The `x-amz-content-sha256` values that are not a hash of the body. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/** The most a presigned URL may live: AWS caps X-Amz-Expires at 7 days. */
export const MAX_PRESIGN_EXPIRES_SECONDS = 604800;
/** AWS rejects requests whose time is more than 15 minutes from the server's. */
export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

export function sha256Hex(data: string | Uint8Array): string {
  // Node's one-shot digest (20.12+) makes no Hash object: half the cost for a small input.
  if (oneShot) return oneShot('sha256', data, 'hex');
  return createHash('sha256').update(data).digest('hex');
}

const oneShot = (nodeCrypto as { hash?: (alg: string, data: string | Uint8Array, enc: 'hex') => string })
  .hash;

export function hmacSha256(key: string | Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** `YYYYMMDD/region/service/aws4_request`. */
export function credentialScope(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/${SCOPE_TERMINATOR}`;
}

/** A small least-recently-used map: `Map` keeps insertion order, so the first key is the oldest. */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly capacity: number) {}
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.map.delete(oldest.value);
    }
  }
  get size(): number {
    return this.map.size;
  }
  clear(): void {
    this.map.clear();
  }
}

/**
 * Derived keys live for one (secret, day, region, service): four HMACs saved per request. Keyed by
 * a hash of the secret so the cache holds no secret in clear.
 */
const signingKeys = new Lru<string, Buffer>(1024);
/** The last secret's hash (the IAM store holds the secrets in memory anyway). */
let lastSecret: string | undefined;
let lastSecretHash = '';

/** For tests: the key cache. */
export const signingKeyCache: Pick<Lru<string, Buffer>, 'size' | 'clear' | 'capacity'> = signingKeys;

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
 * The returned buffer is shared through the cache: callers must not write to it.
 */
export function deriveSigningKey(secretKey: string, date: string, region: string, service: string): Buffer {
  if (secretKey !== lastSecret) {
    lastSecretHash = sha256Hex(secretKey);
    lastSecret = secretKey;
  }
  const id = `${date}/${region}/${service}/${lastSecretHash}`;
  let key = signingKeys.get(id);
  if (key === undefined) {
    const kDate = hmacSha256(`AWS4${secretKey}`, date);
    const kRegion = hmacSha256(kDate, region);
    const kService = hmacSha256(kRegion, service);
    key = hmacSha256(kService, SCOPE_TERMINATOR);
    signingKeys.set(id, key);
  }
  return key;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/** AWS: each chunk's signature chains the previous one (the seed, for the first chunk). */
export function chunkStringToSign(
  amzDate: string,
  scope: string,
  previousSignature: string,
  chunkSha256: string,
): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256}`;
}

/** AWS: the trailer signature chains the final (zero-length) chunk's signature. */
export function trailerStringToSign(
  amzDate: string,
  scope: string,
  previousSignature: string,
  trailerSha256: string,
): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${trailerSha256}`;
}

export function signHex(signingKey: Uint8Array, toSign: string): string {
  return hmacSha256(signingKey, toSign).toString('hex');
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * Whether `provided` (hex, from the request) is the signature `expectedHex`, in time that does not
 * depend on where they differ. Anything but 64 hex digits is simply not equal.
 */
export function signatureMatches(expectedHex: string, provided: string): boolean {
  if (!HEX64.test(provided)) return false;
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(provided, 'hex'));
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** ISO 8601 basic format, as in `x-amz-date`: `20130524T000000Z`. */
export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** Parses `YYYYMMDDTHHMMSSZ`; null unless it is that exact shape and a real instant. */
export function parseAmzDate(s: string): Date | null {
  // The last one parsed: presigned URLs and busy clients send the same value many times.
  if (s === lastAmzDate) return new Date(lastAmzTime);
  const m = AMZ_DATE.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  const date = new Date(t);
  // Date.UTC rolls 20130231 over to March; a real date comes back unchanged.
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return null;
  lastAmzDate = s;
  lastAmzTime = t;
  return date;
}

let lastAmzDate = '';
let lastAmzTime = 0;

/** Whether `s` is a real `YYYYMMDD` day. */
export function isScopeDate(s: string): boolean {
  if (s === lastScopeDate) return true;
  const ok = /^\d{8}$/.test(s) && parseAmzDate(`${s}T000000Z`) !== null;
  if (ok) lastScopeDate = s;
  return ok;
}

let lastScopeDate = '';
