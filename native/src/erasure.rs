//! Reed-Solomon erasure coding over GF(2^8), matrix-compatible with klauspost/reedsolomon's default
//! (a Vandermonde matrix made systematic), hence with MinIO's shards.
//!
//! The matrices come from the `reed-solomon-erasure` crate, which builds the same matrix: we read the
//! parity rows out of it by encoding unit vectors, and the decoding rows for a loss pattern by
//! reconstructing unit vectors (both maps are linear, so one unit input gives one column). The
//! multiplications over whole shards run in our SIMD kernels (`kernels`).

use crate::bitrot::{HashSpec, DIGEST_LEN};
use crate::kernels::{mul_into, Coeffs};
use crate::simd::Level;
use reed_solomon_erasure::galois_8::ReedSolomon;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// At most this many shards in all: GF(2^8) has 256 elements.
pub const MAX_SHARDS: usize = 256;
/// Decoding matrices kept per coder, one per (present, wanted) pattern.
const DECODE_CACHE_ENTRIES: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    InvalidShape { data: usize, parity: usize },
    TooFewShards { present: usize, needed: usize },
    BadLength(String),
    BadIndex(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidShape { data, parity } => write!(
                f,
                "invalid erasure shape {data}+{parity}: need 1 <= data, 0 <= parity, data + parity <= {MAX_SHARDS}"
            ),
            Error::TooFewShards { present, needed } => write!(
                f,
                "too few shards to reconstruct: {present} present, {needed} needed"
            ),
            Error::BadLength(s) | Error::BadIndex(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for Error {}

pub struct Erasure {
    k: usize,
    m: usize,
    /// `m x k`: parity row `r` is `parity[r] . data`.
    parity: Coeffs,
    codec: Option<ReedSolomon>,
    decode_cache: Mutex<HashMap<Vec<u8>, Arc<Coeffs>>>,
}

impl fmt::Debug for Erasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Erasure({}+{})", self.k, self.m)
    }
}

impl Erasure {
    pub fn new(data_shards: usize, parity_shards: usize) -> Result<Erasure, Error> {
        let (k, m) = (data_shards, parity_shards);
        if k == 0 || k + m > MAX_SHARDS {
            return Err(Error::InvalidShape { data: k, parity: m });
        }
        // The crate refuses a zero-parity codec; with no parity there is nothing to compute.
        let codec = if m == 0 {
            None
        } else {
            Some(ReedSolomon::new(k, m).map_err(|_| Error::InvalidShape { data: k, parity: m })?)
        };
        let mut raw = vec![0u8; m * k];
        if let Some(rs) = &codec {
            let mut data = vec![vec![0u8; 1]; k];
            let mut parity = vec![vec![0u8; 1]; m];
            for j in 0..k {
                data.iter_mut().enumerate().for_each(|(i, d)| d[0] = (i == j) as u8);
                rs.encode_sep(&data, &mut parity).map_err(|_| Error::InvalidShape { data: k, parity: m })?;
                for r in 0..m {
                    raw[r * k + j] = parity[r][0];
                }
            }
        }
        Ok(Erasure { k, m, parity: Coeffs::new(m, k, raw), codec, decode_cache: Mutex::new(HashMap::new()) })
    }

    pub fn data_shards(&self) -> usize {
        self.k
    }

    pub fn parity_shards(&self) -> usize {
        self.m
    }

    pub fn total_shards(&self) -> usize {
        self.k + self.m
    }

    /// The parity coefficient for parity row `r` and data shard `c`.
    pub fn parity_coefficient(&self, r: usize, c: usize) -> u8 {
        self.parity.get(r, c)
    }

    /// Parity for one block given as shards: `data` are the `k` data shards (zero padded), `parity`
    /// the `m` outputs, all one length.
    pub fn encode_parity(&self, level: Level, data: &[&[u8]], parity: &mut [&mut [u8]]) -> Result<(), Error> {
        if data.len() != self.k || parity.len() != self.m {
            return Err(Error::BadLength(format!(
                "{} data and {} parity shards given, {}+{} expected",
                data.len(),
                parity.len(),
                self.k,
                self.m
            )));
        }
        let n = data[0].len();
        if data.iter().any(|d| d.len() != n) || parity.iter().any(|p| p.len() != n) {
            return Err(Error::BadLength("all shards must be the same length".into()));
        }
        mul_into(level, &self.parity, data, parity);
        Ok(())
    }

    /// Bytes per shard for a block of `len` bytes: `ceil(len / k)`.
    pub fn shard_size(&self, len: usize) -> usize {
        len.div_ceil(self.k)
    }

