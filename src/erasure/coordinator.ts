/**
 * What the processes serving one set of drives must agree on: who holds which key (the namespace
 * lock), and which data dirs GETs are still streaming from (so an overwrite's cleanup waits for
 * them). One process alone uses `LocalCoordinator`; the workers of a node reach the primary's over
 * IPC (`src/server/cluster/`), and a cluster of nodes will reach a quorum of nodes' through the
 * same interface: the erasure layer never knows which it has.
 */
import { type LockMode, type LockRequest, NamespaceLock, type Release } from './nslock';

export type { LockMode, LockRequest, Release } from './nslock';

/** Many readers or one writer per resource (`bucket/key`, an upload id...). */
export interface Locker {
  /** Waits for `resource`; `OperationTimedOut` after `timeoutMs`. */
  lock(resource: string, mode: LockMode, timeoutMs?: number): Promise<Release>;
  /** Several at once, in an order that cannot deadlock; a resource named twice is taken once, in the stronger mode. */
  lockMany(
    resources: readonly (string | LockRequest)[],
    mode?: LockMode,
    timeoutMs?: number,
  ): Promise<Release>;
}

/** Whether a data dir may go now, or when its last stream ends. */
export type StreamState = { idle: true } | { idle: false; done: Promise<void> };

/**
 * Data dirs being streamed by GETs (`bucket\0path\0dataDir`). A GET holds the key's read lock only
 * while it picks the version, and registers its stream before letting go of the lock: a writer that
 * then replaces the version finds the stream here and defers the old data dir's deletion.
 */
export interface StreamRegistry {
  /** Marks `id` as streamed; the function returned (idempotent) ends that stream. */
  streamStart(id: string): () => void;
  /** Idle now, or a promise settled when the last stream of `id` ends. */
  streamState(id: string): Promise<StreamState>;
}

export interface Coordinator extends Locker, StreamRegistry {}

/** The streams of one process, counted per data dir. */
export class LocalStreams implements StreamRegistry {
  private readonly streams = new Map<string, { count: number; waiters: (() => void)[] }>();

  get size(): number {
    return this.streams.size;
  }

  streamStart(id: string): () => void {
    let e = this.streams.get(id);
    if (!e) {
      e = { count: 0, waiters: [] };
      this.streams.set(id, e);
    }
    e.count++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const cur = this.streams.get(id)!;
      if (--cur.count > 0) return;
      this.streams.delete(id);
      for (const w of cur.waiters) w();
    };
  }

  /** Synchronous form of `streamState`, for the process that owns the registry. */
  stateNow(id: string): StreamState {
    const e = this.streams.get(id);
    if (!e) return { idle: true };
    return { idle: false, done: new Promise<void>((resolve) => e.waiters.push(resolve)) };
  }

  streamState(id: string): Promise<StreamState> {
    return Promise.resolve(this.stateNow(id));
  }
}

/** One process: an in-memory namespace lock and stream registry. */
export class LocalCoordinator implements Coordinator {
  readonly locks = new NamespaceLock();
  readonly streams = new LocalStreams();

  lock(resource: string, mode: LockMode, timeoutMs?: number): Promise<Release> {
    return this.locks.lock(resource, mode, timeoutMs);
  }

  lockMany(
    resources: readonly (string | LockRequest)[],
    mode?: LockMode,
    timeoutMs?: number,
  ): Promise<Release> {
    return this.locks.lockMany(resources, mode, timeoutMs);
  }

  streamStart(id: string): () => void {
    return this.streams.streamStart(id);
  }

  streamState(id: string): Promise<StreamState> {
    return this.streams.streamState(id);
  }
}
