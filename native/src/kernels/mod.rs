//! GF(2^8) matrix times shards: `out[r] = sum_c coeff[r][c] * in[c]` over byte slices, the one
//! operation behind both encoding (parity rows) and reconstruction (inverted rows).
//!
//! Each kernel walks the shards once, keeping a group of outputs in registers, so every input byte
//! is loaded once per group and every output byte stored once. The kernel family is chosen at run
//! time (`simd::level`).

#[cfg(target_arch = "aarch64")]
mod neon;
mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::gf;
use crate::simd::Level;

/// A coefficient matrix with the tables every kernel family needs, prepared once.
pub struct Coeffs {
    rows: usize,
    cols: usize,
    raw: Vec<u8>,
    nibbles: Vec<[u8; 64]>,
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    gfni: Vec<u64>,
}

impl Coeffs {
    /// `raw` is row-major, `rows * cols` coefficients.
    pub fn new(rows: usize, cols: usize, raw: Vec<u8>) -> Coeffs {
        assert_eq!(raw.len(), rows * cols);
        let nibbles = raw.iter().map(|&c| gf::nibble_tables(c)).collect();
        let gfni = raw.iter().map(|&c| gf::gfni_matrix(c)).collect();
        Coeffs { rows, cols, raw, nibbles, gfni }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    pub fn get(&self, r: usize, c: usize) -> u8 {
        self.raw[r * self.cols + c]
    }
}

/// Outputs of one pass, for the kernels that keep them in registers: how many at most.
fn group_size(level: Level) -> usize {
    match level {
        Level::Avx512Gfni | Level::Neon => 8,
        Level::Gfni256 => 6,
        Level::Avx2 | Level::Ssse3 => 4,
        Level::Scalar => 1,
    }
}

/// Bytes per shard handled before moving to the next group of outputs, so that with more outputs
/// than one group holds the inputs are read again from cache, not memory.
const SEGMENT: usize = 16 * 1024;

/// `outputs[r] = sum_c coeffs[r][c] * inputs[c]`, all slices of one length.
///
/// Panics if the shapes disagree; `level` must be supported by this CPU (see `simd`).
pub fn mul_into(level: Level, coeffs: &Coeffs, inputs: &[&[u8]], outputs: &mut [&mut [u8]]) {
    assert_eq!(inputs.len(), coeffs.cols, "one input per column");
    assert_eq!(outputs.len(), coeffs.rows, "one output per row");
    if coeffs.rows == 0 {
        return;
    }
    let n = outputs[0].len();
    assert!(inputs.iter().all(|s| s.len() == n) && outputs.iter().all(|s| s.len() == n));
    if n == 0 {
        return;
    }
    if coeffs.cols == 0 {
        outputs.iter_mut().for_each(|o| o.fill(0));
        return;
    }
    let ins: Vec<*const u8> = inputs.iter().map(|s| s.as_ptr()).collect();
    let outs: Vec<*mut u8> = outputs.iter_mut().map(|s| s.as_mut_ptr()).collect();
    let g = group_size(level);
    let seg = if coeffs.rows <= g { n } else { SEGMENT };
    let mut start = 0;
    while start < n {
        let end = (start + seg).min(n);
        let mut r0 = 0;
        while r0 < coeffs.rows {
            let rows = (coeffs.rows - r0).min(g);
            // SAFETY: every pointer addresses `n` bytes (checked above), `start..end` is within
            // them, the outputs are distinct `&mut` slices, and `level` is supported by the CPU.
            unsafe { run(level, coeffs, r0, rows, &ins, &outs[r0..r0 + rows], start, end) };
            r0 += rows;
        }
        start = end;
    }
}

#[allow(clippy::too_many_arguments)]
unsafe fn run(
    level: Level,
    c: &Coeffs,
    r0: usize,
    rows: usize,
    ins: &[*const u8],
    outs: &[*mut u8],
    start: usize,
    end: usize,
) {
    // The vector kernels without masked loads: the scalar kernel takes the bytes before the
    // inputs reach vector alignment (so slices of one block load whole cache lines) and the tail.
    let aligned =
        |width: usize| start + ((width - (ins[0] as usize + start) % width) % width).min(end - start);
    let done = match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512Gfni => {
            x86::avx512_gfni(&c.gfni, c.cols, r0, rows, ins, outs, start, end);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        Level::Gfni256 => {
            let a = aligned(32);
            scalar::mul_rows(&c.raw, c.cols, r0, rows, ins, outs, start, a);
            x86::gfni256(&c.gfni, c.cols, r0, rows, ins, outs, a, end)
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 => {
            let a = aligned(32);
            scalar::mul_rows(&c.raw, c.cols, r0, rows, ins, outs, start, a);
            x86::avx2(&c.nibbles, c.cols, r0, rows, ins, outs, a, end)
        }
        #[cfg(target_arch = "x86_64")]
        Level::Ssse3 => {
            let a = aligned(16);
            scalar::mul_rows(&c.raw, c.cols, r0, rows, ins, outs, start, a);
            x86::ssse3(&c.nibbles, c.cols, r0, rows, ins, outs, a, end)
        }
        #[cfg(target_arch = "aarch64")]
        Level::Neon => {
            let a = aligned(16);
            scalar::mul_rows(&c.raw, c.cols, r0, rows, ins, outs, start, a);
            neon::neon(&c.nibbles, c.cols, r0, rows, ins, outs, a, end)
        }
        _ => start,
    };
    scalar::mul_rows(&c.raw, c.cols, r0, rows, ins, outs, done, end);
}

/// Expands to a `match` calling `$f::<G>` for the group size `G = $g` (1..=8).
macro_rules! dispatch_group {
    ($g:expr, $f:ident, $($arg:expr),*) => {
        match $g {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            5 => $f::<5>($($arg),*),
            6 => $f::<6>($($arg),*),
            7 => $f::<7>($($arg),*),
            _ => $f::<8>($($arg),*),
        }
    };
}
#[allow(unused_imports)]
pub(crate) use dispatch_group;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::supported_levels;

    fn reference(c: &Coeffs, inputs: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let n = inputs[0].len();
        (0..c.rows)
            .map(|r| {
                (0..n)
                    .map(|j| (0..c.cols).fold(0u8, |acc, i| acc ^ gf::mul(c.get(r, i), inputs[i][j])))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_level_matches_the_reference_for_many_shapes_and_lengths() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        };
        for &(rows, cols) in &[(1, 1), (2, 4), (4, 8), (3, 5), (9, 3), (17, 20), (8, 8), (5, 1)] {
            for &n in &[1usize, 15, 16, 31, 32, 33, 63, 64, 65, 127, 200, 1000, 16 * 1024 + 77] {
                let raw: Vec<u8> = (0..rows * cols).map(|_| rnd()).collect();
                let c = Coeffs::new(rows, cols, raw);
                let inputs: Vec<Vec<u8>> = (0..cols).map(|_| (0..n).map(|_| rnd()).collect()).collect();
                let want = reference(&c, &inputs);
                for level in supported_levels() {
                    let ins: Vec<&[u8]> = inputs.iter().map(|v| v.as_slice()).collect();
                    let mut out = vec![vec![0xAAu8; n]; rows];
                    let mut outs: Vec<&mut [u8]> = out.iter_mut().map(|v| v.as_mut_slice()).collect();
                    mul_into(level, &c, &ins, &mut outs);
                    assert_eq!(out, want, "level {level:?} rows {rows} cols {cols} n {n}");
                }
            }
        }
    }
}
