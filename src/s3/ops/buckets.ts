/** The bucket actions: one file each, named as AWS names the action. */
import type { OpTable } from '../context';
import { CreateBucket } from './CreateBucket';
import { DeleteBucket } from './DeleteBucket';
import { DeleteBucketCors } from './DeleteBucketCors';
import { DeleteBucketOwnershipControls } from './DeleteBucketOwnershipControls';
import { DeleteBucketPolicy } from './DeleteBucketPolicy';
import { DeleteBucketTagging } from './DeleteBucketTagging';
import { GetBucketAccelerateConfiguration } from './GetBucketAccelerateConfiguration';
import { GetBucketAcl } from './GetBucketAcl';
import { GetBucketCors } from './GetBucketCors';
import { GetBucketEncryption } from './GetBucketEncryption';
import { GetBucketLocation } from './GetBucketLocation';
import { GetBucketLogging } from './GetBucketLogging';
import { GetBucketNotificationConfiguration } from './GetBucketNotificationConfiguration';
import { GetBucketOwnershipControls } from './GetBucketOwnershipControls';
import { GetBucketPolicy } from './GetBucketPolicy';
import { GetBucketPolicyStatus } from './GetBucketPolicyStatus';
import { GetBucketReplication } from './GetBucketReplication';
import { GetBucketRequestPayment } from './GetBucketRequestPayment';
import { GetBucketTagging } from './GetBucketTagging';
import { GetBucketVersioning } from './GetBucketVersioning';
import { GetBucketWebsite } from './GetBucketWebsite';
import { GetObjectLockConfiguration } from './GetObjectLockConfiguration';
import { HeadBucket } from './HeadBucket';
import { ListBuckets } from './ListBuckets';
import { PutBucketAcl } from './PutBucketAcl';
import { PutBucketCors } from './PutBucketCors';
import { PutBucketOwnershipControls } from './PutBucketOwnershipControls';
import { PutBucketPolicy } from './PutBucketPolicy';
import { PutBucketTagging } from './PutBucketTagging';
import { PutBucketVersioning } from './PutBucketVersioning';
import { PutObjectLockConfiguration } from './PutObjectLockConfiguration';

export const bucketOps: OpTable = {
  ListBuckets,
  CreateBucket,
  DeleteBucket,
  HeadBucket,
  GetBucketLocation,
  GetBucketTagging,
  PutBucketTagging,
  DeleteBucketTagging,
  GetBucketVersioning,
  PutBucketVersioning,
  GetBucketCors,
  PutBucketCors,
  DeleteBucketCors,
  GetBucketPolicy,
  PutBucketPolicy,
  DeleteBucketPolicy,
  GetBucketPolicyStatus,
  GetObjectLockConfiguration,
  PutObjectLockConfiguration,
  // ACLs disabled (Object Ownership BucketOwnerEnforced): see ./acl.ts.
  GetBucketAcl,
  PutBucketAcl,
  GetBucketOwnershipControls,
  PutBucketOwnershipControls,
  DeleteBucketOwnershipControls,
  // Stubs: AWS's answer for a bucket with nothing configured.
  GetBucketEncryption,
  GetBucketNotificationConfiguration,
  GetBucketReplication,
  GetBucketLogging,
  GetBucketRequestPayment,
  GetBucketWebsite,
  GetBucketAccelerateConfiguration,
};
