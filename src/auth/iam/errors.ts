/**
 * What the IAM store can refuse, with the HTTP status the admin API answers each with. The codes are
 * the admin API's `Code` values (AWS IAM's names where it has one: `NoSuchEntity` is split by kind so
 * a script can tell a missing user from a missing policy; `DeleteConflict` as IAM's DeletePolicy).
 */
export const IAM_ERRORS = {
  InvalidArgument: { status: 400, message: 'Invalid argument.' },
  MalformedPolicy: { status: 400, message: 'The policy is not valid.' },
  AccessDenied: { status: 403, message: 'Access Denied.' },
  NoSuchUser: { status: 404, message: 'The specified user does not exist.' },
  NoSuchGroup: { status: 404, message: 'The specified group does not exist.' },
  NoSuchPolicy: { status: 404, message: 'The specified policy does not exist.' },
  NoSuchServiceAccount: { status: 404, message: 'The specified service account does not exist.' },
  UserAlreadyExists: { status: 409, message: 'The access key is already in use.' },
  GroupNotEmpty: { status: 409, message: 'The group still has members.' },
  DeleteConflict: { status: 409, message: 'The policy is attached to users or groups.' },
  IAMUnavailable: {
    status: 503,
    message: 'The IAM store cannot be read now (not enough drives); try again shortly.',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type IAMErrorCode = keyof typeof IAM_ERRORS;

export class IAMError extends Error {
  readonly status: number;
  constructor(
    readonly code: IAMErrorCode,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? IAM_ERRORS[code].message, options);
    this.name = 'IAMError';
    this.status = IAM_ERRORS[code].status;
  }
}

/**
 * The IAM documents cannot be opened with the configured root secret (it changed), and no previous
 * secret was given to re-encrypt them with. Fatal at start: the fix is in the message.
 */
export class IAMKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IAMKeyError';
  }
}
