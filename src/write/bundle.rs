//! One journal file for the in-place writes of a batch in one folder. Creating an inode per
//! edited file cost more than the edit itself (issue 11: on ext4, inode allocation was 40 % of
//! `noai tag`'s samples), so a folder's records go into one file, written once. Format 008
//! names each of its files only inside it: no file gets a name (a link) of its own, since a
//! link and its removal cost two directory updates per file (issue 11, part 7). Recovery finds a
//! file's journal by reading its folder's journals (`journals.rs`) and settles every record of
//! one (`settle.rs`). Format 006 (the same framing) gave every other file a hard link under its
//! own journal name; it is still read, one record per link, for journals an older noai left.
//!
//! The writer holds the file's `flock` from its creation to its removal, after the last of its
//! files is finished: another process that finds it (it holds one of its files' locks only once
//! this run let go of it) sees it busy and leaves it alone. The descriptor then goes to `closer`,
//! so freeing the blocks (a trim on a `discard` mount) is off the workers' path.
//!
//! Layout (little-endian): the magic, the record count, per record its length and the record
//! (a complete format-005 or 007 record with its own checksum), then the SHA-256 of everything
//! before. A file that does not check out was cut short while it was written: that is before
//! the batch's sync, so none of its files was touched yet.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::journal::{MAX_BYTES, Parsed, journal_path, parse};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// How the temp file of a journal being written is named (then `<n>.noai-<pid>.tmp`): a temp
/// name of ours, never a journal name. Its writer holds its lock until it is renamed.
pub const TEMP_PREFIX: &str = ".noai-journal-";
/// The current format: one file, its files named only inside it.
pub const MAGIC: &[u8; 8] = b"NOAIJ008";
/// The linked format an older noai wrote: one name per file, all links of one inode.
pub const MAGIC_006: &[u8; 8] = b"NOAIJ006";
/// At most this many records, or bytes, per journal file: a larger group gets more files, so
/// recovery never reads a huge journal for one small file.
pub const MAX_RECORDS: usize = 256;
pub const MAX_FILE_BYTES: usize = 8 << 20;

/// The journal file holding `records`, in the current format.
pub fn encode(records: &[&[u8]]) -> Vec<u8> {
    encode_as(MAGIC, records)
}

