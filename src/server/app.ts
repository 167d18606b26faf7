/**
 * The HTTP handler: request ids and the headers every response carries, one error renderer (every
 * thrown error becomes AWS's XML error document), and the S3 path: route → authenticate → CORS →
 * build the `ReqCtx` → `dispatch` → write the `S3Response` (`./respond.ts`).
 *
 * S3 requests do not go through Koa: its context, middleware chain and router cost a small GET
 * 0.50 -> 0.44 ms of CPU (bench/README.md), for nothing the S3 path uses. The health endpoints, the admin API and STS are a
 * Koa app, taken by path before the S3 path.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import {
  createPayloadVerifier,
  isAuthError,
  type PayloadVerifier,
  type VerifyResult,
  verifyRequest,
} from '../auth';
import type { IAM } from '../auth/iam/IAM';
import type { IdentityRecord } from '../auth/iam/types';
import type { Cidr } from '../auth/policy/values';
import type { ErasureSets } from '../erasure/ErasureSets';
import { isObjectError } from '../object/errors';
import type { ObjectLayer } from '../object/ObjectLayer';
import type { BucketConfigStore, Logger, ReqCtx, S3Config, S3Response } from '../s3/context';
import { corsResponseHeaders, matchCorsRule } from '../s3/cors';
import { dispatch } from '../s3/dispatch';
import { S3Error } from '../s3/errors';
import { bucketArn, objectArn, type Permission, requiredPermissions } from '../s3/permissions';
import { bucketNameValid, type Route, route, unknownRouteError } from '../s3/router';
import { ADMIN_PREFIX, admin } from './admin';
import { type Authorizer, createAuthorization, denial, identityOf, REQUEST_TAG_KEY } from './authz';
import {
  activeBodies,
  asS3Error,
  type BodyState,
  corsRules,
  type Exchange,
  expectsContinue,
  newRequestId,
  plainExchange,
  preflight,
  renderError,
  type State,
  send,
} from './respond';
import { isStsRequest, sts } from './sts';

export {
  asS3Error,
  failIdleRequest,
  failRequestBody,
  makeHostId,
  markExpectContinue,
  newRequestId,
} from './respond';

export interface RootCredentials {
  accessKey: string;
  secretKey: string;
}

export interface ClusterHealth {
  readQuorum: number;
  writeQuorum: number;
  /** Every erasure set has its read quorum of drives answering. */
  readable: boolean;
  /** Every erasure set has its write quorum of drives answering. */
  writable: boolean;
}

export interface AppOptions {
  objects: ObjectLayer;
  bucketConfig: BucketConfigStore;
  config: S3Config;
  root: RootCredentials;
  log: Logger;
  /** Identifies this server in `x-amz-id-2` and the error documents' `HostId`. */
  hostId: string;
  /**
   * Quorums and whether every set meets them: `/minio/health/cluster`, `/cluster/read`, and
   * `/minio/health/ready` (read quorum).
   */
  health(): Promise<ClusterHealth>;
  /** True once shutdown began: new requests are refused with 503. */
  closing(): boolean;
  /** Users, groups, policies, service accounts and temporary credentials: every key's lookup. */
  iam: IAM;
  /** What the admin API reports on and heals: the erasure sets behind `objects`, the version. */
  admin: { layer: ErasureSets; version: string; startedAt: Date };
  /**
   * Reverse proxies whose `X-Forwarded-For` is believed (`CAIRN_TRUSTED_PROXIES`): a request from one
   * of them has the client address (`aws:SourceIp`) its proxies recorded. None by default.
   */
  trustedProxies?: readonly Cidr[];
}

