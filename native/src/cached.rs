//! Reads of small files that never wait for a device, for the JS thread: the file is read only when
//! the path's lookup and all its bytes are in the kernel's caches (Linux: `openat2` with
//! `RESOLVE_CACHED`, `preadv2` with `RWF_NOWAIT`); otherwise `None`, and the caller reads it on a
//! worker thread as before (`fsio::read_file`).
//!
//! Why: a small GET reads the metadata file of every drive. One libuv pool task per drive costs a
//! thread wake-up and a completion each; on a 2-core machine under load those hand-offs were a
//! quarter of a worker's CPU (`bench/profiles/README.md`). A hot metadata file is read here in four
//! system calls of a few microseconds, with no hand-off, and a cold one costs one failed attempt.
//!
//! `O_NOATIME` (when we own the file) keeps the read from updating the access time, which could
//! wait for the journal.

use std::path::Path;

/// The most `read_file_cached` copies on the caller's thread.
pub const MAX_CACHED_READ: usize = 256 << 10;

/// The first `head` bytes of `path` (the whole file without `head`) when the kernel can serve them
/// without waiting for a device; `None` when it cannot, when the file is not a regular file, or on
/// any error (the caller's slow path then reports it properly).
/// openat2 or RESOLVE_CACHED unknown to this kernel (before 5.12): never tried again.
#[cfg(target_os = "linux")]
static UNSUPPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `open_cached` can work here (false after the kernel refused `openat2`'s cached lookup).
pub fn open_cached_supported() -> bool {
    #[cfg(target_os = "linux")]
    return !UNSUPPORTED.load(std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(target_os = "linux"))]
    false
}

