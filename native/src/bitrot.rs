//! Bitrot hashes: HighwayHash-256 (keyed; MinIO's "HighwayHash256S" uses it per shard block with a
//! fixed key) and BLAKE3. Both pick their SIMD code at run time inside their crates.

use highway::{HighwayHash, HighwayHasher, Key};

pub const DIGEST_LEN: usize = 32;

/// MinIO's bitrot key: the HighwayHash-256 (zero key) of the first 100 decimals of pi as UTF-8.
/// Shard files hashed with it are byte-compatible with MinIO's `highwayhash256S` shard files.
pub const MINIO_BITROT_KEY: [u8; 32] = [
    0x4b, 0xe7, 0x34, 0xfa, 0x8e, 0x23, 0x8a, 0xcd, 0x26, 0x3e, 0x83, 0xe6, 0xbb, 0x96, 0x85, 0x52, 0x04,
    0x0f, 0x93, 0x5d, 0xa3, 0x9f, 0x44, 0x14, 0x97, 0xe0, 0x9d, 0x13, 0x22, 0xde, 0x36, 0xa0,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    HighwayHash256,
    Blake3,
}

impl Algorithm {
    pub fn parse(s: &str) -> Option<Algorithm> {
        match s.to_ascii_lowercase().as_str() {
            "highwayhash256" | "highwayhash256s" | "highwayhash" => Some(Algorithm::HighwayHash256),
            "blake3" => Some(Algorithm::Blake3),
            _ => None,
        }
    }
}

/// An algorithm and its key. HighwayHash is always keyed (MinIO's key by default); BLAKE3 is
/// keyed only when a key is given.
#[derive(Clone, Copy, Debug)]
pub struct HashSpec {
    pub algorithm: Algorithm,
    pub key: Option<[u8; 32]>,
}

impl HashSpec {
    pub fn new(algorithm: Algorithm, key: Option<[u8; 32]>) -> HashSpec {
        HashSpec { algorithm, key }
    }

    pub fn hasher(&self) -> Hasher {
        match self.algorithm {
            Algorithm::HighwayHash256 => {
                Hasher::Highway(HighwayHasher::new(hh_key(&self.key.unwrap_or(MINIO_BITROT_KEY))), self.key)
            }
            Algorithm::Blake3 => Hasher::Blake3(match &self.key {
                Some(k) => blake3::Hasher::new_keyed(k),
                None => blake3::Hasher::new(),
            }),
        }
    }

    pub fn digest(&self, data: &[u8]) -> [u8; DIGEST_LEN] {
        let mut out = [0u8; DIGEST_LEN];
        self.digest_into(data, &mut out);
        out
    }

    /// Writes the digest of `data` to `out[..32]`.
    pub fn digest_into(&self, data: &[u8], out: &mut [u8]) {
        let mut h = self.hasher();
        h.update(data);
        h.finalize_into(out);
    }

    /// Hashes `data` in chunks of `chunk` bytes (the last may be shorter), digest `i` to
    /// `out[32 * i..]`. `out` must hold exactly one digest per chunk.
    pub fn digest_chunks(&self, data: &[u8], chunk: usize, out: &mut [u8]) -> Result<(), String> {
        if chunk == 0 {
            return Err("chunk size must be positive".into());
        }
        let n = data.len().div_ceil(chunk);
        if out.len() != n * DIGEST_LEN {
            return Err(format!("digest buffer is {} bytes, {} expected", out.len(), n * DIGEST_LEN));
        }
        for (c, o) in data.chunks(chunk).zip(out.chunks_mut(DIGEST_LEN)) {
            self.digest_into(c, o);
        }
        Ok(())
    }
}

fn hh_key(k: &[u8; 32]) -> Key {
    let mut w = [0u64; 4];
    for (i, word) in w.iter_mut().enumerate() {
        *word = u64::from_le_bytes(k[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    Key(w)
}

/// A streaming hasher over either algorithm.
// Unboxed on purpose: one is made per shard digest, and boxing would allocate for each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Hasher {
    Highway(HighwayHasher, Option<[u8; 32]>),
    Blake3(blake3::Hasher),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Highway(h, _) => h.append(data),
            Hasher::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The digest of everything so far; the hasher can go on being updated.
    pub fn finalize_into(&self, out: &mut [u8]) {
        match self {
            Hasher::Highway(h, _) => {
                for (i, w) in h.clone().finalize256().iter().enumerate() {
                    out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
                }
            }
            Hasher::Blake3(h) => out[..DIGEST_LEN].copy_from_slice(h.finalize().as_bytes()),
        }
    }

    pub fn reset(&mut self) {
        match self {
            Hasher::Highway(h, key) => {
                *h = HighwayHasher::new(hh_key(&key.unwrap_or(MINIO_BITROT_KEY)));
            }
            Hasher::Blake3(h) => {
                h.reset();
            }
        }
    }
}
