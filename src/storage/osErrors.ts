/**
 * OS error → `StorageError`, the one place a drive decides what an errno means. Some codes depend on
 * what the call was doing: ENOTDIR while reading is "no such file" (a path component is a file, so
 * the file cannot be there), while writing it is `IsNotRegular` (something is in the way); EEXIST is
 * `VolumeExists` when making a volume and a non-empty target directory otherwise.
 *
 * Whether an ENOENT means the drive or the volume is gone needs a look at the disk, which the drive
 * does itself before calling this (see `LocalDrive`).
 */
import { StorageError, type StorageErrorCode } from './errors';

/** What the failing call was doing. */
export type OsOp = 'read' | 'write' | 'volume';

/** The errno name (`'ENOENT'`) of an OS error, or undefined for anything else. */
export function errnoOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

export function storageCodeFor(errno: string | undefined, op: OsOp): StorageErrorCode {
  switch (errno) {
    case 'ENOENT':
      return op === 'volume' ? 'VolumeNotFound' : 'FileNotFound';
    case 'ENOTDIR':
      return op === 'volume' ? 'VolumeNotFound' : op === 'write' ? 'IsNotRegular' : 'FileNotFound';
    case 'EISDIR':
      return 'IsNotRegular';
    case 'EEXIST':
      return op === 'volume' ? 'VolumeExists' : 'VolumeNotEmpty';
    case 'ENOTEMPTY':
      return 'VolumeNotEmpty';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'FileAccessDenied';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'DriveFull';
    case 'ENAMETOOLONG':
      return 'FileNameTooLong';
    default:
      // EIO, ELOOP, EMFILE, EINVAL...: nothing the caller can fix by asking differently.
      return 'FaultyDrive';
  }
}

/** The `StorageError` for an OS error (a `StorageError` passes through unchanged). */
export function toStorageError(e: unknown, op: OsOp, where: string): StorageError {
  if (e instanceof StorageError) return e;
  const errno = errnoOf(e);
  const what = errno ?? (e instanceof Error ? e.message : String(e));
  return new StorageError(storageCodeFor(errno, op), `${what} at ${where}`, { cause: e });
}
