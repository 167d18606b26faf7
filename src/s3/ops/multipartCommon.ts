/** What the multipart actions share: S3's part limit, the object's URL, the bucket's versioning. */
import type { ReqCtx } from '../context';
import { header } from '../headers';
import { bucketFromHost } from '../router';
import { getBucketVersioning } from './bucketState';

/** AWS: a part is at most 5 GiB. */
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

/** `/a b/c` as a URL path: each segment percent-encoded, the slashes kept. */
function encodePath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/**
 * The object's URL as the client addressed the bucket (path or virtual-host style), for
 * CompleteMultipartUpload's `<Location>`. The scheme is `x-forwarded-proto` when a proxy says so.
 */
export function objectUrl(ctx: ReqCtx, bucket: string, key: string): string {
  const host = header(ctx.headers, 'host') ?? header(ctx.headers, ':authority') ?? 'localhost';
  const proto = header(ctx.headers, 'x-forwarded-proto')?.split(',')[0]?.trim() || 'http';
  const hostName = host.replace(/:\d+$/, '').toLowerCase();
  const virtual = bucketFromHost(hostName, ctx.config.domains) === bucket;
  return virtual
    ? `${proto}://${host}/${encodePath(key)}`
    : `${proto}://${host}/${encodeURIComponent(bucket)}/${encodePath(key)}`;
}

/** Whether the bucket's versioning is Enabled, so completion makes a new version. */
export async function bucketVersioned(ctx: ReqCtx, bucket: string): Promise<boolean> {
  return (await getBucketVersioning(ctx, bucket)) === 'Enabled';
}
