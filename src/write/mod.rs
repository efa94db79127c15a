//! The only code that modifies user files. Two strategies, both crash-safe:
//! - in place, when the new metadata has exactly the old region's length: the old region is
//!   saved to an undo journal first, then one positioned write; a torn write is rolled back by
//!   `recover` on the next run;
//! - otherwise a temp sibling (`O_EXCL`) is written, verified (same container, audio payload
//!   hash equal, our fields readable) and renamed over the original.
//!
//! Writes go in steps so a batch of files shares its syncs (group commit): `stage` every file
//! (journal or temp file), `sync` once, `apply` every file, `sync` once, `finish` (drop the
//! journals). The ordering is what makes a crash safe: a journal or temp file is durable before
//! the user's file changes. Before `apply`, the file must still be the one that was scanned.

mod access;
mod attrs;
mod durable;
mod journal;
mod overlay;
mod proof;
mod recover;
mod rewrite;
mod siblings;

pub(crate) use siblings::{parent_dir, set_mtime, set_times, sibling};

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::bad;
use crate::formats::{self, Container, Edit, FormatError, Plan, Region, Result};

pub use journal::{JOURNAL_SUFFIX, is_journal_name, journal_path};
use journal::{Journal, Undo};
pub use recover::{Recovery, journal_target, recover, recover_idle};
pub use rewrite::{is_temp_name, remove_stale_temp};

/// The identity and state of a file when it was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: (i64, i64),
    /// Put back with the mtime when a write is rolled back.
    pub atime: (i64, i64),
    /// Any change to the inode (mode, owner, attributes, links) moves it, even when the
    /// modification time was set back.
    pub ctime: (i64, i64),
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
}

impl Snapshot {
    pub fn of(meta: &std::fs::Metadata) -> Snapshot {
        Snapshot {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            atime: (meta.atime(), meta.atime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            mode: meta.mode(),
            nlink: meta.nlink(),
            uid: meta.uid(),
            gid: meta.gid(),
        }
    }

    /// Errors unless the file at `path` is still this one, unchanged.
    fn check_unchanged(&self, path: &Path) -> Result<()> {
        let now =
            std::fs::symlink_metadata(path).map_err(|e| bad!("cannot stat before writing: {e}"))?;
        let now = Snapshot::of(&now);
        let key = |s: &Snapshot| (s.dev, s.ino, s.size, s.mtime, s.ctime);
        if key(&now) != key(self) {
            return Err(bad!(
                "the file changed while it was being processed; not written (run again)"
            ));
        }
        Ok(())
    }
}

/// How a write was carried out.
pub use crate::model::Strategy;

/// What a write did: the strategy and how many bytes it wrote to the file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub strategy: Strategy,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Give the file back its modification time after the write.
    pub preserve_mtime: bool,
}

/// Everything the writer needs about the scanned original.
pub struct Target<'a> {
    pub path: &'a Path,
    pub file: &'a File,
    pub snapshot: Snapshot,
    pub container: Container,
    /// The audio payload of this snapshot, as the planner found it (`formats::Planned`).
    pub payload: &'a [std::ops::Range<u64>],
}

/// A change that is staged but not yet made: an undo journal (in place) or a complete,
/// verified temp file (rewrite). The user's file is untouched until `apply`.
pub struct Staged {
    path: PathBuf,
    snapshot: Snapshot,
    opts: Options,
    kind: Kind,
    applied: bool,
}

enum Kind {
    InPlace {
        out: File,
        regions: Vec<Region>,
        undo: Vec<Undo>,
        journal: Journal,
    },
    Rewrite {
        tmp: PathBuf,
        len: u64,
    },
}

