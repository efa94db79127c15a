//! One journal file for the in-place writes of a batch in one folder (format 006). Creating an
//! inode per edited file cost more than the edit itself (issue 11: on ext4, inode allocation
//! was 40 % of `noai tag`'s samples), so a folder's records go into one file, written once,
//! and every other file of the group gets a hard link to it under its own journal name
//! (`.<name>.noai-journal`). A link is a directory entry, not an inode. Everything else stays
//! per file: recovery finds a file's journal by that name, holds that file's lock, uses the
//! record that names it and removes that one link; the inode goes with its last link. The
//! writer keeps the file open, shared by the group's `Journal`s: whoever removes the last name
//! hands the descriptor to `closer`, so freeing the blocks (a trim on a `discard` mount) is
//! off the workers' path.
//!
//! Layout (little-endian): `NOAIJ006`, the record count, per record its length and the record
//! (a complete format-005 record with its own checksum), then the SHA-256 of everything before.
//! A file that does not check out was cut short while it was written: that is before the
//! batch's sync, so none of its files was touched yet.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::journal::{Journal, MAX_BYTES, Parsed, journal_path, parse};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

pub const MAGIC: &[u8; 8] = b"NOAIJ006";
/// At most this many records, or bytes, per journal file: a larger group gets more files, so
/// recovery never reads a huge journal for one small file.
pub const MAX_RECORDS: usize = 256;
pub const MAX_FILE_BYTES: usize = 8 << 20;

/// The journal file holding `records`.
pub fn encode(records: &[&[u8]]) -> Vec<u8> {
    let body: usize = records.iter().map(|r| 8 + r.len()).sum();
    let mut out = Vec::with_capacity(16 + body + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(records.len() as u64).to_le_bytes());
    for r in records {
        out.extend_from_slice(&(r.len() as u64).to_le_bytes());
        out.extend_from_slice(r);
    }
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// The records of a journal file of this format; `None` when it does not check out (torn).
pub fn records(file: &[u8]) -> Option<Vec<&[u8]>> {
    let (body, sum) = file.split_at_checked(file.len().checked_sub(32)?)?;
    if Sha256::digest(body).as_slice() != sum {
        return None;
    }
    let mut rest = body.strip_prefix(MAGIC)?;
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

/// What the journal file at `journal` holds for the file it is named after: for a 006 file,
/// the record whose name leads back to `journal`; older formats hold one record.
pub fn parse_for(file: &[u8], journal: &Path) -> Parsed {
    if !file.starts_with(MAGIC) {
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

/// The names the records of a 006 file give (empty for other formats or a torn file).
pub fn names(file: &[u8]) -> Vec<&std::ffi::OsStr> {
    records(file)
        .unwrap_or_default()
        .into_iter()
        .filter_map(super::journal::recorded_name)
        .collect()
}

/// Writes the journals of one folder's in-place writes: `items` are (target, record). One file
/// under the first target's journal name, a hard link to it for every other one. Where links
/// are refused (some FUSE and network file systems) a target gets a file of its own. Nothing
/// is synced: the batch's `sync` does that. One result per item, in order.
pub fn write(items: &[(&Path, Vec<u8>)]) -> Vec<Result<Journal>> {
    let mut out: Vec<Result<Journal>> = Vec::with_capacity(items.len());
    let mut rest = items;
    while !rest.is_empty() {
        let (group, more) = rest.split_at(take_group(rest));
        write_group(group, &mut out);
        rest = more;
    }
    out
}

/// One journal file for `group`: under the first target whose journal can be created (the
/// ones before it failed on their own: their error is theirs), linked for the rest.
fn write_group(group: &[(&Path, Vec<u8>)], out: &mut Vec<Result<Journal>>) {
    let recs: Vec<&[u8]> = group.iter().map(|(_, r)| r.as_slice()).collect();
    let file = encode(&recs);
    let mut rest = group.iter();
    let primary = loop {
        let Some((t, _)) = rest.next() else {
            return;
        };
        match create(t, &file) {
            Ok(j) => break j,
            Err(e) => out.push(Err(e)),
        }
    };
    let (path, inode) = (primary.path().to_path_buf(), primary.inode());
    out.push(Ok(primary));
    out.extend(rest.map(|(t, rec)| link(&path, inode.clone(), t, rec)));
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

/// Creates `target`'s journal name as a new file holding `file`.
fn create(target: &Path, file: &[u8]) -> Result<Journal> {
    if file.len() as u64 > MAX_BYTES {
        return Err(bad!(
            Refused,
            "the in-place change is too large for an undo journal ({} bytes); not written",
            file.len()
        ));
    }
    let path = journal_path(target);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| {
            FileError::io_write(
                &format!("cannot create the undo journal {}", path.display()),
                &e,
            )
        })?;
    if let Err(e) = f.write_all(file) {
        Journal::at(path, None).finish();
        return Err(FileError::io_write("cannot write the undo journal", &e));
    }
    Ok(Journal::at(path, Some(std::sync::Arc::new(f))))
}

/// Gives `target` the journal `primary` under its own journal name; a file of its own (holding
/// only `rec`) where the file system refuses hard links.
fn link(
    primary: &Path,
    inode: Option<std::sync::Arc<std::fs::File>>,
    target: &Path,
    rec: &[u8],
) -> Result<Journal> {
    let path = journal_path(target);
    match std::fs::hard_link(primary, &path) {
        Ok(()) => Ok(Journal::at(path, inode)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EPERM | libc::EOPNOTSUPP | libc::EMLINK | libc::EXDEV | libc::ENOSYS)
            ) =>
        {
            create(target, &encode(&[rec]))
        }
        Err(e) => Err(FileError::io_write(
            &format!("cannot create the undo journal {}", path.display()),
            &e,
        )),
    }
}

#[cfg(test)]
#[path = "bundle_tests.rs"]
mod tests;
