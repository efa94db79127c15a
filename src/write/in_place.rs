//! The in-place strategy: positioned writes into the file itself, made crash-safe by an undo
//! journal. Staging narrows each planned region to the bytes that really change, checks that
//! none touches the audio, proves the result (`proof::in_place`), leaves an append's long runs
//! of zeros out (holes: neither written nor journalled) and writes the journal; the file is
//! opened for writing but not changed. `apply` writes (and cuts the file, for a
//! `Plan::Cut`: the cut tail is journalled like any old bytes), `abort` puts the old bytes,
//! length and times back.

use std::fs::{File, OpenOptions};
use std::ops::Range;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

use super::journal::{self, Journal, Undo};
use super::overlay::Overlay;
use super::{Options, Snapshot, Target, proof, set_mtime, set_times};
use crate::bad;
use crate::error::FileError;
use crate::formats::{Region, Result, Source};
use crate::model::{Edit, Scan};

/// A staged in-place write: its journal record is ready (written by `journal`, not yet
/// durable), the file untouched.
pub(super) struct InPlace {
    pub(super) out: File,
    pub(super) regions: Vec<Region>,
    pub(super) undo: Vec<Undo>,
    /// The record for the journal, and the journal once the batch wrote it.
    pub(super) record: Vec<u8>,
    pub(super) journal: Option<Journal>,
    /// The length the file is cut to after the writes.
    pub(super) cut: Option<u64>,
    /// The file's length after the write (an append's holes, `journal::gaps` of the regions,
    /// lie below it).
    pub(super) len: u64,
    /// The new file as our own reader reads it (from the view, before the write).
    pub(super) after: Option<Scan>,
}

/// The planned regions as the writes to make and the old bytes to journal.
struct Narrowed {
    regions: Vec<Region>,
    undo: Vec<Undo>,
    /// Where the last region ends (past the end of the file for an append).
    end: u64,
}

impl InPlace {
    /// Checks and proves the write, opens the file for writing and makes its journal record.
    pub(super) fn stage(
        t: &Target,
        regions: Vec<Region>,
        cut: Option<u64>,
        edit: &Edit,
    ) -> Result<InPlace> {
        let src = Source::new(t.file, t.snapshot.size);
        let Narrowed {
            mut regions,
            mut undo,
            end,
        } = narrow(&src, t.payload, regions, cut)?;
        proof::in_place(t, &regions, cut.unwrap_or(t.snapshot.size), edit)?;
        let new_size = cut.unwrap_or(t.snapshot.size.max(end));
        let view = Overlay::new(t.file, cut.unwrap_or(t.snapshot.size), &regions);
        let after = super::judge(&Source::over(&view, new_size), t.container, edit)?;
        leave_holes(&mut regions, &mut undo, t.snapshot.size);
        let mut new: Vec<&[u8]> = regions.iter().map(|r| r.bytes.as_slice()).collect();
        if let Some(len) = cut {
            undo.push(Undo {
                offset: len,
                old: src.read(len, src.len() - len, "the tail to cut")?,
                new_len: 0,
            });
            new.push(&[]);
        }
        let out = open_for_writing(t)?;
        let record = journal::record(t.path, &t.snapshot, new_size, &undo, &new)?;
        Ok(InPlace {
            out,
            regions,
            undo,
            record,
            journal: None,
            cut,
            len: new_size,
            after: Some(after),
        })
    }

