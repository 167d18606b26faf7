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

/** Several messages in one IPC write, in order. */
interface Batch {
  cairn: 'batch';
  msgs: { cairn: string }[];
}

/**
 * A `send` that gathers the messages of one event-loop turn into a single IPC write: under load a
 * worker sends a lock and an unlock per GET, and one write (a system call, a JSON document) per
 * message was ~6% of a worker's CPU in the small-GET profile. Order is kept.
 */
export function batchedSend<M extends { cairn: string }>(write: (msg: M | Batch) => void): (msg: M) => void {
  let queue: M[] | null = null;
  const flush = () => {
    const q = queue!;
    queue = null;
    write(q.length === 1 ? q[0]! : { cairn: 'batch', msgs: q });
  };
  return (msg) => {
    if (queue) {
      queue.push(msg);
      return;
    }
    queue = [msg];
    setImmediate(flush);
  };
}

/** Calls `fn` with each message of an IPC message (one, or a batch), in order; ignores other traffic. */
export function unbatch<M>(raw: unknown, fn: (msg: M) => void): void {
  if (!isCairnMessage(raw)) return;
  if (raw.cairn === 'batch') {
    for (const m of (raw as Batch).msgs) fn(m as M);
  } else {
    fn(raw as M);
  }
}
