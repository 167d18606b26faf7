/**
 * GetObjectLegalHold (`GET /{bucket}/{key}?legal-hold[&versionId=]`). AWS: InvalidRequest on a bucket
 * without Object Lock; 404 NoSuchObjectLockConfiguration for a version whose legal hold was never set.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { legalHold } from '../xml';
import { xml } from './bucketCommon';
import { toOpError, versionOpts } from './objectCommon';
import { requireObjectLock } from './objectLock';

export const GetObjectLegalHold: Op<'GetObjectLegalHold'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  await requireObjectLock(ctx, bucket).catch((e) => {
    throw toOpError(e);
  });
  const info = await ctx.objects.getObjectInfo(bucket, key, versionOpts(params.versionId)).catch((e) => {
    throw toOpError(e);
  });
  if (info.legalHold === undefined) throw new S3Error('NoSuchObjectLockConfiguration');
  return xml(legalHold(info.legalHold ? 'ON' : 'OFF'));
};
