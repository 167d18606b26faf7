/**
 * A node on several worker processes: the coordination protocol in-process (primary host, worker
 * clients), then the real thing: `bin/cairn.js server --workers 2`, with writers raced across
 * workers over fresh connections (the primary hands each connection to the next worker).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import aws4 from 'aws4';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalCoordinator } from '../../src/erasure/coordinator';
import { isObjectError } from '../../src/object/errors';
import { RemoteCoordinator } from '../../src/server/cluster/client';
import { CoordinatorHost } from '../../src/server/cluster/host';
import type { Channel, PrimaryMessage, WorkerMessage } from '../../src/server/cluster/protocol';
import { objectPath } from '../../src/storage/paths';

const ROOT = path.join(__dirname, '..', '..');
const settle = () => new Promise<void>((r) => setTimeout(r, 20));

// --- the protocol, in one process ------------------------------------------------------------------

/** A primary with `n` workers joined by asynchronous JSON channels, as IPC would. */
function fakeNode(n: number) {
  const local = new LocalCoordinator();
  const degraded: string[] = [];
  const host = new CoordinatorHost(local, { onDegraded: (b, k) => degraded.push(`${b}/${k}`) });
  const workers = Array.from({ length: n }, (_, i) => {
    const toWorker: ((m: PrimaryMessage) => void)[] = [];
    const toHost: ((m: WorkerMessage) => void)[] = [];
    const deliver = <M>(fns: ((m: M) => void)[], m: M) => {
      const copy = JSON.parse(JSON.stringify(m)) as M;
      setImmediate(() => {
        for (const f of fns) f(copy);
      });
    };
    const hostSide: Channel<WorkerMessage, PrimaryMessage> = {
      send: (m) => deliver(toWorker, m),
      onMessage: (fn) => toHost.push(fn),
    };
    const workerSide: Channel<PrimaryMessage, WorkerMessage> = {
      send: (m) => deliver(toHost, m),
      onMessage: (fn) => toWorker.push(fn),
    };
    host.attach(i + 1, hostSide);
    return new RemoteCoordinator(workerSide);
  });
  return { local, host, workers, degraded };
}

test('workers: a write lock is held against every other worker and the primary', async () => {
  const { local, workers } = fakeNode(2);
  const [a, b] = workers as [RemoteCoordinator, RemoteCoordinator];
  const relA = await a.lock('bkt/key', 'write');
  let bGot = false;
  const bLock = b.lock('bkt/key', 'read').then((r) => {
    bGot = true;
    return r;
  });
  await settle(); // b's request reaches the primary first
  let primaryGot = false;
  const pLock = local.lock('bkt/key', 'write').then((r) => {
    primaryGot = true;
    return r;
  });
  await settle();
  assert.is(bGot, false, 'a reader in another worker waits');
  assert.is(primaryGot, false, 'the primary (heal) waits');
  relA();
  const relB = await bLock;
  await settle();
  assert.is(primaryGot, false, 'the reader asked first and holds it; the writer waits');
  relB();
  (await pLock)();
});

test('workers: several resources at once, and a timeout is OperationTimedOut in the worker', async () => {
  const { workers } = fakeNode(2);
  const [a, b] = workers as [RemoteCoordinator, RemoteCoordinator];
  const rel = await a.lockMany(['bkt/x', 'bkt/y']);
  const err = await b.lock('bkt/y', 'write', 50).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(isObjectError(err, 'OperationTimedOut'), String(err));
  rel();
  (await b.lockMany([{ resource: 'bkt/y', mode: 'read' }, 'bkt/x'], 'write', 1000))();
});

test('workers: a worker that goes away gives back what it held and what it waited for', async () => {
  const { host, workers, local } = fakeNode(2);
  const [a, b] = workers as [RemoteCoordinator, RemoteCoordinator];
  await a.lock('bkt/k1', 'write');
  const rel2 = await b.lock('bkt/k2', 'write');
  void a.lock('bkt/k2', 'write'); // waits behind b
  await settle();
  assert.is(host.heldCount, 2);
  host.detach(1); // worker a exits (crash): k1 free, and a's place in k2's queue is gone
  (await local.lock('bkt/k1', 'write', 1000))();
  rel2();
  (await local.lock('bkt/k2', 'write', 1000))();
  assert.is(host.heldCount, 0);
});

