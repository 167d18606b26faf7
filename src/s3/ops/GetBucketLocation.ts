/** GetBucketLocation: `GET /{bucket}?location`. AWS: an empty `LocationConstraint` for us-east-1. */
import type { Op } from '../context';
import { locationConstraint } from '../xml';
import { requireBucket, xml } from './bucketCommon';

export const GetBucketLocation: Op<'GetBucketLocation'> = async (ctx) => {
  await requireBucket(ctx, ctx.route.bucket);
  return xml(locationConstraint(ctx.config.region));
};
