//! Multi-lane MD5: the compression function of up to 16 independent streams in one SIMD pass.
//!
//! MD5 is one long dependency chain per stream, so a single stream cannot use SIMD; but N
//! concurrent uploads are N independent chains. Putting stream `i` in 32-bit lane `i` of a vector
//! runs them in lock step (the idea of the Go library md5-simd): 16 lanes with AVX-512F, 8 with
//! AVX2. Each 64-byte block of every lane is loaded whole and transposed in registers so that
//! vector `w` holds message word `w` of every lane (no gathers). Lanes not in use read a static
//! zero block and their result is thrown away.
//!
//! The kernel is chosen at run time (`is_x86_feature_detected!`) and cached; `CAIRN_SIMD` caps it
//! like the other kernels (`scalar`/`ssse3` -> scalar, `avx2`/`gfni256` -> AVX2, see `crate::simd`).
//!
//! [`compress_multi`] works on raw states and whole blocks; [`Md5`] adds the buffering, padding
//! and length so a caller can hash the block-aligned middle of several streams with
//! `compress_multi` and the rest with the scalar code; [`update_multi`] does exactly that.

use std::sync::OnceLock;

/// The MD5 initial state.
pub const INIT: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/// The 64 additive constants, `floor(abs(sin(i + 1)) * 2^32)` (RFC 1321 3.4; checked by a test).
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// The 64 MD5 steps, fully unrolled, shared by every kernel. `$s` is the kernel's step macro,
/// called as `$s!(FUNC, a, b, c, d, m, msg_word, step, shift)` and expected to do
/// `a = b + ((a + FUNC(b, c, d) + m[msg_word] + K[step]) <<< shift)`.
macro_rules! md5_steps {
    ($s:ident, $m:ident, $a:ident, $b:ident, $c:ident, $d:ident) => {
        md5_steps!(@q $s, $m, F, $a, $b, $c, $d, [7, 12, 17, 22], [0, 1, 2, 3], [0, 1, 2, 3]);
        md5_steps!(@q $s, $m, F, $a, $b, $c, $d, [7, 12, 17, 22], [4, 5, 6, 7], [4, 5, 6, 7]);
        md5_steps!(@q $s, $m, F, $a, $b, $c, $d, [7, 12, 17, 22], [8, 9, 10, 11], [8, 9, 10, 11]);
        md5_steps!(@q $s, $m, F, $a, $b, $c, $d, [7, 12, 17, 22], [12, 13, 14, 15], [12, 13, 14, 15]);
        md5_steps!(@q $s, $m, G, $a, $b, $c, $d, [5, 9, 14, 20], [1, 6, 11, 0], [16, 17, 18, 19]);
        md5_steps!(@q $s, $m, G, $a, $b, $c, $d, [5, 9, 14, 20], [5, 10, 15, 4], [20, 21, 22, 23]);
        md5_steps!(@q $s, $m, G, $a, $b, $c, $d, [5, 9, 14, 20], [9, 14, 3, 8], [24, 25, 26, 27]);
        md5_steps!(@q $s, $m, G, $a, $b, $c, $d, [5, 9, 14, 20], [13, 2, 7, 12], [28, 29, 30, 31]);
        md5_steps!(@q $s, $m, H, $a, $b, $c, $d, [4, 11, 16, 23], [5, 8, 11, 14], [32, 33, 34, 35]);
        md5_steps!(@q $s, $m, H, $a, $b, $c, $d, [4, 11, 16, 23], [1, 4, 7, 10], [36, 37, 38, 39]);
        md5_steps!(@q $s, $m, H, $a, $b, $c, $d, [4, 11, 16, 23], [13, 0, 3, 6], [40, 41, 42, 43]);
        md5_steps!(@q $s, $m, H, $a, $b, $c, $d, [4, 11, 16, 23], [9, 12, 15, 2], [44, 45, 46, 47]);
        md5_steps!(@q $s, $m, I, $a, $b, $c, $d, [6, 10, 15, 21], [0, 7, 14, 5], [48, 49, 50, 51]);
        md5_steps!(@q $s, $m, I, $a, $b, $c, $d, [6, 10, 15, 21], [12, 3, 10, 1], [52, 53, 54, 55]);
        md5_steps!(@q $s, $m, I, $a, $b, $c, $d, [6, 10, 15, 21], [8, 15, 6, 13], [56, 57, 58, 59]);
        md5_steps!(@q $s, $m, I, $a, $b, $c, $d, [6, 10, 15, 21], [4, 11, 2, 9], [60, 61, 62, 63]);
    };
    (@q $s:ident, $m:ident, $f:ident, $a:ident, $b:ident, $c:ident, $d:ident,
     [$r0:tt, $r1:tt, $r2:tt, $r3:tt],
     [$g0:tt, $g1:tt, $g2:tt, $g3:tt],
     [$i0:tt, $i1:tt, $i2:tt, $i3:tt]) => {
        $s!($f, $a, $b, $c, $d, $m, $g0, $i0, $r0);
        $s!($f, $d, $a, $b, $c, $m, $g1, $i1, $r1);
        $s!($f, $c, $d, $a, $b, $m, $g2, $i2, $r2);
        $s!($f, $b, $c, $d, $a, $m, $g3, $i3, $r3);
    };
}

