/**
 * PutObjectLegalHold (`PUT /{bucket}/{key}?legal-hold[&versionId=]`): places (`ON`) or removes
 * (`OFF`) one version's legal hold, whatever its retention. The body must carry Content-MD5 or an
 * `x-amz-checksum-*`. AWS: InvalidRequest on a bucket without Object Lock; a Status other than ON or
 * OFF is MalformedXML.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { parseLegalHold, XML_LIMITS } from '../xml';
import { readBody, toOpError, verifyBody, versionOpts } from './objectCommon';
import { requireObjectLock } from './objectLock';

export const PutObjectLegalHold: Op<'PutObjectLegalHold'> = async (ctx) => {
  const { bucket, key, params } = ctx.route;
  const limit = XML_LIMITS.Configuration;
  const body = await readBody(
    ctx,
    limit,
    () => new S3Error('MalformedXML', { cause: new Error(`a LegalHold over ${limit} bytes`) }),
  );
  await requireObjectLock(ctx, bucket).catch((e) => {
    throw toOpError(e);
  });
  verifyBody(ctx, body, { required: true });
  const status = parseLegalHold(body, limit);
  await ctx.objects
    .updateObjectMetadata(bucket, key, { legalHold: status === 'ON' }, versionOpts(params.versionId))
    .catch((e) => {
      throw toOpError(e);
    });
  // AWS answers 200 with no body and no version id.
  return { status: 200, headers: { 'Content-Length': 0 } };
};
