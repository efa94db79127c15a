//! Proving that a cloned range of a rewrite's temp file holds the original's bytes without
//! reading it back. Reading a clone back fetches it from the device (the temp file's page cache
//! is empty), which on full-length tracks cost more than the copy the clone saved. Instead both
//! files' block maps (`FIEMAP`) must show the range on the very same blocks of the file system,
//! at the offsets the plan put it: then the bytes are the same by construction, not by
//! comparison. Anything the maps do not prove is left to the byte comparison: a hole, an extent
//! not on disk yet, an encoded (compressed, encrypted, inline) extent, a block at another place.
//!
//! The maps are taken with `FIEMAP_FLAG_SYNC`: the file system first writes back the file's
//! dirty pages, so a block written over after the clone (which copy-on-write moves elsewhere
//! only at write-back) shows at its new place, and a write into a cloned range cannot hide
//! (tests/reflink.rs writes one and must see it refused). XFS remaps such a block before its
//! write-back counts as done; btrfs waits for its ordered extents there since Linux 6.1, so on
//! an older kernel btrfs clones are read back as before.
//!
//! Which parts of the payload a proven range may stand in for is `payload`'s business.

mod payload;
pub use payload::split;

use std::fs::File;
use std::ops::Range;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;

use super::clone::Shared;
use super::fs_type;

/// `FS_IOC_FIEMAP`: `_IOWR('f', 11, struct fiemap)`, the header being 32 bytes.
const FS_IOC_FIEMAP: libc::c_ulong = 0xC020_660B;
const FIEMAP_FLAG_SYNC: u32 = 0x1;
const FIEMAP_EXTENT_LAST: u32 = 0x1;
const FIEMAP_EXTENT_MERGED: u32 = 0x1000;
const FIEMAP_EXTENT_SHARED: u32 = 0x2000;
/// The extent flags that still prove a place on disk; any other (unknown, delayed, encoded,
/// unwritten, inline, …) does not.
const PLAIN_FLAGS: u32 = FIEMAP_EXTENT_LAST | FIEMAP_EXTENT_MERGED | FIEMAP_EXTENT_SHARED;
/// Clones shorter than this (in all) are read back instead: the maps' write-back waits for the
/// device, which costs more than reading a short clone (lib5k's 2-second tracks: 7 % slower
/// with every clone proven by its maps, no slower from 256 KiB on).
const MIN_PROOF: u64 = 256 << 10;
/// Extents asked for per call.
const BATCH: usize = 32;

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RawExtent {
    logical: u64,
    physical: u64,
    length: u64,
    reserved64: [u64; 2],
    flags: u32,
    reserved: [u32; 3],
}

#[repr(C)]
struct Request {
    start: u64,
    length: u64,
    flags: u32,
    mapped: u32,
    count: u32,
    reserved: u32,
    extents: [RawExtent; BATCH],
}

/// One extent of a file: `len` bytes at `logical` in the file are at `physical` on the file
/// system, shared with another file or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Extent {
    logical: u64,
    physical: u64,
    len: u64,
    shared: bool,
}

/// The extents of `file` that overlap `range`, after writing back its dirty pages; `None` when
/// the file system has no block map to give, or an extent is not a plain place on disk yet.
fn map(file: &File, range: Range<u64>) -> Option<Vec<Extent>> {
    let mut out = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let mut req = Request {
            start,
            length: range.end - start,
            flags: FIEMAP_FLAG_SYNC,
            mapped: 0,
            count: BATCH as u32,
            reserved: 0,
            extents: [RawExtent::default(); BATCH],
        };
        // SAFETY: FS_IOC_FIEMAP reads the header and fills at most `count` extents of the
        // request, which lives on this stack frame for the whole call.
        if unsafe { libc::ioctl(file.as_raw_fd(), FS_IOC_FIEMAP, &mut req) } != 0 {
            return None;
        }
        let got = &req.extents[..(req.mapped as usize).min(BATCH)];
        for e in got {
            if e.flags & !PLAIN_FLAGS != 0 || e.logical.checked_add(e.length).is_none() {
                return None;
            }
            out.push(Extent {
                logical: e.logical,
                physical: e.physical,
                len: e.length,
                shared: e.flags & FIEMAP_EXTENT_SHARED != 0,
            });
        }
        match got.last() {
            Some(e) if e.flags & FIEMAP_EXTENT_LAST == 0 && e.logical + e.length > start => {
                start = e.logical + e.length;
            }
            _ => break,
        }
    }
    ordered(out)
}

/// The extents sorted by offset, or `None` when two of them overlap: a map to distrust.
fn ordered(mut extents: Vec<Extent>) -> Option<Vec<Extent>> {
    extents.sort_by_key(|e| e.logical);
    let overlap = extents
        .windows(2)
        .any(|w| w[0].logical + w[0].len > w[1].logical);
    (!overlap).then_some(extents)
}

