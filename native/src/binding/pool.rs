//! Experimental: encoding on a thread pool of the crate's own instead of libuv's.
//!
//! An `AsyncTask` runs `compute` on the libuv threadpool, 4 threads unless `UV_THREADPOOL_SIZE`
//! says otherwise, which also serves every `fs` call, `dns.lookup`, zlib and crypto's async work.
//! A burst of 1 MiB encodes there queues the server's file reads behind them. `encodeOnOwnPool`
//! runs the same `Erasure::encode_blocks` on threads of its own (one per core, started on first
//! use), leaving the libuv pool to I/O.
//!
//! Results come back through one threadsafe function per JS environment with no JS function
//! behind it: its `call_js` callback settles the promise on the JS thread. (napi-rs's `JsDeferred`
//! makes and tears down a threadsafe function per promise; that cost about 30 us a call here.)
//! The threadsafe function is referenced only while encodes are in flight, so an idle pool never
//! keeps the process alive, and a cleanup hook retires it before Node frees it at teardown.
//!
//! `bench/native.bench.ts` measures both under a steady load of `fs.promises.readFile`; the figures
//! and the verdict are in `bench/README.md`. Nothing in Cairn calls this yet.

use super::{check_disjoint, invalid};
use crate::erasure::Erasure;
use crate::simd;
use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;

type Job = Box<dyn FnOnce() + Send + 'static>;
type Coders = Mutex<HashMap<(usize, usize), Arc<Erasure>>>;

/// A fixed set of threads, each with its own queue; a job goes to the thread with the fewest
/// jobs queued or running. (One queue shared behind a mutex serialized the threads: a thread done
/// with a job took the lock back before the thread it had just woken got it.)
struct Pool {
    workers: Vec<Worker>,
}

struct Worker {
    queue: Sender<Job>,
    pending: Arc<AtomicUsize>,
}

impl Pool {
    fn start(threads: usize) -> std::io::Result<Pool> {
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let (queue, jobs) = channel::<Job>();
            let pending = Arc::new(AtomicUsize::new(0));
            let left = pending.clone();
            thread::Builder::new().name(format!("cairn-pool-{i}")).spawn(move || work(jobs, &left))?;
            workers.push(Worker { queue, pending });
        }
        Ok(Pool { workers })
    }

    fn run(&self, job: Job) -> Result<()> {
        let w = self.workers.iter().min_by_key(|w| w.pending.load(Ordering::Relaxed)).expect("threads >= 1");
        w.pending.fetch_add(1, Ordering::Relaxed);
        w.queue.send(job).map_err(|_| {
            w.pending.fetch_sub(1, Ordering::Relaxed);
            Error::from_reason("cairn pool: a worker thread has exited")
        })
    }
}

fn work(jobs: Receiver<Job>, pending: &AtomicUsize) {
    while let Ok(job) = jobs.recv() {
        // A job catches its own panics (its promise must settle); this only keeps the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        pending.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The pool, started on first use with `CAIRN_POOL_THREADS` threads, else one per core.
fn pool() -> Result<&'static Pool> {
    static POOL: OnceLock<std::result::Result<Pool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::env::var("CAIRN_POOL_THREADS")
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| thread::available_parallelism().map(|n| n.get()).unwrap_or(2))
            .min(256);
        Pool::start(threads).map_err(|e| format!("cairn pool: cannot start threads: {e}"))
    })
    .as_ref()
    .map_err(|e| Error::from_reason(e.clone()))
}

/// One coder per shape, shared: building one inverts a matrix, more than a small encode costs.
fn coder(k: usize, m: usize) -> Result<Arc<Erasure>> {
    static CODERS: OnceLock<Coders> = OnceLock::new();
    let mut coders = CODERS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = coders.get(&(k, m)) {
        return Ok(c.clone());
    }
    let c = Arc::new(Erasure::new(k, m).map_err(|e| invalid(e.to_string()))?);
    coders.insert((k, m), c.clone());
    Ok(c)
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::from_reason(format!("cairn pool: {what} failed (napi status {status})")))
    }
}

/// A threadsafe function handle; calling one from any thread is what it is for.
#[derive(Clone, Copy)]
struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: napi_call_threadsafe_function may be called from any thread; the JS-thread-only calls
// (ref, unref) are made only from the environment's own thread (see `Local`).
unsafe impl Send for Tsfn {}

