//! A drive's small whole files, each operation in one call: the metadata reads and the commits of
//! `LocalDrive` (src/storage/LocalDrive.ts), run as one task on a libuv pool thread instead of one
//! pool round trip (with its promise, `FileHandle` and `AbortSignal`) per system call.
//!
//! The crash-safety rules are `LocalDrive`'s, step for step: a file is written whole to a new
//! temporary file on the same file system, fsynced, renamed over its target, and the target's
//! directory is fsynced; every directory made on the way is fsynced into its parent. A crash
//! leaves the old file or the new one, plus at worst a stray temporary file (`cleanTmp`).
//!
//! Paths are absolute and already checked by the caller (escaped key segments, no `..`): nothing
//! here resolves or validates them. Nothing is made above a `base` directory (the volume's), so a
//! missing volume or drive stays missing and surfaces as `ENOENT`.
//!
//! Errors say which step failed (`Stage`), the system call and path, and carry the `io::Error`,
//! whose errno name (`errno_name`) lets the caller map it as it maps Node's fs errors.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The step of an operation that failed; the caller decides from it what the error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the file.
    Read,
    /// Making, writing or fsyncing the temporary file (or the temporary directory).
    Tmp,
    /// Renaming the temporary file into place: making parent directories, fsyncing them.
    Commit,
    /// `rename_data`: the directory to move is not there.
    Source,
    /// `rename_data`: moving the data directory into the object's directory.
    Move,
    /// `rename_data`: fsyncing the directories after the move.
    Sync,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Tmp => "tmp",
            Stage::Commit => "commit",
            Stage::Source => "source",
            Stage::Move => "move",
            Stage::Sync => "sync",
        }
    }
}

/// A failed system call of an operation.
#[derive(Debug)]
pub struct FsError {
    pub stage: Stage,
    pub syscall: &'static str,
    pub path: PathBuf,
    pub error: io::Error,
}

impl FsError {
    /// The errno name of the error (`ENOENT`), as Node's fs errors have it in `code`.
    pub fn code(&self) -> &'static str {
        errno_name(&self.error)
    }

    /// Something on the path is not there (`ENOENT`), or is a file where a directory should be
    /// (`ENOTDIR`): either way, not what a caller can read.
    pub fn is_missing(&self) -> bool {
        is_missing(&self.error)
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}, {} '{}'", self.code(), self.error, self.syscall, self.path.display())
    }
}

impl std::error::Error for FsError {}

pub type FsResult<T> = Result<T, FsError>;

/// A system call's error without its stage (helpers that serve several stages return these).
type Failed = (&'static str, PathBuf, io::Error);

fn fail(stage: Stage) -> impl FnOnce(Failed) -> FsError {
    move |(syscall, path, error)| FsError { stage, syscall, path, error }
}

fn call<T>(syscall: &'static str, path: &Path, r: io::Result<T>) -> Result<T, Failed> {
    r.map_err(|e| (syscall, path.to_path_buf(), e))
}

/// The errno name of an OS error, as libuv names it (`ENOENT`), or `UNKNOWN`.
///
/// Errnos 1 to 34 (but 11) have the same numbers on Linux, macOS and the BSDs (they go back to
/// V7 Unix), so they are read from the number; the rest, and Windows errors, from the error's
/// kind, which std derives per platform.
pub fn errno_name(e: &io::Error) -> &'static str {
    #[cfg(unix)]
    if let Some(n) = e.raw_os_error() {
        const CLASSIC: [&str; 35] = [
            "", "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF", "ECHILD",
            "", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV", "ENOTDIR",
            "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE",
            "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE",
        ];
        if let Some(name) = usize::try_from(n).ok().and_then(|i| CLASSIC.get(i)).filter(|s| !s.is_empty()) {
            return name;
        }
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::NotADirectory => "ENOTDIR",
        K::IsADirectory => "EISDIR",
        K::DirectoryNotEmpty => "ENOTEMPTY",
        K::ReadOnlyFilesystem => "EROFS",
        K::StorageFull => "ENOSPC",
        K::QuotaExceeded => "EDQUOT",
        K::InvalidFilename => "ENAMETOOLONG",
        K::CrossesDevices => "EXDEV",
        K::ResourceBusy => "EBUSY",
        K::FileTooLarge => "EFBIG",
        K::TooManyLinks => "EMLINK",
        K::InvalidInput => "EINVAL",
        K::Interrupted => "EINTR",
        K::OutOfMemory => "ENOMEM",
        K::WouldBlock => "EAGAIN",
        K::Unsupported => "ENOTSUP",
        _ => "UNKNOWN",
    }
}

