//! A drive's small whole files (`crate::fsio`): one task per operation, so that a metadata read or
//! a commit costs one libuv pool round trip per drive instead of one per system call.
//!
//! Failures reject with an `Error` shaped as Node's fs errors are: `code` is the errno name
//! (`ENOENT`), with `syscall` and `path`, plus `stage`, the step that failed (see each function).
//! The error object is made on the JS thread only when there is one.
//!
//! Reads come back in a new Buffer that V8 owns (a copy of a few KiB is cheaper than an external
//! Buffer, whose finalizer the GC has to run). There is no `*Sync` twin of the writes: an fsync
//! has no place on the JS thread.

use crate::fsio::{self, FsError, RenameData};
use napi::bindgen_prelude::*;
use napi::ScopedTask;
use napi_derive::napi;
use std::path::PathBuf;

/// Where an atomic write puts its temporary file, and how far up it may make directories.
#[napi(object)]
pub struct WriteFileOptions {
    /// The directory of temporary files, on the file system of the target. It and its parent are
    /// made when missing, never anything above them.
    pub tmp_dir: String,
    /// The volume's directory: missing parents of the target are made below it, never it or
    /// anything above it (their absence fails with `ENOENT`).
    pub base_dir: String,
}

/// What `renameData` moves where.
#[napi(object)]
pub struct RenameDataOptions {
    /// The directory to move: a temporary data dir whose files are fsynced.
    pub src: String,
    /// The object's directory (made when missing): the data dir goes to `dir/dataDir`, the
    /// metadata to `dir/metaFile`.
    pub dir: String,
    /// A plain name.
    pub data_dir: String,
    /// A plain name.
    pub meta_file: String,
    /// As in `WriteFileOptions`.
    pub tmp_dir: String,
    /// As in `WriteFileOptions`.
    pub base_dir: String,
}

fn head_bytes(head: Option<f64>) -> Result<Option<u64>> {
    match head {
        None => Ok(None),
        // (`as` saturates: a head past u64::MAX is the whole file, as any head past its size.)
        Some(h) if h >= 0.0 && h.fract() == 0.0 => Ok(Some(h as u64)),
        Some(h) => Err(super::invalid(format!("head {h}: not a byte count"))),
    }
}

/// The JS error for `f`: an `Error` with `code`, `syscall`, `path` and `stage` (and
/// `volumeExists` when a read found the volume there).
pub(crate) fn js_error(env: &Env, f: &FsError, volume_exists: bool) -> Error {
    let make = || -> Result<Error> {
        let mut e = env.create_error(Error::new(Status::GenericFailure, f.to_string()))?;
        e.set_named_property("code", f.code())?;
        e.set_named_property("syscall", f.syscall)?;
        e.set_named_property("path", f.path.to_string_lossy().as_ref())?;
        e.set_named_property("stage", f.stage.name())?;
        if volume_exists {
            e.set_named_property("volumeExists", true)?;
        }
        Ok(Error::from(e.to_unknown()))
    };
    make().unwrap_or_else(|e| e)
}

/// Keeps the failure of `compute` for `reject`, where the JS error can be made.
pub(crate) fn keep<T>(failure: &mut Option<FsError>, r: fsio::FsResult<T>) -> Result<T> {
    r.map_err(|f| {
        let reason = f.to_string();
        *failure = Some(f);
        Error::new(Status::GenericFailure, reason)
    })
}

pub(crate) fn rejected<T>(env: &Env, failure: &mut Option<FsError>, err: Error) -> Result<T> {
    Err(match failure.take() {
        Some(f) => js_error(env, &f, false),
        None => err,
    })
}

/// A whole file, or at most its first `head` bytes: open, fstat, read and close on a worker
/// thread. A directory fails with `EISDIR`; `stage` is `read`. When the file is missing (`ENOENT`,
/// `ENOTDIR`) while `volumeDir` is a directory, the error has `volumeExists: true`: the drive and
/// the volume are there, only the file is not (a new key's usual case), which the caller would
/// otherwise have to look at the disk again to tell.
#[napi(ts_return_type = "Promise<Buffer>")]
pub fn read_file(
    path: String,
    head: Option<f64>,
    volume_dir: Option<String>,
) -> Result<AsyncTask<ReadFileTask>> {
    Ok(AsyncTask::new(ReadFileTask::new(path, head, volume_dir)?))
}

/// `readFile`, inline.
#[napi]
pub fn read_file_sync(
    env: &Env,
    path: String,
    head: Option<f64>,
    volume_dir: Option<String>,
) -> Result<BufferSlice<'_>> {
    let mut task = ReadFileTask::new(path, head, volume_dir)?;
    match task.compute() {
        Ok(data) => BufferSlice::copy_from(env, data),
        Err(e) => task.reject(env, e),
    }
}

