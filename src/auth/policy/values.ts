/**
 * The typed values condition operators compare: numbers, instants, IP addresses and CIDR blocks.
 * Each parser returns undefined for text that is not of its type, so the policy parser can say what
 * is wrong and the evaluator can treat a malformed request value as "does not match".
 */

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An integer or decimal (AWS: "comparing a key to an integer or decimal value"). */
export function parseNumber(s: string): number | undefined {
  if (!NUMBER_RE.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

// W3C's profile of ISO 8601 (YYYY, YYYY-MM, YYYY-MM-DD, then hh:mm, :ss, .s and a zone designator).
const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

/**
 * An instant in milliseconds since the epoch, from an ISO 8601 date (W3C profile; a time without a
 * zone is UTC) or epoch seconds (AWS: "in one of the W3C implementations of the ISO 8601 date
 * formats or in epoch (UNIX) time").
 */
export function parseDate(s: string): number | undefined {
  // Four digits are a year (W3C's YYYY), any other run of digits epoch seconds.
  if (/^\d{1,12}$/.test(s) && s.length !== 4) return Number(s) * 1000;
  const m = DATE_RE.exec(s);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return undefined;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Rejects 2020-02-30 and the like: Date.UTC would roll them over.
  if (new Date(t).getUTCDate() !== day) return undefined;
  let offset = 0;
  const zone = m[8];
  if (zone && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000;
  }
  return t - offset;
}

/**
 * An IP address as a 128-bit number, IPv4 mapped into `::ffff:0:0/96` so that a v4 address, its
 * IPv4-mapped v6 form (`::ffff:192.0.2.1`, what a dual-stack socket reports) and a v4 CIDR all meet.
 */
export function parseIp(s: string): bigint | undefined {
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return V4_MAPPED | BigInt(v4);
  return parseIpv6(s);
}

const V4_MAPPED = 0xffffn << 32n;

function parseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const b = Number(p);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

function parseIpv6(s: string): bigint | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(s)) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIpv4(it);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(it)) return undefined;
        out.push(Number.parseInt(it, 16));
      }
    }
    return out;
  };
  let all: number[];
  if (dbl >= 0) {
    const head = groups(s.slice(0, dbl));
    const tail = groups(s.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const g = groups(s);
    if (g?.length !== 8) return undefined;
    all = g;
  }
  let n = 0n;
  for (const g of all) n = (n << 16n) | BigInt(g);
  return n;
}

export interface Cidr {
  readonly network: bigint;
  readonly mask: bigint;
}

const ALL_ONES = (1n << 128n) - 1n;

/**
 * A CIDR block (`203.0.113.0/24`, `2001:DB8:1234:5678::/64`); a bare address is a single host
 * (AWS: "If you specify an IP address without the associated routing prefix, IAM uses the default
 * prefix value of /32"). Host bits set beyond the prefix are ignored.
 */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const isV4 = parseIpv4(addr) !== undefined;
  const ip = parseIp(addr);
  if (ip === undefined) return undefined;
  let bits = 128;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > (isV4 ? 32 : 128)) return undefined;
    bits = isV4 ? 96 + n : n;
  }
  const mask = bits === 0 ? 0n : (ALL_ONES << BigInt(128 - bits)) & ALL_ONES;
  return { network: ip & mask, mask };
}

export function cidrContains(c: Cidr, ip: bigint): boolean {
  return (ip & c.mask) === c.network;
}
