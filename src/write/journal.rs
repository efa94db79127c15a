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
const MAGIC: &[u8; 8] = b"NOAIJ002";

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

/// One region of a patch as the journal keeps it: where, the old bytes, the new length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undo {
    pub offset: u64,
    pub old: Vec<u8>,
    pub new_len: u64,
}

/// Record layout (little-endian): MAGIC, name length + name, dev, ino, old size, new size,
/// region count, then per region offset, old length, new length, old bytes; SHA-256 of all
/// new bytes; SHA-256 of everything before it.
fn encode(name: &[u8], snap: &Snapshot, new_size: u64, undo: &[Undo], new_hash: &[u8]) -> Vec<u8> {
    let mut rec =
        Vec::with_capacity(128 + name.len() + undo.iter().map(|u| u.old.len() + 24).sum::<usize>());
    rec.extend_from_slice(MAGIC);
    rec.extend_from_slice(&(name.len() as u64).to_le_bytes());
    rec.extend_from_slice(name);
    for n in [snap.dev, snap.ino, snap.size, new_size, undo.len() as u64] {
        rec.extend_from_slice(&n.to_le_bytes());
    }
    for u in undo {
        for n in [u.offset, u.old.len() as u64, u.new_len] {
            rec.extend_from_slice(&n.to_le_bytes());
        }
        rec.extend_from_slice(&u.old);
    }
    rec.extend_from_slice(new_hash);
    let sum = Sha256::digest(&rec);
    rec.extend_from_slice(&sum);
    rec
}

/// Reads a record front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (a, b) = self.0.split_at_checked(n)?;
        self.0 = b;
        Some(a)
    }

    fn num(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

struct Decoded {
    target: PathBuf,
    dev: u64,
    ino: u64,
    old_size: u64,
    new_size: u64,
    undo: Vec<Undo>,
    new_hash: Vec<u8>,
}

/// `None` for a record that is incomplete or damaged (torn while it was being written: the
/// target was not touched yet, since that happens only after the journal is durable).
fn decode(journal: &Path, rec: &[u8]) -> Option<Decoded> {
    let (body, sum) = rec.split_at(rec.len().checked_sub(32)?);
    if Sha256::digest(body).as_slice() != sum {
        return None;
    }
    let (name, rest) = split_name(body)?;
    let mut c = Cursor(rest);
    let (dev, ino, old_size, new_size, count) = (c.num()?, c.num()?, c.num()?, c.num()?, c.num()?);
    let mut undo = Vec::new();
    for _ in 0..count.min(1 << 16) {
        let (offset, old_len, new_len) = (c.num()?, c.num()?, c.num()?);
        let old = c.take(usize::try_from(old_len).ok()?)?.to_vec();
        undo.push(Undo {
            offset,
            old,
            new_len,
        });
    }
    let new_hash = c.take(32)?.to_vec();
    let target = journal.with_file_name(OsString::from_vec(name.to_vec()));
    Some(Decoded {
        target,
        dev,
        ino,
        old_size,
        new_size,
        undo,
        new_hash,
    })
}

impl Journal {
    /// Writes the journal (not synced: the batch's `sync` makes every journal durable before
    /// any file changes). Errors if one already exists: an earlier run was interrupted and its
    /// recovery has not happened, or another process is writing.
    pub fn create(
        target: &Path,
        snap: &Snapshot,
        new_size: u64,
        undo: &[Undo],
        new_bytes: &[&[u8]],
    ) -> Result<Journal> {
        let path = journal_path(target);
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| bad!("cannot create the undo journal {}: {e}", path.display()))?;
        let mut h = Sha256::new();
        for b in new_bytes {
            h.update(b);
        }
        let name = target.file_name().unwrap_or_default().as_bytes();
        let rec = encode(name, snap, new_size, undo, &h.finalize());
        let journal = Journal { path };
        if let Err(e) = f.write_all(&rec) {
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

/// Handles a journal left by an interrupted run: puts the old bytes back over a torn patch
/// (and the old length, if the patch appended), then removes the journal. A journal that does
/// not match its file any more is left for a person.
pub fn recover(journal: &Path) -> Result<Recovery> {
    let rec = std::fs::read(journal).map_err(|e| bad!("cannot read journal: {e}"))?;
    let remove = || std::fs::remove_file(journal).map_err(|e| bad!("cannot remove journal: {e}"));
    let Some(d) = decode(journal, &rec) else {
        remove()?;
        return Ok(Recovery::Clean);
    };
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&d.target)
        .map_err(|e| bad!("cannot open {}: {e}", d.target.display()))?;
    let snap = Snapshot::of(&f.metadata()?);
    let (lo, hi) = (d.old_size.min(d.new_size), d.old_size.max(d.new_size));
    if (snap.dev, snap.ino) != (d.dev, d.ino) || snap.size < lo || snap.size > hi {
        return Err(bad!(
            "journal {} does not match its file any more; left in place",
            journal.display()
        ));
    }
    if state(&f, &d)? == State::Torn {
        for u in &d.undo {
            f.write_all_at(&u.old, u.offset)
                .map_err(|e| bad!("rollback failed: {e}"))?;
        }
        f.set_len(d.old_size)
            .and_then(|_| f.sync_all())
            .map_err(|e| bad!("rollback failed: {e}"))?;
        remove()?;
        return Ok(Recovery::RolledBack);
    }
    remove()?;
    Ok(Recovery::Clean)
}

/// `recover` for a journal found while walking, whose file this run did not process: only when
/// no other process holds the file's lock (a running `noai` that is writing it); `None` if busy.
pub fn recover_idle(journal: &Path) -> Result<Option<Recovery>> {
    let Some(target) = target_of(journal) else {
        return recover(journal).map(Some);
    };
    let Ok(f) = std::fs::File::open(&target) else {
        return Ok(None);
    };
    // SAFETY: flock on a valid fd; released when `f` is dropped.
    if unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(&f),
            libc::LOCK_EX | libc::LOCK_NB,
        )
    } != 0
    {
        return Ok(None);
    }
    recover(journal).map(Some)
}

