/**
 * PutObjectAcl: `PUT /{bucket}/{key}?acl[&versionId=]`, with the ACL in `x-amz-acl` /
 * `x-amz-grant-*` headers or an `AccessControlPolicy` body. ACLs are disabled (./acl.ts): accepted,
 * and nothing changes, only when it grants the owner FULL_CONTROL and no one anything; otherwise
 * 400 AccessControlListNotSupported. The object must exist (NoSuchKey / NoSuchVersion).
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { parseAccessControlPolicy, XML_LIMITS } from '../xml';
import { checkAccessControlPolicy, checkAclHeaders } from './acl';
import { getBucketVersioning, versionHeader } from './bucketState';
import { readBody, toOpError, verifyBody, versionOpts } from './objectCommon';

export const PutObjectAcl: Op<'PutObjectAcl'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const body = await readBody(
    ctx,
    XML_LIMITS.Configuration,
    () => new S3Error('MalformedACLError', { cause: new Error('an ACL body over the limit') }),
  );
  verifyBody(ctx, body);
  if (!checkAclHeaders(ctx.headers)) checkAccessControlPolicy(parseAccessControlPolicy(body));
  const info = await ctx.objects.getObjectInfo(bucket, key, versionOpts(params.versionId)).catch((e) => {
    throw toOpError(e);
  });
  const headers: Record<string, string> = {};
  Object.assign(headers, versionHeader(await getBucketVersioning(ctx, bucket), info.versionId));
  return { status: 200, headers };
};
