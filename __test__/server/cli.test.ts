import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT_START_FAILED, EXIT_USAGE, endpointsFor, generatedCredentialsPath, main } from '../../src/cli';
import { ConfigError, domains, listingCacheBytes, region, rootCredentials } from '../../src/server/config';
import { EllipsisError, expandDrives, expandEllipses } from '../../src/server/ellipses';
import { parseAddress } from '../../src/server/index';
import { spawnServerBinary, startServer } from '../helpers/server';

// --- ellipses -------------------------------------------------------------------------------------

test('ellipses: a plain path is itself', () => {
  assert.equal(expandEllipses('/data'), ['/data']);
  assert.equal(expandEllipses('/data{1..4}'), ['/data{1..4}']);
  assert.equal(expandEllipses('/data{a...d}'), ['/data{a...d}']);
});

test('ellipses: /data{1...4} is four drives', () => {
  assert.equal(expandEllipses('/data{1...4}'), ['/data1', '/data2', '/data3', '/data4']);
  assert.equal(expandEllipses('/d{0...1}/x'), ['/d0/x', '/d1/x']);
});

test('ellipses: zero padding as written', () => {
  const r = expandEllipses('/data{01...16}');
  assert.is(r.length, 16);
  assert.is(r[0], '/data01');
  assert.is(r[8], '/data09');
  assert.is(r[15], '/data16');
  assert.equal(expandEllipses('/d{001...003}'), ['/d001', '/d002', '/d003']);
  assert.equal(expandEllipses('/d{8...10}'), ['/d8', '/d9', '/d10']);
});

test('ellipses: several ranges multiply, the last one varying slowest (MinIO order)', () => {
  assert.equal(expandEllipses('/mnt/disk{1...2}/export{1...2}'), [
    '/mnt/disk1/export1',
    '/mnt/disk2/export1',
    '/mnt/disk1/export2',
    '/mnt/disk2/export2',
  ]);
  const all = expandEllipses('/mnt/disk{1...2}/export{1...8}');
  assert.is(all.length, 16);
  assert.is(new Set(all).size, 16);
  assert.equal(expandEllipses('http://host{1...2}:9000/d{1...3}').slice(0, 3), [
    'http://host1:9000/d1',
    'http://host2:9000/d1',
    'http://host1:9000/d2',
  ]);
});

test('ellipses: bad ranges and repeated drives are errors', () => {
  assert.throws(
    () => expandEllipses('/d{4...1}'),
    (e: unknown) => e instanceof EllipsisError,
  );
  assert.throws(
    () => expandEllipses('/d{1...1000000}'),
    (e: unknown) => e instanceof EllipsisError,
  );
  assert.throws(
    () => expandDrives(['/d{1...2}', '/d2']),
    (e: unknown) => e instanceof EllipsisError,
  );
  assert.equal(expandDrives(['/a{1...2}', '/b']), ['/a1', '/a2', '/b']);
});

// --- settings -------------------------------------------------------------------------------------

test('credentials: CAIRN_* or MINIO_*, CAIRN_* first; a generated pair without either', () => {
  assert.equal(rootCredentials({ CAIRN_ROOT_USER: 'admin', CAIRN_ROOT_PASSWORD: 'password1' }), {
    rootUser: 'admin',
    rootPassword: 'password1',
    generated: false,
  });
  assert.equal(rootCredentials({ MINIO_ROOT_USER: 'minio', MINIO_ROOT_PASSWORD: 'minio123' }), {
    rootUser: 'minio',
    rootPassword: 'minio123',
    generated: false,
  });
  // Compose files pass unset variables as empty strings: those count as unset.
  assert.is(
    rootCredentials({ CAIRN_ROOT_USER: '', MINIO_ROOT_USER: 'miniouser', MINIO_ROOT_PASSWORD: 'password1' })
      .rootUser,
    'miniouser',
  );
  assert.is(
    rootCredentials({
      CAIRN_ROOT_USER: 'cairnuser',
      MINIO_ROOT_USER: 'miniouser',
      MINIO_ROOT_PASSWORD: 'password1',
    }).rootUser,
    'cairnuser',
  );
});