    /// Parity bytes that `encode_blocks` writes for `len` bytes cut in blocks of `block_size`.
    pub fn parity_len(&self, len: usize, block_size: usize) -> usize {
        let (full, last) = blocks(len, block_size);
        (full * self.shard_size(block_size) + self.shard_size(last)) * self.m
    }

    /// Encodes `data` cut into blocks of `block_size` (the last may be shorter). For block `b`, its
    /// `m` parity shards go to `parity` at `b * m * S` (S = its shard size) one after another, and,
    /// when `hash` is given, the digests of its `k + m` shards (data shards zero padded to `S`) go to
    /// `hashes` at `b * (k + m) * 32`. Data is read in place; only a partial last shard is copied.
    pub fn encode_blocks(
        &self,
        level: Level,
        data: &[u8],
        block_size: usize,
        parity: &mut [u8],
        hash: Option<(&HashSpec, &mut [u8])>,
    ) -> Result<(), Error> {
        if block_size == 0 {
            return Err(Error::BadLength("block size must be positive".into()));
        }
        let need = self.parity_len(data.len(), block_size);
        if parity.len() != need {
            return Err(Error::BadLength(format!(
                "parity buffer is {} bytes, {} expected for {} bytes in {}+{} with blocks of {}",
                parity.len(),
                need,
                data.len(),
                self.k,
                self.m,
                block_size
            )));
        }
        let nblocks = data.len().div_ceil(block_size);
        let (spec, hashes) = match hash {
            Some((s, h)) => {
                let need = nblocks * self.total_shards() * DIGEST_LEN;
                if h.len() != need {
                    return Err(Error::BadLength(format!(
                        "hash buffer is {} bytes, {} expected ({} blocks of {} shards)",
                        h.len(),
                        need,
                        nblocks,
                        self.total_shards()
                    )));
                }
                (Some(s), Some(h))
            }
            None => (None, None),
        };
        let mut hashes = hashes;
        let mut poff = 0;
        for (b, block) in data.chunks(block_size).enumerate() {
            let s = self.shard_size(block.len());
            let p = &mut parity[poff..poff + s * self.m];
            poff += s * self.m;
            let h = hashes.as_deref_mut().map(|h| {
                let n = self.total_shards() * DIGEST_LEN;
                &mut h[b * n..(b + 1) * n]
            });
            self.encode_block(level, block, s, p, spec.zip(h))?;
        }
        Ok(())
    }

    fn encode_block(
        &self,
        level: Level,
        block: &[u8],
        s: usize,
        parity: &mut [u8],
        hash: Option<(&HashSpec, &mut [u8])>,
    ) -> Result<(), Error> {
        // Whole shards are borrowed from the block; a partial (or, for tiny blocks, empty) shard is
        // copied once into a zero-padded buffer, as klauspost's Split does.
        let whole = block.len() / s.max(1);
        let mut padded: Vec<Vec<u8>> = Vec::new();
        for i in whole..self.k {
            let mut v = vec![0u8; s];
            let from = (i * s).min(block.len());
            let to = ((i + 1) * s).min(block.len());
            v[..to - from].copy_from_slice(&block[from..to]);
            padded.push(v);
        }
        let mut inputs: Vec<&[u8]> = Vec::with_capacity(self.k);
        inputs.extend((0..whole.min(self.k)).map(|i| &block[i * s..(i + 1) * s]));
        inputs.extend(padded.iter().map(|v| v.as_slice()));
        let mut outputs: Vec<&mut [u8]> = if s == 0 { vec![] } else { parity.chunks_mut(s).collect() };
        if s > 0 {
            mul_into(level, &self.parity, &inputs, &mut outputs);
        }
        if let Some((spec, digests)) = hash {
            let shards = inputs.iter().copied().chain(outputs.iter().map(|o| &**o));
            let shards: Vec<&[u8]> =
                if s == 0 { vec![&[][..]; self.total_shards()] } else { shards.collect() };
            for (shard, out) in shards.iter().zip(digests.chunks_mut(DIGEST_LEN)) {
                spec.digest_into(shard, out);
            }
        }
        Ok(())
    }

