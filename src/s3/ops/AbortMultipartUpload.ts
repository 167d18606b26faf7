/**
 * AbortMultipartUpload (`DELETE /{bucket}/{key}?uploadId=`): removes the upload and its parts;
 * 204 No Content, NoSuchUpload when there is no such upload.
 */
import type { Op } from '../context';

export const AbortMultipartUpload: Op<'AbortMultipartUpload'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  await ctx.objects.abortMultipartUpload(bucket, key, params.uploadId);
  return { status: 204 };
};
