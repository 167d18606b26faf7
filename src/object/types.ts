/** The shapes the object layer speaks in. No HTTP here: the S3 layer maps headers to these. */

/** Content headers S3 stores and returns as they were given. */
export interface ContentHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
}

export interface PartInfo {
  number: number;
  /** Bytes of the part as stored. */
  size: number;
  /** The part's ETag: hex MD5 of its bytes, without quotes. */
  etag: string;
  modTime: Date;
}

export interface ObjectInfo extends ContentHeaders {
  bucket: string;
  key: string;
  /** `'null'` for objects written while versioning was off or suspended (S3's null version). */
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  /** Hex MD5 of the body, or `md5(part md5s)-N` for a multipart object; no quotes. */
  etag: string;
  modTime: Date;
  /** `x-amz-meta-*` values, keys lower-cased without the prefix. */
  userMetadata: Record<string, string>;
  /** Tags as S3's URL-encoded query string (`a=1&b=2`), '' when none. */
  tags: string;
  storageClass: 'STANDARD' | 'REDUCED_REDUNDANCY';
  /** For multipart objects, the parts in order. */
  parts: PartInfo[];
  /** Checksums given or computed at upload (`CRC32`, `CRC32C`, `SHA1`, `SHA256`, `CRC64NVME`), base64. */
  checksums: Record<string, string>;
}

export interface BucketInfo {
  name: string;
  created: Date;
}

export interface PutObjectOptions extends ContentHeaders {
  /** Bytes the body will have; -1 when unknown (the body's end decides). */
  size: number;
  userMetadata?: Record<string, string>;
  tags?: string;
  storageClass?: 'STANDARD' | 'REDUCED_REDUNDANCY';
  /** Create a new version (versioning Enabled) instead of replacing the null version. */
  versioned?: boolean;
  /** Hex MD5 the body must have (Content-MD5), checked before the write commits. */
  expectedMd5?: string;
  checksums?: Record<string, string>;
}

export interface Range {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface GetObjectOptions {
  versionId?: string;
  range?: Range;
}

export interface DeleteObjectOptions {
  versionId?: string;
  /** Versioning Enabled: a delete without a version id writes a delete marker. */
  versioned?: boolean;
}

export interface ListObjectsOptions {
  prefix?: string;
  delimiter?: string;
  /** Keys strictly after this one (marker / start-after / continuation). */
  after?: string;
  /** At most this many keys and prefixes together (S3: 1000). */
  maxKeys?: number;
}

export interface ListObjectsResult {
  objects: ObjectInfo[];
  prefixes: string[];
  isTruncated: boolean;
  /** The last key or prefix returned, for the next page's `after`. */
  nextAfter?: string;
}

export interface MultipartUploadInfo {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: Date;
  storageClass: 'STANDARD' | 'REDUCED_REDUNDANCY';
}

export interface CompletePart {
  number: number;
  etag: string;
}

/** A stored object's bytes: the info, and a stream of the requested range. */
export interface GetObjectResult {
  info: ObjectInfo;
  /** The range served (inclusive bounds), or the whole object. */
  range: Range | null;
  stream: NodeJS.ReadableStream & AsyncIterable<Buffer>;
}
