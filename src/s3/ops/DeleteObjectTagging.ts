/** DeleteObjectTagging (`DELETE /{bucket}/{key}?tagging`): removes the object's tags; 204. */
import type { Op } from '../context';
import { getBucketVersioning, versionHeader } from './bucketState';
import { toOpError, versionOpts } from './objectCommon';

export const DeleteObjectTagging: Op<'DeleteObjectTagging'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const info = await ctx.objects
    .updateObjectMetadata(bucket, key, { tags: '' }, versionOpts(params.versionId))
    .catch((e) => {
      throw toOpError(e);
    });
  const headers: Record<string, string> = {};
  Object.assign(headers, versionHeader(await getBucketVersioning(ctx, bucket), info.versionId));
  return { status: 204, headers };
};
