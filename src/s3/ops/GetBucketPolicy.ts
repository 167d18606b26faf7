/**
 * GetBucketPolicy: `GET /{bucket}?policy`. AWS: the policy document as it was put (JSON);
 * NoSuchBucketPolicy (404) when the bucket has none.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { BUCKET_POLICY_CONFIG } from '../permissions';
import { requireBucket } from './bucketCommon';

export const GetBucketPolicy: Op<'GetBucketPolicy'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const doc = await ctx.bucketConfig.get(bucket, BUCKET_POLICY_CONFIG);
  if (!doc) throw new S3Error('NoSuchBucketPolicy', { fields: { BucketName: bucket } });
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: doc };
};
