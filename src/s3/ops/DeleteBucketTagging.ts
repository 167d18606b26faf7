/** DeleteBucketTagging: `DELETE /{bucket}?tagging`. AWS: 204, also when there were no tags. */
import type { Op } from '../context';
import { noContent, requireBucket, TAGGING_CONFIG } from './bucketCommon';

export const DeleteBucketTagging: Op<'DeleteBucketTagging'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  await ctx.bucketConfig.put(bucket, TAGGING_CONFIG, null);
  return noContent();
};
