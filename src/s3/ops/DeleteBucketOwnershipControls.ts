/**
 * DeleteBucketOwnershipControls: `DELETE /{bucket}?ownershipControls`, 204. AWS then reports no
 * ownership controls (GetBucketOwnershipControls: OwnershipControlsNotFoundError), and so does Cairn,
 * so tools that delete and wait for the 404 (Terraform) finish. **Differs**: ACLs stay disabled, as
 * Cairn has none (AWS would fall back to ObjectWriter).
 */
import type { Op } from '../context';
import { OWNERSHIP_CONFIG } from './acl';
import { noContent, requireBucket } from './bucketCommon';

export const DeleteBucketOwnershipControls: Op<'DeleteBucketOwnershipControls'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  await ctx.bucketConfig.put(bucket, OWNERSHIP_CONFIG, Buffer.from(JSON.stringify({ v: 1, deleted: true })));
  return noContent();
};
