/**
 * PutObjectLockConfiguration (`PUT /{bucket}?object-lock`): sets (or with no `Rule`, removes) the
 * bucket's default retention; `ObjectLockEnabled` must be `Enabled`. The body must carry Content-MD5
 * or an `x-amz-checksum-*`, as AWS requires.
 *
 * AWS: a bucket created without Object Lock gets it here only while its versioning is Enabled
 * (InvalidBucketState 409 otherwise); once on, Object Lock cannot be turned off, and versioning
 * cannot be suspended (PutBucketVersioning refuses).
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { parseObjectLockConfiguration, XML_LIMITS } from '../xml';
import { requireBucket } from './bucketCommon';
import {
  encodeObjectLockConfig,
  getBucketVersioning,
  getObjectLockConfig,
  OBJECT_LOCK_CONFIG,
} from './bucketState';
import { readBody, toOpError, verifyBody } from './objectCommon';

export const PutObjectLockConfiguration: Op<'PutObjectLockConfiguration'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  const limit = XML_LIMITS.Configuration;
  const body = await readBody(
    ctx,
    limit,
    () => new S3Error('MalformedXML', { cause: new Error(`an ObjectLockConfiguration over ${limit} bytes`) }),
  );
  await requireBucket(ctx, bucket).catch((e) => {
    throw toOpError(e);
  });
  if (body.length === 0) throw new S3Error('MissingRequestBodyError');
  verifyBody(ctx, body, { required: true });
  const config = parseObjectLockConfiguration(body, limit);
  if (!config.enabled)
    throw new S3Error('MalformedXML', { cause: new Error('ObjectLockEnabled is not Enabled') });

  if (!(await getObjectLockConfig(ctx, bucket)) && (await getBucketVersioning(ctx, bucket)) !== 'Enabled') {
    throw new S3Error('InvalidBucketState', {
      message: "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
    });
  }
  await ctx.bucketConfig.put(bucket, OBJECT_LOCK_CONFIG, encodeObjectLockConfig(config));
  return { status: 200, headers: { 'Content-Length': 0 } };
};
