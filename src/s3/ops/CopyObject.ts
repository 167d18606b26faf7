/**
 * CopyObject (`PUT /{bucket}/{key}` with `x-amz-copy-source`): the source streams from the object
 * layer into a new write of the destination, never held whole. Metadata and tags are the source's
 * (`COPY`) or the request's (`REPLACE`); `x-amz-copy-source-if-*` are checked against the source.
 * Copying an object onto itself must change something (AWS's InvalidRequest otherwise); with only
 * new metadata it is an in-place metadata update, without rewriting the data.
 */
import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm, GetObjectOptions, ObjectInfo, PutObjectOptions } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import {
  checksumAlgorithm,
  directive,
  evaluateCopySourceConditions,
  type Headers,
  header,
  parseCopySource,
} from '../headers';
import { copyObjectResult } from '../xml';
import { checkAclHeaders } from './acl';
import {
  getBucketVersioning,
  type VersioningState,
  versionHeader,
  writtenVersionHeader,
} from './bucketState';
import {
  checkKey,
  checksumTypeOf,
  checkWriteConditions,
  DEFAULT_CHECKSUM,
  isMultipart,
  MAX_PUT_SIZE,
  metadataFromHeaders,
  storageClass,
  storedChecksums,
  tagsFromHeader,
  toOpError,
  versionOpts,
} from './objectCommon';
import { lockOptionsForWrite, parseLockHeaders } from './objectLock';

const SELF_COPY =
  "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.";

type Metadata = ReturnType<typeof metadataFromHeaders>;

export const CopyObject: Op<'CopyObject'> = async (ctx) => {
  const { bucket, key } = ctx.route;
  const h = ctx.headers;
  checkKey(key);
  checkAclHeaders(h, 'object', { ignoreCanned: true });
  const src = parseCopySource(header(h, 'x-amz-copy-source') ?? '');
  const replaceMeta = directive(h, 'x-amz-metadata-directive') === 'REPLACE';
  const replaceTags = directive(h, 'x-amz-tagging-directive') === 'REPLACE';
  const sc = storageClass(h);
  const algorithm = requestedAlgorithm(h);
  // Everything the request itself can be refused for, before any I/O.
  const requested = replaceMeta ? metadataFromHeaders(h) : undefined;
  const requestedTags = replaceTags ? tagsFromHeader(h) : undefined;
  // Object Lock: the copy gets the request's lock (or the bucket's default), never the source's.
  const lock = parseLockHeaders(h);
  const srcOpts: GetObjectOptions = versionOpts(src.versionId, 'x-amz-copy-source');
  const versioning = await getBucketVersioning(ctx, bucket);
  const srcVersioning = src.bucket === bucket ? versioning : await getBucketVersioning(ctx, src.bucket);
  const states = { versioning, srcVersioning };

  if (src.bucket === bucket && src.key === key) {
    const info = await ctx.objects.getObjectInfo(bucket, key, srcOpts).catch((e) => {
      throw copySourceError(e);
    });
    checkSource(h, info);
    const newClass = sc !== undefined && sc !== info.storageClass;
    const newChecksum = algorithm !== undefined && storedChecksums(info)[algorithm] === undefined;
    if (!replaceMeta && !newClass && !newChecksum)
      throw new S3Error('InvalidRequest', { message: SELF_COPY });
    // In place only where the copy replaces what it copies: a versioned bucket makes a new version.
    if (!newClass && !newChecksum && info.isLatest && versioning === undefined) {
      const meta = requested ?? metadataOf(info);
      const condition = await checkWriteConditions(ctx, bucket, key);
      const updated = await ctx.objects
        .updateObjectMetadata(
          bucket,
          key,
          {
            userMetadata: meta.userMetadata ?? {},
            contentType: meta.contentType,
            contentEncoding: meta.contentEncoding,
            contentDisposition: meta.contentDisposition,
            contentLanguage: meta.contentLanguage,
            cacheControl: meta.cacheControl,
            expires: meta.expires,
            ...(requestedTags !== undefined ? { tags: requestedTags } : {}),
          },
          { versionId: info.versionId, ...(condition ? { precondition: condition } : {}) },
        )
        .catch((e) => {
          throw toOpError(e);
        });
      return result(updated, info, states);
    }
  }

  const lockOpts = await lockOptionsForWrite(ctx, bucket, lock);
  const precondition = await checkWriteConditions(ctx, bucket, key);
  const r = await ctx.objects.getObject(src.bucket, src.key, srcOpts).catch((e) => {
    throw copySourceError(e);
  });
  let info: ObjectInfo;
  try {
    const source = r.info;
    checkSource(h, source);
    if (source.size > MAX_PUT_SIZE) {
      throw new S3Error('InvalidRequest', {
        message: `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_SIZE}`,
      });
    }
    const sourceSums = storedChecksums(source);
    const alg: ChecksumAlgorithm =
      algorithm ?? (Object.keys(sourceSums)[0] as ChecksumAlgorithm | undefined) ?? DEFAULT_CHECKSUM;
    const sourceValue = sourceSums[alg];
    const opts: PutObjectOptions = {
      size: source.size,
      ...(requested ?? metadataOf(source)),
      tags: requestedTags ?? source.tags,
      storageClass: sc ?? source.storageClass,
      ...lockOpts,
      checksumAlgorithms: [alg],
      // The source's own whole-object checksum, checked on the copy: end to end, nothing rotted.
      ...(sourceValue !== undefined && !isMultipart(source) && checksumTypeOf(sourceValue) === 'FULL_OBJECT'
        ? { expectedChecksums: { [alg]: sourceValue } }
        : {}),
    };
    opts.versioned = versioning === 'Enabled';
    if (precondition) opts.precondition = precondition;
    info = await ctx.objects.putObject(bucket, key, r.stream as Readable, opts);
  } catch (e) {
    (r.stream as Readable).destroy?.();
    throw toOpError(e, ctx.signal);
  }
  return result(info, r.info, states);
};

