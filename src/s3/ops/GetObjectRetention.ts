/**
 * GetObjectRetention (`GET /{bucket}/{key}?retention[&versionId=]`). AWS: InvalidRequest on a bucket
 * without Object Lock; 404 NoSuchObjectLockConfiguration for a version without a retention.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { retention } from '../xml';
import { xml } from './bucketCommon';
import { toOpError, versionOpts } from './objectCommon';
import { requireObjectLock } from './objectLock';

export const GetObjectRetention: Op<'GetObjectRetention'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  await requireObjectLock(ctx, bucket).catch((e) => {
    throw toOpError(e);
  });
  const info = await ctx.objects.getObjectInfo(bucket, key, versionOpts(params.versionId)).catch((e) => {
    throw toOpError(e);
  });
  if (!info.lockRetention) throw new S3Error('NoSuchObjectLockConfiguration');
  return xml(retention({ mode: info.lockRetention.mode, retainUntilDate: info.lockRetention.retainUntil }));
};
