/**
 * The S3 router: a pure function from (method, path, query, headers) to the S3 action the request
 * names, with its bucket, key and query parameters. Modelled on Garage's `src/api/s3/router.rs`: the
 * action is looked up by (target, method, subresource), where the target is the service, a bucket or
 * an object and the subresource is the one query keyword present (`?acl`, `?uploads`, ...). Each
 * lookup key is distinct, so nothing depends on the order entries are written in; the few actions a
 * keyword does not settle (`?uploadId`, `?partNumber`, `x-amz-copy-source`, `?list-type`, `?id`) are
 * decided inside that one entry from what is present, never by falling through to another entry.
 */
import { S3Error, type S3ErrorCode } from './errors';

// ---------------------------------------------------------------------------------------------------
// Parameters each action carries from the query string
// ---------------------------------------------------------------------------------------------------

export type NoParams = Record<string, never>;

export interface VersionParams {
  /** `?versionId=`; `'null'` names the null version. */
  versionId?: string;
}

/** `response-*` query parameters of GetObject/HeadObject: response headers to override. */
export interface ResponseHeaderOverrides {
  cacheControl?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentType?: string;
  expires?: string;
}

export interface GetObjectParams extends VersionParams {
  /** `?partNumber=` (1-10000): the bytes of that part of a multipart object. */
  partNumber?: number;
  responseHeaders: ResponseHeaderOverrides;
}

export interface ListBucketsParams {
  maxBuckets?: number;
  continuationToken?: string;
  prefix?: string;
  bucketRegion?: string;
}

interface ListCommon {
  prefix?: string;
  delimiter?: string;
  /** Only `url` is defined; anything else is refused here. */
  encodingType?: 'url';
}

export interface ListObjectsParams extends ListCommon {
  marker?: string;
  maxKeys?: number;
}

export interface ListObjectsV2Params extends ListCommon {
  /** Kept as sent, `''` included: an empty token is the action's to refuse. */
  continuationToken?: string;
  startAfter?: string;
  maxKeys?: number;
  fetchOwner: boolean;
}

export interface ListObjectVersionsParams extends ListCommon {
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys?: number;
}

export interface ListMultipartUploadsParams extends ListCommon {
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads?: number;
}

export interface ListPartsParams {
  uploadId: string;
  maxParts?: number;
  partNumberMarker?: number;
}

export interface UploadIdParams {
  uploadId: string;
}

export interface UploadPartParams {
  uploadId: string;
  partNumber: number;
}

/** Analytics, inventory, metrics and intelligent-tiering configurations are named by `?id=`. */
export interface ConfigIdParams {
  id?: string;
  continuationToken?: string;
}

export interface SelectParams extends VersionParams {
  selectType?: string;
}

// ---------------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------------

type ServiceRoute<A extends string, P> = { action: A; params: P };
type BucketRoute<A extends string, P = NoParams> = { action: A; bucket: string; params: P };
type ObjectRoute<A extends string, P = NoParams> = { action: A; bucket: string; key: string; params: P };

