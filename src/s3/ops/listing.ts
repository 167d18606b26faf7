import type { OpTable } from '../context';
import { ListMultipartUploads } from './ListMultipartUploads';
import { ListObjects } from './ListObjects';
import { ListObjectsV2 } from './ListObjectsV2';
import { ListObjectVersions } from './ListObjectVersions';
import { ListParts } from './ListParts';

/** Listing: objects (v1 and v2), versions, multipart uploads in progress, the parts of one upload. */
export const listingOps: OpTable = {
  ListObjects,
  ListObjectsV2,
  ListObjectVersions,
  ListMultipartUploads,
  ListParts,
};
