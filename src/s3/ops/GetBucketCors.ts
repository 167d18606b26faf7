/** GetBucketCors: `GET /{bucket}?cors`. AWS: NoSuchCORSConfiguration (404) when there is none. */
import type { Op } from '../context';
import { CORS_CONFIG, decodeCors } from '../cors';
import { S3Error } from '../errors';
import { corsConfiguration } from '../xml';
import { requireBucket, xml } from './bucketCommon';

export const GetBucketCors: Op<'GetBucketCors'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const doc = await ctx.bucketConfig.get(bucket, CORS_CONFIG);
  if (!doc) throw new S3Error('NoSuchCORSConfiguration', { fields: { BucketName: bucket } });
  return xml(corsConfiguration(decodeCors(doc)));
};