export type Route =
  // Service
  | ServiceRoute<'ListBuckets', ListBucketsParams>
  // Bucket
  | BucketRoute<'CreateBucket'>
  | BucketRoute<'DeleteBucket'>
  | BucketRoute<'HeadBucket'>
  | BucketRoute<'GetBucketLocation'>
  | BucketRoute<'ListObjects', ListObjectsParams>
  | BucketRoute<'ListObjectsV2', ListObjectsV2Params>
  | BucketRoute<'ListObjectVersions', ListObjectVersionsParams>
  | BucketRoute<'ListMultipartUploads', ListMultipartUploadsParams>
  | BucketRoute<'DeleteObjects'>
  | BucketRoute<'PostObject'>
  | BucketRoute<'GetBucketTagging'>
  | BucketRoute<'PutBucketTagging'>
  | BucketRoute<'DeleteBucketTagging'>
  | BucketRoute<'GetBucketCors'>
  | BucketRoute<'PutBucketCors'>
  | BucketRoute<'DeleteBucketCors'>
  | BucketRoute<'GetBucketPolicy'>
  | BucketRoute<'PutBucketPolicy'>
  | BucketRoute<'DeleteBucketPolicy'>
  | BucketRoute<'GetBucketPolicyStatus'>
  | BucketRoute<'GetBucketVersioning'>
  | BucketRoute<'PutBucketVersioning'>
  | BucketRoute<'GetObjectLockConfiguration'>
  | BucketRoute<'PutObjectLockConfiguration'>
  | BucketRoute<'GetBucketLifecycleConfiguration'>
  | BucketRoute<'PutBucketLifecycleConfiguration'>
  | BucketRoute<'DeleteBucketLifecycle'>
  | BucketRoute<'GetBucketEncryption'>
  | BucketRoute<'PutBucketEncryption'>
  | BucketRoute<'DeleteBucketEncryption'>
  | BucketRoute<'GetBucketAcl'>
  | BucketRoute<'PutBucketAcl'>
  | BucketRoute<'GetBucketNotificationConfiguration'>
  | BucketRoute<'PutBucketNotificationConfiguration'>
  | BucketRoute<'GetBucketReplication'>
  | BucketRoute<'PutBucketReplication'>
  | BucketRoute<'DeleteBucketReplication'>
  | BucketRoute<'GetBucketLogging'>
  | BucketRoute<'PutBucketLogging'>
  | BucketRoute<'GetBucketRequestPayment'>
  | BucketRoute<'PutBucketRequestPayment'>
  | BucketRoute<'GetBucketWebsite'>
  | BucketRoute<'PutBucketWebsite'>
  | BucketRoute<'DeleteBucketWebsite'>
  | BucketRoute<'GetBucketOwnershipControls'>
  | BucketRoute<'PutBucketOwnershipControls'>
  | BucketRoute<'DeleteBucketOwnershipControls'>
  | BucketRoute<'GetPublicAccessBlock'>
  | BucketRoute<'PutPublicAccessBlock'>
  | BucketRoute<'DeletePublicAccessBlock'>
  | BucketRoute<'GetBucketAccelerateConfiguration'>
  | BucketRoute<'PutBucketAccelerateConfiguration'>
  | BucketRoute<'GetBucketAnalyticsConfiguration', ConfigIdParams>
  | BucketRoute<'PutBucketAnalyticsConfiguration', ConfigIdParams>
  | BucketRoute<'DeleteBucketAnalyticsConfiguration', ConfigIdParams>
  | BucketRoute<'ListBucketAnalyticsConfigurations', ConfigIdParams>
  | BucketRoute<'GetBucketInventoryConfiguration', ConfigIdParams>
  | BucketRoute<'PutBucketInventoryConfiguration', ConfigIdParams>
  | BucketRoute<'DeleteBucketInventoryConfiguration', ConfigIdParams>
  | BucketRoute<'ListBucketInventoryConfigurations', ConfigIdParams>
  | BucketRoute<'GetBucketMetricsConfiguration', ConfigIdParams>
  | BucketRoute<'PutBucketMetricsConfiguration', ConfigIdParams>
  | BucketRoute<'DeleteBucketMetricsConfiguration', ConfigIdParams>
  | BucketRoute<'ListBucketMetricsConfigurations', ConfigIdParams>
  | BucketRoute<'GetBucketIntelligentTieringConfiguration', ConfigIdParams>
  | BucketRoute<'PutBucketIntelligentTieringConfiguration', ConfigIdParams>
  | BucketRoute<'DeleteBucketIntelligentTieringConfiguration', ConfigIdParams>
  | BucketRoute<'ListBucketIntelligentTieringConfigurations', ConfigIdParams>
  | BucketRoute<'CreateBucketMetadataTableConfiguration'>
  | BucketRoute<'GetBucketMetadataTableConfiguration'>
  | BucketRoute<'DeleteBucketMetadataTableConfiguration'>
  | BucketRoute<'CreateSession'>
  // Object
  | ObjectRoute<'GetObject', GetObjectParams>
  | ObjectRoute<'HeadObject', GetObjectParams>
  | ObjectRoute<'PutObject'>
  | ObjectRoute<'CopyObject'>
  | ObjectRoute<'DeleteObject', VersionParams>
  | ObjectRoute<'GetObjectTagging', VersionParams>
  | ObjectRoute<'PutObjectTagging', VersionParams>
  | ObjectRoute<'DeleteObjectTagging', VersionParams>
  | ObjectRoute<'GetObjectAcl', VersionParams>
  | ObjectRoute<'PutObjectAcl', VersionParams>
  | ObjectRoute<'GetObjectRetention', VersionParams>
  | ObjectRoute<'PutObjectRetention', VersionParams>
  | ObjectRoute<'GetObjectLegalHold', VersionParams>
  | ObjectRoute<'PutObjectLegalHold', VersionParams>
  | ObjectRoute<'GetObjectAttributes', VersionParams>
  | ObjectRoute<'GetObjectTorrent'>
  | ObjectRoute<'RestoreObject', VersionParams>
  | ObjectRoute<'SelectObjectContent', SelectParams>
  | ObjectRoute<'CreateMultipartUpload'>
  | ObjectRoute<'UploadPart', UploadPartParams>
  | ObjectRoute<'UploadPartCopy', UploadPartParams>
  | ObjectRoute<'CompleteMultipartUpload', UploadIdParams>
  | ObjectRoute<'AbortMultipartUpload', UploadIdParams>
  | ObjectRoute<'ListParts', ListPartsParams>
  // CORS preflight (`OPTIONS object` in AWS's reference) at the service, a bucket or an object.
  | { action: 'Options'; bucket?: string; key?: string; params: NoParams }
  | UnknownRoute;

/**
 * No action: the request is answered with `error`. `MethodNotAllowed` (405) when the target exists in
 * S3 but not for this method and subresource (AWS adds `Method` and `ResourceType` to the error);
 * `NotImplemented` (501) when the request asks for something S3 has no action for (several
 * subresources at once); `InvalidURI`, `InvalidArgument`, `InvalidRequest` for a malformed path or
 * parameter.
 */
export interface UnknownRoute {
  action: 'Unknown';
  error: Extract<
    S3ErrorCode,
    | 'MethodNotAllowed'
    | 'NotImplemented'
    | 'InvalidURI'
    | 'InvalidArgument'
    | 'InvalidRequest'
    | 'RequestTorrentOfBucketError'
  >;
  /** For logs and the error message. */
  reason: string;
  method: string;
  resourceType: 'SERVICE' | 'BUCKET' | 'OBJECT';
  bucket?: string;
  key?: string;
  /** Extra elements for the error document (`ArgumentName`, `ArgumentValue`...). */
  fields?: Record<string, string>;
}

