//! `openDirectWriter` (`crate::direct`): a shard file written past the page cache, every write,
//! the final fsync and the close run as tasks on libuv pool threads.
//!
//! Failures reject as `fsio`'s do: an `Error` with `code` (the errno name), `syscall`, `path` and
//! `stage` (`tmp`: the file being written).

use super::fsio::{keep, rejected};
use crate::direct::DirectFile;
use crate::fsio::{FsError, Stage};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

type Shared = Arc<Mutex<Option<DirectFile>>>;

fn failed(syscall: &'static str, path: &Path) -> impl FnOnce(io::Error) -> FsError {
    let path = path.to_path_buf();
    move |error| FsError { stage: Stage::Tmp, syscall, path, error }
}

/// Runs `f` on the open file; a closed one is `EBADF`.
fn with_file<T>(
    inner: &Shared,
    syscall: &'static str,
    path: &Path,
    f: impl FnOnce(&mut DirectFile) -> io::Result<T>,
) -> std::result::Result<T, FsError> {
    let mut guard = inner.lock().unwrap_or_else(|e| e.into_inner());
    let file = guard.as_mut().ok_or_else(|| failed(syscall, path)(io::Error::from_raw_os_error(9)))?;
    f(file).map_err(failed(syscall, path))
}

/// A file being written front to back (see `crate::direct`). Await each call before the next.
#[napi]
pub struct DirectWriter {
    inner: Shared,
    path: PathBuf,
}

#[napi]
impl DirectWriter {
    /// Whether writes still go past the page cache (false on file systems that refuse it).
    #[napi(getter)]
    pub fn is_direct(&self) -> bool {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).as_ref().is_some_and(|f| f.is_direct())
    }

    /// Appends the chunks, in order. The Buffers may be reused once the promise settles.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write(&self, chunks: Vec<Buffer>) -> AsyncTask<DirectWriteTask> {
        AsyncTask::new(DirectWriteTask {
            inner: self.inner.clone(),
            path: self.path.clone(),
            chunks,
            failure: None,
        })
    }

    /// Writes what is left, `fdatasync`s and closes the file.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn finish(&self) -> AsyncTask<DirectEndTask> {
        AsyncTask::new(DirectEndTask {
            inner: self.inner.clone(),
            path: self.path.clone(),
            sync: true,
            failure: None,
        })
    }

    /// Closes the file without writing what is left (an abort); never fails.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<DirectEndTask> {
        AsyncTask::new(DirectEndTask {
            inner: self.inner.clone(),
            path: self.path.clone(),
            sync: false,
            failure: None,
        })
    }
}

pub struct OpenDirectTask {
    path: PathBuf,
    direct: bool,
    file: Option<DirectFile>,
    failure: Option<FsError>,
}

impl Task for OpenDirectTask {
    type Output = ();
    type JsValue = DirectWriter;

    fn compute(&mut self) -> Result<()> {
        let r = DirectFile::create(&self.path, self.direct).map_err(failed("open", &self.path));
        self.file = Some(keep(&mut self.failure, r)?);
        Ok(())
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<DirectWriter> {
        Ok(DirectWriter { inner: Arc::new(Mutex::new(self.file.take())), path: self.path.clone() })
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<DirectWriter> {
        rejected(&env, &mut self.failure, err)
    }
}

/// Creates (or truncates) the file at `path` for writing; `direct: false` goes through the page
/// cache from the start. Missing directories fail with `ENOENT`.
#[napi(ts_return_type = "Promise<DirectWriter>")]
pub fn open_direct_writer(path: String, direct: bool) -> AsyncTask<OpenDirectTask> {
    AsyncTask::new(OpenDirectTask { path: PathBuf::from(path), direct, file: None, failure: None })
}

pub struct DirectWriteTask {
    inner: Shared,
    path: PathBuf,
    chunks: Vec<Buffer>,
    failure: Option<FsError>,
}

impl Task for DirectWriteTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let chunks: Vec<&[u8]> = self.chunks.iter().map(|c| &c[..]).collect();
        let r = with_file(&self.inner, "write", &self.path, |f| f.write(&chunks));
        keep(&mut self.failure, r)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<()> {
        rejected(&env, &mut self.failure, err)
    }
}

pub struct DirectEndTask {
    inner: Shared,
    path: PathBuf,
    sync: bool,
    failure: Option<FsError>,
}

impl Task for DirectEndTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        if !self.sync {
            drop(self.inner.lock().unwrap_or_else(|e| e.into_inner()).take());
            return Ok(());
        }
        let r = with_file(&self.inner, "fdatasync", &self.path, |f| f.finish());
        // Closed whatever happened: a failed file is removed by its caller.
        drop(self.inner.lock().unwrap_or_else(|e| e.into_inner()).take());
        keep(&mut self.failure, r)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<()> {
        rejected(&env, &mut self.failure, err)
    }
}
