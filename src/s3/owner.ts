/**
 * Who owns what. Cairn is single-tenant until IAM lands: the root user owns every bucket, object and
 * upload, so listings, ACLs and ListBuckets all show the one owner below.
 */
import { createHash } from 'node:crypto';
import type { Owner } from './xml';

/**
 * The root user's canonical user id: 64 hex characters, like AWS's, and the same on every server and
 * every start (it does not depend on the root access key, which can be rotated).
 */
export const ROOT_OWNER: Readonly<Owner> = Object.freeze({
  id: createHash('sha256').update('cairn:root').digest('hex'),
  displayName: 'cairn',
});
