/**
 * Authorization of S3 requests: who is asking (an IAM identity, or anonymous), the request's condition
 * keys (`aws:*`, and the `s3:*` ones `src/s3/permissions.ts` derives), the bucket's policy, and the
 * decision (`src/auth/iam/authorize.ts`). The app asks before dispatch, so a refusal touches nothing.
 */

import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { VerifyResult } from '../auth';
import { type AuthzResult, explain, principalType } from '../auth/iam/authorize';
import type { IdentityRecord } from '../auth/iam/types';
import { PolicyError, parsePolicy } from '../auth/policy';
import type { Policy } from '../auth/policy/types';
import { type Cidr, cidrContains, parseIp } from '../auth/policy/values';
import { isObjectError } from '../object/errors';
import type { ObjectLayer } from '../object/ObjectLayer';
import type { BucketConfigStore, Identity, Logger } from '../s3/context';
import { isS3Error, S3Error } from '../s3/errors';
import { versionOpts } from '../s3/ops/objectCommon';
import {
  BUCKET_POLICY_CONFIG,
  EXISTING_OBJECT_TAG_ACTIONS,
  existingTagConditions,
  type Permission,
} from '../s3/permissions';
import { bucketNameValid } from '../s3/router';

/**
 * Parsed bucket policies by the stored document: the config store hands out the same Buffer until
 * the document changes, so a policy is parsed once, not on every request.
 */
const parsedPolicies = new WeakMap<Buffer, Policy>();

/**
 * A stored policy that no longer parses (written by a newer version, or damaged): nothing is allowed
 * by it and everything is denied, except what the root user needs to replace or delete it.
 */
const UNREADABLE_POLICY: Policy = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Principal: '*', Action: ['*'], Resource: ['*'] }],
};

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) as `1.2.3.4`. */
function plainIp(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** An `X-Forwarded-For` entry (`1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:5678`) as an address. */
function forwardedAddress(entry: string): string | undefined {
  let a = entry.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  return parseIp(a) === undefined ? undefined : plainIp(a);
}

/**
 * The client's address (`aws:SourceIp`): the TCP peer; or, when the peer is a trusted reverse proxy,
 * the rightmost `X-Forwarded-For` entry that is not itself a trusted proxy. Each proxy appends the
 * address it was reached from, so entries left of the first untrusted one were written by the client
 * and are never believed. An entry that is not an address ends the walk at the last good one.
 */
export function clientIp(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: readonly Cidr[],
): string | undefined {
  if (peer === undefined) return undefined;
  let addr = plainIp(peer);
  if (trusted.length === 0 || forwardedFor === undefined) return addr;
  const isTrusted = (a: string) => {
    const ip = parseIp(a);
    return ip !== undefined && trusted.some((c) => cidrContains(c, ip));
  };
  if (!isTrusted(addr)) return addr;
  const entries = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = entries.length - 1; i >= 0; i--) {
    const a = forwardedAddress(entries[i]!);
    if (a === undefined) break;
    addr = a;
    if (!isTrusted(a)) break;
  }
  return addr;
}

/** A parsed policy's text, lower-cased: whether it names a condition key is then a substring test. */
const policyTexts = new WeakMap<Policy, string>();

function mentions(p: Policy | null | undefined, needle: string): boolean {
  if (!p) return false;
  let text = policyTexts.get(p);
  if (text === undefined) {
    text = JSON.stringify(p).toLowerCase();
    policyTexts.set(p, text);
  }
  return text.includes(needle);
}

/** Condition keys some requests pay to set, only when a policy that applies names them (lower-cased). */
const EXISTING_TAG_KEY = 's3:existingobjecttag/';
/** `s3:RequestObjectTag/<k>` and `s3:RequestObjectTagKeys`. */
export const REQUEST_TAG_KEY = 's3:requestobjecttag';

