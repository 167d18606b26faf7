/**
 * HTTPS from a certificates directory laid out as MinIO's: the SDK over TLS, SNI sub-folders,
 * reload of renewed files without a restart, refusals of broken files. Certificates are made by
 * `openssl` for each test run.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT_USAGE, endpointsFor, main } from '../../src/cli';
import { certsDirFor, loadCertificates, TlsConfigError } from '../../src/server/tls';
import { spawnServerBinary, startServer } from '../helpers/server';

const work = mkdtempSync(path.join(tmpdir(), 'cairn-tls-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

/** A self-signed certificate for `names` (DNS names, or IPs) in `dir`, as public.crt/private.key. */
function makeCert(dir: string, cn: string, names: string[]): { cert: string; fingerprint: string } {
  mkdirSync(dir, { recursive: true });
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${san}`,
      '-keyout',
      path.join(dir, 'private.key'),
      '-out',
      path.join(dir, 'public.crt'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(path.join(dir, 'public.crt'), 'utf8');
  return { cert, fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** The certificate the server presents to a client asking for `servername`. */
function presented(port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      ...(servername ? { servername } : {}),
    });
    s.once('secureConnect', () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.destroy();
    });
    s.once('error', reject);
  });
}

test('HTTPS: the SDK puts and gets over TLS with the certificate it trusts; plain HTTP is not served', async () => {
  const dir = path.join(work, 'basic');
  const { cert } = makeCert(dir, 'localhost', ['localhost', '127.0.0.1']);
  const srv = await startServer({ server: { certsDir: dir }, ca: cert });
  try {
    assert.ok(srv.server.secure);
    assert.ok(srv.endpoint.startsWith('https://'));
    await srv.s3.send(new CreateBucketCommand({ Bucket: 'tls' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: 'tls', Key: 'k', Body: 'over tls' }));
    const got = await srv.s3.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }));
    assert.is(await got.Body!.transformToString(), 'over tls');
    // Health over https too.
    const live = await tlsGet(srv.port, cert, '/minio/health/live');
    assert.is(live, 200);
    // A plain HTTP request to the TLS port gets no HTTP answer.
    const plain = await fetch(`http://127.0.0.1:${srv.port}/minio/health/live`).then(
      (r) => r.status,
      () => 'failed',
    );
    assert.is(plain, 'failed');
  } finally {
    await srv.stop();
  }
});

test('SNI: a sub-folder serves the names of its certificate, the top one everything else', async () => {
  const dir = path.join(work, 'sni');
  const main = makeCert(dir, 'localhost', ['localhost', '127.0.0.1']);
  const other = makeCert(path.join(dir, 'other'), 's3.other.test', ['s3.other.test', '*.wild.test']);
  // CAs/ is for outgoing calls: a certificate there is never served.
  makeCert(path.join(dir, 'CAs'), 'ca.test', ['ca.test']);
  const srv = await startServer({ server: { certsDir: dir }, ca: main.cert });
  try {
    assert.is(await presented(srv.port, 's3.other.test'), other.fingerprint);
    assert.is(await presented(srv.port, 'bucket.wild.test'), other.fingerprint);
    assert.is(await presented(srv.port, 'localhost'), main.fingerprint);
    assert.is(await presented(srv.port, 'ca.test'), main.fingerprint);
    assert.is(await presented(srv.port), main.fingerprint);
  } finally {
    await srv.stop();
  }
});

test('reload: renewed files are served to new connections without a restart; a broken renewal is not', async () => {
  const dir = path.join(work, 'reload');
  const first = makeCert(dir, 'localhost', ['localhost', '127.0.0.1']);
  const srv = await startServer({ server: { certsDir: dir, certReloadMs: 50 }, ca: first.cert });
  try {
    assert.is(await presented(srv.port), first.fingerprint);
    const staging = path.join(work, 'reload-next');
    const second = makeCert(staging, 'localhost', ['localhost', '127.0.0.1']);
    writeFileSync(path.join(dir, 'private.key'), readFileSync(path.join(staging, 'private.key')));
    writeFileSync(path.join(dir, 'public.crt'), second.cert);
    let now = first.fingerprint;
    for (let i = 0; i < 100 && now !== second.fingerprint; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await presented(srv.port);
    }
    assert.is(now, second.fingerprint);
    assert.is(await presented(srv.port, 'localhost'), second.fingerprint);
    // A key that does not belong to the certificate: logged, and the last good pair stays.
    writeFileSync(path.join(dir, 'private.key'), readFileSync(path.join(work, 'basic', 'private.key')));
    await new Promise((r) => setTimeout(r, 300));
    assert.is(await presented(srv.port), second.fingerprint);
  } finally {
    await srv.stop();
  }
});

