//! `readFileAt` (`crate::readat`): open, read, close in one task on a libuv pool thread.

use crate::readat;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::path::PathBuf;

pub struct ReadAtTask {
    path: PathBuf,
    offset: u64,
    into: Buffer,
}

impl Task for ReadAtTask {
    /// Bytes read, or the errno name of the failure.
    type Output = std::result::Result<u32, &'static str>;
    type JsValue = Either<u32, String>;

    fn compute(&mut self) -> Result<Self::Output> {
        let path = std::mem::take(&mut self.path);
        Ok(readat::read_at(&path, self.offset, &mut self.into)
            .map(|n| n as u32)
            .map_err(|e| readat::code_of(&e)))
    }

    fn resolve(&mut self, _: Env, out: Self::Output) -> Result<Self::JsValue> {
        Ok(match out {
            Ok(n) => Either::A(n),
            Err(code) => Either::B(code.to_string()),
        })
    }
}

/// Reads `into.length` bytes at `offset` of the file at `path` into `into` (open, read until full
/// or the end of the file, close) on a worker thread. Resolves to the bytes read (fewer when the
/// file ends first), or, when a call fails, to its errno name (`"ENOENT"`): no Error is made here.
/// Leave `into` alone until it settles.
#[napi(ts_return_type = "Promise<number | string>")]
pub fn read_file_at(path: String, offset: f64, into: Buffer) -> Result<AsyncTask<ReadAtTask>> {
    if !(offset >= 0.0 && offset.fract() == 0.0 && offset <= 9_007_199_254_740_991.0) {
        return Err(super::invalid(format!("offset {offset}: not a byte count")));
    }
    if into.len() > u32::MAX as usize {
        return Err(super::invalid("a read of more than 4 GiB at once"));
    }
    Ok(AsyncTask::new(ReadAtTask { path: PathBuf::from(path), offset: offset as u64, into }))
}
