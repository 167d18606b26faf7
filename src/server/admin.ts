/**
 * The admin API: `/cairn/admin/v1/...`, JSON in and out, signed with SigV4 (service `s3`) by the
 * root user or a user whose policies allow the `admin:` action of the call (MinIO's action names).
 * Users manage their own service accounts without any admin action. Errors are
 * `{"Code", "Message", "RequestId"}` with the HTTP status of the code.
 *
 * The endpoints are listed in `docs/iam.md` and in `ROUTES` below; `src/cli/admin.ts` is the
 * client.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';
import { AuthError, EMPTY_SHA256, isAuthError, verifyRequest } from '../auth';
import { isAllowed } from '../auth/iam/authorize';
import { IAMError } from '../auth/iam/errors';
import type { IAM, Status } from '../auth/iam/IAM';
import type { IdentityRecord } from '../auth/iam/types';
import type { ErasureSets } from '../erasure/ErasureSets';
import { type HealBucketResult, healAll, healBucket } from '../erasure/heal';
import { ObjectError } from '../object/errors';
import type { Logger } from '../s3/context';

export const ADMIN_PREFIX = '/cairn/admin/v1';
const MAX_BODY = 1024 * 1024;

export interface AdminOptions {
  iam: IAM;
  layer: ErasureSets;
  region: string;
  version: string;
  startedAt: Date;
  log: Logger;
}

export class AdminError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

interface Call {
  who: IdentityRecord;
  params: string[];
  query: URLSearchParams;
  body: Buffer;
  opts: AdminOptions;
  /** Refuses the call unless the caller is allowed `action`. */
  require(action: string): void;
  /** The caller may act on `user`'s own things (service accounts) without an admin action. */
  isSelf(user: string): boolean;
}

type Handler = (c: Call) => Promise<unknown>;

interface Route {
  method: string;
  /** Segments after the prefix; `:x` takes one path segment. */
  path: string;
  handler: Handler;
}