    /// Fills the shards listed in `wanted` from `k` of the `present` ones (all slices one length).
    /// `shards[i]` must be `Some` for every present and every wanted index.
    pub fn reconstruct(
        &self,
        level: Level,
        shards: &mut [Option<&mut [u8]>],
        wanted: &[usize],
    ) -> Result<(), Error> {
        let n = self.total_shards();
        if shards.len() != n {
            return Err(Error::BadLength(format!("{} shards given, {} expected", shards.len(), n)));
        }
        let mut is_wanted = vec![false; n];
        for &w in wanted {
            if w >= n || shards[w].is_none() || is_wanted[w] {
                return Err(Error::BadIndex(format!(
                    "shard {w} cannot be reconstructed: out of range, repeated, or no buffer given"
                )));
            }
            is_wanted[w] = true;
        }
        let mut present: Vec<(usize, &[u8])> = Vec::with_capacity(n);
        let mut outs: Vec<(usize, &mut [u8])> = Vec::with_capacity(wanted.len());
        for (i, s) in shards.iter_mut().enumerate() {
            let Some(s) = s.as_deref_mut() else { continue };
            if is_wanted[i] {
                outs.push((i, s));
            } else {
                present.push((i, s));
            }
        }
        // Outputs in the order of `wanted`.
        outs.sort_by_key(|(i, _)| wanted.iter().position(|w| w == i));
        self.reconstruct_into(level, &present, &mut outs)
    }

    /// Computes each `(index, buffer)` of `wanted` from the first `k` of `present` (`(index, bytes)`
    /// in ascending index order, all one length). Writes nothing unless it can write everything.
    pub fn reconstruct_into(
        &self,
        level: Level,
        present: &[(usize, &[u8])],
        wanted: &mut [(usize, &mut [u8])],
    ) -> Result<(), Error> {
        if wanted.is_empty() {
            return Ok(());
        }
        if present.len() < self.k {
            return Err(Error::TooFewShards { present: present.len(), needed: self.k });
        }
        let len = wanted[0].1.len();
        if present.iter().any(|(_, s)| s.len() != len) || wanted.iter().any(|(_, s)| s.len() != len) {
            return Err(Error::BadLength("all shards must be the same length".into()));
        }
        // The first k present: data shards come first, and with all data present the rows are the
        // parity rows themselves, nothing to invert.
        let chosen: Vec<usize> = present[..self.k].iter().map(|(i, _)| *i).collect();
        let wanted_idx: Vec<usize> = wanted.iter().map(|(i, _)| *i).collect();
        let rows = self.decode_rows(&chosen, &wanted_idx)?;
        let ins: Vec<&[u8]> = present[..self.k].iter().map(|(_, s)| *s).collect();
        let mut outs: Vec<&mut [u8]> = wanted.iter_mut().map(|(_, s)| &mut **s).collect();
        mul_into(level, &rows, &ins, &mut outs);
        Ok(())
    }

    /// The rows giving each wanted shard from the chosen `k` shards, cached per pattern.
    fn decode_rows(&self, chosen: &[usize], wanted: &[usize]) -> Result<Arc<Coeffs>, Error> {
        let key: Vec<u8> = chosen
            .iter()
            .map(|&i| i as u8)
            .chain(std::iter::once(255))
            .chain(wanted.iter().map(|&i| i as u8))
            .collect();
        if let Some(c) = self.decode_cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(c.clone());
        }
        let k = self.k;
        let mut raw = vec![0u8; wanted.len() * k];
        let all_data = chosen.iter().enumerate().all(|(j, &i)| i == j);
        if all_data {
            // Missing shards are all parity: their rows are the parity rows.
            for (r, &w) in wanted.iter().enumerate() {
                for c in 0..k {
                    raw[r * k + c] = self.parity.get(w - k, c);
                }
            }
        } else {
            let rs = self.codec.as_ref().ok_or(Error::TooFewShards { present: chosen.len(), needed: k })?;
            let mut probe: Vec<Option<Vec<u8>>> = vec![None; self.total_shards()];
            for (col, &p) in chosen.iter().enumerate() {
                probe.iter_mut().for_each(|s| *s = None);
                for &q in chosen {
                    probe[q] = Some(vec![(q == p) as u8]);
                }
                rs.reconstruct(&mut probe)
                    .map_err(|_| Error::TooFewShards { present: chosen.len(), needed: k })?;
                for (r, &w) in wanted.iter().enumerate() {
                    raw[r * k + col] = probe[w].as_ref().map(|v| v[0]).unwrap_or(0);
                }
            }
        }
        let rows = Arc::new(Coeffs::new(wanted.len(), k, raw));
        let mut cache = self.decode_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= DECODE_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key, rows.clone());
        Ok(rows)
    }
}

/// Whole blocks and the length of the last partial one (0 if none).
fn blocks(len: usize, block_size: usize) -> (usize, usize) {
    (len / block_size, len % block_size)
}
