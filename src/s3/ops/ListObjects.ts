/**
 * ListObjects, version 1 (`GET /{bucket}`): one page of the bucket's keys after `marker`, in UTF-8
 * byte order, keys holding the delimiter after the prefix rolled up into CommonPrefixes. Every
 * entry shows its owner, as AWS's v1 does.
 */
import type { ListObjectsOptions } from '../../object/types';
import type { Op } from '../context';
import { listBucketResultV1 } from '../xml';
import { listEntry, pageSize } from './listCommon';

export const ListObjects: Op<'ListObjects'> = async (ctx) => {
  const { bucket, params: p } = ctx.route;
  const maxKeys = pageSize(p.maxKeys);
  const opts: ListObjectsOptions = { maxKeys };
  if (p.prefix !== undefined) opts.prefix = p.prefix;
  if (p.delimiter !== undefined) opts.delimiter = p.delimiter;
  if (p.marker !== undefined) opts.after = p.marker;
  const page = await ctx.objects.listObjects(bucket, opts);
  // AWS: NextMarker only with a delimiter (the builder leaves it out otherwise); without one the
  // client resumes after the last key it got.
  const body = listBucketResultV1({
    bucket,
    prefix: p.prefix,
    delimiter: p.delimiter,
    encodingType: p.encodingType,
    maxKeys,
    isTruncated: page.isTruncated,
    contents: page.objects.map((o) => listEntry(o, true)),
    commonPrefixes: page.prefixes,
    marker: p.marker,
    nextMarker: page.nextAfter,
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