/** Header values as authentication wants them: one string each (Node joins repeats, except cookies). */
function flatHeaders(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

function resourceOf(r: Route): string | undefined {
  if (!('bucket' in r) || r.bucket === undefined) return r.action === 'Unknown' ? undefined : '/';
  return 'key' in r && r.key !== undefined ? `/${r.bucket}/${r.key}` : `/${r.bucket}`;
}

/** Serves one request: what `http.createServer` calls. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createApp(opts: AppOptions): RequestHandler {
  const config = opts.config;
  // Every access key: root, users, service accounts, STS credentials (disabled or expired ones throw).
  const lookup = (accessKey: string): Promise<IdentityRecord | null> => opts.iam.lookup(accessKey);

  const { authorizer } = createAuthorization(opts);

  /** The request id and the headers of every response; true when the server is shutting down. */
  function start(res: ServerResponse, state: State): boolean {
    res.setHeader('x-amz-request-id', state.requestId);
    res.setHeader('x-amz-id-2', opts.hostId);
    res.setHeader('Server', 'Cairn');
    const closing = opts.closing();
    if (closing) res.setHeader('Connection', 'close');
    return closing;
  }
  const shuttingDown = () => new S3Error('ServiceUnavailable', { message: 'The server is shutting down.' });

  // The health endpoints, the admin API and STS: a Koa app.
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    const state = ctx.state as State;
    state.requestId = newRequestId();
    try {
      if (start(ctx.res, state)) throw shuttingDown();
      await next();
    } catch (e) {
      renderError(ctx, e, opts);
    }
  });
  const router = new Router();
  router.get('/minio/health/live', (ctx) => {
    ctx.status = 200;
    ctx.body = '';
  });
  // MinIO's cluster probes: 200 with quorum in every set, else 503; `?maintenance=true` asks whether
  // this node can be taken down without losing it: never, for a single node (412).
  const cluster = (read: boolean) => async (ctx: Koa.Context) => {
    const h = await opts.health().catch(() => undefined);
    if (h) {
      ctx.set(
        read ? 'X-Minio-Read-Quorum' : 'X-Minio-Write-Quorum',
        String(read ? h.readQuorum : h.writeQuorum),
      );
      ctx.set('X-Minio-Storage-Class-Defaults', 'true');
    }
    const healthy = h !== undefined && (read ? h.readable : h.writable);
    const maintenance = ctx.query.maintenance === 'true';
    ctx.status = maintenance ? 412 : healthy ? 200 : 503;
    ctx.body = '';
  };
  router.get('/minio/health/cluster', cluster(false));
  router.get('/minio/health/cluster/read', cluster(true));
  router.get('/minio/health/ready', async (ctx) => {
    const ok = await opts
      .health()
      .then((h) => h.readable)
      .catch(() => false);
    ctx.status = ok ? 200 : 503;
    ctx.body = '';
  });
  // The admin API and STS (MinIO serves both at the S3 endpoint).
  router.all(`${ADMIN_PREFIX}/{*rest}`, (ctx) =>
    admin(ctx, {
      iam: opts.iam,
      ...opts.admin,
      region: config.region,
      log: opts.log,
      requestId: (ctx.state as State).requestId,
    }),
  );
  router.post('/', (ctx) =>
    isStsRequest(ctx.req, config.domains)
      ? sts(ctx, {
          iam: opts.iam,
          region: config.region,
          log: opts.log,
          requestId: (ctx.state as State).requestId,
        })
      : s3(ctx),
  );
  router.all('/{*rest}', (ctx) => s3(ctx));
  router.all('/', (ctx) => s3(ctx));
  app.use(router.routes());
  // A request target no surface takes (`OPTIONS *`, `GET *`).
  app.use(() => {
    throw new S3Error('InvalidURI');
  });
  const viaKoa = app.callback();

  /** An S3 request, without Koa: the same headers, errors and `s3` as through it. */
  async function plain(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const state: State = { requestId: newRequestId() };
    const x = plainExchange(req, res, state);
    try {
      if (start(res, state)) throw shuttingDown();
      await s3(x);
    } catch (e) {
      renderError(x, e, opts);
    }
  }

  return (req, res) => {
    const url = req.url ?? '';
    // Koa's surfaces by path (a bucket named `minio` or `cairn` still reaches S3 through its router),
    // and any request target that is not a path.
    if (
      url.charCodeAt(0) !== 47 /* '/' */ ||
      url.startsWith('/minio/') ||
      url.startsWith(ADMIN_PREFIX) ||
      (req.method === 'POST' && (url === '/' || url.startsWith('/?')))
    ) {
      void viaKoa(req, res);
      return;
    }
    void plain(req, res);
  };

  async function s3(ctx: Exchange): Promise<void> {
    const req = ctx.req;
    const state = ctx.state as State;
    const url = req.url ?? '/';
    const qmark = url.indexOf('?');
    const rawPath = qmark < 0 ? url : url.slice(0, qmark);
    const rawQuery = qmark < 0 ? '' : url.slice(qmark + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    // Parsed once for the router, the permissions and the op (read-only from here on).
    const query = new URLSearchParams(rawQuery);
    const r = route({ method, path: rawPath, query, headers: req.headers }, { domains: config.domains });
    const resource = resourceOf(r);
    if (resource !== undefined) state.resource = resource;

    if (r.action === 'Options') return preflight(ctx, opts, r.bucket);

    // CORS headers go on the actual request's response, errors included, so browsers can read them.
    const origin = req.headers.origin;
    const bucket = 'bucket' in r ? r.bucket : undefined;
    if (origin && bucket) {
      const rules = await corsRules(opts, bucket);
      const cr = { origin, method };
      const rule = rules && matchCorsRule(rules, cr);
      if (rule)
        for (const [k, v] of Object.entries(corsResponseHeaders(rule, cr, false))) ctx.res.setHeader(k, v);
    }

    const headers = flatHeaders(req.headers);
    const auth = await verifyRequest(
      { method, path: rawPath, query: rawQuery, headers },
      { lookup, region: config.region },
    );
    if (r.action === 'Unknown') {
      // Nothing to authorize, but an anonymous caller learns nothing about what it asked for.
      if (auth.anonymous) throw new S3Error('AccessDenied');
      throw unknownRouteError(r, resource);
    }
    const who = auth.anonymous ? null : auth.identity;
    if (who?.expiresAt !== undefined && who.expiresAt.getTime() <= Date.now())
      throw new S3Error('ExpiredToken');

    // Authorization before dispatch: a refused request touches nothing. AWS: bucket names are
    // global and their existence no secret, so a request to a bucket that does not exist is 404
    // NoSuchBucket for every caller, anonymous included (checked only once a caller is refused; an
    // allowed one hears it from the op); an existing bucket's refusal stays AccessDenied.
    const needs = requiredPermissions(r, req.headers, query);
    if (r.action === 'PostObject') needs.conditions['s3:authType'] = ['POST'];
    const authz = authorizer(ctx, who, auth, needs.conditions);
    // PutObjectTagging's request tags are in its body: where a policy names them, the op checks its
    // permissions with them (a check here, without them, could only fail).
    const inOp = r.action === 'PutObjectTagging' && (await authz.mentions(REQUEST_TAG_KEY, r.bucket));
    if (!inOp) {
      await authz.require(needs.checks).catch(async (e: unknown) => {
        const missing = await missingBucket(r);
        throw missing === undefined ? e : new S3Error('NoSuchBucket', { fields: { BucketName: missing } });
      });
    }
    // ListBuckets authorizes each bucket it lists, DeleteObjects each key, PostObject its form's
    // signer (see src/s3/permissions.ts); an anonymous ListBuckets has nothing to list.
    if (r.action === 'ListBuckets' && who === null) throw new S3Error('AccessDenied');

    const rctx = buildReqCtx(ctx, r, auth, state, authz, query);
    let response: S3Response;
    try {
      response = await dispatch(rctx);
    } catch (e) {
      throw await hideMissingKey(e, r, authz);
    }
    await send(ctx, response, opts.closing());
  }

  /** The bucket the request names when it does not exist (CreateBucket's is meant not to). */
  async function missingBucket(r: Route): Promise<string | undefined> {
    const bucket = 'bucket' in r ? r.bucket : undefined;
    if (bucket === undefined || r.action === 'CreateBucket' || !bucketNameValid(bucket)) return undefined;
    try {
      await opts.objects.getBucketInfo(bucket);
      return undefined;
    } catch (e) {
      if (isObjectError(e, 'BucketNotFound')) return bucket;
      throw e;
    }
  }

  /**
   * AWS: a read of a key that does not exist is 404 NoSuchKey only for a caller allowed
   * s3:ListBucket on the bucket; anyone else gets 403 AccessDenied, so keys cannot be probed.
   */
  async function hideMissingKey(e: unknown, r: Route, authz: Authorizer): Promise<unknown> {
    if (r.action !== 'GetObject' && r.action !== 'HeadObject' && r.action !== 'GetObjectAttributes') return e;
    const code = asS3Error(e).code;
    if (code !== 'NoSuchKey' && code !== 'NoSuchVersion') return e;
    const res = await authz.check({
      action: 's3:ListBucket',
      resource: bucketArn(r.bucket),
      bucket: r.bucket,
    });
    return res.allowed ? e : denial(authz.who, res, e);
  }

  function buildReqCtx(
    ctx: Exchange,
    r: Route,
    auth: VerifyResult,
    state: State,
    authz: Authorizer,
    query: URLSearchParams,
  ): ReqCtx {
    const req = ctx.req;
    const res = ctx.res;
    const payload = auth.payload;
    const contentLength = req.headers['content-length'];
    const declared = contentLength === undefined ? -1 : Number(contentLength);
    const bodyLength =
      'decodedLength' in payload ? payload.decodedLength : Number.isFinite(declared) ? declared : -1;
    const bodyState: BodyState = { expectContinue: expectsContinue.has(req), continueSent: false };
    state.body = bodyState;

    // The AbortController only for operations that ask for the signal (most never do).
    let abort: AbortController | undefined;
    let gone: Error | undefined;
    const onClose = () => {
      activeBodies.delete(req.socket);
      if (!res.writableFinished) {
        gone = new Error('the client closed the connection');
        abort?.abort(gone);
      }
    };
    const signal = (): AbortSignal => {
      if (!abort) {
        abort = new AbortController();
        if (gone) abort.abort(gone);
      }
      return abort.signal;
    };
    res.once('close', onClose);

    const body = (): PayloadVerifier => {
      if (bodyState.verifier) return bodyState.verifier;
      const v = createPayloadVerifier(
        payload,
        'decodedLength' in payload || declared < 0 ? {} : { decodedLength: declared },
      );
      bodyState.verifier = v;
      // An op may fail (or the client go away) before it reads the body: an error on an unread body
      // must not become an unhandled 'error' event that takes the process down. Readers still see it.
      v.on('error', () => {});
      if (bodyState.expectContinue && !res.headersSent) {
        res.writeContinue();
        bodyState.continueSent = true;
      }
      if (req.readableEnded) {
        v.end();
        return v;
      }
      // Not `pipeline`: a verification failure must not destroy the request (and its socket) before
      // the error response is written.
      req.pipe(v);
      const fail = (err: Error) => {
        if (!v.destroyed) v.destroy(err);
      };
      req.once('close', () => {
        if (!req.complete) fail(new S3Error('IncompleteBody'));
      });
      req.once('error', (e) =>
        fail(isAuthError(e) || e instanceof S3Error ? e : new S3Error('IncompleteBody', { cause: e })),
      );
      // The client may already be gone (its 'close' has fired): the body would never end.
      if (req.destroyed && !req.complete) fail(new S3Error('IncompleteBody'));
      activeBodies.set(req.socket, fail);
      v.once('end', () => activeBodies.delete(req.socket));
      v.once('close', () => activeBodies.delete(req.socket));
      return v;
    };

    const identity = identityOf(authz.who);
    const routeBucket = 'bucket' in r ? r.bucket : undefined;
    const log = opts.log;
    return {
      requestId: state.requestId,
      route: r,
      identity,
      config,
      objects: opts.objects,
      bucketConfig: opts.bucketConfig,
      headers: req.headers,
      query,
      method: ctx.method,
      get body() {
        return body();
      },
      bodyLength,
      trailers: () => ({ ...(bodyState.verifier?.trailers ?? {}) }),
      log,
      get signal() {
        return signal();
      },
      credentials: lookup,
      allowed: async (action, o = {}) => {
        const bucket = o.bucket ?? routeBucket;
        const resource =
          bucket === undefined ? '*' : o.key !== undefined ? objectArn(bucket, o.key) : bucketArn(bucket);
        const subject = o.accessKey === undefined ? authz.who : await lookup(o.accessKey);
        if (o.accessKey !== undefined && subject === null) return false;
        const p: Permission = { action, resource };
        if (bucket !== undefined) {
          p.bucket = bucket;
          if (o.key !== undefined) {
            p.object = o.versionId === undefined ? { key: o.key } : { key: o.key, versionId: o.versionId };
          }
        }
        if (o.conditions !== undefined) p.conditions = o.conditions;
        return (await authz.check(p, subject)).allowed;
      },
    };
  }
}
