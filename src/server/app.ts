/**
 * The Koa app: request ids and the headers every response carries, one error renderer (every
 * thrown error becomes AWS's XML error document), the health endpoints, and the S3 catch-all:
 * route → authenticate → CORS → build the `ReqCtx` → `dispatch` → write the `S3Response`.
 *
 * S3 responses are written by hand (`ctx.respond = false`): Koa would otherwise pick content types,
 * turn an empty 200 into 204 and drop Content-Length on streams, none of which S3 clients expect.
 */

import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
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
import { CORS_CONFIG, corsResponseHeaders, decodeCors, matchCorsRule, parseRequestHeaders } from '../s3/cors';
import { dispatch } from '../s3/dispatch';
import { isS3ErrorCode, S3Error, toS3Error, toXml } from '../s3/errors';
import { bucketArn, objectArn, type Permission, requiredPermissions } from '../s3/permissions';
import { bucketNameValid, type Route, route, unknownRouteError } from '../s3/router';
import { ADMIN_PREFIX, admin } from './admin';
import { type Authorizer, createAuthorization, denial, identityOf, REQUEST_TAG_KEY } from './authz';
import { isStsRequest, sts } from './sts';

export interface RootCredentials {
  accessKey: string;
  secretKey: string;
}

export interface AppOptions {
  objects: ObjectLayer;
  bucketConfig: BucketConfigStore;
  config: S3Config;
  root: RootCredentials;
  log: Logger;
  /** Identifies this server in `x-amz-id-2` and the error documents' `HostId`. */
  hostId: string;
  /** Whether every erasure set has read quorum (`/minio/health/ready`). */
  ready(): Promise<boolean>;
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

/** Per request state kept on `ctx.state`. */
interface State {
  requestId: string;
  /** The `<Resource>` of an error document. */
  resource?: string;
  /** Drains or closes what is left of the request body once the response is written. */
  body?: BodyState;
}

interface BodyState {
  verifier?: PayloadVerifier;
  /** The client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
  continueSent: boolean;
}

/** Bodies still being read, by socket, so an idle timeout can fail the one in progress. */
const activeBodies = new WeakMap<Socket, (err: Error) => void>();

/** Marks a request whose client sent `Expect: 100-continue` (see `checkContinue` in `./index.ts`). */
const expectsContinue = new WeakSet<IncomingMessage>();
export function markExpectContinue(req: IncomingMessage): void {
  expectsContinue.add(req);
}

/**
 * An idle socket timed out. A request whose body is still being read gets `RequestTimeout` (AWS's
 * answer to a body that stopped coming); returns false when there is none, and the caller closes
 * the socket.
 */
export function failIdleRequest(socket: Socket): boolean {
  return failRequestBody(socket, new S3Error('RequestTimeout'));
}

/** Fails the request body being read on `socket` with `err`; false when none is being read. */
export function failRequestBody(socket: Socket, err: Error): boolean {
  const fail = activeBodies.get(socket);
  if (!fail) return false;
  activeBodies.delete(socket);
  fail(err);
  return true;
}

/** Per process: 6 random hex digits, then a counter from a random start (ids unique across workers). */
const requestIdPrefix = randomBytes(3).toString('hex').toUpperCase();
let requestCounter = randomBytes(4).readUInt32BE(0) * 64;
const COUNTER_SPAN = 16 ** 10;

/**
 * AWS's request ids are 16 upper-case hex digits. A counter, not 8 random bytes per request: the
 * random source was 3% of a small GET's CPU (profile in bench/README.md).
 */
export function newRequestId(): string {
  requestCounter = (requestCounter + 1) % COUNTER_SPAN;
  return requestIdPrefix + requestCounter.toString(16).toUpperCase().padStart(10, '0');
}

/** A stable `x-amz-id-2` for this server. */
export function makeHostId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/** Errors as the S3 error to answer with; authentication's errors carry their own S3 codes. */
export function asS3Error(e: unknown): S3Error {
  if (isAuthError(e) && isS3ErrorCode(e.code)) {
    return new S3Error(e.code, { message: e.message, fields: { ...e.details }, cause: e });
  }
  const s3 = toS3Error(e);
  // An op that wrapped a body failure (an AuthError from the payload verifier) as InternalError.
  if (s3.code === 'InternalError' && s3.cause !== e && isAuthError(s3.cause)) return asS3Error(s3.cause);
  return s3;
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

function isReadable(b: unknown): b is NodeJS.ReadableStream {
  return typeof b === 'object' && b !== null && typeof (b as NodeJS.ReadableStream).pipe === 'function';
}

function discard(body: S3Response['body']): void {
  if (isReadable(body)) {
    const d = (body as { destroy?: () => void }).destroy;
    if (typeof d === 'function') d.call(body);
    else body.resume();
  }
}

/**
 * Before the response goes out: what is left of the request body. An unread body the client has
 * not started sending (it waits for 100 Continue) or a large one closes the connection; a small one
 * is drained so the connection can carry the next request.
 */
function settleRequestBody(req: IncomingMessage, res: ServerResponse, state: State): void {
  if (req.complete) return;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody) return;
  const body = state.body;
  if (body?.verifier) req.unpipe(body.verifier);
  activeBodies.delete(req.socket);
  const waiting = (body?.expectContinue ?? expectsContinue.has(req)) && !body?.continueSent;
  if (waiting || !(declared <= 1 << 20)) {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  }
  if (!waiting) req.resume();
}

/** Writes an S3 response: headers, then the body (streamed with backpressure: `pipeBody`). */
async function send(ctx: Koa.Context, r: S3Response, closing: boolean): Promise<void> {
  const res = ctx.res;
  const state = ctx.state as State;
  ctx.respond = false;
  const status = r.status ?? 200;
  res.statusCode = status;
  for (const [k, v] of Object.entries(r.headers ?? {})) if (v !== undefined) res.setHeader(k, String(v));
  // Shutting down: this connection carries no further request.
  if (closing) res.setHeader('Connection', 'close');
  settleRequestBody(ctx.req, res, state);
  const noBody = ctx.method === 'HEAD' || status === 204 || status === 304;
  const body = r.body;
  if (noBody || body === undefined) {
    discard(body);
    if (!noBody && !res.hasHeader('Content-Length')) res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    if (!res.hasHeader('Content-Type') && buf.subarray(0, 5).toString() === '<?xml') {
      res.setHeader('Content-Type', 'application/xml');
    }
    res.setHeader('Content-Length', buf.length);
    res.end(buf);
    return;
  }
  await pipeBody(body as Readable, res);
}

/**
 * `body` into `res` with backpressure; settles when `res` has finished, or fails with the body's
 * error (the response is left for `renderError`: an error before the first byte still gets its XML
 * document) or with ERR_STREAM_PREMATURE_CLOSE when the client went away. Not `stream.pipeline`,
 * whose AbortController (and the DOMException its abort makes) per call was ~2% of a small GET.
 */
function pipeBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      body.off('error', onError);
      res.off('finish', onFinish);
      res.off('close', onClose);
      if (err) {
        body.unpipe(res);
        body.destroy();
        reject(err);
      } else resolve();
    };
    const onError = (e: Error) => settle(e);
    const onFinish = () => settle();
    const onClose = () => {
      if (!res.writableFinished) {
        settle(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      }
    };
    body.on('error', onError);
    res.on('finish', onFinish);
    res.on('close', onClose);
    body.pipe(res);
  });
}

