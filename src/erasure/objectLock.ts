/**
 * S3 Object Lock's rules for one version, as pure functions of the version's lock state, what is
 * asked, and the time: may the version be deleted (or replaced), may its retention change. The
 * engine runs them under the key's write lock (`ErasureSet.deleteObject`, `commitHeld`,
 * `updateObjectMetadata`), so a request racing another cannot slip past them.
 *
 * AWS (S3 User Guide, "Object Lock"):
 * - A legal hold blocks deletion whatever the retention, until it is removed; nobody bypasses it.
 * - COMPLIANCE: nobody (the root user included) deletes the version, shortens the retention or
 *   changes its mode before the retain-until date. The date can only move later.
 * - GOVERNANCE: the same, except for a caller allowed `s3:BypassGovernanceRetention` who sends
 *   `x-amz-bypass-governance-retention: true`. Without it, the date can only move later in the same
 *   mode: changing GOVERNANCE to COMPLIANCE is altering the lock too, and needs the bypass (S3
 *   answers AccessDenied without it; ceph's s3-tests check the same against AWS).
 * - A retain-until date in the past protects nothing.
 */

export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface Retention {
  mode: LockMode;
  retainUntil: Date;
}

/** A version's lock state, as `ObjectInfo` carries it. */
export interface LockState {
  lockRetention?: Retention;
  legalHold?: boolean;
}

/** Why a version is protected; `null` when it is not. */
export type LockReason = 'legalHold' | 'compliance' | 'governance';

/** Whether `r` still protects at `now` (ms since the epoch). */
export function retentionActive(r: Retention | undefined, now: number): r is Retention {
  return r !== undefined && r.retainUntil.getTime() > now;
}

/**
 * What stops the version from being deleted (or replaced in place) at `now`: a legal hold, an
 * unexpired COMPLIANCE retention, or an unexpired GOVERNANCE retention without `bypassGovernance`.
 */
export function deletionBlocker(
  v: LockState,
  opts: { bypassGovernance?: boolean },
  now: number,
): LockReason | null {
  if (v.legalHold === true) return 'legalHold';
  const r = v.lockRetention;
  if (!retentionActive(r, now)) return null;
  if (r.mode === 'COMPLIANCE') return 'compliance';
  return opts.bypassGovernance ? null : 'governance';
}

/**
 * What stops the version's retention from becoming `next` (`null`: removed) at `now`. An expired or
 * absent retention may become anything; an unexpired one may only be kept or extended in the same
 * mode, unless it is GOVERNANCE and `bypassGovernance` is set. A legal hold has no say here.
 */
export function retentionChangeBlocker(
  current: Retention | undefined,
  next: Retention | null,
  opts: { bypassGovernance?: boolean },
  now: number,
): LockReason | null {
  if (!retentionActive(current, now)) return null;
  if (current.mode === 'GOVERNANCE' && opts.bypassGovernance) return null;
  const keeps =
    next !== null &&
    next.mode === current.mode &&
    next.retainUntil.getTime() >= current.retainUntil.getTime();
  if (keeps) return null;
  return current.mode === 'COMPLIANCE' ? 'compliance' : 'governance';
}

/** The retain-until date a default retention of `days` or `years` gives a version made at `from`. */
export function defaultRetainUntil(rule: { days?: number; years?: number }, from: Date): Date {
  const d = new Date(from.getTime());
  // A year is the same UTC date that many years on (as MinIO counts it), a day 24 hours.
  if (rule.years !== undefined) d.setUTCFullYear(d.getUTCFullYear() + rule.years);
  if (rule.days !== undefined) d.setTime(d.getTime() + rule.days * 86_400_000);
  return d;
}
