/** The bucket actions: one file each, named as AWS names the action. */
import type { OpTable } from '../context';
import { CreateBucket } from './CreateBucket';
import { DeleteBucket } from './DeleteBucket';
import { DeleteBucketCors } from './DeleteBucketCors';
import { DeleteBucketTagging } from './DeleteBucketTagging';
import { GetBucketAccelerateConfiguration } from './GetBucketAccelerateConfiguration';
import { GetBucketCors } from './GetBucketCors';
import { GetBucketEncryption } from './GetBucketEncryption';
import { GetBucketLocation } from './GetBucketLocation';
import { GetBucketLogging } from './GetBucketLogging';
import { GetBucketNotificationConfiguration } from './GetBucketNotificationConfiguration';
import { GetBucketReplication } from './GetBucketReplication';
import { GetBucketRequestPayment } from './GetBucketRequestPayment';
import { GetBucketTagging } from './GetBucketTagging';
import { GetBucketWebsite } from './GetBucketWebsite';
import { HeadBucket } from './HeadBucket';
import { ListBuckets } from './ListBuckets';
import { PutBucketCors } from './PutBucketCors';
import { PutBucketTagging } from './PutBucketTagging';

export const bucketOps: OpTable = {
  ListBuckets,
  CreateBucket,
  DeleteBucket,
  HeadBucket,
  GetBucketLocation,
  GetBucketTagging,
  PutBucketTagging,
  DeleteBucketTagging,
  GetBucketCors,
  PutBucketCors,
  DeleteBucketCors,
  // Stubs: AWS's answer for a bucket with nothing configured.
  GetBucketEncryption,
  GetBucketNotificationConfiguration,
  GetBucketReplication,
  GetBucketLogging,
  GetBucketRequestPayment,
  GetBucketWebsite,
  GetBucketAccelerateConfiguration,
};