/// Whether the maps of `file`'s file system are final once `FIEMAP_FLAG_SYNC` returns (see
/// the module doc): not on btrfs before Linux 6.1.
fn maps_settle(file: &File) -> bool {
    match fs_type::of(file) {
        Ok(fs) if fs.magic == fs_type::BTRFS => *BTRFS_MAPS_SETTLE.get_or_init(|| {
            // SAFETY: utsname is plain data, filled by the call for the running kernel.
            let mut u: libc::utsname = unsafe { std::mem::zeroed() };
            let release: String = match unsafe { libc::uname(&mut u) } {
                0 => u.release.iter().map(|&c| c as u8 as char).collect(),
                _ => String::new(),
            };
            kernel_at_least(&release, (6, 1))
        }),
        Ok(_) => true,
        Err(_) => false,
    }
}

/// The running kernel's answer for btrfs, asked once.
static BTRFS_MAPS_SETTLE: OnceLock<bool> = OnceLock::new();

/// Whether a kernel release string (`6.18.0-1-amd64`) is at least `min` (major, minor).
fn kernel_at_least(release: &str, min: (u32, u32)) -> bool {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= min,
        _ => false,
    }
}

/// The parts of the cloned `spans` (ranges of `out`) that both block maps place on the same
/// blocks as the original's range they were cloned from. Where a map cannot be had, nothing
/// is proven and the caller reads.
pub fn proven(orig: &File, out: &File, spans: &[Shared]) -> Vec<Range<u64>> {
    if spans.iter().map(|s| s.len).sum::<u64>() < MIN_PROOF || !maps_settle(out) {
        return Vec::new();
    }
    let mut all = Vec::new();
    for s in spans.iter().filter(|s| s.len > 0) {
        let (Some(new), Some(old)) = (
            map(out, s.at..s.at + s.len),
            map(orig, s.from..s.from + s.len),
        ) else {
            continue;
        };
        all.extend(same_place(s, &new, &old));
    }
    all
}

/// The parts of `s` (as ranges of the temp file) where the temp file's extents `new` and the
/// original's extents `old` name the same physical bytes, both marked shared.
fn same_place(s: &Shared, new: &[Extent], old: &[Extent]) -> Vec<Range<u64>> {
    let mut proven: Vec<Range<u64>> = Vec::new();
    let mut at = s.at;
    let end = s.at + s.len;
    while at < end {
        let from = at - s.at + s.from;
        let (Some(n), Some(o)) = (covering(new, at), covering(old, from)) else {
            // A hole on either side proves nothing here; go on at the next extent of either.
            let old_next = next_start(old, from).map(|x| x - s.from + s.at);
            let next = [next_start(new, at), old_next].into_iter().flatten().min();
            match next {
                Some(next) if next > at => {
                    at = next;
                    continue;
                }
                _ => break,
            }
        };
        let stop = (n.logical + n.len)
            .min(o.logical + o.len - s.from + s.at)
            .min(end);
        let here = |e: &Extent, x: u64| e.physical.checked_add(x - e.logical);
        let same = n.shared
            && o.shared
            && matches!((here(n, at), here(o, from)), (Some(a), Some(b)) if a == b);
        if same {
            match proven.last_mut() {
                Some(p) if p.end == at => p.end = stop,
                _ => proven.push(at..stop),
            }
        }
        at = stop;
    }
    proven
}

/// The extent holding byte `x` (the extents sorted and apart, as `map` gives them).
fn covering(extents: &[Extent], x: u64) -> Option<&Extent> {
    let i = extents.partition_point(|e| e.logical + e.len <= x);
    extents.get(i).filter(|e| e.logical <= x)
}

/// Where the first extent after byte `x` starts.
fn next_start(extents: &[Extent], x: u64) -> Option<u64> {
    let i = extents.partition_point(|e| e.logical <= x);
    extents.get(i).map(|e| e.logical)
}

/// Debug builds only: with `NOAI_TEST_SCRIBBLE_CLONE` set, one byte in the middle of the first
/// cloned range is written over after the clone, as a bug of ours might do, so the tests can
/// show the block maps do not vouch for it (copy-on-write moves that block at write-back).
#[cfg(debug_assertions)]
pub fn test_scribble(out: &File, spans: &[Shared]) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let Some(s) = spans.first() else {
        return Ok(());
    };
    if std::env::var_os("NOAI_TEST_SCRIBBLE_CLONE").is_none() {
        return Ok(());
    }
    let at = s.at + s.len / 2;
    let mut b = [0u8];
    out.read_exact_at(&mut b, at)?;
    out.write_all_at(&[b[0] ^ 0x55], at)
}

#[cfg(test)]
#[path = "extents_tests.rs"]
mod tests;
