/**
 * Condition operators: what each accepts in a policy (checked when the policy is parsed) and how it
 * compares a request's values (compiled once per policy).
 *
 * AWS semantics ("IAM JSON policy elements: Condition operators", "Multivalued context keys"):
 * - all operators of a block must hold, all keys of an operator must hold, any value of a key may match;
 * - a key absent from the request makes the operator false, except that a negated operator
 *   (`StringNotEquals`, `NotIpAddress`...) is then true, `...IfExists` is then true and `Null` tests
 *   exactly that absence;
 * - `ForAnyValue:` holds when some request value matches (false on an absent key), `ForAllValues:`
 *   when every request value does (true on an absent or empty key);
 * - values are compared case-sensitively except by `...IgnoreCase` and `Bool`.
 */

import {
  type ArnPattern,
  compileArnPattern,
  compilePattern,
  matchArn,
  matchPattern,
  type Pattern,
  patternText,
  splitArn,
  type VarLookup,
} from './pattern';
import type { ConditionBlock } from './types';
import { type Cidr, cidrContains, parseCidr, parseDate, parseIp, parseNumber } from './values';

type Family = 'string' | 'stringi' | 'like' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';
type Cmp = 'eq' | 'lt' | 'le' | 'gt' | 'ge';

interface BaseOp {
  family: Family;
  negated: boolean;
  cmp: Cmp;
}

const op = (family: Family, negated = false, cmp: Cmp = 'eq'): BaseOp => ({ family, negated, cmp });

/** Every condition operator AWS defines, by name (without `IfExists` and set qualifiers). */
const BASE_OPERATORS: Readonly<Record<string, BaseOp>> = {
  StringEquals: op('string'),
  StringNotEquals: op('string', true),
  StringEqualsIgnoreCase: op('stringi'),
  StringNotEqualsIgnoreCase: op('stringi', true),
  StringLike: op('like'),
  StringNotLike: op('like', true),
  NumericEquals: op('numeric'),
  NumericNotEquals: op('numeric', true),
  NumericLessThan: op('numeric', false, 'lt'),
  NumericLessThanEquals: op('numeric', false, 'le'),
  NumericGreaterThan: op('numeric', false, 'gt'),
  NumericGreaterThanEquals: op('numeric', false, 'ge'),
  DateEquals: op('date'),
  DateNotEquals: op('date', true),
  DateLessThan: op('date', false, 'lt'),
  DateLessThanEquals: op('date', false, 'le'),
  DateGreaterThan: op('date', false, 'gt'),
  DateGreaterThanEquals: op('date', false, 'ge'),
  Bool: op('bool'),
  BinaryEquals: op('binary'),
  IpAddress: op('ip'),
  NotIpAddress: op('ip', true),
  ArnEquals: op('arn'),
  ArnLike: op('arn'),
  ArnNotEquals: op('arn', true),
  ArnNotLike: op('arn', true),
  Null: op('null'),
};

export type SetQualifier = 'ForAllValues' | 'ForAnyValue';

export interface Operator {
  /** The name without qualifier and `IfExists`: `StringLike`. */
  name: string;
  base: BaseOp;
  qualifier: SetQualifier | undefined;
  ifExists: boolean;
}

/** Splits `ForAnyValue:StringLikeIfExists` into its parts, or undefined for an unknown operator. */
export function parseOperator(full: string): Operator | undefined {
  let name = full;
  let qualifier: SetQualifier | undefined;
  for (const q of ['ForAllValues', 'ForAnyValue'] as const) {
    if (name.startsWith(`${q}:`)) {
      qualifier = q;
      name = name.slice(q.length + 1);
    }
  }
  let ifExists = false;
  if (name.endsWith('IfExists')) {
    ifExists = true;
    name = name.slice(0, -'IfExists'.length);
  }
  const base = Object.hasOwn(BASE_OPERATORS, name) ? BASE_OPERATORS[name] : undefined;
  if (!base) return undefined;
  // AWS: "You can add IfExists to the end of any condition operator name except the Null condition".
  if (base.family === 'null' && (ifExists || qualifier)) return undefined;
  return { name, base, qualifier, ifExists };
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CONDITION_KEY_RE = /^[A-Za-z0-9-]+:[^\s]+$/;

/** Whether `key` has the shape of a condition key (`service:name`). */
export function isConditionKeyShape(key: string): boolean {
  return CONDITION_KEY_RE.test(key);
}

/**
 * What is wrong with `value` for this operator, or undefined when it is acceptable. Policy
 * variables are allowed only where AWS allows them (string, ARN and Bool operators).
 */
export function checkConditionValue(o: Operator, value: string, variables: boolean): string | undefined {
  const hasVar = variables && value.includes('${');
  switch (o.base.family) {
    case 'numeric':
      return parseNumber(value) === undefined ? `'${value}' is not a number` : undefined;
    case 'date':
      return parseDate(value) === undefined ? `'${value}' is not an ISO 8601 date or epoch time` : undefined;
    case 'bool':
      return hasVar || /^(true|false)$/i.test(value) ? undefined : `'${value}' is not 'true' or 'false'`;
    case 'null':
      return /^(true|false)$/i.test(value) ? undefined : `'${value}' is not 'true' or 'false'`;
    case 'binary':
      return BASE64_RE.test(value) ? undefined : `'${value}' is not base64`;
    case 'ip':
      return parseCidr(value) === undefined ? `'${value}' is not an IP address or CIDR block` : undefined;
    case 'arn':
      return hasVar || splitArn(value) ? undefined : `'${value}' is not an ARN`;
    default:
      return undefined;
  }
}

/** Does one request value match any of the policy's values (the operator's positive form)? */
type ValueTest = (requestValue: string, lookup: VarLookup) => boolean;

export interface CompiledCondition {
  /** Lower-cased condition key. */
  readonly key: string;
  readonly negated: boolean;
  readonly qualifier: SetQualifier | undefined;
  readonly ifExists: boolean;
  /** `Null`: the expected absence of the key, per value (`true`: absent). */
  readonly nullExpect: readonly boolean[] | undefined;
  readonly test: ValueTest;
}

function compare(cmp: Cmp, a: number, b: number): boolean {
  switch (cmp) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
  }
}

