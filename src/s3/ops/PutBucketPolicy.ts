/**
 * PutBucketPolicy: `PUT /{bucket}?policy` with the policy document as the body. AWS: 204 No Content;
 * NoSuchBucket; a document that is not a valid bucket policy for this bucket is MalformedPolicy (400)
 * with what is wrong as the message ("Policy has invalid resource", ...). Nothing half-understood is
 * stored: the document is parsed in full first, then stored as sent (GetBucketPolicy returns it
 * byte for byte).
 */
import { PolicyError, parsePolicy } from '../../auth/policy';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { BUCKET_POLICY_CONFIG } from '../permissions';
import { noContent, readSmallBody, requireBucket } from './bucketCommon';

/** Read at most this much; the parser refuses documents over AWS's 20 KB itself. */
const MAX_READ = 64 * 1024;

export const PutBucketPolicy: Op<'PutBucketPolicy'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const body = await readSmallBody(ctx, MAX_READ);
  if (body.length > MAX_READ) {
    throw new S3Error('MalformedPolicy', { message: 'Policy exceeds the maximum allowed document size.' });
  }
  try {
    parsePolicy(body, { kind: 'resource', bucket });
  } catch (e) {
    if (e instanceof PolicyError) throw new S3Error('MalformedPolicy', { message: e.message, cause: e });
    throw e;
  }
  await ctx.bucketConfig.put(bucket, BUCKET_POLICY_CONFIG, body);
  return noContent();
};
