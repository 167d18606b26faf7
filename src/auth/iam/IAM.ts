/**
 * The IAM store: users, groups, policies, service accounts and temporary (STS) credentials, kept
 * as small JSON documents in the system area (`SystemStore`: erasure-coded like objects) and in
 * memory. Everything is loaded at open; every change is written to the store first, then to the
 * cache (this process is the only writer), so `lookup` answers from memory and a change (a user
 * disabled, a policy detached) takes effect on the next request.
 *
 *   iam/format.json                        salt of the secrets' key, and a check value
 *   iam/users/<accessKey>.json             a user (its name is its access key, as MinIO's)
 *   iam/groups/<name>.json                 a group, with its members
 *   iam/policies/<name>.json               a policy document (the built-ins are not stored)
 *   iam/service-accounts/<accessKey>.json  an access key of a user, maybe narrowed, maybe expiring
 *   iam/sts/<accessKey>.json               temporary credentials from AssumeRole
 *
 * Secret keys and session tokens are sealed (`./secrets.ts`) and never returned after creation.
 *
 * Names: access keys (user names) are 3 to 128 characters of letters, digits and `_ . @ + = -`
 * (MinIO's minimum, AWS's maximum, without the characters that break a SigV4 `Credential=`);
 * secret keys 8 to 40 characters (MinIO's and the root password's limits); group and policy names
 * 1 to 128 of the same characters.
 */
import { AuthError } from '../errors';
import { BUILTIN_POLICIES, parsePolicy } from '../policy';
import type { Policy } from '../policy/types';
import { IAMError, IAMKeyError } from './errors';
import { newAccessKey, newSecretKey, newSessionToken, SecretBox } from './secrets';
import type { IdentityRecord, SystemStore } from './types';

/** The account id in the ARNs Cairn names principals with (one account per deployment). */
export const ACCOUNT_ID = '000000000000';
export const ROOT_ARN = `arn:aws:iam::${ACCOUNT_ID}:root`;
export const userArn = (name: string): string => `arn:aws:iam::${ACCOUNT_ID}:user/${name}`;

/** AWS STS: DurationSeconds from 15 minutes to 12 hours (MinIO's maximum too); one hour by default. */
export const STS_MIN_DURATION = 900;
export const STS_MAX_DURATION = 43_200;
export const STS_DEFAULT_DURATION = 3_600;
/** Expired temporary credentials are still answered `ExpiredToken` this long, then removed. */
const STS_PURGE_AFTER_MS = 3_600_000;

const ACCESS_KEY = /^[A-Za-z0-9][A-Za-z0-9_.@+=-]{2,127}$/;
const NAME = /^[A-Za-z0-9_.@+=-]{1,128}$/;
const DISABLED_MESSAGE = 'Your account is disabled; please contact your administrator.';

export type Status = 'enabled' | 'disabled';

interface UserDoc {
  version: 1;
  accessKey: string;
  secretKey: string; // sealed
  status: Status;
  policies: string[];
  createdAt: string;
  updatedAt: string;
}

interface GroupDoc {
  version: 1;
  name: string;
  members: string[];
  status: Status;
  policies: string[];
  createdAt: string;
  updatedAt: string;
}

interface PolicyDoc {
  version: 1;
  name: string;
  /** The JSON text as given. */
  policy: string;
  createdAt: string;
  updatedAt: string;
}

interface ServiceAccountDoc {
  version: 1;
  accessKey: string;
  secretKey: string; // sealed
  parent: string;
  status: Status;
  /** An inline policy: the account may do only what both this and its parent's policies allow. */
  policy?: string;
  expiresAt?: string;
  name?: string;
  description?: string;
  createdAt: string;
  updatedAt: string;
}

interface StsDoc {
  version: 1;
  accessKey: string;
  secretKey: string; // sealed
  sessionToken: string; // sealed
  /** The user the credentials act for (`root` for the root user). */
  parent: string;
  /** The service account that asked for them, when one did (its inline policy applies too). */
  via?: string;
  sessionPolicy?: string;
  sessionName: string;
  roleArn?: string;
  expiresAt: string;
  createdAt: string;
}

interface FormatDoc {
  version: 1;
  /** base64 HKDF salt. */
  salt: string;
  /** A known value sealed with the key: tells at start whether the root secret changed. */
  check: string;
}

const FORMAT_PATH = 'iam/format.json';
const CHECK_VALUE = 'cairn-iam';

interface Cached<D> {
  doc: D;
  /** The opened secret. */
  secret: string;
  /** The parsed inline/session policy. */
  policy?: Policy;
}

interface CachedSts extends Cached<StsDoc> {
  sessionToken: string;
}

interface CachedPolicy {
  doc: PolicyDoc;
  policy: Policy;
}

// --- what the admin API shows ---------------------------------------------------------------------

export interface UserInfo {
  accessKey: string;
  status: Status;
  policies: string[];
  /** Groups the user is a member of. */
  groups: string[];
  createdAt: string;
  updatedAt: string;
}

export interface GroupInfo {
  name: string;
  status: Status;
  members: string[];
  policies: string[];
  createdAt: string;
  updatedAt: string;
}

export interface PolicyInfo {
  name: string;
  builtin: boolean;
  policy: Policy;
  /** Users and groups it is attached to. */
  users: string[];
  groups: string[];
  createdAt?: string;
  updatedAt?: string;
}

