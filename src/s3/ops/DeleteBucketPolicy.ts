/**
 * DeleteBucketPolicy: `DELETE /{bucket}?policy`. AWS: 204, whether or not the bucket had a policy;
 * NoSuchBucket.
 */
import type { Op } from '../context';
import { BUCKET_POLICY_CONFIG } from '../permissions';
import { noContent, requireBucket } from './bucketCommon';

export const DeleteBucketPolicy: Op<'DeleteBucketPolicy'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  await ctx.bucketConfig.put(bucket, BUCKET_POLICY_CONFIG, null);
  return noContent();
};
