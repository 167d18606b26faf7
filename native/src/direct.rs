//! Shard files written past the page cache (`O_DIRECT`): a large PUT's shards go from our buffers
//! to the device instead of being copied into page-cache pages first. Measured on the 64 MiB PUT
//! row of `bench/compare.bench.ts`, that kernel copy (`copy_folio_from_iter_atomic`) was 26% of the
//! server's CPU (`bench/profiles/README.md`); MinIO writes its shards the same way.
//!
//! `O_DIRECT` wants the memory, the file offset and the length of every write aligned (to the
//! device's logical block; `ALIGN` covers every common one). The callers' chunks are neither, so
//! each write is staged: the bytes go into an aligned buffer (taken from a small shared pool), whose
//! whole aligned part is written; the unaligned rest (under `ALIGN` bytes) waits in the file's own
//! tail block for the next write. `finish` writes the last tail through the page cache (the file's
//! `O_DIRECT` flag is cleared for it) and then `fdatasync`s: durability is the same as a buffered
//! file's (the file system's metadata, the size among them, needs the fsync either way).
//!
//! Where the file system refuses `O_DIRECT` (tmpfs: `EINVAL` at open) or a direct write (an
//! alignment it does not take), the file goes on through the page cache, whole and correct.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;

/// The alignment of direct writes: memory address, file offset and length.
pub const ALIGN: usize = 4096;
/// The size of a staging buffer: a write's bytes go to the device in pieces of at most this.
pub const STAGE: usize = 256 << 10;
/// Staging buffers kept for reuse (beyond them, a buffer is freed after its write).
const POOL_KEEP: usize = 16;

#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "x86")))]
const O_DIRECT: i32 = 0o40000;
#[cfg(all(target_os = "linux", any(target_arch = "aarch64", target_arch = "arm")))]
const O_DIRECT: i32 = 0o200000;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "x86", target_arch = "aarch64", target_arch = "arm")
)))]
const O_DIRECT: i32 = 0;

const EINVAL: i32 = 22;

