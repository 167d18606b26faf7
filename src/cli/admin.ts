/**
 * `cairn admin ...`: the admin API's client (`AdminClient`, signed with the repo's own SigV4 signer,
 * over `fetch`) and its command line: tables for people, `--json` for scripts.
 *
 *   cairn admin user add alice alice-secret-1 --policy readwrite
 *   cairn admin --json user list
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { signRequest } from '../auth/sign';
import type { Env } from '../server/config';
import { envValue } from '../server/config';

export const ADMIN_API = '/cairn/admin/v1';

export interface AdminClientOptions {
  /** `http://host:9000` */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
  /** The region the server answers for (default us-east-1). */
  region?: string;
}

/** An error answer of the admin API: its `Code`, `Message`, `RequestId` and HTTP status. */
export class AdminApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

type Json = unknown;

/** The admin API, one method per endpoint (see `docs/iam.md`). */
export class AdminClient {
  readonly endpoint: URL;
  constructor(private readonly opts: AdminClientOptions) {
    this.endpoint = new URL(opts.endpoint);
  }

  /** One signed call; resolves to the parsed JSON answer (undefined for 204), rejects with `AdminApiError`. */
  async request(
    method: string,
    path: string,
    opts: { query?: URLSearchParams; body?: Json | string } = {},
  ): Promise<Json> {
    const url = new URL(`${ADMIN_API}${path}`, this.endpoint);
    const query = opts.query?.toString().replace(/\+/g, '%20') ?? '';
    const body =
      opts.body === undefined
        ? undefined
        : typeof opts.body === 'string'
          ? opts.body
          : JSON.stringify(opts.body);
    const headers: Record<string, string> = { host: url.host };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const signed = signRequest(
      { method, path: url.pathname, query, headers, ...(body !== undefined ? { body } : {}) },
      {
        credentials: {
          accessKey: this.opts.accessKey,
          secretKey: this.opts.secretKey,
          ...(this.opts.sessionToken ? { sessionToken: this.opts.sessionToken } : {}),
        },
        region: this.opts.region ?? 'us-east-1',
      },
    );
    const { host: _host, ...send } = signed.headers;
    const res = await fetch(`${url.origin}${url.pathname}${query ? `?${query}` : ''}`, {
      method,
      headers: send,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    if (res.status === 204) return undefined;
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed ?? {}) as { Code?: string; Message?: string; RequestId?: string };
      // Errors from outside the admin API (S3's XML, a proxy) still say something useful.
      const code = e.Code ?? /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${res.status}`;
      const message =
        e.Message ?? /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? (text.slice(0, 200) || res.statusText);
      throw new AdminApiError(
        code,
        message,
        res.status,
        e.RequestId ?? res.headers.get('x-amz-request-id') ?? '',
      );
    }
    if (parsed === undefined && text !== '')
      throw new AdminApiError('InvalidResponse', 'the answer is not JSON', res.status, '');
    return parsed;
  }

  private p(name: string): string {
    return encodeURIComponent(name);
  }

  // server
  serverInfo() {
    return this.request('GET', '/info');
  }
  heal(opts: { bucket?: string; prefix?: string; dryRun?: boolean; deep?: boolean } = {}) {
    return this.request('POST', '/heal', { body: opts });
  }
  // users
  listUsers() {
    return this.request('GET', '/users');
  }
  addUser(opts: { accessKey?: string; secretKey?: string; policies?: string[] } = {}) {
    return this.request('POST', '/users', { body: opts });
  }
  userInfo(name: string) {
    return this.request('GET', `/users/${this.p(name)}`);
  }
  setUserStatus(name: string, status: 'enabled' | 'disabled') {
    return this.request('PUT', `/users/${this.p(name)}/status`, { body: { status } });
  }
  setUserSecret(name: string, secretKey: string) {
    return this.request('PUT', `/users/${this.p(name)}/secret`, { body: { secretKey } });
  }
  setUserPolicies(name: string, policies: string[]) {
    return this.request('PUT', `/users/${this.p(name)}/policies`, { body: { policies } });
  }
  removeUser(name: string) {
    return this.request('DELETE', `/users/${this.p(name)}`);
  }
  // groups
  listGroups() {
    return this.request('GET', '/groups');
  }
  groupInfo(name: string) {
    return this.request('GET', `/groups/${this.p(name)}`);
  }
  addGroupMembers(name: string, members: string[]) {
    return this.request('POST', `/groups/${this.p(name)}/members`, { body: { members } });
  }
  removeGroupMembers(name: string, members: string[]) {
    const query = new URLSearchParams(members.map((m): [string, string] => ['member', m]));
    return this.request('DELETE', `/groups/${this.p(name)}/members`, { query });
  }
  removeGroup(name: string) {
    return this.request('DELETE', `/groups/${this.p(name)}`);
  }
  setGroupStatus(name: string, status: 'enabled' | 'disabled') {
    return this.request('PUT', `/groups/${this.p(name)}/status`, { body: { status } });
  }
  setGroupPolicies(name: string, policies: string[]) {
    return this.request('PUT', `/groups/${this.p(name)}/policies`, { body: { policies } });
  }
  // policies
  listPolicies() {
    return this.request('GET', '/policies');
  }
  policyInfo(name: string) {
    return this.request('GET', `/policies/${this.p(name)}`);
  }
  createPolicy(name: string, document: string) {
    return this.request('PUT', `/policies/${this.p(name)}`, { body: document });
  }
  removePolicy(name: string) {
    return this.request('DELETE', `/policies/${this.p(name)}`);
  }
  attachPolicies(policies: string[], to: { user?: string; group?: string }) {
    return this.request('POST', '/policies/attach', { body: { policies, ...to } });
  }
  detachPolicies(policies: string[], to: { user?: string; group?: string }) {
    return this.request('POST', '/policies/detach', { body: { policies, ...to } });
  }
  // service accounts
  listServiceAccounts(opts: { user?: string; all?: boolean } = {}) {
    const query = new URLSearchParams();
    if (opts.user !== undefined) query.set('user', opts.user);
    if (opts.all) query.set('all', '');
    return this.request('GET', '/service-accounts', { query });
  }
  addServiceAccount(
    opts: {
      user?: string;
      accessKey?: string;
      secretKey?: string;
      policy?: string;
      expiresAt?: string;
      name?: string;
      description?: string;
    } = {},
  ) {
    return this.request('POST', '/service-accounts', { body: opts });
  }
  serviceAccountInfo(accessKey: string) {
    return this.request('GET', `/service-accounts/${this.p(accessKey)}`);
  }
  updateServiceAccount(
    accessKey: string,
    update: {
      status?: 'enabled' | 'disabled';
      policy?: string | null;
      expiresAt?: string | null;
      secretKey?: string;
      name?: string;
      description?: string;
    },
  ) {
    return this.request('PATCH', `/service-accounts/${this.p(accessKey)}`, { body: update });
  }
  removeServiceAccount(accessKey: string) {
    return this.request('DELETE', `/service-accounts/${this.p(accessKey)}`);
  }
}

// --- output ----------------------------------------------------------------------------------------

/** A plain text table: a header row, then the rows, columns padded to their widest cell. */
export function table(head: string[], rows: (string | number | undefined)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === undefined ? '' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function bytes(n: number | undefined): string {
  if (n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function duration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

type Row = Record<string, unknown>;
const s = (v: unknown): string =>
  v === undefined || v === null ? '' : Array.isArray(v) ? v.join(',') : String(v);

function kv(pairs: [string, unknown][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${s(v)}`.trimEnd()).join('\n')}\n`;
}

/** How each command's answer reads for people. */
const HUMAN: Record<string, (r: unknown) => string> = {
  users: (r) =>
    table(
      ['ACCESS KEY', 'STATUS', 'POLICIES', 'GROUPS'],
      (r as Row[]).map((u) => [s(u.accessKey), s(u.status), s(u.policies), s(u.groups)]),
    ),
  user: (r) => {
    const u = r as Row;
    return kv([
      ['Access key', u.accessKey],
      ...(u.secretKey !== undefined ? ([['Secret key', u.secretKey]] as [string, unknown][]) : []),
      ['Status', u.status],
      ['Policies', u.policies],
      ['Groups', u.groups],
      ['Created', u.createdAt],
    ]);
  },
  groups: (r) =>
    table(
      ['GROUP', 'STATUS', 'MEMBERS', 'POLICIES'],
      (r as Row[]).map((g) => [s(g.name), s(g.status), s(g.members), s(g.policies)]),
    ),
  group: (r) => {
    const g = r as Row;
    return kv([
      ['Group', g.name],
      ['Status', g.status],
      ['Members', g.members],
      ['Policies', g.policies],
    ]);
  },
  policies: (r) =>
    table(
      ['POLICY', 'BUILT-IN', 'USERS', 'GROUPS'],
      (r as Row[]).map((p) => [s(p.name), p.builtin ? 'yes' : 'no', s(p.users), s(p.groups)]),
    ),
  policy: (r) => {
    const p = r as Row;
    return `${kv([
      ['Policy', p.name],
      ['Built-in', p.builtin ? 'yes' : 'no'],
      ['Users', p.users],
      ['Groups', p.groups],
    ])}${JSON.stringify(p.policy, null, 2)}\n`;
  },
  attached: (r) => {
    const a = r as Row;
    return `${a.user !== undefined ? `user ${s(a.user)}` : `group ${s(a.group)}`}: policies ${s(a.policies) || '(none)'}\n`;
  },
  svcaccts: (r) =>
    table(
      ['ACCESS KEY', 'PARENT', 'STATUS', 'POLICY', 'EXPIRES', 'NAME'],
      (r as Row[]).map((a) => [
        s(a.accessKey),
        s(a.parent),
        s(a.status),
        a.policy ? 'inline' : 'inherited',
        s(a.expiresAt) || 'never',
        s(a.name),
      ]),
    ),
  svcacct: (r) => {
    const a = r as Row;
    return `${kv([
      ['Access key', a.accessKey],
      ...(a.secretKey !== undefined ? ([['Secret key', a.secretKey]] as [string, unknown][]) : []),
      ['Parent', a.parent],
      ['Status', a.status],
      ['Expires', a.expiresAt ?? 'never'],
      ['Name', a.name],
      ['Description', a.description],
      ['Policy', a.policy ? 'inline (below)' : 'inherited from the parent'],
    ])}${a.policy ? `${JSON.stringify(a.policy, null, 2)}\n` : ''}`;
  },
  info: (r) => {
    const i = r as Row & { sets: { set: number; parity: number; drives: Row[] }[] };
    const head = kv([
      ['Version', i.version],
      ['Region', i.region],
      ['Deployment', i.deploymentId],
      ['Uptime', duration(Number(i.uptimeSeconds))],
      ['Drives', `${s(i.drivesOnline)} online, ${s(i.drivesOffline)} offline`],
    ]);
    const rows = i.sets.flatMap((set) =>
      set.drives.map((d) => [
        `${set.set}`,
        s(d.position),
        s(d.endpoint),
        s(d.state),
        bytes(d.total as number | undefined),
        bytes(d.free as number | undefined),
      ]),
    );
    return `${head}\n${table(['SET', 'DRIVE', 'ENDPOINT', 'STATE', 'TOTAL', 'FREE'], rows)}`;
  },
  heal: (r) => {
    const h = r as { dryRun: boolean; buckets: Row[]; system?: Row; volumesMade: Row[] };
    const rows = [...h.buckets, ...(h.system ? [h.system] : [])].map((b) => [
      s(b.bucket) + (b.prefix ? `/${s(b.prefix)}` : ''),
      s(b.objects),
      s(b.clean),
      s(b.healedVersions),
      s(b.removedVersions),
      s(b.unrecoverableVersions),
      s(b.errors),
    ]);
    const made = h.volumesMade.map(
      (v) => `set ${s(v.set)}: made bucket ${s(v.bucket)} on drives ${s(v.drives)}\n`,
    );
    return `${h.dryRun ? 'Dry run: nothing was written.\n' : ''}${made.join('')}${table(
      ['BUCKET', 'OBJECTS', 'CLEAN', 'HEALED', 'REMOVED', 'UNRECOVERABLE', 'ERRORS'],
      rows,
    )}`;
  },
};

// --- the command line ------------------------------------------------------------------------------

export interface AdminIO {
  env: Env;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  exit: (code: number) => void;
  /** Reads a file, `-` for standard input (policy documents). */
  readFile?: (path: string) => string;
}

interface GlobalFlags {
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  region?: string;
  json?: boolean;
}

/** The client for the global flags, with the environment's fallbacks. */
export function clientFromFlags(flags: GlobalFlags, env: Env): AdminClient {
  const endpoint = flags.endpoint ?? envValue(env, 'ENDPOINT') ?? 'http://127.0.0.1:9000';
  const accessKey = flags.accessKey ?? env.CAIRN_ACCESS_KEY ?? envValue(env, 'ROOT_USER');
  const secretKey = flags.secretKey ?? env.CAIRN_SECRET_KEY ?? envValue(env, 'ROOT_PASSWORD');
  if (!accessKey || !secretKey) {
    throw new UsageError(
      'no credentials: give --access-key and --secret-key, or set CAIRN_ACCESS_KEY and CAIRN_SECRET_KEY (or CAIRN_ROOT_USER and CAIRN_ROOT_PASSWORD)',
    );
  }
  try {
    new URL(endpoint);
  } catch {
    throw new UsageError(
      `invalid endpoint ${JSON.stringify(endpoint)}: expected a URL like http://127.0.0.1:9000`,
    );
  }
  const region = flags.region ?? envValue(env, 'REGION') ?? 'us-east-1';
  return new AdminClient({ endpoint, accessKey, secretKey, region });
}

