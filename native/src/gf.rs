//! GF(2^8) arithmetic (polynomial 0x11D, as klauspost/reedsolomon and reed-solomon-erasure use) and
//! the per-coefficient tables the SIMD kernels consume.

use reed_solomon_erasure::galois_8;
use std::sync::OnceLock;

#[inline]
pub fn mul(a: u8, b: u8) -> u8 {
    galois_8::mul(a, b)
}

/// The full 256x256 product table for the portable kernel (64 KiB, built once).
pub fn mul_table() -> &'static [[u8; 256]; 256] {
    static TABLE: OnceLock<Box<[[u8; 256]; 256]>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new([[0u8; 256]; 256]);
        for (c, row) in t.iter_mut().enumerate() {
            for (x, v) in row.iter_mut().enumerate() {
                *v = mul(c as u8, x as u8);
            }
        }
        t
    })
}

/// PSHUFB/TBL tables for multiplying by `c`: `lo[i] = c * i`, `hi[i] = c * (i << 4)`, each
/// repeated twice so a 256-bit load gets the table in both lanes.
pub fn nibble_tables(c: u8) -> [u8; 64] {
    let mut t = [0u8; 64];
    for i in 0..16u8 {
        let lo = mul(c, i);
        let hi = mul(c, i << 4);
        t[i as usize] = lo;
        t[16 + i as usize] = lo;
        t[32 + i as usize] = hi;
        t[48 + i as usize] = hi;
    }
    t
}

/// The 8x8 bit matrix for GF2P8AFFINEQB that multiplies a byte by `c` in our field.
///
/// Multiplication by a constant is GF(2)-linear, so it is an affine map with a zero constant. The
/// instruction computes result bit `i` as the parity of `x & matrix.byte[7 - i]`, so byte `7 - i`
/// holds, for each input bit `j`, bit `i` of `c * 2^j`.
pub fn gfni_matrix(c: u8) -> u64 {
    let mut m = 0u64;
    for i in 0..8 {
        let mut row = 0u8;
        for j in 0..8 {
            if (mul(c, 1 << j) >> i) & 1 == 1 {
                row |= 1 << j;
            }
        }
        m |= (row as u64) << (8 * (7 - i));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn affine(m: u64, x: u8) -> u8 {
        let mut r = 0u8;
        for i in 0..8 {
            let row = (m >> (8 * (7 - i))) as u8;
            r |= (((row & x).count_ones() & 1) as u8) << i;
        }
        r
    }

    #[test]
    fn gfni_matrix_multiplies_like_the_table() {
        for c in 0..=255u8 {
            let m = gfni_matrix(c);
            for x in 0..=255u8 {
                assert_eq!(affine(m, x), mul(c, x), "c={c} x={x}");
            }
        }
    }

    #[test]
    fn nibble_tables_multiply_like_the_table() {
        for c in 0..=255u8 {
            let t = nibble_tables(c);
            for x in 0..=255u8 {
                assert_eq!(t[(x & 15) as usize] ^ t[32 + (x >> 4) as usize], mul(c, x));
            }
        }
    }
}
