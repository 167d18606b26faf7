/**
 * One node on every core: a primary process opens the drives (formats a new deployment, re-seals
 * IAM, clears a crash's temporary files), runs the background work (scanner, heal queue, stale
 * uploads) and serves the key locks and stream registry; N worker processes (Node's cluster, one
 * listening port shared by the primary, connections handed out round-robin) each serve the whole S3
 * API over the same drives. Workers reach the primary through `RemoteCoordinator`; a worker that
 * dies gives back its locks and is started again. See docs/architecture.md ("Workers").
 */
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import type { IAM } from '../../auth/iam/IAM';
import { LocalCoordinator } from '../../erasure/coordinator';
import type { ErasureSets } from '../../erasure/ErasureSets';
import { StartupError } from '../../erasure/ErasureSets';
import { openStorage, type RunningServer, type ServerOptions, startServer } from '../index';
import { createLogger, type LogLevel, silentLogger } from '../log';
import { RemoteCoordinator } from './client';
import { CoordinatorHost } from './host';
import {
  batchedSend,
  type Channel,
  isCairnMessage,
  type PrimaryMessage,
  unbatch,
  type WorkerMessage,
} from './protocol';

/** A worker that dies is started again after this long; more than `RESTART_LIMIT` deaths a minute stop the node. */
const RESTART_DELAY_MS = 500;
const RESTART_LIMIT = 10;

export interface NodeOptions extends ServerOptions {
  /** Worker processes (at least 2; one process serves alone through `startServer`). */
  workers: number;
  /** The workers' log level (they log to the primary's stderr). */
  logLevel?: LogLevel;
}

/** What a worker is started with: the server's settings (functions and the logger left out). */
type WorkerSettings = Omit<ServerOptions, 'log' | 'worker'> & { logLevel?: LogLevel };

/** The environment variable carrying `WorkerSettings` (JSON) to a worker process. */
export const WORKER_SETTINGS_ENV = 'CAIRN_WORKER_SETTINGS';

/** The command every worker runs: the same `bin/cairn.js` (from src/ or dist/, both three levels down). */
const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'cairn.js');

export interface RunningNode {
  port: number;
  address: string;
  consolePort?: number;
  objects: ErasureSets;
  iam: IAM;
  workers(): number;
  /** Locks workers hold in the primary now. */
  heldLocks(): number;
  close(): Promise<void>;
}

function workerChannel(w: Worker): Channel<WorkerMessage, PrimaryMessage> {
  return {
    send: batchedSend<PrimaryMessage>((m) => {
      // A worker exiting now is detached by its 'exit' handler; what it no longer reads is moot.
      if (w.isConnected()) w.send(m, undefined, () => {});
    }),
    onMessage: (fn) => {
      w.on('message', (m: unknown) => unbatch(m, fn));
    },
  };
}