const never: ValueTest = () => false;

function compileTest(o: Operator, values: readonly string[], variables: boolean): ValueTest {
  const { family, cmp } = o.base;
  switch (family) {
    case 'string': {
      const pats = values.map((v) => compilePattern(v, { wildcards: false, variables }));
      if (pats.every((p) => !p.hasVars)) {
        const set = new Set(values);
        return (r) => set.has(r);
      }
      return (r, lookup) => pats.some((p) => patternText(p, lookup) === r);
    }
    case 'stringi': {
      const pats = values.map((v) => compilePattern(v, { wildcards: false, variables, lower: true }));
      return (r, lookup) => {
        const lr = r.toLowerCase();
        return pats.some((p) => patternText(p, lookup, true) === lr);
      };
    }
    case 'like': {
      const pats: Pattern[] = values.map((v) => compilePattern(v, { wildcards: true, variables }));
      return (r, lookup) => pats.some((p) => matchPattern(p, r, lookup));
    }
    case 'numeric': {
      const nums = values.map((v) => parseNumber(v)!);
      return (r) => {
        const n = parseNumber(r);
        return n !== undefined && nums.some((p) => compare(cmp, n, p));
      };
    }
    case 'date': {
      const times = values.map((v) => parseDate(v)!);
      return (r) => {
        const t = parseDate(r);
        return t !== undefined && times.some((p) => compare(cmp, t, p));
      };
    }
    case 'bool': {
      const pats = values.map((v) => compilePattern(v, { wildcards: false, variables, lower: true }));
      return (r, lookup) => {
        const lr = r.toLowerCase();
        return pats.some((p) => patternText(p, lookup, true) === lr);
      };
    }
    case 'binary': {
      const bufs = values.map((v) => Buffer.from(v, 'base64'));
      return (r) => {
        if (!BASE64_RE.test(r)) return false;
        const b = Buffer.from(r, 'base64');
        return bufs.some((p) => p.equals(b));
      };
    }
    case 'ip': {
      const cidrs: Cidr[] = values.map((v) => parseCidr(v)!);
      return (r) => {
        const ip = parseIp(r);
        return ip !== undefined && cidrs.some((c) => cidrContains(c, ip));
      };
    }
    case 'arn': {
      const pats = values
        .map((v) => compileArnPattern(v, { wildcards: true, variables }))
        .filter((p): p is ArnPattern => p !== undefined);
      return (r, lookup) => {
        const parts = splitArn(r);
        return parts !== undefined && pats.some((p) => matchArn(p, parts, lookup));
      };
    }
    case 'null':
      return never;
  }
}

/** Compiles a parsed (already validated) condition block. */
export function compileConditions(block: ConditionBlock, variables: boolean): CompiledCondition[] {
  const out: CompiledCondition[] = [];
  for (const [name, keys] of Object.entries(block)) {
    const o = parseOperator(name);
    if (!o) {
      // parsePolicy refuses these; in a hand-built Policy one makes the statement match nothing.
      out.push(FALSE_CONDITION);
      continue;
    }
    for (const [key, values] of Object.entries(keys)) {
      out.push({
        key: key.toLowerCase(),
        negated: o.base.negated,
        qualifier: o.qualifier,
        ifExists: o.ifExists,
        nullExpect: o.base.family === 'null' ? values.map((v) => v.toLowerCase() === 'true') : undefined,
        test: compileTest(o, values, variables),
      });
    }
  }
  return out;
}

const FALSE_CONDITION: CompiledCondition = {
  key: '',
  negated: false,
  qualifier: undefined,
  ifExists: false,
  nullExpect: undefined,
  test: never,
};

function holds(c: CompiledCondition, lookup: VarLookup): boolean {
  const vals = lookup(c.key);
  const present = vals !== undefined && vals.length > 0;
  if (c.nullExpect) return c.nullExpect.some((absent) => absent === !present);
  if (!present) {
    if (c.ifExists) return true;
    if (c.qualifier === 'ForAllValues') return true;
    if (c.qualifier === 'ForAnyValue') return false;
    return c.negated;
  }
  switch (c.qualifier) {
    case 'ForAllValues':
      return vals.every((r) => c.test(r, lookup) !== c.negated);
    case 'ForAnyValue':
      return vals.some((r) => c.test(r, lookup) !== c.negated);
    default: {
      const any = vals.some((r) => c.test(r, lookup));
      return c.negated ? !any : any;
    }
  }
}

/** Whether every condition holds for the request. */
export function conditionsHold(cs: readonly CompiledCondition[], lookup: VarLookup): boolean {
  for (const c of cs) if (!holds(c, lookup)) return false;
  return true;
}
