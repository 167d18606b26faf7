/**
 * ListParts (`GET /{bucket}/{key}?uploadId=`): the parts uploaded so far, by part number, after
 * `part-number-marker`, at most `max-parts` (1000).
 */
import type { Op } from '../context';
import { ROOT_OWNER } from '../owner';
import { listPartsResult } from '../xml';
import { pageSize } from './listCommon';

export const ListParts: Op<'ListParts'> = async (ctx) => {
  const { bucket, key, params: p } = ctx.route;
  const maxParts = pageSize(p.maxParts);
  const marker = p.partNumberMarker ?? 0;
  // `max-parts=0` still names the upload (NoSuchUpload when there is none) but lists nothing: an empty,
  // untruncated page, as `max-keys=0` is for ListObjects, so a paging client cannot spin on it.
  const res = await ctx.objects.listObjectParts(bucket, key, p.uploadId, {
    after: marker,
    maxParts: Math.max(maxParts, 1),
  });
  const parts = maxParts === 0 ? [] : res.parts;
  const isTruncated = maxParts === 0 ? false : res.isTruncated;
  const last = parts[parts.length - 1];
  const body = listPartsResult({
    bucket,
    key,
    uploadId: p.uploadId,
    initiator: ROOT_OWNER,
    owner: ROOT_OWNER,
    storageClass: res.upload.storageClass,
    partNumberMarker: marker,
    // AWS gives the last part listed (the marker for the next page) on every page that has parts.
    nextPartNumberMarker: last ? last.number : undefined,
    maxParts,
    isTruncated,
    checksumAlgorithm: res.upload.checksumAlgorithm,
    checksumType: res.upload.checksumType,
    parts: parts.map((x) => ({
      partNumber: x.number,
      lastModified: x.modTime,
      etag: x.etag,
      size: x.size,
      ...(x.checksums ? { checksums: x.checksums } : {}),
    })),
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
