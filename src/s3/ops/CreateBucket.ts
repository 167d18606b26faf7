/**
 * CreateBucket: `PUT /{bucket}` with an optional `CreateBucketConfiguration` body.
 *
 * AWS: an invalid name is InvalidBucketName; a bucket the caller already owns is
 * BucketAlreadyOwnedByYou (409), except in us-east-1, where AWS answers 200 OK and leaves the bucket
 * (its objects and settings) as it was (single-tenant: every existing bucket is the caller's). A location
 * constraint naming another region is IllegalLocationConstraintException, one that names no region
 * InvalidLocationConstraint. **Differs from AWS**: no constraint always means this server's region
 * (AWS requires one outside us-east-1; MinIO does not, and its clients rely on that), and
 * `us-east-1` spelled out on a us-east-1 server is accepted (AWS refuses it there).
 * `x-amz-bucket-object-lock-enabled: true` creates the bucket with Object Lock (no default retention)
 * and its versioning Enabled.
 */
import { isObjectError } from '../../object/errors';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { header } from '../headers';
import { bucketNameValid } from '../router';
import { parseCreateBucketConfiguration, XML_LIMITS } from '../xml';
import { checkCreateBucketAcl } from './acl';
import { readSmallBody, removeBucketConfigs } from './bucketCommon';
import { encodeObjectLockConfig, OBJECT_LOCK_CONFIG, setBucketVersioning } from './bucketState';

/** AWS region names (`us-east-1`, `us-gov-west-1`, `ap-southeast-4`...) and the legacy `EU`. */
const AWS_REGION = /^(?:[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}|EU)$/;

export const CreateBucket: Op<'CreateBucket'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  if (!bucketNameValid(bucket)) throw new S3Error('InvalidBucketName', { fields: { BucketName: bucket } });
  checkCreateBucketAcl(ctx.headers);

  const config = parseCreateBucketConfiguration(await readSmallBody(ctx, XML_LIMITS.Configuration));
  const lc = config.locationConstraint;
  if (lc !== undefined && lc !== ctx.config.region) {
    if (AWS_REGION.test(lc)) {
      throw new S3Error('IllegalLocationConstraintException', {
        message: `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      });
    }
    throw new S3Error('InvalidLocationConstraint', {
      message: 'The specified location-constraint is not valid',
      fields: { LocationConstraint: lc },
    });
  }
  const objectLock = header(ctx.headers, 'x-amz-bucket-object-lock-enabled')?.trim().toLowerCase() === 'true';

  try {
    await ctx.objects.makeBucket(bucket);
  } catch (e) {
    // AWS: "In the North Virginia Region (us-east-1), Amazon S3 returns 200 OK and resets the bucket
    // access control lists" for a bucket you already own; Cairn has no ACLs to reset.
    if (isObjectError(e, 'BucketExists') && ctx.config.region === 'us-east-1') {
      return { status: 200, headers: { Location: `/${bucket}`, 'Content-Length': 0 } };
    }
    throw e;
  }
  // Settings left behind by a delete that crashed halfway must not come back with the new bucket.
  await removeBucketConfigs(ctx.bucketConfig, bucket);
  if (objectLock) {
    // AWS: Object Lock turns versioning on for good. Versioning first: a crash between the two leaves
    // a versioned bucket without lock, never a lock bucket that does not keep versions.
    await setBucketVersioning(ctx, bucket, 'Enabled');
    await ctx.bucketConfig.put(bucket, OBJECT_LOCK_CONFIG, encodeObjectLockConfig({ enabled: true }));
  }
  return { status: 200, headers: { Location: `/${bucket}`, 'Content-Length': 0 } };
};