/** Starts the primary: opens the storage, then forks and waits for every worker. */
export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const log = opts.log ?? silentLogger;
  const local = new LocalCoordinator();
  const { objects, iam } = await openStorage({ ...opts, coordinator: local });
  if (opts.background !== false) objects.startBackground();
  const host = new CoordinatorHost(local, {
    onDegraded: (bucket, key, versionId) => objects.enqueueHeal(bucket, key, versionId),
    log: (level, msg) => log[level](msg),
  });

  let stopping = false;
  const alive = new Set<Worker>();
  const deaths: number[] = [];
  let bound: { port: number; address: string; consolePort?: number } | undefined;
  let failNode: ((e: Error) => void) | undefined;

  const { log: _log, worker: _worker, workers: _workers, ...settings } = opts;
  const env = {
    [WORKER_SETTINGS_ENV]: JSON.stringify(settings satisfies WorkerSettings),
    // Started from the TypeScript sources (tests, tsx): so are the workers.
    ...(__filename.endsWith('.ts') ? { CAIRN_FROM_SOURCE: '1' } : {}),
  };
  cluster.setupPrimary({ exec: BIN, args: [] });

  const fork = (index: number): Promise<{ port: number; address: string; consolePort?: number }> => {
    const w = cluster.fork({ ...env, CAIRN_WORKER_INDEX: String(index) });
    w.on('error', (e) => log.warn({ err: e, worker: index + 1 }, 'worker channel error'));
    alive.add(w);
    host.attach(w.id, workerChannel(w));
    return new Promise((resolve, reject) => {
      let started = false;
      w.on('message', (m: unknown) => {
        if (!isCairnMessage(m)) return;
        const msg = m as WorkerMessage;
        if (msg.cairn === 'ready') {
          started = true;
          resolve(msg);
        } else if (msg.cairn === 'failed') {
          started = true;
          reject(
            msg.code
              ? Object.assign(new Error(msg.message), { code: msg.code })
              : new StartupError([`worker ${index + 1}: ${msg.message}`]),
          );
        }
      });
      w.on('exit', (code, signal) => {
        alive.delete(w);
        host.detach(w.id);
        if (!started) {
          reject(
            new StartupError([`worker ${index + 1} exited before serving (code ${code}, signal ${signal})`]),
          );
          return;
        }
        if (stopping) return;
        log.error({ worker: index + 1, code, signal }, 'worker exited; starting it again');
        const now = Date.now();
        deaths.push(now);
        while (deaths.length > 0 && deaths[0]! < now - 60_000) deaths.shift();
        if (deaths.length > RESTART_LIMIT) {
          failNode?.(new Error(`workers died ${deaths.length} times in a minute`));
          return;
        }
        setTimeout(() => {
          if (stopping) return;
          fork(index).catch((e: unknown) =>
            log.error({ err: e, worker: index + 1 }, 'worker did not restart'),
          );
        }, RESTART_DELAY_MS).unref();
      });
    });
  };

  const close = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const exits = [...alive].map((w) => new Promise<void>((r) => w.once('exit', () => r())));
    for (const w of alive) {
      if (w.isConnected()) w.send({ cairn: 'shutdown' } satisfies PrimaryMessage, undefined, () => {});
      else w.process.kill('SIGTERM');
    }
    const limit = (opts.shutdownTimeoutMs ?? 30_000) + 5_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(exits),
      new Promise<void>((r) => {
        timer = setTimeout(() => {
          for (const w of alive) w.process.kill('SIGKILL');
          r();
        }, limit);
      }),
    ]);
    clearTimeout(timer);
    await objects.shutdown();
  };

  try {
    const ready = await Promise.all(Array.from({ length: opts.workers }, (_, i) => fork(i)));
    bound = ready[0]!;
  } catch (e) {
    await close();
    throw e;
  }
  failNode = (e) => {
    log.error({ err: e }, 'stopping: the workers keep dying');
    void close().then(() => process.exit(1));
  };

  return {
    port: bound.port,
    address: bound.address,
    ...(bound.consolePort !== undefined ? { consolePort: bound.consolePort } : {}),
    objects,
    iam,
    workers: () => alive.size,
    heldLocks: () => host.heldCount,
    close,
  };
}

/** Whether this process is a worker forked by `startNode`. */
export function isNodeWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_SETTINGS_ENV] !== undefined;
}

/** In a worker process: serves S3 with the primary as coordinator until told to stop. */
export async function runWorker(): Promise<void> {
  const settings = JSON.parse(process.env[WORKER_SETTINGS_ENV]!) as WorkerSettings;
  const { logLevel, ...rest } = settings;
  const opts: ServerOptions = {
    ...rest,
    log: createLogger({
      level: logLevel ?? 'info',
      base: { worker: Number(process.env.CAIRN_WORKER_INDEX) + 1 },
    }),
  };
  const send = (m: WorkerMessage) => {
    if (process.connected) process.send?.(m);
  };
  const coordinator = new RemoteCoordinator({
    send: batchedSend<WorkerMessage>((m) => {
      if (process.connected) process.send?.(m);
    }),
    onMessage: (fn) => {
      process.on('message', (m: unknown) => unbatch(m, fn));
    },
  });
  // Stop requests are heard from the start: one that comes while the server is still opening (a
  // worker restarted just before the node stops) ends the process once it is open.
  let srv: RunningServer | undefined;
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    if (srv) void srv.close().finally(() => process.exit(0));
  };
  process.on('message', (m: unknown) => {
    if (isCairnMessage(m) && (m as PrimaryMessage).cairn === 'shutdown') stop();
  });
  // The primary is gone (killed): nothing coordinates this worker's writes any more.
  process.on('disconnect', () => {
    coordinator.disconnected();
    stop();
  });
  // A terminal's Ctrl-C reaches the whole process group: the primary decides, so these only stop.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    srv = await startServer({ ...opts, worker: coordinator, background: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    send({
      cairn: 'failed',
      message: e instanceof StartupError ? e.problems.join('; ') : e instanceof Error ? e.message : String(e),
      ...(typeof code === 'string' ? { code } : {}),
    });
    process.exitCode = 1;
    process.disconnect?.();
    return;
  }
  if (closing) {
    await srv.close();
    process.exit(0);
  }
  send({
    cairn: 'ready',
    port: srv.port,
    address: srv.address,
    ...(srv.consolePort !== undefined ? { consolePort: srv.consolePort } : {}),
  });
}
