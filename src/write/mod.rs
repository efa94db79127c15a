//! The only code that modifies user files. Two strategies, both crash-safe:
//! - in place (`in_place`), when the new metadata has exactly the old region's length, is
//!   appended at the end, or the file is cut short of a box at its end: the old bytes (and a cut
//!   tail) are saved to an undo journal first, then positioned writes (and the cut); a torn
//!   write is rolled back by `recover` on the next run;
//! - otherwise a temp sibling (`O_EXCL`) is written, verified (same container, audio payload
//!   hash equal, our fields readable) and renamed over the original.
//!
//! Writes go in steps so a batch of files shares its syncs (group commit): `stage` every file
//! (temp file, or the journal record), `journal` the batch (one journal file per folder that
//! names its files inside it, `bundle`), `sync` once, `apply` every file, `sync` once, `finish` (drop the journals). The
//! ordering is what makes a crash safe: a journal or temp file is durable before the user's file
//! changes. Before `apply`, the file must still be the one that was scanned.

mod access;
mod attrs;
mod bundle;
mod clone;
mod durable;
mod extents;
mod flags;
mod fs_type;
mod in_place;
mod journal;
mod journals;
mod overlay;
mod proof;
mod recover;
mod rewrite;
mod settle;
mod siblings;
pub mod sign;
mod sign_ends;

pub(crate) use siblings::{parent_dir, set_mtime, set_times, sibling};

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::bad;
use crate::error::FileError;
use crate::formats::{self, Plan, Result};
use crate::model::{Container, Edit, Scan};

pub use clone::clone_block;
use in_place::InPlace;
pub use journal::{JOURNAL_SUFFIX, is_journal_name, journal_path};
pub use journals::{Named, settle_in, unchecked};
#[cfg(test)]
pub(crate) use proof::ogg_crc;
/// The proof's own Ogg FLAC walker (public for the `ogg_flac` fuzz target).
pub use proof::{ogg_flac_metadata, old_readable};
pub use recover::{Recovery, journal_target, journal_targets, recover, recover_idle};
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
    /// A made-up snapshot of a `size`-byte file, for unit tests of the journal formats.
    #[cfg(test)]
    pub(crate) fn made_up(size: u64) -> Snapshot {
        Snapshot {
            dev: 1,
            ino: 2,
            size,
            mtime: (0, 0),
            atime: (0, 0),
            ctime: (0, 0),
            mode: 0o644,
            nlink: 1,
            uid: 0,
            gid: 0,
        }
    }

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
        // Gone since the scan is a change like any other.
        let now = std::fs::symlink_metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => bad!(Changed, "cannot stat before writing: {e}"),
            _ => FileError::io_read("cannot stat before writing", &e),
        })?;
        let now = Snapshot::of(&now);
        let key = |s: &Snapshot| (s.dev, s.ino, s.size, s.mtime, s.ctime);
        if key(&now) != key(self) {
            return Err(bad!(
                Changed,
                "the file changed while it was being processed; not written (run again)"
            ));
        }
        Ok(())
    }
}

/// How a write was carried out.
pub use crate::model::Strategy;

/// What a write did: the strategy and how many bytes it wrote to the file system (a cloned
/// range shares the original's extents and is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub strategy: Strategy,
    pub bytes: u64,
    /// A rewrite that cloned some of the original's extents instead of copying them.
    pub cloned: bool,
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
    /// `file` was opened for writing, so an in-place write needs no second open.
    pub writable: bool,
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
    InPlace(InPlace),
    Rewrite(rewrite::Temp),
}

