/**
 * What each S3 action needs to be allowed: the IAM actions (`s3:GetObject`...) on the resources
 * (`arn:aws:s3:::bucket/key`) a request must ALL be allowed, and the condition keys the request
 * carries (`s3:prefix`, `s3:x-amz-acl`, `s3:RequestObjectTag/<key>`...). Pure: the server evaluates
 * them against the caller's policies and the bucket policy before dispatching, so a refused request
 * touches nothing.
 *
 * The mapping follows AWS's "Required permissions for Amazon S3 API operations" and "Actions, resources
 * and condition keys for Amazon S3". Actions that imply others say so: a PutObject that sets tags also
 * needs s3:PutObjectTagging, one that sets a retention s3:PutObjectRetention; a copy needs s3:GetObject
 * (or s3:GetObjectVersion) on its source as well as s3:PutObject on its target.
 *
 * Three actions authorize inside the op, as AWS does (`inOp`):
 * - DeleteObjects: each key on its own (s3:DeleteObject / s3:DeleteObjectVersion); a refused key is an
 *   `<Error>` entry with AccessDenied, the others are deleted.
 * - ListBuckets: s3:ListAllMyBuckets lists every bucket; without it, the buckets the caller may
 *   s3:ListBucket (MinIO's behaviour; AWS would refuse). Anonymous callers are refused.
 * - PostObject: the form's signer needs s3:PutObject on the form's key (an unsigned form: anonymous),
 *   and s3:PutObjectTagging / s3:PutObjectRetention / s3:PutObjectLegalHold for the fields that set them.
 *
 * PutObjectTagging's `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` come from its body, so
 * the op checks its own permissions again with them once the body is read (`ctx.allowed` with
 * `conditions`); the server skips the check before dispatch when a policy that applies names those
 * keys (it could only fail there).
 *
 * `s3:ExistingObjectTag/<key>` is the tags of the object (version) a permission is on, for the actions
 * AWS evaluates it for (`EXISTING_OBJECT_TAG_ACTIONS`): the server reads them only when a policy that
 * applies mentions the key, so requests pay nothing for it otherwise.
 */
import type { Headers } from './headers';
import { header, parseCopySource } from './headers';
import type { KnownAction, Route } from './router';

/** One IAM action on one resource. `bucket` is where the bucket policy that applies comes from. */
export interface Permission {
  action: string;
  /** `arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key` or `*`. */
  resource: string;
  bucket?: string;
  /** The object (version) the resource names, whose existing tags the condition keys may need. */
  object?: { key: string; versionId?: string };
  /** Condition keys of this permission only, on top of the request's (the tags of a body...). */
  conditions?: Record<string, string[]>;
}

/**
 * The actions AWS evaluates `s3:ExistingObjectTag/<key>` for ("Actions, resources, and condition keys
 * for Amazon S3"), lower-cased. Not for writes that replace or delete an object (PutObject,
 * DeleteObject...) nor for the lock actions.
 */
export const EXISTING_OBJECT_TAG_ACTIONS: ReadonlySet<string> = new Set(
  [
    's3:GetObject',
    's3:GetObjectVersion',
    's3:GetObjectAcl',
    's3:GetObjectVersionAcl',
    's3:GetObjectAttributes',
    's3:GetObjectVersionAttributes',
    's3:GetObjectTagging',
    's3:GetObjectVersionTagging',
    's3:PutObjectAcl',
    's3:PutObjectVersionAcl',
    's3:PutObjectTagging',
    's3:PutObjectVersionTagging',
    's3:DeleteObjectTagging',
    's3:DeleteObjectVersionTagging',
  ].map((a) => a.toLowerCase()),
);

/** `s3:<prefix>/<key>` for each tag (a repeated key keeps every value), from `[key, value]` pairs. */
function tagKeys(prefix: string, tags: Iterable<[string, string]>): Record<string, string[]> {
  const c: Record<string, string[]> = {};
  for (const [k, v] of tags) {
    const name = `s3:${prefix}/${k}`;
    c[name] = [...(c[name] ?? []), v];
  }
  return c;
}

/** `s3:ExistingObjectTag/<key>` from an object's stored tags (S3's URL-encoded `a=1&b=2`). */
export function existingTagConditions(tags: string): Record<string, string[]> {
  return tagKeys('ExistingObjectTag', new URLSearchParams(tags));
}

