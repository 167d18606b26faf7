/**
 * DeleteBucket: `DELETE /{bucket}`. AWS: 204; BucketNotEmpty while objects remain; NoSuchBucket.
 * The bucket's settings (tagging, CORS...) go with it.
 */
import type { Op } from '../context';
import { noContent, removeBucketConfigs, requireBucket } from './bucketCommon';

export const DeleteBucket: Op<'DeleteBucket'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  // NoSuchBucket before anything else, whatever the drives say about removing what is not there.
  await requireBucket(ctx, bucket);
  await ctx.objects.deleteBucket(bucket);
  await removeBucketConfigs(ctx.bucketConfig, bucket);
  return noContent();
};
