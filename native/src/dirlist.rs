//! A directory's child directories as walk items in S3 key order, sorted once, and a cache of the
//! listings of large directories (a flat bucket of a million keys is one directory of a million
//! object directories: reading and sorting it for every page of 1000 took most of a second).
//!
//! Each child directory `d` stands for two items (see walk.rs): the object `d` and the prefix `d/`.
//! A listing holds the decoded segments sorted by bytes and the items in key order, so a page
//! finds where it starts by binary search.
//!
//! The cache is checked against the directory itself, never trusted blindly: an entry holds the
//! directory's device, inode, size and change times (`mtime`, `ctime`) as `stat` gave them, and is
//! used only while a fresh `stat` gives the same. Adding, removing or renaming a child changes the
//! directory's times; a child that stops being an object (its metadata file removed) is seen when
//! its metadata is read, which the walk does for every object it yields. Timestamps are coarse (a
//! kernel tick; a second on some file systems), so a change in the same tick as the one recorded
//! would go unseen: a listing is cached only when the directory was last changed at least
//! `RACY_MS` before its reading started (git's "racily clean" rule), so that every later change
//! gets a later time. A directory written continuously is therefore read each time, as before.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::walk::{cmp_seg, decode_segment, is_missing, RESERVED_PREFIX};

/// One item: the object (`slash: false`) or the prefix (`slash: true`) of child `child`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item {
    pub child: u32,
    pub slash: bool,
}

/// The child directories of one directory (not Cairn's own), sorted.
pub struct DirListing {
    /// Decoded segments, concatenated in byte order: child `i` is `segs[offs[i]..offs[i + 1]]`.
    segs: String,
    offs: Vec<u32>,
    /// On-disk names that are not their segment (escaped, or not UTF-8), by child, sorted.
    escaped: Vec<(u32, OsString)>,
    /// The items in key order, each `child << 1 | slash`.
    items: Vec<u32>,
}

impl DirListing {
    /// The listing of `dir`, or `None` when it is not there.
    pub fn read(dir: &Path) -> io::Result<Option<DirListing>> {
        let rd = match fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if is_missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut children: Vec<(String, Option<OsString>)> = Vec::new();
        for ent in rd {
            let ent = ent?;
            // d_type from the file system, or an lstat: never follows a symbolic link.
            match ent.file_type() {
                Ok(t) if t.is_dir() => {}
                Ok(_) => continue,
                Err(e) if is_missing(&e) => continue, // removed since the listing
                Err(e) => return Err(e),
            }
            let name = ent.file_name();
            let seg = match name.to_str() {
                Some(s) if s.starts_with(RESERVED_PREFIX) => continue,
                Some(s) if !s.contains('%') => (s.to_string(), None),
                Some(s) => (decode_segment(s), Some(name.clone())),
                None => {
                    let lossy = name.to_string_lossy();
                    if lossy.starts_with(RESERVED_PREFIX) {
                        continue;
                    }
                    (decode_segment(&lossy), Some(name.clone()))
                }
            };
            children.push(seg);
        }
        children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut segs = String::with_capacity(children.iter().map(|c| c.0.len()).sum());
        let mut offs = Vec::with_capacity(children.len() + 1);
        let mut escaped = Vec::new();
        offs.push(0);
        for (i, (seg, name)) in children.into_iter().enumerate() {
            segs.push_str(&seg);
            offs.push(
                u32::try_from(segs.len()).map_err(|_| io::Error::other("directory listing over 4 GiB"))?,
            );
            if let Some(name) = name {
                escaped.push((i as u32, name));
            }
        }
        let mut l = DirListing { segs, offs, escaped, items: Vec::new() };
        l.items = l.merge_items();
        Ok(Some(l))
    }

    /// The items in key order from the sorted segments, without sorting again: the object `s`
    /// comes at its segment's place, the prefix `p/` once every later segment sorting before it
    /// has come. Those are the ones extending `p` with a byte below `/`, so the prefixes waiting
    /// form a stack whose top sorts first.
    fn merge_items(&self) -> Vec<u32> {
        let n = self.children();
        let mut items = Vec::with_capacity(2 * n);
        let mut pending: Vec<u32> = Vec::new();
        for c in 0..n as u32 {
            let s = self.seg(c);
            while let Some(&p) = pending.last() {
                if cmp_seg(self.seg(p), true, s, false) == Ordering::Less {
                    items.push(p << 1 | 1);
                    pending.pop();
                } else {
                    break;
                }
            }
            items.push(c << 1);
            pending.push(c);
        }
        while let Some(p) = pending.pop() {
            items.push(p << 1 | 1);
        }
        items
    }

    /// How many child directories.
    pub fn children(&self) -> usize {
        self.offs.len() - 1
    }

