/**
 * HeadBucket: `HEAD /{bucket}`. AWS: 200 with `x-amz-bucket-region`; 404 (NoSuchBucket) or 403
 * without a body, as for every HEAD.
 */
import type { Op } from '../context';

export const HeadBucket: Op<'HeadBucket'> = async (ctx) => {
  await ctx.objects.getBucketInfo(ctx.route.bucket);
  return {
    status: 200,
    headers: { 'x-amz-bucket-region': ctx.config.region, 'x-amz-access-point-alias': 'false' },
  };
};
