//! The byte budget of a write batch. Every staged write holds extra space until its batch is
//! committed: a rewrite its whole temp file, an in-place write its undo journal (and what it
//! appends). A batch takes writes, per file system, until their extra bytes reach half of what
//! is free there (`fstatvfs` on the file's folder), and always at least one, so a nearly full
//! disk gets small batches instead of a failed run. A write that still runs out of space is
//! retried alone; only one that cannot fit alone is an error, saying what it needs.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::Path;

use super::Pending;
use crate::bad;
use crate::error::FileError;
use crate::formats::{Part, Plan};
use crate::units;

/// Where a planned write holds its extra space: the file system, the folder (temp file and
/// journal are siblings of the file) and the bytes.
pub fn of(p: &Pending) -> (u64, &Path, u64) {
    let o = &p.opened;
    let name = o.real.file_name().map_or(0, |n| n.len());
    let dir = o.real.parent().filter(|d| !d.as_os_str().is_empty());
    let extra = estimate(&p.plan, o.snapshot.size, name);
    (o.snapshot.dev, dir.unwrap_or(Path::new(".")), extra)
}

/// Extra space a write holds while staged, estimated from its plan (`size`: the file's size,
/// `name`: its name's length, which the journal records).
pub fn estimate(plan: &Plan, size: u64, name: usize) -> u64 {
    // The journal's fixed part: magic, name, sizes, times, count, checksum.
    let header = 128 + name as u64;
    let journal = |regions: &mut dyn Iterator<Item = (u64, u64)>| {
        regions
            .map(|(offset, len)| 24 + 2 * len + if offset >= size { len } else { 0 })
            .sum::<u64>()
            + header
    };
    match plan {
        Plan::Rewrite { parts } => parts
            .iter()
            .map(|p| match p {
                Part::Bytes(b) => b.len() as u64,
                Part::Copy { len, .. } | Part::OggPages { len, .. } => *len,
            })
            .sum(),
        Plan::Patch { regions } => {
            journal(&mut regions.iter().map(|r| (r.offset, r.bytes.len() as u64)))
        }
        // The cut tail is journalled (old bytes only) until the write is durable.
        Plan::Cut { regions, len } => {
            journal(&mut regions.iter().map(|r| (r.offset, r.bytes.len() as u64)))
                + 24
                + size.saturating_sub(*len)
        }
    }
}

/// Bytes an unprivileged writer may still use on the file system holding `dir`; `None` when
/// it cannot be told (the budget is then not limited).
pub fn free_bytes(dir: &Path) -> Option<u64> {
    space(dir).map(|(free, _)| free)
}

/// The free bytes and the block size of the file system holding `dir`.
fn space(dir: &Path) -> Option<(u64, u64)> {
    let d = std::fs::File::open(dir).ok()?;
    // SAFETY: all-zero bytes are a valid `statvfs` (plain integers), an out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: fstatvfs on a valid fd, into a struct it fills; std has no statvfs.
    if unsafe { libc::fstatvfs(d.as_raw_fd(), &mut st) } != 0 {
        return None;
    }
    let block = (st.f_frsize as u64).max(1);
    Some(((st.f_bavail as u64).saturating_mul(block), block))
}

/// One file system's share of a batch.
struct Device {
    limit: u64,
    /// Space is taken a block at a time: a journal of 300 bytes holds a whole block, and an
    /// append can start a new one.
    block: u64,
    used: u64,
    count: usize,
    /// A write retried alone holds the file system by itself.
    closed: bool,
}

/// The budget of one batch, per file system.
#[derive(Default)]
pub struct Budget {
    devices: HashMap<u64, Device>,
}

impl Budget {
    /// Takes a write of `extra` bytes on `dev` (a file in `dir`) into the batch if it fits, or
    /// if it is the first there; `alone`: only as the single write on its file system.
    pub fn take(&mut self, dev: u64, dir: &Path, extra: u64, alone: bool) -> bool {
        let d = self.devices.entry(dev).or_insert_with(|| {
            let (free, block) = space(dir).unwrap_or((u64::MAX, 1));
            Device {
                limit: free / 2,
                block,
                used: 0,
                count: 0,
                closed: false,
            }
        });
        let extra = extra
            .div_ceil(d.block)
            .saturating_add(1)
            .saturating_mul(d.block);
        let fits = match alone {
            true => d.count == 0,
            false => !d.closed && (d.count == 0 || d.used.saturating_add(extra) <= d.limit),
        };
        if fits {
            d.used = d.used.saturating_add(extra);
            d.count += 1;
            d.closed = alone;
        }
        fits
    }

