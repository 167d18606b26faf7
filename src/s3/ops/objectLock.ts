/**
 * S3 Object Lock on the request side: the lock headers of a write (PutObject, CopyObject,
 * CreateMultipartUpload, PostObject's fields) parsed and checked against the bucket, the bucket's
 * default retention for new versions, the bypass a delete or a retention change may ask for, and the
 * lock headers GET and HEAD answer with. The rules themselves (what a lock forbids) are the engine's
 * (`src/erasure/objectLock.ts`), enforced under the key's lock.
 */
import { defaultRetainUntil } from '../../erasure/objectLock';
import { ObjectError } from '../../object/errors';
import type { LockRetention, ObjectInfo, PutObjectOptions } from '../../object/types';
import type { ReqCtx } from '../context';
import { S3Error } from '../errors';
import { contentMd5Hex, type Headers, header } from '../headers';
import type { ObjectLockConfiguration } from '../xml';
import { getObjectLockConfig } from './bucketState';
import { requestChecksum } from './objectCommon';

/** AWS's InvalidRequest message for lock parameters on a bucket without Object Lock. */
export const MISSING_LOCK_CONFIGURATION = 'Bucket is missing Object Lock Configuration';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/** The lock a write asks for in its headers (or form fields); nothing when it names none. */
export interface RequestedLock {
  retention?: LockRetention;
  legalHold?: boolean;
}

function invalidArgument(message: string, name: string, value?: string): S3Error {
  return new S3Error('InvalidArgument', {
    message,
    fields: { ArgumentName: name, ...(value !== undefined ? { ArgumentValue: value } : {}) },
  });
}

/**
 * `x-amz-object-lock-mode`, `x-amz-object-lock-retain-until-date` (both or neither, the date ISO 8601
 * and in the future) and `x-amz-object-lock-legal-hold` (ON or OFF): InvalidArgument otherwise, as AWS.
 * Pure: checked before anything is read or written.
 */
export function parseLockHeaders(h: Headers, now: Date = new Date()): RequestedLock {
  const mode = header(h, 'x-amz-object-lock-mode')?.trim();
  const until = header(h, 'x-amz-object-lock-retain-until-date')?.trim();
  const hold = header(h, 'x-amz-object-lock-legal-hold')?.trim();
  const out: RequestedLock = {};
  if (mode !== undefined || until !== undefined) {
    if (mode === undefined || until === undefined || mode === '' || until === '') {
      throw invalidArgument(
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
        mode === undefined || mode === '' ? 'x-amz-object-lock-mode' : 'x-amz-object-lock-retain-until-date',
      );
    }
    if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') {
      throw invalidArgument('Unknown wormMode directive.', 'x-amz-object-lock-mode', mode);
    }
    const date = ISO_DATE.test(until) ? new Date(until) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) {
      throw invalidArgument(
        'The retain until date must be provided in ISO 8601 format',
        'x-amz-object-lock-retain-until-date',
        until,
      );
    }
    if (date.getTime() <= now.getTime()) {
      throw invalidArgument(
        'The retain until date must be in the future!',
        'x-amz-object-lock-retain-until-date',
        until,
      );
    }
    out.retention = { mode, retainUntil: date };
  }
  if (hold !== undefined) {
    if (hold !== 'ON' && hold !== 'OFF') {
      throw invalidArgument(
        "Legal Hold must be either of 'ON' or 'OFF'",
        'x-amz-object-lock-legal-hold',
        hold,
      );
    }
    out.legalHold = hold === 'ON';
  }
  return out;
}

/** The retention a bucket's default rule gives a version made at `now`, if the bucket has a rule. */
export function defaultRetentionOf(
  config: ObjectLockConfiguration | null,
  now: Date,
): LockRetention | undefined {
  const rule = config?.rule;
  if (!rule) return undefined;
  return { mode: rule.mode, retainUntil: defaultRetainUntil(rule, now) };
}

