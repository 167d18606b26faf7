/**
 * Starts a Cairn server: opens the drives as erasure sets, starts healing and scanning, and serves
 * the S3 API (and the console placeholder) over HTTP. `close()` is the graceful shutdown: stop
 * accepting, refuse new requests on open connections with 503, let in-flight ones finish (up to a
 * timeout), then stop the object layer.
 */

import { promises as fsp } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { IAMKeyError } from '../auth/iam/errors';
import { IAM } from '../auth/iam/IAM';
import { type Cidr, parseCidr } from '../auth/policy/values';
import { ErasureBucketConfigs } from '../erasure/bucketConfig';
import type { Coordinator } from '../erasure/coordinator';
import { ErasureSets, StartupError } from '../erasure/ErasureSets';
import { readQuorum, writeQuorum } from '../erasure/quorum';
import { configureListingCache, LISTING_CACHE_MIN_CHILDREN } from '../native';
import type { Logger } from '../s3/context';
import { S3Error, toXml } from '../s3/errors';
import { isStorageError } from '../storage/errors';
import { readFormat } from '../storage/format';
import { LocalDrive } from '../storage/LocalDrive';
import type { ClusterHealth } from './app';
import {
  createApp,
  failIdleRequest,
  failRequestBody,
  makeHostId,
  markExpectContinue,
  newRequestId,
} from './app';
import type { RemoteCoordinator } from './cluster/client';
import { silentLogger } from './log';
import { CertificateStore, loadCertificates } from './tls';

export interface ServerOptions {
  /** Drive directories, in deployment order (ellipses already expanded). */
  drives: string[];
  /** `:9000`, `host:9000`, `[::1]:9000`; port 0 picks a free one. */
  address: string;
  /** Where the console placeholder listens; none when absent. */
  consoleAddress?: string;
  rootUser: string;
  rootPassword: string;
  region: string;
  /** Domains for virtual-host style requests. */
  domains?: string[];
  /** Reverse proxies (CIDRs) whose `X-Forwarded-For` gives the client address (`CAIRN_TRUSTED_PROXIES`). */
  trustedProxies?: string[];
  log?: Logger;
  /** Smallest part but the last of a multipart upload (default 5 MiB, as S3). */
  minPartSize?: number;
  /**
   * Shard files written past the page cache (`O_DIRECT`) where the file system takes it (default
   * true; `CAIRN_API_ODIRECT=off` / `MINIO_API_ODIRECT=off`).
   */
  directWrites?: boolean;
  /**
   * Bytes of sorted listings of large directories (a flat bucket's top level) kept per process
   * (default 256 MiB; 0: off; `CAIRN_LISTING_CACHE_MB`).
   */
  listingCacheBytes?: number;
  /**
   * The certificates directory (`./tls.ts`: `public.crt`, `private.key`, SNI sub-folders): HTTPS on
   * the S3 and console addresses when it holds a certificate; plain HTTP when absent or empty.
   */
  certsDir?: string;
  /** How often the certificates are checked for a change (default 5 s; 0: never). */
  certReloadMs?: number;
  /** A connection with no traffic for this long is closed; a body that stops coming is RequestTimeout. Default 2 min. */
  idleTimeoutMs?: number;
  /** Time allowed for the request line and headers. Default 60 s. */
  headersTimeoutMs?: number;
  /** Largest request line plus headers. Default 64 KiB (Node's own is 16 KiB; presigned URLs are long). */
  maxHeaderSize?: number;
  /** How long `close()` waits for in-flight requests before cutting them. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Start the background scanner (default true). */
  background?: boolean;
  /**
   * The root password the IAM store was encrypted with before a change of `rootPassword`
   * (`CAIRN_ROOT_PASSWORD_PREVIOUS`): the store is re-encrypted under the new one at start.
   */
  previousRootPassword?: string;
  /**
   * Set in a worker process of a node (`./cluster/`): the primary has opened (formatted) the drives
   * and runs the background work; key locks, GET streams, heals and cache changes go through it.
   */
  worker?: RemoteCoordinator;
}