/// The way back to one JS environment. Workers call the threadsafe function only while holding
/// the lock, and the environment's cleanup hook empties it (under the lock) before Node frees the
/// function, so no worker can call into freed memory.
struct Notifier {
    tsfn: Mutex<Option<Tsfn>>,
}

/// A finished encode on its way to the JS thread: the promise to settle and the Buffers to release
/// there.
struct Done {
    deferred: sys::napi_deferred,
    result: std::result::Result<(), String>,
    buffers: (Buffer, Buffer),
}

// SAFETY: the deferred is only used (settled) on its environment's JS thread, in `settle`.
unsafe impl Send for Done {}

impl Notifier {
    /// Releases the threadsafe function; later sends drop their results.
    fn close(&self) {
        if let Some(Tsfn(f)) = self.tsfn.lock().unwrap_or_else(|e| e.into_inner()).take() {
            // SAFETY: `f` was alive until now; abort makes later calls fail instead of queueing.
            unsafe { sys::napi_release_threadsafe_function(f, sys::ThreadsafeFunctionReleaseMode::abort) };
        }
    }

    fn send(&self, done: Box<Done>) {
        let tsfn = self.tsfn.lock().unwrap_or_else(|e| e.into_inner());
        let Some(Tsfn(f)) = *tsfn else {
            // The environment is gone; so is the promise. Its Buffers' references died with it.
            std::mem::forget(done.buffers);
            return;
        };
        let raw = Box::into_raw(done);
        // SAFETY: `f` is alive while it is in the mutex we hold; `settle` takes `raw` back.
        let status = unsafe {
            sys::napi_call_threadsafe_function(f, raw.cast(), sys::ThreadsafeFunctionCallMode::nonblocking)
        };
        if status != sys::Status::napi_ok {
            // Only when the environment is closing: as above.
            // SAFETY: the call failed, so the queue did not take `raw`.
            std::mem::forget(unsafe { Box::from_raw(raw) }.buffers);
        }
    }
}

/// Per JS thread: its environment's notifier and how many encodes it has in flight.
struct Local {
    env: sys::napi_env,
    notifier: Arc<Notifier>,
    in_flight: usize,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Runs on the JS thread for each `Done` sent (env is null when Node drains the queue at teardown).
unsafe extern "C" fn settle(env: sys::napi_env, _js: sys::napi_value, _ctx: *mut c_void, data: *mut c_void) {
    // SAFETY: `data` is the `Box<Done>` that `Notifier::send` queued.
    let Done { deferred, result, buffers } = *unsafe { Box::from_raw(data.cast::<Done>()) };
    if env.is_null() {
        std::mem::forget(buffers);
        return;
    }
    // SAFETY: on the JS thread of `env`, which owns `deferred`.
    unsafe {
        match result {
            Ok(()) => {
                let mut undefined = ptr::null_mut();
                sys::napi_get_undefined(env, &mut undefined);
                sys::napi_resolve_deferred(env, deferred, undefined);
            }
            Err(msg) => {
                sys::napi_reject_deferred(env, deferred, JsError::from(invalid(msg)).into_value(env));
            }
        }
    }
    drop(buffers);
    one_less(env);
}

/// One encode of `env`'s fewer in flight; at none, the event loop may exit again.
fn one_less(env: sys::napi_env) {
    let _ = LOCAL.try_with(|l| {
        if let Some(l) = l.borrow_mut().as_mut().filter(|l| l.env == env) {
            l.in_flight -= 1;
            if l.in_flight == 0 {
                if let Some(Tsfn(f)) = *l.notifier.tsfn.lock().unwrap_or_else(|e| e.into_inner()) {
                    // SAFETY: JS thread of `env`; `f` is alive while in the mutex.
                    unsafe { sys::napi_unref_threadsafe_function(env, f) };
                }
            }
        }
    });
}

/// Environment teardown: retire the threadsafe function before Node frees it.
unsafe extern "C" fn retire(arg: *mut c_void) {
    // SAFETY: `arg` is the `Arc<Notifier>` leaked for this hook in `notifier_for_one_more`.
    let notifier = unsafe { Arc::from_raw(arg.cast::<Notifier>()) };
    notifier.close();
    let _ = LOCAL.try_with(|l| l.borrow_mut().take());
}

/// This JS thread's notifier, made on first use, and one more encode counted in flight (which
/// keeps the event loop alive until it settles).
fn notifier_for_one_more(env: sys::napi_env) -> Result<Arc<Notifier>> {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        if l.as_ref().is_none_or(|l| l.env != env) {
            let mut name = ptr::null_mut();
            let label = "cairn-pool";
            let mut f = ptr::null_mut();
            // SAFETY: plain N-API calls on the JS thread of `env`.
            unsafe {
                check(
                    sys::napi_create_string_utf8(env, label.as_ptr().cast(), label.len() as isize, &mut name),
                    "napi_create_string_utf8",
                )?;
                check(
                    sys::napi_create_threadsafe_function(
                        env,
                        ptr::null_mut(),
                        ptr::null_mut(),
                        name,
                        0,
                        1,
                        ptr::null_mut(),
                        None,
                        ptr::null_mut(),
                        Some(settle),
                        &mut f,
                    ),
                    "napi_create_threadsafe_function",
                )?;
                sys::napi_unref_threadsafe_function(env, f);
            }
            let notifier = Arc::new(Notifier { tsfn: Mutex::new(Some(Tsfn(f))) });
            let hook = Arc::into_raw(notifier.clone()) as *mut c_void;
            // SAFETY: registered after the threadsafe function, so (hooks run last-in first-out)
            // it runs before Node's own teardown of that function.
            if let Err(e) = check(
                unsafe { sys::napi_add_env_cleanup_hook(env, Some(retire), hook) },
                "napi_add_env_cleanup_hook",
            ) {
                // SAFETY: the hook was not registered, so its reference is ours to take back.
                drop(unsafe { Arc::from_raw(hook.cast::<Notifier>()) });
                notifier.close();
                return Err(e);
            }
            *l = Some(Local { env, notifier, in_flight: 0 });
        }
        let local = l.as_mut().expect("set above");
        if local.in_flight == 0 {
            if let Some(Tsfn(f)) = *local.notifier.tsfn.lock().unwrap_or_else(|e| e.into_inner()) {
                // SAFETY: JS thread of `env`; `f` is alive while in the mutex.
                unsafe { sys::napi_ref_threadsafe_function(env, f) };
            }
        }
        local.in_flight += 1;
        Ok(local.notifier.clone())
    })
}

