/**
 * Authorization of one request within one account, as AWS evaluates it
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 *
 * 1. An explicit Deny in any policy that applies (the identity's policies, its session policy, the
 *    bucket policy where its Principal names the caller) refuses the request.
 * 2. Otherwise the request is allowed when an identity policy OR the bucket policy allows it (within
 *    one account either is enough), AND, for a credential that carries a session policy (STS, service
 *    accounts with an inline policy), that session policy allows it too.
 * 3. Nothing allows it: refused (deny by default).
 *
 * The root user is allowed everything its identity could do but stays subject to an explicit Deny in
 * a bucket policy (AWS does the same for the account's root user), except that such a Deny never
 * keeps root from reading, replacing or deleting the bucket policy itself: a policy that denies
 * everyone everything can always be undone by the account owner (AWS's "locked out of your bucket"
 * recovery, which needs the root user; MinIO never applies bucket policies to its root user at all).
 *
 * Anonymous requests (`who === null`) are allowed only by a bucket policy whose Principal is `*`.
 */
import { evaluate } from '../policy';
import type { AuthzRequest, Decision, Policy, PrincipalInfo } from '../policy/types';
import type { IdentityRecord } from './types';

/** A request as `isAllowed` takes it: the principal comes from `who`. */
export type AuthzQuery = Omit<AuthzRequest, 'principal'>;

export interface AuthzResult {
  allowed: boolean;
  /**
   * Why, in AWS's words: `User: arn:... is not authorized to perform: s3:PutObject on resource:
   * "arn:aws:s3:::b/k" because no identity-based policy allows the s3:PutObject action`. Empty when
   * allowed.
   */
  reason: string;
}

/** Actions a bucket policy's Deny never takes from the root user, so it can always recover its bucket. */
const ROOT_POLICY_RECOVERY = new Set(['s3:getbucketpolicy', 's3:putbucketpolicy', 's3:deletebucketpolicy']);

/** The principal a policy's `Principal` is matched against. */
export function principalOf(who: IdentityRecord | null): PrincipalInfo {
  if (who === null) return { anonymous: true };
  return { anonymous: false, accessKey: who.accessKey, username: who.username, arn: who.arn };
}

/** `aws:PrincipalType` as AWS sets it: Account (root), User, AssumedRole (STS), Anonymous. */
export function principalType(who: IdentityRecord | null): string {
  if (who === null) return 'Anonymous';
  switch (who.kind) {
    case 'root':
      return 'Account';
    case 'sts':
      return 'AssumedRole';
    default:
      return 'User';
  }
}

function denied(who: IdentityRecord | null, q: AuthzQuery, because: string): AuthzResult {
  const name = who === null ? 'anonymous' : who.arn;
  return {
    allowed: false,
    reason: `User: ${name} is not authorized to perform: ${q.action} on resource: "${q.resource}" ${because}`,
  };
}

const ALLOWED: AuthzResult = { allowed: true, reason: '' };

/** Whether `who` (null: anonymous) may make the request, and why not. */
export function explain(
  who: IdentityRecord | null,
  q: AuthzQuery,
  bucketPolicy?: Policy | null,
): AuthzResult {
  const req: AuthzRequest = { ...q, principal: principalOf(who) };
  const bp: Decision = bucketPolicy ? evaluate([bucketPolicy], req) : 'NotApplicable';

  if (who === null) {
    if (bp === 'Deny') return denied(who, q, 'with an explicit deny in a resource-based policy');
    if (bp === 'Allow') return ALLOWED;
    return denied(who, q, `because no resource-based policy allows the ${q.action} action`);
  }

  if (who.kind === 'root') {
    if (bp === 'Deny' && !ROOT_POLICY_RECOVERY.has(q.action.toLowerCase())) {
      return denied(who, q, 'with an explicit deny in a resource-based policy');
    }
    return ALLOWED;
  }

  const id: Decision = who.policies.length > 0 ? evaluate(who.policies, req) : 'NotApplicable';
  const session: Decision | undefined = who.sessionPolicy ? evaluate([who.sessionPolicy], req) : undefined;
  if (id === 'Deny') return denied(who, q, 'with an explicit deny in an identity-based policy');
  if (session === 'Deny') return denied(who, q, 'with an explicit deny in a session policy');
  if (bp === 'Deny') return denied(who, q, 'with an explicit deny in a resource-based policy');
  if (id !== 'Allow' && bp !== 'Allow') {
    return denied(who, q, `because no identity-based policy allows the ${q.action} action`);
  }
  if (session !== undefined && session !== 'Allow') {
    return denied(who, q, `because no session policy allows the ${q.action} action`);
  }
  return ALLOWED;
}

/** Whether `who` (null: anonymous) may make the request: `explain(...).allowed`. */
export function isAllowed(
  who: IdentityRecord | null,
  req: AuthzQuery,
  bucketPolicy?: Policy | null,
): boolean {
  return explain(who, req, bucketPolicy).allowed;
}
