/**
 * In-process namespace lock: per resource (`bucket/key`, an upload id...), many readers or one
 * writer. Waiters are served first come, first served: once a writer waits, readers that come after
 * it wait behind it, so a stream of readers cannot starve a writer. An entry lives only while the
 * resource is held or waited on.
 *
 * Not re-entrant: a holder that asks again for the same resource waits for itself (until its
 * timeout). Take several resources with `lockMany`, which orders them so that two callers can never
 * each hold what the other waits for.
 */
import { ObjectError } from '../object/errors';

export type LockMode = 'read' | 'write';
/** Gives the lock back; calling it again does nothing. */
export type Release = () => void;

export interface LockRequest {
  resource: string;
  mode: LockMode;
}

interface Waiter {
  mode: LockMode;
  grant(): void;
  timer: NodeJS.Timeout | undefined;
}

interface Entry {
  readers: number;
  writer: boolean;
  /** FIFO; `head` is the index of the first live waiter (shifting arrays is O(n)). */
  queue: Waiter[];
  head: number;
}

function canTake(e: Entry, mode: LockMode): boolean {
  return mode === 'read' ? !e.writer : !e.writer && e.readers === 0;
}

export class NamespaceLock {
  private readonly entries = new Map<string, Entry>();

  /** Resources held or waited on right now (idle ones are forgotten). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Waits for `resource` in `mode`; resolves to the release function. With `timeoutMs`, gives up
   * after that long with `ObjectError('OperationTimedOut')`, leaving the lock as if never asked.
   */
  lock(resource: string, mode: LockMode, timeoutMs?: number): Promise<Release> {
    let e = this.entries.get(resource);
    if (!e) {
      e = { readers: 0, writer: false, queue: [], head: 0 };
      this.entries.set(resource, e);
    }
    const entry = e;
    if (entry.head === entry.queue.length && canTake(entry, mode)) {
      this.take(entry, mode);
      return Promise.resolve(this.releaser(resource, entry, mode));
    }
    return new Promise<Release>((resolve, reject) => {
      const w: Waiter = {
        mode,
        timer: undefined,
        grant: () => {
          if (w.timer) clearTimeout(w.timer);
          resolve(this.releaser(resource, entry, mode));
        },
      };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          const i = entry.queue.indexOf(w, entry.head);
          if (i >= 0) entry.queue.splice(i, 1);
          // a writer leaving the head may let the readers behind it in
          this.drain(resource, entry);
          reject(
            new ObjectError('OperationTimedOut', `${mode} lock on ${resource} not had in ${timeoutMs} ms`, {
              resource,
              mode,
              timeoutMs,
            }),
          );
        }, timeoutMs);
      }
      entry.queue.push(w);
    });
  }

  /**
   * Several resources at once, taken one by one in sorted order (so no two callers deadlock); a
   * resource named twice is taken once, in the stronger mode. `timeoutMs` bounds the whole wait; on
   * timeout whatever was taken is given back.
   */
  async lockMany(
    resources: readonly (string | LockRequest)[],
    mode: LockMode = 'write',
    timeoutMs?: number,
  ): Promise<Release> {
    const wanted = new Map<string, LockMode>();
    for (const r of resources) {
      const req = typeof r === 'string' ? { resource: r, mode } : r;
      if (wanted.get(req.resource) !== 'write') wanted.set(req.resource, req.mode);
    }
    const order = [...wanted.keys()].sort();
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const held: Release[] = [];
    const releaseAll: Release = () => {
      for (let i = held.length - 1; i >= 0; i--) held[i]!();
    };
    try {
      for (const r of order) {
        const left = deadline === undefined ? undefined : Math.max(0, deadline - Date.now());
        held.push(await this.lock(r, wanted.get(r)!, left));
      }
    } catch (err) {
      releaseAll();
      throw err;
    }
    return releaseAll;
  }

  private take(e: Entry, mode: LockMode): void {
    if (mode === 'read') e.readers++;
    else e.writer = true;
  }

  private releaser(resource: string, e: Entry, mode: LockMode): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (mode === 'read') e.readers--;
      else e.writer = false;
      this.drain(resource, e);
    };
  }

  /** Grants waiters from the head while they fit: a run of readers, or one writer. */
  private drain(resource: string, e: Entry): void {
    while (e.head < e.queue.length) {
      const w = e.queue[e.head]!;
      if (!canTake(e, w.mode)) break;
      e.head++;
      this.take(e, w.mode);
      w.grant();
      if (w.mode === 'write') break;
    }
    if (e.head === e.queue.length) {
      e.queue = [];
      e.head = 0;
    } else if (e.head > 64 && e.head * 2 > e.queue.length) {
      e.queue = e.queue.slice(e.head);
      e.head = 0;
    }
    if (e.readers === 0 && !e.writer && e.queue.length === 0 && this.entries.get(resource) === e) {
      this.entries.delete(resource);
    }
  }
}
