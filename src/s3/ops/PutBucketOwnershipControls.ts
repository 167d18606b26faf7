/**
 * PutBucketOwnershipControls: `PUT /{bucket}?ownershipControls`. Only `BucketOwnerEnforced` (ACLs
 * disabled, ./acl.ts) is served; `BucketOwnerPreferred` and `ObjectWriter` enable ACLs, which Cairn
 * does not have: 501 NotImplemented. A body outside the schema is MalformedXML.
 */
import type { Op } from '../context';
import { parseOwnershipControls, XML_LIMITS } from '../xml';
import { checkObjectOwnership, OWNERSHIP_CONFIG } from './acl';
import { readSmallBody, requireBucket } from './bucketCommon';

export const PutBucketOwnershipControls: Op<'PutBucketOwnershipControls'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  checkObjectOwnership(parseOwnershipControls(await readSmallBody(ctx, XML_LIMITS.Configuration)));
  await ctx.bucketConfig.put(bucket, OWNERSHIP_CONFIG, null);
  return { status: 200, headers: { 'Content-Length': 0 } };
};
