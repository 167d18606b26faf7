/**
 * GetObjectAttributes (`GET /{bucket}/{key}?attributes`): the attributes named in
 * `x-amz-object-attributes` (ETag, Checksum, ObjectParts, StorageClass, ObjectSize) without the
 * body. Parts are listed for multipart objects only, paged by `x-amz-max-parts` and
 * `x-amz-part-number-marker`.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { formatHttpDate, header } from '../headers';
import { renderXml, type XmlObject } from '../xml';
import { getBucketVersioning, versionHeader } from './bucketState';
import { checksumTypeOf, isMultipart, storedChecksums, toOpError, versionOpts } from './objectCommon';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];
/** AWS: at most 1000 parts per response. */
const MAX_PARTS = 1000;

function nonNegative(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v) || Number(v) > 2147483647) {
    throw new S3Error('InvalidArgument', {
      message: `Provided ${name} not an integer or within integer range`,
      fields: { ArgumentName: name, ArgumentValue: value },
    });
  }
  return Number(v);
}

export const GetObjectAttributes: Op<'GetObjectAttributes'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const raw = header(ctx.headers, 'x-amz-object-attributes');
  const wanted = new Set<Attribute>();
  for (const name of (raw ?? '').split(',').map((s) => s.trim())) {
    if (name === '') continue;
    if (!(ATTRIBUTES as readonly string[]).includes(name)) {
      throw new S3Error('InvalidArgument', {
        message: 'Invalid attribute name specified.',
        fields: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: name },
      });
    }
    wanted.add(name as Attribute);
  }
  if (wanted.size === 0) {
    throw new S3Error('InvalidArgument', {
      message:
        'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
      fields: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: raw ?? '' },
    });
  }
  const maxParts = Math.min(
    nonNegative(header(ctx.headers, 'x-amz-max-parts'), 'max-parts', MAX_PARTS),
    MAX_PARTS,
  );
  const marker = nonNegative(header(ctx.headers, 'x-amz-part-number-marker'), 'part-number-marker', 0);

  const info = await ctx.objects.getObjectInfo(bucket, key, versionOpts(params.versionId)).catch((e) => {
    throw toOpError(e);
  });

  const doc: XmlObject = {};
  // AWS writes this ETag without quotes, unlike everywhere else.
  if (wanted.has('ETag')) doc.ETag = info.etag;
  if (wanted.has('Checksum')) {
    const sums = storedChecksums(info);
    const first = Object.values(sums)[0];
    if (first !== undefined) {
      doc.Checksum = {
        ChecksumCRC32: sums.CRC32,
        ChecksumCRC32C: sums.CRC32C,
        ChecksumCRC64NVME: sums.CRC64NVME,
        ChecksumSHA1: sums.SHA1,
        ChecksumSHA256: sums.SHA256,
        ChecksumType: checksumTypeOf(first),
      };
    }
  }
  if (wanted.has('ObjectParts') && isMultipart(info)) {
    const after = info.parts.filter((p) => p.number > marker);
    const page = after.slice(0, maxParts);
    const truncated = after.length > page.length;
    doc.ObjectParts = {
      PartsCount: info.parts.length,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length > 0 ? page[page.length - 1]!.number : marker,
      MaxParts: maxParts,
      IsTruncated: truncated,
      // AWS: each part with the checksum it was uploaded with (the upload's algorithm), when kept.
      Part: page.map((p) => ({
        ChecksumCRC32: p.checksums?.CRC32,
        ChecksumCRC32C: p.checksums?.CRC32C,
        ChecksumCRC64NVME: p.checksums?.CRC64NVME,
        ChecksumSHA1: p.checksums?.SHA1,
        ChecksumSHA256: p.checksums?.SHA256,
        PartNumber: p.number,
        Size: p.size,
      })),
    };
  }
  if (wanted.has('StorageClass')) doc.StorageClass = info.storageClass;
  if (wanted.has('ObjectSize')) doc.ObjectSize = info.size;

  const headers: Record<string, string> = {
    'Content-Type': 'application/xml',
    'Last-Modified': formatHttpDate(info.modTime),
  };
  Object.assign(headers, versionHeader(await getBucketVersioning(ctx, bucket), info.versionId));
  return { status: 200, headers, body: renderXml('GetObjectAttributesResponse', doc) };
};
