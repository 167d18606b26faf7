/** DeleteObjectTagging (`DELETE /{bucket}/{key}?tagging`): removes the object's tags; 204. */
import type { Op } from '../context';
import { toOpError } from './objectCommon';

export const DeleteObjectTagging: Op<'DeleteObjectTagging'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const info = await ctx.objects
    .updateObjectMetadata(
      bucket,
      key,
      { tags: '' },
      params.versionId !== undefined ? { versionId: params.versionId } : {},
    )
    .catch((e) => {
      throw toOpError(e);
    });
  const headers: Record<string, string> = {};
  if (info.versionId !== 'null') headers['x-amz-version-id'] = info.versionId;
  return { status: 204, headers };
};