export interface ServiceAccountInfo {
  accessKey: string;
  parent: string;
  status: Status;
  /** The inline policy, when the account has one. */
  policy?: Policy;
  expiresAt?: string;
  name?: string;
  description?: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewCredentials {
  accessKey: string;
  secretKey: string;
}

export interface TemporaryCredentials extends NewCredentials {
  sessionToken: string;
  expiresAt: Date;
  /** The user the credentials act for. */
  parent: string;
  sessionName: string;
}

export interface IAMOptions {
  store: SystemStore;
  root: { accessKey: string; secretKey: string };
  /**
   * Root secret keys the store may have been sealed with before (a root password change): the
   * store is re-encrypted under the current one at open. `CAIRN_ROOT_PASSWORD_PREVIOUS`.
   */
  previousRootSecrets?: string[];
  /**
   * With several processes serving one store (a node's workers): `lock` is held across processes
   * for each change, and `changed` tells the others which documents a change wrote (they `reload`
   * them) and resolves once they have, so the next request anywhere sees the change.
   */
  cluster?: {
    lock(): Promise<() => void>;
    changed(paths: string[]): Promise<void>;
  };
  /** The clock expiry is judged by (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  log?: (msg: string) => void;
}

/** Runs one change at a time: a read-modify-write of a document is never interleaved. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

function checkAccessKey(k: unknown, what = 'access key'): string {
  if (typeof k !== 'string' || !ACCESS_KEY.test(k)) {
    throw new IAMError(
      'InvalidArgument',
      `invalid ${what} ${JSON.stringify(k)}: 3 to 128 characters of letters, digits and _ . @ + = - (starting with a letter or digit)`,
    );
  }
  return k;
}

function checkSecretKey(s: unknown): string {
  if (typeof s !== 'string' || s.length < 8 || s.length > 40) {
    throw new IAMError('InvalidArgument', 'the secret key must be 8 to 40 characters');
  }
  return s;
}

function checkName(n: unknown, what: string): string {
  if (typeof n !== 'string' || !NAME.test(n)) {
    throw new IAMError(
      'InvalidArgument',
      `invalid ${what} name ${JSON.stringify(n)}: 1 to 128 characters of letters, digits and _ . @ + = -`,
    );
  }
  return n;
}

/** Parses an identity policy's JSON text; `MalformedPolicy` with the parser's message. */
export function parseIdentityPolicy(text: string): Policy {
  try {
    return parsePolicy(text, { kind: 'identity' });
  } catch (e) {
    throw new IAMError('MalformedPolicy', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

function json(doc: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 1)}\n`);
}

export class IAM {
  private readonly store: SystemStore;
  private readonly root: { accessKey: string; secretKey: string };
  private now: () => number;
  private readonly log: (msg: string) => void;
  private readonly mutex = new Mutex();
  private box: SecretBox | undefined;
  private loaded = false;
  private loading: Promise<void> | undefined;
  private lastLoadFailure = 0;

  private readonly users = new Map<string, Cached<UserDoc>>();
  private readonly groups = new Map<string, GroupDoc>();
  private readonly policies = new Map<string, CachedPolicy>();
  private readonly serviceAccounts = new Map<string, Cached<ServiceAccountDoc>>();
  private readonly sts = new Map<string, CachedSts>();
  /** Documents written by the change running now (told to the other processes when it ends). */
  private written: string[] | undefined;

  private constructor(private readonly opts: IAMOptions) {
    const store = opts.store;
    this.store = {
      get: (path) => store.get(path),
      list: (prefix) => store.list(prefix),
      put: async (path, data) => {
        await store.put(path, data);
        this.written?.push(path);
      },
    };
    this.root = opts.root;
    this.now = opts.now ?? Date.now;
    this.log = opts.log ?? (() => {});
  }

  /**
   * Opens the store and loads it. A root secret the documents were not sealed with is an
   * `IAMKeyError` (unless `previousRootSecrets` opens them: then they are re-sealed). A store that
   * cannot be read now (drives missing) is not fatal: the root user works, and loading is retried
   * when another key is looked up or the admin API is used.
   */
  static async open(opts: IAMOptions): Promise<IAM> {
    const iam = new IAM(opts);
    try {
      await iam.ensureLoaded();
    } catch (e) {
      if (e instanceof IAMKeyError) throw e;
      iam.log(
        `IAM: cannot load the IAM store yet (${e instanceof Error ? e.message : String(e)}); retrying on use`,
      );
    }
    return iam;
  }

  /** For tests: the clock expiry is judged by. */
  useClock(now: () => number): void {
    this.now = now;
  }

  get rootAccessKey(): string {
    return this.root.accessKey;
  }

  // --- loading -------------------------------------------------------------------------------------

  private async ensureLoaded(): Promise<void> {
    if (this.loaded) return;
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  /** Loaded, or `IAMUnavailable` (retrying at most every few seconds while the drives are away). */
  private async ready(): Promise<void> {
    if (this.loaded) return;
    if (this.loading === undefined && this.now() - this.lastLoadFailure < 2_000) {
      throw new IAMError('IAMUnavailable');
    }
    try {
      await this.ensureLoaded();
    } catch (e) {
      if (e instanceof IAMKeyError) throw e;
      this.lastLoadFailure = this.now();
      throw new IAMError('IAMUnavailable', undefined, { cause: e });
    }
  }

  /** The stored document at `path`: `null` when there is none, `undefined` when it is not JSON (logged). */
  private async readDoc(path: string): Promise<unknown> {
    const data = await this.store.get(path);
    if (data === null) return null;
    try {
      return JSON.parse(data.toString('utf8'));
    } catch (e) {
      this.log(`IAM: ${path} is not valid JSON, ignored (${e instanceof Error ? e.message : String(e)})`);
      return undefined;
    }
  }

  private async readDocs<D>(prefix: string): Promise<{ path: string; doc: D }[]> {
    const paths = (await this.store.list(prefix)).filter((p) => p.endsWith('.json'));
    const out: { path: string; doc: D }[] = [];
    for (const path of paths) {
      const doc = await this.readDoc(path);
      if (doc !== null && doc !== undefined) out.push({ path, doc: doc as D });
    }
    return out;
  }

  private async load(): Promise<void> {
    const [users, svc, sts] = await Promise.all([
      this.readDocs<UserDoc>('iam/users/'),
      this.readDocs<ServiceAccountDoc>('iam/service-accounts/'),
      this.readDocs<StsDoc>('iam/sts/'),
    ]);
    const [groups, policies] = await Promise.all([
      this.readDocs<GroupDoc>('iam/groups/'),
      this.readDocs<PolicyDoc>('iam/policies/'),
    ]);
    const sealedCount = users.length + svc.length + sts.length;
    this.box = await this.openKey(sealedCount > 0, { users, svc, sts });

    this.users.clear();
    this.groups.clear();
    this.policies.clear();
    this.serviceAccounts.clear();
    this.sts.clear();
    for (const { path, doc } of [...users, ...groups, ...policies, ...svc, ...sts]) this.apply(path, doc);
    this.loaded = true;
  }

  /**
   * Re-reads documents another process changed (`cluster.changed` there), so this cache agrees
   * with the store. A changed format (the secrets' key) reloads everything.
   */
  async reload(paths: string[]): Promise<void> {
    if (!this.loaded) return; // the next use loads everything
    if (paths.includes(FORMAT_PATH)) {
      await this.load();
      return;
    }
    for (const path of paths) {
      const doc = await this.readDoc(path);
      if (doc !== undefined) this.apply(path, doc);
    }
  }

  /** Puts one stored document into the cache (`null`: it was removed). */
  private apply(path: string, doc: unknown): void {
    const box = this.sealer;
    const m = /^iam\/(users|groups|policies|service-accounts|sts)\/(.+)\.json$/.exec(path);
    if (!m) return;
    const [, kind, name] = m as unknown as [string, string, string];
    if (doc === null) {
      const maps = {
        users: this.users,
        groups: this.groups,
        policies: this.policies,
        'service-accounts': this.serviceAccounts,
        sts: this.sts,
      } as const;
      maps[kind as keyof typeof maps].delete(name);
      return;
    }
    switch (kind) {
      case 'users': {
        const u = doc as UserDoc;
        this.users.set(u.accessKey, { doc: u, secret: box.open(u.secretKey, `user:${u.accessKey}`) });
        return;
      }
      case 'groups':
        this.groups.set((doc as GroupDoc).name, doc as GroupDoc);
        return;
      case 'policies': {
        const p = doc as PolicyDoc;
        try {
          this.policies.set(p.name, { doc: p, policy: parsePolicy(p.policy, { kind: 'identity' }) });
        } catch (e) {
          this.log(
            `IAM: policy ${path} no longer parses, ignored (${e instanceof Error ? e.message : String(e)})`,
          );
        }
        return;
      }
      case 'service-accounts': {
        const d = doc as ServiceAccountDoc;
        const c: Cached<ServiceAccountDoc> = { doc: d, secret: box.open(d.secretKey, `svc:${d.accessKey}`) };
        // A policy that no longer parses must not widen the account: it is refused at lookup.
        if (d.policy !== undefined) c.policy = parseOrNothing(d.policy);
        this.serviceAccounts.set(d.accessKey, c);
        return;
      }
      case 'sts': {
        const d = doc as StsDoc;
        const c: CachedSts = {
          doc: d,
          secret: box.open(d.secretKey, `sts:${d.accessKey}`),
          sessionToken: box.open(d.sessionToken, `sts-token:${d.accessKey}`),
        };
        if (d.sessionPolicy !== undefined) c.policy = parseOrNothing(d.sessionPolicy);
        this.sts.set(d.accessKey, c);
        return;
      }
    }
  }

  /**
   * The key sealing secrets: from the stored salt and the root secret. When the root secret changed:
   * a previous secret that opens the check re-seals everything under the current one; with nothing
   * sealed yet the check is simply re-made; otherwise the start fails, saying how to fix it.
   */
  private async openKey(
    hasSecrets: boolean,
    docs: {
      users: { path: string; doc: UserDoc }[];
      svc: { path: string; doc: ServiceAccountDoc }[];
      sts: { path: string; doc: StsDoc }[];
    },
  ): Promise<SecretBox> {
    const raw = await this.store.get(FORMAT_PATH);
    if (raw === null) {
      const salt = SecretBox.newSalt();
      const box = new SecretBox(this.root.secretKey, salt);
      await this.writeFormat(box, salt);
      return box;
    }
    const format = JSON.parse(raw.toString('utf8')) as FormatDoc;
    const salt = Buffer.from(format.salt, 'base64');
    const current = new SecretBox(this.root.secretKey, salt);
    if (opens(current, format.check)) return current;
    if (!hasSecrets) {
      await this.writeFormat(current, salt);
      this.log('IAM: the root secret changed; nothing was sealed with the old one');
      return current;
    }
    for (const old of this.opts.previousRootSecrets ?? []) {
      const prev = new SecretBox(old, salt);
      if (!opens(prev, format.check)) continue;
      // Re-seal every secret under the current root secret, then the check last: a crash midway
      // leaves documents the previous secret still opens... except those already re-sealed, which the
      // current one opens; both are tried per document on the next start.
      const reseal = (sealed: string, ctx: string) => {
        try {
          return current.seal(prev.open(sealed, ctx), ctx);
        } catch {
          current.open(sealed, ctx);
          return sealed;
        }
      };
      for (const { path, doc } of docs.users) {
        doc.secretKey = reseal(doc.secretKey, `user:${doc.accessKey}`);
        await this.store.put(path, json(doc));
      }
      for (const { path, doc } of docs.svc) {
        doc.secretKey = reseal(doc.secretKey, `svc:${doc.accessKey}`);
        await this.store.put(path, json(doc));
      }
      for (const { path, doc } of docs.sts) {
        doc.secretKey = reseal(doc.secretKey, `sts:${doc.accessKey}`);
        doc.sessionToken = reseal(doc.sessionToken, `sts-token:${doc.accessKey}`);
        await this.store.put(path, json(doc));
      }
      await this.writeFormat(current, salt);
      this.log('IAM: re-encrypted the IAM secrets under the new root password');
      return current;
    }
    throw new IAMKeyError(
      'the IAM store (users, service accounts) was encrypted with a different root password than ' +
        'CAIRN_ROOT_PASSWORD: start with the previous root password, or set ' +
        'CAIRN_ROOT_PASSWORD_PREVIOUS to it (with the new one in CAIRN_ROOT_PASSWORD) to re-encrypt the ' +
        'store under the new one',
    );
  }

  private async writeFormat(box: SecretBox, salt: Buffer): Promise<void> {
    const doc: FormatDoc = {
      version: 1,
      salt: salt.toString('base64'),
      check: box.seal(CHECK_VALUE, 'format'),
    };
    await this.store.put(FORMAT_PATH, json(doc));
  }

  private get sealer(): SecretBox {
    if (!this.box) throw new IAMError('IAMUnavailable');
    return this.box;
  }

  // --- lookup --------------------------------------------------------------------------------------

  /**
   * The identity behind an access key, resolved now (groups, policies): null when there is none; an
   * `AuthError` for a disabled one (`InvalidAccessKeyId` with MinIO's "account is disabled" message)
   * and for expired temporary credentials or service accounts (`ExpiredToken`). Temporary credentials
   * carry their `sessionToken`: the caller refuses the key without it (`checkSessionToken` in
   * src/auth/verifyRequest.ts: `InvalidAccessKeyId`, as AWS).
   */
  async lookup(accessKey: string): Promise<IdentityRecord | null> {
    if (accessKey === this.root.accessKey) {
      return {
        kind: 'root',
        accessKey,
        secretKey: this.root.secretKey,
        username: 'root',
        arn: ROOT_ARN,
        groups: [],
        policies: [],
      };
    }
    try {
      await this.ready();
    } catch (e) {
      if (e instanceof IAMError) return null;
      throw e;
    }
    const user = this.users.get(accessKey);
    if (user) {
      if (user.doc.status !== 'enabled') throw disabled(accessKey);
      return { kind: 'user', accessKey, secretKey: user.secret, ...this.rightsOf(accessKey) };
    }
    const svc = this.serviceAccounts.get(accessKey);
    if (svc) {
      if (svc.doc.status !== 'enabled') throw disabled(accessKey);
      if (svc.doc.expiresAt !== undefined && Date.parse(svc.doc.expiresAt) <= this.now()) {
        throw new AuthError('ExpiredToken');
      }
      const parent = this.parentRights(svc.doc.parent, accessKey);
      return {
        kind: 'serviceAccount',
        accessKey,
        secretKey: svc.secret,
        ...parent,
        ...(svc.policy ? { sessionPolicy: svc.policy } : {}),
        ...(svc.doc.expiresAt !== undefined ? { expiresAt: new Date(svc.doc.expiresAt) } : {}),
      };
    }
    const tmp = this.sts.get(accessKey);
    if (tmp) {
      const expires = Date.parse(tmp.doc.expiresAt);
      if (expires <= this.now()) {
        if (expires + STS_PURGE_AFTER_MS <= this.now()) void this.purgeSts(accessKey);
        throw new AuthError('ExpiredToken');
      }
      const parent = this.parentRights(tmp.doc.parent, accessKey);
      // Credentials asked for by a service account live only as long as it is enabled, and carry
      // its inline policy (AssumeRole refuses a session policy on top of one).
      let session = tmp.policy;
      if (tmp.doc.via !== undefined) {
        const via = this.serviceAccounts.get(tmp.doc.via);
        if (via?.doc.status !== 'enabled') throw disabled(accessKey);
        session ??= via.policy;
      }
      return {
        kind: 'sts',
        accessKey,
        secretKey: tmp.secret,
        sessionToken: tmp.sessionToken,
        ...parent,
        ...(session ? { sessionPolicy: session } : {}),
        expiresAt: new Date(expires),
      };
    }
    return null;
  }

  /** The user's groups (enabled ones) and policies (its own and its groups'). */
  private rightsOf(name: string): Pick<IdentityRecord, 'username' | 'arn' | 'groups' | 'policies'> {
    const user = this.users.get(name);
    const names = [...(user?.doc.policies ?? [])];
    const groups: string[] = [];
    for (const g of this.groups.values()) {
      if (g.status !== 'enabled' || !g.members.includes(name)) continue;
      groups.push(g.name);
      names.push(...g.policies);
    }
    const policies: Policy[] = [];
    for (const n of uniq(names)) {
      const p = this.policyByName(n);
      if (p) policies.push(p);
    }
    return { username: name, arn: userArn(name), groups: groups.sort(), policies };
  }

  /**
   * The rights a service account or temporary credential inherits from its user, as of now. The
   * root user's are every action: the `consoleAdmin` policy (admin, s3, kms).
   */
  private parentRights(
    parent: string,
    accessKey: string,
  ): Pick<IdentityRecord, 'username' | 'arn' | 'groups' | 'policies'> {
    if (parent === 'root') {
      const all = BUILTIN_POLICIES.consoleAdmin;
      return { username: 'root', arn: ROOT_ARN, groups: [], policies: all ? [all] : [] };
    }
    const user = this.users.get(parent);
    if (user?.doc.status !== 'enabled') throw disabled(accessKey);
    return this.rightsOf(parent);
  }

  private policyByName(name: string): Policy | undefined {
    return this.policies.get(name)?.policy ?? BUILTIN_POLICIES[name];
  }

  private policyExists(name: string): boolean {
    return this.policies.has(name) || Object.hasOwn(BUILTIN_POLICIES, name);
  }

  private requirePolicies(names: unknown): string[] {
    if (!Array.isArray(names)) throw new IAMError('InvalidArgument', 'policies must be a list of names');
    for (const n of names) {
      checkName(n, 'policy');
      if (!this.policyExists(n)) throw new IAMError('NoSuchPolicy', `no policy named ${JSON.stringify(n)}`);
    }
    return uniq(names as string[]);
  }

  /** An access key is taken by the root user, a user, a service account or a temporary credential. */
  private keyInUse(accessKey: string): boolean {
    return (
      accessKey === this.root.accessKey ||
      this.users.has(accessKey) ||
      this.serviceAccounts.has(accessKey) ||
      this.sts.has(accessKey)
    );
  }

  private stamp(): string {
    return new Date(this.now()).toISOString();
  }

  private change<T>(fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(() =>
      this.told(async () => {
        await this.ready();
        return fn();
      }),
    );
  }

  /**
   * Runs `fn` holding the cross-process lock (with workers), and tells the other processes what it
   * wrote before letting go: whoever changes next has seen this change.
   */
  private async told<T>(fn: () => Promise<T>): Promise<T> {
    const unlock = await this.opts.cluster?.lock();
    this.written = [];
    try {
      return await fn();
    } finally {
      const paths = this.written;
      this.written = undefined;
      try {
        if (paths.length > 0) await this.opts.cluster?.changed([...new Set(paths)]);
      } catch (e) {
        this.log(
          `IAM: could not tell the other workers of a change: ${e instanceof Error ? e.message : String(e)}`,
        );
      } finally {
        unlock?.();
      }
    }
  }

  // --- users ---------------------------------------------------------------------------------------

  /** A new user; keys generated when not given. The secret is returned here and never again. */
  createUser(opts: {
    accessKey?: string;
    secretKey?: string;
    policies?: string[];
    status?: Status;
  }): Promise<NewCredentials> {
    return this.change(async () => {
      const accessKey = opts.accessKey === undefined ? newAccessKey() : checkAccessKey(opts.accessKey);
      const secretKey = opts.secretKey === undefined ? newSecretKey() : checkSecretKey(opts.secretKey);
      if (this.keyInUse(accessKey)) {
        throw new IAMError('UserAlreadyExists', `the access key ${accessKey} is already in use`);
      }
      const policies = this.requirePolicies(opts.policies ?? []);
      const t = this.stamp();
      const doc: UserDoc = {
        version: 1,
        accessKey,
        secretKey: this.sealer.seal(secretKey, `user:${accessKey}`),
        status: opts.status ?? 'enabled',
        policies,
        createdAt: t,
        updatedAt: t,
      };
      await this.store.put(`iam/users/${accessKey}.json`, json(doc));
      this.users.set(accessKey, { doc, secret: secretKey });
      return { accessKey, secretKey };
    });
  }

  private requireUser(name: string): Cached<UserDoc> {
    const u = this.users.get(name);
    if (!u) throw new IAMError('NoSuchUser', `no user ${JSON.stringify(name)}`);
    return u;
  }

  private async saveUser(u: Cached<UserDoc>, update: Partial<UserDoc>): Promise<void> {
    const doc: UserDoc = { ...u.doc, ...update, updatedAt: this.stamp() };
    await this.store.put(`iam/users/${doc.accessKey}.json`, json(doc));
    u.doc = doc;
  }

  private userInfo(u: UserDoc): UserInfo {
    const groups = [...this.groups.values()]
      .filter((g) => g.members.includes(u.accessKey))
      .map((g) => g.name);
    return {
      accessKey: u.accessKey,
      status: u.status,
      policies: [...u.policies],
      groups: groups.sort(),
      createdAt: u.createdAt,
      updatedAt: u.updatedAt,
    };
  }

  async listUsers(): Promise<UserInfo[]> {
    await this.ready();
    return [...this.users.values()]
      .map((u) => this.userInfo(u.doc))
      .sort((a, b) => (a.accessKey < b.accessKey ? -1 : 1));
  }

  async getUser(name: string): Promise<UserInfo> {
    await this.ready();
    return this.userInfo(this.requireUser(name).doc);
  }

  setUserStatus(name: string, status: Status): Promise<UserInfo> {
    return this.change(async () => {
      const u = this.requireUser(name);
      await this.saveUser(u, { status: checkStatus(status) });
      return this.userInfo(u.doc);
    });
  }

  /** Replaces the user's secret key (MinIO's `user add` of an existing user). */
  setUserSecret(name: string, secretKey: string): Promise<void> {
    return this.change(async () => {
      const u = this.requireUser(name);
      checkSecretKey(secretKey);
      await this.saveUser(u, { secretKey: this.sealer.seal(secretKey, `user:${name}`) });
      u.secret = secretKey;
    });
  }

  setUserPolicies(name: string, policies: string[]): Promise<UserInfo> {
    return this.change(async () => {
      const u = this.requireUser(name);
      await this.saveUser(u, { policies: this.requirePolicies(policies) });
      return this.userInfo(u.doc);
    });
  }

  /** Removes the user, its service accounts and temporary credentials, and its group memberships. */
  deleteUser(name: string): Promise<void> {
    return this.change(async () => {
      this.requireUser(name);
      for (const g of [...this.groups.values()]) {
        if (g.members.includes(name)) {
          await this.saveGroup({ ...g, members: g.members.filter((m) => m !== name) });
        }
      }
      for (const s of [...this.serviceAccounts.values()]) {
        if (s.doc.parent === name) {
          await this.store.put(`iam/service-accounts/${s.doc.accessKey}.json`, null);
          this.serviceAccounts.delete(s.doc.accessKey);
        }
      }
      for (const s of [...this.sts.values()]) {
        if (s.doc.parent === name) {
          await this.store.put(`iam/sts/${s.doc.accessKey}.json`, null);
          this.sts.delete(s.doc.accessKey);
        }
      }
      await this.store.put(`iam/users/${name}.json`, null);
      this.users.delete(name);
    });
  }

  // --- groups --------------------------------------------------------------------------------------

  private requireGroup(name: string): GroupDoc {
    const g = this.groups.get(name);
    if (!g) throw new IAMError('NoSuchGroup', `no group ${JSON.stringify(name)}`);
    return g;
  }

  private async saveGroup(g: GroupDoc): Promise<GroupDoc> {
    const doc: GroupDoc = { ...g, members: uniq(g.members).sort(), updatedAt: this.stamp() };
    await this.store.put(`iam/groups/${doc.name}.json`, json(doc));
    this.groups.set(doc.name, doc);
    return doc;
  }

  private groupInfo(g: GroupDoc): GroupInfo {
    return {
      name: g.name,
      status: g.status,
      members: [...g.members],
      policies: [...g.policies],
      createdAt: g.createdAt,
      updatedAt: g.updatedAt,
    };
  }

  /** Adds users to a group, making the group when it does not exist (as `mc admin group add`). */
  addGroupMembers(name: string, members: string[]): Promise<GroupInfo> {
    return this.change(async () => {
      checkName(name, 'group');
      if (!Array.isArray(members)) throw new IAMError('InvalidArgument', 'members must be a list of users');
      for (const m of members) this.requireUser(m);
      const t = this.stamp();
      const g = this.groups.get(name) ?? {
        version: 1 as const,
        name,
        members: [],
        status: 'enabled' as const,
        policies: [],
        createdAt: t,
        updatedAt: t,
      };
      return this.groupInfo(await this.saveGroup({ ...g, members: [...g.members, ...members] }));
    });
  }

  removeGroupMembers(name: string, members: string[]): Promise<GroupInfo> {
    return this.change(async () => {
      const g = this.requireGroup(name);
      if (!Array.isArray(members)) throw new IAMError('InvalidArgument', 'members must be a list of users');
      for (const m of members) {
        if (!g.members.includes(m)) {
          throw new IAMError('InvalidArgument', `${JSON.stringify(m)} is not a member of ${name}`);
        }
      }
      return this.groupInfo(
        await this.saveGroup({ ...g, members: g.members.filter((m) => !members.includes(m)) }),
      );
    });
  }

  /** Removes a group; only an empty one (remove its members first), as MinIO. */
  deleteGroup(name: string): Promise<void> {
    return this.change(async () => {
      const g = this.requireGroup(name);
      if (g.members.length > 0) {
        throw new IAMError('GroupNotEmpty', `group ${name} still has members: ${g.members.join(', ')}`);
      }
      await this.store.put(`iam/groups/${name}.json`, null);
      this.groups.delete(name);
    });
  }

  async listGroups(): Promise<GroupInfo[]> {
    await this.ready();
    return [...this.groups.values()].map((g) => this.groupInfo(g)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async getGroup(name: string): Promise<GroupInfo> {
    await this.ready();
    return this.groupInfo(this.requireGroup(name));
  }

  setGroupStatus(name: string, status: Status): Promise<GroupInfo> {
    return this.change(async () => {
      const g = this.requireGroup(name);
      return this.groupInfo(await this.saveGroup({ ...g, status: checkStatus(status) }));
    });
  }

  setGroupPolicies(name: string, policies: string[]): Promise<GroupInfo> {
    return this.change(async () => {
      const g = this.requireGroup(name);
      return this.groupInfo(await this.saveGroup({ ...g, policies: this.requirePolicies(policies) }));
    });
  }

  // --- policies ------------------------------------------------------------------------------------

  /** Creates or replaces a policy from its JSON text (`MalformedPolicy` with the parser's message). */
  putPolicy(name: string, text: string): Promise<PolicyInfo> {
    return this.change(async () => {
      checkName(name, 'policy');
      if (Object.hasOwn(BUILTIN_POLICIES, name)) {
        throw new IAMError('InvalidArgument', `${name} is a built-in policy and cannot be replaced`);
      }
      if (typeof text !== 'string') throw new IAMError('MalformedPolicy', 'the policy must be JSON text');
      const policy = parseIdentityPolicy(text);
      const t = this.stamp();
      const old = this.policies.get(name);
      const doc: PolicyDoc = {
        version: 1,
        name,
        policy: text,
        createdAt: old?.doc.createdAt ?? t,
        updatedAt: t,
      };
      await this.store.put(`iam/policies/${name}.json`, json(doc));
      this.policies.set(name, { doc, policy });
      return this.policyInfo(name);
    });
  }

  private policyInfo(name: string): PolicyInfo {
    const custom = this.policies.get(name);
    const policy = custom?.policy ?? BUILTIN_POLICIES[name];
    if (!policy) throw new IAMError('NoSuchPolicy', `no policy named ${JSON.stringify(name)}`);
    return {
      name,
      builtin: !custom,
      policy,
      users: [...this.users.values()]
        .filter((u) => u.doc.policies.includes(name))
        .map((u) => u.doc.accessKey),
      groups: [...this.groups.values()].filter((g) => g.policies.includes(name)).map((g) => g.name),
      ...(custom ? { createdAt: custom.doc.createdAt, updatedAt: custom.doc.updatedAt } : {}),
    };
  }

  async getPolicy(name: string): Promise<PolicyInfo> {
    await this.ready();
    return this.policyInfo(name);
  }

  /** Built-ins and stored policies, by name. */
  async listPolicies(): Promise<PolicyInfo[]> {
    await this.ready();
    const names = uniq([...Object.keys(BUILTIN_POLICIES), ...this.policies.keys()]).sort();
    return names.map((n) => this.policyInfo(n));
  }

  /** Removes a stored policy; one still attached is `DeleteConflict` (as AWS IAM's DeletePolicy). */
  deletePolicy(name: string): Promise<void> {
    return this.change(async () => {
      if (Object.hasOwn(BUILTIN_POLICIES, name)) {
        throw new IAMError('InvalidArgument', `${name} is a built-in policy and cannot be removed`);
      }
      if (!this.policies.has(name))
        throw new IAMError('NoSuchPolicy', `no policy named ${JSON.stringify(name)}`);
      const info = this.policyInfo(name);
      if (info.users.length > 0 || info.groups.length > 0) {
        const who = [...info.users.map((u) => `user ${u}`), ...info.groups.map((g) => `group ${g}`)];
        throw new IAMError(
          'DeleteConflict',
          `policy ${name} is attached to ${who.join(', ')}: detach it first`,
        );
      }
      await this.store.put(`iam/policies/${name}.json`, null);
      this.policies.delete(name);
    });
  }

  /** Attaches policies to a user or a group (the ones already attached stay). */
  attachPolicies(to: { user?: string; group?: string }, names: string[]): Promise<string[]> {
    return this.change(async () => {
      const add = this.requirePolicies(names);
      if ((to.user === undefined) === (to.group === undefined)) {
        throw new IAMError('InvalidArgument', 'give exactly one of user or group');
      }
      if (to.user !== undefined) {
        const u = this.requireUser(to.user);
        await this.saveUser(u, { policies: uniq([...u.doc.policies, ...add]) });
        return [...u.doc.policies];
      }
      const g = this.requireGroup(to.group!);
      return [...(await this.saveGroup({ ...g, policies: uniq([...g.policies, ...add]) })).policies];
    });
  }

  /** Detaches policies from a user or a group; one not attached is `InvalidArgument`. */
  detachPolicies(to: { user?: string; group?: string }, names: string[]): Promise<string[]> {
    return this.change(async () => {
      if (!Array.isArray(names)) throw new IAMError('InvalidArgument', 'policies must be a list of names');
      if ((to.user === undefined) === (to.group === undefined)) {
        throw new IAMError('InvalidArgument', 'give exactly one of user or group');
      }
      const current =
        to.user !== undefined
          ? this.requireUser(to.user).doc.policies
          : this.requireGroup(to.group!).policies;
      for (const n of names) {
        if (!current.includes(n)) {
          throw new IAMError(
            'InvalidArgument',
            `policy ${JSON.stringify(n)} is not attached to ${to.user ?? to.group}`,
          );
        }
      }
      const left = current.filter((p) => !names.includes(p));
      if (to.user !== undefined) {
        const u = this.requireUser(to.user);
        await this.saveUser(u, { policies: left });
        return [...u.doc.policies];
      }
      const g = this.requireGroup(to.group!);
      return [...(await this.saveGroup({ ...g, policies: left })).policies];
    });
  }

  // --- service accounts ----------------------------------------------------------------------------

  private requireServiceAccount(accessKey: string): Cached<ServiceAccountDoc> {
    const s = this.serviceAccounts.get(accessKey);
    if (!s) throw new IAMError('NoSuchServiceAccount', `no service account ${JSON.stringify(accessKey)}`);
    return s;
  }

  private serviceAccountInfo(c: Cached<ServiceAccountDoc>): ServiceAccountInfo {
    const d = c.doc;
    return {
      accessKey: d.accessKey,
      parent: d.parent,
      status: d.status,
      ...(c.policy ? { policy: c.policy } : {}),
      ...(d.expiresAt !== undefined ? { expiresAt: d.expiresAt } : {}),
      ...(d.name !== undefined ? { name: d.name } : {}),
      ...(d.description !== undefined ? { description: d.description } : {}),
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
    };
  }

  private checkExpiry(expiresAt: unknown): string {
    const t =
      expiresAt instanceof Date
        ? expiresAt.getTime()
        : typeof expiresAt === 'string'
          ? Date.parse(expiresAt)
          : Number.NaN;
    if (!Number.isFinite(t))
      throw new IAMError('InvalidArgument', 'expiry must be an ISO 8601 date and time');
    if (t <= this.now()) throw new IAMError('InvalidArgument', 'expiry must be in the future');
    return new Date(t).toISOString();
  }

  /**
   * A new service account of `parent` (a user, or `root`): its own keys (generated when not given),
   * the parent's rights, narrowed by `policy` when given, until `expiresAt` when given.
   */
  createServiceAccount(opts: {
    parent: string;
    accessKey?: string;
    secretKey?: string;
    policy?: string;
    expiresAt?: Date | string;
    name?: string;
    description?: string;
  }): Promise<NewCredentials & ServiceAccountInfo> {
    return this.change(async () => {
      if (opts.parent !== 'root') this.requireUser(opts.parent);
      const accessKey = opts.accessKey === undefined ? newAccessKey() : checkAccessKey(opts.accessKey);
      const secretKey = opts.secretKey === undefined ? newSecretKey() : checkSecretKey(opts.secretKey);
      if (this.keyInUse(accessKey)) {
        throw new IAMError('UserAlreadyExists', `the access key ${accessKey} is already in use`);
      }
      const policy = opts.policy === undefined ? undefined : parseIdentityPolicy(opts.policy);
      const t = this.stamp();
      const doc: ServiceAccountDoc = {
        version: 1,
        accessKey,
        secretKey: this.sealer.seal(secretKey, `svc:${accessKey}`),
        parent: opts.parent,
        status: 'enabled',
        ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
        ...(opts.expiresAt !== undefined ? { expiresAt: this.checkExpiry(opts.expiresAt) } : {}),
        ...(opts.name !== undefined ? { name: checkLabel(opts.name, 'name', 32) } : {}),
        ...(opts.description !== undefined
          ? { description: checkLabel(opts.description, 'description', 256) }
          : {}),
        createdAt: t,
        updatedAt: t,
      };
      await this.store.put(`iam/service-accounts/${accessKey}.json`, json(doc));
      const c: Cached<ServiceAccountDoc> = { doc, secret: secretKey, ...(policy ? { policy } : {}) };
      this.serviceAccounts.set(accessKey, c);
      return { ...this.serviceAccountInfo(c), accessKey, secretKey };
    });
  }

  /** Service accounts, all or of one parent. */
  async listServiceAccounts(parent?: string): Promise<ServiceAccountInfo[]> {
    await this.ready();
    return [...this.serviceAccounts.values()]
      .filter((s) => parent === undefined || s.doc.parent === parent)
      .map((s) => this.serviceAccountInfo(s))
      .sort((a, b) => (a.accessKey < b.accessKey ? -1 : 1));
  }

  async getServiceAccount(accessKey: string): Promise<ServiceAccountInfo> {
    await this.ready();
    return this.serviceAccountInfo(this.requireServiceAccount(accessKey));
  }

  /** Changes status, inline policy (null removes it), expiry (null removes it), secret, name, description. */
  updateServiceAccount(
    accessKey: string,
    update: {
      status?: Status;
      policy?: string | null;
      expiresAt?: Date | string | null;
      secretKey?: string;
      name?: string;
      description?: string;
    },
  ): Promise<ServiceAccountInfo> {
    return this.change(async () => {
      const c = this.requireServiceAccount(accessKey);
      const doc: ServiceAccountDoc = { ...c.doc, updatedAt: this.stamp() };
      let policy = c.policy;
      let secret = c.secret;
      if (update.status !== undefined) doc.status = checkStatus(update.status);
      if (update.policy === null) {
        delete doc.policy;
        policy = undefined;
      } else if (update.policy !== undefined) {
        policy = parseIdentityPolicy(update.policy);
        doc.policy = update.policy;
      }
      if (update.expiresAt === null) delete doc.expiresAt;
      else if (update.expiresAt !== undefined) doc.expiresAt = this.checkExpiry(update.expiresAt);
      if (update.secretKey !== undefined) {
        secret = checkSecretKey(update.secretKey);
        doc.secretKey = this.sealer.seal(secret, `svc:${accessKey}`);
      }
      if (update.name !== undefined) doc.name = checkLabel(update.name, 'name', 32);
      if (update.description !== undefined)
        doc.description = checkLabel(update.description, 'description', 256);
      await this.store.put(`iam/service-accounts/${accessKey}.json`, json(doc));
      c.doc = doc;
      c.secret = secret;
      if (policy) c.policy = policy;
      else delete c.policy;
      return this.serviceAccountInfo(c);
    });
  }

  deleteServiceAccount(accessKey: string): Promise<void> {
    return this.change(async () => {
      this.requireServiceAccount(accessKey);
      await this.store.put(`iam/service-accounts/${accessKey}.json`, null);
      this.serviceAccounts.delete(accessKey);
    });
  }

  // --- temporary credentials -----------------------------------------------------------------------

  /**
   * AssumeRole for `caller`: new credentials acting for the caller's user (the root user's too),
   * valid `durationSeconds`, with at most the caller's rights, narrowed by `sessionPolicy` (JSON
   * text) when given. Temporary credentials cannot ask for more; a service account with an inline
   * policy cannot add a session policy on top (the two would have to both allow, which one
   * identity record cannot say).
   */
  assumeRole(
    caller: IdentityRecord,
    opts: { durationSeconds: number; sessionPolicy?: string; sessionName?: string; roleArn?: string },
  ): Promise<TemporaryCredentials> {
    return this.change(async () => {
      if (caller.kind === 'sts') {
        throw new IAMError('AccessDenied', 'temporary credentials cannot be used to call AssumeRole');
      }
      let via: string | undefined;
      if (caller.kind === 'serviceAccount') {
        via = caller.accessKey;
        if (caller.sessionPolicy && opts.sessionPolicy !== undefined) {
          throw new IAMError(
            'AccessDenied',
            'a service account with its own policy cannot add a session policy: call AssumeRole without Policy',
          );
        }
      }
      const d = opts.durationSeconds;
      if (!Number.isInteger(d) || d < STS_MIN_DURATION || d > STS_MAX_DURATION) {
        throw new IAMError(
          'InvalidArgument',
          `DurationSeconds must be ${STS_MIN_DURATION} to ${STS_MAX_DURATION}`,
        );
      }
      const sessionPolicy =
        opts.sessionPolicy === undefined ? undefined : parseIdentityPolicy(opts.sessionPolicy);
      await this.purgeExpired();
      let accessKey = newAccessKey();
      while (this.keyInUse(accessKey)) accessKey = newAccessKey();
      const secretKey = newSecretKey();
      const sessionToken = newSessionToken();
      const now = this.now();
      const expiresAt = new Date(now + d * 1000);
      const sessionName = opts.sessionName ?? accessKey;
      const doc: StsDoc = {
        version: 1,
        accessKey,
        secretKey: this.sealer.seal(secretKey, `sts:${accessKey}`),
        sessionToken: this.sealer.seal(sessionToken, `sts-token:${accessKey}`),
        parent: caller.username,
        ...(via !== undefined ? { via } : {}),
        ...(opts.sessionPolicy !== undefined ? { sessionPolicy: opts.sessionPolicy } : {}),
        sessionName,
        ...(opts.roleArn !== undefined ? { roleArn: opts.roleArn } : {}),
        expiresAt: expiresAt.toISOString(),
        createdAt: new Date(now).toISOString(),
      };
      await this.store.put(`iam/sts/${accessKey}.json`, json(doc));
      this.sts.set(accessKey, {
        doc,
        secret: secretKey,
        sessionToken,
        ...(sessionPolicy ? { policy: sessionPolicy } : {}),
      });
      return { accessKey, secretKey, sessionToken, expiresAt, parent: caller.username, sessionName };
    });
  }

  private async purgeSts(accessKey: string): Promise<void> {
    await this.mutex
      .run(() =>
        this.told(async () => {
          const c = this.sts.get(accessKey);
          if (!c || Date.parse(c.doc.expiresAt) + STS_PURGE_AFTER_MS > this.now()) return;
          await this.store.put(`iam/sts/${accessKey}.json`, null);
          this.sts.delete(accessKey);
        }),
      )
      .catch(() => {});
  }

  /** Removes temporary credentials expired for longer than the grace period (inside a change). */
  private async purgeExpired(): Promise<void> {
    const limit = this.now() - STS_PURGE_AFTER_MS;
    for (const c of [...this.sts.values()]) {
      if (Date.parse(c.doc.expiresAt) > limit) continue;
      try {
        await this.store.put(`iam/sts/${c.doc.accessKey}.json`, null);
        this.sts.delete(c.doc.accessKey);
      } catch {
        // Left for the next sweep.
      }
    }
  }
}

function parseOrNothing(text: string): Policy {
  try {
    return parsePolicy(text, { kind: 'identity' });
  } catch {
    return { Version: '2012-10-17', Statement: [] };
  }
}

function opens(box: SecretBox, check: string): boolean {
  try {
    return box.open(check, 'format') === CHECK_VALUE;
  } catch {
    return false;
  }
}

function disabled(accessKey: string): AuthError {
  return new AuthError('InvalidAccessKeyId', DISABLED_MESSAGE, { AWSAccessKeyId: accessKey });
}

function checkStatus(s: unknown): Status {
  if (s !== 'enabled' && s !== 'disabled') {
    throw new IAMError('InvalidArgument', `status must be "enabled" or "disabled", not ${JSON.stringify(s)}`);
  }
  return s;
}

function checkLabel(v: unknown, what: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (typeof v !== 'string' || v.length > max || /[\u0000-\u001f]/.test(v)) {
    throw new IAMError('InvalidArgument', `the ${what} must be text of at most ${max} characters`);
  }
  return v;
}
