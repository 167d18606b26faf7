//! Tests of every supported path against the RustCrypto `md-5` crate, and an ignored benchmark:
//! `cargo test --release -p cairn-native md5x -- --ignored --nocapture`.

use super::*;
use md5::Digest;

/// splitmix64: deterministic test data without new dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn reference_compress(state: &mut [u32; 4], data: &[u8]) {
    let (blocks, rest) = data.as_chunks::<64>();
    assert!(rest.is_empty());
    md5::block_api::compress(state, blocks);
}

fn reference_digest(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

fn hex(d: [u8; 16]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn k_is_the_sine_table() {
    for (i, k) in K.iter().enumerate() {
        assert_eq!(*k, ((i as f64 + 1.0).sin().abs() * 4294967296.0) as u32, "K[{i}]");
    }
}

#[test]
fn rfc1321_vectors() {
    let cases: [(&str, &str); 7] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f",
        ),
        (
            "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
            "57edf4a22be3c955ac49da2e2107b67a",
        ),
    ];
    for (msg, want) in cases {
        let mut h = Md5::new();
        h.update_scalar(msg.as_bytes());
        assert_eq!(hex(h.finalize()), want, "{msg:?}");
        for p in supported_paths() {
            // The same message as one stream among three through update_multi.
            let mut hs = [Md5::new(), Md5::new(), Md5::new()];
            let data: [&[u8]; 3] = [msg.as_bytes(), b"x", msg.as_bytes()];
            update_multi_on(p, &mut hs.iter_mut().collect::<Vec<_>>(), &data);
            assert_eq!(hex(hs[0].finalize()), want, "{p:?} {msg:?}");
            assert_eq!(hex(hs[2].finalize()), want, "{p:?} {msg:?}");
        }
    }
}

#[test]
fn compress_multi_matches_reference_on_every_path() {
    let mut rng = Rng(1);
    let paths = supported_paths();
    println!("md5x paths on this CPU: {paths:?}, in use: {:?} ({} lanes)", path(), lanes());
    for p in paths {
        for n in 1..=17 {
            for len in [0, 64, 128, 64 * 37] {
                let data: Vec<Vec<u8>> = (0..n).map(|_| rng.bytes(len)).collect();
                let blocks: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
                let start: Vec<[u32; 4]> = (0..n).map(|_| [0; 4].map(|_: u32| rng.next() as u32)).collect();
                let mut want = start.clone();
                for (s, d) in want.iter_mut().zip(&blocks) {
                    reference_compress(s, d);
                }
                for scalar_single in [true, false] {
                    let mut got = start.clone();
                    compress_multi_on(p, &mut got, &blocks, scalar_single);
                    assert_eq!(got, want, "{p:?} n={n} len={len} scalar_single={scalar_single}");
                }
            }
        }
    }
    // The public entry point on the selected path.
    let data = rng.bytes(64 * 5);
    let mut got = [INIT; 3];
    compress_multi(&mut got, &[&data, &data, &data]);
    let mut want = INIT;
    compress_one(&mut want, &data);
    assert_eq!(got, [want; 3]);
}

#[test]
fn md5_streaming_matches_reference() {
    let mut rng = Rng(2);
    let mut lens: Vec<usize> = (0..200).collect();
    lens.extend([1000, 4096 + 7, 64 * 1000 + 63, (1 << 20) + 13]);
    for len in lens {
        let data = rng.bytes(len);
        let want = reference_digest(&data);
        for max_piece in [1, 7, 63, 64, 65, 1000] {
            let mut h = Md5::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let k = (1 + rng.below(max_piece)).min(rest.len());
                h.update_scalar(&rest[..k]);
                rest = &rest[k..];
            }
            assert_eq!(h.finalize(), want, "len={len} max_piece={max_piece}");
            assert_eq!(h.len(), len as u64);
        }
    }
}

