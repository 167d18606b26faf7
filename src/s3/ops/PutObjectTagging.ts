/**
 * PutObjectTagging (`PUT /{bucket}/{key}?tagging`): replaces the object's tag set (at most 10 tags)
 * in place; the body is checked against Content-MD5 or `x-amz-checksum-*` when sent. Its permissions are
 * checked again once the body is read, with the body's tags as `s3:RequestObjectTag/<k>` and
 * `s3:RequestObjectTagKeys` (src/s3/permissions.ts).
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { formatTags } from '../headers';
import { requestTagConditions } from '../permissions';
import { parseTagging, XML_LIMITS } from '../xml';
import { getBucketVersioning, versionHeader } from './bucketState';
import { readBody, toOpError, verifyBody, versionOpts } from './objectCommon';

export const PutObjectTagging: Op<'PutObjectTagging'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const body = await readBody(
    ctx,
    XML_LIMITS.Tagging,
    () =>
      new S3Error('MalformedXML', { cause: new Error(`a Tagging body over ${XML_LIMITS.Tagging} bytes`) }),
  );
  verifyBody(ctx, body);
  const tags = parseTagging(body, 'object');
  const conditions = requestTagConditions(tags.map((t) => [t.key, t.value]));
  const { versionId } = params;
  const actions =
    versionId === undefined ? ['s3:PutObjectTagging'] : ['s3:PutObjectTagging', 's3:PutObjectVersionTagging'];
  for (const action of actions) {
    const ok = await ctx.allowed(action, {
      key,
      conditions,
      ...(versionId !== undefined ? { versionId } : {}),
    });
    if (!ok) throw new S3Error('AccessDenied');
  }
  const info = await ctx.objects
    .updateObjectMetadata(bucket, key, { tags: formatTags(tags) }, versionOpts(params.versionId))
    .catch((e) => {
      throw toOpError(e);
    });
  const headers: Record<string, string> = {};
  Object.assign(headers, versionHeader(await getBucketVersioning(ctx, bucket), info.versionId));
  return { status: 200, headers };
};
