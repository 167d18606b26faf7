/**
 * CompleteMultipartUpload (`POST /{bucket}/{key}?uploadId=`): makes the object from the parts the
 * body lists (ascending part numbers, each with the ETag UploadPart returned). Every part but the
 * last is at least 5 MiB (EntityTooSmall); a part not uploaded, or with another ETag, is
 * InvalidPart. The object's ETag is AWS's `md5(part MD5s)-N`.
 *
 * AWS answers 200 and then, if completion fails after it has started sending, an error document in
 * the body. Cairn completes before it answers, so a failure is always a plain error response.
 */
import type { ObjectInfo } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { CHECKSUM_ALGORITHMS, header } from '../headers';
import { completeMultipartUploadResult, parseCompleteMultipartUpload, XML_LIMITS } from '../xml';
import { getBucketVersioning, getObjectLockConfig, writtenVersionHeader } from './bucketState';
import { objectUrl } from './multipartCommon';
import {
  ALGORITHMS,
  checksumResponseHeaders,
  checkWriteConditions,
  readBody,
  storedChecksums,
  toOpError,
} from './objectCommon';
import { defaultRetentionOf } from './objectLock';

export const CompleteMultipartUpload: Op<'CompleteMultipartUpload'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const limit = XML_LIMITS.CompleteMultipartUpload;
  const body = await readBody(
    ctx,
    limit,
    () => new S3Error('MalformedXML', { message: `The XML you provided was larger than ${limit} bytes` }),
  );
  // AWS: a completion without a body is MalformedXML (not MissingRequestBodyError).
  if (body.toString('utf8').trim() === '') throw new S3Error('MalformedXML');
  const parts = parseCompleteMultipartUpload(body, limit);

  // Conditional writes (If-None-Match, If-Match): checked now, and again under the key's lock.
  const precondition = await checkWriteConditions(ctx, bucket, key);

  const versioning = await getBucketVersioning(ctx, bucket);
  let info: ObjectInfo;
  try {
    // Object Lock: the bucket's default retention, from now, for an upload that named none.
    const defaultRetention = defaultRetentionOf(await getObjectLockConfig(ctx, bucket), new Date());
    info = await ctx.objects.completeMultipartUpload(
      bucket,
      key,
      params.uploadId,
      parts.map((p) => ({ number: p.partNumber, etag: p.etag, checksums: p.checksums })),
      {
        versioned: versioning === 'Enabled',
        ...(defaultRetention ? { defaultRetention } : {}),
        ...(precondition ? { precondition } : {}),
        expectedChecksums: objectChecksums(ctx.headers),
      },
    );
  } catch (e) {
    throw toOpError(e, ctx.signal);
  }
  const headers: Record<string, string> = {
    'Content-Type': 'application/xml',
    // The new version's id in a versioned bucket; none for a null version (unversioned or
    // Suspended), as AWS's CompleteMultipartUpload names only a version versioning made.
    ...writtenVersionHeader(info.versionId),
  };
  return {
    status: 200,
    headers,
    body: completeMultipartUploadResult({
      location: objectUrl(ctx, bucket, key),
      bucket,
      key,
      etag: info.etag,
      checksums: storedChecksums(info),
      checksumType: checksumResponseHeaders(info)['x-amz-checksum-type'],
    }),
  };
};

/**
 * `x-amz-checksum-<alg>` on a completion: the checksum the whole object must have (composite
 * `base64-N` or full-object), compared as sent; a value that is not the object's is BadDigest.
 */
function objectChecksums(h: Parameters<typeof header>[0]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const alg of ALGORITHMS) {
    const v = header(h, CHECKSUM_ALGORITHMS[alg].header);
    if (v !== undefined) out[alg] = v.trim();
  }
  return out;
}