test('workers: an overwrite in one worker waits for the streams of another before deleting', async () => {
  const { workers, local } = fakeNode(2);
  const [a, b] = workers as [RemoteCoordinator, RemoteCoordinator];
  const end1 = a.streamStart('bkt\0k\0dd1');
  const end2 = a.streamStart('bkt\0k\0dd1');
  await settle();
  const s = await b.streamState('bkt\0k\0dd1');
  assert.is(s.idle, false);
  let done = false;
  if (!s.idle) void s.done.then(() => (done = true));
  end1();
  await settle();
  assert.is(done, false, 'one stream of the data dir is still open');
  end2();
  await settle();
  assert.is(done, true);
  assert.is((await b.streamState('bkt\0k\0dd1')).idle, true);
  assert.is(local.streams.size, 0);
});

test('workers: publish resolves once every other worker has handled the event', async () => {
  const { workers, host } = fakeNode(3);
  const [a, b, c] = workers as [RemoteCoordinator, RemoteCoordinator, RemoteCoordinator];
  const seen: string[] = [];
  let releaseC: () => void = () => {};
  b.subscribe((e) => {
    seen.push(`b:${e.kind}`);
  });
  c.subscribe(
    (e) =>
      new Promise<void>((r) => {
        releaseC = () => {
          seen.push(`c:${e.kind}`);
          r();
        };
      }),
  );
  let published = false;
  const p = a.publish({ kind: 'iam', paths: ['iam/users/x.json'] }).then(() => (published = true));
  await settle();
  assert.equal(seen, ['b:iam']);
  assert.is(published, false, 'c has not handled it yet');
  releaseC();
  await p;
  assert.equal(seen, ['b:iam', 'c:iam']);
  // A worker that exits does not hold a publisher up.
  let slow = false;
  c.subscribe(() => new Promise<void>(() => {}));
  const q = a.publish({ kind: 'bucketConfig', paths: ['buckets/b/policy'] }).then(() => (slow = true));
  await settle();
  assert.is(slow, false);
  host.detach(3);
  await q;
});

// --- a real node: bin/cairn.js server --workers 2 ---------------------------------------------------

interface Node {
  port: number;
  child: ChildProcess;
  base: string;
  drives: string[];
  stderr: () => string;
  stop(): Promise<void>;
}

const USER = 'workersroot';
const PASS = 'workers-secret-key-1';

