/**
 * Policy evaluation, on every request: each policy is compiled once (action sets, resource and
 * condition matchers) and kept in a WeakMap keyed by the Policy object, so policies must not be
 * mutated after they are first evaluated (parse a new one instead).
 *
 * AWS ("Policy evaluation logic"): an explicit Deny in any policy wins; otherwise an Allow allows;
 * otherwise the request is implicitly denied, which this module reports as 'NotApplicable' so that
 * the caller can combine identity policies, bucket policies and session policies as AWS does.
 */
import { type CompiledCondition, compileConditions, conditionsHold } from './conditions';
import {
  type ArnPattern,
  compileArnPattern,
  compilePattern,
  matchArn,
  matchPattern,
  type Pattern,
  splitArn,
  type VarLookup,
} from './pattern';
import type { AuthzRequest, Decision, Policy, PrincipalInfo, Statement } from './types';

interface ActionMatcher {
  readonly exact: ReadonlySet<string>;
  readonly globs: readonly Pattern[];
}

/** `undefined` arn: the pattern `*`, which matches everything. */
interface ResourceMatcher {
  readonly arn: ArnPattern | undefined;
}

type PrincipalRef =
  | { readonly type: 'root'; readonly arn: string }
  | { readonly type: 'user'; readonly arn: string; readonly name: string }
  | { readonly type: 'arn'; readonly arn: string }
  | { readonly type: 'name'; readonly name: string };

interface PrincipalMatcher {
  readonly any: boolean;
  readonly refs: readonly PrincipalRef[];
}

interface CompiledStatement {
  readonly deny: boolean;
  readonly actions: ActionMatcher;
  readonly notAction: boolean;
  /** Undefined for a (hand-built) statement without Resource/NotResource: it applies to all. */
  readonly resources: readonly ResourceMatcher[] | undefined;
  readonly notResource: boolean;
  readonly principal: PrincipalMatcher | undefined;
  readonly notPrincipal: boolean;
  readonly conditions: readonly CompiledCondition[];
}

const compiled = new WeakMap<Policy, readonly CompiledStatement[]>();

function compilePolicy(p: Policy): readonly CompiledStatement[] {
  let c = compiled.get(p);
  if (!c) {
    const variables = p.Version === '2012-10-17';
    c = p.Statement.map((s) => compileStatement(s, variables));
    compiled.set(p, c);
  }
  return c;
}

function compileStatement(s: Statement, variables: boolean): CompiledStatement {
  const actionList = s.Action ?? s.NotAction ?? [];
  const exact = new Set<string>();
  const globs: Pattern[] = [];
  for (const a of actionList) {
    const p = compilePattern(a.toLowerCase(), { wildcards: true, variables: false });
    if (p.kind === 'exact') exact.add(p.literal);
    else globs.push(p);
  }
  const resourceList = s.Resource ?? s.NotResource;
  const principal = s.Principal ?? s.NotPrincipal;
  return {
    deny: s.Effect === 'Deny',
    actions: { exact, globs },
    notAction: s.Action === undefined && s.NotAction !== undefined,
    resources: resourceList?.map((r) => ({
      arn: r === '*' ? undefined : (compileArnPattern(r, { wildcards: true, variables }) ?? NEVER_ARN),
    })),
    notResource: s.Resource === undefined && s.NotResource !== undefined,
    principal: principal === undefined ? undefined : compilePrincipal(principal),
    notPrincipal: s.Principal === undefined && s.NotPrincipal !== undefined,
    conditions: s.Condition ? compileConditions(s.Condition, variables) : [],
  };
}

/** A malformed ARN in a hand-built policy: matches nothing (its first component never equals 'arn'). */
const NEVER_ARN: ArnPattern = Array.from({ length: 6 }, () =>
  compilePattern('\u0000', { wildcards: false, variables: false }),
);

const ROOT_ARN_RE = /^arn:aws:iam::(\d*):root$/;
const USER_ARN_RE = /^arn:aws:iam::\d*:user\/(?:.*\/)?([^/]+)$/;

