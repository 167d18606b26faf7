//! Run-time choice of the SIMD kernels.
//!
//! Nothing is compiled for a fixed CPU: every accelerated kernel is a `#[target_feature]` function
//! chosen here after asking the CPU what it supports, so one prebuilt binary runs everywhere on its
//! platform. `CAIRN_SIMD` caps the level (e.g. `CAIRN_SIMD=scalar` forces the portable fallback), which
//! is how the tests and CI exercise every path on one machine.

use std::sync::OnceLock;

/// The kernel families, weakest first; a level may be used only if the CPU supports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Portable Rust: a 64 KiB multiplication table.
    Scalar,
    /// x86-64 SSSE3: 16-byte PSHUFB nibble tables.
    Ssse3,
    /// x86-64 AVX2: 32-byte VPSHUFB nibble tables.
    Avx2,
    /// x86-64 GFNI on 256-bit vectors (AVX2 + GFNI): one GF2P8AFFINEQB per coefficient.
    Gfni256,
    /// x86-64 AVX-512BW + GFNI: 512-bit GF2P8AFFINEQB and masked tails.
    Avx512Gfni,
    /// arm64 NEON: TBL nibble tables.
    Neon,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Ssse3 => "ssse3",
            Level::Avx2 => "avx2",
            Level::Gfni256 => "gfni256",
            Level::Avx512Gfni => "avx512gfni",
            Level::Neon => "neon",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "scalar" | "portable" | "none" | "generic" => Level::Scalar,
            "ssse3" => Level::Ssse3,
            "avx2" => Level::Avx2,
            "gfni" | "gfni256" => Level::Gfni256,
            "avx512" | "avx512gfni" => Level::Avx512Gfni,
            "neon" => Level::Neon,
            _ => return None,
        })
    }
}

/// Every level this CPU can run, weakest first (always starts with `Scalar`).
pub fn supported_levels() -> Vec<Level> {
    #[allow(unused_mut)]
    let mut v = vec![Level::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("ssse3") {
            v.push(Level::Ssse3);
        }
        if is_x86_feature_detected!("avx2") {
            v.push(Level::Avx2);
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("gfni") {
            v.push(Level::Gfni256);
        }
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("gfni")
        {
            v.push(Level::Avx512Gfni);
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push(Level::Neon);
        }
    }
    v
}

/// The best supported level at or below `cap`.
pub fn best_at_most(cap: Level) -> Level {
    supported_levels().into_iter().filter(|l| *l <= cap).max().unwrap_or(Level::Scalar)
}

/// The level in use: the best the CPU supports, capped by `CAIRN_SIMD` when it is set.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = *supported_levels().last().unwrap_or(&Level::Scalar);
        match std::env::var("CAIRN_SIMD") {
            Ok(s) if !s.is_empty() => match Level::parse(&s) {
                Some(cap) => best_at_most(cap),
                None => best,
            },
            _ => best,
        }
    })
}
