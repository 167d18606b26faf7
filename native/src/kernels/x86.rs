//! x86-64 kernels. Each handles whole vectors and returns where it stopped; the caller finishes the
//! tail with the scalar kernel (AVX-512 needs no tail: it masks the last vector).
//!
//! # Safety (all functions)
//! The CPU must support the named target features; every input and output pointer must address at
//! least `end` bytes; outputs must not overlap the inputs or each other.

// Kernels index several per-row arrays (pointers, matrices, accumulators) by one counter.
#![allow(clippy::needless_range_loop)]

use super::dispatch_group;
use std::arch::x86_64::*;

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,gfni")]
pub unsafe fn avx512_gfni(
    mats: &[u64],
    cols: usize,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) {
    dispatch_group!(rows, avx512_gfni_g, mats, cols, r0, ins, outs, start, end)
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,gfni")]
unsafe fn avx512_gfni_g<const G: usize>(
    mats: &[u64],
    cols: usize,
    r0: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) {
    // Inputs in groups of at most 8, with their matrices and pointers held in registers; groups
    // after the first add into the outputs (the sum is linear).
    let mut i0 = 0;
    while i0 < ins.len() {
        let n = (ins.len() - i0).min(8);
        let first = i0 == 0;
        match n {
            1 => avx512_gfni_kg::<1, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            2 => avx512_gfni_kg::<2, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            3 => avx512_gfni_kg::<3, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            4 => avx512_gfni_kg::<4, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            5 => avx512_gfni_kg::<5, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            6 => avx512_gfni_kg::<6, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            7 => avx512_gfni_kg::<7, G>(mats, cols, r0, i0, ins, outs, start, end, first),
            _ => avx512_gfni_kg::<8, G>(mats, cols, r0, i0, ins, outs, start, end, first),
        }
        i0 += n;
    }
}

#[allow(clippy::too_many_arguments)]
#[inline]
#[target_feature(enable = "avx512f,avx512bw,gfni")]
unsafe fn avx512_gfni_kg<const K: usize, const G: usize>(
    mats: &[u64],
    cols: usize,
    r0: usize,
    i0: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
    first: bool,
) {
    let mut m = [[_mm512_setzero_si512(); G]; K];
    let mut p = [std::ptr::null::<u8>(); K];
    for i in 0..K {
        p[i] = ins[i0 + i];
        for o in 0..G {
            m[i][o] = _mm512_set1_epi64(*mats.get_unchecked((r0 + o) * cols + i0 + i) as i64);
        }
    }
    let mut q = [std::ptr::null_mut::<u8>(); G];
    q.copy_from_slice(&outs[..G]);
    // A short first step brings the inputs to 64-byte alignment, so that (when the shards share
    // one alignment, as slices of one block do) no load splits a cache line.
    let head = (64 - (p[0] as usize + start) % 64) % 64;
    let mut pos = start;
    let mut step = if head == 0 { 64 } else { head };
    while pos < end {
        let rem = (end - pos).min(step);
        step = 64;
        let mask: __mmask64 = if rem >= 64 { !0 } else { (1u64 << rem) - 1 };
        let mut acc = [_mm512_setzero_si512(); G];
        if !first {
            for o in 0..G {
                acc[o] = _mm512_maskz_loadu_epi8(mask, q[o].add(pos) as *const i8);
            }
        }
        for i in 0..K {
            let x = _mm512_maskz_loadu_epi8(mask, p[i].add(pos) as *const i8);
            for o in 0..G {
                acc[o] = _mm512_xor_si512(acc[o], _mm512_gf2p8affine_epi64_epi8::<0>(x, m[i][o]));
            }
        }
        for o in 0..G {
            _mm512_mask_storeu_epi8(q[o].add(pos) as *mut i8, mask, acc[o]);
        }
        pos += rem;
    }
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,gfni")]
pub unsafe fn gfni256(
    mats: &[u64],
    cols: usize,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    dispatch_group!(rows, gfni256_g, mats, cols, r0, ins, outs, start, end)
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,gfni")]
unsafe fn gfni256_g<const G: usize>(
    mats: &[u64],
    cols: usize,
    r0: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    let mut pos = start;
    while pos + 32 <= end {
        let mut acc = [_mm256_setzero_si256(); G];
        for (i, &p) in ins.iter().enumerate() {
            let x = _mm256_loadu_si256(p.add(pos) as *const __m256i);
            for (o, a) in acc.iter_mut().enumerate() {
                let m = _mm256_set1_epi64x(*mats.get_unchecked((r0 + o) * cols + i) as i64);
                *a = _mm256_xor_si256(*a, _mm256_gf2p8affine_epi64_epi8::<0>(x, m));
            }
        }
        for (o, a) in acc.iter().enumerate() {
            _mm256_storeu_si256(outs[o].add(pos) as *mut __m256i, *a);
        }
        pos += 32;
    }
    pos
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
pub unsafe fn avx2(
    tables: &[[u8; 64]],
    cols: usize,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    dispatch_group!(rows, avx2_g, tables, cols, r0, ins, outs, start, end)
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
unsafe fn avx2_g<const G: usize>(
    tables: &[[u8; 64]],
    cols: usize,
    r0: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    let nib = _mm256_set1_epi8(0x0f);
    let mut pos = start;
    while pos + 32 <= end {
        let mut acc = [_mm256_setzero_si256(); G];
        for (i, &p) in ins.iter().enumerate() {
            let x = _mm256_loadu_si256(p.add(pos) as *const __m256i);
            let lo = _mm256_and_si256(x, nib);
            let hi = _mm256_and_si256(_mm256_srli_epi64::<4>(x), nib);
            for (o, a) in acc.iter_mut().enumerate() {
                let t = tables.get_unchecked((r0 + o) * cols + i).as_ptr();
                let tl = _mm256_loadu_si256(t as *const __m256i);
                let th = _mm256_loadu_si256(t.add(32) as *const __m256i);
                let prod = _mm256_xor_si256(_mm256_shuffle_epi8(tl, lo), _mm256_shuffle_epi8(th, hi));
                *a = _mm256_xor_si256(*a, prod);
            }
        }
        for (o, a) in acc.iter().enumerate() {
            _mm256_storeu_si256(outs[o].add(pos) as *mut __m256i, *a);
        }
        pos += 32;
    }
    pos
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "ssse3")]
pub unsafe fn ssse3(
    tables: &[[u8; 64]],
    cols: usize,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    dispatch_group!(rows, ssse3_g, tables, cols, r0, ins, outs, start, end)
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "ssse3")]
unsafe fn ssse3_g<const G: usize>(
    tables: &[[u8; 64]],
    cols: usize,
    r0: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    let nib = _mm_set1_epi8(0x0f);
    let mut pos = start;
    while pos + 16 <= end {
        let mut acc = [_mm_setzero_si128(); G];
        for (i, &p) in ins.iter().enumerate() {
            let x = _mm_loadu_si128(p.add(pos) as *const __m128i);
            let lo = _mm_and_si128(x, nib);
            let hi = _mm_and_si128(_mm_srli_epi64::<4>(x), nib);
            for (o, a) in acc.iter_mut().enumerate() {
                let t = tables.get_unchecked((r0 + o) * cols + i).as_ptr();
                let tl = _mm_loadu_si128(t as *const __m128i);
                let th = _mm_loadu_si128(t.add(32) as *const __m128i);
                let prod = _mm_xor_si128(_mm_shuffle_epi8(tl, lo), _mm_shuffle_epi8(th, hi));
                *a = _mm_xor_si128(*a, prod);
            }
        }
        for (o, a) in acc.iter().enumerate() {
            _mm_storeu_si128(outs[o].add(pos) as *mut __m128i, *a);
        }
        pos += 16;
    }
    pos
}
