/**
 * PutObjectRetention (`PUT /{bucket}/{key}?retention[&versionId=]`): sets, extends or (with an
 * empty `<Retention/>`) removes one version's retention. The body must carry Content-MD5 or an
 * `x-amz-checksum-*`. AWS: InvalidRequest on a bucket without Object Lock; a date in the past is
 * InvalidArgument; an unexpired retention may only be kept or extended in its mode (COMPLIANCE
 * always, GOVERNANCE unless bypassed with `x-amz-bypass-governance-retention: true` by a user
 * allowed `s3:BypassGovernanceRetention`), AccessDenied otherwise. The rule is checked under the
 * key's lock, so two changes cannot race past it.
 */
import { retentionChangeBlocker } from '../../erasure/objectLock';
import type { LockRetention } from '../../object/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { parseRetention, XML_LIMITS } from '../xml';
import { readBody, toOpError, verifyBody, versionOpts } from './objectCommon';
import { bypassGovernance, objectLocked, requireObjectLock } from './objectLock';

export const PutObjectRetention: Op<'PutObjectRetention'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const limit = XML_LIMITS.Configuration;
  const body = await readBody(
    ctx,
    limit,
    () => new S3Error('MalformedXML', { cause: new Error(`a Retention over ${limit} bytes`) }),
  );
  await requireObjectLock(ctx, bucket).catch((e) => {
    throw toOpError(e);
  });
  verifyBody(ctx, body, { required: true });
  const r = parseRetention(body, { maxBytes: limit });
  const next: LockRetention | null =
    r.mode !== undefined && r.retainUntilDate !== undefined
      ? { mode: r.mode, retainUntil: r.retainUntilDate }
      : null;
  const bypass = await bypassGovernance(ctx, key);
  await ctx.objects
    .updateObjectMetadata(
      bucket,
      key,
      { lockRetention: next },
      {
        ...versionOpts(params.versionId),
        precondition: (current) => {
          const blocker = retentionChangeBlocker(
            current.lockRetention,
            next,
            { bypassGovernance: bypass },
            Date.now(),
          );
          if (blocker) throw objectLocked(current, blocker);
        },
      },
    )
    .catch((e) => {
      throw toOpError(e);
    });
  // AWS answers 200 with no body and no version id.
  return { status: 200, headers: { 'Content-Length': 0 } };
};
