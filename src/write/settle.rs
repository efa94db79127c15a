//! Recovery of a folder's journal (format 008, `bundle.rs`): one file holding the undo records
//! of several files, none of which has a journal name of its own. It is settled as a whole,
//! under its own lock (its writer holds that lock until it removes it, so a running batch is
//! never touched) and every file's: each file is judged by its record and a torn write put
//! back (`recover::settle_one`). When every file is settled the journal goes; otherwise the
//! records of the files that are not (busy, gone, changed by another program) move to a new,
//! durable journal before the old one goes, so a settled file is never judged again by a
//! record that no longer describes it (after it is tagged anew, it would look changed).

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::journal::{Decoded, Parsed, parse};
use super::recover::{self, Recovery};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// What became of one file a folder's journal names.
pub struct Outcome {
    pub target: PathBuf,
    /// `None`: the file is busy (another process holds its lock); its record is kept.
    pub result: Option<Result<Recovery>>,
}

/// What settling a folder's journal came to.
pub enum Settle {
    /// Another process holds the journal (its writer is still finishing, or another noai is
    /// settling it): nothing was touched.
    Busy,
    /// It was gone by the time it was locked: another process settled it, and may have kept
    /// some records in a new journal, so the folder must be read again.
    Gone,
    /// Per file it names, what became of it (none for a journal cut short while it was
    /// written: it is simply removed).
    Done(Vec<Outcome>),
}

/// Settles the folder's journal at `journal`. `held(name)`: this process already holds the
/// lock of that file of the folder (settled without taking it again; another process's lock
/// makes a file busy).
pub fn bundle(journal: &Path, held: &dyn Fn(&OsStr) -> bool) -> Result<Settle> {
    let (f, meta) = match recover::open_journal(journal) {
        Err(e) if e.kind() == crate::error::ErrorKind::NotFound || recover::gone(journal) => {
            return Ok(Settle::Gone);
        }
        other => other?,
    };
    if f.try_lock().is_err() {
        return Ok(Settle::Busy);
    }
    // Settled and removed (or replaced) by another process between our open and our lock.
    if !recover::still_named(&f, journal) {
        return Ok(Settle::Gone);
    }
    let rec = recover::read_open(journal, f.try_clone().map_err(recover::io_read)?)?;
    let Some(records) = super::bundle::records(&rec) else {
        // Cut short while it was written, which is before any of its files was touched.
        return recover::remove(journal).map(|()| Settle::Done(Vec::new()));
    };
    let mut settled = Vec::with_capacity(records.len());
    for r in &records {
        let (target, d) = decoded(journal, r)?;
        recover::trust_owner(journal, meta.uid(), Some(&target))?;
        let name = target.file_name().unwrap_or_default();
        let result = match held(name) {
            true => Some(recover::settle_one(journal, &target, &d)),
            false => settle_unheld(journal, &target, &d),
        };
        settled.push(Outcome { target, result });
    }
    keep_unsettled(journal, &meta, &records, &settled)?;
    drop(f);
    Ok(Settle::Done(settled))
}

/// `bundle` for a journal whose files this run does not hold (found while walking): the first
/// error, else `RolledBack` if any file was put back; `None` when it or a file is busy.
pub fn idle(journal: &Path) -> Result<Option<Recovery>> {
    let settled = match bundle(journal, &|_| false)? {
        Settle::Busy => return Ok(None),
        Settle::Gone => return Ok(Some(Recovery::Clean)),
        Settle::Done(settled) => settled,
    };
    let mut out = Some(Recovery::Clean);
    for s in settled {
        match s.result {
            Some(Err(e)) => return Err(e),
            Some(Ok(Recovery::RolledBack)) => out = out.map(|_| Recovery::RolledBack),
            Some(Ok(Recovery::Clean)) => {}
            None => out = None,
        }
    }
    Ok(out)
}

/// The file a record names (beside the journal) and its content; a record that does not
/// parse or names no plain file makes the whole journal one for a person.
fn decoded(journal: &Path, r: &[u8]) -> Result<(PathBuf, Decoded)> {
    let d = match parse(r) {
        Parsed::Current(d) => d,
        Parsed::Torn => return Err(foreign(journal, "a record inside it does not check out")),
        Parsed::OtherVersion(v) => {
            return Err(foreign(
                journal,
                &format!("a record inside it has version {v}"),
            ));
        }
        Parsed::Foreign(why) => return Err(foreign(journal, why)),
    };
    if !super::journal::plain_name(&d.name) {
        return Err(foreign(
            journal,
            "a record inside it names no file of its folder",
        ));
    }
    Ok((journal.with_file_name(OsStr::from_bytes(&d.name)), d))
}

fn foreign(journal: &Path, why: &str) -> FileError {
    bad!(
        "{} is not an undo journal noai can use ({why}); left in place",
        journal.display()
    )
}

/// Settles a file the caller does not hold: under its lock, taken here; `None` when busy.
fn settle_unheld(journal: &Path, target: &Path, d: &Decoded) -> Option<Result<Recovery>> {
    match recover::lock_target(target) {
        Ok(Some(_lock)) => Some(recover::settle_one(journal, target, d)),
        Ok(None) => None,
        // Gone, or cannot be opened: `settle_one` says which, in words.
        Err(_) => Some(recover::settle_one(journal, target, d)),
    }
}

/// Removes the journal when every file is settled; otherwise writes the records of the rest
/// to a new journal (owned as the old one was), makes it durable and renames it over the old
/// one: the journal's name never goes away and never shows a partial file.
fn keep_unsettled(
    journal: &Path,
    meta: &std::fs::Metadata,
    records: &[&[u8]],
    settled: &[Outcome],
) -> Result<()> {
    let rest: Vec<&[u8]> = (records.iter().copied().zip(settled))
        .filter(|(_, s)| !matches!(s.result, Some(Ok(_))))
        .map(|(r, _)| r)
        .collect();
    if rest.len() == settled.len() {
        return Ok(());
    }
    if rest.is_empty() {
        return recover::remove(journal);
    }
    let (tmp, f) = super::bundle::write_temp(journal, &super::bundle::encode(&rest))?;
    // Root settling a user's journal gives the new one back to that user; anyone else owns
    // what they create already.
    let owned = || match super::access::euid() == 0 {
        true => std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid())),
        false => Ok(()),
    };
    let durable = owned()
        .and_then(|()| f.sync_all())
        .and_then(|()| std::fs::rename(&tmp, journal))
        .and_then(|()| File::open(super::parent_dir(journal))?.sync_all());
    durable.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        FileError::io_write("cannot keep the undo journal of the files not settled", &e)
    })
}
