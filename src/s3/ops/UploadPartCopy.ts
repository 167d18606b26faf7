/**
 * UploadPartCopy (`PUT /{bucket}/{key}?partNumber=&uploadId=` with `x-amz-copy-source`): a part
 * made of an existing object's bytes, or of `x-amz-copy-source-range` of them, streamed from the
 * source into the part (never held in memory whole).
 */
import type { Range } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { evaluateCopySourceConditions, header, parseCopySource, parseCopySourceRange } from '../headers';
import { copyPartResult } from '../xml';
import { getBucketVersioning, versionHeader } from './bucketState';
import { copySourceError } from './CopyObject';
import { MAX_PART_SIZE } from './multipartCommon';
import { versionOpts } from './objectCommon';

export const UploadPartCopy: Op<'UploadPartCopy'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const h = ctx.headers;
  const src = parseCopySource(header(h, 'x-amz-copy-source') ?? '');
  const info = await ctx.objects
    .getObjectInfo(src.bucket, src.key, versionOpts(src.versionId, 'x-amz-copy-source'))
    .catch((e) => {
      throw copySourceError(e);
    });
  if (evaluateCopySourceConditions(h, { etag: info.etag, lastModified: info.modTime }) !== 'ok') {
    throw new S3Error('PreconditionFailed', { fields: { Condition: 'x-amz-copy-source-If-*' } });
  }
  const rangeHeader = header(h, 'x-amz-copy-source-range');
  const range: Range | undefined =
    rangeHeader === undefined ? undefined : parseCopySourceRange(rangeHeader, info.size);
  const size = range ? range.end - range.start + 1 : info.size;
  if (size > MAX_PART_SIZE) {
    throw new S3Error('EntityTooLarge', {
      fields: { ProposedSize: size, MaxSizeAllowed: MAX_PART_SIZE },
    });
  }
  // The version read is the one whose conditions were checked, even if the key is overwritten since.
  const got = await ctx.objects.getObject(src.bucket, src.key, {
    versionId: info.versionId,
    ...(range ? { range } : {}),
  });
  let part: Awaited<ReturnType<typeof ctx.objects.putObjectPart>>;
  try {
    part = await ctx.objects.putObjectPart(bucket, key, params.uploadId, params.partNumber, got.stream, {
      size,
    });
  } finally {
    // A failed part leaves the source stream half read: let it go.
    const s = got.stream as NodeJS.ReadableStream & { destroy?: () => void };
    s.destroy?.();
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/xml' };
  const version = versionHeader(await getBucketVersioning(ctx, src.bucket), info.versionId)[
    'x-amz-version-id'
  ];
  if (version !== undefined) headers['x-amz-copy-source-version-id'] = version;
  return {
    status: 200,
    headers,
    // With the upload's checksum, when it names one (the object layer computes it for every part).
    body: copyPartResult({ etag: part.etag, lastModified: part.modTime, checksums: part.checksums ?? {} }),
  };
};
