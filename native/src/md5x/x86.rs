//! The x86-64 kernels: AVX2 (8 lanes of `__m256i`) and AVX-512F (16 lanes of `__m512i`).
//!
//! Lane `i` of every vector belongs to stream `i`. Per block, each lane's 64 bytes are loaded
//! with plain unaligned loads and transposed in registers (unpack/shuffle), giving sixteen message
//! vectors `m[w]` = word `w` of every lane. Lanes beyond the streams given read `ZERO_BLOCK`.

use super::K;
use std::arch::asm;
use std::arch::x86_64::*;

/// Hides a value from the optimizer with an empty `asm!` (no instruction is emitted). LLVM would
/// otherwise reassociate `((a + m) + K) + F` into `((F + a) + m) + K`, putting all three adds on the
/// critical path instead of one.
macro_rules! opaque {
    ($class:ident, $x:expr) => {{
        let mut x = $x;
        // SAFETY: an empty template: it reads and writes `x` in place and touches nothing else.
        unsafe { asm!("/* {0} */", inout($class) x, options(pure, nomem, nostack, preserves_flags)) };
        x
    }};
}

/// What idle lanes read: never real data, never out of bounds.
static ZERO_BLOCK: [u8; 64] = [0; 64];

/// Checks the shapes and returns, per lane, the start of its data and a mask applied to the
/// block offset (`!0` for a stream, `0` for an idle lane, which keeps reading `ZERO_BLOCK`), and
/// the number of blocks. Lane `i` of block `j` reads 64 bytes at `ptr[i] + (64 * j & mask[i])`,
/// in bounds for every `j < blocks`.
fn lanes<const N: usize>(states: &[[u32; 4]], data: &[&[u8]]) -> ([*const u8; N], [usize; N], usize) {
    assert!(states.len() == data.len() && data.len() <= N);
    let len = data.first().map_or(0, |d| d.len());
    assert!(len.is_multiple_of(64) && data.iter().all(|d| d.len() == len));
    let mut ptr = [ZERO_BLOCK.as_ptr(); N];
    let mut mask = [0usize; N];
    for (i, d) in data.iter().enumerate() {
        ptr[i] = d.as_ptr();
        mask[i] = !0;
    }
    (ptr, mask, len / 64)
}

/// The states as four arrays of lane words (A of every lane, B, C, D); idle lanes get zeros.
fn split_states<const N: usize>(states: &[[u32; 4]]) -> [[u32; N]; 4] {
    let mut s = [[0u32; N]; 4];
    for (i, st) in states.iter().enumerate() {
        for w in 0..4 {
            s[w][i] = st[w];
        }
    }
    s
}

