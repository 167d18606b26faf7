/**
 * PutObject (`PUT /{bucket}/{key}`): the body streams into the object layer, which computes the
 * ETag (MD5) and the checksum (the client's algorithm, or CRC64NVME) in the same pass and checks
 * Content-MD5 and the `x-amz-checksum-*` header or trailer before the write commits: a mismatch
 * stores nothing.
 */

import type { Op } from '../context';
import { S3Error } from '../errors';
import { quoteEtag } from '../headers';
import { checkAclHeaders } from './acl';
import { getBucketVersioning, writtenVersionHeader } from './bucketState';
import {
  checkKey,
  checksumOptions,
  checksumResponseHeaders,
  checkWriteConditions,
  expectedMd5,
  MAX_PUT_SIZE,
  metadataFromHeaders,
  storageClass,
  tagsFromHeader,
  takeBody,
  toOpError,
} from './objectCommon';
import { lockOptionsForWrite, parseLockHeaders } from './objectLock';

export const PutObject: Op<'PutObject'> = async (ctx) => {
  const { bucket, key } = ctx.route;
  checkKey(key);
  checkAclHeaders(ctx.headers, 'object', { ignoreCanned: true });
  const size = ctx.bodyLength;
  // AWS: a PUT must say how long its body is (Content-Length, or the decoded length of aws-chunked).
  if (size < 0) throw new S3Error('MissingContentLength');
  if (size > MAX_PUT_SIZE) {
    throw new S3Error('EntityTooLarge', { fields: { ProposedSize: size, MaxSizeAllowed: MAX_PUT_SIZE } });
  }
  const sc = storageClass(ctx.headers);
  const lock = parseLockHeaders(ctx.headers);
  const opts = {
    size,
    ...metadataFromHeaders(ctx.headers),
    tags: tagsFromHeader(ctx.headers),
    ...(sc ? { storageClass: sc } : {}),
    ...expectedMd5(ctx.headers),
    ...checksumOptions(ctx),
  };
  const body = takeBody(ctx);
  Object.assign(opts, await lockOptionsForWrite(ctx, bucket, lock, { requireChecksum: true }));
  const precondition = await checkWriteConditions(ctx, bucket, key);
  const versioning = await getBucketVersioning(ctx, bucket);
  const info = await ctx.objects
    .putObject(bucket, key, body, {
      ...opts,
      versioned: versioning === 'Enabled',
      ...(precondition ? { precondition } : {}),
    })
    .catch((e) => {
      throw toOpError(e, ctx.signal);
    });
  const headers: Record<string, string> = {
    ETag: quoteEtag(info.etag),
    ...checksumResponseHeaders(info),
    // AWS: the id only when versioning made one; a Suspended bucket's `null` version goes unsaid.
    ...writtenVersionHeader(info.versionId),
  };
  return { status: 200, headers };
};