/// Step 1, per file: checks, then writes the undo journal or the verified temp file. Nothing is
/// durable yet and the user's file is unchanged.
pub fn stage(t: &Target, plan: Plan, edit: &Edit, opts: Options) -> Result<Staged> {
    access::check(t, matches!(plan, Plan::Rewrite { .. }))?;
    #[cfg(debug_assertions)]
    let plan = {
        let mut plan = plan;
        proof::test_fault(&mut plan)?;
        plan
    };
    let kind = match plan {
        Plan::Rewrite { parts } => {
            let (tmp, len) = rewrite::stage(t, &parts, edit, opts)?;
            Kind::Rewrite { tmp, len }
        }
        patch => {
            attrs::check_in_place(t)?;
            stage_in_place(t, patch.regions().unwrap_or_default(), edit)?
        }
    };
    Ok(Staged {
        path: t.path.to_path_buf(),
        snapshot: t.snapshot,
        opts,
        kind,
        applied: false,
    })
}

/// Steps 2 and 4, once per batch: makes everything written so far durable (`files`: device
/// and path) with one `syncfs` per file system, instead of an fsync per file and folder; on
/// FUSE and network file systems, where `syncfs` does not reach the data, an fsync per file.
pub fn sync<'a>(files: impl IntoIterator<Item = (u64, &'a Path)>) -> Result<()> {
    durable::sync(files)
}

impl Staged {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file system device of the file, for `sync`.
    pub fn dev(&self) -> u64 {
        self.snapshot.dev
    }

    /// Step 3: makes the change: one positioned write, or the rename over the original. The
    /// file must still be the one that was read.
    pub fn apply(&mut self) -> Result<()> {
        self.snapshot.check_unchanged(&self.path)?;
        match &self.kind {
            Kind::InPlace { out, regions, .. } => {
                self.applied = true;
                write_regions(out, regions, &self.snapshot, self.opts)
            }
            Kind::Rewrite { tmp, .. } => {
                std::fs::rename(tmp, &self.path)
                    .map_err(|e| bad!("cannot rename the temp file over it: {e}"))?;
                self.applied = true;
                Ok(())
            }
        }
    }

    /// Step 5, after the second `sync`: removes the undo journal.
    pub fn finish(self) -> Written {
        match self.kind {
            Kind::InPlace {
                regions, journal, ..
            } => {
                journal.finish();
                let bytes = regions.iter().map(|r| r.bytes.len() as u64).sum();
                Written {
                    strategy: Strategy::InPlace,
                    bytes,
                }
            }
            Kind::Rewrite { len, .. } => Written {
                strategy: Strategy::Rewrite,
                bytes: len,
            },
        }
    }

    /// Undoes a staged (or applied but not yet durable) change: the old bytes, length, mtime
    /// and atime go back, the temp file goes away. A renamed temp cannot be undone and is left as the
    /// (verified) new file.
    pub fn abort(self) {
        match self.kind {
            Kind::InPlace {
                out, undo, journal, ..
            } => {
                let restore = || -> std::io::Result<()> {
                    for u in &undo {
                        out.write_all_at(&u.old, u.offset)?;
                    }
                    out.set_len(self.snapshot.size)?;
                    // "As it was" includes the times backup and sync tools compare.
                    set_times(&out, [self.snapshot.atime, self.snapshot.mtime])?;
                    out.sync_all()
                };
                // Without a restore the journal stays, and the next run rolls the file back.
                if !self.applied || restore().is_ok() {
                    journal.finish();
                }
            }
            Kind::Rewrite { tmp, .. } => {
                if !self.applied {
                    let _ = std::fs::remove_file(tmp);
                }
            }
        }
    }
}