/** Whether a policy that can decide for `subject` (its own, its session's, the bucket's) names `needle`. */
function policiesMention(
  subject: IdentityRecord | null,
  bucketPolicy: Policy | null,
  needle: string,
): boolean {
  if (mentions(bucketPolicy, needle)) return true;
  // The root user's identity is allowed everything: only the bucket policy's Deny can refuse it.
  if (subject === null || subject.kind === 'root') return false;
  return subject.policies.some((p) => mentions(p, needle)) || mentions(subject.sessionPolicy, needle);
}

/** The principal's own condition keys (`aws:username`...); they change with the credential asked about. */
function principalConditions(who: IdentityRecord | null): Record<string, string[]> {
  if (who === null) return { 'aws:PrincipalType': ['Anonymous'] };
  return {
    'aws:username': [who.username],
    'aws:userid': [who.username],
    'aws:PrincipalType': [principalType(who)],
    'aws:PrincipalArn': [who.arn],
  };
}

/** The request's identity as the S3 layer sees it. */
export function identityOf(who: IdentityRecord | null): Identity {
  if (who === null) return { anonymous: true, isRoot: false };
  return {
    anonymous: false,
    accessKey: who.accessKey,
    isRoot: who.kind === 'root',
    kind: who.kind,
    username: who.username,
    arn: who.arn,
  };
}

/**
 * AccessDenied for a refusal. A signed caller is told why, in AWS's words; an anonymous one gets
 * AWS's bare "Access Denied" (AWS explains refusals only to callers of the account).
 */
export function denial(who: IdentityRecord | null, res: AuthzResult, cause?: unknown): S3Error {
  return new S3Error('AccessDenied', {
    ...(who === null ? {} : { message: res.reason }),
    cause: cause ?? new Error(res.reason),
  });
}

/** Per request: who is asking, the request's condition keys, and bucket policies as they are needed. */
export interface Authorizer {
  who: IdentityRecord | null;
  /** `p` for `subject` (default: the request's caller), with the bucket policy of `p.bucket`. */
  check(p: Permission, subject?: IdentityRecord | null): Promise<AuthzResult>;
  /** Every one of `checks`, or AccessDenied with the first refusal's reason. */
  require(checks: Permission[]): Promise<void>;
  /** Whether a policy that applies to the caller (and `bucket`'s policy) names the condition key `needle`. */
  mentions(needle: string, bucket?: string): Promise<boolean>;
}

/** What authorization reads: bucket policies, objects' tags (for `s3:ExistingObjectTag`), the proxies. */
export interface AuthorizationDeps {
  bucketConfig: BucketConfigStore;
  objects: ObjectLayer;
  log: Logger;
  /** Reverse proxies whose `X-Forwarded-For` is believed for `aws:SourceIp`. */
  trustedProxies?: readonly Cidr[];
}

