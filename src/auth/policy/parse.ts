/**
 * Reading a policy document: strict, so that what is stored is exactly what is understood. Every
 * problem is a `PolicyError` whose message names the place and the fault; where AWS has a fixed
 * phrase for the fault ("Policy has invalid action", "Invalid principal in policy", "Action does not
 * apply to any resource(s) in statement") the message carries it.
 *
 * The caller keeps the original text (GetBucketPolicy returns the document as it was put); the
 * returned `Policy` is the normalised form the evaluator works on: single values become lists,
 * condition values strings, and a missing Version is '2008-10-17' (IAM: "If you do not include a
 * Version element, the value defaults to 2008-10-17"; S3 accepts such bucket policies).
 */
import { ACTIONS_BY_SERVICE, isS3ConditionKey, S3_ACTION_TYPES, type S3ResourceType } from './actions';
import { checkConditionValue, isConditionKeyShape, parseOperator } from './conditions';
import { PolicyError } from './errors';
import { compilePattern, matchPattern, splitArn } from './pattern';
import type { ConditionBlock, Policy, Statement } from './types';

export interface ParseOptions {
  /** `identity`: attached to users/groups (no Principal); `resource`: a bucket policy (Principal required). */
  kind: 'identity' | 'resource';
  /** For a bucket policy: the bucket it is for; every Resource must be in it. */
  bucket?: string;
  /** Size limit in bytes; default 20 KiB for bucket policies (AWS's limit), none for identity policies. */
  maxBytes?: number;
}

/** AWS: "The bucket policy size is limited to 20 KB." */
export const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

const VERSIONS = ['2012-10-17', '2008-10-17'] as const;
const TOP_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_KINDS = new Set(['AWS', 'CanonicalUser', 'Service', 'Federated']);

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NOT_JSON = "Policies must be valid JSON and the first byte must be '{'";

export function parsePolicy(text: string | Buffer, opts: ParseOptions): Policy {
  const size = typeof text === 'string' ? Buffer.byteLength(text) : text.length;
  const max = opts.maxBytes ?? (opts.kind === 'resource' ? MAX_BUCKET_POLICY_BYTES : undefined);
  if (max !== undefined && size > max) {
    throw new PolicyError(
      `Policy exceeds the maximum allowed document size (${size} bytes, the limit is ${max})`,
    );
  }
  const src = typeof text === 'string' ? text : text.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(src);
  } catch (e) {
    throw new PolicyError(`${NOT_JSON} (${(e as Error).message})`);
  }
  if (!isObject(doc)) throw new PolicyError(NOT_JSON);
  // JSON.parse keeps the last of two equal keys; the stored text would say both. Refuse it.
  const dup = duplicateKey(src);
  if (dup !== undefined) throw new PolicyError(`duplicate field '${dup}'`);
  return new Parser(opts).policy(doc);
}

/** The first key that appears twice in one object of (well-formed) JSON text, if any. */
function duplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        const seen = stack[stack.length - 1]!;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') expectKey = stack[stack.length - 1] != null;
  }
  return undefined;
}

class Parser {
  private variables = true;

  constructor(private readonly opts: ParseOptions) {}

  policy(doc: JsonObject): Policy {
    for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw new PolicyError(`unknown field '${k}'`);
    let version: Policy['Version'] = '2008-10-17';
    if (doc.Version !== undefined) {
      const v = doc.Version;
      if (typeof v !== 'string' || !(VERSIONS as readonly string[]).includes(v)) {
        throw new PolicyError(`invalid Version ${JSON.stringify(v)} (expected '2012-10-17' or '2008-10-17')`);
      }
      version = v as Policy['Version'];
    }
    // Policy variables came with 2012-10-17; before it `${aws:username}` is literal text.
    this.variables = version === '2012-10-17';
    const out: Policy = { Version: version, Statement: [] };
    if (doc.Id !== undefined) {
      if (typeof doc.Id !== 'string') throw new PolicyError('Id must be a string');
      out.Id = doc.Id;
    }
    const st = doc.Statement;
    if (st === undefined) throw new PolicyError('missing required field Statement');
    const list = Array.isArray(st) ? st : [st];
    if (list.length === 0) throw new PolicyError('Statement must not be empty');
    out.Statement = list.map((s, i) => this.statement(s, `Statement[${i}]`));
    return out;
  }

  private statement(s: Json, at: string): Statement {
    if (!isObject(s)) throw new PolicyError(`${at}: a statement must be an object`);
    for (const k of Object.keys(s)) {
      if (!STATEMENT_KEYS.has(k)) throw new PolicyError(`${at}: unknown field '${k}'`);
    }
    if (s.Sid !== undefined && typeof s.Sid !== 'string')
      throw new PolicyError(`${at}: Sid must be a string`);
    if (s.Effect === undefined) throw new PolicyError(`${at}: missing required field Effect`);
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
      throw new PolicyError(`${at}: unknown Effect ${JSON.stringify(s.Effect)} (expected 'Allow' or 'Deny')`);
    }
    const out: Statement = { Effect: s.Effect };
    if (s.Sid !== undefined) out.Sid = s.Sid as string;

