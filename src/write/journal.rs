//! The undo journal of an in-place write: `.<name>.noai-journal` beside the file holds the old
//! bytes of the region about to be overwritten. It is written and made durable (the batch's
//! `syncfs`) before the file is touched and removed after the write is durable, so a kill or crash at any
//! instant leaves either the old file, the new file, or a journal that `recover` uses to put
//! the old bytes back over a torn write.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::Snapshot;
use crate::bad;
use crate::formats::Result;

pub const JOURNAL_SUFFIX: &str = ".noai-journal";
const MAGIC: &[u8; 8] = b"NOAIJ001";

/// A journal on disk for one in-place write.
pub struct Journal {
    path: PathBuf,
}

/// Where the undo journal of `target` lives.
pub fn journal_path(target: &Path) -> PathBuf {
    super::sibling(target, JOURNAL_SUFFIX)
}

/// True for a file name of our journals.
pub fn is_journal_name(name: &std::ffi::OsStr) -> bool {
    let b = name.as_bytes();
    b.starts_with(b".")
        && b.ends_with(JOURNAL_SUFFIX.as_bytes())
        && b.len() > 1 + JOURNAL_SUFFIX.len()
}

/// The file a journal belongs to, from the name recorded in it.
pub fn target_of(journal: &Path) -> Option<PathBuf> {
    let rec = std::fs::read(journal).ok()?;
    let (name, _) = split_name(&rec)?;
    Some(journal.with_file_name(OsString::from_vec(name.to_vec())))
}

/// Splits a record after the magic into the recorded file name and the rest.
fn split_name(rec: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = rec.strip_prefix(MAGIC)?;
    let n = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?) as usize;
    let name = rest.get(8..8usize.checked_add(n)?)?;
    Some((name, &rest[8 + n..]))
}

impl Journal {
    /// Writes and syncs the journal; errors if one already exists (an earlier run was
    /// interrupted and its recovery has not happened, or another process is writing).
    pub fn create(
        target: &Path,
        snap: &Snapshot,
        offset: u64,
        old: &[u8],
        new: &[u8],
    ) -> Result<Journal> {
        let path = journal_path(target);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| bad!("cannot create the undo journal {}: {e}", path.display()))?;
        let name = target.file_name().unwrap_or_default().as_bytes();
        let mut rec = Vec::with_capacity(old.len() + name.len() + 96);
        rec.extend_from_slice(MAGIC);
        rec.extend_from_slice(&(name.len() as u64).to_le_bytes());
        rec.extend_from_slice(name);
        for n in [snap.dev, snap.ino, snap.size, offset, old.len() as u64] {
            rec.extend_from_slice(&n.to_le_bytes());
        }
        rec.extend_from_slice(&Sha256::digest(new));
        rec.extend_from_slice(old);
        rec.extend_from_slice(&Sha256::digest(&rec));
        // Not synced here: the batch's `sync` makes every journal durable before any file changes.
        let written = f.write_all(&rec);
        let journal = Journal { path };
        if let Err(e) = written {
            journal.finish();
            return Err(bad!("cannot write the undo journal: {e}"));
        }
        Ok(journal)
    }

    /// Removes the journal once the write is durable (or undone).
    pub fn finish(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What recovery did with a journal.
#[derive(Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The write had completed (or never started): nothing to undo.
    Clean,
    /// A torn write was rolled back to the original bytes.
    RolledBack,
}

/// Handles a journal left by an interrupted run: restores the old bytes over a torn region,
/// then removes the journal. A journal that does not match its file is left for a person.
pub fn recover(journal: &Path) -> Result<Recovery> {
    let rec = std::fs::read(journal).map_err(|e| bad!("cannot read journal: {e}"))?;
    let discard = || {
        // A journal torn while being written: the target was not touched yet.
        std::fs::remove_file(journal).map_err(|e| bad!("cannot remove journal: {e}"))?;
        Ok(Recovery::Clean)
    };
    if rec.len() < 32 || Sha256::digest(&rec[..rec.len() - 32]).as_slice() != &rec[rec.len() - 32..]
    {
        return discard();
    }
    let Some((name, body)) = split_name(&rec[..rec.len() - 32]) else {
        return discard();
    };
    if body.len() < 72 {
        return discard();
    }
    let target = journal.with_file_name(OsString::from_vec(name.to_vec()));
    let n = |i: usize| u64::from_le_bytes(body[i * 8..i * 8 + 8].try_into().unwrap_or_default());
    let (dev, ino, size, offset, old_len) = (n(0), n(1), n(2), n(3), n(4) as usize);
    let new_hash = &body[40..72];
    let old = body
        .get(72..72 + old_len)
        .ok_or_else(|| bad!("corrupt journal"))?;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&target)
        .map_err(|e| bad!("cannot open {}: {e}", target.display()))?;
    let snap = Snapshot::of(&f.metadata()?);
    if (snap.dev, snap.ino, snap.size) != (dev, ino, size) {
        return Err(bad!(
            "journal {} does not match its file any more; left in place",
            journal.display()
        ));
    }
    let mut now = vec![0u8; old_len];
    f.read_exact_at(&mut now, offset)?;
    let outcome = if now == old || Sha256::digest(&now).as_slice() == new_hash {
        Recovery::Clean
    } else {
        f.write_all_at(old, offset)
            .and_then(|_| f.sync_data())
            .map_err(|e| bad!("rollback failed: {e}"))?;
        Recovery::RolledBack
    };
    std::fs::remove_file(journal).map_err(|e| bad!("cannot remove journal: {e}"))?;
    Ok(outcome)
}

/// Creates `path` for tests that simulate a crash between journal and write.
#[cfg(test)]
pub(crate) fn leave(j: Journal) {
    std::mem::forget(j);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    #[test]
    fn torn_write_is_rolled_back_and_complete_write_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("song.mp3");
        std::fs::write(&p, b"HEADER-OLD-AUDIO").unwrap();
        let snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
        let j = Journal::create(&p, &snap, 7, b"OLD", b"NEW").unwrap();
        leave(j);
        // Torn: one byte of three written.
        File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .write_all_at(b"N", 7)
            .unwrap();
        let jp = journal_path(&p);
        assert!(is_journal_name(jp.file_name().unwrap()));
        assert_eq!(recover(&jp).unwrap(), Recovery::RolledBack);
        assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
        assert!(!jp.exists());
        // Complete: the new bytes stay.
        leave(Journal::create(&p, &snap, 7, b"OLD", b"NEW").unwrap());
        File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .write_all_at(b"NEW", 7)
            .unwrap();
        assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
        assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-NEW-AUDIO");
    }

    #[test]
    fn half_written_journal_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.flac");
        std::fs::write(&p, b"data").unwrap();
        let jp = journal_path(&p);
        std::fs::write(&jp, b"NOAIJ001\x01\x02").unwrap();
        assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
        assert_eq!(std::fs::read(&p).unwrap(), b"data");
    }
}
