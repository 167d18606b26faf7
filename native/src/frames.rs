//! Shard files as MinIO lays them out ("streaming bitrot"): for every block of the object, each
//! shard file holds `[32-byte digest of the shard block][shard block]`. A block of `L` bytes has
//! shards of `ceil(L / k)` bytes; every block is `block_size` long but the last.
//!
//! `encode_frames` turns blocks of data into every shard file's frames in one pass (copy the data
//! shards, compute parity into place, hash every shard); `decode_frames` does the reverse for a run
//! of blocks: verify every frame it is given, rebuild what is missing or rotten from any `k` good
//! shards, and write the data bytes out.

use crate::bitrot::{HashSpec, DIGEST_LEN};
use crate::erasure::{Erasure, Error};
use crate::simd::Level;

/// Where blocks fall in a part (or object) of `size` bytes cut in `block_size` blocks.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub size: usize,
    pub block_size: usize,
    pub k: usize,
}

impl Layout {
    pub fn blocks(&self) -> usize {
        self.size.div_ceil(self.block_size)
    }

    /// Data bytes in block `b`.
    pub fn block_len(&self, b: usize) -> usize {
        (self.size - b * self.block_size).min(self.block_size)
    }

    /// Shard bytes of block `b` (without its digest).
    pub fn shard_len(&self, b: usize) -> usize {
        self.block_len(b).div_ceil(self.k)
    }

    /// Where block `b`'s frame starts in a shard file.
    pub fn frame_offset(&self, b: usize) -> usize {
        let full = self.block_size.div_ceil(self.k) + DIGEST_LEN;
        b * full
    }

    /// Bytes of frames for blocks `b0..b0 + n` in one shard file.
    pub fn frames_len(&self, b0: usize, n: usize) -> usize {
        (b0..b0 + n).map(|b| DIGEST_LEN + self.shard_len(b)).sum()
    }

    /// Size of a whole shard file.
    pub fn shard_file_size(&self) -> usize {
        self.frames_len(0, self.blocks())
    }
}

fn bad(msg: String) -> Error {
    Error::BadLength(msg)
}

/// Encodes `data` — blocks `b0..` of a part laid out by `layout`, whole blocks only but the part's
/// last — into `frames[i]`, the frames of shard `i` for those blocks, one after another.
pub fn encode_frames(
    e: &Erasure,
    level: Level,
    spec: &HashSpec,
    layout: Layout,
    b0: usize,
    data: &[u8],
    frames: &mut [&mut [u8]],
) -> Result<(), Error> {
    let (k, n) = (e.data_shards(), e.total_shards());
    if frames.len() != n {
        return Err(bad(format!("{} frame buffers given, {} expected", frames.len(), n)));
    }
    let start = b0 * layout.block_size;
    let nblocks = data.len().div_ceil(layout.block_size);
    if start + data.len() > layout.size
        || (start + data.len() < layout.size && !data.len().is_multiple_of(layout.block_size))
    {
        return Err(bad("data must be whole blocks of the layout (or end at its end)".into()));
    }
    let want = layout.frames_len(b0, nblocks);
    if let Some(f) = frames.iter().find(|f| f.len() != want) {
        return Err(bad(format!("a frame buffer is {} bytes, {} expected", f.len(), want)));
    }
    let mut off = 0;
    for (j, block) in data.chunks(layout.block_size).enumerate() {
        let s = layout.shard_len(b0 + j);
        // Data shards: copy into the frames (zero padding the last), then use the copies as inputs.
        for (i, f) in frames.iter_mut().take(k).enumerate() {
            let dst = &mut f[off + DIGEST_LEN..off + DIGEST_LEN + s];
            let from = (i * s).min(block.len());
            let to = ((i + 1) * s).min(block.len());
            dst[..to - from].copy_from_slice(&block[from..to]);
            dst[to - from..].fill(0);
        }
        let (data_frames, parity_frames) = frames.split_at_mut(k);
        let inputs: Vec<&[u8]> =
            data_frames.iter().map(|f| &f[off + DIGEST_LEN..off + DIGEST_LEN + s]).collect();
        let mut outputs: Vec<&mut [u8]> =
            parity_frames.iter_mut().map(|f| &mut f[off + DIGEST_LEN..off + DIGEST_LEN + s]).collect();
        e.encode_parity(level, &inputs, &mut outputs)?;
        for f in frames.iter_mut() {
            let (head, rest) = f[off..off + DIGEST_LEN + s].split_at_mut(DIGEST_LEN);
            spec.digest_into(rest, head);
        }
        off += DIGEST_LEN + s;
    }
    Ok(())
}

