/**
 * GetBucketRequestPayment: a stub, so tools that read every bucket setting (Terraform, say) keep working: `Payer` `BucketOwner`, AWS's
 * answer for a bucket that has none. Setting it is 501 NotImplemented.
 */
import type { Op } from '../context';
import { renderXml } from '../xml';
import { requireBucket, xml } from './bucketCommon';

export const GetBucketRequestPayment: Op<'GetBucketRequestPayment'> = async (ctx) => {
  await requireBucket(ctx, ctx.route.bucket);
  return xml(renderXml('RequestPaymentConfiguration', { Payer: 'BucketOwner' }));
};