export type Action = Route['action'];
export type KnownAction = Exclude<Action, 'Unknown'>;
export type RouteOf<A extends Action> = Extract<Route, { action: A }>;

/** `any`: the service, a bucket or an object (the CORS preflight). */
export type ActionLevel = 'service' | 'bucket' | 'object' | 'any';
/**
 * `planned`: Cairn will serve it. `stub`: answered with AWS's "nothing configured" response (so tools
 * that probe every bucket setting, such as Terraform, keep working) and setting it is refused.
 * `not-implemented`: answered 501 NotImplemented.
 */
export type ActionStatus = 'implemented' | 'planned' | 'stub' | 'not-implemented';

/** Every action the router can name, with its level and Cairn's status; `docs/compat.md` mirrors it. */
export const ACTIONS: Record<KnownAction, { level: ActionLevel; status: ActionStatus }> = {
  ListBuckets: { level: 'service', status: 'implemented' },
  Options: { level: 'any', status: 'implemented' },

  CreateBucket: { level: 'bucket', status: 'implemented' },
  DeleteBucket: { level: 'bucket', status: 'implemented' },
  HeadBucket: { level: 'bucket', status: 'implemented' },
  GetBucketLocation: { level: 'bucket', status: 'implemented' },
  ListObjects: { level: 'bucket', status: 'implemented' },
  ListObjectsV2: { level: 'bucket', status: 'implemented' },
  ListObjectVersions: { level: 'bucket', status: 'implemented' },
  ListMultipartUploads: { level: 'bucket', status: 'implemented' },
  DeleteObjects: { level: 'bucket', status: 'implemented' },
  PostObject: { level: 'bucket', status: 'implemented' },
  GetBucketTagging: { level: 'bucket', status: 'implemented' },
  PutBucketTagging: { level: 'bucket', status: 'implemented' },
  DeleteBucketTagging: { level: 'bucket', status: 'implemented' },
  GetBucketCors: { level: 'bucket', status: 'implemented' },
  PutBucketCors: { level: 'bucket', status: 'implemented' },
  DeleteBucketCors: { level: 'bucket', status: 'implemented' },
  GetBucketPolicy: { level: 'bucket', status: 'implemented' },
  PutBucketPolicy: { level: 'bucket', status: 'implemented' },
  DeleteBucketPolicy: { level: 'bucket', status: 'implemented' },
  GetBucketPolicyStatus: { level: 'bucket', status: 'implemented' },
  GetBucketVersioning: { level: 'bucket', status: 'implemented' },
  PutBucketVersioning: { level: 'bucket', status: 'implemented' },
  GetObjectLockConfiguration: { level: 'bucket', status: 'implemented' },
  PutObjectLockConfiguration: { level: 'bucket', status: 'implemented' },
  GetBucketLifecycleConfiguration: { level: 'bucket', status: 'planned' },
  PutBucketLifecycleConfiguration: { level: 'bucket', status: 'planned' },
  DeleteBucketLifecycle: { level: 'bucket', status: 'planned' },
  GetBucketEncryption: { level: 'bucket', status: 'stub' },
  PutBucketEncryption: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketEncryption: { level: 'bucket', status: 'not-implemented' },
  GetBucketAcl: { level: 'bucket', status: 'implemented' },
  PutBucketAcl: { level: 'bucket', status: 'implemented' },
  GetBucketNotificationConfiguration: { level: 'bucket', status: 'stub' },
  PutBucketNotificationConfiguration: { level: 'bucket', status: 'not-implemented' },
  GetBucketReplication: { level: 'bucket', status: 'stub' },
  PutBucketReplication: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketReplication: { level: 'bucket', status: 'not-implemented' },
  GetBucketLogging: { level: 'bucket', status: 'stub' },
  PutBucketLogging: { level: 'bucket', status: 'not-implemented' },
  GetBucketRequestPayment: { level: 'bucket', status: 'stub' },
  PutBucketRequestPayment: { level: 'bucket', status: 'not-implemented' },
  GetBucketWebsite: { level: 'bucket', status: 'stub' },
  PutBucketWebsite: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketWebsite: { level: 'bucket', status: 'not-implemented' },
  GetBucketOwnershipControls: { level: 'bucket', status: 'implemented' },
  PutBucketOwnershipControls: { level: 'bucket', status: 'implemented' },
  DeleteBucketOwnershipControls: { level: 'bucket', status: 'implemented' },
  GetPublicAccessBlock: { level: 'bucket', status: 'planned' },
  PutPublicAccessBlock: { level: 'bucket', status: 'planned' },
  DeletePublicAccessBlock: { level: 'bucket', status: 'planned' },
  GetBucketAccelerateConfiguration: { level: 'bucket', status: 'stub' },
  PutBucketAccelerateConfiguration: { level: 'bucket', status: 'not-implemented' },
  GetBucketAnalyticsConfiguration: { level: 'bucket', status: 'not-implemented' },
  PutBucketAnalyticsConfiguration: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketAnalyticsConfiguration: { level: 'bucket', status: 'not-implemented' },
  ListBucketAnalyticsConfigurations: { level: 'bucket', status: 'not-implemented' },
  GetBucketInventoryConfiguration: { level: 'bucket', status: 'not-implemented' },
  PutBucketInventoryConfiguration: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketInventoryConfiguration: { level: 'bucket', status: 'not-implemented' },
  ListBucketInventoryConfigurations: { level: 'bucket', status: 'not-implemented' },
  GetBucketMetricsConfiguration: { level: 'bucket', status: 'not-implemented' },
  PutBucketMetricsConfiguration: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketMetricsConfiguration: { level: 'bucket', status: 'not-implemented' },
  ListBucketMetricsConfigurations: { level: 'bucket', status: 'not-implemented' },
  GetBucketIntelligentTieringConfiguration: { level: 'bucket', status: 'not-implemented' },
  PutBucketIntelligentTieringConfiguration: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketIntelligentTieringConfiguration: { level: 'bucket', status: 'not-implemented' },
  ListBucketIntelligentTieringConfigurations: { level: 'bucket', status: 'not-implemented' },
  CreateBucketMetadataTableConfiguration: { level: 'bucket', status: 'not-implemented' },
  GetBucketMetadataTableConfiguration: { level: 'bucket', status: 'not-implemented' },
  DeleteBucketMetadataTableConfiguration: { level: 'bucket', status: 'not-implemented' },
  CreateSession: { level: 'bucket', status: 'not-implemented' },

  GetObject: { level: 'object', status: 'implemented' },
  HeadObject: { level: 'object', status: 'implemented' },
  PutObject: { level: 'object', status: 'implemented' },
  CopyObject: { level: 'object', status: 'implemented' },
  DeleteObject: { level: 'object', status: 'implemented' },
  GetObjectTagging: { level: 'object', status: 'implemented' },
  PutObjectTagging: { level: 'object', status: 'implemented' },
  DeleteObjectTagging: { level: 'object', status: 'implemented' },
  GetObjectAcl: { level: 'object', status: 'implemented' },
  PutObjectAcl: { level: 'object', status: 'implemented' },
  GetObjectRetention: { level: 'object', status: 'implemented' },
  PutObjectRetention: { level: 'object', status: 'implemented' },
  GetObjectLegalHold: { level: 'object', status: 'implemented' },
  PutObjectLegalHold: { level: 'object', status: 'implemented' },
  GetObjectAttributes: { level: 'object', status: 'implemented' },
  GetObjectTorrent: { level: 'object', status: 'not-implemented' },
  RestoreObject: { level: 'object', status: 'not-implemented' },
  SelectObjectContent: { level: 'object', status: 'not-implemented' },
  CreateMultipartUpload: { level: 'object', status: 'implemented' },
  UploadPart: { level: 'object', status: 'implemented' },
  UploadPartCopy: { level: 'object', status: 'implemented' },
  CompleteMultipartUpload: { level: 'object', status: 'implemented' },
  AbortMultipartUpload: { level: 'object', status: 'implemented' },
  ListParts: { level: 'object', status: 'implemented' },
};

