//! The undo journals of a chunk's files. A folder's journal names its files inside it, so a
//! file's check is a look at its folder (`write::find_journals`): a writing job lists the
//! folders after it holds every file's lock and settles each journal that names one of them
//! before any is read; a read-only job refuses a file a journal names, and never touches one.

use std::path::{Path, PathBuf};

use crate::bad;
use crate::formats::Result;
use crate::write;

/// The undo journals in a chunk's folders, and (for a writing job) what settling them did to
/// each file they name.
pub(super) struct Journals {
    named: write::Named,
    settled: std::collections::HashMap<PathBuf, Result<()>>,
    write: bool,
}

impl Journals {
    /// A read-only job's: each folder listed when a file there first asks.
    pub(super) fn lazy() -> Journals {
        Journals {
            named: write::Named::default(),
            settled: Default::default(),
            write: false,
        }
    }

    /// A writing job's: lists the folders of `files` (locked already) and settles each
    /// journal that names one of them.
    pub(super) fn settled(files: &[&Path]) -> Journals {
        let named = write::find_journals(files.iter().copied());
        let settled = (named.settle(files).into_iter())
            .map(|(p, r)| (p.to_path_buf(), r))
            .collect();
        Journals {
            named,
            settled,
            write: true,
        }
    }

    /// Errors if a journal named the file and was not settled (a read-only job never settles
    /// one: it must not trust the bytes, and says so).
    pub(super) fn check(&self, real: &Path) -> Result<()> {
        if self.write {
            // Every file of a writing job was settled (or refused); one that was not is an
            // internal error, never a file read without the check.
            return (self.settled.get(real).cloned()).unwrap_or_else(|| {
                Err(bad!(
                    Internal,
                    "internal check: the folder was not checked for undo journals; not written"
                ))
            });
        }
        let Some(journal) = self.named.of(real).into_iter().next() else {
            return Ok(());
        };
        Err(bad!(
            Refused,
            "an interrupted write left an undo journal ({}); run `noai tag` (or `strip`) to recover it",
            journal.display()
        ))
    }
}