/**
 * A source that cannot be read, as the S3 error: AWS refuses a copy naming a delete marker by
 * version id as InvalidRequest (400), where a GET of it would be 405.
 */
export function copySourceError(e: unknown): S3Error {
  const err = toOpError(e);
  if (err.code !== 'MethodNotAllowed') return err;
  return new S3Error('InvalidRequest', {
    message: 'The source of a copy request may not specifically refer to a delete marker by version id.',
    cause: e,
  });
}

/** `x-amz-checksum-algorithm`: the checksum the copy gets (the source's, or CRC64NVME, otherwise). */
function requestedAlgorithm(h: Headers): ChecksumAlgorithm | undefined {
  const v = header(h, 'x-amz-checksum-algorithm');
  if (v === undefined) return undefined;
  const a = checksumAlgorithm(v);
  if (!a) {
    throw new S3Error('InvalidRequest', {
      message:
        'Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]',
    });
  }
  return a;
}

const SOURCE_CONDITIONS = [
  ['x-amz-copy-source-if-match', 'x-amz-copy-source-If-Match'],
  ['x-amz-copy-source-if-none-match', 'x-amz-copy-source-If-None-Match'],
  ['x-amz-copy-source-if-unmodified-since', 'x-amz-copy-source-If-Unmodified-Since'],
  ['x-amz-copy-source-if-modified-since', 'x-amz-copy-source-If-Modified-Since'],
] as const;

/** `x-amz-copy-source-if-*` against the source: 412 naming the condition that failed. */
function checkSource(h: Headers, source: ObjectInfo): void {
  const current = { etag: source.etag, lastModified: source.modTime };
  if (evaluateCopySourceConditions(h, current) === 'ok') return;
  let condition: string | undefined;
  for (const [name, display] of SOURCE_CONDITIONS) {
    const v = header(h, name);
    if (v !== undefined && evaluateCopySourceConditions({ [name]: v }, current) !== 'ok') {
      condition = display;
      break;
    }
  }
  throw new S3Error('PreconditionFailed', { fields: { Condition: condition } });
}

function metadataOf(info: ObjectInfo): Metadata {
  const m: Metadata = { userMetadata: { ...info.userMetadata } };
  for (const f of [
    'contentType',
    'contentEncoding',
    'contentDisposition',
    'contentLanguage',
    'cacheControl',
    'expires',
  ] as const) {
    const v = info[f];
    if (v !== undefined) m[f] = v;
  }
  return m;
}

function result(
  info: ObjectInfo,
  source: ObjectInfo,
  states: { versioning: VersioningState; srcVersioning: VersioningState },
) {
  const sums = storedChecksums(info);
  const first = Object.values(sums)[0];
  const headers: Record<string, string> = {
    'Content-Type': 'application/xml',
    // AWS: the new copy's id only when versioning made one (not the Suspended bucket's `null`).
    ...writtenVersionHeader(info.versionId),
  };
  const src = versionHeader(states.srcVersioning, source.versionId)['x-amz-version-id'];
  if (src !== undefined) headers['x-amz-copy-source-version-id'] = src;
  return {
    status: 200,
    headers,
    body: copyObjectResult({
      etag: info.etag,
      lastModified: info.modTime,
      checksums: sums,
      ...(first !== undefined ? { checksumType: checksumTypeOf(first) } : {}),
    }),
  };
}
