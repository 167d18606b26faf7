import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import { NamespaceLock } from '../../src/erasure/nslock';
import { isObjectError } from '../../src/object/errors';

/** Lets every queued microtask and immediate run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

test('readers share a resource; a writer has it alone', async () => {
  const ns = new NamespaceLock();
  const r1 = await ns.lock('b/k', 'read');
  const r2 = await ns.lock('b/k', 'read');
  let wrote = false;
  const w = ns.lock('b/k', 'write').then((rel) => {
    wrote = true;
    return rel;
  });
  await settle();
  assert.equal(wrote, false, 'the writer waits for both readers');
  r1();
  await settle();
  assert.equal(wrote, false);
  r2();
  const relW = await w;
  assert.equal(wrote, true);
  let read = false;
  const r3 = ns.lock('b/k', 'read').then((rel) => {
    read = true;
    return rel;
  });
  await settle();
  assert.equal(read, false, 'a reader waits for the writer');
  relW();
  (await r3)();
  assert.equal(ns.size, 0);
});

test('different resources do not block each other', async () => {
  const ns = new NamespaceLock();
  const a = await ns.lock('b/a', 'write');
  const b = await ns.lock('b/b', 'write');
  assert.equal(ns.size, 2);
  a();
  b();
  assert.equal(ns.size, 0);
});

test('waiters are served in order; a waiting writer holds back later readers', async () => {
  const ns = new NamespaceLock();
  const order: string[] = [];
  const first = await ns.lock('k', 'read');
  const take = (name: string, mode: 'read' | 'write') =>
    ns.lock('k', mode).then((rel) => {
      order.push(name);
      return rel;
    });
  const w1 = take('w1', 'write');
  const r1 = take('r1', 'read'); // would fit beside `first`, but w1 came first
  const r2 = take('r2', 'read');
  const w2 = take('w2', 'write');
  const r3 = take('r3', 'read');
  await settle();
  assert.deepEqual(order, []);
  first();
  (await w1)();
  // r1 and r2 are let in together, w2 waits for both
  const [rel1, rel2] = await Promise.all([r1, r2]);
  await settle();
  assert.deepEqual(order, ['w1', 'r1', 'r2']);
  rel1();
  await settle();
  assert.deepEqual(order, ['w1', 'r1', 'r2']);
  rel2();
  (await w2)();
  (await r3)();
  assert.deepEqual(order, ['w1', 'r1', 'r2', 'w2', 'r3']);
  assert.equal(ns.size, 0);
});

test('a writer is not starved by a stream of readers', async () => {
  const ns = new NamespaceLock();
  let writerDone = false;
  let readsAfterWriterAsked = 0;
  let writerAsked = false;
  const reader = async () => {
    for (let i = 0; i < 50; i++) {
      const rel = await ns.lock('hot', 'read');
      if (writerAsked && !writerDone) readsAfterWriterAsked++;
      await sleep(0);
      rel();
    }
  };
  const readers = [reader(), reader(), reader()];
  await sleep(2);
  writerAsked = true;
  const rel = await ns.lock('hot', 'write');
  writerDone = true;
  rel();
  await Promise.all(readers);
  // only readers that were already in (at most one round each) get in ahead of the writer
  assert.ok(readsAfterWriterAsked <= 3, `${readsAfterWriterAsked} reads overtook the writer`);
  assert.equal(ns.size, 0);
});

test('a timed-out wait rejects with OperationTimedOut and leaves no trace', async () => {
  const ns = new NamespaceLock();
  const held = await ns.lock('k', 'write');
  const t0 = Date.now();
  await assert.rejects(ns.lock('k', 'read', 30), (e: unknown) => isObjectError(e, 'OperationTimedOut'));
  assert.ok(Date.now() - t0 >= 25);
  await assert.rejects(ns.lock('k', 'write', 0), (e: unknown) => isObjectError(e, 'OperationTimedOut'));
  held();
  assert.equal(ns.size, 0, 'nothing left once the holder is gone');
  // the timed-out waiters were never granted: a writer gets in at once
  (await ns.lock('k', 'write', 10))();
  // a grant cancels the timer: no late rejection
  const h2 = await ns.lock('k', 'write');
  const p = ns.lock('k', 'write', 50);
  h2();
  (await p)();
  await sleep(70);
  assert.equal(ns.size, 0);
});

test('a writer timing out at the head of the queue lets the readers behind it in', async () => {
  const ns = new NamespaceLock();
  const reading = await ns.lock('k', 'read');
  const writer = ns.lock('k', 'write', 20);
  let readerIn = false;
  const reader = ns.lock('k', 'read').then((rel) => {
    readerIn = true;
    return rel;
  });
  await settle();
  assert.equal(readerIn, false, 'held back by the waiting writer');
  await assert.rejects(writer, (e: unknown) => isObjectError(e, 'OperationTimedOut'));
  (await reader)();
  assert.equal(readerIn, true);
  reading();
  assert.equal(ns.size, 0);
});

test('release is idempotent', async () => {
  const ns = new NamespaceLock();
  const r1 = await ns.lock('k', 'read');
  const r2 = await ns.lock('k', 'read');
  r1();
  r1(); // must not release r2's share
  let wrote = false;
  const w = ns.lock('k', 'write').then((rel) => {
    wrote = true;
    return rel;
  });
  await settle();
  assert.equal(wrote, false);
  r2();
  (await w)();
  assert.equal(ns.size, 0);
});

test('no growth after 100,000 lock/unlock cycles on distinct keys', async () => {
  const ns = new NamespaceLock();
  for (let i = 0; i < 100_000; i++) {
    const rel = await ns.lock(`bucket/key-${i}`, i % 3 === 0 ? 'write' : 'read');
    rel();
  }
  assert.equal(ns.size, 0);
  // and with contention and timeouts mixed in
  const held = await Promise.all(Array.from({ length: 1000 }, (_, i) => ns.lock(`c/${i}`, 'write')));
  const waits = Array.from({ length: 1000 }, (_, i) => ns.lock(`c/${i}`, 'read', 1).catch((e: unknown) => e));
  for (const e of await Promise.all(waits)) assert.ok(isObjectError(e, 'OperationTimedOut'));
  for (const rel of held) rel();
  assert.equal(ns.size, 0);
});

test('50 concurrent readers and writers on one key always see consistent state', async () => {
  const ns = new NamespaceLock();
  let readers = 0;
  let writers = 0;
  // the "object": a writer sets both halves, yielding between them; a reader must never see a torn pair
  const state = { a: 0, b: 0 };
  let maxReaders = 0;
  const worker = async (id: number) => {
    for (let round = 0; round < 20; round++) {
      if ((id + round) % 4 === 0) {
        const rel = await ns.lock('b/obj', 'write');
        writers++;
        assert.equal(writers, 1);
        assert.equal(readers, 0);
        const v = state.a + 1;
        state.a = v;
        await sleep(0);
        state.b = v;
        writers--;
        rel();
      } else {
        const rel = await ns.lock('b/obj', 'read');
        readers++;
        maxReaders = Math.max(maxReaders, readers);
        assert.equal(writers, 0);
        await sleep(0);
        assert.equal(state.a, state.b, 'a reader saw a half-done write');
        readers--;
        rel();
      }
    }
  };
  await Promise.all(Array.from({ length: 50 }, (_, i) => worker(i)));
  assert.equal(state.a, 250);
  assert.ok(maxReaders > 1, 'readers did share the lock');
  assert.equal(ns.size, 0);
});

test('lockMany takes resources in sorted order, so crossing callers do not deadlock', async () => {
  const ns = new NamespaceLock();
  const done: string[] = [];
  const one = async (name: string, keys: string[]) => {
    for (let i = 0; i < 200; i++) {
      const rel = await ns.lockMany(keys, 'write', 5000);
      await sleep(0);
      rel();
    }
    done.push(name);
  };
  await Promise.all([one('ab', ['a', 'b', 'c']), one('ba', ['c', 'b', 'a']), one('bc', ['b', 'c'])]);
  assert.deepEqual(done.sort(), ['ab', 'ba', 'bc']);
  assert.equal(ns.size, 0);
});

test('lockMany mixes modes, takes a repeated resource once in the stronger mode', async () => {
  const ns = new NamespaceLock();
  const rel = await ns.lockMany(
    [{ resource: 'src', mode: 'read' }, 'dst', { resource: 'dst', mode: 'read' }],
    'write',
  );
  // src is shared: another reader gets in; dst is exclusive
  (await ns.lock('src', 'read', 10))();
  await assert.rejects(ns.lock('dst', 'read', 10), (e: unknown) => isObjectError(e, 'OperationTimedOut'));
  rel();
  rel();
  assert.equal(ns.size, 0);
});

test('lockMany gives back what it took when it times out', async () => {
  const ns = new NamespaceLock();
  const holdC = await ns.lock('c', 'write');
  await assert.rejects(ns.lockMany(['a', 'b', 'c'], 'write', 30), (e: unknown) =>
    isObjectError(e, 'OperationTimedOut'),
  );
  // a and b are free again
  (await ns.lockMany(['a', 'b'], 'write', 10))();
  holdC();
  assert.equal(ns.size, 0);
});

test.run();
