/**
 * Action → implementation. Each group of ops registers itself in its own table; an action
 * without an implementation answers NotImplemented (or the router's own refusal).
 */
import type { OpTable, ReqCtx, S3Response } from './context';
import { S3Error } from './errors';
import { bucketOps } from './ops/buckets';
import { listingOps } from './ops/listing';
import { multipartOps } from './ops/multipart';
import { objectOps } from './ops/objects';
import { ACTIONS, bucketNameValid, type Route, unknownRouteError } from './router';

export const OPS: OpTable = { ...bucketOps, ...objectOps, ...listingOps, ...multipartOps };

export async function dispatch(ctx: ReqCtx<Route>): Promise<S3Response> {
  const route = ctx.route;
  if (route.action === 'Unknown') throw unknownRouteError(route);
  // Every bucket a request names must be a valid bucket name: Cairn's own volume (`.cairn.sys`),
  // `..` and the like never reach the object layer.
  const bucket = (route as { bucket?: string }).bucket;
  if (bucket !== undefined && !bucketNameValid(bucket)) {
    throw new S3Error('InvalidBucketName', { fields: { BucketName: bucket } });
  }
  const op = OPS[route.action] as ((c: ReqCtx<Route>) => Promise<S3Response>) | undefined;
  if (!op) {
    throw new S3Error('NotImplemented', {
      message: `${route.action} is not implemented (${ACTIONS[route.action].status})`,
    });
  }
  return op(ctx);
}
