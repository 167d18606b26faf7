/**
 * Authentication: AWS Signature Version 4 as S3 speaks it. Knows nothing of Koa, objects or files:
 * requests come in as plain descriptions, bodies as streams.
 *
 *   const auth = await verifyRequest({ method, path, query, headers }, { lookup, region });
 *   if (auth.anonymous) ...bucket policy decides...
 *   await pipeline(req, createPayloadVerifier(auth.payload), objectWriter);
 */
export {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  parseQuery,
  uriEncode,
} from './canonical';
export { AUTH_ERRORS, AuthError, type AuthErrorCode, isAuthError } from './errors';
export {
  createPayloadVerifier,
  DEFAULT_MAX_CHUNK_SIZE,
  PayloadVerifier,
  type PayloadVerifierOptions,
} from './payloadVerifier';
export {
  ChunkSigner,
  encodeAwsChunked,
  presignRequest,
  type RequestToSign,
  type SignedRequest,
  type SigningCredentials,
  type SignOptions,
  signRequest,
} from './sign';
export {
  ALGORITHM,
  DEFAULT_MAX_SKEW_MS,
  deriveSigningKey,
  EMPTY_SHA256,
  formatAmzDate,
  MAX_PRESIGN_EXPIRES_SECONDS,
  parseAmzDate,
  STREAMING_SIGNED,
  STREAMING_SIGNED_TRAILER,
  STREAMING_UNSIGNED_TRAILER,
  sha256Hex,
  UNSIGNED_PAYLOAD,
} from './sigv4';
export type {
  AnonymousRequest,
  AuthenticatedRequest,
  ChunkSigningContext,
  Credential,
  CredentialLookup,
  PayloadInfo,
  PayloadKind,
  RequestDescription,
  VerifyOptions,
  VerifyResult,
} from './types';
export { requireAuthenticated, verifyRequest } from './verifyRequest';
