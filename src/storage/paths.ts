/**
 * Object keys to safe relative paths and back.
 *
 * S3 keys are any UTF-8 up to 1024 bytes: `a//b`, `../x`, `a/`, `.`, names with NULs or `%`. Each
 * `/`-separated segment is escaped so that it is a legal, harmless directory name:
 * - `''` (from `a//b`, a leading `/` or a trailing `/`) becomes `%e`;
 * - `.` and `..` become `%2E` and `%2E%2E`;
 * - `%`, `\`, and control bytes become `%XX`;
 * - a segment starting with `cairn.` has its `c` escaped (`%63airn.`), which keeps every name
 *   starting with `cairn.` for Cairn itself (`cairn.meta`, `cairn.d.<uuid>` data dirs).
 * Escaped names sort differently from keys, so listing sorts by the decoded key (`compareKeys`).
 */
import { StorageError } from './errors';

/** The per-object metadata file inside the object's directory. */
export const META_FILE = 'cairn.meta';
/** Data directories of object versions: `cairn.d.<uuid>`. */
export const DATA_DIR_PREFIX = 'cairn.d.';
/** Longest directory name most file systems take. */
export const MAX_SEGMENT_BYTES = 255;

const RESERVED = 'cairn.';

function escapeSegment(seg: string): string {
  if (seg === '') return '%e';
  if (seg === '.') return '%2E';
  if (seg === '..') return '%2E%2E';
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c === 0x25 || c === 0x5c || c < 0x20 || c === 0x7f)
      out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += seg[i];
  }
  if (out.startsWith(RESERVED)) out = `%63${out.slice(1)}`;
  if (Buffer.byteLength(out) > MAX_SEGMENT_BYTES) {
    throw new StorageError(
      'FileNameTooLong',
      `a key segment of ${Buffer.byteLength(seg)} bytes is too long to store`,
    );
  }
  return out;
}

function unescapeSegment(seg: string): string {
  if (seg === '%e') return '';
  if (!seg.includes('%')) return seg;
  return seg.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

/** The relative directory of an object key: each segment escaped, joined by `/`. */
export function objectPath(key: string): string {
  if (key.includes('\0')) throw new StorageError('InvalidPath', 'NUL in a key');
  return key.split('/').map(escapeSegment).join('/');
}

/** The key of an object directory path made by `objectPath`. */
export function keyFromPath(path: string): string {
  return path.split('/').map(unescapeSegment).join('/');
}

/** Escapes one key segment (a directory name under a listing's prefix). */
export const encodeSegment = escapeSegment;
/** Decodes one directory name back to its key segment. */
export const decodeSegment = unescapeSegment;

/** True for names Cairn keeps for itself inside object directories (never a key segment). */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED);
}

/**
 * Refuses anything that could leave a volume or alias another path: absolute paths, empty, `.` or
 * `..` segments, NULs and backslashes. Every drive checks every path it is given.
 */
export function assertSafePath(path: string): void {
  if (path === '') return;
  if (path.startsWith('/') || path.includes('\0') || path.includes('\\')) {
    throw new StorageError('InvalidPath', JSON.stringify(path));
  }
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..')
      throw new StorageError('InvalidPath', JSON.stringify(path));
  }
}

/** S3 order: keys compare as UTF-8 bytes (not as JavaScript's UTF-16 code units). */
export function compareKeys(a: string, b: string): number {
  // UTF-16 code unit order equals UTF-8 byte order (and code point order) except where a surrogate
  // (half of an astral code point, 4 UTF-8 bytes) meets U+E000..U+FFFF: the astral one is greater.
  // Two surrogates at the first difference compare right as code units (same high half before, or
  // different high halves); slicing there and re-encoding would turn lone halves into U+FFFD.
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}