// After `md5_steps`, which they use.
pub mod hub;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
mod x86;

/// The kernel families `compress_multi` can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Path {
    Scalar,
    Avx2,
    Avx512,
}

impl Path {
    fn lanes(self) -> usize {
        match self {
            Path::Scalar => 1,
            Path::Avx2 => 8,
            Path::Avx512 => 16,
        }
    }

    /// How many streams one kernel call takes: AVX2 runs up to two 8-lane groups side by side
    /// (one group alone is latency-bound; two give ~1.4x the throughput).
    fn batch(self) -> usize {
        match self {
            Path::Scalar => 1,
            Path::Avx2 | Path::Avx512 => 16,
        }
    }

    /// Whether this CPU can run the path (the safety condition of the x86 kernels).
    fn supported(self) -> bool {
        match self {
            Path::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// Every path this CPU supports, weakest first.
fn supported_paths() -> Vec<Path> {
    [Path::Scalar, Path::Avx2, Path::Avx512].into_iter().filter(|p| p.supported()).collect()
}

/// The path in use: the best supported, capped by `CAIRN_SIMD` when it is set.
fn path() -> Path {
    static PATH: OnceLock<Path> = OnceLock::new();
    *PATH.get_or_init(|| {
        use crate::simd::Level;
        let cap = match std::env::var("CAIRN_SIMD").ok().and_then(|s| Level::parse(&s)) {
            Some(Level::Scalar | Level::Ssse3 | Level::Neon) => Path::Scalar,
            Some(Level::Avx2 | Level::Gfni256) => Path::Avx2,
            Some(Level::Avx512Gfni) | None => Path::Avx512,
        };
        supported_paths().into_iter().filter(|p| *p <= cap).max().unwrap_or(Path::Scalar)
    })
}

/// How many lanes `compress_multi` runs in one SIMD pass on this CPU: 16 (AVX-512F), 8 (AVX2), 1 (scalar).
///
/// Best throughput comes from passing every ready stream in one call: on AVX2, `compress_multi`
/// runs up to two 8-lane passes interleaved (16 streams cost ~0.7x of two calls of 8).
pub fn lanes() -> usize {
    path().lanes()
}

/// Runs the MD5 compression function over whole 64-byte blocks for several independent streams:
/// `states[i]` (the four u32 words A,B,C,D of stream i, as in RFC 1321) is advanced over `blocks[i]`.
/// Every `blocks[i]` has the same length, a multiple of 64 (may be 0). `states.len() == blocks.len()`,
/// any count (more than lanes() is processed in groups of lanes(); on AVX2 two groups at a time).
/// Lanes not in use are not computed on real data (they read a static zero block). With one stream,
/// the scalar path is used (the SIMD per-lane speed is lower than scalar).
///
/// Panics if the lengths disagree or are not multiples of 64.
pub fn compress_multi(states: &mut [[u32; 4]], blocks: &[&[u8]]) {
    compress_multi_on(path(), states, blocks, true)
}

/// `compress_multi` on a given path, which must be supported (checked). With `scalar_single`, a
/// group of one stream uses the scalar code (the benchmark turns it off to time a lone SIMD lane).
fn compress_multi_on(p: Path, states: &mut [[u32; 4]], blocks: &[&[u8]], scalar_single: bool) {
    assert!(p.supported(), "md5x: {p:?} is not supported by this CPU");
    assert_eq!(states.len(), blocks.len(), "md5x: one block slice per state");
    let len = blocks.first().map_or(0, |b| b.len());
    assert!(
        len.is_multiple_of(64) && blocks.iter().all(|b| b.len() == len),
        "md5x: every stream must have the same length, a multiple of 64"
    );
    if len == 0 {
        return;
    }
    let n = p.batch();
    for (st, bl) in states.chunks_mut(n).zip(blocks.chunks(n)) {
        match p {
            _ if st.len() == 1 && scalar_single => compress_one(&mut st[0], bl[0]),
            // SAFETY: `p.supported()` was asserted above: the CPU has the path's features
            // (AVX2, resp. AVX-512F); the kernels check the slice shapes themselves.
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 if st.len() <= 8 => unsafe { x86::compress8::<1>(st, bl) },
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => unsafe { x86::compress8::<2>(st, bl) },
            #[cfg(target_arch = "x86_64")]
            Path::Avx512 => unsafe { x86::compress16(st, bl) },
            _ => st.iter_mut().zip(bl).for_each(|(s, b)| compress_one(s, b)),
        }
    }
}

/// Hides a `u32` from the optimizer (no instruction emitted) so that LLVM keeps `a + m + K` off
/// the critical path instead of reassociating it into `((F + a) + m) + K`.
#[inline(always)]
fn opaque(x: u32) -> u32 {
    let mut x = x;
    // SAFETY (both): an empty template: it reads and writes `x` in place and touches nothing else.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!("/* {0:e} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("/* {0:w} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

/// One scalar MD5 step; `G` uses `(c & !d) + (b & d)` (the two terms never share a bit), which
/// keeps only one operation on `b` on the critical path.
macro_rules! step1 {
    (F, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        $a = opaque($a.wrapping_add($m[$g]).wrapping_add(K[$i])).wrapping_add($d ^ ($b & ($c ^ $d)));
        $a = $b.wrapping_add($a.rotate_left($r));
    };
    (G, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        $a = opaque($a.wrapping_add($m[$g]).wrapping_add(K[$i])).wrapping_add($c & !$d).wrapping_add($b & $d);
        $a = $b.wrapping_add($a.rotate_left($r));
    };
    (H, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        $a = opaque($a.wrapping_add($m[$g]).wrapping_add(K[$i])).wrapping_add($b ^ $c ^ $d);
        $a = $b.wrapping_add($a.rotate_left($r));
    };
    (I, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        $a = opaque($a.wrapping_add($m[$g]).wrapping_add(K[$i])).wrapping_add($c ^ ($b | !$d));
        $a = $b.wrapping_add($a.rotate_left($r));
    };
}

/// Scalar compression of one stream over whole 64-byte blocks (the fallback and the 1-lane path).
///
/// Panics if `blocks.len()` is not a multiple of 64.
pub fn compress_one(state: &mut [u32; 4], blocks: &[u8]) {
    assert!(blocks.len().is_multiple_of(64), "md5x: compress_one takes whole 64-byte blocks");
    let [mut a, mut b, mut c, mut d] = *state;
    for block in blocks.chunks_exact(64) {
        let mut m = [0u32; 16];
        for (w, bytes) in m.iter_mut().zip(block.chunks_exact(4)) {
            *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        let (aa, bb, cc, dd) = (a, b, c, d);
        md5_steps!(step1, m, a, b, c, d);
        a = a.wrapping_add(aa);
        b = b.wrapping_add(bb);
        c = c.wrapping_add(cc);
        d = d.wrapping_add(dd);
    }
    *state = [a, b, c, d];
}

/// A streaming MD5 whose block-aligned middle can be hashed by [`compress_multi`].
///
/// One stream alone: [`update_scalar`](Md5::update_scalar) then [`finalize`](Md5::finalize).
/// Several streams together ([`update_multi`] does all of this), for each stream's `data`:
/// 1. `let rest = h.take_prefix(data);` completes a pending partial block; if `rest` is not
///    empty, `h` is now block-aligned.
/// 2. `let (mid, tail) = Md5::split_blocks(rest);`
/// 3. Copy `*h.state_mut()` of streams with equal `mid.len()` into one `[[u32; 4]]`, call
///    `compress_multi` with their `mid`s, copy the states back, and `h.add_len(mid.len() as u64)`.
/// 4. `h.update_scalar(tail);` buffers the last partial block.
#[derive(Clone, Debug)]
pub struct Md5 {
    state: [u32; 4],
    buf: [u8; 64],
    buf_len: usize,
    total: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Self::new()
    }
}

impl Md5 {
    pub const fn new() -> Self {
        Md5 { state: INIT, buf: [0; 64], buf_len: 0, total: 0 }
    }

    /// Hashes `data` with the scalar code (buffers a trailing partial block).
    pub fn update_scalar(&mut self, data: &[u8]) {
        let rest = self.take_prefix(data);
        if rest.is_empty() {
            return;
        }
        let (mid, tail) = Self::split_blocks(rest);
        compress_one(&mut self.state, mid);
        self.total += mid.len() as u64;
        self.buf[..tail.len()].copy_from_slice(tail);
        self.buf_len = tail.len();
        self.total += tail.len() as u64;
    }

    /// Moves bytes from the front of `data` into the pending partial block until that block is
    /// complete (then compresses it) or `data` runs out, and returns the rest of `data`. When the
    /// returned slice is not empty, the hasher is block-aligned (`is_aligned()`).
    pub fn take_prefix<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        if self.buf_len == 0 {
            return data;
        }
        let take = (64 - self.buf_len).min(data.len());
        self.buf[self.buf_len..self.buf_len + take].copy_from_slice(&data[..take]);
        self.buf_len += take;
        self.total += take as u64;
        if self.buf_len == 64 {
            compress_one(&mut self.state, &self.buf);
            self.buf_len = 0;
        }
        &data[take..]
    }

    /// Splits `data` into its whole 64-byte blocks and the partial block after them.
    pub fn split_blocks(data: &[u8]) -> (&[u8], &[u8]) {
        data.split_at(data.len() / 64 * 64)
    }

    /// Whether no partial block is pending (the state covers every byte hashed so far).
    pub fn is_aligned(&self) -> bool {
        self.buf_len == 0
    }

    /// The chaining state, to advance it with `compress_multi`; follow with `add_len`. Only
    /// meaningful when `is_aligned()`.
    pub fn state_mut(&mut self) -> &mut [u32; 4] {
        &mut self.state
    }

    /// Records that `n` bytes (whole blocks) were compressed into the state from outside.
    /// Panics if the hasher is not aligned or `n` is not a multiple of 64.
    pub fn add_len(&mut self, n: u64) {
        assert!(
            self.is_aligned() && n.is_multiple_of(64),
            "md5x: add_len needs an aligned hasher and whole blocks"
        );
        self.total += n;
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The digest of everything hashed so far (padding and length appended to a copy).
    pub fn finalize(&self) -> [u8; 16] {
        let mut state = self.state;
        let mut tail = [0u8; 128];
        tail[..self.buf_len].copy_from_slice(&self.buf[..self.buf_len]);
        tail[self.buf_len] = 0x80;
        let n = if self.buf_len < 56 { 64 } else { 128 };
        tail[n - 8..n].copy_from_slice(&self.total.wrapping_mul(8).to_le_bytes());
        compress_one(&mut state, &tail[..n]);
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// Hashes `data[i]` into `hashers[i]` for every `i`, running the streams' common block-aligned
/// middle through `compress_multi` (lengths may differ: streams drop out as they run short of whole
/// blocks, and a stream left alone finishes on the scalar code). Panics if the counts differ.
pub fn update_multi(hashers: &mut [&mut Md5], data: &[&[u8]]) {
    update_multi_on(path(), hashers, data)
}

fn update_multi_on(p: Path, hashers: &mut [&mut Md5], data: &[&[u8]]) {
    assert_eq!(hashers.len(), data.len(), "md5x: one data slice per hasher");
    const MAX: usize = 16;
    for (hs, ds) in hashers.chunks_mut(p.batch().min(MAX)).zip(data.chunks(p.batch().min(MAX))) {
        let mut rest: [&[u8]; MAX] = [&[]; MAX];
        for ((r, h), d) in rest.iter_mut().zip(hs.iter_mut()).zip(ds) {
            *r = h.take_prefix(d);
        }
        loop {
            // The streams with at least one whole block left, and the whole blocks they share.
            let mut idx = [0usize; MAX];
            let mut k = 0;
            let mut common = usize::MAX;
            for (i, r) in rest[..hs.len()].iter().enumerate() {
                if r.len() >= 64 {
                    idx[k] = i;
                    k += 1;
                    common = common.min(r.len() / 64 * 64);
                }
            }
            if k < 2 {
                break;
            }
            let mut states = [[0u32; 4]; MAX];
            let mut blocks: [&[u8]; MAX] = [&[]; MAX];
            for j in 0..k {
                states[j] = *hs[idx[j]].state_mut();
                blocks[j] = &rest[idx[j]][..common];
            }
            compress_multi_on(p, &mut states[..k], &blocks[..k], true);
            for j in 0..k {
                *hs[idx[j]].state_mut() = states[j];
                hs[idx[j]].add_len(common as u64);
                rest[idx[j]] = &rest[idx[j]][common..];
            }
        }
        for (h, r) in hs.iter_mut().zip(rest) {
            h.update_scalar(r);
        }
    }
}