/// A heap buffer whose start is `ALIGN`-aligned (a Vec with room to slide the start).
struct Aligned {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize) -> Aligned {
        let raw = vec![0u8; len + ALIGN];
        let start = (ALIGN - raw.as_ptr() as usize % ALIGN) % ALIGN;
        Aligned { raw, start, len }
    }
    fn buf(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

static POOL: Mutex<Vec<Aligned>> = Mutex::new(Vec::new());

fn take_stage() -> Aligned {
    POOL.lock().unwrap_or_else(|e| e.into_inner()).pop().unwrap_or_else(|| Aligned::new(STAGE))
}

fn give_stage(a: Aligned) {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool.len() < POOL_KEEP {
        pool.push(a);
    }
}

/// A file being written front to back, directly to the device when the file system allows it.
pub struct DirectFile {
    file: File,
    /// Writes go past the page cache (the file was opened with `O_DIRECT` and has not fallen back).
    direct: bool,
    /// The bytes after the last aligned write, waiting for more (fewer than `ALIGN`).
    tail: Vec<u8>,
    /// Where the tail starts in the file (a multiple of `ALIGN` while `direct`).
    pos: u64,
}

impl DirectFile {
    /// Creates (or truncates) `path` for writing, mode 0666 before the umask (as Node's `'w'`).
    /// `direct: false` opens it through the page cache from the start.
    pub fn create(path: &Path, direct: bool) -> io::Result<DirectFile> {
        let open = |flags: i32| {
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o666)
                .custom_flags(flags)
                .open(path)
        };
        let (file, direct) = if direct && O_DIRECT != 0 {
            match open(O_DIRECT) {
                Ok(f) => (f, true),
                Err(e) if e.raw_os_error() == Some(EINVAL) => (open(0)?, false),
                Err(e) => return Err(e),
            }
        } else {
            (open(0)?, false)
        };
        Ok(DirectFile { file, direct, tail: Vec::with_capacity(ALIGN), pos: 0 })
    }

    /// Whether writes still go past the page cache.
    pub fn is_direct(&self) -> bool {
        self.direct
    }

    /// Appends `chunks`, in order. After an error the file's content is undefined (the caller
    /// removes it).
    pub fn write(&mut self, chunks: &[&[u8]]) -> io::Result<()> {
        if !self.direct {
            return self.write_buffered(chunks);
        }
        let total: usize = self.tail.len() + chunks.iter().map(|c| c.len()).sum::<usize>();
        if total < ALIGN {
            chunks.iter().for_each(|c| self.tail.extend_from_slice(c));
            return Ok(());
        }
        let mut stage = take_stage();
        let r = self.write_staged(stage.buf(), chunks);
        give_stage(stage);
        r
    }

    /// Fills `stage` with the tail and `chunks`, writing every full stage and, at the end, the
    /// aligned part; the rest becomes the new tail.
    fn write_staged(&mut self, stage: &mut [u8], chunks: &[&[u8]]) -> io::Result<()> {
        let mut filled = self.tail.len();
        stage[..filled].copy_from_slice(&self.tail);
        self.tail.clear();
        for chunk in chunks {
            let mut rest: &[u8] = chunk;
            while !rest.is_empty() {
                let n = rest.len().min(stage.len() - filled);
                stage[filled..filled + n].copy_from_slice(&rest[..n]);
                filled += n;
                rest = &rest[n..];
                if filled == stage.len() {
                    self.write_direct(stage)?;
                    filled = 0;
                }
            }
        }
        let aligned = filled - filled % ALIGN;
        if aligned > 0 {
            self.write_direct(&stage[..aligned])?;
        }
        if self.direct {
            self.tail.extend_from_slice(&stage[aligned..filled]);
        } else {
            // The file fell back to the page cache during this write: the rest goes there too.
            self.write_buffered(&[&stage[aligned..filled]])?;
        }
        Ok(())
    }

    /// Writes `data` (aligned: from a stage, a multiple of `ALIGN` long) at `pos`.
    fn write_direct(&mut self, data: &[u8]) -> io::Result<()> {
        if !self.direct {
            return self.write_buffered(&[data]);
        }
        let mut done = 0;
        while done < data.len() {
            match self.file.write_at(&data[done..], self.pos) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => {
                    done += n;
                    self.pos += n as u64;
                    if n % ALIGN != 0 && done < data.len() {
                        // A short write that broke the alignment: the rest goes through the cache.
                        self.fall_back()?;
                        return self.write_buffered(&[&data[done..]]);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(EINVAL) && done == 0 => {
                    // The device wants another alignment: this file goes through the page cache.
                    self.fall_back()?;
                    return self.write_buffered(&[data]);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Writes through the page cache, after the tail a direct write left (when it fell back).
    fn write_buffered(&mut self, chunks: &[&[u8]]) -> io::Result<()> {
        if !self.tail.is_empty() {
            let tail = std::mem::take(&mut self.tail);
            self.file.write_all_at(&tail, self.pos)?;
            self.pos += tail.len() as u64;
        }
        for chunk in chunks {
            self.file.write_all_at(chunk, self.pos)?;
            self.pos += chunk.len() as u64;
        }
        Ok(())
    }

    /// Clears `O_DIRECT` on the open file: what follows goes through the page cache.
    fn fall_back(&mut self) -> io::Result<()> {
        if self.direct {
            set_direct(&self.file, false)?;
            self.direct = false;
        }
        Ok(())
    }

    /// Writes what is left and `fdatasync`s the file (the file is closed when dropped).
    pub fn finish(&mut self) -> io::Result<()> {
        if !self.tail.is_empty() {
            self.fall_back()?;
            self.write_buffered(&[])?;
        }
        self.file.sync_data()
    }
}

#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::raw::c_int;
    extern "C" {
        fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    }
    const F_GETFL: c_int = 3;
    const F_SETFL: c_int = 4;
    let fd = file.as_raw_fd();
    // SAFETY: plain fcntl calls on a descriptor this file owns; no memory is passed.
    unsafe {
        let flags = fcntl(fd, F_GETFL);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let want = if on { flags | O_DIRECT } else { flags & !O_DIRECT };
        if want != flags && fcntl(fd, F_SETFL, want) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_: &File, _: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<u8> {
        crate::test_bytes(n, u64::from(seed))
    }

    fn roundtrip(dir: &Path, name: &str, direct: bool, pieces: &[Vec<Vec<u8>>]) {
        let path = dir.join(name);
        let mut f = DirectFile::create(&path, direct).unwrap();
        let mut want = Vec::new();
        for call in pieces {
            let refs: Vec<&[u8]> = call.iter().map(|c| c.as_slice()).collect();
            f.write(&refs).unwrap();
            call.iter().for_each(|c| want.extend_from_slice(c));
        }
        f.finish().unwrap();
        drop(f);
        let got = std::fs::read(&path).unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        assert!(got == want, "{name}: content differs");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn writes_any_sizes_in_order() {
        // The target dir is on a disk file system here; /dev/shm (tmpfs) refuses O_DIRECT.
        let dir = std::env::temp_dir().join(format!("cairn-direct-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for direct in [true, false] {
            let cases: Vec<Vec<Vec<Vec<u8>>>> = vec![
                vec![],
                vec![vec![data(1, 1)]],
                vec![vec![data(ALIGN, 2)]],
                vec![vec![data(ALIGN - 1, 3)], vec![data(2, 4)]],
                vec![vec![data(512 * 1024 + 32, 5)], vec![data(512 * 1024 + 32, 6)], vec![data(77, 7)]],
                vec![vec![data(STAGE + 5, 8), data(STAGE * 2 + 4095, 9)], vec![data(3, 10)]],
                vec![vec![data(100, 11), data(0, 12), data(ALIGN * 3, 13)]],
            ];
            for (i, c) in cases.iter().enumerate() {
                roundtrip(&dir, &format!("f{i}-{direct}"), direct, c);
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn tmpfs_works_with_or_without_direct_writes() {
        // tmpfs refuses O_DIRECT before Linux 6.6 (the fallback) and takes it since.
        let dir = Path::new("/dev/shm");
        if !dir.is_dir() {
            return;
        }
        let name = format!("cairn-direct-{}", std::process::id());
        roundtrip(dir, &name, true, &[vec![data(ALIGN * 2 + 3, 1)], vec![data(10, 2)]]);
    }

    #[test]
    fn a_direct_file_falls_back_when_told_to() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("cairn-direct-fb-{}", std::process::id()));
        let mut f = DirectFile::create(&path, true).unwrap();
        let a = data(ALIGN + 10, 3);
        f.write(&[&a]).unwrap();
        f.fall_back().unwrap();
        assert!(!f.is_direct());
        let b = data(ALIGN * 3, 4);
        f.write(&[&b]).unwrap();
        f.finish().unwrap();
        drop(f);
        let got = std::fs::read(&path).unwrap();
        assert!(got == [a, b].concat());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_missing_directory_fails_with_enoent() {
        let e = DirectFile::create(Path::new("/nonexistent-cairn/x/y"), true).err().unwrap();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
