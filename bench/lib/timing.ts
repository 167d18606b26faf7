/**
 * Timing loops for the benches: best of several runs of at least `minMs` each, as bench/go does, so a
 * figure is what the machine can do when nothing else is in the way. Plain `process.hrtime.bigint()`
 * keeps the cost of the loop itself visible and tiny (one clock read per batch).
 */

export interface TimingOptions {
  /** Shortest duration of one run. */
  minMs: number;
  /** Runs per figure; the fastest is kept. */
  runs: number;
}

const now = () => process.hrtime.bigint();

/** Best nanoseconds per call of `fn` over `runs` runs of at least `minMs` each. */
export function timeSync(fn: () => void, { minMs, runs }: TimingOptions): number {
  fn();
  let best = Number.POSITIVE_INFINITY;
  const min = BigInt(Math.round(minMs * 1e6));
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const start = now();
    let elapsed = 0n;
    while (elapsed < min) {
      for (let i = 0; i < 8; i++) fn();
      n += 8;
      elapsed = now() - start;
    }
    best = Math.min(best, Number(elapsed) / n);
  }
  return best;
}

/** Best nanoseconds per call of `fn`, each call awaited before the next: the latency of one call. */
export async function timeAsync(fn: () => Promise<unknown>, { minMs, runs }: TimingOptions): Promise<number> {
  await fn();
  let best = Number.POSITIVE_INFINITY;
  const min = BigInt(Math.round(minMs * 1e6));
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const start = now();
    let elapsed = 0n;
    while (elapsed < min) {
      for (let i = 0; i < 8; i++) await fn();
      n += 8;
      elapsed = now() - start;
    }
    best = Math.min(best, Number(elapsed) / n);
  }
  return best;
}

/**
 * Best nanoseconds per call with `inFlight` calls outstanding at all times (lane `i` always calls
 * `fn(i)`, so each lane can own its buffers): throughput, not latency.
 */
export async function timeConcurrent(
  fn: (lane: number) => Promise<unknown>,
  inFlight: number,
  { minMs, runs }: TimingOptions,
): Promise<number> {
  await Promise.all(Array.from({ length: inFlight }, (_, i) => fn(i)));
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const start = now();
    const deadline = start + BigInt(Math.round(minMs * 1e6));
    const lane = async (i: number) => {
      while (now() < deadline) {
        await fn(i);
        n++;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(i)));
    best = Math.min(best, Number(now() - start) / n);
  }
  return best;
}

/** GB/s (1e9 bytes per second) for `bytes` per call at `ns` per call. */
export function gbps(bytes: number, ns: number): number {
  return bytes / ns;
}

/** The `p`-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
