/**
 * GetBucketVersioning (`GET /{bucket}?versioning`). AWS: an empty `<VersioningConfiguration/>` for a
 * bucket whose versioning was never set, else its `Status` (Enabled or Suspended).
 */
import type { Op } from '../context';
import { versioningConfiguration } from '../xml';
import { requireBucket, xml } from './bucketCommon';
import { getBucketVersioning } from './bucketState';

export const GetBucketVersioning: Op<'GetBucketVersioning'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const status = await getBucketVersioning(ctx, bucket);
  return xml(versioningConfiguration(status ? { status } : {}));
};
