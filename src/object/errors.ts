/**
 * What the object layer can say went wrong, in storage words, not HTTP ones: the S3 layer maps each
 * to its S3 error code once (`src/s3/errors.ts`).
 */
export const ObjectErrorCodes = [
  'BucketNotFound',
  'BucketExists',
  'BucketNotEmpty',
  'BucketNameInvalid',
  'ObjectNotFound',
  'VersionNotFound',
  'ObjectNameInvalid',
  'ObjectNameTooLong',
  'MethodNotAllowed', // e.g. reading a delete marker by version id
  'InvalidRange',
  'InvalidArgument',
  'InsufficientReadQuorum',
  'InsufficientWriteQuorum',
  'InvalidUploadId',
  'InvalidPart',
  'InvalidPartOrder',
  'PartTooSmall',
  'EntityTooLarge',
  'IncompleteBody', // the body ended before its declared size
  'BadDigest', // Content-MD5 (or a checksum) does not match the body
  'StorageFull',
  'OperationTimedOut',
  'ObjectLocked', // S3 Object Lock: the version is under retention or legal hold
] as const;

export type ObjectErrorCode = (typeof ObjectErrorCodes)[number];

export class ObjectError extends Error {
  readonly code: ObjectErrorCode;
  /** What the error is about (bucket, key, version id, part...), for messages and logs. */
  readonly detail: Record<string, unknown>;
  constructor(
    code: ObjectErrorCode,
    message?: string,
    detail: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message ? `${code}: ${message}` : code, options);
    this.name = 'ObjectError';
    this.code = code;
    this.detail = detail;
  }
}

export function isObjectError(e: unknown, ...codes: ObjectErrorCode[]): e is ObjectError {
  return e instanceof ObjectError && (codes.length === 0 || codes.includes(e.code));
}
