/** The object actions: reads, writes, copies, deletes, tags, attributes and browser form uploads. */
import type { OpTable } from '../context';
import { CopyObject } from './CopyObject';
import { DeleteObject } from './DeleteObject';
import { DeleteObjects } from './DeleteObjects';
import { DeleteObjectTagging } from './DeleteObjectTagging';
import { GetObject } from './GetObject';
import { GetObjectAcl } from './GetObjectAcl';
import { GetObjectAttributes } from './GetObjectAttributes';
import { GetObjectLegalHold } from './GetObjectLegalHold';
import { GetObjectRetention } from './GetObjectRetention';
import { GetObjectTagging } from './GetObjectTagging';
import { HeadObject } from './HeadObject';
import { PostObject } from './PostObject';
import { PutObject } from './PutObject';
import { PutObjectAcl } from './PutObjectAcl';
import { PutObjectLegalHold } from './PutObjectLegalHold';
import { PutObjectRetention } from './PutObjectRetention';
import { PutObjectTagging } from './PutObjectTagging';

export const objectOps: OpTable = {
  GetObject,
  HeadObject,
  PutObject,
  CopyObject,
  DeleteObject,
  DeleteObjects,
  GetObjectTagging,
  PutObjectTagging,
  DeleteObjectTagging,
  GetObjectAcl,
  PutObjectAcl,
  GetObjectAttributes,
  PostObject,
  GetObjectRetention,
  PutObjectRetention,
  GetObjectLegalHold,
  PutObjectLegalHold,
};
