//! One MD5 thread per process that hashes every concurrent stream's updates together, a SIMD lane
//! each (`compress_multi`): N PUTs streaming at once cost about one stream's MD5 CPU, as MinIO's
//! md5-simd server does.
//!
//! A caller (a libuv pool thread running a checksum task) hands its stream's `Md5` and bytes to the
//! hub and waits; the hub thread takes every waiting job into a free lane, runs the lanes in
//! lockstep over `STEP` bytes at a time (so a job that arrives meanwhile joins within a step), and
//! gives each job back when its bytes are done. A job alone runs on the scalar code (one SIMD lane
//! is no faster); small updates never leave the caller's thread.
//!
//! The caller's thread blocks while it waits (the pool has 32 threads; the bytes are hashed on the
//! hub thread meanwhile, not twice).

use super::{compress_multi, Md5};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Updates smaller than this are hashed on the caller's thread.
pub const HUB_MIN: usize = 64 * 1024;
/// Bytes each lane advances between looks at the queue.
const STEP: usize = 64 * 1024;
/// Lanes in flight at once (16 AVX-512 lanes; the AVX2 kernel interleaves two groups of 8).
const LANES: usize = 16;
/// How long a job that would run alone waits for another to share the pass, when lanes were
/// shared lately (`BUSY`): alone it runs on the scalar code, ~1.1x the CPU per byte of a lane of
/// two and ~2x of a lane of four (`md5x_throughput`). A stream's MD5 runs beside its encoding and
/// writes, a few batches of slack, so the wait costs a lone PUT nothing and a busy node less CPU.
const LINGER: Duration = Duration::from_micros(400);
/// Lanes shared within this long: other streams are hashing, so a lone job waits for company.
const BUSY: Duration = Duration::from_millis(20);

/// A job's hand-back: the hasher, once its bytes are done.
type Slot = Arc<(Mutex<Option<Md5>>, Condvar)>;

struct Job {
    md5: Md5,
    /// The bytes to hash: borrowed from the caller, who waits until the job is handed back.
    data: *const u8,
    len: usize,
    done: Slot,
}

// SAFETY: `data` points into a buffer the submitting thread keeps alive and untouched until it is
// handed the job's result (`update` blocks until then); nothing else reads or writes through it.
unsafe impl Send for Job {}

struct Hub {
    queue: Mutex<VecDeque<Job>>,
    ready: Condvar,
}

fn hub() -> &'static Hub {
    static HUB: OnceLock<&'static Hub> = OnceLock::new();
    HUB.get_or_init(|| {
        let hub: &'static Hub =
            Box::leak(Box::new(Hub { queue: Mutex::new(VecDeque::new()), ready: Condvar::new() }));
        std::thread::Builder::new()
            .name("cairn-md5".into())
            .spawn(move || run(hub))
            .expect("the MD5 thread could not start");
        hub
    })
}

/// Hashes `data` into `md5`: on the hub with the other streams' updates when it is large enough,
/// else here. Returns when done.
pub fn update(md5: &mut Md5, data: &[u8]) {
    if data.len() < HUB_MIN {
        md5.update_scalar(data);
        return;
    }
    let done: Slot = Arc::new((Mutex::new(None), Condvar::new()));
    let job = Job { md5: std::mem::take(md5), data: data.as_ptr(), len: data.len(), done: done.clone() };
    let h = hub();
    h.queue.lock().unwrap_or_else(|e| e.into_inner()).push_back(job);
    h.ready.notify_one();
    let (slot, cv) = &*done;
    let mut got = slot.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(m) = got.take() {
            *md5 = m;
            return;
        }
        got = cv.wait(got).unwrap_or_else(|e| e.into_inner());
    }
}

/// A job in a lane: where it has got to.
struct Lane {
    job: Job,
    pos: usize,
}

impl Lane {
    /// The job's bytes not hashed yet. The lifetime is not tied to `self` (the bytes are the
    /// caller's, not the lane's), so the lane's hasher can be updated from them.
    fn rest<'a>(&self) -> &'a [u8] {
        // SAFETY: see `Job`: `data..data+len` stays valid, and unchanged, until the job is handed
        // back, which is after every use of this slice.
        unsafe { std::slice::from_raw_parts(self.job.data.add(self.pos), self.job.len - self.pos) }
    }
}