async function startNode(workers = 2): Promise<Node> {
  const base = await mkdtemp(path.join(tmpdir(), 'cairn-workers-'));
  const drives = [1, 2, 3, 4].map((i) => path.join(base, `d${i}`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAIRN_FROM_SOURCE: '1',
    CAIRN_LOG_LEVEL: 'warn',
    CAIRN_ROOT_USER: USER,
    CAIRN_ROOT_PASSWORD: PASS,
  };
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'cairn.js'),
      'server',
      '--address',
      '127.0.0.1:0',
      '--console-address',
      '',
      '--workers',
      String(workers),
      ...drives,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 60 s: ${out}\n${err}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /S3 API: +http:\/\/127\.0\.0\.1:(\d+)[\s\S]*Workers: +(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        assert.is(Number(m[2]), workers);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}: ${out}\n${err}`));
    });
  });
  return {
    port,
    child,
    base,
    drives,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
        child.kill('SIGTERM');
        assert.is(await exited, 0, err);
      }
      await rm(base, { recursive: true, force: true });
    },
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a connection of its own (so the primary hands it to the next worker). */
function req(
  node: Node,
  method: string,
  p: string,
  opts: {
    body?: Buffer | string;
    headers?: Record<string, string>;
    creds?: { accessKeyId: string; secretAccessKey: string } | null;
    onBody?: (res: http.IncomingMessage) => void;
    /** Gives up (rejects) after this long without an answer. */
    timeoutMs?: number;
  } = {},
): Promise<Answer> {
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.creds !== null) {
    const signed = aws4.sign(
      {
        host: `127.0.0.1:${node.port}`,
        method,
        path: p,
        headers,
        ...(body ? { body } : {}),
        service: 's3',
        region: 'us-east-1',
      },
      opts.creds ?? { accessKeyId: USER, secretAccessKey: PASS },
    );
    Object.assign(headers, signed.headers);
  }
  return new Promise((resolve, reject) => {
    const r = http.request(
      { host: '127.0.0.1', port: node.port, method, path: p, headers, agent: false },
      (res) => {
        if (opts.onBody) opts.onBody(res);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    if (opts.timeoutMs) r.setTimeout(opts.timeoutMs, () => r.destroy(new Error('no answer in time')));
    r.end(body);
  });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

test('node: conditional creates raced across workers: exactly one wins each key', async () => {
  const node = await startNode();
  try {
    assert.is((await req(node, 'PUT', '/race')).status, 200);
    for (let k = 0; k < 6; k++) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          req(node, 'PUT', `/race/key${k}`, { body: `writer ${i}`, headers: { 'if-none-match': '*' } }),
        ),
      );
      const statuses = answers.map((a) => a.status).sort();
      assert.is(statuses.filter((s) => s === 200).length, 1, `key${k}: ${statuses.join(',')}`);
      assert.ok(
        statuses.every((s) => s === 200 || s === 412),
        `key${k}: ${statuses.join(',')}`,
      );
    }
  } finally {
    await node.stop();
  }
});

test('node: overwrites and reads raced across workers: whole bodies only, old data dirs removed', async () => {
  const node = await startNode();
  try {
    assert.is((await req(node, 'PUT', '/over')).status, 200);
    const bodies = Array.from({ length: 6 }, () =>
      randomBytes(1_500_000 + Math.floor(Math.random() * 500_000)),
    );
    const sums = new Set(bodies.map(md5));
    await req(node, 'PUT', '/over/obj', { body: bodies[0]! });
    const reads: Promise<Answer>[] = [];
    const writes = bodies.map(async (b, i) => {
      reads.push(req(node, 'GET', '/over/obj'));
      const a = await req(node, 'PUT', '/over/obj', {
        body: b,
        headers: { 'content-md5': createHash('md5').update(b).digest('base64') },
      });
      assert.is(a.status, 200, `writer ${i}: ${a.body}`);
    });
    await Promise.all(writes);
    for (const r of await Promise.all(reads)) {
      assert.is(r.status, 200, r.body.toString());
      assert.ok(sums.has(md5(r.body)), 'a read returned a body no writer wrote');
    }
    const last = await Promise.all(Array.from({ length: 4 }, () => req(node, 'GET', '/over/obj')));
    assert.is(new Set(last.map((r) => md5(r.body))).size, 1, 'reads disagree');
    // Every drive keeps one data dir for the one version left (replaced ones were deleted).
    await settle();
    for (const d of node.drives) {
      const entries = await readdir(path.join(d, 'over', objectPath('obj')));
      assert.is(entries.filter((e) => e !== 'cairn.meta').length, 1, `${d}: ${entries.join(' ')}`);
    }
  } finally {
    await node.stop();
  }
});

test('node: a slow GET in one worker keeps its bytes while other workers overwrite the key', async () => {
  const node = await startNode();
  try {
    assert.is((await req(node, 'PUT', '/slow')).status, 200);
    // Multipart: each part's shard files are opened when the GET reaches that part, after the
    // overwrites below, so only the stream registry keeps them on the drives.
    const parts = [randomBytes(16 << 20), randomBytes(16 << 20), randomBytes(16 << 20)];
    const original = Buffer.concat(parts);
    const init = await req(node, 'POST', '/slow/big?uploads');
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString())![1]!;
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const r = await req(
        node,
        'PUT',
        `/slow/big?partNumber=${i + 1}&uploadId=${encodeURIComponent(uploadId)}`,
        {
          body: part,
        },
      );
      assert.is(r.status, 200, r.body.toString());
      etags.push(String(r.headers.etag));
    }
    const xml = `<CompleteMultipartUpload>${etags
      .map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`)
      .join('')}</CompleteMultipartUpload>`;
    const done = await req(node, 'POST', `/slow/big?uploadId=${encodeURIComponent(uploadId)}`, { body: xml });
    assert.is(done.status, 200, done.body.toString());
    let resume: () => void = () => {};
    const paused = new Promise<void>((r) => {
      resume = r;
    });
    const get = req(node, 'GET', '/slow/big', {
      onBody: (res) => {
        res.pause();
        void paused.then(() => res.resume());
      },
    });
    await settle();
    // Several overwrites over fresh connections: some land on the other worker.
    for (let i = 0; i < 4; i++) {
      assert.is((await req(node, 'PUT', '/slow/big', { body: randomBytes(3 << 20) })).status, 200);
    }
    resume();
    const got = await get;
    assert.is(got.status, 200);
    assert.is(got.body.length, original.length, 'the stream was cut short');
    assert.is(md5(got.body), md5(original), 'the stream lost its data dir to an overwrite');
  } finally {
    await node.stop();
  }
});

