/**
 * GetObject (`GET /{bucket}/{key}`), and the read path HeadObject shares: conditional requests (304 /
 * 412), one byte range (`a-b`, `a-`, `-n`; 416 InvalidRange), `?partNumber`, `response-*` header
 * overrides, checksums with `x-amz-checksum-mode: ENABLED`. The body streams from the object layer.
 */
import type { Readable } from 'node:stream';
import { isObjectError } from '../../object/errors';
import type { GetObjectOptions, GetObjectResult, ObjectInfo, Range } from '../../object/types';
import type { Op, ReqCtx, S3Response } from '../context';
import { isS3Error, S3Error } from '../errors';
import { type ByteRangeSpec, contentRange, header, parseRange, resolveRange } from '../headers';
import type { ResponseHeaderOverrides, RouteOf } from '../router';
import { getBucketVersioning } from './bucketState';
import {
  checksumResponseHeaders,
  conditionResponse,
  headerValue,
  isMultipart,
  objectHeaders,
  toOpError,
  versionOpts,
} from './objectCommon';
import { lockResponseHeaders } from './objectLock';

type ReadRoute = RouteOf<'GetObject'> | RouteOf<'HeadObject'>;

export const GetObject: Op<'GetObject'> = (ctx) => readObject(ctx, false);

/**
 * GetObject or HeadObject. AWS names the method refused on a delete marker read by version id
 * (405, `<Method>`), and answers the null version by name once the bucket's versioning is set.
 */
export async function readObject(ctx: ReqCtx<ReadRoute>, head: boolean): Promise<S3Response> {
  const versioning = await getBucketVersioning(ctx, ctx.route.bucket);
  try {
    const r = await readVersion(ctx, head);
    if (versioning && r.status !== undefined && r.status < 300 && r.headers) {
      const version = r.headers['x-amz-version-id'];
      if (version === undefined) r.headers['x-amz-version-id'] = 'null';
    }
    return r;
  } catch (e) {
    if (isS3Error(e, 'MethodNotAllowed') && e.fields.Method === undefined) {
      const { ResourceType, ...rest } = e.fields;
      for (const k of Object.keys(e.fields)) delete e.fields[k];
      Object.assign(e.fields, rest, { Method: ctx.method }, ResourceType ? { ResourceType } : {});
    }
    throw e;
  }
}

/** How many times a read retries when the object changes between its metadata read and its data read. */
const READ_ATTEMPTS = 3;

/** GetObject, or with `head` HeadObject: the same headers and status, without the bytes. */
async function readVersion(ctx: ReqCtx<ReadRoute>, head: boolean): Promise<S3Response> {
  const { bucket, key, params } = ctx.route;
  const overrides = params.responseHeaders;
  if (Object.keys(overrides).length > 0 && ctx.identity.anonymous) {
    throw new S3Error('InvalidRequest', {
      message: 'Request specific response headers cannot be used for anonymous GET requests.',
    });
  }
  const rangeValue = header(ctx.headers, 'range');
  const spec = parseRange(rangeValue);
  const partNumber = params.partNumber;
  if (partNumber !== undefined && spec !== undefined) {
    throw new S3Error('InvalidRequest', {
      message: 'Cannot specify both Range header and partNumber query parameter',
    });
  }
  const opts: GetObjectOptions = versionOpts(params.versionId);

  // A GET that needs neither the size nor the parts first (no suffix range, no part number): one
  // read of the metadata, conditions checked on what it returns before any byte is read.
  if (!head && partNumber === undefined && (spec === undefined || 'first' in spec)) {
    const range =
      spec && 'first' in spec ? { start: spec.first, end: spec.last ?? Number.MAX_SAFE_INTEGER } : null;
    let r: Awaited<ReturnType<ReqCtx['objects']['getObject']>>;
    try {
      r = await ctx.objects.getObject(bucket, key, range ? { ...opts, range } : opts);
    } catch (e) {
      if (!isObjectError(e, 'InvalidRange')) throw toOpError(e);
      // AWS: the conditions are answered before the range is.
      const info = await ctx.objects.getObjectInfo(bucket, key, opts).catch((x) => {
        throw toOpError(x);
      });
      const early = conditionResponse(ctx, info);
      if (early) return early;
      throw invalidRange(rangeValue, info.size);
    }
    try {
      const early = conditionResponse(ctx, r.info);
      if (early) {
        drop(r);
        return early;
      }
    } catch (e) {
      drop(r);
      throw e;
    }
    return respond(ctx, r.info, r.range, r.data ?? r.stream, overrides, partNumber);
  }

  for (let attempt = 1; ; attempt++) {
    const info = await ctx.objects.getObjectInfo(bucket, key, opts).catch((e) => {
      throw toOpError(e);
    });
    const early = conditionResponse(ctx, info);
    if (early) return early;
    const range = rangeOf(info, spec, partNumber, rangeValue);
    if (head) return respond(ctx, info, range, undefined, overrides, partNumber);
    const r = await ctx.objects.getObject(bucket, key, range ? { ...opts, range } : opts).catch((e) => {
      throw toOpError(e);
    });
    // The range was computed from `info`: serve it only from that same version of the object.
    if (r.info.etag === info.etag && r.info.modTime.getTime() === info.modTime.getTime()) {
      return respond(ctx, r.info, r.range, r.data ?? r.stream, overrides, partNumber);
    }
    drop(r);
    if (attempt >= READ_ATTEMPTS) {
      throw new S3Error('SlowDown', { message: 'The object changed while it was being read; please retry' });
    }
  }
}

