/**
 * DeleteObjects (`POST /{bucket}?delete`): up to 1000 keys in one request. The body must carry
 * Content-MD5 or an `x-amz-checksum-*` (AWS refuses it otherwise) and match it; each key's outcome
 * is reported on its own (`<Deleted>` or `<Error>`), only the errors in quiet mode.
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
import { checkKey, deleteIdempotent, readBody, toOpError, verifyBody } from './objectCommon';

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
  await ctx.objects.getBucketInfo(bucket).catch((e) => {
    throw toOpError(e);
  });

  const results: ({ deleted: DeletedEntry } | { error: DeleteErrorEntry })[] = new Array(objects.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < objects.length; i = next++) {
      if (ctx.signal.aborted) return;
      results[i] = await deleteOne(ctx, bucket, objects[i]!);
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

async function deleteOne(
  ctx: ReqCtx,
  bucket: string,
  o: DeleteObjectInput,
): Promise<{ deleted: DeletedEntry } | { error: DeleteErrorEntry }> {
  const opts: DeleteObjectOptions = o.versionId !== undefined ? { versionId: o.versionId } : {};
  try {
    checkKey(o.key);
    if (o.etag !== undefined) {
      // A conditional delete of this key: only while its ETag is the one given.
      const current = await ctx.objects.getObjectInfo(bucket, o.key, opts);
      if (current.etag !== o.etag) throw new S3Error('PreconditionFailed');
    }
    const info = await deleteIdempotent(ctx.objects, bucket, o.key, opts);
    const d: DeletedEntry = { key: o.key };
    if (o.versionId !== undefined) d.versionId = o.versionId;
    if (info.deleteMarker && info.versionId !== 'null') {
      d.deleteMarker = true;
      d.deleteMarkerVersionId = info.versionId;
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
