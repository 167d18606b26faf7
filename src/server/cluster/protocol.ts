/**
 * The messages between a node's primary process and its workers (Node's cluster IPC channel, JSON).
 * The primary owns the namespace lock and the stream registry; workers ask it. Every message
 * carries `cairn` (its kind) so that other traffic on the channel (Node's own) is told apart.
 */
import type { LockRequest } from '../../erasure/coordinator';

/** What workers tell each other through the primary (acknowledged before `publish` resolves). */
export type ClusterEvent =
  /** Bucket documents changed: drop them (a path ending in `/`: everything under it). */
  | { kind: 'bucketConfig'; paths: string[] }
  /** IAM documents changed: read them again. */
  | { kind: 'iam'; paths: string[] };

export type WorkerMessage =
  | { cairn: 'lock'; id: number; resources: LockRequest[]; timeoutMs?: number }
  | { cairn: 'unlock'; id: number }
  /** This worker started (`on`) or ended its streams of a data dir (it counts its own). */
  | { cairn: 'stream'; sid: string; on: boolean }
  | { cairn: 'streamState'; id: number; sid: string }
  | { cairn: 'degraded'; bucket: string; key: string; versionId: string }
  | { cairn: 'publish'; id: number; event: ClusterEvent }
  | { cairn: 'ack'; id: number }
  | { cairn: 'ready'; port: number; address: string; consolePort?: number }
  /** Could not start; `code` is the system error's (EADDRINUSE...) when there was one. */
  | { cairn: 'failed'; message: string; code?: string };

export type PrimaryMessage =
  | { cairn: 'locked'; id: number }
  | { cairn: 'lockFailed'; id: number; code: string; message: string }
  /** Idle now, or not (then `streamIdle` with the same id follows when the last stream ends). */
  | { cairn: 'streamState'; id: number; idle: boolean }
  | { cairn: 'streamIdle'; id: number }
  | { cairn: 'event'; id: number; event: ClusterEvent }
  | { cairn: 'published'; id: number }
  | { cairn: 'shutdown' };

/** One end of a channel: a worker's `process`, or the primary's handle on a worker. */
export interface Channel<In, Out> {
  send(msg: Out): void;
  onMessage(fn: (msg: In) => void): void;
}

export function isCairnMessage(m: unknown): m is { cairn: string } {
  return typeof m === 'object' && m !== null && typeof (m as { cairn?: unknown }).cairn === 'string';
}
