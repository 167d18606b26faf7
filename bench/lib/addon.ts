/**
 * The experimental exports of the addon, which `src/native.ts` does not wrap (yet): the own-pool
 * encode of `native/src/binding/pool.rs` and `pageOffset`. Every member is optional so the benches
 * still run, with those parts skipped, against an addon built without them.
 */
import path from 'node:path';
import { platformTriple } from '../../src/native';

export interface Experimental {
  /** `ErasureCoder.encode` on the crate's own threads instead of the libuv threadpool. */
  encodeOnOwnPool?: (
    dataShards: number,
    parityShards: number,
    data: Buffer,
    parity: Buffer,
    blockSize?: number,
  ) => Promise<void>;
  ownPoolSize?: () => number;
  /** The address of `buffer` mod 4096. */
  pageOffset?: (buffer: Uint8Array) => number;
  /** The raw coder, to time a call with no work in it (the facade runs small calls inline). */
  ErasureCoder: new (
    k: number,
    m: number,
  ) => {
    encode(data: Buffer, parity: Buffer): Promise<void>;
    encodeSync(data: Buffer, parity: Buffer): void;
  };
}

function load(): Experimental {
  const file =
    process.env.CAIRN_NATIVE_PATH ??
    path.join(__dirname, '..', '..', 'native', `cairn-native.${platformTriple()}.node`);
  // The same binary src/native.ts loaded (require caches it), seen through a wider type.
  return require(file) as Experimental;
}

export const addon: Experimental = load();