// ---------------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------------

export interface RouteRequest {
  method: string;
  /** The request target's path as received: percent-encoded. A `?query` left on it is split off. */
  path: string;
  /** The query string (with or without its `?`) or its parsed form; form-decoded (`+` is a space). */
  query?: URLSearchParams | string;
  /** Header names lower-cased, as Node gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface RouteOptions {
  /**
   * Domains served virtual-host style: a `Host` of `<bucket>.<domain>` names the bucket, a `Host` of
   * `<domain>` itself is path style. The longest matching domain wins, so `s3.example.com` and
   * `example.com` may both be listed.
   */
  domains?: readonly string[];
}

/**
 * Subresource keywords: the query keys that select an action, whatever their value. At most one may
 * be present. Other keys (`versionId`, `uploadId`, `prefix`, `X-Amz-*`, `x-id`...) are parameters,
 * and unknown keys are ignored as AWS ignores them.
 */
const KEYWORDS = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'location',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploads',
  'versioning',
  'versions',
  'website',
] as const;

type Keyword = (typeof KEYWORDS)[number];
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
type Target = 'service' | 'bucket' | 'object';

interface Ctx {
  method: string;
  bucket: string;
  key: string;
  q: URLSearchParams;
  headers: RouteRequest['headers'];
}

/** Thrown inside a handler when a parameter is malformed; `route` turns it into an `Unknown`. */
class BadParam {
  constructor(
    readonly error: UnknownRoute['error'],
    readonly reason: string,
    readonly fields?: Record<string, string>,
  ) {}
}

// ---------------------------------------------------------------------------------------------------
// Parameter parsing
// ---------------------------------------------------------------------------------------------------

/** The parameter's value, `undefined` when absent or empty (S3 treats `?prefix=` as no prefix). */
function opt(q: URLSearchParams, name: string): string | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : v;
}

function versionId(q: URLSearchParams): string | undefined {
  const v = q.get('versionId');
  if (v === null) return undefined;
  // AWS: an empty versionId is refused rather than read as "no version".
  if (v === '') {
    throw new BadParam('InvalidArgument', 'Version id cannot be the empty string', {
      ArgumentName: 'versionId',
      ArgumentValue: '',
    });
  }
  return v;
}

const INT = /^\d{1,10}$/;
const INT32_MAX = 2147483647;

/** A non-negative 32-bit integer parameter (AWS: "Provided max-keys not an integer or within integer range"). */
function optInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const n = INT.test(v) ? Number(v) : Number.NaN;
  if (!(n <= INT32_MAX)) {
    throw new BadParam('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: v,
    });
  }
  return n;
}

