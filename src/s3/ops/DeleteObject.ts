/**
 * DeleteObject (`DELETE /{bucket}/{key}`): 204 whether or not the key existed, as AWS. `If-Match`
 * makes the delete conditional on the current ETag (412 otherwise, 404 when there is no object).
 */
import { isObjectError } from '../../object/errors';
import type { DeleteObjectOptions } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { header, parseEtagList, unquoteEtag } from '../headers';
import { deleteIdempotent, toOpError } from './objectCommon';

export const DeleteObject: Op<'DeleteObject'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const opts: DeleteObjectOptions = params.versionId !== undefined ? { versionId: params.versionId } : {};
  const ifMatch = header(ctx.headers, 'if-match');
  if (ifMatch !== undefined) {
    const current = await ctx.objects.getObjectInfo(bucket, key, opts).catch((e) => {
      if (isObjectError(e, 'ObjectNotFound')) throw new S3Error('NoSuchKey', { fields: { Key: key } });
      throw toOpError(e);
    });
    const tags = parseEtagList(ifMatch);
    if (!tags.some((t) => t === '*' || unquoteEtag(t) === current.etag)) {
      throw new S3Error('PreconditionFailed', { fields: { Condition: 'If-Match' } });
    }
  }
  const info = await deleteIdempotent(ctx.objects, bucket, key, opts);
  const headers: Record<string, string> = {};
  // Unversioned buckets answer with neither header; a version asked for by id is named back.
  if (params.versionId !== undefined) headers['x-amz-version-id'] = params.versionId;
  else if (info.versionId !== 'null') headers['x-amz-version-id'] = info.versionId;
  if (info.deleteMarker && info.versionId !== 'null') headers['x-amz-delete-marker'] = 'true';
  return { status: 204, headers };
};
