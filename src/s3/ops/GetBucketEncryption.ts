/**
 * GetBucketEncryption: a stub, so tools that read every bucket setting (Terraform, say) keep working: 404 ServerSideEncryptionConfigurationNotFoundError, AWS's
 * answer for a bucket that has none. Setting it is 501 NotImplemented.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { requireBucket } from './bucketCommon';

export const GetBucketEncryption: Op<'GetBucketEncryption'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', { fields: { BucketName: bucket } });
};
