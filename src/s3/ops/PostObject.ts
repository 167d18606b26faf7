/**
 * PostObject (`POST /{bucket}`, multipart/form-data): a browser form upload. The form's fields come
 * first, then the file; fields after the file are ignored (AWS: "the file must be the last field").
 * The form is signed by SigV4 over its base64 policy document (`x-amz-signature` with the signing
 * key of `x-amz-credential`'s scope); the policy's expiration and conditions (`eq`, `starts-with`,
 * `content-length-range`, exact `{ "field": "value" }`) are checked against the fields, and every
 * field must be named by a condition. The file streams into the object layer with its size held to
 * the policy's range; nothing is stored unless every check passes.
 *
 * A form with neither `policy` nor `x-amz-signature` is an anonymous upload (AWS takes one where a
 * bucket policy lets anyone write): no policy to check, and the anonymous caller needs the permissions.
 */
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import busboy from 'busboy';
import { ALGORITHM, deriveSigningKey, parseAmzDate, signatureMatches, signHex } from '../../auth/sigv4';
import type { PutObjectOptions } from '../../object/types';
import type { Op, ReqCtx, S3Response } from '../context';
import { S3Error } from '../errors';
import { formatTags, header, quoteEtag, type Tag } from '../headers';
import { requestTagConditions } from '../permissions';
import { parseTagging, renderXml } from '../xml';
import { getBucketVersioning, writtenVersionHeader } from './bucketState';
import {
  checkKey,
  checksumOptions,
  checksumResponseHeaders,
  MAX_PUT_SIZE,
  metadataFromHeaders,
  requestChecksum,
  storageClass,
  takeBody,
  toOpError,
} from './objectCommon';
import { lockOptionsForWrite, parseLockHeaders } from './objectLock';

/**
 * The fields before the file, in bytes. AWS refuses more than 20 KB (MaxPostPreDataLengthExceededError);
 * Cairn allows a little more, for long policies.
 */
export const MAX_PRE_DATA = 64 * 1024;
/** Fields in one form. */
const MAX_FIELDS = 1000;

// ---------------------------------------------------------------------------------------------------
// The policy document
// ---------------------------------------------------------------------------------------------------

export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number; text: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

function invalidPolicy(why: string): S3Error {
  return new S3Error('InvalidPolicyDocument', { message: `Invalid Policy: ${why}` });
}

function denied(why: string): S3Error {
  return new S3Error('AccessDenied', { message: `Invalid according to Policy: ${why}` });
}

/** AWS writes a failed condition as the JSON it was given, with a space after each comma. */
function conditionText(c: unknown): string {
  if (Array.isArray(c)) return `[${c.map((x) => JSON.stringify(x)).join(', ')}]`;
  return JSON.stringify(c);
}

function lengthBound(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalidPolicy('Invalid content-length-range: the bounds must be non-negative integers.');
  }
  return n;
}