export function createAuthorization(opts: AuthorizationDeps): {
  bucketPolicy(bucket: string): Promise<Policy | null>;
  authorizer(
    ctx: { readonly req: IncomingMessage },
    who: IdentityRecord | null,
    auth: VerifyResult,
    s3conditions: Record<string, string[]>,
  ): Authorizer;
} {
  /** The bucket's policy, parsed (null when it has none, or the name is not a bucket name). */
  async function bucketPolicy(bucket: string): Promise<Policy | null> {
    if (!bucketNameValid(bucket)) return null;
    const doc = await opts.bucketConfig.get(bucket, BUCKET_POLICY_CONFIG);
    if (doc === null) return null;
    const cached = parsedPolicies.get(doc);
    if (cached !== undefined) return cached;
    let p: Policy;
    try {
      p = parsePolicy(doc, { kind: 'resource', bucket });
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      opts.log.error({ bucket, err: e }, 'the stored bucket policy does not parse: denying all but root');
      p = UNREADABLE_POLICY;
    }
    parsedPolicies.set(doc, p);
    return p;
  }

  function authorizer(
    ctx: { readonly req: IncomingMessage },
    who: IdentityRecord | null,
    auth: VerifyResult,
    s3conditions: Record<string, string[]>,
  ): Authorizer {
    const req = ctx.req;
    // The request's condition keys, built when a policy is first evaluated (root without a bucket
    // policy never needs them: the common case of a small GET).
    let base: Record<string, string[]> | undefined;
    const baseConditions = (): Record<string, string[]> => {
      if (base) return base;
      const now = new Date();
      base = {
        ...s3conditions,
        'aws:CurrentTime': [now.toISOString()],
        'aws:EpochTime': [String(Math.floor(now.getTime() / 1000))],
        'aws:SecureTransport': [
          (req.socket as Socket & { encrypted?: boolean }).encrypted ? 'true' : 'false',
        ],
      };
      // X-Forwarded-For is anyone's to write: believed only from the proxies the operator trusts.
      const ip = clientIp(
        req.socket.remoteAddress,
        req.headers['x-forwarded-for'],
        opts.trustedProxies ?? [],
      );
      if (ip !== undefined) base['aws:SourceIp'] = [ip];
      const referer = req.headers.referer;
      if (referer !== undefined) base['aws:Referer'] = [referer];
      const ua = req.headers['user-agent'];
      if (ua !== undefined) base['aws:UserAgent'] = [ua];
      if (!auth.anonymous) {
        base['s3:authType'] = [auth.via === 'header' ? 'REST-HEADER' : 'REST-QUERY-STRING'];
        base['s3:signatureversion'] = ['AWS4-HMAC-SHA256'];
        base['s3:signatureAge'] = [String(Math.max(0, now.getTime() - auth.requestTime.getTime()))];
      }
      return base;
    };
    const forWho = new Map<IdentityRecord | null, Record<string, string[]>>();
    const conditionsFor = (subject: IdentityRecord | null) => {
      let c = forWho.get(subject);
      if (!c) {
        c = { ...baseConditions(), ...principalConditions(subject) };
        forWho.set(subject, c);
      }
      return c;
    };
    // An object's tags, read once per request whichever permissions need them.
    const tagReads = new Map<string, Promise<Record<string, string[]>>>();
    const existingTags = (bucket: string, o: { key: string; versionId?: string }) => {
      const id = `${bucket}\n${o.key}\n${o.versionId ?? ''}`;
      let read = tagReads.get(id);
      if (!read) {
        read = (async () => {
          try {
            const info = await opts.objects.getObjectInfo(bucket, o.key, versionOpts(o.versionId));
            return info.deleteMarker ? {} : existingTagConditions(info.tags);
          } catch (e) {
            // No such object (version), or a malformed version id: no tags; the op says what is wrong.
            if (isObjectError(e) || isS3Error(e)) return {};
            throw e;
          }
        })();
        tagReads.set(id, read);
      }
      return read;
    };
    const check = async (p: Permission, subject: IdentityRecord | null = who): Promise<AuthzResult> => {
      const policy = p.bucket === undefined ? null : await bucketPolicy(p.bucket);
      // Root is allowed everything no bucket policy denies: no conditions to evaluate.
      if (policy === null && subject?.kind === 'root') {
        return explain(subject, { action: p.action, resource: p.resource, conditions: {} }, null);
      }
      let conditions = conditionsFor(subject);
      if (p.conditions) conditions = { ...conditions, ...p.conditions };
      if (
        p.object !== undefined &&
        p.bucket !== undefined &&
        EXISTING_OBJECT_TAG_ACTIONS.has(p.action.toLowerCase()) &&
        policiesMention(subject, policy, EXISTING_TAG_KEY)
      ) {
        conditions = { ...conditions, ...(await existingTags(p.bucket, p.object)) };
      }
      return explain(subject, { action: p.action, resource: p.resource, conditions }, policy);
    };
    return {
      who,
      check,
      async mentions(needle, bucket) {
        const policy = bucket === undefined ? null : await bucketPolicy(bucket);
        return policiesMention(who, policy, needle);
      },
      async require(checks) {
        for (const p of checks) {
          const res = await check(p);
          if (!res.allowed) throw denial(who, res);
        }
      },
    };
  }

  return { bucketPolicy, authorizer };
}
