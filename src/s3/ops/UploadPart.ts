/**
 * UploadPart (`PUT /{bucket}/{key}?partNumber=&uploadId=`): streams one part in, checked as a
 * PutObject body is (Content-MD5, `x-amz-checksum-*` as a header or an aws-chunked trailer) before
 * it is stored; answers the part's ETag. A part replaces an earlier one of the same number.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { CHECKSUM_ALGORITHMS, quoteEtag } from '../headers';
import { MAX_PART_SIZE } from './multipartCommon';
import { checksumOptions, expectedMd5, requestChecksum, takeBody, toOpError } from './objectCommon';

export const UploadPart: Op<'UploadPart'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const h = ctx.headers;
  // AWS: a part's size is known up front (Content-Length, or the decoded length of aws-chunked).
  if (ctx.bodyLength < 0) throw new S3Error('MissingContentLength');
  if (ctx.bodyLength > MAX_PART_SIZE) {
    throw new S3Error('EntityTooLarge', {
      fields: { ProposedSize: ctx.bodyLength, MaxSizeAllowed: MAX_PART_SIZE },
    });
  }
  const declared = requestChecksum(h);
  // The checksum the client names, if any; the upload's own algorithm the object layer adds.
  const checks = declared ? checksumOptions(ctx, declared) : {};
  const md5 = expectedMd5(h);
  // Taken once every check without I/O has passed (taking it answers 100 Continue).
  const body = takeBody(ctx);
  let part: Awaited<ReturnType<typeof ctx.objects.putObjectPart>>;
  try {
    part = await ctx.objects.putObjectPart(bucket, key, params.uploadId, params.partNumber, body, {
      size: ctx.bodyLength,
      ...md5,
      ...checks,
    });
  } catch (e) {
    throw toOpError(e, ctx.signal);
  }
  const headers: Record<string, string> = { ETag: quoteEtag(part.etag) };
  for (const [alg, value] of Object.entries(part.checksums ?? {})) {
    const spec = CHECKSUM_ALGORITHMS[alg as keyof typeof CHECKSUM_ALGORITHMS];
    if (spec) headers[spec.header] = value;
  }
  return { status: 200, headers };
};
