/**
 * The action names and condition keys a policy may name, as AWS's Service Authorization Reference
 * ("Actions, resources, and condition keys for Amazon S3") lists them, plus the `admin:` actions of
 * Cairn's admin API and the `sts:` actions of its STS endpoint.
 *
 * Each S3 action carries the resource type it applies to, because S3 refuses a bucket policy whose
 * statement names an action none of its resources can be the target of
 * (AWS: "Action does not apply to any resource(s) in statement").
 */

/**
 * What an action's target is: an object (`arn:aws:s3:::bucket/key`), a bucket (`arn:aws:s3:::bucket`),
 * nothing (`*`: service-level, like ListAllMyBuckets), or another S3 resource type Cairn does not have
 * (access points, batch jobs, Storage Lens...), which no bucket policy resource can name.
 */
export type S3ResourceType = 'object' | 'bucket' | 'none' | 'other';

const OBJECT_ACTIONS = [
  'AbortMultipartUpload',
  'BypassGovernanceRetention',
  'DeleteObject',
  'DeleteObjectTagging',
  'DeleteObjectVersion',
  'DeleteObjectVersionTagging',
  'GetObject',
  'GetObjectAcl',
  'GetObjectAttributes',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'GetObjectTorrent',
  'GetObjectVersion',
  'GetObjectVersionAcl',
  'GetObjectVersionAttributes',
  'GetObjectVersionForReplication',
  'GetObjectVersionTagging',
  'GetObjectVersionTorrent',
  'InitiateReplication',
  'ListMultipartUploadParts',
  'ObjectOwnerOverrideToBucketOwner',
  'PutObject',
  'PutObjectAcl',
  'PutObjectLegalHold',
  'PutObjectRetention',
  'PutObjectTagging',
  'PutObjectVersionAcl',
  'PutObjectVersionTagging',
  'ReplicateDelete',
  'ReplicateObject',
  'ReplicateTags',
  'RestoreObject',
] as const;

const BUCKET_ACTIONS = [
  'CreateBucket',
  'CreateBucketMetadataTableConfiguration',
  'DeleteBucket',
  'DeleteBucketMetadataTableConfiguration',
  'DeleteBucketOwnershipControls',
  'DeleteBucketPolicy',
  'DeleteBucketWebsite',
  'GetAccelerateConfiguration',
  'GetAnalyticsConfiguration',
  'GetBucketAcl',
  'GetBucketCORS',
  'GetBucketLocation',
  'GetBucketLogging',
  'GetBucketMetadataTableConfiguration',
  'GetBucketNotification',
  'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls',
  'GetBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock',
  'GetBucketRequestPayment',
  'GetBucketTagging',
  'GetBucketVersioning',
  'GetBucketWebsite',
  'GetEncryptionConfiguration',
  'GetIntelligentTieringConfiguration',
  'GetInventoryConfiguration',
  'GetLifecycleConfiguration',
  'GetMetricsConfiguration',
  'GetReplicationConfiguration',
  'ListBucket',
  'ListBucketMultipartUploads',
  'ListBucketVersions',
  'PutAccelerateConfiguration',
  'PutAnalyticsConfiguration',
  'PutBucketAcl',
  'PutBucketCORS',
  'PutBucketLogging',
  'PutBucketNotification',
  'PutBucketObjectLockConfiguration',
  'PutBucketOwnershipControls',
  'PutBucketPolicy',
  'PutBucketPublicAccessBlock',
  'PutBucketRequestPayment',
  'PutBucketTagging',
  'PutBucketVersioning',
  'PutBucketWebsite',
  'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration',
  'PutInventoryConfiguration',
  'PutLifecycleConfiguration',
  'PutMetricsConfiguration',
  'PutReplicationConfiguration',
] as const;

