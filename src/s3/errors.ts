/**
 * The one table of S3 errors, the error class the S3 layer throws, its XML rendering, and the mapping
 * from object-layer errors. Codes, statuses and messages follow the "Error responses" page of the
 * Amazon S3 API Reference (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html);
 * where AWS's wire message differs from the page's description, the wire message is used.
 */
import { isObjectError, type ObjectError, type ObjectErrorCode } from '../object/errors';

interface S3ErrorSpec {
  status: number;
  message: string;
}

/** Every S3 error code: the HTTP status AWS answers with and its default message. */
export const S3Errors = {
  // --- The general list of error codes ---
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  AccessDenied: { status: 403, message: 'Access Denied' },
  AccessPointAlreadyOwnedByYou: {
    status: 409,
    message: 'An access point with an identical name already exists in your account.',
  },
  AccountProblem: {
    status: 403,
    message: 'There is a problem with your account that prevents the action from completing successfully.',
  },
  AllAccessDisabled: { status: 403, message: 'All access to this Amazon S3 resource has been disabled.' },
  AmbiguousGrantByEmailAddress: {
    status: 400,
    message: 'The email address you provided is associated with more than one account.',
  },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header you provided is invalid.' },
  AuthorizationQueryParametersError: {
    status: 400,
    message:
      'Error parsing the X-Amz-Credential parameter; the query-string authentication parameters are malformed.',
  },
  BadDigest: { status: 400, message: 'The Content-MD5 you specified did not match what we received.' },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  ClientTokenConflict: {
    status: 409,
    message: 'There is a conflict with a previous request that used the same client token.',
  },
  ConditionalRequestConflict: {
    status: 409,
    message: 'A conflicting operation occurred. If using PutObject you can retry the request.',
  },
  ConnectionClosedByRequester: {
    status: 400,
    message:
      'Returned to the original caller when an error is encountered while reading the WriteGetObjectResponse body.',
  },
  CredentialsNotSupported: { status: 400, message: 'This request does not support credentials.' },
  CrossLocationLoggingProhibited: {
    status: 403,
    message:
      'Cross-location logging not allowed. Buckets in one geographic location cannot log information to a bucket in another location.',
  },
  EncryptionTypeMismatch: {
    status: 400,
    message: 'The existing object was created with a different encryption type.',
  },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: {
    status: 400,
    message: 'Your proposed upload is smaller than the minimum allowed object size.',
  },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  IllegalLocationConstraintException: {
    status: 400,
    message:
      'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
  },
  IllegalVersioningConfigurationException: {
    status: 400,
    message: 'The versioning configuration specified in the request is invalid.',
  },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  },
  IncorrectNumberOfFilesInPostRequest: {
    status: 400,
    message: 'POST requires exactly one file upload per request.',
  },
  InlineDataTooLarge: { status: 400, message: 'Inline data exceeds the maximum allowed size.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: {
    status: 403,
    message: 'The AWS access key ID you provided does not exist in our records.',
  },
  InvalidAccessPoint: { status: 400, message: 'The specified access point name or account is not valid.' },
  InvalidAccessPointAliasError: {
    status: 400,
    message: 'The specified access point alias name is not valid.',
  },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketAclWithObjectOwnership: {
    status: 400,
    message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketOwnerAWSAccountID: {
    status: 400,
    message: 'The value of the expected bucket owner parameter must be an AWS account ID.',
  },
  InvalidBucketState: {
    status: 409,
    message: 'The request is not valid with the current state of the bucket.',
  },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidEncryptionAlgorithmError: {
    status: 400,
    message: 'The encryption request you specified is not valid. The valid value is AES256.',
  },
  InvalidHostHeader: {
    status: 400,
    message: 'The host headers provided in the request used the incorrect style addressing.',
  },
  InvalidHttpMethod: { status: 400, message: 'The request is made using an unexpected HTTP method.' },
  InvalidLocationConstraint: { status: 400, message: 'The specified location constraint is not valid.' },
  InvalidObjectState: {
    status: 403,
    message: 'The operation is not valid for the current state of the object.',
  },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: {
    status: 400,
    message:
      'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
  },
  InvalidPayer: { status: 403, message: 'All access to this object has been disabled.' },
  InvalidPolicyDocument: {
    status: 400,
    message: 'The content of the form does not meet the conditions specified in the policy document.',
  },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRegion: {
    status: 403,
    message:
      'You’ve attempted to create a Multi-Region Access Point in a Region that you haven’t opted in to.',
  },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidSecurity: { status: 403, message: 'The provided security credentials are not valid.' },
  InvalidSessionException: { status: 400, message: 'The session does not exist or has expired.' },
  InvalidSignature: {
    status: 400,
    message:
      'The request signature that the server calculated does not match the signature that you provided.',
  },
  InvalidSOAPRequest: { status: 400, message: 'The SOAP request body is invalid.' },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid' },
  InvalidTargetBucketForLogging: {
    status: 400,
    message:
      'The target bucket for logging does not exist, is not owned by you, or does not have the appropriate grants for the log-delivery group.',
  },
  InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  InvalidWriteOffset: {
    status: 400,
    message: 'The write offset value that you specified does not match the current object size.',
  },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedACLError: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema.',
  },
  MalformedPOSTRequest: {
    status: 400,
    message: 'The body of your POST request is not well-formed multipart/form-data.',
  },
  MalformedPolicy: { status: 400, message: "Policies must be valid JSON and the first byte must be '{'" },
  MalformedXML: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  MaxMessageLengthExceeded: { status: 400, message: 'Your request was too big.' },
  MaxPostPreDataLengthExceededError: {
    status: 400,
    message: 'Your POST request fields preceding the upload file were too large.',
  },
  MetadataTooLarge: {
    status: 400,
    message: 'Your metadata headers exceed the maximum allowed metadata size.',
  },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingAttachment: { status: 400, message: 'A SOAP attachment was expected, but none were found.' },
  MissingAuthenticationToken: { status: 403, message: 'The request was not signed.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { status: 400, message: 'Request Body is empty' },
  MissingSecurityElement: { status: 400, message: 'The SOAP 1.1 request is missing a security element.' },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  NoLoggingStatusForKey: {
    status: 400,
    message: 'There is no such thing as a logging status subresource for a key.',
  },
  NoSuchAccessPoint: { status: 404, message: 'The specified access point does not exist.' },
  NoSuchAsyncRequest: { status: 404, message: 'The specified request was not found.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchMultiRegionAccessPoint: {
    status: 404,
    message: 'The specified Multi-Region Access Point does not exist.',
  },
  NoSuchObjectLockConfiguration: {
    status: 404,
    message: 'The specified object does not have a ObjectLock configuration',
  },
  NoSuchPublicAccessBlockConfiguration: {
    status: 404,
    message: 'The public access block configuration was not found',
  },
  NoSuchResource: { status: 404, message: 'The specified resource does not exist.' },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NoSuchVersion: {
    status: 404,
    message: 'The specified version does not exist.',
  },
  NoSuchWebsiteConfiguration: {
    status: 404,
    message: 'The specified bucket does not have a website configuration',
  },
  NoTransformationDefined: {
    status: 404,
    message: 'No transformation found for this Object Lambda Access Point.',
  },
  NotDeviceOwnerError: {
    status: 400,
    message: 'The device that generated the token is not owned by the authenticated user.',
  },
  NotImplemented: {
    status: 501,
    message: 'A header you provided implies functionality that is not implemented',
  },
  NotModified: { status: 304, message: 'Not Modified' },
  NotSignedUp: { status: 403, message: 'Your account is not signed up for the Amazon S3 service.' },
  ObjectLockConfigurationNotFoundError: {
    status: 404,
    message: 'Object Lock configuration does not exist for this bucket',
  },
  OperationAborted: {
    status: 409,
    message: 'A conflicting conditional operation is currently in progress against this resource. Try again.',
  },
  OwnershipControlsNotFoundError: { status: 404, message: 'The bucket ownership controls were not found' },
  PermanentRedirect: {
    status: 301,
    message:
      'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
  },
  PermanentRedirectControlError: {
    status: 301,
    message: 'The API operation you are attempting to access must be addressed using the specified endpoint.',
  },
  PreconditionFailed: {
    status: 412,
    message: 'At least one of the pre-conditions you specified did not hold',
  },
  Redirect: { status: 307, message: 'Temporary redirect.' },
  ReplicationConfigurationNotFoundError: {
    status: 404,
    message: 'The replication configuration was not found',
  },
  RequestHeaderSectionTooLarge: {
    status: 400,
    message: 'Your request header section exceeds the maximum allowed size.',
  },
  RequestIsNotMultiPartContent: {
    status: 400,
    message: 'Bucket POST must be of the enclosure-type multipart/form-data',
  },
  RequestTimeout: {
    status: 400,
    message:
      'Your socket connection to the server was not read from or written to within the timeout period.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: "The difference between the request time and the server's time is too large.",
  },
  RequestTorrentOfBucketError: {
    status: 400,
    message: 'Requesting the torrent file of a bucket is not permitted.',
  },
  ResponseInterrupted: { status: 400, message: 'The response was interrupted before it completed.' },
  RestoreAlreadyInProgress: { status: 409, message: 'Object restore is already in progress' },
  ServerSideEncryptionConfigurationNotFoundError: {
    status: 404,
    message: 'The server side encryption configuration was not found',
  },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle request.' },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  TemporaryRedirect: { status: 307, message: 'You are being redirected to the bucket while DNS updates.' },
  TokenCodeInvalidError: {
    status: 400,
    message: 'The serial number and/or token code you provided is not valid.',
  },
  TokenRefreshRequired: { status: 400, message: 'The provided token must be refreshed.' },
  TooManyAccessPoints: {
    status: 400,
    message: 'You have attempted to create more access points than are allowed for an account.',
  },
  TooManyBuckets: { status: 400, message: 'You have attempted to create more buckets than allowed' },
  TooManyParts: { status: 400, message: 'You have attempted to upload more parts than allowed.' },
  UnexpectedContent: { status: 400, message: 'This request does not support content' },
  UnexpectedIPError: { status: 403, message: 'This request was rejected because the IP was unexpected.' },
  UnresolvableGrantByEmailAddress: {
    status: 400,
    message: 'The email address you provided does not match any account on record.',
  },
  UnsupportedArgument: { status: 400, message: 'The request contained an unsupported argument.' },
  UnsupportedSignature: {
    status: 400,
    message: 'The provided request is signed with an unsupported signature version or algorithm.',
  },
  UserKeyMustBeSpecified: {
    status: 400,
    message:
      'The bucket POST must contain the specified field name. If it is specified, check the order of the fields.',
  },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
  XAmzContentChecksumMismatch: {
    status: 400,
    message: 'The provided checksum does not match what was computed.',
  },

  // --- Tagging-related error codes ---
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  InvalidTagError: { status: 400, message: 'The tag provided was not a valid tag.' },
  NoSuchTagSetError: { status: 404, message: 'There is no tag set associated with the bucket.' },
  TooManyTags: { status: 400, message: 'The number of tags exceeds the limit.' },

  // --- Replication-related error codes ---
  InvalidReplicationConfiguration: { status: 400, message: 'The replication configuration is not valid.' },
  NoSuchReplicationConfiguration: { status: 404, message: 'The replication configuration was not found' },

  // --- Not on AWS's list: used by other S3-compatible servers, kept so clients written against them
  // keep working. Cairn answers InvalidArgument for a bad default retention, as AWS does.
  InvalidRetentionPeriod: { status: 400, message: 'The retention period must be a positive integer.' },

  // --- Cairn's own, prefixed X like any vendor extension ---
  /**
   * No drive has room for the write. 507 (RFC 4918 Insufficient Storage) rather than 503: SDKs retry
   * 503 SlowDown with backoff, and retrying a write into a full disk only delays the failure.
   */
  XCairnStorageFull: {
    status: 507,
    message:
      'The storage backend has no room left for this write. Delete objects or add capacity, then retry.',
  },
} as const satisfies Record<string, S3ErrorSpec>;