/** The bucket's Object Lock configuration; InvalidRequest when it has none (retention, legal hold ops). */
export async function requireObjectLock(ctx: ReqCtx, bucket: string): Promise<ObjectLockConfiguration> {
  await ctx.objects.getBucketInfo(bucket);
  const config = await getObjectLockConfig(ctx, bucket);
  if (!config) throw new S3Error('InvalidRequest', { message: MISSING_LOCK_CONFIGURATION });
  return config;
}

/** Whether the request carries Content-MD5 or an `x-amz-checksum-*` value (header or trailer). */
function hasIntegrityHeader(h: Headers): boolean {
  if (contentMd5Hex(h) !== undefined) return true;
  const declared = requestChecksum(h);
  return declared !== undefined && (declared.value !== undefined || declared.trailer);
}

/**
 * The Object Lock options of a new version: the requested lock, checked against the bucket (lock
 * headers on a bucket without Object Lock are InvalidRequest), else the bucket's default retention
 * (unless `defaultRetention: false`: multipart applies it at completion). With `requireChecksum`
 * (PutObject), a write that ends up locked must carry Content-MD5 or an `x-amz-checksum-*`, as AWS.
 */
export async function lockOptionsForWrite(
  ctx: ReqCtx,
  bucket: string,
  requested: RequestedLock,
  opts: { requireChecksum?: boolean; defaultRetention?: boolean } = {},
): Promise<Pick<PutObjectOptions, 'lockRetention' | 'legalHold'>> {
  const config = await getObjectLockConfig(ctx, bucket);
  const asked = requested.retention !== undefined || requested.legalHold !== undefined;
  if (!config) {
    if (!asked) return {};
    await ctx.objects.getBucketInfo(bucket); // NoSuchBucket first
    throw new S3Error('InvalidRequest', { message: MISSING_LOCK_CONFIGURATION });
  }
  const out: Pick<PutObjectOptions, 'lockRetention' | 'legalHold'> = {};
  const retention =
    requested.retention ??
    (opts.defaultRetention === false ? undefined : defaultRetentionOf(config, new Date()));
  if (retention) out.lockRetention = retention;
  if (requested.legalHold !== undefined) out.legalHold = requested.legalHold;
  const locked = asked || config.rule !== undefined;
  if (opts.requireChecksum && locked && !hasIntegrityHeader(ctx.headers)) {
    throw new S3Error('InvalidRequest', {
      message:
        'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
    });
  }
  return out;
}

/**
 * Whether the request may bypass GOVERNANCE retention: it says `x-amz-bypass-governance-retention:
 * true` and the identity is allowed `s3:BypassGovernanceRetention` on the key (or the bucket).
 */
export async function bypassGovernance(ctx: ReqCtx, key?: string): Promise<boolean> {
  if (header(ctx.headers, 'x-amz-bypass-governance-retention')?.trim().toLowerCase() !== 'true') return false;
  return ctx.allowed('s3:BypassGovernanceRetention', key !== undefined ? { key } : {});
}

/** What an Object Lock rule refusal is in the object layer's words (mapped once to AccessDenied). */
export function objectLocked(info: ObjectInfo, reason: string): ObjectError {
  return new ObjectError('ObjectLocked', `version ${info.versionId} is protected (${reason})`, {
    bucket: info.bucket,
    key: info.key,
    versionId: info.versionId,
    reason,
  });
}

/** GET and HEAD: the version's retention mode and date, and its legal hold, when it has them. */
export function lockResponseHeaders(info: ObjectInfo): Record<string, string> {
  const out: Record<string, string> = {};
  if (info.lockRetention) {
    out['x-amz-object-lock-mode'] = info.lockRetention.mode;
    out['x-amz-object-lock-retain-until-date'] = info.lockRetention.retainUntil.toISOString();
  }
  if (info.legalHold !== undefined) out['x-amz-object-lock-legal-hold'] = info.legalHold ? 'ON' : 'OFF';
  return out;
}
