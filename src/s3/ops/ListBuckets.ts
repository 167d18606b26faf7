/**
 * ListBuckets: `GET /`. AWS: every bucket of the caller, by name, with `prefix`, `bucket-region`
 * and pagination by `max-buckets` (1-10000) and an opaque `continuation-token`. Without
 * `max-buckets` the whole list comes in one page.
 *
 * Which buckets: all of them for a caller allowed s3:ListAllMyBuckets (AWS); otherwise, as MinIO
 * does, only those the caller may s3:ListBucket or s3:GetBucketLocation (AWS would refuse the call):
 * each tenant sees its own, a `readonly` user the buckets it can read from.
 */
import type { Op } from '../context';
import { S3Error } from '../errors';
import { ROOT_OWNER } from '../owner';
import { listAllMyBucketsResult } from '../xml';
import { xml } from './bucketCommon';

/** AWS: `max-buckets` is 1 to 10000. */
const MAX_BUCKETS = 10000;

/** The token is the last name of the page, so a bucket made or removed meanwhile shifts nothing. */
function encodeToken(lastName: string): string {
  return Buffer.from(`v1:${lastName}`).toString('base64url');
}

function decodeToken(token: string): string {
  const s = Buffer.from(token, 'base64url').toString('utf8');
  if (!s.startsWith('v1:') || Buffer.from(s).toString('base64url') !== token) {
    throw new S3Error('InvalidArgument', {
      message: 'The continuation token provided is incorrect',
      fields: { ArgumentName: 'continuation-token', ArgumentValue: token },
    });
  }
  return s.slice(3);
}

export const ListBuckets: Op<'ListBuckets'> = async (ctx) => {
  const p = ctx.route.params;
  if (p.maxBuckets !== undefined && !(p.maxBuckets >= 1 && p.maxBuckets <= MAX_BUCKETS)) {
    throw new S3Error('InvalidArgument', {
      message: `Argument max-buckets must be an integer between 1 and ${MAX_BUCKETS}`,
      fields: { ArgumentName: 'max-buckets', ArgumentValue: String(p.maxBuckets) },
    });
  }
  const after = p.continuationToken !== undefined ? decodeToken(p.continuationToken) : undefined;
  const region = ctx.config.region;
  let buckets = await ctx.objects.listBuckets();
  if (!(await ctx.allowed('s3:ListAllMyBuckets'))) {
    const visible = await Promise.all(
      buckets.map(
        async (b) =>
          (await ctx.allowed('s3:ListBucket', { bucket: b.name })) ||
          (await ctx.allowed('s3:GetBucketLocation', { bucket: b.name })),
      ),
    );
    buckets = buckets.filter((_, i) => visible[i]);
  }
  // Every bucket is in this server's region.
  if (p.bucketRegion !== undefined && p.bucketRegion !== region) buckets = [];
  if (p.prefix !== undefined) buckets = buckets.filter((b) => b.name.startsWith(p.prefix!));
  if (after !== undefined) buckets = buckets.filter((b) => b.name > after);
  const max = p.maxBuckets ?? Number.POSITIVE_INFINITY;
  const page = buckets.slice(0, max);
  const truncated = buckets.length > page.length;
  return xml(
    listAllMyBucketsResult({
      owner: ROOT_OWNER,
      buckets: page.map((b) => ({ name: b.name, creationDate: b.created, bucketRegion: region })),
      ...(truncated ? { continuationToken: encodeToken(page[page.length - 1]!.name) } : {}),
      ...(p.prefix !== undefined ? { prefix: p.prefix } : {}),
    }),
  );
};
