/**
 * GetBucketReplication: a stub, so tools that read every bucket setting (Terraform, say) keep working: 404 ReplicationConfigurationNotFoundError, AWS's
 * answer for a bucket that has none. Setting it is 501 NotImplemented.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { requireBucket } from './bucketCommon';

export const GetBucketReplication: Op<'GetBucketReplication'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  throw new S3Error('ReplicationConfigurationNotFoundError', { fields: { BucketName: bucket } });
};