/// Step 1, per file: checks, then writes the verified temp file, or makes the undo record an
/// in-place write needs (written by `journal`). Nothing is durable yet and the user's file is
/// unchanged.
pub fn stage(t: &Target, plan: Plan, edit: &Edit, opts: Options) -> Result<Staged> {
    access::check(t, matches!(plan, Plan::Rewrite { .. }))?;
    #[cfg(debug_assertions)]
    let plan = {
        let mut plan = plan;
        proof::test_fault(&mut plan)?;
        plan
    };
    let kind = match plan {
        Plan::Rewrite { parts } => Kind::Rewrite(rewrite::stage(t, &parts, edit, opts)?),
        patch => {
            attrs::check_in_place(t)?;
            let cut = patch.cut();
            let regions = patch.regions().unwrap_or_default();
            Kind::InPlace(InPlace::stage(t, regions, cut, edit)?)
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

/// The new file as our own reader reads it (`src`: the temp file, or the view of an in-place
/// write), judged before anything is renamed or written: the same container, and every field
/// of the edit there. The engine takes its verdict from this scan instead of reading the
/// written file again (the write's read-back and the rename keep exactly these bytes).
fn judge(src: &formats::Source, container: Container, edit: &Edit) -> Result<Scan> {
    same_container(src, container)?;
    let scan = formats::scan(src, container).map_err(|e| {
        bad!(
            Refused,
            "internal check: the new tags do not parse ({e}); not written"
        )
    })?;
    let fields: Vec<_> = scan.carriers.iter().flat_map(|c| c.fields.iter()).collect();
    for (k, v) in &edit.set {
        if !fields.iter().any(|f| &f.key == k && &f.value == v) {
            return Err(bad!(
                Refused,
                "internal check: {k} is missing from the new file; not written"
            ));
        }
    }
    Ok(scan)
}

/// The new file must still sniff as the original's container.
fn same_container(src: &formats::Source, container: Container) -> Result<()> {
    let unreadable = |e: FileError| {
        bad!(
            Refused,
            "internal check: the new file does not parse ({e}); not written"
        )
    };
    if formats::sniff::container(src).map_err(unreadable)? != container {
        return Err(bad!(
            Refused,
            "internal check: the new file is no longer {}; not written",
            container.name()
        ));
    }
    Ok(())
}

/// Step 2, once per batch: writes the undo journals of the staged in-place writes, one file per
/// folder naming its files inside it (`bundle`), instead of one new file each. One result
/// per staged write, in order; a write whose journal failed must be `abort`ed (nothing of it
/// was written to the user's file).
pub fn journal(staged: &mut [&mut Staged]) -> Vec<Result<()>> {
    use rayon::prelude::*;
    type Group<'a> = Vec<(usize, &'a Path, &'a mut InPlace)>;
    let n = staged.len();
    let mut folders: Vec<Group> = Vec::new();
    let mut at: std::collections::HashMap<&Path, usize> = std::collections::HashMap::new();
    for (i, s) in staged.iter_mut().enumerate() {
        let Staged { path, kind, .. } = &mut **s;
        let Kind::InPlace(w) = kind else {
            continue;
        };
        let g = *at.entry(parent_dir(path)).or_insert_with(|| {
            folders.push(Vec::new());
            folders.len() - 1
        });
        folders[g].push((i, path.as_path(), w));
    }
    let done: Vec<(usize, Result<()>)> = folders
        .into_par_iter()
        .flat_map_iter(|mut group| {
            let items: Vec<(&Path, Vec<u8>)> = group
                .iter_mut()
                .map(|(_, p, w)| (*p, std::mem::take(&mut w.record)))
                .collect();
            let written = bundle::write(&items);
            group
                .into_iter()
                .zip(written)
                .map(|((i, _, w), j)| (i, j.map(|j| w.journal = Some(j))))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut out: Vec<Result<()>> = (0..n).map(|_| Ok(())).collect();
    for (i, r) in done {
        out[i] = r;
    }
    out
}

/// Steps 3 and 5, once per batch: makes everything written so far durable (`files`: device
/// and path) with one `syncfs` per file system, instead of an fsync per file and folder; on
/// FUSE and network file systems, where `syncfs` does not reach the data, an fsync per file.
pub fn sync<'a>(files: impl IntoIterator<Item = (u64, &'a Path)>) -> Result<()> {
    durable::sync(files)
}

impl Staged {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The new file as our own reader read it while staging (`None` for a signing): what the
    /// engine reports once the write is done.
    pub fn take_after(&mut self) -> Option<Scan> {
        match &mut self.kind {
            Kind::InPlace(w) => w.after.take(),
            Kind::Rewrite(t) => t.after.take(),
        }
    }

    /// The journal file of an in-place write (its name is not always the file's own), for
    /// `sync` where each file is synced on its own.
    pub fn journal_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::InPlace(w) => w.journal.as_ref().map(|j| j.path()),
            Kind::Rewrite(_) => None,
        }
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
            Kind::InPlace(w) => {
                self.applied = true;
                w.apply(&self.snapshot, self.opts)
            }
            Kind::Rewrite(temp) => {
                std::fs::rename(&temp.path, &self.path)
                    .map_err(|e| FileError::io_write("cannot rename the temp file over it", &e))?;
                self.applied = true;
                Ok(())
            }
        }
    }

    /// Step 5a, after the second `sync`: lets go of the undo journal, which goes with the last
    /// write of its folder's batch. Called for the whole batch before any file is finished (and
    /// its lock released), so no other process finds the journal naming a file it could lock.
    pub fn finish_journal(&mut self) {
        if let Kind::InPlace(w) = &mut self.kind
            && let Some(j) = w.journal.take()
        {
            j.finish();
        }
    }

    /// Step 5b: what the write did (the undo journal is let go of, if `finish_journal` was not).
    pub fn finish(self) -> Written {
        match self.kind {
            Kind::InPlace(w) => {
                let bytes = w.bytes();
                if let Some(j) = w.journal {
                    j.finish();
                }
                Written {
                    strategy: Strategy::InPlace,
                    bytes,
                    cloned: false,
                }
            }
            Kind::Rewrite(temp) => Written {
                strategy: Strategy::Rewrite,
                bytes: temp.len - temp.cloned - temp.holes,
                cloned: temp.cloned > 0,
            },
        }
    }

    /// Undoes a staged (or applied but not yet durable) change: the old bytes, length, mtime
    /// and atime go back, the temp file goes away. A renamed temp cannot be undone and is left as the
    /// (verified) new file.
    pub fn abort(self) {
        match self.kind {
            Kind::InPlace(w) => w.abort(&self.snapshot, self.applied),
            Kind::Rewrite(temp) => {
                if !self.applied {
                    let _ = std::fs::remove_file(temp.path);
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "abort_tests.rs"]
mod abort_tests;
