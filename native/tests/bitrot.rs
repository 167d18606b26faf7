mod common;

use cairn_native::bitrot::{Algorithm, HashSpec, MINIO_BITROT_KEY};
use common::{pattern, vectors};

#[test]
fn highwayhash256_matches_minio_highwayhash_vectors() {
    let v = vectors();
    let cases = v["highwayhash256"].as_array().unwrap();
    assert!(cases.len() > 200);
    for c in cases {
        let key: [u8; 32] = hex::decode(c["key"].as_str().unwrap()).unwrap().try_into().unwrap();
        let len = c["len"].as_u64().unwrap() as usize;
        let want = c["digest"].as_str().unwrap();
        let spec = HashSpec::new(Algorithm::HighwayHash256, Some(key));
        let data = pattern(len);
        assert_eq!(hex::encode(spec.digest(&data)), want, "one-shot, len {len}");
        // Streaming in uneven pieces gives the same digest.
        let mut h = spec.hasher();
        for piece in data.chunks(37) {
            h.update(piece);
        }
        let mut out = [0u8; 32];
        h.finalize_into(&mut out);
        assert_eq!(hex::encode(out), want, "streaming, len {len}");
    }
}

#[test]
fn minio_key_is_the_highwayhash_of_pi_and_the_default() {
    let pi = b"1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679";
    assert_eq!(HashSpec::new(Algorithm::HighwayHash256, Some([0; 32])).digest(pi), MINIO_BITROT_KEY);
    let data = pattern(1000);
    assert_eq!(
        HashSpec::new(Algorithm::HighwayHash256, None).digest(&data),
        HashSpec::new(Algorithm::HighwayHash256, Some(MINIO_BITROT_KEY)).digest(&data)
    );
}

#[test]
fn blake3_matches_reference_vectors() {
    let v = vectors();
    for c in v["blake3"].as_array().unwrap() {
        let len = c["len"].as_u64().unwrap() as usize;
        let spec = HashSpec::new(Algorithm::Blake3, None);
        assert_eq!(hex::encode(spec.digest(&pattern(len))), c["digest"].as_str().unwrap(), "len {len}");
    }
    // The official BLAKE3 test vector for the empty input.
    assert_eq!(
        hex::encode(HashSpec::new(Algorithm::Blake3, None).digest(b"")),
        "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    );
}

#[test]
fn reset_starts_over_and_digest_does_not_end_the_stream() {
    for alg in [Algorithm::HighwayHash256, Algorithm::Blake3] {
        let spec = HashSpec::new(alg, None);
        let mut h = spec.hasher();
        h.update(b"garbage");
        h.reset();
        h.update(b"hello ");
        let mut mid = [0u8; 32];
        h.finalize_into(&mut mid);
        assert_eq!(mid, spec.digest(b"hello "));
        h.update(b"world");
        let mut out = [0u8; 32];
        h.finalize_into(&mut out);
        assert_eq!(out, spec.digest(b"hello world"), "{alg:?}");
    }
}

#[test]
fn digest_chunks_hashes_each_chunk() {
    let spec = HashSpec::new(Algorithm::HighwayHash256, None);
    let data = pattern(10_000);
    let mut out = vec![0u8; 3 * 32];
    spec.digest_chunks(&data, 4096, &mut out).unwrap();
    for (i, c) in data.chunks(4096).enumerate() {
        assert_eq!(&out[i * 32..i * 32 + 32], &spec.digest(c)[..]);
    }
    assert!(spec.digest_chunks(&data, 4096, &mut [0u8; 64]).is_err());
    assert!(spec.digest_chunks(&data, 0, &mut out).is_err());
}
