/**
 * ListObjectVersions (`GET /{bucket}?versions`): one page of every version and delete marker of the
 * bucket's keys, key ascending (UTF-8 bytes) and newest first within a key, `<Version>` and
 * `<DeleteMarker>` interleaved in that order, keys holding the delimiter after the prefix rolled up
 * into CommonPrefixes. A page resumes at `key-marker` (keys after it) or, with `version-id-marker`,
 * inside that key after that version; a truncated page names where the next starts
 * (NextKeyMarker, NextVersionIdMarker). The object layer streams it (`listObjectVersionsInSet`).
 */
import type { ListObjectVersionsOptions } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { ROOT_OWNER } from '../owner';
import { listVersionsResult, type VersionEntry } from '../xml';
import { listEntry, pageSize } from './listCommon';
import { toOpError, versionOpts } from './objectCommon';

export const ListObjectVersions: Op<'ListObjectVersions'> = async (ctx) => {
  const { bucket, params: p } = ctx.route;
  if (p.versionIdMarker !== undefined) {
    // AWS: a version-id-marker resumes inside the key-marker's key; alone it means nothing.
    if (p.keyMarker === undefined) {
      throw new S3Error('InvalidArgument', {
        message: 'A version-id marker cannot be specified without a key marker.',
        fields: { ArgumentName: 'version-id-marker', ArgumentValue: p.versionIdMarker },
      });
    }
    versionOpts(p.versionIdMarker, 'version-id-marker');
  }
  const maxKeys = pageSize(p.maxKeys);
  const opts: ListObjectVersionsOptions = { maxKeys };
  if (p.prefix !== undefined) opts.prefix = p.prefix;
  if (p.delimiter !== undefined) opts.delimiter = p.delimiter;
  if (p.keyMarker !== undefined) opts.keyMarker = p.keyMarker;
  if (p.versionIdMarker !== undefined) opts.versionIdMarker = p.versionIdMarker;
  const page = await ctx.objects.listObjectVersions(bucket, opts).catch((e) => {
    throw toOpError(e);
  });
  const entries: VersionEntry[] = page.versions.map((o) =>
    o.deleteMarker
      ? {
          kind: 'deleteMarker',
          key: o.key,
          versionId: o.versionId,
          isLatest: o.isLatest,
          lastModified: o.modTime,
          owner: ROOT_OWNER,
        }
      : { kind: 'version', ...listEntry(o, true), versionId: o.versionId, isLatest: o.isLatest },
  );
  const body = listVersionsResult({
    bucket,
    prefix: p.prefix,
    delimiter: p.delimiter,
    encodingType: p.encodingType,
    maxKeys,
    isTruncated: page.isTruncated,
    commonPrefixes: page.prefixes,
    keyMarker: p.keyMarker,
    versionIdMarker: p.versionIdMarker,
    nextKeyMarker: page.nextKeyMarker,
    nextVersionIdMarker: page.nextVersionIdMarker,
    entries,
  });
  return { status: 200, headers: { 'Content-Type': 'application/xml' }, body };
};
