/**
 * Server settings from the environment. Every `CAIRN_*` variable has the `MINIO_*` twin MinIO's
 * users already set (so a MinIO compose file or Kubernetes manifest works as it is); `CAIRN_*` wins
 * when both are set.
 */
import { randomBytes } from 'node:crypto';
import { parseCidr } from '../auth/policy/values';

export type Env = Readonly<Record<string, string | undefined>>;

/** `CAIRN_<name>`, else `MINIO_<name>`; an empty value counts as unset (compose files pass `${X:-}`). */
export function envValue(env: Env, name: string): string | undefined {
  for (const v of [env[`CAIRN_${name}`], env[`MINIO_${name}`]]) if (v !== undefined && v !== '') return v;
  return undefined;
}

export interface RootCredentialsConfig {
  rootUser: string;
  rootPassword: string;
  /** True when none were set and these were made up at start (they change on every start). */
  generated: boolean;
}

/** AWS's and MinIO's limits: access keys of 3+ characters, secrets of 8 to 40. */
export function rootCredentials(env: Env): RootCredentialsConfig {
  const user = envValue(env, 'ROOT_USER');
  const password = envValue(env, 'ROOT_PASSWORD');
  if (user === undefined && password === undefined) {
    return {
      // Letters and digits only, so they paste into any shell and URL unquoted.
      rootUser: `cairn${randomAlnum(15).toLowerCase()}`,
      rootPassword: randomAlnum(40),
      generated: true,
    };
  }
  if (user === undefined || password === undefined) {
    throw new ConfigError(
      `${user === undefined ? 'CAIRN_ROOT_USER' : 'CAIRN_ROOT_PASSWORD'} is not set: set both CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD (or MINIO_ROOT_USER and MINIO_ROOT_PASSWORD), or neither to have a pair generated`,
    );
  }
  if (user.length < 3) throw new ConfigError('the root user (CAIRN_ROOT_USER) must be at least 3 characters');
  if (password.length < 8 || password.length > 40) {
    throw new ConfigError('the root password (CAIRN_ROOT_PASSWORD) must be 8 to 40 characters');
  }
  return { rootUser: user, rootPassword: password, generated: false };
}

function randomAlnum(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  // Rejection sampling keeps every character equally likely.
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 248 && out.length < n) out += alphabet[b % 62];
    }
  }
  return out;
}

/** AWS region names: `us-east-1`, `eu-central-2`, or a custom name of letters, digits, `-` and `_`. */
export function region(env: Env): string {
  const r = envValue(env, 'REGION') ?? envValue(env, 'SITE_REGION') ?? 'us-east-1';
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(r)) throw new ConfigError(`invalid region ${JSON.stringify(r)}`);
  return r;
}

/** `CAIRN_DOMAIN=a.example.com,b.example.com` → both, lower-cased, for virtual-host style. */
export function domains(env: Env, extra: string[] = []): string[] {
  const list = [...(envValue(env, 'DOMAIN')?.split(',') ?? []), ...extra]
    .map((d) =>
      d
        .trim()
        .toLowerCase()
        .replace(/^\.+|\.+$/g, ''),
    )
    .filter((d) => d !== '');
  for (const d of list) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(d)) {
      throw new ConfigError(`invalid domain ${JSON.stringify(d)}`);
    }
  }
  return [...new Set(list)];
}

/**
 * `CAIRN_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7`: the reverse proxies whose `X-Forwarded-For` is believed
 * for `aws:SourceIp` (CIDRs or single addresses, IPv4 or IPv6, separated by commas or spaces). None by
 * default: the TCP peer is the client.
 */
export function trustedProxies(env: Env): string[] {
  const list = (envValue(env, 'TRUSTED_PROXIES') ?? '').split(/[\s,]+/).filter((c) => c !== '');
  for (const c of list) {
    if (parseCidr(c) === undefined) {
      throw new ConfigError(`invalid CIDR ${JSON.stringify(c)} in CAIRN_TRUSTED_PROXIES`);
    }
  }
  return list;
}

/**
 * A switch set as `on`/`off` (MinIO's spelling; `true`/`false`, `yes`/`no`, `1`/`0` too) in
 * `CAIRN_<name>` or `MINIO_<name>`; undefined when unset.
 */
export function onOff(env: Env, name: string): boolean | undefined {
  const v = envValue(env, name);
  if (v === undefined) return undefined;
  const lower = v.trim().toLowerCase();
  if (['on', 'true', 'yes', '1', 'enable'].includes(lower)) return true;
  if (['off', 'false', 'no', '0', 'disable'].includes(lower)) return false;
  throw new ConfigError(`CAIRN_${name}=${JSON.stringify(v)}: on or off`);
}

/**
 * `CAIRN_LISTING_CACHE_MB`: MiB of sorted listings of large directories each server process keeps
 * (default 256; 0 turns the cache off). Undefined when unset.
 */
export function listingCacheBytes(env: Env): number | undefined {
  const v = envValue(env, 'LISTING_CACHE_MB');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || Number(v) > 1 << 20) {
    throw new ConfigError(
      `CAIRN_LISTING_CACHE_MB=${JSON.stringify(v)}: a number of MiB (0 turns the cache off)`,
    );
  }
  return Number(v) * 1024 * 1024;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