/** Actions whose Resource must be `*` in AWS. */
const SERVICE_ACTIONS = [
  'CreateJob',
  'GetAccessPoint',
  'GetAccountPublicAccessBlock',
  'ListAccessGrantsInstances',
  'ListAccessPoints',
  'ListAccessPointsForObjectLambda',
  'ListAllMyBuckets',
  'ListJobs',
  'ListMultiRegionAccessPoints',
  'ListStorageLensConfigurations',
  'ListStorageLensGroups',
  'PutAccessPointPublicAccessBlock',
  'PutAccountPublicAccessBlock',
  'PutStorageLensConfiguration',
] as const;

/** Actions on access points, batch jobs, Storage Lens, multi-Region access points, access grants. */
const OTHER_ACTIONS = [
  'CreateAccessGrant',
  'CreateAccessGrantsInstance',
  'CreateAccessGrantsLocation',
  'CreateAccessPoint',
  'CreateAccessPointForObjectLambda',
  'CreateMultiRegionAccessPoint',
  'CreateStorageLensGroup',
  'DeleteAccessGrant',
  'DeleteAccessGrantsInstance',
  'DeleteAccessGrantsLocation',
  'DeleteAccessPoint',
  'DeleteAccessPointForObjectLambda',
  'DeleteAccessPointPolicy',
  'DeleteAccessPointPolicyForObjectLambda',
  'DeleteJobTagging',
  'DeleteMultiRegionAccessPoint',
  'DeleteStorageLensConfiguration',
  'DeleteStorageLensConfigurationTagging',
  'DeleteStorageLensGroup',
  'DescribeJob',
  'DescribeMultiRegionAccessPointOperation',
  'GetAccessGrant',
  'GetAccessGrantsInstance',
  'GetAccessGrantsLocation',
  'GetAccessPointConfigurationForObjectLambda',
  'GetAccessPointForObjectLambda',
  'GetAccessPointPolicy',
  'GetAccessPointPolicyForObjectLambda',
  'GetAccessPointPolicyStatus',
  'GetAccessPointPolicyStatusForObjectLambda',
  'GetDataAccess',
  'GetJobTagging',
  'GetMultiRegionAccessPoint',
  'GetMultiRegionAccessPointPolicy',
  'GetMultiRegionAccessPointPolicyStatus',
  'GetMultiRegionAccessPointRoutes',
  'GetStorageLensConfiguration',
  'GetStorageLensConfigurationTagging',
  'GetStorageLensDashboard',
  'GetStorageLensGroup',
  'ListAccessGrants',
  'ListAccessGrantsLocations',
  'ListCallerAccessGrants',
  'ListTagsForResource',
  'PutAccessPointConfigurationForObjectLambda',
  'PutAccessPointPolicy',
  'PutAccessPointPolicyForObjectLambda',
  'PutJobTagging',
  'PutMultiRegionAccessPointPolicy',
  'PutStorageLensConfigurationTagging',
  'SubmitMultiRegionAccessPointRoutes',
  'TagResource',
  'UntagResource',
  'UpdateJobPriority',
  'UpdateJobStatus',
  'UpdateStorageLensGroup',
] as const;

/** Every `s3:` action (canonical spelling, without the prefix) → the resource type it applies to. */
export const S3_ACTIONS: Readonly<Record<string, S3ResourceType>> = Object.freeze(
  Object.fromEntries([
    ...OBJECT_ACTIONS.map((a) => [a, 'object'] as const),
    ...BUCKET_ACTIONS.map((a) => [a, 'bucket'] as const),
    ...SERVICE_ACTIONS.map((a) => [a, 'none'] as const),
    ...OTHER_ACTIONS.map((a) => [a, 'other'] as const),
  ]),
);

/** The actions Cairn's admin API checks (MinIO's names, so `mc admin` policies carry over). */
export const ADMIN_ACTIONS: readonly string[] = Object.freeze([
  'AddUserToGroup',
  'AttachUserOrGroupPolicy',
  'BandwidthMonitor',
  'ConsoleLog',
  'CreatePolicy',
  'CreateServiceAccount',
  'CreateUser',
  'DeletePolicy',
  'DeleteUser',
  'DisableGroup',
  'DisableUser',
  'EnableGroup',
  'EnableUser',
  'GetGroup',
  'GetPolicy',
  'GetUser',
  'Heal',
  'HealthInfo',
  'ListGroups',
  'ListServiceAccounts',
  'ListUserPolicies',
  'ListUsers',
  'Profiling',
  'Prometheus',
  'RemoveServiceAccount',
  'RemoveUserFromGroup',
  'ServerInfo',
  'ServerTrace',
  'TopLocksInfo',
  'UpdateServiceAccount',
]);

