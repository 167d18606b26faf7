/**
 * The body side of Signature Version 4: a Transform that takes the request body as received and
 * gives out only the object's data bytes, failing the stream when the body does not verify.
 *
 * - `sha256`: the body must hash to the signed `x-amz-content-sha256`, else `XAmzContentSHA256Mismatch`
 *   (S3 too answers this only after it has read the body).
 * - `none`, `unsigned`: passed through (a declared length is still enforced).
 * - `streaming-*`: the aws-chunked encoding (AWS: "Transferring Payload in Multiple Chunks" and
 *   "Signature calculations for trailing headers"):
 *
 *     <hex size>;chunk-signature=<sig>\r\n<data>\r\n      (repeated; `<hex size>\r\n` when unsigned)
 *     0;chunk-signature=<sig>\r\n                          (the final, empty chunk)
 *     \r\n                                                 (no trailer), or the trailing headers:
 *     x-amz-checksum-crc32:<base64>\r\n ... [x-amz-trailer-signature:<sig>\r\n] \r\n
 *
 *   Frames are parsed as they arrive, split at any byte. Every chunk signature is checked (each
 *   chains the previous one, starting from the request's seed signature), then the final chunk,
 *   then the trailer signature. The data total must equal `x-amz-decoded-content-length`.
 *
 * THE GUARANTEE: the consumer never sees the end of the data unless the whole body verified.
 * The verifier always holds back the most recent data it has accepted and releases it only when
 * the next data arrives or, for the last piece, after every check at the end (hash, final chunk,
 * trailers, length) has passed. A failure destroys the stream with an `AuthError` instead of
 * ending it. So a consumer that commits only on a clean end (or only once it has all the bytes it
 * was told to expect) commits nothing that did not verify.
 *
 * In signed streaming mode a chunk's bytes are released only after its own signature verified
 * (at most one chunk is held: `maxChunkSize`). In the other modes bytes flow as they come; they are
 * provisional until the stream ends cleanly.
 *
 * Trailers are in `verifier.trailers` once the stream has ended; checking `x-amz-checksum-*`
 * against the data is the caller's job.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AuthError } from './errors';
import {
  chunkStringToSign,
  EMPTY_SHA256,
  sha256Hex,
  signatureMatches,
  signHex,
  trailerStringToSign,
} from './sigv4';
import type { ChunkSigningContext, PayloadInfo, PayloadKind } from './types';

/** SDKs send 64 KiB chunks; a signed chunk is held whole until verified, so its size is bounded. */
export const DEFAULT_MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** Trailers are a few short header lines. */
export const DEFAULT_MAX_TRAILER_BYTES = 16 * 1024;
const MAX_CHUNK_LINE = 4096;

export interface PayloadVerifierOptions {
  /**
   * The number of data bytes the body must carry. For streaming payloads the default is the
   * signed `x-amz-decoded-content-length`; for the others there is none (pass `Content-Length` to
   * have it enforced: fewer bytes is `IncompleteBody`).
   */
  decodedLength?: number;
  /** Largest accepted signed chunk. Default 16 MiB. */
  maxChunkSize?: number;
  /** Largest accepted trailer section. Default 16 KiB. */
  maxTrailerBytes?: number;
}

type ChunkState = 'size-line' | 'data' | 'data-crlf' | 'trailer';

function framing(message: string): AuthError {
  return new AuthError('InvalidRequest', `Malformed aws-chunked body: ${message}`);
}

export class PayloadVerifier extends Transform {
  readonly kind: PayloadKind;
  /** Lower-cased name → value of the trailing headers; complete once the stream has ended. */
  trailers: Record<string, string> = Object.create(null);
  /** Data bytes read from the body so far; the latest may not have been released yet. */
  decodedBytes = 0;

  private readonly expectedLength: number | undefined;
  private readonly maxChunkSize: number;
  private readonly maxTrailerBytes: number;
  private readonly signing: ChunkSigningContext | undefined;
  private readonly declaredTrailers: readonly string[];
  private readonly chunked: boolean;
  private readonly hasTrailer: boolean;
  private readonly expectedSha256: string | undefined;
  private readonly bodyHash: Hash | undefined;
  private held: Buffer | null = null;

  // aws-chunked parser state
  private state: ChunkState = 'size-line';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private chunkSignature = '';
  private chunkHash: Hash | undefined;
  private chunkPieces: Buffer[] = [];
  private previousSignature = '';
  private trailerParts: Buffer[] = [];
  private trailerLength = 0;

