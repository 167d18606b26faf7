mod common;

use cairn_native::bitrot::{Algorithm, HashSpec, DIGEST_LEN};
use cairn_native::erasure::{Erasure, Error};
use cairn_native::frames::{decode_frames, encode_frames, Layout};
use cairn_native::simd::level;
use common::{pattern, vectors, Rng};

fn encode(e: &Erasure, spec: &HashSpec, layout: Layout, data: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = vec![vec![0u8; layout.shard_file_size()]; e.total_shards()];
    let mut views: Vec<&mut [u8]> = frames.iter_mut().map(|f| f.as_mut_slice()).collect();
    encode_frames(e, level(), spec, layout, 0, data, &mut views).unwrap();
    frames
}

fn decode(
    e: &Erasure,
    spec: &HashSpec,
    layout: Layout,
    b0: usize,
    n: usize,
    files: &[Option<Vec<u8>>],
) -> Result<(Vec<u8>, Vec<usize>), Error> {
    let (from, to) = (layout.frame_offset(b0), layout.frame_offset(b0) + layout.frames_len(b0, n));
    let frames: Vec<Option<&[u8]>> =
        files.iter().map(|f| f.as_ref().map(|f| &f[from.min(f.len())..to.min(f.len())])).collect();
    let mut out = vec![0u8; (b0..b0 + n).map(|b| layout.block_len(b)).sum()];
    let rotten = decode_frames(e, level(), spec, layout, b0, n, &frames, &mut out)?;
    Ok((out, rotten))
}

#[test]
fn frames_are_minio_streaming_bitrot_of_klauspost_shards() {
    let spec = HashSpec::new(Algorithm::HighwayHash256, None);
    for c in vectors()["reedsolomon"].as_array().unwrap().iter().filter(|c| c["k"].as_u64().unwrap() <= 16) {
        let (k, m, len) = (
            c["k"].as_u64().unwrap() as usize,
            c["m"].as_u64().unwrap() as usize,
            c["len"].as_u64().unwrap() as usize,
        );
        let e = Erasure::new(k, m).unwrap();
        let layout = Layout { size: len, block_size: 1 << 20, k };
        let frames = encode(&e, &spec, layout, &pattern(len));
        for (i, want) in c["shards"].as_array().unwrap().iter().enumerate() {
            let shard = hex::decode(want.as_str().unwrap()).unwrap();
            let mut expect = spec.digest(&shard).to_vec();
            expect.extend_from_slice(&shard);
            assert_eq!(frames[i], expect, "{k}+{m} len {len} shard {i}");
        }
    }
}

#[test]
fn multi_block_round_trip_with_any_m_shards_lost_or_rotten() {
    let spec = HashSpec::new(Algorithm::HighwayHash256, None);
    let e = Erasure::new(4, 2).unwrap();
    let bs = 64 * 1024;
    let size = 5 * bs + 12345;
    let layout = Layout { size, block_size: bs, k: 4 };
    let data = Rng(5).bytes(size);
    let files = encode(&e, &spec, layout, &data);
    assert_eq!(layout.blocks(), 6);
    assert_eq!(files[0].len(), 5 * (DIGEST_LEN + bs / 4) + DIGEST_LEN + 12345usize.div_ceil(4));
    for lost in [vec![], vec![0], vec![3], vec![0, 1], vec![1, 5], vec![4, 5]] {
        for rot in [false, true] {
            let mut f: Vec<Option<Vec<u8>>> = files.iter().cloned().map(Some).collect();
            for &l in &lost {
                if rot {
                    let v = f[l].as_mut().unwrap();
                    let at = layout.frame_offset(2) + DIGEST_LEN + 7;
                    v[at] ^= 0x40; // bitrot inside block 2 only
                } else {
                    f[l] = None;
                }
            }
            let (out, rotten) = decode(&e, &spec, layout, 0, 6, &f).unwrap();
            assert!(out == data, "lost {lost:?} rot {rot}");
            assert_eq!(rotten, if rot { lost.clone() } else { vec![] });
            // A run of blocks from the middle.
            let (mid, _) = decode(&e, &spec, layout, 2, 3, &f).unwrap();
            assert!(mid == data[2 * bs..5 * bs]);
            // The short last block alone.
            let (last, _) = decode(&e, &spec, layout, 5, 1, &f).unwrap();
            assert!(last == data[5 * bs..]);
        }
    }
}

#[test]
fn more_rot_than_parity_is_an_error_never_wrong_bytes() {
    let spec = HashSpec::new(Algorithm::Blake3, None);
    let e = Erasure::new(4, 2).unwrap();
    let layout = Layout { size: 300_000, block_size: 100_000, k: 4 };
    let data = Rng(8).bytes(300_000);
    let files = encode(&e, &spec, layout, &data);
    let mut f: Vec<Option<Vec<u8>>> = files.into_iter().map(Some).collect();
    f[0] = None;
    f[1].as_mut().unwrap()[40] ^= 1;
    let at = layout.frame_offset(1) + 3;
    f[5].as_mut().unwrap()[at] ^= 1; // a flipped digest byte counts as rot too
    assert!(matches!(decode(&e, &spec, layout, 0, 3, &f), Err(Error::TooFewShards { .. })));
    // A truncated shard file is rotten, not a panic.
    let mut g = f.clone();
    g[1] = Some(vec![0u8; 10]);
    g[5] = None;
    assert!(matches!(decode(&e, &spec, layout, 0, 3, &g), Err(Error::TooFewShards { .. })));
}

#[test]
fn empty_part_has_no_frames_and_bad_layouts_are_refused() {
    let spec = HashSpec::new(Algorithm::HighwayHash256, None);
    let e = Erasure::new(2, 1).unwrap();
    let layout = Layout { size: 0, block_size: 1 << 20, k: 2 };
    assert_eq!(layout.blocks(), 0);
    assert_eq!(layout.shard_file_size(), 0);
    let layout = Layout { size: 3_000_000, block_size: 1 << 20, k: 2 };
    let mut frames = vec![vec![0u8; 10]; 3];
    let mut views: Vec<&mut [u8]> = frames.iter_mut().map(|f| f.as_mut_slice()).collect();
    assert!(
        encode_frames(&e, level(), &spec, layout, 0, &[0u8; 1000], &mut views).is_err(),
        "not whole blocks"
    );
    let data = vec![1u8; 1 << 20];
    assert!(encode_frames(&e, level(), &spec, layout, 0, &data, &mut views).is_err(), "wrong frame size");
}
