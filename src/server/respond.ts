/**
 * Writing S3 answers by hand: an op's `S3Response` (`send`), any thrown error as AWS's XML error
 * document (`renderError`), a CORS preflight (`preflight`), and what is left of a request body
 * before the response goes out. Used through an `Exchange`: Koa's context for the health, admin
 * and STS surfaces, a plain object for S3 requests, which skip Koa (`createApp`).
 *
 * S3 responses are written by hand: Koa would otherwise pick content types, turn an empty 200 into
 * 204 and drop Content-Length on streams, none of which S3 clients expect.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { isAuthError, type PayloadVerifier } from '../auth';
import type { BucketConfigStore, Logger, S3Response } from '../s3/context';
import { CORS_CONFIG, corsResponseHeaders, decodeCors, matchCorsRule, parseRequestHeaders } from '../s3/cors';
import { isS3ErrorCode, S3Error, toS3Error, toXml } from '../s3/errors';

/** What answering a request uses of it: Koa's context has these fields, and so does `plainExchange`. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The per-request `State`. */
  readonly state: object;
  readonly method: string;
  readonly url: string;
  /** Koa's: false once the response is written by hand. */
  respond?: boolean;
}

/** An S3 request's exchange, without Koa. */
export function plainExchange(req: IncomingMessage, res: ServerResponse, state: State): Exchange {
  return { req, res, state, method: req.method ?? 'GET', url: req.url ?? '/' };
}

/** A request header as one string ('' when absent), as Koa's `ctx.get`. */
function header(x: Exchange, name: string): string {
  const v = x.req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : '';
}

/** What the writers need of the app's options. */
export interface ResponderOptions {
  log: Logger;
  /** Identifies this server in `x-amz-id-2` and the error documents' `HostId`. */
  hostId: string;
  /** True once shutdown began. */
  closing(): boolean;
  bucketConfig: BucketConfigStore;
}

/** Per request state kept on `ctx.state`. */
export interface State {
  requestId: string;
  /** The `<Resource>` of an error document. */
  resource?: string;
  /** Drains or closes what is left of the request body once the response is written. */
  body?: BodyState;
}

export interface BodyState {
  verifier?: PayloadVerifier;
  /** The client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
  continueSent: boolean;
}

/** Bodies still being read, by socket, so an idle timeout can fail the one in progress. */
export const activeBodies = new WeakMap<Socket, (err: Error) => void>();

/** Marks a request whose client sent `Expect: 100-continue` (see `checkContinue` in `./index.ts`). */
export const expectsContinue = new WeakSet<IncomingMessage>();
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
export function settleRequestBody(req: IncomingMessage, res: ServerResponse, state: State): void {
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
export async function send(ctx: Exchange, r: S3Response, closing: boolean): Promise<void> {
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
export function renderError(ctx: Exchange, e: unknown, opts: ResponderOptions): void {
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

function corsError(ctx: Exchange, opts: ResponderOptions, message: string, status: number): void {
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

export async function corsRules(opts: ResponderOptions, bucket: string) {
  try {
    const doc = await opts.bucketConfig.get(bucket, CORS_CONFIG);
    return doc ? decodeCors(doc) : undefined;
  } catch (e) {
    opts.log.warn({ bucket, err: e }, 'cannot read the CORS configuration');
    return undefined;
  }
}

/** AWS answers a preflight from the bucket's CORS rules, without authentication. */
export async function preflight(
  ctx: Exchange,
  opts: ResponderOptions,
  bucket: string | undefined,
): Promise<void> {
  const origin = header(ctx, 'origin');
  const method = header(ctx, 'access-control-request-method');
  if (!origin) return corsError(ctx, opts, 'Insufficient information. Origin request header needed.', 400);
  if (!method) {
    return corsError(ctx, opts, 'Invalid Access-Control-Request-Method: null', 400);
  }
  if (!['GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(method)) {
    return corsError(ctx, opts, `Invalid Access-Control-Request-Method: ${method}`, 400);
  }
  const rules = bucket === undefined ? undefined : await corsRules(opts, bucket);
  if (!rules) return corsError(ctx, opts, 'CORS is not enabled for this bucket.', 403);
  const req = { origin, method, headers: parseRequestHeaders(header(ctx, 'access-control-request-headers')) };
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
