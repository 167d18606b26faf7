/**
 * The AWS STS query API at the S3 endpoint, as MinIO serves it: `POST /` with a form-encoded body
 * (`Action=AssumeRole&Version=2011-06-15&...`), signed with SigV4 for the service `sts`.
 *
 * - AssumeRole: any user (the root user included; `RoleArn` is accepted and need not exist) gets
 *   temporary credentials with at most its own rights, narrowed by the `Policy` parameter.
 * - GetCallerIdentity: who signed the request.
 *
 * Answers are AWS STS's XML (`https://sts.amazonaws.com/doc/2011-06-15/`), errors its
 * `ErrorResponse`, so `@aws-sdk/client-sts`, the AWS CLI and `mc` read them.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { AuthError, EMPTY_SHA256, isAuthError, type VerifyResult, verifyRequest } from '../auth';
import { IAMError } from '../auth/iam/errors';
import {
  ACCOUNT_ID,
  type IAM,
  STS_DEFAULT_DURATION,
  STS_MAX_DURATION,
  STS_MIN_DURATION,
} from '../auth/iam/IAM';
import type { IdentityRecord } from '../auth/iam/types';
import type { Logger } from '../s3/context';
import { escapeXml } from '../s3/xml';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const STS_VERSION = '2011-06-15';
/** A form body is a few hundred bytes; a session policy at most 2048 (AWS), percent-encoded ×3. */
const MAX_BODY = 16 * 1024;
/** AWS: a session policy's plain text is at most 2048 characters. */
const MAX_SESSION_POLICY = 2048;

export interface StsOptions {
  iam: IAM;
  region: string;
  requestId: string;
  log: Logger;
}

/** An STS error as AWS words it: `Type` is Sender for the client's faults, Receiver for ours. */
export class StsError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'StsError';
  }
}

function validation(message: string): StsError {
  return new StsError('ValidationError', 400, message);
}

/**
 * Whether a request is for STS: `POST /` with a form-encoded body and no bucket in the host (a
 * virtual-host `POST /` is a browser upload, multipart/form-data). No S3 action is a form-encoded
 * POST to the service root.
 */
