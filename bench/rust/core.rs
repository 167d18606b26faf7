//! Criterion benches of Cairn's native core on one core: Reed-Solomon encode, encode + bitrot hash,
//! reconstruct, the bitrot hashes alone, and a memcpy baseline, all over 1 MiB blocks.
//!
//!     cargo bench --manifest-path native/Cargo.toml --bench core --no-default-features
//!
//! GB/s is 1e9 bytes of the 1 MiB block (data, not parity) per second, as in `bench/go`, so the
//! figures sit beside klauspost/reedsolomon's. `bench/native.bench.ts` reads the estimates criterion
//! leaves in `target/criterion/<group>/<id>/new/estimates.json`; keep the ids stable.
//!
//! Memory layout is part of the measurement. Every buffer here is 64-byte aligned and the parity
//! sits 2 KiB away (mod 4 KiB) from the data: a parity store whose address matches a later data
//! load in bits 0..12 makes the load wait on the store (4K aliasing), and a shard that starts
//! off a cache line splits every 64-byte load in two. The `layout` group shows what the other
//! layouts cost; `bench/README.md` has the figures.

use cairn_native::bitrot::{Algorithm, HashSpec, DIGEST_LEN};
use cairn_native::erasure::Erasure;
use cairn_native::simd::{self, Level};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

const BLOCK: usize = 1 << 20;
const PAGE: usize = 4096;
const SHAPES: [(usize, usize); 3] = [(4, 2), (8, 4), (12, 4)];

/// Lost shards for every reconstruct bench: the first two data shards (as in `bench/go`).
const LOST: [usize; 2] = [0, 1];

fn shape_name(k: usize, m: usize) -> String {
    format!("{k}+{m}")
}

/// Zeroed memory whose slice starts on a 4 KiB boundary, so an offset into it is also its address
/// mod 4096 (`Vec<u8>` only promises 1-byte alignment; glibc hands out 16 mod 4096 for big blocks).
struct Arena {
    buf: Vec<u8>,
    base: usize,
}

impl Arena {
    fn new(len: usize) -> Arena {
        let buf = vec![0u8; len + PAGE];
        let base = buf.as_ptr().align_offset(PAGE);
        Arena { buf, base }
    }

    fn bytes(&mut self) -> &mut [u8] {
        &mut self.buf[self.base..]
    }
}

/// Disjoint slices of `buf`, `(offset, length)` each (any order), returned in the order given.
fn carve<'a>(buf: &'a mut [u8], parts: &[(usize, usize)]) -> Vec<&'a mut [u8]> {
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| parts[i].0);
    let mut out: Vec<Option<&'a mut [u8]>> = (0..parts.len()).map(|_| None).collect();
    let mut rest = buf;
    let mut at = 0;
    for i in order {
        let (off, len) = parts[i];
        assert!(off >= at, "carve: slices overlap");
        let (_, tail) = rest.split_at_mut(off - at);
        let (s, tail) = tail.split_at_mut(len);
        out[i] = Some(s);
        rest = tail;
        at = off + len;
    }
    out.into_iter().map(|s| s.expect("every part carved")).collect()
}

/// `len`-byte slices of `buf` at `offsets`.
fn carve_same<'a>(buf: &'a mut [u8], offsets: &[usize], len: usize) -> Vec<&'a mut [u8]> {
    carve(buf, &offsets.iter().map(|&o| (o, len)).collect::<Vec<_>>())
}

/// Where one block's shards live, as offsets from a 4 KiB boundary.
#[derive(Clone, Copy)]
struct Layout {
    /// Offset of the first data shard.
    data: usize,
    /// Offset of the first parity shard, counted from the end of the data rounded up to 4 KiB.
    parity: usize,
    /// Shards given one by one (`encode_parity`, `reconstruct`) start `skew` bytes after the
    /// previous one's end rounded up to 64 bytes.
    skew: usize,
}

impl Layout {
    /// 64-byte aligned, parity 2 KiB off the data mod 4 KiB: the layout every bench uses.
    const GOOD: Layout = Layout { data: 0, parity: 2048, skew: 0 };

    /// `k` data shards, then `m` parity shards, `s` bytes each: offsets of all `k + m` in a fresh
    /// arena, and its size.
    fn offsets(self, k: usize, m: usize, s: usize) -> (Vec<usize>, usize) {
        let stride = s.next_multiple_of(64) + self.skew;
        let mut offs: Vec<usize> = (0..k).map(|i| self.data + i * stride).collect();
        let p0 = (self.data + k * stride).next_multiple_of(PAGE) + self.parity;
        offs.extend((0..m).map(|j| p0 + j * stride));
        (offs, p0 + m * stride)
    }
}

