/**
 * MinIO's ellipsis notation for drive lists: `/data{1...4}` is four drives, `{01...16}` keeps the
 * zero padding, and several ranges in one argument multiply (`/mnt/disk{1...2}/export{1...8}` is
 * sixteen). As in MinIO (`pkg/ellipses`), the LAST range varies slowest, so consecutive drives land
 * on different disks or hosts and every erasure set, cut from the list in order, spreads across them.
 * Only `{a...b}` with three dots and decimal bounds is a range; anything else stays as written.
 */

const RANGE = /\{(\d+)\.\.\.(\d+)\}/g;

export class EllipsisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EllipsisError';
  }
}

function expandRange(arg: string, start: string, end: string): string[] {
  const a = Number(start);
  const b = Number(end);
  if (a > b) throw new EllipsisError(`${arg}: range {${start}...${end}} runs backwards`);
  if (b - a >= 100_000) throw new EllipsisError(`${arg}: range {${start}...${end}} is too large`);
  // `{01...16}`: zero-padded to the width of the start as written.
  const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
  const out: string[] = [];
  for (let i = a; i <= b; i++) out.push(width ? String(i).padStart(width, '0') : String(i));
  return out;
}

/** One argument's expansion, in MinIO's order. */
export function expandEllipses(arg: string): string[] {
  const parts: string[] = [];
  const ranges: string[][] = [];
  let last = 0;
  for (const m of arg.matchAll(RANGE)) {
    parts.push(arg.slice(last, m.index));
    ranges.push(expandRange(arg, m[1]!, m[2]!));
    last = m.index! + m[0].length;
  }
  if (ranges.length === 0) return [arg];
  parts.push(arg.slice(last));
  // Odometer over the ranges with the first one turning fastest, the last one slowest.
  const idx = new Array<number>(ranges.length).fill(0);
  const total = ranges.reduce((n, r) => n * r.length, 1);
  if (total > 100_000) throw new EllipsisError(`${arg}: expands to ${total} drives`);
  const out: string[] = [];
  for (let n = 0; n < total; n++) {
    let s = parts[0]!;
    for (let i = 0; i < ranges.length; i++) s += ranges[i]![idx[i]!]! + parts[i + 1]!;
    out.push(s);
    for (let i = 0; i < ranges.length; i++) {
      idx[i]!++;
      if (idx[i]! < ranges[i]!.length) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** Every argument expanded, in order; a drive named twice is an error. */
export function expandDrives(args: string[]): string[] {
  const out = args.flatMap(expandEllipses);
  const seen = new Set<string>();
  for (const d of out) {
    if (seen.has(d)) throw new EllipsisError(`drive ${d} is given more than once`);
    seen.add(d);
  }
  return out;
}