test('node: IAM and bucket policy changes in one worker hold at once in every worker', async () => {
  const node = await startNode();
  try {
    assert.is((await req(node, 'PUT', '/shared')).status, 200);
    await req(node, 'PUT', '/shared/doc', { body: 'public?' });
    for (let i = 0; i < 3; i++) {
      const name = `alice${i}`;
      const secret = `alice-secret-${i}-xyz`;
      const made = await req(node, 'POST', '/cairn/admin/v1/users', {
        body: JSON.stringify({ accessKey: name, secretKey: secret, policies: ['readonly'] }),
        headers: { 'content-type': 'application/json' },
      });
      assert.is(made.status, 200, made.body.toString());
      const creds = { accessKeyId: name, secretAccessKey: secret };
      for (let j = 0; j < 4; j++) {
        const r = await req(node, 'GET', '/shared/doc', { creds });
        assert.is(r.status, 200, `new user, request ${j}: ${r.body}`);
      }
      const off = await req(node, 'PUT', `/cairn/admin/v1/users/${name}/status`, {
        body: JSON.stringify({ status: 'disabled' }),
        headers: { 'content-type': 'application/json' },
      });
      assert.is(off.status, 200, off.body.toString());
      for (let j = 0; j < 4; j++) {
        assert.is((await req(node, 'GET', '/shared/doc', { creds })).status, 403, `disabled, request ${j}`);
      }
    }
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' },
      ],
    });
    for (let i = 0; i < 2; i++) {
      assert.is((await req(node, 'PUT', '/shared?policy', { body: policy })).status, 204);
      for (let j = 0; j < 4; j++) {
        assert.is(
          (await req(node, 'GET', '/shared/doc', { creds: null })).status,
          200,
          `public, request ${j}`,
        );
      }
      assert.is((await req(node, 'DELETE', '/shared?policy')).status, 204);
      for (let j = 0; j < 4; j++) {
        assert.is(
          (await req(node, 'GET', '/shared/doc', { creds: null })).status,
          403,
          `private, request ${j}`,
        );
      }
    }
  } finally {
    await node.stop();
  }
});

test('node: a worker killed mid-flight is replaced and the node keeps serving', async () => {
  const node = await startNode();
  try {
    assert.is((await req(node, 'PUT', '/kill')).status, 200);
    const pids = await childPids(node.child.pid!);
    assert.is(pids.length, 2, 'two workers');
    process.kill(pids[0]!, 'SIGKILL');
    const deadline = Date.now() + 30_000;
    let ok = 0;
    while (ok < 6 && Date.now() < deadline) {
      // A connection the primary handed to the worker as it died is lost with it (Node's cluster
      // round robin): its client times out and retries, as S3 clients do.
      const r = await req(node, 'PUT', `/kill/k${ok}`, { body: 'after', timeoutMs: 3000 }).catch(() => null);
      if (r?.status === 200) ok++;
      else await settle();
    }
    assert.is(ok, 6, 'writes go on after a worker died');
    for (let i = 0; i < 6; i++) assert.is((await req(node, 'GET', `/kill/k${i}`)).body.toString(), 'after');
    let again = await childPids(node.child.pid!);
    while (again.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      again = await childPids(node.child.pid!);
    }
    assert.is(again.length, 2, 'the dead worker was started again');
    assert.match(node.stderr(), /worker exited; starting it again/);
  } finally {
    await node.stop();
  }
});

async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = await readFile(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

test.run();