/// Deterministic, incompressible-looking bytes (xorshift).
fn fill(buf: &mut [u8], mut seed: u64) {
    for b in buf {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *b = (seed >> 24) as u8;
    }
}

fn highway() -> HashSpec {
    HashSpec::new(Algorithm::HighwayHash256, None)
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(25)
        .configure_from_args()
}

/// `Erasure::encode_blocks` over one contiguous block of `len` bytes into contiguous parity (what
/// the JS `encode` runs), with the block laid out as `layout` says.
fn bench_encode_blocks(
    b: &mut criterion::Bencher<'_>,
    coder: &Erasure,
    level: Level,
    layout: Layout,
    len: usize,
    hash: Option<&HashSpec>,
) {
    let (k, m) = (coder.data_shards(), coder.parity_shards());
    let plen = coder.parity_len(len, len);
    let p0 = (layout.data + len).next_multiple_of(PAGE) + layout.parity;
    let mut arena = Arena::new(p0 + plen);
    let bufs = carve(arena.bytes(), &[(layout.data, len), (p0, plen)]);
    let [data, parity]: [&mut [u8]; 2] = bufs.try_into().expect("two buffers");
    fill(data, 0x5eed);
    let mut hashes = vec![0u8; (k + m) * DIGEST_LEN];
    b.iter(|| {
        let h = hash.map(|s| (s, &mut hashes[..]));
        coder.encode_blocks(level, black_box(&*data), len, parity, h).expect("encode");
    });
}

/// `Erasure::encode_parity` over `k` shard slices (what the JS `encodeShards` runs; the same input
/// as klauspost's `Encode` after `Split`).
fn bench_encode_shards(b: &mut criterion::Bencher<'_>, coder: &Erasure, level: Level, layout: Layout) {
    let (k, m) = (coder.data_shards(), coder.parity_shards());
    let s = coder.shard_size(BLOCK);
    let (offs, size) = layout.offsets(k, m, s);
    let mut arena = Arena::new(size);
    let mut shards = carve_same(arena.bytes(), &offs, s);
    for (i, sh) in shards[..k].iter_mut().enumerate() {
        fill(sh, 7 + i as u64);
    }
    let (data, parity) = shards.split_at_mut(k);
    let data: Vec<&[u8]> = data.iter().map(|d| &**d).collect();
    b.iter(|| coder.encode_parity(level, black_box(&data), parity).expect("encode"));
}

/// `Erasure::reconstruct` of data shards 0 and 1 from the other `k` (shards 2.. and the first two
/// parity shards).
fn bench_reconstruct(b: &mut criterion::Bencher<'_>, coder: &Erasure, level: Level, layout: Layout) {
    let (k, m) = (coder.data_shards(), coder.parity_shards());
    let s = coder.shard_size(BLOCK);
    let (offs, size) = layout.offsets(k, m, s);
    let mut arena = Arena::new(size);
    let mut shards = carve_same(arena.bytes(), &offs, s);
    for (i, sh) in shards[..k].iter_mut().enumerate() {
        fill(sh, 7 + i as u64);
    }
    {
        let (data, parity) = shards.split_at_mut(k);
        let data: Vec<&[u8]> = data.iter().map(|d| &**d).collect();
        coder.encode_parity(level, &data, parity).expect("encode");
    }
    let want: Vec<Vec<u8>> = LOST.iter().map(|&i| shards[i].to_vec()).collect();
    let mut views: Vec<Option<&mut [u8]>> = shards.into_iter().map(Some).collect();
    for &i in &LOST {
        views[i].as_deref_mut().expect("lost shard buffer").fill(0);
    }
    coder.reconstruct(level, &mut views, &LOST).expect("reconstruct");
    for (w, &i) in want.iter().zip(&LOST) {
        assert!(views[i].as_deref() == Some(&w[..]), "reconstruct at {level:?} is wrong");
    }
    b.iter(|| coder.reconstruct(level, black_box(&mut views), &LOST).expect("reconstruct"));
}

fn erasure(c: &mut Criterion) {
    let best = simd::level();
    eprintln!("cairn bench: SIMD level {} (supported: {:?})", best.name(), simd::supported_levels());
    let spec = highway();
    for (group, op) in [("encode", 0), ("encode_shards", 1), ("encode_hash", 2), ("reconstruct", 3)] {
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::BytesDecimal(BLOCK as u64));
        for (k, m) in SHAPES {
            let coder = Erasure::new(k, m).expect("shape");
            g.bench_function(shape_name(k, m), |b| match op {
                0 => bench_encode_blocks(b, &coder, best, Layout::GOOD, BLOCK, None),
                1 => bench_encode_shards(b, &coder, best, Layout::GOOD),
                2 => bench_encode_blocks(b, &coder, best, Layout::GOOD, BLOCK, Some(&spec)),
                _ => bench_reconstruct(b, &coder, best, Layout::GOOD),
            });
        }
        g.finish();
    }
}