fn is_missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

/// Whether `path` is a directory (following symbolic links); any error is a no.
pub fn is_dir(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_dir())
}

// --- reads -----------------------------------------------------------------------------------------

/// A whole file, or at most its first `head` bytes: open, fstat, read, close. A directory fails
/// with `EISDIR`. The size comes from the fstat: files read this way are replaced by rename,
/// never written in place, so it does not change under the read.
pub fn read_file(path: &Path, head: Option<u64>) -> FsResult<Vec<u8>> {
    let at = |syscall: &'static str, error: io::Error| FsError {
        stage: Stage::Read,
        syscall,
        path: path.to_path_buf(),
        error,
    };
    let mut file = File::open(path).map_err(|e| at("open", e))?;
    let meta = file.metadata().map_err(|e| at("fstat", e))?;
    if meta.is_dir() {
        return Err(at("read", io::ErrorKind::IsADirectory.into()));
    }
    let want = head.map_or(meta.len(), |h| h.min(meta.len()));
    let want = usize::try_from(want).map_err(|_| at("read", io::ErrorKind::FileTooLarge.into()))?;
    let mut buf = vec![0u8; want];
    let mut len = 0;
    while len < want {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(at("read", e)),
        }
    }
    buf.truncate(len);
    Ok(buf)
}

// --- directories -----------------------------------------------------------------------------------

