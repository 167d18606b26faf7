/**
 * GetBucketPolicyStatus: `GET /{bucket}?policyStatus`. AWS: `<PolicyStatus><IsPublic>` from the
 * bucket policy; NoSuchBucketPolicy (404) when the bucket has none (what AWS answers, as clients
 * that scan buckets see: cloudquery/cloudquery#12163; ceph s3-tests' IsPublic=false there is RGW's).
 *
 * "Public" as AWS defines it ("The meaning of public", S3 Block Public Access): a policy is public
 * when an Allow statement grants to a wildcard principal (`"*"`, `{"AWS": "*"}`, or everyone but some
 * through NotPrincipal) without a condition that pins the caller to fixed values of a key that
 * identifies it: `aws:SourceIp` (a range no wider than /8 for IPv4, /32 for IPv6), `aws:SourceArn`,
 * `aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceAccount`, `aws:SourceOwner`, `aws:PrincipalArn`,
 * `aws:PrincipalAccount`, `aws:PrincipalOrgID`, `aws:userid`, `aws:username`. A value with a
 * wildcard is not fixed.
 */
import { PolicyError, parsePolicy } from '../../auth/policy';
import type { Policy, Statement } from '../../auth/policy/types';
import type { Op } from '../context';
import { S3Error } from '../errors';
import { BUCKET_POLICY_CONFIG } from '../permissions';
import { renderXml } from '../xml';
import { requireBucket, xml } from './bucketCommon';

const IDENTIFYING_KEYS = new Set(
  [
    'aws:SourceIp',
    'aws:SourceArn',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceAccount',
    'aws:SourceOwner',
    'aws:PrincipalArn',
    'aws:PrincipalAccount',
    'aws:PrincipalOrgID',
    'aws:userid',
    'aws:username',
  ].map((k) => k.toLowerCase()),
);

/** Operators that pin a key to the values listed (the negated ones pin nothing). */
const PINNING =
  /^(?:ForAnyValue:|ForAllValues:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike|IpAddress)(IfExists)?$/i;

function fixedValue(key: string, value: string): boolean {
  if (value.includes('*') || value.includes('?')) return false;
  if (key === 'aws:sourceip') {
    const [addr, bits] = value.split('/');
    if (bits === undefined) return true;
    const n = Number(bits);
    return addr!.includes(':') ? n >= 32 : n >= 8;
  }
  return true;
}

function pinned(s: Statement): boolean {
  for (const [op, keys] of Object.entries(s.Condition ?? {})) {
    const m = PINNING.exec(op);
    // `...IfExists` holds when the key is absent: it pins nothing.
    if (!m || m[2] !== undefined) continue;
    for (const [key, values] of Object.entries(keys)) {
      const k = key.toLowerCase();
      if (IDENTIFYING_KEYS.has(k) && values.length > 0 && values.every((v) => fixedValue(k, v))) return true;
    }
  }
  return false;
}

function wildcardPrincipal(s: Statement): boolean {
  if (s.NotPrincipal !== undefined) return true;
  const p = s.Principal;
  if (p === undefined) return false;
  if (p === '*') return true;
  return Object.values(p).some((list) => list.includes('*'));
}

/** Whether `policy` grants access to the public, as AWS's policy status reports it. */
export function isPublicPolicy(policy: Policy): boolean {
  return policy.Statement.some((s) => s.Effect === 'Allow' && wildcardPrincipal(s) && !pinned(s));
}

export const GetBucketPolicyStatus: Op<'GetBucketPolicyStatus'> = async (ctx) => {
  const bucket = ctx.route.bucket;
  await requireBucket(ctx, bucket);
  const doc = await ctx.bucketConfig.get(bucket, BUCKET_POLICY_CONFIG);
  if (!doc) throw new S3Error('NoSuchBucketPolicy', { fields: { BucketName: bucket } });
  let isPublic: boolean;
  try {
    isPublic = isPublicPolicy(parsePolicy(doc, { kind: 'resource', bucket }));
  } catch (e) {
    // A stored policy that no longer parses is enforced as "deny everyone": not public.
    if (!(e instanceof PolicyError)) throw e;
    isPublic = false;
  }
  return xml(renderXml('PolicyStatus', { IsPublic: isPublic ? 'true' : 'false' }));
};
