/**
 * Bucket states other actions act on, read from the bucket config store: the Object Lock
 * configuration (a document named `object-lock`).
 */
import type { ReqCtx } from '../context';
import type { ObjectLockConfiguration } from '../xml';

/** The config store's document name for a bucket's Object Lock configuration. */
export const OBJECT_LOCK_CONFIG = 'object-lock';

/** The stored form: `{ "v": 1, "enabled": true, "rule": { "mode": ..., "days" | "years": n } }`. */
export function encodeObjectLockConfig(c: ObjectLockConfiguration): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, enabled: c.enabled, ...(c.rule ? { rule: c.rule } : {}) }));
}

export function decodeObjectLockConfig(data: Buffer): ObjectLockConfiguration {
  const doc = JSON.parse(data.toString('utf8')) as { v?: unknown; enabled?: unknown; rule?: unknown };
  if (doc.v !== 1 || typeof doc.enabled !== 'boolean') {
    throw new Error(`unknown object lock document version ${String(doc.v)}`);
  }
  const c: ObjectLockConfiguration = { enabled: doc.enabled };
  const r = doc.rule as { mode?: unknown; days?: unknown; years?: unknown } | undefined;
  if (r !== undefined) {
    if (r.mode !== 'GOVERNANCE' && r.mode !== 'COMPLIANCE') throw new Error('object lock document: mode');
    if (typeof r.days === 'number') c.rule = { mode: r.mode, days: r.days };
    else if (typeof r.years === 'number') c.rule = { mode: r.mode, years: r.years };
    else throw new Error('object lock document: period');
  }
  return c;
}

/** The bucket's Object Lock configuration, or null when Object Lock was never enabled on it. */
export async function getObjectLockConfig(
  ctx: ReqCtx,
  bucket: string,
): Promise<ObjectLockConfiguration | null> {
  const doc = await ctx.bucketConfig.get(bucket, OBJECT_LOCK_CONFIG);
  if (!doc) return null;
  const c = decodeObjectLockConfig(doc);
  return c.enabled ? c : null;
}

/** The config store's document name for a bucket's versioning state. */
export const VERSIONING_CONFIG = 'versioning';

/** A bucket's versioning: never set (unversioned), Enabled, or Suspended. */
export type VersioningState = 'Enabled' | 'Suspended' | undefined;

/**
 * The bucket's versioning state: the one place every action reads it. A bucket whose versioning was
 * never set is unversioned (undefined); once set it is Enabled or Suspended for good (S3 has no way
 * back to unversioned). Read through the config store's cache: no I/O on the hot path.
 */
export async function getBucketVersioning(
  ctx: Pick<ReqCtx, 'bucketConfig'>,
  bucket: string,
): Promise<VersioningState> {
  const doc = await ctx.bucketConfig.get(bucket, VERSIONING_CONFIG);
  if (!doc) return undefined;
  const v = JSON.parse(doc.toString('utf8')) as { v?: unknown; status?: unknown };
  if (v.v !== 1 || (v.status !== 'Enabled' && v.status !== 'Suspended')) {
    throw new Error(`unknown versioning document ${doc.toString('utf8')}`);
  }
  return v.status;
}

/**
 * Stores the bucket's versioning state (`{ "v": 1, "status": ... }`). Also for CreateBucket with
 * Object Lock, which turns versioning on.
 */
export async function setBucketVersioning(
  ctx: Pick<ReqCtx, 'bucketConfig'>,
  bucket: string,
  state: 'Enabled' | 'Suspended',
): Promise<void> {
  await ctx.bucketConfig.put(bucket, VERSIONING_CONFIG, Buffer.from(JSON.stringify({ v: 1, status: state })));
}

/**
 * The `x-amz-version-id` a response names a version by: its id, or `null` for the null version of a
 * bucket with versioning set (Enabled or Suspended); nothing in an unversioned bucket.
 */
export function versionHeader(state: VersioningState, versionId: string): Record<string, string> {
  if (versionId !== 'null') return { 'x-amz-version-id': versionId };
  return state ? { 'x-amz-version-id': 'null' } : {};
}

/**
 * The `x-amz-version-id` of a write's answer (PutObject, CopyObject, CompleteMultipartUpload,
 * PostObject): the version versioning made, and nothing for the null version, whatever the bucket's
 * state (AWS names no version for writes to an unversioned or Suspended bucket).
 */
export function writtenVersionHeader(versionId: string): Record<string, string> {
  return versionId !== 'null' ? { 'x-amz-version-id': versionId } : {};
}