/// Decodes blocks `b0..b0 + nblocks` from the frames read out of the shard files. `frames[i]` is
/// `None` for a shard not read (or whose drive failed). Every given frame is verified; a shard
/// whose frame does not match its digest (or is short) counts as missing from there on. Data
/// bytes go to `out` (`sum of block lengths` bytes). Returns the shards found rotten.
#[allow(clippy::too_many_arguments)]
pub fn decode_frames(
    e: &Erasure,
    level: Level,
    spec: &HashSpec,
    layout: Layout,
    b0: usize,
    nblocks: usize,
    frames: &[Option<&[u8]>],
    out: &mut [u8],
) -> Result<Vec<usize>, Error> {
    let (k, n) = (e.data_shards(), e.total_shards());
    if frames.len() != n {
        return Err(bad(format!("{} frame buffers given, {} expected", frames.len(), n)));
    }
    if b0 + nblocks > layout.blocks() {
        return Err(bad("blocks beyond the end of the part".into()));
    }
    let want_out: usize = (b0..b0 + nblocks).map(|b| layout.block_len(b)).sum();
    if out.len() != want_out {
        return Err(bad(format!("output is {} bytes, {} expected", out.len(), want_out)));
    }
    let want = layout.frames_len(b0, nblocks);
    let mut good: Vec<bool> = frames.iter().map(|f| f.is_some()).collect();
    let mut rotten = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if let Some(f) = f {
            if f.len() < want {
                good[i] = false;
                rotten.push(i);
            }
        }
    }
    let mut scratch: Vec<Vec<u8>> = Vec::new();
    let (mut off, mut out_off) = (0, 0);
    for b in b0..b0 + nblocks {
        let s = layout.shard_len(b);
        let blen = layout.block_len(b);
        let mut digest = [0u8; DIGEST_LEN];
        for i in 0..n {
            if !good[i] {
                continue;
            }
            let f = frames[i].expect("good frames are present");
            spec.digest_into(&f[off + DIGEST_LEN..off + DIGEST_LEN + s], &mut digest);
            if digest[..] != f[off..off + DIGEST_LEN] {
                good[i] = false;
                rotten.push(i);
            }
        }
        let missing: Vec<usize> = (0..k).filter(|&i| !good[i]).collect();
        if !missing.is_empty() {
            let present = good.iter().filter(|g| **g).count();
            if present < k {
                return Err(Error::TooFewShards { present, needed: k });
            }
            scratch.resize_with(missing.len(), Vec::new);
            for v in scratch.iter_mut() {
                v.resize(s, 0);
            }
            let present: Vec<(usize, &[u8])> = (0..n)
                .filter(|&i| good[i])
                .map(|i| (i, &frames[i].expect("good")[off + DIGEST_LEN..off + DIGEST_LEN + s]))
                .collect();
            let mut wanted: Vec<(usize, &mut [u8])> =
                missing.iter().copied().zip(scratch.iter_mut().map(|v| v.as_mut_slice())).collect();
            e.reconstruct_into(level, &present, &mut wanted)?;
        }
        // Data bytes of the block: shard i covers [i*s, min((i+1)*s, blen)).
        let mut mi = 0;
        for i in 0..k {
            let from = (i * s).min(blen);
            let to = ((i + 1) * s).min(blen);
            if from == to {
                if !good[i] {
                    mi += 1;
                }
                continue;
            }
            let src: &[u8] = if good[i] {
                &frames[i].expect("good")[off + DIGEST_LEN..off + DIGEST_LEN + (to - from)]
            } else {
                let v = &scratch[mi][..to - from];
                mi += 1;
                v
            };
            out[out_off + from..out_off + to].copy_from_slice(src);
        }
        off += DIGEST_LEN + s;
        out_off += blen;
    }
    rotten.sort_unstable();
    rotten.dedup();
    Ok(rotten)
}
