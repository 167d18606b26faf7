import type { OpTable } from '../context';
import { AbortMultipartUpload } from './AbortMultipartUpload';
import { CompleteMultipartUpload } from './CompleteMultipartUpload';
import { CreateMultipartUpload } from './CreateMultipartUpload';
import { UploadPart } from './UploadPart';
import { UploadPartCopy } from './UploadPartCopy';

/** Multipart uploads: start, parts (uploaded or copied), complete, abort. ListParts is in `listing.ts`. */
export const multipartOps: OpTable = {
  CreateMultipartUpload,
  UploadPart,
  UploadPartCopy,
  CompleteMultipartUpload,
  AbortMultipartUpload,
};