/// Experimental (see `bench/README.md`): `ErasureCoder.encode` for `dataShards + parityShards`
/// (without hashes), run on Cairn's own threads instead of the libuv threadpool. `data` is cut in
/// blocks of `blockSize` (default: one block); `parity` must be `parityLength` bytes. Leave both
/// Buffers alone until the promise settles.
#[napi(ts_return_type = "Promise<void>")]
pub fn encode_on_own_pool<'env>(
    env: &'env Env,
    data_shards: u32,
    parity_shards: u32,
    data: Buffer,
    parity: Buffer,
    block_size: Option<u32>,
) -> Result<Object<'env>> {
    let coder = coder(data_shards as usize, parity_shards as usize)?;
    check_disjoint(&data, &parity, "data and parity")?;
    let block_size = block_size.map(|b| b as usize).unwrap_or(data.len()).max(1);
    let pool = pool()?;
    let raw_env = env.raw();
    let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: on the JS thread of `env`.
    check(unsafe { sys::napi_create_promise(raw_env, &mut deferred, &mut promise) }, "napi_create_promise")?;
    let notifier = notifier_for_one_more(raw_env)?;
    let done = Done { deferred, result: Ok(()), buffers: (data, parity) };
    let job = pool.run(Box::new(move || {
        let mut done = Box::new(done);
        let (data, parity) = &mut done.buffers;
        let encode = std::panic::AssertUnwindSafe(|| {
            coder.encode_blocks(simd::level(), data, block_size, parity, None).map_err(|e| e.to_string())
        });
        done.result = std::panic::catch_unwind(encode).unwrap_or_else(|_| Err("encode panicked".into()));
        notifier.send(done);
    }));
    if let Err(e) = job {
        one_less(raw_env);
        return Err(e);
    }
    // SAFETY: `promise` is a live value of `env`, returned in this call's scope.
    unsafe { Object::from_napi_value(raw_env, promise) }
}

/// Threads in the pool `encodeOnOwnPool` uses (starting it if need be).
#[napi]
pub fn own_pool_size() -> Result<u32> {
    Ok(pool()?.workers.len() as u32)
}

/// Where `buffer` starts within its 4 KiB page (its address mod 4096), so a bench or an allocator
/// in JS can place shards at the offsets the kernels like (`bench/README.md`, "Layout"). Page
/// offsets are not randomized, so this tells nothing ASLR hides.
#[napi]
pub fn page_offset(buffer: &[u8]) -> u32 {
    (buffer.as_ptr() as usize % 4096) as u32
}
