mod common;

use cairn_native::bitrot::{Algorithm, HashSpec};
use cairn_native::erasure::{Erasure, Error};
use cairn_native::simd::{supported_levels, Level};
use common::{combinations, pattern, vectors, Rng};

/// Encodes one block with `encode_blocks` and returns all k+m shards, data zero padded.
fn encode_all(e: &Erasure, level: Level, block: &[u8]) -> Vec<Vec<u8>> {
    let s = e.shard_size(block.len());
    let mut parity = vec![0u8; e.parity_len(block.len(), block.len().max(1))];
    e.encode_blocks(level, block, block.len().max(1), &mut parity, None).unwrap();
    let mut shards: Vec<Vec<u8>> = (0..e.data_shards())
        .map(|i| {
            let mut v = vec![0u8; s];
            let from = (i * s).min(block.len());
            let to = ((i + 1) * s).min(block.len());
            v[..to - from].copy_from_slice(&block[from..to]);
            v
        })
        .collect();
    shards.extend(parity.chunks(s.max(1)).map(|c| c.to_vec()));
    shards
}

fn reconstruct_after_losing(
    e: &Erasure,
    level: Level,
    shards: &[Vec<u8>],
    lost: &[usize],
) -> Result<Vec<Vec<u8>>, Error> {
    let mut work: Vec<Vec<u8>> = shards.to_vec();
    for &l in lost {
        work[l].iter_mut().for_each(|b| *b = 0xEE);
    }
    let mut views: Vec<Option<&mut [u8]>> = work.iter_mut().map(|v| Some(v.as_mut_slice())).collect();
    e.reconstruct(level, &mut views, lost)?;
    Ok(work)
}

