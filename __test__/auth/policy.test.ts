// biome-ignore-all lint/suspicious/noTemplateCurlyInString: policy variables (${aws:username}) are plain strings here
import assert from 'node:assert/strict';
import { test } from 'uvu';
import {
  type AuthzRequest,
  BUILTIN_POLICIES,
  type Decision,
  evaluate,
  isPolicyError,
  MAX_BUCKET_POLICY_BYTES,
  PolicyError,
  type PrincipalInfo,
  parsePolicy,
  serializePolicy,
} from '../../src/auth/policy';
import { compilePattern, matchPattern } from '../../src/auth/policy/pattern';
import { parseCidr, parseDate, parseIp } from '../../src/auth/policy/values';

// Policy evaluation against AWS's documented examples: "IAM JSON policy elements: Condition
// operators", "IAM policy elements: Variables and tags", "Examples of Amazon S3 bucket policies",
// "Amazon S3 condition key examples", "IAM JSON policy elements: NotAction / NotResource /
// NotPrincipal", "Example IAM identity-based policies". Each policy is parsed as the kind AWS shows
// it as, then every case runs the request through evaluate().

const ACCOUNT = '111122223333';
const alice: PrincipalInfo = {
  anonymous: false,
  accessKey: 'AKIAALICE',
  username: 'Alice',
  arn: `arn:aws:iam::${ACCOUNT}:user/Alice`,
};
const bob: PrincipalInfo = {
  anonymous: false,
  accessKey: 'AKIABOB',
  username: 'Bob',
  arn: `arn:aws:iam::${ACCOUNT}:user/Bob`,
};
const root: PrincipalInfo = {
  anonymous: false,
  accessKey: 'ROOTKEY',
  username: 'root',
  arn: `arn:aws:iam::${ACCOUNT}:root`,
};
const anonymous: PrincipalInfo = { anonymous: true };

interface Case {
  name: string;
  action: string;
  resource: string;
  principal?: PrincipalInfo;
  conditions?: Record<string, string[]>;
  expect: Decision;
}

interface Example {
  /** Where in AWS's documentation the policy comes from. */
  source: string;
  kind: 'identity' | 'resource';
  bucket?: string;
  policy: unknown;
  cases: Case[];
}

