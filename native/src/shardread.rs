//! A GET's data shards read straight into the response buffer, their digests checked on the way:
//! one task per batch instead of one read task per shard plus a decode task that copies the data
//! out of the frames again. Each shard file's frames (`[digest][shard block]` per block, see
//! `crate::frames`) are read with one vectored read whose buffers are the digest slots and the
//! block's place in `out` (its zero padding, in the last block, to a scratch buffer).
//!
//! Only the page cache is read (`RWF_NOWAIT`, Linux) when asked: a file not all cached answers
//! `NotCached` at once, and the caller reads the shards its usual way (one task per drive, in
//! parallel). Any failure, short file or digest mismatch also sends the caller its usual way,
//! which rebuilds from parity and reports the damage: this path only ever serves clean data.

use crate::bitrot::{HashSpec, DIGEST_LEN};
use crate::frames::Layout;
use std::fs::File;
use std::io;
use std::path::Path;

/// How a read went.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `out` holds the data bytes, every digest matched.
    Done,
    /// Some bytes were not in the page cache (only with `cached_only`); `out` is undefined.
    NotCached,
    /// A shard could not be read whole, or a digest did not match; `out` is undefined.
    Failed,
}

/// Reads blocks `b0..b0 + n` of a part laid out by `layout` from the data shard files `paths`
/// (shard `i` in `paths[i]`, `k` of them) into `out` (exactly the data bytes of those blocks).
pub fn read_data_shards(
    paths: &[&Path],
    layout: Layout,
    b0: usize,
    n: usize,
    out: &mut [u8],
    spec: &HashSpec,
    cached_only: bool,
) -> Outcome {
    let k = layout.k;
    if paths.len() != k || n == 0 || b0 + n > layout.blocks() {
        return Outcome::Failed;
    }
    let want: usize = (b0..b0 + n).map(|b| layout.block_len(b)).sum();
    if out.len() != want {
        return Outcome::Failed;
    }
    let mut digests = vec![[0u8; DIGEST_LEN]; n];
    let mut pad = vec![0u8; layout.shard_len(b0 + n - 1)];
    for (i, path) in paths.iter().enumerate() {
        let file = if cached_only && crate::cached::open_cached_supported() {
            // A lookup that would wait for the device is as good as data that would.
            match crate::cached::open_cached(path) {
                Some(f) => f,
                None => return Outcome::NotCached,
            }
        } else {
            // (Kernels before 5.12 have no cached-only lookup: a plain open; the reads still
            // stop at the page cache.)
            match File::open(path) {
                Ok(f) => f,
                Err(_) => return Outcome::Failed,
            }
        };
        // The pieces of this shard's frames, in file order: digest, then the block's bytes (its
        // part of `out`, then padding where the block's data ends inside this shard).
        let mut pieces: Vec<(*mut u8, usize)> = Vec::with_capacity(3 * n);
        let mut at = 0; // where block b's data starts in `out`
        let mut pad_len = 0;
        for (j, b) in (b0..b0 + n).enumerate() {
            let (block, shard) = (layout.block_len(b), layout.shard_len(b));
            pieces.push((digests[j].as_mut_ptr(), DIGEST_LEN));
            let from = (i * shard).min(block);
            let real = (block - from).min(shard);
            if real > 0 {
                pieces.push((out[at + from..].as_mut_ptr(), real));
            }
            if shard > real {
                // Only the last block can end inside a shard; its padding goes to `pad`.
                pieces.push((pad.as_mut_ptr(), shard - real));
                pad_len = shard - real;
            }
            at += block;
        }
        let offset = layout.frame_offset(b0) as u64;
        match read_vectored(&file, &mut pieces, offset, cached_only) {
            Ok(true) => {}
            Ok(false) => return Outcome::NotCached,
            Err(_) => return Outcome::Failed,
        }
        // Verify every block of this shard: its data in `out`, then its padding.
        let mut at = 0;
        let mut h = spec.hasher();
        let mut got = [0u8; DIGEST_LEN];
        for (j, b) in (b0..b0 + n).enumerate() {
            let (block, shard) = (layout.block_len(b), layout.shard_len(b));
            let from = (i * shard).min(block);
            let real = (block - from).min(shard);
            h.reset();
            h.update(&out[at + from..at + from + real]);
            if shard > real {
                h.update(&pad[..pad_len]);
            }
            h.finalize_into(&mut got);
            if got != digests[j] {
                return Outcome::Failed;
            }
            at += block;
        }
    }
    Outcome::Done
}

