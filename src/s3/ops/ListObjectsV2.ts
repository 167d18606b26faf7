/**
 * ListObjectsV2 (`GET /{bucket}?list-type=2`): one page of the bucket's keys in UTF-8 byte order,
 * keys holding the delimiter after the prefix rolled up into CommonPrefixes.
 */
import type { ListObjectsOptions } from '../../object/types';
import type { Op } from '../context';
import { listBucketResultV2 } from '../xml';
import { decodeContinuationToken, encodeContinuationToken, listEntry, pageSize } from './listCommon';

export const ListObjectsV2: Op<'ListObjectsV2'> = async (ctx) => {
  const { bucket, params: p } = ctx.route;
  // AWS: the token, when given, decides where the page starts; StartAfter is then only echoed.
  const after =
    p.continuationToken !== undefined ? decodeContinuationToken(p.continuationToken) : p.startAfter;
  const maxKeys = pageSize(p.maxKeys);
  const opts: ListObjectsOptions = { maxKeys };
  if (p.prefix !== undefined) opts.prefix = p.prefix;
  if (p.delimiter !== undefined) opts.delimiter = p.delimiter;
  if (after !== undefined) opts.after = after;
  const page = await ctx.objects.listObjects(bucket, opts);
  const body = listBucketResultV2({
    bucket,
    prefix: p.prefix,
    delimiter: p.delimiter,
    encodingType: p.encodingType,
    maxKeys,
    isTruncated: page.isTruncated,
    contents: page.objects.map((o) => listEntry(o, p.fetchOwner)),
    commonPrefixes: page.prefixes,
    continuationToken: p.continuationToken,
    nextContinuationToken:
      page.isTruncated && page.nextAfter !== undefined ? encodeContinuationToken(page.nextAfter) : undefined,
    startAfter: p.startAfter,
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
