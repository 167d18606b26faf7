//! A volume's objects in S3 key order: the walk of `LocalDrive.walk` (src/storage/LocalDrive.ts),
//! done off the JS thread in batches.
//!
//! The on-disk names are the escaped key segments of `src/storage/paths.ts`: `%e` is the empty
//! segment, `%XX` a byte-sized character, names starting with `cairn.` are Cairn's own (metadata
//! file, data dirs) and never key segments. Each child directory `d` of a directory with key prefix
//! `P` stands for two things: the object `P+d` (when it holds a `cairn.meta` file) and the prefix
//! `P+d/` (its children). Sorted together by key bytes (UTF-8, S3's order) they give the walk's
//! order: every key below `P+d/` extends it, and `P+d/` is never a prefix of a sibling's key, so no
//! sibling falls inside its range (`a` < `a-b` < `a/…` < `a0`).
//!
//! One directory listing per level is held at a time (`dirlist.rs`: sorted once, and cached for
//! large directories); nothing stays open between batches, so a walk may be dropped at any point.

use std::cmp::Ordering;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::dirlist::{self, DirListing, Item};

/// The per-object metadata file inside an object's directory.
pub const META_FILE: &str = "cairn.meta";
/// Names starting with this are Cairn's own inside a volume.
pub const RESERVED_PREFIX: &str = "cairn.";

/// Decodes one on-disk directory name back to its key segment, as `decodeSegment` in paths.ts:
/// `%e` alone is the empty segment, each `%XX` (two hex digits) the character U+00XX.
pub fn decode_segment(name: &str) -> String {
    if name == "%e" {
        return String::new();
    }
    if !name.contains('%') {
        return name.to_string();
    }
    let b = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push_str(&name[copied..i]);
                out.push(char::from(h * 16 + l));
                i += 3;
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&name[copied..]);
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Where a walk starts and what it yields.
#[derive(Debug, Clone, Default)]
pub struct WalkSpec {
    /// The volume's directory: a start directory that is missing while this is missing too means
    /// the volume (or the drive) is gone, not just the prefix.
    pub volume_dir: PathBuf,
    /// The directory of the prefix's complete segments (escaped), inside `volume_dir`.
    pub start_dir: PathBuf,
    /// The key of `start_dir` with its trailing `/` ('' for the volume itself).
    pub key_prefix: String,
    /// Only children of `start_dir` whose decoded name starts with this (the prefix's last,
    /// partial segment).
    pub starts_with: String,
    /// Only names strictly after this one, in byte order.
    pub after: Option<String>,
    /// Do not descend below `start_dir`: each child directory holding an object somewhere below
    /// is yielded once as the prefix `key/`, with empty metadata.
    pub delimited: bool,
}

/// One entry: an object and its metadata file's bytes, or (delimited) a prefix ending in `/` with
/// no bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub metadata: Vec<u8>,
}

/// Why a walk stopped early.
#[derive(Debug)]
pub enum WalkError {
    /// The volume directory is not there (or is not a directory): the caller tells a missing
    /// volume from a missing drive.
    VolumeMissing,
    /// An I/O error other than "not there" at `path`.
    Io { path: PathBuf, error: io::Error },
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WalkError::VolumeMissing => write!(f, "the volume is missing"),
            WalkError::Io { path, error } => write!(f, "{error} at {}", path.display()),
        }
    }
}

/// One directory's walk items still to come: `listing`'s items `[pos, end)`.
struct Frame {
    dir: PathBuf,
    /// The key of `dir` with its trailing `/`.
    key_prefix: String,
    listing: Arc<DirListing>,
    pos: usize,
    end: usize,
}

/// Order of `a` (+ `/` when `a_slash`) and `b` (+ `/` when `b_slash`) as UTF-8 bytes.
pub(crate) fn cmp_seg(a: &str, a_slash: bool, b: &str, b_slash: bool) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal => {}
        o => return o,
    }
    // One is a prefix of the other: what follows decides (a short tail at most on one side).
    let slash = |on: bool| -> &'static [u8] {
        if on {
            b"/"
        } else {
            b""
        }
    };
    a[n..].iter().chain(slash(a_slash)).cmp(b[n..].iter().chain(slash(b_slash)))
}

