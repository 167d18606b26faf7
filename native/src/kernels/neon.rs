//! arm64 NEON kernel: TBL on nibble tables. Returns where it stopped; the caller finishes the tail.
//!
//! # Safety
//! Every input and output pointer must address at least `end` bytes; outputs must not overlap the
//! inputs or each other.

use super::dispatch_group;
use std::arch::aarch64::*;

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "neon")]
pub unsafe fn neon(
    tables: &[[u8; 64]],
    cols: usize,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    dispatch_group!(rows, neon_g, tables, cols, r0, ins, outs, start, end)
}

#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "neon")]
unsafe fn neon_g<const G: usize>(
    tables: &[[u8; 64]],
    cols: usize,
    r0: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) -> usize {
    let nib = vdupq_n_u8(0x0f);
    let mut pos = start;
    while pos + 16 <= end {
        let mut acc = [vdupq_n_u8(0); G];
        for (i, &p) in ins.iter().enumerate() {
            let x = vld1q_u8(p.add(pos));
            let lo = vandq_u8(x, nib);
            let hi = vshrq_n_u8::<4>(x);
            for (o, a) in acc.iter_mut().enumerate() {
                let t = tables.get_unchecked((r0 + o) * cols + i).as_ptr();
                let prod = veorq_u8(vqtbl1q_u8(vld1q_u8(t), lo), vqtbl1q_u8(vld1q_u8(t.add(32)), hi));
                *a = veorq_u8(*a, prod);
            }
        }
        for (o, a) in acc.iter().enumerate() {
            vst1q_u8(outs[o].add(pos), *a);
        }
        pos += 16;
    }
    pos
}
