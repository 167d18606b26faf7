/**
 * ListObjects over a bucket of 100,000 objects on one erasure set of 4 drives (parity 2): the time
 * of one page of 1000 entries from the start, from the middle (`after`), and delimited.
 *
 *     npx tsx bench/listing.bench.ts            # build the bucket, measure, remove it
 *     flags: --keep (leave the bucket in the temp dir and reuse it next time), --runs=N (default 9),
 *            --objects=N (default 100000), --json (one JSON object on stdout),
 *            --layout=flat (every key in the bucket's top level: `IMG_<n>.jpg`, one directory of N
 *            object directories per drive; default `days`, the tree below)
 *
 * The bucket is built fast: one real object is written through `ErasureSet.putObject` (200 KiB, so
 * its data lives in a data dir, as a photo's would), then its directory is replicated on every drive
 * for each key with hard links (the metadata file and the part file; directories are made), as the
 * storage tests' 20,000-object tree is. Keys are `photos/2024/<MM-DD>/IMG_<n>.jpg`, 366 day
 * directories holding 40 to 500 photos each. Figures are warm (the tree is in the page cache).
 * Progress goes to stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ErasureSet } from '../src/erasure/ErasureSet';
import { listingTuning, listObjectsInSet } from '../src/erasure/listing';
import { configureListingCache, LISTING_CACHE_MIN_CHILDREN, listingCacheStats } from '../src/native';
import type { ListObjectsOptions } from '../src/object/types';
import { LocalDrive } from '../src/storage/LocalDrive';
import { META_FILE, objectPath } from '../src/storage/paths';
import { SYSTEM_VOLUME } from '../src/storage/StorageAPI';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const KEEP = args.includes('--keep');
const JSON_OUT = args.includes('--json');
const RUNS = flag('runs', 9);
const OBJECTS = flag('objects', 100_000);
/** `--cases=1,2`: only these cases (1-based); `--walk=quorum|all`: only this choice of drives. */
const CASES = args
  .find((x) => x.startsWith('--cases='))
  ?.slice('--cases='.length)
  .split(',')
  .map(Number);
const WALK = args.find((x) => x.startsWith('--walk='))?.split('=')[1];
const WALKS = (['quorum', 'all'] as const).filter((w) => WALK === undefined || w === WALK);
const DRIVES = 4;
const PARITY = 2;
const BUCKET = 'photos';
const FLAT = args.includes('--layout=flat');
const HOME = path.join(os.tmpdir(), `cairn-listing-bench-${FLAT ? 'flat-' : ''}${OBJECTS}`);
const LINKS_PER_FILE = 50_000;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** mulberry32: the same spread every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The bucket's keys, sorted (ASCII: code unit order is byte order). */
function makeKeys(total: number): string[] {
  if (FLAT) return Array.from({ length: total }, (_, i) => `IMG_${String(i + 1).padStart(7, '0')}.jpg`);
  const rnd = prng(2024);
  const days: string[] = [];
  for (
    let d = new Date(Date.UTC(2024, 0, 1));
    d.getUTCFullYear() === 2024;
    d.setUTCDate(d.getUTCDate() + 1)
  ) {
    days.push(`${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`);
  }
  const weights = days.map(() => 40 + rnd() * 460);
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.max(1, Math.round((w / sum) * total)));
  counts[counts.length - 1]! += total - counts.reduce((a, b) => a + b, 0);
  const keys: string[] = [];
  let n = 0;
  days.forEach((day, i) => {
    for (let j = 0; j < counts[i]!; j++)
      keys.push(`photos/2024/${day}/IMG_${String(++n).padStart(6, '0')}.jpg`);
  });
  return keys.sort();
}