export interface RunningServer {
  port: number;
  /** Serving HTTPS (a certificate was found in `certsDir`). */
  secure: boolean;
  /** `host:port` actually listened on. */
  address: string;
  consolePort?: number;
  objects: ErasureSets;
  /** Users, groups, policies, service accounts, temporary credentials. */
  iam: IAM;
  /** Requests being served now. */
  inflight(): number;
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** `:9000` → all interfaces; `host:port`; `[v6]:port`. */
export function parseAddress(address: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`invalid address ${JSON.stringify(address)}: expected [host]:port`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in ${JSON.stringify(address)}`);
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Creates missing drive directories, but only for a brand-new deployment (no drive formatted yet).
 * Once a deployment exists a missing directory is a missing drive (an unmounted disk, say): creating
 * it would fill the root file system, so it is left for the erasure layer to report as unavailable.
 */
export async function prepareDrives(dirs: string[], log: Logger): Promise<void> {
  const present = await Promise.all(dirs.map(exists));
  if (present.every(Boolean)) return;
  const formatted = await Promise.all(
    dirs.map(async (d, i) => {
      if (!present[i]) return false;
      try {
        await readFormat(new LocalDrive(d));
        return true;
      } catch (e) {
        return !isStorageError(e, 'UnformattedDrive', 'DriveNotFound');
      }
    }),
  );
  if (formatted.some(Boolean)) return;
  for (const [i, d] of dirs.entries()) {
    if (present[i]) continue;
    await fsp.mkdir(d, { recursive: true });
    log.info({ drive: d }, 'created drive directory for a new deployment');
  }
}

/**
 * The quorums of the sets (of their STANDARD parity) and whether every set has that many drives
 * answering: what `/minio/health/cluster` and `/cluster/read` report.
 */
async function clusterHealth(layer: ErasureSets): Promise<ClusterHealth> {
  let readable = true;
  let writable = true;
  let rq = 0;
  let wq = 0;
  await Promise.all(
    layer.sets.map(async (s) => {
      const res = await s.onAll((d) => d.diskInfo());
      const online = res.filter((r) => !(r instanceof Error)).length;
      const k = s.driveCount - s.parity;
      rq = Math.max(rq, readQuorum(k, s.parity));
      wq = Math.max(wq, writeQuorum(k, s.parity));
      if (online < readQuorum(k, s.parity)) readable = false;
      if (online < writeQuorum(k, s.parity)) writable = false;
    }),
  );
  return { readQuorum: rq, writeQuorum: wq, readable, writable };
}

function listen(server: NetServer, address: string): Promise<AddressInfo> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function formatAddress(a: AddressInfo): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

const CONSOLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cairn console</title>
<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:4em auto;color:#222}code{background:#eee;padding:0 .2em}</style>
</head><body><h1>Cairn</h1><p>The web console is coming in a later release.</p>
<p>The S3 API is served on the server's <code>--address</code> (port 9000 by default): use any S3 client
(<code>aws s3</code>, <code>mc</code>, the AWS SDKs) with the root credentials printed at start.</p></body></html>
`;

export type StorageOptions = Pick<
  ServerOptions,
  | 'drives'
  | 'rootUser'
  | 'rootPassword'
  | 'previousRootPassword'
  | 'minPartSize'
  | 'log'
  | 'worker'
  | 'directWrites'
  | 'listingCacheBytes'
> & {
  /** The key locks and streams of this process (a node's primary serves them to its workers). */
  coordinator?: Coordinator;
};

/**
 * Opens the drives (formatting a new deployment, unless a worker) and the IAM store (re-sealing it
 * after a root password change). What a single process and a node's primary do before serving.
 */
export async function openStorage(opts: StorageOptions): Promise<{ objects: ErasureSets; iam: IAM }> {
  const log = opts.log ?? silentLogger;
  const worker = opts.worker;
  if (!worker) await prepareDrives(opts.drives, log);
  if (opts.listingCacheBytes !== undefined)
    configureListingCache(opts.listingCacheBytes, LISTING_CACHE_MIN_CHILDREN);
  const objects = await ErasureSets.open(
    opts.drives.map((d) => new LocalDrive(d, { directWrites: opts.directWrites ?? true })),
    {
      ...(opts.minPartSize !== undefined ? { minPartSize: opts.minPartSize } : {}),
      log: (msg) => log.info(msg),
      ...(opts.coordinator ? { coordinator: opts.coordinator } : {}),
      ...(worker
        ? {
            worker: true,
            coordinator: worker,
            onDegraded: (bucket: string, key: string, versionId: string) =>
              worker.degraded(bucket, key, versionId),
          }
        : {}),
    },
  );
  try {
    const iam = await IAM.open({
      store: objects.systemStore(),
      root: { accessKey: opts.rootUser, secretKey: opts.rootPassword },
      ...(opts.previousRootPassword ? { previousRootSecrets: [opts.previousRootPassword] } : {}),
      log: (msg) => log.warn(msg),
      ...(worker
        ? {
            cluster: {
              lock: () => worker.lock('.cairn.sys/iam', 'write', 30_000),
              changed: (paths: string[]) => worker.publish({ kind: 'iam', paths }),
            },
          }
        : {}),
    });
    return { objects, iam };
  } catch (e) {
    await objects.shutdown();
    if (e instanceof IAMKeyError) throw new StartupError([e.message]);
    throw e;
  }
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const log = opts.log ?? silentLogger;
  const trustedProxies: Cidr[] = [];
  for (const c of opts.trustedProxies ?? []) {
    const cidr = parseCidr(c);
    if (cidr === undefined) throw new StartupError([`invalid trusted proxy CIDR ${JSON.stringify(c)}`]);
    trustedProxies.push(cidr);
  }
  const { objects, iam } = await openStorage(opts);
  const worker = opts.worker;
  if (opts.background !== false && !worker) objects.startBackground();
  const bucketConfig = ErasureBucketConfigs.of(
    objects,
    worker
      ? { locker: worker, changed: (paths) => worker.publish({ kind: 'bucketConfig', paths }) }
      : undefined,
  );
  worker?.subscribe(async (event) => {
    if (event.kind === 'bucketConfig') bucketConfig.forget(event.paths);
    else if (event.kind === 'iam') await iam.reload(event.paths);
  });

  let closing = false;
  const hostId = makeHostId(`${objects.deploymentId}/${opts.address}`);
  const handler = createApp({
    objects,
    bucketConfig,
    config: { region: opts.region, domains: opts.domains ?? [] },
    root: { accessKey: opts.rootUser, secretKey: opts.rootPassword },
    log,
    hostId,
    health: () => clusterHealth(objects),
    closing: () => closing,
    iam,
    admin: { layer: objects, version: packageVersion(), startedAt: new Date() },
    trustedProxies,
  });

  const httpOptions: http.ServerOptions = {
    maxHeaderSize: opts.maxHeaderSize ?? 64 * 1024,
    // No limit on a whole request: a multi-GiB upload takes as long as it takes. Stalls are caught
    // by the idle timeout below; slow headers by headersTimeout.
    requestTimeout: 0,
    headersTimeout: opts.headersTimeoutMs ?? 60_000,
    keepAliveTimeout: 5_000,
  };
  let certs: CertificateStore | undefined;
  try {
    const found = opts.certsDir === undefined ? undefined : loadCertificates(opts.certsDir);
    if (found) {
      certs = new CertificateStore(
        found,
        { info: (m) => log.info(m), warn: (m) => log.warn(m) },
        opts.certReloadMs,
      );
    }
  } catch (e) {
    await objects.shutdown();
    throw e;
  }
  /** HTTPS when there are certificates (reloaded into the server when they change). */
  const createServer = (handler?: http.RequestListener): http.Server => {
    if (!certs) return http.createServer(httpOptions, handler);
    const s = https.createServer({ ...httpOptions, ...certs.options() }, handler);
    certs.serve(s);
    // An https.Server has every http.Server method the server uses; the types keep them apart.
    return s as unknown as http.Server;
  };
  const server = createServer();

  let inflight = 0;
  /** The response being written on each connection (HTTP/1.1: one at a time). */
  const current = new WeakMap<Socket, http.ServerResponse>();
  const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
    inflight++;
    const socket = req.socket;
    current.set(socket, res);
    res.once('close', () => {
      inflight--;
      if (current.get(socket) === res) current.delete(socket);
    });
    void handler(req, res);
  };
  server.on('request', serve);
  // Node answers `Expect: 100-continue` itself unless told otherwise; the app sends 100 Continue only
  // when an action reads the body, so a refused request never makes the client send it.
  server.on('checkContinue', (req, res) => {
    markExpectContinue(req);
    serve(req, res);
  });
  server.setTimeout(opts.idleTimeoutMs ?? 120_000, (socket: Socket) => {
    if (failIdleRequest(socket)) return;
    // A request still being worked on (a long CompleteMultipartUpload, say) keeps its connection; a
    // response the client stopped reading does not.
    const res = current.get(socket);
    if (res && !res.headersSent) return;
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // The client closed its side in the middle of a body: that request's answer is IncompleteBody.
    if (err.code === 'HPE_INVALID_EOF_STATE' && failRequestBody(socket, new S3Error('IncompleteBody')))
      return;
    // A response already streaming on this socket (garbage pipelined behind a GET, say): an error
    // document written now would land inside its body. Drop the connection instead.
    const inFlight = current.get(socket);
    if (inFlight?.headersSent && !inFlight.writableFinished) {
      socket.destroy();
      return;
    }
    const code =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? 'RequestHeaderSectionTooLarge'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'RequestTimeout'
          : 'InvalidRequest';
    const e = new S3Error(
      code,
      code === 'InvalidRequest' ? { message: 'The request is not valid HTTP.' } : {},
    );
    const requestId = newRequestId();
    const xml = toXml(e, { requestId, hostId });
    socket.end(
      `HTTP/1.1 ${e.status} ${http.STATUS_CODES[e.status]}\r\n` +
        `Content-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n` +
        `x-amz-request-id: ${requestId}\r\nx-amz-id-2: ${hostId}\r\nServer: Cairn\r\n` +
        `Date: ${new Date().toUTCString()}\r\nConnection: close\r\n\r\n${xml}`,
    );
  });

  let consoleServer: http.Server | undefined;
  let bound: AddressInfo;
  let consoleBound: AddressInfo | undefined;
  try {
    bound = await listen(server, opts.address);
    if (opts.consoleAddress) {
      consoleServer = createServer((req, res) => {
        res.setHeader('Server', 'Cairn');
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.setHeader('Content-Length', Buffer.byteLength(CONSOLE_PAGE));
        res.end(req.method === 'HEAD' ? undefined : CONSOLE_PAGE);
      });
      consoleBound = await listen(consoleServer, opts.consoleAddress);
    }
  } catch (e) {
    server.close();
    consoleServer?.close();
    certs?.close();
    await objects.shutdown();
    throw e;
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      consoleServer?.close();
      consoleServer?.closeAllConnections();
      // Idle keep-alive connections go now; busy ones as soon as their response is done.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const limit = opts.shutdownTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), limit);
        }),
      ]);
      clearTimeout(timer);
      clearInterval(sweep);
      if (timedOut) {
        log.warn(
          { inflight },
          `shutdown: requests still running after ${limit} ms; closing their connections`,
        );
        server.closeAllConnections();
        await done;
      }
      certs?.close();
      await objects.shutdown();
    })();
    return closed;
  };

  return {
    port: bound.port,
    secure: certs !== undefined,
    address: formatAddress(bound),
    ...(consoleBound ? { consolePort: consoleBound.port } : {}),
    objects,
    iam,
    inflight: () => inflight,
    close,
  };
}
