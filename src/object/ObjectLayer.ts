/**
 * What the S3 layer stands on: buckets, objects with versions, multipart uploads, listing. One
 * implementation today (`ErasureSets` over local drives); healing, scanning and admin are kept out
 * of this interface on purpose (see `src/erasure/heal.ts`).
 *
 * Every method fails with an `ObjectError` (`./errors`).
 */
import type { Readable } from 'node:stream';
import type {
  BucketInfo,
  CompletePart,
  DeleteObjectOptions,
  GetObjectOptions,
  GetObjectResult,
  ListObjectsOptions,
  ListObjectsResult,
  ListObjectVersionsOptions,
  ListObjectVersionsResult,
  LockRetention,
  MultipartUploadInfo,
  NewMultipartUploadOptions,
  ObjectInfo,
  ObjectMetadataUpdate,
  PartInfo,
  PartOptions,
  PutObjectOptions,
  UpdateMetadataOptions,
  WritePrecondition,
} from './types';

export type Body = Readable | AsyncIterable<Buffer>;

export interface ObjectLayer {
  makeBucket(bucket: string): Promise<void>;
  getBucketInfo(bucket: string): Promise<BucketInfo>;
  listBuckets(): Promise<BucketInfo[]>;
  deleteBucket(bucket: string, opts?: { force?: boolean }): Promise<void>;

  /** Streams `body` in; visible to readers only once committed at write quorum. */
  putObject(bucket: string, key: string, body: Body, opts: PutObjectOptions): Promise<ObjectInfo>;
  getObjectInfo(bucket: string, key: string, opts?: GetObjectOptions): Promise<ObjectInfo>;
  /** The object's info and a stream of its bytes (or of `opts.range`). */
  getObject(bucket: string, key: string, opts?: GetObjectOptions): Promise<GetObjectResult>;
  /** Deletes a version, or writes a delete marker (versioned without a version id). */
  deleteObject(bucket: string, key: string, opts?: DeleteObjectOptions): Promise<ObjectInfo>;
  /**
   * Replaces the stored metadata (user metadata, content headers, tags, Object Lock retention and
   * legal hold) of one version, in place; `opts.precondition` may refuse it under the key's lock.
   */
  updateObjectMetadata(
    bucket: string,
    key: string,
    update: ObjectMetadataUpdate,
    opts?: UpdateMetadataOptions,
  ): Promise<ObjectInfo>;
  listObjects(bucket: string, opts?: ListObjectsOptions): Promise<ListObjectsResult>;
  /** Every version and delete marker of the keys, a page at a time (ListObjectVersions). */
  listObjectVersions(bucket: string, opts?: ListObjectVersionsOptions): Promise<ListObjectVersionsResult>;

  newMultipartUpload(bucket: string, key: string, opts: NewMultipartUploadOptions): Promise<string>;
  putObjectPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Body,
    opts: PartOptions,
  ): Promise<PartInfo>;
  listObjectParts(
    bucket: string,
    key: string,
    uploadId: string,
    opts?: { after?: number; maxParts?: number },
  ): Promise<{ parts: PartInfo[]; isTruncated: boolean; nextAfter?: number; upload: MultipartUploadInfo }>;
  listMultipartUploads(
    bucket: string,
    opts?: { prefix?: string; afterKey?: string; afterUploadId?: string; maxUploads?: number },
  ): Promise<{ uploads: MultipartUploadInfo[]; isTruncated: boolean }>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /**
   * Writes the object's metadata listing the parts; part data is moved, never copied.
   * `defaultRetention` is the Object Lock retention the object gets if the upload named none;
   * `precondition` (a conditional write) refuses the completion under the key's lock, keeping the upload.
   */
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts?: {
      versioned?: boolean;
      defaultRetention?: LockRetention;
      precondition?: WritePrecondition;
      /** The object's checksum the request names (x-amz-checksum-<alg>): BadDigest unless it is. */
      expectedChecksums?: Record<string, string>;
    },
  ): Promise<ObjectInfo>;

  /** Finishes in-flight work and stops background tasks. */
  shutdown(): Promise<void>;
}
