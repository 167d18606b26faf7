/**
 * PutBucketVersioning (`PUT /{bucket}?versioning`): sets the bucket's versioning to Enabled or
 * Suspended. AWS's rules:
 * - there is no way back to unversioned: a bucket once Enabled is Enabled or Suspended for good;
 * - suspending keeps every version; new writes then replace the `null` version;
 * - a bucket with Object Lock cannot be Suspended (409 InvalidBucketState);
 * - `Status` must be there (IllegalVersioningConfigurationException otherwise).
 *
 * **Differs from AWS**: MFA Delete is not supported: `<MfaDelete>Enabled</MfaDelete>` is 501
 * NotImplemented (`Disabled` is accepted and changes nothing).
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { parseVersioningConfiguration, XML_LIMITS } from '../xml';
import { readSmallBody, requireBucket } from './bucketCommon';
import { OBJECT_LOCK_CONFIG, setBucketVersioning } from './bucketState';

export const PutBucketVersioning: Op<'PutBucketVersioning'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const conf = parseVersioningConfiguration(await readSmallBody(ctx, XML_LIMITS.Configuration));
  if (conf.mfaDelete === 'Enabled') {
    throw new S3Error('NotImplemented', { message: 'MFA Delete is not supported by this server.' });
  }
  if (!conf.status) throw new S3Error('IllegalVersioningConfigurationException');
  if (conf.status === 'Suspended' && (await ctx.bucketConfig.get(bucket, OBJECT_LOCK_CONFIG))) {
    throw new S3Error('InvalidBucketState', {
      message:
        'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
    });
  }
  await setBucketVersioning(ctx, bucket, conf.status);
  return { status: 200, headers: { 'Content-Length': 0 } };
};
