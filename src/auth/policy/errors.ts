/**
 * A policy document that cannot be accepted. The message says what is wrong and where
 * (`Statement[1]: unknown Effect 'allow'`); the S3 layer sends it as the `MalformedPolicy` message
 * (and the admin API as its own error), so it is written for the person who wrote the policy.
 */
export class PolicyError extends Error {
  /** The S3 error code this becomes. */
  readonly code = 'MalformedPolicy' as const;

  constructor(message: string) {
    super(message);
    this.name = 'PolicyError';
  }
}

export function isPolicyError(e: unknown): e is PolicyError {
  return e instanceof PolicyError;
}
