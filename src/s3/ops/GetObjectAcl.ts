/**
 * GetObjectAcl: `GET /{bucket}/{key}?acl[&versionId=]`. ACLs are disabled (./acl.ts): the object's
 * owner, which is the bucket owner, with FULL_CONTROL. NoSuchKey / NoSuchVersion as GetObject.
 */
import type { Op } from '../context';
import { accessControlPolicy } from '../xml';
import { aclOwner } from './acl';
import { getBucketVersioning, versionHeader } from './bucketState';
import { toOpError, versionOpts } from './objectCommon';

export const GetObjectAcl: Op<'GetObjectAcl'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const info = await ctx.objects.getObjectInfo(bucket, key, versionOpts(params.versionId)).catch((e) => {
    throw toOpError(e);
  });
  const headers: Record<string, string> = { 'Content-Type': 'application/xml' };
  Object.assign(headers, versionHeader(await getBucketVersioning(ctx, bucket), info.versionId));
  return { status: 200, headers, body: accessControlPolicy(aclOwner()) };
};
