//! Cairn's native core: Reed-Solomon erasure coding and bitrot hashing, with SIMD chosen at run time.
//! This file only lists modules; the JS binding lives in `binding` (feature `napi-binding`).

pub mod bitrot;
pub mod cached;
pub mod digest;
pub mod direct;
pub mod dirlist;
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

/// Deterministic test bytes (xorshift), shared by the unit tests.
#[cfg(test)]
pub(crate) fn test_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e3779b97f4a7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
