import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test } from 'uvu';
import {
  createHasher,
  ErasureCoder,
  hash,
  hashChunks,
  hashSync,
  minioBitrotKey,
  simdLevel,
  supportedSimdLevels,
} from '../src/native';
import { pattern, vectors } from './helpers/vectors';

const V = vectors();

/** The k data shards of `block`, zero padded, as one Buffer each. */
function split(coder: ErasureCoder, block: Buffer): Buffer[] {
  const s = coder.shardSize(block.length);
  return Array.from({ length: coder.dataShards }, (_, i) => {
    const b = Buffer.alloc(s);
    block.copy(b, 0, Math.min(i * s, block.length), Math.min((i + 1) * s, block.length));
    return b;
  });
}

async function encodeAll(coder: ErasureCoder, block: Buffer): Promise<Buffer[]> {
  const s = coder.shardSize(block.length);
  const parity = Buffer.alloc(coder.parityLength(block.length));
  await coder.encode(block, parity);
  const p = Array.from({ length: coder.parityShards }, (_, i) => parity.subarray(i * s, (i + 1) * s));
  return [...split(coder, block), ...p];
}

test('encode through the binding matches klauspost/reedsolomon vectors', async () => {
  for (const v of V.reedsolomon) {
    const coder = new ErasureCoder(v.k, v.m);
    assert.equal(coder.shardSize(v.len), v.shardSize);
    const shards = await encodeAll(coder, pattern(v.len));
    assert.deepEqual(
      shards.map((s) => s.toString('hex')),
      v.shards,
      `${v.k}+${v.m} len ${v.len}`,
    );
  }
});

test('encodeShards writes the same parity as encode, and the digests of every shard', async () => {
  const coder = new ErasureCoder(8, 4);
  const block = randomBytes(8 * 40000 + 5);
  const want = await encodeAll(coder, block);
  const shards = [...split(coder, block), ...Array.from({ length: 4 }, () => Buffer.alloc(want[0]!.length))];
  const hashes = Buffer.alloc(12 * 32);
  await coder.encodeShards(shards, { hashes, algorithm: 'blake3' });
  assert.deepEqual(shards, want);
  for (let i = 0; i < 12; i++) {
    assert.deepEqual(hashes.subarray(i * 32, i * 32 + 32), hashSync('blake3', want[i]!), `shard ${i}`);
  }
});

test('encode cuts data into blocks and hashes each block shard with MinIO bitrot key by default', async () => {
  const coder = new ErasureCoder(4, 2);
  const blockSize = 1 << 20;
  const data = randomBytes(2 * blockSize + 12345);
  const parity = Buffer.alloc(coder.parityLength(data.length, blockSize));
  const hashes = Buffer.alloc(3 * 6 * 32);
  await coder.encode(data, parity, { blockSize, hashes });
  let off = 0;
  for (let b = 0; b < 3; b++) {
    const block = data.subarray(b * blockSize, (b + 1) * blockSize);
    const shards = await encodeAll(coder, block);
    const s = coder.shardSize(block.length);
    assert.deepEqual(parity.subarray(off, off + 2 * s), Buffer.concat(shards.slice(4)), `block ${b}`);
    off += 2 * s;
    for (let i = 0; i < 6; i++) {
      const want = hashSync('highwayhash256', shards[i]!, minioBitrotKey());
      assert.deepEqual(
        hashes.subarray((b * 6 + i) * 32, (b * 6 + i + 1) * 32),
        want,
        `block ${b} shard ${i}`,
      );
    }
  }
  assert.equal(off, parity.length);
});

