/**
 * The AWS IAM policy language as Cairn evaluates it: identity policies (attached to users and groups,
 * session policies, service-account policies) and resource policies (bucket policies, with a
 * Principal). Plain data: no HTTP, no storage.
 */

/** A condition block: operator → condition key → values (`{"StringLike": {"s3:prefix": ["home/*"]}}`). */
export type ConditionBlock = Record<string, Record<string, string[]>>;

/** A statement after parsing: every single-or-list field is a list, names as AWS spells them. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  /** Resource policies only: `'*'` or the principal strings by kind (`{ AWS: [...] }`). */
  Principal?: '*' | Record<string, string[]>;
  NotPrincipal?: Record<string, string[]>;
  /** Exactly one of Action / NotAction. */
  Action?: string[];
  NotAction?: string[];
  /** Exactly one of Resource / NotResource. */
  Resource?: string[];
  NotResource?: string[];
  Condition?: ConditionBlock;
}

export interface Policy {
  Version: '2012-10-17' | '2008-10-17';
  Id?: string;
  Statement: Statement[];
}

/** The principal a request is made by, for matching a resource policy's Principal. */
export interface PrincipalInfo {
  anonymous: boolean;
  /** The access key the request was signed with. */
  accessKey?: string;
  /** The IAM user name (for service accounts and STS: the parent user); `root` names the root user. */
  username?: string;
  /** `arn:aws:iam::<account>:user/<name>` (or `:root`), as Cairn names the principal. */
  arn?: string;
}

/** One question to the evaluator: may `principal` do `action` on `resource`, given `conditions`? */
export interface AuthzRequest {
  /** `s3:GetObject`, `s3:ListBucket`, `admin:CreateUser`... */
  action: string;
  /** `arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key`, or `*` for service-level actions. */
  resource: string;
  principal: PrincipalInfo;
  /**
   * Condition keys → values (`aws:SourceIp`, `aws:SecureTransport` ('true'/'false'),
   * `aws:CurrentTime` (ISO 8601), `aws:EpochTime`, `aws:username`, `aws:userid`, `aws:PrincipalType`,
   * `s3:prefix`, `s3:delimiter`, `s3:max-keys`, `s3:x-amz-acl`, `s3:ExistingObjectTag/<k>`,
   * `s3:RequestObjectTag/<k>`, `s3:VersionId`, `s3:object-lock-mode`...). Keys are matched
   * case-insensitively, as AWS does; a key absent from the map is "not present".
   */
  conditions: Record<string, string[]>;
}

/** What a set of policies says about a request: an explicit Deny wins, no Allow means no. */
export type Decision = 'Allow' | 'Deny' | 'NotApplicable';
