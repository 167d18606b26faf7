/**
 * GetBucketLogging: a stub, so tools that read every bucket setting (Terraform, say) keep working: an empty `BucketLoggingStatus`, AWS's
 * answer for a bucket that has none. Setting it is 501 NotImplemented.
 */
import type { Op } from '../context';
import { renderXml } from '../xml';
import { requireBucket, xml } from './bucketCommon';

export const GetBucketLogging: Op<'GetBucketLogging'> = async (ctx) => {
  await requireBucket(ctx, ctx.route.bucket);
  return xml(renderXml('BucketLoggingStatus', {}));
};