const EXAMPLES: Example[] = [
  {
    source: 'Condition operators / Variables: a user home directory with StringLike on s3:prefix',
    kind: 'identity',
    policy: {
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
          Resource: 'arn:aws:s3:::BUCKET-NAME',
          Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } },
        },
        {
          Effect: 'Allow',
          Action: 's3:*',
          Resource: [
            'arn:aws:s3:::BUCKET-NAME/home/${aws:username}',
            'arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*',
          ],
        },
      ],
    },
    cases: [
      {
        name: 'ListAllMyBuckets (service-level, resource *) is allowed by arn:aws:s3:::*',
        action: 's3:ListAllMyBuckets',
        resource: '*',
        conditions: { 'aws:username': ['David'] },
        expect: 'Allow',
      },
      {
        name: 'listing the bucket root is allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::BUCKET-NAME',
        conditions: { 'aws:username': ['David'], 's3:prefix': [''] },
        expect: 'Allow',
      },
      {
        name: 'listing home/ is allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::BUCKET-NAME',
        conditions: { 'aws:username': ['David'], 's3:prefix': ['home/'] },
        expect: 'Allow',
      },
      {
        name: 'listing his own home directory is allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::BUCKET-NAME',
        conditions: { 'aws:username': ['David'], 's3:prefix': ['home/David/'] },
        expect: 'Allow',
      },
      {
        name: "listing another user's home directory is not allowed",
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::BUCKET-NAME',
        conditions: { 'aws:username': ['David'], 's3:prefix': ['home/Bob/'] },
        expect: 'NotApplicable',
      },
      {
        name: 'listing without s3:prefix in the context is not allowed (StringLike on a missing key)',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::BUCKET-NAME',
        conditions: { 'aws:username': ['David'] },
        expect: 'NotApplicable',
      },
      {
        name: 'condition keys are case-insensitive (S3:PREFIX, AWS:USERNAME)',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::BUCKET-NAME',
        conditions: { 'AWS:USERNAME': ['David'], 'S3:PREFIX': ['home/David/'] },
        expect: 'Allow',
      },
      {
        name: 'reading an object in his home directory is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKET-NAME/home/David/notes.txt',
        conditions: { 'aws:username': ['David'] },
        expect: 'Allow',
      },
      {
        name: "reading another user's object is not allowed",
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKET-NAME/home/Bob/notes.txt',
        conditions: { 'aws:username': ['David'] },
        expect: 'NotApplicable',
      },
      {
        name: 'a user name with a wildcard character is matched literally, not as a wildcard',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKET-NAME/home/Bob/notes.txt',
        conditions: { 'aws:username': ['*'] },
        expect: 'NotApplicable',
      },
      {
        name: 'without aws:username the variable is undefined and the resource does not match',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKET-NAME/home/${aws:username}/notes.txt',
        principal: anonymous,
        expect: 'NotApplicable',
      },
      {
        name: 'resources are case-sensitive',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::bucket-name/home/David/notes.txt',
        conditions: { 'aws:username': ['David'] },
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'S3 bucket policy examples: deny requests outside an IP range (NotIpAddress, IPv4 and IPv6)',
    kind: 'resource',
    bucket: 'DOC-EXAMPLE-BUCKET',
    policy: {
      Id: 'SourceIP',
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AllowAll',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*',
        },
        {
          Sid: 'SourceIP',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*'],
          Condition: {
            NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:DB8:1234:5678::/64'] },
          },
        },
      ],
    },
    cases: [
      {
        name: 'a request from inside the IPv4 range is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a',
        principal: anonymous,
        conditions: { 'aws:SourceIp': ['192.0.2.44'] },
        expect: 'Allow',
      },
      {
        name: 'a request from outside the range is denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a',
        principal: anonymous,
        conditions: { 'aws:SourceIp': ['203.0.113.9'] },
        expect: 'Deny',
      },
      {
        name: 'an IPv4-mapped IPv6 source inside the v4 range is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a',
        principal: alice,
        conditions: { 'aws:SourceIp': ['::ffff:192.0.2.7'] },
        expect: 'Allow',
      },
      {
        name: 'an IPv6 source inside the v6 range is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a',
        principal: alice,
        conditions: { 'aws:SourceIp': ['2001:db8:1234:5678:abcd::1'] },
        expect: 'Allow',
      },
      {
        name: 'an IPv6 source outside the v6 range is denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a',
        principal: alice,
        conditions: { 'aws:SourceIp': ['2001:db8:1234:5679::1'] },
        expect: 'Deny',
      },
      {
        name: 'a missing aws:SourceIp makes NotIpAddress true: denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/a',
        principal: alice,
        expect: 'Deny',
      },
      {
        name: 'the Deny covers bucket-level actions from outside the range too',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET',
        principal: alice,
        conditions: { 'aws:SourceIp': ['198.51.100.1'] },
        expect: 'Deny',
      },
      {
        name: 'bucket-level actions from inside the range are not allowed by the GetObject statement',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET',
        principal: alice,
        conditions: { 'aws:SourceIp': ['192.0.2.1'] },
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'Condition operators (Bool) / S3 bucket policy examples: deny requests not over HTTPS',
    kind: 'resource',
    bucket: 'DOC-EXAMPLE-BUCKET',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'BooleanExample',
          Action: 's3:*',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*'],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    },
    cases: [
      {
        name: 'a plain-HTTP request is denied',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: alice,
        conditions: { 'aws:SecureTransport': ['false'] },
        expect: 'Deny',
      },
      {
        name: 'Bool compares case-insensitively',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: anonymous,
        conditions: { 'aws:SecureTransport': ['FALSE'] },
        expect: 'Deny',
      },
      {
        name: 'an HTTPS request is not denied (and not allowed: the policy allows nothing)',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: alice,
        conditions: { 'aws:SecureTransport': ['true'] },
        expect: 'NotApplicable',
      },
      {
        name: 'a missing aws:SecureTransport makes Bool false: not denied',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: alice,
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'S3 bucket policy examples: granting read-only permission to anonymous users (public read)',
    kind: 'resource',
    bucket: 'DOC-EXAMPLE-BUCKET',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'PublicRead',
          Effect: 'Allow',
          Principal: '*',
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET/*'],
        },
      ],
    },
    cases: [
      {
        name: 'anonymous GetObject is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/photos/cat.jpg',
        principal: anonymous,
        expect: 'Allow',
      },
      {
        name: 'action names are case-insensitive in the request',
        action: 'S3:GETOBJECTVERSION',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/photos/cat.jpg',
        principal: anonymous,
        expect: 'Allow',
      },
      {
        name: 'anonymous PutObject is not allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/photos/cat.jpg',
        principal: anonymous,
        expect: 'NotApplicable',
      },
      {
        name: 'anonymous ListBucket is not allowed (the bucket is not bucket/*)',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET',
        principal: anonymous,
        expect: 'NotApplicable',
      },
      {
        name: 'objects of another bucket are not covered',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET2/cat.jpg',
        principal: anonymous,
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'S3 bucket policy examples: granting permissions to multiple accounts (named principals)',
    kind: 'resource',
    bucket: 'amzn-s3-demo-bucket',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/Alice`, 'AKIABOB'] },
          Action: ['s3:PutObject', 's3:PutObjectAcl'],
          Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*',
          Condition: { StringEquals: { 's3:x-amz-acl': ['public-read'] } },
        },
        {
          Effect: 'Allow',
          Principal: { AWS: ACCOUNT },
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::amzn-s3-demo-bucket',
        },
      ],
    },
    cases: [
      {
        name: 'the user named by ARN may upload with x-amz-acl public-read',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: alice,
        conditions: { 's3:x-amz-acl': ['public-read'] },
        expect: 'Allow',
      },
      {
        name: 'the user named by access key may upload with x-amz-acl public-read',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: bob,
        conditions: { 's3:x-amz-acl': ['public-read'] },
        expect: 'Allow',
      },
      {
        name: 'StringEquals is case-sensitive: PUBLIC-READ does not match',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: alice,
        conditions: { 's3:x-amz-acl': ['PUBLIC-READ'] },
        expect: 'NotApplicable',
      },
      {
        name: 'an upload with another canned ACL is not allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: alice,
        conditions: { 's3:x-amz-acl': ['private'] },
        expect: 'NotApplicable',
      },
      {
        name: 'an upload without x-amz-acl is not allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: alice,
        expect: 'NotApplicable',
      },
      {
        name: 'a principal not named is not allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: {
          anonymous: false,
          username: 'Carol',
          accessKey: 'AKIACAROL',
          arn: `arn:aws:iam::${ACCOUNT}:user/Carol`,
        },
        conditions: { 's3:x-amz-acl': ['public-read'] },
        expect: 'NotApplicable',
      },
      {
        name: 'anonymous is not a named principal',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/k',
        principal: anonymous,
        conditions: { 's3:x-amz-acl': ['public-read'] },
        expect: 'NotApplicable',
      },
      {
        name: 'an account id principal matches the account root user',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket',
        principal: root,
        expect: 'Allow',
      },
      {
        name: 'an account id principal does not match an IAM user of it',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket',
        principal: alice,
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'NotPrincipal: deny everyone except the named user',
    kind: 'resource',
    bucket: 'BUCKETNAME',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/Bob`, `arn:aws:iam::${ACCOUNT}:root`] },
          Action: 's3:*',
          Resource: ['arn:aws:s3:::BUCKETNAME', 'arn:aws:s3:::BUCKETNAME/*'],
        },
      ],
    },
    cases: [
      {
        name: 'a user not named is denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKETNAME/k',
        principal: alice,
        expect: 'Deny',
      },
      {
        name: 'anonymous is denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKETNAME/k',
        principal: anonymous,
        expect: 'Deny',
      },
      {
        name: 'the named user is not denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::BUCKETNAME/k',
        principal: bob,
        expect: 'NotApplicable',
      },
      {
        name: 'the root user named by :root is not denied',
        action: 's3:DeleteBucket',
        resource: 'arn:aws:s3:::BUCKETNAME',
        principal: root,
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'NotAction: allow everything except the admin API (AWS: "Allow all actions except IAM")',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', NotAction: 'admin:*', Resource: '*' }],
    },
    cases: [
      {
        name: 'an S3 action is allowed',
        action: 's3:DeleteObject',
        resource: 'arn:aws:s3:::b/k',
        principal: alice,
        expect: 'Allow',
      },
      {
        name: 'an admin action is not',
        action: 'admin:CreateUser',
        resource: '*',
        principal: alice,
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'NotResource: deny all S3 access outside HRBucket/Payroll',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::*' },
        {
          Effect: 'Deny',
          Action: 's3:*',
          NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'],
        },
      ],
    },
    cases: [
      {
        name: 'an object under Payroll/ is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::HRBucket/Payroll/2024.csv',
        expect: 'Allow',
      },
      {
        name: 'an object elsewhere in the bucket is denied',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::HRBucket/Other/x',
        expect: 'Deny',
      },
      {
        name: 'another bucket is denied',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::Finance',
        expect: 'Deny',
      },
    ],
  },
  {
    source:
      'Example policies: allows access within specific dates (DateGreaterThan / DateLessThan on aws:CurrentTime)',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b/*',
          Condition: {
            DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' },
            DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' },
          },
        },
      ],
    },
    cases: [
      {
        name: 'inside the window is allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:CurrentTime': ['2020-05-15T12:00:00Z'] },
        expect: 'Allow',
      },
      {
        name: 'dates are compared as instants, whatever the zone',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:CurrentTime': ['2020-07-01T01:00:00+02:00'] },
        expect: 'Allow',
      },
      {
        name: 'after the window is not allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:CurrentTime': ['2020-07-01T00:00:00Z'] },
        expect: 'NotApplicable',
      },
      {
        name: 'before the window is not allowed',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:CurrentTime': ['2020-03-31T23:59:59.999Z'] },
        expect: 'NotApplicable',
      },
      {
        name: 'an epoch time value is compared too',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:CurrentTime': ['1589544000'] },
        expect: 'Allow',
      },
      {
        name: 'a malformed request time never matches',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:CurrentTime': ['yesterday'] },
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source:
      'Condition operators (Numeric): list up to 10 objects at a time (s3:max-keys NumericLessThanEquals)',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::example_bucket',
        Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } },
      },
    },
    cases: [
      {
        name: 'max-keys 5 is allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::example_bucket',
        conditions: { 's3:max-keys': ['5'] },
        expect: 'Allow',
      },
      {
        name: 'max-keys 10 is allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::example_bucket',
        conditions: { 's3:max-keys': ['10'] },
        expect: 'Allow',
      },
      {
        name: 'max-keys 11 is not allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::example_bucket',
        conditions: { 's3:max-keys': ['11'] },
        expect: 'NotApplicable',
      },
      {
        name: 'a non-numeric max-keys is not allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::example_bucket',
        conditions: { 's3:max-keys': ['ten'] },
        expect: 'NotApplicable',
      },
      {
        name: 'a missing max-keys is not allowed',
        action: 's3:ListBucket',
        resource: 'arn:aws:s3:::example_bucket',
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source:
      'S3 condition key examples: s3:ExistingObjectTag (allow reading objects tagged environment=production)',
    kind: 'resource',
    bucket: 'amzn-s3-demo-bucket',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/Alice` },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*',
          Condition: { StringEquals: { 's3:ExistingObjectTag/environment': 'production' } },
        },
      ],
    },
    cases: [
      {
        name: 'an object tagged production is readable',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/report',
        principal: alice,
        conditions: { 's3:ExistingObjectTag/environment': ['production'] },
        expect: 'Allow',
      },
      {
        name: 'an object tagged otherwise is not',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/report',
        principal: alice,
        conditions: { 's3:ExistingObjectTag/environment': ['dev'] },
        expect: 'NotApplicable',
      },
      {
        name: 'an untagged object is not',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::amzn-s3-demo-bucket/report',
        principal: alice,
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'S3 bucket policy examples: require server-side encryption (StringNotEquals and Null)',
    kind: 'resource',
    bucket: 'DOC-EXAMPLE-BUCKET',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyIncorrectEncryptionHeader',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*',
          Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
        },
        {
          Sid: 'DenyUnencryptedObjectUploads',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*',
          Condition: { Null: { 's3:x-amz-server-side-encryption': true } },
        },
      ],
    },
    cases: [
      {
        name: 'an upload with AES256 is not denied',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: alice,
        conditions: { 's3:x-amz-server-side-encryption': ['AES256'] },
        expect: 'NotApplicable',
      },
      {
        name: 'an upload with aws:kms is denied',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: alice,
        conditions: { 's3:x-amz-server-side-encryption': ['aws:kms'] },
        expect: 'Deny',
      },
      {
        name: 'an upload without the header is denied (StringNotEquals on a missing key is true)',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k',
        principal: alice,
        expect: 'Deny',
      },
    ],
  },
  {
    source: 'Multivalued context keys: ForAllValues / ForAnyValue over s3:RequestObjectTagKeys',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:PutObjectTagging',
          Resource: 'arn:aws:s3:::b/*',
          Condition: { 'ForAllValues:StringLike': { 's3:RequestObjectTagKeys': ['Owner', 'Creation*'] } },
        },
        {
          Effect: 'Deny',
          Action: 's3:PutObjectTagging',
          Resource: 'arn:aws:s3:::b/*',
          Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': 'Secret' } },
        },
      ],
    },
    cases: [
      {
        name: 'every tag key in the allowed set: allowed',
        action: 's3:PutObjectTagging',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 's3:RequestObjectTagKeys': ['Owner', 'CreationDate'] },
        expect: 'Allow',
      },
      {
        name: 'a tag key outside the set: ForAllValues fails, not allowed',
        action: 's3:PutObjectTagging',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 's3:RequestObjectTagKeys': ['Owner', 'Project'] },
        expect: 'NotApplicable',
      },
      {
        name: 'one forbidden tag key among others: ForAnyValue denies',
        action: 's3:PutObjectTagging',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 's3:RequestObjectTagKeys': ['Owner', 'Secret'] },
        expect: 'Deny',
      },
      {
        name: 'no tag keys at all: ForAllValues is true, ForAnyValue false',
        action: 's3:PutObjectTagging',
        resource: 'arn:aws:s3:::b/k',
        expect: 'Allow',
      },
      {
        name: 'an empty tag key set is the same as none',
        action: 's3:PutObjectTagging',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 's3:RequestObjectTagKeys': [] },
        expect: 'Allow',
      },
    ],
  },
  {
    source: '...IfExists: StringLikeIfExists holds when the key is absent',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::b/*',
          Condition: { StringLikeIfExists: { 's3:x-amz-storage-class': ['STANDARD*'] } },
        },
      ],
    },
    cases: [
      {
        name: 'absent key: allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/k',
        expect: 'Allow',
      },
      {
        name: 'present and matching: allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 's3:x-amz-storage-class': ['STANDARD_IA'] },
        expect: 'Allow',
      },
      {
        name: 'present and not matching: not allowed',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 's3:x-amz-storage-class': ['GLACIER'] },
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'Action wildcards (s3:Get*, s3:?etObject) and case-insensitive action names in the policy',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['S3:get*'], Resource: 'arn:aws:s3:::b/*' },
        { Effect: 'Allow', Action: ['s3:?utObject'], Resource: 'arn:aws:s3:::b/up??/*' },
      ],
    },
    cases: [
      {
        name: 'S3:get* covers s3:GetObject',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        expect: 'Allow',
      },
      {
        name: 'S3:get* covers s3:GetObjectTagging',
        action: 's3:GetObjectTagging',
        resource: 'arn:aws:s3:::b/k',
        expect: 'Allow',
      },
      {
        name: 'S3:get* does not cover s3:DeleteObject',
        action: 's3:DeleteObject',
        resource: 'arn:aws:s3:::b/k',
        expect: 'NotApplicable',
      },
      {
        name: '? matches one character in actions and resources',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/up12/k',
        expect: 'Allow',
      },
      {
        name: '? does not match two characters',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/up123/k',
        expect: 'NotApplicable',
      },
    ],
  },
  {
    source: 'Policy variables: special characters ${*} ${?} ${$} and default values',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/literal${*}star' },
        { Effect: 'Allow', Action: 's3:PutObject', Resource: "arn:aws:s3:::b/${aws:userid, 'anonymous'}/*" },
        { Effect: 'Allow', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/${$}{x}${?}' },
      ],
    },
    cases: [
      {
        name: '${*} is a literal asterisk',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/literal*star',
        expect: 'Allow',
      },
      {
        name: '${*} is no wildcard',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/literalXstar',
        expect: 'NotApplicable',
      },
      {
        name: 'a default value stands in for a missing variable',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/anonymous/k',
        principal: anonymous,
        expect: 'Allow',
      },
      {
        name: 'the variable wins over its default when present',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/AIDA1/k',
        conditions: { 'aws:userid': ['AIDA1'] },
        expect: 'Allow',
      },
      {
        name: '${$} and ${?} are literal $ and ?',
        action: 's3:DeleteObject',
        resource: 'arn:aws:s3:::b/${x}?',
        expect: 'Allow',
      },
    ],
  },
  {
    source: 'Version 2008-10-17: policy variables are literal text',
    kind: 'identity',
    policy: {
      Version: '2008-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' }],
    },
    cases: [
      {
        name: 'the variable is not substituted',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/David/k',
        conditions: { 'aws:username': ['David'] },
        expect: 'NotApplicable',
      },
      {
        name: 'the literal text matches',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/${aws:username}/k',
        conditions: { 'aws:username': ['David'] },
        expect: 'Allow',
      },
    ],
  },
  {
    source: 'String, ARN and binary operators: IgnoreCase, Not forms, ArnLike per component, BinaryEquals',
    kind: 'identity',
    policy: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b/*',
          Condition: {
            StringEqualsIgnoreCase: { 'aws:PrincipalType': 'user' },
            StringNotLike: { 'aws:UserAgent': ['*curl*'] },
          },
        },
        {
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: 'arn:aws:s3:::b/*',
          Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:sns:*:111122223333:topic*' } },
        },
        {
          Effect: 'Allow',
          Action: 's3:DeleteObject',
          Resource: 'arn:aws:s3:::b/*',
          Condition: { BinaryEquals: { 'aws:Binary': 'QmluYXJ5VmFsdWVJbkJhc2U2NA==' } },
        },
      ],
    },
    cases: [
      {
        name: 'StringEqualsIgnoreCase ignores case',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:PrincipalType': ['User'], 'aws:UserAgent': ['aws-cli/2'] },
        expect: 'Allow',
      },
      {
        name: 'StringNotLike refuses a matching value',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:PrincipalType': ['User'], 'aws:UserAgent': ['curl/8.0'] },
        expect: 'NotApplicable',
      },
      {
        name: 'StringNotLike on a missing key holds',
        action: 's3:GetObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:PrincipalType': ['User'] },
        expect: 'Allow',
      },
      {
        name: 'ArnLike matches component by component',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:SourceArn': ['arn:aws:sns:us-east-2:111122223333:topic-1'] },
        expect: 'Allow',
      },
      {
        name: 'ArnLike: a * does not run across a colon (AWS documented counter-example)',
        action: 's3:PutObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:SourceArn': ['arn:aws:sns:us-east-2:999999999999:store:111122223333:topic-1'] },
        expect: 'NotApplicable',
      },
      {
        name: 'BinaryEquals compares the decoded bytes',
        action: 's3:DeleteObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:Binary': ['QmluYXJ5VmFsdWVJbkJhc2U2NA=='] },
        expect: 'Allow',
      },
      {
        name: 'BinaryEquals refuses other bytes',
        action: 's3:DeleteObject',
        resource: 'arn:aws:s3:::b/k',
        conditions: { 'aws:Binary': ['QUJD'] },
        expect: 'NotApplicable',
      },
    ],
  },
];

for (const ex of EXAMPLES) {
  const policy = parsePolicy(JSON.stringify(ex.policy), { kind: ex.kind, bucket: ex.bucket });
  for (const c of ex.cases) {
    test(`${ex.source}: ${c.name} → ${c.expect}`, () => {
      const req: AuthzRequest = {
        action: c.action,
        resource: c.resource,
        principal: c.principal ?? alice,
        conditions: c.conditions ?? {},
      };
      assert.equal(evaluate([policy], req), c.expect);
    });
  }
}

// ---- combining policies ----

const allowAll = parsePolicy(
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
  { kind: 'identity' },
);
const denyDelete = parsePolicy(
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' }],
  }),
  { kind: 'identity' },
);
const req = (action: string, resource: string, conditions: Record<string, string[]> = {}): AuthzRequest => ({
  action,
  resource,
  principal: alice,
  conditions,
});

test('an explicit Deny in one policy wins over an Allow in another, in either order', () => {
  assert.equal(evaluate([allowAll, denyDelete], req('s3:DeleteObject', 'arn:aws:s3:::b/k')), 'Deny');
  assert.equal(evaluate([denyDelete, allowAll], req('s3:DeleteObject', 'arn:aws:s3:::b/k')), 'Deny');
  assert.equal(evaluate([allowAll, denyDelete], req('s3:GetObject', 'arn:aws:s3:::b/k')), 'Allow');
});

test('no policy, or no matching statement, is NotApplicable (implicit deny)', () => {
  assert.equal(evaluate([], req('s3:GetObject', 'arn:aws:s3:::b/k')), 'NotApplicable');
  assert.equal(evaluate([denyDelete], req('s3:GetObject', 'arn:aws:s3:::b/k')), 'NotApplicable');
});

test('a request resource that is not an ARN matches only Resource "*"', () => {
  assert.equal(evaluate([allowAll], req('s3:GetObject', 'garbage')), 'Allow');
  assert.equal(evaluate([BUILTIN_POLICIES.readwrite!], req('s3:GetObject', 'garbage')), 'NotApplicable');
});

test('evaluation is repeatable: the compiled form is cached per policy object', () => {
  for (let i = 0; i < 3; i++) {
    assert.equal(evaluate([allowAll, denyDelete], req('s3:DeleteObject', 'arn:aws:s3:::b/k')), 'Deny');
  }
});

// ---- canned policies ----

test('builtin readwrite allows every S3 action on every bucket and object, and no admin action', () => {
  const p = [BUILTIN_POLICIES.readwrite!];
  assert.equal(evaluate(p, req('s3:PutObject', 'arn:aws:s3:::any/k')), 'Allow');
  assert.equal(evaluate(p, req('s3:DeleteBucket', 'arn:aws:s3:::any')), 'Allow');
  assert.equal(evaluate(p, req('s3:ListAllMyBuckets', '*')), 'Allow');
  assert.equal(evaluate(p, req('admin:CreateUser', '*')), 'NotApplicable');
});

test('builtin readonly allows GetObject and GetBucketLocation only', () => {
  const p = [BUILTIN_POLICIES.readonly!];
  assert.equal(evaluate(p, req('s3:GetObject', 'arn:aws:s3:::b/k')), 'Allow');
  assert.equal(evaluate(p, req('s3:GetBucketLocation', 'arn:aws:s3:::b')), 'Allow');
  assert.equal(evaluate(p, req('s3:PutObject', 'arn:aws:s3:::b/k')), 'NotApplicable');
  assert.equal(evaluate(p, req('s3:ListBucket', 'arn:aws:s3:::b')), 'NotApplicable');
});

test('builtin writeonly allows PutObject only', () => {
  const p = [BUILTIN_POLICIES.writeonly!];
  assert.equal(evaluate(p, req('s3:PutObject', 'arn:aws:s3:::b/k')), 'Allow');
  assert.equal(evaluate(p, req('s3:GetObject', 'arn:aws:s3:::b/k')), 'NotApplicable');
});

test('builtin diagnostics allows admin diagnostics and nothing else', () => {
  const p = [BUILTIN_POLICIES.diagnostics!];
  assert.equal(evaluate(p, req('admin:ServerInfo', '*')), 'Allow');
  assert.equal(evaluate(p, req('admin:Prometheus', '*')), 'Allow');
  assert.equal(evaluate(p, req('admin:CreateUser', '*')), 'NotApplicable');
  assert.equal(evaluate(p, req('s3:GetObject', 'arn:aws:s3:::b/k')), 'NotApplicable');
});

test('builtin consoleAdmin allows admin, kms and s3 actions', () => {
  const p = [BUILTIN_POLICIES.consoleAdmin!];
  assert.equal(evaluate(p, req('admin:CreateUser', '*')), 'Allow');
  assert.equal(evaluate(p, req('kms:CreateKey', '*')), 'Allow');
  assert.equal(evaluate(p, req('s3:DeleteBucket', 'arn:aws:s3:::b')), 'Allow');
  assert.equal(evaluate(p, req('sts:AssumeRole', '*')), 'NotApplicable');
});

test('builtin policies are frozen', () => {
  const p = BUILTIN_POLICIES.readwrite!;
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.Statement) && Object.isFrozen(p.Statement[0]));
  assert.deepEqual(Object.keys(BUILTIN_POLICIES).sort(), [
    'consoleAdmin',
    'diagnostics',
    'readonly',
    'readwrite',
    'writeonly',
  ]);
});

// ---- parsing: accepted forms ----

const identity = { kind: 'identity' } as const;
const bucketPolicy = { kind: 'resource', bucket: 'b' } as const;

test('parse normalises single values to lists and a Statement object to a list', () => {
  const p = parsePolicy(
    '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}',
    identity,
  );
  assert.deepEqual(p, {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::b/*'] }],
  });
});

test('parse accepts a Buffer and keeps Id and Sid', () => {
  const p = parsePolicy(
    Buffer.from(
      '{"Id":"P1","Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"Deny","Principal":"*","Action":["s3:*"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}',
    ),
    bucketPolicy,
  );
  assert.equal(p.Id, 'P1');
  assert.equal(p.Statement[0]!.Sid, 'S1');
  assert.equal(p.Statement[0]!.Principal, '*');
});

test('parse: a missing Version is 2008-10-17, as IAM and S3 default it', () => {
  const p = parsePolicy('{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}', identity);
  assert.equal(p.Version, '2008-10-17');
});

test('parse: principals in all accepted forms', () => {
  const forms: [unknown, unknown][] = [
    ['*', '*'],
    [{ AWS: '*' }, { AWS: ['*'] }],
    [{ AWS: ACCOUNT }, { AWS: [ACCOUNT] }],
    [{ AWS: [`arn:aws:iam::${ACCOUNT}:root`] }, { AWS: [`arn:aws:iam::${ACCOUNT}:root`] }],
    [
      { AWS: [`arn:aws:iam::${ACCOUNT}:user/path/to/Alice`] },
      { AWS: [`arn:aws:iam::${ACCOUNT}:user/path/to/Alice`] },
    ],
    [{ AWS: ['alice', 'AKIAIOSFODNN7EXAMPLE'] }, { AWS: ['alice', 'AKIAIOSFODNN7EXAMPLE'] }],
    [{ CanonicalUser: 'abc123' }, { CanonicalUser: ['abc123'] }],
  ];
  for (const [given, expected] of forms) {
    const p = parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: given, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
        ],
      }),
      bucketPolicy,
    );
    assert.deepEqual(p.Statement[0]!.Principal, expected, JSON.stringify(given));
  }
});

test('parse: condition values of every JSON scalar type become strings', () => {
  const p = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::b',
          Condition: {
            NumericLessThanEquals: { 's3:max-keys': 10 },
            Bool: { 'aws:SecureTransport': true },
            StringLike: { 's3:prefix': ['a/*', 'b/*'] },
          },
        },
      ],
    }),
    identity,
  );
  assert.deepEqual(p.Statement[0]!.Condition, {
    NumericLessThanEquals: { 's3:max-keys': ['10'] },
    Bool: { 'aws:SecureTransport': ['true'] },
    StringLike: { 's3:prefix': ['a/*', 'b/*'] },
  });
});

test('parse accepts every operator with IfExists and set qualifiers', () => {
  const cond = {
    StringEqualsIfExists: { 's3:prefix': 'a' },
    'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': 'a*' },
    'ForAllValues:StringNotEqualsIgnoreCaseIfExists': { 's3:RequestObjectTagKeys': 'x' },
    NumericGreaterThanEquals: { 's3:max-keys': '1.5' },
    DateLessThanEquals: {
      'aws:CurrentTime': ['2024', '2024-02', '2024-02-29', '2024-02-29T10:00Z', '1700000000'],
    },
    IpAddress: { 'aws:SourceIp': ['10.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32', '::ffff:10.0.0.0/104'] },
    ArnNotLikeIfExists: { 'aws:SourceArn': 'arn:aws:sns:*:*:*' },
    Null: { 's3:x-amz-acl': 'false' },
    BinaryEquals: { 'aws:x': 'QUJD' },
  };
  const p = parsePolicy(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: cond },
      ],
    }),
    bucketPolicy,
  );
  assert.deepEqual(Object.keys(p.Statement[0]!.Condition!), Object.keys(cond));
});

test('parse: a bucket policy resource may use wildcards that cover its bucket', () => {
  for (const r of [
    'arn:aws:s3:::b',
    'arn:aws:s3:::b/*',
    'arn:aws:s3:::*',
    'arn:aws:s3:::?/x/${aws:username}',
  ]) {
    parsePolicy(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: r }],
      }),
      bucketPolicy,
    );
  }
});

test('serializePolicy writes canonical JSON that parses back to the same policy', () => {
  const text =
    '{"Statement":{"Resource":"arn:aws:s3:::b/*","Action":"s3:GetObject","Effect":"Allow","Sid":"x","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},"Version":"2012-10-17","Id":"i"}';
  const p = parsePolicy(text, identity);
  const s = serializePolicy(p);
  assert.equal(
    s,
    '{"Version":"2012-10-17","Id":"i","Statement":[{"Sid":"x","Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"],"Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}]}',
  );
  assert.deepEqual(parsePolicy(s, identity), p);
});

test('parse: a bucket policy of exactly 20 KiB is accepted', () => {
  const base = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }],
  });
  const padded = `${base.slice(0, -1)}${' '.repeat(MAX_BUCKET_POLICY_BYTES - base.length)}}`;
  assert.equal(Buffer.byteLength(padded), MAX_BUCKET_POLICY_BYTES);
  parsePolicy(padded, bucketPolicy);
});

// ---- parsing: every malformed kind, with its message ----

const stmt = (s: Record<string, unknown>) => ({ Version: '2012-10-17', Statement: [s] });
const okIdentity = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
const okBucket = { ...okIdentity, Principal: '*' };

const MALFORMED: [string, string | Buffer, 'identity' | 'resource', RegExp][] = [
  ['not JSON', '{"Version":', 'identity', /^Policies must be valid JSON and the first byte must be '\{'/],
  ['a JSON array', '[]', 'identity', /^Policies must be valid JSON/],
  ['a JSON string', '"x"', 'identity', /^Policies must be valid JSON/],
  ['an empty document', '', 'identity', /^Policies must be valid JSON/],
  [
    'a bucket policy over 20 KiB',
    `${JSON.stringify(stmt(okBucket)).slice(0, -1)}${' '.repeat(MAX_BUCKET_POLICY_BYTES)}}`,
    'resource',
    /^Policy exceeds the maximum allowed document size/,
  ],
  [
    'an unknown top-level field',
    JSON.stringify({ ...stmt(okIdentity), Foo: 1 }),
    'identity',
    /^unknown field 'Foo'$/,
  ],
  [
    'an unknown Version',
    JSON.stringify({ ...stmt(okIdentity), Version: '2012-10-18' }),
    'identity',
    /^invalid Version "2012-10-18"/,
  ],
  [
    'a numeric Version',
    JSON.stringify({ ...stmt(okIdentity), Version: 2012 }),
    'identity',
    /^invalid Version 2012/,
  ],
  ['a non-string Id', JSON.stringify({ ...stmt(okIdentity), Id: 1 }), 'identity', /^Id must be a string$/],
  ['no Statement', '{"Version":"2012-10-17"}', 'identity', /^missing required field Statement$/],
  [
    'an empty Statement list',
    '{"Version":"2012-10-17","Statement":[]}',
    'identity',
    /^Statement must not be empty$/,
  ],
  [
    'a statement that is not an object',
    '{"Statement":["x"]}',
    'identity',
    /^Statement\[0\]: a statement must be an object$/,
  ],
  [
    'an unknown statement field',
    JSON.stringify(stmt({ ...okIdentity, Effects: 'Allow' })),
    'identity',
    /^Statement\[0\]: unknown field 'Effects'$/,
  ],
  [
    'a lowercase Effect',
    JSON.stringify({ Version: '2012-10-17', Statement: [okIdentity, { ...okIdentity, Effect: 'allow' }] }),
    'identity',
    /^Statement\[1\]: unknown Effect "allow"/,
  ],
  [
    'no Effect',
    JSON.stringify(stmt({ Action: 's3:*', Resource: '*' })),
    'identity',
    /^Statement\[0\]: missing required field Effect$/,
  ],
  [
    'a non-string Sid',
    JSON.stringify(stmt({ ...okIdentity, Sid: 1 })),
    'identity',
    /^Statement\[0\]: Sid must be a string$/,
  ],
  [
    'no Action',
    JSON.stringify(stmt({ Effect: 'Allow', Resource: '*' })),
    'identity',
    /^Statement\[0\]: missing required field Action \(or NotAction\)$/,
  ],
  [
    'Action and NotAction',
    JSON.stringify(stmt({ ...okIdentity, NotAction: 's3:PutObject' })),
    'identity',
    /^Statement\[0\]: Action and NotAction cannot both be present$/,
  ],
  [
    'an empty Action list',
    JSON.stringify(stmt({ ...okIdentity, Action: [] })),
    'identity',
    /^Statement\[0\]\.Action must not be empty$/,
  ],
  [
    'a non-string action',
    JSON.stringify(stmt({ ...okIdentity, Action: ['s3:GetObject', 3] })),
    'identity',
    /^Statement\[0\]\.Action\[1\] must be a non-empty string$/,
  ],
  [
    'an unknown S3 action',
    JSON.stringify(stmt({ ...okIdentity, Action: 's3:GetObjekt' })),
    'identity',
    /^Statement\[0\]: Policy has invalid action 's3:GetObjekt'$/,
  ],
  [
    'an S3 wildcard matching no action',
    JSON.stringify(stmt({ ...okIdentity, Action: 's3:Fly*' })),
    'identity',
    /Policy has invalid action 's3:Fly\*'/,
  ],
  [
    'an action without a service',
    JSON.stringify(stmt({ ...okIdentity, Action: 'GetObject' })),
    'identity',
    /Policy has invalid action 'GetObject'/,
  ],
  [
    'an unknown service',
    JSON.stringify(stmt({ ...okIdentity, Action: 'ec2:RunInstances' })),
    'identity',
    /Policy has invalid action 'ec2:RunInstances'/,
  ],
  [
    'a wildcard in the service',
    JSON.stringify(stmt({ ...okIdentity, Action: 's*:GetObject' })),
    'identity',
    /Policy has invalid action/,
  ],
  [
    'an unknown admin action',
    JSON.stringify(stmt({ ...okIdentity, Action: 'admin:Explode' })),
    'identity',
    /Policy has invalid action 'admin:Explode'/,
  ],
  [
    'an admin action in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Action: 'admin:ServerInfo' })),
    'resource',
    /Policy has invalid action 'admin:ServerInfo'/,
  ],
  [
    'no Resource',
    JSON.stringify(stmt({ Effect: 'Allow', Action: 's3:*' })),
    'identity',
    /^Statement\[0\]: missing required field Resource \(or NotResource\)$/,
  ],
  [
    'Resource and NotResource',
    JSON.stringify(stmt({ ...okIdentity, NotResource: '*' })),
    'identity',
    /^Statement\[0\]: Resource and NotResource cannot both be present$/,
  ],
  [
    'a resource that is not an ARN',
    JSON.stringify(stmt({ ...okIdentity, Resource: 'bucket/key' })),
    'identity',
    /Policy has invalid resource 'bucket\/key'/,
  ],
  [
    'an ARN with an empty resource part',
    JSON.stringify(stmt({ ...okIdentity, Resource: 'arn:aws:s3:::' })),
    'identity',
    /Policy has invalid resource 'arn:aws:s3:::'/,
  ],
  [
    'a variable before the resource part',
    JSON.stringify(stmt({ ...okIdentity, Resource: 'arn:aws:s3:${aws:username}::b' })),
    'identity',
    /Policy has invalid resource/,
  ],
  [
    'Resource * in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Resource: '*' })),
    'resource',
    /Policy has invalid resource '\*'/,
  ],
  [
    'a non-S3 ARN in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Resource: 'arn:aws:sqs:us-east-1:1:q' })),
    'resource',
    /Policy has invalid resource/,
  ],
  [
    'another bucket in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Resource: 'arn:aws:s3:::other/*' })),
    'resource',
    /Policy has invalid resource 'arn:aws:s3:::other\/\*': a bucket policy can only name bucket 'b'/,
  ],
  [
    'an object action on the bucket only',
    JSON.stringify(stmt({ ...okBucket, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b' })),
    'resource',
    /^Statement\[0\]: Action does not apply to any resource\(s\) in statement \('s3:PutObject'\)$/,
  ],
  [
    'a bucket action on objects only',
    JSON.stringify(stmt({ ...okBucket, Action: ['s3:GetObject', 's3:ListBucket'] })),
    'resource',
    /Action does not apply to any resource\(s\) in statement \('s3:ListBucket'\)/,
  ],
  [
    'ListAllMyBuckets in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Action: 's3:ListAllMyBuckets', Resource: 'arn:aws:s3:::b' })),
    'resource',
    /Action does not apply/,
  ],
  [
    'a principal in an identity policy',
    JSON.stringify(stmt({ ...okBucket })),
    'identity',
    /^Statement\[0\]: Policy document should not specify a principal$/,
  ],
  [
    'a NotPrincipal in an identity policy',
    JSON.stringify(stmt({ ...okIdentity, NotPrincipal: { AWS: 'x' } })),
    'identity',
    /should not specify a principal/,
  ],
  [
    'no principal in a bucket policy',
    JSON.stringify(stmt(okIdentity)),
    'resource',
    /^Statement\[0\]: missing required field Principal$/,
  ],
  [
    'Principal and NotPrincipal',
    JSON.stringify(stmt({ ...okBucket, NotPrincipal: { AWS: 'x' } })),
    'resource',
    /Principal and NotPrincipal cannot both be present/,
  ],
  [
    'a principal string other than *',
    JSON.stringify(stmt({ ...okBucket, Principal: 'alice' })),
    'resource',
    /^Statement\[0\]\.Principal: Invalid principal in policy "alice"$/,
  ],
  [
    'an empty principal object',
    JSON.stringify(stmt({ ...okBucket, Principal: {} })),
    'resource',
    /Invalid principal in policy/,
  ],
  [
    'an unknown principal type',
    JSON.stringify(stmt({ ...okBucket, Principal: { Users: 'x' } })),
    'resource',
    /unknown principal type 'Users'/,
  ],
  [
    'a malformed principal ARN',
    JSON.stringify(stmt({ ...okBucket, Principal: { AWS: 'arn:aws:iam::1:group/admins' } })),
    'resource',
    /Invalid principal in policy "arn:aws:iam::1:group\/admins"/,
  ],
  [
    // AWS: the account in an IAM ARN is a 12-digit id; RGW's tenant form (ceph s3-tests) is not one.
    'a root ARN whose account is a tenant name, not an account id',
    JSON.stringify(stmt({ ...okBucket, Principal: { AWS: 'arn:aws:iam::s3tenant1:root' } })),
    'resource',
    /Invalid principal in policy "arn:aws:iam::s3tenant1:root"/,
  ],
  [
    'a principal with spaces',
    JSON.stringify(stmt({ ...okBucket, Principal: { AWS: ['ali ce'] } })),
    'resource',
    /Invalid principal in policy/,
  ],
  [
    'NotPrincipal *',
    JSON.stringify(stmt({ ...okIdentity, NotPrincipal: '*' })),
    'resource',
    /NotPrincipal: Invalid principal/,
  ],
  [
    'a Condition that is not an object',
    JSON.stringify(stmt({ ...okIdentity, Condition: [] })),
    'identity',
    /^Statement\[0\]\.Condition must be an object$/,
  ],
  [
    'an unknown condition operator',
    JSON.stringify(stmt({ ...okIdentity, Condition: { StringEqualz: { 's3:prefix': 'a' } } })),
    'identity',
    /^Statement\[0\]\.Condition: unknown condition operator 'StringEqualz'$/,
  ],
  [
    'Null with IfExists',
    JSON.stringify(stmt({ ...okIdentity, Condition: { NullIfExists: { 's3:prefix': 'true' } } })),
    'identity',
    /unknown condition operator 'NullIfExists'/,
  ],
  [
    'an unknown set qualifier',
    JSON.stringify(stmt({ ...okIdentity, Condition: { 'ForSomeValues:StringLike': { 's3:prefix': 'a' } } })),
    'identity',
    /unknown condition operator/,
  ],
  [
    'an operator with no keys',
    JSON.stringify(stmt({ ...okIdentity, Condition: { StringLike: {} } })),
    'identity',
    /^Statement\[0\]\.Condition\.StringLike must be an object of condition keys$/,
  ],
  [
    'a condition key without a namespace',
    JSON.stringify(stmt({ ...okIdentity, Condition: { StringLike: { prefix: 'a' } } })),
    'identity',
    /invalid condition key 'prefix'/,
  ],
  [
    'an unknown S3 condition key in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Condition: { StringLike: { 's3:prefixes': 'a' } } })),
    'resource',
    /Policy has an invalid condition key 's3:prefixes'/,
  ],
  [
    'another service condition key in a bucket policy',
    JSON.stringify(stmt({ ...okBucket, Condition: { StringLike: { 'ec2:InstanceType': 'a' } } })),
    'resource',
    /Policy has an invalid condition key 'ec2:InstanceType'/,
  ],
  [
    'an empty value list',
    JSON.stringify(stmt({ ...okIdentity, Condition: { StringLike: { 's3:prefix': [] } } })),
    'identity',
    /\['s3:prefix'\] must not be empty/,
  ],
  [
    'a null value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { StringLike: { 's3:prefix': null } } })),
    'identity',
    /a value must be a string, number or boolean/,
  ],
  [
    'an object value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { StringLike: { 's3:prefix': [{}] } } })),
    'identity',
    /a value must be a string, number or boolean/,
  ],
  [
    'a non-numeric Numeric value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } })),
    'identity',
    /^Statement\[0\]\.Condition\.NumericLessThan\['s3:max-keys'\]: 'ten' is not a number$/,
  ],
  [
    'a bad Date value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { DateLessThan: { 'aws:CurrentTime': '2020-13-01' } } })),
    'identity',
    /'2020-13-01' is not an ISO 8601 date or epoch time/,
  ],
  [
    'a non-existent day',
    JSON.stringify(
      stmt({ ...okIdentity, Condition: { DateLessThan: { 'aws:CurrentTime': '2021-02-29T00:00:00Z' } } }),
    ),
    'identity',
    /is not an ISO 8601 date/,
  ],
  [
    'a bad Bool value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { Bool: { 'aws:SecureTransport': 'yes' } } })),
    'identity',
    /'yes' is not 'true' or 'false'/,
  ],
  [
    'a bad Null value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { Null: { 's3:prefix': 'maybe' } } })),
    'identity',
    /'maybe' is not 'true' or 'false'/,
  ],
  [
    'a bad IP address',
    JSON.stringify(stmt({ ...okIdentity, Condition: { IpAddress: { 'aws:SourceIp': '300.1.1.1/8' } } })),
    'identity',
    /'300\.1\.1\.1\/8' is not an IP address or CIDR block/,
  ],
  [
    'an IPv4 prefix over 32',
    JSON.stringify(stmt({ ...okIdentity, Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } })),
    'identity',
    /is not an IP address or CIDR block/,
  ],
  [
    'a malformed IPv6 address',
    JSON.stringify(
      stmt({ ...okIdentity, Condition: { NotIpAddress: { 'aws:SourceIp': '2001:db8::1::2' } } }),
    ),
    'identity',
    /is not an IP address or CIDR block/,
  ],
  [
    'a bad base64 value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { BinaryEquals: { 'aws:x': 'not base64!' } } })),
    'identity',
    /is not base64/,
  ],
  [
    'a bad ARN value',
    JSON.stringify(stmt({ ...okIdentity, Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:sns' } } })),
    'identity',
    /'arn:aws:sns' is not an ARN/,
  ],
];

for (const [name, text, kind, message] of MALFORMED) {
  test(`parse rejects ${name} with MalformedPolicy and a clear message`, () => {
    assert.throws(
      () => parsePolicy(text, { kind, bucket: kind === 'resource' ? 'b' : undefined }),
      (e: unknown) => {
        assert.ok(isPolicyError(e) && e instanceof PolicyError, String(e));
        assert.equal(e.code, 'MalformedPolicy');
        assert.match(e.message, message);
        return true;
      },
    );
  });
}

test('parse rejects a key given twice in one object (JSON.parse would silently keep the last)', () => {
  const text =
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"s3:*","Resource":"*"}]}';
  assert.throws(() => parsePolicy(text, identity), /^PolicyError: duplicate field 'Effect'$/);
  // The same key in different objects, and a key-like string as a value, are fine.
  parsePolicy(
    '{"Version":"2012-10-17","Statement":[{"Sid":"Effect","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"a\\"b","Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    identity,
  );
});

// ---- the building blocks ----

const noVars = () => undefined;
const like = (pattern: string, text: string) =>
  matchPattern(compilePattern(pattern, { wildcards: true, variables: true }), text, noVars);

test('wildcards: * spans any run (/ and : included), ? one character, with backtracking', () => {
  assert.ok(like('a*b*c', 'aXbYbZc'));
  assert.ok(like('*/*', 'b/k/l'));
  assert.ok(like('arn:aws:s3:::*', 'arn:aws:s3:::b/a:b'));
  assert.ok(like('*ab', 'aab'));
  assert.ok(like('a**b', 'ab'));
  assert.ok(like('?', '😀'), '? matches one astral character');
  assert.ok(!like('a*b', 'aXbY'));
  assert.ok(!like('??', 'a'));
  assert.ok(!like('', 'a'));
  assert.ok(like('', ''));
  // Linear enough: a pathological pattern against a long text returns at once.
  const t0 = Date.now();
  assert.ok(!like(`${'*a'.repeat(20)}b`, 'a'.repeat(5000)));
  assert.ok(Date.now() - t0 < 1000);
});

test('IP addresses: v4, v6 forms, IPv4-mapped v6, CIDR edges', () => {
  assert.equal(parseIp('::ffff:192.0.2.1'), parseIp('192.0.2.1'));
  assert.equal(parseIp('::FFFF:c000:0201'), parseIp('192.0.2.1'));
  assert.equal(parseIp('2001:db8::1'), parseIp('2001:0db8:0:0:0:0:0:1'));
  assert.equal(parseIp('::'), 0n);
  for (const bad of [
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '1::2::3',
    '12345::',
    'fe80::1%eth0',
    '',
    'a.b.c.d',
  ]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  const c = (cidr: string, ip: string) => {
    const block = parseCidr(cidr)!;
    return (parseIp(ip)! & block.mask) === block.network;
  };
  assert.ok(c('0.0.0.0/0', '203.0.113.1'));
  assert.ok(c('192.0.2.5/24', '192.0.2.200'), 'host bits beyond the prefix are ignored');
  assert.ok(c('192.0.2.5', '192.0.2.5') && !c('192.0.2.5', '192.0.2.6'), 'a bare address is /32');
  assert.ok(c('::/0', '2001:db8::1'));
  assert.ok(!c('2001:db8::/32', '2001:db9::1'));
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('::/129'), undefined);
  assert.equal(parseCidr('10.0.0.0/'), undefined);
});

test('dates: W3C ISO 8601 profiles, zones, and epoch seconds', () => {
  assert.equal(parseDate('2020-01-01T00:00:00Z'), Date.UTC(2020, 0, 1));
  assert.equal(parseDate('2020'), Date.UTC(2020, 0, 1));
  assert.equal(parseDate('2020-02'), Date.UTC(2020, 1, 1));
  assert.equal(parseDate('2020-01-01T01:00+01:00'), Date.UTC(2020, 0, 1));
  assert.equal(parseDate('2020-01-01T00:00:00.250Z'), Date.UTC(2020, 0, 1) + 250);
  assert.equal(parseDate('1577836800'), Date.UTC(2020, 0, 1));
  for (const bad of ['2020-1-1', '2020-02-30', '2020-01-01T24:00Z', 'now', '2020-01-01T00:00:00+25:00']) {
    assert.equal(parseDate(bad), undefined, bad);
  }
});

test.run();
