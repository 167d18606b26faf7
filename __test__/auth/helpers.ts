/**
 * Shared pieces of the auth tests: AWS's example credentials, independent signers (aws4 and the
 * SDK's @smithy/signature-v4) turned into request descriptions, CRC checksums, and a way to run a
 * payload verifier over a body cut into pieces and see what came out.
 */
import { crc32 } from 'node:zlib';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import aws4 from 'aws4';
import type { Credential, PayloadVerifier, RequestDescription, SignedRequest } from '../../src/auth';

/** The credentials every AWS S3 SigV4 example uses. */
export const EXAMPLE = {
  accessKey: 'AKIAIOSFODNN7EXAMPLE',
  secretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const;
/** 20130524T000000Z, the time of every AWS S3 SigV4 example. */
export const EXAMPLE_TIME = Date.UTC(2013, 4, 24, 0, 0, 0);

export const ALICE = { accessKey: 'AKIDALICE0000000', secretKey: 'alice-secret/with+odd=chars' };
export const REGION = 'eu-west-3';
export const HOST = 'cairn.test:9000';

const keys: Record<string, Credential & { user: string }> = {
  [EXAMPLE.accessKey]: { secretKey: EXAMPLE.secretKey, user: 'example' },
  [ALICE.accessKey]: { secretKey: ALICE.secretKey, user: 'alice' },
};
export const lookup = async (accessKey: string) => keys[accessKey] ?? null;

/** Lower-cased, string-valued headers, as Node's IncomingMessage gives them. */
export function lowerHeaders(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = String(v);
  return out;
}

export function describe(s: SignedRequest): RequestDescription {
  return { method: s.method, path: s.path, query: s.query, headers: { ...s.headers } };
}

/** A request signed by the aws4 package: `path` may carry a query. */
export function aws4Signed(
  req: { method: string; path: string; headers?: Record<string, string>; body?: string; signQuery?: boolean },
  creds: { accessKey: string; secretKey: string } = ALICE,
  region = REGION,
): RequestDescription {
  const opts = aws4.sign(
    {
      host: HOST,
      method: req.method,
      path: req.path,
      headers: { ...req.headers },
      body: req.body,
      service: 's3',
      region,
      signQuery: req.signQuery,
    },
    { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
  );
  const full = String(opts.path);
  const q = full.indexOf('?');
  const headers = lowerHeaders(opts.headers ?? {});
  headers.host ??= HOST;
  return {
    method: req.method,
    path: q < 0 ? full : full.slice(0, q),
    query: q < 0 ? '' : full.slice(q + 1),
    headers,
  };
}

function smithySigner(creds: { accessKey: string; secretKey: string }, region: string) {
  return new SignatureV4({
    credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
    region,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    // S3: the path is signed as sent, encoded once.
    uriEscapePath: false,
  });
}

/** The SDK's escape for query parts (RFC 3986). */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function serializeQuery(query: Record<string, string | string[] | null> = {}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const one of Array.isArray(v) ? v : [v ?? '']) parts.push(`${escapeUri(k)}=${escapeUri(one)}`);
  }
  return parts.join('&');
}

export interface SmithyRequest {
  method: string;
  /** Encoded path, as the S3 client serializes it. */
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
}

/** A request signed by the AWS SDK's signer, with an Authorization header. */
export async function smithySigned(
  req: SmithyRequest,
  opts: { creds?: { accessKey: string; secretKey: string }; region?: string; now?: number } = {},
): Promise<RequestDescription> {
  const signer = smithySigner(opts.creds ?? ALICE, opts.region ?? REGION);
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: 'cairn.test',
      port: 9000,
      path: req.path,
      query: req.query ?? {},
      headers: { host: HOST, ...req.headers },
      body: req.body,
    },
    { signingDate: new Date(opts.now ?? Date.now()) },
  );
  return {
    method: signed.method,
    path: signed.path,
    query: serializeQuery(signed.query),
    headers: lowerHeaders(signed.headers),
  };
}

/** A URL presigned by the AWS SDK's signer (x-amz-* headers hoisted into the query, as it does). */
export async function smithyPresigned(
  req: SmithyRequest,
  opts: {
    creds?: { accessKey: string; secretKey: string };
    region?: string;
    now?: number;
    expiresIn?: number;
  } = {},
): Promise<RequestDescription> {
  const signer = smithySigner(opts.creds ?? ALICE, opts.region ?? REGION);
  const signed = await signer.presign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: 'cairn.test',
      port: 9000,
      path: req.path,
      query: req.query ?? {},
      headers: { host: HOST, ...req.headers },
    },
    { signingDate: new Date(opts.now ?? Date.now()), expiresIn: opts.expiresIn ?? 3600 },
  );
  return {
    method: signed.method,
    path: signed.path,
    query: serializeQuery(signed.query),
    headers: lowerHeaders(signed.headers),
  };
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli), as `x-amz-checksum-crc32c` carries it: big-endian, base64. */
export function crc32cBase64(data: Uint8Array): string {
  let c = 0xffffffff;
  for (const b of data) c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

/** CRC32 (IEEE), as `x-amz-checksum-crc32` carries it. */
export function crc32Base64(data: Uint8Array): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data) >>> 0);
  return out.toString('base64');
}

export interface RunResult {
  /** Every byte the consumer received. */
  data: Buffer;
  /** Whether the consumer saw a clean end. */
  ended: boolean;
  error?: Error & { code?: string; status?: number };
}

/**
 * Feeds `pieces` to `verifier` (ending its input afterwards unless `end` is false) and reports
 * what a consumer saw. Never waits longer than `timeoutMs`: a verifier that neither ends nor
 * errors fails the test instead of hanging it.
 */
export function run(
  verifier: PayloadVerifier,
  pieces: readonly Uint8Array[],
  opts: { end?: boolean; timeoutMs?: number; sourceError?: Error } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const timer = setTimeout(
      () => reject(new Error('verifier neither ended nor errored')),
      opts.timeoutMs ?? 2000,
    );
    const done = (r: Omit<RunResult, 'data'>) => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(out), ...r });
    };
    verifier.on('data', (d: Buffer) => out.push(d));
    verifier.on('end', () => done({ ended: true }));
    verifier.on('error', (error) => done({ ended: false, error }));
    (async () => {
      for (const p of pieces) {
        if (verifier.destroyed) return;
        if (!verifier.write(p)) await new Promise<void>((r) => verifier.once('drain', r));
        await new Promise<void>((r) => setImmediate(r));
      }
      if (opts.sourceError) verifier.destroy(opts.sourceError);
      else if (opts.end !== false && !verifier.destroyed) verifier.end();
    })().catch(reject);
  });
}

/** `buf` cut at the given offsets. */
export function cut(buf: Buffer, ...at: number[]): Buffer[] {
  const points = [0, ...at, buf.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++) out.push(buf.subarray(points[i - 1]!, points[i]!));
  return out;
}

/** A deterministic pseudo-random generator, so property-style tests are repeatable. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
