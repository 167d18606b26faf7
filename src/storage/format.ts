/**
 * The format record every drive carries at `.cairn.sys/format.json`: which deployment it belongs
 * to, its own id, and the layout of the whole deployment (drive ids per erasure set, in order), so
 * that a drive plugged into the wrong slot, or from another cluster, is recognised before any
 * object is touched.
 *
 * Versioned from day one: `parseFormat` dispatches on `version`, and a reader stays here for every
 * version ever written.
 */
import { randomUUID } from 'node:crypto';
import { isStorageError, StorageError } from './errors';
import { type StorageAPI, SYSTEM_VOLUME } from './StorageAPI';

/** The format record's path in the system volume. */
export const FORMAT_FILE = 'format.json';

export interface FormatRecord {
  version: 1;
  format: 'cairn-erasure';
  /** Shared by every drive of a deployment. */
  deploymentId: string;
  /** This drive's id; it appears exactly once in `sets`. */
  driveId: string;
  /** Drive ids per erasure set, in position order; every set has the same size. */
  sets: string[][];
  /** Parity shards per object in each set. */
  parity: number;
  /** When this drive was formatted (ISO 8601). */
  createdAt: string;
}

function corrupt(why: string): StorageError {
  return new StorageError('CorruptedFormat', why);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** Reader of version 1 (the current one). */
function parseV1(o: Record<string, unknown>): FormatRecord {
  const { format, deploymentId, driveId, sets, parity, createdAt } = o;
  if (format !== 'cairn-erasure') throw corrupt(`unknown format ${JSON.stringify(format)}`);
  if (!isNonEmptyString(deploymentId)) throw corrupt('no deploymentId');
  if (!isNonEmptyString(driveId)) throw corrupt('no driveId');
  if (
    !Array.isArray(sets) ||
    sets.length === 0 ||
    !sets.every((s) => Array.isArray(s) && s.length > 0 && s.every(isNonEmptyString))
  ) {
    throw corrupt('sets must be a non-empty list of non-empty lists of drive ids');
  }
  const layout = sets as string[][];
  const setSize = layout[0]!.length;
  if (!layout.every((s) => s.length === setSize)) throw corrupt('sets of different sizes');
  const all = layout.flat();
  if (new Set(all).size !== all.length) throw corrupt('a drive id appears twice in sets');
  if (!all.includes(driveId)) throw corrupt(`driveId ${driveId} is not in sets`);
  if (typeof parity !== 'number' || !Number.isInteger(parity) || parity < 0 || parity > setSize / 2) {
    throw corrupt(`parity ${JSON.stringify(parity)} for sets of ${setSize}`);
  }
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw corrupt('no createdAt');
  return {
    version: 1,
    format: 'cairn-erasure',
    deploymentId,
    driveId,
    sets: layout.map((s) => [...s]),
    parity,
    createdAt,
  };
}

const readers: Record<number, (o: Record<string, unknown>) => FormatRecord> = { 1: parseV1 };

/** Parses and checks a format record; `CorruptedFormat` for anything else (including newer versions). */
export function parseFormat(data: Buffer | string): FormatRecord {
  let o: unknown;
  try {
    o = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch (e) {
    throw new StorageError('CorruptedFormat', 'not JSON', { cause: e });
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw corrupt('not a JSON object');
  const version = (o as { version?: unknown }).version;
  const read = typeof version === 'number' ? readers[version] : undefined;
  if (!read) throw corrupt(`format version ${JSON.stringify(version)} is not one this Cairn reads`);
  return read(o as Record<string, unknown>);
}

export function serializeFormat(rec: FormatRecord): Buffer {
  return Buffer.from(`${JSON.stringify(rec, null, 2)}\n`);
}

/** The drive's format record: `UnformattedDrive` when it has none, `CorruptedFormat` when unreadable. */
export async function readFormat(drive: StorageAPI): Promise<FormatRecord> {
  let data: Buffer;
  try {
    data = await drive.readAll(SYSTEM_VOLUME, FORMAT_FILE);
  } catch (e) {
    if (isStorageError(e, 'FileNotFound', 'VolumeNotFound')) {
      throw new StorageError('UnformattedDrive', drive.endpoint, { cause: e });
    }
    throw e;
  }
  return parseFormat(data);
}

/** Writes the drive's format record atomically, making the system volume if needed. */
export async function writeFormat(drive: StorageAPI, rec: FormatRecord): Promise<void> {
  parseFormat(serializeFormat(rec)); // never write what could not be read back
  try {
    await drive.makeVolume(SYSTEM_VOLUME);
  } catch (e) {
    if (!isStorageError(e, 'VolumeExists')) throw e;
  }
  await drive.writeAll(SYSTEM_VOLUME, FORMAT_FILE, serializeFormat(rec));
}

/**
 * The records of a new deployment: `setCount` sets of `setSize` drives, one record per drive in
 * position order (set by set).
 */
export function newFormats(opts: {
  setCount: number;
  setSize: number;
  parity: number;
  deploymentId?: string;
  now?: Date;
}): FormatRecord[] {
  const { setCount, setSize, parity } = opts;
  if (!Number.isInteger(setCount) || setCount < 1 || !Number.isInteger(setSize) || setSize < 1) {
    throw new RangeError(`${setCount} sets of ${setSize} drives`);
  }
  if (!Number.isInteger(parity) || parity < 0 || parity > setSize / 2) {
    throw new RangeError(`parity ${parity} for sets of ${setSize}`);
  }
  const deploymentId = opts.deploymentId ?? randomUUID();
  const sets = Array.from({ length: setCount }, () => Array.from({ length: setSize }, () => randomUUID()));
  const createdAt = (opts.now ?? new Date()).toISOString();
  return sets.flat().map((driveId) => ({
    version: 1,
    format: 'cairn-erasure',
    deploymentId,
    driveId,
    sets: sets.map((s) => [...s]),
    parity,
    createdAt,
  }));
}

/** The record a fresh drive at `position` gets to join the deployment of `reference`. */
export function formatForPosition(reference: FormatRecord, position: number, now = new Date()): FormatRecord {
  const driveId = reference.sets.flat()[position];
  if (driveId === undefined) throw new RangeError(`position ${position} is outside the deployment`);
  return { ...reference, sets: reference.sets.map((s) => [...s]), driveId, createdAt: now.toISOString() };
}

export interface FormatValidation {
  /**
   * The layout most formatted drives agree on (same deploymentId, sets and parity) among those that
   * fit `expectedDriveCount`; undefined when no drive carries one (a new deployment).
   */
  reference: FormatRecord | undefined;
  /** How many drives carry the reference's deployment and layout (misplaced ones included). */
  agreeing: number;
  /** Another layout has as many drives as the reference: the choice between them is arbitrary. */
  ambiguous: boolean;
  /** Positions whose record is the reference's, with the id expected at that position. */
  ok: number[];
  /** Fresh drives: format each with `formatForPosition(reference, position)` (`driveId` is that id). */
  unformatted: { position: number; driveId: string | undefined }[];
  /** Drives of another deployment: never to be formatted over or used. */
  foreign: { position: number; deploymentId: string; message: string }[];
  /** Drives of this deployment with another layout (other sets or parity, another drive count). */
  inconsistent: { position: number; message: string }[];
  /** Drives of this deployment in the wrong position: their id belongs elsewhere. */
  misplaced: {
    position: number;
    driveId: string;
    expectedDriveId: string;
    belongsAt: number;
    message: string;
  }[];
  /** Drives whose record does not parse. */
  corrupted: { position: number; error: StorageError }[];
  /** Drives that could not be read (offline, not found, faulty). */
  unavailable: { position: number; error: StorageError }[];
  /** One line per problem, for logs and start-up errors. */
  messages: string[];
}

function layoutKey(r: FormatRecord): string {
  return JSON.stringify([r.deploymentId, r.sets, r.parity]);
}

/**
 * Compares the format records read from each drive (`records[i]` from the drive at position `i`, or
 * the error reading it) and sorts the drives into ok / unformatted / foreign / inconsistent /
 * misplaced / corrupted / unavailable. Pure: the caller decides whether enough drives are ok to
 * start, formats the unformatted ones, and refuses foreign or misplaced ones.
 */
export function validateFormats(
  records: readonly (FormatRecord | StorageError)[],
  expectedDriveCount: number,
): FormatValidation {
  if (records.length !== expectedDriveCount) {
    throw new RangeError(`${records.length} records for ${expectedDriveCount} drives`);
  }
  const groups = new Map<string, { rec: FormatRecord; count: number; first: number }>();
  records.forEach((r, position) => {
    if (r instanceof StorageError || r.sets.flat().length !== expectedDriveCount) return;
    const key = layoutKey(r);
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { rec: r, count: 1, first: position });
  });
  let best: { rec: FormatRecord; count: number; first: number } | undefined;
  for (const g of groups.values()) {
    if (!best || g.count > best.count || (g.count === best.count && g.first < best.first)) best = g;
  }
  const reference = best?.rec;
  const refKey = reference && layoutKey(reference);
  const expectedIds = reference?.sets.flat() ?? [];

  const v: FormatValidation = {
    reference,
    agreeing: best?.count ?? 0,
    ambiguous: [...groups.values()].filter((g) => g.count === best?.count).length > 1,
    ok: [],
    unformatted: [],
    foreign: [],
    inconsistent: [],
    misplaced: [],
    corrupted: [],
    unavailable: [],
    messages: [],
  };
  if (v.ambiguous) {
    v.messages.push(
      `${v.agreeing} drives each agree on different layouts; the first found is taken as reference`,
    );
  }

  records.forEach((r, position) => {
    if (r instanceof StorageError) {
      if (r.code === 'UnformattedDrive') {
        v.unformatted.push({ position, driveId: expectedIds[position] });
      } else if (r.code === 'CorruptedFormat') {
        v.corrupted.push({ position, error: r });
        v.messages.push(`drive ${position}: unreadable format record (${r.message})`);
      } else {
        v.unavailable.push({ position, error: r });
        v.messages.push(`drive ${position}: ${r.message}`);
      }
      return;
    }
    if (!reference) {
      const message = `drive ${position}: formatted for ${r.sets.flat().length} drives, ${expectedDriveCount} are configured`;
      v.inconsistent.push({ position, message });
      v.messages.push(message);
      return;
    }
    if (r.deploymentId !== reference.deploymentId) {
      const message = `drive ${position} belongs to another deployment (${r.deploymentId}, this one is ${reference.deploymentId}): refusing to use it`;
      v.foreign.push({ position, deploymentId: r.deploymentId, message });
      v.messages.push(message);
      return;
    }
    if (layoutKey(r) !== refKey) {
      const message = `drive ${position}: same deployment but another layout (sets or parity differ from the other drives)`;
      v.inconsistent.push({ position, message });
      v.messages.push(message);
      return;
    }
    const expectedDriveId = expectedIds[position]!;
    if (r.driveId === expectedDriveId) {
      v.ok.push(position);
      return;
    }
    const belongsAt = expectedIds.indexOf(r.driveId);
    const message = `drive ${position} carries id ${r.driveId}, which belongs at position ${belongsAt} (set ${Math.floor(belongsAt / reference.sets[0]!.length)}); position ${position} expects ${expectedDriveId}: drives swapped or miswired?`;
    v.misplaced.push({ position, driveId: r.driveId, expectedDriveId, belongsAt, message });
    v.messages.push(message);
  });
  return v;
}
