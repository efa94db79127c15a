//! The undo journals in the folders of a chunk, and the files they name. A folder's journal
//! (format 008) names its files only inside it, so whether a file has one is a question about
//! its folder: each folder is listed once, and only the journals found there are read. For a
//! writing job the listing must come after the chunk's files are locked: a journal naming a
//! locked file was then written by a run that held that lock before us and is gone, and it is
//! settled (rolled back where torn) before the file is read. Settling a folder's journal needs
//! every file it names; the chunk's own are held already, others are locked on the way.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::recover;
use super::settle::Settle;
use super::{is_journal_name, parent_dir, settle};
use crate::error::FileError;
use crate::formats::Result;

/// Per folder, per file name, the journals that name it (in name order).
#[derive(Default)]
pub struct Named {
    folders: HashMap<PathBuf, HashMap<OsString, Vec<PathBuf>>>,
}

/// Lists the folders of `files` (each once, in parallel) and reads the journals found there.
pub fn find<'a>(files: impl IntoIterator<Item = &'a Path>) -> Named {
    let folders: HashSet<&Path> = files.into_iter().map(parent_dir).collect();
    let folders = folders
        .into_par_iter()
        .map(|d| (d.to_path_buf(), in_folder(d)))
        .filter(|(_, m)| !m.is_empty())
        .collect();
    Named { folders }
}

/// The journals in `dir` by the file names they hold undo data for. A journal that cannot be
/// read names the file its own name gives. A folder that cannot be listed names nothing: its
/// files cannot be opened either, or are reported as they are.
fn in_folder(dir: &Path) -> HashMap<OsString, Vec<PathBuf>> {
    let mut out: HashMap<OsString, Vec<PathBuf>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut journals: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| is_journal_name(&e.file_name()))
        .map(|e| dir.join(e.file_name()))
        .collect();
    journals.sort();
    for j in journals {
        for t in recover::journal_targets(&j) {
            if let Some(name) = t.file_name() {
                out.entry(name.to_os_string()).or_default().push(j.clone());
            }
        }
    }
    out
}

impl Named {
    /// The journals that name `file`.
    pub fn of(&self, file: &Path) -> &[PathBuf] {
        let name = file.file_name().unwrap_or_default();
        (self.folders.get(parent_dir(file)))
            .and_then(|m| m.get(name))
            .map_or(&[], |v| v.as_slice())
    }

    /// Settles every journal that names one of `held` (files this process holds the lock of),
    /// folder by folder in parallel. Per held file a journal named: `Ok` once it is as it was
    /// or fully written with no journal left for it, else why not (its journal is kept).
    pub fn settle(&self, held: &[&Path]) -> HashMap<PathBuf, Result<()>> {
        let mut by_folder: HashMap<&Path, HashSet<&OsStr>> = HashMap::new();
        for f in held.iter().filter(|f| !self.of(f).is_empty()) {
            let name = f.file_name().unwrap_or_default();
            by_folder.entry(parent_dir(f)).or_default().insert(name);
        }
        by_folder
            .into_par_iter()
            .flat_map_iter(|(dir, names)| self.settle_folder(dir, &names))
            .collect()
    }

    /// One folder: each journal naming a held file, once, in name order. A journal that
    /// another process settled meanwhile may have left a new one: the folder is read again.
    fn settle_folder(&self, dir: &Path, held: &HashSet<&OsStr>) -> Vec<(PathBuf, Result<()>)> {
        let mut out: HashMap<&OsStr, Result<()>> = held.iter().map(|n| (*n, Ok(()))).collect();
        let mut named = std::borrow::Cow::Borrowed(&self.folders[dir]);
        let mut done: HashSet<PathBuf> = HashSet::new();
        for _ in 0..RESCANS {
            let mut journals: Vec<PathBuf> = (held.iter())
                .filter_map(|n| named.get(*n))
                .flatten()
                .filter(|j| !done.contains(*j))
                .cloned()
                .collect();
            journals.sort();
            journals.dedup();
            let mut gone = false;
            for j in journals {
                match settle_journal(&j, held) {
                    Some(results) => {
                        for (name, r) in results {
                            if let Some(slot) = out.get_mut(name.as_os_str())
                                && slot.is_ok()
                            {
                                *slot = r;
                            }
                        }
                        done.insert(j);
                    }
                    None => gone = true,
                }
            }
            if !gone {
                return with_paths(dir, out);
            }
            named = std::borrow::Cow::Owned(in_folder(dir));
        }
        // Still changing after every read: some other process keeps settling this folder.
        for (n, slot) in out.iter_mut() {
            if slot.is_ok() && named.contains_key(*n) {
                *slot = Err(crate::bad!(
                    Busy,
                    "busy: another noai process is recovering the undo journals of this folder"
                ));
            }
        }
        with_paths(dir, out)
    }
}

/// How many times a folder is read again while other processes settle its journals.
const RESCANS: usize = 4;

fn with_paths(dir: &Path, out: HashMap<&OsStr, Result<()>>) -> Vec<(PathBuf, Result<()>)> {
    let path = |n: &OsStr| match dir == Path::new(".") {
        true => PathBuf::from(n),
        false => dir.join(n),
    };
    out.into_iter().map(|(n, r)| (path(n), r)).collect()
}

/// Settles one journal for the `held` files of its folder: per held file it names, the
/// result; `None` when the journal was gone (settled by another process) once locked.
fn settle_journal(journal: &Path, held: &HashSet<&OsStr>) -> Option<Vec<(OsString, Result<()>)>> {
    let rec = recover::content(journal);
    let named = super::journal::targets_of(journal, &rec);
    let names = named.iter().filter_map(|t| t.file_name());
    let mine: Vec<OsString> = names
        .filter(|n| held.contains(n))
        .map(|n| n.to_os_string())
        .collect();
    let failed = |e: FileError| -> Vec<(OsString, Result<()>)> {
        let e = e.map_message(|m| format!("recovery of an interrupted write failed: {m}"));
        mine.iter().map(|n| (n.clone(), Err(e.clone()))).collect()
    };
    if !rec.starts_with(super::bundle::MAGIC) {
        // An older journal: one file's, and that file is held.
        return match recover::recover(journal) {
            Ok(_) => Some(mine.iter().map(|n| (n.clone(), Ok(()))).collect()),
            Err(_) if std::fs::symlink_metadata(journal).is_err() => None,
            Err(e) => Some(failed(e)),
        };
    }
    match settle::bundle(journal, &|n| held.contains(n)) {
        Ok(Settle::Done(outcomes)) => Some(
            outcomes
                .into_iter()
                .filter_map(|o| {
                    let name = o.target.file_name()?.to_os_string();
                    let r = o.result?.map(|_| ()).map_err(|e| {
                        e.map_message(|m| format!("recovery of an interrupted write failed: {m}"))
                    });
                    held.contains(name.as_os_str()).then_some((name, r))
                })
                .collect(),
        ),
        Ok(Settle::Gone) => None,
        Ok(Settle::Busy) => Some(failed(recover::busy(journal))),
        Err(e) => Some(failed(e)),
    }
}

#[cfg(test)]
#[path = "journals_tests.rs"]
mod tests;
