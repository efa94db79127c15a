//! Recovery of the undo journal an interrupted in-place write left behind. A journal is trusted
//! only when it is a regular file (not a link) of a sane size, owned by the user running noai
//! (or, for root, by the file's owner), and names the file beside it. It is replayed only over a
//! torn write: every journalled byte of the file must still hold its old or its new value. Any
//! other content means another program changed the file after the interrupted run, and rolling
//! back would destroy that change: file and journal are left alone and reported. The file is
//! found by its path and judged by its content; device and inode numbers change across remounts
//! (FAT/exFAT, USB, btrfs) and are not consulted.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::journal::{self, Change, Decoded, MAX_BYTES, Parsed};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// What recovery did with a journal.
#[derive(Debug, PartialEq, Eq)]
pub enum Recovery {
    /// The write had completed (or never started), or the journal was cut short before the file
    /// was touched: nothing to undo; the journal is gone.
    Clean,
    /// A torn write was rolled back to the original bytes.
    RolledBack,
}

/// Handles a journal left by an interrupted run: puts the old bytes back over a torn write (and
/// the old length, if the write appended or cut the file), then removes the journal. Every refusal is an error
/// naming the journal, which is left in place with its file untouched.
pub fn recover(journal: &Path) -> Result<Recovery> {
    let (f, meta) = open_journal(journal)?;
    if f.try_lock().is_err() || !still_named(&f, journal) {
        return Err(busy(journal));
    }
    let (rec, owner) = (
        read_open(journal, f.try_clone().map_err(io_read)?)?,
        meta.uid(),
    );
    if rec.starts_with(super::bundle::MAGIC) {
        drop(f);
        return super::settle::idle(journal)?.ok_or_else(|| busy(journal));
    }
    let target = journal::target_of(journal, &rec);
    trust_owner(journal, owner, target.as_deref())?;
    let Some(decoded) = decode(journal, &rec)? else {
        return remove(journal).map(|_| Recovery::Clean);
    };
    let Some(target) =
        target.filter(|t| t.file_name().map(|n| n.as_encoded_bytes()) == Some(&decoded.name[..]))
    else {
        return Err(bad!(
            Refused,
            "undo journal {} names a file that is not beside it; left in place",
            journal.display()
        ));
    };
    let done = settle_one(journal, &target, &decoded)?;
    remove(journal).map(|_| done)
}

pub(super) fn io_read(e: std::io::Error) -> FileError {
    FileError::io_read("cannot read the undo journal", &e)
}

/// The error for a journal another process holds: its writer is still running, or another
/// noai is recovering it.
pub(super) fn busy(journal: &Path) -> FileError {
    bad!(
        Busy,
        "busy: another noai process is using the undo journal {}",
        journal.display()
    )
}

/// Judges `target` by its record and puts a torn write back (the journal stays: the caller
/// removes it). `Clean` when the file is wholly old or new, and then durable.
pub(super) fn settle_one(journal: &Path, target: &Path, decoded: &Decoded) -> Result<Recovery> {
    let f = open_target(journal, target)?;
    match state(&f, decoded)? {
        // The bytes judged here may still be only in the page cache after a kill: they must be
        // on disk before the journal that could undo them goes.
        State::Old | State::New => f.sync_all().map_err(|e| {
            FileError::io_write("cannot sync the file before removing its journal", &e)
        })?,
        State::Torn => {
            roll_back(&f, decoded)?;
            return Ok(Recovery::RolledBack);
        }
        State::Changed => {
            let meta = f
                .metadata()
                .map_err(|e| FileError::io_read("read failed", &e))?;
            let moved = if (meta.dev(), meta.ino()) != (decoded.dev, decoded.ino) {
                " It is also another inode than the one staged (replaced, or remounted)."
            } else {
                ""
            };
            return Err(bad!(
                Changed,
                "{} was changed by another program after an interrupted noai write (its bytes are \
                 neither the old nor the new ones in the undo journal {}); nothing rolled back, both \
                 left as they are: check the file, then delete the journal.{moved}",
                target.display(),
                journal.display()
            ));
        }
    }
    Ok(Recovery::Clean)
}

/// The record of a journal of the current format; `None` for one cut short while it was being
/// written (safe to remove: the file is touched only after its journal is durable).
fn decode(journal: &Path, rec: &[u8]) -> Result<Option<Decoded>> {
    match super::bundle::parse_for(rec, journal) {
        Parsed::Torn => Ok(None),
        Parsed::Current(d) => Ok(Some(d)),
        Parsed::OtherVersion(v) => Err(bad!(
            Unsupported,
            "undo journal {} has format version {v}, which this noai does not read; left in place \
             (recover it with the noai version that wrote it)",
            journal.display()
        )),
        Parsed::Foreign(why) => Err(bad!(
            "{} is not an undo journal noai can use ({why}); left in place",
            journal.display()
        )),
    }
}

