/**
 * GetObjectLockConfiguration (`GET /{bucket}?object-lock`). AWS: 404
 * ObjectLockConfigurationNotFoundError for a bucket without Object Lock; otherwise
 * `ObjectLockEnabled` and the default retention rule, when there is one.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { objectLockConfiguration } from '../xml';
import { requireBucket, xml } from './bucketCommon';
import { getObjectLockConfig } from './bucketState';

export const GetObjectLockConfiguration: Op<'GetObjectLockConfiguration'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const config = await getObjectLockConfig(ctx, bucket);
  if (!config) throw new S3Error('ObjectLockConfigurationNotFoundError', { fields: { BucketName: bucket } });
  return xml(objectLockConfiguration(config));
};
