use super::invalid;
use crate::digest::{Checksum, Kind};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::{Arc, Mutex};

/// Running content checksums over one stream: any of `md5`, `sha1`, `sha256`, `crc32`, `crc32c`,
/// `crc64nvme`, all updated in one pass. `update` runs on a worker thread; await each update
/// before the next (the order of the bytes is the caller's to keep).
#[napi]
pub struct Checksums {
    inner: Arc<Mutex<Vec<Checksum>>>,
    kinds: Vec<String>,
}

#[napi]
impl Checksums {
    #[napi(constructor)]
    pub fn new(kinds: Vec<String>) -> Result<Self> {
        let parsed = kinds
            .iter()
            .map(|k| {
                Kind::parse(k).map(Checksum::new).ok_or_else(|| invalid(format!("unknown checksum {k}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Checksums { inner: Arc::new(Mutex::new(parsed)), kinds })
    }

    /// The algorithms, in the order `digest` returns them.
    #[napi(getter)]
    pub fn kinds(&self) -> Vec<String> {
        self.kinds.clone()
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn update(&self, data: Buffer) -> AsyncTask<ChecksumTask> {
        AsyncTask::new(ChecksumTask { inner: self.inner.clone(), data })
    }

    #[napi]
    pub fn update_sync(&self, data: &[u8]) {
        let mut all = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        all.iter_mut().for_each(|c| c.update(data));
    }

    /// The digests so far, one Buffer per algorithm (CRCs big-endian, as S3 encodes them).
    #[napi]
    pub fn digest(&self) -> Vec<Buffer> {
        let all = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().map(|c| Buffer::from(c.digest())).collect()
    }
}

pub struct ChecksumTask {
    inner: Arc<Mutex<Vec<Checksum>>>,
    data: Buffer,
}

impl Task for ChecksumTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let mut all = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        all.iter_mut().for_each(|c| c.update_shared(&self.data));
        Ok(())
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}
