/**
 * DeleteObject (`DELETE /{bucket}/{key}`): 204 whether or not the key existed, as AWS. `If-Match`
 * makes the delete conditional on the current ETag (412 otherwise, 404 when there is no object).
 */
import { isObjectError } from '../../object/errors';
import type { DeleteObjectOptions, ObjectInfo } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { header, parseEtagList, unquoteEtag } from '../headers';
import { getBucketVersioning, type VersioningState } from './bucketState';
import { deleteIdempotent, toOpError, versionOpts } from './objectCommon';
import { bypassGovernance } from './objectLock';

export const DeleteObject: Op<'DeleteObject'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const opts: DeleteObjectOptions = versionOpts(params.versionId);
  const versioning = await getBucketVersioning(ctx, bucket);
  if (versioning === 'Enabled') opts.versioned = true;
  if (versioning === 'Suspended') opts.suspended = true;
  // Object Lock: a locked version is refused by the object layer (AccessDenied), unless this bypasses
  // its GOVERNANCE retention.
  if (await bypassGovernance(ctx, key)) opts.bypassGovernance = true;
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
  return { status: 204, headers: deleteHeaders(versioning, params.versionId, info) };
};

/**
 * What a delete answers with (DeleteObject's headers; DeleteObjects' entries say the same). By id:
 * the id, and whether what was removed was a delete marker. Without: in a versioned bucket (Enabled
 * or Suspended) the marker written, by id (`null` when Suspended); in an unversioned one, nothing.
 */
export function deleteHeaders(
  versioning: VersioningState,
  versionId: string | undefined,
  info: ObjectInfo,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (versionId !== undefined) {
    headers['x-amz-version-id'] = versionId;
    if (info.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  } else if (versioning) {
    headers['x-amz-version-id'] = info.versionId;
    headers['x-amz-delete-marker'] = 'true';
  }
  return headers;
}