#[test]
fn update_multi_matches_reference_on_every_path() {
    let mut rng = Rng(3);
    for p in supported_paths() {
        for n in [1, 2, 3, 8, 9, 16, 17, 20] {
            let data: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    let k = rng.below(3000);
                    rng.bytes(k)
                })
                .collect();
            let mut hs: Vec<Md5> = (0..n).map(|_| Md5::new()).collect();
            let mut off = vec![0usize; n];
            // Feed every stream in pieces of random, unequal sizes, several calls each.
            while off.iter().zip(&data).any(|(o, d)| *o < d.len()) {
                let pieces: Vec<&[u8]> = off
                    .iter_mut()
                    .zip(&data)
                    .map(|(o, d)| {
                        let k = rng.below(700).min(d.len() - *o);
                        *o += k;
                        &d[*o - k..*o]
                    })
                    .collect();
                update_multi_on(p, &mut hs.iter_mut().collect::<Vec<_>>(), &pieces);
            }
            for (i, (h, d)) in hs.iter().zip(&data).enumerate() {
                assert_eq!(h.finalize(), reference_digest(d), "{p:?} n={n} stream {i} len {}", d.len());
            }
        }
    }
}

#[test]
fn helper_api_by_hand() {
    // The documented recipe: prefix, whole blocks through compress_multi, tail.
    let mut rng = Rng(4);
    let data = [rng.bytes(1000), rng.bytes(1000)];
    let mut hs = [Md5::new(), Md5::new()];
    for h in hs.iter_mut() {
        h.update_scalar(&[1, 2, 3]);
    }
    let rests: Vec<&[u8]> = hs.iter_mut().zip(&data).map(|(h, d)| h.take_prefix(d)).collect();
    assert!(hs.iter().all(|h| h.is_aligned()));
    let split: Vec<(&[u8], &[u8])> = rests.iter().map(|r| Md5::split_blocks(r)).collect();
    let mut states = [*hs[0].state_mut(), *hs[1].state_mut()];
    compress_multi(&mut states, &[split[0].0, split[1].0]);
    for ((h, s), (mid, tail)) in hs.iter_mut().zip(states).zip(&split) {
        *h.state_mut() = s;
        h.add_len(mid.len() as u64);
        h.update_scalar(tail);
    }
    for (h, d) in hs.iter().zip(&data) {
        let mut all = vec![1, 2, 3];
        all.extend_from_slice(d);
        assert_eq!(h.finalize(), reference_digest(&all));
    }
}

/// Throughput of 1, 2, 4, 8, 16 streams x 1 MiB on every path (best of several runs). With one
/// stream the SIMD kernels run a single lane here (compress_multi itself would use scalar).
#[test]
#[ignore]
fn md5x_throughput() {
    const MIB: usize = 1 << 20;
    let mut rng = Rng(5);
    let data: Vec<Vec<u8>> = (0..16).map(|_| rng.bytes(MIB)).collect();
    let best = |f: &mut dyn FnMut()| {
        (0..7)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::MAX, f64::min)
    };
    let secs = best(&mut || {
        let mut s = INIT;
        reference_compress(&mut s, &data[0]);
        std::hint::black_box(s);
    });
    println!("md-5 crate, 1 stream: {:.0} MB/s", MIB as f64 / secs / 1e6);
    println!("{:<8} {:>7} {:>14} {:>12}", "path", "streams", "MB/s/stream", "MB/s total");
    for p in supported_paths() {
        for n in [1, 2, 4, 8, 16] {
            let blocks: Vec<&[u8]> = data[..n].iter().map(|d| d.as_slice()).collect();
            let secs = best(&mut || {
                let mut states = vec![INIT; n];
                compress_multi_on(p, &mut states, &blocks, false);
                std::hint::black_box(&states);
            });
            let per = MIB as f64 / secs / 1e6;
            println!("{:<8} {:>7} {:>14.0} {:>12.0}", format!("{p:?}"), n, per, per * n as f64);
        }
    }
}