    /// The writes and the cut, then the mtime back if asked, then every region read back.
    pub(super) fn apply(&self, snap: &Snapshot, opts: Options) -> Result<()> {
        if self.journal.is_none() {
            return Err(bad!(
                Refused,
                "internal check: no undo journal was written; not written"
            ));
        }
        let io = |e: std::io::Error| FileError::io_write("write failed", &e);
        for r in &self.regions {
            self.out.write_all_at(&r.bytes, r.offset).map_err(io)?;
        }
        let spans = self
            .regions
            .iter()
            .map(|r| (r.offset, r.bytes.len() as u64));
        let holes = journal::gaps(snap.size, self.len, spans);
        // A cut, or an append whose last bytes are holes: the file gets its new length. (Never
        // set to the length it has: on XFS that can unshare a cloned last block.)
        if self.cut.is_some() {
            self.out.set_len(self.len).map_err(io)?;
        } else if self.out.metadata().map_err(io)?.len() < self.len
            && self.out.set_len(self.len).is_err()
        {
            // A file system that cannot extend a file this way gets the zeros written.
            for h in &holes {
                let zeros = vec![0u8; (h.end - h.start) as usize];
                self.out.write_all_at(&zeros, h.start).map_err(io)?;
            }
        }
        if self.out.metadata().map_err(io)?.len() != self.len {
            return Err(bad!(
                IoWrite,
                "the file is not the length it was written to"
            ));
        }
        if opts.preserve_mtime {
            set_mtime(&self.out, snap.mtime)?;
        }
        for r in &self.regions {
            let mut check = vec![0u8; r.bytes.len()];
            self.out
                .read_exact_at(&mut check, r.offset)
                .map_err(|e| FileError::io_read("cannot read back the written region", &e))?;
            if check != r.bytes {
                return Err(bad!(IoWrite, "read-back of the written region differs"));
            }
        }
        for h in holes {
            let zeros = super::recover::zeros(&self.out, h)
                .map_err(|e| FileError::io_read("cannot read back the written region", &e))?;
            if !zeros {
                return Err(bad!(
                    IoWrite,
                    "read-back of the appended padding is not zeros"
                ));
            }
        }
        Ok(())
    }

    /// Bytes written to the file.
    pub(super) fn bytes(&self) -> u64 {
        self.regions.iter().map(|r| r.bytes.len() as u64).sum()
    }

    /// Puts the old bytes, length and times back (when `applied`) and drops the journal; a
    /// failed restore keeps the journal, so the next run rolls the file back.
    pub(super) fn abort(self, snap: &Snapshot, applied: bool) {
        let restore = || -> std::io::Result<()> {
            for u in &self.undo {
                self.out.write_all_at(&u.old, u.offset)?;
            }
            self.out.set_len(snap.size)?;
            // "As it was" includes the times backup and sync tools compare.
            set_times(&self.out, [snap.atime, snap.mtime])?;
            self.out.sync_all()
        };
        if let Some(j) = self.journal {
            match !applied || restore().is_ok() {
                true => j.finish(),
                false => j.keep(),
            }
        }
    }
}

/// Checks the regions (in order, inside the file or appended at its end, off the audio; for a
/// cut, all below the cut, and the audio too) and narrows each to the runs that differ from the
/// file.
fn narrow(
    src: &Source,
    payload: &[Range<u64>],
    regions: Vec<Region>,
    cut: Option<u64>,
) -> Result<Narrowed> {
    let size = src.len();
    if let Some(len) = cut {
        check_cut(len, size, payload, &regions)?;
    }
    let mut out = Narrowed {
        regions: Vec::with_capacity(regions.len()),
        undo: Vec::with_capacity(regions.len()),
        end: 0,
    };
    for r in regions {
        let end = r.offset + r.bytes.len() as u64;
        // Only the last region may start at the end of the file: the append.
        if r.offset < out.end || (end > size && r.offset != size) {
            return Err(bad!(
                Refused,
                "internal check: overlapping or out-of-file write regions; not written"
            ));
        }
        if payload.iter().any(|p| r.offset < p.end && p.start < end) {
            return Err(bad!(
                Refused,
                "internal check: in-place write would touch audio data; not written"
            ));
        }
        out.end = end;
        if r.offset == size {
            out.undo.push(Undo {
                offset: r.offset,
                old: Vec::new(),
                new_len: r.bytes.len() as u64,
            });
            out.regions.push(r);
            continue;
        }
        let old = src.read(r.offset, r.bytes.len() as u64, "metadata region")?;
        // Only the bytes that differ are written (and journalled): a tag whose cover art
        // comes before our fields costs a few hundred bytes, not the whole tag.
        for (at, len) in differing_runs(&old, &r.bytes) {
            let (lo, hi) = (at, at + len);
            out.undo.push(Undo {
                offset: r.offset + lo as u64,
                old: old[lo..hi].to_vec(),
                new_len: len as u64,
            });
            out.regions.push(Region {
                offset: r.offset + lo as u64,
                bytes: r.bytes[lo..hi].to_vec(),
            });
        }
    }
    Ok(out)
}

