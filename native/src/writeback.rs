//! Writeback started while a file is still being written: a shard file's dirty pages go to the
//! device in the background as the body streams, so the fsync that commits the file finds little
//! left to write (`LocalDrive`'s `FileWriter`, src/storage/LocalDrive.ts).
//!
//! Only a hint: durability still comes from the fsync at the end (which also reports any error of
//! this writeback: the kernel keeps it for the file's next fsync).

use std::io;

/// Asks the kernel to start writing the dirty pages of `len` bytes at `offset` of the open file
/// `fd` to its device, without waiting for them (Linux's `sync_file_range` with
/// `SYNC_FILE_RANGE_WRITE`; it may still wait for a congested device queue). Elsewhere nothing.
pub fn start_writeback(fd: i32, offset: u64, len: u64) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use std::os::raw::{c_int, c_uint};
        extern "C" {
            fn sync_file_range(fd: c_int, offset: i64, nbytes: i64, flags: c_uint) -> c_int;
        }
        const SYNC_FILE_RANGE_WRITE: c_uint = 2;
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        };
        // SAFETY: a plain system call on a file descriptor; no memory is passed.
        if unsafe { sync_file_range(fd, offset, len, SYNC_FILE_RANGE_WRITE) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (fd, offset, len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn starts_writeback_of_a_written_range() {
        let path = std::env::temp_dir().join(format!("cairn-writeback-{}", std::process::id()));
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&vec![7u8; 1 << 20]).unwrap();
        start_writeback(f.as_raw_fd(), 0, 1 << 20).unwrap();
        start_writeback(f.as_raw_fd(), 4096, 0).unwrap(); // 0: to the end of the file
        f.sync_data().unwrap();
        drop(f);
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_closed_descriptor_fails() {
        let e = start_writeback(-1, 0, 4096).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(9)); // EBADF
    }
}