pub(crate) fn is_missing(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

fn io_err(path: &Path, error: io::Error) -> WalkError {
    WalkError::Io { path: path.to_path_buf(), error }
}

impl Frame {
    /// The walk items of `dir`, filtered by segment prefix and `after` (given relative to
    /// `key_prefix`, which it starts with); `None` when `dir` is not there.
    fn read(
        dir: PathBuf,
        key_prefix: String,
        starts_with: &str,
        after: Option<&str>,
        delimited: bool,
    ) -> Result<Option<Frame>, WalkError> {
        let Some(listing) = dirlist::listing(&dir).map_err(|e| io_err(&dir, e))? else { return Ok(None) };
        let (pos, end) = listing.range(starts_with, after, delimited);
        Ok(Some(Frame { dir, key_prefix, listing, pos, end }))
    }

    fn next(&mut self) -> Option<Item> {
        if self.pos >= self.end {
            return None;
        }
        self.pos += 1;
        Some(self.listing.item(self.pos - 1))
    }

    fn key(&self, item: Item) -> String {
        let seg = self.listing.seg(item.child);
        let mut key = String::with_capacity(self.key_prefix.len() + seg.len() + 1);
        key.push_str(&self.key_prefix);
        key.push_str(seg);
        if item.slash {
            key.push('/');
        }
        key
    }

    fn path(&self, item: Item) -> PathBuf {
        self.dir.join(self.listing.name(item.child))
    }
}

/// The metadata file of the object directory `dir`, or `None` when it is not an object.
fn read_meta(dir: &Path, scratch: &mut Vec<u8>) -> Result<Option<Vec<u8>>, WalkError> {
    let path = dir.join(META_FILE);
    let mut file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(io_err(&path, e)),
    };
    read_small(&mut file, scratch).map(Some).or_else(|e| {
        if e.kind() == io::ErrorKind::IsADirectory {
            Ok(None)
        } else {
            Err(io_err(&path, e))
        }
    })
}