class UsageError extends Error {}

/** `24h`, `30m`, `7d`, `3600s` from now, or an ISO 8601 time. */
export function parseExpiry(v: string, now = Date.now()): string {
  const m = /^(\d+)([smhd])$/.exec(v.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now + Number(m[1]) * unit * 1000).toISOString();
  }
  const t = Date.parse(v);
  if (!Number.isFinite(t))
    throw new UsageError(`invalid expiry ${JSON.stringify(v)}: a duration like 24h or 7d, or a date`);
  return new Date(t).toISOString();
}

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').filter(Boolean)];

/** Adds `cairn admin` and its commands to `program`. */
export function addAdminCommand(program: Command, io: AdminIO): Command {
  const env = io.env;
  const readFile = io.readFile ?? ((p: string) => readFileSync(p === '-' ? 0 : p, 'utf8'));
  const admin = program
    .command('admin')
    .description('manage users, groups, policies and service accounts; server info; heal')
    .addOption(
      new Option('--endpoint <url>', 'server URL (env CAIRN_ENDPOINT; default http://127.0.0.1:9000)'),
    )
    .addOption(
      new Option(
        '--access-key <key>',
        'access key to sign with (env CAIRN_ACCESS_KEY, else CAIRN_ROOT_USER / MINIO_ROOT_USER)',
      ),
    )
    .addOption(
      new Option(
        '--secret-key <secret>',
        'secret key (env CAIRN_SECRET_KEY, else CAIRN_ROOT_PASSWORD / MINIO_ROOT_PASSWORD)',
      ),
    )
    .addOption(
      new Option('--region <region>', 'region the server answers for (env CAIRN_REGION; default us-east-1)'),
    )
    .option('--json', 'print JSON for scripts instead of tables')
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
The options above go before the command; --json may also come after it.

At a glance (each command has its own --help):
  user add [ACCESSKEY] [SECRETKEY]   user list | info | enable | disable | remove NAME
  group add GROUP MEMBER...          group remove GROUP [MEMBER...] | list | info | enable | disable
  policy create NAME FILE            policy list | info | remove NAME | attach | detach POLICY... --user U|--group G
  svcacct add | list | info | edit | enable | disable | remove
  info                               server version, uptime, drives
  heal [BUCKET]                      heal a bucket (--prefix), or everything

Examples:
  export CAIRN_ENDPOINT=http://127.0.0.1:9000 CAIRN_ROOT_USER=admin CAIRN_ROOT_PASSWORD=change-me-now
  cairn admin user add alice alice-secret-1 --policy readwrite
  cairn admin policy create read-photos ./read-photos.json
  cairn admin policy attach read-photos --user alice
  cairn admin svcacct add --user alice --expiry 30d
  cairn admin --json user list
`,
    );

  const jsonOf = (cmd: Command): boolean => Boolean(cmd.opts().json || admin.opts().json);

  const run =
    (
      cmd: Command,
      view: keyof typeof HUMAN | ((r: unknown) => string),
      fn: (c: AdminClient, ...args: never[]) => Promise<unknown>,
    ) =>
    async (...args: unknown[]) => {
      const json = jsonOf(cmd);
      try {
        const client = clientFromFlags(admin.opts<GlobalFlags>(), env);
        const result = await (fn as (c: AdminClient, ...a: unknown[]) => Promise<unknown>)(client, ...args);
        if (json) io.stdout(`${JSON.stringify(result ?? { ok: true }, null, 2)}\n`);
        else io.stdout(typeof view === 'function' ? view(result) : HUMAN[view]!(result));
        io.exit(0);
      } catch (e) {
        if (e instanceof UsageError) {
          io.stderr(`cairn admin: ${e.message}\n`);
          io.exit(2);
        } else if (e instanceof AdminApiError) {
          if (json)
            io.stdout(
              `${JSON.stringify({ Code: e.code, Message: e.message, RequestId: e.requestId }, null, 2)}\n`,
            );
          io.stderr(`cairn admin: ${e.code}: ${e.message}\n`);
          io.exit(1);
        } else {
          io.stderr(`cairn admin: ${e instanceof Error ? e.message : String(e)}\n`);
          io.exit(1);
        }
      }
    };

  const done = (what: string) => () => `${what}\n`;
  /** A leaf command (`--json` may also come after it): runs `fn`, prints its answer, exits 0 / 1 / 2. */
  const def = (
    parent: Command,
    name: string,
    description: string,
    view: keyof typeof HUMAN | ((r: unknown) => string),
    fn: (c: AdminClient, ...args: never[]) => Promise<unknown>,
    setup?: (cmd: Command) => void,
  ): Command => {
    const cmd = parent.command(name).description(description).option('--json', 'print JSON for scripts');
    setup?.(cmd);
    cmd.action(run(cmd, view, fn));
    return cmd;
  };

  // --- user ---
  const user = admin.command('user').description('users: an access key (the user name) and a secret key');
  def(
    user,
    'add',
    'add a user; keys are generated when not given (the secret is shown only now)',
    'user',
    (c, accessKey: string | undefined, secretKey: string | undefined, o: { policy?: string[] }) =>
      c.addUser({
        ...(accessKey !== undefined ? { accessKey } : {}),
        ...(secretKey !== undefined ? { secretKey } : {}),
        policies: o.policy ?? [],
      }),
    (cmd) =>
      cmd
        .argument('[ACCESSKEY]', 'the access key, which is the user name (3 to 128 characters)')
        .argument('[SECRETKEY]', 'the secret key (8 to 40 characters)')
        .addOption(
          new Option('--policy <names>', 'policies to attach (comma-separated, repeatable)').argParser(
            collect,
          ),
        ),
  );
  def(user, 'list', 'list users', 'users', (c) => c.listUsers());
  def(
    user,
    'info',
    'show a user',
    'user',
    (c, name: string) => c.userInfo(name),
    (cmd) => cmd.argument('<NAME>'),
  );
  def(
    user,
    'enable',
    'enable a user',
    done('enabled'),
    (c, name: string) => c.setUserStatus(name, 'enabled'),
    (cmd) => cmd.argument('<NAME>'),
  );
  def(
    user,
    'disable',
    'disable a user (its keys, service accounts and temporary credentials stop working at once)',
    done('disabled'),
    (c, name: string) => c.setUserStatus(name, 'disabled'),
    (cmd) => cmd.argument('<NAME>'),
  );
  def(
    user,
    'remove',
    'remove a user, its service accounts and temporary credentials',
    done('removed'),
    (c, name: string) => c.removeUser(name),
    (cmd) => cmd.argument('<NAME>'),
  );

  // --- group ---
  const group = admin.command('group').description('groups of users, with policies for all their members');
  def(
    group,
    'add',
    'add users to a group (made when it does not exist)',
    'group',
    (c, name: string, members: string[]) => c.addGroupMembers(name, members),
    (cmd) => cmd.argument('<GROUP>').argument('<MEMBER...>'),
  );
  def(
    group,
    'remove',
    'remove members from a group; with no members, remove the group (it must be empty)',
    (r) => (r === undefined ? 'removed\n' : HUMAN.group!(r)),
    (c, name: string, members: string[]) =>
      members.length > 0 ? c.removeGroupMembers(name, members) : c.removeGroup(name),
    (cmd) => cmd.argument('<GROUP>').argument('[MEMBER...]'),
  );
  def(group, 'list', 'list groups', 'groups', (c) => c.listGroups());
  def(
    group,
    'info',
    'show a group',
    'group',
    (c, name: string) => c.groupInfo(name),
    (cmd) => cmd.argument('<GROUP>'),
  );
  def(
    group,
    'enable',
    'enable a group',
    'group',
    (c, name: string) => c.setGroupStatus(name, 'enabled'),
    (cmd) => cmd.argument('<GROUP>'),
  );
  def(
    group,
    'disable',
    'disable a group (its policies stop applying to its members at once)',
    'group',
    (c, name: string) => c.setGroupStatus(name, 'disabled'),
    (cmd) => cmd.argument('<GROUP>'),
  );

  // --- policy ---
  const policy = admin
    .command('policy')
    .description('IAM policies (built-in: readwrite, readonly, writeonly, diagnostics, consoleAdmin)');
  def(
    policy,
    'create',
    'create or replace a policy from a JSON file (- for standard input)',
    'policy',
    (c, name: string, file: string) => c.createPolicy(name, readFile(file)),
    (cmd) => cmd.argument('<NAME>').argument('<FILE>'),
  );
  def(policy, 'list', 'list policies, built-ins included', 'policies', (c) => c.listPolicies());
  def(
    policy,
    'info',
    'show a policy and where it is attached',
    'policy',
    (c, name: string) => c.policyInfo(name),
    (cmd) => cmd.argument('<NAME>'),
  );
  def(
    policy,
    'remove',
    'remove a policy (detach it everywhere first)',
    done('removed'),
    (c, name: string) => c.removePolicy(name),
    (cmd) => cmd.argument('<NAME>'),
  );
  const target = (o: { user?: string; group?: string }) => {
    if ((o.user === undefined) === (o.group === undefined))
      throw new UsageError('give one of --user or --group');
    return o.user !== undefined ? { user: o.user } : { group: o.group! };
  };
  def(
    policy,
    'attach',
    'attach policies to a user or a group',
    'attached',
    (c, names: string[], o: { user?: string; group?: string }) => c.attachPolicies(names, target(o)),
    (cmd) =>
      cmd.argument('<POLICY...>').option('--user <name>', 'the user').option('--group <name>', 'the group'),
  );
  def(
    policy,
    'detach',
    'detach policies from a user or a group',
    'attached',
    (c, names: string[], o: { user?: string; group?: string }) => c.detachPolicies(names, target(o)),
    (cmd) =>
      cmd.argument('<POLICY...>').option('--user <name>', 'the user').option('--group <name>', 'the group'),
  );

  // --- svcacct ---
  const svc = admin
    .command('svcacct')
    .description("service accounts: extra access keys of a user, with the user's rights (or fewer)");
  interface SvcFlags {
    user?: string;
    accessKey?: string;
    secretKey?: string;
    policy?: string | boolean;
    expiry?: string | boolean;
    name?: string;
    description?: string;
  }
  def(
    svc,
    'add',
    "add a service account (yours, or --user's as an admin); the secret is shown only now",
    'svcacct',
    (c, o: SvcFlags) =>
      c.addServiceAccount({
        ...(o.user !== undefined ? { user: o.user } : {}),
        ...(o.accessKey !== undefined ? { accessKey: o.accessKey } : {}),
        ...(o.secretKey !== undefined ? { secretKey: o.secretKey } : {}),
        ...(typeof o.policy === 'string' ? { policy: readFile(o.policy) } : {}),
        ...(typeof o.expiry === 'string' ? { expiresAt: parseExpiry(o.expiry) } : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.description !== undefined ? { description: o.description } : {}),
      }),
    (cmd) =>
      cmd
        .option('--user <name>', 'the parent user (default: the caller)')
        .option('--access-key <key>', 'its access key (default: generated)')
        .option('--secret-key <secret>', 'its secret key (default: generated)')
        .option(
          '--policy <file>',
          "an inline policy (JSON file, - for stdin): the account gets only what both it and the parent's policies allow",
        )
        .option(
          '--expiry <when>',
          'when it stops working: a duration (24h, 30d) or a date (2030-01-01T00:00:00Z)',
        )
        .option('--name <name>', 'a name (up to 32 characters)')
        .option('--description <text>', 'a description (up to 256 characters)'),
  );
  def(
    svc,
    'list',
    "list service accounts (yours, --user's, or --all)",
    'svcaccts',
    (c, o: { user?: string; all?: boolean }) =>
      c.listServiceAccounts({
        ...(o.user !== undefined ? { user: o.user } : {}),
        ...(o.all ? { all: true } : {}),
      }),
    (cmd) => cmd.option('--user <name>', "this user's").option('--all', "every user's"),
  );
  def(
    svc,
    'info',
    'show a service account',
    'svcacct',
    (c, key: string) => c.serviceAccountInfo(key),
    (cmd) => cmd.argument('<ACCESSKEY>'),
  );
  def(
    svc,
    'edit',
    'change a service account: secret, policy, expiry, name, description',
    'svcacct',
    (c, key: string, o: SvcFlags) =>
      c.updateServiceAccount(key, {
        ...(o.secretKey !== undefined ? { secretKey: o.secretKey } : {}),
        ...(o.policy === false
          ? { policy: null }
          : typeof o.policy === 'string'
            ? { policy: readFile(o.policy) }
            : {}),
        ...(o.expiry === false
          ? { expiresAt: null }
          : typeof o.expiry === 'string'
            ? { expiresAt: parseExpiry(o.expiry) }
            : {}),
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.description !== undefined ? { description: o.description } : {}),
      }),
    (cmd) =>
      cmd
        .argument('<ACCESSKEY>')
        .option('--secret-key <secret>', 'a new secret key')
        .option('--policy <file>', 'a new inline policy (JSON file, - for stdin)')
        .option('--no-policy', "remove the inline policy (the parent's rights apply)")
        .option('--expiry <when>', 'a new expiry: a duration (24h, 30d) or a date')
        .option('--no-expiry', 'never expire')
        .option('--name <name>', 'a new name')
        .option('--description <text>', 'a new description'),
  );
  def(
    svc,
    'enable',
    'enable a service account',
    'svcacct',
    (c, key: string) => c.updateServiceAccount(key, { status: 'enabled' }),
    (cmd) => cmd.argument('<ACCESSKEY>'),
  );
  def(
    svc,
    'disable',
    'disable a service account (refused at once)',
    'svcacct',
    (c, key: string) => c.updateServiceAccount(key, { status: 'disabled' }),
    (cmd) => cmd.argument('<ACCESSKEY>'),
  );
  def(
    svc,
    'remove',
    'remove a service account',
    done('removed'),
    (c, key: string) => c.removeServiceAccount(key),
    (cmd) => cmd.argument('<ACCESSKEY>'),
  );

  // --- server ---
  def(admin, 'info', 'server version, uptime, and every drive with its state and space', 'info', (c) =>
    c.serverInfo(),
  );
  def(
    admin,
    'heal',
    'heal a bucket (under --prefix), or with no bucket every bucket and the system documents',
    'heal',
    (c, bucket: string | undefined, o: { prefix?: string; dryRun?: boolean; deep?: boolean }) =>
      c.heal({
        ...(bucket !== undefined ? { bucket } : {}),
        ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
        ...(o.dryRun ? { dryRun: true } : {}),
        ...(o.deep ? { deep: true } : {}),
      }),
    (cmd) =>
      cmd
        .argument('[BUCKET]', 'the bucket (default: everything)')
        .option('--prefix <prefix>', 'only objects under this prefix (with a bucket)')
        .option('--dry-run', 'report what would be healed, write nothing')
        .option('--deep', 'read every shard and check its bitrot digests (slow)'),
  );
  return admin;
}
