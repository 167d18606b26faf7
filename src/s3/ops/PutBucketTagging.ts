/**
 * PutBucketTagging: `PUT /{bucket}?tagging`. AWS: replaces the tag set (at most 50 tags, checked as
 * `validateTags` does: InvalidTag). An empty `TagSet` removes the tags.
 *
 * **Differs from AWS**: 200 rather than AWS's 204, as MinIO answers: the minio clients accept only
 * 200 here, and AWS's SDKs take any 2xx.
 */
import type { Op } from '../context';
import { parseTagging, XML_LIMITS } from '../xml';
import { encodeTags, readSmallBody, requireBucket, TAGGING_CONFIG } from './bucketCommon';

export const PutBucketTagging: Op<'PutBucketTagging'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const tags = parseTagging(await readSmallBody(ctx, XML_LIMITS.Tagging), 'bucket');
  await ctx.bucketConfig.put(bucket, TAGGING_CONFIG, tags.length > 0 ? encodeTags(tags) : null);
  return { status: 200, headers: { 'Content-Length': 0 } };
};
