/**
 * PutBucketCors: `PUT /{bucket}?cors`. AWS: replaces the configuration; 1 to 100 rules, each with
 * an AllowedOrigin and an AllowedMethod among GET, PUT, POST, DELETE, HEAD (`parseCorsConfiguration`
 * answers MalformedXML or InvalidRequest otherwise); 200.
 */
import type { Op } from '../context';
import { CORS_CONFIG, encodeCors } from '../cors';
import { parseCorsConfiguration, XML_LIMITS } from '../xml';
import { readSmallBody, requireBucket } from './bucketCommon';

export const PutBucketCors: Op<'PutBucketCors'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const rules = parseCorsConfiguration(await readSmallBody(ctx, XML_LIMITS.Configuration));
  await ctx.bucketConfig.put(bucket, CORS_CONFIG, encodeCors(rules));
  return { status: 200, headers: { 'Content-Length': 0 } };
};