    /// How many items (two per child).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn item(&self, i: usize) -> Item {
        let v = self.items[i];
        Item { child: v >> 1, slash: v & 1 == 1 }
    }

    /// The decoded key segment of `child`.
    pub fn seg(&self, child: u32) -> &str {
        let c = child as usize;
        &self.segs[self.offs[c] as usize..self.offs[c + 1] as usize]
    }

    /// The on-disk name of `child`.
    pub fn name(&self, child: u32) -> &OsStr {
        match self.escaped.binary_search_by_key(&child, |e| e.0) {
            Ok(i) => &self.escaped[i].1,
            Err(_) => OsStr::new(self.seg(child)),
        }
    }

    /// Roughly the heap bytes held.
    pub fn bytes(&self) -> usize {
        self.segs.len()
            + self.offs.len() * 4
            + self.items.len() * 4
            + self.escaped.iter().map(|e| 32 + e.1.len()).sum::<usize>()
    }

    fn cmp_item(&self, i: usize, key: &str) -> Ordering {
        let it = self.item(i);
        cmp_seg(self.seg(it.child), it.slash, key, false)
    }

    /// The items `[from, to)` a walk yields: those whose key starts with `starts_with` (a segment
    /// prefix, no `/`) and sorts after `after`, plus, when not `delimited`, the prefix holding
    /// `after` (keys below it may come later).
    pub fn range(&self, starts_with: &str, after: Option<&str>, delimited: bool) -> (usize, usize) {
        // Items starting with `starts_with` are contiguous: a prefix item's key starts with it
        // only when its segment does, since `starts_with` holds no `/`.
        let lo = self.partition(|i| self.cmp_item(i, starts_with) == Ordering::Less);
        let hi = if starts_with.is_empty() {
            self.len()
        } else {
            self.partition(|i| {
                let it = self.item(i);
                let s = self.seg(it.child);
                s.starts_with(starts_with) || cmp_seg(s, it.slash, starts_with, false) == Ordering::Less
            })
        };
        let Some(after) = after else { return (lo, hi) };
        let mut from = self.partition(|i| self.cmp_item(i, after) != Ordering::Greater);
        if !delimited && from > 0 {
            // The prefix `p/` holding `after` sorts just before it: every item between the two
            // would start with `p/`, and only that prefix item does.
            let it = self.item(from - 1);
            let s = self.seg(it.child);
            if it.slash && after.len() > s.len() && after.starts_with(s) && after.as_bytes()[s.len()] == b'/'
            {
                from -= 1;
            }
        }
        (lo.max(from), hi.max(lo.max(from)))
    }

    /// The first item index where `pred` stops holding (it holds for a prefix of the items).
    fn partition(&self, pred: impl Fn(usize) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// What a cached listing was read under: the directory as `stat` saw it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }

    /// Nanoseconds since the epoch of the later of the two change times.
    fn changed_ns(&self) -> i128 {
        let ns = |(s, n): (i64, i64)| i128::from(s) * 1_000_000_000 + i128::from(n);
        ns(self.mtime).max(ns(self.ctime))
    }
}

struct Cached {
    stamp: Stamp,
    listing: Arc<DirListing>,
    used: u64,
}

#[derive(Default)]
struct Cache {
    dirs: HashMap<PathBuf, Cached>,
    bytes: usize,
    clock: u64,
}

impl Cache {
    fn remove(&mut self, dir: &Path) {
        if let Some(c) = self.dirs.remove(dir) {
            self.bytes -= c.listing.bytes();
        }
    }

    /// Drops the least recently used listings until the cache holds at most `max` bytes.
    fn trim(&mut self, max: usize) {
        while self.bytes > max {
            let Some(oldest) = self.dirs.iter().min_by_key(|(_, c)| c.used).map(|(p, _)| p.clone()) else {
                break;
            };
            self.remove(&oldest);
        }
    }
}

static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
/// Bytes of listings the cache holds at most (0: no cache).
static MAX_BYTES: AtomicUsize = AtomicUsize::new(256 << 20);
/// Directories with fewer children are read each time (a few ms at most).
static MIN_CHILDREN: AtomicUsize = AtomicUsize::new(4096);
/// How long before a reading a directory must have last changed for its listing to be cached.
static RACY_MS: AtomicU64 = AtomicU64::new(2000);

/// Sets the cache's bounds: `max_bytes` in all (0 turns it off and empties it), and the fewest
/// children a directory needs to be cached.
pub fn configure(max_bytes: usize, min_children: usize) {
    MAX_BYTES.store(max_bytes, AtomicOrdering::Relaxed);
    MIN_CHILDREN.store(min_children.max(1), AtomicOrdering::Relaxed);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = cache.as_mut() {
        c.trim(max_bytes);
    }
}

/// What the cache holds: directories and bytes.
pub fn stats() -> (usize, usize) {
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache.as_ref().map_or((0, 0), |c| (c.dirs.len(), c.bytes))
}

#[cfg(test)]
pub(crate) fn set_racy_ms(ms: u64) {
    RACY_MS.store(ms, AtomicOrdering::Relaxed);
}

