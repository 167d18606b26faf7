/**
 * What one drive can say went wrong. The erasure layer counts these per drive to decide quorum and
 * translates what survives into object errors (`src/object/errors.ts`); nothing above it sees them.
 */
export const StorageErrorCodes = [
  'FileNotFound', // the file (or the object's metadata) is not there
  'FileVersionNotFound', // metadata is there, that version is not
  'FileCorrupt', // a file is there but unreadable as what it should be (bad metadata, bitrot)
  'FileAccessDenied', // permission denied by the OS
  'FileNameTooLong', // a path segment beyond what the file system takes
  'InvalidPath', // an empty, '.' or '..' segment, a NUL, or an absolute path: refused, never resolved
  'IsNotRegular', // a directory (or other) where a file was expected
  'VolumeNotFound',
  'VolumeExists',
  'VolumeNotEmpty',
  'DriveNotFound', // the drive's root is gone (unmounted, removed)
  'DriveOffline', // taken offline (fault injection, or too many I/O errors)
  'DriveFull', // ENOSPC
  'UnformattedDrive', // no format record
  'CorruptedFormat', // a format record that does not parse
  'InconsistentDrive', // a format record from another deployment or position
  'FaultyDrive', // any other I/O error
] as const;

export type StorageErrorCode = (typeof StorageErrorCodes)[number];

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ? `${code}: ${message}` : code, options);
    this.name = 'StorageError';
    this.code = code;
  }
}

export function isStorageError(e: unknown, ...codes: StorageErrorCode[]): e is StorageError {
  return e instanceof StorageError && (codes.length === 0 || codes.includes(e.code));
}
