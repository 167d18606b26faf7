/**
 * The server's logger: one JSON object per line (time, level, message, fields), as log collectors
 * read it. Small on purpose; the `Logger` shape (`src/s3/context.ts`) is pino's, so pino can replace
 * this without touching a caller.
 */
import type { Logger } from '../s3/context';

export type LogLevel = 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { info: 1, warn: 2, error: 3, silent: 4 };

function serialize(v: unknown): unknown {
  if (v instanceof Error) {
    const o: Record<string, unknown> = { name: v.name, message: v.message, stack: v.stack };
    if (v.cause !== undefined) o.cause = serialize(v.cause);
    return o;
  }
  return v;
}

export function createLogger(
  opts: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger & { child(fields: Record<string, unknown>): Logger } {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const base = opts.base ?? {};
  const emit = (level: Exclude<LogLevel, 'silent'>, obj: Record<string, unknown> | string, msg?: string) => {
    if (RANK[level] < min) return;
    const fields = typeof obj === 'string' ? { msg: obj } : { ...obj, ...(msg !== undefined ? { msg } : {}) };
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level, ...base };
    for (const [k, v] of Object.entries(fields)) rec[k] = serialize(v);
    write(`${JSON.stringify(rec)}\n`);
  };
  return {
    info: (o, m) => emit('info', o, m),
    warn: (o, m) => emit('warn', o, m),
    error: (o, m) => emit('error', o, m),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