/** The policy field: base64 of a JSON document with `expiration` and `conditions`. */
export function parsePostPolicy(b64: string): PostPolicy {
  const text = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw invalidPolicy('Invalid JSON.');
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const when = typeof expiration === 'string' ? new Date(expiration) : new Date(Number.NaN);
  if (
    typeof expiration !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T/.test(expiration) ||
    Number.isNaN(when.getTime())
  ) {
    throw invalidPolicy("Invalid 'expiration' value: must be an ISO 8601 date.");
  }
  if (conditions === undefined) throw invalidPolicy('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List.");
  const parsed: PolicyCondition[] = [];
  for (const c of conditions as unknown[]) {
    const text = conditionText(c);
    if (Array.isArray(c)) {
      if (c.length !== 3 || typeof c[0] !== 'string') throw invalidPolicy(`Invalid Condition: ${text}`);
      const op = c[0].toLowerCase();
      if (op === 'content-length-range') {
        const min = lengthBound(c[1]);
        const max = lengthBound(c[2]);
        parsed.push({ op, min, max, text });
        continue;
      }
      if (op !== 'eq' && op !== 'starts-with')
        throw invalidPolicy(`Invalid Condition: unknown operation ${c[0]}`);
      if (typeof c[1] !== 'string' || !c[1].startsWith('$') || typeof c[2] !== 'string') {
        throw invalidPolicy(`Invalid Condition: ${text}`);
      }
      parsed.push({ op, field: c[1].slice(1).toLowerCase(), value: c[2], text });
    } else if (typeof c === 'object' && c !== null) {
      const entries = Object.entries(c);
      if (entries.length !== 1 || typeof entries[0]![1] !== 'string') {
        throw invalidPolicy(`Invalid Simple-Condition: ${text}`);
      }
      const [field, value] = entries[0] as [string, string];
      parsed.push({ op: 'eq', field: field.toLowerCase(), value, text });
    } else {
      throw invalidPolicy(`Invalid Condition: ${text}`);
    }
  }
  return { expiration: when, conditions: parsed };
}

/** Fields no condition needs to name (AWS: "except x-amz-signature, file, policy, and x-ignore-*"). */
function exempt(field: string): boolean {
  return (
    field === 'x-amz-signature' || field === 'file' || field === 'policy' || field.startsWith('x-ignore-')
  );
}

/**
 * The policy against the form (field names lower-cased; `bucket` is the bucket posted to): expired,
 * a condition failed, or a field no condition names → AccessDenied. Returns the allowed file sizes.
 */
export function checkPostPolicy(
  policy: PostPolicy,
  fields: ReadonlyMap<string, string>,
  bucket: string,
  now: Date = new Date(),
): { minSize: number; maxSize: number } {
  if (now.getTime() > policy.expiration.getTime()) throw denied('Policy expired.');
  let minSize = 0;
  let maxSize = Number.POSITIVE_INFINITY;
  const named = new Set<string>();
  for (const c of policy.conditions) {
    if (c.op === 'content-length-range') {
      minSize = Math.max(minSize, c.min);
      maxSize = Math.min(maxSize, c.max);
      continue;
    }
    named.add(c.field);
    const value = c.field === 'bucket' ? (fields.get('bucket') ?? bucket) : (fields.get(c.field) ?? '');
    const ok = c.op === 'eq' ? value === c.value : value.startsWith(c.value);
    if (!ok || (c.field === 'bucket' && value !== bucket)) throw denied(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...fields.keys()].filter((f) => !exempt(f) && !named.has(f));
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return { minSize, maxSize };
}

// ---------------------------------------------------------------------------------------------------
// The form
// ---------------------------------------------------------------------------------------------------

interface Form {
  /** Lower-cased names; the first of a repeated field. */
  fields: Map<string, string>;
  file?: { stream: Readable; filename: string };
}

/**
 * Parses the form up to its file: the fields, and the file's stream (paused until read). The parser
 * goes on through any fields after the file; they are ignored.
 */
function readForm(ctx: ReqCtx, contentType: string): Promise<{ form: Form; stop: () => void }> {
  let bb: busboy.Busboy;
  try {
    bb = busboy({
      headers: { 'content-type': contentType },
      limits: { fieldSize: MAX_PRE_DATA, fields: MAX_FIELDS, fieldNameSize: 1024 },
      preservePath: false,
    });
  } catch (e) {
    return Promise.reject(new S3Error('MalformedPOSTRequest', { cause: e }));
  }
  const body = takeBody(ctx);
  const stop = () => {
    body.unpipe(bb);
    bb.removeAllListeners();
    bb.on('error', () => {});
    bb.destroy();
  };
  return new Promise((resolve, reject) => {
    const fields = new Map<string, string>();
    let preData = 0;
    let settled = false;
    let fileStream: Readable | undefined;
    const fail = (e: S3Error) => {
      if (settled) {
        fileStream?.destroy(e);
        return;
      }
      settled = true;
      stop();
      reject(e);
    };
    const done = (form: Form) => {
      if (settled) return;
      settled = true;
      resolve({ form, stop });
    };
    // Fields after the file are ignored (AWS); the file may be handed on a tick after it arrives.
    let fileSeen = false;
    bb.on('field', (name, value, info) => {
      if (settled || fileSeen) return;
      preData += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (info.nameTruncated || info.valueTruncated || preData > MAX_PRE_DATA) {
        fail(new S3Error('MaxPostPreDataLengthExceededError'));
        return;
      }
      const n = name.toLowerCase();
      // A file sent as a plain field (no filename): its value is the content.
      if (n === 'file') {
        done({ fields, file: { stream: Readable.from([Buffer.from(value)]), filename: '' } });
        return;
      }
      if (!fields.has(n)) fields.set(n, value);
    });
    // Form fields sent as file parts (with a filename, as some HTTP libraries send every field):
    // AWS takes only the part named `file` as the file; the others are fields like any other.
    const pending: Promise<void>[] = [];
    bb.on('file', (name, stream, info) => {
      if (settled || fileSeen) {
        stream.resume();
        return;
      }
      const n = name.toLowerCase();
      if (n !== 'file') {
        const chunks: Buffer[] = [];
        pending.push(
          new Promise<void>((res) => {
            stream.on('data', (c: Buffer) => {
              preData += c.length;
              if (preData > MAX_PRE_DATA) {
                fail(new S3Error('MaxPostPreDataLengthExceededError'));
                stream.resume();
                return;
              }
              chunks.push(c);
            });
            stream.once('end', () => {
              if (!fields.has(n)) fields.set(n, Buffer.concat(chunks).toString('utf8'));
              res();
            });
            stream.once('error', () => res());
          }),
        );
        return;
      }
      fileStream = stream;
      fileSeen = true;
      const file = { stream, filename: info.filename ?? '' };
      void Promise.all(pending).then(() => done({ fields, file }));
    });
    bb.on('fieldsLimit', () => fail(new S3Error('MaxPostPreDataLengthExceededError')));
    bb.on('close', () => void Promise.all(pending).then(() => done({ fields })));
    bb.on('error', (e) => fail(new S3Error('MalformedPOSTRequest', { cause: e })));
    body.on('error', (e) => fail(toOpError(e, ctx.signal)));
    body.pipe(bb);
  });
}

/** Holds the file to the policy's size range while it streams; the range's floor is checked at its end. */
class SizeGuard extends Transform {
  size = 0;
  constructor(
    private readonly min: number,
    private readonly max: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) {
      cb(
        new S3Error('EntityTooLarge', {
          message: 'Your proposed upload exceeds the maximum allowed size',
          fields: { ProposedSize: this.size, MaxSizeAllowed: this.max },
        }),
      );
      return;
    }
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size < this.min) {
      cb(
        new S3Error('EntityTooSmall', {
          message: 'Your proposed upload is smaller than the minimum allowed size',
          fields: { ProposedSize: this.size, MinSizeAllowed: this.min },
        }),
      );
      return;
    }
    cb();
  }
}