/// The journal file holding `records`, in the framing of `magic` (006 or 008).
pub fn encode_as(magic: &[u8; 8], records: &[&[u8]]) -> Vec<u8> {
    let body: usize = records.iter().map(|r| 8 + r.len()).sum();
    let mut out = Vec::with_capacity(16 + body + 32);
    out.extend_from_slice(magic);
    out.extend_from_slice(&(records.len() as u64).to_le_bytes());
    for r in records {
        out.extend_from_slice(&(r.len() as u64).to_le_bytes());
        out.extend_from_slice(r);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// True for a journal file that frames several records (006 or 008).
pub fn is_framed(file: &[u8]) -> bool {
    file.starts_with(MAGIC) || file.starts_with(MAGIC_006)
}

/// The records of a framed journal file; `None` when it does not check out (torn).
pub fn records(file: &[u8]) -> Option<Vec<&[u8]>> {
    let (body, sum) = file.split_at_checked(file.len().checked_sub(32)?)?;
    if Sha256::digest(body).as_slice() != sum {
        return None;
    }
    let mut rest = body
        .strip_prefix(MAGIC)
        .or_else(|| body.strip_prefix(MAGIC_006))?;
    let num = |rest: &mut &[u8]| -> Option<usize> {
        let (n, r) = rest.split_at_checked(8)?;
        *rest = r;
        usize::try_from(u64::from_le_bytes(n.try_into().ok()?)).ok()
    };
    let count = num(&mut rest)?;
    let mut out = Vec::with_capacity(count.min(MAX_RECORDS));
    for _ in 0..count {
        let len = num(&mut rest)?;
        let (rec, r) = rest.split_at_checked(len)?;
        out.push(rec);
        rest = r;
    }
    rest.is_empty().then_some(out)
}

/// What the 006 journal file at `journal` holds for the file it is named after (the record
/// whose name leads back to `journal`); a single-record journal is parsed as it is. An 008
/// file names no one by its own name: `settle` reads all of its records.
pub fn parse_for(file: &[u8], journal: &Path) -> Parsed {
    if !file.starts_with(MAGIC_006) {
        return parse(file);
    }
    let Some(recs) = records(file) else {
        return Parsed::Torn;
    };
    let named = |rec: &&&[u8]| {
        super::journal::recorded_name(rec)
            .is_some_and(|n| journal_path(&journal.with_file_name(n)) == journal)
    };
    match recs.iter().find(named) {
        Some(rec) => match parse(rec) {
            // A torn record inside a whole file cannot happen: the file is checked as one.
            Parsed::Torn => Parsed::Foreign("a record inside it does not check out"),
            other => other,
        },
        None => Parsed::Foreign("it holds no record for the file it is named after"),
    }
}

/// The names the records of a framed file give (empty for other formats or a torn file).
pub fn names(file: &[u8]) -> Vec<&std::ffi::OsStr> {
    records(file)
        .unwrap_or_default()
        .into_iter()
        .filter_map(super::journal::recorded_name)
        .collect()
}

/// Writes the journals of one folder's in-place writes: `items` are (target, record). One file
/// per group of up to `MAX_RECORDS`, under the journal name of one of its targets, shared by
/// all of them. Nothing is synced: the batch's `sync` does that. One result per item, in order.
pub fn write(items: &[(&Path, Vec<u8>)]) -> Vec<Result<Journal>> {
    let mut out: Vec<Result<Journal>> = Vec::with_capacity(items.len());
    let mut rest = items;
    while !rest.is_empty() {
        let (group, more) = rest.split_at(take_group(rest));
        let recs: Vec<&[u8]> = group.iter().map(|(_, r)| r.as_slice()).collect();
        // Any name will do (a journal is found by listing its folder): a file's own first, then
        // numbered ones, since a name may hold the kept records of another file.
        let numbered = (1..=64).map(|n| super::sibling(group[0].0, &format!(".{n}.noai-journal")));
        let names = group.iter().map(|(t, _)| journal_path(t)).chain(numbered);
        match create(names, &encode(&recs)) {
            Ok(shared) => out.extend(group.iter().map(|_| Ok(Journal::of(shared.clone())))),
            Err(e) => out.extend(group.iter().map(|_| Err(e.clone()))),
        }
        rest = more;
    }
    out
}

/// How many of `items` go into one file: up to `MAX_RECORDS` and `MAX_FILE_BYTES`, at least one.
fn take_group(items: &[(&Path, Vec<u8>)]) -> usize {
    let (mut n, mut bytes) = (0, 48);
    for (_, r) in items.iter().take(MAX_RECORDS) {
        if n > 0 && bytes + 8 + r.len() > MAX_FILE_BYTES {
            break;
        }
        bytes += 8 + r.len();
        n += 1;
    }
    n
}

/// The open journal file of a group, locked, and where it is.
pub struct Shared {
    pub(super) path: PathBuf,
    pub(super) file: std::fs::File,
    /// A file of the group could not be put back: the journal must stay for the next run.
    pub(super) keep: std::sync::atomic::AtomicBool,
}

/// Creates a new journal file holding `file` under the first of `names` that is free (a name
/// may be taken by a journal an interrupted run left, which names other files), locked. It is
/// written under a temp name first and renamed into place, never over another file: a journal
/// name only ever shows complete content, so nobody judges one that is still being written.
pub(super) fn create(names: impl IntoIterator<Item = PathBuf>, file: &[u8]) -> Result<Arc<Shared>> {
    let names: Vec<PathBuf> = names.into_iter().collect();
    let Some(first) = names.first() else {
        return Err(bad!(
            Refused,
            "internal check: no name for the undo journal"
        ));
    };
    let (tmp, f) = write_temp(first, file)?;
    for path in &names {
        match rename_new(&tmp, path) {
            Ok(()) => {
                let keep = std::sync::atomic::AtomicBool::new(false);
                let path = path.clone();
                return Ok(Arc::new(Shared {
                    path,
                    file: f,
                    keep,
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(cannot_create(path, &e));
            }
        }
    }
    let _ = std::fs::remove_file(&tmp);
    let taken = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
    Err(cannot_create(first, &taken))
}

/// Writes `file` to a new temp file beside `journal` (a temp name of ours, removed by a later
/// run if this one dies), locked before anything is in it; the file is not synced.
pub(super) fn write_temp(journal: &Path, file: &[u8]) -> Result<(PathBuf, std::fs::File)> {
    if file.len() as u64 > MAX_BYTES {
        return Err(bad!(
            Refused,
            "the in-place change is too large for an undo journal ({} bytes); not written",
            file.len()
        ));
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    // A name may be left by a killed run whose pid this one got again: take the next.
    let (tmp, mut f) = loop {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp =
            journal.with_file_name(format!("{TEMP_PREFIX}{n}.noai-{}.tmp", std::process::id()));
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp);
        match opened {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n % 1024 != 1023 => {}
            Err(e) => return Err(cannot_create(&tmp, &e)),
        }
    };
    let written = f.try_lock().map_err(std::io::Error::other);
    if let Err(e) = written.and_then(|()| f.write_all(file)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(FileError::io_write("cannot write the undo journal", &e));
    }
    Ok((tmp, f))
}

/// Renames `from` to `to` unless `to` exists (`AlreadyExists` then). Where the file system has
/// no `RENAME_NOREPLACE`, a check then a plain rename: the names raced for are those of files
/// this process holds locked.
fn rename_new(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(from)?, c(to)?);
    // SAFETY: two valid NUL-terminated paths, relative to the working directory.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
            if std::fs::symlink_metadata(to).is_ok() {
                return Err(std::io::ErrorKind::AlreadyExists.into());
            }
            std::fs::rename(from, to)
        }
        _ => Err(e),
    }
}

fn cannot_create(path: &Path, e: &std::io::Error) -> FileError {
    FileError::io_write(
        &format!("cannot create the undo journal {}", path.display()),
        e,
    )
}

/// One in-place write's share of a journal file (`bundle::Shared`): the file goes when every
/// write of its group is finished; a write that could not be put back, or a share dropped
/// without being finished (a panic), keeps it for the next run.
pub struct Journal {
    shared: Option<std::sync::Arc<Shared>>,
}

impl Journal {
    /// A write's share of the journal file `shared`.
    pub(super) fn of(shared: std::sync::Arc<Shared>) -> Journal {
        Journal {
            shared: Some(shared),
        }
    }

    /// Where the journal file is.
    pub fn path(&self) -> &Path {
        self.shared.as_ref().map_or(Path::new(""), |s| &s.path)
    }

    /// Writes the journal of one file (not synced: the batch's `sync` makes every journal
    /// durable before any file changes). A batch writes its folders' journals with
    /// `bundle::write` instead.
    #[cfg(test)]
    pub fn create(
        target: &Path,
        snap: &super::Snapshot,
        new_size: u64,
        undo: &[super::journal::Undo],
        new_bytes: &[&[u8]],
    ) -> Result<Journal> {
        let rec = super::journal::record(target, snap, new_size, undo, new_bytes)?;
        let mut out = write(&[(target, rec)]);
        out.pop()
            .unwrap_or_else(|| Err(bad!(Refused, "internal check: no journal written")))
    }

    /// This write is durable (or undone): the journal file goes with the last of its group.
    pub fn finish(mut self) {
        if let Some(s) = self.shared.take() {
            release(s);
        }
    }

    /// This write could not be put back: the journal file stays for the next run's recovery.
    pub fn keep(self) {
        drop(self);
    }

    /// As a kill leaves it: the file stays and its lock is gone (closed before this returns).
    #[cfg(test)]
    pub fn abandon(self) {
        drop(self);
        crate::closer::settle();
    }
}

impl Drop for Journal {
    /// A share that was neither finished nor kept (a panic on the way) keeps the file.
    fn drop(&mut self) {
        if let Some(s) = self.shared.take() {
            s.keep.store(true, std::sync::atomic::Ordering::Relaxed);
            release(s);
        }
    }
}

/// Lets go of one share; the last one removes the file unless a share kept it, and hands the
/// descriptor (and with it the lock) to the closer.
fn release(s: std::sync::Arc<Shared>) {
    if let Some(s) = std::sync::Arc::into_inner(s) {
        if !s.keep.into_inner() {
            let _ = std::fs::remove_file(&s.path);
        }
        crate::closer::close(s.file);
    }
}

#[cfg(test)]
#[path = "bundle_tests.rs"]
mod tests;
