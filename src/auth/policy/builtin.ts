/**
 * The canned policies every Cairn deployment has, under MinIO's names so that `mc admin policy
 * attach ... readwrite` means what it means there:
 * - `readwrite`: every S3 action on every bucket and object;
 * - `readonly`: download objects (and find a bucket's region), nothing else;
 * - `writeonly`: upload objects, nothing else;
 * - `diagnostics`: the admin API's read-only diagnostics (server info, traces, logs, profiles, metrics);
 * - `consoleAdmin`: everything: S3, admin and KMS.
 *
 * Frozen: the evaluator caches compiled policies by object, and these are shared by every user.
 */
import { parsePolicy } from './parse';
import type { Policy } from './types';

function canned(statement: { Action: string[]; Resource?: string[] }[]): Policy {
  const doc = {
    Version: '2012-10-17',
    Statement: statement.map((s) => ({
      Effect: 'Allow',
      Action: s.Action,
      Resource: s.Resource ?? ['arn:aws:s3:::*'],
    })),
  };
  return deepFreeze(parsePolicy(JSON.stringify(doc), { kind: 'identity' }));
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

export const BUILTIN_POLICIES: Readonly<Record<string, Policy>> = Object.freeze({
  readwrite: canned([{ Action: ['s3:*'] }]),
  readonly: canned([{ Action: ['s3:GetBucketLocation', 's3:GetObject'] }]),
  writeonly: canned([{ Action: ['s3:PutObject'] }]),
  diagnostics: canned([
    {
      Action: [
        'admin:ServerInfo',
        'admin:ServerTrace',
        'admin:ConsoleLog',
        'admin:Profiling',
        'admin:TopLocksInfo',
        'admin:HealthInfo',
        'admin:BandwidthMonitor',
        'admin:Prometheus',
      ],
    },
  ]),
  consoleAdmin: canned([{ Action: ['admin:*'] }, { Action: ['kms:*'] }, { Action: ['s3:*'] }]),
});

/** Whether `name` is one of the canned policies (which cannot be replaced or deleted). */
export function isBuiltinPolicy(name: string): boolean {
  return Object.hasOwn(BUILTIN_POLICIES, name);
}