#[test]
fn shards_match_klauspost_vectors_at_every_simd_level() {
    let v = vectors();
    let cases = v["reedsolomon"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for c in cases {
        let (k, m, len) = (
            c["k"].as_u64().unwrap() as usize,
            c["m"].as_u64().unwrap() as usize,
            c["len"].as_u64().unwrap() as usize,
        );
        let want: Vec<Vec<u8>> = c["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        let e = Erasure::new(k, m).unwrap();
        assert_eq!(e.shard_size(len), c["shardSize"].as_u64().unwrap() as usize);
        for level in supported_levels() {
            let got = encode_all(&e, level, &pattern(len));
            assert!(got == want, "{k}+{m} len {len} at {level:?} differs from klauspost");
        }
    }
}

#[test]
fn any_k_of_the_vector_shards_rebuild_the_rest() {
    let v = vectors();
    for c in v["reedsolomon"].as_array().unwrap() {
        let (k, m) = (c["k"].as_u64().unwrap() as usize, c["m"].as_u64().unwrap() as usize);
        if k + m > 20 {
            continue;
        }
        let shards: Vec<Vec<u8>> = c["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        let e = Erasure::new(k, m).unwrap();
        // Lose the first m and the last m shards.
        for lost in [(0..m).collect::<Vec<_>>(), (k..k + m).collect()] {
            let got = reconstruct_after_losing(&e, cairn_native::simd::level(), &shards, &lost).unwrap();
            assert!(got == shards, "{k}+{m} lost {lost:?}");
        }
    }
}

#[test]
fn every_pattern_of_up_to_m_lost_shards_is_rebuilt_for_4_2_and_8_4() {
    let mut rng = Rng(42);
    for &(k, m) in &[(4usize, 2usize), (8, 4)] {
        let e = Erasure::new(k, m).unwrap();
        for &len in &[1usize, k * 64 * 3 + 17, 100_000] {
            let block = rng.bytes(len);
            for level in supported_levels() {
                let shards = encode_all(&e, level, &block);
                for r in 1..=m {
                    for lost in combinations(k + m, r) {
                        let got = reconstruct_after_losing(&e, level, &shards, &lost).unwrap();
                        assert!(got == shards, "{k}+{m} len {len} {level:?} lost {lost:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn more_than_m_lost_is_an_error_and_writes_nothing() {
    let e = Erasure::new(4, 2).unwrap();
    let shards = encode_all(&e, cairn_native::simd::level(), &Rng(7).bytes(4000));
    for lost in combinations(6, 3) {
        let mut work = shards.clone();
        let mut views: Vec<Option<&mut [u8]>> = work.iter_mut().map(|v| Some(v.as_mut_slice())).collect();
        let err = e.reconstruct(cairn_native::simd::level(), &mut views, &lost).unwrap_err();
        assert_eq!(err, Error::TooFewShards { present: 3, needed: 4 });
        assert!(work == shards, "a failed reconstruct must not write");
    }
    // Absent (None) shards count as lost too.
    let mut work = shards.clone();
    let mut views: Vec<Option<&mut [u8]>> = work.iter_mut().map(|v| Some(v.as_mut_slice())).collect();
    views[0] = None;
    views[1] = None;
    assert!(matches!(
        e.reconstruct(cairn_native::simd::level(), &mut views, &[2]),
        Err(Error::TooFewShards { .. })
    ));
}

#[test]
fn only_data_shards_can_be_asked_for() {
    let e = Erasure::new(8, 4).unwrap();
    let shards = encode_all(&e, cairn_native::simd::level(), &Rng(9).bytes(8 * 1000));
    let mut work = shards.clone();
    work[1].fill(0);
    work[5].fill(0);
    let mut views: Vec<Option<&mut [u8]>> = work.iter_mut().map(|v| Some(v.as_mut_slice())).collect();
    views[9] = None; // a lost parity shard nobody asked for
    e.reconstruct(cairn_native::simd::level(), &mut views, &[1, 5]).unwrap();
    assert_eq!(work[1], shards[1]);
    assert_eq!(work[5], shards[5]);
}

#[test]
fn bad_shapes_are_refused() {
    for (k, m) in [(0, 0), (0, 4), (1, 256), (200, 57), (257, 0)] {
        assert_eq!(Erasure::new(k, m).unwrap_err(), Error::InvalidShape { data: k, parity: m }, "{k}+{m}");
    }
    for (k, m) in [(1, 0), (1, 1), (4, 0), (128, 128), (255, 1), (256, 0)] {
        assert!(Erasure::new(k, m).is_ok(), "{k}+{m}");
    }
}

#[test]
fn zero_parity_splits_only() {
    let e = Erasure::new(4, 0).unwrap();
    let block = Rng(3).bytes(1001);
    let shards = encode_all(&e, cairn_native::simd::level(), &block);
    assert_eq!(shards.len(), 4);
    assert_eq!(shards.concat()[..1001], block[..]);
}

#[test]
fn multi_block_encode_equals_block_by_block() {
    let e = Erasure::new(6, 3).unwrap();
    let data = Rng(11).bytes(5 * 65536 + 999);
    let bs = 65536;
    let mut parity = vec![0u8; e.parity_len(data.len(), bs)];
    let spec = HashSpec::new(Algorithm::HighwayHash256, None);
    let nblocks = data.len().div_ceil(bs);
    let mut hashes = vec![0u8; nblocks * 9 * 32];
    e.encode_blocks(cairn_native::simd::level(), &data, bs, &mut parity, Some((&spec, &mut hashes))).unwrap();
    let mut off = 0;
    for (b, block) in data.chunks(bs).enumerate() {
        let shards = encode_all(&e, Level::Scalar, block);
        let s = e.shard_size(block.len());
        assert_eq!(&parity[off..off + 3 * s], &shards[6..].concat()[..], "block {b}");
        off += 3 * s;
        for (i, shard) in shards.iter().enumerate() {
            assert_eq!(
                &hashes[(b * 9 + i) * 32..(b * 9 + i + 1) * 32],
                &spec.digest(shard)[..],
                "block {b} shard {i}"
            );
        }
    }
    assert_eq!(off, parity.len());
}

#[test]
fn wrong_buffer_sizes_are_errors_not_panics() {
    let e = Erasure::new(4, 2).unwrap();
    let data = vec![1u8; 1000];
    let mut short = vec![0u8; 10];
    assert!(matches!(
        e.encode_blocks(Level::Scalar, &data, 1000, &mut short, None),
        Err(Error::BadLength(_))
    ));
    let mut parity = vec![0u8; e.parity_len(1000, 1000)];
    assert!(matches!(e.encode_blocks(Level::Scalar, &data, 0, &mut parity, None), Err(Error::BadLength(_))));
    let spec = HashSpec::new(Algorithm::Blake3, None);
    let mut h = vec![0u8; 31];
    assert!(matches!(
        e.encode_blocks(Level::Scalar, &data, 1000, &mut parity, Some((&spec, &mut h))),
        Err(Error::BadLength(_))
    ));
    let mut a = vec![0u8; 10];
    let mut b = vec![0u8; 11];
    let mut views: Vec<Option<&mut [u8]>> = vec![Some(&mut a), Some(&mut b), None, None, None, None];
    assert!(e.reconstruct(Level::Scalar, &mut views, &[0]).is_err());
    let mut views: Vec<Option<&mut [u8]>> = (0..6).map(|_| None).collect();
    assert!(matches!(e.reconstruct(Level::Scalar, &mut views, &[7]), Err(Error::BadIndex(_))));
}
