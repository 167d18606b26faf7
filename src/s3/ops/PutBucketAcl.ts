/**
 * PutBucketAcl: `PUT /{bucket}?acl`, with the ACL in `x-amz-acl` / `x-amz-grant-*` headers or an
 * `AccessControlPolicy` body. ACLs are disabled (./acl.ts): accepted, and nothing changes, only when
 * it grants the owner FULL_CONTROL and no one anything (`private`, `bucket-owner-full-control`);
 * otherwise 400 AccessControlListNotSupported, as AWS answers a bucket with BucketOwnerEnforced.
 */
import type { Op } from '../context';
import { parseAccessControlPolicy, XML_LIMITS } from '../xml';
import { checkAccessControlPolicy, checkAclHeaders } from './acl';
import { readSmallBody, requireBucket } from './bucketCommon';

export const PutBucketAcl: Op<'PutBucketAcl'> = async (ctx) => {
  await requireBucket(ctx, ctx.route.bucket);
  const body = await readSmallBody(ctx, XML_LIMITS.Configuration);
  if (!checkAclHeaders(ctx.headers)) checkAccessControlPolicy(parseAccessControlPolicy(body));
  return { status: 200, headers: { 'Content-Length': 0 } };
};
