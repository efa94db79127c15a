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
//! only at write-back) shows at its new place, and a write into a cloned range cannot hide.

use std::fs::File;
use std::ops::Range;
use std::os::fd::AsRawFd;

use super::clone::Shared;

/// `FS_IOC_FIEMAP`: `_IOWR('f', 11, struct fiemap)`, the header being 32 bytes.
const FS_IOC_FIEMAP: libc::c_ulong = 0xC020_660B;
const FIEMAP_FLAG_SYNC: u32 = 0x1;
/// The extent flags that still prove a place on disk: the last extent, merged, shared.
const PLAIN_FLAGS: u32 = 0x1 | 0x1000 | 0x2000;
const FIEMAP_EXTENT_SHARED: u32 = 0x2000;
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
pub struct Extent {
    pub logical: u64,
    pub physical: u64,
    pub len: u64,
    pub shared: bool,
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
            if e.flags & !PLAIN_FLAGS != 0 {
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
            Some(e) if e.flags & 0x1 == 0 && e.logical + e.length > start => {
                start = e.logical + e.length;
            }
            _ => break,
        }
    }
    Some(out)
}

/// The parts of the cloned `spans` (ranges of `out`) that both block maps place on the same
/// blocks as the original's range they were cloned from. Where a map cannot be had, nothing
/// is proven and the caller reads.
pub fn proven(orig: &File, out: &File, spans: &[Shared]) -> Vec<Range<u64>> {
    if spans.iter().map(|s| s.len).sum::<u64>() < MIN_PROOF {
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

/// Where the run of `proven` ranges that reaches the end of the file (`len` bytes) starts;
/// `len` when none does.
pub fn tail(proven: &[Range<u64>], len: u64) -> u64 {
    let mut from = len;
    for p in proven.iter().rev() {
        if p.end < from || p.start >= from {
            break;
        }
        from = p.start;
    }
    from
}

/// The parts of `s` (as ranges of the temp file) where the temp file's extents `new` and the
/// original's extents `old` name the same physical bytes, both marked shared.
pub fn same_place(s: &Shared, new: &[Extent], old: &[Extent]) -> Vec<Range<u64>> {
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
        let same = n.shared
            && o.shared
            && n.physical.checked_add(at - n.logical) == o.physical.checked_add(from - o.logical);
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

/// The extent holding byte `x`.
fn covering(extents: &[Extent], x: u64) -> Option<&Extent> {
    extents
        .iter()
        .find(|e| e.logical <= x && x < e.logical + e.len)
}

/// Where the first extent after byte `x` starts.
fn next_start(extents: &[Extent], x: u64) -> Option<u64> {
    extents.iter().map(|e| e.logical).filter(|&l| l > x).min()
}

/// The payload ranges still to be compared byte by byte, once the `proven` ranges of the new
/// file are taken out: a proven range counts only where it lies in the new payload at the same
/// place in the payload as its source lies in the old payload (a clone from the wrong offset
/// proves nothing). Returns matching lists (old, new) that cut the payload at the same places.
pub fn unproven(
    old: &[Range<u64>],
    new: &[Range<u64>],
    proven: &[Range<u64>],
    spans: &[Shared],
) -> (Vec<Range<u64>>, Vec<Range<u64>>) {
    let (mut rest_old, mut rest_new) = (Vec::new(), Vec::new());
    let (mut oi, mut ni) = (old.iter().cloned(), new.iter().cloned());
    let (mut o, mut n) = (oi.next(), ni.next());
    while let (Some(a), Some(b)) = (o.clone(), n.clone()) {
        let len = (a.end - a.start).min(b.end - b.start);
        // One stretch where both payloads run on: old `a.start..` is new `b.start..`.
        let mut at = 0;
        for cut in cuts(b.start, len, a.start, proven, spans) {
            if cut.start > at {
                rest_old.push(a.start + at..a.start + cut.start);
                rest_new.push(b.start + at..b.start + cut.start);
            }
            at = at.max(cut.end);
        }
        if at < len {
            rest_old.push(a.start + at..a.start + len);
            rest_new.push(b.start + at..b.start + len);
        }
        o = if a.start + len < a.end {
            Some(a.start + len..a.end)
        } else {
            oi.next()
        };
        n = if b.start + len < b.end {
            Some(b.start + len..b.end)
        } else {
            ni.next()
        };
    }
    // Payloads of different lengths: hand back what is left, so the comparison sees it.
    rest_old.extend(o.into_iter().chain(oi));
    rest_new.extend(n.into_iter().chain(ni));
    (rest_old, rest_new)
}

/// Within the stretch of `len` bytes at `new_at` in the new payload (`old_at` in the old one),
/// the proven parts whose clone came from the matching old offset, as offsets into the stretch.
fn cuts(
    new_at: u64,
    len: u64,
    old_at: u64,
    proven: &[Range<u64>],
    spans: &[Shared],
) -> Vec<Range<u64>> {
    let mut cuts: Vec<Range<u64>> = Vec::new();
    for p in proven {
        let Some(s) = spans
            .iter()
            .find(|s| s.at <= p.start && p.end <= s.at + s.len)
        else {
            continue;
        };
        // The clone's shift must be the payload's shift here.
        if s.from.wrapping_sub(s.at) != old_at.wrapping_sub(new_at) {
            continue;
        }
        let (start, end) = (p.start.max(new_at), p.end.min(new_at + len));
        if start < end {
            cuts.push(start - new_at..end - new_at);
        }
    }
    cuts.sort_by_key(|c| c.start);
    cuts
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
