//! The portable kernel, and the tail of the vector kernels.

use crate::gf;

/// Rows `r0..r0 + outs.len()` of `raw` (row-major, `cols` wide) times the inputs, bytes `start..end`.
///
/// # Safety
/// Every pointer must address at least `end` bytes; outputs must not overlap inputs or each other.
#[allow(clippy::too_many_arguments)]
pub unsafe fn mul_rows(
    raw: &[u8],
    cols: usize,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) {
    if start >= end {
        return;
    }
    let table = gf::mul_table();
    let len = end - start;
    for (o, &out) in outs.iter().enumerate().take(rows) {
        let out = std::slice::from_raw_parts_mut(out.add(start), len);
        let row = &raw[(r0 + o) * cols..(r0 + o + 1) * cols];
        for (i, (&c, &inp)) in row.iter().zip(ins).enumerate() {
            let inp = std::slice::from_raw_parts(inp.add(start), len);
            let t = &table[c as usize];
            if i == 0 {
                out.iter_mut().zip(inp).for_each(|(d, &s)| *d = t[s as usize]);
            } else {
                out.iter_mut().zip(inp).for_each(|(d, &s)| *d ^= t[s as usize]);
            }
        }
    }
}