function partNumber(v: string): number {
  const n = INT.test(v) ? Number(v) : Number.NaN;
  if (!(n >= 1 && n <= 10000)) {
    throw new BadParam('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: v,
    });
  }
  return n;
}

function optPartNumber(q: URLSearchParams): number | undefined {
  const v = q.get('partNumber');
  return v === null ? undefined : partNumber(v);
}

function encodingType(q: URLSearchParams): 'url' | undefined {
  const v = q.get('encoding-type');
  if (v === null || v === '') return undefined;
  if (v.toLowerCase() !== 'url') {
    throw new BadParam('InvalidArgument', 'Invalid Encoding Method specified in Request', {
      ArgumentName: 'encoding-type',
      ArgumentValue: v,
    });
  }
  return 'url';
}

function boolParam(q: URLSearchParams, name: string): boolean {
  return q.get(name)?.toLowerCase() === 'true';
}

function responseHeaders(q: URLSearchParams): ResponseHeaderOverrides {
  const r: ResponseHeaderOverrides = {};
  const set = (name: string, field: keyof ResponseHeaderOverrides) => {
    const v = q.get(name);
    if (v !== null) r[field] = v;
  };
  set('response-cache-control', 'cacheControl');
  set('response-content-disposition', 'contentDisposition');
  set('response-content-encoding', 'contentEncoding');
  set('response-content-language', 'contentLanguage');
  set('response-content-type', 'contentType');
  set('response-expires', 'expires');
  return r;
}

function hasHeader(c: Ctx, name: string): boolean {
  return c.headers[name] !== undefined;
}

/** `?uploadId`: required and non-empty where the action needs one. */
function uploadId(q: URLSearchParams): string {
  const v = q.get('uploadId');
  if (!v) {
    throw new BadParam('InvalidArgument', 'This operation requires a non-empty uploadId', {
      ArgumentName: 'uploadId',
      ArgumentValue: v ?? '',
    });
  }
  return v;
}

function configId(q: URLSearchParams): ConfigIdParams {
  const p: ConfigIdParams = {};
  const id = opt(q, 'id');
  if (id !== undefined) p.id = id;
  const t = q.get('continuation-token');
  if (t !== null) p.continuationToken = t;
  return p;
}

/** Drops the keys whose value is `undefined`, so params compare and print cleanly. */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

// ---------------------------------------------------------------------------------------------------
// The table: (target, method, keyword) → handler. '' is "no keyword".
// ---------------------------------------------------------------------------------------------------

type Handler = (c: Ctx) => Route;
type Table = { [T in Target]: { [M in Method]?: { [K in Keyword | '']?: Handler } } };

/** Names of the actions at one level whose params have the given shape, so a helper cannot be given an
 * action whose params it does not build. */
type BucketLevel = Exclude<Extract<Route, { bucket: string }>, { key: string }>;
type ObjectLevel = Extract<Route, { bucket: string; key: string }>;
type BucketAction<P> = Extract<BucketLevel, { params: P }>['action'];
type ObjectAction<P> = Extract<ObjectLevel, { params: P }>['action'];

const b =
  (action: BucketAction<NoParams>): Handler =>
  (c) =>
    ({ action, bucket: c.bucket, params: {} }) as Route;
const bId =
  (action: BucketAction<ConfigIdParams>): Handler =>
  (c) =>
    ({ action, bucket: c.bucket, params: configId(c.q) }) as Route;
/** Analytics, inventory, metrics, intelligent-tiering: GET with `?id` reads one, without lists them. */
const bGetOrList =
  (get: BucketAction<ConfigIdParams>, list: BucketAction<ConfigIdParams>): Handler =>
  (c) =>
    ({ action: c.q.get('id') ? get : list, bucket: c.bucket, params: configId(c.q) }) as Route;
const o =
  (action: ObjectAction<NoParams>): Handler =>
  (c) =>
    ({ action, bucket: c.bucket, key: c.key, params: {} }) as Route;
const oV =
  (action: ObjectAction<VersionParams>): Handler =>
  (c) =>
    ({ action, bucket: c.bucket, key: c.key, params: clean({ versionId: versionId(c.q) }) }) as Route;

function getObject(action: 'GetObject' | 'HeadObject'): Handler {
  return (c) => ({
    action,
    bucket: c.bucket,
    key: c.key,
    params: clean({
      versionId: versionId(c.q),
      partNumber: optPartNumber(c.q),
      responseHeaders: responseHeaders(c.q),
    }),
  });
}