fn join_states<const N: usize>(s: &[[u32; N]; 4], states: &mut [[u32; 4]]) {
    for (i, st) in states.iter_mut().enumerate() {
        for w in 0..4 {
            st[w] = s[w][i];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AVX-512F: rotates are VPROLD, each round function one VPTERNLOGD.

/// The VPTERNLOGD truth tables of F, G, H, I over (b, c, d) = (0xF0, 0xCC, 0xAA).
macro_rules! step16 {
    (F, $($t:tt)*) => { step16!(@ 0xCA, $($t)*) }; // (b & c) | (!b & d)
    (G, $($t:tt)*) => { step16!(@ 0xE4, $($t)*) }; // (b & d) | (c & !d)
    (H, $($t:tt)*) => { step16!(@ 0x96, $($t)*) }; // b ^ c ^ d
    (I, $($t:tt)*) => { step16!(@ 0x39, $($t)*) }; // c ^ (b | !d)
    (@ $f:tt, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        // a + m + K does not wait for b, c, d: only F, one add, the rotate and one add do.
        let t = _mm512_add_epi32(_mm512_add_epi32($a, $m[$g]), _mm512_set1_epi32(K[$i] as i32));
        let t = _mm512_add_epi32(opaque!(zmm_reg, t), _mm512_ternarylogic_epi32::<$f>($b, $c, $d));
        $a = _mm512_add_epi32($b, _mm512_rol_epi32::<$r>(t));
    };
}

/// Advances up to 16 streams (`states[i]` over `data[i]`, all the same length, a multiple of 64).
///
/// # Safety
/// The CPU must support AVX-512F. (The slice shapes are checked; every load is inside a
/// `data[i]` or `ZERO_BLOCK`.)
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn compress16(states: &mut [[u32; 4]], data: &[&[u8]]) {
    let (ptr, mask, blocks) = lanes::<16>(states, data);
    let mut s = split_states::<16>(states);
    // SAFETY: unaligned loads/stores of 64 bytes from/to `[u32; 16]` arrays.
    let (mut a, mut b, mut c, mut d) = unsafe {
        (
            _mm512_loadu_si512(s[0].as_ptr().cast()),
            _mm512_loadu_si512(s[1].as_ptr().cast()),
            _mm512_loadu_si512(s[2].as_ptr().cast()),
            _mm512_loadu_si512(s[3].as_ptr().cast()),
        )
    };
    for j in 0..blocks {
        let mut r = [_mm512_setzero_si512(); 16];
        for i in 0..16 {
            // SAFETY: `lanes` guarantees 64 readable bytes at this address for `j < blocks`.
            r[i] = unsafe { _mm512_loadu_si512(ptr[i].add((j * 64) & mask[i]).cast()) };
        }
        let m = transpose16(&r);
        let (aa, bb, cc, dd) = (a, b, c, d);
        md5_steps!(step16, m, a, b, c, d);
        a = _mm512_add_epi32(a, aa);
        b = _mm512_add_epi32(b, bb);
        c = _mm512_add_epi32(c, cc);
        d = _mm512_add_epi32(d, dd);
    }
    // SAFETY: as for the loads above.
    unsafe {
        _mm512_storeu_si512(s[0].as_mut_ptr().cast(), a);
        _mm512_storeu_si512(s[1].as_mut_ptr().cast(), b);
        _mm512_storeu_si512(s[2].as_mut_ptr().cast(), c);
        _mm512_storeu_si512(s[3].as_mut_ptr().cast(), d);
    }
    join_states(&s, states);
}

/// 16x16 transpose of u32: `r[lane]` holds the lane's 16 message words; the result `m[w]` holds
/// word `w` of the 16 lanes. 64 shuffles: a 4x4 transpose inside each 128-bit chunk of every group
/// of four rows, then a 4x4 transpose of the 128-bit chunks across the groups.
#[target_feature(enable = "avx512f")]
fn transpose16(r: &[__m512i; 16]) -> [__m512i; 16] {
    // u[g][j]: chunk q holds word 4q + j of rows 4g..4g+4.
    let mut u = [[_mm512_setzero_si512(); 4]; 4];
    for g in 0..4 {
        let [r0, r1, r2, r3] = [r[4 * g], r[4 * g + 1], r[4 * g + 2], r[4 * g + 3]];
        let t0 = _mm512_unpacklo_epi32(r0, r1);
        let t1 = _mm512_unpackhi_epi32(r0, r1);
        let t2 = _mm512_unpacklo_epi32(r2, r3);
        let t3 = _mm512_unpackhi_epi32(r2, r3);
        u[g] = [
            _mm512_unpacklo_epi64(t0, t2),
            _mm512_unpackhi_epi64(t0, t2),
            _mm512_unpacklo_epi64(t1, t3),
            _mm512_unpackhi_epi64(t1, t3),
        ];
    }
    let mut m = [_mm512_setzero_si512(); 16];
    for j in 0..4 {
        let x0 = _mm512_shuffle_i32x4::<0x44>(u[0][j], u[1][j]); // u0.c0 u0.c1 u1.c0 u1.c1
        let x1 = _mm512_shuffle_i32x4::<0xEE>(u[0][j], u[1][j]); // u0.c2 u0.c3 u1.c2 u1.c3
        let x2 = _mm512_shuffle_i32x4::<0x44>(u[2][j], u[3][j]);
        let x3 = _mm512_shuffle_i32x4::<0xEE>(u[2][j], u[3][j]);
        m[j] = _mm512_shuffle_i32x4::<0x88>(x0, x2); // chunk 0 of u0..u3
        m[4 + j] = _mm512_shuffle_i32x4::<0xDD>(x0, x2); // chunk 1
        m[8 + j] = _mm512_shuffle_i32x4::<0x88>(x1, x3); // chunk 2
        m[12 + j] = _mm512_shuffle_i32x4::<0xDD>(x1, x3); // chunk 3
    }
    m
}

// ---------------------------------------------------------------------------------------------
// AVX2: rotate = shift | shift (a byte shuffle for 16), G as (c & !d) + (b & d). One 8-lane chain
// is latency-bound (~5 cycles a step against ~3.3 of work on three ALU ports), so the kernel runs
// `G` independent groups of 8 lanes step by step side by side (`a[k]` is group `k`).

macro_rules! rol8 {
    // Rotating by 16 swaps the two 16-bit halves of each word: one byte shuffle (bytes 2 3 0 1 ...).
    (16, $x:expr) => {{
        const LO: i64 = 0x0504070601000302;
        const HI: i64 = 0x0d0c0f0e09080b0a;
        _mm256_shuffle_epi8($x, _mm256_set_epi64x(HI, LO, HI, LO))
    }};
    ($r:tt, $x:expr) => {{
        let x = $x;
        _mm256_or_si256(_mm256_slli_epi32::<$r>(x), _mm256_srli_epi32::<{ 32 - $r }>(x))
    }};
}

macro_rules! step8 {
    (F, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        for k in 0..G {
            let f = _mm256_xor_si256($d[k], _mm256_and_si256($b[k], _mm256_xor_si256($c[k], $d[k])));
            step8!(@ f, k, $a, $b, $m, $g, $i, $r);
        }
    };
    (G, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        for k in 0..G {
            $a[k] = _mm256_add_epi32($a[k], _mm256_andnot_si256($d[k], $c[k]));
            let f = _mm256_and_si256($b[k], $d[k]);
            step8!(@ f, k, $a, $b, $m, $g, $i, $r);
        }
    };
    (H, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        for k in 0..G {
            let f = _mm256_xor_si256($b[k], _mm256_xor_si256($c[k], $d[k]));
            step8!(@ f, k, $a, $b, $m, $g, $i, $r);
        }
    };
    (I, $a:ident, $b:ident, $c:ident, $d:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        for k in 0..G {
            let nd = _mm256_xor_si256($d[k], _mm256_set1_epi32(-1));
            let f = _mm256_xor_si256($c[k], _mm256_or_si256($b[k], nd));
            step8!(@ f, k, $a, $b, $m, $g, $i, $r);
        }
    };
    (@ $f:ident, $k:ident, $a:ident, $b:ident, $m:ident, $g:tt, $i:tt, $r:tt) => {
        let t = _mm256_add_epi32(_mm256_add_epi32($a[$k], $m[$k][$g]), _mm256_set1_epi32(K[$i] as i32));
        $a[$k] = _mm256_add_epi32($b[$k], rol8!($r, _mm256_add_epi32(opaque!(ymm_reg, t), $f)));
    };
}

/// Advances up to `8 * G` streams (`states[i]` over `data[i]`, all the same length, a multiple
/// of 64) as `G` interleaved groups of 8 lanes.
///
/// # Safety
/// The CPU must support AVX2. (The slice shapes are checked; every load is inside a `data[i]` or
/// `ZERO_BLOCK`.)
#[target_feature(enable = "avx2")]
pub(super) unsafe fn compress8<const G: usize>(states: &mut [[u32; 4]], data: &[&[u8]]) {
    const { assert!(G == 1 || G == 2) };
    // Lanes of group k are streams 8k..8k+8; at most 16 lanes in all.
    let (ptr, mask, blocks) = lanes::<16>(states, data);
    assert!(data.len() <= 8 * G);
    let s = split_states::<16>(states);
    let mut v = [[_mm256_setzero_si256(); G]; 4];
    for (w, vw) in v.iter_mut().enumerate() {
        for (k, x) in vw.iter_mut().enumerate() {
            // SAFETY: 32 bytes (lanes 8k..8k+8) of a `[u32; 16]`, k < 2.
            *x = unsafe { _mm256_loadu_si256(s[w][8 * k..].as_ptr().cast()) };
        }
    }
    let [mut a, mut b, mut c, mut d] = v;
    for j in 0..blocks {
        let mut p = [std::ptr::null::<u8>(); 16];
        for i in 0..8 * G {
            // In bounds: `lanes` guarantees 64 readable bytes here for `j < blocks`.
            p[i] = ptr[i].wrapping_add((j * 64) & mask[i]);
        }
        // v[i] of chunk q = 16 bytes q of lane i (low half) and of lane i + 4 (high half); a 4x4
        // transpose inside the halves then gives words 4q..4q+4 of the 8 lanes in order.
        let mut m = [[_mm256_setzero_si256(); 16]; G];
        for (k, mk) in m.iter_mut().enumerate() {
            let p = &p[8 * k..8 * k + 8];
            for q in 0..4 {
                let mut v = [_mm256_setzero_si256(); 4];
                for i in 0..4 {
                    // SAFETY: 16 bytes at offset 16q < 64 of two 64-byte blocks (see above).
                    v[i] =
                        unsafe { _mm256_loadu2_m128i(p[i + 4].add(16 * q).cast(), p[i].add(16 * q).cast()) };
                }
                let t0 = _mm256_unpacklo_epi32(v[0], v[1]);
                let t1 = _mm256_unpackhi_epi32(v[0], v[1]);
                let t2 = _mm256_unpacklo_epi32(v[2], v[3]);
                let t3 = _mm256_unpackhi_epi32(v[2], v[3]);
                mk[4 * q] = _mm256_unpacklo_epi64(t0, t2);
                mk[4 * q + 1] = _mm256_unpackhi_epi64(t0, t2);
                mk[4 * q + 2] = _mm256_unpacklo_epi64(t1, t3);
                mk[4 * q + 3] = _mm256_unpackhi_epi64(t1, t3);
            }
        }
        let (aa, bb, cc, dd) = (a, b, c, d);
        md5_steps!(step8, m, a, b, c, d);
        for k in 0..G {
            a[k] = _mm256_add_epi32(a[k], aa[k]);
            b[k] = _mm256_add_epi32(b[k], bb[k]);
            c[k] = _mm256_add_epi32(c[k], cc[k]);
            d[k] = _mm256_add_epi32(d[k], dd[k]);
        }
    }
    let mut s = [[0u32; 16]; 4];
    for (w, vw) in [a, b, c, d].iter().enumerate() {
        for (k, x) in vw.iter().enumerate() {
            // SAFETY: as for the loads above.
            unsafe { _mm256_storeu_si256(s[w][8 * k..].as_mut_ptr().cast(), *x) };
        }
    }
    join_states(&s, states);
}