/// Opens the journal's file for the rollback: a regular file, never through a link.
fn open_target(journal: &Path, target: &Path) -> Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(target)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => bad!(
                NotFound,
                "the file of undo journal {} is gone (moved or deleted); journal left in place: \
                 delete it if that is expected",
                journal.display()
            ),
            _ => FileError::io_write(
                &format!(
                    "cannot open {} to recover its undo journal {}",
                    target.display(),
                    journal.display()
                ),
                &e,
            )
            .map_message(|m| format!("{m}; left in place")),
        })?;
    let meta = f
        .metadata()
        .map_err(|e| FileError::io_read("read failed", &e))?;
    if !meta.is_file() {
        return Err(bad!(
            Refused,
            "{} is not a regular file; its undo journal {} is left in place",
            target.display(),
            journal.display()
        ));
    }
    Ok(f)
}

pub(super) fn remove(journal: &Path) -> Result<()> {
    std::fs::remove_file(journal).map_err(|e| {
        FileError::io_write(
            &format!("cannot remove the undo journal {}", journal.display()),
            &e,
        )
    })
}

/// Reads a journal that is a regular file (never through a link) of at most `MAX_BYTES`;
/// returns its bytes and its owner.
fn read_journal(journal: &Path) -> Result<(Vec<u8>, u32)> {
    let (f, meta) = open_journal(journal)?;
    Ok((read_open(journal, f)?, meta.uid()))
}

