/**
 * GetBucketAcl: `GET /{bucket}?acl`. ACLs are disabled (Object Ownership BucketOwnerEnforced, see
 * ./acl.ts): AWS answers with the owner and one grant, FULL_CONTROL to the owner.
 */
import type { Op } from '../context';
import { accessControlPolicy } from '../xml';
import { aclOwner } from './acl';
import { requireBucket, xml } from './bucketCommon';

export const GetBucketAcl: Op<'GetBucketAcl'> = async (ctx) => {
  await requireBucket(ctx, ctx.route.bucket);
  return xml(accessControlPolicy(aclOwner()));
};
