/**
 * The canonical request of AWS Signature Version 4, as S3 builds it:
 *
 *   <Method>\n<CanonicalURI>\n<CanonicalQueryString>\n<CanonicalHeaders>\n<SignedHeaders>\n<HashedPayload>
 *
 * AWS: "Signature Calculations for the Authorization Header" (S3 API reference). S3 differs from the
 * other services in two ways that matter here: the path is URI-encoded once, not twice, and it is
 * not normalised (`.`, `..` and `//` are parts of object keys, not path syntax).
 */

const HEX = '0123456789ABCDEF';

/** AWS: "URI-encode every byte except the unreserved characters: A-Z, a-z, 0-9, '-', '.', '_', '~'". */
const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}

/**
 * The S3 URI encoding: unreserved bytes kept, every other byte as `%XX` with upper-case hex, `/`
 * kept only when `encodeSlash` is false (object key names in the path).
 */
export function uriEncode(input: string | Uint8Array, encodeSlash = true): string {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let out = '';
  for (const b of bytes) {
    if (UNRESERVED[b] === 1 || (b === 0x2f && !encodeSlash)) out += String.fromCharCode(b);
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes to bytes. A `%` not followed by two hex digits stays a literal `%` (re-encoding
 * then gives `%25`), as a lenient server must: the client encoded what it sent, not what it meant.
 * Characters outside ASCII are taken as Unicode and encoded as UTF-8.
 */
export function percentDecode(s: string, plusAsSpace = false): Buffer {
  if (!s.includes('%') && !(plusAsSpace && s.includes('+'))) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let decoded: number[] = [];
  let literalStart = 0;
  const takeLiteral = (end: number) => {
    if (end <= literalStart) return;
    if (decoded.length) parts.push(Buffer.from(decoded));
    decoded = [];
    parts.push(Buffer.from(s.slice(literalStart, end), 'utf8'));
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let byte = -1;
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) byte = (hi << 4) | lo;
    } else if (c === 0x2b && plusAsSpace) {
      byte = 0x20;
    }
    if (byte < 0) continue;
    takeLiteral(i);
    decoded.push(byte);
    if (c === 0x25) i += 2;
    literalStart = i + 1;
  }
  takeLiteral(s.length);
  if (decoded.length) parts.push(Buffer.from(decoded));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The canonical URI from the raw path as received (still percent-encoded): each `/`-separated
 * segment decoded, then encoded again the S3 way, so `%2f`, `%24` and `$` all come out as AWS's
 * signers write them (`%2F`, `%24`, `%24`). An encoded slash inside a segment stays encoded.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  const path = rawPath.startsWith('/') ? rawPath : `/${rawPath}`;
  return path
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment), true))
    .join('/');
}

/** The decoded `[name, value]` pairs of a raw query string, in order; `?a` gives `['a', '']`. */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  const q = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  const out: Array<[string, string]> = [];
  if (q === '') return out;
  for (const piece of q.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = eq < 0 ? piece : piece.slice(0, eq);
    const value = eq < 0 ? '' : piece.slice(eq + 1);
    out.push([percentDecode(name, true).toString('utf8'), percentDecode(value, true).toString('utf8')]);
  }
  return out;
}

/**
 * The canonical query string from the raw query: every parameter decoded and encoded again (a `+`
 * is a space, as in form encoding, so it becomes `%20`), sorted by encoded name and then by encoded
 * value, `name=` kept for empty values. `exclude` names a parameter to leave out (the presigned
 * `X-Amz-Signature`, which cannot sign itself).
 */
export function canonicalQuery(rawQuery: string, exclude?: string): string {
  const q = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  if (q === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const piece of q.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = percentDecode(eq < 0 ? piece : piece.slice(0, eq), true);
    if (exclude !== undefined && name.toString('utf8') === exclude) continue;
    const value = percentDecode(eq < 0 ? '' : piece.slice(eq + 1), true);
    pairs.push([uriEncode(name, true), uriEncode(value, true)]);
  }
  // Encoded strings are ASCII, so comparing UTF-16 code units is comparing bytes, as AWS sorts.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * AWS: "Trimall": leading and trailing whitespace removed, inner runs collapsed to one space.
 * Only HTTP whitespace counts (not the Unicode spaces JavaScript's `\s` would also take, such as
 * a 0xA0 byte in a Latin-1 header value), as the SDK signers do.
 */
export function canonicalHeaderValue(value: string): string {
  return value.replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '');
}

export interface CanonicalRequestParts {
  method: string;
  /** Already canonical (`canonicalUri`). */
  canonicalUri: string;
  /** Already canonical (`canonicalQuery`). */
  canonicalQuery: string;
  /** Lower-cased name → value; names not in `signedHeaders` are ignored, absent ones sign as empty. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Lower-case, sorted, without duplicates. */
  signedHeaders: readonly string[];
  payloadHash: string;
}

/**
 * The bytes a received request's canonical form hashes to. Node hands header values over as
 * Latin-1 strings (one char per byte on the wire), so a UTF-8 `x-amz-meta-*` value arrives as
 * `Ã©` for `é`: SigV4 signs the bytes the client sent, so those chars are those bytes. Everything
 * else in the canonical request is ASCII. A string holding a char above U+00FF did not come off
 * the wire and is taken as text (UTF-8), as a signer would.
 */
export function canonicalRequestBytes(canonical: string): Buffer {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a range test, not a control char
  return /[^\u0000-\u00ff]/.test(canonical)
    ? Buffer.from(canonical, 'utf8')
    : Buffer.from(canonical, 'latin1');
}

export function canonicalRequest(p: CanonicalRequestParts): string {
  let headerBlock = '';
  for (const name of p.signedHeaders) {
    headerBlock += `${name}:${canonicalHeaderValue(p.headers[name] ?? '')}\n`;
  }
  return [
    p.method,
    p.canonicalUri,
    p.canonicalQuery,
    headerBlock,
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}
