/**
 * What every S3 action gets (a request context built once, after auth and routing) and what it
 * returns. The S3 layer speaks HTTP words but touches no sockets: `src/server/` turns an
 * `S3Response` into bytes on the wire, and renders every thrown `S3Error` as AWS's XML.
 */
import type { Readable } from 'node:stream';
import type { CredentialLookup } from '../auth/types';
import type { ObjectLayer } from '../object/ObjectLayer';
import type { Action, KnownAction, Route, RouteOf } from './router';

export interface Identity {
  anonymous: boolean;
  /** The access key the request was signed with (absent when anonymous). */
  accessKey?: string;
  /** The root user: allowed everything but an explicit Deny in a bucket policy. */
  isRoot: boolean;
  /** root, an IAM user, a service account or temporary (STS) credentials; absent when anonymous. */
  kind?: 'root' | 'user' | 'serviceAccount' | 'sts';
  /** The IAM user (for service accounts and STS credentials: the parent user); `root` for root. */
  username?: string;
  /** `arn:aws:iam::<account>:user/<name>` (or `:root`). */
  arn?: string;
}

export interface S3Config {
  /** The region this server answers for (`us-east-1` by default). */
  region: string;
  /** Domains for virtual-host style addressing (`bucket.<domain>`). */
  domains: string[];
}

/** Bucket settings stored beside the buckets (tagging, CORS, policy, versioning, lock...). */
export interface BucketConfigStore {
  /** The stored document, or null when there is none. */
  get(bucket: string, name: string): Promise<Buffer | null>;
  /** Stores (or with null removes) a document. */
  put(bucket: string, name: string, data: Buffer | null): Promise<void>;
}

export interface Logger {
  info(obj: Record<string, unknown> | string, msg?: string): void;
  warn(obj: Record<string, unknown> | string, msg?: string): void;
  error(obj: Record<string, unknown> | string, msg?: string): void;
}

export interface ReqCtx<R extends Route = Route> {
  requestId: string;
  route: R;
  identity: Identity;
  config: S3Config;
  objects: ObjectLayer;
  bucketConfig: BucketConfigStore;
  /** Request headers, names lower-cased. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  query: URLSearchParams;
  method: string;
  /**
   * The request body, already verified and decoded (aws-chunked framing removed, chunk signatures
   * checked); it errors instead of ending if the payload fails verification, so nothing built on
   * it commits a bad body.
   */
  body: Readable;
  /** Bytes the body will have (Content-Length or x-amz-decoded-content-length); -1 if unknown. */
  bodyLength: number;
  /** Trailing headers of the body (x-amz-checksum-*), available once `body` has ended. */
  trailers(): Record<string, string>;
  log: Logger;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /**
   * The secret of an access key, for actions that check a signature themselves: PostObject's form
   * carries a SigV4 signature of its policy, not of the request. Without it such requests are refused.
   */
  credentials?: CredentialLookup;
  /**
   * Whether the identity may also do `action` (an IAM action such as `s3:BypassGovernanceRetention`)
   * on the route's bucket (or `bucket`), or on `key` in it: for permissions an action checks itself,
   * beyond the ones its route needed to get here (DeleteObjects per key, ListBuckets per bucket). The
   * request's condition keys apply; the bucket's policy is taken into account. `action` on `*` when
   * neither bucket nor key applies (`s3:ListAllMyBuckets`). `accessKey` asks about another credential
   * than the request's: the signer of a PostObject form. `conditions` adds condition keys only the op
   * knows (`s3:RequestObjectTag/<k>` from a body); `versionId` names the version whose tags
   * `s3:ExistingObjectTag/<k>` are.
   */
  allowed(
    action: string,
    opts?: {
      key?: string;
      bucket?: string;
      accessKey?: string;
      versionId?: string;
      conditions?: Record<string, string[]>;
    },
  ): Promise<boolean>;
}

export interface S3Response {
  /** 200 by default (204 when there is no body and none is given... set it explicitly). */
  status?: number;
  headers?: Record<string, string | number | undefined>;
  body?: string | Buffer | NodeJS.ReadableStream;
}

export type Op<A extends Action = Action> = (ctx: ReqCtx<RouteOf<A>>) => Promise<S3Response>;

/** A group of implemented actions (one file per group of ops registers them). */
export type OpTable = { [A in KnownAction]?: Op<A> };
