//! Cairn's native core: Reed-Solomon erasure coding and bitrot hashing, with SIMD chosen at run time.
//! This file only lists modules; the JS binding lives in `binding` (feature `napi-binding`).

pub mod bitrot;
pub mod cached;
pub mod digest;
pub mod direct;
pub mod erasure;
pub mod frames;
pub mod fsio;
pub mod gf;
pub mod kernels;
pub mod md5x;
pub mod placement;
pub mod readat;
pub mod shardread;
pub mod simd;
pub mod walk;
pub mod writeback;

#[cfg(feature = "napi-binding")]
pub mod binding;