/** `s3:RequestObjectTag/<key>` and `s3:RequestObjectTagKeys` from the tags a request sets. */
export function requestTagConditions(tags: Iterable<[string, string]>): Record<string, string[]> {
  const list = [...tags];
  return { ...tagKeys('RequestObjectTag', list), 's3:RequestObjectTagKeys': list.map(([k]) => k) };
}

export interface RequiredPermissions {
  /** Every one must be allowed before the action runs. */
  checks: Permission[];
  /** The request's S3 condition keys (the server adds the global `aws:` ones). */
  conditions: Record<string, string[]>;
  /** The op authorizes (part of) the request itself; see the module comment. */
  inOp: boolean;
}

/** The bucket config document holding a bucket's policy, as PutBucketPolicy stored it. */
export const BUCKET_POLICY_CONFIG = 'policy.json';

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

type Known = Exclude<Route, { action: 'Unknown' }>;
type Mapper = (r: Known, h: Headers, q: URLSearchParams) => Permission[];

/** The bucket and key a route names (`''` where it names none: every mapper below is for one level). */
function target(r: Known): { bucket: string; key: string; versionId?: string } {
  const t = r as { bucket?: string; key?: string; params: { versionId?: string } };
  const out: { bucket: string; key: string; versionId?: string } = {
    bucket: t.bucket ?? '',
    key: t.key ?? '',
  };
  if (t.params.versionId !== undefined) out.versionId = t.params.versionId;
  return out;
}

const onBucket =
  (action: string): Mapper =>
  (r) => {
    const { bucket } = target(r);
    return [{ action, resource: bucketArn(bucket), bucket }];
  };

const onObject =
  (action: string, versioned?: string, both = false): Mapper =>
  (r) => {
    const { bucket, key, versionId } = target(r);
    const resource = objectArn(bucket, key);
    const object = versionId === undefined ? { key } : { key, versionId };
    if (versionId === undefined || versioned === undefined) return [{ action, resource, bucket, object }];
    // AWS: a version's tags need the Version action "also"; a version's data needs it instead.
    return both
      ? [
          { action, resource, bucket, object },
          { action: versioned, resource, bucket, object },
        ]
      : [{ action: versioned, resource, bucket, object }];
  };

const none: Mapper = () => [];

/** What a write that creates an object (Put, Copy, CreateMultipartUpload, PostObject) also sets. */
function writeExtras(bucket: string, key: string, h: Headers): Permission[] {
  const resource = objectArn(bucket, key);
  const out: Permission[] = [];
  if (header(h, 'x-amz-tagging') !== undefined) out.push({ action: 's3:PutObjectTagging', resource, bucket });
  if (header(h, 'x-amz-acl') !== undefined || Object.keys(h).some((n) => n.startsWith('x-amz-grant-'))) {
    out.push({ action: 's3:PutObjectAcl', resource, bucket });
  }
  if (
    header(h, 'x-amz-object-lock-mode') !== undefined ||
    header(h, 'x-amz-object-lock-retain-until-date') !== undefined
  ) {
    out.push({ action: 's3:PutObjectRetention', resource, bucket });
  }
  if (header(h, 'x-amz-object-lock-legal-hold') !== undefined) {
    out.push({ action: 's3:PutObjectLegalHold', resource, bucket });
  }
  return out;
}

/** s3:GetObject (or s3:GetObjectVersion) on `x-amz-copy-source`; nothing when it does not parse (the op refuses it). */
function copySource(h: Headers): Permission[] {
  const value = header(h, 'x-amz-copy-source');
  if (value === undefined) return [];
  try {
    const src = parseCopySource(value);
    const action = src.versionId === undefined ? 's3:GetObject' : 's3:GetObjectVersion';
    const object =
      src.versionId === undefined ? { key: src.key } : { key: src.key, versionId: src.versionId };
    return [{ action, resource: objectArn(src.bucket, src.key), bucket: src.bucket, object }];
  } catch {
    return [];
  }
}

const putObject: Mapper = (r, h) => {
  const { bucket, key } = target(r);
  return [
    { action: 's3:PutObject', resource: objectArn(bucket, key), bucket },
    ...writeExtras(bucket, key, h),
  ];
};

