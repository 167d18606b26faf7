/** GetBucketTagging: `GET /{bucket}?tagging`. AWS: NoSuchTagSet (404) when the bucket has no tags. */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { tagging } from '../xml';
import { decodeTags, requireBucket, TAGGING_CONFIG, xml } from './bucketCommon';

export const GetBucketTagging: Op<'GetBucketTagging'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const doc = await ctx.bucketConfig.get(bucket, TAGGING_CONFIG);
  if (!doc) throw new S3Error('NoSuchTagSet', { fields: { BucketName: bucket } });
  return xml(tagging(decodeTags(doc)));
};
