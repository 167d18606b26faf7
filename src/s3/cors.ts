/**
 * A bucket's CORS configuration as stored (a versioned JSON document beside the bucket), and how a
 * request is matched against its rules, as AWS's "Using cross-origin resource sharing" describes:
 * the first rule whose AllowedOrigin matches `Origin`, whose AllowedMethod holds the method (or
 * `Access-Control-Request-Method` for a preflight), and whose AllowedHeader patterns cover every
 * header of `Access-Control-Request-Headers` is the one applied. `*` may appear once in an origin or
 * header pattern and matches any run of characters. Pure: no I/O.
 */
import type { CorsRule } from './xml';

/** The config store's document name for a bucket's CORS rules. */
export const CORS_CONFIG = 'cors.json';

interface StoredCors {
  v: 1;
  rules: CorsRule[];
}

export function encodeCors(rules: CorsRule[]): Buffer {
  const doc: StoredCors = { v: 1, rules };
  return Buffer.from(JSON.stringify(doc));
}

/** The stored rules; a document of an unknown version is an error (never silently ignored). */
export function decodeCors(data: Buffer): CorsRule[] {
  const doc = JSON.parse(data.toString('utf8')) as { v?: unknown; rules?: unknown };
  if (doc.v !== 1 || !Array.isArray(doc.rules)) throw new Error(`unknown CORS document version ${doc.v}`);
  return doc.rules as CorsRule[];
}

/** `pattern` with at most one `*`, matched whole; case-sensitive for origins, as AWS. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

export interface CorsRequest {
  origin: string;
  /** The method asked for (the preflight's Access-Control-Request-Method, or the request's own). */
  method: string;
  /** Lower-cased header names of Access-Control-Request-Headers (preflight only). */
  headers?: string[];
}

/** The first rule that allows the request, or undefined. */
export function matchCorsRule(rules: readonly CorsRule[], req: CorsRequest): CorsRule | undefined {
  return rules.find(
    (r) =>
      r.allowedOrigins.some((o) => wildcardMatch(o, req.origin)) &&
      r.allowedMethods.includes(req.method) &&
      (req.headers ?? []).every((h) => r.allowedHeaders.some((a) => wildcardMatch(a, h, true))),
  );
}

/** `Access-Control-Request-Headers` as lower-cased names. */
export function parseRequestHeaders(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/**
 * The response headers for a request a rule allowed. AWS answers `*` when the rule allows every
 * origin, and otherwise echoes the origin with `Access-Control-Allow-Credentials: true`.
 */
export function corsResponseHeaders(
  rule: CorsRule,
  req: CorsRequest,
  preflight: boolean,
): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const h: Record<string, string> = {
    'Access-Control-Allow-Origin': anyOrigin ? '*' : req.origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!anyOrigin) h['Access-Control-Allow-Credentials'] = 'true';
  if (preflight && req.headers && req.headers.length > 0) {
    h['Access-Control-Allow-Headers'] = req.headers.join(', ');
  }
  if (rule.exposeHeaders.length > 0) h['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  return h;
}