#[derive(PartialEq, Eq)]
enum State {
    Old,
    New,
    Torn,
}

/// Whether the file holds the old bytes, the new ones, or a mix.
fn state(f: &std::fs::File, d: &Decoded) -> Result<State> {
    let size = f.metadata()?.len();
    let read = |off: u64, len: u64| -> Result<Option<Vec<u8>>> {
        if off + len > size {
            return Ok(None);
        }
        let mut b = vec![0u8; len as usize];
        f.read_exact_at(&mut b, off)?;
        Ok(Some(b))
    };
    let mut old = size == d.old_size;
    let mut h = Sha256::new();
    let mut new_complete = size == d.new_size;
    for u in &d.undo {
        old = old && read(u.offset, u.old.len() as u64)?.as_deref() == Some(&u.old[..]);
        match read(u.offset, u.new_len)? {
            Some(b) => h.update(&b),
            None => new_complete = false,
        }
    }
    Ok(if old {
        State::Old
    } else if new_complete && h.finalize().as_slice() == d.new_hash {
        State::New
    } else {
        State::Torn
    })
}

/// Creates `path` for tests that simulate a crash between journal and write.
#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn undo(offset: u64, old: &[u8], new_len: u64) -> Undo {
        Undo {
            offset,
            old: old.to_vec(),
            new_len,
        }
    }

    fn write_at(p: &Path, off: u64, b: &[u8]) {
        File::options()
            .write(true)
            .open(p)
            .unwrap()
            .write_all_at(b, off)
            .unwrap();
    }

    #[test]
    fn torn_write_is_rolled_back_and_complete_write_kept() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("song.mp3");
        std::fs::write(&p, b"HEADER-OLD-AUDIO").unwrap();
        let snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
        let jp = journal_path(&p);
        assert!(is_journal_name(jp.file_name().unwrap()));
        std::mem::forget(Journal::create(&p, &snap, 16, &[undo(7, b"OLD", 3)], &[b"NEW"]).unwrap());
        write_at(&p, 7, b"N"); // torn: one byte of three
        assert_eq!(recover(&jp).unwrap(), Recovery::RolledBack);
        assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-OLD-AUDIO");
        assert!(!jp.exists());
        std::mem::forget(Journal::create(&p, &snap, 16, &[undo(7, b"OLD", 3)], &[b"NEW"]).unwrap());
        write_at(&p, 7, b"NEW"); // complete: the new bytes stay
        assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
        assert_eq!(std::fs::read(&p).unwrap(), b"HEADER-NEW-AUDIO");
    }

    #[test]
    fn torn_append_is_truncated_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.m4a");
        std::fs::write(&p, b"moov....mdat....").unwrap();
        let snap = Snapshot::of(&std::fs::metadata(&p).unwrap());
        let regions = [undo(0, b"moov", 4), undo(16, b"", 8)];
        std::mem::forget(
            Journal::create(&p, &snap, 24, &regions, &[b"free", b"uuidXMP!"]).unwrap(),
        );
        write_at(&p, 0, b"free");
        write_at(&p, 16, b"uuid"); // the append stopped half way
        assert_eq!(recover(&journal_path(&p)).unwrap(), Recovery::RolledBack);
        assert_eq!(std::fs::read(&p).unwrap(), b"moov....mdat....");
    }

    #[test]
    fn half_written_journal_is_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.flac");
        std::fs::write(&p, b"data").unwrap();
        let jp = journal_path(&p);
        std::fs::write(&jp, b"NOAIJ002\x01\x02").unwrap();
        assert_eq!(recover(&jp).unwrap(), Recovery::Clean);
        assert_eq!(std::fs::read(&p).unwrap(), b"data");
    }
}