/// 8+4 at every weaker level the CPU supports: what run-time dispatch buys.
fn dispatch(c: &mut Criterion) {
    let best = simd::level();
    let coder = Erasure::new(8, 4).expect("shape");
    let mut g = c.benchmark_group("dispatch");
    g.throughput(Throughput::BytesDecimal(BLOCK as u64));
    for level in simd::supported_levels().into_iter().filter(|&l| l < best) {
        g.bench_function(BenchmarkId::new("encode/8+4", level.name()), |b| {
            bench_encode_blocks(b, &coder, level, Layout::GOOD, BLOCK, None)
        });
    }
    for level in [Level::Avx2, Level::Scalar] {
        if simd::supported_levels().contains(&level) && level < best {
            g.bench_function(BenchmarkId::new("reconstruct/8+4", level.name()), |b| {
                bench_reconstruct(b, &coder, level, Layout::GOOD)
            });
        }
    }
    g.finish();
}

/// 8+4 `encode_blocks` at the best level with the block and parity placed differently.
fn layout(c: &mut Criterion) {
    let best = simd::level();
    let coder = Erasure::new(8, 4).expect("shape");
    let mut g = c.benchmark_group("layout");
    g.throughput(Throughput::BytesDecimal(BLOCK as u64));
    let cases = [
        // The layout every other bench uses.
        ("aligned_parity_2k_off", Layout::GOOD),
        // Both 64-byte aligned, parity at the data's offset mod 4 KiB.
        ("aligned_same_4k_offset", Layout { data: 0, parity: 0, skew: 0 }),
        // Parity one cache line past the data mod 4 KiB: each store aliases the next loads.
        ("aligned_parity_64_off", Layout { data: 0, parity: 64, skew: 0 }),
        // What two plain `vec![0u8; n]` of this size get from glibc (mmap'd chunks): both at 16
        // mod 4096, so 16 bytes off a cache line and at the same 4 KiB offset.
        ("encode_unaligned_same_4k_offset", Layout { data: 16, parity: 16, skew: 0 }),
        // 16-byte misaligned like malloc, but parity 2 KiB away: the misalignment alone.
        ("unaligned_parity_2k_off", Layout { data: 16, parity: 16 + 2048, skew: 0 }),
    ];
    for (name, layout) in cases {
        g.bench_function(name, |b| bench_encode_blocks(b, &coder, best, layout, BLOCK, None));
    }
    // Shards given one by one, each 16 bytes further off a cache line than the one before (as
    // separately allocated Buffers may be): the kernel can align only one stream's loads.
    let skewed = Layout { data: 0, parity: 2048, skew: 16 };
    g.bench_function("shards_misaligned_16_each", |b| bench_encode_shards(b, &coder, best, skewed));
    g.finish();
}

/// 8+4 over 64 KiB, the size below which `src/native.ts` runs calls inline: the Rust side of the
/// binding's per-call overhead at that size.
fn small(c: &mut Criterion) {
    const SMALL: usize = 64 * 1024;
    let coder = Erasure::new(8, 4).expect("shape");
    let mut g = c.benchmark_group("encode_64k");
    g.throughput(Throughput::BytesDecimal(SMALL as u64));
    g.bench_function("8+4", |b| bench_encode_blocks(b, &coder, simd::level(), Layout::GOOD, SMALL, None));
    g.finish();
}

fn hashes(c: &mut Criterion) {
    let mut arena = Arena::new(BLOCK);
    let data = &mut arena.bytes()[..BLOCK];
    fill(data, 42);
    let mut g = c.benchmark_group("hash");
    g.throughput(Throughput::BytesDecimal(BLOCK as u64));
    for (name, spec) in [("highwayhash256", highway()), ("blake3", HashSpec::new(Algorithm::Blake3, None))] {
        g.bench_function(name, |b| b.iter(|| spec.digest(black_box(data))));
    }
    g.finish();
}

/// The floor to read the rest against: one pass reading 1 MiB and writing 1 MiB.
fn memcpy(c: &mut Criterion) {
    let mut arena = Arena::new(2 * BLOCK + 2048);
    let bufs = carve_same(arena.bytes(), &[0, BLOCK + 2048], BLOCK);
    let [src, dst]: [&mut [u8]; 2] = bufs.try_into().expect("two buffers");
    fill(src, 1);
    let mut g = c.benchmark_group("memcpy");
    g.throughput(Throughput::BytesDecimal(BLOCK as u64));
    g.bench_function("1MiB", |b| b.iter(|| dst.copy_from_slice(black_box(&*src))));
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = memcpy, erasure, small, dispatch, layout, hashes
}
criterion_main!(benches);
