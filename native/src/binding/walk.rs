use crate::walk::{Entry, WalkError, WalkSpec, Walker};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::{Arc, Mutex};

/// Where a walk of a volume starts and what it yields (see `LocalDrive.walk`).
#[napi(object)]
pub struct ObjectWalkOptions {
    /// The volume's directory. A start directory that is missing while this is missing too makes
    /// the walk fail with `volumeMissing`; a missing start directory alone is an empty walk.
    pub volume_dir: String,
    /// The directory of the prefix's complete segments, already escaped (`objectPath`).
    pub start_dir: String,
    /// The key of `startDir` with its trailing `/` ('' for the volume itself).
    pub key_prefix: String,
    /// Only children of `startDir` whose decoded name starts with this (the prefix's partial
    /// last segment).
    pub starts_with: Option<String>,
    /// Only keys (and prefixes) strictly after this one, in UTF-8 byte order.
    pub after: Option<String>,
    /// Stop descending below `startDir`: each child directory with an object somewhere below is
    /// yielded once, as `name/` with no metadata.
    pub delimited: Option<bool>,
}

/// Why a walk stopped: entries found before the failure are in the same batch.
#[napi(object)]
pub struct ObjectWalkFailure {
    /// The volume's directory is not there (tell a missing volume from a missing drive).
    pub volume_missing: bool,
    /// The OS error number, when there is one.
    pub errno: Option<i32>,
    pub path: String,
    pub message: String,
}

/// Entries of a walk, in key order, packed so that a batch is three JS values, not thousands:
/// entry `i` is named `names.slice(N[i-1], N[i])` (UTF-16 offsets) and its metadata file is
/// `data[D[i-1]..D[i]]` (empty for a prefix of a delimited walk), where `N[i]` and `D[i]` are the
/// little-endian u32s at bytes `8i` and `8i + 4` of `index` (and both start at 0).
#[napi(object)]
pub struct ObjectWalkBatch {
    pub count: u32,
    pub names: String,
    pub index: Buffer,
    pub data: Buffer,
    /// Nothing follows: the walk is over (or failed).
    pub done: bool,
    pub error: Option<ObjectWalkFailure>,
}

/// A walk of a volume's objects in S3 key order (UTF-8 bytes), each `next` a batch read on a
/// worker thread. Holds one sorted directory listing per level between calls, no open files; drop
/// it at any point. Call `next` again only once the previous call has settled.
#[napi]
pub struct ObjectWalker {
    inner: Arc<Mutex<Walker>>,
}

#[napi]
impl ObjectWalker {
    #[napi(constructor)]
    pub fn new(options: ObjectWalkOptions) -> Self {
        let spec = WalkSpec {
            volume_dir: options.volume_dir.into(),
            start_dir: options.start_dir.into(),
            key_prefix: options.key_prefix,
            starts_with: options.starts_with.unwrap_or_default(),
            after: options.after,
            delimited: options.delimited.unwrap_or(false),
        };
        ObjectWalker { inner: Arc::new(Mutex::new(Walker::new(spec))) }
    }

    /// The next entries: up to `maxEntries`, fewer once their metadata passes `maxBytes`
    /// (default 4 MiB).
    #[napi(ts_return_type = "Promise<ObjectWalkBatch>")]
    pub fn next(&self, max_entries: u32, max_bytes: Option<u32>) -> AsyncTask<WalkTask> {
        AsyncTask::new(WalkTask::new(&self.inner, max_entries, max_bytes))
    }

    /// `next`, inline.
    #[napi]
    pub fn next_sync(&self, max_entries: u32, max_bytes: Option<u32>) -> ObjectWalkBatch {
        let mut t = WalkTask::new(&self.inner, max_entries, max_bytes);
        t.run().into_batch()
    }
}

const DEFAULT_MAX_BYTES: u32 = 4 << 20;

pub struct WalkTask {
    inner: Arc<Mutex<Walker>>,
    max_entries: usize,
    max_bytes: usize,
}

/// A batch as read on the worker thread; made into JS values on the JS thread.
pub struct RawBatch {
    count: u32,
    names: String,
    index: Vec<u8>,
    data: Vec<u8>,
    done: bool,
    error: Option<ObjectWalkFailure>,
}

impl WalkTask {
    fn new(inner: &Arc<Mutex<Walker>>, max_entries: u32, max_bytes: Option<u32>) -> Self {
        WalkTask {
            inner: inner.clone(),
            max_entries: max_entries as usize,
            max_bytes: max_bytes.unwrap_or(DEFAULT_MAX_BYTES) as usize,
        }
    }

    fn run(&mut self) -> RawBatch {
        let mut walker = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries: Vec<Entry> = Vec::with_capacity(self.max_entries.min(1024));
        let r = walker.next_batch(self.max_entries, self.max_bytes, &mut entries);
        let mut data = Vec::with_capacity(entries.iter().map(|e| e.metadata.len()).sum());
        let mut names = String::with_capacity(entries.iter().map(|e| e.name.len()).sum());
        let mut index = Vec::with_capacity(entries.len() * 8);
        let mut units = 0u32;
        for e in &entries {
            names.push_str(&e.name);
            units += e.name.chars().map(|c| c.len_utf16() as u32).sum::<u32>();
            data.extend_from_slice(&e.metadata);
            index.extend_from_slice(&units.to_le_bytes());
            index.extend_from_slice(&(data.len() as u32).to_le_bytes());
        }
        let count = entries.len() as u32;
        let (done, error) = match r {
            Ok(done) => (done, None),
            Err(WalkError::VolumeMissing) => (
                true,
                Some(ObjectWalkFailure {
                    volume_missing: true,
                    errno: None,
                    path: String::new(),
                    message: "the volume is missing".into(),
                }),
            ),
            Err(WalkError::Io { path, error }) => (
                true,
                Some(ObjectWalkFailure {
                    volume_missing: false,
                    errno: error.raw_os_error(),
                    path: path.to_string_lossy().into_owned(),
                    message: error.to_string(),
                }),
            ),
        };
        RawBatch { count, names, index, data, done, error }
    }
}

impl RawBatch {
    fn into_batch(self) -> ObjectWalkBatch {
        ObjectWalkBatch {
            count: self.count,
            names: self.names,
            index: self.index.into(),
            data: self.data.into(),
            done: self.done,
            error: self.error,
        }
    }
}

impl Task for WalkTask {
    type Output = RawBatch;
    type JsValue = ObjectWalkBatch;

    fn compute(&mut self) -> Result<RawBatch> {
        Ok(self.run())
    }

    fn resolve(&mut self, _: Env, batch: RawBatch) -> Result<ObjectWalkBatch> {
        Ok(batch.into_batch())
    }
}

/// Bounds of the cache of large directories' sorted listings (`native/src/dirlist.rs`): at most
/// `maxBytes` in all (0: off), for directories of at least `minChildren` child directories.
#[napi]
pub fn configure_listing_cache(max_bytes: f64, min_children: u32) {
    crate::dirlist::configure(max_bytes.max(0.0) as usize, min_children as usize);
}

/// What the listing cache holds.
#[napi(object)]
pub struct ListingCacheStats {
    pub dirs: u32,
    pub bytes: f64,
}

#[napi]
pub fn listing_cache_stats() -> ListingCacheStats {
    let (dirs, bytes) = crate::dirlist::stats();
    ListingCacheStats { dirs: dirs as u32, bytes: bytes as f64 }
}
