/**
 * Secrets at rest: every secret key and session token IAM stores is sealed with AES-256-GCM under a
 * key derived (HKDF-SHA256) from the root secret key and a random per-deployment salt kept beside
 * the IAM documents. The root secret never reaches the drives, so a copy of the drives alone does
 * not give anyone the users' secrets.
 *
 * Each sealed value is bound to the document it belongs to (the GCM additional data), so a sealed
 * secret copied into another user's document does not open.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const HKDF_INFO = 'cairn iam secrets v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Sealed values carry their format version. */
const PREFIX = 'v1:';

export class SecretBox {
  private readonly key: Buffer;

  constructor(rootSecret: string, salt: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', Buffer.from(rootSecret, 'utf8'), salt, HKDF_INFO, 32));
  }

  /** A new random salt for a new deployment. */
  static newSalt(): Buffer {
    return randomBytes(32);
  }

  /** `v1:` + base64(iv ‖ ciphertext ‖ tag). `context` names what the value belongs to. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([iv, body, c.getAuthTag()]).toString('base64');
  }

  /** The plain value; throws when the key (the root secret) or the context differ. */
  open(sealed: string, context: string): string {
    if (!sealed.startsWith(PREFIX)) throw new Error('unknown sealed secret format');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed secret too short');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const d = createDecipheriv('aes-256-gcm', this.key, iv);
    d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), d.final()]).toString(
      'utf8',
    );
  }
}

const ALNUM_UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomFrom(alphabet: string, n: number): string {
  // Rejection sampling: every character equally likely.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < limit && out.length < n) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

/** A generated access key: 20 upper-case letters and digits, as AWS's look. */
export function newAccessKey(): string {
  return randomFrom(ALNUM_UPPER, 20);
}

/** A generated secret key: 40 characters of base64's alphabet, as AWS's look. */
export function newSecretKey(): string {
  return randomFrom(SECRET_ALPHABET, 40);
}

/** A session token: 256 random bits, base64url. */
export function newSessionToken(): string {
  return randomBytes(96).toString('base64url');
}
