/**
 * What ListObjects, ListObjectsV2, ListMultipartUploads and ListParts share: page sizes, the v2
 * continuation token, and an object's `<Contents>` entry.
 */
import type { ObjectInfo } from '../../object/types';
import { S3Error } from '../errors';
import { ROOT_OWNER } from '../owner';
import type { ListEntry } from '../xml';
import { checksumTypeOf, storedChecksums } from './objectCommon';

/** AWS: a listing page holds at most 1000 entries (keys and common prefixes, uploads, parts). */
export const MAX_PAGE = 1000;

/** The page size a request asks for: its own value up to 1000, 1000 when it names none. */
export function pageSize(requested: number | undefined): number {
  return requested === undefined ? MAX_PAGE : Math.min(requested, MAX_PAGE);
}

/** S3's key order: UTF-8 bytes. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The v2 continuation token: opaque to clients (AWS: "obfuscated and is not a real key"), so it
 * carries a version byte before the key it resumes after, base64url without padding. Another
 * format later adds a version and keeps reading this one.
 */
const TOKEN_V1 = '1';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeContinuationToken(after: string): string {
  return Buffer.from(TOKEN_V1 + after, 'utf8').toString('base64url');
}

/** The key a token resumes after; InvalidArgument for anything this server did not make. */
export function decodeContinuationToken(token: string): string {
  const bad = () =>
    new S3Error('InvalidArgument', {
      message: 'The continuation token provided is incorrect',
      fields: { ArgumentName: 'continuation-token', ArgumentValue: token },
    });
  if (!BASE64URL.test(token)) throw bad();
  const raw = Buffer.from(token, 'base64url');
  // Base64 decoding ignores stray trailing bits: only the canonical form of a token is one.
  if (raw.toString('base64url') !== token) throw bad();
  let text: string;
  try {
    text = fatalUtf8.decode(raw);
  } catch {
    throw bad();
  }
  if (!text.startsWith(TOKEN_V1)) throw bad();
  return text.slice(TOKEN_V1.length);
}

/** An object as a listing's `<Contents>`. */
export function listEntry(o: ObjectInfo, withOwner: boolean): ListEntry {
  const e: ListEntry = {
    key: o.key,
    lastModified: o.modTime,
    etag: o.etag,
    size: o.size,
    storageClass: o.storageClass,
  };
  const stored = Object.entries(storedChecksums(o));
  if (stored.length > 0) {
    e.checksumAlgorithm = stored.map(([a]) => a);
    e.checksumType = checksumTypeOf(stored[0]![1]);
  }
  if (withOwner) e.owner = ROOT_OWNER;
  return e;
}