export function isStsRequest(req: IncomingMessage, domains: readonly string[]): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  if ((q < 0 ? url : url.slice(0, q)) !== '/') return false;
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return false;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return !domains.some((d) => host.endsWith(`.${d}`));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > MAX_BODY) throw validation(`the request body is larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw validation(`the request body is larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function flatHeaders(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/** Authentication's errors in STS's words. */
function fromAuthError(e: AuthError): StsError {
  switch (e.code) {
    case 'InvalidAccessKeyId':
      return new StsError(
        'InvalidClientTokenId',
        403,
        // A disabled key keeps its own message; an unknown one gets STS's.
        e.message.includes('disabled') ? e.message : 'The security token included in the request is invalid.',
      );
    case 'InvalidToken':
      return new StsError(
        'InvalidClientTokenId',
        403,
        'The security token included in the request is invalid.',
      );
    case 'ExpiredToken':
      return new StsError('ExpiredToken', 400, 'The security token included in the request is expired');
    case 'SignatureDoesNotMatch':
      return new StsError(
        'SignatureDoesNotMatch',
        403,
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    case 'RequestTimeTooSkewed':
      return new StsError('SignatureDoesNotMatch', 403, `Signature expired: ${e.message}`);
    case 'AccessDenied':
      return new StsError('AccessDenied', 403, e.message);
    case 'AuthorizationHeaderMalformed':
    case 'AuthorizationQueryParametersError':
    case 'MissingSecurityHeader':
      return new StsError('IncompleteSignature', 400, e.message);
    default:
      return new StsError(e.code, e.status, e.message);
  }
}

function toStsError(e: unknown): StsError {
  if (e instanceof StsError) return e;
  if (isAuthError(e)) return fromAuthError(e);
  if (e instanceof IAMError) {
    switch (e.code) {
      case 'AccessDenied':
        return new StsError('AccessDenied', 403, e.message);
      case 'MalformedPolicy':
        return new StsError('MalformedPolicyDocument', 400, e.message);
      case 'IAMUnavailable':
        return new StsError('ServiceUnavailable', 503, e.message);
      default:
        return validation(e.message);
    }
  }
  return new StsError(
    'InternalFailure',
    500,
    'The request processing has failed because of an unknown error.',
  );
}

export function stsErrorXml(e: StsError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
    `<Code>${escapeXml(e.code)}</Code><Message>${escapeXml(e.message)}</Message></Error>` +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}

function respond(ctx: Koa.Context, status: number, xml: string, requestId: string): void {
  ctx.respond = false;
  const res = ctx.res;
  const body = Buffer.from(xml);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/xml');
  res.setHeader('x-amzn-RequestId', requestId);
  res.setHeader('Content-Length', body.length);
  // A body left unread (refused as too large) leaves nothing to read the next request from.
  if (!ctx.req.complete) res.setHeader('Connection', 'close');
  res.end(body);
}

/** Serves one STS request; every failure is answered as an STS `ErrorResponse`. */
export async function sts(ctx: Koa.Context, opts: StsOptions): Promise<void> {
  try {
    const xml = await handle(ctx, opts);
    respond(ctx, 200, xml, opts.requestId);
  } catch (e) {
    const err = toStsError(e);
    if (err.code === 'InternalFailure') {
      opts.log.error({ requestId: opts.requestId, err: e }, 'STS request failed');
    }
    respond(ctx, err.status, stsErrorXml(err, opts.requestId), opts.requestId);
  }
}

async function handle(ctx: Koa.Context, opts: StsOptions): Promise<string> {
  const req = ctx.req;
  const body = await readBody(req);
  const sha256 = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
  const headers = flatHeaders(req.headers);
  // The STS SDKs sign the body's hash without sending it as a header (S3's do): put it where the
  // signature check reads it. A header that is sent must match the body.
  headers['x-amz-content-sha256'] ??= sha256;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const auth: VerifyResult<IdentityRecord> = await verifyRequest<IdentityRecord>(
    { method: 'POST', path: '/', query: q < 0 ? '' : url.slice(q + 1), headers },
    { lookup: (k) => opts.iam.lookup(k), region: opts.region, service: 'sts' },
  );
  if (auth.anonymous)
    throw new StsError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
  if (
    auth.payload.kind === 'sha256'
      ? auth.payload.sha256.toLowerCase() !== sha256
      : auth.payload.kind !== 'unsigned'
  ) {
    throw fromAuthError(new AuthError('SignatureDoesNotMatch'));
  }

  const form = new URLSearchParams(body.toString('utf8'));
  const action = form.get('Action');
  const version = form.get('Version');
  if (action === null) throw new StsError('MissingAction', 400, 'Missing Action');
  if (version === null)
    throw new StsError('MissingParameter', 400, 'The request must contain the parameter Version');
  if (version !== STS_VERSION || (action !== 'AssumeRole' && action !== 'GetCallerIdentity')) {
    throw new StsError('InvalidAction', 400, `Could not find operation ${action} for version ${version}`);
  }
  const who = auth.identity;
  if (action === 'GetCallerIdentity') return getCallerIdentity(who, opts.requestId);
  return assumeRole(who, form, opts);
}

function getCallerIdentity(who: IdentityRecord, requestId: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult>` +
    `<Arn>${escapeXml(who.arn)}</Arn><UserId>${escapeXml(who.accessKey)}</UserId>` +
    `<Account>${ACCOUNT_ID}</Account></GetCallerIdentityResult>` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
  );
}

/** AWS's wording for a parameter outside its constraints. */
function constraint(value: string, member: string, rule: string): StsError {
  return validation(
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`,
  );
}

async function assumeRole(who: IdentityRecord, form: URLSearchParams, opts: StsOptions): Promise<string> {
  let durationSeconds = STS_DEFAULT_DURATION;
  const d = form.get('DurationSeconds');
  if (d !== null) {
    if (!/^\d{1,9}$/.test(d)) throw constraint(d, 'durationSeconds', 'Member must be an integer');
    durationSeconds = Number(d);
    if (durationSeconds < STS_MIN_DURATION) {
      throw constraint(
        d,
        'durationSeconds',
        `Member must have value greater than or equal to ${STS_MIN_DURATION}`,
      );
    }
    if (durationSeconds > STS_MAX_DURATION) {
      throw constraint(
        d,
        'durationSeconds',
        `Member must have value less than or equal to ${STS_MAX_DURATION}`,
      );
    }
  }
  const policy = form.get('Policy') ?? undefined;
  if (policy !== undefined) {
    if (policy.length < 1)
      throw constraint('', 'policy', 'Member must have length greater than or equal to 1');
    if (policy.length > MAX_SESSION_POLICY) {
      throw validation(
        `1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SESSION_POLICY}`,
      );
    }
  }
  const sessionName = form.get('RoleSessionName') ?? undefined;
  if (sessionName !== undefined && !/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw constraint(
      sessionName,
      'roleSessionName',
      'Member must satisfy regular expression pattern: [\\w+=,.@-]*, and have length 2 to 64',
    );
  }
  const roleArn = form.get('RoleArn') ?? undefined;
  const creds = await opts.iam.assumeRole(who, {
    durationSeconds,
    ...(policy !== undefined ? { sessionPolicy: policy } : {}),
    ...(sessionName !== undefined ? { sessionName } : {}),
    ...(roleArn !== undefined ? { roleArn } : {}),
  });
  // The role named in RoleArn (any; MinIO does not require it to exist), else the user.
  const role = roleArn?.split('/').pop() || creds.parent;
  const arn = `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/${creds.sessionName}`;
  const expiration = creds.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    `<AssumeRoleResponse xmlns="${STS_XMLNS}"><AssumeRoleResult>` +
    `<AssumedRoleUser><Arn>${escapeXml(arn)}</Arn>` +
    `<AssumedRoleId>${escapeXml(`${creds.accessKey}:${creds.sessionName}`)}</AssumedRoleId></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${creds.accessKey}</AccessKeyId>` +
    `<SecretAccessKey>${escapeXml(creds.secretKey)}</SecretAccessKey>` +
    `<SessionToken>${escapeXml(creds.sessionToken)}</SessionToken>` +
    `<Expiration>${expiration}</Expiration></Credentials>` +
    (policy === undefined
      ? ''
      : `<PackedPolicySize>${Math.ceil((policy.length * 100) / MAX_SESSION_POLICY)}</PackedPolicySize>`) +
    `</AssumeRoleResult><ResponseMetadata><RequestId>${escapeXml(opts.requestId)}</RequestId></ResponseMetadata>` +
    `</AssumeRoleResponse>`
  );
}
