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
use std::sync::{Arc, Mutex};

use super::recover;
use super::settle::Settle;
use super::{is_journal_name, journal_path, parent_dir, settle};
use crate::bad;
use crate::error::FileError;
use crate::formats::Result;

/// What one folder holds: per file name, the journals that name it (in name order); or why
/// the folder could not be listed.
type Folder = std::result::Result<HashMap<OsString, Vec<PathBuf>>, String>;

/// The folders looked at so far, each listed when a file there is first asked about (a
/// read-only job's check; a writing job's `settle_in` lists one folder at a time).
#[derive(Default)]
pub struct Named {
    folders: Mutex<HashMap<PathBuf, Arc<Folder>>>,
}

/// The journals in `dir` by the file names they hold undo data for. A journal that cannot be
/// read may name any file of the folder: it is kept under the empty name, which every file
/// matches. A listing that fails part way is a folder that cannot be listed, never a shorter
/// list.
fn in_folder(dir: &Path) -> Folder {
    let mut out: HashMap<OsString, Vec<PathBuf>> = HashMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
    let mut journals = Vec::new();
    for e in entries {
        let name = e.map_err(|e| e.to_string())?.file_name();
        if is_journal_name(&name) {
            journals.push(dir.join(name));
        }
    }
    journals.sort();
    let mut unreadable = Vec::new();
    for j in journals {
        let rec = match recover::content_listed(&j) {
            Ok(Some(rec)) => rec,
            Ok(None) => continue,
            Err(_) => {
                unreadable.push(j);
                continue;
            }
        };
        for t in super::journal::targets_of(&j, &rec) {
            if let Some(name) = t.file_name() {
                out.entry(name.to_os_string()).or_default().push(j.clone());
            }
        }
    }
    // A journal that cannot be read may name any file here: every file is held to it.
    if !unreadable.is_empty() {
        out.insert(OsString::new(), unreadable);
    }
    Ok(out)
}

/// A writing job's check of one folder: settles the journals in `dir` that name any of `files`
/// (all in `dir`, all held by this process). Per file, in the order given: `Ok` once it is as
/// it was or fully written with no journal left for it, else why not. A folder without any
/// journal, the common case, costs one listing and nothing more.
pub fn settle_in(dir: &Path, files: &[&Path]) -> Vec<Result<()>> {
    let listed = in_folder(dir);
    if listed.as_ref().is_ok_and(|m| m.is_empty()) {
        return vec![Ok(()); files.len()];
    }
    let names: Vec<&OsStr> = (files.iter())
        .map(|f| f.file_name().unwrap_or_default())
        .collect();
    let out = settle_folder(dir, listed, names.iter().copied().collect());
    (names.iter())
        .map(|n| out.get(n).cloned().unwrap_or_else(|| Err(unchecked())))
        .collect()
}

/// The error of a file that was somehow not checked for undo journals: never read, never written.
pub fn unchecked() -> FileError {
    bad!(
        Internal,
        "internal check: the folder was not checked for undo journals; not written"
    )
}

impl Named {
    /// What `dir` holds, listed now if it was not yet.
    fn folder(&self, dir: &Path) -> Arc<Folder> {
        let known = self.lock().get(dir).cloned();
        known.unwrap_or_else(|| {
            let listed = Arc::new(in_folder(dir));
            self.lock().insert(dir.to_path_buf(), listed.clone());
            listed
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<Folder>>> {
        self.folders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The journals that name `file`. In a folder that cannot be listed (search permission
    /// without read), only the journal named after the file can be seen.
    pub fn of(&self, file: &Path) -> Vec<PathBuf> {
        let name = file.file_name().unwrap_or_default();
        match &*self.folder(parent_dir(file)) {
            Ok(m) => named(m, name),
            Err(_) => {
                let j = journal_path(file);
                let there = std::fs::symlink_metadata(&j).is_ok();
                there.then_some(j).into_iter().collect()
            }
        }
    }
}

/// Settles each journal in `dir` (as `listed` there) that names one of the `held` files (by
/// name), in name order; per held name, the result. A journal that another process settled
/// meanwhile may have left a new one: the folder is read again.
fn settle_folder<'a>(
    dir: &Path,
    listed: Folder,
    held: HashSet<&'a OsStr>,
) -> HashMap<&'a OsStr, Result<()>> {
    let mut out: HashMap<&OsStr, Result<()>> = held.iter().map(|n| (*n, Ok(()))).collect();
    let mut folder = listed;
    for _ in 0..RESCANS {
        let named = match &folder {
            Ok(named) => named,
            Err(e) => {
                let e = bad!(
                    IoRead,
                    "cannot list the folder to look for undo journals of interrupted writes: {e}"
                );
                out.values_mut().for_each(|r| *r = Err(e.clone()));
                return out;
            }
        };
        // Files already refused are not judged again.
        let mut journals: Vec<PathBuf> = (out.iter())
            .filter(|(_, r)| r.is_ok())
            .flat_map(|(n, _)| self::named(named, n))
            .collect();
        journals.sort();
        journals.dedup();
        let mut gone = false;
        for j in &journals {
            let Some(results) = settle_journal(j, &held) else {
                gone = true;
                continue;
            };
            for (name, r) in results {
                if let Some(slot) = out.get_mut(name.as_os_str())
                    && slot.is_ok()
                {
                    *slot = r;
                }
            }
        }
        if !gone {
            return out;
        }
        folder = in_folder(dir);
    }
    // Still changing after every read: some other process keeps settling this folder.
    for r in out.values_mut().filter(|r| r.is_ok()) {
        *r = Err(bad!(
            Busy,
            "busy: another noai process is recovering the undo journals of this folder"
        ));
    }
    out
}

/// The journals that name `name` in a listed folder, with any that could not be read.
fn named(folder: &HashMap<OsString, Vec<PathBuf>>, name: &OsStr) -> Vec<PathBuf> {
    let unreadable = folder.get(OsStr::new("")).into_iter().flatten();
    let own = folder.get(name).into_iter().flatten();
    own.chain(unreadable).cloned().collect()
}

/// How many times a folder is read again while other processes settle its journals.
const RESCANS: usize = 4;

/// Settles one journal for the `held` files of its folder: per held file it names, the
/// result; `None` when the journal was gone (settled by another process) once locked.
fn settle_journal(journal: &Path, held: &HashSet<&OsStr>) -> Option<Vec<(OsString, Result<()>)>> {
    // One that cannot be read may name any of them: it refuses every held file here.
    let (rec, unreadable) = match recover::content_listed(journal) {
        Ok(Some(rec)) => (rec, false),
        Ok(None) => return None,
        Err(_) => (Vec::new(), true),
    };
    let named = super::journal::targets_of(journal, &rec);
    let names = named.iter().filter_map(|t| t.file_name());
    let mine: Vec<OsString> = match unreadable {
        true => held.iter().map(|n| n.to_os_string()).collect(),
        false => (names.filter(|n| held.contains(n)))
            .map(|n| n.to_os_string())
            .collect(),
    };
    let failed = |e: FileError| -> Vec<(OsString, Result<()>)> {
        let e = e.map_message(|m| format!("recovery of an interrupted write failed: {m}"));
        mine.iter().map(|n| (n.clone(), Err(e.clone()))).collect()
    };
    if !rec.starts_with(super::bundle::MAGIC) {
        // An older journal: one file's, and that file is held.
        return match recover::recover(journal) {
            Ok(_) => Some(mine.iter().map(|n| (n.clone(), Ok(()))).collect()),
            Err(_) if recover::gone(journal) => None,
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
