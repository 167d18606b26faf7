//! The JS binding: typed options, one `Task` per operation (`compute` on a libuv worker, `resolve`
//! on the JS thread), and a `*Sync` twin of each that runs the same task inline.
//!
//! Buffers are borrowed, never copied: outputs go into Buffers the caller hands in. A caller must not
//! touch those Buffers until the promise settles.

pub mod bitrot;
pub mod erasure;

use napi::{Error, Status};

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, msg.into())
}

/// Refuses an output that overlaps an input: the kernels read and write through separate slices.
pub(crate) fn check_disjoint(a: &[u8], b: &[u8], what: &str) -> napi::Result<()> {
    let (a0, a1) = (a.as_ptr() as usize, a.as_ptr() as usize + a.len());
    let (b0, b1) = (b.as_ptr() as usize, b.as_ptr() as usize + b.len());
    if !a.is_empty() && !b.is_empty() && a0 < b1 && b0 < a1 {
        return Err(invalid(format!("{what} overlap; pass separate memory")));
    }
    Ok(())
}

/// The SIMD kernel family in use (`CAIRN_SIMD` caps it), e.g. `avx512gfni`, `avx2`, `neon`, `scalar`.
#[napi_derive::napi]
pub fn simd_level() -> String {
    crate::simd::level().name().to_string()
}

/// Every kernel family this CPU can run, weakest first.
#[napi_derive::napi]
pub fn supported_simd_levels() -> Vec<String> {
    crate::simd::supported_levels().iter().map(|l| l.name().to_string()).collect()
}