async function pool<T>(items: readonly T[], width: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function build(roots: string[], keys: string[]): Promise<void> {
  spawnSync('rm', ['-rf', HOME], { stdio: 'inherit' });
  await Promise.all(roots.map((r) => fs.mkdir(r, { recursive: true })));
  const drives = roots.map((r) => new LocalDrive(r));
  await Promise.all(drives.map((d) => d.makeVolume(SYSTEM_VOLUME)));
  const set = new ErasureSet(drives, { parity: PARITY });
  await set.makeBucket(BUCKET);
  const body = Buffer.alloc(200 * 1024, 7);
  await set.putObject(BUCKET, 'template', Readable.from([body]), { size: body.length });
  const t0 = performance.now();
  await Promise.all(
    roots.map(async (root, d) => {
      const tpl = path.join(root, BUCKET, 'template');
      const dataDir = (await fs.readdir(tpl)).find((n) => n.startsWith('cairn.d.'))!;
      const parents = [...new Set(keys.map((k) => path.dirname(objectPath(k))))];
      for (const p of parents) await fs.mkdir(path.join(root, BUCKET, p), { recursive: true });
      // A file takes at most 65,000 links on ext4: every 50,000 keys link to a fresh copy.
      const copies = path.join(HOME, 'sources', `d${d + 1}`);
      await fs.mkdir(copies, { recursive: true });
      const sources: { meta: string; part: string }[] = [];
      for (let j = 0; j * LINKS_PER_FILE < keys.length; j++) {
        const s = { meta: path.join(copies, `meta.${j}`), part: path.join(copies, `part.${j}`) };
        await fs.copyFile(path.join(tpl, META_FILE), s.meta);
        await fs.copyFile(path.join(tpl, dataDir, 'part.1'), s.part);
        sources.push(s);
      }
      let done = 0;
      const index = new Map(keys.map((k, i) => [k, i]));
      await pool(keys, 32, async (k) => {
        const src = sources[Math.floor(index.get(k)! / LINKS_PER_FILE)]!;
        const dir = path.join(root, BUCKET, objectPath(k));
        await fs.mkdir(dir);
        await fs.link(src.meta, path.join(dir, META_FILE));
        await fs.mkdir(path.join(dir, dataDir));
        await fs.link(src.part, path.join(dir, dataDir, 'part.1'));
        if (++done % 20_000 === 0 && d === 0) log(`  ${done} of ${keys.length} per drive`);
      });
    }),
  );
  await set.deleteObject(BUCKET, 'template');
  await fs.writeFile(path.join(HOME, 'ready'), String(keys.length));
  log(`built ${keys.length} objects x ${DRIVES} drives in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

interface Figure {
  case: string;
  drives: string;
  minMs: number;
  medianMs: number;
  maxMs: number;
  entries: number;
}

async function main(): Promise<void> {
  const roots = Array.from({ length: DRIVES }, (_, i) => path.join(HOME, `d${i + 1}`));
  const keys = makeKeys(OBJECTS);
  const ready = existsSync(path.join(HOME, 'ready'))
    ? Number(await fs.readFile(path.join(HOME, 'ready'), 'utf8')) === keys.length
    : false;
  if (!ready) {
    log(`building ${keys.length} objects on ${DRIVES} drives under ${HOME}...`);
    await build(roots, keys);
  } else log(`reusing ${HOME}`);
  const drives = roots.map((r) => new LocalDrive(r));
  const set = new ErasureSet(drives, { parity: PARITY });

  const mid = keys[Math.floor(keys.length / 2)]!;
  const afterMid = keys[Math.floor(keys.length / 2) + 1]!;
  const day = mid.split('/').slice(0, 3).join('/');
  type Case = [string, ListObjectsOptions, (r: Awaited<ReturnType<typeof listObjectsInSet>>) => boolean];
  const flatCases: Case[] = [
    ['first page', {}, (r) => r.objects.length === 1000 && r.isTruncated && r.objects[0]!.key === keys[0]],
    [
      'middle page (after)',
      { after: mid },
      (r) => r.objects.length === 1000 && r.objects[0]!.key === afterMid,
    ],
    [
      'delimited at the root (1000 keys)',
      { delimiter: '/' },
      (r) => r.objects.length === 1000 && r.prefixes.length === 0 && r.objects[0]!.key === keys[0],
    ],
    [
      'prefix IMG_05 (a partial segment)',
      { prefix: 'IMG_05' },
      (r) => r.objects.length === 1000 && r.objects.every((o) => o.key.startsWith('IMG_05')),
    ],
  ];
  const cases: Case[] = FLAT
    ? flatCases
    : [
        [
          'first page',
          {},
          (r) => r.objects.length === 1000 && r.isTruncated && r.objects[0]!.key === keys[0],
        ],
        [
          'middle page (after)',
          { after: mid },
          (r) => r.objects.length === 1000 && r.objects[0]!.key === afterMid,
        ],
        [
          'delimited: photos/2024/ (366 prefixes)',
          { prefix: 'photos/2024/', delimiter: '/' },
          (r) => r.prefixes.length === 366 && r.objects.length === 0 && !r.isTruncated,
        ],
        [
          `delimited: ${day}/ (one day's photos)`,
          { prefix: `${day}/`, delimiter: '/' },
          (r) => r.objects.length > 0 && r.objects.every((o) => o.key.startsWith(`${day}/`)),
        ],
        ['delimited at the root (1 prefix)', { delimiter: '/' }, (r) => r.prefixes.length === 1],
      ];

  const figures: Figure[] = [];
  const measure = async (name: string, drivesLabel: string, run: () => Promise<number>) => {
    await run();
    const times: number[] = [];
    let entries = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      entries = await run();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const f = {
      case: name,
      drives: drivesLabel,
      minMs: times[0]!,
      medianMs: times[Math.floor(times.length / 2)]!,
      maxMs: times[times.length - 1]!,
      entries,
    };
    figures.push(f);
    log(
      `${name.padEnd(44)} ${drivesLabel.padEnd(10)} median ${f.medianMs.toFixed(1).padStart(7)} ms  (min ${f.minMs.toFixed(1)}, max ${f.maxMs.toFixed(1)})  ${entries} entries`,
    );
  };

  for (const walk of WALKS) {
    listingTuning.walk = walk;
    const label = walk === 'quorum' ? 'walk 3' : 'walk 4';
    for (const [name, opts, check] of cases.filter((_, i) => CASES === undefined || CASES.includes(i + 1))) {
      await measure(name, label, async () => {
        const r = await listObjectsInSet(set, BUCKET, opts);
        if (!check(r)) throw new Error(`${name}: unexpected page ${JSON.stringify(r).slice(0, 300)}`);
        return r.objects.length + r.prefixes.length;
      });
    }
  }
  listingTuning.walk = 'quorum';
  log(`listing cache: ${JSON.stringify(listingCacheStats())}`);

  // What a page costs when the directories' listings are not cached (a directory changed in the
  // last 2 s, a cache too small): each drive lists and sorts the directory again.
  configureListingCache(0, LISTING_CACHE_MIN_CHILDREN);
  await measure('first page, listing cache off', 'walk 3', async () => {
    const r = await listObjectsInSet(set, BUCKET, {});
    return r.objects.length + r.prefixes.length;
  });
  configureListingCache(256 << 20, LISTING_CACHE_MIN_CHILDREN);

  // One drive's walk alone, for the per-drive cost.
  await measure('one drive: walk 1000 entries', 'raw', async () => {
    let n = 0;
    for await (const _ of drives[0]!.walk(BUCKET)) if (++n === 1000) break;
    return n;
  });

  if (JSON_OUT) process.stdout.write(`${JSON.stringify({ objects: keys.length, runs: RUNS, figures })}\n`);
  // `rm -rf`, not fs.rm: at 1,000,000 objects (8,000,000 inodes) fs.rm held 9 GiB and ran for minutes.
  if (!KEEP) spawnSync('rm', ['-rf', HOME], { stdio: 'inherit' });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
