/**
 * GetBucketOwnershipControls: `GET /{bucket}?ownershipControls`. Every bucket is BucketOwnerEnforced
 * (ACLs disabled, ./acl.ts), AWS's default for new buckets. After DeleteBucketOwnershipControls,
 * 404 OwnershipControlsNotFoundError as AWS answers, though ACLs stay disabled (docs/compat.md).
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { ownershipControls } from '../xml';
import { OWNERSHIP_CONFIG } from './acl';
import { requireBucket, xml } from './bucketCommon';

export const GetBucketOwnershipControls: Op<'GetBucketOwnershipControls'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  if (await ctx.bucketConfig.get(bucket, OWNERSHIP_CONFIG)) {
    throw new S3Error('OwnershipControlsNotFoundError', { fields: { BucketName: bucket } });
  }
  return xml(ownershipControls('BucketOwnerEnforced'));
};
