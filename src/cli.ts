/**
 * The `cairn` command. `bin/cairn.js` sizes libuv's thread pool, then calls `main`.
 *
 *   cairn server [--address :9000] [--console-address :9001] [--domain D] DRIVE...
 *   cairn admin [--endpoint URL] [--access-key K] [--secret-key S] [--json] COMMAND...
 */
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { addAdminCommand } from './cli/admin';
import { StartupError } from './erasure/ErasureSets';
import type { Logger } from './s3/context';
import { isNodeWorker, runWorker, startNode } from './server/cluster/node';
import {
  ConfigError,
  domains,
  type Env,
  envValue,
  listingCacheBytes,
  onOff,
  type RootCredentialsConfig,
  region,
  rootCredentials,
  trustedProxies,
} from './server/config';
import { EllipsisError, expandDrives } from './server/ellipses';
import { type RunningServer, type ServerOptions, startServer } from './server/index';
import { createLogger, type LogLevel } from './server/log';
import { certsDirFor, loadCertificates, TlsConfigError } from './server/tls';

/** Exit codes: 0 clean stop, 1 could not start (drives, address), 2 bad command line or settings. */
export const EXIT_START_FAILED = 1;
export const EXIT_USAGE = 2;

function version(): string {
  try {
    return (require('../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

interface ServerFlags {
  address: string;
  consoleAddress: string;
  certsDir?: string;
  domain?: string[];
  quiet?: boolean;
  workers: string;
}

/** `--workers`: a count, or `auto` (one per core). */
export function workerCount(value: string): number {
  if (value === 'auto') return os.availableParallelism();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 256) {
    throw new ConfigError(`--workers must be auto or a number from 1 to 256, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** The URLs a listener on `address` is reachable at, for the banner. */
export function endpointsFor(address: string, scheme: 'http' | 'https' = 'http'): string[] {
  const m = /^(?:\[(.+)\]|(.*)):(\d+)$/.exec(address);
  if (!m) return [`${scheme}://${address}`];
  const host = m[1] ?? m[2] ?? '';
  const port = m[3]!;
  if (host !== '' && host !== '0.0.0.0' && host !== '::') {
    return [`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`];
  }
  const ips = Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => !!i && i.family === 'IPv4' && !i.internal)
    .map((i) => `${scheme}://${i.address}:${port}`);
  return [`${scheme}://127.0.0.1:${port}`, ...ips];
}

function banner(
  srv: Pick<RunningServer, 'address' | 'consolePort' | 'objects'>,
  scheme: 'http' | 'https',
  workers: number,
  creds: { rootUser: string; rootPassword: string; generated: boolean },
  regionName: string,
  drives: string[],
): string {
  const api = endpointsFor(srv.address, scheme);
  const local = api[0]!;
  const lines = [
    `Cairn ${version()}`,
    `S3 API:   ${api.join('  ')}`,
    ...(srv.consolePort !== undefined
      ? [`Console:  ${scheme}://127.0.0.1:${srv.consolePort}  (placeholder: the web console comes later)`]
      : []),
    `Region:   ${regionName}`,
    `Workers:  ${workers} (${workers === 1 ? 'one process' : 'processes sharing the port'})`,
    `Drives:   ${drives.length} (${srv.objects.sets.length} erasure set${srv.objects.sets.length === 1 ? '' : 's'} of ${srv.objects.sets[0]!.driveCount}, parity ${srv.objects.sets[0]!.parity})`,
    '',
    `RootUser: ${creds.rootUser}`,
    `RootPass: ${creds.generated ? creds.rootPassword : '(as set in CAIRN_ROOT_PASSWORD / MINIO_ROOT_PASSWORD)'}`,
  ];
  if (creds.generated) {
    lines.push(
      '',
      `WARNING: these credentials were generated, and are kept in ${generatedCredentialsPath(drives[0]!)}`,
      '         for the next start. Set CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD to choose your own',
      '         (with CAIRN_ROOT_PASSWORD_PREVIOUS set to this password once, if IAM users exist).',
    );
  }
  lines.push(
    '',
    'Try it with the AWS CLI:',
    `  export AWS_ACCESS_KEY_ID=${creds.rootUser}`,
    `  export AWS_SECRET_ACCESS_KEY=${creds.generated ? creds.rootPassword : '<your root password>'}`,
    `  export AWS_DEFAULT_REGION=${regionName}`,
    `  aws --endpoint-url ${local} s3 mb s3://my-bucket`,
    `  aws --endpoint-url ${local} s3 cp ./some-file s3://my-bucket/`,
    `  aws --endpoint-url ${local} s3 ls s3://my-bucket`,
    '',
  );
  return lines.join('\n');
}

export interface MainIO {
  env: Env;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Called with the exit code when the command is done (a server: after its shutdown). */
  exit: (code: number) => void;
  /** Where SIGTERM/SIGINT are listened for. */
  signals?: NodeJS.EventEmitter;
}

/**
 * Generated root credentials are kept on the first drive and reused at the next start: IAM secrets
 * are encrypted under the root password, so a new pair at every start would lock the server out of
 * its own users. They are for trying Cairn; a real deployment sets its own.
 */
export function generatedCredentialsPath(drive: string): string {
  return path.join(drive, '.cairn.sys', 'generated-credentials.json');
}

async function keptCredentials(drive: string): Promise<RootCredentialsConfig | null> {
  try {
    const doc = JSON.parse(await fsp.readFile(generatedCredentialsPath(drive), 'utf8')) as Record<
      string,
      unknown
    >;
    if (typeof doc.rootUser !== 'string' || typeof doc.rootPassword !== 'string') return null;
    return { rootUser: doc.rootUser, rootPassword: doc.rootPassword, generated: true };
  } catch {
    return null;
  }
}

async function keepCredentials(drive: string, creds: RootCredentialsConfig, log: Logger): Promise<void> {
  const file = generatedCredentialsPath(drive);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const body = JSON.stringify({ rootUser: creds.rootUser, rootPassword: creds.rootPassword });
    await fsp.writeFile(tmp, `${body}\n`, { mode: 0o600 });
    await fsp.rename(tmp, file);
  } catch (e) {
    log.warn(
      { err: e, file },
      'could not keep the generated credentials: they will change at the next start',
    );
  }
}

async function runServer(drivesArg: string[], flags: ServerFlags, io: MainIO): Promise<void> {
  const env = io.env;
  let drives: string[];
  let creds: ReturnType<typeof rootCredentials>;
  let regionName: string;
  let domainList: string[];
  let proxies: string[];
  let workers: number;
  let odirect: boolean | undefined;
  let listingCache: number | undefined;
  let certsDir: string | undefined;
  try {
    const given =
      drivesArg.length > 0 ? drivesArg : (envValue(env, 'VOLUMES')?.split(/\s+/).filter(Boolean) ?? []);
    if (given.length === 0) {
      throw new ConfigError('no drives given: cairn server DRIVE... (or set CAIRN_VOLUMES)');
    }
    drives = expandDrives(given).map((d) => path.resolve(d));
    const dup = drives.find((d, i) => drives.indexOf(d) !== i);
    if (dup) throw new ConfigError(`drive ${dup} is given more than once`);
    creds = rootCredentials(env);
    if (creds.generated) creds = (await keptCredentials(drives[0]!)) ?? creds;
    regionName = region(env);
    domainList = domains(env, flags.domain ?? []);
    proxies = trustedProxies(env);
    workers = workerCount(flags.workers);
    odirect = onOff(env, 'API_ODIRECT');
    listingCache = listingCacheBytes(env);
    const dir = certsDirFor(flags.certsDir, env.HOME || os.homedir());
    if (flags.certsDir !== undefined && !existsSync(dir)) {
      throw new ConfigError(`the certificates directory ${dir} does not exist`);
    }
    // Checked here, so that a broken certificate stops the start with its reason; HTTPS when found.
    if (loadCertificates(dir)) certsDir = dir;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof EllipsisError || e instanceof TlsConfigError) {
      io.stderr(`cairn: ${e.message}\n`);
      io.exit(EXIT_USAGE);
      return;
    }
    throw e;
  }

  const level = (envValue(env, 'LOG_LEVEL') ?? 'info') as LogLevel;
  const log = createLogger({ level, write: io.stderr });
  const serverOpts: ServerOptions = {
    drives,
    address: flags.address,
    ...(flags.consoleAddress !== '' ? { consoleAddress: flags.consoleAddress } : {}),
    rootUser: creds.rootUser,
    rootPassword: creds.rootPassword,
    ...(envValue(env, 'ROOT_PASSWORD_PREVIOUS') !== undefined
      ? { previousRootPassword: envValue(env, 'ROOT_PASSWORD_PREVIOUS')! }
      : {}),
    region: regionName,
    domains: domainList,
    trustedProxies: proxies,
    log,
    ...(odirect !== undefined ? { directWrites: odirect } : {}),
    ...(listingCache !== undefined ? { listingCacheBytes: listingCache } : {}),
    ...(certsDir !== undefined ? { certsDir } : {}),
  };
  // A node's primary serves no request itself: its workers count their own in-flight requests.
  let srv: Pick<RunningServer, 'address' | 'consolePort' | 'objects' | 'close'> &
    Partial<Pick<RunningServer, 'inflight'>>;
  try {
    srv =
      workers > 1
        ? await startNode({
            ...serverOpts,
            workers,
            logLevel: level,
          })
        : await startServer(serverOpts);
  } catch (e) {
    if (e instanceof StartupError) {
      io.stderr(`cairn: cannot start:\n  ${e.problems.join('\n  ')}\n`);
    } else if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.stderr(`cairn: cannot start: the address is already in use (${(e as Error).message})\n`);
    } else if (
      (e as NodeJS.ErrnoException).code === 'EACCES' ||
      (e as NodeJS.ErrnoException).code === 'EPERM'
    ) {
      io.stderr(`cairn: cannot start: permission denied (${(e as Error).message})\n`);
    } else {
      io.stderr(`cairn: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    io.exit(EXIT_START_FAILED);
    return;
  }
  if (creds.generated) await keepCredentials(drives[0]!, creds, log);
  if (!flags.quiet) io.stdout(banner(srv, certsDir ? 'https' : 'http', workers, creds, regionName, drives));

  const signals = io.signals ?? process;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      io.stderr(`cairn: ${signal} again: exiting now\n`);
      io.exit(EXIT_START_FAILED);
      return;
    }
    stopping = true;
    const inflight = srv.inflight?.();
    log.info(
      { signal, ...(inflight !== undefined ? { inflight } : {}) },
      'shutting down: finishing in-flight requests',
    );
    srv.close().then(
      () => {
        log.info('stopped');
        io.exit(0);
      },
      (e) => {
        log.error({ err: e }, 'shutdown failed');
        io.exit(EXIT_START_FAILED);
      },
    );
  };
  signals.on('SIGTERM', () => stop('SIGTERM'));
  signals.on('SIGINT', () => stop('SIGINT'));
}

export function buildProgram(io: MainIO): Command {
  const env = io.env;
  const program = new Command('cairn')
    .description('Cairn: an S3-compatible object store')
    .version(version(), '-v, --version')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  program
    .command('server')
    .description('serve the S3 API from one or more drives (directories)')
    .argument(
      '[DRIVE...]',
      'drive directories, in order; MinIO ellipses expand: /data{1...4}, /mnt/disk{1...2}/export{01...16}',
    )
    .addOption(
      new Option('--address <[host]:port>', 'S3 API address').default(envValue(env, 'ADDRESS') ?? ':9000'),
    )
    .addOption(
      new Option('--console-address <[host]:port>', "console address ('' for none)").default(
        envValue(env, 'CONSOLE_ADDRESS') ?? ':9001',
      ),
    )
    .addOption(
      new Option(
        '--domain <domain>',
        'domain for virtual-host style requests (bucket.domain); repeatable, added to CAIRN_DOMAIN',
      ).argParser((v: string, prev: string[] = []) => [...prev, v]),
    )
    .addOption(
      new Option(
        '--workers <n|auto>',
        'processes serving S3 over the same drives and port (auto: one per core)',
      ).default(envValue(env, 'WORKERS') ?? 'auto'),
    )
    .addOption(
      new Option(
        '--certs-dir <dir>',
        'TLS certificates: public.crt and private.key (and SNI sub-folders); HTTPS when present',
      ).default(envValue(env, 'CERTS_DIR')),
    )
    .option('--quiet', 'no start banner')
    .addHelpText(
      'after',
      `
Drives:
  Each DRIVE is a directory (created on a brand-new deployment only). Up to 16 drives form one erasure
  set; more are cut into equal sets of 4 to 16. With no DRIVE, CAIRN_VOLUMES (MINIO_VOLUMES) is used.

Environment (each CAIRN_* variable also read as MINIO_*; CAIRN_* wins):
  CAIRN_ROOT_USER, CAIRN_ROOT_PASSWORD   root credentials (access key, secret key: 8 to 40 characters).
                                         With neither set, a pair is generated and printed at start;
                                         it changes at every start.
  CAIRN_ROOT_PASSWORD_PREVIOUS           the root password before a change: IAM secrets (encrypted
                                         under the root password) are re-encrypted at start
  CAIRN_REGION                           region the server answers for (default us-east-1)
  CAIRN_DOMAIN                           comma-separated domains for virtual-host style requests
  CAIRN_TRUSTED_PROXIES                  reverse proxies (CIDRs, comma-separated) whose X-Forwarded-For
                                         gives the client address for aws:SourceIp (default: none)
  CAIRN_ADDRESS, CAIRN_CONSOLE_ADDRESS   as --address, --console-address
  CAIRN_CERTS_DIR                        as --certs-dir (default ~/.cairn/certs, or ~/.minio/certs
                                         when only that exists)
  CAIRN_VOLUMES                          drives, when none are given as arguments
  CAIRN_WORKERS                          as --workers (default auto: one worker process per core)
  CAIRN_LOG_LEVEL                        info (default), warn, error, silent
  CAIRN_API_ODIRECT                      on (default): shard files bypass the page cache; off
  CAIRN_LISTING_CACHE_MB                 sorted listings of large directories kept per process
                                         (default 256; 0: off)
  UV_THREADPOOL_SIZE                     libuv thread pool size (default 32)

Health:
  GET /minio/health/live    200 while the process serves
  GET /minio/health/ready   200 when every erasure set has read quorum, else 503

Examples:
  cairn server ./data
  CAIRN_ROOT_USER=admin CAIRN_ROOT_PASSWORD=change-me-now cairn server /mnt/disk{1...4}
  cairn server --address 127.0.0.1:9000 --console-address '' /data{01...16}
`,
    )
    .action(async (drives: string[], flags: ServerFlags) => {
      await runServer(drives, flags, io);
    });
  addAdminCommand(program, io);
  return program;
}

/** Runs the command line; `argv` as `process.argv`. */
export async function main(argv: string[], io?: Partial<MainIO>): Promise<void> {
  const full: MainIO = {
    env: io?.env ?? process.env,
    stdout: io?.stdout ?? ((s) => process.stdout.write(s)),
    stderr: io?.stderr ?? ((s) => process.stderr.write(s)),
    exit: io?.exit ?? ((code) => process.exit(code)),
    ...(io?.signals ? { signals: io.signals } : {}),
  };
  // A worker of a node, forked by the primary (`startServer` in ./server/cluster/node): it serves.
  if (isNodeWorker()) {
    await runWorker();
    return;
  }
  const program = buildProgram(full);
  if (argv.length <= 2) {
    full.stdout(program.helpInformation());
    full.exit(EXIT_USAGE);
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      full.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
      return;
    }
    full.stderr(`cairn: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    full.exit(EXIT_START_FAILED);
  }
}
