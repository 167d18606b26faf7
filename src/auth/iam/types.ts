/**
 * Identities as authorization sees them, and the storage IAM keeps them in. Plain data: the store
 * is handed in from below (`ErasureSets.systemStore()`), so `auth/` touches no drives itself.
 */

import type { Policy } from '../policy/types';
import type { Credential } from '../types';

/** Small documents in Cairn's system area, erasure-coded like objects (IAM users, groups, policies...). */
export interface SystemStore {
  /** The document, or null when there is none. */
  get(path: string): Promise<Buffer | null>;
  /** Writes the document atomically at write quorum (or with null removes it). */
  put(path: string, data: Buffer | null): Promise<void>;
  /** Paths under `prefix` (full paths, sorted). */
  list(prefix: string): Promise<string[]>;
}

export type IdentityKind = 'root' | 'user' | 'serviceAccount' | 'sts';

/**
 * What a credential lookup returns for an access key: the secret to check the signature with, and
 * everything authorization needs, resolved at lookup time (so disabling a user takes effect at once).
 */
export interface IdentityRecord extends Credential {
  kind: IdentityKind;
  accessKey: string;
  /** The user: itself, or the parent user of a service account / STS credential; `root` for the root user. */
  username: string;
  /** `arn:aws:iam::<account>:user/<name>` or `arn:aws:iam::<account>:root`. */
  arn: string;
  /** Groups the user is in (enabled ones only). */
  groups: string[];
  /**
   * The policies of the user and of its groups (identity policies). For the root user: none
   * (root is allowed everything, checked before policies).
   */
  policies: Policy[];
  /**
   * Service accounts with an inline policy, and STS credentials with a session policy: the request
   * must ALSO be allowed by this one (the intersection with the parent's rights).
   */
  sessionPolicy?: Policy;
  /** Temporary credentials and expiring service accounts: refused after this (`ExpiredToken`). */
  expiresAt?: Date;
}