/** Every action the router names → what it needs. A `Record` so a new action cannot go unmapped. */
const MAP: Record<KnownAction, Mapper> = {
  // Service
  ListBuckets: none,
  // The CORS preflight is answered from the bucket's CORS rules, unauthenticated (AWS).
  Options: none,

  // Buckets
  CreateBucket: (r, h) => {
    const { bucket } = target(r);
    const resource = bucketArn(bucket);
    const out: Permission[] = [{ action: 's3:CreateBucket', resource, bucket }];
    if (header(h, 'x-amz-bucket-object-lock-enabled')?.trim().toLowerCase() === 'true') {
      out.push({ action: 's3:PutBucketObjectLockConfiguration', resource, bucket });
      out.push({ action: 's3:PutBucketVersioning', resource, bucket });
    }
    if (header(h, 'x-amz-acl') !== undefined || Object.keys(h).some((n) => n.startsWith('x-amz-grant-'))) {
      out.push({ action: 's3:PutBucketAcl', resource, bucket });
    }
    if (header(h, 'x-amz-object-ownership') !== undefined) {
      out.push({ action: 's3:PutBucketOwnershipControls', resource, bucket });
    }
    return out;
  },
  DeleteBucket: onBucket('s3:DeleteBucket'),
  HeadBucket: onBucket('s3:ListBucket'),
  GetBucketLocation: onBucket('s3:GetBucketLocation'),
  ListObjects: onBucket('s3:ListBucket'),
  ListObjectsV2: onBucket('s3:ListBucket'),
  ListObjectVersions: onBucket('s3:ListBucketVersions'),
  ListMultipartUploads: onBucket('s3:ListBucketMultipartUploads'),
  DeleteObjects: none,
  PostObject: none,
  GetBucketTagging: onBucket('s3:GetBucketTagging'),
  PutBucketTagging: onBucket('s3:PutBucketTagging'),
  DeleteBucketTagging: onBucket('s3:PutBucketTagging'),
  GetBucketCors: onBucket('s3:GetBucketCORS'),
  PutBucketCors: onBucket('s3:PutBucketCORS'),
  DeleteBucketCors: onBucket('s3:PutBucketCORS'),
  GetBucketPolicy: onBucket('s3:GetBucketPolicy'),
  PutBucketPolicy: onBucket('s3:PutBucketPolicy'),
  DeleteBucketPolicy: onBucket('s3:DeleteBucketPolicy'),
  GetBucketPolicyStatus: onBucket('s3:GetBucketPolicyStatus'),
  GetBucketVersioning: onBucket('s3:GetBucketVersioning'),
  PutBucketVersioning: onBucket('s3:PutBucketVersioning'),
  GetObjectLockConfiguration: onBucket('s3:GetBucketObjectLockConfiguration'),
  PutObjectLockConfiguration: onBucket('s3:PutBucketObjectLockConfiguration'),
  GetBucketLifecycleConfiguration: onBucket('s3:GetLifecycleConfiguration'),
  PutBucketLifecycleConfiguration: onBucket('s3:PutLifecycleConfiguration'),
  DeleteBucketLifecycle: onBucket('s3:PutLifecycleConfiguration'),
  GetBucketEncryption: onBucket('s3:GetEncryptionConfiguration'),
  PutBucketEncryption: onBucket('s3:PutEncryptionConfiguration'),
  DeleteBucketEncryption: onBucket('s3:PutEncryptionConfiguration'),
  GetBucketAcl: onBucket('s3:GetBucketAcl'),
  PutBucketAcl: onBucket('s3:PutBucketAcl'),
  GetBucketNotificationConfiguration: onBucket('s3:GetBucketNotification'),
  PutBucketNotificationConfiguration: onBucket('s3:PutBucketNotification'),
  GetBucketReplication: onBucket('s3:GetReplicationConfiguration'),
  PutBucketReplication: onBucket('s3:PutReplicationConfiguration'),
  DeleteBucketReplication: onBucket('s3:PutReplicationConfiguration'),
  GetBucketLogging: onBucket('s3:GetBucketLogging'),
  PutBucketLogging: onBucket('s3:PutBucketLogging'),
  GetBucketRequestPayment: onBucket('s3:GetBucketRequestPayment'),
  PutBucketRequestPayment: onBucket('s3:PutBucketRequestPayment'),
  GetBucketWebsite: onBucket('s3:GetBucketWebsite'),
  PutBucketWebsite: onBucket('s3:PutBucketWebsite'),
  DeleteBucketWebsite: onBucket('s3:DeleteBucketWebsite'),
  GetBucketOwnershipControls: onBucket('s3:GetBucketOwnershipControls'),
  PutBucketOwnershipControls: onBucket('s3:PutBucketOwnershipControls'),
  DeleteBucketOwnershipControls: onBucket('s3:PutBucketOwnershipControls'),
  GetPublicAccessBlock: onBucket('s3:GetBucketPublicAccessBlock'),
  PutPublicAccessBlock: onBucket('s3:PutBucketPublicAccessBlock'),
  DeletePublicAccessBlock: onBucket('s3:PutBucketPublicAccessBlock'),
  GetBucketAccelerateConfiguration: onBucket('s3:GetAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: onBucket('s3:PutAccelerateConfiguration'),
  GetBucketAnalyticsConfiguration: onBucket('s3:GetAnalyticsConfiguration'),
  PutBucketAnalyticsConfiguration: onBucket('s3:PutAnalyticsConfiguration'),
  DeleteBucketAnalyticsConfiguration: onBucket('s3:PutAnalyticsConfiguration'),
  ListBucketAnalyticsConfigurations: onBucket('s3:GetAnalyticsConfiguration'),
  GetBucketInventoryConfiguration: onBucket('s3:GetInventoryConfiguration'),
  PutBucketInventoryConfiguration: onBucket('s3:PutInventoryConfiguration'),
  DeleteBucketInventoryConfiguration: onBucket('s3:PutInventoryConfiguration'),
  ListBucketInventoryConfigurations: onBucket('s3:GetInventoryConfiguration'),
  GetBucketMetricsConfiguration: onBucket('s3:GetMetricsConfiguration'),
  PutBucketMetricsConfiguration: onBucket('s3:PutMetricsConfiguration'),
  DeleteBucketMetricsConfiguration: onBucket('s3:PutMetricsConfiguration'),
  ListBucketMetricsConfigurations: onBucket('s3:GetMetricsConfiguration'),
  GetBucketIntelligentTieringConfiguration: onBucket('s3:GetIntelligentTieringConfiguration'),
  PutBucketIntelligentTieringConfiguration: onBucket('s3:PutIntelligentTieringConfiguration'),
  DeleteBucketIntelligentTieringConfiguration: onBucket('s3:PutIntelligentTieringConfiguration'),
  ListBucketIntelligentTieringConfigurations: onBucket('s3:GetIntelligentTieringConfiguration'),
  CreateBucketMetadataTableConfiguration: onBucket('s3:CreateBucketMetadataTableConfiguration'),
  GetBucketMetadataTableConfiguration: onBucket('s3:GetBucketMetadataTableConfiguration'),
  DeleteBucketMetadataTableConfiguration: onBucket('s3:DeleteBucketMetadataTableConfiguration'),
  CreateSession: onBucket('s3express:CreateSession'),

  // Objects
  GetObject: onObject('s3:GetObject', 's3:GetObjectVersion'),
  HeadObject: onObject('s3:GetObject', 's3:GetObjectVersion'),
  PutObject: putObject,
  CopyObject: (r, h) => {
    const { bucket, key } = target(r);
    const out = [{ action: 's3:PutObject', resource: objectArn(bucket, key), bucket }, ...copySource(h)];
    // The source's tags are copied unless the request replaces them with its own.
    const replacesTags = header(h, 'x-amz-tagging-directive')?.toUpperCase() === 'REPLACE';
    const own = replacesTags ? h : { ...h, 'x-amz-tagging': undefined };
    return [...out, ...writeExtras(bucket, key, own)];
  },
  DeleteObject: onObject('s3:DeleteObject', 's3:DeleteObjectVersion'),
  GetObjectTagging: onObject('s3:GetObjectTagging', 's3:GetObjectVersionTagging', true),
  PutObjectTagging: onObject('s3:PutObjectTagging', 's3:PutObjectVersionTagging', true),
  DeleteObjectTagging: onObject('s3:DeleteObjectTagging', 's3:DeleteObjectVersionTagging', true),
  GetObjectAcl: onObject('s3:GetObjectAcl', 's3:GetObjectVersionAcl'),
  PutObjectAcl: onObject('s3:PutObjectAcl', 's3:PutObjectVersionAcl'),
  GetObjectRetention: onObject('s3:GetObjectRetention'),
  PutObjectRetention: onObject('s3:PutObjectRetention'),
  GetObjectLegalHold: onObject('s3:GetObjectLegalHold'),
  PutObjectLegalHold: onObject('s3:PutObjectLegalHold'),
  GetObjectAttributes: onObject('s3:GetObjectAttributes', 's3:GetObjectVersionAttributes', true),
  GetObjectTorrent: onObject('s3:GetObjectTorrent'),
  RestoreObject: onObject('s3:RestoreObject'),
  SelectObjectContent: onObject('s3:GetObject', 's3:GetObjectVersion'),
  CreateMultipartUpload: putObject,
  UploadPart: onObject('s3:PutObject'),
  UploadPartCopy: (r, h) => {
    const { bucket, key } = target(r);
    return [{ action: 's3:PutObject', resource: objectArn(bucket, key), bucket }, ...copySource(h)];
  },
  CompleteMultipartUpload: onObject('s3:PutObject'),
  AbortMultipartUpload: onObject('s3:AbortMultipartUpload'),
  ListParts: onObject('s3:ListMultipartUploadParts'),
};

/** Actions that authorize (part of) themselves; see the module comment. */
const IN_OP: ReadonlySet<KnownAction> = new Set(['ListBuckets', 'DeleteObjects', 'PostObject']);

/** Whether an action has a mapping (every known one does; the test walks ACTIONS with this). */
export function hasMapping(action: KnownAction): boolean {
  return typeof MAP[action] === 'function';
}

const LIST_ACTIONS: ReadonlySet<KnownAction> = new Set([
  'ListObjects',
  'ListObjectsV2',
  'ListObjectVersions',
]);

/** Request headers that are S3 condition keys of the same name (`s3:x-amz-acl`...), when sent. */
const HEADER_KEYS = [
  'x-amz-acl',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
  'x-amz-content-sha256',
  'x-amz-grant-full-control',
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write',
  'x-amz-grant-write-acp',
  'x-amz-object-ownership',
];

const DAY_MS = 24 * 3600 * 1000;

/** The S3 condition keys of a request (AWS's "Condition keys for Amazon S3"). */
export function requestConditions(
  r: Known,
  h: Headers,
  q: URLSearchParams,
  now = new Date(),
): Record<string, string[]> {
  const c: Record<string, string[]> = {};
  if (LIST_ACTIONS.has(r.action)) {
    // AWS's home-directory examples list `""` among the allowed prefixes for the top-level listing.
    c['s3:prefix'] = [q.get('prefix') ?? ''];
    const delimiter = q.get('delimiter');
    if (delimiter !== null) c['s3:delimiter'] = [delimiter];
    const maxKeys = q.get('max-keys');
    if (maxKeys !== null) c['s3:max-keys'] = [maxKeys];
  }
  for (const name of HEADER_KEYS) {
    const v = header(h, name);
    if (v !== undefined) c[`s3:${name}`] = [v];
  }
  const versionId = q.get('versionId');
  if (versionId !== null && 'key' in r) c['s3:VersionId'] = [versionId];

  const mode = header(h, 'x-amz-object-lock-mode');
  if (mode !== undefined) c['s3:object-lock-mode'] = [mode];
  const until = header(h, 'x-amz-object-lock-retain-until-date');
  if (until !== undefined) {
    c['s3:object-lock-retain-until-date'] = [until];
    const t = Date.parse(until);
    if (Number.isFinite(t)) {
      c['s3:object-lock-remaining-retention-days'] = [
        String(Math.max(0, Math.ceil((t - now.getTime()) / DAY_MS))),
      ];
    }
  }
  const hold = header(h, 'x-amz-object-lock-legal-hold');
  if (hold !== undefined) c['s3:object-lock-legal-hold'] = [hold];

  const tagging = header(h, 'x-amz-tagging');
  if (tagging !== undefined) Object.assign(c, requestTagConditions(new URLSearchParams(tagging)));
  return c;
}

/** What `route` needs to be allowed. `Unknown` routes need nothing: they are refused anyway. */
export function requiredPermissions(
  route: Route,
  h: Headers,
  q: URLSearchParams,
  now = new Date(),
): RequiredPermissions {
  if (route.action === 'Unknown') return { checks: [], conditions: {}, inOp: false };
  return {
    checks: MAP[route.action](route, h, q),
    conditions: requestConditions(route, h, q, now),
    inOp: IN_OP.has(route.action),
  };
}