/// fsync a directory, so that entries made, renamed or removed in it survive a crash. Where a
/// directory cannot be opened (Windows: EISDIR, EPERM) or fsynced (some file systems: EINVAL,
/// EBADF; their renames are durable anyway) there is nothing more to do.
pub fn fsync_dir(dir: &Path) -> io::Result<()> {
    let f = match File::open(dir) {
        Ok(f) => f,
        // (libuv names Windows' ERROR_ACCESS_DENIED EPERM; std calls it PermissionDenied.)
        Err(e)
            if matches!(errno_name(&e), "EISDIR" | "EPERM")
                || (cfg!(windows) && e.kind() == io::ErrorKind::PermissionDenied) =>
        {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    match f.sync_all() {
        Err(e) if matches!(errno_name(&e), "EINVAL" | "EBADF") => Ok(()),
        r => r,
    }
}

fn fsync_dir_at(dir: &Path) -> Result<(), Failed> {
    call("fsync", dir, fsync_dir(dir))
}

/// Whether the file system holding `path` makes metadata changes durable in the order they were
/// made, each rename whole: ext4 and XFS log every change to one journal and commit it in order,
/// so the fsync that commits a later change commits every earlier one with it (a rename's two
/// directory entries are in one transaction). Steps that only order earlier changes before later
/// ones then need no fsync of their own; the last fsync, before the caller is told, still runs.
/// btrfs logs per inode, and others promise nothing: there every step is synced in turn.
pub fn journals_in_order(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::raw::{c_char, c_int, c_long};
        use std::os::unix::ffi::OsStrExt;
        const EXT4_SUPER_MAGIC: c_long = 0xEF53;
        const XFS_SUPER_MAGIC: c_long = 0x5846_5342;
        extern "C" {
            fn statfs(path: *const c_char, buf: *mut c_long) -> c_int;
        }
        let Ok(c) = CString::new(path.as_os_str().as_bytes()) else { return false };
        // struct statfs: 120 bytes on x86-64 and arm64, its first field `f_type` a long.
        let mut buf = [0 as c_long; 32];
        // SAFETY: a NUL-terminated path and a buffer larger than struct statfs.
        if unsafe { statfs(c.as_ptr(), buf.as_mut_ptr()) } != 0 {
            return false;
        }
        matches!(buf[0], EXT4_SUPER_MAGIC | XFS_SUPER_MAGIC)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// `mkdir -p dir`, making nothing at or above `base` (its absence surfaces as `ENOENT`); the
/// directories made are appended to `made`, outermost first, and each is fsynced into its parent
/// (not on a file system that `journals_in_order`: the caller's next fsync makes them durable).
/// A file in the way is left for the next step to meet (`ENOTDIR`).
pub fn mkdir_all(base: &Path, dir: &Path, made: &mut Vec<PathBuf>) -> Result<(), Failed> {
    let first = made.len();
    make_dir(base, dir, made)?;
    if made.len() > first && journals_in_order(base) {
        return Ok(());
    }
    for d in made[first..].iter() {
        fsync_dir_at(d.parent().unwrap_or(base))?;
    }
    Ok(())
}

fn make_dir(base: &Path, dir: &Path, made: &mut Vec<PathBuf>) -> Result<(), Failed> {
    if dir == base || !dir.starts_with(base) {
        return Ok(());
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            made.push(dir.to_path_buf());
            return Ok(());
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => match dir.parent() {
            Some(parent) if e.kind() == io::ErrorKind::NotFound && parent != base => {
                make_dir(base, parent, made)?
            }
            _ => return Err(("mkdir", dir.to_path_buf(), e)),
        },
    }
    match fs::create_dir(dir) {
        Ok(()) => made.push(dir.to_path_buf()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(("mkdir", dir.to_path_buf(), e)),
    }
    Ok(())
}

/// Removes directories made by `mkdir_all` (innermost first) when what they served failed.
fn undo_mkdir(made: &[PathBuf]) {
    for d in made.iter().rev() {
        let _ = fs::remove_dir(d);
    }
}

// --- writes ----------------------------------------------------------------------------------------

/// A name no other temporary file of this process has had: the process id and start time, then a
/// counter. (The file is made with `O_EXCL`, so a clash with a leftover only costs another name.)
fn tmp_name() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        format!("{:x}-{:x}", std::process::id(), t.as_nanos())
    });
    format!("{prefix}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Makes the temporary directory and its parent (the system volume) when missing, one level at a
/// time and never further up, so a vanished drive root is not recreated.
fn make_tmp_dir(tmp_dir: &Path) -> Result<(), Failed> {
    for dir in [tmp_dir.parent(), Some(tmp_dir)].into_iter().flatten() {
        match fs::create_dir(dir) {
            Ok(()) => fsync_dir_at(dir.parent().unwrap_or(dir))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(("mkdir", dir.to_path_buf(), e)),
        }
    }
    Ok(())
}

fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// Writes `data` to a new temporary file in `tmp_dir` (made when missing), fsyncs and closes it;
/// returns its path. On failure nothing is left behind.
pub fn write_tmp(tmp_dir: &Path, data: &[u8]) -> FsResult<PathBuf> {
    let mut made_tmp_dir = false;
    let mut clashes = 0;
    let (mut file, path) = loop {
        let path = tmp_dir.join(tmp_name());
        match create_new(&path) {
            Ok(f) => break (f, path),
            Err(e) if e.kind() == io::ErrorKind::NotFound && !made_tmp_dir => {
                // Removed under us (a clean-up, a delete of its last entry) or never made: remake it.
                make_tmp_dir(tmp_dir).map_err(fail(Stage::Tmp))?;
                made_tmp_dir = true;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && clashes < 8 => clashes += 1,
            Err(e) => return Err(fail(Stage::Tmp)(("open", path, e))),
        }
    };
    let written =
        call("write", &path, file.write_all(data)).and_then(|_| call("fsync", &path, file.sync_all()));
    // Closed here; after a successful fsync a close has nothing left to lose.
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&path);
        return Err(fail(Stage::Tmp)(e));
    }
    Ok(path)
}

/// Renames `src` to `dst`, making `dst`'s missing parents below `base` when the rename says they
/// are missing, then fsyncs `dst`'s directory. A concurrent delete may remove the parents just
/// made (it cleans empty ones), so this tries a few times.
pub fn rename_into(src: &Path, dst: &Path, base: &Path) -> Result<(), Failed> {
    let parent = dst.parent().unwrap_or(base);
    let mut attempt = 0;
    loop {
        match fs::rename(src, dst) {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < 3 => {
                // The source itself missing: ENOENT again, no point in making directories.
                call("lstat", src, fs::symlink_metadata(src))?;
                mkdir_all(base, parent, &mut Vec::new())?;
                attempt += 1;
            }
            Err(e) => return Err(("rename", dst.to_path_buf(), e)),
        }
    }
    fsync_dir_at(parent)
}

/// Atomically replaces `path` with `data`: a temporary file in `tmp_dir` (same file system),
/// fsync, rename over `path` (making its missing parents below `base`), fsync of its directory.
/// A failure at `Stage::Tmp` concerns the temporary directory, at `Stage::Commit` `path`.
pub fn write_file_atomic(path: &Path, data: &[u8], tmp_dir: &Path, base: &Path) -> FsResult<()> {
    let tmp = write_tmp(tmp_dir, data)?;
    rename_into(&tmp, path, base).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        fail(Stage::Commit)(e)
    })
}

