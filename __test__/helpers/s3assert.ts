/**
 * Assertions on S3 calls shared by the tests that check who may do what: a call refused with an S3
 * error, refused with 403 AccessDenied, and whether an object is there (asked as the root user).
 */
import * as assert from 'node:assert/strict';
import { HeadObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/** The S3 error a call fails with (fails the test when it succeeds). */
export async function refused(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `not an S3 error: ${e}`);
    return e;
  }
  assert.fail('expected the call to be refused');
}

/**
 * Refused with 403 AccessDenied, its message matching `why` when given; returns the message (empty
 * for a HEAD, which has no body to name the code: its status says it).
 */
export async function denied(p: Promise<unknown>, why?: RegExp): Promise<string> {
  const e = await refused(p);
  assert.equal(e.$metadata.httpStatusCode, 403, e.message);
  if (e.name === 'Unknown' || e.name === 'Forbidden') return '';
  assert.equal(e.name, 'AccessDenied', e.message);
  if (why) assert.match(e.message, why);
  return e.message;
}

/** Whether `Bucket/Key` exists, asked with `s3` (the root user's client: nothing hides it). */
export async function exists(s3: S3Client, Bucket: string, Key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket, Key }));
    return true;
  } catch (e) {
    if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404) return false;
    throw e;
  }
}

/** A policy document of `Statement`s, as JSON. */
export const policyDoc = (...Statement: object[]): string =>
  JSON.stringify({ Version: '2012-10-17', Statement });