/// Opens `path` for reading when its lookup needs no device access (`openat2` with
/// `RESOLVE_CACHED`, Linux 5.12+), with `O_NOATIME` when we own the file; `None` otherwise, or on
/// any error.
#[cfg(target_os = "linux")]
pub fn open_cached(path: &Path) -> Option<std::fs::File> {
    use std::ffi::CString;
    use std::os::fd::FromRawFd;
    use std::os::raw::{c_int, c_long};
    use std::os::unix::ffi::OsStrExt;
    use std::sync::atomic::Ordering;

    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    extern "C" {
        fn syscall(n: c_long, ...) -> c_long;
    }
    // The same numbers on x86-64 and arm64 (openat2 came after the syscall tables were unified).
    const SYS_OPENAT2: c_long = 437;
    const AT_FDCWD: c_long = -100;
    const O_RDONLY: u64 = 0;
    const O_CLOEXEC: u64 = 0o2000000;
    const O_NOATIME: u64 = 0o1000000; // (the generic value: x86-64 and arm64 alike)
    const RESOLVE_CACHED: u64 = 0x20;
    const EPERM: i32 = 1;
    const ENOSYS: i32 = 38;
    const EINVAL: i32 = 22;
    if UNSUPPORTED.load(Ordering::Relaxed) {
        return None;
    }
    let cpath = CString::new(path.as_os_str().as_bytes()).ok()?;
    let open = |flags: u64| -> Result<c_int, i32> {
        let how = OpenHow { flags, mode: 0, resolve: RESOLVE_CACHED };
        // SAFETY: openat2 reads the NUL-terminated path and `how` (its size passed) during the call.
        let fd = unsafe {
            syscall(
                SYS_OPENAT2,
                AT_FDCWD,
                cpath.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd < 0 {
            Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
        } else {
            Ok(fd as c_int)
        }
    };
    let fd = match open(O_RDONLY | O_CLOEXEC | O_NOATIME) {
        Ok(fd) => fd,
        // O_NOATIME on a file someone else owns; EPERM again is a seccomp filter or an LSM
        // refusing openat2 itself (older container runtimes' default profiles): stop trying.
        Err(EPERM) => match open(O_RDONLY | O_CLOEXEC) {
            Ok(fd) => fd,
            Err(EPERM) => {
                UNSUPPORTED.store(true, Ordering::Relaxed);
                return None;
            }
            Err(_) => return None,
        },
        Err(ENOSYS) | Err(EINVAL) => {
            UNSUPPORTED.store(true, Ordering::Relaxed);
            return None;
        }
        Err(_) => return None,
    };
    // SAFETY: `fd` was just opened here and is owned by nothing else; File closes it on drop.
    Some(unsafe { std::fs::File::from_raw_fd(fd) })
}

#[cfg(not(target_os = "linux"))]
pub fn open_cached(_: &Path) -> Option<std::fs::File> {
    None
}

/// The first `head` bytes of `path` (the whole file without `head`) when the kernel can serve them
/// without waiting for a device; `None` when it cannot, when the file is not a regular file, or on
/// any error (the caller's slow path then reports it properly).
/// `preadv2` and its `RWF_NOWAIT` flag (glibc has the call; std does not).
#[cfg(target_os = "linux")]
pub(crate) mod sys {
    use std::os::raw::{c_int, c_void};

    #[repr(C)]
    pub struct IoVec {
        pub base: *mut c_void,
        pub len: usize,
    }
    extern "C" {
        pub fn preadv2(fd: c_int, iov: *const IoVec, iovcnt: c_int, offset: i64, flags: c_int) -> isize;
    }
    /// Fail with `EAGAIN` rather than wait for the device.
    pub const RWF_NOWAIT: c_int = 0x8;
}

#[cfg(target_os = "linux")]
pub fn read_file_cached(path: &Path, head: Option<u64>) -> Option<Vec<u8>> {
    use std::os::fd::AsRawFd;
    use sys::{preadv2, IoVec, RWF_NOWAIT};

    let file = open_cached(path)?;
    let fd = file.as_raw_fd();
    if let Some(data) = read_small_whole(fd, head) {
        return Some(data);
    }
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let want = usize::try_from(head.map_or(meta.len(), |h| h.min(meta.len()))).ok()?;
    // A large file (a key with many versions) is copied on a worker thread, not this one.
    if want > MAX_CACHED_READ {
        return None;
    }
    let mut buf = vec![0u8; want];
    let mut len = 0;
    while len < want {
        let iov = IoVec { base: buf[len..].as_mut_ptr().cast(), len: want - len };
        // SAFETY: one iovec over the unfilled part of `buf`, which outlives the call.
        let n = unsafe { preadv2(fd, &iov, 1, len as i64, RWF_NOWAIT) };
        match n {
            0 => break, // the file is shorter than its size said: what there is
            n if n > 0 => len += n as usize,
            _ => return None, // EAGAIN (not all cached), EOPNOTSUPP, anything else
        }
    }
    buf.truncate(len);
    Some(buf)
}

/// Bytes a first read asks for before the file's size is known.
#[cfg(target_os = "linux")]
const FIRST_READ: usize = 16 << 10;

/// A small file (or its head) in one `preadv2`, without the `fstat` for its size: a read from
/// offset 0 that stops short of what was asked, and off a page boundary, stopped at the end of the
/// file (a read that finds a page not cached stops at that page's start, a multiple of the page
/// size). `None` when that cannot be told, and the caller asks the size.
#[cfg(target_os = "linux")]
fn read_small_whole(fd: std::os::raw::c_int, head: Option<u64>) -> Option<Vec<u8>> {
    use sys::{preadv2, IoVec, RWF_NOWAIT};
    const PAGE: usize = 4096; // the smallest page size: boundaries of larger ones are boundaries of it
    let ask = head.map_or(FIRST_READ, |h| (h.min(FIRST_READ as u64)) as usize);
    if ask == 0 {
        return None;
    }
    let mut buf = Vec::<u8>::with_capacity(ask);
    let iov = IoVec { base: buf.as_mut_ptr().cast(), len: ask };
    // SAFETY: one iovec over `buf`'s spare capacity, which outlives the call.
    let n = unsafe { preadv2(fd, &iov, 1, 0, RWF_NOWAIT) };
    if n < 0 {
        return None;
    }
    let n = n as usize;
    let whole = head.is_some_and(|h| n as u64 == h) || (n < ask && !n.is_multiple_of(PAGE));
    if !whole {
        return None;
    }
    // SAFETY: the kernel wrote the first `n` bytes.
    unsafe { buf.set_len(n) };
    Some(buf)
}

#[cfg(not(target_os = "linux"))]
pub fn read_file_cached(_: &Path, _: Option<u64>) -> Option<Vec<u8>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_a_file_just_written_and_its_head() {
        let path = std::env::temp_dir().join(format!("cairn-cached-{}", std::process::id()));
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        // Just written: the lookup and the pages are cached (unless the kernel is too old).
        if let Some(all) = read_file_cached(&path, None) {
            assert_eq!(all, data);
            assert_eq!(read_file_cached(&path, Some(100)).unwrap(), &data[..100]);
            assert_eq!(read_file_cached(&path, Some(1 << 30)).unwrap(), data);
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sizes_on_and_off_page_boundaries_read_whole() {
        // One read tells the end only off a page boundary; the others ask the size.
        for (i, size) in
            [0usize, 1, 4095, 4096, 8192, 12_000, FIRST_READ - 1, FIRST_READ, FIRST_READ + 1, 100_000]
                .into_iter()
                .enumerate()
        {
            let path = std::env::temp_dir().join(format!("cairn-cached-sizes-{}-{i}", std::process::id()));
            let data: Vec<u8> = (0..size as u32).map(|i| (i * 13 + 5) as u8).collect();
            std::fs::write(&path, &data).unwrap();
            if let Some(all) = read_file_cached(&path, None) {
                assert_eq!(all.len(), size, "size {size}");
                assert_eq!(all, data, "size {size}");
                for head in [0u64, 1, 4096, 5000, size as u64, size as u64 + 1] {
                    let want = &data[..(head as usize).min(size)];
                    assert_eq!(read_file_cached(&path, Some(head)).unwrap(), want, "size {size} head {head}");
                }
            }
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_file_is_left_to_a_worker_thread_but_its_head_is_not() {
        let path = std::env::temp_dir().join(format!("cairn-cached-large-{}", std::process::id()));
        let data = vec![7u8; MAX_CACHED_READ + 1];
        std::fs::write(&path, &data).unwrap();
        assert!(read_file_cached(&path, None).is_none());
        if open_cached_supported() {
            if let Some(head) = read_file_cached(&path, Some(4096)) {
                assert_eq!(head, &data[..4096]);
            }
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn missing_files_and_directories_are_none() {
        assert!(read_file_cached(Path::new("/nonexistent-cairn/meta"), None).is_none());
        assert!(read_file_cached(&std::env::temp_dir(), None).is_none());
    }
}