/// Where `rename_data` moves a data directory and writes the metadata.
#[derive(Debug, Clone)]
pub struct RenameData<'a> {
    /// The directory to move: a temporary data dir whose files are fsynced.
    pub src: &'a Path,
    /// The object's directory, made when missing (below `base`).
    pub dir: &'a Path,
    /// The data dir's name inside `dir`.
    pub data_dir: &'a str,
    /// The metadata file's name inside `dir`.
    pub meta_file: &'a str,
    pub tmp_dir: &'a Path,
    /// The volume's directory: nothing at or above it is made.
    pub base: &'a Path,
}

/// The commit of a write (`LocalDrive.renameData`): 1. moves `src` to `dir/data_dir` (making
/// `dir`), 2. fsyncs `dir` and `src`'s parent so the move is durable before the commit (unless
/// the file system `journals_in_order`: then the commit's fsyncs do), 3. replaces `dir/meta_file`
/// with `metadata` atomically. A failure before 3 is done puts the data dir back (and removes the
/// directories 1 made), so the caller can retry or clean up; a crash leaves the old metadata (and
/// an orphan data dir that a scan removes) or the new one with its data in place.
///
/// Errors: `Source` (nothing to move), `Move`, `Sync`, then `Tmp` or `Commit` of the metadata file.
pub fn rename_data(r: &RenameData<'_>, metadata: &[u8]) -> FsResult<()> {
    let dst = r.dir.join(r.data_dir);

    // 1. The data directory into the object directory; on failure nothing is left changed.
    let mut made = Vec::new();
    if let Err(e) = fs::rename(r.src, &dst) {
        if !is_missing(&e) {
            return Err(fail(Stage::Move)(("rename", dst, e)));
        }
        call("lstat", r.src, fs::symlink_metadata(r.src)).map_err(fail(Stage::Source))?;
        mkdir_all(r.base, r.dir, &mut made).map_err(fail(Stage::Move))?;
        if let Err(e) = fs::rename(r.src, &dst) {
            undo_mkdir(&made);
            return Err(fail(Stage::Move)(("rename", dst, e)));
        }
    }

    // 2. Make the move durable, then 3. commit by replacing the metadata file atomically. Where
    // the journal keeps the order (ext4, XFS), the commit's own fsyncs make the move durable
    // first: no fsync of the two directories here (8 of a PUT's 20 on 4 drives).
    let from = r.src.parent().unwrap_or(r.base);
    let synced = if journals_in_order(r.base) {
        Ok(())
    } else {
        fsync_dir_at(r.dir).and_then(|_| if from != r.dir { fsync_dir_at(from) } else { Ok(()) })
    };
    let committed = synced
        .map_err(fail(Stage::Sync))
        .and_then(|_| write_file_atomic(&r.dir.join(r.meta_file), metadata, r.tmp_dir, r.base));
    if committed.is_err() {
        // Not committed: put the data back where the caller can retry or clean it (a crash here
        // would leave an orphan data dir, which the scanner removes; an error need not).
        if fs::rename(&dst, r.src).is_ok() {
            undo_mkdir(&made);
        }
    }
    committed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// A drive root with a volume `v` and the temp dir path (not made), removed on drop.
    struct Drive {
        root: PathBuf,
    }

    impl Drive {
        fn new() -> Drive {
            let root = std::env::temp_dir().join(format!(
                "cairn-fsio-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&root);
            fs::create_dir_all(root.join("v")).unwrap();
            Drive { root }
        }
        fn vol(&self) -> PathBuf {
            self.root.join("v")
        }
        fn tmp(&self) -> PathBuf {
            self.root.join(".cairn.sys").join("tmp")
        }
        fn tmp_entries(&self) -> usize {
            fs::read_dir(self.tmp()).map(|d| d.count()).unwrap_or(0)
        }
        fn write(&self, rel: &str, data: &[u8]) -> FsResult<()> {
            write_file_atomic(&self.vol().join(rel), data, &self.tmp(), &self.vol())
        }
    }

    impl Drop for Drive {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn names_errnos_as_libuv_does() {
        assert_eq!(errno_name(&io::ErrorKind::NotFound.into()), "ENOENT");
        assert_eq!(errno_name(&io::ErrorKind::IsADirectory.into()), "EISDIR");
        assert_eq!(errno_name(&io::ErrorKind::DirectoryNotEmpty.into()), "ENOTEMPTY");
        assert_eq!(errno_name(&io::ErrorKind::StorageFull.into()), "ENOSPC");
        assert_eq!(errno_name(&io::ErrorKind::QuotaExceeded.into()), "EDQUOT");
        assert_eq!(errno_name(&io::ErrorKind::InvalidFilename.into()), "ENAMETOOLONG");
        assert_eq!(errno_name(&io::Error::other("x")), "UNKNOWN");
        #[cfg(unix)]
        for (n, name) in
            [(1, "EPERM"), (2, "ENOENT"), (5, "EIO"), (9, "EBADF"), (20, "ENOTDIR"), (28, "ENOSPC")]
        {
            assert_eq!(errno_name(&io::Error::from_raw_os_error(n)), name);
        }
        #[cfg(target_os = "linux")]
        for (n, name) in [(11, "EAGAIN"), (36, "ENAMETOOLONG"), (39, "ENOTEMPTY"), (122, "EDQUOT")] {
            assert_eq!(errno_name(&io::Error::from_raw_os_error(n)), name);
        }
    }

    #[test]
    fn reads_a_whole_file_or_its_head() {
        let d = Drive::new();
        let p = d.vol().join("f");
        let data: Vec<u8> = (0..10_000u32).map(|i| i as u8).collect();
        fs::write(&p, &data).unwrap();
        assert_eq!(read_file(&p, None).unwrap(), data);
        assert_eq!(read_file(&p, Some(100)).unwrap(), &data[..100]);
        assert_eq!(read_file(&p, Some(0)).unwrap(), b"");
        assert_eq!(read_file(&p, Some(1 << 40)).unwrap(), data);
        fs::write(&p, b"").unwrap();
        assert_eq!(read_file(&p, None).unwrap(), b"");
    }

    #[test]
    fn read_errors_name_the_errno_and_the_call() {
        let d = Drive::new();
        let e = read_file(&d.vol().join("nope"), None).unwrap_err();
        assert_eq!((e.code(), e.syscall, e.stage), ("ENOENT", "open", Stage::Read));
        assert!(e.to_string().starts_with("ENOENT: "), "{e}");
        assert!(e.to_string().ends_with(&format!("open '{}'", d.vol().join("nope").display())), "{e}");
        let e = read_file(&d.vol(), None).unwrap_err();
        assert_eq!((e.code(), e.stage), ("EISDIR", Stage::Read));
        let e = read_file(&d.vol(), Some(10)).unwrap_err();
        assert_eq!(e.code(), "EISDIR");
        fs::write(d.vol().join("file"), b"x").unwrap();
        let e = read_file(&d.vol().join("file").join("below"), None).unwrap_err();
        assert!(e.is_missing(), "{e}");
        assert!(is_dir(&d.vol()) && !is_dir(&d.vol().join("file")) && !is_dir(&d.vol().join("nope")));
    }

    #[test]
    fn atomic_write_makes_parents_and_the_temp_dir_and_leaves_no_temp_file() {
        let d = Drive::new();
        d.write("a/b/c/f", b"one").unwrap();
        assert_eq!(fs::read(d.vol().join("a/b/c/f")).unwrap(), b"one");
        d.write("a/b/c/f", b"two, longer").unwrap();
        assert_eq!(fs::read(d.vol().join("a/b/c/f")).unwrap(), b"two, longer");
        d.write("empty", b"").unwrap();
        assert_eq!(fs::read(d.vol().join("empty")).unwrap(), b"");
        assert_eq!(d.tmp_entries(), 0);
        // The temp dir removed under us (a clean-up): made again.
        fs::remove_dir_all(d.root.join(".cairn.sys")).unwrap();
        d.write("f", b"x").unwrap();
        assert_eq!(d.tmp_entries(), 0);
    }

    #[test]
    fn atomic_write_never_makes_the_volume_or_the_root() {
        let d = Drive::new();
        let e =
            write_file_atomic(&d.root.join("nope/a/f"), b"x", &d.tmp(), &d.root.join("nope")).unwrap_err();
        assert_eq!((e.code(), e.stage), ("ENOENT", Stage::Commit));
        assert!(!d.root.join("nope").exists());
        assert_eq!(d.tmp_entries(), 0);
        fs::remove_dir_all(&d.root).unwrap();
        let e = d.write("f", b"x").unwrap_err();
        assert_eq!((e.code(), e.stage, e.syscall), ("ENOENT", Stage::Tmp, "mkdir"));
        assert!(!d.root.exists());
    }

    #[test]
    fn atomic_write_over_a_directory_or_below_a_file_fails_and_keeps_them() {
        let d = Drive::new();
        d.write("dir/f", b"x").unwrap();
        let e = d.write("dir", b"y").unwrap_err();
        assert_eq!((e.code(), e.stage, e.syscall), ("EISDIR", Stage::Commit, "rename"));
        d.write("file", b"x").unwrap();
        assert_eq!(d.write("file/below", b"y").unwrap_err().code(), "ENOTDIR");
        assert_eq!(d.write("file/a/b", b"y").unwrap_err().code(), "ENOTDIR");
        assert_eq!(fs::read(d.vol().join("dir/f")).unwrap(), b"x");
        assert_eq!(fs::read(d.vol().join("file")).unwrap(), b"x");
        assert_eq!(d.tmp_entries(), 0);
    }

    #[test]
    fn concurrent_atomic_writes_leave_one_version_whole() {
        let d = Drive::new();
        let versions: Vec<Vec<u8>> = (0..8).map(|i| vec![i as u8; 4096 * (i + 1)]).collect();
        std::thread::scope(|s| {
            for v in &versions {
                let d = &d;
                s.spawn(move || d.write("k/same", v).unwrap());
            }
        });
        let got = fs::read(d.vol().join("k/same")).unwrap();
        assert!(versions.contains(&got));
        assert_eq!(d.tmp_entries(), 0);
    }

    fn rename(d: &Drive, src: &Path, obj: &str, data_dir: &str, meta: &[u8]) -> FsResult<()> {
        let dir = d.vol().join(obj);
        let r = RenameData {
            src,
            dir: &dir,
            data_dir,
            meta_file: "cairn.meta",
            tmp_dir: &d.tmp(),
            base: &d.vol(),
        };
        rename_data(&r, meta)
    }

    #[test]
    fn rename_data_moves_the_data_dir_and_commits_the_metadata() {
        let d = Drive::new();
        let staging = d.root.join(".cairn.sys/multipart/u1/cairn.d.1");
        fs::create_dir_all(&staging).unwrap();
        fs::write(staging.join("part.1"), b"one").unwrap();
        rename(&d, &staging, "a/b.txt", "cairn.d.1", b"meta 1").unwrap();
        assert_eq!(fs::read(d.vol().join("a/b.txt/cairn.meta")).unwrap(), b"meta 1");
        assert_eq!(fs::read(d.vol().join("a/b.txt/cairn.d.1/part.1")).unwrap(), b"one");
        assert!(!staging.exists());

        fs::create_dir_all(&staging).unwrap();
        fs::write(staging.join("part.1"), b"two").unwrap();
        rename(&d, &staging, "a/b.txt", "cairn.d.2", b"meta 2").unwrap();
        assert_eq!(fs::read(d.vol().join("a/b.txt/cairn.meta")).unwrap(), b"meta 2");
        let mut names: Vec<_> =
            fs::read_dir(d.vol().join("a/b.txt")).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert_eq!(names, ["cairn.d.1", "cairn.d.2", "cairn.meta"]);
        assert_eq!(d.tmp_entries(), 0);
    }

    #[test]
    fn rename_data_failures_change_nothing() {
        let d = Drive::new();
        // Nothing to move.
        let e = rename(&d, &d.vol().join("nope/cairn.d.1"), "a/b/c", "cairn.d.1", b"m").unwrap_err();
        assert_eq!((e.code(), e.stage, e.syscall), ("ENOENT", Stage::Source, "lstat"));
        assert_eq!(fs::read_dir(d.vol()).unwrap().count(), 0);

        // Into a missing volume: the source stays.
        let src = d.vol().join("tmp/cairn.d.1");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("part.1"), b"x").unwrap();
        let dir = d.root.join("nope/obj");
        let r = RenameData {
            src: &src,
            dir: &dir,
            data_dir: "cairn.d.1",
            meta_file: "cairn.meta",
            tmp_dir: &d.tmp(),
            base: &d.root.join("nope"),
        };
        let e = rename_data(&r, b"m").unwrap_err();
        assert_eq!((e.code(), e.stage), ("ENOENT", Stage::Move));
        assert_eq!(fs::read(src.join("part.1")).unwrap(), b"x");

        // The metadata cannot be written (a directory in its place): the data dir goes back.
        let obj = d.vol().join("obj");
        fs::create_dir_all(obj.join("cairn.meta/x")).unwrap();
        let e = rename(&d, &src, "obj", "cairn.d.1", b"m").unwrap_err();
        assert_eq!((e.code(), e.stage), ("EISDIR", Stage::Commit));
        assert_eq!(fs::read(src.join("part.1")).unwrap(), b"x");
        assert!(!obj.join("cairn.d.1").exists());
        fs::remove_dir_all(&obj).unwrap();

        // No temp file can be made (a file where the temp dir goes): the data dir goes back and the
        // object directories made for it are removed again.
        fs::remove_dir_all(d.root.join(".cairn.sys")).unwrap();
        fs::write(d.root.join(".cairn.sys"), b"in the way").unwrap();
        let e = rename(&d, &src, "obj/deeper", "cairn.d.1", b"m").unwrap_err();
        assert_eq!((e.code(), e.stage, e.syscall), ("ENOTDIR", Stage::Tmp, "open"));
        assert_eq!(fs::read(src.join("part.1")).unwrap(), b"x");
        assert!(!obj.exists());
        fs::remove_file(d.root.join(".cairn.sys")).unwrap();

        // A file where the object directory should be.
        fs::write(&obj, b"file").unwrap();
        let e = rename(&d, &src, "obj", "cairn.d.1", b"m").unwrap_err();
        assert_eq!((e.code(), e.stage), ("ENOTDIR", Stage::Move));
        assert_eq!(fs::read(&obj).unwrap(), b"file");
        assert_eq!(fs::read(src.join("part.1")).unwrap(), b"x");
        assert_eq!(d.tmp_entries(), 0);
    }

    #[test]
    fn the_journal_order_is_known_for_ext4_and_xfs_only() {
        // Whatever holds the temp dir here, the answer follows its f_type; a missing path is false.
        let d = Drive::new();
        let out = std::process::Command::new("stat").args(["-f", "-c", "%t"]).arg(d.vol()).output();
        if let Ok(out) = out {
            let t = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(journals_in_order(&d.vol()), t == "ef53" || t == "58465342", "f_type {t}");
        }
        assert!(!journals_in_order(&d.vol().join("missing")));
        if Path::new("/dev/shm").is_dir() {
            assert!(!journals_in_order(Path::new("/dev/shm")), "tmpfs");
        }
    }

    #[test]
    fn mkdir_all_makes_nothing_at_or_above_the_base() {
        let d = Drive::new();
        let mut made = Vec::new();
        mkdir_all(&d.vol(), &d.vol().join("a/b/c"), &mut made).unwrap();
        assert_eq!(made, [d.vol().join("a"), d.vol().join("a/b"), d.vol().join("a/b/c")]);
        let mut made = Vec::new();
        mkdir_all(&d.vol(), &d.vol().join("a/b/c"), &mut made).unwrap();
        assert!(made.is_empty());
        let base = d.root.join("gone");
        let (call, path, e) = mkdir_all(&base, &base.join("x/y"), &mut made).unwrap_err();
        assert_eq!((call, errno_name(&e)), ("mkdir", "ENOENT"));
        assert_eq!(path, base.join("x"));
        assert!(!base.exists());
        mkdir_all(&d.vol(), &d.vol(), &mut made).unwrap();
        mkdir_all(&d.vol(), &d.root.join("elsewhere"), &mut made).unwrap();
        assert!(made.is_empty() && !d.root.join("elsewhere").exists());
    }
}