  constructor(payload: PayloadInfo, opts: PayloadVerifierOptions = {}) {
    super();
    this.kind = payload.kind;
    this.maxChunkSize = opts.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
    this.maxTrailerBytes = opts.maxTrailerBytes ?? DEFAULT_MAX_TRAILER_BYTES;
    this.chunked = payload.kind.startsWith('streaming-');
    this.hasTrailer = payload.kind.endsWith('-trailer');
    this.signing = 'signing' in payload ? payload.signing : undefined;
    this.previousSignature = this.signing?.seedSignature ?? '';
    this.declaredTrailers = 'trailers' in payload ? payload.trailers : [];
    this.expectedLength =
      opts.decodedLength ?? ('decodedLength' in payload ? payload.decodedLength : undefined);
    this.expectedSha256 = payload.kind === 'sha256' ? payload.sha256.toLowerCase() : undefined;
    this.bodyHash = payload.kind === 'sha256' ? createHash('sha256') : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      if (this.chunked) this.parse(chunk);
      else this.passThrough(chunk);
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.chunked) this.finishChunked();
      else this.finishPassThrough();
      // Everything verified: only now does the consumer get the last bytes, then the end.
      if (this.held) this.push(this.held);
      this.held = null;
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  /** Hands out the previously held bytes and holds these back in their place. */
  private release(data: Buffer): void {
    if (data.length === 0) return;
    if (this.held) this.push(this.held);
    this.held = data;
  }

  /** Refuses data past the declared length before taking any of it. */
  private checkRoomFor(n: number): void {
    if (this.expectedLength !== undefined && this.decodedBytes + n > this.expectedLength) {
      throw new AuthError(
        'InvalidRequest',
        `The body carries more than the ${this.expectedLength} bytes of data it declared`,
      );
    }
  }

