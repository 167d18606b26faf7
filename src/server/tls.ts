/**
 * TLS as MinIO lays it out. A certificates directory (`--certs-dir`, `CAIRN_CERTS_DIR`; by default
 * `~/.cairn/certs`, or `~/.minio/certs` when only that one exists) holds `public.crt` (PEM, the
 * server's certificate, its chain after it) and `private.key` (PEM), and may hold one sub-folder per
 * further certificate, served to clients that ask for one of its names (SNI); `CAs/` is for the CAs
 * of outgoing calls and holds no server certificate. Without `public.crt` and `private.key` at the
 * top the server speaks plain HTTP.
 *
 * The files are looked at every few seconds and reloaded when one changes: a renewed certificate is
 * served to new connections without a restart. A broken replacement is logged and the last good
 * certificates stay in use.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

export const CERT_FILE = 'public.crt';
export const KEY_FILE = 'private.key';
/** CAs trusted for outgoing calls: never a server certificate's folder. */
export const CAS_DIR = 'CAs';

export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

/** One certificate and its key, and the names it serves. */
export interface CertPair {
  dir: string;
  cert: string;
  key: string;
  /** DNS names (lower case; `*.example.com` for wildcards) and IP addresses it is valid for. */
  names: string[];
  notAfter: Date;
  context: tls.SecureContext;
}

export interface Certificates {
  dir: string;
  /** `public.crt` and `private.key` at the top: for clients that name nothing else. */
  main: CertPair;
  /** The sub-folders' certificates, in name order. */
  others: CertPair[];
}

/**
 * The certificates directory: `given` (flag or `CAIRN_CERTS_DIR`) when set, else `~/.cairn/certs`,
 * or `~/.minio/certs` when only that one exists (a MinIO host keeps its layout).
 */
export function certsDirFor(given: string | undefined, home = os.homedir()): string {
  if (given !== undefined && given !== '') return path.resolve(given);
  const cairn = path.join(home, '.cairn', 'certs');
  const minio = path.join(home, '.minio', 'certs');
  return !fs.existsSync(cairn) && fs.existsSync(minio) ? minio : cairn;
}

/** The names a certificate is valid for: its SAN entries, or its CN when it has none. */
function namesOf(x: X509Certificate): string[] {
  const names: string[] = [];
  for (const part of (x.subjectAltName ?? '').split(',')) {
    const m = /^\s*(DNS|IP Address):(.+)$/.exec(part);
    if (m) names.push(m[2]!.trim().toLowerCase());
  }
  if (names.length === 0) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
    if (cn) names.push(cn.trim().toLowerCase());
  }
  return names;
}

/** The pair in `dir`, undefined when neither file is there. */
function readPair(dir: string): CertPair | undefined {
  const certPath = path.join(dir, CERT_FILE);
  const keyPath = path.join(dir, KEY_FILE);
  const hasCert = fs.existsSync(certPath);
  const hasKey = fs.existsSync(keyPath);
  if (!hasCert && !hasKey) return undefined;
  if (!hasCert || !hasKey) {
    throw new TlsConfigError(`${dir}: ${hasCert ? KEY_FILE : CERT_FILE} is missing (both files are needed)`);
  }
  let cert: string;
  let key: string;
  try {
    cert = fs.readFileSync(certPath, 'utf8');
    key = fs.readFileSync(keyPath, 'utf8');
  } catch (e) {
    throw new TlsConfigError(`${dir}: cannot read the certificate or key: ${(e as Error).message}`);
  }
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (e) {
    throw new TlsConfigError(`${certPath}: not a PEM certificate (${(e as Error).message})`);
  }
  let ok: boolean;
  try {
    ok = x.checkPrivateKey(createPrivateKey(key));
  } catch (e) {
    throw new TlsConfigError(`${keyPath}: not a PEM private key (${(e as Error).message})`);
  }
  if (!ok) throw new TlsConfigError(`${keyPath} is not the key of ${certPath}`);
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext({ cert, key });
  } catch (e) {
    throw new TlsConfigError(`${dir}: ${(e as Error).message}`);
  }
  return { dir, cert, key, names: namesOf(x), notAfter: new Date(x.validTo), context };
}