    if (this.opts.kind === 'identity') {
      if (s.Principal !== undefined || s.NotPrincipal !== undefined) {
        throw new PolicyError(`${at}: Policy document should not specify a principal`);
      }
    } else {
      if (s.Principal !== undefined && s.NotPrincipal !== undefined) {
        throw new PolicyError(`${at}: Principal and NotPrincipal cannot both be present`);
      }
      if (s.Principal === undefined && s.NotPrincipal === undefined) {
        throw new PolicyError(`${at}: missing required field Principal`);
      }
      if (s.Principal !== undefined) out.Principal = this.principal(s.Principal, `${at}.Principal`, true);
      else {
        const np = this.principal(s.NotPrincipal!, `${at}.NotPrincipal`, false);
        if (np === '*') throw new PolicyError(`${at}.NotPrincipal: Invalid principal in policy '*'`);
        out.NotPrincipal = np;
      }
    }

    const actions = this.oneOf(s, 'Action', 'NotAction', at);
    for (const a of actions.values) {
      const why = this.actionProblem(a);
      if (why) throw new PolicyError(`${at}: ${why}`);
    }
    out[actions.name] = actions.values;

    const resources = this.oneOf(s, 'Resource', 'NotResource', at);
    for (const r of resources.values) {
      const why = this.resourceProblem(r);
      if (why) throw new PolicyError(`${at}: ${why}`);
    }
    out[resources.name] = resources.values;

    if (this.opts.kind === 'resource' && actions.name === 'Action' && resources.name === 'Resource') {
      this.checkApplicable(actions.values, resources.values, at);
    }

    if (s.Condition !== undefined) out.Condition = this.condition(s.Condition, `${at}.Condition`);
    return out;
  }

  private oneOf<A extends 'Action' | 'Resource', N extends 'NotAction' | 'NotResource'>(
    s: JsonObject,
    name: A,
    notName: N,
    at: string,
  ): { name: A | N; values: string[] } {
    if (s[name] !== undefined && s[notName] !== undefined) {
      throw new PolicyError(`${at}: ${name} and ${notName} cannot both be present`);
    }
    if (s[name] !== undefined) return { name, values: this.strings(s[name]!, `${at}.${name}`) };
    if (s[notName] !== undefined)
      return { name: notName, values: this.strings(s[notName]!, `${at}.${notName}`) };
    throw new PolicyError(`${at}: missing required field ${name} (or ${notName})`);
  }

  /** A string or a non-empty list of non-empty strings, as a list. */
  private strings(v: Json, at: string): string[] {
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0) throw new PolicyError(`${at} must not be empty`);
    return list.map((x, i) => {
      if (typeof x !== 'string' || x === '') {
        throw new PolicyError(`${Array.isArray(v) ? `${at}[${i}]` : at} must be a non-empty string`);
      }
      return x;
    });
  }

  private actionProblem(a: string): string | undefined {
    const invalid = `Policy has invalid action '${a}'`;
    if (a === '*') return undefined;
    const m = /^([A-Za-z0-9-]+):([A-Za-z0-9*?-]+)$/.exec(a);
    if (!m) return invalid;
    const service = m[1]!.toLowerCase();
    // A bucket policy speaks of S3 only.
    if (this.opts.kind === 'resource' && service !== 's3') return invalid;
    if (!Object.hasOwn(ACTIONS_BY_SERVICE, service)) return invalid;
    const known = knownLower(service);
    if (known === null) return undefined;
    const name = m[2]!.toLowerCase();
    if (!/[*?]/.test(name)) return known.has(name) ? undefined : invalid;
    const p = compilePattern(name, { wildcards: true, variables: false });
    for (const k of known) if (matchPattern(p, k, noVars)) return undefined;
    return invalid;
  }

  private resourceProblem(r: string): string | undefined {
    const invalid = `Policy has invalid resource '${r}'`;
    if (r === '*') return this.opts.kind === 'resource' ? invalid : undefined;
    const parts = splitArn(r);
    if (parts?.[0] !== 'arn') return invalid;
    const [, partition, service, region, account, res] = parts as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!/^[a-z][a-z0-9-]*$/.test(partition) || !/^[A-Za-z0-9*?-]+$/.test(service) || res === '')
      return invalid;
    // AWS: a policy variable may stand "only in the resource portion of the ARN".
    if (this.variables && [partition, service, region, account].some((x) => x.includes('${'))) return invalid;
    if (this.opts.kind === 'identity') return undefined;
    if (partition !== 'aws' || service !== 's3' || region !== '' || account !== '') return invalid;
    if (this.opts.bucket !== undefined) {
      const slash = res.indexOf('/');
      const bucketPart = slash < 0 ? res : res.slice(0, slash);
      const p = compilePattern(bucketPart, { wildcards: true, variables: this.variables });
      if (!matchPattern(p, this.opts.bucket, noVars)) {
        return `${invalid}: a bucket policy can only name bucket '${this.opts.bucket}' and its objects`;
      }
    }
    return undefined;
  }

  /** AWS refuses a bucket policy statement with an action none of its resources can be the target of. */
  private checkApplicable(actions: string[], resources: string[], at: string): void {
    let bucket = false;
    let object = false;
    for (const r of resources) {
      const res = splitArn(r)![5]!;
      if (res.includes('/')) object = true;
      else if (/[*?]|\$\{/.test(res)) object = bucket = true;
      else bucket = true;
    }
    for (const a of actions) {
      const types = actionTypes(a);
      if ((types.has('object') && object) || (types.has('bucket') && bucket)) continue;
      throw new PolicyError(`${at}: Action does not apply to any resource(s) in statement ('${a}')`);
    }
  }

  private principal(p: Json, at: string, allowStar: boolean): '*' | Record<string, string[]> {
    const invalid = (v: unknown) =>
      new PolicyError(`${at}: Invalid principal in policy ${JSON.stringify(v)}`);
    if (p === '*' && allowStar) return '*';
    if (!isObject(p) || Object.keys(p).length === 0) throw invalid(p);
    const out: Record<string, string[]> = {};
    for (const [kind, v] of Object.entries(p)) {
      if (!PRINCIPAL_KINDS.has(kind)) throw new PolicyError(`${at}: unknown principal type '${kind}'`);
      const values = this.strings(v, `${at}.${kind}`);
      if (kind === 'AWS') for (const x of values) if (!isAwsPrincipal(x)) throw invalid(x);
      out[kind] = values;
    }
    return out;
  }

  private condition(c: Json, at: string): ConditionBlock {
    if (!isObject(c)) throw new PolicyError(`${at} must be an object`);
    const out: ConditionBlock = {};
    for (const [opName, keys] of Object.entries(c)) {
      const o = parseOperator(opName);
      if (!o) throw new PolicyError(`${at}: unknown condition operator '${opName}'`);
      const here = `${at}.${opName}`;
      if (!isObject(keys) || Object.keys(keys).length === 0) {
        throw new PolicyError(`${here} must be an object of condition keys`);
      }
      const block: Record<string, string[]> = {};
      for (const [key, raw] of Object.entries(keys)) {
        if (!isConditionKeyShape(key)) throw new PolicyError(`${here}: invalid condition key '${key}'`);
        if (this.opts.kind === 'resource') {
          const ns = key.slice(0, key.indexOf(':')).toLowerCase();
          if (ns !== 'aws' && !(ns === 's3' && isS3ConditionKey(key))) {
            throw new PolicyError(`${here}: Policy has an invalid condition key '${key}'`);
          }
        }
        const list = Array.isArray(raw) ? raw : [raw];
        if (list.length === 0) throw new PolicyError(`${here}['${key}'] must not be empty`);
        block[key] = list.map((v) => {
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
            throw new PolicyError(`${here}['${key}']: a value must be a string, number or boolean`);
          }
          const s = String(v);
          const why = checkConditionValue(o, s, this.variables);
          if (why) throw new PolicyError(`${here}['${key}']: ${why}`);
          return s;
        });
      }
      out[opName] = block;
    }
    return out;
  }
}

