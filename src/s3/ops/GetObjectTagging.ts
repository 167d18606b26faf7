/** GetObjectTagging (`GET /{bucket}/{key}?tagging`): the object's tag set, empty when it has none. */
import type { Op } from '../context';
import { tagging } from '../xml';
import { toOpError } from './objectCommon';

export const GetObjectTagging: Op<'GetObjectTagging'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const info = await ctx.objects
    .getObjectInfo(bucket, key, params.versionId !== undefined ? { versionId: params.versionId } : {})
    .catch((e) => {
      throw toOpError(e);
    });
  const tags = [...new URLSearchParams(info.tags)].map(([k, value]) => ({ key: k, value }));
  const headers: Record<string, string> = { 'Content-Type': 'application/xml' };
  if (info.versionId !== 'null') headers['x-amz-version-id'] = info.versionId;
  return { status: 200, headers, body: tagging(tags) };
};