    /// The most extra space the batch holds on one file system.
    pub fn peak(&self) -> u64 {
        self.devices.values().map(|d| d.used).max().unwrap_or(0)
    }
}

/// The peak extra space a run would hold for these writes (device, folder, extra bytes),
/// batched as `commit` batches them with the space free now: what `--dry-run` reports.
pub fn simulate(writes: &[(u64, &Path, u64)]) -> u64 {
    let mut left: Vec<&(u64, &Path, u64)> = writes.iter().collect();
    let mut peak = 0;
    while !left.is_empty() {
        let mut budget = Budget::default();
        left.retain(|(dev, dir, extra)| !budget.take(*dev, dir, *extra, false));
        peak = peak.max(budget.peak());
    }
    peak
}

/// True for an error message that reports a full file system or an exhausted quota.
pub fn out_of_space(msg: &str) -> bool {
    [libc::ENOSPC, libc::EDQUOT]
        .iter()
        .any(|&e| msg.contains(&std::io::Error::from_raw_os_error(e).to_string()))
}

/// The error of a write that does not fit even alone: a full disk, so `IoWrite`.
pub fn too_big(extra: u64, dir: &Path) -> FileError {
    let free = free_bytes(dir).map_or("an unknown amount".into(), units::size);
    bad!(
        IoWrite,
        "not enough free space: writing it needs about {} of temporary space beside it, {free} is free on its file system; not changed (free some space and run again)",
        units::size(extra)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_takes_writes_up_to_half_the_free_space_and_at_least_one() {
        let dir = std::env::temp_dir();
        let (free, block) = space(&dir).expect("statvfs of the temp folder");
        // What a write is charged: whole blocks, and one more.
        let charge = |x: u64| (x.div_ceil(block) + 1) * block;
        let mut b = Budget::default();
        assert!(
            b.take(1, &dir, u64::MAX / 4, false),
            "the first write always fits"
        );
        assert!(!b.take(1, &dir, 1, false), "the budget is spent");
        assert!(
            b.take(2, &dir, free / 5, false),
            "another file system has its own"
        );
        assert!(b.take(2, &dir, free / 5, false));
        assert!(
            !b.take(2, &dir, free / 5, false),
            "half of the free space at most"
        );
        assert!(!b.take(2, &dir, 0, true), "alone means alone");
        let mut b = Budget::default();
        assert!(b.take(3, &dir, 5, true));
        assert!(
            !b.take(3, &dir, 0, false),
            "nothing joins a write retried alone"
        );
        assert_eq!(
            b.peak(),
            charge(5),
            "a few bytes hold a block, and one more"
        );
        let peak = simulate(&[(1, &dir, free / 3), (1, &dir, free / 3), (1, &dir, 7)]);
        assert_eq!(peak, charge(free / 3) + charge(7), "two batches");
    }

    #[test]
    fn a_cut_holds_its_tail_in_the_journal() {
        let regions = vec![crate::formats::Region {
            offset: 10,
            bytes: vec![0; 4],
        }];
        let patch = estimate(
            &Plan::Patch {
                regions: regions.clone(),
            },
            3_000,
            5,
        );
        let cut = estimate(&Plan::Cut { regions, len: 500 }, 3_000, 5);
        assert!(cut >= patch + 2_500, "{cut} vs {patch}");
    }

    #[test]
    fn out_of_space_is_told_from_other_errors() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(out_of_space(&format!("copy failed: {full}")));
        let quota = std::io::Error::from_raw_os_error(libc::EDQUOT);
        assert!(out_of_space(&format!(
            "cannot write the undo journal: {quota}"
        )));
        assert!(!out_of_space(
            "cannot open: Permission denied (os error 13)"
        ));
    }
}
