import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface RsVector {
  k: number;
  m: number;
  len: number;
  shardSize: number;
  shards: string[];
}
export interface HashVector {
  key?: string;
  len: number;
  digest: string;
}
export interface Vectors {
  reedsolomon: RsVector[];
  highwayhash256: HashVector[];
  blake3: HashVector[];
}

/** The Go-generated fixtures shared with the Rust tests (tools/vectors). */
export function vectors(): Vectors {
  const file = path.join(__dirname, '..', '..', 'native', 'tests', 'fixtures', 'vectors.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Vectors;
}

/** The input pattern of every vector: byte i is i % 251. */
export function pattern(len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = i % 251;
  return b;
}
