//! The JS binding: typed options, one `Task` per operation (`compute` on a libuv worker, `resolve`
//! on the JS thread), and a `*Sync` twin of each that runs the same task inline.
//!
//! Buffers are borrowed, never copied: outputs go into Buffers the caller hands in. A caller must not
//! touch those Buffers until the promise settles.

pub mod bitrot;
pub mod digest;
pub mod direct;
pub mod erasure;
pub mod frames;
pub mod fsio;
pub mod pool;
pub mod readat;
pub mod walk;
pub mod writeback;

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

/// The erasure set (0-based) of an object among `sets`: SipHash-2-4 of `key` keyed with the 16-byte
/// deployment id, modulo `sets` (MinIO's placement).
#[napi_derive::napi]
pub fn sip_hash_mod(key: String, deployment_id: &[u8], sets: u32) -> napi::Result<u32> {
    let id: [u8; 16] = deployment_id.try_into().map_err(|_| invalid("the deployment id must be 16 bytes"))?;
    Ok(crate::placement::sip_hash_mod(key.as_bytes(), &id, sets as u64) as u32)
}
