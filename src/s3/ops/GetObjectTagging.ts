/** GetObjectTagging (`GET /{bucket}/{key}?tagging`): the object's tag set, empty when it has none. */
import type { Op } from '../context';
import { tagging } from '../xml';
import { getBucketVersioning, versionHeader } from './bucketState';
import { compareUtf8 } from './listCommon';
import { toOpError, versionOpts } from './objectCommon';

export const GetObjectTagging: Op<'GetObjectTagging'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const info = await ctx.objects.getObjectInfo(bucket, key, versionOpts(params.versionId)).catch((e) => {
    throw toOpError(e);
  });
  // Sorted by key, whatever order they were written in (as AWS and RGW list them).
  const tags = [...new URLSearchParams(info.tags)]
    .map(([k, value]) => ({ key: k, value }))
    .sort((a, b) => compareUtf8(a.key, b.key));
  const headers: Record<string, string> = { 'Content-Type': 'application/xml' };
  Object.assign(headers, versionHeader(await getBucketVersioning(ctx, bucket), info.versionId));
  return { status: 200, headers, body: tagging(tags) };
};