test('reconstruct rebuilds every pattern of up to m lost shards for 4+2 and 8+4', async () => {
  for (const [k, m] of [
    [4, 2],
    [8, 4],
  ] as const) {
    const coder = new ErasureCoder(k, m);
    const good = await encodeAll(coder, randomBytes(k * 20000 + 3));
    const n = k + m;
    for (let mask = 1; mask < 1 << n; mask++) {
      const lost = [...Array(n).keys()].filter((i) => mask & (1 << i));
      if (lost.length > m) continue;
      const work = good.map((s) => Buffer.from(s));
      for (const i of lost) work[i]!.fill(0xee);
      await coder.reconstruct(work, lost);
      assert.ok(
        work.every((s, i) => s.equals(good[i]!)),
        `${k}+${m} lost ${lost}`,
      );
    }
  }
});

test('reconstruct of more than m lost shards rejects and writes nothing', async () => {
  const coder = new ErasureCoder(4, 2);
  const good = await encodeAll(coder, randomBytes(4 * 100000));
  const work = good.map((s) => Buffer.from(s));
  await assert.rejects(coder.reconstruct(work, [0, 1, 5]), /too few shards/);
  assert.ok(work.every((s, i) => s.equals(good[i]!)));
  // Shards given as null are absent: 3 present of 4 needed.
  await assert.rejects(
    coder.reconstruct([work[0], null, work[2], work[3], null, work[5]], [0]),
    /too few shards/,
  );
  // A wanted shard needs a buffer to write to.
  await assert.rejects(
    coder.reconstruct([null, work[1], work[2], work[3], work[4], work[5]], [0]),
    /no buffer/,
  );
  assert.throws(
    () => coder.reconstructSync([work[0], work[1], work[2], null, null, null], [1, 2]),
    /too few/,
  );
});

test('reconstruct can rebuild only the data shards a read needs', async () => {
  const coder = new ErasureCoder(8, 4);
  const good = await encodeAll(coder, randomBytes(8 * 1024 * 128));
  const work: Array<Buffer | null> = good.map((s) => Buffer.from(s));
  work[2]!.fill(0);
  work[9] = null; // a lost parity shard nobody needs
  work[11] = null;
  await coder.reconstruct(work, [2]);
  assert.ok(work[2]!.equals(good[2]!));
});

test('many concurrent async encodes and reconstructs all return the right bytes', async () => {
  const coder = new ErasureCoder(6, 3);
  const blocks = Array.from({ length: 64 }, (_, i) => randomBytes(100000 + i * 1000));
  const encoded = await Promise.all(blocks.map((b) => encodeAll(coder, b)));
  const jobs = encoded.map(async (good, j) => {
    const lost = [j % 9, (j + 4) % 9, (j + 7) % 9];
    const work = good.map((s) => Buffer.from(s));
    for (const i of lost) work[i]!.fill(0);
    await coder.reconstruct(work, lost);
    return work.every((s, i) => s.equals(good[i]!));
  });
  assert.deepEqual(await Promise.all(jobs), Array(64).fill(true));
  for (const [j, b] of blocks.entries()) {
    assert.ok(Buffer.concat(encoded[j]!.slice(0, 6)).subarray(0, b.length).equals(b));
  }
});

test('bad shapes and wrong buffer sizes throw clear errors', async () => {
  for (const [k, m] of [
    [0, 1],
    [200, 57],
    [1.5, 1],
    [-1, 2],
  ]) {
    assert.throws(() => new ErasureCoder(k!, m!), /invalid erasure shape/, `${k}+${m}`);
  }
  assert.doesNotThrow(() => new ErasureCoder(128, 128));
  assert.doesNotThrow(() => new ErasureCoder(3, 0));
  const coder = new ErasureCoder(4, 2);
  const data = randomBytes(1 << 20);
  await assert.rejects(coder.encode(data, Buffer.alloc(10)), /parity buffer is 10 bytes/);
  await assert.rejects(
    coder.encode(data, Buffer.alloc(coder.parityLength(data.length)), { hashes: Buffer.alloc(7) }),
    /hash buffer/,
  );
  await assert.rejects(
    coder.encodeShards([
      Buffer.alloc(10),
      Buffer.alloc(10),
      Buffer.alloc(10),
      Buffer.alloc(10),
      Buffer.alloc(9),
      Buffer.alloc(10),
    ]),
    /same length/,
  );
  // Output overlapping input is refused rather than computed wrong.
  const one = Buffer.alloc(6 * 1024);
  await assert.rejects(coder.encode(one.subarray(0, 4096), one.subarray(2048, 4096)), /overlap/);
  assert.throws(() => hashSync('highwayhash256', data, Buffer.alloc(31)), /32 bytes/);
});