fn run(h: &'static Hub) {
    let mut lanes: Vec<Lane> = Vec::with_capacity(LANES);
    // When lanes were last shared (none yet: a long time ago).
    let mut shared = Instant::now().checked_sub(BUSY).unwrap_or_else(Instant::now);
    loop {
        {
            let mut q = h.queue.lock().unwrap_or_else(|e| e.into_inner());
            while lanes.is_empty() && q.is_empty() {
                q = h.ready.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            while lanes.len() < LANES {
                let Some(job) = q.pop_front() else { break };
                lanes.push(Lane { job, pos: 0 });
            }
            if lanes.len() == 1 && lanes[0].pos == 0 && shared.elapsed() < BUSY {
                // A new job alone while other streams are hashing: wait a little for one of them.
                let until = Instant::now() + LINGER;
                while q.is_empty() {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    q = h.ready.wait_timeout(q, left).unwrap_or_else(|e| e.into_inner()).0;
                }
                while lanes.len() < LANES {
                    let Some(job) = q.pop_front() else { break };
                    lanes.push(Lane { job, pos: 0 });
                }
            }
        }
        if lanes.len() > 1 {
            shared = Instant::now();
        }
        // A new lane first fills its hasher's partial block, so that every lane is block-aligned.
        for lane in lanes.iter_mut().filter(|l| l.pos == 0) {
            let rest = lane.rest();
            let after = lane.job.md5.take_prefix(rest).len();
            lane.pos = lane.job.len - after;
        }
        // Every lane with whole blocks left advances by the same count of them.
        let step = lanes
            .iter()
            .map(|l| (l.job.len - l.pos) / 64 * 64)
            .filter(|&n| n > 0)
            .min()
            .map_or(0, |n| n.min(STEP));
        if step > 0 {
            let moving: Vec<usize> =
                (0..lanes.len()).filter(|&i| lanes[i].job.len - lanes[i].pos >= step).collect();
            let mut states: Vec<[u32; 4]> = moving.iter().map(|&i| *lanes[i].job.md5.state_mut()).collect();
            {
                let blocks: Vec<&[u8]> = moving.iter().map(|&i| &lanes[i].rest()[..step]).collect();
                compress_multi(&mut states, &blocks);
            }
            for (&i, s) in moving.iter().zip(states) {
                let lane = &mut lanes[i];
                *lane.job.md5.state_mut() = s;
                lane.job.md5.add_len(step as u64);
                lane.pos += step;
            }
        }
        // Lanes with less than a block left: the tail, then the job goes back.
        let mut i = 0;
        while i < lanes.len() {
            if lanes[i].job.len - lanes[i].pos >= 64 {
                i += 1;
                continue;
            }
            let mut lane = lanes.swap_remove(i);
            let tail = lane.rest();
            let mut md5 = std::mem::take(&mut lane.job.md5);
            md5.update_scalar(tail);
            let (slot, cv) = &*lane.job.done;
            *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(md5);
            cv.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_bytes as bytes;

    fn reference(parts: &[Vec<u8>]) -> [u8; 16] {
        let mut m = Md5::new();
        parts.iter().for_each(|p| m.update_scalar(p));
        m.finalize()
    }

    #[test]
    fn concurrent_streams_of_uneven_updates_hash_as_scalar() {
        // 24 streams (more than the lanes), each a series of updates of different, unaligned sizes.
        let threads: Vec<_> = (0..24u64)
            .map(|t| {
                std::thread::spawn(move || {
                    let parts: Vec<Vec<u8>> = (0..6u64)
                        .map(|p| bytes(HUB_MIN + ((t * 7919 + p * 104_729) % 300_000) as usize, t * 100 + p))
                        .chain(std::iter::once(bytes(17, t)))
                        .collect();
                    let mut m = Md5::new();
                    for p in &parts {
                        update(&mut m, p);
                    }
                    assert_eq!(m.finalize(), reference(&parts), "stream {t}");
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_lone_stream_and_small_updates() {
        let parts = vec![bytes(3, 1), bytes(HUB_MIN, 2), bytes(HUB_MIN * 3 + 63, 3), bytes(1, 4)];
        let mut m = Md5::new();
        for p in &parts {
            update(&mut m, p);
        }
        assert_eq!(m.finalize(), reference(&parts));
        let mut e = Md5::new();
        update(&mut e, &[]);
        assert_eq!(e.finalize(), reference(&[]));
    }
}
