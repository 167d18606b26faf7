/**
 * A real Cairn server for tests: in this process, real HTTP on 127.0.0.1 (random port), real drives
 * in temporary directories, and an `@aws-sdk/client-s3` client pointed at it.
 *
 *   const srv = await startServer();           // 4 drives
 *   await srv.s3.send(new CreateBucketCommand({ Bucket: 'b' }));
 *   await srv.stop();
 *
 * Server errors (5xx) are logged to stderr; `CAIRN_TEST_LOG=info` shows everything.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { signRequest } from '../../src/auth';
import { domains, region as regionOf } from '../../src/server/config';
import { type RunningServer, startServer as start } from '../../src/server/index';
import { createLogger, type LogLevel } from '../../src/server/log';

export interface TestServer {
  /** `http://127.0.0.1:PORT` (`https://` with certificates) */
  endpoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  region: string;
  /** The temporary drive directories. */
  roots: string[];
  /** Path style, the SDK's default checksums. */
  s3: S3Client;
  /** The running server (object layer, in-flight count...). */
  server: RunningServer;
  /** Closes the server and removes the temporary drives. */
  stop(): Promise<void>;
}

export interface TestServerOptions {
  /** Drives (default 4). */
  drives?: number;
  /** Server environment (`CAIRN_REGION`, `CAIRN_DOMAIN`, `CAIRN_ROOT_USER`...). */
  env?: Record<string, string>;
  /** Smallest multipart part but the last (default 5 MiB, as S3). */
  minPartSize?: number;
  /** Passed to the server as they are (timeouts, header size, `certsDir`...). */
  server?: Partial<Parameters<typeof start>[0]>;
  /** With `server.certsDir`: the PEM the client trusts (the test's CA or self-signed certificate). */
  ca?: string;
}

// The SDK warns once per process that its 2027 releases need Node 22; tests run on Node 20 on purpose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let counter = 0;

/** Drive directories not yet removed: a test file that fails before `stop()` still leaves none behind. */
const leftovers = new Set<string>();
process.once('exit', () => {
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
});

export async function startServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const env = opts.env ?? {};
  const n = opts.drives ?? 4;
  const base = await mkdtemp(path.join(tmpdir(), 'cairn-test-'));
  leftovers.add(base);
  const roots = Array.from({ length: n }, (_, i) => path.join(base, `d${i + 1}`));
  const accessKey = env.CAIRN_ROOT_USER ?? env.MINIO_ROOT_USER ?? `testuser${++counter}`;
  const secretKey = env.CAIRN_ROOT_PASSWORD ?? env.MINIO_ROOT_PASSWORD ?? 'test-secret-key-123';
  const region = regionOf(env);
  const level = (process.env.CAIRN_TEST_LOG as LogLevel | undefined) ?? 'error';
  let server: RunningServer;
  try {
    server = await start({
      drives: roots,
      address: '127.0.0.1:0',
      rootUser: accessKey,
      rootPassword: secretKey,
      region,
      domains: domains(env),
      log: createLogger({ level }),
      background: false,
      shutdownTimeoutMs: 5_000,
      ...(opts.minPartSize !== undefined ? { minPartSize: opts.minPartSize } : {}),
      ...opts.server,
    });
  } catch (e) {
    await rm(base, { recursive: true, force: true });
    leftovers.delete(base);
    throw e;
  }
  const endpoint = `${server.secure ? 'https' : 'http'}://127.0.0.1:${server.port}`;
  const s3 = new S3Client({
    endpoint,
    ...(server.secure && opts.ca !== undefined
      ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca: opts.ca }) }) }
      : {}),
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    // Tests want to see the first answer, not a retried one.
    maxAttempts: 1,
  });
  let stopped = false;
  return {
    endpoint,
    port: server.port,
    accessKey,
    secretKey,
    region,
    roots,
    s3,
    server,
    async stop() {
      if (stopped) return;
      stopped = true;
      s3.destroy();
      await server.close();
      await rm(base, { recursive: true, force: true });
      leftovers.delete(base);
    },
  };
}

/**
 * A SigV4-signed request through `fetch`, for what the SDKs refuse to send (malformed bodies, bad
 * names, odd headers). `pathAndQuery` is sent as written (already percent-encoded).
 */
export async function signedFetch(
  srv: Pick<TestServer, 'endpoint' | 'accessKey' | 'secretKey' | 'region'>,
  method: string,
  pathAndQuery: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; now?: Date; secretKey?: string } = {},
): Promise<Response> {
  const url = new URL(pathAndQuery, srv.endpoint);
  const signed = signRequest(
    {
      method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: { host: url.host, ...opts.headers },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    },
    {
      credentials: { accessKey: srv.accessKey, secretKey: opts.secretKey ?? srv.secretKey },
      region: srv.region,
      ...(opts.now ? { now: opts.now } : {}),
    },
  );
  const headers = { ...signed.headers };
  delete headers.host;
  return fetch(url, { method, headers, ...(opts.body !== undefined ? { body: opts.body } : {}) });
}

/** An `@aws-sdk/client-s3` client for `srv` signing with other credentials (a user, temporary ones). */
export function s3ClientFor(
  srv: Pick<TestServer, 'endpoint' | 'region'>,
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): S3Client {
  return new S3Client({
    endpoint: srv.endpoint,
    region: srv.region,
    forcePathStyle: true,
    credentials: creds,
    maxAttempts: 1,
  });
}

/**
 * The real binary, `bin/cairn.js server` on random ports of 127.0.0.1 (S3 and console) over
 * `drives` (a path, ellipses allowed), from the TypeScript sources; stdout and stderr piped.
 */
export function spawnServerBinary(
  drives: string,
  env: NodeJS.ProcessEnv,
  extraArgs: string[] = [],
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(
    process.execPath,
    [
      path.join(__dirname, '..', '..', 'bin', 'cairn.js'),
      'server',
      ...extraArgs,
      '--address',
      '127.0.0.1:0',
      '--console-address',
      '127.0.0.1:0',
      drives,
    ],
    { env: { ...env, CAIRN_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}