/** The bytes to serve: a part's, the requested range's, or null for the whole object. */
function rangeOf(
  info: ObjectInfo,
  spec: ByteRangeSpec | undefined,
  partNumber: number | undefined,
  rangeValue: string | undefined,
): Range | null {
  if (partNumber !== undefined) {
    // As MinIO: part N is the N-th part of the object (a single-part object has one).
    const sizes = info.parts.length > 0 ? info.parts.map((p) => p.size) : [info.size];
    if (partNumber > sizes.length) {
      // AWS answers InvalidPartNumber (416), a code outside S3's published error list.
      throw new S3Error('InvalidRange', {
        message: 'The requested partnumber is not satisfiable',
        fields: { PartNumberRequested: partNumber, ActualPartCount: sizes.length },
        headers: { 'Content-Range': `bytes */${info.size}` },
      });
    }
    let start = 0;
    for (let i = 0; i < partNumber - 1; i++) start += sizes[i]!;
    const size = sizes[partNumber - 1]!;
    return size === 0 ? null : { start, end: start + size - 1 };
  }
  if (spec === undefined) return null;
  const r = resolveRange(spec, info.size);
  if (!r) throw invalidRange(rangeValue, info.size);
  return r;
}

function invalidRange(rangeValue: string | undefined, size: number): S3Error {
  return new S3Error('InvalidRange', {
    fields: { RangeRequested: rangeValue, ActualObjectSize: size },
    headers: { 'Content-Range': contentRange(null, size) },
  });
}

const OVERRIDES: Record<keyof ResponseHeaderOverrides, string> = {
  cacheControl: 'Cache-Control',
  contentDisposition: 'Content-Disposition',
  contentEncoding: 'Content-Encoding',
  contentLanguage: 'Content-Language',
  contentType: 'Content-Type',
  expires: 'Expires',
};

/**
 * The version's Object Lock headers the caller may see. AWS: the retention's mode and date only with
 * s3:GetObjectRetention, the legal hold only with s3:GetObjectLegalHold; the root user sees both. A
 * version without lock fields costs no check.
 */
async function visibleLockHeaders(ctx: ReqCtx<ReadRoute>, info: ObjectInfo): Promise<Record<string, string>> {
  const all = lockResponseHeaders(info);
  if (Object.keys(all).length === 0 || ctx.identity.isRoot) return all;
  const key = ctx.route.key;
  const [retention, hold] = await Promise.all([
    info.lockRetention ? ctx.allowed('s3:GetObjectRetention', { key }) : false,
    info.legalHold !== undefined ? ctx.allowed('s3:GetObjectLegalHold', { key }) : false,
  ]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(all)) {
    if (name === 'x-amz-object-lock-legal-hold' ? hold : retention) out[name] = value;
  }
  return out;
}

async function respond(
  ctx: ReqCtx<ReadRoute>,
  info: ObjectInfo,
  range: Range | null,
  stream: NodeJS.ReadableStream | Buffer | undefined,
  overrides: ResponseHeaderOverrides,
  partNumber: number | undefined,
): Promise<S3Response> {
  let lock: Record<string, string>;
  try {
    lock = await visibleLockHeaders(ctx, info);
  } catch (e) {
    if (stream && !Buffer.isBuffer(stream)) destroy(stream);
    throw e;
  }
  const headers = { ...objectHeaders(info), ...lock };
  for (const [field, name] of Object.entries(OVERRIDES)) {
    const v = overrides[field as keyof ResponseHeaderOverrides];
    if (v !== undefined) headers[name] = headerValue(v);
  }
  let status = 200;
  if (range) {
    status = 206;
    headers['Content-Range'] = contentRange(range, info.size);
    headers['Content-Length'] = range.end - range.start + 1;
  } else {
    headers['Content-Length'] = info.size;
  }
  if (partNumber !== undefined && isMultipart(info)) headers['x-amz-mp-parts-count'] = info.parts.length;
  // A stored checksum covers the whole object: it is not sent with a range or a part.
  const wantChecksum = header(ctx.headers, 'x-amz-checksum-mode')?.trim().toUpperCase() === 'ENABLED';
  if (wantChecksum && !range && partNumber === undefined)
    Object.assign(headers, checksumResponseHeaders(info));
  const r: S3Response = { status, headers };
  if (stream) r.body = stream;
  return r;
}

/** A result not sent: its stream (if it has one open) is closed. */
function drop(r: GetObjectResult): void {
  if (!r.data) destroy(r.stream);
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as Readable).destroy?.();
}
