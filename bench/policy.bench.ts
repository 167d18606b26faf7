/**
 * The cost of policy evaluation per request: it runs on every authenticated request, so it should
 * be a few microseconds with the ~10 policies a user and its groups typically carry.
 *
 *     npx tsx bench/policy.bench.ts            # table
 *     npx tsx bench/policy.bench.ts --quick    # shorter runs
 *
 * Rows: the request allowed by the last statement of the last policy (every statement is looked
 * at), an explicit Deny, an implicit deny (nothing matches), and parsing a bucket policy.
 */
import { type AuthzRequest, BUILTIN_POLICIES, evaluate, type Policy, parsePolicy } from '../src/auth/policy';
import { timeSync } from './lib/timing';

const QUICK = process.argv.includes('--quick');
const timing = QUICK ? { minMs: 50, runs: 3 } : { minMs: 300, runs: 5 };

function userPolicy(i: number): Policy {
  return parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['s3:ListAllMyBuckets', 's3:GetBucketLocation'],
          Resource: 'arn:aws:s3:::*',
        },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: `arn:aws:s3:::team-${i}`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the policy variable, literally
          Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] } },
        },
        {
          Effect: 'Allow',
          Action: ['s3:Get*', 's3:PutObject', 's3:DeleteObject'],
          Resource: [`arn:aws:s3:::team-${i}/home/\${aws:username}/*`],
          Condition: {
            IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] },
            Bool: { 'aws:SecureTransport': 'true' },
          },
        },
        {
          Effect: 'Deny',
          Action: 's3:DeleteObject',
          Resource: `arn:aws:s3:::team-${i}/home/*/archive/*`,
          Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
        },
      ],
    }),
    { kind: 'identity' },
  );
}

const policies: Policy[] = [
  ...Array.from({ length: 9 }, (_, i) => userPolicy(i)),
  BUILTIN_POLICIES.readonly!,
];
const conditions = {
  'aws:username': ['alice'],
  'aws:SourceIp': ['10.1.2.3'],
  'aws:SecureTransport': ['true'],
  'aws:CurrentTime': ['2026-01-01T00:00:00Z'],
};
const principal = {
  anonymous: false,
  username: 'alice',
  accessKey: 'AKIA',
  arn: 'arn:aws:iam::1:user/alice',
};
const req = (action: string, resource: string): AuthzRequest => ({ action, resource, principal, conditions });

const rows: [string, () => unknown][] = [
  [
    'allow (last policy, 10 policies)',
    () => evaluate(policies, req('s3:PutObject', 'arn:aws:s3:::team-8/home/alice/f')),
  ],
  [
    'explicit deny (10 policies)',
    () => evaluate(policies, req('s3:DeleteObject', 'arn:aws:s3:::team-3/home/alice/archive/x')),
  ],
  ['implicit deny (10 policies)', () => evaluate(policies, req('s3:PutObject', 'arn:aws:s3:::other/x'))],
  [
    'allow by builtin readwrite',
    () => evaluate([BUILTIN_POLICIES.readwrite!], req('s3:GetObject', 'arn:aws:s3:::b/k')),
  ],
  [
    'parse a bucket policy',
    () =>
      parsePolicy(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}',
        { kind: 'resource', bucket: 'b' },
      ),
  ],
];

const expect: Record<string, unknown> = {
  'allow (last policy, 10 policies)': 'Allow',
  'explicit deny (10 policies)': 'Deny',
  'implicit deny (10 policies)': 'NotApplicable',
  'allow by builtin readwrite': 'Allow',
};
for (const [name, fn] of rows) {
  const r = fn();
  if (name in expect && r !== expect[name]) throw new Error(`${name}: got ${String(r)}`);
  const ns = timeSync(fn, timing);
  console.log(`${name.padEnd(36)} ${(ns / 1000).toFixed(2).padStart(8)} µs`);
}