export type S3ErrorCode = keyof typeof S3Errors;

export function isS3ErrorCode(code: string): code is S3ErrorCode {
  return Object.hasOwn(S3Errors, code);
}

export interface S3ErrorOptions {
  /** Replaces the table's message. */
  message?: string;
  /** The `<Resource>` element: the bucket or object path the request named. */
  resource?: string;
  /**
   * Elements AWS adds after `<Message>` for some codes, in the order given: `BucketName`, `Key`,
   * `VersionId`, `UploadId`, `ArgumentName`, `ArgumentValue`, `Region`, `Method`, `ResourceType`,
   * `RangeRequested`, `ActualObjectSize`, `ProposedSize`, `MaxSizeAllowed`, `MinSizeAllowed`...
   */
  fields?: Record<string, string | number | undefined>;
  /** Response headers the error implies (`Content-Range` for 416, `Allow` for 405...). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly resource: string | undefined;
  readonly fields: Record<string, string>;
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, opts: S3ErrorOptions = {}) {
    super(
      opts.message ?? S3Errors[code].message,
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'S3Error';
    this.code = code;
    this.status = S3Errors[code].status;
    this.resource = opts.resource;
    this.fields = {};
    for (const [k, v] of Object.entries(opts.fields ?? {})) if (v !== undefined) this.fields[k] = String(v);
    this.headers = { ...opts.headers };
  }
}

export function isS3Error(e: unknown, ...codes: S3ErrorCode[]): e is S3Error {
  return e instanceof S3Error && (codes.length === 0 || codes.includes(e.code));
}

/**
 * XML character data for the error document: the same rules as `escapeXml` in `xml.ts` (which imports
 * this module, so it cannot be imported here).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const TO_ESCAPE = /[&<>"'\u0000-\u001f\u007f]/g;
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
function esc(s: string): string {
  return s.replace(TO_ESCAPE, (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
}

/**
 * AWS's error document: `Code`, `Message`, the code's extra elements, `Resource`, `RequestId`,
 * `HostId`. `resource` given here is used when the error itself does not name one. No namespace:
 * AWS's `<Error>` carries none.
 */
export function toXml(err: S3Error, ctx: { requestId: string; hostId?: string; resource?: string }): string {
  let out = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${err.code}</Code><Message>${esc(err.message)}</Message>`;
  for (const [k, v] of Object.entries(err.fields)) out += `<${k}>${esc(v)}</${k}>`;
  const resource = err.resource ?? ctx.resource;
  if (resource !== undefined) out += `<Resource>${esc(resource)}</Resource>`;
  out += `<RequestId>${esc(ctx.requestId)}</RequestId>`;
  if (ctx.hostId !== undefined) out += `<HostId>${esc(ctx.hostId)}</HostId>`;
  return `${out}</Error>`;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/**
 * The S3 error for each object-layer error. Written as a total record so adding an object error code
 * without a mapping fails to compile.
 */
const fromObject: Record<ObjectErrorCode, (d: Record<string, unknown>, m: string | undefined) => S3Error> = {
  BucketNotFound: (d) => new S3Error('NoSuchBucket', { fields: { BucketName: str(d.bucket) } }),
  BucketExists: (d) => new S3Error('BucketAlreadyOwnedByYou', { fields: { BucketName: str(d.bucket) } }),
  BucketNotEmpty: (d) => new S3Error('BucketNotEmpty', { fields: { BucketName: str(d.bucket) } }),
  BucketNameInvalid: (d) => new S3Error('InvalidBucketName', { fields: { BucketName: str(d.bucket) } }),
  // AWS: a key whose latest version is a delete marker is 404 naming the marker in the headers.
  ObjectNotFound: (d) =>
    new S3Error('NoSuchKey', {
      fields: { Key: str(d.key) },
      headers:
        d.deleteMarker && typeof d.versionId === 'string'
          ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': d.versionId }
          : {},
    }),
  VersionNotFound: (d) =>
    new S3Error('NoSuchVersion', { fields: { Key: str(d.key), VersionId: str(d.versionId) } }),
  // AWS has no code for a key the store cannot hold; InvalidArgument names the argument at fault. The
  // object layer's message is not passed on: it comes from the drive and may name local paths.
  ObjectNameInvalid: (d) =>
    new S3Error('InvalidArgument', {
      message: 'Object name contains characters this server cannot store.',
      fields: { ArgumentName: 'key', ArgumentValue: str(d.key) },
    }),
  ObjectNameTooLong: (d) => new S3Error('KeyTooLongError', { fields: { Key: str(d.key) } }),
  // AWS: reading a delete marker by version id is 405 with `x-amz-delete-marker: true`.
  MethodNotAllowed: (d) =>
    new S3Error('MethodNotAllowed', {
      fields: { Method: str(d.method), ResourceType: d.deleteMarker ? 'DeleteMarker' : str(d.resourceType) },
      headers: {
        ...(d.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
        ...(typeof d.allow === 'string' ? { Allow: d.allow } : d.deleteMarker ? { Allow: 'DELETE' } : {}),
        ...(typeof d.versionId === 'string' ? { 'x-amz-version-id': d.versionId } : {}),
      },
    }),
  InvalidRange: (d) =>
    new S3Error('InvalidRange', {
      fields: { RangeRequested: str(d.range), ActualObjectSize: str(d.size) },
      headers: typeof d.size === 'number' ? { 'Content-Range': `bytes */${d.size}` } : {},
    }),
  InvalidArgument: (_d, m) => new S3Error('InvalidArgument', m ? { message: m } : {}),
  // Quorum loss is transient (drives come back, heal runs): 503 SlowDown makes SDKs back off and retry.
  InsufficientReadQuorum: () =>
    new S3Error('SlowDown', { message: 'Resource requested is unreadable, please reduce your request rate' }),
  InsufficientWriteQuorum: () =>
    new S3Error('SlowDown', { message: 'Resource requested is unwritable, please reduce your request rate' }),
  InvalidUploadId: (d) => new S3Error('NoSuchUpload', { fields: { UploadId: str(d.uploadId) } }),
  InvalidPart: (d) =>
    new S3Error('InvalidPart', { fields: { UploadId: str(d.uploadId), PartNumber: str(d.part) } }),
  InvalidPartOrder: (d) => new S3Error('InvalidPartOrder', { fields: { UploadId: str(d.uploadId) } }),
  PartTooSmall: (d) =>
    new S3Error('EntityTooSmall', {
      fields: {
        ProposedSize: str(d.size),
        MinSizeAllowed: str(d.minSize),
        PartNumber: str(d.part),
        ETag: str(d.etag),
      },
    }),
  EntityTooLarge: (d) =>
    new S3Error('EntityTooLarge', { fields: { ProposedSize: str(d.size), MaxSizeAllowed: str(d.maxSize) } }),
  IncompleteBody: () => new S3Error('IncompleteBody'),
  BadDigest: (d) =>
    new S3Error('BadDigest', {
      fields: { ExpectedDigest: str(d.expected), CalculatedDigest: str(d.calculated) },
    }),
  StorageFull: () => new S3Error('XCairnStorageFull'),
  // A lock wait that timed out is contention: tell the client to back off, as for quorum loss.
  OperationTimedOut: () =>
    new S3Error('SlowDown', {
      message: 'The operation timed out waiting for a concurrent operation; please retry',
    }),
  // AWS: deleting (or changing the lock of) a version under Object Lock is 403 with this message.
  ObjectLocked: () =>
    new S3Error('AccessDenied', { message: 'Access Denied because object protected by object lock.' }),
};

/** The S3 error an object-layer error becomes (the one translation at this boundary). */
export function fromObjectError(e: ObjectError): S3Error {
  // ObjectError prefixes its message with the code; the S3 message is the part after it, if any.
  const own = e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : undefined;
  const s3 = fromObject[e.code](e.detail, own);
  return Object.defineProperty(s3, 'cause', {
    value: e,
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

/**
 * Any thrown value as the S3 error to answer with: S3 errors as they are, object errors mapped, anything
 * else an InternalError (its message is not shown to the client; it stays on `cause` for the log).
 */
export function toS3Error(e: unknown): S3Error {
  if (e instanceof S3Error) return e;
  if (isObjectError(e)) return fromObjectError(e);
  return new S3Error('InternalError', { cause: e });
}