/** Renders `e` as AWS's error document (no body for HEAD); a response already started is cut. */
function renderError(ctx: Koa.Context, e: unknown, opts: AppOptions): void {
  const state = ctx.state as State;
  const err = asS3Error(e);
  // A client that went away mid-response is no fault of ours (nor worth an error line).
  const clientGone =
    (e as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || ctx.req.socket.destroyed;
  // Unexpected failures only: 501 and 503 (NotImplemented, SlowDown) are answers, not faults.
  if (err.status === 500 && !clientGone) {
    opts.log.error(
      { requestId: state.requestId, method: ctx.method, url: ctx.url, code: err.code, err: err.cause ?? err },
      'request failed',
    );
  }
  const res = ctx.res;
  ctx.respond = false;
  if (res.headersSent) {
    // Too late for an error document: cut the connection so the client sees a truncated response. A
    // client that went away mid-download is no fault of ours and not worth a warning.
    if (!clientGone) {
      opts.log.warn({ requestId: state.requestId, err: e }, 'response failed after its headers were sent');
    }
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) {
    if (!KEEP_ON_ERROR.has(name)) res.removeHeader(name);
  }
  res.statusCode = err.status;
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  settleRequestBody(ctx.req, res, state);
  // A body that timed out or was cut short leaves the connection in no state to carry another request.
  if (err.code === 'RequestTimeout' || err.code === 'IncompleteBody' || opts.closing()) {
    res.setHeader('Connection', 'close');
  }
  const xml = toXml(err, {
    requestId: state.requestId,
    hostId: opts.hostId,
    ...(state.resource !== undefined ? { resource: state.resource } : {}),
  });
  res.setHeader('Content-Type', 'application/xml');
  if (ctx.method === 'HEAD') {
    res.end();
    return;
  }
  const buf = Buffer.from(xml);
  res.setHeader('Content-Length', buf.length);
  res.end(buf);
}

/** Headers an error response keeps from before the error: identity, CORS, connection. */
const KEEP_ON_ERROR = new Set([
  'x-amz-request-id',
  'x-amz-id-2',
  'server',
  'connection',
  'vary',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'access-control-max-age',
]);

function corsError(ctx: Koa.Context, opts: AppOptions, message: string, status: number): void {
  const state = ctx.state as State;
  ctx.respond = false;
  const res = ctx.res;
  // AWS's own code for a refused preflight; not an error of the S3 error table.
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${status === 403 ? 'CORSResponse' : 'BadRequest'}</Code>` +
    `<Message>${message}</Message><RequestId>${state.requestId}</RequestId><HostId>${opts.hostId}</HostId></Error>`;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/xml');
  res.setHeader('Content-Length', Buffer.byteLength(xml));
  res.end(xml);
}

async function corsRules(opts: AppOptions, bucket: string) {
  try {
    const doc = await opts.bucketConfig.get(bucket, CORS_CONFIG);
    return doc ? decodeCors(doc) : undefined;
  } catch (e) {
    opts.log.warn({ bucket, err: e }, 'cannot read the CORS configuration');
    return undefined;
  }
}

/** AWS answers a preflight from the bucket's CORS rules, without authentication. */
async function preflight(ctx: Koa.Context, opts: AppOptions, bucket: string | undefined): Promise<void> {
  const origin = ctx.get('origin');
  const method = ctx.get('access-control-request-method');
  if (!origin) return corsError(ctx, opts, 'Insufficient information. Origin request header needed.', 400);
  if (!method) {
    return corsError(ctx, opts, 'Invalid Access-Control-Request-Method: null', 400);
  }
  if (!['GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(method)) {
    return corsError(ctx, opts, `Invalid Access-Control-Request-Method: ${method}`, 400);
  }
  const rules = bucket === undefined ? undefined : await corsRules(opts, bucket);
  if (!rules) return corsError(ctx, opts, 'CORS is not enabled for this bucket.', 403);
  const req = { origin, method, headers: parseRequestHeaders(ctx.get('access-control-request-headers')) };
  const rule = matchCorsRule(rules, req);
  if (!rule) {
    return corsError(
      ctx,
      opts,
      "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      403,
    );
  }
  ctx.respond = false;
  const res = ctx.res;
  for (const [k, v] of Object.entries(corsResponseHeaders(rule, req, true))) res.setHeader(k, v);
  res.statusCode = 200;
  res.setHeader('Content-Length', 0);
  res.end();
}

export function createApp(opts: AppOptions): Koa {
  const app = new Koa();
  app.silent = true;
  const config = opts.config;
  // Every access key: root, users, service accounts, STS credentials (disabled or expired ones throw).
  const lookup = (accessKey: string): Promise<IdentityRecord | null> => opts.iam.lookup(accessKey);

  const { authorizer } = createAuthorization(opts);

  // 1. Request id and the headers of every response.
  app.use(async (ctx, next) => {
    const requestId = newRequestId();
    (ctx.state as State).requestId = requestId;
    ctx.res.setHeader('x-amz-request-id', requestId);
    ctx.res.setHeader('x-amz-id-2', opts.hostId);
    ctx.res.setHeader('Server', 'Cairn');
    if (opts.closing()) ctx.res.setHeader('Connection', 'close');
    await next();
  });

  // 2. Every error as AWS's XML.
  app.use(async (ctx, next) => {
    try {
      if (opts.closing())
        throw new S3Error('ServiceUnavailable', { message: 'The server is shutting down.' });
      await next();
    } catch (e) {
      renderError(ctx, e, opts);
    }
  });

  // 3. The surfaces: health, then S3 for everything else.
  const router = new Router();
  router.get('/minio/health/live', (ctx) => {
    ctx.status = 200;
    ctx.body = '';
  });
  router.get('/minio/health/ready', async (ctx) => {
    const ok = await opts.ready().catch(() => false);
    ctx.status = ok ? 200 : 503;
    ctx.body = '';
  });
  // The admin API and STS (MinIO serves both at the S3 endpoint); registered before the S3 catch-all.
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

  async function s3(ctx: Koa.Context): Promise<void> {
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
    ctx: Koa.Context,
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

  return app;
}