/// Fills `pieces` (pointer, length) from `offset` on; `Ok(false)` when `cached_only` and the
/// kernel would have to wait for the device. A file ending early is an error.
fn read_vectored(
    file: &File,
    pieces: &mut [(*mut u8, usize)],
    offset: u64,
    cached_only: bool,
) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        use crate::cached::sys::{preadv2, IoVec, RWF_NOWAIT};
        use std::os::fd::AsRawFd;
        use std::os::raw::c_int;
        const IOV_MAX: usize = 1024;
        let flags = if cached_only { RWF_NOWAIT } else { 0 };
        let mut first = 0; // the first piece not read whole
        let mut skip = 0; // bytes of it already read
        let mut pos = offset;
        while first < pieces.len() {
            let iov: Vec<IoVec> = pieces[first..]
                .iter()
                .take(IOV_MAX)
                .enumerate()
                .map(|(j, &(p, len))| {
                    let s = if j == 0 { skip } else { 0 };
                    // SAFETY: `s <= len`: pointer arithmetic inside the piece.
                    IoVec { base: unsafe { p.add(s) }.cast(), len: len - s }
                })
                .collect();
            // SAFETY: every iovec is a live, writable region of `out`, a digest slot or `pad`,
            // none overlapping, all outliving the call.
            let r = unsafe { preadv2(file.as_raw_fd(), iov.as_ptr(), iov.len() as c_int, pos as i64, flags) };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // EAGAIN: not all cached. Any other error of a cache-only read (a kernel or
                // emulator without RWF_NOWAIT: EOPNOTSUPP, EINVAL, ENOSYS) says the same to the
                // caller: read the usual way, which reports real failures.
                if cached_only {
                    return Ok(false);
                }
                return Err(e);
            }
            if r == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let mut got = r as usize;
            pos += got as u64;
            while got > 0 {
                let left = pieces[first].1 - skip;
                if got >= left {
                    got -= left;
                    first += 1;
                    skip = 0;
                } else {
                    skip += got;
                    got = 0;
                }
            }
        }
        Ok(true)
    }
    #[cfg(not(target_os = "linux"))]
    {
        use std::os::unix::fs::FileExt;
        if cached_only {
            return Ok(false);
        }
        let mut pos = offset;
        for &(p, len) in pieces.iter() {
            // SAFETY: as above: a live, writable, non-overlapping region.
            let buf = unsafe { std::slice::from_raw_parts_mut(p, len) };
            file.read_exact_at(buf, pos)?;
            pos += len as u64;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitrot::Algorithm;
    use crate::erasure::Erasure;
    use crate::frames::encode_frames;
    use crate::simd;

    use crate::test_bytes as bytes;

    /// Writes the shard files of `data` (k + m shards) under `dir`; returns their paths.
    fn shard_files(
        dir: &Path,
        data: &[u8],
        layout: Layout,
        m: usize,
        spec: &HashSpec,
    ) -> Vec<std::path::PathBuf> {
        let k = layout.k;
        let coder = Erasure::new(k, m).unwrap();
        let mut frames = vec![vec![0u8; layout.shard_file_size()]; k + m];
        {
            let mut views: Vec<&mut [u8]> = frames.iter_mut().map(|f| f.as_mut_slice()).collect();
            encode_frames(&coder, simd::level(), spec, layout, 0, data, &mut views).unwrap();
        }
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let p = dir.join(format!("shard{i}"));
                std::fs::write(&p, f).unwrap();
                p
            })
            .collect()
    }

    #[test]
    fn reads_any_run_of_blocks_of_any_size_straight_into_out() {
        let dir = std::env::temp_dir().join(format!("cairn-shardread-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = HashSpec::new(Algorithm::HighwayHash256, None);
        for (k, m) in [(2, 2), (4, 2), (3, 1), (1, 1)] {
            for size in [1usize, 5, 4096, 100_000, 3 * 65536 + 7] {
                let layout = Layout { size, block_size: 65536, k };
                let data = bytes(size, (size * k) as u64);
                let paths = shard_files(&dir, &data, layout, m, &spec);
                let refs: Vec<&Path> = paths[..k].iter().map(|p| p.as_path()).collect();
                for b0 in 0..layout.blocks() {
                    for n in 1..=layout.blocks() - b0 {
                        let lo = b0 * 65536;
                        let hi = (lo + n * 65536).min(size);
                        let mut out = vec![0u8; hi - lo];
                        for cached in [true, false] {
                            let r = read_data_shards(&refs, layout, b0, n, &mut out, &spec, cached);
                            // Just written: cached (a kernel before 4.14 would say NotCached).
                            if r == Outcome::NotCached && cached {
                                continue;
                            }
                            assert_eq!(r, Outcome::Done, "{k}+{m} size {size} blocks {b0}+{n}");
                            assert!(out == data[lo..hi], "{k}+{m} size {size} blocks {b0}+{n}");
                        }
                    }
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn rot_a_short_file_or_a_missing_one_fail() {
        let dir = std::env::temp_dir().join(format!("cairn-shardread-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = HashSpec::new(Algorithm::HighwayHash256, None);
        let layout = Layout { size: 200_000, block_size: 65536, k: 2 };
        let data = bytes(200_000, 9);
        let paths = shard_files(&dir, &data, layout, 2, &spec);
        let refs: Vec<&Path> = paths[..2].iter().map(|p| p.as_path()).collect();
        let mut out = vec![0u8; 200_000];
        assert_eq!(read_data_shards(&refs, layout, 0, 4, &mut out, &spec, false), Outcome::Done);
        // A flipped byte in shard 1's second block.
        let mut f = std::fs::read(&paths[1]).unwrap();
        f[layout.frame_offset(1) + DIGEST_LEN + 10] ^= 1;
        std::fs::write(&paths[1], &f).unwrap();
        assert_eq!(read_data_shards(&refs, layout, 0, 4, &mut out, &spec, false), Outcome::Failed);
        assert_eq!(read_data_shards(&refs, layout, 0, 1, &mut out[..65536], &spec, false), Outcome::Done);
        // Cut short.
        f.truncate(f.len() - 1);
        std::fs::write(&paths[1], &f).unwrap();
        assert_eq!(
            read_data_shards(&refs, layout, 3, 1, &mut out[..200_000 - 3 * 65536], &spec, false),
            Outcome::Failed
        );
        // Gone, and a wrong output length.
        std::fs::remove_file(&paths[1]).unwrap();
        assert_eq!(read_data_shards(&refs, layout, 0, 1, &mut out[..65536], &spec, false), Outcome::Failed);
        assert_eq!(
            read_data_shards(&refs[..1], layout, 0, 1, &mut out[..65536], &spec, false),
            Outcome::Failed
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