  private checkLength(): void {
    if (this.expectedLength !== undefined && this.decodedBytes < this.expectedLength) {
      throw new AuthError('IncompleteBody', undefined, {
        ExpectedLength: String(this.expectedLength),
        ReceivedLength: String(this.decodedBytes),
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Plain bodies

  private passThrough(chunk: Buffer): void {
    this.checkRoomFor(chunk.length);
    this.decodedBytes += chunk.length;
    this.bodyHash?.update(chunk);
    this.release(chunk);
  }

  private finishPassThrough(): void {
    this.checkLength();
    if (this.bodyHash && this.expectedSha256 !== undefined) {
      const computed = this.bodyHash.digest('hex');
      if (computed !== this.expectedSha256) {
        throw new AuthError('XAmzContentSHA256Mismatch', undefined, {
          ClientComputedContentSHA256: this.expectedSha256,
          S3ComputedContentSHA256: computed,
        });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // aws-chunked

  private parse(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'size-line': {
          const nl = buf.indexOf(0x0a, pos);
          const end = nl < 0 ? buf.length : nl;
          if (this.lineLength + (end - pos) > MAX_CHUNK_LINE) {
            throw framing(`a chunk header line is longer than ${MAX_CHUNK_LINE} bytes`);
          }
          this.line.push(buf.subarray(pos, end));
          this.lineLength += end - pos;
          if (nl < 0) {
            pos = buf.length;
            break;
          }
          pos = nl + 1;
          const line = Buffer.concat(this.line, this.lineLength).toString('latin1');
          this.line = [];
          this.lineLength = 0;
          this.startChunk(line);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - pos);
          const piece = buf.subarray(pos, pos + n);
          pos += n;
          this.remaining -= n;
          this.decodedBytes += n;
          if (this.chunkHash) {
            this.chunkHash.update(piece);
            this.chunkPieces.push(piece);
          } else {
            this.release(piece);
          }
          if (this.remaining === 0) {
            this.state = 'data-crlf';
            this.crlfSeen = 0;
          }
          break;
        }
        case 'data-crlf': {
          if (buf[pos] !== (this.crlfSeen === 0 ? 0x0d : 0x0a)) {
            throw framing('chunk data is not followed by CRLF (is the chunk size right?)');
          }
          pos++;
          if (++this.crlfSeen === 2) this.endChunk();
          break;
        }
        case 'trailer': {
          const n = buf.length - pos;
          this.trailerLength += n;
          if (this.trailerLength > this.maxTrailerBytes) {
            throw framing(`the trailing headers are longer than ${this.maxTrailerBytes} bytes`);
          }
          this.trailerParts.push(buf.subarray(pos));
          pos = buf.length;
          break;
        }
      }
    }
  }

  /** `<hex size>[;chunk-signature=<sig>][;other=ext]\r` (the `\n` already taken). */
  private startChunk(line: string): void {
    if (!line.endsWith('\r')) throw framing('a chunk header line does not end with CRLF');
    const [sizeHex = '', ...extensions] = line.slice(0, -1).split(';');
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeHex.trim())) {
      throw framing(`chunk size "${sizeHex.slice(0, 32)}" is not a hexadecimal number`);
    }
    const size = Number.parseInt(sizeHex.trim(), 16);
    let signature: string | undefined;
    for (const ext of extensions) {
      const eq = ext.indexOf('=');
      if (eq > 0 && ext.slice(0, eq).trim() === 'chunk-signature') signature = ext.slice(eq + 1).trim();
    }
    if (this.signing) {
      if (signature === undefined) {
        throw new AuthError(
          'SignatureDoesNotMatch',
          'A chunk of the signed aws-chunked body has no chunk-signature',
        );
      }
      if (size > this.maxChunkSize) {
        throw new AuthError(
          'InvalidRequest',
          `A chunk of ${size} bytes exceeds the largest accepted chunk, ${this.maxChunkSize} bytes`,
        );
      }
      this.chunkSignature = signature;
    }
    // Refuse a chunk that overruns the declared length from its header, before reading any of it.
    this.checkRoomFor(size);
    if (size === 0) {
      if (this.signing) this.verifyChunk(EMPTY_SHA256);
      this.state = 'trailer';
      return;
    }
    this.state = 'data';
    this.remaining = size;
    if (this.signing) {
      this.chunkHash = createHash('sha256');
      this.chunkPieces = [];
    }
  }

  private endChunk(): void {
    this.state = 'size-line';
    if (!this.chunkHash) return;
    this.verifyChunk(this.chunkHash.digest('hex'));
    this.chunkHash = undefined;
    const pieces = this.chunkPieces;
    this.chunkPieces = [];
    for (const p of pieces) this.release(p);
  }

  private verifyChunk(dataSha256: string): void {
    const s = this.signing!;
    const toSign = chunkStringToSign(s.amzDate, s.scope, this.previousSignature, dataSha256);
    const expected = signHex(s.signingKey, toSign);
    if (!signatureMatches(expected, this.chunkSignature)) {
      throw new AuthError('SignatureDoesNotMatch', undefined, {
        StringToSign: toSign,
        SignatureProvided: this.chunkSignature,
      });
    }
    this.previousSignature = expected;
  }

  private finishChunked(): void {
    if (this.state !== 'trailer') {
      throw new AuthError('IncompleteBody', 'The aws-chunked body ended before its final chunk', {
        ReceivedLength: String(this.decodedBytes),
      });
    }
    const rest = Buffer.concat(this.trailerParts, this.trailerLength).toString('utf8');
    if (this.hasTrailer) this.readTrailers(rest);
    // The final CRLF is optional: every byte and signature before it has been checked.
    else if (!/^\r?\n?$/.test(rest)) throw framing('there is data after the final chunk');
    this.checkLength();
  }

  /**
   * The trailer section: `name:value` lines, each ended by CRLF, then an empty line. Tolerated, as
   * clients differ: a blank line before the trailers, a bare LF, a `\n\r\n` ending, and (when the
   * trailer signature covers it) a last line without its end.
   */
  private readTrailers(text: string): void {
    const lines = text.split('\n');
    const last = lines.pop()!.replace(/\r$/, '');
    if (last !== '') {
      if (!this.signing) throw new AuthError('IncompleteBody', 'The body ended inside a trailing header');
      lines.push(last);
    }
    const received: Array<[string, string]> = [];
    let signature: string | undefined;
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw framing('a trailing header line is not "name:value"');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (signature !== undefined) throw framing('a trailing header follows x-amz-trailer-signature');
      if (name === 'x-amz-trailer-signature') {
        if (!this.signing) throw framing('x-amz-trailer-signature in an unsigned trailer');
        signature = value;
        continue;
      }
      if (received.some(([n]) => n === name)) throw framing(`trailing header ${name} is sent twice`);
      received.push([name, value]);
    }

    if (this.signing) {
      if (signature === undefined) {
        throw new AuthError('SignatureDoesNotMatch', 'The signed trailer has no x-amz-trailer-signature');
      }
      const canonical = received.map(([n, v]) => `${n}:${v}\n`).join('');
      const s = this.signing;
      const toSign = trailerStringToSign(s.amzDate, s.scope, this.previousSignature, sha256Hex(canonical));
      if (!signatureMatches(signHex(s.signingKey, toSign), signature)) {
        throw new AuthError('SignatureDoesNotMatch', undefined, {
          StringToSign: toSign,
          SignatureProvided: signature,
        });
      }
    }
    for (const [name] of received) {
      if (!this.declaredTrailers.includes(name)) {
        throw new AuthError(
          'InvalidRequest',
          `The trailing header ${name} was not declared in x-amz-trailer`,
        );
      }
    }
    for (const name of this.declaredTrailers) {
      if (!received.some(([n]) => n === name)) {
        throw new AuthError(
          'IncompleteBody',
          `The trailing header ${name} declared in x-amz-trailer was not sent`,
        );
      }
    }
    for (const [name, value] of received) this.trailers[name] = value;
  }
}

/** A verifier for the body of a request `verifyRequest` accepted with this `payload`. */
export function createPayloadVerifier(payload: PayloadInfo, opts?: PayloadVerifierOptions): PayloadVerifier {
  return new PayloadVerifier(payload, opts);
}
