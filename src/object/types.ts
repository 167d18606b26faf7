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
  /** `x-amz-checksum-*` values of the part (base64, by S3's algorithm name), when it has any. */
  checksums?: Record<string, string>;
}

/** What `putObjectPart` takes besides the body: its size, Content-MD5 and `x-amz-checksum-*`. */
export interface PartOptions {
  /** Bytes the part will have; -1 when unknown (the body's end decides). */
  size: number;
  /** Hex MD5 the part must have (Content-MD5), checked before the part is stored. */
  expectedMd5?: string;
  /** Checksums to compute beside the ETag's MD5, in the same pass; kept with the part. */
  checksumAlgorithms?: PutObjectOptions['checksumAlgorithms'];
  /** As for `putObject`: values the computed checksums must have, checked before the part is stored. */
  expectedChecksums?: PutObjectOptions['expectedChecksums'];
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
  /** S3 Object Lock retention of this version, when it has one (possibly expired). */
  lockRetention?: LockRetention;
  /** S3 Object Lock legal hold: set (true) or released (false); absent when never set. */
  legalHold?: boolean;
}

/** S3 Object Lock retention: the mode, and until when the version is kept. */
export interface LockRetention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  retainUntil: Date;
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
  /** S3 Object Lock retention and legal hold the new version starts with. */
  lockRetention?: LockRetention;
  legalHold?: boolean;
  /** Hex MD5 the body must have (Content-MD5), checked before the write commits. */
  expectedMd5?: string;
  checksums?: Record<string, string>;
  /**
   * Checksums to compute while the body streams in, beside the ETag's MD5, in the same pass; stored
   * (base64, over `checksums`) with the version.
   */
  checksumAlgorithms?: ChecksumAlgorithm[];
  /**
   * Base64 values the computed checksums must have, by algorithm, checked once the body has ended and
   * before the write commits: a mismatch is `BadDigest` (with `algorithm`, `expected`, `calculated`)
   * and nothing is stored. A function is called at that point, for values that arrive after the body
   * (aws-chunked trailers); what it throws abandons the write the same way.
   */
  expectedChecksums?:
    | Partial<Record<ChecksumAlgorithm, string>>
    | (() => Partial<Record<ChecksumAlgorithm, string>>);
  /** A conditional write, checked under the key's write lock at commit (see `WritePrecondition`). */
  precondition?: WritePrecondition;
}

/**
 * A conditional write (S3's `If-Match` / `If-None-Match` on PutObject, CopyObject and
 * CompleteMultipartUpload): run under the key's write lock just before the new version commits, with
 * the key's current version (`null` when there is none, or a delete marker is the latest). What it
 * throws refuses the write and nothing is stored, so two racing writes cannot both pass it.
 */
export type WritePrecondition = (current: ObjectInfo | null) => void;

/** The checksum algorithms S3 stores beside the ETag, as S3 names them. */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

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
  /**
   * Versioning Suspended: a delete without a version id writes a delete marker whose version id is
   * `null`, replacing the null version (its data is removed); other versions stay.
   */
  suspended?: boolean;
  /**
   * S3 Object Lock: delete a version under an unexpired GOVERNANCE retention (the caller was allowed
   * `s3:BypassGovernanceRetention` and asked to). Never a legal hold nor COMPLIANCE.
   */
  bypassGovernance?: boolean;
}

/** What `updateObjectMetadata` can change on one version, in place. */
export type ObjectMetadataUpdate = Partial<
  Pick<
    ObjectInfo,
    | 'userMetadata'
    | 'tags'
    | 'contentType'
    | 'contentEncoding'
    | 'contentDisposition'
    | 'contentLanguage'
    | 'cacheControl'
    | 'expires'
    | 'legalHold'
  >
> & {
  /** The new S3 Object Lock retention; `null` removes it. */
  lockRetention?: LockRetention | null;
};

export interface UpdateMetadataOptions {
  versionId?: string;
  /**
   * Run under the key's write lock with the version as it is before the update; what it throws
   * refuses the update (S3 Object Lock's "a retention cannot be shortened", checked atomically).
   */
  precondition?: (current: ObjectInfo) => void;
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

export interface ListObjectVersionsOptions {
  prefix?: string;
  delimiter?: string;
  /** Keys after this one; with `versionIdMarker`, first the versions of this key after that one. */
  keyMarker?: string;
  /** A version of `keyMarker`: the page resumes with the versions older than it. */
  versionIdMarker?: string;
  /** At most this many versions, delete markers and prefixes together (S3: 1000). */
  maxKeys?: number;
}

export interface ListObjectVersionsResult {
  /**
   * Versions and delete markers (`deleteMarker`), by key ascending and newest first within a key;
   * `isLatest` on each key's latest.
   */
  versions: ObjectInfo[];
  prefixes: string[];
  isTruncated: boolean;
  /** Where the next page starts (the last entry returned), when truncated. */
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/** S3's checksum types: of the whole object, or of the parts' checksums (`-N`). */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

/** What `newMultipartUpload` takes: what the object will carry, and the parts' checksum. */
export interface NewMultipartUploadOptions
  extends Omit<PutObjectOptions, 'size' | 'expectedMd5' | 'checksumAlgorithms' | 'expectedChecksums'> {
  /** The checksum every part carries; computed for each part, whatever else the part names. */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** COMPOSITE (default): completion gives the object the checksum of the parts' checksums. */
  checksumType?: ChecksumType;
}

export interface MultipartUploadInfo {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: Date;
  storageClass: 'STANDARD' | 'REDUCED_REDUNDANCY';
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface CompletePart {
  number: number;
  etag: string;
  /** Checksums the client lists for the part: each must be the part's own (else InvalidPart). */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>;
}

/** A stored object's bytes: the info, and a stream of the requested range. */
export interface GetObjectResult {
  info: ObjectInfo;
  /** The range served (inclusive bounds), or the whole object. */
  range: Range | null;
  stream: NodeJS.ReadableStream & AsyncIterable<Buffer>;
  /**
   * The same bytes already in memory, when the object layer had them at hand (small data held in
   * the metadata): a caller may send these instead of reading `stream` (then left unread).
   */
  data?: Buffer;
}