/** The actions of Cairn's STS endpoint. */
export const STS_ACTIONS: readonly string[] = Object.freeze(['AssumeRole', 'AssumeRoleWithWebIdentity']);

/**
 * Services a policy may name. `kms:` actions are accepted by shape (any name): Cairn has no key
 * service of its own, and a KMS in front of it defines its own names.
 */
export const KNOWN_SERVICES = ['s3', 'admin', 'sts', 'kms'] as const;

/** Lower-cased action names by service (without the prefix); `null`: any well-formed name. */
export const ACTIONS_BY_SERVICE: Readonly<Record<string, readonly string[] | null>> = Object.freeze({
  s3: Object.keys(S3_ACTIONS),
  admin: ADMIN_ACTIONS,
  sts: STS_ACTIONS,
  kms: null,
});

/** Lower-cased `s3:<action>` → its resource type. */
export const S3_ACTION_TYPES: ReadonlyMap<string, S3ResourceType> = new Map(
  Object.entries(S3_ACTIONS).map(([a, t]) => [`s3:${a.toLowerCase()}`, t]),
);

/**
 * The `s3:` condition keys of AWS's reference. Keys ending in `/` take a tag key after them
 * (`s3:ExistingObjectTag/<key>`). Compared case-insensitively, as AWS compares key names.
 */
export const S3_CONDITION_KEYS: readonly string[] = Object.freeze([
  's3:AccessGrantsInstanceArn',
  's3:AccessPointNetworkOrigin',
  's3:authType',
  's3:BucketTag/',
  's3:DataAccessPointAccount',
  's3:DataAccessPointArn',
  's3:delimiter',
  's3:ExistingJobOperation',
  's3:ExistingJobPriority',
  's3:ExistingObjectTag/',
  's3:if-match',
  's3:if-none-match',
  's3:InventoryAccessibleOptionalFields',
  's3:JobSuspendedCause',
  's3:LocationConstraint',
  's3:max-keys',
  's3:object-lock-legal-hold',
  's3:object-lock-mode',
  's3:object-lock-remaining-retention-days',
  's3:object-lock-retain-until-date',
  's3:ObjectCreationOperation',
  's3:prefix',
  's3:RequestJobOperation',
  's3:RequestJobPriority',
  's3:RequestObjectTag/',
  's3:RequestObjectTagKeys',
  's3:ResourceAccount',
  's3:signatureAge',
  's3:signatureversion',
  's3:TlsVersion',
  's3:versionid',
  's3:x-amz-acl',
  's3:x-amz-content-sha256',
  's3:x-amz-copy-source',
  's3:x-amz-grant-full-control',
  's3:x-amz-grant-read',
  's3:x-amz-grant-read-acp',
  's3:x-amz-grant-write',
  's3:x-amz-grant-write-acp',
  's3:x-amz-metadata-directive',
  's3:x-amz-object-ownership',
  's3:x-amz-server-side-encryption',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
  's3:x-amz-server-side-encryption-customer-algorithm',
  's3:x-amz-storage-class',
  's3:x-amz-website-redirect-location',
]);

const S3_KEYS_EXACT = new Set(S3_CONDITION_KEYS.filter((k) => !k.endsWith('/')).map((k) => k.toLowerCase()));
const S3_KEYS_TAGGED = S3_CONDITION_KEYS.filter((k) => k.endsWith('/')).map((k) => k.toLowerCase());

/** Whether `key` is one of S3's condition keys (case-insensitive; tag keys need a non-empty tag name). */
export function isS3ConditionKey(key: string): boolean {
  const k = key.toLowerCase();
  if (S3_KEYS_EXACT.has(k)) return true;
  return S3_KEYS_TAGGED.some((p) => k.length > p.length && k.startsWith(p));
}
