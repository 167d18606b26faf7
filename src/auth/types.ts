/**
 * The shapes authentication takes in and hands out. Plain data: no Koa, no object layer, no files.
 */

/** An HTTP request as authentication needs it, before anything has decoded it. */
export interface RequestDescription {
  method: string;
  /** The path as received, still percent-encoded (`/bucket/a%20b`), without the query. */
  path: string;
  /** The query string as received, without the leading `?` (one is tolerated), still encoded. */
  query: string;
  /**
   * Lower-cased name → value. A header sent more than once is one value, joined with `,` as
   * HTTP (and Node's `IncomingMessage.headers`) does. `host` must be there (from `:authority` on
   * HTTP/2).
   */
  headers: Readonly<Record<string, string | undefined>>;
}

/** What a credential lookup must return: the secret, and a session token for temporary credentials. */
export interface Credential {
  secretKey: string;
  /** When set, the request must carry this exact `x-amz-security-token`. */
  sessionToken?: string;
}

/** Finds the credential of an access key; null (or undefined) when there is none. */
export type CredentialLookup<C extends Credential = Credential> = (
  accessKey: string,
) => Promise<C | null | undefined> | C | null | undefined;

/** What the chunk and trailer signatures of a signed aws-chunked body are computed from. */
export interface ChunkSigningContext {
  /** The request's own signature: the first chunk's "previous signature". */
  seedSignature: string;
  /** kSigning for the request's scope. Shared: do not write to it. */
  signingKey: Buffer;
  /** `YYYYMMDD/region/service/aws4_request`. */
  scope: string;
  /** The request time as signed, `YYYYMMDDTHHMMSSZ`. */
  amzDate: string;
}

/**
 * How the body is to be checked, from `x-amz-content-sha256` (or its absence):
 * - `none`: no claim about the body (anonymous request without the header): pass it through.
 * - `unsigned`: `UNSIGNED-PAYLOAD` (and every presigned URL by default): pass it through.
 * - `sha256`: the body must hash to `sha256` (lower-case hex), else `XAmzContentSHA256Mismatch`.
 * - `streaming-*`: an aws-chunked body of `decodedLength` data bytes; `trailers` are the lower-cased
 *   names announced in `x-amz-trailer`.
 */
export type PayloadInfo =
  | { kind: 'none' }
  | { kind: 'unsigned' }
  | { kind: 'sha256'; sha256: string }
  | { kind: 'streaming-signed'; decodedLength: number; signing: ChunkSigningContext }
  | {
      kind: 'streaming-signed-trailer';
      decodedLength: number;
      trailers: string[];
      signing: ChunkSigningContext;
    }
  | { kind: 'streaming-unsigned-trailer'; decodedLength: number; trailers: string[] };

export type PayloadKind = PayloadInfo['kind'];

export interface VerifyOptions<C extends Credential = Credential> {
  lookup: CredentialLookup<C>;
  /** The one region this server answers for; a scope naming another is `AuthorizationHeaderMalformed`. */
  region: string;
  /** The signing name expected in the scope. Default `s3`. */
  service?: string;
  /** The server's clock. Default `Date.now()`. */
  now?: Date | number;
  /** Allowed distance between the request time and `now`. Default 15 minutes, as AWS. */
  maxSkewMs?: number;
}

export interface AuthenticatedRequest<C extends Credential = Credential> {
  anonymous: false;
  /** Where the signature came from. */
  via: 'header' | 'presigned';
  accessKey: string;
  /** The lookup's record for `accessKey`, as it returned it. */
  identity: C;
  region: string;
  service: string;
  /** Lower-case, sorted. */
  signedHeaders: string[];
  payload: PayloadInfo;
  /** The signed request time. */
  requestTime: Date;
  /** Presigned only: when the URL stops working. */
  expiresAt?: Date;
}

export interface AnonymousRequest {
  anonymous: true;
  payload: PayloadInfo;
}

export type VerifyResult<C extends Credential = Credential> = AuthenticatedRequest<C> | AnonymousRequest;