/// `readFile` on the calling thread, but only from the kernel's caches (`crate::cached`):
/// undefined when the lookup or a byte of the file is not cached, or on any error; the caller then
/// uses `readFile`, which reads from the device and reports errors.
#[napi]
pub fn read_file_cached(env: &Env, path: String, head: Option<f64>) -> Result<Option<BufferSlice<'_>>> {
    let head = head_bytes(head)?;
    match crate::cached::read_file_cached(std::path::Path::new(&path), head) {
        Some(data) => Ok(Some(BufferSlice::copy_from(env, data)?)),
        None => Ok(None),
    }
}

/// Atomically replaces `path` with `data`, on a worker thread: a new temporary file in
/// `options.tmpDir`, fsync, rename over `path` (making its missing parents below
/// `options.baseDir`, each fsynced into its parent), fsync of `path`'s directory. A crash leaves
/// the old file or the new one. Leave `data` alone until the promise settles.
///
/// `stage` of a failure: `tmp` (making or writing the temporary file: about `tmpDir`), `commit`
/// (about `path`). Nothing is left in `tmpDir` either way.
#[napi(ts_return_type = "Promise<void>")]
pub fn write_file_atomic(path: String, data: Buffer, options: WriteFileOptions) -> AsyncTask<WriteFileTask> {
    AsyncTask::new(WriteFileTask {
        path: path.into(),
        data,
        tmp_dir: options.tmp_dir.into(),
        base: options.base_dir.into(),
        failure: None,
    })
}

/// The commit of a write with a data dir, on a worker thread: moves `options.src` to
/// `dir/dataDir` (making `dir`), fsyncs `dir` and the source's directory, then replaces
/// `dir/metaFile` with `metadata` as `writeFileAtomic` does. A failure before the metadata is in
/// place puts the data dir back. Leave `metadata` alone until the promise settles.
///
/// `stage` of a failure: `source` (nothing to move), `move` (about `dir/dataDir`), `sync` (about
/// `dir`), then `tmp` or `commit` (about `dir/metaFile`) as in `writeFileAtomic`.
#[napi(ts_return_type = "Promise<void>")]
pub fn rename_data(metadata: Buffer, options: RenameDataOptions) -> Result<AsyncTask<RenameDataTask>> {
    for name in [&options.data_dir, &options.meta_file] {
        let mut parts = std::path::Path::new(name).components();
        if !matches!((parts.next(), parts.next()), (Some(std::path::Component::Normal(_)), None)) {
            return Err(super::invalid(format!("{name:?} is not a plain name")));
        }
    }
    Ok(AsyncTask::new(RenameDataTask { options, metadata, failure: None }))
}

pub struct ReadFileTask {
    path: PathBuf,
    head: Option<u64>,
    volume_dir: Option<PathBuf>,
    volume_exists: bool,
    failure: Option<FsError>,
}

impl ReadFileTask {
    fn new(path: String, head: Option<f64>, volume_dir: Option<String>) -> Result<Self> {
        Ok(ReadFileTask {
            path: path.into(),
            head: head_bytes(head)?,
            volume_dir: volume_dir.map(PathBuf::from),
            volume_exists: false,
            failure: None,
        })
    }
}

impl<'env> ScopedTask<'env> for ReadFileTask {
    type Output = Vec<u8>;
    type JsValue = BufferSlice<'env>;

    fn compute(&mut self) -> Result<Vec<u8>> {
        let r = fsio::read_file(&self.path, self.head);
        if let (Err(f), Some(dir)) = (&r, &self.volume_dir) {
            self.volume_exists = f.is_missing() && fsio::is_dir(dir);
        }
        keep(&mut self.failure, r)
    }

    fn resolve(&mut self, env: &'env Env, data: Vec<u8>) -> Result<BufferSlice<'env>> {
        BufferSlice::copy_from(env, data)
    }

    fn reject(&mut self, env: &'env Env, err: Error) -> Result<BufferSlice<'env>> {
        Err(match self.failure.take() {
            Some(f) => js_error(env, &f, self.volume_exists),
            None => err,
        })
    }
}

pub struct WriteFileTask {
    path: PathBuf,
    data: Buffer,
    tmp_dir: PathBuf,
    base: PathBuf,
    failure: Option<FsError>,
}

impl Task for WriteFileTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let r = fsio::write_file_atomic(&self.path, &self.data, &self.tmp_dir, &self.base);
        keep(&mut self.failure, r)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<()> {
        rejected(&env, &mut self.failure, err)
    }
}

pub struct RenameDataTask {
    options: RenameDataOptions,
    metadata: Buffer,
    failure: Option<FsError>,
}

impl Task for RenameDataTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let o = &self.options;
        let (src, dir, tmp_dir, base) = (
            PathBuf::from(&o.src),
            PathBuf::from(&o.dir),
            PathBuf::from(&o.tmp_dir),
            PathBuf::from(&o.base_dir),
        );
        let r = RenameData {
            src: &src,
            dir: &dir,
            data_dir: &o.data_dir,
            meta_file: &o.meta_file,
            tmp_dir: &tmp_dir,
            base: &base,
        };
        let done = fsio::rename_data(&r, &self.metadata);
        keep(&mut self.failure, done)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<()> {
        rejected(&env, &mut self.failure, err)
    }
}
