/**
 * Reads of the latest version of a key with many versions against a key with one: engine GET and
 * HEAD (`getObjectInfo`) of a 4 KiB object on 4 drives (2+2), the key holding
 *
 * - `1 version`: the object alone;
 * - `10k, old on dirs`: 9,999 older versions whose data lives in data dirs (what versioned PUTs make
 *   once the metadata file is past its inline budget, and what objects over 128 KiB always are);
 * - `10k, old inline`: 9,999 older 4 KiB versions each with its shard inside the metadata file (what
 *   every small versioned PUT made before the inline budget: the case the budget is there for).
 *
 * The older versions are written straight into each drive's metadata file (10,000 real PUTs would
 * rewrite a growing file 10,000 times); the latest is a real versioned PUT on top of them. Also
 * times ListObjectVersions' first page (1000 entries) of the 10k key and a page from halfway down
 * (`deep`: after a version-id-marker), and a PUT on each key (a new version spliced into the file).
 *
 *   npx tsx bench/versions.bench.ts [--json] [--dir /path] [--versions 10000]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ErasureSets } from '../src/erasure/ErasureSets';
import {
  decodeMeta,
  encodeMeta,
  newDataDir,
  type ObjectDataVersion,
  type ObjectVersion,
  versionIdNew,
} from '../src/erasure/metadata';
import { LocalDrive } from '../src/storage/LocalDrive';
import { objectPath } from '../src/storage/paths';

const args = process.argv.slice(2);
const json = args.includes('--json');
const dirArg = args.indexOf('--dir');
const baseDir = dirArg >= 0 ? args[dirArg + 1]! : os.tmpdir();
const nArg = args.indexOf('--versions');
const VERSIONS = nArg >= 0 ? Number(args[nArg + 1]) : 10_000;

interface Row {
  key: string;
  op: string;
  metaBytes: number;
  opsPerSec: number;
  p50ms: number;
  p99ms: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

/** Best of 3 runs of `count` sequential calls (one in flight: latency, not throughput). */
async function time(count: number, fn: (i: number) => Promise<void>) {
  let best: { opsPerSec: number; p50ms: number; p99ms: number } | undefined;
  for (let run = 0; run < 3; run++) {
    const lat: number[] = [];
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint();
      await fn(i);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const r = { opsPerSec: count / secs, p50ms: pct(lat, 50), p99ms: pct(lat, 99) };
    if (!best || r.p50ms < best.p50ms) best = r;
  }
  return best!;
}

async function drain(s: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of s) {
  }
}

async function main() {
  process.env.UV_THREADPOOL_SIZE ??= '32';
  const base = await fs.mkdtemp(path.join(baseDir, 'cairn-bench-'));
  const roots = await Promise.all(
    [1, 2, 3, 4].map(async (i) => {
      const r = path.join(base, `d${i}`);
      await fs.mkdir(r);
      return r;
    }),
  );
  const drives = roots.map((r) => new LocalDrive(r));
  const layer = await ErasureSets.open(drives);
  await layer.makeBucket('bench');
  const size = 4 << 10;
  const body = randomBytes(size);
  const put = (key: string) =>
    layer.putObject('bench', key, Readable.from([body]), { size, versioned: true });

  /**
   * `key` with `count - 1` older versions written into its metadata file, then one real PUT; the
   * file's size and an older version's id halfway down (a version-id-marker for a deep page).
   */
  async function build(
    key: string,
    count: number,
    oldInline: boolean,
  ): Promise<{ metaBytes: number; mid: string }> {
    let mid = '';
    await put(key);
    if (count > 1) {
      const p = objectPath(key);
      const start = Date.now() - count - 10_000;
      // Ids made in order, so each drive's synthetic versions are the same versions.
      const ids = Array.from({ length: count - 1 }, (_, i) => versionIdNew(start + i));
      mid = ids[Math.floor(ids.length / 2)]!;
      await Promise.all(
        drives.map(async (d) => {
          const file = decodeMeta(await d.readMetadata('bench', p));
          const real = file.versions[0] as ObjectDataVersion;
          const dirs = ids.map(() => newDataDir());
          const older: ObjectVersion[] = ids.map((versionId, i) => {
            const v: ObjectDataVersion = { ...real, versionId, modTime: start + i };
            if (!oldInline) {
              v.dataDir = dirs[i]!;
              delete v.inline;
            }
            return v;
          });
          await d.writeMetadata('bench', p, encodeMeta({ versions: [...older] }));
        }),
      );
      await put(key); // the latest, for real, on top of them
    }
    return { metaBytes: (await drives[0]!.readMetadata('bench', objectPath(key))).length, mid };
  }

  const rows: Row[] = [];
  try {
    const keys: [string, number, boolean][] = [
      ['1 version', 1, false],
      [`${VERSIONS / 1000}k, old on dirs`, VERSIONS, false],
      [`${VERSIONS / 1000}k, old inline`, VERSIONS, true],
    ];
    for (const [name, count, inline] of keys) {
      const key = `k-${name.replace(/\W+/g, '-')}`;
      const { metaBytes, mid } = await build(key, count, inline);
      rows.push({
        key: name,
        op: 'GET latest',
        metaBytes,
        ...(await time(300, async () => {
          const { stream } = await layer.getObject('bench', key);
          await drain(stream);
        })),
      });
      rows.push({
        key: name,
        op: 'HEAD latest',
        metaBytes,
        ...(await time(300, async () => {
          await layer.getObjectInfo('bench', key);
        })),
      });
      if (count > 1) {
        rows.push({
          key: name,
          op: 'ListObjectVersions 1000',
          metaBytes,
          ...(await time(5, async () => {
            await layer.listObjectVersions('bench', { prefix: key, maxKeys: 1000 });
          })),
        });
        rows.push({
          key: name,
          op: 'ListObjectVersions 1000, deep',
          metaBytes,
          ...(await time(5, async () => {
            await layer.listObjectVersions('bench', {
              prefix: key,
              maxKeys: 1000,
              keyMarker: key,
              versionIdMarker: mid,
            });
          })),
        });
      }
      rows.push({
        key: name,
        op: 'PUT (new version)',
        metaBytes,
        ...(await time(10, async () => {
          await put(key);
        })),
      });
    }
  } finally {
    await layer.shutdown();
    await fs.rm(base, { recursive: true, force: true });
  }
  if (json) {
    console.log(JSON.stringify({ versions: VERSIONS, rows }, null, 2));
    return;
  }
  console.log(
    `${'key'.padEnd(20)} ${'op'.padEnd(30)} ${'meta KiB'.padStart(9)} ${'ops/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}  vs 1 version`,
  );
  const one = new Map(rows.filter((r) => r.key === '1 version').map((r) => [r.op, r]));
  for (const r of rows) {
    const ref = one.get(r.op);
    const ratio = ref && ref !== r ? `${(r.p50ms / ref.p50ms).toFixed(2)}x p50` : '';
    console.log(
      `${r.key.padEnd(20)} ${r.op.padEnd(30)} ${(r.metaBytes / 1024).toFixed(0).padStart(9)} ${r.opsPerSec.toFixed(0).padStart(8)} ${r.p50ms.toFixed(2).padStart(8)} ${r.p99ms.toFixed(2).padStart(8)}  ${ratio}`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