test('broken or half certificate directories are refused with the reason; none means plain HTTP', () => {
  const half = path.join(work, 'half');
  makeCert(half, 'localhost', ['localhost']);
  rmSync(path.join(half, 'private.key'));
  assert.throws(
    () => loadCertificates(half),
    (e: unknown) => e instanceof TlsConfigError && /private\.key is missing/.test((e as Error).message),
  );
  const mismatch = path.join(work, 'mismatch');
  makeCert(mismatch, 'localhost', ['localhost']);
  writeFileSync(path.join(mismatch, 'private.key'), readFileSync(path.join(work, 'basic', 'private.key')));
  assert.throws(
    () => loadCertificates(mismatch),
    (e: unknown) => e instanceof TlsConfigError && /is not the key of/.test((e as Error).message),
  );
  const notPem = path.join(work, 'notpem');
  mkdirSync(notPem);
  writeFileSync(path.join(notPem, 'public.crt'), 'hello');
  writeFileSync(path.join(notPem, 'private.key'), 'world');
  assert.throws(
    () => loadCertificates(notPem),
    (e: unknown) => e instanceof TlsConfigError,
  );
  const onlySub = path.join(work, 'only-sub');
  makeCert(path.join(onlySub, 'a'), 'a.test', ['a.test']);
  assert.throws(
    () => loadCertificates(onlySub),
    (e: unknown) => e instanceof TlsConfigError,
  );
  const empty = path.join(work, 'empty');
  mkdirSync(path.join(empty, 'CAs'), { recursive: true });
  assert.is(loadCertificates(empty), undefined);
  assert.is(loadCertificates(path.join(work, 'missing')), undefined);
});

test('the certificates directory: the flag, else ~/.cairn/certs, or ~/.minio/certs when only that exists', () => {
  const home = path.join(work, 'home');
  mkdirSync(path.join(home, '.minio', 'certs'), { recursive: true });
  assert.is(certsDirFor(undefined, home), path.join(home, '.minio', 'certs'));
  mkdirSync(path.join(home, '.cairn', 'certs'), { recursive: true });
  assert.is(certsDirFor(undefined, home), path.join(home, '.cairn', 'certs'));
  assert.is(certsDirFor('/etc/cairn/certs', home), '/etc/cairn/certs');
  assert.equal(endpointsFor('127.0.0.1:9000', 'https'), ['https://127.0.0.1:9000']);
});

/** GET `path` over TLS, trusting `ca`: the status. */
function tlsGet(port: number, ca: string, pathname: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      s.write(`GET ${pathname} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    });
    let raw = '';
    s.on('data', (d) => {
      raw += d;
    });
    s.on('end', () => resolve(Number(raw.split(' ')[1])));
    s.on('error', reject);
  });
}

test('bin/cairn.js server --workers 2 with CAIRN_CERTS_DIR: an https banner, TLS in every worker', async () => {
  const dir = path.join(work, 'bin-certs');
  const { cert } = makeCert(dir, 'localhost', ['localhost', '127.0.0.1']);
  const drives = path.join(work, 'bin-drives');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAIRN_FROM_SOURCE: '1',
    CAIRN_LOG_LEVEL: 'warn',
    CAIRN_CERTS_DIR: dir,
    CAIRN_ROOT_USER: 'tlsadmin',
    CAIRN_ROOT_PASSWORD: 'tls-secret-123',
  };
  const child = spawnServerBinary(path.join(drives, 'd{1...4}'), env, ['--workers', '2']);
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no banner: ${out}`)), 90_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (/RootUser/.test(out)) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    const port = Number(/S3 API: +https:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
    const consolePort = Number(/Console: +https:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1]);
    assert.ok(port > 0 && consolePort > 0, banner);
    // Several connections: the workers take them in turn, each with the certificate.
    for (let i = 0; i < 4; i++) assert.is(await tlsGet(port, cert, '/minio/health/live'), 200);
    assert.is(await tlsGet(consolePort, cert, '/'), 200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.is(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('main: a --certs-dir that does not exist, or holds half a pair, stops the start with the reason', async () => {
  const half = path.join(work, 'half-main');
  makeCert(half, 'localhost', ['localhost']);
  rmSync(path.join(half, 'public.crt'));
  for (const [dir, reason] of [
    [path.join(work, 'nowhere'), 'does not exist'],
    [half, 'public.crt is missing'],
  ] as const) {
    let err = '';
    let code: number | undefined;
    await main(['node', 'cairn', 'server', '--quiet', '--certs-dir', dir, path.join(work, 'unused-drive')], {
      env: { CAIRN_LOG_LEVEL: 'silent' },
      stdout: () => {},
      stderr: (s) => {
        err += s;
      },
      exit: (c) => {
        code = c;
      },
    });
    assert.is(code, EXIT_USAGE);
    assert.match(err, reason);
  }
});

test.run();