/** The certificates in `dir`; undefined when it holds no `public.crt`/`private.key` (plain HTTP). */
export function loadCertificates(dir: string): Certificates | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const main = readPair(dir);
  const others: CertPair[] = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!ent.isDirectory() || ent.name === CAS_DIR) continue;
    const pair = readPair(path.join(dir, ent.name));
    if (pair) others.push(pair);
  }
  if (!main) {
    if (others.length > 0) {
      throw new TlsConfigError(
        `${dir}: ${CERT_FILE} and ${KEY_FILE} are needed at the top, not only in sub-folders`,
      );
    }
    return undefined;
  }
  return { dir, main, others };
}

/** The certificate for a client that asked for `servername`: an exact name, then a wildcard, else the main one. */
export function pickCertificate(certs: Certificates, servername: string | undefined): CertPair {
  if (!servername) return certs.main;
  const name = servername.toLowerCase();
  for (const p of [certs.main, ...certs.others]) if (p.names.includes(name)) return p;
  const dot = name.indexOf('.');
  if (dot > 0) {
    const wild = `*${name.slice(dot)}`;
    for (const p of [certs.main, ...certs.others]) if (p.names.includes(wild)) return p;
  }
  return certs.main;
}

/** What tells a change of the files: their sizes and modification times. */
function stampOf(dir: string): string {
  const parts: string[] = [];
  const add = (d: string) => {
    for (const f of [CERT_FILE, KEY_FILE]) {
      try {
        const st = fs.statSync(path.join(d, f));
        parts.push(`${d}/${f}:${st.size}:${st.mtimeMs}:${st.ino}`);
      } catch {
        parts.push(`${d}/${f}:-`);
      }
    }
  };
  add(dir);
  try {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
      if (ent.isDirectory() && ent.name !== CAS_DIR) add(path.join(dir, ent.name));
    }
  } catch {
    parts.push('-');
  }
  return parts.sort().join('|');
}

/** A TLS server's certificates, kept current: `options()` for `https.createServer`, reloads applied. */
export class CertificateStore {
  private certs: Certificates;
  private stamp: string;
  private readonly servers: tls.Server[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    certs: Certificates,
    private readonly log: { info(msg: string): void; warn(msg: string): void },
    reloadMs = 5_000,
  ) {
    this.certs = certs;
    this.stamp = stampOf(certs.dir);
    if (reloadMs > 0) {
      this.timer = setInterval(() => this.check(), reloadMs);
      this.timer.unref();
    }
  }

  get current(): Certificates {
    return this.certs;
  }

  /** Options for a TLS server; call `serve` with the server so that reloads reach it. */
  options(): tls.TlsOptions {
    return {
      cert: this.certs.main.cert,
      key: this.certs.main.key,
      minVersion: 'TLSv1.2',
      SNICallback: (servername, cb) => cb(null, pickCertificate(this.certs, servername).context),
    };
  }

  serve(server: tls.Server): void {
    this.servers.push(server);
  }

  /** Reloads when the files changed; true when new certificates are in use. */
  check(): boolean {
    const stamp = stampOf(this.certs.dir);
    if (stamp === this.stamp) return false;
    this.stamp = stamp;
    let next: Certificates | undefined;
    try {
      next = loadCertificates(this.certs.dir);
    } catch (e) {
      this.log.warn(
        `TLS: the certificates in ${this.certs.dir} changed but cannot be used (${(e as Error).message}); still serving the previous ones`,
      );
      return false;
    }
    if (!next) {
      this.log.warn(
        `TLS: ${this.certs.dir} no longer holds ${CERT_FILE} and ${KEY_FILE}; still serving the previous ones`,
      );
      return false;
    }
    this.certs = next;
    for (const s of this.servers) s.setSecureContext({ cert: next.main.cert, key: next.main.key });
    this.log.info(
      `TLS: certificates reloaded from ${next.dir} (valid until ${next.main.notAfter.toISOString()})`,
    );
    return true;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