const noVars = () => undefined;

const knownCache = new Map<string, Set<string> | null>();
function knownLower(service: string): Set<string> | null {
  let k = knownCache.get(service);
  if (k === undefined) {
    const list = ACTIONS_BY_SERVICE[service];
    k = list ? new Set(list.map((a) => a.toLowerCase())) : null;
    knownCache.set(service, k);
  }
  return k;
}

/** The resource types of the S3 actions a (possibly wildcard) action names. */
function actionTypes(a: string): Set<S3ResourceType> {
  const types = new Set<S3ResourceType>();
  const p = compilePattern(a.toLowerCase(), { wildcards: true, variables: false });
  for (const [name, t] of S3_ACTION_TYPES) if (matchPattern(p, name, noVars)) types.add(t);
  return types;
}

const IAM_NAME = '[\\w+=,.@-]+';
const AWS_PRINCIPAL_RE = new RegExp(
  `^(?:\\*|\\d{12}|${IAM_NAME}|arn:aws:iam::\\d*:(?:root|(?:user|role)/(?:${IAM_NAME}/)*${IAM_NAME})|arn:aws:sts::\\d*:assumed-role/${IAM_NAME}/${IAM_NAME})$`,
);

/**
 * `*`, an account id, an IAM user / role / root ARN, an STS assumed-role ARN, or (Cairn) a bare user
 * name or access key.
 */
function isAwsPrincipal(v: string): boolean {
  return AWS_PRINCIPAL_RE.test(v);
}

/** The canonical JSON of a policy: fields in AWS's order, every list a list. */
export function serializePolicy(p: Policy): string {
  return JSON.stringify({
    Version: p.Version,
    ...(p.Id !== undefined ? { Id: p.Id } : {}),
    Statement: p.Statement.map((s) => {
      const o: Record<string, unknown> = {};
      for (const k of STATEMENT_KEYS) {
        const v = s[k as keyof Statement];
        if (v !== undefined) o[k] = v;
      }
      return o;
    }),
  });
}
