/**
 * The figures our Node figures are read against: criterion's estimates from the last
 * `npm run bench:rust` (bench/rust/core.rs), and klauspost/reedsolomon & co. from bench/go.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const REPO = path.join(__dirname, '..', '..');

export interface CriterionFigure {
  /** Nanoseconds per iteration: criterion's slope estimate, else its mean (what it prints). */
  ns: number;
  /** Bytes per iteration (`Throughput::BytesDecimal`). */
  bytes: number;
  /** When criterion wrote it. */
  measuredAt: Date;
}

interface Estimate {
  point_estimate: number;
}

/** Every bench criterion has a `new` estimate for, by full id (`encode/8+4`), or null if none. */
export function readCriterion(): { dir: string; figures: Map<string, CriterionFigure> } | null {
  const dir = path.join(process.env.CARGO_TARGET_DIR ?? path.join(REPO, 'target'), 'criterion');
  if (!existsSync(dir)) return null;
  const figures = new Map<string, CriterionFigure>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const sub = path.join(d, e.name);
      if (e.name === 'new') {
        const bench = path.join(sub, 'benchmark.json');
        const est = path.join(sub, 'estimates.json');
        if (!existsSync(bench) || !existsSync(est)) continue;
        const b = JSON.parse(readFileSync(bench, 'utf8')) as {
          full_id: string;
          throughput?: { BytesDecimal?: number; Bytes?: number } | null;
        };
        const x = JSON.parse(readFileSync(est, 'utf8')) as { mean: Estimate; slope?: Estimate | null };
        figures.set(b.full_id, {
          ns: (x.slope ?? x.mean).point_estimate,
          bytes: b.throughput?.BytesDecimal ?? b.throughput?.Bytes ?? 0,
          measuredAt: statSync(est).mtime,
        });
      } else if (e.name !== 'report' && e.name !== 'base' && e.name !== 'change') {
        walk(sub);
      }
    }
  };
  walk(dir);
  return figures.size ? { dir, figures } : null;
}

export interface GoReport {
  rs: Array<{ shape: string; op: 'encode' | 'reconstruct'; api: string; gbps: number; allocsPerOp: number }>;
  highwayhash256_gbps: number;
  blake3_gbps: number;
  blake3_lukechampine_gbps: number;
  cpu: string;
  versions: string;
}

/** Runs bench/go (about 30 s); `skipped` says why when it could not. */
export function runGo(): { report: GoReport } | { skipped: string } {
  const r = spawnSync('go', ['-C', path.join(REPO, 'bench', 'go'), 'run', '.', '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return { skipped: code === 'ENOENT' ? '`go` is not on the PATH' : r.error.message };
  }
  if (r.status !== 0)
    return { skipped: `bench/go failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { report: JSON.parse(line) as GoReport };
  } catch {
    return { skipped: `bench/go printed no JSON: ${line.slice(0, 200)}` };
  }
}