function jsonBody(c: Call): Record<string, unknown> {
  if (c.body.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(c.body.toString('utf8'));
  } catch (e) {
    throw new AdminError('InvalidArgument', 400, `the body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new AdminError('InvalidArgument', 400, 'the body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

function str(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AdminError('InvalidArgument', 400, `${name} must be a string`);
  return v;
}

function list(v: unknown, name: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new AdminError('InvalidArgument', 400, `${name} must be a list of strings`);
  }
  return v as string[];
}

function status(v: unknown): Status {
  if (v !== 'enabled' && v !== 'disabled') {
    throw new AdminError('InvalidArgument', 400, 'status must be "enabled" or "disabled"');
  }
  return v;
}

/** A policy given as JSON text or as a JSON object. */
function policyText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** What an admin call on a service account needs: the caller's own, or the admin action. */
async function ownOrAdmin(c: Call, accessKey: string, action: string): Promise<void> {
  const svc = await c.opts.iam.getServiceAccount(accessKey).catch((e: unknown) => {
    // Who may not act on it must not learn whether it exists.
    if (e instanceof IAMError && e.code === 'NoSuchServiceAccount') return null;
    throw e;
  });
  if (svc && c.isSelf(svc.parent)) return;
  c.require(action);
  if (!svc) throw new IAMError('NoSuchServiceAccount', `no service account ${JSON.stringify(accessKey)}`);
}

const ROUTES: Route[] = [
  // --- server ---
  {
    method: 'GET',
    path: 'info',
    handler: async (c) => {
      c.require('admin:ServerInfo');
      return serverInfo(c.opts);
    },
  },
  {
    method: 'POST',
    path: 'heal',
    handler: async (c) => {
      c.require('admin:Heal');
      const b = jsonBody(c);
      return heal(c.opts, {
        bucket: str(b.bucket, 'bucket'),
        prefix: str(b.prefix, 'prefix'),
        dryRun: b.dryRun === true,
        deep: b.deep === true,
      });
    },
  },
  // --- users ---
  {
    method: 'GET',
    path: 'users',
    handler: async (c) => {
      c.require('admin:ListUsers');
      return c.opts.iam.listUsers();
    },
  },
  {
    method: 'POST',
    path: 'users',
    handler: async (c) => {
      c.require('admin:CreateUser');
      const b = jsonBody(c);
      const accessKey = str(b.accessKey, 'accessKey');
      const secretKey = str(b.secretKey, 'secretKey');
      const created = await c.opts.iam.createUser({
        ...(accessKey !== undefined ? { accessKey } : {}),
        ...(secretKey !== undefined ? { secretKey } : {}),
        policies: list(b.policies, 'policies'),
        ...(b.status !== undefined ? { status: status(b.status) } : {}),
      });
      return { ...(await c.opts.iam.getUser(created.accessKey)), secretKey: created.secretKey };
    },
  },
  {
    method: 'GET',
    path: 'users/:name',
    handler: async (c) => {
      if (!c.isSelf(c.params[0]!)) c.require('admin:GetUser');
      return c.opts.iam.getUser(c.params[0]!);
    },
  },
  {
    method: 'DELETE',
    path: 'users/:name',
    handler: async (c) => {
      c.require('admin:DeleteUser');
      return c.opts.iam.deleteUser(c.params[0]!);
    },
  },
  {
    method: 'PUT',
    path: 'users/:name/status',
    handler: async (c) => {
      const s = status(jsonBody(c).status);
      c.require(s === 'enabled' ? 'admin:EnableUser' : 'admin:DisableUser');
      return c.opts.iam.setUserStatus(c.params[0]!, s);
    },
  },
  {
    method: 'PUT',
    path: 'users/:name/secret',
    handler: async (c) => {
      c.require('admin:CreateUser');
      const secretKey = str(jsonBody(c).secretKey, 'secretKey');
      if (secretKey === undefined) throw new AdminError('InvalidArgument', 400, 'secretKey is required');
      await c.opts.iam.setUserSecret(c.params[0]!, secretKey);
      return c.opts.iam.getUser(c.params[0]!);
    },
  },
  {
    method: 'PUT',
    path: 'users/:name/policies',
    handler: async (c) => {
      c.require('admin:AttachUserOrGroupPolicy');
      return c.opts.iam.setUserPolicies(c.params[0]!, list(jsonBody(c).policies, 'policies'));
    },
  },
  // --- groups ---
  {
    method: 'GET',
    path: 'groups',
    handler: async (c) => {
      c.require('admin:ListGroups');
      return c.opts.iam.listGroups();
    },
  },
  {
    method: 'GET',
    path: 'groups/:name',
    handler: async (c) => {
      c.require('admin:GetGroup');
      return c.opts.iam.getGroup(c.params[0]!);
    },
  },
  {
    method: 'POST',
    path: 'groups/:name/members',
    handler: async (c) => {
      c.require('admin:AddUserToGroup');
      return c.opts.iam.addGroupMembers(c.params[0]!, list(jsonBody(c).members, 'members'));
    },
  },
  {
    method: 'DELETE',
    path: 'groups/:name/members',
    handler: async (c) => {
      c.require('admin:RemoveUserFromGroup');
      const members = c.query.getAll('member');
      if (members.length === 0)
        throw new AdminError('InvalidArgument', 400, 'name the members: ?member=NAME');
      return c.opts.iam.removeGroupMembers(c.params[0]!, members);
    },
  },
  {
    method: 'DELETE',
    path: 'groups/:name',
    handler: async (c) => {
      c.require('admin:RemoveUserFromGroup');
      return c.opts.iam.deleteGroup(c.params[0]!);
    },
  },
  {
    method: 'PUT',
    path: 'groups/:name/status',
    handler: async (c) => {
      const s = status(jsonBody(c).status);
      c.require(s === 'enabled' ? 'admin:EnableGroup' : 'admin:DisableGroup');
      return c.opts.iam.setGroupStatus(c.params[0]!, s);
    },
  },
  {
    method: 'PUT',
    path: 'groups/:name/policies',
    handler: async (c) => {
      c.require('admin:AttachUserOrGroupPolicy');
      return c.opts.iam.setGroupPolicies(c.params[0]!, list(jsonBody(c).policies, 'policies'));
    },
  },
  // --- policies ---
  {
    method: 'GET',
    path: 'policies',
    handler: async (c) => {
      c.require('admin:ListUserPolicies');
      return c.opts.iam.listPolicies();
    },
  },
  {
    method: 'GET',
    path: 'policies/:name',
    handler: async (c) => {
      c.require('admin:GetPolicy');
      return c.opts.iam.getPolicy(c.params[0]!);
    },
  },
  {
    method: 'PUT',
    path: 'policies/:name',
    handler: async (c) => {
      c.require('admin:CreatePolicy');
      return c.opts.iam.putPolicy(c.params[0]!, c.body.toString('utf8'));
    },
  },
  {
    method: 'DELETE',
    path: 'policies/:name',
    handler: async (c) => {
      c.require('admin:DeletePolicy');
      return c.opts.iam.deletePolicy(c.params[0]!);
    },
  },
  { method: 'POST', path: 'policies/attach', handler: (c) => attachDetach(c, 'attach') },
  { method: 'POST', path: 'policies/detach', handler: (c) => attachDetach(c, 'detach') },
  // --- service accounts ---
  {
    method: 'GET',
    path: 'service-accounts',
    handler: async (c) => {
      const user = c.query.get('user') ?? (c.query.has('all') ? undefined : c.who.username);
      if (user === undefined || !c.isSelf(user)) c.require('admin:ListServiceAccounts');
      return c.opts.iam.listServiceAccounts(user);
    },
  },
  {
    method: 'POST',
    path: 'service-accounts',
    handler: async (c) => {
      const b = jsonBody(c);
      const parent = str(b.user, 'user') ?? c.who.username;
      if (!c.isSelf(parent)) c.require('admin:CreateServiceAccount');
      const accessKey = str(b.accessKey, 'accessKey');
      const secretKey = str(b.secretKey, 'secretKey');
      const policy = policyText(b.policy);
      const expiresAt = str(b.expiresAt, 'expiresAt');
      const name = str(b.name, 'name');
      const description = str(b.description, 'description');
      return c.opts.iam.createServiceAccount({
        parent,
        ...(accessKey !== undefined ? { accessKey } : {}),
        ...(secretKey !== undefined ? { secretKey } : {}),
        ...(policy !== undefined ? { policy } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
      });
    },
  },
  {
    method: 'GET',
    path: 'service-accounts/:key',
    handler: async (c) => {
      await ownOrAdmin(c, c.params[0]!, 'admin:ListServiceAccounts');
      return c.opts.iam.getServiceAccount(c.params[0]!);
    },
  },
  {
    method: 'PATCH',
    path: 'service-accounts/:key',
    handler: async (c) => {
      await ownOrAdmin(c, c.params[0]!, 'admin:UpdateServiceAccount');
      const b = jsonBody(c);
      const secretKey = str(b.secretKey, 'secretKey');
      const name = str(b.name, 'name');
      const description = str(b.description, 'description');
      const policy = b.policy === null ? null : policyText(b.policy);
      const expiresAt = b.expiresAt === null ? null : str(b.expiresAt, 'expiresAt');
      return c.opts.iam.updateServiceAccount(c.params[0]!, {
        ...(b.status !== undefined ? { status: status(b.status) } : {}),
        ...(policy !== undefined ? { policy } : {}),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(secretKey !== undefined ? { secretKey } : {}),
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
      });
    },
  },
  {
    method: 'DELETE',
    path: 'service-accounts/:key',
    handler: async (c) => {
      await ownOrAdmin(c, c.params[0]!, 'admin:RemoveServiceAccount');
      return c.opts.iam.deleteServiceAccount(c.params[0]!);
    },
  },
];

async function attachDetach(c: Call, op: 'attach' | 'detach'): Promise<unknown> {
  c.require('admin:AttachUserOrGroupPolicy');
  const b = jsonBody(c);
  const user = str(b.user, 'user');
  const group = str(b.group, 'group');
  const policies = list(b.policies, 'policies');
  if (policies.length === 0) throw new AdminError('InvalidArgument', 400, 'name at least one policy');
  const to = { ...(user !== undefined ? { user } : {}), ...(group !== undefined ? { group } : {}) };
  const now =
    op === 'attach'
      ? await c.opts.iam.attachPolicies(to, policies)
      : await c.opts.iam.detachPolicies(to, policies);
  return { ...to, policies: now };
}

/** The route for `method` and the path after the prefix, with its parameters; or why there is none. */
export function matchRoute(
  method: string,
  rest: string,
): { route: Route; params: string[] } | { error: 'NotFound' | 'MethodNotAllowed' } {
  const segs = rest.split('/').filter((s) => s !== '');
  let pathMatched = false;
  for (const r of ROUTES) {
    const want = r.path.split('/');
    if (want.length !== segs.length) continue;
    const params: string[] = [];
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      if (want[i]!.startsWith(':')) {
        let v: string;
        try {
          v = decodeURIComponent(segs[i]!);
        } catch {
          ok = false;
          break;
        }
        params.push(v);
      } else if (want[i] !== segs[i]) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    pathMatched = true;
    if (r.method === method) return { route: r, params };
  }
  return { error: pathMatched ? 'MethodNotAllowed' : 'NotFound' };
}

// --- server info and heal ------------------------------------------------------------------------

export interface DriveStatus {
  /** Position in the deployment (1-based, the command line's order). */
  position: number;
  endpoint: string;
  state: 'ok' | 'offline' | 'missing';
  total?: number;
  free?: number;
  used?: number;
  error?: string;
}

export interface ServerInfo {
  version: string;
  region: string;
  deploymentId: string;
  startedAt: string;
  uptimeSeconds: number;
  sets: { set: number; parity: number; drives: DriveStatus[] }[];
  drivesOnline: number;
  drivesOffline: number;
}

export async function serverInfo(opts: AdminOptions): Promise<ServerInfo> {
  const layer = opts.layer;
  let position = 0;
  const sets = await Promise.all(
    layer.sets.map(async (s, i) => {
      const base = position;
      position += s.driveCount;
      const drives = await Promise.all(
        s.drives.map(async (d, j): Promise<DriveStatus> => {
          if (!d) return { position: base + j + 1, endpoint: '', state: 'missing' };
          try {
            const info = await d.diskInfo();
            return {
              position: base + j + 1,
              endpoint: d.endpoint,
              state: 'ok',
              total: info.total,
              free: info.free,
              used: info.used,
            };
          } catch (e) {
            return {
              position: base + j + 1,
              endpoint: d.endpoint,
              state: 'offline',
              error: e instanceof Error ? e.message : String(e),
            };
          }
        }),
      );
      return { set: i + 1, parity: s.parity, drives };
    }),
  );
  const all = sets.flatMap((s) => s.drives);
  return {
    version: opts.version,
    region: opts.region,
    deploymentId: layer.deploymentId,
    startedAt: opts.startedAt.toISOString(),
    uptimeSeconds: Math.floor((Date.now() - opts.startedAt.getTime()) / 1000),
    sets,
    drivesOnline: all.filter((d) => d.state === 'ok').length,
    drivesOffline: all.filter((d) => d.state !== 'ok').length,
  };
}

/** One bucket's (or the system documents') heal, summed over the sets. */
export interface HealSummary {
  bucket: string;
  prefix: string;
  objects: number;
  clean: number;
  healedVersions: number;
  removedVersions: number;
  unrecoverableVersions: number;
  errors: number;
  bytesWritten: number;
  /** The objects that were not clean: key and what happened. */
  results: { key: string; healed: number; removed: number; unrecoverable: number; error?: string }[];
}

export interface HealReport {
  dryRun: boolean;
  /** Bucket volumes made on drives that lacked them, by set. */
  volumesMade: { set: number; bucket: string; drives: number[] }[];
  buckets: HealSummary[];
  /** IAM and other system documents. */
  system?: HealSummary;
}

function summarize(bucket: string, prefix: string, parts: HealBucketResult[]): HealSummary {
  const s: HealSummary = {
    bucket,
    prefix,
    objects: 0,
    clean: 0,
    healedVersions: 0,
    removedVersions: 0,
    unrecoverableVersions: 0,
    errors: 0,
    bytesWritten: 0,
    results: [],
  };
  for (const p of parts) {
    s.objects += p.objects;
    s.clean += p.clean;
    s.healedVersions += p.healedVersions;
    s.removedVersions += p.removedVersions;
    s.unrecoverableVersions += p.unrecoverableVersions;
    s.errors += p.errors;
    s.bytesWritten += p.bytesWritten;
    for (const r of p.results) {
      s.results.push({
        key: r.key,
        healed: r.healed.length,
        removed: r.removed.length,
        unrecoverable: r.unrecoverable.length,
        ...(r.error !== undefined ? { error: r.error } : {}),
      });
    }
  }
  return s;
}

/** Heals one bucket (under a prefix) on every set, or everything (buckets and system documents). */
export async function heal(
  opts: AdminOptions,
  req: { bucket?: string | undefined; prefix?: string | undefined; dryRun: boolean; deep: boolean },
): Promise<HealReport> {
  const layer = opts.layer;
  const o = { dryRun: req.dryRun, deep: req.deep, keepResults: 100 };
  if (req.bucket !== undefined) {
    try {
      await layer.getBucketInfo(req.bucket);
    } catch (e) {
      if (e instanceof ObjectError && (e.code === 'BucketNotFound' || e.code === 'BucketNameInvalid')) {
        throw new AdminError('NoSuchBucket', 404, `no bucket ${JSON.stringify(req.bucket)}`);
      }
      throw e;
    }
    const parts = await Promise.all(
      layer.sets.map((s) =>
        healBucket(s, req.bucket!, { ...o, ...(req.prefix ? { prefix: req.prefix } : {}) }),
      ),
    );
    return { dryRun: req.dryRun, volumesMade: [], buckets: [summarize(req.bucket, req.prefix ?? '', parts)] };
  }
  if (req.prefix !== undefined) throw new AdminError('InvalidArgument', 400, 'a prefix needs a bucket');
  const all = await Promise.all(layer.sets.map((s) => healAll(s, o)));
  const byBucket = new Map<string, HealBucketResult[]>();
  const volumesMade: HealReport['volumesMade'] = [];
  all.forEach((r, i) => {
    for (const m of r.volumes.made) volumesMade.push({ set: i + 1, bucket: m.bucket, drives: m.drives });
    for (const b of r.buckets) byBucket.set(b.bucket, [...(byBucket.get(b.bucket) ?? []), b]);
  });
  const system = await layer.healSystem({ dryRun: req.dryRun });
  return {
    dryRun: req.dryRun,
    volumesMade,
    buckets: [...byBucket].map(([b, parts]) => summarize(b, '', parts)),
    system: summarize('.cairn.sys', 'config/', system),
  };
}

// --- the handler -----------------------------------------------------------------------------------

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > MAX_BODY)
    throw new AdminError('EntityTooLarge', 413, `the body is larger than ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY)
      throw new AdminError('EntityTooLarge', 413, `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function toAdminError(e: unknown): AdminError | null {
  if (e instanceof AdminError) return e;
  if (e instanceof IAMError) return new AdminError(e.code, e.status, e.message);
  if (isAuthError(e)) return new AdminError(e.code, e.status, e.message);
  if (
    e instanceof ObjectError &&
    (e.code === 'InsufficientReadQuorum' || e.code === 'InsufficientWriteQuorum')
  ) {
    return new AdminError('ServiceUnavailable', 503, 'Not enough drives are online to do this now.');
  }
  return null;
}

function sendJson(ctx: Koa.Context, status: number, value: unknown, requestId: string): void {
  ctx.respond = false;
  const res = ctx.res;
  res.statusCode = status;
  res.setHeader('x-amz-request-id', requestId);
  if (value === undefined) {
    res.setHeader('Content-Length', 0);
    res.end();
    return;
  }
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

function flatHeaders(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

/** Serves one admin API request (the path starts with `ADMIN_PREFIX`). */
export async function admin(ctx: Koa.Context, opts: AdminOptions & { requestId: string }): Promise<void> {
  const requestId = opts.requestId;
  try {
    const req = ctx.req;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req);
    const sha256 = body.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(body).digest('hex');
    const auth = await verifyRequest<IdentityRecord>(
      { method, path: rawPath, query: rawQuery, headers: flatHeaders(req.headers) },
      { lookup: (k) => opts.iam.lookup(k), region: opts.region },
    );
    if (auth.anonymous) throw new AuthError('AccessDenied');
    const p = auth.payload;
    if (p.kind === 'sha256' ? p.sha256.toLowerCase() !== sha256 : p.kind !== 'unsigned') {
      throw p.kind === 'sha256'
        ? new AuthError('XAmzContentSHA256Mismatch')
        : new AdminError('InvalidRequest', 400, 'the admin API takes a whole body, not an aws-chunked one');
    }
    const m = matchRoute(method, rawPath.slice(ADMIN_PREFIX.length));
    if ('error' in m) {
      throw m.error === 'NotFound'
        ? new AdminError('NotFound', 404, `no admin API at ${rawPath}`)
        : new AdminError('MethodNotAllowed', 405, `${method} is not allowed on ${rawPath}`);
    }
    const who = auth.identity;
    const conditions: Record<string, string[]> = {
      'aws:username': [who.username],
      'aws:userid': [who.username],
      'aws:CurrentTime': [new Date().toISOString()],
      'aws:EpochTime': [String(Math.floor(Date.now() / 1000))],
      'aws:SecureTransport': ['false'],
      ...(req.socket.remoteAddress ? { 'aws:SourceIp': [req.socket.remoteAddress] } : {}),
    };
    const call: Call = {
      who,
      params: m.params,
      query: new URLSearchParams(rawQuery),
      body,
      opts,
      require(action) {
        if (who.kind === 'root') return;
        if (!isAllowed(who, { action, resource: ADMIN_RESOURCE, conditions })) {
          throw new AdminError('AccessDenied', 403, `Access Denied: ${action} is not allowed`);
        }
      },
      isSelf(user) {
        return (who.kind === 'user' || who.kind === 'root') && who.username === user;
      },
    };
    const result = await m.route.handler(call);
    sendJson(ctx, result === undefined ? 204 : 200, result, requestId);
  } catch (e) {
    const err = toAdminError(e);
    if (!err) {
      opts.log.error({ requestId, err: e }, 'admin request failed');
    }
    const out =
      err ?? new AdminError('InternalError', 500, 'We encountered an internal error. Please try again.');
    if (ctx.req.complete === false) ctx.res.setHeader('Connection', 'close');
    sendJson(ctx, out.status, { Code: out.code, Message: out.message, RequestId: requestId }, requestId);
  }
}

/** The resource admin actions are checked against (they act on the deployment, not a bucket). */
const ADMIN_RESOURCE = 'arn:aws:s3:::*';