test('CAIRN_LISTING_CACHE_MB: MiB, 0 for off, unset for the default; anything else a ConfigError', () => {
  assert.is(listingCacheBytes({}), undefined);
  assert.is(listingCacheBytes({ CAIRN_LISTING_CACHE_MB: '64' }), 64 * 1024 * 1024);
  assert.is(listingCacheBytes({ CAIRN_LISTING_CACHE_MB: '0' }), 0);
  for (const bad of ['-1', '1.5', 'lots', '64MiB']) {
    assert.throws(
      () => listingCacheBytes({ CAIRN_LISTING_CACHE_MB: bad }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('CAIRN_LISTING_CACHE_MB'),
    );
  }
});

test('credentials: generated ones differ every time and are never a fixed default', () => {
  const a = rootCredentials({});
  const b = rootCredentials({});
  assert.ok(a.generated && b.generated);
  assert.is.not(a.rootPassword, b.rootPassword);
  assert.is.not(a.rootUser, b.rootUser);
  assert.ok(/^[A-Za-z0-9]{40}$/.test(a.rootPassword));
  assert.ok(a.rootUser.length >= 3);
});

test('credentials: half a pair, a short user or a short secret is a ConfigError', () => {
  assert.throws(
    () => rootCredentials({ CAIRN_ROOT_USER: 'admin' }),
    (e: unknown) => e instanceof ConfigError,
  );
  assert.throws(
    () => rootCredentials({ MINIO_ROOT_PASSWORD: 'password1' }),
    (e: unknown) => e instanceof ConfigError,
  );
  assert.throws(
    () => rootCredentials({ CAIRN_ROOT_USER: 'ad', CAIRN_ROOT_PASSWORD: 'password1' }),
    (e: unknown) => e instanceof ConfigError,
  );
  assert.throws(
    () => rootCredentials({ CAIRN_ROOT_USER: 'admin', CAIRN_ROOT_PASSWORD: 'short' }),
    (e: unknown) => e instanceof ConfigError,
  );
});

test('region and domains from the environment', () => {
  assert.is(region({}), 'us-east-1');
  assert.is(region({ MINIO_REGION: 'eu-west-1' }), 'eu-west-1');
  assert.is(region({ CAIRN_REGION: 'ap-south-1', MINIO_REGION: 'eu-west-1' }), 'ap-south-1');
  assert.throws(
    () => region({ CAIRN_REGION: 'bad region' }),
    (e: unknown) => e instanceof ConfigError,
  );
  assert.equal(domains({ CAIRN_DOMAIN: 'S3.Example.com, b.example.org' }), [
    's3.example.com',
    'b.example.org',
  ]);
  assert.equal(domains({ MINIO_DOMAIN: 'x.test' }, ['y.test']), ['x.test', 'y.test']);
  assert.throws(
    () => domains({ CAIRN_DOMAIN: 'bad domain' }),
    (e: unknown) => e instanceof ConfigError,
  );
});

test('addresses', () => {
  assert.equal(parseAddress(':9000'), { port: 9000 });
  assert.equal(parseAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.equal(parseAddress('[::1]:9000'), { host: '::1', port: 9000 });
  assert.throws(() => parseAddress('9000'));
  assert.throws(() => parseAddress(':99999'));
  assert.equal(endpointsFor('127.0.0.1:9000'), ['http://127.0.0.1:9000']);
  assert.is(endpointsFor('0.0.0.0:9000')[0], 'http://127.0.0.1:9000');
});

// --- main() ---------------------------------------------------------------------------------------

async function run(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  let code: number | undefined;
  await main(['node', 'cairn', ...args], {
    env,
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    exit: (c) => {
      code = c;
    },
  });
  return { out, err, code };
}

test('main: no drives is a usage error', async () => {
  const r = await run(['server', '--quiet']);
  assert.is(r.code, EXIT_USAGE);
  assert.match(r.err, 'no drives');
});

test('main: half a credential pair is a usage error', async () => {
  const r = await run(['server', '/tmp/x'], { CAIRN_ROOT_USER: 'admin' });
  assert.is(r.code, EXIT_USAGE);
  assert.match(r.err, 'CAIRN_ROOT_PASSWORD');
});

test('main: --help lists the options and the environment', async () => {
  const r = await run(['server', '--help']);
  assert.is(r.code, 0);
  for (const s of ['--address', '--console-address', '--domain', 'CAIRN_ROOT_USER', 'MINIO_', '{1...4}']) {
    assert.match(r.out, s);
  }
});

test('main: a drive of another deployment stops the start with exit code 1', async () => {
  const a = await startServer({ drives: 2 });
  const b = await startServer({ drives: 2 });
  const mixed = [a.roots[0]!, b.roots[1]!];
  await a.server.close();
  await b.server.close();
  try {
    const r = await run(
      ['server', '--quiet', '--address', '127.0.0.1:0', '--console-address', '', ...mixed],
      {
        CAIRN_LOG_LEVEL: 'silent',
      },
    );
    assert.is(r.code, EXIT_START_FAILED);
    assert.match(r.err, 'cannot start');
  } finally {
    await a.stop();
    await b.stop();
  }
});

// --- the real binary ------------------------------------------------------------------------------

function waitFor(child: ChildProcess, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timed out; output: ${out}`)), ms);
    const on = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', on);
        resolve(m);
      }
    };
    child.stdout?.on('data', on);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}; output: ${out}`));
    });
  });
}