test('HighwayHash-256 and BLAKE3 match the reference vectors, one-shot, async and streaming', async () => {
  for (const v of V.highwayhash256.filter((x) => x.len % 7 === 0 || x.len > 1000)) {
    const key = Buffer.from(v.key!, 'hex');
    const data = pattern(v.len);
    assert.equal(hashSync('highwayhash256', data, key).toString('hex'), v.digest, `hh len ${v.len}`);
    assert.equal((await hash('highwayhash256', data, key)).toString('hex'), v.digest);
    const h = createHasher('highwayhash256', key);
    for (let i = 0; i < data.length; i += 1000) h.update(data.subarray(i, i + 1000));
    assert.equal(h.digest().toString('hex'), v.digest);
  }
  for (const v of V.blake3) {
    const data = pattern(v.len);
    assert.equal((await hash('blake3', data)).toString('hex'), v.digest, `blake3 len ${v.len}`);
    const h = createHasher('blake3');
    h.update(data.subarray(0, 100)).update(data.subarray(100));
    assert.equal(h.digest().toString('hex'), v.digest);
  }
});

test('streaming hasher reset starts over and digest does not end the stream', () => {
  for (const alg of ['highwayhash256', 'blake3'] as const) {
    const h = createHasher(alg);
    h.update(Buffer.from('junk'));
    h.reset();
    h.update(Buffer.from('hello '));
    assert.deepEqual(h.digest(), hashSync(alg, Buffer.from('hello ')));
    h.update(Buffer.from('world'));
    assert.deepEqual(h.digest(), hashSync(alg, Buffer.from('hello world')));
  }
  assert.throws(() => createHasher('md5' as never), /unknown hash algorithm/);
});

test('hashChunks writes one digest per chunk', async () => {
  const data = randomBytes(5 * 65536 + 10);
  const out = Buffer.alloc(6 * 32);
  await hashChunks('highwayhash256', data, 65536, out);
  for (let i = 0; i < 6; i++) {
    const chunk = data.subarray(i * 65536, (i + 1) * 65536);
    assert.deepEqual(out.subarray(i * 32, i * 32 + 32), hashSync('highwayhash256', chunk));
  }
  await assert.rejects(hashChunks('blake3', data, 65536, Buffer.alloc(32)), /digest buffer/);
});

test('CAIRN_SIMD=scalar forces the portable kernels, which give the same shards', () => {
  assert.ok(supportedSimdLevels().includes(simdLevel()));
  const script = `
    const { ErasureCoder, simdLevel } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'native'))});
    const c = new ErasureCoder(8, 4);
    const d = Buffer.alloc(8 * 5000, 0); for (let i = 0; i < d.length; i++) d[i] = (i * 31) & 255;
    const p = Buffer.alloc(c.parityLength(d.length)); c.encodeSync(d, p);
    process.stdout.write(simdLevel() + ' ' + require('node:crypto').createHash('sha256').update(p).digest('hex'));
  `;
  const run = (env: NodeJS.ProcessEnv) =>
    execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      env: { ...process.env, ...env },
    })
      .toString()
      .split(' ');
  const [scalarLevel, scalarSum] = run({ CAIRN_SIMD: 'scalar' });
  const [bestLevel, bestSum] = run({ CAIRN_SIMD: '' });
  assert.equal(scalarLevel, 'scalar');
  assert.equal(bestLevel, supportedSimdLevels().at(-1));
  assert.equal(scalarSum, bestSum);
});

test.run();
