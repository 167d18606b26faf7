use super::bitrot::{spec, HashAlgorithm};
use super::check_disjoint;
use super::erasure::{to_err, ErasureCoder};
use crate::bitrot::HashSpec;
use crate::erasure::Erasure;
use crate::frames::{decode_frames, encode_frames, Layout};
use crate::shardread::{read_data_shards, Outcome};
use crate::simd;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// Which blocks of a part (or object) a call covers, and how the part is cut.
#[napi(object)]
pub struct FrameLayout {
    /// Bytes in the whole part.
    pub size: f64,
    /// Bytes per block (1 MiB in Cairn and MinIO); the part's last block may be shorter.
    pub block_size: u32,
    /// The first block this call covers.
    pub first_block: u32,
    /// For `decodeFrames`: how many blocks.
    pub block_count: Option<u32>,
}

/// The bitrot hash of the frames.
#[napi(object)]
pub struct FrameOptions {
    /// Default `highwayhash256` (MinIO's "highwayhash256S" with its key).
    pub algorithm: Option<HashAlgorithm>,
    pub key: Option<Buffer>,
}

fn frame_spec(o: &Option<FrameOptions>) -> Result<HashSpec> {
    match o {
        Some(o) => spec(o.algorithm.unwrap_or(HashAlgorithm::HighwayHash256), o.key.as_deref()),
        None => spec(HashAlgorithm::HighwayHash256, None),
    }
}

fn layout_of(e: &Erasure, l: &FrameLayout) -> Result<Layout> {
    if l.size < 0.0 || l.size.fract() != 0.0 || l.block_size == 0 {
        return Err(super::invalid("invalid frame layout"));
    }
    Ok(Layout { size: l.size as usize, block_size: l.block_size as usize, k: e.data_shards() })
}

#[napi]
impl ErasureCoder {
    /// Turns `data` (whole blocks from `layout.firstBlock` on; only the part's last may be short)
    /// into the frames of every shard file, `[32-byte digest][shard block]` per block:
    /// `frames[i]` receives shard `i`'s frames for those blocks, one after another. One crossing
    /// for copy, parity and hashing, on a worker thread.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn encode_frames(
        &self,
        data: Buffer,
        frames: Vec<Buffer>,
        layout: FrameLayout,
        options: Option<FrameOptions>,
    ) -> Result<AsyncTask<EncodeFramesTask>> {
        Ok(AsyncTask::new(EncodeFramesTask::new(&self.inner, data, frames, layout, options)?))
    }

    /// `encodeFrames`, inline.
    #[napi]
    pub fn encode_frames_sync(
        &self,
        data: Buffer,
        frames: Vec<Buffer>,
        layout: FrameLayout,
        options: Option<FrameOptions>,
    ) -> Result<()> {
        EncodeFramesTask::new(&self.inner, data, frames, layout, options)?.compute()
    }

    /// Reads back `layout.blockCount` blocks from `layout.firstBlock`: `frames[i]` holds shard
    /// `i`'s frames for those blocks as read from its file, or `null` if not read. Every frame is
    /// verified; missing or rotten data shards are rebuilt from any `k` good shards. The data bytes
    /// go to `out`. Resolves to the indices of the shards found rotten (to heal); rejects with
    /// "too few shards" when fewer than `k` are good.
    #[napi(ts_return_type = "Promise<number[]>")]
    pub fn decode_frames(
        &self,
        #[napi(ts_arg_type = "Array<Buffer | null | undefined>")] frames: Vec<Option<Buffer>>,
        out: Buffer,
        layout: FrameLayout,
        options: Option<FrameOptions>,
    ) -> Result<AsyncTask<DecodeFramesTask>> {
        Ok(AsyncTask::new(DecodeFramesTask::new(&self.inner, frames, out, layout, options)?))
    }

    /// Reads `layout.blockCount` blocks from `layout.firstBlock` of the data shard files `paths`
    /// (shard `i` in `paths[i]`, `dataShards` of them) straight into `out` (exactly those blocks'
    /// data bytes), checking every digest: one worker-thread task, no frame buffers, no copy. With
    /// `cachedOnly`, only from the page cache. Resolves to `done`, `notCached` (some bytes were
    /// not cached; nothing else is wrong) or `failed` (a shard missing, short or rotten: read
    /// them the usual way, which rebuilds and reports). Leave `out` alone until it settles.
    #[napi(ts_return_type = "Promise<'done' | 'notCached' | 'failed'>")]
    pub fn read_data_shards(
        &self,
        paths: Vec<String>,
        out: Buffer,
        layout: FrameLayout,
        options: Option<FrameOptions>,
        cached_only: bool,
    ) -> Result<AsyncTask<ReadDataShardsTask>> {
        let lay = layout_of(&self.inner, &layout)?;
        let first = layout.first_block as usize;
        let count = layout.block_count.map(|c| c as usize).unwrap_or(lay.blocks().saturating_sub(first));
        Ok(AsyncTask::new(ReadDataShardsTask {
            paths: paths.into_iter().map(std::path::PathBuf::from).collect(),
            out,
            layout: lay,
            first,
            count,
            spec: frame_spec(&options)?,
            cached_only,
        }))
    }

    /// `decodeFrames`, inline.
    #[napi]
    pub fn decode_frames_sync(
        &self,
        #[napi(ts_arg_type = "Array<Buffer | null | undefined>")] frames: Vec<Option<Buffer>>,
        out: Buffer,
        layout: FrameLayout,
        options: Option<FrameOptions>,
    ) -> Result<Vec<u32>> {
        DecodeFramesTask::new(&self.inner, frames, out, layout, options)?.compute()
    }
}

