/**
 * A worker's side of the coordination: `RemoteCoordinator` is the `Coordinator` the erasure layer
 * uses in a worker (locks and streams held in the primary), and `publish`/`subscribe` carry events
 * to the other workers. Releases and stream ends are one-way messages; the channel keeps their
 * order, so a stream registered before a read lock is released is known to the primary before any
 * writer can be granted the key.
 */
import type { Coordinator, LockMode, LockRequest, Release, StreamState } from '../../erasure/coordinator';
import { ObjectError, type ObjectErrorCode } from '../../object/errors';
import type { Channel, ClusterEvent, PrimaryMessage, WorkerMessage } from './protocol';

type Handler = (event: ClusterEvent) => void | Promise<void>;

export class RemoteCoordinator implements Coordinator {
  private nextId = 1;
  private readonly locks = new Map<number, { resolve: (r: Release) => void; reject: (e: Error) => void }>();
  private readonly states = new Map<number, (s: StreamState) => void>();
  private readonly idle = new Map<number, () => void>();
  private readonly published = new Map<number, () => void>();
  private readonly streams = new Map<string, number>();
  private readonly handlers: Handler[] = [];

  constructor(private readonly ch: Channel<PrimaryMessage, WorkerMessage>) {
    ch.onMessage((m) => this.handle(m));
  }

  lock(resource: string, mode: LockMode, timeoutMs?: number): Promise<Release> {
    return this.request([{ resource, mode }], timeoutMs);
  }

  lockMany(
    resources: readonly (string | LockRequest)[],
    mode: LockMode = 'write',
    timeoutMs?: number,
  ): Promise<Release> {
    return this.request(
      resources.map((r) => (typeof r === 'string' ? { resource: r, mode } : r)),
      timeoutMs,
    );
  }

  private request(resources: LockRequest[], timeoutMs?: number): Promise<Release> {
    const id = this.nextId++;
    return new Promise<Release>((resolve, reject) => {
      this.locks.set(id, { resolve, reject });
      this.ch.send({ cairn: 'lock', id, resources, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    });
  }

  streamStart(sid: string): () => void {
    const n = this.streams.get(sid) ?? 0;
    this.streams.set(sid, n + 1);
    if (n === 0) this.ch.send({ cairn: 'stream', sid, on: true });
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = this.streams.get(sid)! - 1;
      if (left > 0) {
        this.streams.set(sid, left);
        return;
      }
      this.streams.delete(sid);
      this.ch.send({ cairn: 'stream', sid, on: false });
    };
  }

  streamState(sid: string): Promise<StreamState> {
    const id = this.nextId++;
    return new Promise<StreamState>((resolve) => {
      this.states.set(id, resolve);
      this.ch.send({ cairn: 'streamState', id, sid });
    });
  }

  /** Tells every other worker; resolves when each has handled the event. */
  publish(event: ClusterEvent): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.published.set(id, resolve);
      this.ch.send({ cairn: 'publish', id, event });
    });
  }

  /** Events from the other workers; acknowledged once every handler has settled. */
  subscribe(fn: Handler): void {
    this.handlers.push(fn);
  }

  /** The primary is gone: whatever waits on it fails now instead of never. */
  disconnected(): void {
    for (const p of this.locks.values())
      p.reject(new ObjectError('OperationTimedOut', 'the node is stopping'));
    this.locks.clear();
    for (const r of this.states.values()) r({ idle: true });
    this.states.clear();
    for (const r of this.published.values()) r();
    this.published.clear();
  }

  /** Tells the primary of an object to heal. */
  degraded(bucket: string, key: string, versionId: string): void {
    this.ch.send({ cairn: 'degraded', bucket, key, versionId });
  }

  private handle(m: PrimaryMessage): void {
    switch (m.cairn) {
      case 'locked': {
        const p = this.locks.get(m.id);
        this.locks.delete(m.id);
        if (!p) return;
        let done = false;
        p.resolve(() => {
          if (done) return;
          done = true;
          this.ch.send({ cairn: 'unlock', id: m.id });
        });
        return;
      }
      case 'lockFailed': {
        const p = this.locks.get(m.id);
        this.locks.delete(m.id);
        p?.reject(new ObjectError(m.code as ObjectErrorCode, m.message));
        return;
      }
      case 'streamState': {
        const resolve = this.states.get(m.id);
        this.states.delete(m.id);
        if (!resolve) return;
        if (m.idle) resolve({ idle: true });
        else resolve({ idle: false, done: new Promise<void>((r) => this.idle.set(m.id, r)) });
        return;
      }
      case 'streamIdle': {
        const r = this.idle.get(m.id);
        this.idle.delete(m.id);
        r?.();
        return;
      }
      case 'published': {
        const r = this.published.get(m.id);
        this.published.delete(m.id);
        r?.();
        return;
      }
      case 'event': {
        const id = m.id;
        void Promise.allSettled(this.handlers.map(async (h) => h(m.event))).then(() =>
          this.ch.send({ cairn: 'ack', id }),
        );
        return;
      }
      default:
        return;
    }
  }
}