/// Opens a journal that is a regular file (never through a link) of at most `MAX_BYTES`.
pub(super) fn open_journal(journal: &Path) -> Result<(File, std::fs::Metadata)> {
    let shown = journal.display();
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(journal)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => bad!(
                Refused,
                "undo journal {shown} is a symbolic link; not trusted, left in place"
            ),
            _ => FileError::io_read(&format!("cannot read the undo journal {shown}"), &e),
        })?;
    let meta = f
        .metadata()
        .map_err(|e| FileError::io_read("read failed", &e))?;
    if !meta.is_file() {
        return Err(bad!(
            Refused,
            "undo journal {shown} is not a regular file; not trusted, left in place"
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err(bad!(
            Refused,
            "undo journal {shown} is {} bytes, more than any noai journal ({MAX_BYTES}); not trusted, left in place",
            meta.len()
        ));
    }
    Ok((f, meta))
}

/// Reads an opened journal, at most `MAX_BYTES` of it.
pub(super) fn read_open(journal: &Path, f: File) -> Result<Vec<u8>> {
    let shown = journal.display();
    let mut rec = Vec::new();
    f.take(MAX_BYTES + 1)
        .read_to_end(&mut rec)
        .map_err(|e| FileError::io_read(&format!("cannot read the undo journal {shown}"), &e))?;
    if rec.len() as u64 > MAX_BYTES {
        return Err(bad!(
            Refused,
            "undo journal {shown} grew past {MAX_BYTES} bytes; not trusted, left in place"
        ));
    }
    Ok(rec)
}

/// A journal is replayed only if the user running noai wrote it, or, when noai runs as root,
/// the owner of the file it would change (another user's own noai run).
pub(super) fn trust_owner(journal: &Path, owner: u32, target: Option<&Path>) -> Result<()> {
    let me = super::access::euid();
    let target_owner = || Some(std::fs::symlink_metadata(target?).ok()?.uid());
    if owner == me || (me == 0 && target_owner() == Some(owner)) {
        return Ok(());
    }
    Err(bad!(
        Refused,
        "undo journal {} belongs to user {owner}, not to the user running noai ({me}){}; not trusted, left in place",
        journal.display(),
        if me == 0 {
            " nor to the file's owner"
        } else {
            ""
        }
    ))
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Old,
    New,
    /// Every journalled byte present is old or new: a write stopped part way.
    Torn,
    /// Some journalled byte is neither, or the size is out of range: not our doing.
    Changed,
}

/// Judges the file by the journalled bytes alone.
fn state(f: &File, d: &Decoded) -> Result<State> {
    let io = |e: std::io::Error| FileError::io_read("read failed", &e);
    let size = f.metadata().map_err(io)?.len();
    // Between the two lengths: a write may grow the file (an append) or cut it.
    if size < d.old_size.min(d.new_size) || size > d.old_size.max(d.new_size) {
        return Ok(State::Changed);
    }
    let (mut old, mut new) = (size == d.old_size, size == d.new_size);
    for c in &d.changes {
        let span = c.old.len().max(c.new.len()) as u64;
        let have = span.min(size.saturating_sub(c.offset));
        let mut b = vec![0u8; have as usize];
        f.read_exact_at(&mut b, c.offset).map_err(io)?;
        for (i, byte) in b.iter().enumerate() {
            let (is_old, is_new) = (c.old.get(i) == Some(byte), c.new.get(i) == Some(byte));
            if !is_old && !is_new {
                return Ok(State::Changed);
            }
            (old, new) = (old && is_old, new && is_new);
        }
        // Bytes past the end of the file: neither version is complete if it has them.
        old = old && c.old.len() as u64 <= have;
        new = new && c.new.len() as u64 <= have;
    }
    // What the write left as holes reads as zeros, or is not there yet (a torn append).
    for gap in d.gaps() {
        let end = gap.end.min(size);
        if gap.start < end && !zeros(f, gap.start..end).map_err(io)? {
            return Ok(State::Changed);
        }
    }
    Ok(match (old, new) {
        (true, _) => State::Old,
        (_, true) => State::New,
        _ => State::Torn,
    })
}

/// Whether `range` of `f` holds only zeros (read 64 KiB at a time).
pub(super) fn zeros(f: &File, range: std::ops::Range<u64>) -> std::io::Result<bool> {
    let mut buf = vec![0u8; 64 << 10];
    let mut at = range.start;
    while at < range.end {
        let n = (range.end - at).min(buf.len() as u64) as usize;
        f.read_exact_at(&mut buf[..n], at)?;
        if buf[..n].iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

fn roll_back(f: &File, d: &Decoded) -> Result<()> {
    let undo = |c: &Change| f.write_all_at(&c.old, c.offset);
    // The original mtime and atime go back too (a 003 journal did not record them).
    let times = || d.times.map_or(Ok(()), |[m, a]| super::set_times(f, [a, m]));
    d.changes
        .iter()
        .try_for_each(undo)
        .and_then(|_| f.set_len(d.old_size))
        .and_then(|_| times())
        .and_then(|_| f.sync_all())
        .map_err(|e| FileError::io_write("rollback failed", &e))
}

/// The files a journal holds undo data for (read safely: never through a link, never a huge
/// file; an unreadable journal is judged by its name).
pub fn journal_targets(journal: &Path) -> Vec<std::path::PathBuf> {
    journal::targets_of(journal, &content(journal))
}

/// A journal's bytes, read safely (as `journal_targets` does); empty when it cannot be read.
pub(super) fn content(journal: &Path) -> Vec<u8> {
    read_journal(journal)
        .map(|(rec, _)| rec)
        .unwrap_or_default()
}

/// A journal's bytes for a folder listing: `Ok(None)` when it is gone, an error when it is
/// there but cannot be read (then nobody can tell which files it names).
pub(super) fn content_listed(journal: &Path) -> Result<Option<Vec<u8>>> {
    match read_journal(journal) {
        Ok((rec, _)) => Ok(Some(rec)),
        Err(_) if gone(journal) => Ok(None),
        Err(e) => Err(e),
    }
}

/// True when nothing is at `journal` any more (another process settled and removed it).
pub(super) fn gone(journal: &Path) -> bool {
    std::fs::symlink_metadata(journal).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

/// True while `journal` still names the file `f` opened (checked once its lock is held): one
/// that another process settled meanwhile was removed or replaced, and an open descriptor of
/// it says nothing about what the name holds now (NFS keeps a removed open file's link count).
pub(super) fn still_named(f: &File, journal: &Path) -> bool {
    let (Ok(open), Ok(now)) = (f.metadata(), std::fs::symlink_metadata(journal)) else {
        return false;
    };
    open.nlink() > 0 && (open.dev(), open.ino()) == (now.dev(), now.ino())
}

/// The first of `journal_targets`.
pub fn journal_target(journal: &Path) -> Option<std::path::PathBuf> {
    journal_targets(journal).into_iter().next()
}

/// `recover` for a journal found while walking, whose files this run did not process: only
/// when no other process holds its file's lock (a running `noai` that is writing it), or for
/// a folder's journal its own lock and every file's; `None` if busy.
pub fn recover_idle(journal: &Path) -> Result<Option<Recovery>> {
    let (rec, _) = read_journal(journal)?;
    if rec.starts_with(super::bundle::MAGIC) {
        return super::settle::idle(journal);
    }
    let Some(f) = journal::target_of(journal, &rec).and_then(|t| lock_target(&t).ok()) else {
        return recover(journal).map(Some);
    };
    // The writer lock `open` takes (`flock`); released when `f` is dropped.
    match f {
        Some(_held) => recover(journal).map(Some),
        None => Ok(None),
    }
}

/// Opens `target` and takes the writer lock `open` takes (`flock`), released when the file is
/// dropped: `Ok(None)` when another process holds it.
pub(super) fn lock_target(target: &Path) -> std::io::Result<Option<File>> {
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(target)?;
    Ok(f.try_lock().is_ok().then_some(f))
}

#[cfg(test)]
#[path = "recover_tests.rs"]
mod tests;