fn stage_in_place(t: &Target, regions: Vec<Region>, edit: &Edit) -> Result<Kind> {
    let src = formats::Source::new(t.file, t.snapshot.size);
    let size = t.snapshot.size;
    let payload = t.payload;
    let mut prev_end = 0;
    let mut narrowed = Vec::with_capacity(regions.len());
    let mut undo = Vec::with_capacity(regions.len());
    for r in regions {
        let end = r.offset + r.bytes.len() as u64;
        // Only the last region may start at the end of the file: the append.
        if r.offset < prev_end || (end > size && r.offset != size) {
            return Err(bad!(
                "internal check: overlapping or out-of-file write regions; not written"
            ));
        }
        if payload.iter().any(|p| r.offset < p.end && p.start < end) {
            return Err(bad!(
                "internal check: in-place write would touch audio data; not written"
            ));
        }
        prev_end = end;
        if r.offset == size {
            undo.push(Undo {
                offset: r.offset,
                old: Vec::new(),
                new_len: r.bytes.len() as u64,
            });
            narrowed.push(r);
            continue;
        }
        let old = src.read(r.offset, r.bytes.len() as u64, "metadata region")?;
        // Only the bytes that differ are written (and journalled): a tag whose cover art
        // comes before our fields costs a few hundred bytes, not the whole tag.
        for (at, len) in differing_runs(&old, &r.bytes) {
            let (lo, hi) = (at, at + len);
            undo.push(Undo {
                offset: r.offset + lo as u64,
                old: old[lo..hi].to_vec(),
                new_len: len as u64,
            });
            narrowed.push(Region {
                offset: r.offset + lo as u64,
                bytes: r.bytes[lo..hi].to_vec(),
            });
        }
    }
    let regions = narrowed;
    proof::in_place(t, &regions, edit)?;
    let new_size = size.max(prev_end);
    // The file as opened for reading, if that handle can write; else opened again, which fails
    // clearly for a file without write permission.
    let out = match t.file.try_clone() {
        Ok(f) if writable(&f) => f,
        _ => OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(t.path)
            .map_err(|e| bad!("cannot open for writing: {e}"))?,
    };
    let same = Snapshot::of(&out.metadata()?);
    if (same.dev, same.ino) != (t.snapshot.dev, t.snapshot.ino) {
        return Err(bad!(
            "the file was replaced while it was being processed; not written"
        ));
    }
    let new: Vec<&[u8]> = regions.iter().map(|r| r.bytes.as_slice()).collect();
    let journal = Journal::create(t.path, &t.snapshot, new_size, &undo, &new)?;
    Ok(Kind::InPlace {
        out,
        regions,
        undo,
        journal,
    })
}

/// True when the descriptor was opened for writing.
fn writable(f: &File) -> bool {
    // SAFETY: F_GETFL on a valid fd.
    let flags = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(f), libc::F_GETFL) };
    flags >= 0 && flags & libc::O_ACCMODE == libc::O_RDWR
}

/// The runs where `new` differs from `old` (same length), as (start, length); runs closer than
/// a small gap are merged, since a write per few bytes would cost more than the bytes.
fn differing_runs(old: &[u8], new: &[u8]) -> Vec<(usize, usize)> {
    const GAP: usize = 64;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < new.len() {
        if old[i] == new[i] {
            i += 1;
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

fn write_regions(out: &File, regions: &[Region], snap: &Snapshot, opts: Options) -> Result<()> {
    let io = |e: std::io::Error| FormatError(format!("write failed: {e}"));
    for r in regions {
        out.write_all_at(&r.bytes, r.offset).map_err(io)?;
    }
    if opts.preserve_mtime {
        set_mtime(out, snap.mtime)?;
    }
    for r in regions {
        let mut check = vec![0u8; r.bytes.len()];
        out.read_exact_at(&mut check, r.offset)
            .map_err(|e| bad!("cannot read back the written region: {e}"))?;
        if check != r.bytes {
            return Err(bad!("read-back of the written region differs"));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "abort_tests.rs"]
mod abort_tests;

#[cfg(test)]
mod tests {
    use super::differing_runs;

    #[test]
    fn only_differing_runs_are_written() {
        assert_eq!(differing_runs(b"abcdef", b"abcdef"), vec![]);
        assert_eq!(differing_runs(b"abcdef", b"abXdef"), vec![(2, 1)]);
        let old = vec![0u8; 300];
        let mut new = old.clone();
        new[0] = 1;
        new[10] = 1;
        new[200] = 1;
        assert_eq!(
            differing_runs(&old, &new),
            vec![(0, 11), (200, 1)],
            "near runs merge"
        );
    }
}
