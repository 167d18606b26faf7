/**
 * Wildcard patterns with policy variables, compiled once and matched without regular expressions:
 * `*` (any run of characters, `/` and `:` included), `?` (one character), `${aws:username}` (a value
 * of the request, matched literally: a `*` in a user's prefix is no wildcard), `${aws:userid,
 * 'anonymous'}` (with a default), `${*}` `${?}` `${$}` (the literal characters).
 *
 * AWS: "Policy variables ... were introduced in version 2012-10-17 ... [in earlier versions]
 * variables like ${aws:username} are treated as literal strings in the policy."
 */

export const STAR = 0;
export const ONE = 1;

/** A variable reference; `key` is lower-cased (condition keys are case-insensitive). */
export interface Var {
  readonly key: string;
  readonly dflt: string | undefined;
}

export type Token = string | typeof STAR | typeof ONE | Var;
type Resolved = string | typeof STAR | typeof ONE;

/**
 * A compiled pattern. `kind` picks the fast path: `exact` (no wildcard, no variable: compare),
 * `prefix` (a literal then one trailing `*`), `any` (`*` alone), else the general matcher.
 */
export interface Pattern {
  readonly kind: 'exact' | 'prefix' | 'any' | 'glob';
  /** The literal for `exact` and `prefix`. */
  readonly literal: string;
  readonly tokens: readonly Token[];
  readonly hasVars: boolean;
}

/** Looks a variable's values up (lower-cased key), or undefined when the request has none. */
export type VarLookup = (key: string) => readonly string[] | undefined;

export interface CompileOptions {
  /** `*` and `?` are wildcards (StringLike, ArnLike, Action, Resource) or literal (StringEquals). */
  wildcards: boolean;
  /** `${...}` is a policy variable (Version 2012-10-17) or literal text (2008-10-17). */
  variables: boolean;
  /** Lower-case the literal parts (case-insensitive matching: actions, StringEqualsIgnoreCase). */
  lower?: boolean;
}

const VAR_RE = /^([A-Za-z0-9_.:/-]+)(?:,\s*'([^']*)')?$/;

export function compilePattern(src: string, opts: CompileOptions): Pattern {
  const tokens: Token[] = [];
  let lit = '';
  const flush = () => {
    if (lit) tokens.push(opts.lower ? lit.toLowerCase() : lit);
    lit = '';
  };
  let hasVars = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (opts.variables && c === '$' && src[i + 1] === '{') {
      const end = src.indexOf('}', i + 2);
      if (end > 0) {
        const body = src.slice(i + 2, end);
        if (body === '*' || body === '?' || body === '$') {
          lit += body;
          i = end;
          continue;
        }
        const m = VAR_RE.exec(body);
        if (m) {
          flush();
          tokens.push({ key: m[1]!.toLowerCase(), dflt: m[2] });
          hasVars = true;
          i = end;
          continue;
        }
      }
    }
    if (opts.wildcards && c === '*') {
      flush();
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
    } else if (opts.wildcards && c === '?') {
      flush();
      tokens.push(ONE);
    } else {
      lit += c;
    }
  }
  flush();
  let kind: Pattern['kind'] = 'glob';
  let literal = '';
  if (!hasVars) {
    if (tokens.length === 0) kind = 'exact';
    else if (tokens.length === 1 && typeof tokens[0] === 'string') {
      kind = 'exact';
      literal = tokens[0];
    } else if (tokens.length === 1 && tokens[0] === STAR) kind = 'any';
    else if (tokens.length === 2 && typeof tokens[0] === 'string' && tokens[1] === STAR) {
      kind = 'prefix';
      literal = tokens[0];
    }
  }
  return { kind, literal, tokens, hasVars };
}

/** The value a variable stands for, or undefined when the request has none (and no default). */
export function resolveVar(v: Var, lookup: VarLookup): string | undefined {
  const vals = lookup(v.key);
  // A multi-valued key has no single value to put in a string.
  if (vals && vals.length === 1) return vals[0];
  return v.dflt;
}

/**
 * The pattern with its variables replaced, or undefined when one cannot be resolved
 * (AWS: "any attempt to match it fails").
 */
function resolve(p: Pattern, lookup: VarLookup, lower: boolean): Resolved[] | undefined {
  const out: Resolved[] = [];
  for (const t of p.tokens) {
    if (typeof t === 'object') {
      const v = resolveVar(t, lookup);
      if (v === undefined) return undefined;
      out.push(lower ? v.toLowerCase() : v);
    } else out.push(t);
  }
  return out;
}

/** The pattern as one literal string (for exact comparisons), or undefined if a variable is missing. */
export function patternText(p: Pattern, lookup: VarLookup, lower = false): string | undefined {
  if (!p.hasVars) return p.kind === 'exact' ? p.literal : tokensText(p.tokens as Resolved[]);
  const r = resolve(p, lookup, lower);
  return r === undefined ? undefined : tokensText(r);
}

function tokensText(ts: readonly Resolved[]): string {
  let s = '';
  for (const t of ts) s += t === STAR ? '*' : t === ONE ? '?' : t;
  return s;
}

/** Whether `text` matches `p`. `lower`: resolved variable values are lower-cased first. */
export function matchPattern(p: Pattern, text: string, lookup: VarLookup, lower = false): boolean {
  switch (p.kind) {
    case 'exact':
      return text === p.literal;
    case 'any':
      return true;
    case 'prefix':
      return text.startsWith(p.literal);
    default: {
      if (!p.hasVars) return matchTokens(p.tokens as readonly Resolved[], text);
      const r = resolve(p, lookup, lower);
      return r !== undefined && matchTokens(r, text);
    }
  }
}

/** One character's length in UTF-16 units: `?` matches a whole astral character. */
function charLen(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Greedy matching with backtracking to the last `*` only: correct because every other token has a
 * fixed length, and linear in practice (worst case O(pattern × text)).
 */
export function matchTokens(t: readonly Resolved[], s: string): boolean {
  let ti = 0;
  let si = 0;
  let starT = -1;
  let starS = 0;
  for (;;) {
    if (ti < t.length) {
      const tok = t[ti]!;
      if (tok === STAR) {
        starT = ti++;
        starS = si;
        continue;
      }
      if (tok === ONE) {
        if (si < s.length) {
          si += charLen(s, si);
          ti++;
          continue;
        }
      } else if (s.startsWith(tok, si)) {
        si += tok.length;
        ti++;
        continue;
      }
    } else if (si === s.length) return true;
    if (starT < 0 || starS >= s.length) return false;
    starS += charLen(s, starS);
    si = starS;
    ti = starT + 1;
  }
}

/**
 * An ARN pattern: its six colon-separated components matched one by one (AWS: "Each of the six
 * colon-delimited components of the ARN is checked separately"), the last one taking the rest.
 */
export type ArnPattern = readonly Pattern[];

/** Splits an ARN into its six components, or undefined when it has fewer. */
export function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let n = 0; n < 5; n++) {
    const i = arn.indexOf(':', from);
    if (i < 0) return undefined;
    parts.push(arn.slice(from, i));
    from = i + 1;
  }
  parts.push(arn.slice(from));
  return parts;
}

export function compileArnPattern(src: string, opts: CompileOptions): ArnPattern | undefined {
  const parts = splitArn(src);
  return parts?.map((p) => compilePattern(p, opts));
}

export function matchArn(p: ArnPattern, parts: readonly string[], lookup: VarLookup): boolean {
  for (let i = 0; i < 6; i++) if (!matchPattern(p[i]!, parts[i]!, lookup)) return false;
  return true;
}