/// A whole small file in as few calls as can be: `open`, one `read`, `close`, where `fs::read`
/// adds a `statx` and a second `read` to see the end. A read of a local regular file returns less
/// than asked only at its end, and metadata files are replaced by rename, never written in place.
fn read_small(file: &mut fs::File, scratch: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    use std::io::Read;
    if scratch.len() < 8192 {
        scratch.resize(8192, 0);
    }
    let mut len = 0;
    loop {
        let n = match file.read(&mut scratch[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        if n == 0 || len < scratch.len() {
            return Ok(scratch[..len].to_vec());
        }
        let grown = scratch.len() * 2;
        scratch.resize(grown, 0);
    }
}

/// A child directory of `dir` that may hold objects (not one of Cairn's own), in listing order.
fn key_dirs(dir: &Path) -> Result<Option<fs::ReadDir>, WalkError> {
    match fs::read_dir(dir) {
        Ok(rd) => Ok(Some(rd)),
        Err(e) if is_missing(&e) => Ok(None),
        Err(e) => Err(io_err(dir, e)),
    }
}

fn is_key_dir(ent: &fs::DirEntry) -> bool {
    ent.file_type().is_ok_and(|t| t.is_dir())
        && !ent.file_name().to_string_lossy().starts_with(RESERVED_PREFIX)
}

/// Whether any object lives strictly below `dir` (`and_self`: or in `dir` itself); stops at the
/// first one found. Directories are removed once emptied, so the first child directory nearly
/// always holds an object: it is checked before the rest of the listing is looked at, with no
/// directory held open meanwhile.
fn holds_object(dir: &Path, and_self: bool) -> Result<bool, WalkError> {
    if and_self && fs::symlink_metadata(dir.join(META_FILE)).is_ok_and(|m| m.is_file()) {
        return Ok(true);
    }
    let Some(mut rd) = key_dirs(dir)? else { return Ok(false) };
    let first = loop {
        match rd.next() {
            None => return Ok(false),
            Some(ent) => {
                let ent = ent.map_err(|e| io_err(dir, e))?;
                if is_key_dir(&ent) {
                    break ent.file_name();
                }
            }
        }
    };
    drop(rd);
    if holds_object(&dir.join(&first), true)? {
        return Ok(true);
    }
    let mut rest = Vec::new();
    if let Some(rd) = key_dirs(dir)? {
        for ent in rd {
            let ent = ent.map_err(|e| io_err(dir, e))?;
            if is_key_dir(&ent) && ent.file_name() != first {
                rest.push(ent.file_name());
            }
        }
    }
    for name in rest {
        if holds_object(&dir.join(name), true)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A walk in progress: a stack of directory listings.
pub struct Walker {
    spec: WalkSpec,
    stack: Vec<Frame>,
    started: bool,
    finished: bool,
    /// Read buffer for metadata files, kept between entries.
    scratch: Vec<u8>,
}

impl Walker {
    pub fn new(spec: WalkSpec) -> Walker {
        Walker { spec, stack: Vec::new(), started: false, finished: false, scratch: Vec::new() }
    }

    /// Whether the walk has nothing more to give.
    pub fn is_done(&self) -> bool {
        self.finished
    }

    /// Appends up to `max_entries` entries to `out` (fewer once their metadata passes `max_bytes`).
    /// Returns `Ok(true)` when the walk is over. After an error the walk is over; the entries
    /// found before it are in `out`.
    pub fn next_batch(
        &mut self,
        max_entries: usize,
        max_bytes: usize,
        out: &mut Vec<Entry>,
    ) -> Result<bool, WalkError> {
        let r = self.fill(max_entries.max(1), max_bytes.max(1), out);
        if !matches!(r, Ok(false)) {
            self.finished = true;
            self.stack.clear();
        }
        r
    }

    /// `after` relative to a frame with `key_prefix`: `Ok(None)` when every key there is after it,
    /// `Err(())` when none is.
    fn relative_after<'a>(after: Option<&'a str>, key_prefix: &str) -> Result<Option<&'a str>, ()> {
        match after {
            None => Ok(None),
            Some(a) if a.starts_with(key_prefix) => Ok(Some(&a[key_prefix.len()..])),
            Some(a) if key_prefix < a => Err(()),
            Some(_) => Ok(None),
        }
    }

    fn start(&mut self) -> Result<bool, WalkError> {
        let s = &self.spec;
        let Ok(after) = Self::relative_after(s.after.as_deref(), &s.key_prefix) else { return Ok(true) };
        let frame =
            Frame::read(s.start_dir.clone(), s.key_prefix.clone(), &s.starts_with, after, s.delimited)?;
        match frame {
            Some(f) => {
                self.stack.push(f);
                Ok(false)
            }
            None => match fs::metadata(&s.volume_dir) {
                Ok(m) if m.is_dir() => Ok(true), // no such prefix
                Ok(_) => Err(WalkError::VolumeMissing),
                Err(e) if is_missing(&e) => Err(WalkError::VolumeMissing),
                Err(e) => Err(io_err(&s.volume_dir, e)),
            },
        }
    }

    fn fill(
        &mut self,
        max_entries: usize,
        max_bytes: usize,
        out: &mut Vec<Entry>,
    ) -> Result<bool, WalkError> {
        if self.finished {
            return Ok(true);
        }
        if !self.started {
            self.started = true;
            if self.start()? {
                return Ok(true);
            }
        }
        let start = out.len();
        let mut bytes = 0usize;
        while out.len() - start < max_entries && bytes < max_bytes {
            let Some(top) = self.stack.last_mut() else { return Ok(true) };
            let Some(item) = top.next() else {
                self.stack.pop();
                continue;
            };
            let top = &*top;
            if !item.slash {
                if let Some(metadata) = read_meta(&top.path(item), &mut self.scratch)? {
                    bytes += metadata.len();
                    out.push(Entry { name: top.key(item), metadata });
                }
            } else if self.spec.delimited {
                // Only the first level is listed in delimited mode: this is a common prefix.
                if holds_object(&top.path(item), false)? {
                    out.push(Entry { name: top.key(item), metadata: Vec::new() });
                }
            } else {
                let key_prefix = top.key(item);
                // `after` reaches below only when it starts with this prefix.
                let after = match self.spec.after.as_deref() {
                    Some(a) if a.starts_with(key_prefix.as_str()) => Some(&a[key_prefix.len()..]),
                    _ => None,
                };
                let dir = top.path(item);
                if let Some(f) = Frame::read(dir, key_prefix, "", after, false)? {
                    self.stack.push(f);
                }
            }
        }
        Ok(self.stack.iter().all(|f| f.pos >= f.end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// A temporary volume, removed on drop.
    struct Vol(PathBuf);
    impl Vol {
        fn new() -> Vol {
            let p = std::env::temp_dir().join(format!(
                "cairn-walk-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            Vol(p)
        }
        /// Lays out the object `key` as `objectPath` would (escaping as paths.ts does).
        fn put(&self, key: &str) {
            let mut dir = self.0.clone();
            for seg in key.split('/') {
                dir.push(escape(seg));
            }
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(META_FILE), format!("meta:{key}")).unwrap();
        }
        fn walk(&self, prefix: &str, after: Option<&str>, delimited: bool) -> Vec<String> {
            let mut segs: Vec<&str> = prefix.split('/').collect();
            let partial = segs.pop().unwrap_or("");
            let mut start = self.0.clone();
            for s in &segs {
                start.push(escape(s));
            }
            let key_prefix = if segs.is_empty() { String::new() } else { format!("{}/", segs.join("/")) };
            let after = after.map(str::to_string);
            let mut w = Walker::new(WalkSpec {
                volume_dir: self.0.clone(),
                start_dir: start,
                key_prefix,
                starts_with: partial.to_string(),
                after,
                delimited,
            });
            let mut out = Vec::new();
            // Small batches, so that resuming is exercised.
            while !w.next_batch(3, usize::MAX, &mut out).unwrap() {}
            for e in &out {
                // An object named as the prefix itself (`a/` under `a/`) is no common prefix.
                if delimited && e.name.ends_with('/') && e.name.len() > prefix.len() {
                    assert!(e.metadata.is_empty());
                } else {
                    assert_eq!(e.metadata, format!("meta:{}", e.name).into_bytes());
                }
            }
            out.into_iter().map(|e| e.name).collect()
        }
    }
    impl Drop for Vol {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// `escapeSegment` of paths.ts.
    fn escape(seg: &str) -> String {
        match seg {
            "" => return "%e".into(),
            "." => return "%2E".into(),
            ".." => return "%2E%2E".into(),
            _ => {}
        }
        let mut out = String::new();
        for c in seg.chars() {
            let u = c as u32;
            if u == 0x25 || u == 0x5c || u < 0x20 || u == 0x7f {
                out.push_str(&format!("%{u:02X}"));
            } else {
                out.push(c);
            }
        }
        if out.starts_with(RESERVED_PREFIX) {
            out = format!("%63{}", &out[1..]);
        }
        out
    }

    /// S3 listing by definition: byte order, prefix, after, roll-up at `/`.
    fn expected(keys: &[&str], prefix: &str, after: Option<&str>, delimited: bool) -> Vec<String> {
        let mut out: Vec<String> = keys
            .iter()
            .filter(|k| k.starts_with(prefix))
            .map(|k| match k[prefix.len()..].find('/') {
                Some(i) if delimited => k[..prefix.len() + i + 1].to_string(),
                _ => k.to_string(),
            })
            .filter(|n| after.is_none_or(|a| n.as_str() > a))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    const TRICKY: &[&str] = &[
        "",
        "/",
        "//",
        ".",
        "..",
        "%",
        "%e",
        "%2E",
        "a",
        "a-b",
        "a/x",
        "a0",
        "a/",
        "a//b",
        "a/.",
        "a/..",
        "a.b",
        "a\\b",
        "new\nline",
        ".hidden",
        "cairn.meta",
        "x/cairn.meta",
        "x/cairn.d.1",
        "é",
        "日本/語",
        "😀",
        "😀/a",
        "😁",
        "\u{10FFFF}",
        "\u{FFFD}",
        "\u{FFFC}",
        "\u{FB00}",
        "\u{E000}",
    ];

    #[test]
    fn compares_segments_with_an_optional_slash_as_bytes() {
        let cases = [
            ("a", false),
            ("a", true),
            ("a-b", false),
            ("a0", false),
            ("", true),
            ("", false),
            ("é", false),
            ("😀", true),
            ("\u{FFFD}", false),
        ];
        let whole = |s: &str, slash: bool| if slash { format!("{s}/") } else { s.to_string() };
        for (a, sa) in cases {
            for (b, sb) in cases {
                assert_eq!(
                    cmp_seg(a, sa, b, sb),
                    whole(a, sa).as_bytes().cmp(whole(b, sb).as_bytes()),
                    "{a:?}{sa} {b:?}{sb}"
                );
            }
            for after in ["a/x", "a", "a/", "", "b", "a-"] {
                assert_eq!(
                    cmp_seg(a, sa, after, false),
                    whole(a, sa).as_str().cmp(after),
                    "{a:?}{sa} vs {after:?}"
                );
            }
        }
    }

    #[test]
    fn decodes_segments_as_paths_ts() {
        assert_eq!(decode_segment("%e"), "");
        assert_eq!(decode_segment("%2E%2E"), "..");
        assert_eq!(decode_segment("%63airn.meta"), "cairn.meta");
        assert_eq!(decode_segment("a%25b"), "a%b");
        assert_eq!(decode_segment("%0A"), "\n");
        assert_eq!(decode_segment("%zz%"), "%zz%");
        assert_eq!(decode_segment("50%"), "50%");
        assert_eq!(decode_segment("%4"), "%4");
        assert_eq!(decode_segment("%e9"), "\u{e9}");
        assert_eq!(decode_segment("日本%5C"), "日本\\");
        for k in TRICKY {
            for seg in k.split('/') {
                assert_eq!(decode_segment(&escape(seg)), seg, "{seg:?}");
            }
        }
    }

    #[test]
    fn walks_tricky_keys_in_byte_order() {
        let v = Vol::new();
        for k in TRICKY {
            v.put(k);
        }
        assert_eq!(v.walk("", None, false), expected(TRICKY, "", None, false));
        // Astral characters sort after U+E000..U+FFFF in UTF-8, unlike UTF-16.
        let got = v.walk("", None, false);
        let pos = |k: &str| got.iter().position(|g| g == k).unwrap();
        assert!(pos("\u{FFFD}") < pos("😀") && pos("😀") < pos("\u{10FFFF}"));
        for prefix in ["", "a", "a/", "x/", "😀", "日本/", "a//", "nope/", "%"] {
            for after in [None, Some("a"), Some("a/"), Some("a/x"), Some("a0"), Some("😀"), Some("")] {
                for delimited in [false, true] {
                    assert_eq!(
                        v.walk(prefix, after, delimited),
                        expected(TRICKY, prefix, after, delimited),
                        "prefix {prefix:?} after {after:?} delimited {delimited}"
                    );
                }
            }
        }
    }

    #[test]
    fn delimited_lists_only_prefixes_with_objects_below() {
        let v = Vol::new();
        for k in ["a", "a/x", "a/y/z", "a-b", "a-b/c", "b/c/d", "c", "d/"] {
            v.put(k);
        }
        fs::create_dir_all(v.0.join("empty/deeper/still")).unwrap();
        fs::create_dir_all(v.0.join("e/cairn.d.1")).unwrap();
        fs::write(v.0.join("e/cairn.d.1").join(META_FILE), "inside a data dir").unwrap();
        assert_eq!(v.walk("", None, true), ["a", "a-b", "a-b/", "a/", "b/", "c", "d/"]);
        assert_eq!(v.walk("a/", None, true), ["a/x", "a/y/"]);
        assert_eq!(v.walk("", Some("a/x"), true), ["b/", "c", "d/"]);
        assert_eq!(v.walk("", None, false), ["a", "a-b", "a-b/c", "a/x", "a/y/z", "b/c/d", "c", "d/"]);
    }

    #[test]
    fn a_missing_volume_is_told_from_a_missing_prefix() {
        let v = Vol::new();
        v.put("a/b");
        let mut w = Walker::new(WalkSpec {
            volume_dir: v.0.clone(),
            start_dir: v.0.join("zzz"),
            key_prefix: "zzz/".into(),
            ..Default::default()
        });
        let mut out = Vec::new();
        assert!(w.next_batch(10, usize::MAX, &mut out).unwrap());
        assert!(out.is_empty());
        let gone = v.0.join("gone");
        let mut w = Walker::new(WalkSpec { volume_dir: gone.clone(), start_dir: gone, ..Default::default() });
        assert!(matches!(w.next_batch(10, usize::MAX, &mut out), Err(WalkError::VolumeMissing)));
        assert!(w.is_done());
    }

    #[test]
    fn batches_resume_where_they_stopped_and_respect_the_byte_cap() {
        let v = Vol::new();
        let keys: Vec<String> = (0..50).map(|i| format!("d{}/o{i:02}", i % 5)).collect();
        for k in &keys {
            v.put(k);
        }
        let mut w =
            Walker::new(WalkSpec { volume_dir: v.0.clone(), start_dir: v.0.clone(), ..Default::default() });
        let mut out = Vec::new();
        let mut calls = 0;
        loop {
            let before = out.len();
            let done = w.next_batch(7, 20, &mut out).unwrap();
            calls += 1;
            assert!(out.len() - before <= 7);
            // 20 bytes: each metadata file here is 13 bytes, so two per batch at most.
            assert!(out.len() - before <= 2);
            if done {
                break;
            }
        }
        assert!(calls >= 25);
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(out.into_iter().map(|e| e.name).collect::<Vec<_>>(), sorted);
    }
}