function compilePrincipal(p: '*' | Record<string, string[]>): PrincipalMatcher {
  if (p === '*') return { any: true, refs: [] };
  // Only AWS principals name anyone Cairn knows (no services, federations or canonical users).
  const aws = p.AWS ?? [];
  const refs: PrincipalRef[] = [];
  let any = false;
  for (const v of aws) {
    if (v === '*') any = true;
    else if (/^\d{12}$/.test(v)) refs.push({ type: 'root', arn: `arn:aws:iam::${v}:root` });
    else if (ROOT_ARN_RE.test(v)) refs.push({ type: 'root', arn: v });
    else {
      const user = USER_ARN_RE.exec(v);
      if (user) refs.push({ type: 'user', arn: v, name: user[1]! });
      else if (v.startsWith('arn:')) refs.push({ type: 'arn', arn: v });
      else refs.push({ type: 'name', name: v });
    }
  }
  return { any, refs };
}

function principalMatches(m: PrincipalMatcher, p: PrincipalInfo): boolean {
  // AWS: "*" includes anonymous requests; nothing else does.
  if (m.any) return true;
  if (p.anonymous) return false;
  for (const r of m.refs) {
    switch (r.type) {
      case 'root':
        if (p.arn !== undefined ? p.arn === r.arn : p.username === 'root') return true;
        break;
      case 'user':
        if (p.arn !== undefined ? p.arn === r.arn : p.username === r.name) return true;
        break;
      case 'arn':
        if (p.arn === r.arn) return true;
        break;
      case 'name':
        if (p.username === r.name || p.accessKey === r.name) return true;
        break;
    }
  }
  return false;
}

function actionMatches(m: ActionMatcher, action: string): boolean {
  if (m.exact.has(action)) return true;
  for (const g of m.globs) if (matchPattern(g, action, noVars)) return true;
  return false;
}

const noVars: VarLookup = () => undefined;

/**
 * `resource` is `*` for a service-level action (ListAllMyBuckets, admin actions): it is matched by
 * the pattern `*` and by any ARN pattern whose resource part is `*` (`arn:aws:s3:::*`, as AWS's own
 * examples grant ListAllMyBuckets and as MinIO's canned policies grant admin actions).
 */
function resourceMatches(
  m: ResourceMatcher,
  resource: string,
  parts: readonly string[] | undefined,
  lookup: VarLookup,
): boolean {
  if (m.arn === undefined) return true;
  if (resource === '*') return m.arn[5]!.kind === 'any';
  return parts !== undefined && matchArn(m.arn, parts, lookup);
}

/** Condition keys by lower-cased name, built on first use (most statements have no condition). */
function makeLookup(conditions: Record<string, string[]>): VarLookup {
  let map: Map<string, string[]> | undefined;
  return (key) => {
    if (!map) {
      map = new Map();
      for (const [k, v] of Object.entries(conditions)) map.set(k.toLowerCase(), v);
    }
    return map.get(key);
  };
}

/**
 * What `policies` say about `req`: 'Deny' if a statement denies it, else 'Allow' if one allows it,
 * else 'NotApplicable'.
 */
export function evaluate(policies: readonly Policy[], req: AuthzRequest): Decision {
  const action = req.action.toLowerCase();
  const resource = req.resource;
  const parts = resource === '*' ? undefined : splitArn(resource);
  const lookup = makeLookup(req.conditions);
  let allowed = false;
  for (const p of policies) {
    for (const s of compilePolicy(p)) {
      // An Allow cannot change the answer once something allowed it; only a Deny can.
      if (allowed && !s.deny) continue;
      if (actionMatches(s.actions, action) === s.notAction) continue;
      if (s.resources) {
        let hit = false;
        for (const r of s.resources) {
          if (resourceMatches(r, resource, parts, lookup)) {
            hit = true;
            break;
          }
        }
        if (hit === s.notResource) continue;
      }
      if (s.principal && principalMatches(s.principal, req.principal) === s.notPrincipal) continue;
      if (!conditionsHold(s.conditions, lookup)) continue;
      if (s.deny) return 'Deny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'NotApplicable';
}
