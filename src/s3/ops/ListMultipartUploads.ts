/**
 * ListMultipartUploads (`GET /{bucket}?uploads`): the uploads in progress, by key and then by
 * initiation time, after `key-marker` (and, for that key, after `upload-id-marker`); keys holding
 * the delimiter after the prefix rolled up into CommonPrefixes, each counted once against
 * `max-uploads` as AWS counts it.
 */
import type { MultipartUploadInfo } from '../../object/types';
import type { Op } from '../context';
import { ROOT_OWNER } from '../owner';
import { listMultipartUploadsResult } from '../xml';
import { compareUtf8, MAX_PAGE, pageSize } from './listCommon';

type Entry = { upload: MultipartUploadInfo } | { prefix: string };

export const ListMultipartUploads: Op<'ListMultipartUploads'> = async (ctx) => {
  const { bucket, params: p } = ctx.route;
  const maxUploads = pageSize(p.maxUploads);
  const prefix = p.prefix ?? '';
  const delimiter = p.delimiter;
  // AWS: without a key-marker the upload-id-marker is ignored.
  const uploadIdMarker = p.keyMarker !== undefined ? p.uploadIdMarker : undefined;

  const entries: Entry[] = [];
  let more = false;
  let afterKey = p.keyMarker;
  let afterUploadId = uploadIdMarker;
  let lastPrefix: string | undefined;
  if (maxUploads === 0) {
    await ctx.objects.getBucketInfo(bucket);
  } else {
    // One entry more than a page tells whether another page follows. With a delimiter, the
    // uploads under one common prefix can span several of the engine's pages.
    for (;;) {
      const opts: Parameters<typeof ctx.objects.listMultipartUploads>[1] = { prefix, maxUploads: MAX_PAGE };
      if (afterKey !== undefined) opts.afterKey = afterKey;
      if (afterUploadId !== undefined) opts.afterUploadId = afterUploadId;
      const page = await ctx.objects.listMultipartUploads(bucket, opts);
      for (const u of page.uploads) {
        if (entries.length > maxUploads) break;
        const cut = delimiter === undefined ? -1 : u.key.indexOf(delimiter, prefix.length);
        if (cut < 0) {
          entries.push({ upload: u });
          continue;
        }
        const rolled = u.key.slice(0, cut + delimiter!.length);
        // A prefix at or before the key marker was listed on an earlier page.
        if (rolled === lastPrefix || (p.keyMarker !== undefined && compareUtf8(rolled, p.keyMarker) <= 0))
          continue;
        lastPrefix = rolled;
        entries.push({ prefix: rolled });
      }
      const last = page.uploads[page.uploads.length - 1];
      if (entries.length > maxUploads || !page.isTruncated || !last) break;
      afterKey = last.key;
      afterUploadId = last.uploadId;
    }
    more = entries.length > maxUploads;
    entries.length = Math.min(entries.length, maxUploads);
  }

  const uploads: MultipartUploadInfo[] = [];
  const commonPrefixes: string[] = [];
  for (const e of entries) {
    if ('upload' in e) uploads.push(e.upload);
    else commonPrefixes.push(e.prefix);
  }
  const last = entries[entries.length - 1];
  const body = listMultipartUploadsResult({
    bucket,
    keyMarker: p.keyMarker,
    uploadIdMarker,
    nextKeyMarker: last ? ('upload' in last ? last.upload.key : last.prefix) : undefined,
    nextUploadIdMarker: last && 'upload' in last ? last.upload.uploadId : undefined,
    delimiter,
    prefix: p.prefix,
    encodingType: p.encodingType,
    maxUploads,
    isTruncated: more,
    uploads: uploads.map((u) => ({
      key: u.key,
      uploadId: u.uploadId,
      initiator: ROOT_OWNER,
      owner: ROOT_OWNER,
      storageClass: u.storageClass,
      initiated: u.initiated,
    })),
    commonPrefixes,
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