/// The listing of `dir` (`None`: not there), from the cache while the directory is unchanged.
pub fn listing(dir: &Path) -> io::Result<Option<Arc<DirListing>>> {
    let started = SystemTime::now();
    let max = MAX_BYTES.load(AtomicOrdering::Relaxed);
    if max > 0 {
        let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        let cache = guard.get_or_insert_with(Cache::default);
        if cache.dirs.contains_key(dir) {
            // The stat under the lock: one system call on a cached, large directory.
            let now = fs::metadata(dir).ok().map(|m| Stamp::of(&m));
            cache.clock += 1;
            let clock = cache.clock;
            match cache.dirs.get_mut(dir) {
                Some(c) if Some(c.stamp) == now => {
                    c.used = clock;
                    return Ok(Some(c.listing.clone()));
                }
                _ => cache.remove(dir),
            }
        }
    }
    let Some(listing) = DirListing::read(dir)? else { return Ok(None) };
    let listing = Arc::new(listing);
    if max > 0 && listing.children() >= MIN_CHILDREN.load(AtomicOrdering::Relaxed) {
        // Stamped after the reading: a change during it makes the stamp recent, so not cached.
        if let Ok(m) = fs::metadata(dir) {
            let stamp = Stamp::of(&m);
            let started_ns = started.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i128);
            let margin = i128::from(RACY_MS.load(AtomicOrdering::Relaxed)) * 1_000_000;
            if stamp.changed_ns() + margin <= started_ns && listing.bytes() <= max {
                let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
                let cache = guard.get_or_insert_with(Cache::default);
                cache.remove(dir);
                cache.clock += 1;
                cache.bytes += listing.bytes();
                let used = cache.clock;
                cache.dirs.insert(dir.to_path_buf(), Cached { stamp, listing: listing.clone(), used });
                cache.trim(max);
            }
        }
    }
    Ok(Some(listing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("cairn-dirlist-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        p
    }

    fn keys(l: &DirListing, (from, to): (usize, usize)) -> Vec<String> {
        (from..to)
            .map(|i| {
                let it = l.item(i);
                format!("{}{}", l.seg(it.child), if it.slash { "/" } else { "" })
            })
            .collect()
    }

    #[test]
    fn items_come_in_key_order_and_ranges_match_a_filter() {
        let d = tmp("order");
        let segs = ["a", "a-b", "a.c", "a0", "b", "%e", "a%2Fz", "%63airn.x", "zz", "a-", "a-b-c", "é", "😀"];
        for s in segs {
            fs::create_dir(d.join(s)).unwrap();
        }
        fs::create_dir(d.join("cairn.d.1")).unwrap();
        fs::write(d.join("file"), "").unwrap();
        let l = DirListing::read(&d).unwrap().unwrap();
        let all = keys(&l, (0, l.len()));
        let mut want: Vec<String> =
            segs.iter().flat_map(|s| [decode_segment(s), format!("{}/", decode_segment(s))]).collect();
        want.sort();
        assert_eq!(all, want);
        assert_eq!(l.name(l.item(0).child), OsStr::new("%e"));
        for starts in ["", "a", "a-", "b", "é", "q"] {
            for after in [None, Some("a"), Some("a-b/x"), Some("a-b/"), Some("a0"), Some(""), Some("zz/")] {
                for delimited in [false, true] {
                    let got = keys(&l, l.range(starts, after, delimited));
                    let exp: Vec<String> = want
                        .iter()
                        .filter(|k| k.starts_with(starts))
                        .filter(|k| {
                            after.is_none_or(|a| {
                                k.as_str() > a
                                    || (!delimited && k.ends_with('/') && a.starts_with(k.as_str()))
                            })
                        })
                        .cloned()
                        .collect();
                    assert_eq!(got, exp, "starts {starts:?} after {after:?} delimited {delimited}");
                }
            }
        }
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_cached_listing_is_used_only_while_the_directory_is_unchanged() {
        // Tests run in parallel threads sharing the cache: this test owns its directory's entry.
        let d = tmp("cache");
        for i in 0..5000 {
            fs::create_dir(d.join(format!("k{i:05}"))).unwrap();
        }
        // Just changed: not cached (a change in the same tick would be missed).
        let first = listing(&d).unwrap().unwrap();
        assert_eq!(first.children(), 5000);
        let again = listing(&d).unwrap().unwrap();
        assert!(!Arc::ptr_eq(&first, &again), "a racy listing was cached");
        set_racy_ms(0);
        std::thread::sleep(std::time::Duration::from_millis(30));
        let a = listing(&d).unwrap().unwrap();
        let b = listing(&d).unwrap().unwrap();
        assert!(Arc::ptr_eq(&a, &b), "an unchanged directory was read again");
        std::thread::sleep(std::time::Duration::from_millis(30));
        fs::create_dir(d.join("k99999")).unwrap();
        let c = listing(&d).unwrap().unwrap();
        assert_eq!(c.children(), 5001);
        std::thread::sleep(std::time::Duration::from_millis(30));
        fs::remove_dir(d.join("k00000")).unwrap();
        let e = listing(&d).unwrap().unwrap();
        assert_eq!(e.children(), 5000);
        assert_eq!(e.seg(e.item(0).child), "k00001");
        fs::remove_dir_all(&d).unwrap();
        assert!(listing(&d).unwrap().is_none());
        set_racy_ms(2000);
    }
}