// ---------------------------------------------------------------------------------------------------
// The signature
// ---------------------------------------------------------------------------------------------------

/** Checks the form's signature; returns the access key that signed it (undefined: an unsigned form). */
async function checkSignature(ctx: ReqCtx, fields: ReadonlyMap<string, string>): Promise<string | undefined> {
  if (fields.has('awsaccesskeyid') || fields.has('signature')) {
    throw new S3Error('InvalidRequest', {
      message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    });
  }
  const signature = fields.get('x-amz-signature');
  const policy = fields.get('policy');
  // An unsigned form: the caller (anonymous) is authorized as it is, by the bucket's policy.
  if (signature === undefined && policy === undefined) return undefined;
  const missing = (name: string) =>
    new S3Error('InvalidArgument', {
      message: `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
      fields: { ArgumentName: name, ArgumentValue: '' },
    });
  if (policy === undefined) throw missing('policy');
  if (signature === undefined) throw missing('x-amz-signature');
  const algorithm = fields.get('x-amz-algorithm');
  if (algorithm === undefined) throw missing('x-amz-algorithm');
  if (algorithm !== ALGORITHM) {
    throw new S3Error('InvalidArgument', {
      message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
      fields: { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm },
    });
  }
  const credential = fields.get('x-amz-credential');
  if (credential === undefined) throw missing('x-amz-credential');
  const amzDate = fields.get('x-amz-date');
  if (amzDate === undefined) throw missing('x-amz-date');
  if (!parseAmzDate(amzDate.trim())) {
    throw new S3Error('InvalidArgument', {
      message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      fields: { ArgumentName: 'x-amz-date', ArgumentValue: amzDate },
    });
  }
  const parts = credential.split('/');
  const malformed = (why: string, extra?: Record<string, string>) =>
    new S3Error('AuthorizationQueryParametersError', {
      message: `Error parsing the X-Amz-Credential parameter; ${why}`,
      ...(extra ? { fields: extra } : {}),
    });
  if (parts.length !== 5 || parts.some((p) => p === '')) {
    throw malformed(
      'the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  }
  const [accessKey, date, region, service, terminator] = parts as [string, string, string, string, string];
  if (region !== ctx.config.region) {
    throw malformed(`the region '${region}' is wrong; expecting '${ctx.config.region}'`, {
      Region: ctx.config.region,
    });
  }
  if (service !== 's3') throw malformed(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminator !== 'aws4_request') {
    throw malformed(`incorrect terminal "${terminator}". This endpoint uses "aws4_request".`);
  }
  if (!/^\d{8}$/.test(date))
    throw malformed(`Invalid credential date "${date}". Date must be in the format "yyyyMMdd".`);

  const cred = ctx.credentials ? await ctx.credentials(accessKey) : undefined;
  if (!cred) throw new S3Error('InvalidAccessKeyId', { fields: { AWSAccessKeyId: accessKey } });
  // As for a signed request (src/auth/verifyRequest.ts): a temporary key without its token is unknown.
  const token = fields.get('x-amz-security-token');
  if (cred.sessionToken !== undefined && token === undefined) {
    throw new S3Error('InvalidAccessKeyId', { fields: { AWSAccessKeyId: accessKey } });
  }
  if (token !== cred.sessionToken) throw new S3Error('InvalidToken');
  const expected = signHex(deriveSigningKey(cred.secretKey, date, region, service), policy);
  if (!signatureMatches(expected, signature.trim().toLowerCase())) {
    throw new S3Error('SignatureDoesNotMatch', {
      fields: { AWSAccessKeyId: accessKey, StringToSign: policy },
    });
  }
  return accessKey;
}

// ---------------------------------------------------------------------------------------------------
// The action
// ---------------------------------------------------------------------------------------------------

/** `/`-separated key, each segment percent-encoded (for `Location`). */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

export const PostObject: Op<'PostObject'> = async (ctx) => {
  const { bucket } = ctx.route;
  const contentType = header(ctx.headers, 'content-type') ?? '';
  if (!/^multipart\/form-data\s*;/i.test(contentType.trim()))
    throw new S3Error('RequestIsNotMultiPartContent');

  const { form, stop } = await readForm(ctx, contentType);
  const file = form.file;
  try {
    const fields = form.fields;
    const signer = await checkSignature(ctx, fields);
    const policy = signer === undefined ? undefined : parsePostPolicy(fields.get('policy')!);
    const rawKey = fields.get('key');
    if (rawKey === undefined || rawKey === '') {
      throw new S3Error('InvalidArgument', {
        message:
          "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        fields: { ArgumentName: 'key', ArgumentValue: '' },
      });
    }
    const { minSize, maxSize } = policy
      ? checkPostPolicy(policy, fields, bucket)
      : { minSize: 0, maxSize: Number.POSITIVE_INFINITY };
    if (!file) {
      throw new S3Error('InvalidArgument', {
        message: 'POST requires exactly one file upload per request.',
        fields: { ArgumentName: 'file', ArgumentValue: '0' },
      });
    }
    // AWS: `${filename}` in the key is the uploaded file's name.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder AWS defines
    const key = rawKey.replaceAll('${filename}', file.filename);
    checkKey(key);
    const tagging = fields.get('tagging');
    const tags = tagging ? parseTagging(tagging, 'object') : [];
    await authorize(ctx, key, signer, fields, tagging ? tags : undefined);

    // The fields as headers, so the PUT helpers read them as they read a PutObject.
    const h: Record<string, string> = Object.fromEntries(fields);
    const sc = storageClass(h);
    const opts: PutObjectOptions = {
      size: -1,
      ...metadataFromHeaders(h),
      tags: tags.length > 0 ? formatTags(tags) : '',
      ...(sc ? { storageClass: sc } : {}),
      ...checksumOptions(ctx, requestChecksum(h)),
      // Object Lock fields (`x-amz-object-lock-*`), as PutObject's headers, or the bucket's default.
      ...(await lockOptionsForWrite(ctx, bucket, parseLockHeaders(h))),
    };
    const versioning = await getBucketVersioning(ctx, bucket);
    opts.versioned = versioning === 'Enabled';
    const guard = new SizeGuard(minSize, Math.min(maxSize, MAX_PUT_SIZE));
    pipeline(file.stream, guard, () => {});
    const info = await ctx.objects.putObject(bucket, key, guard, opts).catch((e) => {
      throw toOpError(e, ctx.signal);
    });
    return respond(ctx, fields, bucket, key, info.etag, {
      ...checksumResponseHeaders(info),
      // As PutObject: only a version Enabled versioning made is named (none for the null version).
      ...writtenVersionHeader(info.versionId),
    });
  } catch (e) {
    file?.stream.destroy();
    stop();
    throw e;
  }
};

/**
 * The form's signer (or, for an unsigned form, the request's caller: anonymous) is the caller: it
 * needs s3:PutObject on the key, and as a PutObject with the same headers would, s3:PutObjectTagging,
 * s3:PutObjectRetention, s3:PutObjectLegalHold for the fields that set them, with the form's tags as
 * `s3:RequestObjectTag/<k>` (src/s3/permissions.ts `writeExtras`).
 */
async function authorize(
  ctx: ReqCtx,
  key: string,
  signer: string | undefined,
  fields: ReadonlyMap<string, string>,
  tags: Tag[] | undefined,
): Promise<void> {
  const actions = ['s3:PutObject'];
  if (tags !== undefined) actions.push('s3:PutObjectTagging');
  if (fields.has('x-amz-object-lock-mode') || fields.has('x-amz-object-lock-retain-until-date')) {
    actions.push('s3:PutObjectRetention');
  }
  if (fields.has('x-amz-object-lock-legal-hold')) actions.push('s3:PutObjectLegalHold');
  const conditions = tags === undefined ? undefined : requestTagConditions(tags.map((t) => [t.key, t.value]));
  for (const action of actions) {
    const ok = await ctx.allowed(action, {
      key,
      ...(signer !== undefined ? { accessKey: signer } : {}),
      ...(conditions ? { conditions } : {}),
    });
    if (!ok) throw new S3Error('AccessDenied');
  }
}

function respond(
  ctx: ReqCtx,
  fields: ReadonlyMap<string, string>,
  bucket: string,
  key: string,
  etag: string,
  checksumHeaders: Record<string, string>,
): S3Response {
  const host = header(ctx.headers, 'host') ?? 'localhost';
  const location = `http://${host}/${bucket}/${encodeKey(key)}`;
  const headers: Record<string, string> = { ETag: quoteEtag(etag), Location: location, ...checksumHeaders };
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(redirect);
    } catch {
      url = undefined;
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) {
      url.searchParams.set('bucket', bucket);
      url.searchParams.set('key', key);
      url.searchParams.set('etag', quoteEtag(etag));
      return { status: 303, headers: { ...headers, Location: url.toString() } };
    }
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    return {
      status: 201,
      headers: { ...headers, 'Content-Type': 'application/xml' },
      body: renderXml(
        'PostResponse',
        { Location: location, Bucket: bucket, Key: key, ETag: quoteEtag(etag) },
        { xmlns: false },
      ),
    };
  }
  if (status === '200') return { status: 200, headers };
  return { status: 204, headers };
}