const TABLE: Table = {
  service: {
    GET: {
      '': (c) => ({
        action: 'ListBuckets',
        params: clean({
          maxBuckets: optInt(c.q, 'max-buckets'),
          continuationToken: opt(c.q, 'continuation-token'),
          prefix: opt(c.q, 'prefix'),
          bucketRegion: opt(c.q, 'bucket-region'),
        }),
      }),
    },
  },
  bucket: {
    GET: {
      // ListObjectsV2 is ListObjects with `?list-type=2`; the keyword-less GET decides between them.
      '': (c) => {
        const listType = c.q.get('list-type');
        if (listType === null) {
          return {
            action: 'ListObjects',
            bucket: c.bucket,
            params: clean({
              prefix: opt(c.q, 'prefix'),
              delimiter: opt(c.q, 'delimiter'),
              encodingType: encodingType(c.q),
              marker: opt(c.q, 'marker'),
              maxKeys: optInt(c.q, 'max-keys'),
            }),
          };
        }
        if (listType !== '2') {
          throw new BadParam('InvalidArgument', 'Invalid List Type specified in Request', {
            ArgumentName: 'list-type',
            ArgumentValue: listType,
          });
        }
        const token = c.q.get('continuation-token');
        return {
          action: 'ListObjectsV2',
          bucket: c.bucket,
          params: clean({
            prefix: opt(c.q, 'prefix'),
            delimiter: opt(c.q, 'delimiter'),
            encodingType: encodingType(c.q),
            continuationToken: token ?? undefined,
            startAfter: opt(c.q, 'start-after'),
            maxKeys: optInt(c.q, 'max-keys'),
            fetchOwner: boolParam(c.q, 'fetch-owner'),
          }),
        };
      },
      accelerate: b('GetBucketAccelerateConfiguration'),
      acl: b('GetBucketAcl'),
      analytics: bGetOrList('GetBucketAnalyticsConfiguration', 'ListBucketAnalyticsConfigurations'),
      cors: b('GetBucketCors'),
      encryption: b('GetBucketEncryption'),
      'intelligent-tiering': bGetOrList(
        'GetBucketIntelligentTieringConfiguration',
        'ListBucketIntelligentTieringConfigurations',
      ),
      inventory: bGetOrList('GetBucketInventoryConfiguration', 'ListBucketInventoryConfigurations'),
      lifecycle: b('GetBucketLifecycleConfiguration'),
      location: b('GetBucketLocation'),
      logging: b('GetBucketLogging'),
      metadataTable: b('GetBucketMetadataTableConfiguration'),
      metrics: bGetOrList('GetBucketMetricsConfiguration', 'ListBucketMetricsConfigurations'),
      notification: b('GetBucketNotificationConfiguration'),
      'object-lock': b('GetObjectLockConfiguration'),
      ownershipControls: b('GetBucketOwnershipControls'),
      policy: b('GetBucketPolicy'),
      policyStatus: b('GetBucketPolicyStatus'),
      publicAccessBlock: b('GetPublicAccessBlock'),
      replication: b('GetBucketReplication'),
      requestPayment: b('GetBucketRequestPayment'),
      session: b('CreateSession'),
      tagging: b('GetBucketTagging'),
      // AWS: a torrent of a bucket is its own error.
      torrent: () => {
        throw new BadParam(
          'RequestTorrentOfBucketError',
          'Requesting the torrent file of a bucket is not permitted.',
        );
      },
      uploads: (c) => ({
        action: 'ListMultipartUploads',
        bucket: c.bucket,
        params: clean({
          prefix: opt(c.q, 'prefix'),
          delimiter: opt(c.q, 'delimiter'),
          encodingType: encodingType(c.q),
          keyMarker: opt(c.q, 'key-marker'),
          uploadIdMarker: opt(c.q, 'upload-id-marker'),
          maxUploads: optInt(c.q, 'max-uploads'),
        }),
      }),
      versioning: b('GetBucketVersioning'),
      versions: (c) => ({
        action: 'ListObjectVersions',
        bucket: c.bucket,
        params: clean({
          prefix: opt(c.q, 'prefix'),
          delimiter: opt(c.q, 'delimiter'),
          encodingType: encodingType(c.q),
          keyMarker: opt(c.q, 'key-marker'),
          versionIdMarker: opt(c.q, 'version-id-marker'),
          maxKeys: optInt(c.q, 'max-keys'),
        }),
      }),
      website: b('GetBucketWebsite'),
    },
    HEAD: { '': b('HeadBucket') },
    PUT: {
      '': b('CreateBucket'),
      accelerate: b('PutBucketAccelerateConfiguration'),
      acl: b('PutBucketAcl'),
      analytics: bId('PutBucketAnalyticsConfiguration'),
      cors: b('PutBucketCors'),
      encryption: b('PutBucketEncryption'),
      'intelligent-tiering': bId('PutBucketIntelligentTieringConfiguration'),
      inventory: bId('PutBucketInventoryConfiguration'),
      lifecycle: b('PutBucketLifecycleConfiguration'),
      logging: b('PutBucketLogging'),
      metrics: bId('PutBucketMetricsConfiguration'),
      notification: b('PutBucketNotificationConfiguration'),
      'object-lock': b('PutObjectLockConfiguration'),
      ownershipControls: b('PutBucketOwnershipControls'),
      policy: b('PutBucketPolicy'),
      publicAccessBlock: b('PutPublicAccessBlock'),
      replication: b('PutBucketReplication'),
      requestPayment: b('PutBucketRequestPayment'),
      tagging: b('PutBucketTagging'),
      versioning: b('PutBucketVersioning'),
      website: b('PutBucketWebsite'),
    },
    DELETE: {
      '': b('DeleteBucket'),
      analytics: bId('DeleteBucketAnalyticsConfiguration'),
      cors: b('DeleteBucketCors'),
      encryption: b('DeleteBucketEncryption'),
      'intelligent-tiering': bId('DeleteBucketIntelligentTieringConfiguration'),
      inventory: bId('DeleteBucketInventoryConfiguration'),
      lifecycle: b('DeleteBucketLifecycle'),
      metadataTable: b('DeleteBucketMetadataTableConfiguration'),
      metrics: bId('DeleteBucketMetricsConfiguration'),
      ownershipControls: b('DeleteBucketOwnershipControls'),
      policy: b('DeleteBucketPolicy'),
      publicAccessBlock: b('DeletePublicAccessBlock'),
      replication: b('DeleteBucketReplication'),
      tagging: b('DeleteBucketTagging'),
      website: b('DeleteBucketWebsite'),
    },
    POST: {
      // A browser form upload: the key is a form field, not in the path.
      '': b('PostObject'),
      delete: b('DeleteObjects'),
      metadataTable: b('CreateBucketMetadataTableConfiguration'),
    },
  },
  object: {
    GET: {
      // `?uploadId` turns a GET of the object into ListParts (whatever else is present).
      '': (c) => {
        if (c.q.has('uploadId')) {
          return {
            action: 'ListParts',
            bucket: c.bucket,
            key: c.key,
            params: clean({
              uploadId: uploadId(c.q),
              maxParts: optInt(c.q, 'max-parts'),
              partNumberMarker: optInt(c.q, 'part-number-marker'),
            }),
          };
        }
        return getObject('GetObject')(c);
      },
      acl: oV('GetObjectAcl'),
      attributes: oV('GetObjectAttributes'),
      'legal-hold': oV('GetObjectLegalHold'),
      retention: oV('GetObjectRetention'),
      tagging: oV('GetObjectTagging'),
      torrent: o('GetObjectTorrent'),
    },
    HEAD: { '': getObject('HeadObject') },
    PUT: {
      // Four actions share the keyword-less PUT: a part upload has `?partNumber&uploadId`, a copy has
      // `x-amz-copy-source`. Presence of each decides, independently.
      '': (c) => {
        const copy = hasHeader(c, 'x-amz-copy-source');
        if (c.q.has('partNumber') || c.q.has('uploadId')) {
          const pn = c.q.get('partNumber');
          if (pn === null) {
            throw new BadParam('InvalidArgument', 'A part upload needs both partNumber and uploadId', {
              ArgumentName: 'partNumber',
              ArgumentValue: '',
            });
          }
          const params = { uploadId: uploadId(c.q), partNumber: partNumber(pn) };
          return copy
            ? { action: 'UploadPartCopy', bucket: c.bucket, key: c.key, params }
            : { action: 'UploadPart', bucket: c.bucket, key: c.key, params };
        }
        return copy
          ? { action: 'CopyObject', bucket: c.bucket, key: c.key, params: {} }
          : { action: 'PutObject', bucket: c.bucket, key: c.key, params: {} };
      },
      acl: oV('PutObjectAcl'),
      'legal-hold': oV('PutObjectLegalHold'),
      retention: oV('PutObjectRetention'),
      tagging: oV('PutObjectTagging'),
    },
    DELETE: {
      '': (c) =>
        c.q.has('uploadId')
          ? {
              action: 'AbortMultipartUpload',
              bucket: c.bucket,
              key: c.key,
              params: { uploadId: uploadId(c.q) },
            }
          : {
              action: 'DeleteObject',
              bucket: c.bucket,
              key: c.key,
              params: clean({ versionId: versionId(c.q) }),
            },
      tagging: oV('DeleteObjectTagging'),
    },
    POST: {
      // AWS: a POST to an object without `?uploadId` (or a keyword below) is 405.
      '': (c) =>
        c.q.has('uploadId')
          ? {
              action: 'CompleteMultipartUpload',
              bucket: c.bucket,
              key: c.key,
              params: { uploadId: uploadId(c.q) },
            }
          : unknown(
              c,
              'MethodNotAllowed',
              'POST to an object needs ?uploads, ?uploadId, ?restore or ?select',
            ),
      restore: oV('RestoreObject'),
      select: (c) => ({
        action: 'SelectObjectContent',
        bucket: c.bucket,
        key: c.key,
        params: clean({ versionId: versionId(c.q), selectType: opt(c.q, 'select-type') }),
      }),
      uploads: o('CreateMultipartUpload'),
    },
  },
};

