/**
 * The primary's side of the workers' coordination: it serves the namespace lock and the stream
 * registry of its `LocalCoordinator` to every worker, relays events between workers (each one
 * acknowledged by every other before the publisher hears back), and forwards degraded objects to
 * the heal queue. A worker that exits gives back everything it held: its locks, its streams, its
 * pending acknowledgements.
 */
import type { LocalCoordinator, Release } from '../../erasure/coordinator';
import { ObjectError } from '../../object/errors';
import type { Channel, ClusterEvent, PrimaryMessage, WorkerMessage } from './protocol';

/** How long a publisher waits for a worker that does not acknowledge an event. */
const ACK_TIMEOUT_MS = 10_000;

interface WorkerState {
  ch: Channel<WorkerMessage, PrimaryMessage>;
  /** Granted locks by the worker's request id. */
  held: Map<number, Release>;
  /** Requested, not granted yet. */
  waiting: Set<number>;
  /** Data dirs this worker streams, with the end of the primary's registration. */
  streams: Map<string, () => void>;
}

interface Pending {
  origin: number;
  originId: number;
  remaining: Set<number>;
  timer: NodeJS.Timeout;
}

export interface CoordinatorHostOptions {
  onDegraded?: (bucket: string, key: string, versionId: string) => void;
  log?: (level: 'warn' | 'error', msg: string) => void;
}

export class CoordinatorHost {
  private readonly workers = new Map<number, WorkerState>();
  private readonly pending = new Map<number, Pending>();
  private nextEvent = 1;

  constructor(
    private readonly local: LocalCoordinator,
    private readonly opts: CoordinatorHostOptions = {},
  ) {}

  /** Locks workers hold now (granted, not yet released). */
  get heldCount(): number {
    let n = 0;
    for (const w of this.workers.values()) n += w.held.size;
    return n;
  }

  attach(workerId: number, ch: Channel<WorkerMessage, PrimaryMessage>): void {
    const w: WorkerState = { ch, held: new Map(), waiting: new Set(), streams: new Map() };
    this.workers.set(workerId, w);
    ch.onMessage((m) => this.handle(workerId, w, m));
  }

  /** The worker is gone: everything it held is given back. */
  detach(workerId: number): void {
    const w = this.workers.get(workerId);
    if (!w) return;
    this.workers.delete(workerId);
    for (const release of w.held.values()) release();
    w.held.clear();
    w.waiting.clear();
    for (const end of w.streams.values()) end();
    w.streams.clear();
    for (const [id, p] of this.pending) {
      if (p.origin === workerId) {
        clearTimeout(p.timer);
        this.pending.delete(id);
      } else {
        this.acked(id, workerId);
      }
    }
  }

  private handle(workerId: number, w: WorkerState, m: WorkerMessage): void {
    switch (m.cairn) {
      case 'lock':
        this.lock(workerId, w, m.id, m.resources, m.timeoutMs);
        return;
      case 'unlock': {
        const release = w.held.get(m.id);
        w.held.delete(m.id);
        w.waiting.delete(m.id);
        release?.();
        return;
      }
      case 'stream':
        if (m.on) {
          if (!w.streams.has(m.sid)) w.streams.set(m.sid, this.local.streamStart(m.sid));
        } else {
          w.streams.get(m.sid)?.();
          w.streams.delete(m.sid);
        }
        return;
      case 'streamState': {
        const state = this.local.streams.stateNow(m.sid);
        w.ch.send({ cairn: 'streamState', id: m.id, idle: state.idle });
        if (!state.idle) {
          void state.done.then(() => {
            if (this.workers.get(workerId) === w) w.ch.send({ cairn: 'streamIdle', id: m.id });
          });
        }
        return;
      }
      case 'degraded':
        this.opts.onDegraded?.(m.bucket, m.key, m.versionId);
        return;
      case 'publish':
        this.publish(workerId, m.id, m.event);
        return;
      case 'ack':
        this.acked(m.id, workerId);
        return;
      default:
        // 'ready' and 'failed' are the process manager's.
        return;
    }
  }

  private lock(
    workerId: number,
    w: WorkerState,
    id: number,
    resources: { resource: string; mode: 'read' | 'write' }[],
    timeoutMs?: number,
  ): void {
    w.waiting.add(id);
    const taken =
      resources.length === 1
        ? this.local.lock(resources[0]!.resource, resources[0]!.mode, timeoutMs)
        : this.local.lockMany(resources, 'write', timeoutMs);
    taken.then(
      (release) => {
        // Given up meanwhile (the worker exited, or unlocked a request it no longer wants).
        if (this.workers.get(workerId) !== w || !w.waiting.delete(id)) {
          release();
          return;
        }
        w.held.set(id, release);
        w.ch.send({ cairn: 'locked', id });
      },
      (e: unknown) => {
        w.waiting.delete(id);
        if (this.workers.get(workerId) !== w) return;
        const code = e instanceof ObjectError ? e.code : 'InternalError';
        w.ch.send({ cairn: 'lockFailed', id, code, message: e instanceof Error ? e.message : String(e) });
      },
    );
  }

  private publish(origin: number, originId: number, event: ClusterEvent): void {
    const id = this.nextEvent++;
    const remaining = new Set([...this.workers.keys()].filter((k) => k !== origin));
    const timer = setTimeout(() => {
      const p = this.pending.get(id);
      if (!p) return;
      this.opts.log?.(
        'warn',
        `workers ${[...p.remaining].join(', ')} did not acknowledge a ${event.kind} change in ${ACK_TIMEOUT_MS} ms`,
      );
      this.finish(id);
    }, ACK_TIMEOUT_MS);
    timer.unref();
    this.pending.set(id, { origin, originId, remaining, timer });
    for (const k of remaining) this.workers.get(k)!.ch.send({ cairn: 'event', id, event });
    if (remaining.size === 0) this.finish(id);
  }

  private acked(id: number, workerId: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    p.remaining.delete(workerId);
    if (p.remaining.size === 0) this.finish(id);
  }

  private finish(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    this.workers.get(p.origin)?.ch.send({ cairn: 'published', id: p.originId });
  }
}
