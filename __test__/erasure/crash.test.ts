import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import { ErasureSets } from '../../src/erasure/ErasureSets';
import { isObjectError } from '../../src/object/errors';
import { LocalDrive } from '../../src/storage/LocalDrive';

const ROUNDS = Number(process.env.CAIRN_CRASH_ROUNDS ?? 8);

function check(body: Buffer): number {
  const seq = Number(body.readBigUInt64BE(0));
  const sum = createHash('sha256').update(body.subarray(40)).digest();
  assert.ok(sum.equals(body.subarray(8, 40)), `torn object: seq ${seq}, ${body.length} bytes`);
  return seq;
}

test(`a writer killed with SIGKILL at random moments (${ROUNDS} times) never leaves a torn or lost acknowledged object`, async () => {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cairn-crash-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const acked = new Map<string, number>();
  let nextSeq = 1;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const child = spawn(
        process.execPath,
        ['--require', 'tsx/cjs', path.join(__dirname, '..', 'fixtures', 'crash-writer.ts'), ...roots],
        { env: { ...process.env, START_SEQ: String(nextSeq) }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      // Let it start and write for a while, then kill it mid-flight.
      await new Promise((r) => setTimeout(r, 1200 + Math.random() * 800));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (const line of out.split('\n')) {
        const m = /^ack (\S+) (\d+)$/.exec(line);
        if (m) acked.set(m[1]!, Math.max(acked.get(m[1]!) ?? 0, Number(m[2])));
      }
      nextSeq += 100_000;

      const layer = await ErasureSets.open(roots.map((r) => new LocalDrive(r)));
      for (const key of ['k0', 'k1', 'k2', 'k3']) {
        let body: Buffer;
        try {
          const { stream } = await layer.getObject('b', key);
          const chunks: Buffer[] = [];
          for await (const c of stream) chunks.push(c as Buffer);
          body = Buffer.concat(chunks);
        } catch (e) {
          assert.ok(
            isObjectError(e, 'ObjectNotFound', 'BucketNotFound') && !acked.has(key),
            `${key} lost: ${e}`,
          );
          continue;
        }
        const seq = check(body);
        assert.ok(
          seq >= (acked.get(key) ?? 0),
          `${key}: read seq ${seq} is older than acknowledged ${acked.get(key)}`,
        );
      }
    }
    assert.ok(acked.size > 0, 'the writer acknowledged something');
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
});

test.run();