// ---------------------------------------------------------------------------------------------------
// Path and host
// ---------------------------------------------------------------------------------------------------

function targetOf(c: { bucket: string; key: string }): Target {
  return c.bucket === '' ? 'service' : c.key === '' ? 'bucket' : 'object';
}

function resourceType(c: { bucket: string; key: string }): UnknownRoute['resourceType'] {
  return c.bucket === '' ? 'SERVICE' : c.key === '' ? 'BUCKET' : 'OBJECT';
}

function unknown(
  c: Pick<Ctx, 'method' | 'bucket' | 'key'>,
  error: UnknownRoute['error'],
  reason: string,
  fields?: Record<string, string>,
): UnknownRoute {
  const r: UnknownRoute = {
    action: 'Unknown',
    error,
    reason,
    method: c.method,
    resourceType: resourceType(c),
  };
  if (c.bucket !== '') r.bucket = c.bucket;
  if (c.key !== '') r.key = c.key;
  if (fields) r.fields = fields;
  return r;
}

function header(h: RouteRequest['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The `Host` header's name, lower-cased, without port (`[::1]:9000` → `[::1]`). */
function hostName(h: RouteRequest['headers']): string {
  // HTTP/2 carries the authority as a pseudo-header; Node's compatibility API leaves it there.
  const host = (header(h, 'host') ?? header(h, ':authority') ?? '').trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/** The bucket named by a virtual-host `Host`, or undefined for path style. */
export function bucketFromHost(host: string, domains: readonly string[] = []): string | undefined {
  let best: string | undefined;
  for (const raw of domains) {
    const d = raw.toLowerCase().replace(/^\.+|\.+$/g, '');
    if (d === '' || host === d) {
      if (host === d) return undefined;
      continue;
    }
    if (host.endsWith(`.${d}`) && (best === undefined || d.length > best.length)) best = d;
  }
  return best === undefined ? undefined : host.slice(0, host.length - best.length - 1);
}

/**
 * Bucket and key from the raw path. Split first, then percent-decode each part once, so `%2F` in a key
 * stays inside the key. The key is kept exactly: `+` is a literal plus (every SDK sends a space as
 * `%20`), and `//`, `..`, a trailing `/` are the key's own characters.
 */
function splitPath(rawPath: string, hostBucket: string | undefined): { bucket: string; key: string } {
  if (!rawPath.startsWith('/')) throw new URIError('the request target is not an absolute path');
  const rest = rawPath.slice(1);
  if (hostBucket !== undefined) return { bucket: hostBucket, key: decodeURIComponent(rest) };
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: decodeURIComponent(rest), key: '' };
  return { bucket: decodeURIComponent(rest.slice(0, slash)), key: decodeURIComponent(rest.slice(slash + 1)) };
}

/**
 * The S3 action a request names. Pure: no I/O, no clock, never throws. Bucket names are not checked
 * here (only CreateBucket refuses an invalid one, with InvalidBucketName; other actions answer
 * NoSuchBucket, as AWS does).
 */
export function route(req: RouteRequest, opts: RouteOptions = {}): Route {
  const method = req.method.toUpperCase();
  let path = req.path;
  let query = req.query;
  const qmark = path.indexOf('?');
  if (qmark >= 0) {
    if (query === undefined) query = path.slice(qmark + 1);
    path = path.slice(0, qmark);
  }
  const q =
    query instanceof URLSearchParams
      ? query
      : new URLSearchParams(query?.startsWith('?') ? query.slice(1) : query);

  let target: { bucket: string; key: string };
  try {
    target = splitPath(path, bucketFromHost(hostName(req.headers), opts.domains));
  } catch {
    return unknown(
      { method, bucket: '', key: '' },
      'InvalidURI',
      `cannot decode the path ${JSON.stringify(path)}`,
    );
  }
  const c: Ctx = { method, ...target, q, headers: req.headers };

  if (method === 'OPTIONS') {
    const r: Route = { action: 'Options', params: {} };
    if (c.bucket !== '') r.bucket = c.bucket;
    if (c.key !== '') r.key = c.key;
    return r;
  }

  const keywords: Keyword[] = [];
  for (const k of new Set(q.keys())) if (KEYWORD_SET.has(k)) keywords.push(k as Keyword);
  if (keywords.length > 1) {
    return unknown(c, 'NotImplemented', `several subresources at once: ${keywords.join(', ')}`);
  }
  const keyword = keywords[0] ?? '';

  const handler = TABLE[targetOf(c)][method as Method]?.[keyword];
  if (!handler) {
    const what = keyword === '' ? '' : ` ?${keyword}`;
    return unknown(
      c,
      'MethodNotAllowed',
      `${method}${what} is not an action on ${resourceType(c).toLowerCase()}`,
    );
  }
  try {
    return handler(c);
  } catch (e) {
    if (e instanceof BadParam) return unknown(c, e.error, e.reason, e.fields);
    throw e;
  }
}

/**
 * The error an `Unknown` route is answered with. MethodNotAllowed carries AWS's `Method` and
 * `ResourceType` elements; argument errors carry `ArgumentName`/`ArgumentValue`; the reason becomes
 * the message where AWS's own message names the problem (argument errors), and stays for the log
 * otherwise.
 */
export function unknownRouteError(r: UnknownRoute, resource?: string): S3Error {
  const fields =
    r.error === 'MethodNotAllowed'
      ? { Method: r.method, ResourceType: r.resourceType, ...r.fields }
      : r.fields;
  const ownMessage = r.error === 'InvalidArgument' || r.error === 'InvalidRequest';
  return new S3Error(r.error, {
    ...(ownMessage ? { message: r.reason } : {}),
    ...(fields ? { fields } : {}),
    ...(resource !== undefined ? { resource } : {}),
    cause: new Error(r.reason),
  });
}

// ---------------------------------------------------------------------------------------------------
// Bucket names
// ---------------------------------------------------------------------------------------------------

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * S3's rules for general purpose bucket names (AWS "Bucket naming rules"): 3-63 characters of
 * lower-case letters, digits, dots and hyphens; a letter or digit first and last; no `..`; not an IPv4
 * address; reserved prefixes (`xn--`, `sthree-`, `amzn-s3-demo-`) and suffixes (`-s3alias`,
 * `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`) refused. The legacy us-east-1 names (capitals,
 * underscores) are not accepted.
 */
export function bucketNameValid(name: string): boolean {
  if (name.length < 3 || name.length > 63) return false;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return false;
  if (name.includes('..')) return false;
  if (IPV4.test(name)) return false;
  for (const p of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (name.startsWith(p)) return false;
  for (const s of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'])
    if (name.endsWith(s)) return false;
  return true;
}
