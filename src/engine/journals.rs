//! The undo journals of a chunk's files. A folder's journal names its files inside it, so a
//! file's check is a look at its folder. A writing job lists each folder once, after it holds
//! every file's lock, and settles each journal there that names one of them before any is
//! read (`settle`); a read-only job refuses a file a journal names, and never touches one.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::bad;
use crate::formats::Result;
use crate::write::{self, parent_dir};

/// A writing job's check, for `files` whose locks are all held: no folder is listed before
/// that, so any journal found naming one of them belongs to a run that is gone. Each folder is
/// listed once (the folders in parallel) and the journals there that name one of the files
/// are settled. Per file, in the order given, `Ok` when it may be read and written.
pub(super) fn settle(files: &[&Path]) -> Vec<Result<()>> {
    // Files come grouped by folder from the walk, but not from every caller: group them by
    // sorting. The key is each file's folder rebuilt from its components, once per file, so
    // `a/./x` and `a//y` share the folder `a` (two groups of one folder would each find the
    // other's held files busy), and keys compare as bytes, not component by component.
    let keys: Vec<PathBuf> = (files.iter())
        .map(|f| parent_dir(f).components().collect())
        .collect();
    let key = |i: usize| keys[i].as_os_str();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| key(a).cmp(key(b)));
    let folders: Vec<&[usize]> = order.chunk_by(|&a, &b| key(a) == key(b)).collect();
    let settled: Vec<(usize, Result<()>)> = folders
        .into_par_iter()
        .flat_map_iter(|at| {
            let held: Vec<&Path> = at.iter().map(|&i| files[i]).collect();
            let results = write::settle_in(parent_dir(held[0]), &held);
            at.iter().copied().zip(results)
        })
        .collect();
    // A file without a result is an internal error, never a file read without the check.
    let mut out = vec![Err(write::unchecked()); files.len()];
    for (i, r) in settled {
        out[i] = r;
    }
    out
}

/// The undo journals a read-only job has seen, each folder listed when a file there first asks.
#[derive(Default)]
pub(super) struct Journals {
    named: write::Named,
}

impl Journals {
    /// Errors if a journal names the file: a read-only job must not trust its bytes, and says
    /// so (it never settles one).
    pub(super) fn check(&self, real: &Path) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Files of two folders, interleaved: each gets its own folder's answer, in the order given.
    /// A journal that cannot be read (here a symbolic link) holds every file of its folder.
    #[test]
    fn each_file_gets_its_own_folders_answer_in_order() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        let files: Vec<std::path::PathBuf> = [a.join("1.flac"), b.join("1.flac"), a.join("2.flac")]
            .into_iter()
            .collect();
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        files.iter().for_each(|f| std::fs::write(f, b"x").unwrap());
        std::os::unix::fs::symlink("/nonexistent", a.join(".x.noai-journal")).unwrap();
        let held: Vec<&Path> = files.iter().map(|f| f.as_path()).collect();
        let out = settle(&held);
        assert_eq!(out.len(), 3);
        assert!(
            out[0]
                .as_ref()
                .is_err_and(|e| e.to_string().contains("symbolic link"))
        );
        assert!(out[1].is_ok(), "{:?}", out[1]);
        assert!(out[2].is_err(), "{:?}", out[2]);
    }
}
