/** DeleteBucketCors: `DELETE /{bucket}?cors`. AWS: 204, also when there was no configuration. */
import type { Op } from '../context';
import { CORS_CONFIG } from '../cors';
import { noContent, requireBucket } from './bucketCommon';

export const DeleteBucketCors: Op<'DeleteBucketCors'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  await ctx.bucketConfig.put(bucket, CORS_CONFIG, null);
  return noContent();
};
