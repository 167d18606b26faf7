//! `startWriteback` (`crate::writeback`): one task on a libuv pool thread, so a device queue that
//! makes the call wait never holds the JS thread.

use crate::writeback;
use napi::bindgen_prelude::*;
use napi_derive::napi;

pub struct WritebackTask {
    fd: i32,
    offset: u64,
    len: u64,
}

impl Task for WritebackTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        // A hint: an error here shows again at the file's fsync, which decides.
        let _ = writeback::start_writeback(self.fd, self.offset, self.len);
        Ok(())
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

fn byte_count(x: f64, what: &str) -> Result<u64> {
    if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_991.0 {
        Ok(x as u64)
    } else {
        Err(super::invalid(format!("{what} {x}: not a byte count")))
    }
}

/// Starts writing `length` bytes at `offset` of the open file `fd` (0: to its end) to the device,
/// without waiting for the device (Linux; elsewhere nothing). Never fails once started: an I/O error
/// shows at the file's next fsync. Keep `fd` open until the promise settles.
#[napi(ts_return_type = "Promise<void>")]
pub fn start_writeback(fd: i32, offset: f64, length: f64) -> Result<AsyncTask<WritebackTask>> {
    Ok(AsyncTask::new(WritebackTask {
        fd,
        offset: byte_count(offset, "offset")?,
        len: byte_count(length, "length")?,
    }))
}
