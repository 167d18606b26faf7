/**
 * What the bucket actions share: reading a small request body, checking a bucket exists, the stored
 * forms of bucket settings, XML responses.
 */
import { createHash } from 'node:crypto';
import type { BucketConfigStore, ReqCtx, S3Response } from '../context';
import { S3Error } from '../errors';
import { contentMd5Hex, type Tag } from '../headers';

/** The config store's document name for a bucket's tags. */
export const TAGGING_CONFIG = 'tagging.json';

/** An XML document as the response. */
export function xml(body: string, status = 200): S3Response {
  return { status, headers: { 'Content-Type': 'application/xml' }, body };
}

/** No body: 204 for deletions and puts AWS answers so. */
export function noContent(status = 204): S3Response {
  return { status };
}

/** Fails with NoSuchBucket when `bucket` does not exist. */
export async function requireBucket(ctx: ReqCtx, bucket: string): Promise<void> {
  await ctx.objects.getBucketInfo(bucket);
}

/**
 * The whole request body, at most `maxBytes` (one more is read so the parser can refuse the size);
 * checked against `Content-MD5` when sent (BadDigest).
 */
export async function readSmallBody(ctx: ReqCtx, maxBytes: number): Promise<Buffer> {
  const expected = contentMd5Hex(ctx.headers);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.body) {
    const b = chunk as Buffer;
    parts.push(b);
    size += b.length;
    if (size > maxBytes) break;
  }
  const body = Buffer.concat(parts);
  if (expected !== undefined && size <= maxBytes) {
    const got = createHash('md5').update(body).digest('hex');
    if (got !== expected) {
      throw new S3Error('BadDigest', {
        fields: {
          ExpectedDigest: Buffer.from(expected, 'hex').toString('base64'),
          CalculatedDigest: Buffer.from(got, 'hex').toString('base64'),
        },
      });
    }
  }
  return body;
}

export function encodeTags(tags: Tag[]): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, tags }));
}

export function decodeTags(data: Buffer): Tag[] {
  const doc = JSON.parse(data.toString('utf8')) as { v?: unknown; tags?: unknown };
  if (doc.v !== 1 || !Array.isArray(doc.tags)) throw new Error(`unknown tagging document version ${doc.v}`);
  return doc.tags as Tag[];
}

/** The store's `removeAll` when it has one (the erasure store does; test doubles may not). */
export async function removeBucketConfigs(store: BucketConfigStore, bucket: string): Promise<void> {
  const s = store as BucketConfigStore & { removeAll?: (bucket: string) => Promise<void> };
  if (typeof s.removeAll === 'function') await s.removeAll(bucket);
}
