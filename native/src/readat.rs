//! A positioned read of a whole range of a file in one call: open, read until `buf` is full or the
//! file ends, close (`LocalDrive.readFile`, src/storage/LocalDrive.ts). One task on a libuv pool
//! thread instead of four pool round trips (open, read, stat, close) through `fs/promises`.

use std::fs::File;
use std::io;
use std::path::Path;

/// Reads `buf.len()` bytes at `offset` of the file at `path`, fewer when the file ends first;
/// returns how many. An empty read still opens the file and checks it is a regular file (a
/// directory is `EISDIR`, as a read of one would be).
pub fn read_at(path: &Path, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    let f = File::open(path)?;
    if buf.is_empty() {
        if !f.metadata()?.is_file() {
            return Err(is_a_directory());
        }
        return Ok(0);
    }
    let mut done = 0;
    while done < buf.len() {
        match read_once(&f, &mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(unix)]
fn read_once(f: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, at)
}

#[cfg(windows)]
fn read_once(f: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, at)
}

fn is_a_directory() -> io::Error {
    #[cfg(unix)]
    return io::Error::from_raw_os_error(21); // EISDIR on Linux and macOS alike
    #[cfg(not(unix))]
    io::Error::new(io::ErrorKind::Other, "EISDIR")
}

/// The errno name Node would give `e` (`ENOENT`, `EISDIR`...), `EIO` when there is none.
pub fn code_of(e: &io::Error) -> &'static str {
    #[cfg(unix)]
    if let Some(n) = e.raw_os_error() {
        return match n {
            1 => "EPERM",
            2 => "ENOENT",
            4 => "EINTR",
            5 => "EIO",
            9 => "EBADF",
            12 => "ENOMEM",
            13 => "EACCES",
            20 => "ENOTDIR",
            21 => "EISDIR",
            22 => "EINVAL",
            23 => "ENFILE",
            24 => "EMFILE",
            // ENAMETOOLONG and ELOOP differ between Linux and the BSDs.
            #[cfg(any(target_os = "linux", target_os = "android"))]
            36 => "ENAMETOOLONG",
            #[cfg(any(target_os = "linux", target_os = "android"))]
            40 => "ELOOP",
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            63 => "ENAMETOOLONG",
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            62 => "ELOOP",
            _ => "EIO",
        };
    }
    match e.kind() {
        io::ErrorKind::NotFound => "ENOENT",
        io::ErrorKind::PermissionDenied => "EACCES",
        io::ErrorKind::InvalidInput => "EINVAL",
        _ if e.to_string() == "EISDIR" => "EISDIR",
        _ => "EIO",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("cairn-readat-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn reads_a_range_or_what_the_file_has() {
        let dir = temp("range");
        let f = dir.join("f");
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        std::fs::write(&f, &data).unwrap();
        let mut buf = vec![0u8; 5000];
        assert_eq!(read_at(&f, 1000, &mut buf).unwrap(), 5000);
        assert_eq!(&buf[..], &data[1000..6000]);
        assert_eq!(read_at(&f, 98_000, &mut buf).unwrap(), 2000);
        assert_eq!(&buf[..2000], &data[98_000..]);
        assert_eq!(read_at(&f, 200_000, &mut buf).unwrap(), 0);
        assert_eq!(read_at(&f, 0, &mut []).unwrap(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_carry_node_errno_names() {
        let dir = temp("errors");
        let e = read_at(&dir.join("nope"), 0, &mut [0u8; 4]).unwrap_err();
        assert_eq!(code_of(&e), "ENOENT");
        let e = read_at(&dir, 0, &mut [0u8; 4]).unwrap_err();
        assert_eq!(code_of(&e), "EISDIR");
        let e = read_at(&dir, 0, &mut []).unwrap_err();
        assert_eq!(code_of(&e), "EISDIR");
        std::fs::write(dir.join("file"), b"x").unwrap();
        let e = read_at(&dir.join("file").join("below"), 0, &mut [0u8; 4]).unwrap_err();
        assert_eq!(code_of(&e), "ENOTDIR");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
