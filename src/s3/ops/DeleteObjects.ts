/**
 * DeleteObjects (`POST /{bucket}?delete`): up to 1000 keys in one request. The body must carry
 * Content-MD5 or an `x-amz-checksum-*` (AWS refuses it otherwise) and match it; each key's outcome
 * is reported on its own (`<Deleted>` or `<Error>`), only the errors in quiet mode.
 *
 * Authorization is per key, as AWS does it: each key needs s3:DeleteObject (s3:DeleteObjectVersion
 * with a version id); a refused key is an `<Error>` with AccessDenied and the others are deleted. On a
 * bucket that does not exist, a caller no key would be allowed for gets AccessDenied, not NoSuchBucket.
 */
import type { DeleteObjectOptions } from '../../object/types';
import type { Op, ReqCtx } from '../context';
import { S3Error } from '../errors';
import {
  type DeletedEntry,
  type DeleteErrorEntry,
  type DeleteObjectInput,
  deleteResult,
  parseDelete,
  XML_LIMITS,
} from '../xml';
import { getBucketVersioning, type VersioningState } from './bucketState';
import { deleteHeaders } from './DeleteObject';
import { checkKey, deleteIdempotent, readBody, toOpError, verifyBody, versionOpts } from './objectCommon';
import { bypassGovernance } from './objectLock';

/** Keys deleted at once; each delete takes its key's lock, so they do not contend with each other. */
const CONCURRENCY = 16;

export const DeleteObjects: Op<'DeleteObjects'> = async (ctx) => {
  const { bucket } = ctx.route;
  const body = await readBody(
    ctx,
    XML_LIMITS.Delete,
    () => new S3Error('MalformedXML', { cause: new Error(`a Delete body over ${XML_LIMITS.Delete} bytes`) }),
  );
  verifyBody(ctx, body, { required: true });
  const { quiet, objects } = parseDelete(body);
  const allowed = (o: DeleteObjectInput) =>
    ctx.allowed(o.versionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion', { key: o.key });
  await ctx.objects.getBucketInfo(bucket).catch(async (e) => {
    const err = toOpError(e);
    if (err.code === 'NoSuchBucket' && !ctx.identity.isRoot) {
      let any = false;
      for (const o of objects) {
        any = await allowed(o);
        if (any) break;
      }
      if (!any) throw new S3Error('AccessDenied', { cause: e });
    }
    throw err;
  });

  const versioning = await getBucketVersioning(ctx, bucket);
  const results: ({ deleted: DeletedEntry } | { error: DeleteErrorEntry })[] = new Array(objects.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < objects.length; i = next++) {
      if (ctx.signal.aborted) return;
      const o = objects[i]!;
      results[i] = (await allowed(o)) ? await deleteOne(ctx, bucket, o, versioning) : refused(o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, objects.length) }, worker));
  if (ctx.signal.aborted) throw new S3Error('RequestTimeout', { message: 'The client went away.' });

  const deleted: DeletedEntry[] = [];
  const errors: DeleteErrorEntry[] = [];
  for (const r of results) {
    if ('error' in r) errors.push(r.error);
    else if (!quiet) deleted.push(r.deleted);
  }
  return {
    status: 200,
    headers: { 'Content-Type': 'application/xml' },
    body: deleteResult({ deleted, errors }),
  };
};

/** A key the caller may not delete: AWS reports it among the errors and deletes the others. */
function refused(o: DeleteObjectInput): { error: DeleteErrorEntry } {
  const entry: DeleteErrorEntry = { key: o.key, code: 'AccessDenied', message: 'Access Denied' };
  if (o.versionId !== undefined) entry.versionId = o.versionId;
  return { error: entry };
}

async function deleteOne(
  ctx: ReqCtx,
  bucket: string,
  o: DeleteObjectInput,
  versioning: VersioningState,
): Promise<{ deleted: DeletedEntry } | { error: DeleteErrorEntry }> {
  try {
    const opts: DeleteObjectOptions = versionOpts(o.versionId);
    if (versioning === 'Enabled') opts.versioned = true;
    if (versioning === 'Suspended') opts.suspended = true;
    // Object Lock: the request's bypass header counts for every key, each key's permission on its own.
    if (await bypassGovernance(ctx, o.key)) opts.bypassGovernance = true;
    checkKey(o.key);
    if (o.etag !== undefined) {
      // A conditional delete of this key: only while its ETag is the one given.
      const current = await ctx.objects.getObjectInfo(bucket, o.key, opts);
      if (current.etag !== o.etag) throw new S3Error('PreconditionFailed');
    }
    const info = await deleteIdempotent(ctx.objects, bucket, o.key, opts);
    // As DeleteObject's headers: the marker removed (by id) or written (versioned, without id).
    const h = deleteHeaders(versioning, o.versionId, info);
    const d: DeletedEntry = { key: o.key };
    if (o.versionId !== undefined) d.versionId = o.versionId;
    if (h['x-amz-delete-marker'] === 'true') {
      d.deleteMarker = true;
      d.deleteMarkerVersionId = h['x-amz-version-id'];
    }
    return { deleted: d };
  } catch (e) {
    const err = toOpError(e);
    if (err.status >= 500) ctx.log.warn({ bucket, key: o.key, err: e }, 'DeleteObjects: a key failed');
    const entry: DeleteErrorEntry = { key: o.key, code: err.code, message: err.message };
    if (o.versionId !== undefined) entry.versionId = o.versionId;
    return { error: entry };
  }
}