test('bin/cairn.js server: prints the login, answers health, exits cleanly on SIGTERM', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cairn-bin-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_FROM_SOURCE: '1', CAIRN_LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (/^(CAIRN|MINIO)_ROOT_/.test(k)) delete env[k];
  const child = spawnServerBinary(path.join(dir, 'd{1...4}'), env);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  try {
    const m = await waitFor(
      child,
      /S3 API: +(http:\/\/127\.0\.0\.1:\d+)[\s\S]*Console: +(\S+)[\s\S]*RootUser: (\S+)\nRootPass: (\S+)[\s\S]*s3 ls/,
      60_000,
    );
    const [, endpoint, consoleUrl, user, pass] = m;
    assert.ok(user!.length >= 3);
    assert.is(pass!.length, 40);
    const live = await fetch(`${endpoint}/minio/health/live`);
    assert.is(live.status, 200);
    const page = await fetch(consoleUrl!);
    assert.is(page.status, 200);
    assert.match(await page.text(), 'console');
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await exited;
    assert.is(code, 0, stderr);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('main: generated credentials are kept on the first drive and reused at the next start', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cairn-gen-'));
  const drives = [path.join(dir, 'd1'), path.join(dir, 'd2')];
  const logins: string[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const signals = new EventEmitter();
      let out = '';
      let exited: (code: number) => void = () => {};
      const done = new Promise<number>((resolve) => {
        exited = resolve;
      });
      await main(
        ['node', 'cairn', 'server', '--address', '127.0.0.1:0', '--console-address', '', ...drives],
        {
          env: { CAIRN_LOG_LEVEL: 'silent' },
          stdout: (s) => {
            out += s;
          },
          stderr: () => {},
          exit: (c) => exited(c),
          signals,
        },
      );
      const m = /RootUser: (\S+)\nRootPass: (\S+)/.exec(out);
      assert.ok(m, out);
      logins.push(`${m[1]}:${m[2]}`);
      assert.match(out, generatedCredentialsPath(drives[0]!));
      signals.emit('SIGTERM');
      assert.is(await done, 0);
    }
    assert.is(logins[0], logins[1]);
    const st = await stat(generatedCredentialsPath(drives[0]!));
    assert.is(st.mode & 0o077, 0, 'only the owner may read the kept credentials');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.run();