pub struct EncodeFramesTask {
    coder: Arc<Erasure>,
    spec: HashSpec,
    layout: Layout,
    first: usize,
    data: Buffer,
    frames: Vec<Buffer>,
}

impl EncodeFramesTask {
    fn new(
        coder: &Arc<Erasure>,
        data: Buffer,
        frames: Vec<Buffer>,
        l: FrameLayout,
        o: Option<FrameOptions>,
    ) -> Result<Self> {
        for (i, a) in frames.iter().enumerate() {
            check_disjoint(a, &data, "a frame buffer and the data")?;
            for b in &frames[i + 1..] {
                check_disjoint(a, b, "frame buffers")?;
            }
        }
        Ok(EncodeFramesTask {
            coder: coder.clone(),
            spec: frame_spec(&o)?,
            layout: layout_of(coder, &l)?,
            first: l.first_block as usize,
            data,
            frames,
        })
    }
}

impl Task for EncodeFramesTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let mut frames: Vec<&mut [u8]> = self.frames.iter_mut().map(|f| &mut f[..]).collect();
        encode_frames(
            &self.coder,
            simd::level(),
            &self.spec,
            self.layout,
            self.first,
            &self.data,
            &mut frames,
        )
        .map_err(to_err)
    }

    fn resolve(&mut self, _: Env, _: ()) -> Result<()> {
        Ok(())
    }
}

pub struct DecodeFramesTask {
    coder: Arc<Erasure>,
    spec: HashSpec,
    layout: Layout,
    first: usize,
    count: usize,
    frames: Vec<Option<Buffer>>,
    out: Buffer,
}

impl DecodeFramesTask {
    fn new(
        coder: &Arc<Erasure>,
        frames: Vec<Option<Buffer>>,
        out: Buffer,
        l: FrameLayout,
        o: Option<FrameOptions>,
    ) -> Result<Self> {
        for f in frames.iter().flatten() {
            check_disjoint(f, &out, "a frame buffer and the output")?;
        }
        let lay = layout_of(coder, &l)?;
        let first = l.first_block as usize;
        let count = l.block_count.map(|c| c as usize).unwrap_or(lay.blocks().saturating_sub(first));
        Ok(DecodeFramesTask {
            coder: coder.clone(),
            spec: frame_spec(&o)?,
            layout: lay,
            first,
            count,
            frames,
            out,
        })
    }
}

impl Task for DecodeFramesTask {
    type Output = Vec<u32>;
    type JsValue = Vec<u32>;

    fn compute(&mut self) -> Result<Vec<u32>> {
        let frames: Vec<Option<&[u8]>> = self.frames.iter().map(|f| f.as_deref()).collect();
        let rotten = decode_frames(
            &self.coder,
            simd::level(),
            &self.spec,
            self.layout,
            self.first,
            self.count,
            &frames,
            &mut self.out,
        )
        .map_err(to_err)?;
        Ok(rotten.into_iter().map(|i| i as u32).collect())
    }

    fn resolve(&mut self, _: Env, out: Vec<u32>) -> Result<Vec<u32>> {
        Ok(out)
    }
}

pub struct ReadDataShardsTask {
    paths: Vec<std::path::PathBuf>,
    out: Buffer,
    layout: Layout,
    first: usize,
    count: usize,
    spec: HashSpec,
    cached_only: bool,
}

impl Task for ReadDataShardsTask {
    type Output = &'static str;
    type JsValue = String;

    fn compute(&mut self) -> Result<&'static str> {
        let paths: Vec<&std::path::Path> = self.paths.iter().map(|p| p.as_path()).collect();
        let r = read_data_shards(
            &paths,
            self.layout,
            self.first,
            self.count,
            &mut self.out,
            &self.spec,
            self.cached_only,
        );
        Ok(match r {
            Outcome::Done => "done",
            Outcome::NotCached => "notCached",
            Outcome::Failed => "failed",
        })
    }

    fn resolve(&mut self, _: Env, r: &'static str) -> Result<String> {
        Ok(r.to_string())
    }
}
