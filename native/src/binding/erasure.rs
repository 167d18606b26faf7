use super::bitrot::{spec, HashAlgorithm};
use super::{check_disjoint, invalid};
use crate::bitrot::HashSpec;
use crate::erasure::Erasure;
use crate::simd;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// What `encode` and `encodeShards` also do besides computing parity.
#[napi(object)]
pub struct EncodeOptions {
    /// For `encode`: cut `data` into blocks of this many bytes (the last may be shorter); default:
    /// one block of `data.length`.
    pub block_size: Option<u32>,
    /// Where to write a bitrot digest (32 bytes) of every shard, data shards zero padded, block
    /// after block: `blocks * (k + m) * 32` bytes.
    pub hashes: Option<Buffer>,
    /// The bitrot hash; default `highwayhash256` when `hashes` is given.
    pub algorithm: Option<HashAlgorithm>,
    /// A 32-byte key (HighwayHash defaults to MinIO's bitrot key; BLAKE3 to unkeyed).
    pub key: Option<Buffer>,
}

fn hash_spec(o: &Option<EncodeOptions>) -> Result<Option<HashSpec>> {
    match o {
        Some(EncodeOptions { hashes: Some(_), algorithm, key, .. }) => {
            Ok(Some(spec(algorithm.unwrap_or(HashAlgorithm::HighwayHash256), key.as_deref())?))
        }
        _ => Ok(None),
    }
}

pub(crate) fn to_err(e: crate::erasure::Error) -> Error {
    invalid(e.to_string())
}

/// A Reed-Solomon coder for `dataShards` + `parityShards`, matrix-compatible with
/// klauspost/reedsolomon (and so MinIO). Thread-safe; reuse one per shape.
#[napi]
pub struct ErasureCoder {
    pub(crate) inner: Arc<Erasure>,
}

#[napi]
impl ErasureCoder {
    /// Throws unless `1 <= dataShards`, `0 <= parityShards` and `dataShards + parityShards <= 256`.
    #[napi(constructor)]
    pub fn new(data_shards: u32, parity_shards: u32) -> Result<Self> {
        Erasure::new(data_shards as usize, parity_shards as usize)
            .map(|e| ErasureCoder { inner: Arc::new(e) })
            .map_err(to_err)
    }

    #[napi(getter)]
    pub fn data_shards(&self) -> u32 {
        self.inner.data_shards() as u32
    }

    #[napi(getter)]
    pub fn parity_shards(&self) -> u32 {
        self.inner.parity_shards() as u32
    }

    /// Bytes per shard for a block of `length` bytes: `ceil(length / dataShards)`.
    #[napi]
    pub fn shard_size(&self, length: f64) -> f64 {
        self.inner.shard_size(length as usize) as f64
    }

    /// Bytes of parity `encode` writes for `length` bytes in blocks of `blockSize` (default: one block).
    #[napi]
    pub fn parity_length(&self, length: f64, block_size: Option<f64>) -> f64 {
        let len = length as usize;
        let bs = block_size.map(|b| b as usize).unwrap_or(len).max(1);
        self.inner.parity_len(len, bs) as f64
    }

    /// Encodes `data` (one or more blocks, see `EncodeOptions.blockSize`) on a worker thread.
    /// Block `b`'s `m` parity shards go to `parity` one after another from `b * m * shardSize`;
    /// `parityLength()` says how long `parity` must be.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn encode(
        &self,
        data: Buffer,
        parity: Buffer,
        options: Option<EncodeOptions>,
    ) -> Result<AsyncTask<EncodeTask>> {
        Ok(AsyncTask::new(EncodeTask::new(&self.inner, data, parity, options)?))
    }

    /// `encode`, inline on the calling thread (for small blocks).
    #[napi]
    pub fn encode_sync(&self, data: Buffer, parity: Buffer, options: Option<EncodeOptions>) -> Result<()> {
        EncodeTask::new(&self.inner, data, parity, options)?.compute()
    }

    /// Encodes one block given as `k + m` shard buffers of one length: the first `k` hold the data
    /// (zero padded by the caller), the last `m` receive the parity. The caller chooses the memory
    /// layout (see the README on alignment), which is why the engine uses this form.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn encode_shards(
        &self,
        shards: Vec<Buffer>,
        options: Option<EncodeOptions>,
    ) -> Result<AsyncTask<EncodeShardsTask>> {
        Ok(AsyncTask::new(EncodeShardsTask::new(&self.inner, shards, options)?))
    }

    /// `encodeShards`, inline.
    #[napi]
    pub fn encode_shards_sync(&self, shards: Vec<Buffer>, options: Option<EncodeOptions>) -> Result<()> {
        EncodeShardsTask::new(&self.inner, shards, options)?.compute()
    }

    /// Rebuilds the shards listed in `missing` from any `k` others, on a worker thread. `shards` has
    /// `k + m` entries, all of one length: a Buffer for every present shard and every missing one
    /// (it is overwritten), `null` for a shard that is neither. Shards may hold several blocks one
    /// after another (the code is bytewise). Rejects, writing nothing, if fewer than `k` are present.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn reconstruct(
        &self,
        #[napi(ts_arg_type = "Array<Buffer | null | undefined>")] shards: Vec<Option<Buffer>>,
        missing: Vec<u32>,
    ) -> Result<AsyncTask<ReconstructTask>> {
        Ok(AsyncTask::new(ReconstructTask::new(&self.inner, shards, missing)?))
    }

    /// `reconstruct`, inline.
    #[napi]
    pub fn reconstruct_sync(
        &self,
        #[napi(ts_arg_type = "Array<Buffer | null | undefined>")] shards: Vec<Option<Buffer>>,
        missing: Vec<u32>,
    ) -> Result<()> {
        ReconstructTask::new(&self.inner, shards, missing)?.compute()
    }
}