/// The smallest run of zeros an append leaves as a hole: a file-system block's worth, so the
/// run spans at least part of a block never written (shorter runs would only split the write).
const HOLE: usize = 4096;

/// Splits the append (the last region, at the old end of the file), and its undo entry, around
/// its runs of at least `HOLE` zeros (the padding of an appended tag): those bytes are neither
/// written nor journalled (format 007: the gaps the regions leave, `journal::gaps`), and
/// `apply` extends the file over them.
fn leave_holes(regions: &mut Vec<Region>, undo: &mut Vec<Undo>, size: u64) {
    let appends = |r: &Region| r.offset == size && r.bytes.len() >= HOLE;
    if !regions.last().is_some_and(appends) || undo.last().map(|u| u.offset) != Some(size) {
        return;
    }
    let (Some(r), Some(_)) = (regions.pop(), undo.pop()) else {
        return;
    };
    for (start, len) in outside_zero_runs(&r.bytes, HOLE) {
        let offset = size + start as u64;
        undo.push(Undo {
            offset,
            old: Vec::new(),
            new_len: len as u64,
        });
        regions.push(Region {
            offset,
            bytes: r.bytes[start..start + len].to_vec(),
        });
    }
}

/// The parts of `bytes` outside its runs of at least `min` zeros, as (start, length).
fn outside_zero_runs(bytes: &[u8], min: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut from, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] != 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == 0 {
            i += 1;
        }
        if i - start >= min {
            if start > from {
                out.push((from, start - from));
            }
            from = i;
        }
    }
    if from < bytes.len() {
        out.push((from, bytes.len() - from));
    }
    out
}

/// A cut must shorten the file and leave the audio and every write region whole.
fn check_cut(len: u64, size: u64, payload: &[Range<u64>], regions: &[Region]) -> Result<()> {
    if len >= size || payload.iter().any(|p| p.end > len) {
        return Err(bad!(
            Refused,
            "internal check: the cut would not shorten the file, or would cut audio; not written"
        ));
    }
    if regions
        .iter()
        .any(|r| r.offset + r.bytes.len() as u64 > len)
    {
        return Err(bad!(
            Refused,
            "internal check: a write region lies in the part to cut; not written"
        ));
    }
    Ok(())
}

/// The file as opened for reading, if that handle can write; else opened again, which fails
/// clearly for a file without write permission. Either way it must be the scanned inode.
fn open_for_writing(t: &Target) -> Result<File> {
    let out = match t.file.try_clone() {
        Ok(f) if t.writable => f,
        _ => OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(t.path)
            .map_err(|e| FileError::io_write("cannot open for writing", &e))?,
    };
    let meta = out
        .metadata()
        .map_err(|e| FileError::io_read("read failed", &e))?;
    let same = Snapshot::of(&meta);
    if (same.dev, same.ino) != (t.snapshot.dev, t.snapshot.ino) {
        return Err(bad!(
            Changed,
            "the file was replaced while it was being processed; not written"
        ));
    }
    Ok(out)
}

/// The runs where `new` differs from `old` (same length), as (start, length); runs closer than
/// a small gap are merged, since a write per few bytes would cost more than the bytes.
fn differing_runs(old: &[u8], new: &[u8]) -> Vec<(usize, usize)> {
    const GAP: usize = 64;
    /// Equal bytes are skipped this many at a time (one slice compare, not a byte loop).
    const STRIDE: usize = 32;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < new.len() {
        if old[i] == new[i] {
            while i + STRIDE <= new.len() && old[i..i + STRIDE] == new[i..i + STRIDE] {
                i += STRIDE;
            }
            if i < new.len() && old[i] == new[i] {
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < new.len() && old[i] != new[i] {
            i += 1;
        }
        match runs.last_mut() {
            Some((s, l)) if start - (*s + *l) < GAP => *l = i - *s,
            _ => runs.push((start, i - start)),
        }
    }
    runs
}

#[cfg(test)]
#[path = "in_place_tests.rs"]
mod tests;
