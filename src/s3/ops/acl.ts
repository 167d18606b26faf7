/**
 * ACLs as AWS has them by default since April 2023: disabled. Every bucket's Object Ownership is
 * `BucketOwnerEnforced`, so the bucket owner owns every object and access is decided by policies
 * alone (AWS: "Controlling ownership of objects and disabling ACLs for your bucket"). Reading an ACL
 * shows FULL_CONTROL for the owner; setting one, in a request body (`AccessControlPolicy`) or in the
 * `x-amz-acl` / `x-amz-grant-*` headers of PutBucketAcl, PutObjectAcl, PutObject, CopyObject,
 * CreateMultipartUpload or CreateBucket, is accepted only when it says no more than that:
 * `private`, `bucket-owner-full-control`, or FULL_CONTROL granted to the owner alone. Anything else
 * is 400 AccessControlListNotSupported ("The bucket does not allow ACLs"), or for CreateBucket
 * InvalidBucketAclWithObjectOwnership, as AWS answers.
 */
import { S3Error } from '../errors';
import { header } from '../headers';
import { ROOT_OWNER } from '../owner';
import type { AclGrant, ObjectOwnership, Owner } from '../xml';

/**
 * The config store's document for a bucket whose ownership controls were deleted; absent, the bucket
 * reports BucketOwnerEnforced.
 */
export const OWNERSHIP_CONFIG = 'ownership-controls.json';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** AWS's canned ACLs ("Canned ACL" in the ACL overview); any other value is InvalidArgument. */
export const CANNED_ACLS = [
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
] as const;

/** The canned ACLs that grant nothing beyond the owner's full control. */
const OWNER_ONLY_CANNED: readonly string[] = ['private', 'bucket-owner-full-control'];

const GRANT_HEADERS = [
  'x-amz-grant-full-control',
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write',
  'x-amz-grant-write-acp',
] as const;

/** The owner of every bucket and object: Cairn is single-tenant (src/s3/owner.ts). */
export function aclOwner(): Owner {
  return ROOT_OWNER;
}

function refuse(kind: 'bucket' | 'object'): S3Error {
  return kind === 'bucket'
    ? new S3Error('InvalidBucketAclWithObjectOwnership')
    : new S3Error('AccessControlListNotSupported');
}

/**
 * A grant header's list (`id="..."`, `uri="..."`, `emailAddress="..."`, comma separated) names the
 * owner and no one else.
 */
function grantsOwnerOnly(value: string, owner: Owner): boolean {
  const items = value.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) return false;
  return items.every((item) => {
    const m = /^([A-Za-z]+)\s*=\s*"?([^"]*)"?$/.exec(item);
    return m !== null && m[1]!.toLowerCase() === 'id' && m[2]!.trim() === owner.id;
  });
}

/**
 * The ACL a request's headers set, checked against "ACLs disabled": returns whether the request
 * carried an ACL header at all. `kind` is what the ACL would apply to: a bucket being created
 * (refused with InvalidBucketAclWithObjectOwnership) or anything else (AccessControlListNotSupported).
 * A canned ACL AWS does not name is InvalidArgument; a canned ACL together with grant headers is
 * InvalidRequest, as AWS answers.
 *
 * `ignoreCanned` is for the writes that carry an ACL beside their real work (PutObject, CopyObject,
 * CreateMultipartUpload, CreateBucket): a known canned ACL there is accepted and not applied, as
 * MinIO does, so tools and apps that send `x-amz-acl: public-read` by habit keep working; making
 * things public is a bucket policy's job. (AWS's ACL-disabled buckets refuse them; docs/compat.md.)
 */
export function checkAclHeaders(
  h: Headers,
  kind: 'bucket' | 'object' = 'object',
  opts: { ignoreCanned?: boolean } = {},
): boolean {
  const canned = header(h, 'x-amz-acl')?.trim();
  const grants = GRANT_HEADERS.filter((n) => header(h, n) !== undefined);
  if (canned === undefined && grants.length === 0) return false;
  if (canned !== undefined && grants.length > 0) {
    throw new S3Error('InvalidRequest', {
      message: 'Specifying both Canned ACLs and Header Grants is not allowed',
    });
  }
  if (canned !== undefined) {
    if (!(CANNED_ACLS as readonly string[]).includes(canned)) {
      throw new S3Error('InvalidArgument', { fields: { ArgumentName: 'x-amz-acl', ArgumentValue: canned } });
    }
    if (!OWNER_ONLY_CANNED.includes(canned) && !opts.ignoreCanned) throw refuse(kind);
    return true;
  }
  const owner = aclOwner();
  for (const n of grants) {
    if (n !== 'x-amz-grant-full-control' || !grantsOwnerOnly(header(h, n)!, owner)) throw refuse(kind);
  }
  return true;
}

/**
 * CreateBucket's ACL and Object Ownership headers. `x-amz-object-ownership` may only be
 * `BucketOwnerEnforced` (the others enable ACLs, which Cairn does not have: NotImplemented); an
 * unknown value is InvalidArgument.
 */
export function checkCreateBucketAcl(h: Headers): void {
  const ownership = header(h, 'x-amz-object-ownership')?.trim();
  if (ownership !== undefined) checkObjectOwnership(ownership, 'x-amz-object-ownership');
  checkAclHeaders(h, 'bucket', { ignoreCanned: true });
}

/** Only BucketOwnerEnforced is served; the ACL-enabled settings are NotImplemented. */
export function checkObjectOwnership(value: string, argument?: string): asserts value is ObjectOwnership {
  if (value === 'BucketOwnerEnforced') return;
  if (value === 'BucketOwnerPreferred' || value === 'ObjectWriter') {
    throw new S3Error('NotImplemented', {
      message: `Object Ownership ${value} enables ACLs, which this server does not support; only BucketOwnerEnforced is`,
    });
  }
  throw new S3Error('InvalidArgument', {
    message: 'Invalid x-amz-object-ownership header',
    fields: { ArgumentName: argument, ArgumentValue: value },
  });
}

/**
 * An `AccessControlPolicy` body checked against "ACLs disabled": the owner it names must be the
 * owner, and its grants exactly FULL_CONTROL to that owner; anything else is
 * AccessControlListNotSupported.
 */
export function checkAccessControlPolicy(policy: { owner: Owner; grants: AclGrant[] }): void {
  const owner = aclOwner();
  const ok =
    policy.owner.id === owner.id &&
    policy.grants.length === 1 &&
    policy.grants[0]!.permission === 'FULL_CONTROL' &&
    policy.grants[0]!.grantee.type === 'CanonicalUser' &&
    policy.grants[0]!.grantee.id === owner.id;
  if (!ok) throw new S3Error('AccessControlListNotSupported');
}