pub struct EncodeTask {
    coder: Arc<Erasure>,
    data: Buffer,
    parity: Buffer,
    block_size: usize,
    hash: Option<(HashSpec, Buffer)>,
}

impl EncodeTask {
    fn new(coder: &Arc<Erasure>, data: Buffer, parity: Buffer, o: Option<EncodeOptions>) -> Result<Self> {
        let spec = hash_spec(&o)?;
        let block_size =
            o.as_ref().and_then(|o| o.block_size).map(|b| b as usize).unwrap_or(data.len()).max(1);
        let hash = match (spec, o.and_then(|o| o.hashes)) {
            (Some(s), Some(h)) => Some((s, h)),
            _ => None,
        };
        check_disjoint(&data, &parity, "data and parity")?;
        if let Some((_, h)) = &hash {
            check_disjoint(&data, h, "data and hashes")?;
            check_disjoint(&parity, h, "parity and hashes")?;
        }
        Ok(EncodeTask { coder: coder.clone(), data, parity, block_size, hash })
    }
}

impl Task for EncodeTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let EncodeTask { coder, data, parity, block_size, hash } = self;
        let hash = hash.as_mut().map(|(s, h)| (&*s, &mut h[..]));
        coder.encode_blocks(simd::level(), data, *block_size, parity, hash).map_err(to_err)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

pub struct EncodeShardsTask {
    coder: Arc<Erasure>,
    shards: Vec<Buffer>,
    hash: Option<(HashSpec, Buffer)>,
}

impl EncodeShardsTask {
    fn new(coder: &Arc<Erasure>, shards: Vec<Buffer>, o: Option<EncodeOptions>) -> Result<Self> {
        let n = coder.total_shards();
        if shards.len() != n {
            return Err(invalid(format!("{} shards given, {} expected", shards.len(), n)));
        }
        let len = shards[0].len();
        if shards.iter().any(|s| s.len() != len) {
            return Err(invalid("all shards must be the same length"));
        }
        let spec = hash_spec(&o)?;
        let hash = match (spec, o.and_then(|o| o.hashes)) {
            (Some(s), Some(h)) => {
                if h.len() != n * crate::bitrot::DIGEST_LEN {
                    return Err(invalid(format!("hashes must be {} bytes", n * crate::bitrot::DIGEST_LEN)));
                }
                Some((s, h))
            }
            _ => None,
        };
        for (i, a) in shards.iter().enumerate() {
            for b in &shards[i + 1..] {
                check_disjoint(a, b, "shards")?;
            }
            if let Some((_, h)) = &hash {
                check_disjoint(a, h, "a shard and hashes")?;
            }
        }
        Ok(EncodeShardsTask { coder: coder.clone(), shards, hash })
    }
}

impl Task for EncodeShardsTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let k = self.coder.data_shards();
        let (data, parity) = self.shards.split_at_mut(k);
        let data: Vec<&[u8]> = data.iter().map(|b| &b[..]).collect();
        let mut parity: Vec<&mut [u8]> = parity.iter_mut().map(|b| &mut b[..]).collect();
        self.coder.encode_parity(simd::level(), &data, &mut parity).map_err(to_err)?;
        if let Some((spec, out)) = &mut self.hash {
            let all = data.iter().copied().chain(parity.iter().map(|p| &**p));
            for (shard, o) in all.zip(out.chunks_mut(crate::bitrot::DIGEST_LEN)) {
                spec.digest_into(shard, o);
            }
        }
        Ok(())
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

pub struct ReconstructTask {
    coder: Arc<Erasure>,
    shards: Vec<Option<Buffer>>,
    missing: Vec<usize>,
}

impl ReconstructTask {
    fn new(coder: &Arc<Erasure>, shards: Vec<Option<Buffer>>, missing: Vec<u32>) -> Result<Self> {
        let present: Vec<&Buffer> = shards.iter().flatten().collect();
        for (i, a) in present.iter().enumerate() {
            for b in &present[i + 1..] {
                check_disjoint(a, b, "shards")?;
            }
        }
        let missing = missing.into_iter().map(|m| m as usize).collect();
        Ok(ReconstructTask { coder: coder.clone(), shards, missing })
    }
}

impl Task for ReconstructTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let mut views: Vec<Option<&mut [u8]>> = self.shards.iter_mut().map(|s| s.as_deref_mut()).collect();
        self.coder.reconstruct(simd::level(), &mut views, &self.missing).map_err(to_err)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}
