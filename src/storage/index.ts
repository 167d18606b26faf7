/** One drive: the `StorageAPI` interface, its errors, key ↔ path encoding and implementations. */
export { isStorageError, StorageError, type StorageErrorCode, StorageErrorCodes } from './errors';
export { type FaultMethod, FaultyDrive } from './FaultyDrive';
export {
  FORMAT_FILE,
  type FormatRecord,
  type FormatValidation,
  formatForPosition,
  newFormats,
  parseFormat,
  readFormat,
  serializeFormat,
  validateFormats,
  writeFormat,
} from './format';
export { assertVolumeName, LocalDrive } from './LocalDrive';
export {
  assertSafePath,
  compareKeys,
  DATA_DIR_PREFIX,
  decodeSegment,
  encodeSegment,
  isReservedName,
  keyFromPath,
  MAX_SEGMENT_BYTES,
  META_FILE,
  objectPath,
} from './paths';
export {
  type DiskInfo,
  type FileWriter,
  type StorageAPI,
  SYSTEM_VOLUME,
  TMP_DIR,
  type VolInfo,
  type WalkEntry,
  type WalkOptions,
} from './StorageAPI';
