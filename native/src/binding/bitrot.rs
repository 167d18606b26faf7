use super::{check_disjoint, invalid};
use crate::bitrot::{Algorithm, HashSpec, Hasher, DIGEST_LEN, MINIO_BITROT_KEY};
use napi::bindgen_prelude::*;
use napi_derive::napi;

#[napi(string_enum)]
#[derive(Clone, Copy)]
pub enum HashAlgorithm {
    /// HighwayHash-256, keyed; MinIO's bitrot key unless one is given.
    #[napi(value = "highwayhash256")]
    HighwayHash256,
    /// BLAKE3 (256-bit output), keyed only when a key is given.
    #[napi(value = "blake3")]
    Blake3,
}

impl From<HashAlgorithm> for Algorithm {
    fn from(a: HashAlgorithm) -> Algorithm {
        match a {
            HashAlgorithm::HighwayHash256 => Algorithm::HighwayHash256,
            HashAlgorithm::Blake3 => Algorithm::Blake3,
        }
    }
}

pub(crate) fn spec(algorithm: HashAlgorithm, key: Option<&[u8]>) -> Result<HashSpec> {
    let key = match key {
        None => None,
        Some(k) => Some(<[u8; 32]>::try_from(k).map_err(|_| invalid("a hash key must be 32 bytes"))?),
    };
    Ok(HashSpec::new(algorithm.into(), key))
}

/// MinIO's HighwayHash-256 bitrot key (32 bytes), the default key.
#[napi]
pub fn minio_bitrot_key() -> Buffer {
    Buffer::from(MINIO_BITROT_KEY.to_vec())
}

pub struct HashTask {
    spec: HashSpec,
    data: Buffer,
}

impl Task for HashTask {
    type Output = Vec<u8>;
    type JsValue = Buffer;

    fn compute(&mut self) -> Result<Vec<u8>> {
        Ok(self.spec.digest(&self.data).to_vec())
    }

    fn resolve(&mut self, _: Env, out: Vec<u8>) -> Result<Buffer> {
        Ok(out.into())
    }
}

/// The 32-byte digest of `data`, computed on a worker thread.
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn hash(algorithm: HashAlgorithm, data: Buffer, key: Option<Buffer>) -> Result<AsyncTask<HashTask>> {
    Ok(AsyncTask::new(HashTask { spec: spec(algorithm, key.as_deref())?, data }))
}

/// The 32-byte digest of `data`, computed inline (for small inputs).
#[napi]
pub fn hash_sync(algorithm: HashAlgorithm, data: &[u8], key: Option<&[u8]>) -> Result<Buffer> {
    Ok(spec(algorithm, key)?.digest(data).to_vec().into())
}

pub struct HashChunksTask {
    spec: HashSpec,
    data: Buffer,
    chunk_size: usize,
    out: Buffer,
}

impl Task for HashChunksTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        check_disjoint(&self.data, &self.out, "data and digests")?;
        let HashChunksTask { spec, data, chunk_size, out } = self;
        spec.digest_chunks(data, *chunk_size, out).map_err(invalid)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

/// Hashes `data` in chunks of `chunkSize` bytes (the last may be shorter), writing digest `i` to
/// `out[32 * i, 32 * i + 32)`. `out` must hold exactly one digest per chunk.
#[napi(ts_return_type = "Promise<void>")]
pub fn hash_chunks(
    algorithm: HashAlgorithm,
    data: Buffer,
    chunk_size: u32,
    out: Buffer,
    key: Option<Buffer>,
) -> Result<AsyncTask<HashChunksTask>> {
    let spec = spec(algorithm, key.as_deref())?;
    Ok(AsyncTask::new(HashChunksTask { spec, data, chunk_size: chunk_size as usize, out }))
}

/// `hashChunks`, inline.
#[napi]
pub fn hash_chunks_sync(
    algorithm: HashAlgorithm,
    data: Buffer,
    chunk_size: u32,
    out: Buffer,
    key: Option<Buffer>,
) -> Result<()> {
    let spec = spec(algorithm, key.as_deref())?;
    HashChunksTask { spec, data, chunk_size: chunk_size as usize, out }.compute()
}

/// Streaming HighwayHash-256 (MinIO's bitrot key unless a 32-byte key is given).
#[napi]
pub struct HighwayHasher {
    inner: Hasher,
}

#[napi]
impl HighwayHasher {
    #[napi(constructor)]
    pub fn new(key: Option<&[u8]>) -> Result<Self> {
        Ok(HighwayHasher { inner: spec(HashAlgorithm::HighwayHash256, key)?.hasher() })
    }

    /// Adds bytes.
    #[napi]
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The 32-byte digest of everything so far (the hasher can go on).
    #[napi]
    pub fn digest(&self) -> Buffer {
        let mut out = vec![0u8; DIGEST_LEN];
        self.inner.finalize_into(&mut out);
        out.into()
    }

    /// Starts over with the same key.
    #[napi]
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

/// Streaming BLAKE3 (keyed mode when a 32-byte key is given).
#[napi]
pub struct Blake3Hasher {
    inner: Hasher,
}

#[napi]
impl Blake3Hasher {
    #[napi(constructor)]
    pub fn new(key: Option<&[u8]>) -> Result<Self> {
        Ok(Blake3Hasher { inner: spec(HashAlgorithm::Blake3, key)?.hasher() })
    }

    /// Adds bytes.
    #[napi]
    pub fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    /// The 32-byte digest of everything so far (the hasher can go on).
    #[napi]
    pub fn digest(&self) -> Buffer {
        let mut out = vec![0u8; DIGEST_LEN];
        self.inner.finalize_into(&mut out);
        out.into()
    }

    /// Starts over with the same key.
    #[napi]
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}
