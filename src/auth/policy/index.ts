/**
 * The AWS IAM policy language: parse and validate policy documents, evaluate them against a request,
 * and the canned policies. Pure: no HTTP, no storage.
 *
 *   const policy = parsePolicy(body, { kind: 'resource', bucket });   // throws PolicyError
 *   evaluate([policy], { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', principal, conditions });
 */
export {
  ACTIONS_BY_SERVICE,
  ADMIN_ACTIONS,
  isS3ConditionKey,
  S3_ACTIONS,
  S3_CONDITION_KEYS,
  type S3ResourceType,
  STS_ACTIONS,
} from './actions';
export { BUILTIN_POLICIES, isBuiltinPolicy } from './builtin';
export { isPolicyError, PolicyError } from './errors';
export { evaluate } from './evaluate';
export { MAX_BUCKET_POLICY_BYTES, type ParseOptions, parsePolicy, serializePolicy } from './parse';
export type {
  AuthzRequest,
  ConditionBlock,
  Decision,
  Policy,
  PrincipalInfo,
  Statement,
} from './types';
