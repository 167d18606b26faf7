/**
 * What authentication can say went wrong. Each code is the S3 error code AWS returns for that case,
 * with the HTTP status AWS uses, so the S3 error table can take both as they are. `auth/` sits below
 * `s3/` and cannot import its table; `__test__/s3/errors.test.ts` keeps the two statuses equal.
 *
 * `details` carries the extra elements AWS puts in the error XML (`Region`, `HeadersNotSigned`,
 * `StringToSign`, `ServerTime`...), each as a string, for the one place that renders errors.
 */
export const AUTH_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  SignatureDoesNotMatch: {
    status: 403,
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  InvalidAccessKeyId: {
    status: 403,
    message: 'The AWS Access Key Id you provided does not exist in our records.',
  },
  RequestTimeTooSkewed: {
    status: 403,
    message: 'The difference between the request time and the current time is too large.',
  },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: {
    status: 400,
    message: 'Error parsing the query-string authentication parameters.',
  },
  MissingSecurityHeader: { status: 400, message: 'Your request was missing a required header.' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  XAmzContentSHA256Mismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type AuthErrorCode = keyof typeof AUTH_ERRORS;

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  /** The HTTP status AWS answers this code with. */
  readonly status: number;
  /** Extra elements of AWS's error XML for this case, by element name. */
  readonly details: Readonly<Record<string, string>>;

  constructor(code: AuthErrorCode, message?: string, details: Record<string, string> = {}) {
    super(message ?? AUTH_ERRORS[code].message);
    this.name = 'AuthError';
    this.code = code;
    this.status = AUTH_ERRORS[code].status;
    this.details = details;
  }
}

export function isAuthError(e: unknown, ...codes: AuthErrorCode[]): e is AuthError {
  return e instanceof AuthError && (codes.length === 0 || codes.includes(e.code));
}
